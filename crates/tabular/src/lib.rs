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

pub mod classifier;
pub mod data;
/// Errors of this crate.
pub mod error;
/// Gradient-boosted oblivious trees.
pub mod gbdt;
/// Train on one table, score on another.
pub mod holdout;
/// Multinomial logistic regression and the majority baseline.
pub mod logistic;
/// The Lorentzian nearest-neighbour classifier (seed 003).
pub mod lorentzian;
pub mod table;

pub use classifier::{Classifier, Fit, GbdtClassifier, LogisticConfig, Majority, MajorityConfig};
pub use data::Dataset;
pub use error::{Result, TabularError};
pub use gbdt::{Gbdt, GbdtConfig, Objective};
pub use holdout::{ClassEncoding, HoldoutConfig, HoldoutReport, TabularModel, holdout};
pub use logistic::{Logistic, majority};
pub use table::{Table, TableError};
