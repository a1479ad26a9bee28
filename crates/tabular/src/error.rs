//! Errors of vane-tabular.

/// Errors of vane-tabular.
#[derive(Debug, thiserror::Error)]
pub enum TabularError {
    /// A saved file: unreadable, of another `format_version`, or not valid JSON.
    #[error(transparent)]
    File(#[from] vane_artifact::ArtifactError),
    /// A parameter out of its domain.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// Data that does not fit the model or itself.
    #[error("{0}")]
    InvalidInput(String),
    /// A saved model that cannot be read.
    #[error("model file: {0}")]
    Format(String),
}

/// Result type of vane-tabular.
pub type Result<T> = std::result::Result<T, TabularError>;
