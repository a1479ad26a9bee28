//! Labelled matrix heatmaps with the value printed in each cell and a colour bar: the monthly
//! returns of a strategy (rows years, columns January to December, [`monthly_returns`]), the
//! correlation of metrics across runs ([`pearson_matrix`]) and a classifier's confusion matrix
//! (counts and row shares, [`confusion_heatmap`]).
//!
//! Colours: [`Scale::Diverging`] runs red (negative) → white (0) → green (positive) with
//! `±limit` at the ends (values beyond are clamped); [`Scale::Sequential`] runs white (0) →
//! blue (`max`). A non-finite value is an empty grey cell. The plot is sized by the matrix:
//! [`Heatmap::size`].

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::common::{self, bad, text_width};
use crate::error::Result;
use crate::font::{FAMILY, register};

/// How cell values map to colours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    /// Red → white → green, centred on 0, `±limit` at the ends (None: the largest |value|).
    Diverging {
        /// The value drawn fully saturated.
        limit: Option<f64>,
    },
    /// White → blue from 0 to `max` (None: the largest value).
    Sequential {
        /// The value drawn fully saturated.
        max: Option<f64>,
    },
}

/// How a value is printed in its cell (when no text is given).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CellFormat {
    /// `0.0123` → `1.2%` with this many decimals.
    Percent(usize),
    /// `0.1234` → `0.12` with this many decimals.
    Fixed(usize),
}

impl CellFormat {
    /// The text of `v` (empty for a non-finite value).
    pub fn format(self, v: f64) -> String {
        match (v.is_finite(), self) {
            (false, _) => String::new(),
            (true, CellFormat::Percent(d)) => format!("{:.*}%", d, 100.0 * v),
            (true, CellFormat::Fixed(d)) => format!("{v:.d$}"),
        }
    }
}

/// A labelled matrix to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Heatmap {
    /// Plot title.
    pub title: String,
    /// One label per row, top to bottom.
    pub row_labels: Vec<String>,
    /// One label per column, left to right.
    pub col_labels: Vec<String>,
    /// The title of the rows (drawn up the left side; empty for none).
    pub row_axis: String,
    /// The title of the columns (drawn above them; empty for none).
    pub col_axis: String,
    /// `values[row][col]`; non-finite values are empty cells.
    pub values: Vec<Vec<f64>>,
    /// Cell texts (`text[row][col]`, lines split at `\n`), or empty to print the values.
    pub text: Vec<Vec<String>>,
    /// How values are printed when `text` is empty, and on the colour bar.
    pub format: CellFormat,
    /// The colour scale.
    pub scale: Scale,
}

const WIDTH_MAX: u32 = 900;
const WIDTH_MIN: u32 = 520;
const TITLE_H: u32 = 54;
const BAR_W: u32 = 96;
const LABEL_FONT: f64 = 15.0;

const NEG: (f64, f64, f64) = (215.0, 48.0, 39.0);
const POS: (f64, f64, f64) = (26.0, 152.0, 80.0);
const SEQ: (f64, f64, f64) = (8.0, 81.0, 156.0);
const EMPTY: RGBColor = RGBColor(235, 235, 235);

/// The pixel layout of a heatmap.
struct Layout {
    size: (u32, u32),
    left: u32,
    top: u32,
    cell: (u32, u32),
    /// Column labels as drawn (numbers when the names do not fit).
    cols: Vec<String>,
    /// Row labels as drawn (numbered when the columns are).
    rows: Vec<String>,
}

impl Heatmap {
    /// Checks: at least one row and column, one label per row and column, `values` (and `text`
    /// when given) of rows × columns, a positive finite scale end when one is given.
    pub fn validate(&self) -> Result<()> {
        let (r, c) = (self.row_labels.len(), self.col_labels.len());
        if r == 0 || c == 0 {
            return Err(bad(format!(
                "heatmap {:?} has {r} rows and {c} columns; it needs at least one of each",
                self.title
            )));
        }
        let shape = |name: &str, rows: Vec<usize>| -> Result<()> {
            if rows.len() != r {
                return Err(bad(format!(
                    "heatmap {:?}: {name} has {} rows but there are {r} row labels",
                    self.title,
                    rows.len()
                )));
            }
            match rows.iter().position(|&n| n != c) {
                Some(i) => Err(bad(format!(
                    "heatmap {:?}: {name} row {i} has {} cells but there are {c} column labels",
                    self.title, rows[i]
                ))),
                None => Ok(()),
            }
        };
        shape("values", self.values.iter().map(Vec::len).collect())?;
        if !self.text.is_empty() {
            shape("text", self.text.iter().map(Vec::len).collect())?;
        }
        let end = match self.scale {
            Scale::Diverging { limit } => limit,
            Scale::Sequential { max } => max,
        };
        if let Some(e) = end
            && !(e.is_finite() && e > 0.0)
        {
            return Err(bad(format!("heatmap {:?}: the colour scale end {e} must be a positive number", self.title)));
        }
        Ok(())
    }

    /// The scale's ends `(lo, hi)`.
    fn range(&self) -> (f64, f64) {
        let finite = || self.values.iter().flatten().copied().filter(|v| v.is_finite());
        match self.scale {
            Scale::Diverging { limit } => {
                let l = limit.unwrap_or_else(|| finite().fold(0.0f64, |a, v| a.max(v.abs())));
                let l = if l > 0.0 { l } else { 1.0 };
                (-l, l)
            }
            Scale::Sequential { max } => {
                let m = max.unwrap_or_else(|| finite().fold(0.0f64, f64::max));
                (0.0, if m > 0.0 { m } else { 1.0 })
            }
        }
    }

    /// The colour of `v`.
    fn color(&self, v: f64) -> RGBColor {
        if !v.is_finite() {
            return EMPTY;
        }
        let (lo, hi) = self.range();
        let mix = |c: (f64, f64, f64), t: f64| {
            let t = t.clamp(0.0, 1.0);
            let ch = |x: f64| (255.0 + (x - 255.0) * t).round() as u8;
            RGBColor(ch(c.0), ch(c.1), ch(c.2))
        };
        match self.scale {
            Scale::Diverging { .. } if v < 0.0 => mix(NEG, v / lo),
            Scale::Diverging { .. } => mix(POS, v / hi),
            Scale::Sequential { .. } => mix(SEQ, v / hi),
        }
    }

    fn cell_text(&self, r: usize, c: usize) -> String {
        if self.text.is_empty() { self.format.format(self.values[r][c]) } else { self.text[r][c].clone() }
    }

    fn layout(&self) -> Layout {
        // Text is measured with the vendored font (an estimate if it failed to register, which
        // drawing then reports).
        let _ = register();
        let (nr, nc) = (self.row_labels.len(), self.col_labels.len());
        let widest = |labels: &[String]| labels.iter().map(|l| text_width(l, LABEL_FONT)).max().unwrap_or(0);
        let axis_w = if self.row_axis.is_empty() { 0 } else { 30 };
        let right = BAR_W + 16;
        let mut rows = self.row_labels.clone();
        let mut left = widest(&rows) + 20 + axis_w;
        let mut cell_w = ((WIDTH_MAX - left - right) / nc as u32).min(130);
        let mut cols = self.col_labels.clone();
        if widest(&cols) + 6 > cell_w {
            // Number the columns; number the rows too when they are the same names.
            if self.row_labels == self.col_labels {
                rows = rows.iter().enumerate().map(|(i, l)| format!("{} {l}", i + 1)).collect();
                left = widest(&rows) + 20 + axis_w;
                cell_w = ((WIDTH_MAX - left - right) / nc as u32).min(130);
            }
            cols = (1..=nc).map(|i| i.to_string()).collect();
        }
        let cell_h = (cell_w * 4 / 5).clamp(30, 64);
        let top = TITLE_H + 28 + if self.col_axis.is_empty() { 0 } else { 24 };
        let width = (left + nc as u32 * cell_w + right).clamp(WIDTH_MIN, WIDTH_MAX);
        let height = (top + nr as u32 * cell_h + 24).max(220);
        Layout { size: (width, height), left, top, cell: (cell_w.max(1), cell_h), cols, rows }
    }

    /// Width and height of the plot in pixels: 520 to 900 wide, cells up to 130 pixels wide and
    /// 30 to 64 high.
    pub fn size(&self) -> (u32, u32) {
        self.layout().size
    }
}

fn anchored(size: f64, color: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle { font: (FAMILY, size).into_font(), color: color.to_backend_color(), pos: Pos::new(h, v) }
}

/// `text` shortened with `…` to fit `width` pixels at `size`.
fn fit(text: &str, size: f64, width: u32) -> String {
    if text_width(text, size) <= width {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    (1..chars.len())
        .rev()
        .map(|n| format!("{}…", chars[..n].iter().collect::<String>()))
        .find(|t| text_width(t, size) <= width)
        .unwrap_or_default()
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    h: &Heatmap,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let lay = h.layout();
    let (w, ht) = lay.size;
    let (cw, ch) = (lay.cell.0 as i32, lay.cell.1 as i32);
    let (left, top) = (lay.left as i32, lay.top as i32);
    let (nr, nc) = (h.row_labels.len() as i32, h.col_labels.len() as i32);
    let black = RGBColor(20, 20, 20);
    let title = fit(if h.title.is_empty() { "Heatmap" } else { &h.title }, 24.0, w - 24);
    root.draw(&Text::new(title, (w as i32 / 2, 16), anchored(24.0, black, HPos::Center, VPos::Top)))?;
    if !h.col_axis.is_empty() {
        let x = left + nc * cw / 2;
        root.draw(&Text::new(h.col_axis.clone(), (x, TITLE_H as i32), anchored(16.0, black, HPos::Center, VPos::Top)))?;
    }
    if !h.row_axis.is_empty() {
        let style = anchored(16.0, black, HPos::Center, VPos::Center).transform(FontTransform::Rotate270);
        root.draw(&Text::new(h.row_axis.clone(), (14, top + nr * ch / 2), style))?;
    }
    for (c, label) in lay.cols.iter().enumerate() {
        let x = left + c as i32 * cw + cw / 2;
        let label = fit(label, LABEL_FONT, lay.cell.0.saturating_sub(4));
        root.draw(&Text::new(label, (x, top - 6), anchored(LABEL_FONT, black, HPos::Center, VPos::Bottom)))?;
    }
    for (r, label) in lay.rows.iter().enumerate() {
        let y = top + r as i32 * ch + ch / 2;
        root.draw(&Text::new(label.clone(), (left - 8, y), anchored(LABEL_FONT, black, HPos::Right, VPos::Center)))?;
    }
    // The cells and their text, sized down to fit the cell (or left out when nothing fits).
    for r in 0..nr as usize {
        for c in 0..nc as usize {
            let v = h.values[r][c];
            let color = h.color(v);
            let (x0, y0) = (left + c as i32 * cw, top + r as i32 * ch);
            root.draw(&Rectangle::new([(x0, y0), (x0 + cw, y0 + ch)], color.filled()))?;
            root.draw(&Rectangle::new([(x0, y0), (x0 + cw, y0 + ch)], WHITE.stroke_width(1)))?;
            let text = h.cell_text(r, c);
            let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
            if lines.is_empty() {
                continue;
            }
            let widest = |s: f64| lines.iter().map(|l| text_width(l, s)).max().unwrap_or(0);
            let fits = |s: &f64| widest(*s) + 4 <= lay.cell.0 && (s * 1.15 * lines.len() as f64) as i32 <= ch - 2;
            let Some(size) = [15.0, 13.0, 11.0, 9.0].into_iter().find(fits) else { continue };
            let lum = 0.299 * color.0 as f64 + 0.587 * color.1 as f64 + 0.114 * color.2 as f64;
            let ink = if lum < 140.0 { WHITE } else { black };
            let line_h = (size * 1.15) as i32;
            let y_first = y0 + ch / 2 - line_h * (lines.len() as i32 - 1) / 2;
            for (k, line) in lines.iter().enumerate() {
                let pos = (x0 + cw / 2, y_first + k as i32 * line_h);
                root.draw(&Text::new(line.to_string(), pos, anchored(size, ink, HPos::Center, VPos::Center)))?;
            }
        }
    }
    // The colour bar.
    let (lo, hi) = h.range();
    let bx = left + nc * cw + 24;
    let (by0, by1) = (top, (top + nr * ch).max(top + 120).min(ht as i32 - 8));
    let steps = 48;
    for k in 0..steps {
        let t = 1.0 - (k as f64 + 0.5) / steps as f64;
        let ya = by0 + (by1 - by0) * k / steps;
        let yb = by0 + (by1 - by0) * (k + 1) / steps;
        root.draw(&Rectangle::new([(bx, ya), (bx + 16, yb)], h.color(lo + t * (hi - lo)).filled()))?;
    }
    root.draw(&Rectangle::new([(bx, by0), (bx + 16, by1)], RGBColor(160, 160, 160).stroke_width(1)))?;
    for (v, y) in [(hi, by0), ((lo + hi) / 2.0, (by0 + by1) / 2), (lo, by1)] {
        root.draw(&Text::new(h.format.format(v), (bx + 22, y), anchored(13.0, black, HPos::Left, VPos::Center)))?;
    }
    root.present()
}

/// Draws the heatmap as a PNG of [`Heatmap::size`] at `path`.
pub fn heatmap_png(path: &Path, heatmap: &Heatmap) -> Result<()> {
    register()?;
    heatmap.validate()?;
    common::png(path, heatmap.size(), |root| draw(root, heatmap))
}

/// The heatmap as an SVG document of [`Heatmap::size`].
pub fn heatmap_svg_string(heatmap: &Heatmap) -> Result<String> {
    register()?;
    heatmap.validate()?;
    common::svg_string(heatmap.size(), |root| draw(root, heatmap))
}

/// Draws the heatmap as an SVG of [`Heatmap::size`] at `path`.
pub fn heatmap_svg(path: &Path, heatmap: &Heatmap) -> Result<()> {
    common::write(path, &heatmap_svg_string(heatmap)?)
}

/// Short month names, the columns of the monthly returns heatmap.
pub const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// The years (ascending) and, per year, the compounded return of each month (None: no periods).
pub type MonthlyReturns = (Vec<i64>, Vec<[Option<f64>; 12]>);

/// Monthly returns: each UTC calendar month's periods compounded, `Π(1 + r) − 1`, keyed by the
/// period's open time. Returns every year from the first to the last (ascending) with twelve
/// months each, None for a month without periods. `times_ms` need not be sorted; returns must be
/// finite and one per time.
pub fn monthly_returns(times_ms: &[i64], returns: &[f64]) -> Result<MonthlyReturns> {
    if times_ms.len() != returns.len() {
        return Err(bad(format!("monthly returns: {} returns but {} open times", returns.len(), times_ms.len())));
    }
    common::check_finite(returns, "monthly returns")?;
    let ym: Vec<(i64, usize)> = times_ms
        .iter()
        .map(|&t| {
            let (y, m, ..) = vane_core::Timestamp(t).to_parts();
            (y, m as usize - 1)
        })
        .collect();
    let Some(first) = ym.iter().map(|p| p.0).min() else { return Ok((Vec::new(), Vec::new())) };
    let last = ym.iter().map(|p| p.0).max().unwrap_or(first);
    let years: Vec<i64> = (first..=last).collect();
    let mut growth = vec![[None::<f64>; 12]; years.len()];
    for (&(y, m), r) in ym.iter().zip(returns) {
        let g = &mut growth[(y - first) as usize][m];
        *g = Some(g.unwrap_or(1.0) * (1.0 + r));
    }
    let months = growth.into_iter().map(|row| row.map(|g| g.map(|g| g - 1.0))).collect();
    Ok((years, months))
}

/// The monthly returns heatmap of [`monthly_returns`]' output: rows years, columns Jan … Dec,
/// values as percentages with one decimal on a diverging scale.
pub fn monthly_heatmap(years: &[i64], months: &[[Option<f64>; 12]], title: &str) -> Heatmap {
    Heatmap {
        title: if title.is_empty() { "Monthly returns".into() } else { title.into() },
        row_labels: years.iter().map(|y| y.to_string()).collect(),
        col_labels: MONTHS.iter().map(|m| m.to_string()).collect(),
        row_axis: String::new(),
        col_axis: String::new(),
        values: months.iter().map(|row| row.iter().map(|v| v.unwrap_or(f64::NAN)).collect()).collect(),
        text: Vec::new(),
        format: CellFormat::Percent(1),
        scale: Scale::Diverging { limit: None },
    }
}

/// Pearson correlation of every pair of columns (`columns[k]` holds metric `names[k]` of every
/// run, all of one length). Each pair uses only the rows where both values are finite
/// (pairwise deletion, as pandas' `DataFrame.corr`), so a run missing one metric still counts
/// for the others. An entry is NaN when the pair has fewer than 3 such rows or either column is
/// constant over them; the diagonal is 1 for a column with at least 3 finite, not all equal,
/// values and NaN otherwise.
pub fn pearson_matrix(names: &[String], columns: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
    if names.len() != columns.len() {
        return Err(bad(format!("correlation: {} names but {} columns", names.len(), columns.len())));
    }
    if let Some(first) = columns.first()
        && let Some(k) = columns.iter().position(|c| c.len() != first.len())
    {
        return Err(bad(format!(
            "correlation: column {:?} has {} values but {:?} has {}",
            names[k],
            columns[k].len(),
            names[0],
            first.len()
        )));
    }
    let n = columns.len();
    let mut out = vec![vec![f64::NAN; n]; n];
    for i in 0..n {
        for j in i..n {
            let pairs: Vec<(f64, f64)> = columns[i]
                .iter()
                .zip(&columns[j])
                .filter(|(a, b)| a.is_finite() && b.is_finite())
                .map(|(&a, &b)| (a, b))
                .collect();
            let r = pearson(&pairs);
            out[i][j] = r;
            out[j][i] = r;
        }
    }
    Ok(out)
}

fn pearson(pairs: &[(f64, f64)]) -> f64 {
    if pairs.len() < 3 {
        return f64::NAN;
    }
    let k = pairs.len() as f64;
    let (ma, mb) = pairs.iter().fold((0.0, 0.0), |(a, b), p| (a + p.0 / k, b + p.1 / k));
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for &(a, b) in pairs {
        sab += (a - ma) * (b - mb);
        saa += (a - ma) * (a - ma);
        sbb += (b - mb) * (b - mb);
    }
    if saa <= 0.0 || sbb <= 0.0 {
        return f64::NAN;
    }
    (sab / (saa.sqrt() * sbb.sqrt())).clamp(-1.0, 1.0)
}

/// The heatmap of [`pearson_matrix`]: names on both axes, two decimals, diverging scale ±1.
pub fn correlation_heatmap(names: &[String], columns: &[Vec<f64>], title: &str) -> Result<Heatmap> {
    let values = pearson_matrix(names, columns)?;
    Ok(Heatmap {
        title: if title.is_empty() { "Metric correlation across runs".into() } else { title.into() },
        row_labels: names.to_vec(),
        col_labels: names.to_vec(),
        row_axis: String::new(),
        col_axis: String::new(),
        values,
        text: Vec::new(),
        format: CellFormat::Fixed(2),
        scale: Scale::Diverging { limit: Some(1.0) },
    })
}

/// The confusion matrix heatmap: `counts[true][predicted]` for the given classes; each cell
/// shows its count and its share of the row (the recall of the true class on the diagonal),
/// coloured by that share on a white → blue scale.
pub fn confusion_heatmap(classes: &[String], counts: &[Vec<u64>], title: &str) -> Result<Heatmap> {
    let k = classes.len();
    if counts.len() != k || counts.iter().any(|r| r.len() != k) {
        return Err(bad(format!(
            "confusion matrix: {k} classes need {k}×{k} counts, got {} rows of lengths {:?}",
            counts.len(),
            counts.iter().map(Vec::len).collect::<Vec<_>>()
        )));
    }
    let shares: Vec<Vec<f64>> = counts
        .iter()
        .map(|row| {
            let total: u64 = row.iter().sum();
            row.iter().map(|&c| if total > 0 { c as f64 / total as f64 } else { f64::NAN }).collect()
        })
        .collect();
    let text = counts
        .iter()
        .zip(&shares)
        .map(|(row, sh)| {
            row.iter()
                .zip(sh)
                .map(|(c, s)| if s.is_finite() { format!("{c}\n{:.1}%", 100.0 * s) } else { c.to_string() })
                .collect()
        })
        .collect();
    Ok(Heatmap {
        title: if title.is_empty() { "Confusion matrix".into() } else { title.into() },
        row_labels: classes.to_vec(),
        col_labels: classes.to_vec(),
        row_axis: "true class".into(),
        col_axis: "predicted class".into(),
        values: shares,
        text,
        format: CellFormat::Percent(0),
        scale: Scale::Sequential { max: Some(1.0) },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = vane_core::DAY_MS;

    #[test]
    fn monthly_returns_by_hand() {
        // 2023-01-30, 2023-01-31: +10 %, −5 % → 1.1·0.95 − 1 = 4.5 %; 2023-02-01: +2 %;
        // 2023-03-31T23:00: −1 %; 2024-01-01: +3 % (2023 before 2024, months in between None).
        let jan30 = vane_core::Timestamp::from_ymd(2023, 1, 30).unwrap().0;
        let t = [jan30, jan30 + DAY, jan30 + 2 * DAY, jan30 + 60 * DAY + 23 * 3_600_000, jan30 + 336 * DAY];
        let r = [0.10, -0.05, 0.02, -0.01, 0.03];
        let (years, months) = monthly_returns(&t, &r).unwrap();
        assert_eq!(years, vec![2023, 2024]);
        assert!((months[0][0].unwrap() - 0.045).abs() < 1e-12);
        assert!((months[0][1].unwrap() - 0.02).abs() < 1e-12);
        assert!((months[0][2].unwrap() + 0.01).abs() < 1e-12);
        assert_eq!(months[0][3..], [None; 9]);
        assert!((months[1][0].unwrap() - 0.03).abs() < 1e-12);
        assert_eq!(months[1][1..], [None; 11]);
        assert_eq!(monthly_returns(&[], &[]).unwrap(), (vec![], vec![]));
        assert!(monthly_returns(&[0], &[]).unwrap_err().to_string().contains("0 returns but 1 open times"));
        assert!(monthly_returns(&[0], &[f64::INFINITY]).unwrap_err().to_string().contains("value 0 is inf"));
    }

    #[test]
    fn pearson_by_hand() {
        let names: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        let a = vec![1.0, 2.0, 3.0, 4.0, 5.0];
        let b = vec![2.0, 4.0, 6.0, 8.0, 10.0]; // a·2: +1
        let c = vec![5.0, 4.0, 3.0, 2.0, 1.0]; // −1
        // d with a NaN: pairs (1,1), (2,3), (4,2), (5,6) with a → by hand: means 3, 3;
        // Σ(a−3)(d−3) = (−2)(−2) + (−1)(0) + (1)(−1) + (2)(3) = 9; Σ(a−3)² = 10; Σ(d−3)² = 14.
        let d = vec![1.0, 3.0, f64::NAN, 2.0, 6.0];
        let e = vec![7.0, 7.0, 7.0, 7.0, 7.0]; // constant: NaN
        let m = pearson_matrix(&names, &[a, b, c, d, e]).unwrap();
        assert!((m[0][1] - 1.0).abs() < 1e-12 && (m[1][0] - 1.0).abs() < 1e-12);
        assert!((m[0][2] + 1.0).abs() < 1e-12);
        assert!((m[0][3] - 9.0 / (10.0f64 * 14.0).sqrt()).abs() < 1e-12, "{}", m[0][3]);
        assert!((m[3][3] - 1.0).abs() < 1e-12);
        assert!(m[4][4].is_nan() && m[0][4].is_nan());
        // Fewer than 3 complete pairs: NaN.
        let two = pearson_matrix(&names[..2], &[vec![1.0, 2.0, f64::NAN], vec![3.0, 1.0, 2.0]]).unwrap();
        assert!(two[0][1].is_nan());
        let e = pearson_matrix(&names[..2], &[vec![1.0], vec![1.0, 2.0]]).unwrap_err().to_string();
        assert!(e.contains("column \"b\" has 2 values but \"a\" has 1"), "{e}");
    }

    #[test]
    fn confusion_shares_and_colours() {
        let classes: Vec<String> = ["down", "flat", "up"].map(String::from).to_vec();
        let h = confusion_heatmap(&classes, &[vec![8, 2, 0], vec![1, 1, 2], vec![0, 0, 0]], "").unwrap();
        assert_eq!(h.text[0][0], "8\n80.0%");
        assert_eq!(h.text[1][2], "2\n50.0%");
        assert_eq!(h.text[2][1], "0");
        assert!(h.values[2][0].is_nan());
        assert_eq!(h.color(1.0), RGBColor(8, 81, 156));
        assert_eq!(h.color(0.0), RGBColor(255, 255, 255));
        assert!(confusion_heatmap(&classes, &[vec![1, 2]], "").is_err());
        let m = monthly_heatmap(&[2023], &[[Some(-0.1); 12]], "");
        assert_eq!(m.color(-0.1), RGBColor(215, 48, 39));
    }
}
