//! Helpers shared by the plots: rendering into PNG/SVG, input checks, time labels, thinning of
//! long series and the colour palette.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{PngError, ReportError, Result};
use crate::font::register;
use crate::text::Glyphs;

/// Line colours of the series, in order (matplotlib's tab10).
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
];

/// Light grey of the light mesh lines.
pub(crate) const LIGHT: RGBColor = RGBColor(240, 240, 240);
/// Grey of the bold mesh lines.
pub(crate) const BOLD: RGBColor = RGBColor(225, 225, 225);

/// Draws `draw` into a PNG of `size` pixels at `path` (text set by [`Glyphs`]).
pub(crate) fn png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<Glyphs<BitMapBackend<'_>>, Shift>) -> std::result::Result<(), PngError>,
) -> Result<()> {
    register()?;
    let root = Glyphs(BitMapBackend::new(path, size)).into_drawing_area();
    draw(&root).map_err(|source: PngError| ReportError::Png { path: path.to_path_buf(), source })
}

/// Draws `draw` into an SVG document of `size` pixels.
pub(crate) fn svg_string(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> std::result::Result<(), DrawingAreaErrorKind<std::io::Error>>,
) -> Result<String> {
    register()?;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        draw(&root)?;
    }
    Ok(text)
}

/// Writes an SVG document to `path`.
pub(crate) fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|source| ReportError::Io { path: path.to_path_buf(), source })
}

/// An error about the series `what`.
pub(crate) fn bad(what: impl Into<String>) -> ReportError {
    ReportError::Series(what.into())
}

/// Open times must be as many as `n` and non-decreasing.
pub(crate) fn check_times(times_ms: &[i64], n: usize, series: &str) -> Result<()> {
    if times_ms.len() != n {
        return Err(bad(format!("{series} has {n} returns but there are {} open times", times_ms.len())));
    }
    if let Some(i) = times_ms.windows(2).position(|w| w[1] < w[0]) {
        return Err(bad(format!(
            "open times must not decrease: time {} ({} ms) comes after {} ms",
            i + 1,
            times_ms[i + 1],
            times_ms[i]
        )));
    }
    Ok(())
}

/// Every value must be finite.
pub(crate) fn check_finite(values: &[f64], series: &str) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => {
            Err(bad(format!("{series}: value {i} is {}; returns must be finite (write a flat period as 0)", values[i])))
        }
        None => Ok(()),
    }
}

/// `YYYY-MM-DD` of `ms` (UTC), or `MM-DD HH:MM` when the axis spans less than three days.
pub(crate) fn time_label(ms: f64, span_ms: f64) -> String {
    let (y, m, d, h, min, _, _) = vane_core::Timestamp(ms.round() as i64).to_parts();
    if span_ms < 3.0 * vane_core::DAY_MS as f64 {
        format!("{m:02}-{d:02} {h:02}:{min:02}")
    } else {
        format!("{y}-{m:02}-{d:02}")
    }
}

/// At most about `max` points of `pts` (sorted by x) for drawing: each of `max / 2` buckets keeps
/// its lowest and highest point in x order, so peaks and troughs survive; the first and last
/// points are always kept.
pub(crate) fn thin(pts: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    let buckets = (max / 2).max(1);
    if pts.len() <= max.max(2) {
        return pts.to_vec();
    }
    let mut out = Vec::with_capacity(2 * buckets + 2);
    out.push(pts[0]);
    let per = pts.len().div_ceil(buckets);
    for chunk in pts[1..pts.len() - 1].chunks(per) {
        let lo = chunk.iter().enumerate().min_by(|a, b| a.1.1.total_cmp(&b.1.1)).map(|(i, _)| i).unwrap_or(0);
        let hi = chunk.iter().enumerate().max_by(|a, b| a.1.1.total_cmp(&b.1.1)).map(|(i, _)| i).unwrap_or(0);
        let (a, b) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        out.push(chunk[a]);
        if b != a {
            out.push(chunk[b]);
        }
    }
    out.push(pts[pts.len() - 1]);
    out
}

/// `lo..hi` padded by `pad` of the span on both sides (a unit span around a constant).
pub(crate) fn padded(lo: f64, hi: f64, pad_lo: f64, pad_hi: f64) -> (f64, f64) {
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let span = if hi > lo { hi - lo } else { lo.abs().max(1e-3) };
    (lo - pad_lo * span, hi + pad_hi * span)
}

/// A percentage tick label with as many decimals as the axis span needs.
pub(crate) fn pct_label(v: f64, span: f64) -> String {
    let v = if v.abs() < 1e-12 { 0.0 } else { v };
    if span >= 20.0 {
        format!("{v:.0}%")
    } else if span >= 2.0 {
        format!("{v:.1}%")
    } else {
        format!("{v:.2}%")
    }
}

/// Width in pixels of `text` set in the vendored font at `size` (an estimate when the font is
/// not registered).
pub(crate) fn text_width(text: &str, size: f64) -> u32 {
    (crate::font::FAMILY, size)
        .into_font()
        .box_size(text)
        .map_or(text.chars().count() as u32 * size as u32 / 2, |b| b.0)
}

/// Number of finite values.
pub(crate) fn finite_count(values: &[f64]) -> usize {
    values.iter().filter(|v| v.is_finite()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thin_keeps_the_extremes_and_ends() {
        let pts: Vec<(f64, f64)> = (0..10_000).map(|i| (i as f64, ((i * 7919) % 1000) as f64)).collect();
        let t = thin(&pts, 400);
        assert!(t.len() <= 404, "{}", t.len());
        assert_eq!(t[0], pts[0]);
        assert_eq!(*t.last().unwrap(), pts[9999]);
        assert!(t.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(t.iter().map(|p| p.1).fold(f64::MIN, f64::max), 999.0);
        assert_eq!(t.iter().map(|p| p.1).fold(f64::MAX, f64::min), 0.0);
        assert_eq!(thin(&pts[..5], 400), pts[..5].to_vec());
    }

    #[test]
    fn time_labels() {
        assert_eq!(time_label(1_672_531_200_000.0, 1e10), "2023-01-01");
        assert_eq!(time_label(1_672_531_200_000.0 + 3_600_000.0 * 5.0, 1e6), "01-01 05:00");
    }
}
