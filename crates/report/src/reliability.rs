//! The reliability diagram of a classifier: mean confidence (x) against observed accuracy (y)
//! per bin, the diagonal of perfect calibration, and the number of samples per bin as bars
//! below; the expected calibration error is in the title and the legend.
//!
//! Several series (e.g. a model's raw probabilities and the same model calibrated) share one
//! diagram: one curve each, in its own colour, with its ECE and sample count in the legend, and
//! side-by-side bars per bin in the histogram ([`reliability_png_series`](crate::reliability::reliability_png_series)).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{ReportError, Result};
use crate::font::{FAMILY, register};
use crate::text::Glyphs;

/// Width and height of the plot in pixels.
pub const SIZE: (u32, u32) = (720, 760);

const DIAGONAL: RGBColor = RGBColor(120, 120, 120);
const GAP: RGBColor = RGBColor(214, 39, 40);
/// Curve colour and bar colour of each series, in order (the first is the single-series look).
const PALETTE: [(RGBColor, RGBColor); 4] = [
    (RGBColor(31, 119, 180), RGBColor(158, 202, 225)),
    (RGBColor(255, 127, 14), RGBColor(253, 190, 133)),
    (RGBColor(44, 160, 44), RGBColor(161, 217, 155)),
    (RGBColor(148, 103, 189), RGBColor(203, 186, 222)),
];

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

/// One curve of a reliability diagram: its legend label and its bins.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReliabilitySeries<'a> {
    /// The legend's name of the curve (e.g. `raw`, `shipped (calibrated)`); followed there by
    /// the series' ECE and sample count.
    pub label: &'a str,
    /// The bins (empty bins are skipped).
    pub points: &'a [ReliabilityPoint],
}

/// Checks every series' points ([`validate`], the error naming the series) and that there are
/// at most as many series as colours.
fn validate_series(series: &[ReliabilitySeries<'_>]) -> Result<()> {
    if series.len() > PALETTE.len() {
        return Err(ReportError::Series(format!(
            "a reliability diagram draws at most {} series, got {}",
            PALETTE.len(),
            series.len()
        )));
    }
    for s in series {
        validate(s.points).map_err(|e| match e {
            ReportError::Series(m) if series.len() > 1 => ReportError::Series(format!("series {:?}: {m}", s.label)),
            e => e,
        })?;
    }
    Ok(())
}

fn ece_text(points: &[ReliabilityPoint]) -> String {
    ece(points).map_or("ECE n/a".to_string(), |e| format!("ECE {e:.3}"))
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    series: &[ReliabilitySeries<'_>],
    title: &str,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let all: Vec<Vec<ReliabilityPoint>> =
        series.iter().map(|s| s.points.iter().copied().filter(|p| p.count > 0).collect()).collect();
    let title = if title.is_empty() { "Reliability" } else { title };
    // One series: its ECE in the title (as before); several: each in its legend entry.
    let caption = match all.as_slice() {
        [] => format!("{title} (ECE n/a)"),
        [pts] => format!("{title} ({})", ece_text(pts)),
        _ => title.to_string(),
    };
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
    // The gap of each bin to the diagonal, of the last series (the one that ships, when a raw
    // curve is drawn beside a calibrated one; named by its label up to any parenthesis).
    if let (Some(pts), Some(last)) = (all.last(), series.last()) {
        let gap = ShapeStyle::from(&GAP.mix(0.8)).stroke_width(2);
        let gaps = chart.draw_series(
            pts.iter().map(|p| PathElement::new(vec![(p.confidence, p.confidence), (p.confidence, p.accuracy)], gap)),
        )?;
        if !pts.is_empty() {
            let label = if series.len() > 1 {
                format!("gap per bin ({})", last.label.split(" (").next().unwrap_or(last.label))
            } else {
                "gap per bin".into()
            };
            gaps.label(label).legend(move |(x, y)| PathElement::new(vec![(x + 12, y - 7), (x + 12, y + 7)], gap));
        }
    }
    for (k, (s, pts)) in series.iter().zip(&all).enumerate() {
        let colour = PALETTE[k].0;
        let n: usize = pts.iter().map(|p| p.count).sum();
        let line = ShapeStyle::from(&colour).stroke_width(3);
        let curve: Vec<(f64, f64)> = pts.iter().map(|p| (p.confidence, p.accuracy)).collect();
        chart
            .draw_series(LineSeries::new(curve, line))?
            .label(format!("{}: {}, n = {n}", s.label, ece_text(pts)))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], line));
        // Markers sized by the bin's share of the series' samples.
        let radius = |c: usize| (4.0 + 10.0 * (c as f64 / n.max(1) as f64).sqrt()).round() as i32;
        chart.draw_series(
            pts.iter().map(|p| Circle::new((p.confidence, p.accuracy), radius(p.count), colour.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FAMILY, 16))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(160, 160, 160))
        .draw()?;

    // The samples per bin, on the same x axis: one bar per series, side by side.
    let max = all.iter().flatten().map(|p| p.count).max().unwrap_or(1).max(1) as f64;
    let mut hist = ChartBuilder::on(&bottom)
        .margin(16)
        .margin_top(4)
        .x_label_area_size(48)
        .y_label_area_size(72)
        // Several series: headroom for the bars' legend above the tallest bar.
        .build_cartesian_2d(0.0..1.0, 0.0..max * if series.len() > 1 { 1.6 } else { 1.1 })?;
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
    let width = 0.04 / all.len().max(1) as f64;
    for (k, (s, pts)) in series.iter().zip(&all).enumerate() {
        let (colour, bars) = PALETTE[k];
        let left = -0.02 + k as f64 * width;
        let bar = |p: &ReliabilityPoint, style: ShapeStyle| {
            let (lo, hi) = ((p.confidence + left).max(0.0), (p.confidence + left + width).min(1.0));
            Rectangle::new([(lo, 0.0), (hi, p.count as f64)], style)
        };
        let drawn = hist.draw_series(pts.iter().map(|p| bar(p, bars.filled())))?;
        if series.len() > 1 {
            drawn.label(s.label).legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], bars.filled()));
            // Outlined in the curve's colour so that the pairs tell apart.
            hist.draw_series(pts.iter().map(|p| bar(p, colour.stroke_width(1))))?;
        }
    }
    if series.len() > 1 {
        // The legend over the half of the axis with fewer samples, so that it covers no tall bar.
        let (left, right): (usize, usize) = all
            .iter()
            .flatten()
            .fold((0, 0), |(l, r), p| if p.confidence < 0.5 { (l + p.count, r) } else { (l, r + p.count) });
        hist.configure_series_labels()
            .position(if left > right { SeriesLabelPosition::UpperRight } else { SeriesLabelPosition::UpperLeft })
            .label_font((FAMILY, 14))
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(160, 160, 160))
            .draw()?;
    }
    root.present()
}

/// The single series of the one-curve functions, labelled `model`.
fn single(points: &[ReliabilityPoint]) -> [ReliabilitySeries<'_>; 1] {
    [ReliabilitySeries { label: "model", points }]
}

/// Draws the reliability diagram as a PNG of [`SIZE`] pixels at `path`.
pub fn reliability_png(path: &Path, points: &[ReliabilityPoint], title: &str) -> Result<()> {
    reliability_png_series(path, &single(points), title)
}

/// Draws the reliability diagram of several series (at most four; e.g. raw and calibrated) as
/// a PNG of [`SIZE`] pixels at `path`. With one series it is [`reliability_png`] (the ECE in the
/// title); with several, each series' ECE and sample count are in the legend and `title` is the
/// caption as given.
pub fn reliability_png_series(path: &Path, series: &[ReliabilitySeries<'_>], title: &str) -> Result<()> {
    register()?;
    validate_series(series)?;
    let png = |source| ReportError::Png { path: path.to_path_buf(), source };
    let root = Glyphs(BitMapBackend::new(path, SIZE)).into_drawing_area();
    draw(&root, series, title).map_err(png)
}

/// The reliability diagram as an SVG document of [`SIZE`] pixels.
pub fn reliability_svg_string(points: &[ReliabilityPoint], title: &str) -> Result<String> {
    reliability_svg_series_string(&single(points), title)
}

/// The reliability diagram of several series as an SVG document of [`SIZE`] pixels (see
/// [`reliability_png_series`]).
pub fn reliability_svg_series_string(series: &[ReliabilitySeries<'_>], title: &str) -> Result<String> {
    register()?;
    validate_series(series)?;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        draw(&root, series, title)?;
    }
    Ok(text)
}

/// Draws the reliability diagram as an SVG of [`SIZE`] pixels at `path`.
pub fn reliability_svg(path: &Path, points: &[ReliabilityPoint], title: &str) -> Result<()> {
    reliability_svg_series(path, &single(points), title)
}

/// Draws the reliability diagram of several series as an SVG of [`SIZE`] pixels at `path` (see
/// [`reliability_png_series`]).
pub fn reliability_svg_series(path: &Path, series: &[ReliabilitySeries<'_>], title: &str) -> Result<()> {
    let text = reliability_svg_series_string(series, title)?;
    std::fs::write(path, text).map_err(|source| ReportError::Io { path: path.to_path_buf(), source })
}
