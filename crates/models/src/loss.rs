//! Losses (seed 002's `losses.py`), all on soft targets so that mixup composes with them.
//!
//! For logits z, probabilities p = softmax(z), a soft target t (one-hot unless mixed up), label
//! smoothing ε and k classes, the smoothed target is t' = (1 − ε)·t + ε/k and per sample
//!
//! * cross-entropy: `ℓ = −Σ_c t'_c log p_c`
//! * focal (γ): `ℓ = −Σ_c t'_c (1 − p_c)^γ log p_c` (γ = 0 is cross-entropy)
//!
//! Class weights α and sample weights w combine into `ω_i = w_i · Σ_c t_ic α_c`, and the batch
//! loss is `Σ ω_i ℓ_i / Σ ω_i` (PyTorch's weighted mean; a batch whose weights are all 0 has loss
//! 0 and no gradient). The normalisation by `Σ ω_i` rather than the batch size keeps the loss's
//! scale, and so the effective learning rate, independent of the weights' overall scale:
//! multiplying every weight by c changes nothing, a weight of 0 removes the sample (its loss and
//! its gradient), and a dead-zone weight of 0.2 counts the sample as a fifth of a full one
//! relative to its batch. Every term below is weighted the same way: cross-entropy, focal loss,
//! label smoothing (they are one per-sample term), the directional penalty (by ω), the
//! confidence BCE and the regression losses (by w: class weights do not apply to them).
//! Extra terms:
//!
//! * directional penalty λ (three classes, BUY 0 / SELL 1): `λ · mean_ω(t_BUY p_SELL + t_SELL p_BUY)`
//! * multitask (CNN-LSTM): `+ w_conf · BCE(confidence, 1[argmax z = class]) + w_ret · MSE(value, s·y)`
//! * regression: `MSE(value, s·y)`, or for quantile outputs the pinball loss
//!   `mean_q max(q·e_q, (q − 1)·e_q)` with `e_q = s·y − ŷ_q`; s is `value_scale`.

use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// Class indices of the directional penalty (vane's convention: BUY 0, SELL 1, HOLD 2).
pub const BUY: usize = 0;
/// See [`BUY`].
pub const SELL: usize = 1;

/// Settings of the classification loss.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LossSettings {
    /// Focal γ (0 = plain cross-entropy).
    pub focal_gamma: f64,
    /// Label smoothing ε.
    pub label_smoothing: f64,
    /// Class weights α (empty = all 1).
    pub class_weights: Vec<f32>,
    /// Directional-accuracy penalty λ (0 = off; needs three classes).
    pub direction_penalty: f64,
    /// Weight of the confidence head's BCE (multitask; models with a confidence head).
    pub confidence_weight: f64,
    /// Weight of the return head's MSE in classification (multitask; 0 = off).
    pub value_weight: f64,
    /// Regression targets are multiplied by this before the loss (returns are ~1e-2).
    pub value_scale: f64,
}

impl Default for LossSettings {
    fn default() -> Self {
        Self {
            focal_gamma: 0.0,
            label_smoothing: 0.0,
            class_weights: Vec::new(),
            direction_penalty: 0.0,
            confidence_weight: 0.0,
            value_weight: 0.0,
            value_scale: 100.0,
        }
    }
}

fn weighted_mean(per_sample: Tensor<1>, omega: Tensor<1>) -> Tensor<1> {
    (per_sample * omega.clone()).sum() / omega.sum().clamp_min(1e-12)
}

/// `Σ_i ω_i` of a host batch: `weights` `[batch]`, soft `targets` `[batch × k]`, class weights α
/// (empty = all 1) — the normaliser of [`classification_loss`], used to combine batch means into
/// a dataset mean (`Σ_batches ω_b · loss_b / Σ_batches ω_b`).
pub fn effective_weight_sum(weights: &[f32], targets: &[f32], class_weights: &[f32]) -> f64 {
    if class_weights.is_empty() || weights.is_empty() {
        return weights.iter().map(|&w| f64::from(w)).sum();
    }
    let k = class_weights.len();
    weights
        .iter()
        .zip(targets.chunks(k))
        .map(|(&w, t)| f64::from(w) * t.iter().zip(class_weights).map(|(&t, &a)| f64::from(t * a)).sum::<f64>())
        .sum()
}

/// `ω_i = w_i · Σ_c t_ic α_c`.
pub fn effective_weights(target: Tensor<2>, weight: Tensor<1>, class_weights: &[f32]) -> Tensor<1> {
    if class_weights.is_empty() {
        return weight;
    }
    let [_, k] = target.dims();
    let alpha = Tensor::<2>::from_data(TensorData::new(class_weights.to_vec(), [k, 1]), &target.device());
    let [b, _] = target.dims();
    weight * target.matmul(alpha).reshape([b])
}

/// Per-sample focal loss on soft targets with label smoothing (γ = 0: cross-entropy).
pub fn focal_per_sample(logits: Tensor<2>, target: Tensor<2>, gamma: f64, smoothing: f64) -> Tensor<1> {
    let [b, k] = logits.dims();
    let t = target.mul_scalar(1.0 - smoothing).add_scalar(smoothing / k as f64);
    let logp = log_softmax(logits, 1);
    let term = if gamma == 0.0 {
        t * logp
    } else {
        let focus = logp.clone().exp().neg().add_scalar(1.0).clamp_min(0.0).powf_scalar(gamma);
        t * focus * logp
    };
    term.sum_dim(1).reshape([b]).neg()
}

/// The classification loss of a batch (focal/CE + class and sample weights + directional
/// penalty), a scalar `[1]`.
pub fn classification_loss(logits: Tensor<2>, target: Tensor<2>, weight: Tensor<1>, s: &LossSettings) -> Tensor<1> {
    let [b, k] = logits.dims();
    let omega = effective_weights(target.clone(), weight, &s.class_weights);
    let mut loss = weighted_mean(
        focal_per_sample(logits.clone(), target.clone(), s.focal_gamma, s.label_smoothing),
        omega.clone(),
    );
    if s.direction_penalty > 0.0 && k == 3 {
        let p = softmax(logits, 1);
        let wrong = target.clone().narrow(1, BUY, 1) * p.clone().narrow(1, SELL, 1)
            + target.narrow(1, SELL, 1) * p.narrow(1, BUY, 1);
        loss = loss + weighted_mean(wrong.reshape([b]), omega).mul_scalar(s.direction_penalty);
    }
    loss
}

/// Weighted binary cross-entropy of the confidence head against "the predicted class is right".
pub fn confidence_loss(
    confidence: Tensor<2>,
    logits: Tensor<2>,
    class: Tensor<1, Int>,
    weight: Tensor<1>,
) -> Tensor<1> {
    let [b, _] = logits.dims();
    let correct = logits.argmax(1).reshape([b]).equal(class).float().detach();
    let p = confidence.reshape([b]).clamp(1e-7, 1.0 - 1e-7);
    let bce = (correct.clone() * p.clone().log() + correct.neg().add_scalar(1.0) * p.neg().add_scalar(1.0).log()).neg();
    weighted_mean(bce, weight)
}

/// Weighted mean squared error of the first regression output against `scale · y`.
pub fn value_mse(value: Tensor<2>, y: Tensor<1>, weight: Tensor<1>, scale: f64) -> Tensor<1> {
    let [b, _] = value.dims();
    let e = value.narrow(1, 0, 1).reshape([b]) - y.mul_scalar(scale);
    weighted_mean(e.powi_scalar(2), weight)
}

/// Weighted pinball loss of quantile outputs `[batch, n_q]` against `scale · y`.
pub fn pinball(value: Tensor<2>, y: Tensor<1>, weight: Tensor<1>, quantiles: &[f64], scale: f64) -> Tensor<1> {
    let [b, nq] = value.dims();
    let q = Tensor::<2>::from_data(
        TensorData::new(quantiles.iter().map(|&v| v as f32).collect::<Vec<_>>(), [1, nq]),
        &value.device(),
    );
    let e = y.mul_scalar(scale).reshape([b, 1]) - value; // [b, nq]
    let l = (q.clone() * e.clone()).max_pair(q.sub_scalar(1.0) * e);
    weighted_mean(l.mean_dim(1).reshape([b]), weight)
}
