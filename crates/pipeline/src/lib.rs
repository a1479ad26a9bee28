//! vane's workflows. Seed 001 (the 4h BUY/SELL/HOLD service): [`train::train`] — `v1` features,
//! fixed-horizon labels with θ chosen by walk-forward macro-F1, one GBDT across symbols with the
//! symbol as a categorical, `min_conf` tuned by net edge, versioned artifacts written atomically
//! — and [`Predictor`], which loads them and turns bars into decisions (batch or streaming) with
//! the per-symbol model or the global fallback.
//!
//! # Feature flags
//! None yet (the burn models join with their GPU features).
#![warn(missing_docs)]

/// Artifact files and their formats.
pub mod artifacts;
/// Training configuration.
pub mod config;
/// Errors of this crate.
pub mod error;
/// The embeddable predictor.
pub mod predictor;
/// Seed 001 training.
pub mod train;

pub use config::{Mode, TrainConfig};
pub use error::{PipelineError, Result};
pub use predictor::{Predictor, PredictorStream};
pub use train::{TrainReport, train};
