//! The TFT network.

use burn::module::{Module, Param};
use burn::nn::{Embedding, Linear};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Int, Tensor};

use crate::nn::{BatchedGrn, DropoutRng, FusedLstm, GateAddNorm, Grn};
use crate::output::{Interpretation, ModelOutput};
use crate::tft::InterpretableAttention;

/// The TFT network.
#[derive(Module, Debug)]
pub struct Tft {
    /// Static symbol embedding.
    pub symbol_embedding: Embedding,
    /// Static context for variable selection.
    pub ctx_selection: Grn,
    /// Static context for enrichment.
    pub ctx_enrichment: Grn,
    /// Initial LSTM hidden state.
    pub ctx_hidden: Grn,
    /// Initial LSTM cell state.
    pub ctx_cell: Grn,
    /// Per-feature embedding weights `[F, d]`.
    pub feature_weight: Param<Tensor<2>>,
    /// Per-feature embedding bias `[F, d]`.
    pub feature_bias: Param<Tensor<2>>,
    /// One GRN per feature.
    pub feature_grns: BatchedGrn,
    /// Selection-weight GRN `F·d → F` with the static context.
    pub selection: Grn,
    /// Encoder.
    pub lstm: FusedLstm,
    /// Gate 1 (LSTM skip).
    pub gate_lstm: GateAddNorm,
    /// Static enrichment.
    pub enrichment: Grn,
    /// Attention.
    pub attention: InterpretableAttention,
    /// Gate 2 (attention skip).
    pub gate_attention: GateAddNorm,
    /// Position-wise feed-forward GRN.
    pub positionwise: Grn,
    /// Gate 3 (skip over the whole attention block).
    pub gate_output: GateAddNorm,
    /// Class head.
    pub head: Linear,
    /// Quantile head.
    pub quantile_head: Linear,
    /// Whether the sinusoidal positional encoding is added to the encoder input.
    pub positional: bool,
}

/// The sinusoidal positional-encoding table, row-major `[seq_len, d_model]`:
/// `PE[p, 2i] = sin(p / 10000^(2i/d))`, `PE[p, 2i+1] = cos(p / 10000^(2i/d))`.
pub fn sinusoidal_table(seq_len: usize, d_model: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; seq_len * d_model];
    for p in 0..seq_len {
        for j in 0..d_model {
            let i2 = (j - j % 2) as f64;
            let angle = p as f64 / 10_000f64.powf(i2 / d_model as f64);
            out[p * d_model + j] = if j % 2 == 0 { angle.sin() } else { angle.cos() } as f32;
        }
    }
    out
}

/// [`sinusoidal_table`] as a `[seq_len, d_model]` tensor on `device`.
pub fn sinusoidal(seq_len: usize, d_model: usize, device: &Device) -> Tensor<2> {
    Tensor::<1>::from_floats(sinusoidal_table(seq_len, d_model).as_slice(), device).reshape([seq_len, d_model])
}

impl Tft {
    /// `x: [batch, seq, F]`, `symbol: [batch]` → logits, quantiles and the interpretation
    /// weights; dropout draws from `rng`.
    pub fn forward(&self, x: Tensor<3>, symbol: Tensor<1, Int>, rng: &mut DropoutRng) -> ModelOutput {
        let (out, interpretation) = self.encode(x, symbol, rng);
        let [b, t, d] = out.dims();
        let last = out.narrow(1, t - 1, 1).reshape([b, d]);
        ModelOutput {
            logits: self.head.forward(last.clone()),
            value: self.quantile_head.forward(last),
            confidence: None,
            interpretation: Some(interpretation),
        }
    }

    /// Class logits at every step, `[batch, seq, k]` (inference: no dropout): step t sees only
    /// steps ≤ t.
    pub fn step_logits(&self, x: Tensor<3>, symbol: Tensor<1, Int>) -> Tensor<3> {
        self.head.forward(self.encode(x, symbol, &mut DropoutRng::off()).0)
    }

    /// Variable-selection weights `[batch, seq, F]` of a batch (inference: no dropout); each
    /// `[b, t, ·]` row sums to 1. What "variable importance" plots average.
    pub fn variable_selection_weights(&self, x: Tensor<3>, symbol: Tensor<1, Int>) -> Tensor<3> {
        self.encode(x, symbol, &mut DropoutRng::off()).1.variable_weights
    }

    /// The gated output of every step `[batch, seq, d]` and the interpretation weights.
    pub fn encode(&self, x: Tensor<3>, symbol: Tensor<1, Int>, rng: &mut DropoutRng) -> (Tensor<3>, Interpretation) {
        let [b, t, f] = x.dims();
        let x_device = x.device();
        let d = self.feature_weight.dims()[1];
        let e = self.symbol_embedding.forward(symbol.reshape([b, 1])); // [b, 1, d]
        let c_s = self.ctx_selection.forward(e.clone(), None, rng);
        let c_e = self.ctx_enrichment.forward(e.clone(), None, rng);
        let c_h = self.ctx_hidden.forward(e.clone(), None, rng).reshape([b, d]);
        let c_c = self.ctx_cell.forward(e, None, rng).reshape([b, d]);

        // Variable selection.
        let xi = x.unsqueeze_dim::<4>(3) * self.feature_weight.val().unsqueeze_dims::<4>(&[0, 1])
            + self.feature_bias.val().unsqueeze_dims::<4>(&[0, 1]); // [b, t, f, d]
        let per_var = self
            .feature_grns
            .forward(xi.clone().reshape([b * t, f, d]).swap_dims(0, 1), rng)
            .swap_dims(0, 1)
            .reshape([b, t, f, d]);
        let v = softmax(self.selection.forward(xi.reshape([b, t, f * d]), Some(c_s), rng), 2); // [b, t, f]
        let phi0 = (per_var * v.clone().unsqueeze_dim::<4>(3)).sum_dim(2).reshape([b, t, d]);
        // Positional encoding on the encoder input (and so on the skip path into the attention).
        let phi0 = if self.positional { phi0 + sinusoidal(t, d, &x_device).unsqueeze_dim::<3>(0) } else { phi0 };

        let o = self.lstm.forward_sequence(phi0.clone(), Some((c_h, c_c)));
        let phi = self.gate_lstm.forward(o, phi0, rng);
        let theta = self.enrichment.forward(phi.clone(), Some(c_e), rng);
        let (att, weights) = self.attention.forward(theta.clone(), rng);
        let delta = self.gate_attention.forward(att, theta, rng);
        let psi = self.positionwise.forward(delta, None, rng);
        (self.gate_output.forward(psi, phi, rng), Interpretation { variable_weights: v, attention: weights })
    }
}
