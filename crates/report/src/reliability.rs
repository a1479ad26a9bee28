//! The reliability diagram of a classifier: mean confidence (x) against observed accuracy (y)
//! per bin, the diagonal of perfect calibration, and the number of samples per bin as bars
//! below; the expected calibration error is in the title and the legend.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{ReportError, Result};
use crate::font::{FAMILY, register};
use crate::text::Glyphs;

/// Width and height of the plot in pixels.
pub const SIZE: (u32, u32) = (720, 760);

const MODEL: RGBColor = RGBColor(31, 119, 180);
const DIAGONAL: RGBColor = RGBColor(120, 120, 120);
const GAP: RGBColor = RGBColor(214, 39, 40);
const BARS: RGBColor = RGBColor(158, 202, 225);

/// One bin of a reliability diagram. A bin with `count == 0` is skipped (its other fields may
/// be NaN).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReliabilityPoint {
    /// Mean confidence of the bin's samples, in [0, 1].
    pub confidence: f64,
    /// Share of the bin's samples that were right, in [0, 1].
    pub accuracy: f64,
    /// Samples in the bin.
    pub count: usize,
}

/// Checks every non-empty point: confidence and accuracy finite and in [0, 1].
pub fn validate(points: &[ReliabilityPoint]) -> Result<()> {
    for (i, p) in points.iter().enumerate().filter(|(_, p)| p.count > 0) {
        for (name, v) in [("confidence", p.confidence), ("accuracy", p.accuracy)] {
            if !(0.0..=1.0).contains(&v) {
                return Err(ReportError::Series(format!("reliability bin {i}: {name} {v} must be a number in [0, 1]")));
            }
        }
    }
    Ok(())
}

/// Expected calibration error of the points: `Σ_b n_b/N·|accuracy_b − confidence_b|` over the
/// non-empty bins (None when there are no samples).
pub fn ece(points: &[ReliabilityPoint]) -> Option<f64> {
    let n: usize = points.iter().map(|p| p.count).sum();
    (n > 0).then(|| {
        points
            .iter()
            .filter(|p| p.count > 0)
            .map(|p| p.count as f64 / n as f64 * (p.accuracy - p.confidence).abs())
            .sum()
    })
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    points: &[ReliabilityPoint],
    title: &str,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let pts: Vec<ReliabilityPoint> = points.iter().copied().filter(|p| p.count > 0).collect();
    let n: usize = pts.iter().map(|p| p.count).sum();
    let title = if title.is_empty() { "Reliability" } else { title };
    let ece_text = ece(&pts).map_or("ECE n/a".to_string(), |e| format!("ECE {e:.3}"));
    let caption = format!("{title} ({ece_text})");
    let (top, bottom) = root.split_vertically(SIZE.1 * 72 / 100);

    let mut chart = ChartBuilder::on(&top)
        .caption(caption, (FAMILY, 24))
        .margin(16)
        .margin_bottom(4)
        .x_label_area_size(20)
        .y_label_area_size(72)
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
    chart
        .configure_mesh()
        .y_desc("observed accuracy")
        .x_labels(11)
        .y_labels(11)
        .x_label_formatter(&|_| String::new())
        .y_label_formatter(&|y| format!("{y:.1}"))
        .label_style((FAMILY, 16))
        .axis_desc_style((FAMILY, 18))
        .max_light_lines(1)
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()?;
    let diag = ShapeStyle::from(&DIAGONAL).stroke_width(2);
    chart
        .draw_series(DashedLineSeries::new(vec![(0.0, 0.0), (1.0, 1.0)], 8, 6, diag))?
        .label("perfectly calibrated")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], diag));
    // The gap of each bin to the diagonal, then the curve through the bins.
    let gap = ShapeStyle::from(&GAP.mix(0.8)).stroke_width(2);
    let gaps = chart.draw_series(
        pts.iter().map(|p| PathElement::new(vec![(p.confidence, p.confidence), (p.confidence, p.accuracy)], gap)),
    )?;
    if !pts.is_empty() {
        gaps.label("gap per bin").legend(move |(x, y)| PathElement::new(vec![(x + 12, y - 7), (x + 12, y + 7)], gap));
    }
    let line = ShapeStyle::from(&MODEL).stroke_width(3);
    let curve: Vec<(f64, f64)> = pts.iter().map(|p| (p.confidence, p.accuracy)).collect();
    chart
        .draw_series(LineSeries::new(curve, line))?
        .label(format!("model: {ece_text}, n = {n}"))
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], line));
    // Markers sized by the bin's share of the samples.
    let radius = |c: usize| (4.0 + 10.0 * (c as f64 / n.max(1) as f64).sqrt()).round() as i32;
    chart.draw_series(pts.iter().map(|p| Circle::new((p.confidence, p.accuracy), radius(p.count), MODEL.filled())))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FAMILY, 16))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(160, 160, 160))
        .draw()?;

    // The samples per bin, on the same x axis.
    let max = pts.iter().map(|p| p.count).max().unwrap_or(1).max(1) as f64;
    let mut hist = ChartBuilder::on(&bottom)
        .margin(16)
        .margin_top(4)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(0.0..1.0, 0.0..max * 1.1)?;
    hist.configure_mesh()
        .x_desc("confidence")
        .y_desc("samples")
        .x_labels(11)
        .y_labels(3)
        .x_label_formatter(&|x| format!("{x:.1}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style((FAMILY, 16))
        .axis_desc_style((FAMILY, 18))
        .max_light_lines(0)
        .bold_line_style(RGBColor(235, 235, 235))
        .draw()?;
    hist.draw_series(pts.iter().map(|p| {
        let (lo, hi) = ((p.confidence - 0.02).max(0.0), (p.confidence + 0.02).min(1.0));
        Rectangle::new([(lo, 0.0), (hi, p.count as f64)], BARS.filled())
    }))?;
    root.present()
}

/// Draws the reliability diagram as a PNG of [`SIZE`] pixels at `path`.
pub fn reliability_png(path: &Path, points: &[ReliabilityPoint], title: &str) -> Result<()> {
    register()?;
    validate(points)?;
    let png = |source| ReportError::Png { path: path.to_path_buf(), source };
    let root = Glyphs(BitMapBackend::new(path, SIZE)).into_drawing_area();
    draw(&root, points, title).map_err(png)
}

/// The reliability diagram as an SVG document of [`SIZE`] pixels.
pub fn reliability_svg_string(points: &[ReliabilityPoint], title: &str) -> Result<String> {
    register()?;
    validate(points)?;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        draw(&root, points, title)?;
    }
    Ok(text)
}

/// Draws the reliability diagram as an SVG of [`SIZE`] pixels at `path`.
pub fn reliability_svg(path: &Path, points: &[ReliabilityPoint], title: &str) -> Result<()> {
    let text = reliability_svg_string(points, title)?;
    std::fs::write(path, text).map_err(|source| ReportError::Io { path: path.to_path_buf(), source })
}
