//! Plots for vane's reports and artifacts, drawn with `plotters` into PNG and SVG files.
//!
//! Text is set in DejaVu Sans, vendored in `assets/` and registered with plotters' `ab_glyph`
//! renderer ([`font::register`]), so no system font or fontconfig is needed and every machine
//! draws the same pixels. Plots take plain series: this crate knows nothing of models.
//!
//! - [`loss`]: the loss curve of a training run ([`loss_curve_png`], [`loss_curve_svg`]).
//! - [`reliability`]: the reliability diagram of a classifier ([`reliability_png`],
//!   [`reliability_svg`]).
//!
//! # Feature flags
//! None.
#![warn(missing_docs)]

/// Errors of this crate.
pub mod error;
/// The vendored font.
pub mod font;
/// Loss curves.
pub mod loss;
/// Reliability diagrams.
pub mod reliability;

pub use error::{ReportError, Result};
pub use loss::{LossSeries, loss_curve_png, loss_curve_svg, loss_curve_svg_string};
pub use reliability::{ReliabilityPoint, reliability_png, reliability_svg, reliability_svg_string};
