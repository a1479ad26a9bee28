//! The HRM network.

use burn::module::{Module, Param};
use burn::nn::{LayerNorm, Linear};
use burn::tensor::Tensor;

use crate::nn::{Dropout, DropoutRng, LstmCell};
use crate::output::ModelOutput;

/// The HRM network.
#[derive(Module, Debug)]
pub struct Hrm {
    /// Fast cell; its input weights cover `[x_t]` only, the feedback has its own matrix.
    pub low: LstmCell,
    /// Feedback `[H_high, 4·H_low]` from the slow state into the fast cell's gates.
    pub feedback: Param<Tensor<2>>,
    /// Slow cell.
    pub high: LstmCell,
    /// Norm over `[h_low, h_high]`.
    pub norm: LayerNorm,
    /// Dropout before the heads.
    pub dropout: Dropout,
    /// Class head.
    pub head: Linear,
    /// Regression head.
    pub value_head: Linear,
    /// Slow-cell period.
    pub high_period: usize,
}

impl Hrm {
    /// `x: [batch, seq, F]` → logits `[batch, k]` and value `[batch, 1]`; dropout draws from `rng`.
    pub fn forward(&self, x: Tensor<3>, rng: &mut DropoutRng) -> ModelOutput {
        let [b, t, f] = x.dims();
        let (hl, hh) = (self.low.d_hidden, self.high.d_hidden);
        let period = self.high_period.max(1);
        let device = x.device();
        let mut h_low = Tensor::zeros([b, hl], &device);
        let mut c_low = Tensor::zeros([b, hl], &device);
        let mut h_high = Tensor::zeros([b, hh], &device);
        let mut c_high = Tensor::zeros([b, hh], &device);
        let mut fb = h_high.clone().matmul(self.feedback.val());
        for step in 0..t {
            let g = self.low.input_gates(x.clone().narrow(1, step, 1).reshape([b, f])) + fb.clone();
            (h_low, c_low) = self.low.step(g, h_low, c_low);
            if (step + 1) % period == 0 {
                let gh = self.high.input_gates(h_low.clone());
                (h_high, c_high) = self.high.step(gh, h_high, c_high);
                fb = h_high.clone().matmul(self.feedback.val());
            }
        }
        let z = self.dropout.forward(self.norm.forward(Tensor::cat(vec![h_low, h_high], 1)), rng);
        ModelOutput {
            logits: self.head.forward(z.clone()),
            value: self.value_head.forward(z),
            confidence: None,
            interpretation: None,
        }
    }
}
