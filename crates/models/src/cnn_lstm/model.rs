//! The CNN-LSTM v2 network.

use burn::module::Module;
use burn::nn::conv::Conv1d;
use burn::nn::{LayerNorm, Linear, PaddingConfig1d};
use burn::tensor::activation::{gelu, sigmoid};
use burn::tensor::{Tensor, TensorData};

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

/// Whether the fused convolution block is switched on: [`fused_available`](crate::nn::fused_seq::fused_available)'s
/// switch (`VANE_FUSED=0` turns every fused op off), and not turned off alone by
/// `VANE_FUSED_CONV=0` (for before/after measurements of this op only).
fn conv_fusion_enabled(device: &burn::tensor::Device) -> bool {
    crate::nn::fused_seq::fused_available(device) && !crate::nn::fused_seq::switched_off("VANE_FUSED_CONV")
}

impl ConvBlock {
    /// `[batch, seq, c_in]` → `GELU(LayerNorm(conv))`, `[batch, seq, c_out]`.
    ///
    /// On the flex CPU backend (unless `VANE_FUSED=0`) this runs as one fused op with a
    /// hand-written backward ([`fused_conv`](crate::nn::fused_conv)); [`ConvBlock::forward_reference`]
    /// is the same function built from burn ops.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        match self.fusable(&x) {
            true => {
                let no_mask = Tensor::<1>::from_data(TensorData::new(vec![1.0f32], [1]), &x.device());
                self.fused(x, no_mask, false)
            }
            false => self.forward_reference(x),
        }
    }

    /// `h + dropout(self.forward(h))` (`c_in = c_out`), the mask drawn from `rng` exactly as
    /// [`Dropout::forward`] draws it; fused into the same op as [`ConvBlock::forward`] when it is.
    pub fn forward_residual(&self, h: Tensor<3>, dropout: &Dropout, rng: &mut DropoutRng) -> Tensor<3> {
        if !self.fusable(&h) || h.dims()[2] != self.conv.weight.dims()[0] {
            return self.forward_residual_reference(h, dropout, rng);
        }
        let [b, t, _] = h.dims();
        let co = self.conv.weight.dims()[0];
        let mask = dropout.mask_tensor(b * t * co, &h.device(), rng);
        self.fused(h, mask, true)
    }

    /// [`ConvBlock::forward`] built from burn tensor ops (any backend; the reference the fused op
    /// is tested against).
    pub fn forward_reference(&self, x: Tensor<3>) -> Tensor<3> {
        let y = self.conv.forward(x.swap_dims(1, 2)).swap_dims(1, 2);
        gelu(self.norm.forward(y))
    }

    /// [`ConvBlock::forward_residual`] built from burn tensor ops.
    pub fn forward_residual_reference(&self, h: Tensor<3>, dropout: &Dropout, rng: &mut DropoutRng) -> Tensor<3> {
        h.clone() + dropout.forward(self.forward_reference(h), rng)
    }

    /// Whether the fused op computes this block on `x`'s device: flex, fusion on, a bias and a
    /// norm shift, stride and dilation 1, one group, an odd kernel with "same" padding.
    fn fusable(&self, x: &Tensor<3>) -> bool {
        let c = &self.conv;
        let k = c.kernel_size;
        let same = match c.padding {
            PaddingConfig1d::Same => true,
            PaddingConfig1d::Explicit(l, r) => l == k / 2 && r == k / 2,
            PaddingConfig1d::Valid => k == 1,
        };
        x.shape().num_elements() > 0
            && c.bias.is_some()
            && self.norm.beta.is_some()
            && c.stride == 1
            && c.dilation == 1
            && c.groups == 1
            && k % 2 == 1
            && same
            && x.dims()[2] == c.weight.dims()[1]
            && conv_fusion_enabled(&x.device())
    }

    fn fused(&self, x: Tensor<3>, mask: Tensor<1>, residual: bool) -> Tensor<3> {
        let (Some(bias), Some(beta)) = (&self.conv.bias, &self.norm.beta) else {
            return self.forward_reference(x);
        };
        crate::nn::fused_conv::conv_block(
            x,
            self.conv.weight.val(),
            bias.val(),
            self.norm.gamma.val(),
            beta.val(),
            mask,
            residual,
        )
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
            h = block.forward_residual(h, &self.dropout, rng);
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
