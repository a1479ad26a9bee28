//! Standard multi-head self-attention.

use burn::config::Config;
use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};

use crate::nn::check;
use crate::nn::dropout::{Dropout, DropoutConfig, DropoutRng};
use crate::nn::init::linear;

/// Configuration of a [`SelfAttention`].
#[derive(Config, Debug)]
pub struct SelfAttentionConfig {
    /// Model width.
    pub d: usize,
    /// Heads; must divide `d`.
    pub n_heads: usize,
    /// Dropout on the attention weights, in `[0, 1)`.
    pub dropout: f64,
}

impl SelfAttentionConfig {
    /// Checks the sizes and the dropout; the error names the field.
    pub fn validate(&self) -> crate::Result<()> {
        check::heads_divide("SelfAttentionConfig", "d", self.d, self.n_heads)?;
        check::probability("SelfAttentionConfig", "dropout", self.dropout)
    }

    /// The layer.
    pub fn init(&self, device: &Device) -> crate::Result<SelfAttention> {
        self.validate()?;
        let d = self.d;
        Ok(SelfAttention {
            query: linear(d, d, true, device),
            key: linear(d, d, true, device),
            value: linear(d, d, true, device),
            output: linear(d, d, true, device),
            dropout: DropoutConfig::new(self.dropout).init()?,
            n_heads: self.n_heads,
        })
    }
}

/// Standard multi-head self-attention (as PyTorch's `nn.MultiheadAttention`): per-head queries,
/// keys and values from `d → d` projections, softmax(QKᵀ/√d_k), dropout on the weights, heads
/// concatenated and projected `d → d`.
#[derive(Module, Debug)]
pub struct SelfAttention {
    /// Queries.
    pub query: Linear,
    /// Keys.
    pub key: Linear,
    /// Values.
    pub value: Linear,
    /// Output projection.
    pub output: Linear,
    /// Dropout on the attention weights.
    pub dropout: Dropout,
    /// Heads.
    pub n_heads: usize,
}

impl SelfAttention {
    /// `x: [batch, seq, d]` → `[batch, seq, d]`. On the flex CPU backend (unless `VANE_FUSED=0`,
    /// see [`fused_available`](crate::nn::fused_seq::fused_available)) this runs as one fused op
    /// with a hand-written backward ([`fused_attention`](crate::nn::fused_attention)); the same
    /// parameters and the same dropout mask from `rng`, equal to [`SelfAttention::forward_reference`]
    /// up to `f32` rounding.
    pub fn forward(&self, x: Tensor<3>, rng: &mut DropoutRng) -> Tensor<3> {
        if !crate::nn::fused_attention::fusable(&x) {
            return self.forward_reference(x, rng);
        }
        let [b, t, _] = x.dims();
        let n = b * self.n_heads * t * t;
        // Drawn exactly as `Dropout::forward` draws the reference path's mask on `[b, heads, t, t]`
        // (a one-element `[1.0]` stands for "no mask": multiplying by it changes nothing).
        let mask = self.dropout.mask_tensor(n, &x.device(), rng);
        let lins = [&self.query, &self.key, &self.value, &self.output];
        crate::nn::fused_attention::forward_layer(x, lins, mask, self.n_heads, false)
    }

    /// The reference path in burn ops (about fifteen autodiff nodes): what [`SelfAttention::forward`]
    /// runs with `VANE_FUSED=0` or off the flex backend.
    pub fn forward_reference(&self, x: Tensor<3>, rng: &mut DropoutRng) -> Tensor<3> {
        let [b, t, d] = x.dims();
        let nh = self.n_heads;
        let dk = d / nh;
        let split = |y: Tensor<3>| y.reshape([b, t, nh, dk]).swap_dims(1, 2); // [b, nh, t, dk]
        let q = split(self.query.forward(x.clone()));
        let k = split(self.key.forward(x.clone()));
        let v = split(self.value.forward(x));
        let w = burn::tensor::activation::softmax(q.matmul(k.swap_dims(2, 3)).div_scalar((dk as f64).sqrt()), 3);
        let heads = self.dropout.forward(w, rng).matmul(v); // [b, nh, t, dk]
        self.output.forward(heads.swap_dims(1, 2).reshape([b, t, d]))
    }
}
