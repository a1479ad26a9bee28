//! Plots for vane's reports and artifacts, drawn with `plotters` into PNG and SVG files.
//!
//! Text is set in DejaVu Sans, vendored in `assets/` and registered with plotters' `ab_glyph`
//! renderer ([`font::register`]), so no system font or fontconfig is needed and every machine
//! draws the same pixels. PNG text is set by this crate (each glyph at its pen position plus its
//! side bearing; plotters 0.3.7's own path drops the bearing and opens gaps such as "BTCUSD T" or
//! "1. 050"), with plotters' advances, kerning and anchors. Plots take plain series: this crate
//! knows nothing of models.
//!
//! - [`loss`]: the loss curve of a training run ([`loss_curve_png`], [`loss_curve_svg`]).
//! - [`reliability`]: the reliability diagram of a classifier ([`reliability_png`],
//!   [`reliability_svg`]; several curves in one: [`reliability_png_series`]).
//! - [`equity`]: cumulative return with a drawdown panel ([`equity_png`]) and the underwater
//!   curve ([`underwater_png`]) of one or more named return series.
//! - [`bars`]: one metric per window, series side by side ([`window_bars_png`]).
//! - [`heatmap`]: labelled matrices ([`heatmap_png`]): monthly returns ([`monthly_returns`],
//!   [`monthly_heatmap`]), metric correlation across runs ([`pearson_matrix`],
//!   [`correlation_heatmap`]) and confusion matrices ([`confusion_heatmap`]).
//! - [`distribution`]: the histogram of returns ([`return_histogram_png`]) and the rolling
//!   Sharpe ratio ([`rolling_sharpe`], [`rolling_sharpe_png`]).
//! - [`scatter`]: predicted against realised values of a regression model with `y = x`, R² and
//!   MAE ([`scatter_png`], [`fit_stats`]).
//! - [`importance`]: variable importance as horizontal bars, largest on top
//!   ([`importance_png`]).
//! - [`tearsheet`]: a self-contained HTML report of one run ([`tearsheet_html`],
//!   [`write_tearsheet`]) with the plots above inlined as SVG.
//!
//! Every plot has `*_png(path, …)`, `*_svg(path, …)` and `*_svg_string(…)`; bad input (empty
//! or mismatched series, non-finite returns) is a [`ReportError::Series`] naming the series.
//!
//! # Feature flags
//! None.
#![warn(missing_docs)]

/// Per-window bar charts.
pub mod bars;
pub mod distribution;
/// Equity and underwater curves.
pub mod equity;
/// Errors of this crate.
pub mod error;
/// The vendored font.
pub mod font;
pub mod heatmap;
pub mod importance;
/// Loss curves.
pub mod loss;
/// Reliability diagrams.
pub mod reliability;
pub mod scatter;
/// HTML tearsheets.
pub mod tearsheet;

mod common;
mod text;

pub use bars::{BarSeries, WindowBars, window_bars_png, window_bars_svg, window_bars_svg_string};
pub use distribution::{
    Bins, Histogram, histogram, return_histogram_png, return_histogram_svg, return_histogram_svg_string,
    rolling_sharpe, rolling_sharpe_png, rolling_sharpe_svg, rolling_sharpe_svg_string,
};
pub use equity::{
    DrawdownPeriod, ReturnSeries, drawdown, drawdown_periods, equity_curve, equity_png, equity_svg, equity_svg_string,
    underwater_png, underwater_svg, underwater_svg_string,
};
pub use error::{ReportError, Result};
pub use heatmap::{
    CellFormat, Heatmap, MonthlyReturns, Scale, confusion_heatmap, correlation_heatmap, heatmap_png, heatmap_svg,
    heatmap_svg_string, monthly_heatmap, monthly_returns, pearson_matrix,
};
pub use importance::{Importance, importance_png, importance_svg, importance_svg_string};
pub use loss::{LossSeries, loss_curve_png, loss_curve_svg, loss_curve_svg_string};
pub use reliability::{
    ReliabilityPoint, ReliabilitySeries, reliability_png, reliability_png_series, reliability_svg,
    reliability_svg_series, reliability_svg_series_string, reliability_svg_string,
};
pub use scatter::{FitStats, Scatter, fit_stats, scatter_png, scatter_svg, scatter_svg_string};
pub use tearsheet::{Format, MetricRow, Panel, Tearsheet, tearsheet_html, write_tearsheet};
