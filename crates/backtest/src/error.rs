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
    /// A risk profile that is not valid TOML or has unknown or mistyped keys.
    #[error("{origin}{}: {}", .line.map(|l| format!(":{l}")).unwrap_or_default(), .error.message())]
    ProfileToml {
        /// The file.
        origin: String,
        /// 1-based line of the error, when known.
        line: Option<usize>,
        /// The TOML error.
        error: Box<toml::de::Error>,
    },
    /// A risk profile field with a value the profile refuses.
    #[error("{origin}: {field}: {message}")]
    Profile {
        /// The file.
        origin: String,
        /// The field (`buy.stop_loss`, `ladder[1].share`, …).
        field: String,
        /// What is wrong and what would be right.
        message: String,
    },
}

impl BacktestError {
    /// The class of this error (exit code of the CLI, HTTP status of the service).
    pub fn class(&self) -> vane_core::ErrorClass {
        use vane_core::ErrorClass;
        match self {
            BacktestError::InvalidInput { .. } => ErrorClass::Data,
            BacktestError::InvalidParameter { .. } => ErrorClass::Usage,
            BacktestError::ProfileToml { .. } | BacktestError::Profile { .. } => ErrorClass::Usage,
        }
    }
}

/// Result type of vane-backtest.
pub type Result<T> = std::result::Result<T, BacktestError>;
