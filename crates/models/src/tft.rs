//! Temporal Fusion Transformer (Lim et al. 2021), as seed 004 uses it: one static input (the
//! symbol), past observed features, a classification head and a quantile head at the last step.
//!
//! ```text
//! e = Embedding(n_symbols, d)(symbol)
//! c_s, c_e, c_h, c_c = GRN_s(e), GRN_e(e), GRN_h(e), GRN_c(e)             static contexts
//! ξ_j = x_j · W_j + b_j  (per feature, W, b: [F, d]);  ξ̃_j = GRN_j(ξ_j)    per-variable GRNs
//! v = softmax(GRN_v(flatten ξ, c_s)) ∈ Δ^F;  φ₀ = Σ_j v_j ξ̃_j              variable selection
//! o = LSTM(d → d, state₀ = (c_h, c_c))(φ₀)
//! φ = LayerNorm(φ₀ + GLU(dropout(o)))                                       gate 1
//! θ = GRN(φ, c_e)                                                          static enrichment
//! A_h = dropout(softmax(Q_h K_hᵀ / √d_k + causal));  H = mean_h(A_h · V)    interpretable MHA,
//! δ = LayerNorm(θ + GLU(dropout(W_o H)))                                   shared V; gate 2
//! ψ = GRN(δ);  out = LayerNorm(φ + GLU(dropout(ψ)))                        position-wise; gate 3
//! logits = Linear(d → k)(out_T),  quantiles = Linear(d → n_q)(out_T)
//! ```
//! The forward pass also returns `v` (variable-selection weights, `[batch, seq, F]`) and the
//! head-averaged attention `[batch, seq, seq]` for interpretation.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Embedding, EmbeddingConfig, Initializer, Linear};
use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Device, Int, Tensor};

use crate::model::{Interpretation, ModelOutput};
use crate::nn::{BatchedGrn, Dropout, FusedLstm, GateAddNorm, Grn, linear};

/// TFT hyper-parameters (seed 004: seq 60, d_model 128, 8 heads, dropout 0.2).
#[derive(Config, Debug)]
pub struct TftConfig {
    /// Past observed features per step.
    pub n_features: usize,
    /// Number of symbols (static embedding rows).
    #[config(default = 1)]
    pub n_symbols: usize,
    /// Output classes.
    #[config(default = 3)]
    pub n_classes: usize,
    /// Model width d.
    #[config(default = 128)]
    pub d_model: usize,
    /// Attention heads; must divide `d_model`.
    #[config(default = 8)]
    pub n_heads: usize,
    /// Dropout.
    #[config(default = 0.2)]
    pub dropout: f64,
    /// Quantiles predicted by the regression head.
    #[config(default = "vec![0.1, 0.5, 0.9]")]
    pub quantiles: Vec<f64>,
}

/// Interpretable multi-head attention: per-head queries and keys, one value projection shared by
/// all heads, heads averaged before the output projection.
#[derive(Module, Debug)]
pub struct InterpretableAttention {
    /// Queries of all heads, `d → n_heads · d_k`.
    pub query: Linear,
    /// Keys of all heads, `d → n_heads · d_k`.
    pub key: Linear,
    /// Shared values, `d → d_k`.
    pub value: Linear,
    /// Output `d_k → d`.
    pub output: Linear,
    /// Dropout on the attention weights.
    pub dropout: Dropout,
    /// Heads.
    pub n_heads: usize,
}

impl InterpretableAttention {
    /// `x: [batch, seq, d]` → output `[batch, seq, d]` and head-averaged weights `[batch, seq, seq]`.
    pub fn forward(&self, x: Tensor<3>) -> (Tensor<3>, Tensor<3>) {
        let [b, t, _] = x.dims();
        let nh = self.n_heads;
        let dk = self.value.weight.dims()[1];
        let split = |y: Tensor<3>| y.reshape([b, t, nh, dk]).swap_dims(1, 2); // [b, nh, t, dk]
        let q = split(self.query.forward(x.clone()));
        let k = split(self.key.forward(x.clone()));
        let v = self.value.forward(x).unsqueeze_dim::<4>(1); // [b, 1, t, dk]
        let scores = q.matmul(k.swap_dims(2, 3)).div_scalar((dk as f64).sqrt());
        let mask: Tensor<4, Bool> = Tensor::<2, Bool>::tril_mask([t, t], 0, &scores.device()).unsqueeze_dims(&[0, 1]);
        let weights = softmax(scores.mask_fill(mask.expand([b, nh, t, t]), -1.0e9), 3);
        let heads = self.dropout.forward(weights.clone()).matmul(v); // [b, nh, t, dk]
        let mean = heads.mean_dim(1).reshape([b, t, dk]);
        (self.output.forward(mean), weights.mean_dim(1).reshape([b, t, t]))
    }
}

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
}

impl TftConfig {
    /// Builds the network on `device`.
    pub fn init(&self, device: &Device) -> Tft {
        let d = self.d_model;
        let f = self.n_features;
        let p = self.dropout;
        let grn = |ctx: Option<usize>| Grn::new(d, d, d, ctx, p, device);
        let dk = d / self.n_heads.max(1);
        let u = Initializer::Uniform { min: -1.0, max: 1.0 };
        Tft {
            symbol_embedding: EmbeddingConfig::new(self.n_symbols.max(1), d).init(device),
            ctx_selection: grn(None),
            ctx_enrichment: grn(None),
            ctx_hidden: grn(None),
            ctx_cell: grn(None),
            feature_weight: u.init([f, d], device),
            feature_bias: u.init([f, d], device),
            feature_grns: BatchedGrn::new(f, d, p, device),
            selection: Grn::new(f * d, d, f, Some(d), p, device),
            lstm: FusedLstm::new(d, d, device),
            gate_lstm: GateAddNorm::new(d, p, device),
            enrichment: grn(Some(d)),
            attention: InterpretableAttention {
                query: linear(d, self.n_heads * dk, true, device),
                key: linear(d, self.n_heads * dk, true, device),
                value: linear(d, dk, true, device),
                output: linear(dk, d, true, device),
                dropout: Dropout::new(p),
                n_heads: self.n_heads,
            },
            gate_attention: GateAddNorm::new(d, p, device),
            positionwise: grn(None),
            gate_output: GateAddNorm::new(d, p, device),
            head: linear(d, self.n_classes, true, device),
            quantile_head: linear(d, self.quantiles.len(), true, device),
        }
    }
}

impl Tft {
    /// `x: [batch, seq, F]`, `symbol: [batch]` → logits, quantiles and the interpretation weights.
    pub fn forward(&self, x: Tensor<3>, symbol: Tensor<1, Int>) -> ModelOutput {
        let (out, interpretation) = self.encode(x, symbol);
        let [b, t, d] = out.dims();
        let last = out.narrow(1, t - 1, 1).reshape([b, d]);
        ModelOutput {
            logits: self.head.forward(last.clone()),
            value: self.quantile_head.forward(last),
            confidence: None,
            interpretation: Some(interpretation),
        }
    }

    /// Class logits at every step, `[batch, seq, k]`: step t sees only steps ≤ t.
    pub fn step_logits(&self, x: Tensor<3>, symbol: Tensor<1, Int>) -> Tensor<3> {
        self.head.forward(self.encode(x, symbol).0)
    }

    /// The gated output of every step `[batch, seq, d]` and the interpretation weights.
    pub fn encode(&self, x: Tensor<3>, symbol: Tensor<1, Int>) -> (Tensor<3>, Interpretation) {
        let [b, t, f] = x.dims();
        let d = self.feature_weight.dims()[1];
        let e = self.symbol_embedding.forward(symbol.reshape([b, 1])); // [b, 1, d]
        let c_s = self.ctx_selection.forward(e.clone(), None);
        let c_e = self.ctx_enrichment.forward(e.clone(), None);
        let c_h = self.ctx_hidden.forward(e.clone(), None).reshape([b, d]);
        let c_c = self.ctx_cell.forward(e, None).reshape([b, d]);

        // Variable selection.
        let xi = x.unsqueeze_dim::<4>(3) * self.feature_weight.val().unsqueeze_dims::<4>(&[0, 1])
            + self.feature_bias.val().unsqueeze_dims::<4>(&[0, 1]); // [b, t, f, d]
        let per_var = self
            .feature_grns
            .forward(xi.clone().reshape([b * t, f, d]).swap_dims(0, 1))
            .swap_dims(0, 1)
            .reshape([b, t, f, d]);
        let v = softmax(self.selection.forward(xi.reshape([b, t, f * d]), Some(c_s)), 2); // [b, t, f]
        let phi0 = (per_var * v.clone().unsqueeze_dim::<4>(3)).sum_dim(2).reshape([b, t, d]);

        let (o, _) = self.lstm.forward(phi0.clone(), Some((c_h, c_c)));
        let phi = self.gate_lstm.forward(o, phi0);
        let theta = self.enrichment.forward(phi.clone(), Some(c_e));
        let (att, weights) = self.attention.forward(theta.clone());
        let delta = self.gate_attention.forward(att, theta);
        let psi = self.positionwise.forward(delta, None);
        (self.gate_output.forward(psi, phi), Interpretation { variable_weights: v, attention: weights })
    }
}
