//! The distribution of returns (a histogram with a fitted normal curve and the mean marked) and
//! the rolling Sharpe ratio over time.
//!
//! Bins ([`Bins`]): `FreedmanDiaconis` uses the width `2·IQR·n^(−1/3)` over the finite values
//! (quartiles by linear interpolation, numpy's default), falling back to Sturges' `⌈log₂ n⌉ + 1`
//! bins when the IQR is 0, and is capped at 200 bins; `Count(k)` uses `k` equal bins. The bins
//! span the smallest to the largest value, the last one closed on both sides.
//!
//! The rolling Sharpe ratio follows vane-backtest's metrics: over each trailing window of `w`
//! periods, `mean(r)/std(r, ddof 1)·√P` with `P` periods per year and no risk-free rate;
//! undefined (NaN) for the first `w − 1` periods, when the window holds a non-finite return, and
//! when its returns are all equal (a zero standard deviation, not its rounding noise).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::common::{self, BOLD, LIGHT, PALETTE, bad};
use crate::equity::{ReturnSeries, width};
use crate::error::Result;
use crate::font::FAMILY;

/// Width and height of the histogram in pixels.
pub const HISTOGRAM_SIZE: (u32, u32) = (900, 460);
/// Width and height of the rolling Sharpe plot in pixels.
pub const ROLLING_SIZE: (u32, u32) = (900, 420);

const BARS: RGBColor = RGBColor(31, 119, 180);
const NORMAL: RGBColor = RGBColor(255, 127, 14);
const MEAN: RGBColor = RGBColor(214, 39, 40);

/// How a histogram's bins are chosen (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Bins {
    /// Freedman–Diaconis width (Sturges when the IQR is 0), at most 200 bins.
    #[default]
    FreedmanDiaconis,
    /// This many equal bins (at least 1).
    Count(usize),
}

/// Counts of values in equal bins.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// `counts.len() + 1` increasing bin edges.
    pub edges: Vec<f64>,
    /// Values per bin.
    pub counts: Vec<usize>,
    /// Non-finite values left out.
    pub skipped: usize,
}

/// Quantile `q` of sorted `v` by linear interpolation.
fn quantile(v: &[f64], q: f64) -> f64 {
    let pos = q * (v.len() - 1) as f64;
    let (i, f) = (pos.floor() as usize, pos - pos.floor());
    if i + 1 < v.len() { v[i] + f * (v[i + 1] - v[i]) } else { v[i] }
}

/// The histogram of the finite `values` (non-finite ones are counted in `skipped`).
pub fn histogram(values: &[f64], bins: Bins) -> Result<Histogram> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    let skipped = values.len() - v.len();
    if v.is_empty() {
        return Err(bad(format!("histogram: no finite values among {}", values.len())));
    }
    v.sort_by(f64::total_cmp);
    let (lo, hi) = (v[0], v[v.len() - 1]);
    let n = v.len() as f64;
    let sturges = n.log2().ceil() as usize + 1;
    let k = match bins {
        Bins::Count(0) => return Err(bad("histogram: Bins::Count(0); use at least one bin")),
        Bins::Count(k) => k,
        Bins::FreedmanDiaconis => {
            let h = 2.0 * (quantile(&v, 0.75) - quantile(&v, 0.25)) / n.cbrt();
            if h > 0.0 { (((hi - lo) / h).ceil() as usize).clamp(1, 200) } else { sturges.min(200) }
        }
    };
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - lo.abs().max(1e-6) * 0.01, hi + hi.abs().max(1e-6) * 0.01) };
    let step = (hi - lo) / k as f64;
    let edges: Vec<f64> = (0..=k).map(|i| if i == k { hi } else { lo + step * i as f64 }).collect();
    let mut counts = vec![0usize; k];
    for x in v {
        counts[(((x - lo) / step) as usize).min(k - 1)] += 1;
    }
    Ok(Histogram { edges, counts, skipped })
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    if v.len() < 2 || v.windows(2).all(|w| w[0] == w[1]) {
        return (m, if v.len() < 2 { f64::NAN } else { 0.0 });
    }
    (m, (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt())
}

/// The Sharpe ratio of each trailing window of `window` periods (see the module doc); one value
/// per return. `window` must be at least 2 and `periods_per_year` positive.
pub fn rolling_sharpe(returns: &[f64], window: usize, periods_per_year: f64) -> Result<Vec<f64>> {
    if window < 2 {
        return Err(bad(format!("rolling Sharpe: window {window} must be at least 2 periods")));
    }
    if !(periods_per_year.is_finite() && periods_per_year > 0.0) {
        return Err(bad(format!("rolling Sharpe: periods per year {periods_per_year} must be a positive number")));
    }
    let root = periods_per_year.sqrt();
    Ok((0..returns.len())
        .map(|i| {
            if i + 1 < window {
                return f64::NAN;
            }
            let w = &returns[i + 1 - window..=i];
            if w.iter().any(|x| !x.is_finite()) {
                return f64::NAN;
            }
            let (m, sd) = mean_std(w);
            let s = m / sd * root;
            if s.is_finite() { s } else { f64::NAN }
        })
        .collect())
}

fn draw_histogram<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    returns: &[f64],
    h: &Histogram,
    title: &str,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let finite: Vec<f64> = returns.iter().copied().filter(|x| x.is_finite()).collect();
    let (m, sd) = mean_std(&finite);
    let title = if title.is_empty() { "Distribution of returns" } else { title };
    let mut caption = format!("{title} (n = {}", finite.len());
    if h.skipped > 0 {
        caption.push_str(&format!(", {} non-finite left out", h.skipped));
    }
    caption.push(')');
    let (x_lo, x_hi) = (100.0 * h.edges[0], 100.0 * h.edges[h.edges.len() - 1]);
    let (x_lo, x_hi) = common::padded(x_lo, x_hi, 0.03, 0.03);
    let width_pct = 100.0 * (h.edges[1] - h.edges[0]);
    let normal = |x: f64| {
        let z = (x / 100.0 - m) / sd;
        finite.len() as f64 * width_pct / 100.0 / (sd * (2.0 * std::f64::consts::PI).sqrt()) * (-0.5 * z * z).exp()
    };
    let max_count = h.counts.iter().copied().max().unwrap_or(1) as f64;
    let peak = if sd > 0.0 { max_count.max(normal(100.0 * m)) } else { max_count };
    let mut chart = ChartBuilder::on(root)
        .caption(caption, (FAMILY, 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(x_lo..x_hi, 0.0..peak * 1.25)?;
    let span = x_hi - x_lo;
    chart
        .configure_mesh()
        .x_desc("return per period")
        .y_desc("periods")
        .x_labels(10)
        .y_labels(6)
        .x_label_formatter(&|x| common::pct_label(*x, span))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style((FAMILY, 15))
        .axis_desc_style((FAMILY, 17))
        .max_light_lines(1)
        .light_line_style(LIGHT)
        .bold_line_style(BOLD)
        .draw()?;
    chart
        .draw_series(h.counts.iter().enumerate().map(|(i, &c)| {
            Rectangle::new([(100.0 * h.edges[i], 0.0), (100.0 * h.edges[i + 1], c as f64)], BARS.mix(0.85).filled())
        }))?
        .label(format!("periods per bin ({} bins)", h.counts.len()))
        .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], BARS.mix(0.85).filled()));
    if sd > 0.0 {
        let curve: Vec<(f64, f64)> =
            (0..=200).map(|i| x_lo + span * i as f64 / 200.0).map(|x| (x, normal(x))).collect();
        let style = ShapeStyle::from(&NORMAL).stroke_width(2);
        chart
            .draw_series(LineSeries::new(curve, style))?
            .label(format!("normal fit (sd {:.2}%)", 100.0 * sd))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    }
    let mean_style = ShapeStyle::from(&MEAN).stroke_width(2);
    chart
        .draw_series(DashedLineSeries::new(vec![(100.0 * m, 0.0), (100.0 * m, peak * 1.25)], 8, 5, mean_style))?
        .label(format!("mean {:+.3}%", 100.0 * m))
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], mean_style));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FAMILY, 15))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(160, 160, 160))
        .draw()?;
    root.present()
}

/// Draws the histogram of `returns` (per period; non-finite values left out and counted in the
/// title) as a PNG of [`HISTOGRAM_SIZE`] at `path`.
pub fn return_histogram_png(path: &Path, returns: &[f64], bins: Bins, title: &str) -> Result<()> {
    let h = histogram(returns, bins)?;
    common::png(path, HISTOGRAM_SIZE, |root| draw_histogram(root, returns, &h, title))
}

/// The histogram of `returns` as an SVG document of [`HISTOGRAM_SIZE`].
pub fn return_histogram_svg_string(returns: &[f64], bins: Bins, title: &str) -> Result<String> {
    let h = histogram(returns, bins)?;
    common::svg_string(HISTOGRAM_SIZE, |root| draw_histogram(root, returns, &h, title))
}

/// Draws the histogram of `returns` as an SVG of [`HISTOGRAM_SIZE`] at `path`.
pub fn return_histogram_svg(path: &Path, returns: &[f64], bins: Bins, title: &str) -> Result<()> {
    common::write(path, &return_histogram_svg_string(returns, bins, title)?)
}

/// The rolling Sharpe plot's input.
#[derive(Clone, Copy, Debug)]
struct Rolling<'a> {
    times_ms: &'a [i64],
    series: &'a [ReturnSeries],
    window: usize,
    periods_per_year: f64,
}

impl Rolling<'_> {
    fn values(&self) -> Result<Vec<Vec<f64>>> {
        crate::equity::validate(self.times_ms, self.series)?;
        self.series.iter().map(|s| rolling_sharpe(&s.returns, self.window, self.periods_per_year)).collect()
    }
}

fn draw_rolling<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    r: Rolling<'_>,
    values: &[Vec<f64>],
    title: &str,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let t = r.times_ms;
    let mut caption =
        if title.is_empty() { format!("Rolling Sharpe ({} periods)", r.window) } else { title.to_string() };
    let any = values.iter().flatten().any(|v| v.is_finite());
    if !any {
        caption.push_str(&format!(" - undefined: fewer than {} periods or constant returns", r.window));
    }
    let (lo, hi) =
        values.iter().flatten().filter(|v| v.is_finite()).fold((0.0f64, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
    let (y_lo, y_hi) = common::padded(lo, hi, 0.05, 0.25);
    let (x_lo, x_hi) = {
        let (a, b) = (t[0] as f64, t[t.len() - 1] as f64);
        if b > a { (a, b) } else { (a - vane_core::DAY_MS as f64, b + vane_core::DAY_MS as f64) }
    };
    let span = x_hi - x_lo;
    let mut chart = ChartBuilder::on(root)
        .caption(caption, (FAMILY, 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
    chart
        .configure_mesh()
        .y_desc("annualised Sharpe")
        .x_labels(8)
        .y_labels(8)
        .x_label_formatter(&|x| common::time_label(*x, span))
        .y_label_formatter(&|y| format!("{y:.1}"))
        .label_style((FAMILY, 15))
        .axis_desc_style((FAMILY, 17))
        .max_light_lines(1)
        .light_line_style(LIGHT)
        .bold_line_style(BOLD)
        .draw()?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(x_lo, 0.0), (x_hi, 0.0)],
        ShapeStyle::from(&RGBColor(110, 110, 110)).stroke_width(1),
    )))?;
    for (i, (s, v)) in r.series.iter().zip(values).enumerate() {
        let pts: Vec<(f64, f64)> =
            t.iter().zip(v).filter(|(_, v)| v.is_finite()).map(|(&t, &v)| (t as f64, v)).collect();
        let pts = common::thin(&pts, 1200);
        let style = ShapeStyle::from(&PALETTE[i]).stroke_width(width(pts.len(), 2));
        let legend = ShapeStyle::from(&PALETTE[i]).stroke_width(3);
        let drawn = chart.draw_series(LineSeries::new(pts, style))?;
        drawn.label(s.name.clone()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], legend));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FAMILY, 15))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(160, 160, 160))
        .draw()?;
    root.present()
}

/// Draws the rolling Sharpe ratio of each series over `window` periods (annualised with
/// `periods_per_year`) against the open times as a PNG of [`ROLLING_SIZE`] at `path`.
pub fn rolling_sharpe_png(
    path: &Path,
    times_ms: &[i64],
    series: &[ReturnSeries],
    window: usize,
    periods_per_year: f64,
    title: &str,
) -> Result<()> {
    let r = Rolling { times_ms, series, window, periods_per_year };
    let values = r.values()?;
    common::png(path, ROLLING_SIZE, |root| draw_rolling(root, r, &values, title))
}

/// The rolling Sharpe plot as an SVG document of [`ROLLING_SIZE`] (see [`rolling_sharpe_png`]).
pub fn rolling_sharpe_svg_string(
    times_ms: &[i64],
    series: &[ReturnSeries],
    window: usize,
    periods_per_year: f64,
    title: &str,
) -> Result<String> {
    let r = Rolling { times_ms, series, window, periods_per_year };
    let values = r.values()?;
    common::svg_string(ROLLING_SIZE, |root| draw_rolling(root, r, &values, title))
}

/// Draws the rolling Sharpe plot as an SVG of [`ROLLING_SIZE`] at `path`.
pub fn rolling_sharpe_svg(
    path: &Path,
    times_ms: &[i64],
    series: &[ReturnSeries],
    window: usize,
    periods_per_year: f64,
    title: &str,
) -> Result<()> {
    common::write(path, &rolling_sharpe_svg_string(times_ms, series, window, periods_per_year, title)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_sharpe_by_hand() {
        // Window 3 over [0.01, 0.03, −0.01, 0.02, 0.02, 0.02], P = 4:
        // [0.01, 0.03, −0.01]: mean 0.01, sd 0.02 → 0.5·2 = 1.0;
        // [0.03, −0.01, 0.02]: mean 0.04/3, deviations (0.05, −0.07, 0.02)/3 → var = 0.0078/9/2,
        //   sd = √(0.000433…) = 0.0208167; Sharpe = 0.0133333/0.0208167·2 = 1.2810252;
        // [−0.01, 0.02, 0.02]: mean 0.01, deviations (−0.02, 0.01, 0.01) → var 0.0006/2, sd 0.0173205
        //   → 0.57735·2 = 1.1547005; [0.02, 0.02, 0.02]: constant → NaN.
        let r = [0.01, 0.03, -0.01, 0.02, 0.02, 0.02];
        let s = rolling_sharpe(&r, 3, 4.0).unwrap();
        assert!(s[0].is_nan() && s[1].is_nan());
        assert!((s[2] - 1.0).abs() < 1e-9, "{}", s[2]);
        assert!((s[3] - 1.2810252304).abs() < 1e-9, "{}", s[3]);
        assert!((s[4] - 1.1547005384).abs() < 1e-9, "{}", s[4]);
        assert!(s[5].is_nan());
        let with_nan = rolling_sharpe(&[0.01, f64::NAN, 0.02, 0.03, 0.01], 2, 4.0).unwrap();
        assert!(with_nan[1].is_nan() && with_nan[2].is_nan() && with_nan[3].is_finite());
        assert!(rolling_sharpe(&r, 1, 4.0).unwrap_err().to_string().contains("window 1"));
        assert!(rolling_sharpe(&r, 3, 0.0).unwrap_err().to_string().contains("periods per year 0"));
    }

    #[test]
    fn histogram_bins() {
        // Freedman–Diaconis on 1..=8: IQR = 6.25 − 2.75 = 3.5, h = 7/2 = 3.5 → ⌈7/3.5⌉ = 2 bins.
        let v: Vec<f64> = (1..=8).map(f64::from).collect();
        let h = histogram(&v, Bins::FreedmanDiaconis).unwrap();
        assert_eq!(h.edges, vec![1.0, 4.5, 8.0]);
        assert_eq!(h.counts, vec![4, 4]);
        let mut w = v.clone();
        w.push(f64::NAN);
        let h = histogram(&w, Bins::Count(7)).unwrap();
        assert_eq!((h.counts.iter().sum::<usize>(), h.counts[6], h.skipped), (8, 2, 1));
        // Zero IQR: Sturges, ⌈log₂ 5⌉ + 1 = 4 bins.
        assert_eq!(histogram(&[0.0, 0.0, 0.0, 0.0, 1.0], Bins::FreedmanDiaconis).unwrap().counts.len(), 4);
        assert_eq!(histogram(&[0.5], Bins::FreedmanDiaconis).unwrap().counts, vec![1]);
        assert!(histogram(&[f64::NAN], Bins::FreedmanDiaconis).unwrap_err().to_string().contains("no finite values"));
        assert!(histogram(&v, Bins::Count(0)).is_err());
    }
}
