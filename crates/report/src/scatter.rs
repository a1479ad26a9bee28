//! Predicted against realised values of a regression model (e.g. a TFT's expected return on the
//! validation windows): one point per sample, the line `y = x` of a perfect forecast, and R²,
//! MAE and the direction accuracy in the title.
//!
//! The axes are equal (the same range on x and y, so `y = x` is the diagonal) and span the
//! 0.5 %–99.5 % quantiles of both series together: a few extreme values do not squeeze the rest
//! into a corner; the legend says how many points fall outside. At most [`MAX_POINTS`] points
//! are drawn (an even stride through the samples); the statistics use every sample.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::common::{self, BOLD, LIGHT, PALETTE, bad};
use crate::error::Result;
use crate::font::FAMILY;

/// Width and height of the plot in pixels.
pub const SIZE: (u32, u32) = (760, 760);

/// Most points drawn; longer series are drawn at an even stride.
pub const MAX_POINTS: usize = 4000;

const DIAGONAL: RGBColor = RGBColor(214, 39, 40);

/// Predicted against realised values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scatter {
    /// Plot title; the statistics are appended.
    pub title: String,
    /// What was predicted (axis titles read `predicted <quantity>`, `realised <quantity>`),
    /// e.g. `expected return`.
    pub quantity: String,
    /// The model's prediction per sample (x).
    pub predicted: Vec<f64>,
    /// The realised value per sample (y).
    pub realised: Vec<f64>,
    /// Values are fractions shown as percentages (`0.012` → `1.2%`).
    pub percent: bool,
}

/// How well predictions match realised values (all samples).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitStats {
    /// Samples.
    pub n: usize,
    /// Coefficient of determination `1 − Σ(y−ŷ)² / Σ(y−ȳ)²` (NaN when the realised values are
    /// constant).
    pub r2: f64,
    /// Mean absolute error `Σ|y−ŷ| / n`.
    pub mae: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Share of samples with a non-zero realised value whose sign the prediction got right
    /// (NaN when every realised value is 0).
    pub direction_accuracy: f64,
}

/// The statistics of `predicted` against `realised` (same length, at least one sample, finite).
pub fn fit_stats(predicted: &[f64], realised: &[f64]) -> Result<FitStats> {
    check(predicted, realised)?;
    let n = realised.len();
    let mean = realised.iter().sum::<f64>() / n as f64;
    let ss_tot: f64 = realised.iter().map(|y| (y - mean).powi(2)).sum();
    let ss_res: f64 = predicted.iter().zip(realised).map(|(p, y)| (y - p).powi(2)).sum();
    let mae = predicted.iter().zip(realised).map(|(p, y)| (y - p).abs()).sum::<f64>() / n as f64;
    let signed: Vec<(f64, f64)> =
        predicted.iter().zip(realised).filter(|(_, y)| **y != 0.0).map(|(p, y)| (*p, *y)).collect();
    let hits = signed.iter().filter(|(p, y)| p.signum() == y.signum() && *p != 0.0).count();
    Ok(FitStats {
        n,
        r2: if ss_tot > 0.0 { 1.0 - ss_res / ss_tot } else { f64::NAN },
        mae,
        rmse: (ss_res / n as f64).sqrt(),
        direction_accuracy: if signed.is_empty() { f64::NAN } else { hits as f64 / signed.len() as f64 },
    })
}

fn check(predicted: &[f64], realised: &[f64]) -> Result<()> {
    if predicted.len() != realised.len() {
        return Err(bad(format!(
            "scatter: {} predicted values but {} realised values; give one of each per sample",
            predicted.len(),
            realised.len()
        )));
    }
    if realised.is_empty() {
        return Err(bad("scatter: no samples (predicted and realised are empty)"));
    }
    for (name, values) in [("predicted", predicted), ("realised", realised)] {
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(bad(format!("scatter: {name} value {i} is {}; every value must be finite", values[i])));
        }
    }
    Ok(())
}

impl Scatter {
    /// Checks: one realised value per prediction, at least one, all finite.
    pub fn validate(&self) -> Result<()> {
        check(&self.predicted, &self.realised)
    }

    fn scale(&self) -> f64 {
        if self.percent { 100.0 } else { 1.0 }
    }

    /// The axis range (both axes), in plotted units.
    fn range(&self) -> (f64, f64) {
        let s = self.scale();
        let mut all: Vec<f64> = self.predicted.iter().chain(&self.realised).map(|v| v * s).collect();
        all.sort_by(f64::total_cmp);
        let q = |p: f64| all[((all.len() - 1) as f64 * p).round() as usize];
        let (lo, hi) = (q(0.005).min(0.0), q(0.995).max(0.0));
        common::padded(lo, hi, 0.06, 0.06)
    }

    /// The sample indices drawn (all, or an even stride of [`MAX_POINTS`]).
    pub fn drawn(&self) -> Vec<usize> {
        let n = self.realised.len();
        if n <= MAX_POINTS {
            return (0..n).collect();
        }
        (0..MAX_POINTS).map(|i| i * n / MAX_POINTS).collect()
    }

    fn fmt(&self, v: f64, span: f64) -> String {
        if self.percent { common::pct_label(v, span) } else { format!("{v:.3}") }
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Scatter,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let stats = fit_stats(&s.predicted, &s.realised).expect("validated");
    let scale = s.scale();
    let (lo, hi) = s.range();
    let span = hi - lo;
    let err = if s.percent { format!("{:.2}%", 100.0 * stats.mae) } else { format!("{:.4}", stats.mae) };
    let r2 = if stats.r2.is_finite() { format!("{:.3}", stats.r2) } else { "n/a".into() };
    let dir = if stats.direction_accuracy.is_finite() {
        format!(", direction {:.1}%", 100.0 * stats.direction_accuracy)
    } else {
        String::new()
    };
    let title = if s.title.is_empty() { "Predicted vs realised" } else { s.title.as_str() };
    let quantity = if s.quantity.is_empty() { "value" } else { s.quantity.as_str() };
    let (top, rest) = root.split_vertically(64);
    let center = |size: u32| {
        TextStyle::from((FAMILY, size).into_font()).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Center,
            plotters::style::text_anchor::VPos::Top,
        ))
    };
    let w = SIZE.0 as i32;
    top.draw(&Text::new(title.to_string(), (w / 2, 10), center(22)))?;
    top.draw(&Text::new(format!("R² {r2}, MAE {err}{dir}, n = {}", stats.n), (w / 2, 38), center(17)))?;
    let mut chart = ChartBuilder::on(&rest)
        .margin(16)
        .margin_top(4)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(lo..hi, lo..hi)?;
    chart
        .configure_mesh()
        .x_desc(format!("predicted {quantity}"))
        .y_desc(format!("realised {quantity}"))
        .x_labels(9)
        .y_labels(9)
        .x_label_formatter(&|v| s.fmt(*v, span))
        .y_label_formatter(&|v| s.fmt(*v, span))
        .label_style((FAMILY, 15))
        .axis_desc_style((FAMILY, 17))
        .max_light_lines(1)
        .light_line_style(LIGHT)
        .bold_line_style(BOLD)
        .draw()?;
    let axis = ShapeStyle::from(&RGBColor(150, 150, 150)).stroke_width(1);
    chart.draw_series([
        PathElement::new(vec![(lo, 0.0), (hi, 0.0)], axis),
        PathElement::new(vec![(0.0, lo), (0.0, hi)], axis),
    ])?;
    let drawn = s.drawn();
    let inside = |x: f64, y: f64| (lo..=hi).contains(&x) && (lo..=hi).contains(&y);
    let pts: Vec<(f64, f64)> =
        drawn.iter().map(|&i| (s.predicted[i] * scale, s.realised[i] * scale)).filter(|&(x, y)| inside(x, y)).collect();
    let outside = drawn.len() - pts.len();
    let radius = if pts.len() > 1000 { 2 } else { 3 };
    let dot = PALETTE[0].mix(0.45).filled();
    let mut label = format!("samples ({} drawn", pts.len());
    if drawn.len() < stats.n {
        label.push_str(&format!(" of {}", stats.n));
    }
    if outside > 0 {
        label.push_str(&format!(", {outside} outside the axes"));
    }
    label.push(')');
    chart
        .draw_series(pts.iter().map(|&p| Circle::new(p, radius, dot)))?
        .label(label)
        .legend(move |(x, y)| Circle::new((x + 12, y), 4, PALETTE[0].filled()));
    let diag = ShapeStyle::from(&DIAGONAL).stroke_width(2);
    chart
        .draw_series(DashedLineSeries::new(vec![(lo, lo), (hi, hi)], 8, 6, diag))?
        .label("y = x (perfect forecast)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], diag));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FAMILY, 15))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(160, 160, 160))
        .draw()?;
    root.present()
}

/// Draws the scatter plot as a PNG of [`SIZE`] pixels at `path`.
pub fn scatter_png(path: &Path, scatter: &Scatter) -> Result<()> {
    scatter.validate()?;
    common::png(path, SIZE, |root| draw(root, scatter))
}

/// The scatter plot as an SVG document of [`SIZE`] pixels.
pub fn scatter_svg_string(scatter: &Scatter) -> Result<String> {
    scatter.validate()?;
    common::svg_string(SIZE, |root| draw(root, scatter))
}

/// Draws the scatter plot as an SVG of [`SIZE`] pixels at `path`.
pub fn scatter_svg(path: &Path, scatter: &Scatter) -> Result<()> {
    common::write(path, &scatter_svg_string(scatter)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_by_hand() {
        // y = (1, 2, 3), ŷ = (1, 3, 2): ȳ = 2, SS_tot = 2, SS_res = 2 → R² = 0; MAE = 2/3.
        let s = fit_stats(&[1.0, 3.0, 2.0], &[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(s.n, 3);
        assert!(s.r2.abs() < 1e-12);
        assert!((s.mae - 2.0 / 3.0).abs() < 1e-12);
        assert!((s.rmse - (2.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(s.direction_accuracy, 1.0);
        let s = fit_stats(&[0.1, -0.1, 0.2, 0.0], &[0.2, 0.3, 0.0, -0.1]).unwrap();
        // Realised non-zero: 0.2 (hit), 0.3 (miss), −0.1 (ŷ = 0: miss).
        assert!((s.direction_accuracy - 1.0 / 3.0).abs() < 1e-12);
        assert!(fit_stats(&[1.0, 2.0], &[5.0, 5.0]).unwrap().r2.is_nan());
    }

    #[test]
    fn stride_covers_the_series() {
        let n = 10 * MAX_POINTS + 7;
        let s = Scatter { predicted: vec![0.0; n], realised: vec![0.0; n], ..Scatter::default() };
        let d = s.drawn();
        assert_eq!(d.len(), MAX_POINTS);
        assert_eq!(d[0], 0);
        assert!(*d.last().unwrap() >= n - 11);
        assert!(d.windows(2).all(|w| w[0] < w[1]));
    }
}
