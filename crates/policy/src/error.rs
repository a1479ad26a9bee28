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

/// Result type of vane-policy.
pub type Result<T> = std::result::Result<T, PolicyError>;
