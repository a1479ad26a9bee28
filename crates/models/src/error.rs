//! Errors of the sequence-model crate.

use thiserror::Error;

/// Everything that can go wrong while building datasets, training, saving or loading models.
#[derive(Debug, Error)]
pub enum ModelError {
    /// A configuration value is out of range or inconsistent; the message names the field.
    #[error("invalid config: {0}")]
    Config(String),
    /// Input data is unusable (shape, NaN, a window crossing a symbol boundary, …).
    #[error("invalid data: {0}")]
    Data(String),
    /// The requested device is unknown or its backend is not compiled in: a usage error (pick
    /// another `--device` or rebuild with the feature the message names).
    #[error("device: {0}")]
    Device(String),
    /// `--devices` asks for something this backend cannot do (several devices, or an index that
    /// is not there); the message names the flag, the backend and what to do instead.
    #[error("--devices: {0}")]
    Devices(String),
    /// burn could not save or load weights.
    #[error("weights {path}: {message}")]
    Weights {
        /// The file.
        path: String,
        /// What burn reported.
        message: String,
    },
    /// Training diverged (non-finite loss).
    #[error("training diverged: {0}")]
    Diverged(String),
    /// An artifact or checkpoint file or folder could not be written or read (including a
    /// `format_version` this build does not read).
    #[error(transparent)]
    Artifact(#[from] vane_artifact::ArtifactError),
    /// A plot could not be drawn.
    #[error(transparent)]
    Report(#[from] vane_report::ReportError),
}

impl ModelError {
    /// The class of this error (exit code of the CLI, HTTP status of the service).
    pub fn class(&self) -> vane_core::ErrorClass {
        use vane_core::ErrorClass;
        match self {
            ModelError::Config { .. } => ErrorClass::Data,
            ModelError::Data { .. } => ErrorClass::Data,
            ModelError::Device { .. } => ErrorClass::Usage,
            ModelError::Devices { .. } => ErrorClass::Usage,
            ModelError::Weights { .. } => ErrorClass::Data,
            ModelError::Diverged { .. } => ErrorClass::Data,
            ModelError::Artifact(e) => e.class(),
            ModelError::Report { .. } => ErrorClass::Io,
        }
    }
}

/// Result of this crate.
pub type Result<T> = std::result::Result<T, ModelError>;

impl ModelError {
    /// A weights (burnpack) error on `path`.
    pub(crate) fn weights(path: &std::path::Path, e: impl std::fmt::Display) -> Self {
        Self::Weights { path: path.display().to_string(), message: e.to_string() }
    }
}

pub(crate) fn config_err<T>(msg: impl Into<String>) -> Result<T> {
    Err(ModelError::Config(msg.into()))
}

pub(crate) fn data_err<T>(msg: impl Into<String>) -> Result<T> {
    Err(ModelError::Data(msg.into()))
}

#[cfg(test)]
mod tests {
    use vane_core::ErrorClass;

    use crate::device::DeviceKind;

    #[test]
    fn a_device_this_build_lacks_is_a_usage_error() {
        // `--device wgpu` on a build without the wgpu feature exited 4 (I/O) although the fix is
        // the command (another device or a rebuild), as for an unknown device name.
        let unknown = "quantum".parse::<DeviceKind>().unwrap_err();
        assert_eq!(unknown.class(), ErrorClass::Usage, "{unknown}");
        #[cfg(not(feature = "wgpu"))]
        {
            let e = DeviceKind::Wgpu.device().unwrap_err();
            assert!(e.to_string().contains("--features wgpu"), "{e}");
            assert_eq!(e.class(), ErrorClass::Usage);
        }
        #[cfg(not(feature = "tch"))]
        assert_eq!(DeviceKind::Tch.device().unwrap_err().class(), ErrorClass::Usage);
    }
}
