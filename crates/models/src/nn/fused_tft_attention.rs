//! The TFT's interpretable multi-head attention
//! ([`InterpretableAttention`](crate::tft::InterpretableAttention)) as one primitive: one autodiff
//! graph node on the CPU (`flex`) backend, with a hand-written backward.
//!
//! The layer has per-head queries and keys, one value projection `[d, d_k]` shared by every head,
//! a causal mask, dropout on the attention weights, and the heads *averaged* before the output
//! projection `[d_k, d]`. Because the value is shared, averaging the heads' outputs equals
//! multiplying the head-averaged (dropped) weights by the value once:
//! `mean_h (P_h ⊙ M_h) V = (mean_h P_h ⊙ M_h) V`. Forward:
//!
//! 1. one `[b·t, d] × [d, 2·heads·d_k + d_k]` product for queries, keys and the value, biases
//!    added in one pass;
//! 2. per (batch, head) `Q Kᵀ` as one batched product over strided views of that buffer;
//! 3. the causal softmax row by row (columns after the row's own step are 0 and skipped), the
//!    dropout mask (drawn from the caller's stream exactly as the reference path draws it);
//! 4. the head means of the weights before and after dropout `[b, t, t]`, one `[t, t] × [t, d_k]`
//!    product per batch with the value, and the output projection.
//!
//! The op returns `[b, t, d + t]`: the layer's output, then the head-averaged attention weights
//! (before dropout) that [`InterpretableAttention::forward`](crate::tft::InterpretableAttention::forward)
//! returns for interpretation. The weights' columns carry no gradient: the layer detaches them
//! (the reference path's weights are differentiable, but no loss uses them).
//!
//! Backward: the output projection; `dV = W̄ᵀ dH` with `W̄` the mean dropped weights; the
//! gradient of every head's dropped weights is the same `dH Vᵀ / heads`, taken through each head's
//! mask and softmax (`dS = P ⊙ (dP − rowsum(dP ⊙ P)) / √d_k`, with
//! [`fused_attention`](crate::nn::fused_attention)'s routines); `dQ = dS K`, `dK = dSᵀ Q`; then the
//! fused projection. The function is exactly the reference's up to `f32` rounding. Every loop
//! splits at (batch, head) or batch-row boundaries that do not depend on the number of threads.
//!
//! It is the `interpretable` variant of [`fused_attention`](crate::nn::fused_attention)'s backend
//! extension (one autodiff node type for both attentions); only the `flex` backend (plain or under
//! `Autodiff`) implements it, and the layer calls it when
//! [`fused_available`](crate::nn::fused_seq::fused_available) says so (`VANE_FUSED=0` or
//! `VANE_FUSED_ATTENTION=0` keep the reference path).

use burn::backend::Flex;
use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::ops::FloatTensorOps;
use burn::tensor::Shape;
use rayon::prelude::*;

use crate::nn::fused_attention::{
    add_bias, col_sum, contiguous, drop_weights, front, heads_view, softmax_rows_back, values, values_mut,
};
use crate::nn::fused_seq::{tensor, to_vec};

/// What the backward pass needs.
#[derive(Debug)]
pub(crate) struct Saved {
    b: usize,
    t: usize,
    d: usize,
    nh: usize,
    dk: usize,
    /// Input `[b·t, d]`.
    x: FlexTensor,
    /// `[wq | wk | wv]` `[d, 2·heads·d_k + d_k]`.
    wqkv: FlexTensor,
    wo: FlexTensor,
    /// Projected queries, keys and the value `[b·t, 2·heads·d_k + d_k]`.
    qkv: FlexTensor,
    /// Softmax probabilities `[b, heads, t, t]` (before dropout).
    p: FlexTensor,
    /// The probabilities after dropout `P ⊙ M` when there was a mask (see
    /// [`drop_weights`]).
    dropped: Option<FlexTensor>,
    /// The mask's non-zero value `1/(1 − p)` (`1` without a mask).
    keep_scale: f32,
    /// Head means of the dropped weights `[b, t, t]`.
    mean_dropped: FlexTensor,
    /// The head-mean output before the output projection `[b·t, d_k]`.
    hm: FlexTensor,
}

/// The mean over the heads of `w [b, heads, t, t]` → `[b, t, t]` (one task per batch).
fn head_mean(w: &[f32], [b, nh, t, _]: [usize; 4]) -> Vec<f32> {
    let tt = t * t;
    let mut out = vec![0.0f32; b * tt];
    let inv = 1.0 / nh as f32;
    out.par_chunks_mut(tt).enumerate().for_each(|(bi, o)| {
        for h in 0..nh {
            for (o, v) in o.iter_mut().zip(&w[(bi * nh + h) * tt..(bi * nh + h + 1) * tt]) {
                *o += v;
            }
        }
        for o in o.iter_mut() {
            *o *= inv;
        }
    });
    out
}

/// The `[b, t, d_k]` view of the value columns `2·heads·d_k ..` of the `[b·t, w]` projection.
fn value_view(qkv: &FlexTensor, w: usize, [b, nh, t, dk]: [usize; 4]) -> FlexTensor {
    let strides = vec![(t * w) as isize, w as isize, 1];
    qkv.clone().with_layout(Layout::new(Shape::from(vec![b, t, dk]), strides, 2 * nh * dk))
}

/// The forward pass (see the module docs) and what the backward needs.
pub(crate) fn forward(parts: [FlexTensor; 10], nh: usize) -> (FlexTensor, Saved) {
    let [x, wq, bq, wk, bk, wv, bv, wo, bo, mask] = parts;
    let dims = x.layout().shape().to_vec();
    let (b, t, d) = (dims[0], dims[1], dims[2]);
    let dk = wv.layout().shape()[1];
    let (bt, w) = (b * t, 2 * nh * dk + dk);
    let shape4 = [b, nh, t, dk];
    // Queries, keys and the value in one product; the causal softmax of the scores.
    let (x, wqkv, qkv, p) = front(x, [wq, bq, wk, bk, wv, bv], shape4, true);
    let mean_weights = head_mean(values(&p), shape4);
    let (dropped, keep_scale) = drop_weights(&p, mask, shape4);
    let mean_dropped = match &dropped {
        Some(pd) => tensor(head_mean(values(pd), shape4), &[b, t, t]),
        None => tensor(mean_weights.clone(), &[b, t, t]),
    };
    // The heads' mean output: the mean dropped weights times the shared value.
    let hm = Flex::float_matmul(mean_dropped.clone(), value_view(&qkv, w, shape4));
    let hm = contiguous(hm).reshape(Shape::from(vec![bt, dk]));
    let mut y = Flex::float_matmul(hm.clone(), wo.clone());
    add_bias(values_mut(&mut y), &to_vec(bo));
    // `[b·t, d + t]`: each row's output, then its head-averaged weights.
    let mut out = vec![0.0f32; bt * (d + t)];
    out.par_chunks_mut(d + t).zip(values(&y).par_chunks(d)).zip(mean_weights.par_chunks(t)).for_each(|((o, y), m)| {
        o[..d].copy_from_slice(y);
        o[d..].copy_from_slice(m);
    });
    let out = tensor(out, &[b, t, d + t]);
    let saved = Saved { b, t, d, nh, dk, x, wqkv, wo, qkv, p, dropped, keep_scale, mean_dropped, hm };
    (out, saved)
}

/// Gradients for `[x, wq, bq, wk, bk, wv, bv, wo, bo]` (the weights' columns of `grad` ignored).
pub(crate) fn backward(st: &Saved, grad: FlexTensor) -> [FlexTensor; 9] {
    let (b, t, d, nh, dk) = (st.b, st.t, st.d, st.nh, st.dk);
    let (bt, w, hk) = (b * t, 2 * nh * dk + dk, nh * dk);
    let shape4 = [b, nh, t, dk];
    let g = to_vec(grad);
    let dy: Vec<f32> = g.chunks_exact(d + t).flat_map(|row| row[..d].iter().copied()).collect();
    // Output projection.
    let dbo = col_sum(&dy, d);
    let dy = tensor(dy, &[bt, d]);
    let dwo = Flex::float_matmul(Flex::float_transpose(st.hm.clone()), dy.clone());
    let dhm = Flex::float_matmul(dy, Flex::float_transpose(st.wo.clone())).reshape(Shape::from(vec![b, t, dk]));
    // Through the mean dropped weights times the value.
    let dv = Flex::float_matmul(Flex::float_swap_dims(st.mean_dropped.clone(), 1, 2), dhm.clone());
    let vt = Flex::float_swap_dims(value_view(&st.qkv, w, shape4), 1, 2);
    let dmean = Flex::float_matmul(dhm, vt); // [b, t, t]
    // Every head's dropped weights get `dmean / heads`; then each head's mask and softmax.
    let tt = t * t;
    let inv = 1.0 / nh as f32;
    let mut ds = vec![0.0f32; b * nh * tt];
    let dm = values(&dmean);
    ds.par_chunks_mut(tt).enumerate().for_each(|(j, block)| {
        for (o, v) in block.iter_mut().zip(&dm[(j / nh) * tt..(j / nh + 1) * tt]) {
            *o = v * inv;
        }
    });
    let inv_scale = 1.0 / (dk as f64).sqrt() as f32;
    let dropped = st.dropped.as_ref().map(|pd| (values(pd), st.keep_scale));
    softmax_rows_back(&mut ds, values(&st.p), dropped, t, inv_scale);
    let ds = tensor(ds, &[b, nh, t, t]);
    let dq = Flex::float_matmul(ds.clone(), heads_view(&st.qkv, 1, w, shape4));
    let dkey = Flex::float_matmul(Flex::float_swap_dims(ds, 2, 3), heads_view(&st.qkv, 0, w, shape4));
    // The fused projection's gradient `[b·t, w]`: queries, keys (heads side by side), the value.
    let mut dqkv = vec![0.0f32; bt * w];
    let (dqv, dkv, dvv) = (values(&dq), values(&dkey), contiguous(dv));
    let dvv = values(&dvv);
    dqkv.par_chunks_mut(t * w).enumerate().for_each(|(bi, rows)| {
        for s in 0..t {
            let row = &mut rows[s * w..(s + 1) * w];
            for h in 0..nh {
                let from = ((bi * nh + h) * t + s) * dk;
                row[h * dk..(h + 1) * dk].copy_from_slice(&dqv[from..from + dk]);
                row[hk + h * dk..hk + (h + 1) * dk].copy_from_slice(&dkv[from..from + dk]);
            }
            let from = (bi * t + s) * dk;
            row[2 * hk..].copy_from_slice(&dvv[from..from + dk]);
        }
    });
    let dbias = col_sum(&dqkv, w);
    let dqkv = tensor(dqkv, &[bt, w]);
    let dwqkv = Flex::float_matmul(Flex::float_transpose(st.x.clone()), dqkv.clone());
    let dx = Flex::float_matmul(dqkv, Flex::float_transpose(st.wqkv.clone()));
    let (mut dwq, mut dwk, mut dwv) = (vec![0.0f32; d * hk], vec![0.0f32; d * hk], vec![0.0f32; d * dk]);
    for (r, row) in values(&dwqkv).chunks_exact(w).enumerate() {
        dwq[r * hk..(r + 1) * hk].copy_from_slice(&row[..hk]);
        dwk[r * hk..(r + 1) * hk].copy_from_slice(&row[hk..2 * hk]);
        dwv[r * dk..(r + 1) * dk].copy_from_slice(&row[2 * hk..]);
    }
    [
        dx.reshape(Shape::from(vec![b, t, d])),
        tensor(dwq, &[d, hk]),
        tensor(dbias[..hk].to_vec(), &[hk]),
        tensor(dwk, &[d, hk]),
        tensor(dbias[hk..2 * hk].to_vec(), &[hk]),
        tensor(dwv, &[d, dk]),
        tensor(dbias[2 * hk..].to_vec(), &[dk]),
        dwo,
        tensor(dbo, &[d]),
    ]
}
