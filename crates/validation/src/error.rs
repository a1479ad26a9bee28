//! Errors of vane-validation.

/// What can go wrong configuring a splitter or computing a metric.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ValidationError {
    /// A parameter out of its domain.
    #[error("invalid {what}: {message}")]
    InvalidParameter {
        /// The splitter or metric.
        what: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Inputs of mismatched lengths, or too few samples.
    #[error("{0}")]
    InvalidInput(String),
}

impl ValidationError {
    /// The class of this error (exit code of the CLI, HTTP status of the service).
    pub fn class(&self) -> vane_core::ErrorClass {
        use vane_core::ErrorClass;
        match self {
            ValidationError::InvalidParameter { .. } => ErrorClass::Usage,
            ValidationError::InvalidInput { .. } => ErrorClass::Data,
        }
    }
}

/// Result type of vane-validation.
pub type Result<T> = std::result::Result<T, ValidationError>;

pub(crate) fn param(what: &'static str, ok: bool, message: impl FnOnce() -> String) -> Result<()> {
    if ok { Ok(()) } else { Err(ValidationError::InvalidParameter { what, message: message() }) }
}

pub(crate) fn same_len(a: usize, b: usize, what: &str) -> Result<()> {
    if a != b {
        return Err(ValidationError::InvalidInput(format!("{what}: {a} values against {b}")));
    }
    if a == 0 {
        return Err(ValidationError::InvalidInput(format!("{what}: no samples")));
    }
    Ok(())
}
