//! The CNN-LSTM's convolution block — `Conv1d` ("same" padding, odd kernel `k`) over
//! channels-last `[b, t, c_in]`, `LayerNorm` over the channels, exact GELU, and optionally the
//! residual `x + dropout(·)` — as one primitive: one autodiff graph node on the CPU (`flex`)
//! backend, with a hand-written backward.
//!
//! The reference path ([`ConvBlock::forward_reference`](crate::cnn_lstm::ConvBlock::forward_reference))
//! swaps the layout to `[b, c, t]` and back around burn's `conv1d` (which flex runs as a 3-D
//! convolution with its own layout copies), records a seven-op layer norm, a GELU through scalar
//! libm `erf`, the dropout product and the residual add; each allocates and walks the whole
//! tensor forward and again backward.
//!
//! Here, with `p = k/2` and `x` seen as `[b·t, c_in]` rows (no copy), the convolution is ONE
//! matrix product with every tap's weights side by side, `P = x · [W₀ | W₁ | … | W_{k−1}]`
//! (`[b·t, k·c_out]`, `W_j = weight[:, :, j]ᵀ`), and output row `s` of a batch element is
//! `bias + Σ_j P[s + j − p, j-th block]` over the taps whose row `s + j − p` lies inside the
//! element's `[0, t)` (that is the zero padding): the input is neither padded nor replicated
//! (no im2col). That sum, the layer norm, GELU ([`fast_math::gelu_and_grad`], vectorisable), the
//! dropout mask and the residual run in one loop per row, keeping `ŷ`, `1/σ` and `GELU′` for the
//! backward pass. The backward pass runs the element-wise chain back to `∂z` in one loop per row,
//! writes `∂z` into the taps' blocks of the rows it came from (`D [b·t, k·c_out]`), and finishes
//! with two matrix products: `∂W = xᵀ·D` and (only when the input needs a gradient; the stem's
//! data input does not) `∂x = D·[W₀|…|W_{k−1}]ᵀ`. Matrix products go through flex's own
//! `float_matmul` (the `gemm` crate), as in [`fused_grn`](crate::nn::fused_grn); their outputs
//! are read in place, not copied.
//!
//! The weight is burn's `Conv1d` weight `[c_out, c_in, k]` as stored, so saved models load
//! unchanged. The layer norm's ε is 1e-5 (the CNN-LSTM builds its norms so). Only the `flex`
//! backend (plain or under `Autodiff`) implements the op; the model calls it when
//! [`fused_available`](crate::nn::fused_seq::fused_available) says so (`VANE_FUSED=0` turns it off
//! with the other fused ops).

use std::borrow::Cow;
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
use burn::tensor::{Shape, Tensor};
use rayon::prelude::*;

use crate::nn::fast_math;
use crate::nn::fused_seq::{tensor, to_vec};

const EPS: f32 = 1e-5;

/// The backend extension: one convolution block over channels-last `[b, t, c_in]`.
#[backend_extension(Flex, Autodiff)]
pub trait ConvBlockBackend: Backend {
    /// `x [b, t, c_in]`, `weight [c_out, c_in, k]` (odd `k`, "same" zero padding), `bias`,
    /// `gamma`, `beta` `[c_out]`; `mask` the dropout mask on the GELU output (`b·t·c_out`
    /// values) or any other length for none → `GELU(LayerNorm(conv(x)))`, or with `residual`
    /// (`c_in = c_out`) `x + mask ⊙ GELU(LayerNorm(conv(x)))`, `[b, t, c_out]`.
    fn conv_block(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        residual: bool,
    ) -> FloatTensor<Self>;
}

impl ConvBlockBackend for Flex {
    fn conv_block(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        mask: FlexTensor,
        residual: bool,
    ) -> FlexTensor {
        forward([x, weight, bias, gamma, beta, mask], residual).0
    }
}

impl<C: CheckpointStrategy> ConvBlockBackend for Autodiff<Flex, C> {
    fn conv_block(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        residual: bool,
    ) -> FloatTensor<Self> {
        let [x, weight, bias, gamma, beta, mask] = [x, weight, bias, gamma, beta, mask].map(|t| t.into_parts());
        let nodes = [x.1, weight.1, bias.1, gamma.1, beta.1, mask.1];
        let prims = [x.0, weight.0, bias.0, gamma.0, beta.0, mask.0];
        match ConvBlockBackward.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (out, saved) = forward(prims, residual);
                prep.finish(Arc::new(saved), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(forward(prims, residual).0),
        }
    }
}

/// What the backward pass needs.
#[derive(Debug)]
struct Saved {
    b: usize,
    t: usize,
    ci: usize,
    co: usize,
    k: usize,
    residual: bool,
    /// The input as `[b·t, c_in]`.
    x: FlexTensor,
    /// The taps' weights side by side, `[c_in, k·c_out]`.
    w_all: FlexTensor,
    /// Normalised `ŷ` `[b·t, c_out]`.
    yhat: Vec<f32>,
    /// `GELU′(γ ŷ + β)` `[b·t, c_out]`.
    dgelu: Vec<f32>,
    /// `1/√(var + ε)` per row `[b·t]`.
    rinv: Vec<f32>,
    /// The dropout mask, when there was one.
    mask: Option<Vec<f32>>,
    gamma: Vec<f32>,
}

#[derive(Debug)]
struct ConvBlockBackward;

impl Backward<Flex, 6> for ConvBlockBackward {
    type State = Arc<Saved>;

    fn backward(self, ops: Ops<Self::State, 6>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let grad = grads.consume::<Flex>(&ops.node);
        let need_dx = ops.parents[0].is_some();
        let out = backward(&ops.state, grad, need_dx);
        for (parent, g) in ops.parents.iter().zip(out) {
            if let (Some(node), Some(g)) = (parent, g) {
                grads.register::<Flex>(node.id, g);
            }
        }
    }
}

/// The values of `t` in row-major order: borrowed from its storage when it is a contiguous
/// `f32` tensor (matmul outputs, fresh inputs), else copied.
fn view(t: &FlexTensor) -> Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(to_vec(t.clone())),
    }
}

/// The taps `j` whose input row `s + j − p` lies inside `[0, t)` (zero padding elsewhere).
fn taps(s: usize, t: usize, k: usize) -> std::ops::Range<usize> {
    let p = k / 2;
    p.saturating_sub(s)..k.min(t + p - s)
}

fn forward(tensors: [FlexTensor; 6], residual: bool) -> (FlexTensor, Saved) {
    let [x, weight, bias, gamma, beta, mask] = tensors;
    let dims = x.layout().shape().to_vec();
    let (b, t, ci) = (dims[0], dims[1], dims[2]);
    let wd = weight.layout().shape().to_vec();
    let (co, k) = (wd[0], wd[2]);
    let p = k / 2;
    let kc = k * co;
    let x = Flex::float_reshape(x, Shape::from(vec![b * t, ci]));
    // [c_out, c_in, k] → [c_in, k·c_out].
    let wv = view(&weight);
    let mut w_all = vec![0.0f32; ci * kc];
    for o in 0..co {
        for c in 0..ci {
            for j in 0..k {
                w_all[c * kc + j * co + o] = wv[(o * ci + c) * k + j];
            }
        }
    }
    let w_all = tensor(w_all, &[ci, kc]);
    // P = x·[W₀|…|W_{k−1}]; output row s sums tap j's block of input row s + j − p.
    let pt = Flex::float_matmul(x.clone(), w_all.clone());
    let pm = view(&pt);
    let xv = view(&x);
    let (bv, gv, btv) = (to_vec(bias), to_vec(gamma), to_vec(beta));
    let mask = to_vec(mask);
    let mask = (mask.len() == b * t * co).then_some(mask);
    let n = b * t * co;
    let mut out = vec![0.0f32; n];
    let mut yhat = vec![0.0f32; n];
    let mut dgelu = vec![0.0f32; n];
    let mut rinv = vec![0.0f32; b * t];
    out.par_chunks_mut(t * co)
        .zip(yhat.par_chunks_mut(t * co))
        .zip(dgelu.par_chunks_mut(t * co))
        .zip(rinv.par_chunks_mut(t))
        .enumerate()
        .for_each(|(i, (((oi, yi), di), ri))| {
            let pi = &pm[i * t * kc..(i + 1) * t * kc];
            let mut z = vec![0.0f32; co];
            for (s, rs) in ri.iter_mut().enumerate() {
                z.copy_from_slice(&bv);
                for j in taps(s, t, k) {
                    let at = (s + j - p) * kc + j * co;
                    for (zv, r) in z.iter_mut().zip(&pi[at..at + co]) {
                        *zv += r;
                    }
                }
                let mean = z.iter().sum::<f32>() / co as f32;
                let var = z.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / co as f32;
                let rv = 1.0 / (var + EPS).sqrt();
                *rs = rv;
                let rr = s * co..(s + 1) * co;
                let (o, yh, dg) = (&mut oi[rr.clone()], &mut yi[rr.clone()], &mut di[rr]);
                for (((((o, yh), dg), &zv), &g), &be) in
                    o.iter_mut().zip(yh.iter_mut()).zip(dg.iter_mut()).zip(&z).zip(&gv).zip(&btv)
                {
                    let y = (zv - mean) * rv;
                    *yh = y;
                    let (a, da) = fast_math::gelu_and_grad(y * g + be);
                    *o = a;
                    *dg = da;
                }
                let base = (i * t + s) * co;
                if let Some(m) = &mask {
                    for (o, m) in o.iter_mut().zip(&m[base..base + co]) {
                        *o *= m;
                    }
                }
                if residual {
                    for (o, x) in o.iter_mut().zip(&xv[base..base + co]) {
                        *o += x;
                    }
                }
            }
        });
    drop(xv);
    let saved = Saved { b, t, ci, co, k, residual, x, w_all, yhat, dgelu, rinv, mask, gamma: gv };
    (tensor(out, &[b, t, co]), saved)
}

/// Gradients for `[x, weight, bias, gamma, beta]` (`x` only with `need_dx`).
fn backward(st: &Saved, grad: FlexTensor, need_dx: bool) -> [Option<FlexTensor>; 5] {
    let (b, t, ci, co, k) = (st.b, st.t, st.ci, st.co, st.k);
    let p = k / 2;
    let kc = k * co;
    let dout = view(&grad);
    // Per batch element: ∂z spread to the taps' input rows of D, and partial sums for γ, β and
    // the bias (summed in batch order after: the same floats whatever the thread count).
    let mut d = vec![0.0f32; b * t * kc];
    let mut part = vec![0.0f32; b * 3 * co];
    d.par_chunks_mut(t * kc).zip(part.par_chunks_mut(3 * co)).enumerate().for_each(|(i, (di, pi))| {
        let (dgam, rest) = pi.split_at_mut(co);
        let (dbet, dbias) = rest.split_at_mut(co);
        let mut dyh = vec![0.0f32; co];
        let mut du = vec![0.0f32; co];
        let mut dz = vec![0.0f32; co];
        for s in 0..t {
            let row = i * t + s;
            let rr = row * co..(row + 1) * co;
            let (go, yh, dg) = (&dout[rr.clone()], &st.yhat[rr.clone()], &st.dgelu[rr.clone()]);
            // ∂u = ∂out ⊙ mask ⊙ GELU′ (no branch inside the loop, so it vectorises).
            match &st.mask {
                Some(m) => {
                    for (((u, &g), &mv), &d) in du.iter_mut().zip(go).zip(&m[rr.clone()]).zip(dg) {
                        *u = g * mv * d;
                    }
                }
                None => {
                    for ((u, &g), &d) in du.iter_mut().zip(go).zip(dg) {
                        *u = g * d;
                    }
                }
            }
            let (mut m1, mut m2) = (0.0f32, 0.0f32);
            for (((((&u, &y), &gm), v), dga), dbe) in
                du.iter().zip(yh).zip(&st.gamma).zip(dyh.iter_mut()).zip(dgam.iter_mut()).zip(dbet.iter_mut())
            {
                *dga += u * y;
                *dbe += u;
                *v = u * gm;
                m1 += *v;
                m2 += *v * y;
            }
            let (m1, m2) = (m1 / co as f32, m2 / co as f32);
            let rv = st.rinv[row];
            for q in 0..co {
                let g = rv * (dyh[q] - m1 - yh[q] * m2);
                dz[q] = g;
                dbias[q] += g;
            }
            for j in taps(s, t, k) {
                let at = (s + j - p) * kc + j * co;
                di[at..at + co].copy_from_slice(&dz);
            }
        }
    });
    let mut sums = vec![0.0f32; 3 * co];
    for pi in part.chunks_exact(3 * co) {
        for (a, v) in sums.iter_mut().zip(pi) {
            *a += v;
        }
    }
    let d = tensor(d, &[b * t, kc]);
    // ∂W: xᵀ·D = [c_in, k·c_out] → [c_out, c_in, k].
    let dw_t = Flex::float_matmul(Flex::float_transpose(st.x.clone()), d.clone());
    let dw_all = view(&dw_t);
    let mut dw = vec![0.0f32; co * ci * k];
    for c in 0..ci {
        for j in 0..k {
            for o in 0..co {
                dw[(o * ci + c) * k + j] = dw_all[c * kc + j * co + o];
            }
        }
    }
    let dx = need_dx.then(|| {
        let dx = Flex::float_matmul(d, Flex::float_transpose(st.w_all.clone()));
        let dx = match st.residual {
            true => Flex::float_add(dx, Flex::float_reshape(grad.clone(), Shape::from(vec![b * t, co]))),
            false => dx,
        };
        Flex::float_reshape(dx, Shape::from(vec![b, t, ci]))
    });
    let v = |r: std::ops::Range<usize>| Some(tensor(sums[r].to_vec(), &[co]));
    [dx, Some(tensor(dw, &[co, ci, k])), v(2 * co..3 * co), v(0..co), v(co..2 * co)]
}

/// The fused convolution block on tensors (see the module docs and
/// [`ConvBlockBackend::conv_block`]). Only on the flex device
/// ([`fused_available`](crate::nn::fused_seq::fused_available)); any other backend panics in
/// burn's dispatch.
pub fn conv_block(
    x: Tensor<3>,
    weight: Tensor<3>,
    bias: Tensor<1>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    mask: Tensor<1>,
    residual: bool,
) -> Tensor<3> {
    use burn::backend::Dispatch;
    Tensor::from_dispatch(Dispatch::conv_block(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        mask.into_dispatch(),
        residual,
    ))
}
