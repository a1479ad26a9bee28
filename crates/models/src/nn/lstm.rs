//! A fused LSTM cell and the batch-first LSTM layer built on it.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Distribution, Tensor, TensorData};

use crate::nn::check;

/// Configuration of an [`LstmCell`].
#[derive(Config, Debug)]
pub struct LstmCellConfig {
    /// Input width.
    pub d_input: usize,
    /// Hidden (and cell state) width.
    pub d_hidden: usize,
}

impl LstmCellConfig {
    /// Checks the widths; the error names the field.
    pub fn validate(&self) -> crate::Result<()> {
        check::positive("LstmCellConfig", "d_input", self.d_input)?;
        check::positive("LstmCellConfig", "d_hidden", self.d_hidden)
    }

    /// PyTorch's initialisation: every weight and bias uniform in ±1/√h (cell gate: see
    /// [`LstmCell`]).
    pub fn init(&self, device: &Device) -> crate::Result<LstmCell> {
        self.validate()?;
        let h = self.d_hidden;
        Ok(LstmCell {
            w_ih: gate_uniform([self.d_input, 4 * h], h, device),
            w_hh: gate_uniform([h, 4 * h], h, device),
            bias: gate_uniform([4 * h], h, device),
            d_hidden: h,
        })
    }
}

/// One LSTM cell with the four gates stacked in PyTorch's order (input, forget, cell, output).
///
/// The cell gate's `tanh(z)` is computed as `2σ(2z) − 1` from the one sigmoid over all four gates:
/// its weight and bias columns store `2z`'s coefficients (initialised at ±2/√h, i.e. PyTorch's
/// ±1/√h for `z`), which saves a tanh pass forward and backward per step — the flex backend's
/// tanh is scalar `libm` and cost several times a sigmoid.
#[derive(Module, Debug)]
pub struct LstmCell {
    /// Input weights `[d_input, 4·d_hidden]` (cell-gate columns scaled by 2, see above).
    pub w_ih: Param<Tensor<2>>,
    /// Recurrent weights `[d_hidden, 4·d_hidden]` (likewise).
    pub w_hh: Param<Tensor<2>>,
    /// Gate bias `[4·d_hidden]` (likewise).
    pub bias: Param<Tensor<1>>,
    /// Hidden size.
    pub d_hidden: usize,
}

/// Uniform ±1/√h in every column, ±2/√h in the cell-gate columns `[2h, 3h)`.
fn gate_uniform<const D: usize>(shape: [usize; D], h: usize, device: &Device) -> Param<Tensor<D>> {
    let k = 1.0 / (h as f64).sqrt();
    let u = Tensor::<D>::random(shape, Distribution::Uniform(-k, k), device);
    let scale: Vec<f32> = (0..4 * h).map(|c| if (2 * h..3 * h).contains(&c) { 2.0 } else { 1.0 }).collect();
    let mut sshape = [1usize; D];
    sshape[D - 1] = 4 * h;
    let scale = Tensor::<D>::from_data(TensorData::new(scale, sshape), device);
    Param::from_tensor(u * scale)
}

impl LstmCell {
    /// Input part of the gates for `[rows, d_input]` inputs, bias included.
    pub fn input_gates(&self, x: Tensor<2>) -> Tensor<2> {
        x.matmul(self.w_ih.val()) + self.bias.val().unsqueeze_dim(0)
    }

    /// One step from precomputed input gates `[batch, 4h]` (plus any extra additive term).
    pub fn step(&self, input_gates: Tensor<2>, h: Tensor<2>, c: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let hd = self.d_hidden;
        let gates = input_gates + h.matmul(self.w_hh.val());
        let act = sigmoid(gates);
        let i = act.clone().narrow(1, 0, hd);
        let f = act.clone().narrow(1, hd, hd);
        let g = act.clone().narrow(1, 2 * hd, hd).mul_scalar(2.0).sub_scalar(1.0);
        let o = act.narrow(1, 3 * hd, hd);
        let c = f * c + i * g;
        let h = o * tanh_via_sigmoid(c.clone());
        (h, c)
    }
}

/// `tanh(x) = 2σ(2x) − 1`: three cheap element-wise passes and one sigmoid instead of the flex
/// backend's scalar tanh (and its recomputation in the backward pass).
pub fn tanh_via_sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    sigmoid(x.mul_scalar(2.0)).mul_scalar(2.0).sub_scalar(1.0)
}

/// Configuration of a [`FusedLstm`].
#[derive(Config, Debug)]
pub struct FusedLstmConfig {
    /// Input width.
    pub d_input: usize,
    /// Hidden width.
    pub d_hidden: usize,
}

impl FusedLstmConfig {
    /// Checks the widths; the error names the field.
    pub fn validate(&self) -> crate::Result<()> {
        LstmCellConfig::new(self.d_input, self.d_hidden).validate()
    }

    /// A new LSTM layer.
    pub fn init(&self, device: &Device) -> crate::Result<FusedLstm> {
        Ok(FusedLstm { cell: LstmCellConfig::new(self.d_input, self.d_hidden).init(device)? })
    }
}

/// A single-layer, batch-first LSTM built on [`LstmCell`]; each step's input is sliced from `x`
/// and projected inside the time loop (see the module docs for why not before it).
#[derive(Module, Debug)]
pub struct FusedLstm {
    /// The cell.
    pub cell: LstmCell,
}

impl FusedLstm {
    /// `x: [batch, seq, d_input]` → all hidden states `[batch, seq, h]` and the last `(h, c)`.
    /// The state starts at zero unless `init` is given.
    pub fn forward(&self, x: Tensor<3>, init: Option<(Tensor<2>, Tensor<2>)>) -> (Tensor<3>, (Tensor<2>, Tensor<2>)) {
        let [b, t, d] = x.dims();
        let hd = self.cell.d_hidden;
        let (mut h, mut c) = init.unwrap_or_else(|| {
            let z = Tensor::zeros([b, hd], &x.device());
            (z.clone(), z)
        });
        let mut outs = Vec::with_capacity(t);
        for step in 0..t {
            let g = self.cell.input_gates(x.clone().narrow(1, step, 1).reshape([b, d]));
            (h, c) = self.cell.step(g, h, c);
            outs.push(h.clone());
        }
        (Tensor::stack(outs, 1), (h, c))
    }

    /// All hidden states `[batch, seq, h]` of `x: [batch, seq, d_input]`: the fused sequence op
    /// ([`lstm_sequence`](crate::nn::fused_seq::lstm_sequence), one autodiff node with a
    /// hand-written BPTT) on the flex CPU device, [`forward`](Self::forward) (the reference path)
    /// elsewhere or with `VANE_FUSED=0`. The state starts at zero unless `init` is given.
    pub fn forward_sequence(&self, x: Tensor<3>, init: Option<(Tensor<2>, Tensor<2>)>) -> Tensor<3> {
        if !crate::nn::fused_seq::fused_available(&x.device()) {
            return self.forward(x, init).0;
        }
        let [b, _, _] = x.dims();
        let (h0, c0) = init.unwrap_or_else(|| {
            let z = Tensor::zeros([b, self.cell.d_hidden], &x.device());
            (z.clone(), z)
        });
        crate::nn::fused_seq::lstm_sequence(x, self.cell.w_ih.val(), self.cell.w_hh.val(), self.cell.bias.val(), h0, c0)
    }
}
