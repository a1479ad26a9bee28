//! Errors of vane-calibration.

/// Why a calibrator could not be fitted or loaded.
#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    /// A saved file: unreadable, of another `format_version`, or not valid JSON.
    #[error(transparent)]
    File(#[from] vane_artifact::ArtifactError),
    /// Not enough data to fit (too few samples, a single class, a single distinct score).
    #[error("cannot fit {method}: {reason}")]
    CannotFit {
        /// The method.
        method: &'static str,
        /// Why.
        reason: String,
    },
    /// The optimiser did not converge.
    #[error("{method} did not converge: {reason}")]
    NoConvergence {
        /// The method.
        method: &'static str,
        /// Details.
        reason: String,
    },
    /// Inputs of mismatched lengths or non-finite values.
    #[error("{0}")]
    InvalidInput(String),
    /// A parameter out of its domain.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// A metric of vane-validation rejected its input.
    #[error(transparent)]
    Metric(#[from] vane_validation::ValidationError),
    /// A saved calibrator that cannot be read.
    #[error("calibration file: {0}")]
    Format(String),
}

impl CalibrationError {
    /// The class of this error (exit code of the CLI, HTTP status of the service).
    pub fn class(&self) -> vane_core::ErrorClass {
        use vane_core::ErrorClass;
        match self {
            CalibrationError::File(e) => e.class(),
            CalibrationError::CannotFit { .. } => ErrorClass::Data,
            CalibrationError::NoConvergence { .. } => ErrorClass::Data,
            CalibrationError::InvalidInput { .. } => ErrorClass::Data,
            CalibrationError::InvalidParameter { .. } => ErrorClass::Usage,
            CalibrationError::Format { .. } => ErrorClass::Data,
            CalibrationError::Metric(e) => e.class(),
        }
    }
}

/// Result type of vane-calibration.
pub type Result<T> = std::result::Result<T, CalibrationError>;

/// Equal lengths and finite scores.
pub(crate) fn check_inputs(scores: &[f64], labels: &[bool]) -> Result<()> {
    if scores.len() != labels.len() {
        return Err(CalibrationError::InvalidInput(format!("{} scores for {} labels", scores.len(), labels.len())));
    }
    if let Some(i) = scores.iter().position(|s| !s.is_finite()) {
        return Err(CalibrationError::InvalidInput(format!("score #{i} is not finite")));
    }
    Ok(())
}

/// [`check_inputs`], at least `min` samples, and both classes present.
pub(crate) fn check_binary(scores: &[f64], labels: &[bool], method: &'static str, min: usize) -> Result<()> {
    check_inputs(scores, labels)?;
    if scores.len() < min {
        return Err(CalibrationError::CannotFit {
            method,
            reason: format!("{} samples, need at least {min}", scores.len()),
        });
    }
    let pos = labels.iter().filter(|&&l| l).count();
    if pos == 0 || pos == labels.len() {
        return Err(CalibrationError::CannotFit { method, reason: "only one class in the labels".into() });
    }
    Ok(())
}
