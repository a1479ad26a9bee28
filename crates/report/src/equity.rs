//! Equity curves: the cumulative return `cumprod(1 + r) − 1` of one or more named return series
//! (a strategy and its buy-and-hold benchmark, or the stitched out-of-sample returns of a
//! walk-forward run) over their open times, with the drawdown `E/cummax(E) − 1` (the
//! "underwater" curve) in a panel below; the underwater curve also stands alone.
//!
//! Conventions are vane-backtest's: `E = [1, cumprod(1 + r)]`, so a first losing period is
//! already a drawdown from the starting capital. Long series are thinned for drawing (each
//! pixel-wide bucket keeps its low and high), so a 10⁵-point SVG stays small.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::common::{self, BOLD, LIGHT, PALETTE, bad};
use crate::error::Result;

/// Width and height of the equity plot (curve and drawdown panel) in pixels.
pub const SIZE: (u32, u32) = (900, 620);
/// Width and height of the standalone underwater plot in pixels.
pub const UNDERWATER_SIZE: (u32, u32) = (900, 380);

/// Points kept per drawn series (see the module doc).
const MAX_POINTS: usize = 1200;

/// One named series of per-period simple returns (`0.01` is +1 %).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReturnSeries {
    /// Legend name, e.g. `strategy` or `buy and hold`.
    pub name: String,
    /// The return of each period, one per open time.
    pub returns: Vec<f64>,
}

impl ReturnSeries {
    /// A series named `name`.
    pub fn new(name: impl Into<String>, returns: Vec<f64>) -> Self {
        Self { name: name.into(), returns }
    }
}

/// `E_i = Π_{j ≤ i}(1 + r_j)`: the equity after each period, starting from 1.
pub fn equity_curve(returns: &[f64]) -> Vec<f64> {
    let mut e = 1.0;
    returns
        .iter()
        .map(|r| {
            e *= 1.0 + r;
            e
        })
        .collect()
}

/// The drawdown after each period, `E_i/max(1, E_0..E_i) − 1` (≤ 0; 0 at a new high).
pub fn drawdown(returns: &[f64]) -> Vec<f64> {
    let mut peak = 1.0f64;
    equity_curve(returns)
        .into_iter()
        .map(|e| {
            peak = peak.max(e);
            e / peak - 1.0
        })
        .collect()
}

/// One drawdown period: from the first period under the previous high to the recovery.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DrawdownPeriod {
    /// Open time of the first period below the high.
    pub start_ms: i64,
    /// Open time of the period at the bottom.
    pub valley_ms: i64,
    /// Open time of the period that regained the high; None while still under water.
    pub end_ms: Option<i64>,
    /// The deepest drawdown of the period (< 0).
    pub depth: f64,
    /// Periods under water.
    pub periods: usize,
}

/// The drawdown periods of `returns` over `times_ms`, deepest first.
pub fn drawdown_periods(times_ms: &[i64], returns: &[f64]) -> Result<Vec<DrawdownPeriod>> {
    common::check_times(times_ms, returns.len(), "returns")?;
    common::check_finite(returns, "returns")?;
    let dd = drawdown(returns);
    let mut out = Vec::new();
    let mut cur: Option<DrawdownPeriod> = None;
    for (i, &d) in dd.iter().enumerate() {
        match (&mut cur, d < 0.0) {
            (None, true) => {
                cur = Some(DrawdownPeriod {
                    start_ms: times_ms[i],
                    valley_ms: times_ms[i],
                    end_ms: None,
                    depth: d,
                    periods: 1,
                })
            }
            (Some(p), true) => {
                p.periods += 1;
                if d < p.depth {
                    p.depth = d;
                    p.valley_ms = times_ms[i];
                }
            }
            (Some(p), false) => {
                p.end_ms = Some(times_ms[i]);
                out.push(*p);
                cur = None;
            }
            (None, false) => {}
        }
    }
    out.extend(cur);
    out.sort_by(|a, b| a.depth.total_cmp(&b.depth));
    Ok(out)
}

/// Checks the series against the open times: at least one series, at most six, each non-empty,
/// as long as the times and finite; the times non-decreasing.
pub fn validate(times_ms: &[i64], series: &[ReturnSeries]) -> Result<()> {
    if series.is_empty() {
        return Err(bad("no return series to plot"));
    }
    if series.len() > PALETTE.len() {
        return Err(bad(format!("{} return series; at most {} fit one plot", series.len(), PALETTE.len())));
    }
    for s in series {
        let name = format!("return series {:?}", s.name);
        if s.returns.is_empty() {
            return Err(bad(format!("{name} has no returns")));
        }
        common::check_times(times_ms, s.returns.len(), &name)?;
        common::check_finite(&s.returns, &name)?;
    }
    Ok(())
}

fn x_range(times_ms: &[i64]) -> (f64, f64) {
    let (lo, hi) = (times_ms[0] as f64, times_ms[times_ms.len() - 1] as f64);
    if hi > lo { (lo, hi) } else { (lo - vane_core::DAY_MS as f64, hi + vane_core::DAY_MS as f64) }
}

fn points(times_ms: &[i64], values: &[f64]) -> Vec<(f64, f64)> {
    let pts: Vec<(f64, f64)> = times_ms.iter().zip(values).map(|(&t, &v)| (t as f64, 100.0 * v)).collect();
    common::thin(&pts, MAX_POINTS)
}

/// Draws the drawdown panel on `area`: filled under water curves, percent axis; `caption` on top
/// when given, a legend naming the worst drawdown when `legend`.
fn draw_underwater<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    times_ms: &[i64],
    series: &[ReturnSeries],
    caption: Option<&str>,
    legend: bool,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let dds: Vec<Vec<f64>> = series.iter().map(|s| drawdown(&s.returns)).collect();
    let worst = dds.iter().flatten().fold(0.0f64, |a, &b| a.min(b));
    // Room below the deepest drawdown for the legend in the lower left.
    let y_lo =
        if worst < 0.0 { 100.0 * worst * if legend { 1.1 + 0.12 * series.len() as f64 } else { 1.08 } } else { -1.0 };
    let (x_lo, x_hi) = x_range(times_ms);
    let span = x_hi - x_lo;
    let mut b = ChartBuilder::on(area);
    if let Some(c) = caption {
        b.caption(c, (common_font(), 24));
    }
    let mut chart = b
        .margin(16)
        .margin_top(if caption.is_some() { 16 } else { 4 })
        // Room on the right for the last date label, centred on its tick.
        .margin_right(44)
        .x_label_area_size(44)
        .y_label_area_size(80)
        .build_cartesian_2d(x_lo..x_hi, y_lo..0.0)?;
    let y_span = -y_lo;
    chart
        .configure_mesh()
        .y_desc("drawdown")
        .x_labels(8)
        .y_labels(5)
        .x_label_formatter(&|x| common::time_label(*x, span))
        .y_label_formatter(&|y| common::pct_label(*y, y_span))
        .label_style((common_font(), 15))
        .axis_desc_style((common_font(), 17))
        .max_light_lines(1)
        .light_line_style(LIGHT)
        .bold_line_style(BOLD)
        .draw()?;
    for (i, (s, dd)) in series.iter().zip(&dds).enumerate() {
        let color = PALETTE[i];
        let pts = points(times_ms, dd);
        let mut poly = Vec::with_capacity(pts.len() + 2);
        poly.push((pts[0].0, 0.0));
        poly.extend(pts.iter().copied());
        poly.push((pts[pts.len() - 1].0, 0.0));
        if i == 0 {
            chart.draw_series(std::iter::once(Polygon::new(poly, color.mix(0.22).filled())))?;
        }
        let style = ShapeStyle::from(&color).stroke_width(width(pts.len(), 2));
        let max_dd = dd.iter().fold(0.0f64, |a, &b| a.min(b));
        if pts.len() == 1 {
            chart.draw_series(std::iter::once(Circle::new(pts[0], 5, color.filled())))?;
        }
        let drawn = chart.draw_series(LineSeries::new(pts, style))?;
        if legend {
            drawn
                .label(format!("{} (max {:.1}%)", s.name, 100.0 * max_dd))
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 24, y + 6)], color.mix(0.6).filled()));
        }
    }
    if legend {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .label_font((common_font(), 15))
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(160, 160, 160))
            .draw()?;
    }
    Ok(())
}

/// The stroke width of a line of `n` points: 1 pixel for dense lines (plotters' wide lines have
/// mitred joins that spike at the sharp turns of a noisy series), `wide` otherwise.
pub(crate) fn width(n: usize, wide: u32) -> u32 {
    if n > 250 { 1 } else { wide }
}

fn common_font() -> &'static str {
    crate::font::FAMILY
}

fn draw_equity<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    times_ms: &[i64],
    series: &[ReturnSeries],
    title: &str,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(SIZE.1 * 64 / 100);
    let curves: Vec<Vec<f64>> =
        series.iter().map(|s| equity_curve(&s.returns).into_iter().map(|e| e - 1.0).collect()).collect();
    let (lo, hi) = curves.iter().flatten().fold((0.0f64, 0.0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let (y_lo, y_hi) = common::padded(100.0 * lo, 100.0 * hi, 0.05, 0.2);
    let (x_lo, x_hi) = x_range(times_ms);
    let title = if title.is_empty() { "Cumulative return" } else { title };
    let mut chart = ChartBuilder::on(&top)
        .caption(title, (common_font(), 24))
        .margin(16)
        .margin_right(44)
        .margin_bottom(0)
        .x_label_area_size(8)
        .y_label_area_size(80)
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
    let y_span = y_hi - y_lo;
    chart
        .configure_mesh()
        .y_desc("cumulative return")
        .x_labels(8)
        .y_labels(6)
        .x_label_formatter(&|_| String::new())
        .y_label_formatter(&|y| common::pct_label(*y, y_span))
        .label_style((common_font(), 15))
        .axis_desc_style((common_font(), 17))
        .max_light_lines(1)
        .light_line_style(LIGHT)
        .bold_line_style(BOLD)
        .draw()?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(x_lo, 0.0), (x_hi, 0.0)],
        ShapeStyle::from(&RGBColor(110, 110, 110)).stroke_width(1),
    )))?;
    for (i, (s, c)) in series.iter().zip(&curves).enumerate() {
        let pts = points(times_ms, c);
        let style = ShapeStyle::from(&PALETTE[i]).stroke_width(width(pts.len(), if i == 0 { 3 } else { 2 }));
        let total = c.last().copied().unwrap_or(0.0);
        let legend = ShapeStyle::from(&PALETTE[i]).stroke_width(3);
        if pts.len() == 1 {
            chart.draw_series(std::iter::once(Circle::new(pts[0], 6, PALETTE[i].filled())))?;
        }
        chart
            .draw_series(LineSeries::new(pts, style))?
            .label(format!("{} ({:+.1}%)", s.name, 100.0 * total))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], legend));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((common_font(), 15))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(160, 160, 160))
        .draw()?;
    draw_underwater(&bottom, times_ms, series, None, false)?;
    root.present()
}

fn draw_underwater_alone<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    times_ms: &[i64],
    series: &[ReturnSeries],
    title: &str,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let title = if title.is_empty() { "Underwater (drawdown)" } else { title };
    draw_underwater(root, times_ms, series, Some(title), true)?;
    root.present()
}

/// Draws the equity plot (cumulative return, drawdown panel below) as a PNG of [`SIZE`] at
/// `path`; `times_ms` are the open times shared by every series (the first series is drawn
/// thickest: put the strategy first).
pub fn equity_png(path: &Path, times_ms: &[i64], series: &[ReturnSeries], title: &str) -> Result<()> {
    validate(times_ms, series)?;
    common::png(path, SIZE, |root| draw_equity(root, times_ms, series, title))
}

/// The equity plot as an SVG document of [`SIZE`] pixels (see [`equity_png`]).
pub fn equity_svg_string(times_ms: &[i64], series: &[ReturnSeries], title: &str) -> Result<String> {
    validate(times_ms, series)?;
    common::svg_string(SIZE, |root| draw_equity(root, times_ms, series, title))
}

/// Draws the equity plot as an SVG of [`SIZE`] pixels at `path` (see [`equity_png`]).
pub fn equity_svg(path: &Path, times_ms: &[i64], series: &[ReturnSeries], title: &str) -> Result<()> {
    common::write(path, &equity_svg_string(times_ms, series, title)?)
}

/// Draws the underwater (drawdown) plot as a PNG of [`UNDERWATER_SIZE`] at `path`; the legend
/// gives each series' maximum drawdown.
pub fn underwater_png(path: &Path, times_ms: &[i64], series: &[ReturnSeries], title: &str) -> Result<()> {
    validate(times_ms, series)?;
    common::png(path, UNDERWATER_SIZE, |root| draw_underwater_alone(root, times_ms, series, title))
}

/// The underwater plot as an SVG document of [`UNDERWATER_SIZE`] pixels.
pub fn underwater_svg_string(times_ms: &[i64], series: &[ReturnSeries], title: &str) -> Result<String> {
    validate(times_ms, series)?;
    common::svg_string(UNDERWATER_SIZE, |root| draw_underwater_alone(root, times_ms, series, title))
}

/// Draws the underwater plot as an SVG of [`UNDERWATER_SIZE`] pixels at `path`.
pub fn underwater_svg(path: &Path, times_ms: &[i64], series: &[ReturnSeries], title: &str) -> Result<()> {
    common::write(path, &underwater_svg_string(times_ms, series, title)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equity_and_drawdown_by_hand() {
        let r = [0.10, -0.20, 0.05, 0.25];
        let e = equity_curve(&r);
        let want = [1.1, 0.88, 0.924, 1.155];
        for (a, b) in e.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
        let dd = drawdown(&r);
        let want = [0.0, 0.88 / 1.1 - 1.0, 0.924 / 1.1 - 1.0, 0.0];
        for (a, b) in dd.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
        // A first losing period is a drawdown from the starting capital.
        assert!((drawdown(&[-0.1])[0] + 0.1).abs() < 1e-12);
    }

    #[test]
    fn drawdown_periods_by_hand() {
        let t = [0, 1, 2, 3, 4, 5, 6];
        let r = [0.1, -0.1, 0.2, -0.5, 0.1, 0.0, 0.0];
        let p = drawdown_periods(&t, &r).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].start_ms, p[0].valley_ms, p[0].end_ms, p[0].periods), (3, 3, None, 4));
        assert!((p[0].depth + 0.5).abs() < 1e-12);
        assert_eq!((p[1].start_ms, p[1].valley_ms, p[1].end_ms, p[1].periods), (1, 1, Some(2), 1));
        assert!((p[1].depth + 0.1).abs() < 1e-12);
    }

    #[test]
    fn bad_input_is_named() {
        let s = |r: Vec<f64>| vec![ReturnSeries::new("oos", r)];
        assert!(validate(&[0, 1], &[]).unwrap_err().to_string().contains("no return series"));
        let e = validate(&[0, 1], &s(vec![0.1])).unwrap_err().to_string();
        assert!(e.contains("\"oos\" has 1 returns but there are 2 open times"), "{e}");
        let e = validate(&[0, 1], &s(vec![0.1, f64::NAN])).unwrap_err().to_string();
        assert!(e.contains("value 1 is NaN"), "{e}");
        let e = validate(&[2, 1], &s(vec![0.1, 0.2])).unwrap_err().to_string();
        assert!(e.contains("must not decrease"), "{e}");
        assert!(validate(&[], &s(vec![])).unwrap_err().to_string().contains("has no returns"));
    }
}
