//! Stacking: models whose inputs are other models' predictions. Their training data must be
//! predictions each base model made on rows it did **not** train on — out-of-fold predictions —
//! or the meta-model learns from leaked, over-confident probabilities.
//!
//! - [`oof`]: out-of-fold predictions over a purged k-fold with embargo for any model, through a
//!   closure ([`out_of_fold`]) or a vane-tabular [`Fit`] recipe ([`out_of_fold_classifier`]).
//! - Seed 000's three-level stack over a regular 1-second grid ([`train`], [`stack`]): L1 HRMs
//!   per horizon on dead-zone labels (with an optional meta head over their own output
//!   sequence), an L2 meta-gate per target tag over sequences of every L1's out-of-fold output,
//!   an L3 supervisor per tag on vol-scaled triple-barrier labels over raw + L1 + L2 + regime
//!   inputs, Platt / isotonic calibration and cost-aware auto thresholds fitted on out-of-fold
//!   rows only, reported on the held-out tail (`docs/stacking.md`).
//! - [`Stack`]: a trained stack loaded for prediction; [`Stack::predict_last`] is a pure
//!   function from the last [`Stack::history`] grid bars to every level's probabilities for the
//!   last bar, equal to the batch path [`Stack::predict_series`].
//!
//! [`Fit`]: vane_tabular::Fit
//!
//! # Feature flags
//! None.
#![warn(missing_docs)]

/// The stack's configuration.
pub mod config;
/// Errors of this crate.
pub mod error;
pub mod features;
/// One level's network.
pub mod net;
/// Out-of-fold predictions.
pub mod oof;
pub mod resume;
pub mod runtime;
pub mod stack;
pub mod train;

pub use config::{StackConfig, tag_secs};
pub use error::{Result, StackingError};
pub use oof::{FoldInfo, OutOfFold, out_of_fold, out_of_fold_classifier};
pub use resume::L1Resume;
pub use stack::{
    LevelProbs, Meta, Stack, Supervisor, Thresholds, artifacts_for_symbol, consensus, majority, stored_stack_symbols,
    symbol_artifacts_dir,
};
pub use train::{TrainOptions, TrainReport, train_stacks, train_stacks_with};
