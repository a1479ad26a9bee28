//! vane's workflows. Seed 001 (the 4h BUY/SELL/HOLD service): [`train::train`] — `v1` features,
//! fixed-horizon labels with θ chosen by walk-forward macro-F1, one GBDT across symbols with the
//! symbol as a categorical, `min_conf` tuned by net edge, versioned artifacts written atomically
//! — and [`Predictor`], which loads them and turns bars into decisions (batch or streaming) with
//! the per-symbol model or the global fallback.
//!
//! Sequence models (HRM, CNN-LSTM v2, TFT): [`sequence::train_sequence`] — features → fixed or
//! expected-return labels → windows → purged chronological split → normaliser on the training
//! rows → seed 002's trainer → artifacts.
//!
//! # Feature flags
//! `wgpu`, `tch`, `cuda`: forwarded to vane-models (burn's GPU backends). `clap`: [`Mode`] derives
//! `clap::ValueEnum` (and vane-models' `clap` feature is enabled).
#![warn(missing_docs)]

/// Artifact files and their formats.
pub mod artifacts;
/// Training configuration.
pub mod config;
/// The offline demo.
pub mod demo;
/// Errors of this crate.
pub mod error;
pub mod job;
/// `--set` overrides.
pub mod overrides;
pub mod predictor;
/// Sequence-model training.
pub mod sequence;
/// Seed 004's out-of-sample scores and expected results of sequence runs.
pub mod sequence_metrics;
/// A sequence run's out-of-sample predictions and the bars each split used (for the PostgreSQL store).
pub mod sequence_oos;
pub mod sequence_predictor;
pub mod sequence_wf;
/// Seed 001 training.
pub mod train;
pub mod train_plots;
pub mod train_test;
pub mod wfo;

pub use config::{Mode, TrainConfig};
pub use error::{PipelineError, Result};
pub use job::{Job, JobError};
pub use overrides::Override;
pub use predictor::{AnyPredictor, ModelSummary, Predictor, PredictorStream, model_dir_for};
pub use sequence_predictor::SequencePredictor;
pub use train::{ProgressHook, TrainReport, train, train_with};
pub use vane_artifact::{Forecast, ModelId, Predict, PredictStream};
