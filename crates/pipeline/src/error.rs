//! Errors of vane-pipeline.

use std::path::PathBuf;

/// What can go wrong training, saving, loading or predicting.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A config field out of range, or a config file that does not parse.
    #[error("config: {0}")]
    Config(String),
    /// No model for the symbol and no global model either.
    #[error("no model for {symbol} in {dir}: train one first (vane train), or a global one")]
    NoModel {
        /// The symbol asked for.
        symbol: String,
        /// The artifacts folder searched.
        dir: PathBuf,
    },
    /// A model id asked for (`--model-id`, the service's `model_id`) with no folder.
    #[error("no model {id} in {}: {hint}`ls {}` lists the trained ones", dir.display(), dir.display())]
    UnknownModel {
        /// The id asked for.
        id: String,
        /// The models folder searched.
        dir: PathBuf,
        /// "did you mean …? " or empty.
        hint: String,
    },
    /// A run cancelled through its progress hook (a cancelled background job); nothing was written.
    #[error("cancelled")]
    Cancelled,
    /// An artifact that is missing, unreadable, of another format version or feature schema.
    #[error("artifact {path}: {message}")]
    Artifact {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Not enough data to train or predict.
    #[error("{0}")]
    Data(String),
    /// Artifact files: I/O, format versions, model ids.
    #[error(transparent)]
    File(#[from] vane_artifact::ArtifactError),
    /// Candle data errors.
    #[error(transparent)]
    MarketData(#[from] vane_market_data::MarketDataError),
    /// Core value errors.
    #[error(transparent)]
    Core(#[from] vane_core::CoreError),
    /// Model errors.
    #[error(transparent)]
    Tabular(#[from] vane_tabular::TabularError),
    /// Label errors.
    #[error(transparent)]
    Label(#[from] vane_labeling::LabelError),
    /// Validation errors.
    #[error(transparent)]
    Validation(#[from] vane_validation::ValidationError),
    /// Policy errors.
    #[error(transparent)]
    Policy(#[from] vane_policy::PolicyError),
    /// Sequence-model errors.
    #[error(transparent)]
    Models(#[from] vane_models::ModelError),

    /// A calibration error (fitting, or a `calibration.json` that cannot be read).
    #[error(transparent)]
    Calibration(#[from] vane_calibration::CalibrationError),

    /// A plot that could not be drawn.
    #[error(transparent)]
    Report(#[from] vane_report::ReportError),
    /// A backtest that could not run (seed 004's ladder trades on out-of-sample decisions).
    #[error(transparent)]
    Backtest(#[from] vane_backtest::BacktestError),
    /// Filesystem errors.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl PipelineError {
    /// The class of this error (exit code of the CLI, HTTP status of the service).
    pub fn class(&self) -> vane_core::ErrorClass {
        use vane_core::ErrorClass;
        match self {
            PipelineError::Config { .. } => ErrorClass::Data,
            PipelineError::NoModel { .. } | PipelineError::UnknownModel { .. } | PipelineError::Cancelled => {
                ErrorClass::Usage
            }
            PipelineError::Artifact { .. } => ErrorClass::Data,
            PipelineError::Data { .. } => ErrorClass::Data,
            PipelineError::File(e) => e.class(),
            PipelineError::MarketData(e) => e.class(),
            PipelineError::Core(e) => e.class(),
            PipelineError::Tabular(e) => e.class(),
            PipelineError::Label(e) => e.class(),
            PipelineError::Validation(e) => e.class(),
            PipelineError::Policy(e) => e.class(),
            PipelineError::Models(e) => e.class(),
            PipelineError::Calibration(e) => e.class(),
            PipelineError::Report(e) => e.class(),
            PipelineError::Backtest(e) => e.class(),
            PipelineError::Io { .. } => ErrorClass::Io,
        }
    }
}

/// Result type of vane-pipeline.
pub type Result<T> = std::result::Result<T, PipelineError>;
