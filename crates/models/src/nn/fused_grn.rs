//! The TFT's per-variable gated residual networks ([`BatchedGrn`](crate::nn::BatchedGrn)) as one
//! primitive: one autodiff graph node on the CPU (`flex`) backend, with a hand-written backward.
//!
//! The reference path records about twenty burn autodiff nodes over `[n, rows, d]` tensors (for
//! the TFT's variable selection: 20 variables × 3,840 rows × 64 = 4.9 M elements each): four
//! batched matmuls, bias adds, ELU, dropout, sigmoid, the gate product, the residual and a
//! seven-op layer norm; each allocates and walks the whole tensor forward and again backward, and
//! flex evaluates `exp` with scalar libm. Here: three batched matmuls forward (the GLU's gate and
//! value weights side by side as one `[n, d, 2d]` matrix), the element-wise parts in single loops
//! over safe slices with the vectorisable [`fast_math`](crate::nn::fast_math) `exp`, and five
//! batched matmuls backward. The function is exactly [`BatchedGrn::forward`](crate::nn::BatchedGrn::forward)'s
//! (same parameters, same dropout mask), up to `f32` rounding.
//!
//! The TFT's variable-selection network goes one step further (`variable_selection`): the
//! per-variable embedding `ξ_j = x_j w_j + b_j`, the GRNs and the selection-weighted sum
//! `Σ_j v_j GRN_j(ξ_j)` are one node, so neither the embedding in the GRNs' `[n, rows, d]` layout
//! nor their output (nor the `swap_dims` copies between the layouts) leave it, forward or
//! backward; `feature_embedding` gives the selection-weight GRN its `[rows, n·d]` input as one
//! more small node. Matmul outputs are worked on in place (flex's `storage_mut`), not copied out.
//!
//! Only the `flex` backend (plain or under `Autodiff`) implements the op; the layer calls it when
//! [`fused_available`](crate::nn::fused_seq::fused_available) says so (`VANE_FUSED=0` turns it off
//! with the other fused ops).

use std::sync::Arc;

use burn::backend::Flex;
use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, backend_extension};
use burn::tensor::Tensor;
use rayon::prelude::*;

use crate::nn::fast_math;
use crate::nn::fused_par::sum_partials;
use crate::nn::fused_seq::{tensor, to_vec};

const EPS: f32 = 1e-5;

/// The backend extension: `n` GRNs `d → d` over `[n, rows, d]`.
#[backend_extension(Flex, Autodiff)]
pub trait BatchedGrnBackend: Backend {
    /// `a [n, r, d]`; weights `[n, d, d]`, biases, gain and shift `[n, 1, d]`; `mask` the dropout
    /// mask on the hidden layer (`n·r·d` values) or any other length for none → `[n, r, d]`.
    #[allow(clippy::too_many_arguments)]
    fn batched_grn(
        a: FloatTensor<Self>,
        w_in: FloatTensor<Self>,
        b_in: FloatTensor<Self>,
        w_hid: FloatTensor<Self>,
        b_hid: FloatTensor<Self>,
        w_gate: FloatTensor<Self>,
        b_gate: FloatTensor<Self>,
        w_val: FloatTensor<Self>,
        b_val: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        mask: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

impl BatchedGrnBackend for Flex {
    fn batched_grn(
        a: FlexTensor,
        w_in: FlexTensor,
        b_in: FlexTensor,
        w_hid: FlexTensor,
        b_hid: FlexTensor,
        w_gate: FlexTensor,
        b_gate: FlexTensor,
        w_val: FlexTensor,
        b_val: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        mask: FlexTensor,
    ) -> FlexTensor {
        forward([a, w_in, b_in, w_hid, b_hid, w_gate, b_gate, w_val, b_val, gamma, beta, mask]).0
    }
}

impl<C: CheckpointStrategy> BatchedGrnBackend for Autodiff<Flex, C> {
    fn batched_grn(
        a: FloatTensor<Self>,
        w_in: FloatTensor<Self>,
        b_in: FloatTensor<Self>,
        w_hid: FloatTensor<Self>,
        b_hid: FloatTensor<Self>,
        w_gate: FloatTensor<Self>,
        b_gate: FloatTensor<Self>,
        w_val: FloatTensor<Self>,
        b_val: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        mask: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let [a, w_in, b_in, w_hid, b_hid, w_gate, b_gate, w_val, b_val, gamma, beta, mask] =
            [a, w_in, b_in, w_hid, b_hid, w_gate, b_gate, w_val, b_val, gamma, beta, mask].map(|t| t.into_parts());
        let nodes =
            [a.1, w_in.1, b_in.1, w_hid.1, b_hid.1, w_gate.1, b_gate.1, w_val.1, b_val.1, gamma.1, beta.1, mask.1];
        let prims =
            [a.0, w_in.0, b_in.0, w_hid.0, b_hid.0, w_gate.0, b_gate.0, w_val.0, b_val.0, gamma.0, beta.0, mask.0];
        match BatchedGrnBackward.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (out, saved) = forward(prims);
                prep.finish(Arc::new(saved), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(forward(prims).0),
        }
    }
}

/// What the backward pass needs.
#[derive(Debug)]
struct Saved {
    n: usize,
    r: usize,
    d: usize,
    /// Input `[n, r, d]` (contiguous).
    a: FlexTensor,
    /// ELU output `[n, r, d]`.
    e: FlexTensor,
    /// Hidden layer after dropout `[n, r, d]`.
    eta: FlexTensor,
    /// Per row: σ(gate) then value, `[n, r, 2d]`.
    sv: FlexTensor,
    /// Normalised `ŷ` `[n, r, d]`.
    yhat: Vec<f32>,
    /// `1/√(var + ε)` per row `[n, r]`.
    rinv: Vec<f32>,
    /// The dropout mask, when there was one.
    mask: Option<FlexTensor>,
    gamma: Vec<f32>,
    beta: Vec<f32>,
    w_in: FlexTensor,
    w_hid: FlexTensor,
    /// `[w_gate | w_val]` `[n, d, 2d]`.
    w_gv: FlexTensor,
}

#[derive(Debug)]
struct BatchedGrnBackward;

impl Backward<Flex, 12> for BatchedGrnBackward {
    type State = Arc<Saved>;

    fn backward(self, ops: Ops<Self::State, 12>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let grad = grads.consume::<Flex>(&ops.node);
        let out = backward(&ops.state, grad);
        for (parent, g) in ops.parents.iter().zip(out) {
            if let Some(node) = parent {
                grads.register::<Flex>(node.id, g);
            }
        }
    }
}

fn slice(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>().unwrap_or(&[])
}

/// The values of a fresh (contiguous, unshared) `f32` matmul output, to change in place: no copy
/// (`into_data` would copy it, flex's storage being byte-aligned; a shared one is copied first).
fn values_mut(t: &mut FlexTensor) -> &mut [f32] {
    let n = t.layout().num_elements();
    &mut t.storage_mut::<f32>()[..n]
}

/// `t` itself when it is a contiguous `f32` tensor (read it with [`slice`]), else a contiguous
/// `f32` copy.
fn contiguous(t: FlexTensor) -> FlexTensor {
    if t.as_slice::<f32>().is_some() {
        return t;
    }
    let shape = t.layout().shape().to_vec();
    tensor(to_vec(t), &shape)
}

/// Adds `bias [n, 1, w]` to every row of `x [n, r, w]`, then applies `f` to every element with
/// its flat index.
fn add_bias_map(x: &mut [f32], bias: &[f32], r: usize, w: usize, f: impl Fn(usize, f32) -> f32 + Sync) {
    x.par_chunks_mut(r * w).enumerate().for_each(|(j, block)| {
        let bj = &bias[j * w..(j + 1) * w];
        for (i, row) in block.chunks_exact_mut(w).enumerate() {
            let base = (j * r + i) * w;
            for (k, (v, b)) in row.iter_mut().zip(bj).enumerate() {
                *v = f(base + k, *v + b);
            }
        }
    });
}

/// Sums `x [n, r, w]` over the rows → `[n, 1, w]` values.
fn row_sum(x: &[f32], n: usize, r: usize, w: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; n * w];
    out.par_chunks_mut(w).zip(x.par_chunks(r * w)).for_each(|(acc, block)| {
        for row in block.chunks_exact(w) {
            for (a, v) in acc.iter_mut().zip(row) {
                *a += v;
            }
        }
    });
    out
}

fn forward(t: [FlexTensor; 12]) -> (FlexTensor, Saved) {
    let [a, w_in, b_in, w_hid, b_hid, w_gate, b_gate, w_val, b_val, gamma, beta, mask] = t;
    let dims = a.layout().shape().to_vec();
    let (n, r, d) = (dims[0], dims[1], dims[2]);
    let a = contiguous(a);
    let mask = (mask.layout().num_elements() == n * r * d).then(|| contiguous(mask));
    let st = core_forward(a, [w_in, b_in, w_hid, b_hid, w_gate, b_gate, w_val, b_val, gamma, beta], mask);
    let mut out = vec![0.0f32; n * r * d];
    out.par_chunks_mut(r * d).zip(st.yhat.par_chunks(r * d)).enumerate().for_each(|(j, (o, yh))| {
        let (gj, bj) = (&st.gamma[j * d..(j + 1) * d], &st.beta[j * d..(j + 1) * d]);
        for (o, yh) in o.chunks_exact_mut(d).zip(yh.chunks_exact(d)) {
            for k in 0..d {
                o[k] = yh[k] * gj[k] + bj[k];
            }
        }
    });
    (tensor(out, &[n, r, d]), st)
}

/// The GRNs up to the normalised `ŷ` (the output is `ŷ·γ + β`, left to the caller) from the
/// contiguous input `a [n, r, d]`, the ten parameters in [`BatchedGrnBackend::batched_grn`]'s
/// order and the dropout mask (`n·r·d` values) if any.
fn core_forward(a: FlexTensor, p: [FlexTensor; 10], mask: Option<FlexTensor>) -> Saved {
    let [w_in, b_in, w_hid, b_hid, w_gate, b_gate, w_val, b_val, gamma, beta] = p;
    let dims = a.layout().shape().to_vec();
    let (n, r, d) = (dims[0], dims[1], dims[2]);
    // η₂ = ELU(a W₂ + b₂).
    let mut e = Flex::float_matmul(a.clone(), w_in.clone());
    add_bias_map(values_mut(&mut e), &to_vec(b_in), r, d, |_, v| fast_math::elu(v));
    // η₁ = dropout(η₂ W₁ + b₁).
    let mut eta = Flex::float_matmul(e.clone(), w_hid.clone());
    match &mask {
        Some(m) => {
            let m = slice(m);
            add_bias_map(values_mut(&mut eta), &to_vec(b_hid), r, d, |i, v| v * m[i]);
        }
        None => add_bias_map(values_mut(&mut eta), &to_vec(b_hid), r, d, |_, v| v),
    }
    // GLU, residual, layer norm.
    let w_gv = Flex::float_cat(vec![w_gate, w_val], 2);
    let mut sv = Flex::float_matmul(eta.clone(), w_gv.clone());
    let (bg, bv, gv, bt) = (to_vec(b_gate), to_vec(b_val), to_vec(gamma), to_vec(beta));
    let av = slice(&a);
    let mut yhat = vec![0.0f32; n * r * d];
    let mut rinv = vec![0.0f32; n * r];
    values_mut(&mut sv)
        .par_chunks_mut(r * 2 * d)
        .zip(yhat.par_chunks_mut(r * d))
        .zip(rinv.par_chunks_mut(r))
        .enumerate()
        .for_each(|(j, ((svj, yhj), rij))| {
            let p = j * d..(j + 1) * d;
            let (bgj, bvj) = (&bg[p.clone()], &bv[p]);
            let aj = &av[j * r * d..(j + 1) * r * d];
            let mut y = vec![0.0f32; d];
            for i in 0..r {
                let (s, v) = svj[i * 2 * d..(i + 1) * 2 * d].split_at_mut(d);
                let ar = &aj[i * d..(i + 1) * d];
                for k in 0..d {
                    s[k] = fast_math::sigmoid(s[k] + bgj[k]);
                    v[k] += bvj[k];
                    y[k] = ar[k] + s[k] * v[k];
                }
                let mean = y.iter().sum::<f32>() / d as f32;
                let var = y.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / d as f32;
                let ri = 1.0 / (var + EPS).sqrt();
                rij[i] = ri;
                let yh = &mut yhj[i * d..(i + 1) * d];
                for k in 0..d {
                    yh[k] = (y[k] - mean) * ri;
                }
            }
        });
    Saved { n, r, d, a, e, eta, sv, yhat, rinv, mask, gamma: gv, beta: bt, w_in, w_hid, w_gv }
}

/// Gradients for `[a, w_in, b_in, w_hid, b_hid, w_gate, b_gate, w_val, b_val, gamma, beta]`.
fn backward(st: &Saved, grad: FlexTensor) -> [FlexTensor; 11] {
    let d = st.d;
    let r = st.r;
    let dout = contiguous(grad);
    let dout = slice(&dout);
    core_backward(st, |j, i, go| go.copy_from_slice(&dout[(j * r + i) * d..(j * r + i + 1) * d]))
}

/// Gradients for `[a, w_in, b_in, w_hid, b_hid, w_gate, b_gate, w_val, b_val, gamma, beta]`
/// given the gradient reaching the output `ŷ·γ + β`: `go(j, i, row)` writes GRN `j`'s row `i`
/// of it into `row` (`d` values).
fn core_backward(st: &Saved, go_row: impl Fn(usize, usize, &mut [f32]) + Sync) -> [FlexTensor; 11] {
    let (n, r, d) = (st.n, st.r, st.d);
    let sv = slice(&st.sv);
    let mut dgamma = vec![0.0f32; n * d];
    let mut dbeta = vec![0.0f32; n * d];
    let mut da = vec![0.0f32; n * r * d];
    let mut dgv = vec![0.0f32; n * r * 2 * d];
    da.par_chunks_mut(r * d)
        .zip(dgv.par_chunks_mut(r * 2 * d))
        .zip(dgamma.par_chunks_mut(d))
        .zip(dbeta.par_chunks_mut(d))
        .enumerate()
        .for_each(|(j, (((daj, dgvj), dgj), dbj))| {
            let gj = &st.gamma[j * d..(j + 1) * d];
            let mut dyh = vec![0.0f32; d];
            let mut go = vec![0.0f32; d];
            for i in 0..r {
                let row = j * r + i;
                let rr = row * d..(row + 1) * d;
                go_row(j, i, &mut go);
                let yh = &st.yhat[rr];
                let (mut m1, mut m2) = (0.0f32, 0.0f32);
                for k in 0..d {
                    dgj[k] += go[k] * yh[k];
                    dbj[k] += go[k];
                    dyh[k] = go[k] * gj[k];
                    m1 += dyh[k];
                    m2 += dyh[k] * yh[k];
                }
                let (m1, m2) = (m1 / d as f32, m2 / d as f32);
                let ri = st.rinv[row];
                let dy = &mut daj[i * d..(i + 1) * d];
                let (s, v) = sv[row * 2 * d..(row + 1) * 2 * d].split_at(d);
                let (dg, dv) = dgvj[i * 2 * d..(i + 1) * 2 * d].split_at_mut(d);
                for k in 0..d {
                    let g = ri * (dyh[k] - m1 - yh[k] * m2);
                    dy[k] = g;
                    dv[k] = g * s[k];
                    dg[k] = g * v[k] * s[k] * (1.0 - s[k]);
                }
            }
        });
    let dgv_sum = row_sum(&dgv, n, r, 2 * d);
    let (mut db_gate, mut db_val) = (vec![0.0f32; n * d], vec![0.0f32; n * d]);
    for j in 0..n {
        db_gate[j * d..(j + 1) * d].copy_from_slice(&dgv_sum[j * 2 * d..j * 2 * d + d]);
        db_val[j * d..(j + 1) * d].copy_from_slice(&dgv_sum[j * 2 * d + d..(j + 1) * 2 * d]);
    }
    let dgv = tensor(dgv, &[n, r, 2 * d]);
    let dw_gv = Flex::float_matmul(Flex::float_transpose(st.eta.clone()), dgv.clone());
    let (mut dw_gate, mut dw_val) = (vec![0.0f32; n * d * d], vec![0.0f32; n * d * d]);
    for (q, row) in slice(&dw_gv).chunks_exact(2 * d).enumerate() {
        dw_gate[q * d..(q + 1) * d].copy_from_slice(&row[..d]);
        dw_val[q * d..(q + 1) * d].copy_from_slice(&row[d..]);
    }
    // Back through dropout and W₁.
    let mut dh = Flex::float_matmul(dgv, Flex::float_transpose(st.w_gv.clone()));
    if let Some(m) = &st.mask {
        values_mut(&mut dh).par_chunks_mut(r * d).zip(slice(m).par_chunks(r * d)).for_each(|(g, k)| {
            for (g, k) in g.iter_mut().zip(k) {
                *g *= k;
            }
        });
    }
    let db_hid = row_sum(slice(&dh), n, r, d);
    let dw_hid = Flex::float_matmul(Flex::float_transpose(st.e.clone()), dh.clone());
    // Back through the ELU (e > 0 exactly where its input is) and W₂.
    let mut dz = Flex::float_matmul(dh, Flex::float_transpose(st.w_hid.clone()));
    values_mut(&mut dz).par_chunks_mut(r * d).zip(slice(&st.e).par_chunks(r * d)).for_each(|(g, e)| {
        for (g, &ev) in g.iter_mut().zip(e) {
            *g *= if ev > 0.0 { 1.0 } else { ev + 1.0 };
        }
    });
    let db_in = row_sum(slice(&dz), n, r, d);
    let dw_in = Flex::float_matmul(Flex::float_transpose(st.a.clone()), dz.clone());
    let da_in = Flex::float_matmul(dz, Flex::float_transpose(st.w_in.clone()));
    da.par_chunks_mut(r * d).zip(slice(&da_in).par_chunks(r * d)).for_each(|(g, x)| {
        for (g, x) in g.iter_mut().zip(x) {
            *g += x;
        }
    });
    let b = |v: Vec<f32>| tensor(v, &[n, 1, d]);
    let w = |v: Vec<f32>| tensor(v, &[n, d, d]);
    [
        tensor(da, &[n, r, d]),
        dw_in,
        b(db_in),
        dw_hid,
        b(db_hid),
        w(dw_gate),
        b(db_gate),
        w(dw_val),
        b(db_val),
        b(dgamma),
        b(dbeta),
    ]
}

/// The fused [`BatchedGrn`](crate::nn::BatchedGrn) forward on tensors (see the module docs).
/// Only on the flex device ([`fused_available`](crate::nn::fused_seq::fused_available)); any
/// other backend panics in burn's dispatch.
#[allow(clippy::too_many_arguments)]
pub fn batched_grn(
    a: Tensor<3>,
    w_in: Tensor<3>,
    b_in: Tensor<3>,
    w_hid: Tensor<3>,
    b_hid: Tensor<3>,
    w_gate: Tensor<3>,
    b_gate: Tensor<3>,
    w_val: Tensor<3>,
    b_val: Tensor<3>,
    gamma: Tensor<3>,
    beta: Tensor<3>,
    mask: Tensor<1>,
) -> Tensor<3> {
    use burn::backend::Dispatch;
    Tensor::from_dispatch(Dispatch::batched_grn(
        a.into_dispatch(),
        w_in.into_dispatch(),
        b_in.into_dispatch(),
        w_hid.into_dispatch(),
        b_hid.into_dispatch(),
        w_gate.into_dispatch(),
        b_gate.into_dispatch(),
        w_val.into_dispatch(),
        b_val.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        mask.into_dispatch(),
    ))
}

/// The backend extension: the TFT's variable-selection network after the selection weights —
/// the per-variable embedding `ξ_j = x_j·w_j + b_j`, the `n` GRNs on it and the weighted sum
/// `Σ_j v_j · GRN_j(ξ_j)` — as one op.
#[backend_extension(Flex, Autodiff)]
pub trait VariableSelectionBackend: Backend {
    /// `x [r, n]` (one scalar per variable and row); embedding `w_e`, `b_e [n, d]`; the GRN
    /// parameters and dropout mask as in [`BatchedGrnBackend::batched_grn`]; selection weights
    /// `v [r, n]` → `[r, d]`.
    #[allow(clippy::too_many_arguments)]
    fn variable_selection(
        x: FloatTensor<Self>,
        w_e: FloatTensor<Self>,
        b_e: FloatTensor<Self>,
        w_in: FloatTensor<Self>,
        b_in: FloatTensor<Self>,
        w_hid: FloatTensor<Self>,
        b_hid: FloatTensor<Self>,
        w_gate: FloatTensor<Self>,
        b_gate: FloatTensor<Self>,
        w_val: FloatTensor<Self>,
        b_val: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        v: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

impl VariableSelectionBackend for Flex {
    fn variable_selection(
        x: FlexTensor,
        w_e: FlexTensor,
        b_e: FlexTensor,
        w_in: FlexTensor,
        b_in: FlexTensor,
        w_hid: FlexTensor,
        b_hid: FlexTensor,
        w_gate: FlexTensor,
        b_gate: FlexTensor,
        w_val: FlexTensor,
        b_val: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        mask: FlexTensor,
        v: FlexTensor,
    ) -> FlexTensor {
        vsn_forward([x, w_e, b_e, w_in, b_in, w_hid, b_hid, w_gate, b_gate, w_val, b_val, gamma, beta, mask, v]).0
    }
}

impl<C: CheckpointStrategy> VariableSelectionBackend for Autodiff<Flex, C> {
    fn variable_selection(
        x: FloatTensor<Self>,
        w_e: FloatTensor<Self>,
        b_e: FloatTensor<Self>,
        w_in: FloatTensor<Self>,
        b_in: FloatTensor<Self>,
        w_hid: FloatTensor<Self>,
        b_hid: FloatTensor<Self>,
        w_gate: FloatTensor<Self>,
        b_gate: FloatTensor<Self>,
        w_val: FloatTensor<Self>,
        b_val: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        v: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let parts = [x, w_e, b_e, w_in, b_in, w_hid, b_hid, w_gate, b_gate, w_val, b_val, gamma, beta, mask, v]
            .map(|t| t.into_parts());
        let (prims, nodes) = unzip(parts);
        match VsnBackward.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (out, saved) = vsn_forward(prims);
                prep.finish(Arc::new(saved), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(vsn_forward(prims).0),
        }
    }
}

/// What the variable-selection backward needs on top of the GRNs' [`Saved`].
#[derive(Debug)]
struct VsnSaved {
    /// The GRNs' activations (their input is the embedding `[n, r, d]`).
    grn: Saved,
    /// `x [r, n]`.
    x: Vec<f32>,
    /// Embedding weights `[n, d]`.
    w_e: Vec<f32>,
    /// Selection weights `[r, n]`.
    v: Vec<f32>,
}

#[derive(Debug)]
struct VsnBackward;

impl Backward<Flex, 15> for VsnBackward {
    type State = Arc<VsnSaved>;

    fn backward(self, ops: Ops<Self::State, 15>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let grad = grads.consume::<Flex>(&ops.node);
        let out = vsn_backward(&ops.state, grad);
        for (parent, g) in ops.parents.iter().zip(out) {
            if let (Some(node), Some(g)) = (parent, g) {
                grads.register::<Flex>(node.id, g);
            }
        }
    }
}

/// `[(a, b); N]` → `([a; N], [b; N])`.
fn unzip<A, B, const N: usize>(parts: [(A, B); N]) -> ([A; N], [B; N]) {
    let (mut a, mut b) = (Vec::with_capacity(N), Vec::with_capacity(N));
    for (x, y) in parts {
        a.push(x);
        b.push(y);
    }
    match (a.try_into(), b.try_into()) {
        (Ok(a), Ok(b)) => (a, b),
        _ => unreachable!("N pairs in, N of each out"),
    }
}

/// Rows of the output per parallel task in the weighted sum.
const ROW_BLOCK: usize = 64;

fn vsn_forward(t: [FlexTensor; 15]) -> (FlexTensor, VsnSaved) {
    let [x, w_e, b_e, w_in, b_in, w_hid, b_hid, w_gate, b_gate, w_val, b_val, gamma, beta, mask, v] = t;
    let xd = x.layout().shape().to_vec();
    let (r, n) = (xd[0], xd[1]);
    let d = w_e.layout().shape().to_vec()[1];
    let (xv, we, be, vv) = (to_vec(x), to_vec(w_e), to_vec(b_e), to_vec(v));
    // The embedding straight into the GRNs' `[n, r, d]` layout.
    let mut a = vec![0.0f32; n * r * d];
    a.par_chunks_mut(r * d).enumerate().for_each(|(j, aj)| {
        let (wj, bj) = (&we[j * d..(j + 1) * d], &be[j * d..(j + 1) * d]);
        for (i, row) in aj.chunks_exact_mut(d).enumerate() {
            let xi = xv[i * n + j];
            for ((o, w), b) in row.iter_mut().zip(wj).zip(bj) {
                *o = xi * w + b;
            }
        }
    });
    let mask = (mask.layout().num_elements() == n * r * d).then(|| contiguous(mask));
    let grn = core_forward(
        tensor(a, &[n, r, d]),
        [w_in, b_in, w_hid, b_hid, w_gate, b_gate, w_val, b_val, gamma, beta],
        mask,
    );
    // φ = Σ_j v_j (ŷ_j γ_j + β_j), per block of rows.
    let mut phi = vec![0.0f32; r * d];
    phi.par_chunks_mut(ROW_BLOCK * d).enumerate().for_each(|(blk, out)| {
        for (ii, o) in out.chunks_exact_mut(d).enumerate() {
            let i = blk * ROW_BLOCK + ii;
            for j in 0..n {
                let w = vv[i * n + j];
                let yh = &grn.yhat[(j * r + i) * d..(j * r + i + 1) * d];
                let (gj, bj) = (&grn.gamma[j * d..(j + 1) * d], &grn.beta[j * d..(j + 1) * d]);
                for k in 0..d {
                    o[k] += w * (yh[k] * gj[k] + bj[k]);
                }
            }
        }
    });
    (tensor(phi, &[r, d]), VsnSaved { grn, x: xv, w_e: we, v: vv })
}

/// Gradients for the fifteen inputs in order (`None` for the mask).
fn vsn_backward(st: &VsnSaved, grad: FlexTensor) -> Vec<Option<FlexTensor>> {
    let g = &st.grn;
    let (n, r, d) = (g.n, g.r, g.d);
    let gphi = contiguous(grad);
    let gphi = slice(&gphi);
    // ∂/∂v_j = ⟨∂φ, ŷ_j γ_j + β_j⟩ per row.
    let mut dv_t = vec![0.0f32; n * r];
    dv_t.par_chunks_mut(r).enumerate().for_each(|(j, dvj)| {
        let (gj, bj) = (&g.gamma[j * d..(j + 1) * d], &g.beta[j * d..(j + 1) * d]);
        for (i, dv) in dvj.iter_mut().enumerate() {
            let yh = &g.yhat[(j * r + i) * d..(j * r + i + 1) * d];
            let gp = &gphi[i * d..(i + 1) * d];
            let mut s = 0.0f32;
            for k in 0..d {
                s += gp[k] * (yh[k] * gj[k] + bj[k]);
            }
            *dv = s;
        }
    });
    let [da, rest @ ..] = core_backward(g, |j, i, go| {
        let w = st.v[i * n + j];
        for (o, gp) in go.iter_mut().zip(&gphi[i * d..(i + 1) * d]) {
            *o = w * gp;
        }
    });
    // Back through the embedding.
    let da = slice(&da);
    let mut dwe = vec![0.0f32; n * d];
    let mut dbe = vec![0.0f32; n * d];
    let mut dx_t = vec![0.0f32; n * r];
    dwe.par_chunks_mut(d).zip(dbe.par_chunks_mut(d)).zip(dx_t.par_chunks_mut(r)).enumerate().for_each(
        |(j, ((dw, db), dx))| {
            let wj = &st.w_e[j * d..(j + 1) * d];
            for (i, dxi) in dx.iter_mut().enumerate() {
                let row = &da[(j * r + i) * d..(j * r + i + 1) * d];
                let xi = st.x[i * n + j];
                let mut s = 0.0f32;
                for k in 0..d {
                    dw[k] += row[k] * xi;
                    db[k] += row[k];
                    s += row[k] * wj[k];
                }
                *dxi = s;
            }
        },
    );
    let transpose = |t: &[f32]| {
        let mut o = vec![0.0f32; n * r];
        for (j, col) in t.chunks_exact(r).enumerate() {
            for (i, v) in col.iter().enumerate() {
                o[i * n + j] = *v;
            }
        }
        tensor(o, &[r, n])
    };
    let mut out = vec![Some(transpose(&dx_t)), Some(tensor(dwe, &[n, d])), Some(tensor(dbe, &[n, d]))];
    out.extend(rest.into_iter().map(Some));
    out.push(None);
    out.push(Some(transpose(&dv_t)));
    out
}

/// The fused variable-selection network on tensors (see [`VariableSelectionBackend`]):
/// `x [r, n]`, embedding `w_e`, `b_e [n, d]`, the [`BatchedGrn`](crate::nn::BatchedGrn)'s
/// parameters, its dropout `mask` (`n·r·d` values, or any other length for none) and the
/// selection weights `v [r, n]` → `Σ_j v_j GRN_j(x_j w_j + b_j)` `[r, d]`. Only on the flex
/// device ([`fused_available`](crate::nn::fused_seq::fused_available)).
#[allow(clippy::too_many_arguments)]
pub fn variable_selection(
    x: Tensor<2>,
    w_e: Tensor<2>,
    b_e: Tensor<2>,
    w_in: Tensor<3>,
    b_in: Tensor<3>,
    w_hid: Tensor<3>,
    b_hid: Tensor<3>,
    w_gate: Tensor<3>,
    b_gate: Tensor<3>,
    w_val: Tensor<3>,
    b_val: Tensor<3>,
    gamma: Tensor<3>,
    beta: Tensor<3>,
    mask: Tensor<1>,
    v: Tensor<2>,
) -> Tensor<2> {
    use burn::backend::Dispatch;
    Tensor::from_dispatch(Dispatch::variable_selection(
        x.into_dispatch(),
        w_e.into_dispatch(),
        b_e.into_dispatch(),
        w_in.into_dispatch(),
        b_in.into_dispatch(),
        w_hid.into_dispatch(),
        b_hid.into_dispatch(),
        w_gate.into_dispatch(),
        b_gate.into_dispatch(),
        w_val.into_dispatch(),
        b_val.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        mask.into_dispatch(),
        v.into_dispatch(),
    ))
}

/// The backend extension: the per-variable embedding `ξ[r, j, :] = x[r, j]·w_j + b_j` as one op.
#[backend_extension(Flex, Autodiff)]
pub trait FeatureEmbeddingBackend: Backend {
    /// `x [r, n]`, `w`, `b [n, d]` → `[r, n·d]`.
    fn feature_embedding(x: FloatTensor<Self>, w: FloatTensor<Self>, b: FloatTensor<Self>) -> FloatTensor<Self>;
}

impl FeatureEmbeddingBackend for Flex {
    fn feature_embedding(x: FlexTensor, w: FlexTensor, b: FlexTensor) -> FlexTensor {
        embed_forward([x, w, b]).0
    }
}

impl<C: CheckpointStrategy> FeatureEmbeddingBackend for Autodiff<Flex, C> {
    fn feature_embedding(x: FloatTensor<Self>, w: FloatTensor<Self>, b: FloatTensor<Self>) -> FloatTensor<Self> {
        let parts = [x, w, b].map(|t| t.into_parts());
        let (prims, nodes) = unzip(parts);
        match EmbedBackward.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (out, saved) = embed_forward(prims);
                prep.finish(Arc::new(saved), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(embed_forward(prims).0),
        }
    }
}

/// `x [r, n]` and `w [n, d]` for the embedding's backward.
#[derive(Debug)]
struct EmbedSaved {
    r: usize,
    n: usize,
    d: usize,
    x: Vec<f32>,
    w: Vec<f32>,
}

#[derive(Debug)]
struct EmbedBackward;

impl Backward<Flex, 3> for EmbedBackward {
    type State = Arc<EmbedSaved>;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let grad = grads.consume::<Flex>(&ops.node);
        let out = embed_backward(&ops.state, grad);
        for (parent, g) in ops.parents.iter().zip(out) {
            if let Some(node) = parent {
                grads.register::<Flex>(node.id, g);
            }
        }
    }
}

fn embed_forward(t: [FlexTensor; 3]) -> (FlexTensor, EmbedSaved) {
    let [x, w, b] = t;
    let xd = x.layout().shape().to_vec();
    let (r, n) = (xd[0], xd[1]);
    let d = w.layout().shape().to_vec()[1];
    let (xv, wv, bv) = (to_vec(x), to_vec(w), to_vec(b));
    let mut out = vec![0.0f32; r * n * d];
    out.par_chunks_mut(ROW_BLOCK * n * d).enumerate().for_each(|(blk, o)| {
        for (ii, row) in o.chunks_exact_mut(n * d).enumerate() {
            let i = blk * ROW_BLOCK + ii;
            for (j, ((o, wj), bj)) in
                row.chunks_exact_mut(d).zip(wv.chunks_exact(d)).zip(bv.chunks_exact(d)).enumerate()
            {
                let xi = xv[i * n + j];
                for ((o, w), b) in o.iter_mut().zip(wj).zip(bj) {
                    *o = xi * w + b;
                }
            }
        }
    });
    (tensor(out, &[r, n * d]), EmbedSaved { r, n, d, x: xv, w: wv })
}

/// Gradients for `[x, w, b]`.
fn embed_backward(st: &EmbedSaved, grad: FlexTensor) -> [FlexTensor; 3] {
    let (r, n, d) = (st.r, st.n, st.d);
    let g = contiguous(grad);
    let g = slice(&g);
    let mut dw = vec![0.0f32; n * d];
    let mut db = vec![0.0f32; n * d];
    let mut dx_t = vec![0.0f32; n * r];
    dw.par_chunks_mut(d).zip(db.par_chunks_mut(d)).zip(dx_t.par_chunks_mut(r)).enumerate().for_each(
        |(j, ((dw, db), dx))| {
            let wj = &st.w[j * d..(j + 1) * d];
            for (i, dxi) in dx.iter_mut().enumerate() {
                let row = &g[(i * n + j) * d..(i * n + j + 1) * d];
                let xi = st.x[i * n + j];
                let mut s = 0.0f32;
                for k in 0..d {
                    dw[k] += row[k] * xi;
                    db[k] += row[k];
                    s += row[k] * wj[k];
                }
                *dxi = s;
            }
        },
    );
    let mut dx = vec![0.0f32; r * n];
    for (j, col) in dx_t.chunks_exact(r).enumerate() {
        for (i, v) in col.iter().enumerate() {
            dx[i * n + j] = *v;
        }
    }
    [tensor(dx, &[r, n]), tensor(dw, &[n, d]), tensor(db, &[n, d])]
}

/// The fused per-variable embedding on tensors: `x [r, n]`, `w`, `b [n, d]` →
/// `ξ [r, n·d]` with `ξ[i, j·d + k] = x[i, j]·w[j, k] + b[j, k]`. Only on the flex device.
pub fn feature_embedding(x: Tensor<2>, w: Tensor<2>, b: Tensor<2>) -> Tensor<2> {
    use burn::backend::Dispatch;
    Tensor::from_dispatch(Dispatch::feature_embedding(x.into_dispatch(), w.into_dispatch(), b.into_dispatch()))
}

// ---------------------------------------------------------------------------------------------
// One GRN (`Grn`) and one gate–add–norm (`GateAddNorm`) over rows.
// ---------------------------------------------------------------------------------------------

/// Rows per parallel task in the row-wise ops (fixed, so the partial sums — and so the results —
/// do not depend on the thread count).
const ROWS: usize = 64;

/// The backend extension: one gated residual network over the rows of `a [r, d_in]` (the
/// [`Grn`](crate::nn::Grn) of the TFT's `[b, t, d]` and `[b, 1, d]` tensors, leading dims
/// flattened).
#[backend_extension(Flex, Autodiff)]
pub trait RowGrnBackend: Backend {
    /// `a [r, d_in]`; `w_in [d_in, h]`, `b_in [h]`; `ctx [g, h]` (`g` dividing `r`) the
    /// projected static context added to rows `i·r/g .. (i+1)·r/g` (zeros `[1, h]` for none);
    /// `w_hid [h, h]`,
    /// `b_hid [h]`; `mask` the dropout mask on the hidden layer (`r·h` values, any other length
    /// for none); GLU `w_gate`, `w_val [h, o]`, `b_gate`, `b_val [o]`; layer norm `gamma`,
    /// `beta [o]`; `skip [r, o]` the residual → `[r, o]`.
    #[allow(clippy::too_many_arguments)]
    fn row_grn(
        a: FloatTensor<Self>,
        w_in: FloatTensor<Self>,
        b_in: FloatTensor<Self>,
        ctx: FloatTensor<Self>,
        w_hid: FloatTensor<Self>,
        b_hid: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        w_gate: FloatTensor<Self>,
        b_gate: FloatTensor<Self>,
        w_val: FloatTensor<Self>,
        b_val: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        skip: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

impl RowGrnBackend for Flex {
    fn row_grn(
        a: FlexTensor,
        w_in: FlexTensor,
        b_in: FlexTensor,
        ctx: FlexTensor,
        w_hid: FlexTensor,
        b_hid: FlexTensor,
        mask: FlexTensor,
        w_gate: FlexTensor,
        b_gate: FlexTensor,
        w_val: FlexTensor,
        b_val: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        skip: FlexTensor,
    ) -> FlexTensor {
        row_grn_forward([a, w_in, b_in, ctx, w_hid, b_hid, mask, w_gate, b_gate, w_val, b_val, gamma, beta, skip]).0
    }
}

impl<C: CheckpointStrategy> RowGrnBackend for Autodiff<Flex, C> {
    fn row_grn(
        a: FloatTensor<Self>,
        w_in: FloatTensor<Self>,
        b_in: FloatTensor<Self>,
        ctx: FloatTensor<Self>,
        w_hid: FloatTensor<Self>,
        b_hid: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        w_gate: FloatTensor<Self>,
        b_gate: FloatTensor<Self>,
        w_val: FloatTensor<Self>,
        b_val: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        skip: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let parts = [a, w_in, b_in, ctx, w_hid, b_hid, mask, w_gate, b_gate, w_val, b_val, gamma, beta, skip]
            .map(|t| t.into_parts());
        let (prims, nodes) = unzip(parts);
        match RowGrnBackward.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (out, saved) = row_grn_forward(prims);
                prep.finish(Arc::new(saved), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(row_grn_forward(prims).0),
        }
    }
}

/// The backend extension: `LayerNorm(skip + GLU(dropout(x)))` over rows
/// ([`GateAddNorm`](crate::nn::GateAddNorm)).
#[backend_extension(Flex, Autodiff)]
pub trait RowGateAddNormBackend: Backend {
    /// `x [r, h]`; `mask` (`r·h` values, any other length for none); GLU `w_gate`,
    /// `w_val [h, o]`, `b_gate`, `b_val [o]`; `gamma`, `beta [o]`; `skip [r, o]` → `[r, o]`.
    #[allow(clippy::too_many_arguments)]
    fn row_gate_add_norm(
        x: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        w_gate: FloatTensor<Self>,
        b_gate: FloatTensor<Self>,
        w_val: FloatTensor<Self>,
        b_val: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        skip: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

impl RowGateAddNormBackend for Flex {
    fn row_gate_add_norm(
        x: FlexTensor,
        mask: FlexTensor,
        w_gate: FlexTensor,
        b_gate: FlexTensor,
        w_val: FlexTensor,
        b_val: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        skip: FlexTensor,
    ) -> FlexTensor {
        gan_forward([x, mask, w_gate, b_gate, w_val, b_val, gamma, beta, skip]).0
    }
}

impl<C: CheckpointStrategy> RowGateAddNormBackend for Autodiff<Flex, C> {
    fn row_gate_add_norm(
        x: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        w_gate: FloatTensor<Self>,
        b_gate: FloatTensor<Self>,
        w_val: FloatTensor<Self>,
        b_val: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        skip: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let parts = [x, mask, w_gate, b_gate, w_val, b_val, gamma, beta, skip].map(|t| t.into_parts());
        let (prims, nodes) = unzip(parts);
        match GanBackward.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (out, saved) = gan_forward(prims);
                prep.finish(Arc::new(saved), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(gan_forward(prims).0),
        }
    }
}

/// The gate–add–norm's activations (shared by both row ops).
#[derive(Debug)]
struct Tail {
    r: usize,
    h: usize,
    o: usize,
    /// The GLU's input (after dropout) `[r, h]`.
    x: FlexTensor,
    /// Per row: σ(gate) then value, `[r, 2o]`.
    sv: FlexTensor,
    /// Normalised `ŷ` `[r, o]`.
    yhat: Vec<f32>,
    /// `1/√(var + ε)` per row.
    rinv: Vec<f32>,
    gamma: Vec<f32>,
    /// `[w_gate | w_val]` `[h, 2o]`.
    w_gv: FlexTensor,
}

/// `LayerNorm(skip + GLU(x))` → the output values and what the backward needs.
#[allow(clippy::too_many_arguments)]
fn tail_forward(
    x: FlexTensor,
    w_gate: FlexTensor,
    b_gate: FlexTensor,
    w_val: FlexTensor,
    b_val: FlexTensor,
    gamma: FlexTensor,
    beta: FlexTensor,
    skip: FlexTensor,
) -> (Vec<f32>, Tail) {
    let xd = x.layout().shape().to_vec();
    let (r, h) = (xd[0], xd[1]);
    let o = w_gate.layout().shape().to_vec()[1];
    let w_gv = Flex::float_cat(vec![w_gate, w_val], 1);
    let mut sv = Flex::float_matmul(x.clone(), w_gv.clone());
    let (bg, bv, gv, bt) = (to_vec(b_gate), to_vec(b_val), to_vec(gamma), to_vec(beta));
    let skip = contiguous(skip);
    let sk = slice(&skip);
    let mut yhat = vec![0.0f32; r * o];
    let mut rinv = vec![0.0f32; r];
    let mut out = vec![0.0f32; r * o];
    values_mut(&mut sv)
        .par_chunks_mut(ROWS * 2 * o)
        .zip(yhat.par_chunks_mut(ROWS * o))
        .zip(rinv.par_chunks_mut(ROWS))
        .zip(out.par_chunks_mut(ROWS * o))
        .enumerate()
        .for_each(|(blk, (((svb, yhb), rib), ob))| {
            let mut y = vec![0.0f32; o];
            for (ii, ri_out) in rib.iter_mut().enumerate() {
                let i = blk * ROWS + ii;
                let (s, v) = svb[ii * 2 * o..(ii + 1) * 2 * o].split_at_mut(o);
                let sr = &sk[i * o..(i + 1) * o];
                for k in 0..o {
                    s[k] = fast_math::sigmoid(s[k] + bg[k]);
                    v[k] += bv[k];
                    y[k] = sr[k] + s[k] * v[k];
                }
                let mean = y.iter().sum::<f32>() / o as f32;
                let var = y.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / o as f32;
                let ri = 1.0 / (var + EPS).sqrt();
                *ri_out = ri;
                let yh = &mut yhb[ii * o..(ii + 1) * o];
                let ot = &mut ob[ii * o..(ii + 1) * o];
                for k in 0..o {
                    yh[k] = (y[k] - mean) * ri;
                    ot[k] = yh[k] * gv[k] + bt[k];
                }
            }
        });
    (out, Tail { r, h, o, x, sv, yhat, rinv, gamma: gv, w_gv })
}

/// Column sums of `x [rows, w]` in blocks of [`ROWS`] rows, deterministic.
fn col_sum(x: &[f32], w: usize) -> Vec<f32> {
    crate::nn::fused_par::col_sum_blocks(x, w, ROWS)
}

/// The tail's gradients from the output gradient `go [r, o]`: `(d skip [r, o], d x [r, h],
/// [dw_gate, db_gate, dw_val, db_val, dgamma, dbeta])`.
fn tail_backward(t: &Tail, go: &[f32]) -> (Vec<f32>, FlexTensor, [FlexTensor; 6]) {
    let (r, h, o) = (t.r, t.h, t.o);
    let sv = slice(&t.sv);
    let mut dskip = vec![0.0f32; r * o];
    let mut dgv = vec![0.0f32; r * 2 * o];
    let parts: Vec<(Vec<f32>, Vec<f32>)> = dskip
        .par_chunks_mut(ROWS * o)
        .zip(dgv.par_chunks_mut(ROWS * 2 * o))
        .enumerate()
        .map(|(blk, (dsb, dgvb))| {
            let (mut dgam, mut dbet) = (vec![0.0f32; o], vec![0.0f32; o]);
            let mut dyh = vec![0.0f32; o];
            for (ii, dy) in dsb.chunks_exact_mut(o).enumerate() {
                let i = blk * ROWS + ii;
                let g = &go[i * o..(i + 1) * o];
                let yh = &t.yhat[i * o..(i + 1) * o];
                let (mut m1, mut m2) = (0.0f32, 0.0f32);
                for k in 0..o {
                    dgam[k] += g[k] * yh[k];
                    dbet[k] += g[k];
                    dyh[k] = g[k] * t.gamma[k];
                    m1 += dyh[k];
                    m2 += dyh[k] * yh[k];
                }
                let (m1, m2) = (m1 / o as f32, m2 / o as f32);
                let ri = t.rinv[i];
                let (s, v) = sv[i * 2 * o..(i + 1) * 2 * o].split_at(o);
                let (dg, dv) = dgvb[ii * 2 * o..(ii + 1) * 2 * o].split_at_mut(o);
                for k in 0..o {
                    let gy = ri * (dyh[k] - m1 - yh[k] * m2);
                    dy[k] = gy;
                    dv[k] = gy * s[k];
                    dg[k] = gy * v[k] * s[k] * (1.0 - s[k]);
                }
            }
            (dgam, dbet)
        })
        .collect();
    let (pg, pb): (Vec<_>, Vec<_>) = parts.into_iter().unzip();
    let (dgamma, dbeta) = (sum_partials(pg, o), sum_partials(pb, o));
    let dgv_sum = col_sum(&dgv, 2 * o);
    let dgv = tensor(dgv, &[r, 2 * o]);
    let dw_gv = Flex::float_matmul(Flex::float_transpose(t.x.clone()), dgv.clone());
    let (mut dw_gate, mut dw_val) = (vec![0.0f32; h * o], vec![0.0f32; h * o]);
    for (q, row) in slice(&dw_gv).chunks_exact(2 * o).enumerate() {
        dw_gate[q * o..(q + 1) * o].copy_from_slice(&row[..o]);
        dw_val[q * o..(q + 1) * o].copy_from_slice(&row[o..]);
    }
    let dx = Flex::float_matmul(dgv, Flex::float_transpose(t.w_gv.clone()));
    let v = |x: Vec<f32>| tensor(x, &[o]);
    (
        dskip,
        dx,
        [
            tensor(dw_gate, &[h, o]),
            v(dgv_sum[..o].to_vec()),
            tensor(dw_val, &[h, o]),
            v(dgv_sum[o..].to_vec()),
            v(dgamma),
            v(dbeta),
        ],
    )
}

/// Multiplies `x` by the mask elementwise, in place.
fn apply_mask(x: &mut [f32], mask: &[f32]) {
    x.par_chunks_mut(ROWS * 64).zip(mask.par_chunks(ROWS * 64)).for_each(|(g, m)| {
        for (g, m) in g.iter_mut().zip(m) {
            *g *= m;
        }
    });
}

/// What the gate–add–norm's backward needs.
#[derive(Debug)]
struct GanSaved {
    tail: Tail,
    mask: Option<FlexTensor>,
}

#[derive(Debug)]
struct GanBackward;

impl Backward<Flex, 9> for GanBackward {
    type State = Arc<GanSaved>;

    fn backward(self, ops: Ops<Self::State, 9>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let grad = grads.consume::<Flex>(&ops.node);
        let out = gan_backward(&ops.state, grad);
        for (parent, g) in ops.parents.iter().zip(out) {
            if let (Some(node), Some(g)) = (parent, g) {
                grads.register::<Flex>(node.id, g);
            }
        }
    }
}

fn gan_forward(t: [FlexTensor; 9]) -> (FlexTensor, GanSaved) {
    let [x, mask, w_gate, b_gate, w_val, b_val, gamma, beta, skip] = t;
    let xd = x.layout().shape().to_vec();
    let (r, h) = (xd[0], xd[1]);
    let o = w_gate.layout().shape().to_vec()[1];
    let mask = (mask.layout().num_elements() == r * h).then(|| contiguous(mask));
    let x = match &mask {
        Some(m) => {
            let mut xv = to_vec(x);
            apply_mask(&mut xv, slice(m));
            tensor(xv, &[r, h])
        }
        None => contiguous(x),
    };
    let (out, tail) = tail_forward(x, w_gate, b_gate, w_val, b_val, gamma, beta, skip);
    (tensor(out, &[r, o]), GanSaved { tail, mask })
}

/// Gradients for `[x, mask (None), w_gate, b_gate, w_val, b_val, gamma, beta, skip]`.
fn gan_backward(st: &GanSaved, grad: FlexTensor) -> Vec<Option<FlexTensor>> {
    let t = &st.tail;
    let go = contiguous(grad);
    let (dskip, mut dx, [dwg, dbg, dwv, dbv, dgam, dbet]) = tail_backward(t, slice(&go));
    if let Some(m) = &st.mask {
        apply_mask(values_mut(&mut dx), slice(m));
    }
    vec![
        Some(dx),
        None,
        Some(dwg),
        Some(dbg),
        Some(dwv),
        Some(dbv),
        Some(dgam),
        Some(dbet),
        Some(tensor(dskip, &[t.r, t.o])),
    ]
}

/// What the GRN's backward needs on top of the tail's.
#[derive(Debug)]
struct RowGrnSaved {
    tail: Tail,
    /// Input `[r, d_in]`.
    a: FlexTensor,
    /// ELU output `[r, h]`.
    e: FlexTensor,
    /// Context groups.
    g: usize,
    mask: Option<FlexTensor>,
    w_in: FlexTensor,
    w_hid: FlexTensor,
}

#[derive(Debug)]
struct RowGrnBackward;

impl Backward<Flex, 14> for RowGrnBackward {
    type State = Arc<RowGrnSaved>;

    fn backward(self, ops: Ops<Self::State, 14>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let grad = grads.consume::<Flex>(&ops.node);
        let out = row_grn_backward(&ops.state, grad);
        for (parent, g) in ops.parents.iter().zip(out) {
            if let (Some(node), Some(g)) = (parent, g) {
                grads.register::<Flex>(node.id, g);
            }
        }
    }
}

fn row_grn_forward(t: [FlexTensor; 14]) -> (FlexTensor, RowGrnSaved) {
    let [a, w_in, b_in, ctx, w_hid, b_hid, mask, w_gate, b_gate, w_val, b_val, gamma, beta, skip] = t;
    let r = a.layout().shape().to_vec()[0];
    let h = w_in.layout().shape().to_vec()[1];
    let o = w_gate.layout().shape().to_vec()[1];
    let a = contiguous(a);
    let g = ctx.layout().num_elements() / h;
    let cz = to_vec(ctx);
    let rg = r / g;
    let bi = to_vec(b_in);
    // η₂ = ELU(a W₂ + b₂ + c W₃).
    let mut e = Flex::float_matmul(a.clone(), w_in.clone());
    values_mut(&mut e).par_chunks_mut(ROWS * h).enumerate().for_each(|(blk, eb)| {
        for (ii, row) in eb.chunks_exact_mut(h).enumerate() {
            let i = blk * ROWS + ii;
            let c = &cz[(i / rg) * h..(i / rg + 1) * h];
            for k in 0..h {
                row[k] = fast_math::elu(row[k] + bi[k] + c[k]);
            }
        }
    });
    // η₁ = dropout(η₂ W₁ + b₁).
    let mask = (mask.layout().num_elements() == r * h).then(|| contiguous(mask));
    let bh = to_vec(b_hid);
    let mut eta = Flex::float_matmul(e.clone(), w_hid.clone());
    let ms = mask.as_ref().map(slice);
    values_mut(&mut eta).par_chunks_mut(ROWS * h).enumerate().for_each(|(blk, xb)| {
        for (ii, row) in xb.chunks_exact_mut(h).enumerate() {
            let i = blk * ROWS + ii;
            match ms {
                Some(m) => {
                    let m = &m[i * h..(i + 1) * h];
                    for k in 0..h {
                        row[k] = (row[k] + bh[k]) * m[k];
                    }
                }
                None => {
                    for k in 0..h {
                        row[k] += bh[k];
                    }
                }
            }
        }
    });
    let (out, tail) = tail_forward(eta, w_gate, b_gate, w_val, b_val, gamma, beta, skip);
    (tensor(out, &[r, o]), RowGrnSaved { tail, a, e, g, mask, w_in, w_hid })
}

/// Gradients for the fourteen inputs in order (`None` for the mask).
fn row_grn_backward(st: &RowGrnSaved, grad: FlexTensor) -> Vec<Option<FlexTensor>> {
    let t = &st.tail;
    let (r, h, o) = (t.r, t.h, t.o);
    let go = contiguous(grad);
    let (dskip, mut dh, [dwg, dbg, dwv, dbv, dgam, dbet]) = tail_backward(t, slice(&go));
    // Back through dropout and W₁.
    if let Some(m) = &st.mask {
        apply_mask(values_mut(&mut dh), slice(m));
    }
    let db_hid = col_sum(slice(&dh), h);
    let dw_hid = Flex::float_matmul(Flex::float_transpose(st.e.clone()), dh.clone());
    // Back through the ELU (e > 0 exactly where its input is) and W₂.
    let mut dz = Flex::float_matmul(dh, Flex::float_transpose(st.w_hid.clone()));
    values_mut(&mut dz).par_chunks_mut(ROWS * h).zip(slice(&st.e).par_chunks(ROWS * h)).for_each(|(g, e)| {
        for (g, &ev) in g.iter_mut().zip(e) {
            *g *= if ev > 0.0 { 1.0 } else { ev + 1.0 };
        }
    });
    let groups: Vec<Vec<f32>> = slice(&dz).par_chunks((r / st.g) * h).map(|blk| col_sum(blk, h)).collect();
    let dctx: Vec<f32> = groups.iter().flatten().copied().collect();
    let (db_in, dctx) = (sum_partials(groups, h), Some(tensor(dctx, &[st.g, h])));
    let dw_in = Flex::float_matmul(Flex::float_transpose(st.a.clone()), dz.clone());
    let da = Flex::float_matmul(dz, Flex::float_transpose(st.w_in.clone()));
    let v = |x: Vec<f32>, n: usize| tensor(x, &[n]);
    vec![
        Some(da),
        Some(dw_in),
        Some(v(db_in, h)),
        dctx,
        Some(dw_hid),
        Some(v(db_hid, h)),
        None,
        Some(dwg),
        Some(dbg),
        Some(dwv),
        Some(dbv),
        Some(dgam),
        Some(dbet),
        Some(tensor(dskip, &[r, o])),
    ]
}

/// The fused [`Grn`](crate::nn::Grn) on row tensors (see [`RowGrnBackend::row_grn`]). Only on
/// the flex device ([`fused_available`](crate::nn::fused_seq::fused_available)).
#[allow(clippy::too_many_arguments)]
pub fn row_grn(
    a: Tensor<2>,
    w_in: Tensor<2>,
    b_in: Tensor<1>,
    ctx: Tensor<2>,
    w_hid: Tensor<2>,
    b_hid: Tensor<1>,
    mask: Tensor<1>,
    w_gate: Tensor<2>,
    b_gate: Tensor<1>,
    w_val: Tensor<2>,
    b_val: Tensor<1>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    skip: Tensor<2>,
) -> Tensor<2> {
    use burn::backend::Dispatch;
    Tensor::from_dispatch(Dispatch::row_grn(
        a.into_dispatch(),
        w_in.into_dispatch(),
        b_in.into_dispatch(),
        ctx.into_dispatch(),
        w_hid.into_dispatch(),
        b_hid.into_dispatch(),
        mask.into_dispatch(),
        w_gate.into_dispatch(),
        b_gate.into_dispatch(),
        w_val.into_dispatch(),
        b_val.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        skip.into_dispatch(),
    ))
}

/// The fused [`GateAddNorm`](crate::nn::GateAddNorm) on row tensors (see
/// [`RowGateAddNormBackend::row_gate_add_norm`]). Only on the flex device.
#[allow(clippy::too_many_arguments)]
pub fn row_gate_add_norm(
    x: Tensor<2>,
    mask: Tensor<1>,
    w_gate: Tensor<2>,
    b_gate: Tensor<1>,
    w_val: Tensor<2>,
    b_val: Tensor<1>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    skip: Tensor<2>,
) -> Tensor<2> {
    use burn::backend::Dispatch;
    Tensor::from_dispatch(Dispatch::row_gate_add_norm(
        x.into_dispatch(),
        mask.into_dispatch(),
        w_gate.into_dispatch(),
        b_gate.into_dispatch(),
        w_val.into_dispatch(),
        b_val.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        skip.into_dispatch(),
    ))
}
