//! The loss curve of a training run: train and validation loss per epoch, the best epoch marked.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{ReportError, Result};
use crate::font::{FAMILY, register};
use crate::text::Glyphs;

/// Width and height of the plot in pixels.
pub const SIZE: (u32, u32) = (900, 540);

const TRAIN: RGBColor = RGBColor(31, 119, 180);
const VALID: RGBColor = RGBColor(255, 127, 14);
const BEST: RGBColor = RGBColor(214, 39, 40);

/// One training run's losses; entry `i` of each series is epoch `i + 1`. Non-finite values leave
/// a gap.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LossSeries {
    /// Plot title.
    pub title: String,
    /// Mean training loss per epoch.
    pub train: Vec<f64>,
    /// Validation loss per epoch (same length as `train`).
    pub valid: Vec<f64>,
    /// The 1-based epoch whose weights were kept, marked on the validation curve.
    pub best_epoch: Option<usize>,
    /// What one step of the x axis is, for its label and the best-step marker: `epoch` when
    /// empty; e.g. `iteration` for boosted trees.
    pub step: String,
}

impl LossSeries {
    /// Checks the lengths and the best epoch.
    pub fn validate(&self) -> Result<()> {
        if self.train.len() != self.valid.len() {
            return Err(ReportError::Series(format!(
                "train has {} epochs but valid has {}",
                self.train.len(),
                self.valid.len()
            )));
        }
        if let Some(b) = self.best_epoch
            && (b == 0 || b > self.valid.len())
        {
            return Err(ReportError::Series(format!("best_epoch {b} is outside 1..={}", self.valid.len())));
        }
        Ok(())
    }

    fn step_name(&self) -> &str {
        if self.step.is_empty() { "epoch" } else { &self.step }
    }

    fn epochs(&self) -> usize {
        self.train.len()
    }

    /// The y range over every finite value, padded by 5 % below and 30 % above, which keeps the
    /// legend in the upper right clear of the curves (0..1 when there is no finite value).
    fn y_range(&self) -> (f64, f64) {
        let finite = self.train.iter().chain(&self.valid).copied().filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if !lo.is_finite() {
            return (0.0, 1.0);
        }
        let span = if hi > lo { hi - lo } else { lo.abs().max(1e-3) };
        (lo - 0.05 * span, hi + 0.3 * span)
    }
}

/// Decimals that tell ~10 ticks over a span apart: 3 for spans ≥ 0.1 (the usual loss range),
/// one more per decade below, at most 8 (a narrow range printed 0.618 twice with 3).
fn tick_decimals(span: f64) -> usize {
    if !(span.is_finite() && span > 0.0) {
        return 3;
    }
    let d = 1.0 - (span / 10.0).log10().floor();
    (d.max(3.0) as usize).min(8)
}

/// Runs of consecutive finite points `(epoch, value)`.
fn segments(values: &[f64]) -> Vec<Vec<(f64, f64)>> {
    let mut out = vec![Vec::new()];
    for (i, &v) in values.iter().enumerate() {
        if v.is_finite() {
            out.last_mut().expect("non-empty").push(((i + 1) as f64, v));
        } else if !out.last().expect("non-empty").is_empty() {
            out.push(Vec::new());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &LossSeries,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let n = s.epochs().max(1);
    let (x_lo, x_hi) = if n > 1 { (1.0, n as f64) } else { (0.5, 1.5) };
    let (y_lo, y_hi) = s.y_range();
    let title = if s.title.is_empty() { "Loss per epoch" } else { s.title.as_str() };
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FAMILY, 26))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
    let x_labels = n.min(10);
    let decimals = tick_decimals(y_hi - y_lo);
    chart
        .configure_mesh()
        .x_desc(s.step_name())
        .y_desc("loss")
        .x_labels(x_labels)
        .x_label_formatter(&|x| if (x - x.round()).abs() < 1e-9 { format!("{x:.0}") } else { String::new() })
        .y_label_formatter(&|y| format!("{y:.prec$}", prec = decimals))
        .label_style((FAMILY, 16))
        .axis_desc_style((FAMILY, 18))
        .max_light_lines(4)
        .light_line_style(RGBColor(240, 240, 240))
        .draw()?;
    for (name, color, values) in [("train loss", TRAIN, &s.train), ("validation loss", VALID, &s.valid)] {
        let style = ShapeStyle::from(&color).stroke_width(3);
        for (i, seg) in segments(values).into_iter().enumerate() {
            let series = chart.draw_series(LineSeries::new(seg.clone(), style))?;
            if i == 0 {
                series.label(name).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
            }
            if seg.len() == 1 {
                chart.draw_series(std::iter::once(Circle::new(seg[0], 4, color.filled())))?;
            }
        }
    }
    if let Some(b) = s.best_epoch
        && let Some(&v) = s.valid.get(b - 1)
        && v.is_finite()
    {
        let marker = ShapeStyle::from(&BEST).filled();
        chart
            .draw_series(std::iter::once(Circle::new((b as f64, v), 7, marker)))?
            .label(format!("best {} {b}", s.step_name()))
            .legend(move |(x, y)| Circle::new((x + 12, y), 6, marker));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FAMILY, 16))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(160, 160, 160))
        .draw()?;
    root.present()
}

/// Draws the loss curve as a PNG of [`SIZE`] pixels at `path`.
pub fn loss_curve_png(path: &Path, series: &LossSeries) -> Result<()> {
    register()?;
    series.validate()?;
    let png = |source| ReportError::Png { path: path.to_path_buf(), source };
    let root = Glyphs(BitMapBackend::new(path, SIZE)).into_drawing_area();
    draw(&root, series).map_err(png)
}

/// The loss curve as an SVG document of [`SIZE`] pixels.
pub fn loss_curve_svg_string(series: &LossSeries) -> Result<String> {
    register()?;
    series.validate()?;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        draw(&root, series)?;
    }
    Ok(text)
}

/// Draws the loss curve as an SVG of [`SIZE`] pixels at `path`.
pub fn loss_curve_svg(path: &Path, series: &LossSeries) -> Result<()> {
    let text = loss_curve_svg_string(series)?;
    std::fs::write(path, text).map_err(|source| ReportError::Io { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tick_tests {
    use super::tick_decimals;

    #[test]
    fn narrow_ranges_get_more_decimals() {
        assert_eq!(tick_decimals(1.0), 3);
        assert_eq!(tick_decimals(0.5), 3);
        // 0.612..0.624: ticks 0.0012 apart need 4 decimals to differ.
        assert_eq!(tick_decimals(0.012), 4);
        assert_eq!(tick_decimals(0.0), 3);
        assert_eq!(tick_decimals(1e-12), 8);
    }
}
