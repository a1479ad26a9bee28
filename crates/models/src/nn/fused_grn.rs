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
    sv: Vec<f32>,
    /// Normalised `ŷ` `[n, r, d]`.
    yhat: Vec<f32>,
    /// `1/√(var + ε)` per row `[n, r]`.
    rinv: Vec<f32>,
    /// The dropout mask, when there was one.
    mask: Option<Vec<f32>>,
    gamma: Vec<f32>,
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

/// The values of `t` as an owned vector, without a copy when `t` is a contiguous `f32` tensor
/// that nothing else shares (a fresh matmul output).
fn owned(t: FlexTensor) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().unwrap_or_default()
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
    let a = tensor(owned(a), &[n, r, d]);
    // η₂ = ELU(a W₂ + b₂).
    let mut e = owned(Flex::float_matmul(a.clone(), w_in.clone()));
    add_bias_map(&mut e, &to_vec(b_in), r, d, |_, v| fast_math::elu(v));
    let e = tensor(e, &[n, r, d]);
    // η₁ = dropout(η₂ W₁ + b₁).
    let mut eta = owned(Flex::float_matmul(e.clone(), w_hid.clone()));
    let mask = owned(mask);
    let mask = (mask.len() == n * r * d).then_some(mask);
    match &mask {
        Some(m) => add_bias_map(&mut eta, &to_vec(b_hid), r, d, |i, v| v * m[i]),
        None => add_bias_map(&mut eta, &to_vec(b_hid), r, d, |_, v| v),
    }
    let eta = tensor(eta, &[n, r, d]);
    // GLU, residual, layer norm.
    let w_gv = Flex::float_cat(vec![w_gate, w_val], 2);
    let mut sv = owned(Flex::float_matmul(eta.clone(), w_gv.clone()));
    let (bg, bv, gv, bt) = (to_vec(b_gate), to_vec(b_val), to_vec(gamma), to_vec(beta));
    let av = slice(&a);
    let mut yhat = vec![0.0f32; n * r * d];
    let mut out = vec![0.0f32; n * r * d];
    let mut rinv = vec![0.0f32; n * r];
    sv.par_chunks_mut(r * 2 * d)
        .zip(yhat.par_chunks_mut(r * d))
        .zip(out.par_chunks_mut(r * d))
        .zip(rinv.par_chunks_mut(r))
        .enumerate()
        .for_each(|(j, (((svj, yhj), oj), rij))| {
            let p = j * d..(j + 1) * d;
            let (bgj, bvj, gj, btj) = (&bg[p.clone()], &bv[p.clone()], &gv[p.clone()], &bt[p]);
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
                let o = &mut oj[i * d..(i + 1) * d];
                for k in 0..d {
                    yh[k] = (y[k] - mean) * ri;
                    o[k] = yh[k] * gj[k] + btj[k];
                }
            }
        });
    let saved = Saved { n, r, d, a, e, eta, sv, yhat, rinv, mask, gamma: gv, w_in, w_hid, w_gv };
    (tensor(out, &[n, r, d]), saved)
}

/// Gradients for `[a, w_in, b_in, w_hid, b_hid, w_gate, b_gate, w_val, b_val, gamma, beta]`.
fn backward(st: &Saved, grad: FlexTensor) -> [FlexTensor; 11] {
    let (n, r, d) = (st.n, st.r, st.d);
    let dout = owned(grad);
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
            for i in 0..r {
                let row = j * r + i;
                let rr = row * d..(row + 1) * d;
                let (go, yh) = (&dout[rr.clone()], &st.yhat[rr]);
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
                let (s, v) = st.sv[row * 2 * d..(row + 1) * 2 * d].split_at(d);
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
    let dw_gv = owned(Flex::float_matmul(Flex::float_transpose(st.eta.clone()), dgv.clone()));
    let (mut dw_gate, mut dw_val) = (vec![0.0f32; n * d * d], vec![0.0f32; n * d * d]);
    for (q, row) in dw_gv.chunks_exact(2 * d).enumerate() {
        dw_gate[q * d..(q + 1) * d].copy_from_slice(&row[..d]);
        dw_val[q * d..(q + 1) * d].copy_from_slice(&row[d..]);
    }
    // Back through dropout and W₁.
    let mut dh = owned(Flex::float_matmul(dgv, Flex::float_transpose(st.w_gv.clone())));
    if let Some(m) = &st.mask {
        dh.par_chunks_mut(r * d).zip(m.par_chunks(r * d)).for_each(|(g, k)| {
            for (g, k) in g.iter_mut().zip(k) {
                *g *= k;
            }
        });
    }
    let db_hid = row_sum(&dh, n, r, d);
    let dh = tensor(dh, &[n, r, d]);
    let dw_hid = Flex::float_matmul(Flex::float_transpose(st.e.clone()), dh.clone());
    // Back through the ELU (e > 0 exactly where its input is) and W₂.
    let mut dz = owned(Flex::float_matmul(dh, Flex::float_transpose(st.w_hid.clone())));
    dz.par_chunks_mut(r * d).zip(slice(&st.e).par_chunks(r * d)).for_each(|(g, e)| {
        for (g, &ev) in g.iter_mut().zip(e) {
            *g *= if ev > 0.0 { 1.0 } else { ev + 1.0 };
        }
    });
    let db_in = row_sum(&dz, n, r, d);
    let dz = tensor(dz, &[n, r, d]);
    let dw_in = Flex::float_matmul(Flex::float_transpose(st.a.clone()), dz.clone());
    let da_in = owned(Flex::float_matmul(dz, Flex::float_transpose(st.w_in.clone())));
    da.par_chunks_mut(r * d).zip(da_in.par_chunks(r * d)).for_each(|(g, x)| {
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
