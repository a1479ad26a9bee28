//! Leakage-safe validation: splitters that purge training samples whose label window reaches
//! into the test window (and embargo the bars after it), and the ML metrics vane reports.
//!
//! Samples are bar positions `0..n`; each has a label [`Span`] `[t, t_end]` (use
//! [`split::horizon_spans`] for a fixed horizon). A training sample is **purged** when its span
//! overlaps a test window, and **embargoed** when it starts within `embargo` bars after one.
//!
//! # Feature flags
//! None.
#![warn(missing_docs)]

/// Errors of this crate.
pub mod error;
/// ML metrics (scikit-learn / SciPy conventions).
pub mod metrics;
/// Walk-forward, purged k-fold and combinatorial purged cross-validation.
pub mod split;

pub use error::{Result, ValidationError};
pub use split::{Cpcv, CpcvPlan, Fold, PurgedKFold, WalkForward, WindowUnit, binomial, horizon_spans};
pub use vane_core::Span;
