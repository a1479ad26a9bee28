//! The TFT's gating blocks: gated linear unit, gate–add–norm, gated residual network (one and
//! `n` batched).

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Initializer, LayerNorm, Linear};
use burn::tensor::activation::{elu, sigmoid};
use burn::tensor::{Device, Tensor};

use crate::nn::check;
use crate::nn::dropout::{Dropout, DropoutConfig, DropoutRng};
use crate::nn::init::{layer_norm, linear};

/// Configuration of a [`Glu`].
#[derive(Config, Debug)]
pub struct GluConfig {
    /// Input width.
    pub d_in: usize,
    /// Output width.
    pub d_out: usize,
}

impl GluConfig {
    /// Checks the widths; the error names the field.
    pub fn validate(&self) -> crate::Result<()> {
        check::positive("GluConfig", "d_in", self.d_in)?;
        check::positive("GluConfig", "d_out", self.d_out)
    }

    /// `d_in → d_out`.
    pub fn init(&self, device: &Device) -> crate::Result<Glu> {
        self.validate()?;
        Ok(Glu {
            gate: linear(self.d_in, self.d_out, true, device),
            value: linear(self.d_in, self.d_out, true, device),
        })
    }
}

/// Gated linear unit `σ(W₄x + b₄) ⊙ (W₅x + b₅)`.
#[derive(Module, Debug)]
pub struct Glu {
    /// Gate projection.
    pub gate: Linear,
    /// Value projection.
    pub value: Linear,
}

impl Glu {
    /// Applies the unit over the last dimension.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        sigmoid(self.gate.forward(x.clone())) * self.value.forward(x)
    }
}

/// Configuration of a [`GateAddNorm`].
#[derive(Config, Debug)]
pub struct GateAddNormConfig {
    /// Output (and skip) width.
    pub d: usize,
    /// Dropout before the gate, in `[0, 1)`.
    pub dropout: f64,
    /// Width of the gated input when it differs from `d` (the GRN's hidden width).
    pub d_in: Option<usize>,
}

impl GateAddNormConfig {
    /// Checks the widths and the dropout; the error names the field.
    pub fn validate(&self) -> crate::Result<()> {
        check::positive("GateAddNormConfig", "d", self.d)?;
        check::positive("GateAddNormConfig", "d_in", self.d_in.unwrap_or(self.d))?;
        check::probability("GateAddNormConfig", "dropout", self.dropout)
    }

    /// The block.
    pub fn init(&self, device: &Device) -> crate::Result<GateAddNorm> {
        self.validate()?;
        Ok(GateAddNorm {
            dropout: DropoutConfig::new(self.dropout).init()?,
            glu: GluConfig::new(self.d_in.unwrap_or(self.d), self.d).init(device)?,
            norm: layer_norm(self.d, device),
        })
    }
}

/// `LayerNorm(skip + GLU(dropout(x)))`: the TFT's gated skip connection.
#[derive(Module, Debug)]
pub struct GateAddNorm {
    /// Dropout before the gate.
    pub dropout: Dropout,
    /// The gate.
    pub glu: Glu,
    /// The norm.
    pub norm: LayerNorm,
}

impl GateAddNorm {
    /// `LayerNorm(skip + GLU(dropout(x)))`.
    ///
    /// On the flex CPU backend (unless `VANE_FUSED=0`, see
    /// [`fused_available`](crate::nn::fused_seq::fused_available)) one fused op with a
    /// hand-written backward ([`row_gate_add_norm`](crate::nn::fused_grn::row_gate_add_norm));
    /// [`GateAddNorm::forward_reference`] is the same function built from burn ops (same
    /// dropout mask).
    pub fn forward<const D: usize>(&self, x: Tensor<D>, skip: Tensor<D>, rng: &mut DropoutRng) -> Tensor<D> {
        let device = x.device();
        if x.shape().num_elements() == 0 || !crate::nn::fused_seq::fused_available(&device) {
            return self.forward_reference(x, skip, rng);
        }
        let dims = x.dims();
        let h = dims[D - 1];
        let rows = x.shape().num_elements() / h;
        let mask = self.dropout.mask_tensor(rows * h, &device, rng);
        let (w_gate, b_gate) = linear_params(&self.glu.gate, &device);
        let (w_val, b_val) = linear_params(&self.glu.value, &device);
        let o = w_gate.dims()[1];
        let (gamma, beta) = norm_params(&self.norm, o, &device);
        let out = crate::nn::fused_grn::row_gate_add_norm(
            x.reshape([rows, h]),
            mask,
            w_gate,
            b_gate,
            w_val,
            b_val,
            gamma,
            beta,
            skip.reshape([rows, o]),
        );
        let mut od = dims;
        od[D - 1] = o;
        out.reshape(od)
    }

    /// [`GateAddNorm::forward`] built from burn ops (any backend; the reference the fused op is
    /// tested against).
    pub fn forward_reference<const D: usize>(&self, x: Tensor<D>, skip: Tensor<D>, rng: &mut DropoutRng) -> Tensor<D> {
        self.norm.forward(skip + self.glu.forward(self.dropout.forward(x, rng)))
    }
}

/// A linear layer's weight then bias (read in that order, as `Linear::forward` does; zeros for
/// no bias).
fn linear_params(l: &Linear, device: &Device) -> (Tensor<2>, Tensor<1>) {
    let w = l.weight.val();
    let n = w.dims()[1];
    let b = l.bias.as_ref().map(|b| b.val()).unwrap_or_else(|| Tensor::zeros([n], device));
    (w, b)
}

/// A layer norm's gain then shift (zeros for no shift).
fn norm_params(n: &LayerNorm, o: usize, device: &Device) -> (Tensor<1>, Tensor<1>) {
    let gamma = n.gamma.val();
    let beta = n.beta.as_ref().map(|b| b.val()).unwrap_or_else(|| Tensor::zeros([o], device));
    (gamma, beta)
}

/// The number of groups of rows one context row serves when `c` broadcasts against `a` as a
/// prefix of `a`'s leading dims followed by 1s (`[b, 1, ·]` against `[b, t, ·]`: `b` groups of
/// `t` rows); `None` for any other broadcast.
fn context_groups<const D: usize>(a: &[usize; D], c: &[usize; D]) -> Option<usize> {
    let mut k = 0;
    while k + 1 < D && c[k] == a[k] {
        k += 1;
    }
    c[k..D - 1].iter().all(|&x| x == 1).then(|| a[..k].iter().product())
}

/// Configuration of a [`Grn`].
#[derive(Config, Debug)]
pub struct GrnConfig {
    /// Input width.
    pub d_in: usize,
    /// Hidden width.
    pub d_hidden: usize,
    /// Output width.
    pub d_out: usize,
    /// Width of the optional static context.
    pub d_context: Option<usize>,
    /// Dropout on η₁, in `[0, 1)`.
    pub dropout: f64,
}

impl GrnConfig {
    /// Checks the widths and the dropout; the error names the field.
    pub fn validate(&self) -> crate::Result<()> {
        check::positive("GrnConfig", "d_in", self.d_in)?;
        check::positive("GrnConfig", "d_hidden", self.d_hidden)?;
        check::positive("GrnConfig", "d_out", self.d_out)?;
        if let Some(c) = self.d_context {
            check::positive("GrnConfig", "d_context", c)?;
        }
        check::probability("GrnConfig", "dropout", self.dropout)
    }

    /// `d_in → d_out` through `d_hidden`, with an optional context of width `d_context`.
    pub fn init(&self, device: &Device) -> crate::Result<Grn> {
        self.validate()?;
        let (d_in, d_hidden, d_out) = (self.d_in, self.d_hidden, self.d_out);
        Ok(Grn {
            skip: (d_in != d_out).then(|| linear(d_in, d_out, true, device)),
            fc_input: linear(d_in, d_hidden, true, device),
            fc_context: self.d_context.map(|c| linear(c, d_hidden, false, device)),
            fc_hidden: linear(d_hidden, d_hidden, true, device),
            out: GateAddNormConfig::new(d_out, self.dropout).with_d_in(Some(d_hidden)).init(device)?,
        })
    }
}

/// Gated residual network (Lim et al. 2021, eq. 2–4):
/// `η₂ = ELU(W₂a + W₃c + b₂)`, `η₁ = W₁η₂ + b₁`, `GRN = LayerNorm(skip(a) + GLU(dropout(η₁)))`,
/// where `skip` is the identity when the widths agree and a linear map otherwise.
#[derive(Module, Debug)]
pub struct Grn {
    /// Linear skip when `d_in ≠ d_out`.
    pub skip: Option<Linear>,
    /// W₂.
    pub fc_input: Linear,
    /// W₃ (no bias), for the static context.
    pub fc_context: Option<Linear>,
    /// W₁.
    pub fc_hidden: Linear,
    /// Dropout on η₁ then GLU and norm.
    pub out: GateAddNorm,
}

impl Grn {
    /// Applies the network; `context` broadcasts against `a` (same rank, size-1 dims allowed).
    ///
    /// On the flex CPU backend (unless `VANE_FUSED=0`, see
    /// [`fused_available`](crate::nn::fused_seq::fused_available)) everything but the linear
    /// skip and the context projection runs as one fused op with a hand-written backward
    /// ([`row_grn`](crate::nn::fused_grn::row_grn)) when the context is absent or broadcasts as
    /// `[b, 1, ·]` against `[b, t, ·]`; [`Grn::forward_reference`] is the same function built from
    /// burn ops (same parameters read in the same order, same dropout mask).
    pub fn forward<const D: usize>(&self, a: Tensor<D>, context: Option<Tensor<D>>, rng: &mut DropoutRng) -> Tensor<D> {
        let device = a.device();
        let dims = a.dims();
        let context = context.filter(|_| self.fc_context.is_some());
        let groups = match &context {
            Some(c) => context_groups(&dims, &c.dims()),
            None => Some(1),
        };
        let Some(groups) =
            groups.filter(|_| a.shape().num_elements() > 0 && crate::nn::fused_seq::fused_available(&device))
        else {
            return self.forward_reference(a, context, rng);
        };
        let d_in = dims[D - 1];
        let rows = a.shape().num_elements() / d_in;
        let skip = match &self.skip {
            Some(l) => l.forward(a.clone()),
            None => a.clone(),
        };
        let o = skip.dims()[D - 1];
        let (w_in, b_in) = linear_params(&self.fc_input, &device);
        let h = w_in.dims()[1];
        let ctx = match (&self.fc_context, context) {
            (Some(fc), Some(c)) => fc.forward(c).reshape([groups, h]),
            _ => Tensor::zeros([1, h], &device),
        };
        let (w_hid, b_hid) = linear_params(&self.fc_hidden, &device);
        let mask = self.out.dropout.mask_tensor(rows * h, &device, rng);
        let (w_gate, b_gate) = linear_params(&self.out.glu.gate, &device);
        let (w_val, b_val) = linear_params(&self.out.glu.value, &device);
        let (gamma, beta) = norm_params(&self.out.norm, o, &device);
        let out = crate::nn::fused_grn::row_grn(
            a.reshape([rows, d_in]),
            w_in,
            b_in,
            ctx,
            w_hid,
            b_hid,
            mask,
            w_gate,
            b_gate,
            w_val,
            b_val,
            gamma,
            beta,
            skip.reshape([rows, o]),
        );
        let mut od = dims;
        od[D - 1] = o;
        out.reshape(od)
    }

    /// [`Grn::forward`] built from burn ops (any backend; the reference the fused op is tested
    /// against).
    pub fn forward_reference<const D: usize>(
        &self,
        a: Tensor<D>,
        context: Option<Tensor<D>>,
        rng: &mut DropoutRng,
    ) -> Tensor<D> {
        let skip = match &self.skip {
            Some(l) => l.forward(a.clone()),
            None => a.clone(),
        };
        let mut eta = self.fc_input.forward(a);
        if let (Some(fc), Some(c)) = (&self.fc_context, context) {
            eta = eta + fc.forward(c);
        }
        let eta = self.fc_hidden.forward(elu(eta, 1.0));
        self.out.forward_reference(eta, skip, rng)
    }
}

/// Configuration of a [`BatchedGrn`].
#[derive(Config, Debug)]
pub struct BatchedGrnConfig {
    /// Number of independent GRNs (one per variable).
    pub n: usize,
    /// Width of each.
    pub d: usize,
    /// Shared dropout, in `[0, 1)`.
    pub dropout: f64,
}

impl BatchedGrnConfig {
    /// Checks the sizes and the dropout; the error names the field.
    pub fn validate(&self) -> crate::Result<()> {
        check::positive("BatchedGrnConfig", "n", self.n)?;
        check::positive("BatchedGrnConfig", "d", self.d)?;
        check::probability("BatchedGrnConfig", "dropout", self.dropout)
    }

    /// `n` GRNs of width `d`.
    pub fn init(&self, device: &Device) -> crate::Result<BatchedGrn> {
        self.validate()?;
        let (n, d) = (self.n, self.d);
        let k = 1.0 / (d as f64).sqrt();
        let u = Initializer::Uniform { min: -k, max: k };
        Ok(BatchedGrn {
            w_input: u.init([n, d, d], device),
            b_input: u.init([n, 1, d], device),
            w_hidden: u.init([n, d, d], device),
            b_hidden: u.init([n, 1, d], device),
            w_gate: u.init([n, d, d], device),
            b_gate: u.init([n, 1, d], device),
            w_value: u.init([n, d, d], device),
            b_value: u.init([n, 1, d], device),
            dropout: DropoutConfig::new(self.dropout).init()?,
            norm_gamma: Initializer::Ones.init([n, 1, d], device),
            norm_beta: Initializer::Zeros.init([n, 1, d], device),
        })
    }
}

/// `n` independent GRNs `d → d` evaluated as batched matrix products: the input is
/// `[n, rows, d]` (one slab per variable).
#[derive(Module, Debug)]
pub struct BatchedGrn {
    /// W₂ `[n, d, d]`.
    pub w_input: Param<Tensor<3>>,
    /// b₂ `[n, 1, d]`.
    pub b_input: Param<Tensor<3>>,
    /// W₁ `[n, d, d]`.
    pub w_hidden: Param<Tensor<3>>,
    /// b₁ `[n, 1, d]`.
    pub b_hidden: Param<Tensor<3>>,
    /// GLU gate `[n, d, d]`.
    pub w_gate: Param<Tensor<3>>,
    /// GLU gate bias `[n, 1, d]`.
    pub b_gate: Param<Tensor<3>>,
    /// GLU value `[n, d, d]`.
    pub w_value: Param<Tensor<3>>,
    /// GLU value bias `[n, 1, d]`.
    pub b_value: Param<Tensor<3>>,
    /// Shared dropout.
    pub dropout: Dropout,
    /// Per-variable layer-norm gain `[n, 1, d]`.
    pub norm_gamma: Param<Tensor<3>>,
    /// Per-variable layer-norm bias `[n, 1, d]`.
    pub norm_beta: Param<Tensor<3>>,
}

impl BatchedGrn {
    /// `a: [n, rows, d]` → `[n, rows, d]`.
    ///
    /// On the flex CPU backend (unless `VANE_FUSED=0`, see
    /// [`fused_available`](crate::nn::fused_seq::fused_available)) this runs as one fused op
    /// with a hand-written backward ([`fused_grn`](crate::nn::fused_grn)); [`BatchedGrn::forward_reference`]
    /// is the same function built from burn ops.
    pub fn forward(&self, a: Tensor<3>, rng: &mut DropoutRng) -> Tensor<3> {
        let device = a.device();
        if a.shape().num_elements() == 0 || !crate::nn::fused_seq::fused_available(&device) {
            return self.forward_reference(a, rng);
        }
        let n = a.shape().num_elements();
        let mask = self.dropout.mask_tensor(n, &device, rng);
        crate::nn::fused_grn::batched_grn(
            a,
            self.w_input.val(),
            self.b_input.val(),
            self.w_hidden.val(),
            self.b_hidden.val(),
            self.w_gate.val(),
            self.b_gate.val(),
            self.w_value.val(),
            self.b_value.val(),
            self.norm_gamma.val(),
            self.norm_beta.val(),
            mask,
        )
    }

    /// [`BatchedGrn::forward`] built from burn tensor ops (any backend; the reference the fused
    /// op is tested against).
    pub fn forward_reference(&self, a: Tensor<3>, rng: &mut DropoutRng) -> Tensor<3> {
        let eta = elu(a.clone().matmul(self.w_input.val()) + self.b_input.val(), 1.0);
        let eta = self.dropout.forward(eta.matmul(self.w_hidden.val()) + self.b_hidden.val(), rng);
        let glu = sigmoid(eta.clone().matmul(self.w_gate.val()) + self.b_gate.val())
            * (eta.matmul(self.w_value.val()) + self.b_value.val());
        let y = a + glu;
        let mean = y.clone().mean_dim(2);
        let centred = y - mean;
        let var = centred.clone().powi_scalar(2).mean_dim(2);
        centred / var.add_scalar(1e-5).sqrt() * self.norm_gamma.val() + self.norm_beta.val()
    }
}
