//! Models on feature rows.
//!
//! [`gbdt`]: gradient-boosted **oblivious** (symmetric) trees in the style of CatBoost —
//! histogram-binned features, one split per tree level shared by all its nodes, Newton leaf
//! values with L2 regularisation, softmax multiclass / logistic / squared-error objectives,
//! **ordered target statistics** for categorical columns (so one multi-asset model can take the
//! `symbol` as a feature without target leakage), sample and class weights, early stopping on an
//! evaluation set, seeded and reproducible, gain-based feature importance, a JSON model format
//! with `format_version`. Why vane owns this engine: ARCHITECTURE.md "Decisions".
//!
//! # Feature flags
//! `clap`: [`TabularModel`] derives `clap::ValueEnum`.
#![warn(missing_docs)]

/// Column data for training and prediction.
pub mod data;
/// Gradient-boosted oblivious trees.
pub mod gbdt;
/// Train on one table, score on another.
pub mod holdout;
/// Multinomial logistic regression and the majority baseline.
pub mod logistic;
/// The Lorentzian nearest-neighbour classifier (seed 003).
pub mod lorentzian;
/// The CSV table reader.
pub mod table;

pub use data::Dataset;
pub use gbdt::{Gbdt, GbdtConfig, Objective};
pub use holdout::{ClassEncoding, HoldoutConfig, HoldoutReport, TabularModel, holdout};
pub use logistic::{Logistic, majority};
pub use table::{Table, TableError};

/// Errors of vane-tabular.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TabularError {
    /// A parameter out of its domain.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// Data that does not fit the model or itself.
    #[error("{0}")]
    InvalidInput(String),
    /// A saved model that cannot be read.
    #[error("model file: {0}")]
    Format(String),
}

/// Result type of vane-tabular.
pub type Result<T> = std::result::Result<T, TabularError>;
