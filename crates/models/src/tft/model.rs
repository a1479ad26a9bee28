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

    /// The variable-selection network: `x [b, t, F]` and the selection context `[b, 1, d]` →
    /// `φ₀ [b, t, d]` and the selection weights `[b, t, F]`. On the flex CPU backend (unless
    /// `VANE_FUSED=0`) the embedding, the per-variable GRNs and the weighted sum run as the fused
    /// ops of [`fused_grn`](crate::nn::fused_grn) ([`Tft::select_variables_reference`] is the
    /// same function built from burn ops; same dropout masks drawn in the same order).
    pub fn select_variables(&self, x: Tensor<3>, c_s: Tensor<3>, rng: &mut DropoutRng) -> (Tensor<3>, Tensor<3>) {
        let [b, t, f] = x.dims();
        let device = x.device();
        let d = self.feature_weight.dims()[1];
        if b * t * f == 0 || !crate::nn::fused_seq::fused_available(&device) {
            return self.select_variables_reference(x, c_s, rng);
        }
        use crate::nn::fused_grn::{feature_embedding, variable_selection};
        // The GRNs' mask first: the reference path draws it before the selection GRN's.
        let mask = self.feature_grns.dropout.mask_tensor(f * b * t * d, &device, rng);
        let x = x.reshape([b * t, f]);
        let (w_e, b_e) = (self.feature_weight.val(), self.feature_bias.val());
        let xi = feature_embedding(x.clone(), w_e.clone(), b_e.clone());
        // The GRNs' parameters before the selection GRN's, as in the reference path: a lazily
        // initialised parameter draws its values when first read.
        let g = &self.feature_grns;
        let grn = [
            g.w_input.val(),
            g.b_input.val(),
            g.w_hidden.val(),
            g.b_hidden.val(),
            g.w_gate.val(),
            g.b_gate.val(),
            g.w_value.val(),
            g.b_value.val(),
            g.norm_gamma.val(),
            g.norm_beta.val(),
        ];
        let v = softmax(self.selection.forward(xi.reshape([b, t, f * d]), Some(c_s), rng), 2); // [b, t, f]
        let [w_in, b_in, w_hid, b_hid, w_gate, b_gate, w_val, b_val, gamma, beta] = grn;
        let phi0 = variable_selection(
            x,
            w_e,
            b_e,
            w_in,
            b_in,
            w_hid,
            b_hid,
            w_gate,
            b_gate,
            w_val,
            b_val,
            gamma,
            beta,
            mask,
            v.clone().reshape([b * t, f]),
        );
        (phi0.reshape([b, t, d]), v)
    }

    /// [`Tft::select_variables`] built from burn ops (any backend; the reference the fused ops
    /// are tested against).
    pub fn select_variables_reference(
        &self,
        x: Tensor<3>,
        c_s: Tensor<3>,
        rng: &mut DropoutRng,
    ) -> (Tensor<3>, Tensor<3>) {
        let [b, t, f] = x.dims();
        let d = self.feature_weight.dims()[1];
        let xi = x.unsqueeze_dim::<4>(3) * self.feature_weight.val().unsqueeze_dims::<4>(&[0, 1])
            + self.feature_bias.val().unsqueeze_dims::<4>(&[0, 1]); // [b, t, f, d]
        let per_var = self
            .feature_grns
            .forward_reference(xi.clone().reshape([b * t, f, d]).swap_dims(0, 1), rng)
            .swap_dims(0, 1)
            .reshape([b, t, f, d]);
        let v = softmax(self.selection.forward(xi.reshape([b, t, f * d]), Some(c_s), rng), 2); // [b, t, f]
        let phi0 = (per_var * v.clone().unsqueeze_dim::<4>(3)).sum_dim(2).reshape([b, t, d]);
        (phi0, v)
    }

    /// The gated output of every step `[batch, seq, d]` and the interpretation weights.
    pub fn encode(&self, x: Tensor<3>, symbol: Tensor<1, Int>, rng: &mut DropoutRng) -> (Tensor<3>, Interpretation) {
        let [b, t, _] = x.dims();
        let x_device = x.device();
        let d = self.feature_weight.dims()[1];
        let e = self.symbol_embedding.forward(symbol.reshape([b, 1])); // [b, 1, d]
        let c_s = self.ctx_selection.forward(e.clone(), None, rng);
        let c_e = self.ctx_enrichment.forward(e.clone(), None, rng);
        let c_h = self.ctx_hidden.forward(e.clone(), None, rng).reshape([b, d]);
        let c_c = self.ctx_cell.forward(e, None, rng).reshape([b, d]);

        // Variable selection.
        let (phi0, v) = self.select_variables(x, c_s, rng);
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
