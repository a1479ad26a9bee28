//! A calibrator that tracks the recent class shares: the causal rolling prior.
//!
//! Fixed-θ labels change their class shares with volatility, so a calibrator fitted once (to the
//! class shares of its fitting rows) is miscalibrated wherever the shares have moved since. The
//! rolling prior corrects for that with the label shares of the last `window` bars whose labels
//! are already known — at bar `t` with labels over `horizon` bars, the bars up to `t − horizon`
//! ([`known_label_shares`]) — as a prior shift:
//!
//! `q(c) ∝ π_recent(c) · (p(c) / π_ref(c))^β`
//!
//! where `π_ref` is the class shares of the rows it was fitted on and `β ≥ 0` how much of the
//! model's likelihood ratio survives (β = 0: the recent base rate alone; β = 1: Bayes' prior
//! shift of a calibrated model). `window` and `β` minimise the log-loss of the fitting rows.

use serde::{Deserialize, Serialize};

use crate::error::{CalibrationError, Result};

/// The rolling windows (in bars) the training pipelines offer the fit, fixed beforehand (not
/// chosen on the rows they are scored on).
pub const ROLLING_WINDOWS: [usize; 7] = [30, 60, 90, 120, 180, 240, 360];

/// The β grid the fit searches: 0, 0.05, …, 1.5.
pub const BETA_STEPS: usize = 31;
const BETA_MAX: f64 = 1.5;

/// The add-one smoothed class shares of the labels of the last `window` bars whose labels are
/// known at bar `t`: bars `t + 1 − horizon − window ..= t − horizon` (clipped at bar 0).
/// `labels[i]` is bar `i`'s label; entries after `t − horizon` are never read (their labels
/// need closes after bar `t`). With no known label the shares are uniform.
pub fn known_label_shares(labels: &[usize], t: usize, horizon: usize, window: usize, k: usize) -> Vec<f64> {
    let mut counts = vec![1.0f64; k];
    if let Some(last) = t.checked_sub(horizon) {
        let first = (last + 1).saturating_sub(window);
        for &c in labels.iter().take(last + 1).skip(first) {
            if c < k {
                counts[c] += 1.0;
            }
        }
    }
    let s: f64 = counts.iter().sum();
    counts.iter().map(|c| c / s).collect()
}

/// Every row's recent class shares for each candidate window (rows in the same order as the
/// probabilities they go with).
#[derive(Clone, Debug, PartialEq)]
pub struct RecentShares {
    /// Bars until a bar's label is known (the label horizon).
    pub horizon: usize,
    /// `(window, shares per row)`, one entry per candidate window.
    pub by_window: Vec<(usize, Vec<Vec<f64>>)>,
}

impl RecentShares {
    /// The shares of rows `range` only.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Self {
        Self {
            horizon: self.horizon,
            by_window: self.by_window.iter().map(|(w, r)| (*w, r[range.clone()].to_vec())).collect(),
        }
    }

    /// The rows' shares for `window` (None when it is not a candidate).
    pub fn rows(&self, window: usize) -> Option<&[Vec<f64>]> {
        self.by_window.iter().find(|(w, _)| *w == window).map(|(_, r)| r.as_slice())
    }

    /// The number of rows (0 with no window).
    pub fn len(&self) -> usize {
        self.by_window.first().map_or(0, |(_, r)| r.len())
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The fitted rolling-prior calibrator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RollingPrior {
    /// How many of the most recent bars with known labels make the prior.
    pub window: usize,
    /// The label horizon: at bar `t` the known labels are those of bars `≤ t − horizon`.
    pub horizon: usize,
    /// The exponent on the model's likelihood ratio `p / π_ref`.
    pub beta: f64,
    /// `π_ref`: the add-one smoothed class shares of the rows it was fitted on.
    pub reference: Vec<f64>,
}

impl RollingPrior {
    /// `q ∝ recent · (p / reference)^β`, normalised. Without `recent` (no bar history at hand)
    /// the reference shares stand in for it.
    pub fn apply(&self, row: &[f64], recent: Option<&[f64]>) -> Vec<f64> {
        let prior = recent.filter(|r| r.len() == self.reference.len()).unwrap_or(&self.reference);
        let q: Vec<f64> = prior
            .iter()
            .zip(&self.reference)
            .enumerate()
            .map(|(c, (&pr, &rf))| {
                let p = row.get(c).copied().unwrap_or(0.0).max(1e-12);
                pr * (p / rf).powf(self.beta)
            })
            .collect();
        let s: f64 = q.iter().sum();
        if s > 0.0 && s.is_finite() { q.iter().map(|v| v / s).collect() } else { prior.to_vec() }
    }

    /// Fits `window` (among `recent`'s candidates) and β (on [`BETA_STEPS`] points of [0, 1.5])
    /// by the log-loss of `probs`/`y`; `reference` is `y`'s add-one smoothed class shares.
    /// Errors: rows and labels or shares of different counts, no candidate window.
    pub fn fit(probs: &[Vec<f64>], y: &[usize], recent: &RecentShares) -> Result<Self> {
        let k = crate::multiclass_choose::check_rows(probs, y)?;
        if recent.by_window.is_empty() {
            return Err(CalibrationError::CannotFit { method: "rolling prior", reason: "no candidate window".into() });
        }
        if let Some((w, r)) =
            recent.by_window.iter().find(|(_, r)| r.len() != y.len() || r.iter().any(|s| s.len() != k))
        {
            return Err(CalibrationError::InvalidInput(format!(
                "recent shares for window {w}: {} rows for {} labels (each row needs {k} shares)",
                r.len(),
                y.len()
            )));
        }
        let mut counts = vec![1.0f64; k];
        y.iter().for_each(|&c| counts[c] += 1.0);
        let s: f64 = counts.iter().sum();
        let reference: Vec<f64> = counts.iter().map(|c| c / s).collect();
        let mut best: Option<(f64, RollingPrior)> = None;
        for (window, rows) in &recent.by_window {
            for i in 0..BETA_STEPS {
                let cand = RollingPrior {
                    window: *window,
                    horizon: recent.horizon,
                    beta: BETA_MAX * i as f64 / (BETA_STEPS - 1) as f64,
                    reference: reference.clone(),
                };
                let ll: f64 = probs
                    .iter()
                    .zip(y)
                    .zip(rows)
                    .map(|((p, &c), r)| -cand.apply(p, Some(r))[c].max(f64::EPSILON).ln())
                    .sum::<f64>()
                    / y.len() as f64;
                if ll.is_finite() && best.as_ref().is_none_or(|(b, _)| ll < *b) {
                    best = Some((ll, cand));
                }
            }
        }
        best.map(|(_, c)| c).ok_or_else(|| CalibrationError::NoConvergence {
            method: "rolling prior",
            reason: "no finite log-loss".into(),
        })
    }
}
