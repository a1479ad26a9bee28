//! The HRM network.

use burn::module::{Module, Param};
use burn::nn::{LayerNorm, Linear};
use burn::tensor::Tensor;

use crate::nn::{Dropout, DropoutRng, GruCell, LstmCell};
use crate::output::ModelOutput;

/// The HRM network. Exactly one pair of cells is present: `low`/`high` (LSTM, the fields' names
/// unchanged so models saved before the GRU option load as they are) or `low_gru`/`high_gru`.
#[derive(Module, Debug)]
pub struct Hrm {
    /// Fast LSTM cell (LSTM HRM); its input weights cover `[x_t]` only, the feedback has its own
    /// matrix.
    pub low: Option<LstmCell>,
    /// Feedback `[H_high, g·H_low]` from the slow state into the fast cell's input-side gates
    /// (g = 4 for the LSTM, 3 for the GRU).
    pub feedback: Param<Tensor<2>>,
    /// Slow LSTM cell (LSTM HRM).
    pub high: Option<LstmCell>,
    /// Fast GRU cell (GRU HRM), input weights over `[x_t]` only.
    pub low_gru: Option<GruCell>,
    /// Slow GRU cell (GRU HRM).
    pub high_gru: Option<GruCell>,
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
    /// Fast-cell width.
    pub hidden_low: usize,
    /// Slow-cell width.
    pub hidden_high: usize,
}

impl Hrm {
    /// `x: [batch, seq, F]` → the last step's `(h_low, h_high)`.
    pub fn states(&self, x: Tensor<3>) -> (Tensor<2>, Tensor<2>) {
        let (h_low, h_high, _) = self.run(x, false);
        (h_low, h_high)
    }

    /// The slow state after every step, `[batch, seq, H_high]` (inspection and tests: it changes
    /// only at steps where `(t + 1) % high_period == 0`).
    pub fn high_states(&self, x: Tensor<3>) -> Tensor<3> {
        let (_, _, trace) = self.run(x, true);
        Tensor::stack(trace, 1)
    }

    fn run(&self, x: Tensor<3>, trace: bool) -> (Tensor<2>, Tensor<2>, Vec<Tensor<2>>) {
        let [b, t, f] = x.dims();
        let (hl, hh) = (self.hidden_low, self.hidden_high);
        let period = self.high_period.max(1);
        let device = x.device();
        let mut h_low = Tensor::zeros([b, hl], &device);
        let mut h_high = Tensor::zeros([b, hh], &device);
        let mut fb = h_high.clone().matmul(self.feedback.val());
        let mut highs = Vec::with_capacity(if trace { t } else { 0 });
        if let (false, Some(low), Some(high)) = (trace, &self.low, &self.high)
            && crate::nn::fused_seq::fused_available(&device)
        {
            let both = crate::nn::fused_hrm::hrm_lstm(
                x,
                low.w_ih.val(),
                low.w_hh.val(),
                low.bias.val(),
                high.w_ih.val(),
                high.w_hh.val(),
                high.bias.val(),
                self.feedback.val(),
                period,
            );
            return (both.clone().narrow(1, 0, hl), both.narrow(1, hl, hh), highs);
        }
        if let (false, Some(low), Some(high)) = (trace, &self.low_gru, &self.high_gru)
            && crate::nn::fused_seq::fused_available(&device)
        {
            let both = crate::nn::fused_hrm_gru::hrm_gru(
                x,
                low.w_ih.val(),
                low.w_hh.val(),
                low.b_ih.val(),
                low.b_hh.val(),
                high.w_ih.val(),
                high.w_hh.val(),
                high.b_ih.val(),
                high.b_hh.val(),
                self.feedback.val(),
                period,
            );
            return (both.clone().narrow(1, 0, hl), both.narrow(1, hl, hh), highs);
        }
        let step_x = |step: usize| x.clone().narrow(1, step, 1).reshape([b, f]);
        match (&self.low, &self.high, &self.low_gru, &self.high_gru) {
            (_, _, Some(low), Some(high)) => {
                for step in 0..t {
                    h_low = low.step(low.input_gates(step_x(step)) + fb.clone(), h_low);
                    if (step + 1) % period == 0 {
                        h_high = high.forward(h_low.clone(), h_high);
                        fb = h_high.clone().matmul(self.feedback.val());
                    }
                    if trace {
                        highs.push(h_high.clone());
                    }
                }
            }
            (Some(low), Some(high), _, _) => {
                let mut c_low = Tensor::zeros([b, hl], &device);
                let mut c_high = Tensor::zeros([b, hh], &device);
                for step in 0..t {
                    let g = low.input_gates(step_x(step)) + fb.clone();
                    (h_low, c_low) = low.step(g, h_low, c_low);
                    if (step + 1) % period == 0 {
                        let gh = high.input_gates(h_low.clone());
                        (h_high, c_high) = high.step(gh, h_high, c_high);
                        fb = h_high.clone().matmul(self.feedback.val());
                    }
                    if trace {
                        highs.push(h_high.clone());
                    }
                }
            }
            // `HrmConfig::init` always builds one pair; a hand-built Hrm without cells runs none.
            _ => {}
        }
        (h_low, h_high, highs)
    }

    /// `x: [batch, seq, F]` → logits `[batch, k]` and value `[batch, 1]`; dropout draws from `rng`.
    pub fn forward(&self, x: Tensor<3>, rng: &mut DropoutRng) -> ModelOutput {
        let (h_low, h_high) = self.states(x);
        let z = self.dropout.forward(self.norm.forward(Tensor::cat(vec![h_low, h_high], 1)), rng);
        ModelOutput {
            logits: self.head.forward(z.clone()),
            value: self.value_head.forward(z),
            confidence: None,
            interpretation: None,
        }
    }
}
