//! The LSTM HRM's two-timescale loop as one primitive on the CPU (`flex`) backend: one autodiff
//! graph node with a hand-written backpropagation through both timescales.
//!
//! Per step `s` the fast cell sees `x_s·W_ih + b + fb + h_low·W_hh` with `fb = h_high·F` (the slow
//! state's feedback); after every `period`-th step the slow cell steps on `h_low`, and `fb` is
//! recomputed. The output is the last `[h_low, h_high]`. All input projections are one matmul
//! before the loop; the backward pass runs the two recurrences in reverse in one loop, summing the
//! feedback gradient of the fast steps that used each slow state, then the weight and input
//! gradients as whole-sequence matmuls. Same equations as `Hrm::run` with LSTM cells, which stays
//! the reference (and the path for the slow-state trace, other devices and `VANE_FUSED=0`).

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

use crate::nn::fused_par;
use crate::nn::fused_seq::{lstm_pointwise, lstm_pointwise_back, matmul, tensor, to_vec};

/// The backend extension: the LSTM HRM's recurrence over `[b, t, f]`.
#[backend_extension(Flex, Autodiff)]
pub trait HrmLstmBackend: Backend {
    /// `x [b, t, f]`; fast cell `wl_ih [f, 4hl]`, `wl_hh [hl, 4hl]`, `bl [4hl]`; slow cell
    /// `wh_ih [hl, 4hh]`, `wh_hh [hh, 4hh]`, `bh [4hh]`; feedback `fb [hh, 4hl]` → the last
    /// `[h_low, h_high]` as `[b, hl + hh]`. The states start at zero.
    #[allow(clippy::too_many_arguments)]
    fn hrm_lstm(
        x: FloatTensor<Self>,
        wl_ih: FloatTensor<Self>,
        wl_hh: FloatTensor<Self>,
        bl: FloatTensor<Self>,
        wh_ih: FloatTensor<Self>,
        wh_hh: FloatTensor<Self>,
        bh: FloatTensor<Self>,
        fb: FloatTensor<Self>,
        period: usize,
    ) -> FloatTensor<Self>;
}

impl HrmLstmBackend for Flex {
    fn hrm_lstm(
        x: FlexTensor,
        wl_ih: FlexTensor,
        wl_hh: FlexTensor,
        bl: FlexTensor,
        wh_ih: FlexTensor,
        wh_hh: FlexTensor,
        bh: FlexTensor,
        fb: FlexTensor,
        period: usize,
    ) -> FlexTensor {
        forward([x, wl_ih, wl_hh, bl, wh_ih, wh_hh, bh, fb], period, false).0
    }
}

impl<C: CheckpointStrategy> HrmLstmBackend for Autodiff<Flex, C> {
    fn hrm_lstm(
        x: FloatTensor<Self>,
        wl_ih: FloatTensor<Self>,
        wl_hh: FloatTensor<Self>,
        bl: FloatTensor<Self>,
        wh_ih: FloatTensor<Self>,
        wh_hh: FloatTensor<Self>,
        bh: FloatTensor<Self>,
        fb: FloatTensor<Self>,
        period: usize,
    ) -> FloatTensor<Self> {
        let (x, n0) = x.into_parts();
        let (wl_ih, n1) = wl_ih.into_parts();
        let (wl_hh, n2) = wl_hh.into_parts();
        let (bl, n3) = bl.into_parts();
        let (wh_ih, n4) = wh_ih.into_parts();
        let (wh_hh, n5) = wh_hh.into_parts();
        let (bh, n6) = bh.into_parts();
        let (fb, n7) = fb.into_parts();
        let inputs = [x, wl_ih, wl_hh, bl, wh_ih, wh_hh, bh, fb];
        match HrmBackward.prepare::<C>([n0, n1, n2, n3, n4, n5, n6, n7]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (out, saved) = forward(inputs, period, true);
                prep.finish(Arc::new(saved), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(forward(inputs, period, false).0),
        }
    }
}

/// One chunk of batch rows' saved steps (time-major within the chunk, `bc` rows).
#[derive(Debug)]
struct ChunkTrace {
    /// Fast states `[(t+1)·bc, hl]` (zeros first), cell states likewise.
    hl: Vec<f32>,
    cl: Vec<f32>,
    act_l: Vec<f32>,
    tc_l: Vec<f32>,
    /// Slow states `[(K+1)·bc, hh]` (zeros first), cell states likewise.
    hh: Vec<f32>,
    ch: Vec<f32>,
    act_h: Vec<f32>,
    tc_h: Vec<f32>,
}

/// What the backward pass needs; rows chunk-major time-major ([`fused_par`]).
#[derive(Debug)]
struct Saved {
    dims: [usize; 6], // b, t, f, hl, hh, period
    ranges: Vec<(usize, usize)>,
    x: Vec<f32>,
    chunks: Vec<ChunkTrace>,
    /// `wl_ih, wl_hh, wh_ih, wh_hh, fb`.
    w: [FlexTensor; 5],
}

#[derive(Debug)]
struct HrmBackward;

impl Backward<Flex, 8> for HrmBackward {
    type State = Arc<Saved>;

    fn backward(self, ops: Ops<Self::State, 8>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let grad = grads.consume::<Flex>(&ops.node);
        let out = backward(&ops.state, grad);
        for (parent, g) in ops.parents.iter().zip(out) {
            if let Some(node) = parent {
                grads.register::<Flex>(node.id, g);
            }
        }
    }
}

fn dims(t: &FlexTensor) -> Vec<usize> {
    t.layout().shape().to_vec()
}

fn add_rows(m: &mut [f32], bias: &[f32]) {
    for row in m.chunks_exact_mut(bias.len()) {
        for (z, b) in row.iter_mut().zip(bias) {
            *z += b;
        }
    }
}

fn forward(inputs: [FlexTensor; 8], period: usize, save: bool) -> (FlexTensor, Saved) {
    let [x, wl_ih, wl_hh, bl, wh_ih, wh_hh, bh, fbw] = inputs;
    let xd = dims(&x);
    let (b, t, f) = (xd[0], xd[1], xd[2]);
    let hl = dims(&wl_hh)[0];
    let hh = dims(&wh_hh)[0];
    let p = period.max(1);
    let (g4l, g4h) = (4 * hl, 4 * hh);
    let ranges = fused_par::chunks(b);
    let mut xt = fused_par::to_chunk_major(&to_vec(x), t, f, &ranges);
    let mut xg = matmul(if save { xt.clone() } else { std::mem::take(&mut xt) }, [t * b, f], wl_ih.clone());
    add_rows(&mut xg, &to_vec(bl));
    let bhv = to_vec(bh);
    let n_high = t / p;
    let chunks = fused_par::par_chunks(&ranges, |_, r0, r1| {
        let bc = r1 - r0;
        let (nl, nh) = (bc * hl, bc * hh);
        let xg = &xg[t * r0 * g4l..t * r1 * g4l];
        let mut hls = vec![0.0f32; (t + 1) * nl];
        let mut cls = vec![0.0f32; (t + 1) * nl];
        let mut tcl = vec![0.0f32; t * nl];
        let mut act_l = if save { vec![0.0f32; t * bc * g4l] } else { Vec::new() };
        let mut hhs = vec![0.0f32; (n_high + 1) * nh];
        let mut chs = vec![0.0f32; (n_high + 1) * nh];
        let mut tch = vec![0.0f32; n_high * nh];
        let mut act_h = if save { vec![0.0f32; n_high * bc * g4h] } else { Vec::new() };
        let mut fb = vec![0.0f32; bc * g4l];
        let mut k = 0;
        for s in 0..t {
            let mut gate = matmul(hls[s * nl..(s + 1) * nl].to_vec(), [bc, hl], wl_hh.clone());
            for ((z, a), c) in gate.iter_mut().zip(&xg[s * bc * g4l..(s + 1) * bc * g4l]).zip(&fb) {
                *z += a + c;
            }
            let (prev, next) = cls.split_at_mut((s + 1) * nl);
            let (hprev_next, tcs) = (&mut hls[(s + 1) * nl..(s + 2) * nl], &mut tcl[s * nl..(s + 1) * nl]);
            lstm_pointwise(&mut gate, &prev[s * nl..], hl, &mut next[..nl], tcs, hprev_next);
            if save {
                act_l[s * bc * g4l..(s + 1) * bc * g4l].copy_from_slice(&gate);
            }
            if (s + 1) % p == 0 {
                let mut gh = matmul(hls[(s + 1) * nl..(s + 2) * nl].to_vec(), [bc, hl], wh_ih.clone());
                let rec = matmul(hhs[k * nh..(k + 1) * nh].to_vec(), [bc, hh], wh_hh.clone());
                for (z, r) in gh.iter_mut().zip(&rec) {
                    *z += r;
                }
                add_rows(&mut gh, &bhv);
                let (prev, next) = chs.split_at_mut((k + 1) * nh);
                let (hn, tcs) = (&mut hhs[(k + 1) * nh..(k + 2) * nh], &mut tch[k * nh..(k + 1) * nh]);
                lstm_pointwise(&mut gh, &prev[k * nh..], hh, &mut next[..nh], tcs, hn);
                if save {
                    act_h[k * bc * g4h..(k + 1) * bc * g4h].copy_from_slice(&gh);
                }
                k += 1;
                fb = matmul(hhs[k * nh..(k + 1) * nh].to_vec(), [bc, hh], fbw.clone());
            }
        }
        ChunkTrace { hl: hls, cl: cls, act_l, tc_l: tcl, hh: hhs, ch: chs, act_h, tc_h: tch }
    });
    let mut out = vec![0.0f32; b * (hl + hh)];
    for (&(r0, r1), ch) in ranges.iter().zip(&chunks) {
        let bc = r1 - r0;
        for i in 0..bc {
            let row = &mut out[(r0 + i) * (hl + hh)..(r0 + i + 1) * (hl + hh)];
            row[..hl].copy_from_slice(&ch.hl[(t * bc + i) * hl..(t * bc + i + 1) * hl]);
            row[hl..].copy_from_slice(&ch.hh[(n_high * bc + i) * hh..(n_high * bc + i + 1) * hh]);
        }
    }
    let saved = Saved { dims: [b, t, f, hl, hh, p], ranges, x: xt, chunks, w: [wl_ih, wl_hh, wh_ih, wh_hh, fbw] };
    (tensor(out, &[b, hl + hh]), saved)
}

fn add(a: &mut [f32], b: &[f32]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

fn col_sums(m: &[f32], width: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; width];
    for row in m.chunks_exact(width) {
        add(&mut out, row);
    }
    out
}

/// `aᵀ·b` for row-major `a [n, p]`, `b [n, q]` → `[p, q]`.
fn at_b(a: Vec<f32>, p: usize, b: Vec<f32>, q: usize) -> FlexTensor {
    let n = a.len() / p.max(1);
    Flex::float_matmul(Flex::float_transpose(tensor(a, &[n, p])), tensor(b, &[n, q]))
}

/// Gradients for `[x, wl_ih, wl_hh, bl, wh_ih, wh_hh, bh, fb]`. Each chunk's reverse loop is
/// one task; the weight gradients are whole-sequence products over all chunks' rows after.
fn backward(st: &Saved, grad: FlexTensor) -> [FlexTensor; 8] {
    let [b, t, f, hl, hh, p] = st.dims;
    let (g4l, g4h) = (4 * hl, 4 * hh);
    let n_high = t / p;
    let [wl_ih, wl_hh, wh_ih, wh_hh, fbw] = &st.w;
    let wl_hh_t = Flex::float_transpose(wl_hh.clone());
    let wh_ih_t = Flex::float_transpose(wh_ih.clone());
    let wh_hh_t = Flex::float_transpose(wh_hh.clone());
    let fbw_t = Flex::float_transpose(fbw.clone());
    let gv = to_vec(grad);
    let mut dzl = vec![0.0f32; t * b * g4l];
    let mut dzh = vec![0.0f32; n_high * b * g4h];
    // Per slow state k ≥ 1 (row k − 1): the summed feedback gradient of the fast steps that used it.
    let mut dfb = vec![0.0f32; n_high * b * g4l];
    let parts: Vec<_> = fused_par::split(&mut dzl, &st.ranges, t * g4l)
        .into_iter()
        .zip(fused_par::split(&mut dzh, &st.ranges, n_high * g4h))
        .zip(fused_par::split(&mut dfb, &st.ranges, n_high * g4l))
        .zip(st.ranges.iter().copied())
        .collect();
    fused_par::par_each(parts, |ci, (((dzl, dzh), dfb), (r0, r1))| {
        let ch = &st.chunks[ci];
        let bc = r1 - r0;
        let (nl, nh) = (bc * hl, bc * hh);
        let mut dh_l = vec![0.0f32; nl];
        let mut dh_h = vec![0.0f32; nh];
        for i in 0..bc {
            let g = &gv[(r0 + i) * (hl + hh)..(r0 + i + 1) * (hl + hh)];
            dh_l[i * hl..(i + 1) * hl].copy_from_slice(&g[..hl]);
            dh_h[i * hh..(i + 1) * hh].copy_from_slice(&g[hl..]);
        }
        let mut dc_l = vec![0.0f32; nl];
        let mut dc_h = vec![0.0f32; nh];
        // Sum of the feedback gradients of the fast steps that used the current slow state.
        let mut dfb_sum = vec![0.0f32; bc * g4l];
        for s in (0..t).rev() {
            if (s + 1) % p == 0 {
                // Slow update k-1 → k happened at the end of step s.
                let k = (s + 1) / p;
                add(&mut dh_h, &matmul(dfb_sum.clone(), [bc, g4l], fbw_t.clone()));
                dfb[(k - 1) * bc * g4l..k * bc * g4l].copy_from_slice(&dfb_sum);
                dfb_sum.fill(0.0);
                let mut dc_prev = vec![0.0f32; nh];
                let dz = &mut dzh[(k - 1) * bc * g4h..k * bc * g4h];
                lstm_pointwise_back(
                    &ch.act_h[(k - 1) * bc * g4h..k * bc * g4h],
                    &ch.tc_h[(k - 1) * nh..k * nh],
                    &ch.ch[(k - 1) * nh..k * nh],
                    hh,
                    &dh_h,
                    &dc_h,
                    dz,
                    &mut dc_prev,
                );
                dc_h = dc_prev;
                dh_h = matmul(dz.to_vec(), [bc, g4h], wh_hh_t.clone());
                add(&mut dh_l, &matmul(dz.to_vec(), [bc, g4h], wh_ih_t.clone()));
            }
            let mut dc_prev = vec![0.0f32; nl];
            let dz = &mut dzl[s * bc * g4l..(s + 1) * bc * g4l];
            lstm_pointwise_back(
                &ch.act_l[s * bc * g4l..(s + 1) * bc * g4l],
                &ch.tc_l[s * nl..(s + 1) * nl],
                &ch.cl[s * nl..(s + 1) * nl],
                hl,
                &dh_l,
                &dc_l,
                dz,
                &mut dc_prev,
            );
            add(&mut dfb_sum, dz);
            dc_l = dc_prev;
            dh_l = matmul(dz.to_vec(), [bc, g4l], wl_hh_t.clone());
        }
        // What is left in `dfb_sum` belongs to the zero initial slow state: no gradient.
    });
    // Slow states 1..=K against the feedback gradients of the fast steps that read them.
    let hk = fused_par::concat(&st.chunks, |c| &c.hh[c.hh.len() / (n_high + 1)..]);
    let dfbw = if n_high == 0 { tensor(vec![0.0f32; hh * g4l], &[hh, g4l]) } else { at_b(hk, hh, dfb, g4l) };
    let dbl = tensor(col_sums(&dzl, g4l), &[g4l]);
    let dbh = tensor(col_sums(&dzh, g4h), &[g4h]);
    let dwl_ih = at_b(st.x.clone(), f, dzl.clone(), g4l);
    let dwl_hh = at_b(fused_par::concat(&st.chunks, |c| &c.hl[..c.hl.len() / (t + 1) * t]), hl, dzl.clone(), g4l);
    // Slow step k (1-based) read h_low after fast step k·p − 1, i.e. state row k·p.
    let mut hin = Vec::with_capacity(n_high * b * hl);
    for (&(r0, r1), ch) in st.ranges.iter().zip(&st.chunks) {
        let nl = (r1 - r0) * hl;
        for k in 1..=n_high {
            hin.extend_from_slice(&ch.hl[k * p * nl..(k * p + 1) * nl]);
        }
    }
    let dwh_ih = at_b(hin, hl, dzh.clone(), g4h);
    let dwh_hh = at_b(fused_par::concat(&st.chunks, |c| &c.hh[..c.hh.len() / (n_high + 1) * n_high]), hh, dzh, g4h);
    let dxt = to_vec(Flex::float_matmul(tensor(dzl, &[t * b, g4l]), Flex::float_transpose(wl_ih.clone())));
    let dx = fused_par::from_chunk_major(&dxt, t, f, &st.ranges);
    [tensor(dx, &[b, t, f]), dwl_ih, dwl_hh, dbl, dwh_ih, dwh_hh, dbh, dfbw]
}

/// The fused LSTM HRM recurrence on tensors → `(h_low, h_high)` after the last step. Only on the
/// flex device ([`fused_available`](crate::nn::fused_seq::fused_available)).
#[allow(clippy::too_many_arguments)]
pub fn hrm_lstm(
    x: Tensor<3>,
    wl_ih: Tensor<2>,
    wl_hh: Tensor<2>,
    bl: Tensor<1>,
    wh_ih: Tensor<2>,
    wh_hh: Tensor<2>,
    bh: Tensor<1>,
    fb: Tensor<2>,
    period: usize,
) -> Tensor<2> {
    use burn::backend::Dispatch;
    Tensor::from_dispatch(Dispatch::hrm_lstm(
        x.into_dispatch(),
        wl_ih.into_dispatch(),
        wl_hh.into_dispatch(),
        bl.into_dispatch(),
        wh_ih.into_dispatch(),
        wh_hh.into_dispatch(),
        bh.into_dispatch(),
        fb.into_dispatch(),
        period,
    ))
}
