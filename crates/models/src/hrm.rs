//! Hierarchical recurrent model (seed 000's L1 network: the Hierarchical Reasoning Model's two
//! timescales adapted to series).
//!
//! ```text
//! low  = LSTM cell (F + H_high → H_low), updated every step from [x_t, h_high]
//! high = LSTM cell (H_low → H_high), updated when (t + 1) % high_period == 0 from h_low
//! z = dropout(LayerNorm([h_low, h_high]))  at the last step
//! logits = Linear(H_low + H_high → k)(z),  value = Linear(H_low + H_high → 1)(z)
//! ```
//! The high state's contribution to the low cell's gates, `h_high · W_fb`, changes only when the
//! high cell updates, so it is computed once per update rather than once per step.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Initializer, LayerNorm, Linear};
use burn::tensor::{Device, Tensor};

use crate::model::ModelOutput;
use crate::nn::{Dropout, LstmCell, layer_norm, linear};

/// HRM hyper-parameters (seed 000: `--hrm-high-period 10 --hrm-hidden-low 64 --hrm-hidden-high 64`).
#[derive(Config, Debug)]
pub struct HrmConfig {
    /// Input features per step.
    pub n_features: usize,
    /// Output classes.
    #[config(default = 3)]
    pub n_classes: usize,
    /// Hidden size of the fast (every-step) cell.
    #[config(default = 64)]
    pub hidden_low: usize,
    /// Hidden size of the slow cell.
    #[config(default = 64)]
    pub hidden_high: usize,
    /// The slow cell updates every `high_period` steps.
    #[config(default = 10)]
    pub high_period: usize,
    /// Dropout before the heads.
    #[config(default = 0.1)]
    pub dropout: f64,
}

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

impl HrmConfig {
    /// Builds the network on `device`.
    pub fn init(&self, device: &Device) -> Hrm {
        let (hl, hh) = (self.hidden_low, self.hidden_high);
        // The low cell's input is [x_t, h_high]: one PyTorch LSTMCell(F + H_high, H_low), whose
        // input matrix is kept as two parameters, the x part and the feedback part, with the same
        // uniform ±1/√H_low initialisation.
        let low = LstmCell::new(self.n_features, hl, device);
        let k = 1.0 / (hl as f64).sqrt();
        let feedback = Initializer::Uniform { min: -k, max: k }.init([hh, 4 * hl], device);
        Hrm {
            low,
            feedback,
            high: LstmCell::new(hl, hh, device),
            norm: layer_norm(hl + hh, device),
            dropout: Dropout::new(self.dropout),
            head: linear(hl + hh, self.n_classes, true, device),
            value_head: linear(hl + hh, 1, true, device),
            high_period: self.high_period.max(1),
        }
    }
}

impl Hrm {
    /// `x: [batch, seq, F]` → logits `[batch, k]` and value `[batch, 1]`.
    pub fn forward(&self, x: Tensor<3>) -> ModelOutput {
        let [b, t, f] = x.dims();
        let (hl, hh) = (self.low.d_hidden, self.high.d_hidden);
        let device = x.device();
        let mut h_low = Tensor::zeros([b, hl], &device);
        let mut c_low = Tensor::zeros([b, hl], &device);
        let mut h_high = Tensor::zeros([b, hh], &device);
        let mut c_high = Tensor::zeros([b, hh], &device);
        let mut fb = h_high.clone().matmul(self.feedback.val());
        for step in 0..t {
            let g = self.low.input_gates(x.clone().narrow(1, step, 1).reshape([b, f])) + fb.clone();
            (h_low, c_low) = self.low.step(g, h_low, c_low);
            if (step + 1) % self.high_period == 0 {
                let gh = self.high.input_gates(h_low.clone());
                (h_high, c_high) = self.high.step(gh, h_high, c_high);
                fb = h_high.clone().matmul(self.feedback.val());
            }
        }
        let z = self.dropout.forward(self.norm.forward(Tensor::cat(vec![h_low, h_high], 1)));
        ModelOutput {
            logits: self.head.forward(z.clone()),
            value: self.value_head.forward(z),
            confidence: None,
            interpretation: None,
        }
    }
}
