//! Building blocks shared by the models, each a `FooConfig::init(&device) → Result<Foo>` pair as
//! in burn-nn: a fused LSTM cell and layer, the TFT's gated residual network and gate–add–norm,
//! multi-head self-attention, and dropout driven by an explicit [`DropoutRng`](crate::nn::DropoutRng).
//!
//! burn's own `Lstm` runs eight matrix products and eight activations per time step (one per
//! gate and input). [`LstmCell`](crate::nn::LstmCell) keeps one `[d_in, 4h]` and one `[h, 4h]` matrix: each step is
//! two matrix products, one sigmoid and one tanh over the stacked gates. The step input is sliced
//! from the layer input rather than from a hoisted `[batch, seq, 4h]` projection: burn's autodiff
//! turns each slice into a full-size zero tensor in the backward pass, so slicing the 4× narrower
//! input (or, for data inputs, a tensor that needs no gradient at all) is what keeps the
//! backward pass from growing with seq².

/// Multi-head self-attention.
pub mod attention;
pub(crate) mod check;
/// Dropout and its random stream.
pub mod dropout;
pub mod fast_math;
/// Multi-head self-attention as one autodiff node with a hand-written backward (flex CPU).
pub mod fused_attention;
/// The CNN-LSTM's conv block (conv, norm, GELU, residual) as one autodiff node (flex CPU).
pub mod fused_conv;
/// The TFT's per-variable GRNs as one autodiff node with a hand-written backward (flex CPU).
pub mod fused_grn;
/// The LSTM HRM's two-timescale recurrence as one autodiff node with hand-written BPTT (flex CPU).
pub mod fused_hrm;
/// The GRU HRM's two-timescale recurrence as one autodiff node with hand-written BPTT (flex CPU).
pub mod fused_hrm_gru;
pub mod fused_par;
pub mod fused_seq;
/// The TFT's interpretable attention as one autodiff node with a hand-written backward (flex CPU).
pub mod fused_tft_attention;
/// Gated linear unit, gate–add–norm, gated residual networks.
pub mod grn;
/// GRU cell (PyTorch's equations, batched gates).
pub mod gru;
pub(crate) mod init;
/// LSTM cell and layer.
pub mod lstm;

pub use attention::{SelfAttention, SelfAttentionConfig};
pub use dropout::{Dropout, DropoutConfig, DropoutRng};
pub use grn::{BatchedGrn, BatchedGrnConfig, GateAddNorm, GateAddNormConfig, Glu, GluConfig, Grn, GrnConfig};
pub use gru::{GruCell, GruCellConfig};
pub use lstm::{FusedLstm, FusedLstmConfig, LstmCell, LstmCellConfig, tanh_via_sigmoid};
