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
    /// A loaded model whose contents are unusable (a non-finite or absurd value, trees that do
    /// not fit its columns); the message names the field.
    #[error("{}: {message}", .path.display())]
    Model {
        /// The file (or `GBDT model JSON` for text).
        path: std::path::PathBuf,
        /// What is wrong, naming the field.
        message: String,
    },
}

impl TabularError {
    /// The class of this error (exit code of the CLI, HTTP status of the service).
    pub fn class(&self) -> vane_core::ErrorClass {
        use vane_core::ErrorClass;
        match self {
            TabularError::File(e) => e.class(),
            TabularError::InvalidParameter { .. } => ErrorClass::Usage,
            TabularError::InvalidInput { .. } => ErrorClass::Data,
            TabularError::Format { .. } => ErrorClass::Data,
            TabularError::Model { .. } => ErrorClass::Data,
        }
    }
}

/// Result type of vane-tabular.
pub type Result<T> = std::result::Result<T, TabularError>;
