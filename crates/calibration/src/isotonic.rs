//! Isotonic regression by pool-adjacent-violators with scikit-learn's
//! `IsotonicRegression(out_of_bounds='clip')` semantics: equal scores are merged first (their
//! labels averaged), the fitted step function is interpolated linearly between its thresholds,
//! and scores outside the fitted range are clipped to it.

use serde::{Deserialize, Serialize};

use crate::error::{CalibrationError, Result};

/// A fitted isotonic calibrator: non-decreasing `y` at increasing `x` thresholds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Isotonic {
    /// Score thresholds, strictly increasing.
    pub x: Vec<f64>,
    /// Fitted values, non-decreasing.
    pub y: Vec<f64>,
}

impl Isotonic {
    /// Fits a non-decreasing map from scores to targets (0/1 labels, or any values).
    pub fn fit(scores: &[f64], targets: &[f64]) -> Result<Self> {
        if scores.len() != targets.len() {
            return Err(CalibrationError::InvalidInput(format!(
                "{} scores for {} targets",
                scores.len(),
                targets.len()
            )));
        }
        if scores.iter().chain(targets).any(|v| !v.is_finite()) {
            return Err(CalibrationError::InvalidInput("non-finite score or target".into()));
        }
        if scores.is_empty() {
            return Err(CalibrationError::CannotFit { method: "isotonic", reason: "no samples".into() });
        }
        let mut idx: Vec<usize> = (0..scores.len()).collect();
        idx.sort_by(|&i, &j| scores[i].total_cmp(&scores[j]));
        // Merge equal scores: (x, mean y, weight).
        let mut blocks: Vec<(f64, f64, f64)> = Vec::new();
        for &i in &idx {
            match blocks.last_mut() {
                Some(b) if b.0 == scores[i] => {
                    b.1 += targets[i];
                    b.2 += 1.0;
                }
                _ => blocks.push((scores[i], targets[i], 1.0)),
            }
        }
        let x: Vec<f64> = blocks.iter().map(|b| b.0).collect();
        let w: Vec<f64> = blocks.iter().map(|b| b.2).collect();
        let yv: Vec<f64> = blocks.iter().map(|b| b.1 / b.2).collect();
        // PAV over the merged points: a stack of (mean, weight, count).
        let mut stack: Vec<(f64, f64, usize)> = Vec::with_capacity(yv.len());
        for (v, wt) in yv.iter().zip(&w) {
            stack.push((*v, *wt, 1));
            while stack.len() >= 2 {
                let (m2, w2, c2) = stack[stack.len() - 1];
                let (m1, w1, c1) = stack[stack.len() - 2];
                if m1 <= m2 {
                    break;
                }
                stack.pop();
                let top = stack.last_mut().expect("two entries");
                *top = ((m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2);
            }
        }
        let mut y = Vec::with_capacity(x.len());
        for (m, _, c) in stack {
            y.extend(std::iter::repeat_n(m, c));
        }
        // Drop interior points of constant runs (they change nothing under interpolation).
        let keep: Vec<bool> =
            (0..x.len()).map(|i| i == 0 || i + 1 == x.len() || y[i] != y[i - 1] || y[i] != y[i + 1]).collect();
        let (x, y): (Vec<f64>, Vec<f64>) = x.into_iter().zip(y).zip(keep).filter(|(_, k)| *k).map(|(p, _)| p).unzip();
        Ok(Self { x, y })
    }

    /// The calibrated value of a score: linear interpolation between thresholds, clipped to
    /// the fitted range outside it.
    pub fn apply(&self, s: f64) -> f64 {
        let (x, y) = (&self.x, &self.y);
        if x.len() == 1 || s <= x[0] {
            return y[0];
        }
        if s >= x[x.len() - 1] {
            return y[y.len() - 1];
        }
        let j = x.partition_point(|&v| v <= s);
        let (x0, x1, y0, y1) = (x[j - 1], x[j], y[j - 1], y[j]);
        y0 + (s - x0) * (y1 - y0) / (x1 - x0)
    }
}
