//! Errors of vane-stacking.

/// What can go wrong generating out-of-fold predictions or training and loading a stack.
#[derive(Debug, thiserror::Error)]
pub enum StackingError {
    /// Inputs that do not fit each other, or predictions that are not probabilities.
    #[error("{0}")]
    InvalidInput(String),
    /// The splitter rejected its parameters or the label spans.
    #[error(transparent)]
    Validation(#[from] vane_validation::ValidationError),
    /// A tabular model rejected its input.
    #[error(transparent)]
    Tabular(#[from] vane_tabular::TabularError),
    /// A stack configuration value that cannot be used (names the table and key).
    #[error("{0}")]
    Config(String),
    /// A network failed to build, train, save or load.
    #[error(transparent)]
    Net(#[from] vane_models::ModelError),
    /// Reading or writing a stack file.
    #[error(transparent)]
    Artifact(#[from] vane_artifact::ArtifactError),
    /// A calibrator could not be fitted.
    #[error(transparent)]
    Calibration(#[from] vane_calibration::CalibrationError),
    /// The threshold optimiser rejected its input.
    #[error(transparent)]
    Policy(#[from] vane_policy::PolicyError),
    /// A labeller rejected its parameters.
    #[error(transparent)]
    Label(#[from] vane_labeling::LabelError),
    /// A cost model is invalid.
    #[error(transparent)]
    Cost(#[from] vane_costs::CostError),
    /// The bars could not be read or put on the grid.
    #[error(transparent)]
    MarketData(#[from] vane_market_data::MarketDataError),
    /// No stack is stored for a symbol.
    #[error(
        "no stack for symbol {symbol} under {artifacts}: stored: {stored}; train it with `vane stack train --symbols {symbol}`"
    )]
    UnknownSymbol {
        /// The symbol asked for.
        symbol: String,
        /// The artifacts folder searched.
        artifacts: String,
        /// What is stored (`SYMBOL (folder)`, comma separated, or `none`).
        stored: String,
    },
    /// The model failed on one fold.
    #[error("fold {fold} (test rows {test_start}..{test_end}): {source}")]
    Model {
        /// 0-based fold index.
        fold: usize,
        /// First test row.
        test_start: usize,
        /// One past the last test row.
        test_end: usize,
        /// The model's own error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl StackingError {
    /// The class of this error (exit code of the CLI, HTTP status of the service).
    pub fn class(&self) -> vane_core::ErrorClass {
        use vane_core::ErrorClass;
        match self {
            StackingError::InvalidInput { .. } => ErrorClass::Data,
            StackingError::Validation(e) => e.class(),
            StackingError::Tabular(e) => e.class(),
            StackingError::Model { .. } => ErrorClass::Data,
            StackingError::Config(_) => ErrorClass::Usage,
            StackingError::UnknownSymbol { .. } => ErrorClass::Usage,
            StackingError::Net(e) => e.class(),
            StackingError::Artifact(e) => e.class(),
            StackingError::Calibration(e) => e.class(),
            StackingError::Policy(e) => e.class(),
            StackingError::Label(e) => e.class(),
            StackingError::Cost(e) => e.class(),
            StackingError::MarketData(e) => e.class(),
        }
    }
}

/// Result type of vane-stacking.
pub type Result<T> = std::result::Result<T, StackingError>;
