//! Stacking: models whose inputs are other models' predictions. Their training data must be
//! predictions each base model made on rows it did **not** train on — out-of-fold predictions —
//! or the meta-model learns from leaked, over-confident probabilities.
//!
//! First inhabitant: [`oof`] — out-of-fold prediction generation over a purged k-fold with
//! embargo for any model, through a closure ([`out_of_fold`]) or a vane-tabular [`Fit`] recipe
//! ([`out_of_fold_classifier`]).
//!
//! [`Fit`]: vane_tabular::Fit
//!
//! # Feature flags
//! None.
#![warn(missing_docs)]

/// Errors of this crate.
pub mod error;
/// Out-of-fold predictions.
pub mod oof;

pub use error::{Result, StackingError};
pub use oof::{FoldInfo, OutOfFold, out_of_fold, out_of_fold_classifier};
