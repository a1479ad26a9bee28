//! A GRU cell with batched gate matrices (PyTorch's `GRUCell` equations).
//!
//! With the gates stacked in PyTorch's order (reset r, update z, new n):
//!
//! ```text
//! r  = σ(W_ir x + b_ir + W_hr h + b_hr)
//! z  = σ(W_iz x + b_iz + W_hz h + b_hz)
//! n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
//! h' = (1 − z) ⊙ n + z ⊙ h
//! ```
//!
//! Each step is two matrix products (`x·W_ih` `[d_in, 3h]`, `h·W_hh` `[h, 3h]`), one sigmoid over
//! the stacked r|z columns and one tanh (computed as `2σ(2x) − 1`, see
//! [`tanh_via_sigmoid`](crate::nn::tanh_via_sigmoid)). Unlike the [`LstmCell`](crate::nn::LstmCell),
//! the weights are stored exactly as PyTorch's (transposed: `[in, 3h]`), unscaled, so a PyTorch
//! `GRUCell`'s `weight_ih.T`, `weight_hh.T`, `bias_ih`, `bias_hh` load as they are.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Distribution, Tensor};

use crate::nn::check;
use crate::nn::lstm::tanh_via_sigmoid;

/// Configuration of a [`GruCell`].
#[derive(Config, Debug)]
pub struct GruCellConfig {
    /// Input width.
    pub d_input: usize,
    /// Hidden width.
    pub d_hidden: usize,
}

impl GruCellConfig {
    /// Checks the widths; the error names the field.
    pub fn validate(&self) -> crate::Result<()> {
        check::positive("GruCellConfig", "d_input", self.d_input)?;
        check::positive("GruCellConfig", "d_hidden", self.d_hidden)
    }

    /// PyTorch's initialisation: every weight and bias uniform in ±1/√h.
    pub fn init(&self, device: &Device) -> crate::Result<GruCell> {
        self.validate()?;
        let h = self.d_hidden;
        let k = 1.0 / (h as f64).sqrt();
        let d = Distribution::Uniform(-k, k);
        Ok(GruCell {
            w_ih: Param::from_tensor(Tensor::random([self.d_input, 3 * h], d, device)),
            w_hh: Param::from_tensor(Tensor::random([h, 3 * h], d, device)),
            b_ih: Param::from_tensor(Tensor::random([3 * h], d, device)),
            b_hh: Param::from_tensor(Tensor::random([3 * h], d, device)),
            d_hidden: h,
        })
    }
}

/// One GRU cell, gates stacked as (r, z, n) in the last dimension.
#[derive(Module, Debug)]
pub struct GruCell {
    /// Input weights `[d_input, 3·d_hidden]` (PyTorch's `weight_ih` transposed).
    pub w_ih: Param<Tensor<2>>,
    /// Recurrent weights `[d_hidden, 3·d_hidden]` (PyTorch's `weight_hh` transposed).
    pub w_hh: Param<Tensor<2>>,
    /// Input bias `[3·d_hidden]`.
    pub b_ih: Param<Tensor<1>>,
    /// Recurrent bias `[3·d_hidden]` (kept apart: `b_hn` sits inside `r ⊙ (…)`).
    pub b_hh: Param<Tensor<1>>,
    /// Hidden size.
    pub d_hidden: usize,
}

impl GruCell {
    /// Input part of the gates for `[rows, d_input]` inputs, `b_ih` included: `[rows, 3h]`.
    /// Extra input-side terms (e.g. the HRM's feedback from the slow state) are added to it
    /// before [`GruCell::step`].
    pub fn input_gates(&self, x: Tensor<2>) -> Tensor<2> {
        x.matmul(self.w_ih.val()) + self.b_ih.val().unsqueeze_dim(0)
    }

    /// One step from precomputed input gates `[batch, 3h]`; returns the new `h`.
    pub fn step(&self, input_gates: Tensor<2>, h: Tensor<2>) -> Tensor<2> {
        let hd = self.d_hidden;
        let hg = h.clone().matmul(self.w_hh.val()) + self.b_hh.val().unsqueeze_dim(0);
        let rz = sigmoid(input_gates.clone().narrow(1, 0, 2 * hd) + hg.clone().narrow(1, 0, 2 * hd));
        let r = rz.clone().narrow(1, 0, hd);
        let z = rz.narrow(1, hd, hd);
        let n = tanh_via_sigmoid(input_gates.narrow(1, 2 * hd, hd) + r * hg.narrow(1, 2 * hd, hd));
        // (1 − z) ⊙ n + z ⊙ h = n + z ⊙ (h − n)
        n.clone() + z * (h - n)
    }

    /// One step from the raw input `[batch, d_input]`.
    pub fn forward(&self, x: Tensor<2>, h: Tensor<2>) -> Tensor<2> {
        self.step(self.input_gates(x), h)
    }
}
