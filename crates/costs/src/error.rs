//! Errors of vane-costs.

/// Errors of vane-costs.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CostError {
    /// A cost parameter out of its domain.
    #[error("invalid cost parameter: {0}")]
    InvalidParameter(String),
}

impl CostError {
    /// The class of this error (exit code of the CLI, HTTP status of the service).
    pub fn class(&self) -> vane_core::ErrorClass {
        use vane_core::ErrorClass;
        match self {
            CostError::InvalidParameter { .. } => ErrorClass::Usage,
        }
    }
}

/// Result type of vane-costs.
pub type Result<T> = std::result::Result<T, CostError>;
