//! Errors of vane-backtest.

/// Errors of vane-backtest.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BacktestError {
    /// Inputs of mismatched lengths or bad values.
    #[error("{0}")]
    InvalidInput(String),
    /// Bad costs or exit rules.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
}

impl BacktestError {
    /// The class of this error (exit code of the CLI, HTTP status of the service).
    pub fn class(&self) -> vane_core::ErrorClass {
        use vane_core::ErrorClass;
        match self {
            BacktestError::InvalidInput { .. } => ErrorClass::Data,
            BacktestError::InvalidParameter { .. } => ErrorClass::Usage,
        }
    }
}

/// Result type of vane-backtest.
pub type Result<T> = std::result::Result<T, BacktestError>;
