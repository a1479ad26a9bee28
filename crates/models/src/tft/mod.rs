//! Temporal Fusion Transformer (Lim et al. 2021), as seed 004 uses it: one static input (the
//! symbol), past observed features, a classification head and a quantile head at the last step.
//!
//! ```text
//! e = Embedding(n_symbols, d)(symbol)
//! c_s, c_e, c_h, c_c = GRN_s(e), GRN_e(e), GRN_h(e), GRN_c(e)             static contexts
//! ξ_j = x_j · W_j + b_j  (per feature, W, b: [F, d]);  ξ̃_j = GRN_j(ξ_j)    per-variable GRNs
//! v = softmax(GRN_v(flatten ξ, c_s)) ∈ Δ^F;  φ₀ = Σ_j v_j ξ̃_j              variable selection
//! φ₀ ← φ₀ + PE  (sinusoidal, [`PositionalEncoding`]; off for `None`)       positional encoding
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

/// [`InterpretableAttention`].
pub mod attention;
/// [`TftConfig`].
pub mod config;
/// Variable-selection and attention summaries over a dataset.
pub mod interpret;
/// [`Tft`].
pub mod model;

pub use attention::{InterpretableAttention, InterpretableAttentionConfig};
pub use config::{PositionalEncoding, TftConfig};
pub use interpret::{FeatureWeight, TftInterpretation, interpret};
pub use model::{Tft, sinusoidal, sinusoidal_table};
