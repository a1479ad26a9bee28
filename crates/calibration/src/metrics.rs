//! Calibration metrics: Brier, log-loss, expected calibration error and reliability bins.

use serde::{Deserialize, Serialize};

use crate::error::{CalibrationError, Result};

fn check(y: &[bool], p: &[f64]) -> Result<()> {
    if y.len() != p.len() || y.is_empty() {
        return Err(CalibrationError::InvalidInput(format!("{} labels for {} probabilities", y.len(), p.len())));
    }
    if p.iter().any(|v| !v.is_finite()) {
        return Err(CalibrationError::InvalidInput("non-finite probability".into()));
    }
    Ok(())
}

/// Binary log-loss with probabilities clipped to `[ε, 1 − ε]` (scikit-learn's `log_loss`).
pub fn log_loss_binary(y: &[bool], p: &[f64]) -> Result<f64> {
    check(y, p)?;
    let eps = f64::EPSILON;
    Ok(y.iter()
        .zip(p)
        .map(|(&t, &v)| {
            let v = v.clamp(eps, 1.0 - eps);
            -(if t { v.ln() } else { (1.0 - v).ln() })
        })
        .sum::<f64>()
        / y.len() as f64)
}

/// Binary Brier score: mean of `(p − y)²`.
pub fn brier_binary(y: &[bool], p: &[f64]) -> Result<f64> {
    check(y, p)?;
    Ok(y.iter().zip(p).map(|(&t, &v)| (v - f64::from(u8::from(t))).powi(2)).sum::<f64>() / y.len() as f64)
}

/// One reliability-diagram bin.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    /// Lower edge (inclusive).
    pub lo: f64,
    /// Upper edge (exclusive, except 1.0 for the last bin).
    pub hi: f64,
    /// Samples in the bin.
    pub count: usize,
    /// Mean predicted probability (NaN when empty).
    pub mean_predicted: f64,
    /// Observed share of positives (NaN when empty).
    pub observed: f64,
}

/// `bins` equal-width bins over [0, 1] of predicted probabilities (1.0 falls in the last bin).
pub fn reliability(y: &[bool], p: &[f64], bins: usize) -> Result<Vec<ReliabilityBin>> {
    check(y, p)?;
    let bins = bins.max(1);
    let mut acc = vec![(0usize, 0.0f64, 0.0f64); bins];
    for (&t, &v) in y.iter().zip(p) {
        let b = ((v.clamp(0.0, 1.0) * bins as f64) as usize).min(bins - 1);
        acc[b].0 += 1;
        acc[b].1 += v;
        acc[b].2 += f64::from(u8::from(t));
    }
    Ok(acc
        .iter()
        .enumerate()
        .map(|(i, &(n, sp, sy))| ReliabilityBin {
            lo: i as f64 / bins as f64,
            hi: (i + 1) as f64 / bins as f64,
            count: n,
            mean_predicted: if n > 0 { sp / n as f64 } else { f64::NAN },
            observed: if n > 0 { sy / n as f64 } else { f64::NAN },
        })
        .collect())
}

/// Expected calibration error over 10 equal-width bins: `Σ_b (n_b/N)·|observed_b − predicted_b|`.
pub fn ece(y: &[bool], p: &[f64]) -> Result<f64> {
    let bins = reliability(y, p, 10)?;
    let n = y.len() as f64;
    Ok(bins.iter().filter(|b| b.count > 0).map(|b| b.count as f64 / n * (b.observed - b.mean_predicted).abs()).sum())
}

/// Top-label ECE of multiclass probabilities: the confidence is the largest probability, and
/// a sample is correct when its argmax is the label.
pub fn ece_top_label(y: &[usize], probs: &[Vec<f64>]) -> Result<f64> {
    if y.len() != probs.len() || y.is_empty() {
        return Err(CalibrationError::InvalidInput(format!("{} labels for {} rows", y.len(), probs.len())));
    }
    let mut correct = Vec::with_capacity(y.len());
    let mut conf = Vec::with_capacity(y.len());
    for (&t, p) in y.iter().zip(probs) {
        let (arg, &m) = p
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .ok_or_else(|| CalibrationError::InvalidInput("empty probability row".into()))?;
        correct.push(arg == t);
        conf.push(m);
    }
    ece(&correct, &conf)
}
