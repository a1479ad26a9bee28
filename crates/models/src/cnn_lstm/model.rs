//! The CNN-LSTM v2 network.

use burn::module::Module;
use burn::nn::conv::Conv1d;
use burn::nn::{LayerNorm, Linear};
use burn::tensor::Tensor;
use burn::tensor::activation::{gelu, sigmoid};

use crate::nn::{Dropout, DropoutRng, FusedLstm, SelfAttention};
use crate::output::ModelOutput;

/// One residual convolution block.
#[derive(Module, Debug)]
pub struct ConvBlock {
    /// Convolution.
    pub conv: Conv1d,
    /// Norm over channels.
    pub norm: LayerNorm,
}

impl ConvBlock {
    /// `[batch, seq, c_in]` → `GELU(LayerNorm(conv))`, `[batch, seq, c_out]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let y = self.conv.forward(x.swap_dims(1, 2)).swap_dims(1, 2);
        gelu(self.norm.forward(y))
    }
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

impl CnnLstm {
    /// `x: [batch, seq, F]` → logits, confidence and value; dropout draws from `rng`.
    pub fn forward(&self, x: Tensor<3>, rng: &mut DropoutRng) -> ModelOutput {
        let mut h = self.stem.forward(x);
        for block in &self.blocks {
            h = h.clone() + self.dropout.forward(block.forward(h), rng);
        }
        let s = self.lstm.forward_sequence(h, None);
        let [b, t, hd] = s.dims();
        let a = self.attention.forward(s.clone(), rng);
        let s = self.attention_norm.forward(s + self.dropout.forward(a, rng));
        let last = s.clone().narrow(1, t - 1, 1).reshape([b, hd]);
        let mean = s.mean_dim(1).reshape([b, hd]);
        let p = Tensor::cat(vec![mean, last], 1);
        let dir = self.dir_out.forward(self.dropout.forward(gelu(self.dir_hidden.forward(p.clone())), rng));
        ModelOutput {
            logits: dir,
            value: self.value.forward(p.clone()),
            confidence: Some(sigmoid(self.confidence.forward(p))),
            interpretation: None,
        }
    }
}
