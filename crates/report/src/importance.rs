//! Variable importance as horizontal bars, largest on top (e.g. a TFT's mean
//! variable-selection weight per feature, or permutation importance). The plot grows with the
//! number of bars ([`Importance::size`]); at most [`Importance::top`] bars are drawn and the
//! title says how many were left out.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::common::{self, BOLD, LIGHT, PALETTE, bad};
use crate::error::Result;
use crate::font::FAMILY;

/// Width of the plot in pixels.
pub const WIDTH: u32 = 900;
/// Height of one bar's row in pixels.
pub const ROW: u32 = 22;
/// Bars drawn when [`Importance::top`] is 0.
pub const DEFAULT_TOP: usize = 60;

/// One importance value per named variable.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Importance {
    /// Plot title.
    pub title: String,
    /// What the values are (the x axis title), e.g. `mean variable-selection weight`.
    pub axis: String,
    /// Variable names.
    pub names: Vec<String>,
    /// One value per name: finite, ≥ 0 unless some are negative (permutation importance can
    /// be), in which case the bars start from the smallest.
    pub values: Vec<f64>,
    /// Most bars drawn, the largest values (0: [`DEFAULT_TOP`]).
    pub top: usize,
}

impl Importance {
    /// Checks: at least one variable, one finite value per name.
    pub fn validate(&self) -> Result<()> {
        if self.names.is_empty() {
            return Err(bad(format!("importance plot {:?} has no variables (names)", self.title)));
        }
        if self.values.len() != self.names.len() {
            return Err(bad(format!(
                "importance plot {:?}: {} values but {} names; give one value per name",
                self.title,
                self.values.len(),
                self.names.len()
            )));
        }
        if let Some(i) = self.values.iter().position(|v| !v.is_finite()) {
            return Err(bad(format!(
                "importance of {:?} is {}; every value must be finite",
                self.names[i], self.values[i]
            )));
        }
        Ok(())
    }

    /// `(name, value)` of the bars drawn, largest first (ties by name).
    pub fn ranked(&self) -> Vec<(&str, f64)> {
        let mut r: Vec<(&str, f64)> = self.names.iter().map(String::as_str).zip(self.values.iter().copied()).collect();
        r.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        r.truncate(if self.top == 0 { DEFAULT_TOP } else { self.top });
        r
    }

    /// Width and height in pixels for the bars drawn.
    pub fn size(&self) -> (u32, u32) {
        let bars = self.ranked().len().max(1) as u32;
        (WIDTH, 130 + ROW * bars)
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    imp: &Importance,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let bars = imp.ranked();
    let n = bars.len();
    let left_out = imp.names.len() - n;
    let lo = bars.iter().map(|b| b.1).fold(0.0f64, f64::min);
    let hi = bars.iter().map(|b| b.1).fold(0.0f64, f64::max);
    let (x_lo, x_hi) = if hi > lo { (lo, hi + 0.16 * (hi - lo)) } else { (0.0, 1.0) };
    let title = if imp.title.is_empty() { "Variable importance" } else { imp.title.as_str() };
    let title = if left_out > 0 { format!("{title} (top {n} of {})", imp.names.len()) } else { title.to_string() };
    let widest = bars.iter().map(|b| common::text_width(b.0, 14.0)).max().unwrap_or(0);
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FAMILY, 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(widest + 16)
        .build_cartesian_2d(x_lo..x_hi, -0.5..n as f64 - 0.5)?;
    let span = x_hi - x_lo;
    // Row `i` from the top is y = n − 1 − i.
    let name_at = |y: &f64| {
        let y = *y;
        let r = y.round();
        if (y - r).abs() < 1e-6 && r >= 0.0 && (r as usize) < n {
            bars[n - 1 - r as usize].0.to_string()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .x_desc(if imp.axis.is_empty() { "importance" } else { imp.axis.as_str() })
        .x_labels(8)
        .y_labels(n)
        .disable_y_mesh()
        .x_label_formatter(&|x| {
            if span >= 10.0 {
                format!("{x:.0}")
            } else if span >= 0.1 {
                format!("{x:.2}")
            } else {
                format!("{x:.3}")
            }
        })
        .y_label_formatter(&name_at)
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 16))
        .max_light_lines(1)
        .light_line_style(LIGHT)
        .bold_line_style(BOLD)
        .draw()?;
    let color = PALETTE[0];
    chart.draw_series(bars.iter().enumerate().map(|(i, &(_, v))| {
        let y = (n - 1 - i) as f64;
        Rectangle::new([(lo.min(0.0), y - 0.36), (v, y + 0.36)], color.filled())
    }))?;
    let text = TextStyle::from((FAMILY, 12).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    let value = |v: f64| if span >= 10.0 { format!(" {v:.1}") } else { format!(" {v:.3}") };
    chart.draw_series(
        bars.iter().enumerate().map(|(i, &(_, v))| Text::new(value(v), (v.max(0.0), (n - 1 - i) as f64), text.clone())),
    )?;
    root.present()
}

/// Draws the importance bars as a PNG of [`Importance::size`] at `path`.
pub fn importance_png(path: &Path, importance: &Importance) -> Result<()> {
    importance.validate()?;
    common::png(path, importance.size(), |root| draw(root, importance))
}

/// The importance bars as an SVG document of [`Importance::size`].
pub fn importance_svg_string(importance: &Importance) -> Result<String> {
    importance.validate()?;
    common::svg_string(importance.size(), |root| draw(root, importance))
}

/// Draws the importance bars as an SVG of [`Importance::size`] at `path`.
pub fn importance_svg(path: &Path, importance: &Importance) -> Result<()> {
    common::write(path, &importance_svg_string(importance)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranked_largest_first_and_capped() {
        let imp = Importance {
            names: vec!["a".into(), "b".into(), "c".into(), "d".into()],
            values: vec![0.1, 0.4, 0.1, 0.3],
            top: 3,
            ..Importance::default()
        };
        assert_eq!(imp.ranked(), vec![("b", 0.4), ("d", 0.3), ("a", 0.1)]);
        assert_eq!(imp.size(), (WIDTH, 130 + 3 * ROW));
    }
}
