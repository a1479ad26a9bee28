//! Multi-head self-attention ([`SelfAttention`](crate::nn::SelfAttention)) as one primitive: one
//! autodiff graph node on the CPU (`flex`) backend, with a hand-written backward.
//!
//! The reference path records about fifteen burn autodiff nodes (three projections, the head
//! split `reshape` + `swap_dims` and its layout copies, the score product, the scale, a
//! four-op softmax through scalar libm `expf`, the dropout product, the value product, the head
//! merge and the output projection), each allocating and walking its tensor forward and again
//! backward. Here, forward:
//!
//! 1. one `[b·t, d] × [d, 3d]` product for queries, keys and values (the three weights side by
//!    side), biases added in one pass;
//! 2. per (batch, head) `Q Kᵀ` as one batched product over *strided views* of that `[b·t, 3d]`
//!    buffer (no head-split copies), flex running the `b·heads` small products in parallel;
//! 3. softmax(S/√d_k) row by row with the vectorisable [`fast_math::exp`], the dropout mask
//!    (drawn by [`Dropout::mask`](crate::nn::Dropout::mask) from the caller's stream exactly as
//!    [`Dropout::forward`](crate::nn::Dropout::forward) draws it) applied in the same pass;
//! 4. the batched `P V` product, heads merged into `[b·t, d]` in one copy, and the output
//!    projection.
//!
//! Backward: the output projection's two products; `dP = dO Vᵀ` and `dV = Pᵀ dO` over strided
//! views; the softmax backward `dS = P ⊙ (dP − rowsum(dP ⊙ P))` (with the mask and the `1/√d_k`
//! folded in) in one pass; `dQ = dS K`, `dK = dSᵀ Q`; then the fused projection's two products.
//! The function is exactly the reference's up to `f32` rounding; the parameters are the layer's
//! own (names and shapes unchanged).
//!
//! Every loop splits at (batch, head) or batch-row boundaries that do not depend on the number of
//! threads, so results are bit-identical whatever `RAYON_NUM_THREADS` is.
//!
//! The same backend extension runs the TFT's interpretable attention (`interpretable`, see
//! [`fused_tft_attention`](crate::nn::fused_tft_attention)): one autodiff node type for both.
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
use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, backend_extension};
use burn::nn::Linear;
use burn::tensor::{Shape, Tensor};
use rayon::prelude::*;

use crate::nn::fast_math;
use crate::nn::fused_seq::{tensor, to_vec};

/// Batch rows per task in the row-wise loops (bias adds, head merge and split).
const ROWS_PER_TASK: usize = 256;

/// The backend extension: multi-head self-attention over `[b, t, d]`.
#[backend_extension(Flex, Autodiff)]
pub trait SelfAttentionBackend: Backend {
    /// `x [b, t, d]`; projection weights `[d, d]` (input × output, as burn's `Linear`) and biases
    /// `[d]` for queries, keys, values and the output; `mask` the dropout mask on the attention
    /// weights (`b·heads·t·t` values, or any other length for none) → `[b, t, d]`. With
    /// `interpretable`, the TFT's interpretable attention instead
    /// ([`fused_tft_attention`](crate::nn::fused_tft_attention): a shared value `[d, d_k]`, the
    /// output `[d_k, d]`, causal, heads averaged) → `[b, t, d + t]`.
    #[allow(clippy::too_many_arguments)]
    fn self_attention(
        x: FloatTensor<Self>,
        wq: FloatTensor<Self>,
        bq: FloatTensor<Self>,
        wk: FloatTensor<Self>,
        bk: FloatTensor<Self>,
        wv: FloatTensor<Self>,
        bv: FloatTensor<Self>,
        wo: FloatTensor<Self>,
        bo: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        n_heads: usize,
        interpretable: bool,
    ) -> FloatTensor<Self>;
}

impl SelfAttentionBackend for Flex {
    fn self_attention(
        x: FlexTensor,
        wq: FlexTensor,
        bq: FlexTensor,
        wk: FlexTensor,
        bk: FlexTensor,
        wv: FlexTensor,
        bv: FlexTensor,
        wo: FlexTensor,
        bo: FlexTensor,
        mask: FlexTensor,
        n_heads: usize,
        interpretable: bool,
    ) -> FlexTensor {
        either_forward([x, wq, bq, wk, bk, wv, bv, wo, bo, mask], n_heads, interpretable).0
    }
}

impl<C: CheckpointStrategy> SelfAttentionBackend for Autodiff<Flex, C> {
    fn self_attention(
        x: FloatTensor<Self>,
        wq: FloatTensor<Self>,
        bq: FloatTensor<Self>,
        wk: FloatTensor<Self>,
        bk: FloatTensor<Self>,
        wv: FloatTensor<Self>,
        bv: FloatTensor<Self>,
        wo: FloatTensor<Self>,
        bo: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        n_heads: usize,
        interpretable: bool,
    ) -> FloatTensor<Self> {
        let parts = [x, wq, bq, wk, bk, wv, bv, wo, bo, mask].map(|t| t.into_parts());
        let [p0, p1, p2, p3, p4, p5, p6, p7, p8, p9] = parts;
        let nodes = [p0.1, p1.1, p2.1, p3.1, p4.1, p5.1, p6.1, p7.1, p8.1, p9.1];
        let prims = [p0.0, p1.0, p2.0, p3.0, p4.0, p5.0, p6.0, p7.0, p8.0, p9.0];
        match SelfAttentionBackward.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (out, saved) = either_forward(prims, n_heads, interpretable);
                prep.finish(Arc::new(saved), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(either_forward(prims, n_heads, interpretable).0),
        }
    }
}

/// What either attention's backward needs.
#[derive(Debug)]
enum AttentionSaved {
    SelfAttention(Saved),
    Interpretable(crate::nn::fused_tft_attention::Saved),
}

fn either_forward(t: [FlexTensor; 10], nh: usize, interpretable: bool) -> (FlexTensor, AttentionSaved) {
    if interpretable {
        let (out, saved) = crate::nn::fused_tft_attention::forward(t, nh);
        (out, AttentionSaved::Interpretable(saved))
    } else {
        let (out, saved) = forward(t, nh);
        (out, AttentionSaved::SelfAttention(saved))
    }
}

/// What the backward pass needs.
#[derive(Debug)]
struct Saved {
    b: usize,
    t: usize,
    d: usize,
    nh: usize,
    /// Input `[b·t, d]`.
    x: FlexTensor,
    /// `[wq | wk | wv]` `[d, 3d]`.
    wqkv: FlexTensor,
    wo: FlexTensor,
    /// Projected queries, keys and values `[b·t, 3d]`.
    qkv: FlexTensor,
    /// Softmax probabilities `[b, heads, t, t]` (before dropout).
    p: FlexTensor,
    /// The probabilities after dropout `P ⊙ M`, when there was a mask `M` (written over the
    /// mask's own buffer: no new allocation). `M` is `0` or one value `1/(1 − p)`, and `P > 0`
    /// wherever it matters, so `M = (P ⊙ M ≠ 0) · 1/(1 − p)` is recovered in the backward.
    dropped: Option<FlexTensor>,
    /// Merged heads `[b·t, d]` (the output projection's input).
    hm: FlexTensor,
    /// The mask's non-zero value `1/(1 − p)` (`1` without a mask).
    keep_scale: f32,
}

#[derive(Debug)]
struct SelfAttentionBackward;

impl Backward<Flex, 10> for SelfAttentionBackward {
    type State = Arc<AttentionSaved>;

    fn backward(self, ops: Ops<Self::State, 10>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let grad = grads.consume::<Flex>(&ops.node);
        let out = match ops.state.as_ref() {
            AttentionSaved::SelfAttention(st) => backward(st, grad),
            AttentionSaved::Interpretable(st) => crate::nn::fused_tft_attention::backward(st, grad),
        };
        for (parent, g) in ops.parents.iter().zip(out) {
            if let Some(node) = parent {
                grads.register::<Flex>(node.id, g);
            }
        }
    }
}

/// The values of a fresh (contiguous, unshared) `f32` matmul output, to change in place: no copy
/// (`into_data` would copy it, the storage being byte-aligned).
pub(crate) fn values_mut(t: &mut FlexTensor) -> &mut [f32] {
    let n = t.layout().num_elements();
    &mut t.storage_mut::<f32>()[..n]
}

/// The values of a contiguous `f32` tensor (a matmul output), without a copy.
pub(crate) fn values(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>().unwrap_or(&[])
}

/// `t` itself when it is a contiguous `f32` tensor, else a contiguous `f32` copy.
pub(crate) fn contiguous(t: FlexTensor) -> FlexTensor {
    if t.as_slice::<f32>().is_some() {
        return t;
    }
    let shape = t.layout().shape().to_vec();
    tensor(to_vec(t), &shape)
}

/// `Σ a·b` in eight independent lanes, so the loop vectorises.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `Σ a` in eight independent lanes.
#[inline(always)]
fn sum(a: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let c = a.chunks_exact(8);
    let tail: f32 = c.remainder().iter().sum();
    for x in c {
        for k in 0..8 {
            acc[k] += x[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Row-wise softmax of `s · inv_scale` over `[rows, t]`, in place (one task per (batch, head)
/// block of `t·t`). `causal`: row `i` of a block attends to columns `0..=i` only, the rest
/// become 0 (what adding −10⁹ above the diagonal before the softmax gives in `f32`).
#[inline(never)]
pub(crate) fn softmax_rows(p: &mut [f32], t: usize, inv_scale: f32, causal: bool) {
    p.par_chunks_mut(t * t).for_each(|block| {
        for (i, row) in block.chunks_exact_mut(t).enumerate() {
            let row = if causal {
                let (keep, masked) = row.split_at_mut(i + 1);
                masked.fill(0.0);
                keep
            } else {
                row
            };
            let mut m = f32::NEG_INFINITY;
            for v in row.iter_mut() {
                *v *= inv_scale;
                m = if *v > m { *v } else { m };
            }
            for v in row.iter_mut() {
                *v = fast_math::exp(*v - m);
            }
            let r = 1.0 / sum(row);
            for v in row.iter_mut() {
                *v *= r;
            }
        }
    });
}

/// The softmax backward in place: `dw` holds the gradient reaching the (dropped) weights and
/// becomes the gradient of the scores before the `1/√d_k`: `P ⊙ (dP − rowsum(dP ⊙ P)) · inv_scale`
/// with `dP = dw ⊙ M`. `dropped`: the weights after dropout `P ⊙ M` and the kept weights' factor
/// `1/(1 − p)`, from which `M` is recovered (see [`Saved::dropped`]).
#[inline(never)]
pub(crate) fn softmax_rows_back(dw: &mut [f32], p: &[f32], dropped: Option<(&[f32], f32)>, t: usize, inv_scale: f32) {
    dw.par_chunks_mut(t * t).enumerate().for_each(|(j, block)| {
        let pj = &p[j * t * t..(j + 1) * t * t];
        let dj = dropped.map(|(pd, k)| (&pd[j * t * t..(j + 1) * t * t], k));
        for (i, (g, p)) in block.chunks_exact_mut(t).zip(pj.chunks_exact(t)).enumerate() {
            if let Some((pd, keep_scale)) = dj {
                for (g, pd) in g.iter_mut().zip(&pd[i * t..(i + 1) * t]) {
                    *g *= if *pd != 0.0 { keep_scale } else { 0.0 };
                }
            }
            let gp = dot(g, p);
            for (g, p) in g.iter_mut().zip(p) {
                *g = p * (*g - gp) * inv_scale;
            }
        }
    });
}

/// The attention weights `p [b, heads, t, t]` after the dropout `mask` (`b·heads·t·t` values, any
/// other length for none), written over the mask's own buffer, and the kept weights' factor
/// `1/(1 − p)` (see [`Saved::dropped`]); `(None, 1)` without a mask.
pub(crate) fn drop_weights(p: &FlexTensor, mask: FlexTensor, [b, nh, t, _]: [usize; 4]) -> (Option<FlexTensor>, f32) {
    if mask.layout().num_elements() != b * nh * t * t {
        return (None, 1.0);
    }
    let mask = contiguous(mask);
    let keep_scale = values(&mask).iter().copied().find(|&m| m != 0.0).unwrap_or(1.0);
    let mut pd = mask.reshape(Shape::from(vec![b, nh, t, t]));
    let pv = values(p);
    values_mut(&mut pd).par_chunks_mut(t * t).zip(pv.par_chunks(t * t)).for_each(|(m, p)| {
        for (m, p) in m.iter_mut().zip(p) {
            *m *= p;
        }
    });
    (Some(pd), keep_scale)
}

/// The `[b, heads, t, d_k]` view of one third (`part` 0 queries, 1 keys, 2 values) of a
/// `[b·t, 3d]` buffer, or with `d3 = d` and `part` 0 of a `[b·t, d]` buffer: no copy.
pub(crate) fn heads_view(buf: &FlexTensor, part: usize, d3: usize, [b, nh, t, dk]: [usize; 4]) -> FlexTensor {
    let strides = vec![(t * d3) as isize, dk as isize, d3 as isize, 1];
    buf.clone().with_layout(Layout::new(Shape::from(vec![b, nh, t, dk]), strides, part * nh * dk))
}

/// Adds `bias [w]` to every row of `x [rows, w]`.
#[inline(never)]
pub(crate) fn add_bias(x: &mut [f32], bias: &[f32]) {
    let w = bias.len();
    x.par_chunks_mut(ROWS_PER_TASK * w).for_each(|block| {
        for row in block.chunks_exact_mut(w) {
            for (v, b) in row.iter_mut().zip(bias) {
                *v += b;
            }
        }
    });
}

/// Sums `x [rows, w]` over the rows (fixed blocks of [`ROWS_PER_TASK`] rows, summed in order).
#[inline(never)]
pub(crate) fn col_sum(x: &[f32], w: usize) -> Vec<f32> {
    crate::nn::fused_par::col_sum_blocks(x, w, ROWS_PER_TASK)
}

/// Copies heads `[b, heads, t, d_k]` into columns `col..col + d` of rows `[b·t, w]`.
#[inline(never)]
fn merge_heads(src: &[f32], dst: &mut [f32], w: usize, col: usize, [_, nh, t, dk]: [usize; 4]) {
    dst.par_chunks_mut(t * w).enumerate().for_each(|(bi, rows)| {
        for h in 0..nh {
            for s in 0..t {
                let from = ((bi * nh + h) * t + s) * dk;
                let to = s * w + col + h * dk;
                rows[to..to + dk].copy_from_slice(&src[from..from + dk]);
            }
        }
    });
}

/// What both attentions start with: `x [b, t, d]` as `[b·t, d]`, the projection weights side by
/// side `[wq | wk | wv]` `[d, w]`, the projected queries, keys and values `[b·t, w]` (one product,
/// biases added in one pass), and the softmax weights `P [b, heads, t, t]` of `Q Kᵀ / √d_k` per
/// (batch, head) over strided views of that buffer (`causal`: row `i` sees steps `0..=i`).
pub(crate) fn front(
    x: FlexTensor,
    [wq, bq, wk, bk, wv, bv]: [FlexTensor; 6],
    shape4 @ [b, _, t, dk]: [usize; 4],
    causal: bool,
) -> (FlexTensor, FlexTensor, FlexTensor, FlexTensor) {
    let d = x.layout().shape()[2];
    let x = x.reshape(Shape::from(vec![b * t, d]));
    let wqkv = Flex::float_cat(vec![wq, wk, wv], 1);
    let w = wqkv.layout().shape()[1];
    let bias: Vec<f32> = [bq, bk, bv].into_iter().flat_map(to_vec).collect();
    let mut qkv = Flex::float_matmul(x.clone(), wqkv.clone());
    add_bias(values_mut(&mut qkv), &bias);
    let kt = Flex::float_swap_dims(heads_view(&qkv, 1, w, shape4), 2, 3);
    let mut p = Flex::float_matmul(heads_view(&qkv, 0, w, shape4), kt);
    softmax_rows(values_mut(&mut p), t, 1.0 / (dk as f64).sqrt() as f32, causal);
    (x, wqkv, qkv, p)
}

fn forward(t: [FlexTensor; 10], nh: usize) -> (FlexTensor, Saved) {
    let [x, wq, bq, wk, bk, wv, bv, wo, bo, mask] = t;
    let dims = x.layout().shape().to_vec();
    let (b, t, d) = (dims[0], dims[1], dims[2]);
    let dk = d / nh;
    let (bt, d3) = (b * t, 3 * d);
    let shape4 = [b, nh, t, dk];
    let (x, wqkv, qkv, p) = front(x, [wq, bq, wk, bk, wv, bv], shape4, false);
    // The dropout mask on the weights.
    let (dropped, keep_scale) = drop_weights(&p, mask, [b, nh, t, t]);
    let weights = dropped.as_ref().map_or_else(|| p.clone(), FlexTensor::clone);
    let o = Flex::float_matmul(weights, heads_view(&qkv, 2, d3, shape4));
    let mut hm = vec![0.0f32; bt * d];
    merge_heads(values(&o), &mut hm, d, 0, shape4);
    drop(o);
    let hm = tensor(hm, &[bt, d]);
    let mut y = Flex::float_matmul(hm.clone(), wo.clone());
    add_bias(values_mut(&mut y), &to_vec(bo));
    let y = y.reshape(Shape::from(vec![b, t, d]));
    let saved = Saved { b, t, d, nh, x, wqkv, wo, qkv, p, dropped, hm, keep_scale };
    (y, saved)
}

/// Gradients for `[x, wq, bq, wk, bk, wv, bv, wo, bo]`.
fn backward(st: &Saved, grad: FlexTensor) -> [FlexTensor; 9] {
    let (b, t, d, nh) = (st.b, st.t, st.d, st.nh);
    let dk = d / nh;
    let (bt, d3) = (b * t, 3 * d);
    let shape4 = [b, nh, t, dk];
    let dy = to_vec(grad);
    // Output projection.
    let dbo = col_sum(&dy, d);
    let dy = tensor(dy, &[bt, d]);
    let dwo = Flex::float_matmul(Flex::float_transpose(st.hm.clone()), dy.clone());
    let dhm = Flex::float_matmul(dy, Flex::float_transpose(st.wo.clone()));
    let d_o = heads_view(&dhm, 0, d, shape4);
    // Through weights · V.
    let weights = st.dropped.as_ref().map_or_else(|| st.p.clone(), FlexTensor::clone);
    let dv = Flex::float_matmul(Flex::float_swap_dims(weights, 2, 3), d_o.clone());
    let vt = Flex::float_swap_dims(heads_view(&st.qkv, 2, d3, shape4), 2, 3);
    let mut ds = Flex::float_matmul(d_o, vt);
    // Through the dropout and the softmax (and the 1/√d_k).
    let inv_scale = 1.0 / (dk as f64).sqrt() as f32;
    let dropped = st.dropped.as_ref().map(|pd| (values(pd), st.keep_scale));
    softmax_rows_back(values_mut(&mut ds), values(&st.p), dropped, t, inv_scale);
    let dq = Flex::float_matmul(ds.clone(), heads_view(&st.qkv, 1, d3, shape4));
    let dkey = Flex::float_matmul(Flex::float_swap_dims(ds, 2, 3), heads_view(&st.qkv, 0, d3, shape4));
    // The fused projection.
    let mut dqkv = vec![0.0f32; bt * d3];
    for (part, g) in [dq, dkey, dv].iter().enumerate() {
        merge_heads(values(g), &mut dqkv, d3, part * d, shape4);
    }
    let dbqkv = col_sum(&dqkv, d3);
    let dqkv = tensor(dqkv, &[bt, d3]);
    let dwqkv = Flex::float_matmul(Flex::float_transpose(st.x.clone()), dqkv.clone());
    let dx = Flex::float_matmul(dqkv, Flex::float_transpose(st.wqkv.clone()));
    let mut dw = [vec![0.0f32; d * d], vec![0.0f32; d * d], vec![0.0f32; d * d]];
    for (r, row) in values(&dwqkv).chunks_exact(d3).enumerate() {
        for (part, w) in dw.iter_mut().enumerate() {
            w[r * d..(r + 1) * d].copy_from_slice(&row[part * d..(part + 1) * d]);
        }
    }
    let [dwq, dwk, dwv] = dw;
    let bias = |part: usize| tensor(dbqkv[part * d..(part + 1) * d].to_vec(), &[d]);
    let w = |v: Vec<f32>| tensor(v, &[d, d]);
    [dx.reshape(Shape::from(vec![b, t, d])), w(dwq), bias(0), w(dwk), bias(1), w(dwv), bias(2), dwo, tensor(dbo, &[d])]
}

/// Whether the fused attention ops run for `x`: the flex device
/// ([`fused_available`](crate::nn::fused_seq::fused_available)), a non-empty input, and
/// `VANE_FUSED_ATTENTION` not set to `0` (which leaves both attentions on their reference paths
/// while the other fused ops stay on: for before/after timings of the fused attention alone).
pub(crate) fn fusable(x: &Tensor<3>) -> bool {
    x.shape().num_elements() > 0
        && crate::nn::fused_seq::fused_available(&x.device())
        && !crate::nn::fused_seq::switched_off("VANE_FUSED_ATTENTION")
}

/// The fused op on a layer's `query`, `key`, `value` and `output` projections (see the module
/// docs, and [`fused_tft_attention`](crate::nn::fused_tft_attention) with `interpretable`): `x
/// [b, t, d]`, `mask` the dropout mask on the `[b, heads, t, t]` weights (any other length: none)
/// → `[b, t, d]`, or `[b, t, d + t]` with `interpretable`. The parameters are read in the order
/// `Linear::forward` reads them, queries to output (a lazily initialised parameter draws its
/// values when first read); a projection without a bias adds zeros. Only on the flex device
/// ([`fusable`]); any other backend panics in burn's dispatch.
pub(crate) fn forward_layer(
    x: Tensor<3>,
    [query, key, value, output]: [&Linear; 4],
    mask: Tensor<1>,
    n_heads: usize,
    interpretable: bool,
) -> Tensor<3> {
    use burn::backend::Dispatch;
    let params = |l: &Linear| {
        let w = l.weight.val();
        let b = l.bias.as_ref().map_or_else(|| Tensor::zeros([w.dims()[1]], &w.device()), |b| b.val());
        (w.into_dispatch(), b.into_dispatch())
    };
    let (wq, bq) = params(query);
    let (wk, bk) = params(key);
    let (wv, bv) = params(value);
    let (wo, bo) = params(output);
    Tensor::from_dispatch(Dispatch::self_attention(
        x.into_dispatch(),
        wq,
        bq,
        wk,
        bk,
        wv,
        bv,
        wo,
        bo,
        mask.into_dispatch(),
        n_heads,
        interpretable,
    ))
}
