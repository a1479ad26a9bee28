//! Errors of vane-policy.

/// Errors of vane-policy.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PolicyError {
    /// A parameter out of its domain.
    #[error("invalid policy parameter: {0}")]
    InvalidParameter(String),
    /// Inputs that do not fit the rule or each other.
    #[error("{0}")]
    InvalidInput(String),
}

impl PolicyError {
    /// The class of this error (exit code of the CLI, HTTP status of the service).
    pub fn class(&self) -> vane_core::ErrorClass {
        use vane_core::ErrorClass;
        match self {
            PolicyError::InvalidParameter { .. } => ErrorClass::Usage,
            PolicyError::InvalidInput { .. } => ErrorClass::Data,
        }
    }
}

/// Result type of vane-policy.
pub type Result<T> = std::result::Result<T, PolicyError>;
