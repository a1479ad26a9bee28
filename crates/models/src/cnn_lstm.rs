//! CNN-LSTM v2 (seed 002's `hybrid_cnn_lstm_v2`).
//!
//! ```text
//! h = GELU(LayerNorm(Conv1d(F → C, k, same)(x)))                         stem
//! repeat n_blocks: h = h + Dropout(GELU(LayerNorm(Conv1d(C → C, k, same)(h))))
//! s = LSTM(C → H)(h)
//! s = LayerNorm(s + Dropout(MHA(s, s, s; n_heads)))                      self-attention
//! p = [mean_t s, s_T]                                                    pooling, 2H
//! logits     = Linear(H → k)(Dropout(GELU(Linear(2H → H)(p))))
//! confidence = σ(Linear(2H → 1)(p)),  value = Linear(2H → 1)(p)
//! ```

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{Initializer, LayerNorm, Linear, PaddingConfig1d};
use burn::tensor::activation::{gelu, sigmoid};
use burn::tensor::{Device, Tensor};

use crate::model::ModelOutput;
use crate::nn::{Dropout, FusedLstm, SelfAttention, layer_norm, linear};

/// CNN-LSTM v2 hyper-parameters.
#[derive(Config, Debug)]
pub struct CnnLstmConfig {
    /// Input features per step.
    pub n_features: usize,
    /// Output classes.
    #[config(default = 3)]
    pub n_classes: usize,
    /// Convolution channels C.
    #[config(default = 64)]
    pub conv_channels: usize,
    /// Residual convolution blocks after the stem.
    #[config(default = 2)]
    pub n_conv_blocks: usize,
    /// Convolution kernel (odd; "same" padding).
    #[config(default = 3)]
    pub kernel_size: usize,
    /// LSTM hidden size H.
    #[config(default = 64)]
    pub lstm_hidden: usize,
    /// Attention heads (seed 002: 4 instead of 1); must divide H.
    #[config(default = 4)]
    pub n_heads: usize,
    /// Dropout (seed 002's presets set it: 0.4 production_small, 0.3 large, 0.5 conservative).
    #[config(default = 0.4)]
    pub dropout: f64,
}

/// One residual convolution block.
#[derive(Module, Debug)]
pub struct ConvBlock {
    /// Convolution.
    pub conv: Conv1d,
    /// Norm over channels.
    pub norm: LayerNorm,
}

/// The CNN-LSTM v2 network.
#[derive(Module, Debug)]
pub struct CnnLstm {
    /// Stem convolution F → C.
    pub stem: ConvBlock,
    /// Residual blocks C → C.
    pub blocks: Vec<ConvBlock>,
    /// Recurrent layer.
    pub lstm: FusedLstm,
    /// Self-attention.
    pub attention: SelfAttention,
    /// Norm after the attention residual.
    pub attention_norm: LayerNorm,
    /// Shared dropout.
    pub dropout: Dropout,
    /// Direction head, first layer 2H → H.
    pub dir_hidden: Linear,
    /// Direction head, output H → k.
    pub dir_out: Linear,
    /// Confidence head 2H → 1.
    pub confidence: Linear,
    /// Return head 2H → 1.
    pub value: Linear,
}

fn conv(c_in: usize, c_out: usize, k: usize, device: &Device) -> ConvBlock {
    let bound = 1.0 / ((c_in * k) as f64).sqrt();
    ConvBlock {
        conv: Conv1dConfig::new(c_in, c_out, k)
            .with_padding(PaddingConfig1d::Explicit(k / 2, k / 2))
            .with_initializer(Initializer::Uniform { min: -bound, max: bound })
            .init(device),
        norm: layer_norm(c_out, device),
    }
}

impl ConvBlock {
    /// `[batch, seq, c_in]` → `GELU(LayerNorm(conv))`, `[batch, seq, c_out]`.
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let y = self.conv.forward(x.swap_dims(1, 2)).swap_dims(1, 2);
        gelu(self.norm.forward(y))
    }
}

impl CnnLstmConfig {
    /// Builds the network on `device`.
    pub fn init(&self, device: &Device) -> CnnLstm {
        let (c, h, k) = (self.conv_channels, self.lstm_hidden, self.kernel_size);
        let d = |p: f64| Dropout::new(p);
        CnnLstm {
            stem: conv(self.n_features, c, k, device),
            blocks: (0..self.n_conv_blocks).map(|_| conv(c, c, k, device)).collect(),
            lstm: FusedLstm::new(c, h, device),
            attention: SelfAttention::new(h, self.n_heads, self.dropout, device),
            attention_norm: layer_norm(h, device),
            dropout: d(self.dropout),
            dir_hidden: linear(2 * h, h, true, device),
            dir_out: linear(h, self.n_classes, true, device),
            confidence: linear(2 * h, 1, true, device),
            value: linear(2 * h, 1, true, device),
        }
    }
}

impl CnnLstm {
    /// `x: [batch, seq, F]` → logits, confidence and value.
    pub fn forward(&self, x: Tensor<3>) -> ModelOutput {
        let mut h = self.stem.forward(x);
        for block in &self.blocks {
            h = h.clone() + self.dropout.forward(block.forward(h));
        }
        let (s, _) = self.lstm.forward(h, None);
        let [b, t, hd] = s.dims();
        let a = self.attention.forward(s.clone());
        let s = self.attention_norm.forward(s + self.dropout.forward(a));
        let last = s.clone().narrow(1, t - 1, 1).reshape([b, hd]);
        let mean = s.mean_dim(1).reshape([b, hd]);
        let p = Tensor::cat(vec![mean, last], 1);
        let dir = self.dir_out.forward(self.dropout.forward(gelu(self.dir_hidden.forward(p.clone()))));
        ModelOutput {
            logits: dir,
            value: self.value.forward(p.clone()),
            confidence: Some(sigmoid(self.confidence.forward(p))),
            interpretation: None,
        }
    }
}
