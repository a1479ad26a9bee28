//! Errors of vane-stacking.

/// What can go wrong generating out-of-fold predictions.
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
        }
    }
}

/// Result type of vane-stacking.
pub type Result<T> = std::result::Result<T, StackingError>;
