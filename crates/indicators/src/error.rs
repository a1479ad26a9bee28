//! Errors of vane-indicators.

/// What can go wrong configuring indicators and feature sets.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IndicatorError {
    /// A parameter out of its domain (a period of 0, a negative multiplier...).
    #[error("invalid parameter for {indicator}: {message}")]
    InvalidParameter {
        /// The indicator.
        indicator: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A feature-set name vane does not know.
    #[error("unknown feature set {0:?}: expected talib, v1, full, regime or lorentzian")]
    UnknownSet(String),
    /// Inputs that cannot be combined (multi-timeframe joins).
    #[error("{0}")]
    InvalidInput(String),
}

impl IndicatorError {
    /// The class of this error (exit code of the CLI, HTTP status of the service).
    pub fn class(&self) -> vane_core::ErrorClass {
        use vane_core::ErrorClass;
        match self {
            IndicatorError::InvalidParameter { .. } => ErrorClass::Usage,
            IndicatorError::UnknownSet { .. } => ErrorClass::Usage,
            IndicatorError::InvalidInput { .. } => ErrorClass::Data,
        }
    }
}

/// Result type of vane-indicators.
pub type Result<T> = std::result::Result<T, IndicatorError>;

pub(crate) fn check_period(indicator: &'static str, name: &str, value: usize, min: usize) -> Result<()> {
    if value < min {
        return Err(IndicatorError::InvalidParameter {
            indicator,
            message: format!("{name} = {value}, must be ≥ {min}"),
        });
    }
    Ok(())
}
