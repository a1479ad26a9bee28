//! Errors of vane-artifact.

use std::path::PathBuf;

/// What can go wrong reading or writing an artifact.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// A filesystem operation failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done (`writing`, `renaming into place` …).
        op: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A file written by another format version of vane.
    #[error(
        "{}: format_version {} but this build reads {expected}: the file was written by another version of vane; retrain (or re-create) it",
        path.display(),
        found.map_or_else(|| "missing".to_string(), |v| v.to_string())
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// The version the file carries (`None`: no `format_version` field).
        found: Option<u64>,
        /// The version this build reads.
        expected: u32,
    },
    /// A file whose contents do not parse or do not validate.
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An output path that would overwrite an input or land in a folder vane manages.
    #[error("refusing to write {}: {reason}", output.display())]
    OutputPath {
        /// The output path as given.
        output: PathBuf,
        /// Which input or folder it collides with.
        reason: String,
    },
    /// A model id that is not a safe folder name.
    #[error("invalid model id {0:?}: expected 1-128 characters of A-Z a-z 0-9 _ - . not starting with '.'")]
    ModelId(String),
    /// A run id that is not in the runs directory.
    #[error("no run {id:?} in {}: `vane runs list --runs-dir {}` lists the runs there", runs_dir.display(), runs_dir.display())]
    UnknownRun {
        /// The id asked for.
        id: String,
        /// The runs directory searched.
        runs_dir: PathBuf,
    },
    /// A failure injected by a test (see `fail_at`).
    #[error("injected failure at {0:?}")]
    Injected(crate::fs::FailPoint),
}

impl ArtifactError {
    /// An I/O error naming the operation and the path.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { op, path: path.into(), source }
    }

    /// A file that does not parse or validate.
    pub fn invalid(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        Self::Invalid { path: path.into(), message: message.to_string() }
    }
}

impl ArtifactError {
    /// The class of this error (exit code of the CLI, HTTP status of the service).
    pub fn class(&self) -> vane_core::ErrorClass {
        use vane_core::ErrorClass;
        match self {
            ArtifactError::Io { .. } => ErrorClass::Io,
            ArtifactError::Version { .. } => ErrorClass::Data,
            ArtifactError::Invalid { .. } => ErrorClass::Data,
            ArtifactError::ModelId { .. } => ErrorClass::Usage,
            ArtifactError::OutputPath { .. } => ErrorClass::Usage,
            ArtifactError::UnknownRun { .. } => ErrorClass::Usage,
            ArtifactError::Injected { .. } => ErrorClass::Io,
        }
    }
}

/// Result type of vane-artifact.
pub type Result<T> = std::result::Result<T, ArtifactError>;
