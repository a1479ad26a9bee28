//! [`FeatureFrame`]: named feature columns keyed by bar open time.

use std::io::Write;

use crate::error::{IndicatorError, Result};

/// Feature columns of equal length, one row per bar (keyed by the bar's open time). NaN marks a
/// value that is undefined (warm-up, degenerate input).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FeatureFrame {
    open_time: Vec<i64>,
    names: Vec<String>,
    columns: Vec<Vec<f64>>,
}

impl FeatureFrame {
    /// An empty frame with these column names.
    pub fn new(names: Vec<String>) -> Self {
        let columns = vec![Vec::new(); names.len()];
        Self { open_time: Vec::new(), names, columns }
    }

    /// Builds a frame from columns; all must be as long as `open_time`.
    pub fn from_columns(open_time: Vec<i64>, names: Vec<String>, columns: Vec<Vec<f64>>) -> Result<Self> {
        if names.len() != columns.len() {
            return Err(IndicatorError::InvalidInput(format!("{} names for {} columns", names.len(), columns.len())));
        }
        if let Some((n, c)) = names.iter().zip(&columns).find(|(_, c)| c.len() != open_time.len()) {
            return Err(IndicatorError::InvalidInput(format!(
                "column {n} has {} rows, expected {}",
                c.len(),
                open_time.len()
            )));
        }
        Ok(Self { open_time, names, columns })
    }

    /// Makes this frame hold `names` over `open_time` with empty columns (to be extended to the
    /// full length), reusing the column buffers it has.
    pub(crate) fn reshape(&mut self, names: &[String], open_time: &[i64]) {
        let n = open_time.len();
        self.open_time.clear();
        self.open_time.extend_from_slice(open_time);
        if self.names != names {
            self.names = names.to_vec();
        }
        self.columns.resize_with(names.len(), Vec::new);
        for c in &mut self.columns {
            c.clear();
            c.reserve(n);
        }
    }

    /// The columns, for in-place filling by the crate.
    pub(crate) fn columns_mut(&mut self) -> &mut [Vec<f64>] {
        &mut self.columns
    }

    /// Appends a row.
    ///
    /// # Panics
    /// When `row` does not have one value per column (a programming error, not bad data).
    pub fn push_row(&mut self, open_time: i64, row: &[f64]) {
        assert_eq!(row.len(), self.names.len(), "row width");
        self.open_time.push(open_time);
        for (c, v) in self.columns.iter_mut().zip(row) {
            c.push(*v);
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.open_time.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.open_time.is_empty()
    }

    /// Open times of the rows.
    pub fn open_time(&self) -> &[i64] {
        &self.open_time
    }

    /// Column names in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// All columns in order.
    pub fn columns(&self) -> &[Vec<f64>] {
        &self.columns
    }

    /// The open times, names and columns, taking them out of the frame.
    pub fn into_parts(self) -> (Vec<i64>, Vec<String>, Vec<Vec<f64>>) {
        (self.open_time, self.names, self.columns)
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.names.iter().position(|n| n == name).map(|i| self.columns[i].as_slice())
    }

    /// Row `i` as a vector.
    pub fn row(&self, i: usize) -> Vec<f64> {
        self.columns.iter().map(|c| c[i]).collect()
    }

    /// Rows `[start, end)` as a new frame.
    pub fn slice(&self, start: usize, end: usize) -> FeatureFrame {
        let end = end.min(self.len());
        let start = start.min(end);
        FeatureFrame {
            open_time: self.open_time[start..end].to_vec(),
            names: self.names.clone(),
            columns: self.columns.iter().map(|c| c[start..end].to_vec()).collect(),
        }
    }

    /// Appends the columns of `other` (same rows), prefixing their names with `prefix`.
    pub fn hstack(&mut self, other: &FeatureFrame, prefix: &str) -> Result<()> {
        if other.open_time != self.open_time {
            return Err(IndicatorError::InvalidInput("frames to join must have the same open times".into()));
        }
        for (n, c) in other.names.iter().zip(&other.columns) {
            self.names.push(format!("{prefix}{n}"));
            self.columns.push(c.clone());
        }
        Ok(())
    }

    /// Writes CSV: `open_time_ms`, then the columns; an empty field for NaN; floats in the
    /// shortest form that reads back as the same `f64`.
    pub fn write_csv(&self, w: &mut impl Write) -> std::io::Result<()> {
        write!(w, "open_time_ms")?;
        for n in &self.names {
            write!(w, ",{n}")?;
        }
        writeln!(w)?;
        let mut line = String::with_capacity(16 * (self.names.len() + 1));
        for i in 0..self.len() {
            line.clear();
            line.push_str(&self.open_time[i].to_string());
            for c in &self.columns {
                line.push(',');
                let v = c[i];
                if v.is_finite() {
                    use std::fmt::Write as _;
                    let _ = write!(line, "{v}");
                }
            }
            line.push('\n');
            w.write_all(line.as_bytes())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_shape_and_nan() {
        let mut f = FeatureFrame::new(vec!["a".into(), "b".into()]);
        f.push_row(0, &[f64::NAN, 0.1]);
        f.push_row(60_000, &[1.5, 1.0 / 3.0]);
        let mut out = Vec::new();
        f.write_csv(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "open_time_ms,a,b\n0,,0.1\n60000,1.5,0.3333333333333333\n");
        assert_eq!(f.column("b").unwrap(), &[0.1, 1.0 / 3.0]);
        assert_eq!(f.slice(1, 5).row(0), vec![1.5, 1.0 / 3.0]);
        assert!(FeatureFrame::from_columns(vec![0], vec!["x".into()], vec![vec![]]).is_err());
    }
}
