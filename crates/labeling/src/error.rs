//! Errors of vane-labeling.

/// What can go wrong configuring a labeller.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LabelError {
    /// A parameter out of its domain.
    #[error("invalid {labeller} parameter: {message}")]
    InvalidParameter {
        /// The labeller.
        labeller: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Inputs of mismatched lengths, or empty where data is needed.
    #[error("{0}")]
    InvalidInput(String),
}

impl LabelError {
    /// The class of this error (exit code of the CLI, HTTP status of the service).
    pub fn class(&self) -> vane_core::ErrorClass {
        use vane_core::ErrorClass;
        match self {
            LabelError::InvalidParameter { .. } => ErrorClass::Usage,
            LabelError::InvalidInput { .. } => ErrorClass::Data,
        }
    }
}

/// Result type of vane-labeling.
pub type Result<T> = std::result::Result<T, LabelError>;

pub(crate) fn param(labeller: &'static str, ok: bool, message: impl FnOnce() -> String) -> Result<()> {
    if ok { Ok(()) } else { Err(LabelError::InvalidParameter { labeller, message: message() }) }
}
