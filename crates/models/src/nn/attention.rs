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
    /// `x: [batch, seq, d]` → `[batch, seq, d]`.
    pub fn forward(&self, x: Tensor<3>, rng: &mut DropoutRng) -> Tensor<3> {
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
