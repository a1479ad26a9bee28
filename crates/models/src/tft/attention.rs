//! The TFT's interpretable multi-head attention.

use burn::config::Config;
use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};

use crate::nn::check;
use crate::nn::init::linear;
use crate::nn::{Dropout, DropoutConfig, DropoutRng};

/// Configuration of an [`InterpretableAttention`].
#[derive(Config, Debug)]
pub struct InterpretableAttentionConfig {
    /// Model width d.
    pub d_model: usize,
    /// Heads; must divide `d_model`.
    pub n_heads: usize,
    /// Dropout on the attention weights, in `[0, 1)`.
    pub dropout: f64,
}

impl InterpretableAttentionConfig {
    /// Checks the sizes and the dropout; the error names the field.
    pub fn validate(&self) -> crate::Result<()> {
        check::heads_divide("InterpretableAttentionConfig", "d_model", self.d_model, self.n_heads)?;
        check::probability("InterpretableAttentionConfig", "dropout", self.dropout)
    }

    /// The layer.
    pub fn init(&self, device: &Device) -> crate::Result<InterpretableAttention> {
        self.validate()?;
        let d = self.d_model;
        let dk = d / self.n_heads;
        Ok(InterpretableAttention {
            query: linear(d, self.n_heads * dk, true, device),
            key: linear(d, self.n_heads * dk, true, device),
            value: linear(d, dk, true, device),
            output: linear(dk, d, true, device),
            dropout: DropoutConfig::new(self.dropout).init()?,
            n_heads: self.n_heads,
        })
    }
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
    /// On the flex CPU backend (unless `VANE_FUSED=0` or `VANE_FUSED_ATTENTION=0`) one fused op
    /// ([`fused_tft_attention`](crate::nn::fused_tft_attention)) whose weights carry no gradient;
    /// else [`InterpretableAttention::forward_reference`]. Both draw the same dropout mask from
    /// `rng`.
    pub fn forward(&self, x: Tensor<3>, rng: &mut DropoutRng) -> (Tensor<3>, Tensor<3>) {
        if !crate::nn::fused_attention::fusable(&x) {
            return self.forward_reference(x, rng);
        }
        // The reference path reads the value's width first, and reading a lazily initialised
        // parameter draws its values: the same first read here gives a seeded model the same
        // parameters on both paths.
        let _ = self.value.weight.dims();
        let [b, t, d] = x.dims();
        // Drawn exactly as the reference path's `Dropout::forward` on `[b, heads, t, t]`.
        let mask = self.dropout.mask_tensor(b * self.n_heads * t * t, &x.device(), rng);
        let lins = [&self.query, &self.key, &self.value, &self.output];
        let out = crate::nn::fused_attention::forward_layer(x, lins, mask, self.n_heads, true);
        (out.clone().narrow(2, 0, d), out.narrow(2, d, t).detach())
    }

    /// [`InterpretableAttention::forward`] built from burn ops (any backend; the reference the
    /// fused op is tested against, and what `VANE_FUSED=0` runs).
    pub fn forward_reference(&self, x: Tensor<3>, rng: &mut DropoutRng) -> (Tensor<3>, Tensor<3>) {
        let [b, t, _] = x.dims();
        let nh = self.n_heads;
        let dk = self.value.weight.dims()[1];
        let split = |y: Tensor<3>| y.reshape([b, t, nh, dk]).swap_dims(1, 2); // [b, nh, t, dk]
        let q = split(self.query.forward(x.clone()));
        let k = split(self.key.forward(x.clone()));
        let v = self.value.forward(x).unsqueeze_dim::<4>(1); // [b, 1, t, dk]
        let scores = q.matmul(k.swap_dims(2, 3)).div_scalar((dk as f64).sqrt());
        // Causal mask as an additive `[1, 1, t, t]` bias (0 on and below the diagonal, −10⁹
        // above): after the softmax the same weights as `mask_fill(…, −10⁹)` (the masked
        // exponentials underflow to 0 either way), and the gradient is the same (the softmax's
        // gradient is 0 where its weight is), without a `[b, heads, t, t]` boolean mask and the
        // two `mask_where` passes it costs forward and backward.
        let causal: Vec<f32> = (0..t * t).map(|i| if i % t > i / t { -1.0e9 } else { 0.0 }).collect();
        let causal = Tensor::<4>::from_data(TensorData::new(causal, [1, 1, t, t]), &scores.device());
        let weights = softmax(scores + causal, 3);
        let heads = self.dropout.forward(weights.clone(), rng).matmul(v); // [b, nh, t, dk]
        let mean = heads.mean_dim(1).reshape([b, t, dk]);
        (self.output.forward(mean), weights.mean_dim(1).reshape([b, t, t]))
    }
}
