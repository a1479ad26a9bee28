//! Bar charts of one metric per window (e.g. the optimised metric of each walk-forward window),
//! optionally two or more series side by side (in-sample against out-of-sample). A value that is
//! not finite (an undefined Sharpe, say) is drawn as a gap marked `n/a` at the zero line, and the
//! legend says how many values of the series are missing.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::common::{self, BOLD, LIGHT, PALETTE, bad};
use crate::error::Result;
use crate::font::FAMILY;

/// Width and height of the plot in pixels.
pub const SIZE: (u32, u32) = (900, 500);

/// Windows up to which each bar carries its value as text.
const VALUE_TEXT_MAX: usize = 14;

/// One named series of values, one per label.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BarSeries {
    /// Legend name, e.g. `in-sample` or `out-of-sample`.
    pub name: String,
    /// One value per label; non-finite values are gaps.
    pub values: Vec<f64>,
}

impl BarSeries {
    /// A series named `name`.
    pub fn new(name: impl Into<String>, values: Vec<f64>) -> Self {
        Self { name: name.into(), values }
    }
}

/// A bar chart of one metric over labelled windows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WindowBars {
    /// Plot title.
    pub title: String,
    /// The metric's name, the y axis title (e.g. `sharpe_ratio`).
    pub metric: String,
    /// The x axis title (e.g. `window`).
    pub axis: String,
    /// One label per bar group (e.g. window ids `0`, `1`, …).
    pub labels: Vec<String>,
    /// One to six series drawn side by side.
    pub series: Vec<BarSeries>,
    /// Values are fractions shown as percentages (`0.05` → `5.0%`).
    pub percent: bool,
}

impl WindowBars {
    /// Checks: at least one label, one to six series, each with one value per label.
    pub fn validate(&self) -> Result<()> {
        if self.labels.is_empty() {
            return Err(bad(format!("bar chart {:?} has no windows (labels)", self.title)));
        }
        if self.series.is_empty() || self.series.len() > PALETTE.len() {
            return Err(bad(format!(
                "bar chart {:?} has {} series; it takes 1 to {}",
                self.title,
                self.series.len(),
                PALETTE.len()
            )));
        }
        for s in &self.series {
            if s.values.len() != self.labels.len() {
                return Err(bad(format!(
                    "bar series {:?} has {} values but there are {} labels",
                    s.name,
                    s.values.len(),
                    self.labels.len()
                )));
            }
        }
        Ok(())
    }

    fn fmt(&self, v: f64) -> String {
        if self.percent { format!("{:.1}%", 100.0 * v) } else { format!("{v:.2}") }
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    b: &WindowBars,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let n = b.labels.len();
    let m = b.series.len();
    let scale = if b.percent { 100.0 } else { 1.0 };
    let finite = b.series.iter().flat_map(|s| s.values.iter().copied()).filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v * scale), hi.max(v * scale)));
    let (y_lo, y_hi) = if hi > lo { common::padded(lo, hi, 0.08, 0.25) } else { (-1.0, 1.0) };
    let (y_lo, y_hi) =
        (if lo >= 0.0 { 0.0 } else { y_lo }, if hi <= 0.0 && lo < 0.0 { (hi - lo) * 0.25 } else { y_hi });
    let missing: usize = b.series.iter().map(|s| s.values.len() - common::finite_count(&s.values)).sum();
    let title = if b.title.is_empty() { format!("{} per window", b.metric) } else { b.title.clone() };
    let title = if missing > 0 { format!("{title} ({missing} n/a)") } else { title };
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FAMILY, 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(-0.5..n as f64 - 0.5, y_lo..y_hi)?;
    let span = y_hi - y_lo;
    let labels = &b.labels;
    // As many labels as fit side by side in the plot's width (about 780 pixels).
    let widest = labels.iter().map(|l| common::text_width(l, 15.0)).max().unwrap_or(0);
    let label_count = n.min(24).min((780 / (widest + 14)) as usize).max(1);
    chart
        .configure_mesh()
        .x_desc(if b.axis.is_empty() { "window" } else { b.axis.as_str() })
        .y_desc(b.metric.as_str())
        .x_labels(label_count)
        .y_labels(10)
        .disable_x_mesh()
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                labels[i as usize].clone()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|y| if b.percent { common::pct_label(*y, span) } else { format!("{y:.2}") })
        .label_style((FAMILY, 15))
        .axis_desc_style((FAMILY, 17))
        .max_light_lines(1)
        .light_line_style(LIGHT)
        .bold_line_style(BOLD)
        .draw()?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(-0.5, 0.0), (n as f64 - 0.5, 0.0)],
        ShapeStyle::from(&RGBColor(90, 90, 90)).stroke_width(1),
    )))?;
    let group = 0.8;
    let w = group / m as f64;
    let text = |size: u32, v: VPos| TextStyle::from((FAMILY, size).into_font()).pos(Pos::new(HPos::Center, v));
    for (k, s) in b.series.iter().enumerate() {
        let color = PALETTE[k];
        let gaps = s.values.len() - common::finite_count(&s.values);
        let left = |i: usize| i as f64 - group / 2.0 + k as f64 * w;
        let bars = s.values.iter().enumerate().filter(|(_, v)| v.is_finite()).map(|(i, &v)| {
            Rectangle::new([(left(i) + 0.04 * w, 0.0), (left(i) + 0.96 * w, v * scale)], color.filled())
        });
        let name = if gaps > 0 { format!("{} ({gaps} n/a)", s.name) } else { s.name.clone() };
        chart
            .draw_series(bars)?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], color.filled()));
        for (i, &v) in s.values.iter().enumerate() {
            let x = left(i) + w / 2.0;
            if !v.is_finite() {
                chart.draw_series(std::iter::once(Text::new("n/a", (x, 0.0), text(13, VPos::Bottom))))?;
            } else if n <= VALUE_TEXT_MAX && m * n <= 2 * VALUE_TEXT_MAX {
                let pos = if v >= 0.0 { VPos::Bottom } else { VPos::Top };
                chart.draw_series(std::iter::once(Text::new(b.fmt(v), (x, v * scale), text(12, pos))))?;
            }
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FAMILY, 15))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(160, 160, 160))
        .draw()?;
    root.present()
}

/// Draws the bar chart as a PNG of [`SIZE`] pixels at `path`.
pub fn window_bars_png(path: &Path, bars: &WindowBars) -> Result<()> {
    bars.validate()?;
    common::png(path, SIZE, |root| draw(root, bars))
}

/// The bar chart as an SVG document of [`SIZE`] pixels.
pub fn window_bars_svg_string(bars: &WindowBars) -> Result<String> {
    bars.validate()?;
    common::svg_string(SIZE, |root| draw(root, bars))
}

/// Draws the bar chart as an SVG of [`SIZE`] pixels at `path`.
pub fn window_bars_svg(path: &Path, bars: &WindowBars) -> Result<()> {
    common::write(path, &window_bars_svg_string(bars)?)
}
