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

/// JSON writes NaN as `null`; read it back as NaN.
fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
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
    /// Mean predicted probability (NaN when empty; `null` in JSON).
    #[serde(deserialize_with = "nan_if_null")]
    pub mean_predicted: f64,
    /// Observed share of positives (NaN when empty; `null` in JSON).
    #[serde(deserialize_with = "nan_if_null")]
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

/// Multiclass Brier score: mean over rows of `Σ_k (p_k − 1[y = k])²`
/// (`vane_validation::metrics::brier`, which this calls).
pub fn brier_multiclass(y: &[usize], probs: &[Vec<f64>]) -> Result<f64> {
    Ok(vane_validation::metrics::brier(y, probs)?)
}

/// Multiclass log-loss as scikit-learn's `log_loss` (`vane_validation::metrics::log_loss`,
/// which this calls).
pub fn log_loss_multiclass(y: &[usize], probs: &[Vec<f64>]) -> Result<f64> {
    Ok(vane_validation::metrics::log_loss(y, probs)?)
}

/// The top-label confidence (largest probability) of each row and whether its argmax is the
/// label (the first maximum on ties); errors name the bad row.
fn top_label(y: &[usize], probs: &[Vec<f64>]) -> Result<(Vec<bool>, Vec<f64>)> {
    if y.len() != probs.len() || y.is_empty() {
        return Err(CalibrationError::InvalidInput(format!("{} labels for {} probability rows", y.len(), probs.len())));
    }
    let k = probs[0].len();
    let mut correct = Vec::with_capacity(y.len());
    let mut conf = Vec::with_capacity(y.len());
    for (i, (&t, p)) in y.iter().zip(probs).enumerate() {
        if p.is_empty() || p.len() != k {
            return Err(CalibrationError::InvalidInput(format!(
                "row {i} has {} probabilities but row 0 has {k}",
                p.len()
            )));
        }
        if p.iter().any(|v| !v.is_finite()) {
            return Err(CalibrationError::InvalidInput(format!("row {i} holds a non-finite probability")));
        }
        if t >= k {
            return Err(CalibrationError::InvalidInput(format!("label {t} at row {i} is outside 0..{k}")));
        }
        let (arg, &m) = p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).expect("non-empty row");
        correct.push(arg == t);
        conf.push(m);
    }
    Ok((correct, conf))
}

/// Reliability bins of the top-label confidence: `bins` equal-width bins over [0, 1] (1.0 in the
/// last), each with the mean confidence (`mean_predicted`) and the share of rows whose argmax
/// is the label (`observed`). Pooled ECE = `Σ_b n_b/N·|observed_b − mean_predicted_b|`
/// ([`ece_top_label`] with 10 bins).
pub fn reliability_top_label(y: &[usize], probs: &[Vec<f64>], bins: usize) -> Result<Vec<ReliabilityBin>> {
    let (correct, conf) = top_label(y, probs)?;
    reliability(&correct, &conf, bins)
}

/// The expected calibration error of reliability bins: `Σ_b n_b/N·|observed_b − mean_predicted_b|`
/// over the non-empty bins (0 when every bin is empty).
pub fn ece_of_bins(bins: &[ReliabilityBin]) -> f64 {
    let n: usize = bins.iter().map(|b| b.count).sum();
    if n == 0 {
        return 0.0;
    }
    bins.iter().filter(|b| b.count > 0).map(|b| b.count as f64 / n as f64 * (b.observed - b.mean_predicted).abs()).sum()
}

/// Top-label ECE of multiclass probabilities: the confidence is the largest probability, and
/// a sample is correct when its argmax is the label.
pub fn ece_top_label(y: &[usize], probs: &[Vec<f64>]) -> Result<f64> {
    Ok(ece_of_bins(&reliability_top_label(y, probs, 10)?))
}

/// How much top-label ECE sampling noise alone explains: the observed ECE of `probs` against
/// `y`, beside the ECE that a perfectly calibrated forecaster issuing exactly these
/// probabilities would score on the same number of rows (consistency resampling, Bröcker &
/// Smith 2007).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EceNoise {
    /// The observed top-label ECE (10 equal-width bins): [`ece_top_label`].
    pub ece: f64,
    /// Mean ECE of the perfectly calibrated forecaster over the draws.
    pub mean: f64,
    /// Its 95th percentile: an observed ECE above it is miscalibration, not sampling noise
    /// (at the 5 % level).
    pub p95: f64,
    /// Rows scored.
    pub rows: usize,
    /// Resampled label sets.
    pub draws: usize,
    /// `ece ≤ p95`: the observed ECE is within what sampling noise gives.
    pub within_noise: bool,
    /// The same rows' ECE before calibration, when the caller scored calibrated probabilities
    /// and gave the raw ones ([`EceNoise::with_uncalibrated`]): whether calibrating helped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncalibrated_ece: Option<f64>,
}

/// [`EceNoise`] of `probs` against `y`: `draws` times, each row's top label is drawn correct
/// with probability equal to its confidence (the largest probability, which is the chance its
/// argmax is the label when the row sums to 1, as a calibrated forecaster's does), and the
/// draw's top-label ECE is computed with the rows' own confidences and 10 bins. Seeded:
/// the same inputs and `seed` give the same figures. Errors as [`ece_top_label`]'s, and
/// `draws == 0`.
pub fn ece_noise_top_label(y: &[usize], probs: &[Vec<f64>], draws: usize, seed: u64) -> Result<EceNoise> {
    use rand::{Rng, SeedableRng};
    if draws == 0 {
        return Err(CalibrationError::InvalidInput("ECE noise needs at least one draw".into()));
    }
    let (correct, conf) = top_label(y, probs)?;
    let observed = ece_of_bins(&reliability(&correct, &conf, 10)?);
    let conf: Vec<f64> = conf.iter().map(|c| c.clamp(0.0, 1.0)).collect();
    let bin: Vec<usize> = conf.iter().map(|&c| ((c * 10.0) as usize).min(9)).collect();
    let mut count = [0usize; 10];
    let mut sum_conf = [0.0f64; 10];
    for (&b, &c) in bin.iter().zip(&conf) {
        count[b] += 1;
        sum_conf[b] += c;
    }
    let n = conf.len() as f64;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0xece0_5e1f);
    let mut eces: Vec<f64> = (0..draws)
        .map(|_| {
            let mut hits = [0usize; 10];
            for (&b, &c) in bin.iter().zip(&conf) {
                if rng.random::<f64>() < c {
                    hits[b] += 1;
                }
            }
            (0..10).filter(|&b| count[b] > 0).map(|b| (hits[b] as f64 - sum_conf[b]).abs() / n).sum()
        })
        .collect();
    eces.sort_by(f64::total_cmp);
    let mean = eces.iter().sum::<f64>() / draws as f64;
    let p95 = eces[((draws as f64 * 0.95).ceil() as usize).clamp(1, draws) - 1];
    Ok(EceNoise {
        ece: observed,
        mean,
        p95,
        rows: conf.len(),
        draws,
        within_noise: observed <= p95,
        uncalibrated_ece: None,
    })
}

impl EceNoise {
    /// `self` with [`EceNoise::uncalibrated_ece`]: the top-label ECE of `raw`, the probabilities
    /// before calibration of the rows `self` scored, against the same labels `y`.
    pub fn with_uncalibrated(self, y: &[usize], raw: &[Vec<f64>]) -> Result<Self> {
        if y.len() != self.rows {
            return Err(CalibrationError::InvalidInput(format!(
                "{} labels for an ECE check over {} rows",
                y.len(),
                self.rows
            )));
        }
        Ok(Self { uncalibrated_ece: Some(ece_top_label(y, raw)?), ..self })
    }

    /// One sentence for people: the observed ECE (and before calibration, when known), the noise
    /// band, and which side it falls on.
    pub fn text(&self) -> String {
        let before = self.uncalibrated_ece.map_or(String::new(), |e| format!(" (before calibration {e:.4})"));
        let worse = match self.uncalibrated_ece {
            Some(e) if e < self.ece => "; calibrating made these rows' ECE worse",
            _ => "",
        };
        format!(
            "pooled ECE {:.4}{before} over {} rows; a perfectly calibrated forecaster with these probabilities scores {:.4} (95 % ≤ {:.4}): {}{worse}",
            self.ece,
            self.rows,
            self.mean,
            self.p95,
            if self.within_noise { "within sampling noise" } else { "miscalibrated beyond sampling noise" }
        )
    }
}
