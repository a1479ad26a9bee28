//! Multiclass calibration: one-vs-rest with renormalisation, and temperature scaling.

use serde::{Deserialize, Serialize};

use crate::error::{CalibrationError, Result};
use crate::{Calibrator, Choice, Method, fit_binary};

fn check(probs: &[Vec<f64>], y: &[usize]) -> Result<usize> {
    if probs.len() != y.len() || probs.is_empty() {
        return Err(CalibrationError::InvalidInput(format!("{} rows for {} labels", probs.len(), y.len())));
    }
    let k = probs[0].len();
    if k < 2 || probs.iter().any(|r| r.len() != k || r.iter().any(|v| !v.is_finite())) {
        return Err(CalibrationError::InvalidInput(
            "every row needs the same number (≥ 2) of finite probabilities".into(),
        ));
    }
    if let Some(&c) = y.iter().find(|&&c| c >= k) {
        return Err(CalibrationError::InvalidInput(format!("label {c} outside 0..{k}")));
    }
    Ok(k)
}

/// One binary calibrator per class on `p_k` vs `y == k`; outputs renormalised to sum to 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OneVsRest {
    /// Per-class calibrators.
    pub calibrators: Vec<Calibrator>,
    /// How each was chosen.
    pub choices: Vec<Choice>,
}

impl OneVsRest {
    /// Fits per class with `method` (`Auto` chooses per class, with fallbacks).
    pub fn fit(probs: &[Vec<f64>], y: &[usize], method: Method, holdout: f64) -> Result<Self> {
        let k = check(probs, y)?;
        let mut calibrators = Vec::with_capacity(k);
        let mut choices = Vec::with_capacity(k);
        for c in 0..k {
            let s: Vec<f64> = probs.iter().map(|r| r[c]).collect();
            let t: Vec<bool> = y.iter().map(|&v| v == c).collect();
            let (cal, choice) = fit_binary(method, &s, &t, holdout)?;
            calibrators.push(cal);
            choices.push(choice);
        }
        Ok(Self { calibrators, choices })
    }

    /// Calibrated, renormalised probabilities of one row (uniform if every class maps to 0).
    pub fn apply(&self, row: &[f64]) -> Vec<f64> {
        let mut out: Vec<f64> = self.calibrators.iter().zip(row).map(|(c, &p)| c.apply(p).max(0.0)).collect();
        let s: f64 = out.iter().sum();
        if s > 0.0 {
            out.iter_mut().for_each(|v| *v /= s);
        } else {
            let u = 1.0 / out.len() as f64;
            out.iter_mut().for_each(|v| *v = u);
        }
        out
    }
}

/// Temperature scaling: `softmax(ln p / T)` with T > 0 minimising the log-loss.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Temperature {
    /// The temperature (> 1 softens, < 1 sharpens).
    pub t: f64,
}

fn nll(probs: &[Vec<f64>], y: &[usize], t: f64) -> f64 {
    probs
        .iter()
        .zip(y)
        .map(|(r, &c)| {
            let z: Vec<f64> = r.iter().map(|p| p.max(1e-300).ln() / t).collect();
            let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let lse = m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            lse - z[c]
        })
        .sum::<f64>()
        / y.len() as f64
}

/// The minimiser of a unimodal `f` on `[lo, hi]` by golden-section search, to 1e-10.
fn golden_section(mut lo: f64, mut hi: f64, f: impl Fn(f64) -> f64) -> f64 {
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (hi - g * (hi - lo), lo + g * (hi - lo));
    let (mut fa, mut fb) = (f(a), f(b));
    while hi - lo > 1e-10 {
        if fa < fb {
            hi = b;
            b = a;
            fb = fa;
            a = hi - g * (hi - lo);
            fa = f(a);
        } else {
            lo = a;
            a = b;
            fa = fb;
            b = lo + g * (hi - lo);
            fb = f(b);
        }
    }
    (lo + hi) / 2.0
}

impl Temperature {
    /// Fits T by golden-section search on ln T ∈ [ln 0.01, ln 100] (the NLL is unimodal in T).
    pub fn fit(probs: &[Vec<f64>], y: &[usize]) -> Result<Self> {
        check(probs, y)?;
        let u = golden_section(0.01f64.ln(), 100f64.ln(), |u| nll(probs, y, u.exp()));
        Ok(Self { t: u.exp() })
    }

    /// Rescaled probabilities of one row.
    pub fn apply(&self, row: &[f64]) -> Vec<f64> {
        let z: Vec<f64> = row.iter().map(|p| p.max(1e-300).ln() / self.t).collect();
        let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
        let s: f64 = e.iter().sum();
        e.into_iter().map(|v| v / s).collect()
    }
}

/// Shrinkage to the base rate: `(1 − λ)·p + λ·π`, where `π` is the class frequency of the rows
/// it was fitted on (add-one smoothed, so no class gets 0) and `λ ∈ [0, 1]` minimises their
/// log-loss. λ = 0 keeps the model's probabilities, λ = 1 replaces them with the base rate; a
/// model with a little signal and too much confidence lands between, and never scores worse on
/// the fitting rows than the base rate alone (λ = 1 is a candidate).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shrinkage {
    /// Weight of the base rate.
    pub lambda: f64,
    /// The base rate (class frequencies of the fitting rows, add-one smoothed).
    pub prior: Vec<f64>,
}

/// Mean log-loss of the mixture `(1 − λ)·p + λ·π` (p renormalised, non-finite or negative as 0).
fn mixture_nll(probs: &[Vec<f64>], y: &[usize], prior: &[f64], lambda: f64) -> f64 {
    probs
        .iter()
        .zip(y)
        .map(|(r, &c)| {
            let s: f64 = r.iter().filter(|v| v.is_finite() && **v > 0.0).sum();
            let p = if s > 0.0 && r[c].is_finite() && r[c] > 0.0 { r[c] / s } else { 0.0 };
            -((1.0 - lambda) * p + lambda * prior[c]).max(1e-300).ln()
        })
        .sum::<f64>()
        / y.len() as f64
}

impl Shrinkage {
    /// Fits π on the rows' labels and λ by golden-section search on [0, 1] (the log-loss of a
    /// mixture is convex in λ), keeping an end point when it scores better than the search's
    /// interior optimum.
    pub fn fit(probs: &[Vec<f64>], y: &[usize]) -> Result<Self> {
        let k = check(probs, y)?;
        let mut counts = vec![1.0f64; k];
        for &c in y {
            counts[c] += 1.0;
        }
        let total: f64 = counts.iter().sum();
        let prior: Vec<f64> = counts.iter().map(|c| c / total).collect();
        let f = |l: f64| mixture_nll(probs, y, &prior, l);
        let mid = golden_section(0.0, 1.0, f);
        let lambda = [0.0, mid, 1.0].into_iter().min_by(|&x, &y| f(x).total_cmp(&f(y))).unwrap_or(mid);
        Ok(Self { lambda, prior })
    }

    /// The mixture for one row (the row renormalised first; entries beyond the prior's classes
    /// are dropped).
    pub fn apply(&self, row: &[f64]) -> Vec<f64> {
        let k = self.prior.len();
        let s: f64 = row.iter().take(k).filter(|v| v.is_finite() && **v > 0.0).sum();
        (0..k)
            .map(|c| {
                let v = row.get(c).copied().unwrap_or(0.0);
                let p = if s <= 0.0 {
                    1.0 / k as f64
                } else if v.is_finite() && v > 0.0 {
                    v / s
                } else {
                    0.0
                };
                (1.0 - self.lambda) * p + self.lambda * self.prior[c]
            })
            .collect()
    }
}
