//! Building blocks shared by the models: a fused LSTM cell, the TFT's gated residual network and
//! gate–add–norm, and a per-variable (batched) linear layer.
//!
//! burn's own `Lstm` runs eight matrix products and eight activations per time step (one per
//! gate and input). [`LstmCell`] keeps one `[d_in, 4h]` and one `[h, 4h]` matrix: each step is
//! two matrix products, one sigmoid and one tanh over the stacked gates. The step input is sliced
//! from the layer input rather than from a hoisted `[batch, seq, 4h]` projection: burn's autodiff
//! turns each slice into a full-size zero tensor in the backward pass, so slicing the 4× narrower
//! input (or, for data inputs, a tensor that needs no gradient at all) is what keeps the
//! backward pass from growing with seq².

use std::cell::Cell;

use burn::module::{Module, Param};
use burn::nn::{Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::activation::{elu, sigmoid};
use burn::tensor::{Device, Distribution, Tensor, TensorData};

thread_local! {
    static DROPOUT_STATE: Cell<u64> = const { Cell::new(0x9E37_79B9_7F4A_7C15) };
}

/// Seeds the dropout masks of this thread (the trainer does so at every epoch).
pub fn seed_dropout(seed: u64) {
    DROPOUT_STATE.with(|s| s.set(seed ^ 0x9E37_79B9_7F4A_7C15));
}

/// SplitMix64.
fn next_u64() -> u64 {
    DROPOUT_STATE.with(|s| {
        let z = s.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        s.set(z);
        let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

/// Inverted dropout, active only on an autodiff (training) device. The mask comes from a
/// per-thread SplitMix64 stream seeded by [`seed_dropout`]: burn's own `Dropout` samples its
/// Bernoulli mask element by element through ChaCha, which took 16 % of a CNN-LSTM training step
/// on CPU, and its generator is shared by the whole process, so concurrent runs disturb each
/// other's masks. Two 32-bit draws per 64-bit word; the same masks on every backend.
#[derive(Module, Debug)]
pub struct Dropout {
    /// Probability of zeroing an element.
    pub prob: f64,
}

impl Dropout {
    /// Dropout with probability `prob` in [0, 1).
    pub fn new(prob: f64) -> Self {
        assert!((0.0..1.0).contains(&prob), "dropout must be in [0, 1), got {prob}");
        Self { prob }
    }

    /// Applies the mask when training.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        if self.prob == 0.0 || !x.device().is_autodiff() {
            return x;
        }
        let shape = x.shape();
        let n = shape.num_elements();
        let keep = 1.0 - self.prob;
        let threshold = (keep * 4_294_967_296.0) as u64;
        let scale = (1.0 / keep) as f32;
        let mut mask = vec![0.0f32; n.next_multiple_of(2)];
        for pair in mask.chunks_exact_mut(2) {
            let r = next_u64();
            pair[0] = if (r & 0xFFFF_FFFF) < threshold { scale } else { 0.0 };
            pair[1] = if (r >> 32) < threshold { scale } else { 0.0 };
        }
        mask.truncate(n);
        let mask = Tensor::<D>::from_data(TensorData::new(mask, shape), &x.device());
        x * mask
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
    /// PyTorch's initialisation: every weight and bias uniform in ±1/√h (cell gate: see above).
    pub fn new(d_input: usize, d_hidden: usize, device: &Device) -> Self {
        Self {
            w_ih: gate_uniform([d_input, 4 * d_hidden], d_hidden, device),
            w_hh: gate_uniform([d_hidden, 4 * d_hidden], d_hidden, device),
            bias: gate_uniform([4 * d_hidden], d_hidden, device),
            d_hidden,
        }
    }

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

/// A single-layer, batch-first LSTM built on [`LstmCell`]; each step's input is sliced from `x`
/// and projected inside the time loop (see the module docs for why not before it).
#[derive(Module, Debug)]
pub struct FusedLstm {
    /// The cell.
    pub cell: LstmCell,
}

impl FusedLstm {
    /// A new LSTM.
    pub fn new(d_input: usize, d_hidden: usize, device: &Device) -> Self {
        Self { cell: LstmCell::new(d_input, d_hidden, device) }
    }

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
}

/// A linear layer with PyTorch's default initialisation (weights and bias uniform in ±1/√fan_in).
pub fn linear(d_in: usize, d_out: usize, bias: bool, device: &Device) -> Linear {
    let k = 1.0 / (d_in as f64).sqrt();
    LinearConfig::new(d_in, d_out)
        .with_bias(bias)
        .with_initializer(Initializer::Uniform { min: -k, max: k })
        .init(device)
}

/// A layer norm over the last dimension (ε = 1e-5, as PyTorch).
pub fn layer_norm(d: usize, device: &Device) -> LayerNorm {
    LayerNormConfig::new(d).with_epsilon(1e-5).init(device)
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
    /// `d_in → d_out`.
    pub fn new(d_in: usize, d_out: usize, device: &Device) -> Self {
        Self { gate: linear(d_in, d_out, true, device), value: linear(d_in, d_out, true, device) }
    }

    /// Applies the unit over the last dimension.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        sigmoid(self.gate.forward(x.clone())) * self.value.forward(x)
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
    /// Width `d`.
    pub fn new(d: usize, dropout: f64, device: &Device) -> Self {
        Self { dropout: Dropout::new(dropout), glu: Glu::new(d, d, device), norm: layer_norm(d, device) }
    }

    /// `LayerNorm(skip + GLU(dropout(x)))`.
    pub fn forward<const D: usize>(&self, x: Tensor<D>, skip: Tensor<D>) -> Tensor<D> {
        self.norm.forward(skip + self.glu.forward(self.dropout.forward(x)))
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
    /// `d_in → d_out` through `d_hidden`, with an optional context of width `d_context`.
    pub fn new(
        d_in: usize,
        d_hidden: usize,
        d_out: usize,
        d_context: Option<usize>,
        dropout: f64,
        device: &Device,
    ) -> Self {
        let mut out = GateAddNorm::new(d_out, dropout, device);
        out.glu = Glu::new(d_hidden, d_out, device);
        Self {
            skip: (d_in != d_out).then(|| linear(d_in, d_out, true, device)),
            fc_input: linear(d_in, d_hidden, true, device),
            fc_context: d_context.map(|c| linear(c, d_hidden, false, device)),
            fc_hidden: linear(d_hidden, d_hidden, true, device),
            out,
        }
    }

    /// Applies the network; `context` broadcasts against `a` (same rank, size-1 dims allowed).
    pub fn forward<const D: usize>(&self, a: Tensor<D>, context: Option<Tensor<D>>) -> Tensor<D> {
        let skip = match &self.skip {
            Some(l) => l.forward(a.clone()),
            None => a.clone(),
        };
        let mut eta = self.fc_input.forward(a);
        if let (Some(fc), Some(c)) = (&self.fc_context, context) {
            eta = eta + fc.forward(c);
        }
        let eta = self.fc_hidden.forward(elu(eta, 1.0));
        self.out.forward(eta, skip)
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
    /// `n` GRNs of width `d`.
    pub fn new(n: usize, d: usize, dropout: f64, device: &Device) -> Self {
        let k = 1.0 / (d as f64).sqrt();
        let u = Initializer::Uniform { min: -k, max: k };
        Self {
            w_input: u.init([n, d, d], device),
            b_input: u.init([n, 1, d], device),
            w_hidden: u.init([n, d, d], device),
            b_hidden: u.init([n, 1, d], device),
            w_gate: u.init([n, d, d], device),
            b_gate: u.init([n, 1, d], device),
            w_value: u.init([n, d, d], device),
            b_value: u.init([n, 1, d], device),
            dropout: Dropout::new(dropout),
            norm_gamma: Initializer::Ones.init([n, 1, d], device),
            norm_beta: Initializer::Zeros.init([n, 1, d], device),
        }
    }

    /// `a: [n, rows, d]` → `[n, rows, d]`.
    pub fn forward(&self, a: Tensor<3>) -> Tensor<3> {
        let eta = elu(a.clone().matmul(self.w_input.val()) + self.b_input.val(), 1.0);
        let eta = self.dropout.forward(eta.matmul(self.w_hidden.val()) + self.b_hidden.val());
        let glu = sigmoid(eta.clone().matmul(self.w_gate.val()) + self.b_gate.val())
            * (eta.matmul(self.w_value.val()) + self.b_value.val());
        let y = a + glu;
        let mean = y.clone().mean_dim(2);
        let centred = y - mean;
        let var = centred.clone().powi_scalar(2).mean_dim(2);
        centred / var.add_scalar(1e-5).sqrt() * self.norm_gamma.val() + self.norm_beta.val()
    }
}

/// Standard multi-head self-attention (as PyTorch's `nn.MultiheadAttention`): per-head queries,
/// keys and values from `d → d` projections, softmax(QKᵀ/√d_k), dropout on the weights, heads
/// concatenated and projected `d → d`.
#[derive(Module, Debug)]
pub struct SelfAttention {
    /// Queries.
    pub query: Linear,
    /// Keys.
    pub key: Linear,
    /// Values.
    pub value: Linear,
    /// Output projection.
    pub output: Linear,
    /// Dropout on the attention weights.
    pub dropout: Dropout,
    /// Heads.
    pub n_heads: usize,
}

impl SelfAttention {
    /// Width `d`, `n_heads` heads (must divide `d`).
    pub fn new(d: usize, n_heads: usize, dropout: f64, device: &Device) -> Self {
        Self {
            query: linear(d, d, true, device),
            key: linear(d, d, true, device),
            value: linear(d, d, true, device),
            output: linear(d, d, true, device),
            dropout: Dropout::new(dropout),
            n_heads,
        }
    }

    /// `x: [batch, seq, d]` → `[batch, seq, d]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, t, d] = x.dims();
        let nh = self.n_heads;
        let dk = d / nh;
        let split = |y: Tensor<3>| y.reshape([b, t, nh, dk]).swap_dims(1, 2); // [b, nh, t, dk]
        let q = split(self.query.forward(x.clone()));
        let k = split(self.key.forward(x.clone()));
        let v = split(self.value.forward(x));
        let w = burn::tensor::activation::softmax(q.matmul(k.swap_dims(2, 3)).div_scalar((dk as f64).sqrt()), 3);
        let heads = self.dropout.forward(w).matmul(v); // [b, nh, t, dk]
        self.output.forward(heads.swap_dims(1, 2).reshape([b, t, d]))
    }
}
