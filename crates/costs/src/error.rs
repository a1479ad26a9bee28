//! Errors of vane-costs.

/// Errors of vane-costs.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CostError {
    /// A cost parameter out of its domain.
    #[error("invalid cost parameter: {0}")]
    InvalidParameter(String),
}

/// Result type of vane-costs.
pub type Result<T> = std::result::Result<T, CostError>;
