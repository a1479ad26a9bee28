//! Errors of vane-report.

use std::path::PathBuf;

use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::{BitMapBackend, DrawingBackend};

/// The error plotters' PNG backend reports.
pub type PngError = DrawingAreaErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>;

/// What can go wrong drawing a plot.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The vendored font did not parse (a corrupted build).
    #[error("the vendored font {0} could not be registered")]
    Font(&'static str),
    /// The series cannot be plotted; the message names the series.
    #[error("invalid series: {0}")]
    Series(String),
    /// Drawing or encoding the PNG failed.
    #[error("drawing {}: {source}", path.display())]
    Png {
        /// The file.
        path: PathBuf,
        /// What plotters reported.
        #[source]
        source: PngError,
    },
    /// Drawing the SVG failed.
    #[error("drawing SVG: {0}")]
    Svg(#[from] DrawingAreaErrorKind<std::io::Error>),
    /// Writing the SVG file failed.
    #[error("writing {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl ReportError {
    /// The class of this error (exit code of the CLI, HTTP status of the service).
    pub fn class(&self) -> vane_core::ErrorClass {
        use vane_core::ErrorClass;
        match self {
            ReportError::Font { .. } => ErrorClass::Internal,
            ReportError::Series { .. } => ErrorClass::Data,
            ReportError::Png { .. } => ErrorClass::Io,
            ReportError::Svg { .. } => ErrorClass::Io,
            ReportError::Io { .. } => ErrorClass::Io,
        }
    }
}

/// Result type of vane-report.
pub type Result<T> = std::result::Result<T, ReportError>;
