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

/// Result type of vane-backtest.
pub type Result<T> = std::result::Result<T, BacktestError>;
