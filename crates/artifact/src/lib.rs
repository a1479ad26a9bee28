//! The one contract of vane for files on disk, and the one interface of trained models.
//!
//! - [`fs`]: [`write_atomic`] (temp file in the same folder, fsync, rename, fsync the folder) and
//!   [`StagedDir`], the atomic folder swap that keeps the old folder until the new one is in
//!   place, cleans up on failure, and — through [`recover_dir`] — restores a folder left aside by
//!   a crash between its two renames. Every writer of artifacts, stores and outputs in the
//!   workspace goes through these.
//! - [`versioned`]: [`Versioned<T>`] and [`read_json`]: every artifact file carries a
//!   `format_version`, and a mismatch is one clear error naming the file, the found and the
//!   expected version.
//! - [`ModelId`]: a validated model folder name.
//! - [`runs`]: the runs registry — `runs/<run_id>/` per training session (config, environment,
//!   metrics, history, returns, windows, plots) and its index.
//! - [`predict`]: the [`Predict`] trait every model kind implements, and its [`Forecast`].
//!
//! # Feature flags
//! None.
#![warn(missing_docs)]

/// Errors of this crate.
pub mod error;
pub mod fs;
/// Output-path guards (never write over an input or into the store).
pub mod guard;
pub mod model_id;
pub mod predict;
pub mod runs;
pub mod versioned;

pub use error::{ArtifactError, Result};
pub use fs::{FailPoint, StagedDir, open_dir, recover_dir, write_atomic, write_atomic_with, write_json};
pub use guard::check_output;
pub use model_id::ModelId;
pub use predict::{Forecast, Predict, PredictStream};
pub use versioned::{Versioned, check_version, parse_json, read_json, read_versioned, write_versioned};
