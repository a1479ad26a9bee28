//! Training-only augmentation (seed 002's `augmentation.py`), applied to a host batch before it
//! moves to the device. Deterministic in the trainer's seed.
//!
//! * mixup (α): λ ~ Beta(α, α); each sample is mixed with a random partner of the same batch:
//!   `x = λx + (1 − λ)x_π`, soft targets and regression targets alike; weights take the larger.
//! * time masking: with probability `time_mask_prob`, a random run of up to `time_mask_max`
//!   (fraction of the window) consecutive steps is set to 0 (the normalised mean).
//! * Gaussian noise: `x += N(0, noise_std²)`.
//! * feature dropout: each feature column of each sample is zeroed with probability
//!   `feature_dropout`.

use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::data::HostBatch;

/// Augmentation settings; all off at zero.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Augmentation {
    /// Mixup α (0 = off).
    pub mixup_alpha: f64,
    /// Probability that a sample gets a time mask.
    pub time_mask_prob: f64,
    /// Longest mask, as a fraction of the window.
    pub time_mask_max: f64,
    /// Gaussian noise standard deviation (in normalised units).
    pub noise_std: f64,
    /// Probability of zeroing one feature column of one sample.
    pub feature_dropout: f64,
}

impl Default for Augmentation {
    fn default() -> Self {
        Self { mixup_alpha: 0.2, time_mask_prob: 0.2, time_mask_max: 0.1, noise_std: 0.01, feature_dropout: 0.05 }
    }
}

impl Augmentation {
    /// Nothing applied.
    pub fn off() -> Self {
        Self { mixup_alpha: 0.0, time_mask_prob: 0.0, time_mask_max: 0.0, noise_std: 0.0, feature_dropout: 0.0 }
    }

    /// Applies every enabled transform in place.
    pub fn apply(&self, b: &mut HostBatch, rng: &mut StdRng) {
        let (t, f) = (b.seq_len, b.n_features);
        let per = t * f;
        if self.time_mask_prob > 0.0 && self.time_mask_max > 0.0 {
            let max_len = ((t as f64 * self.time_mask_max).round() as usize).clamp(1, t);
            for s in 0..b.batch {
                if rng.random::<f64>() < self.time_mask_prob {
                    let len = rng.random_range(1..=max_len);
                    let start = rng.random_range(0..=t - len);
                    b.x[s * per + start * f..s * per + (start + len) * f].fill(0.0);
                }
            }
        }
        if self.feature_dropout > 0.0 {
            for s in 0..b.batch {
                for j in 0..f {
                    if rng.random::<f64>() < self.feature_dropout {
                        for step in 0..t {
                            b.x[s * per + step * f + j] = 0.0;
                        }
                    }
                }
            }
        }
        if self.noise_std > 0.0 {
            for v in &mut b.x {
                *v += (normal(rng) * self.noise_std) as f32;
            }
        }
        if self.mixup_alpha > 0.0 && b.batch > 1 {
            mixup(b, beta(self.mixup_alpha, rng) as f32, rng);
        }
    }
}

fn mixup(b: &mut HostBatch, lambda: f32, rng: &mut StdRng) {
    let mut perm: Vec<usize> = (0..b.batch).collect();
    perm.shuffle(rng);
    let per = b.seq_len * b.n_features;
    let k = b.n_classes;
    let (x, target, value, weight) = (b.x.clone(), b.target.clone(), b.value.clone(), b.weight.clone());
    let mix = |a: f32, c: f32| lambda * a + (1.0 - lambda) * c;
    for (i, &j) in perm.iter().enumerate() {
        for e in 0..per {
            b.x[i * per + e] = mix(x[i * per + e], x[j * per + e]);
        }
        for c in 0..k {
            b.target[i * k + c] = mix(target[i * k + c], target[j * k + c]);
        }
        b.value[i] = mix(value[i], value[j]);
        b.weight[i] = weight[i].max(weight[j]);
    }
}

/// Standard normal by Box–Muller.
pub(crate) fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Gamma(shape, 1) by Marsaglia–Tsang (shape < 1 boosted by U^{1/shape}).
fn gamma(shape: f64, rng: &mut StdRng) -> f64 {
    if shape < 1.0 {
        let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
        return gamma(shape + 1.0, rng) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// Beta(α, α).
pub(crate) fn beta(alpha: f64, rng: &mut StdRng) -> f64 {
    let a = gamma(alpha, rng);
    let b = gamma(alpha, rng);
    if a + b > 0.0 { a / (a + b) } else { 0.5 }
}
