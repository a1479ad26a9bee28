//! A whole LSTM layer over a sequence as one primitive: one autodiff graph node on the CPU
//! (`flex`) backend, with a hand-written backpropagation through time.
//!
//! The reference path ([`FusedLstm::forward`](crate::nn::FusedLstm::forward)) records about a
//! dozen burn autodiff nodes per time step (slice, two matmuls, add, sigmoid, narrows, products,
//! the `tanh` built from a sigmoid) and burn's backward walks all of them. Here the forward pass
//! projects every step's input in one `[batch·seq, d_in] × [d_in, 4h]` matmul, then runs the time
//! loop with one `[batch, h] × [h, 4h]` matmul per step and the element-wise gate arithmetic in
//! plain loops over safe slices (the compiler vectorises them); it keeps the gate activations, the
//! cell states and `tanh(c)` for the backward pass. The backward pass does BPTT in one reverse
//! loop (one `[batch, 4h] × [4h, h]` matmul per step) and then three whole-sequence matmuls for
//! the weight and input gradients. Matrix products go through the backend's own `float_matmul`
//! (the `gemm` crate inside flex), so no `unsafe` is needed here.
//!
//! The equations are exactly those of [`LstmCell::step`](crate::nn::LstmCell::step), including
//! the cell gate's `tanh(z) = 2σ(z') − 1` convention (its columns store `z' = 2z`): the fused and
//! reference paths compute the same function with the same parameters.
//!
//! Only the `flex` backend (plain or under `Autodiff`) implements the op; on other devices
//! [`lstm_sequence`] is not called ([`fused_available`] says so) and the layer runs the reference
//! path. `VANE_FUSED=0` in the environment forces the reference path everywhere.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use burn::backend::Flex;
use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, DispatchDevice, backend_extension};
use burn::tensor::{DType, Device, Shape, Tensor, TensorData};

use crate::nn::{fast_math, fused_par};

/// The backend extension: a whole LSTM layer (zero or given initial state) over `[b, t, d]`.
#[backend_extension(Flex, Autodiff)]
pub trait LstmSequenceBackend: Backend {
    /// `x [b, t, d]`, `w_ih [d, 4h]`, `w_hh [h, 4h]`, `bias [4h]`, `h0 [b, h]`, `c0 [b, h]` →
    /// every step's hidden state `[b, t, h]`.
    fn lstm_sequence(
        x: FloatTensor<Self>,
        w_ih: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        c0: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

impl LstmSequenceBackend for Flex {
    fn lstm_sequence(
        x: FlexTensor,
        w_ih: FlexTensor,
        w_hh: FlexTensor,
        bias: FlexTensor,
        h0: FlexTensor,
        c0: FlexTensor,
    ) -> FlexTensor {
        forward(x, w_ih, w_hh, bias, h0, c0, false).0
    }
}

impl<C: CheckpointStrategy> LstmSequenceBackend for Autodiff<Flex, C> {
    fn lstm_sequence(
        x: FloatTensor<Self>,
        w_ih: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        c0: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let (x, nx) = x.into_parts();
        let (w_ih, nwi) = w_ih.into_parts();
        let (w_hh, nwh) = w_hh.into_parts();
        let (bias, nb) = bias.into_parts();
        let (h0, nh) = h0.into_parts();
        let (c0, nc) = c0.into_parts();
        match LstmSequenceBackward.prepare::<C>([nx, nwi, nwh, nb, nh, nc]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (out, saved) = forward(x, w_ih, w_hh, bias, h0, c0, true);
                prep.finish(Arc::new(saved), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(forward(x, w_ih, w_hh, bias, h0, c0, false).0),
        }
    }
}

/// One chunk of batch rows' saved steps (time-major within the chunk).
#[derive(Debug)]
struct ChunkTrace {
    /// Gate activations `[t·bc, 4h]`: σ(i), σ(f), tanh-style g, σ(o).
    act: Vec<f32>,
    /// Cell states `[(t+1)·bc, h]`, `c0` first.
    c: Vec<f32>,
    /// Hidden states `[(t+1)·bc, h]`, `h0` first.
    hs: Vec<f32>,
    /// `tanh(c_t)` `[t·bc, h]`.
    tc: Vec<f32>,
}

/// What the backward pass needs; rows chunk-major time-major ([`fused_par`]).
#[derive(Debug)]
struct Saved {
    b: usize,
    t: usize,
    d: usize,
    h: usize,
    ranges: Vec<(usize, usize)>,
    /// Inputs `[t·b, d]`.
    x: Vec<f32>,
    chunks: Vec<ChunkTrace>,
    w_ih: FlexTensor,
    w_hh: FlexTensor,
}

#[derive(Debug)]
struct LstmSequenceBackward;

impl Backward<Flex, 6> for LstmSequenceBackward {
    type State = Arc<Saved>;

    fn backward(self, ops: Ops<Self::State, 6>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let grad = grads.consume::<Flex>(&ops.node);
        let out = backward(&ops.state, grad);
        for (parent, g) in ops.parents.iter().zip(out) {
            if let Some(node) = parent {
                grads.register::<Flex>(node.id, g);
            }
        }
    }
}

pub(crate) fn to_vec(t: FlexTensor) -> Vec<f32> {
    if t.dtype() == DType::F32
        && let Some(s) = t.as_slice::<f32>()
    {
        return s.to_vec();
    }
    let data = t.into_data().convert::<f32>();
    data.try_into_vec::<f32>().unwrap_or_default()
}

pub(crate) fn tensor(v: Vec<f32>, shape: &[usize]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(v, Shape::from(shape.to_vec())))
}

pub(crate) fn matmul(a: Vec<f32>, a_shape: [usize; 2], b: FlexTensor) -> Vec<f32> {
    to_vec(Flex::float_matmul(tensor(a, &a_shape), b))
}

/// The logistic function through the branch-free, vectorisable
/// [`fast_math::sigmoid`](crate::nn::fast_math::sigmoid) (relative error below 10⁻⁶).
#[inline(always)]
pub(crate) fn sigmoid(z: f32) -> f32 {
    fast_math::sigmoid(z)
}

/// The forward pass and the states; with `save`, also the gate activations [`backward`] needs.
/// Each chunk of batch rows runs its time loop as one task ([`fused_par`]).
fn forward(
    x: FlexTensor,
    w_ih: FlexTensor,
    w_hh: FlexTensor,
    bias: FlexTensor,
    h0: FlexTensor,
    c0: FlexTensor,
    save: bool,
) -> (FlexTensor, Saved) {
    let dims = x.layout().shape().to_vec();
    let (b, t, d) = (dims[0], dims[1], dims[2]);
    let h = w_hh.layout().shape().to_vec()[0];
    let g4 = 4 * h;
    let ranges = fused_par::chunks(b);
    let mut xt = fused_par::to_chunk_major(&to_vec(x), t, d, &ranges);
    let biasv = to_vec(bias);
    let mut xg = matmul(if save { xt.clone() } else { std::mem::take(&mut xt) }, [t * b, d], w_ih.clone());
    for row in xg.chunks_exact_mut(g4) {
        for (z, bb) in row.iter_mut().zip(&biasv) {
            *z += bb;
        }
    }
    let (h0v, c0v) = (to_vec(h0), to_vec(c0));
    let chunks = fused_par::par_chunks(&ranges, |_, r0, r1| {
        let bc = r1 - r0;
        let n = bc * h;
        let xg = &xg[t * r0 * g4..t * r1 * g4];
        let mut hs = vec![0.0f32; (t + 1) * n];
        let mut cs = vec![0.0f32; (t + 1) * n];
        hs[..n].copy_from_slice(&h0v[r0 * h..r1 * h]);
        cs[..n].copy_from_slice(&c0v[r0 * h..r1 * h]);
        let mut act = if save { vec![0.0f32; t * bc * g4] } else { Vec::new() };
        let mut tcs = vec![0.0f32; if save { t * n } else { n }];
        for s in 0..t {
            let mut gate = matmul(hs[s * n..(s + 1) * n].to_vec(), [bc, h], w_hh.clone());
            for (z, a) in gate.iter_mut().zip(&xg[s * bc * g4..(s + 1) * bc * g4]) {
                *z += a;
            }
            let (cprev, cnext) = cs.split_at_mut((s + 1) * n);
            let tc = if save { &mut tcs[s * n..(s + 1) * n] } else { &mut tcs[..] };
            lstm_pointwise(&mut gate, &cprev[s * n..], h, &mut cnext[..n], tc, &mut hs[(s + 1) * n..(s + 2) * n]);
            if save {
                act[s * bc * g4..(s + 1) * bc * g4].copy_from_slice(&gate);
            }
        }
        ChunkTrace { act, c: cs, hs, tc: tcs }
    });
    // Batch-first output.
    let mut out = vec![0.0f32; b * t * h];
    for (&(r0, r1), ch) in ranges.iter().zip(&chunks) {
        let bc = r1 - r0;
        for s in 0..t {
            for bi in r0..r1 {
                let src = ((s + 1) * bc + bi - r0) * h;
                out[(bi * t + s) * h..(bi * t + s + 1) * h].copy_from_slice(&ch.hs[src..src + h]);
            }
        }
    }
    let out = tensor(out, &[b, t, h]);
    let saved = Saved { b, t, d, h, ranges, x: xt, chunks, w_ih, w_hh };
    (out, saved)
}

/// BPTT over the saved states: gradients for `[x, w_ih, w_hh, bias, h0, c0]`. Each chunk's
/// reverse time loop is one task; the weight gradients are whole-sequence products after.
fn backward(st: &Saved, grad: FlexTensor) -> [FlexTensor; 6] {
    let (b, t, d, h) = (st.b, st.t, st.d, st.h);
    let g4 = 4 * h;
    let gv = to_vec(grad);
    let w_hh_t = Flex::float_transpose(st.w_hh.clone());
    let mut dz = vec![0.0f32; t * b * g4];
    let mut dh0 = vec![0.0f32; b * h];
    let mut dc0 = vec![0.0f32; b * h];
    let parts: Vec<_> = fused_par::split(&mut dz, &st.ranges, t * g4)
        .into_iter()
        .zip(fused_par::split(&mut dh0, &st.ranges, h))
        .zip(fused_par::split(&mut dc0, &st.ranges, h))
        .zip(st.ranges.iter().copied())
        .collect();
    fused_par::par_each(parts, |ci, (((dz, dh0), dc0), (r0, r1))| {
        let ch = &st.chunks[ci];
        let bc = r1 - r0;
        let n = bc * h;
        let mut dh = vec![0.0f32; n];
        let mut dc = vec![0.0f32; n];
        let mut dc_prev = vec![0.0f32; n];
        for s in (0..t).rev() {
            for bi in r0..r1 {
                let o = &gv[(bi * t + s) * h..(bi * t + s + 1) * h];
                for (a, g) in dh[(bi - r0) * h..(bi - r0 + 1) * h].iter_mut().zip(o) {
                    *a += g;
                }
            }
            let dzs = &mut dz[s * bc * g4..(s + 1) * bc * g4];
            lstm_pointwise_back(
                &ch.act[s * bc * g4..(s + 1) * bc * g4],
                &ch.tc[s * n..(s + 1) * n],
                &ch.c[s * n..(s + 1) * n],
                h,
                &dh,
                &dc,
                dzs,
                &mut dc_prev,
            );
            dh = matmul(dzs.to_vec(), [bc, g4], w_hh_t.clone());
            std::mem::swap(&mut dc, &mut dc_prev);
        }
        dh0.copy_from_slice(&dh);
        dc0.copy_from_slice(&dc);
    });
    let mut db = vec![0.0f32; g4];
    for row in dz.chunks_exact(g4) {
        for (acc, v) in db.iter_mut().zip(row) {
            *acc += v;
        }
    }
    let dz_t = tensor(dz, &[t * b, g4]);
    // Weight gradients over all steps at once.
    let x_t = Flex::float_transpose(tensor(st.x.clone(), &[t * b, d]));
    let dw_ih = Flex::float_matmul(x_t, dz_t.clone());
    let hp = fused_par::concat(&st.chunks, |c| &c.hs[..c.hs.len() - c.hs.len() / (t + 1)]);
    let dw_hh = Flex::float_matmul(Flex::float_transpose(tensor(hp, &[t * b, h])), dz_t.clone());
    let dxt = to_vec(Flex::float_matmul(dz_t, Flex::float_transpose(st.w_ih.clone())));
    let dx = fused_par::from_chunk_major(&dxt, t, d, &st.ranges);
    [tensor(dx, &[b, t, d]), dw_ih, dw_hh, tensor(db, &[g4]), tensor(dh0, &[b, h]), tensor(dc0, &[b, h])]
}

/// 0: follow `VANE_FUSED`; 1: forced on; 2: forced off (see [`set_fused`]).
static OVERRIDE: AtomicU8 = AtomicU8::new(0);

/// Forces the fused path on (`Some(true)`) or off (`Some(false)`) for the whole process, or
/// returns to the environment's choice (`None`). For tests and benchmarks that compare the two
/// paths in one process (the environment cannot be changed safely from inside it).
pub fn set_fused(choice: Option<bool>) {
    OVERRIDE.store(
        match choice {
            None => 0,
            Some(true) => 1,
            Some(false) => 2,
        },
        Ordering::SeqCst,
    );
}

/// One LSTM step's element-wise part for `b` rows: `gate` holds the pre-activations `[b, 4h]` and
/// is overwritten with the activations (σ(i), σ(f), g = 2σ(z_g) − 1, σ(o)); writes `c`, `tanh(c)`
/// and `h` `[b, h]`.
pub(crate) fn lstm_pointwise(
    gate: &mut [f32],
    c_prev: &[f32],
    h: usize,
    c: &mut [f32],
    tc: &mut [f32],
    hn: &mut [f32],
) {
    for z in gate.iter_mut() {
        *z = sigmoid(*z);
    }
    let g4 = 4 * h;
    for (bi, row) in gate.chunks_exact_mut(g4).enumerate() {
        let (i, rest) = row.split_at_mut(h);
        let (f, rest) = rest.split_at_mut(h);
        let (g, o) = rest.split_at_mut(h);
        for gv in g.iter_mut() {
            *gv = 2.0 * *gv - 1.0;
        }
        let r = bi * h..(bi + 1) * h;
        let (cp, cn, tn, hh) = (&c_prev[r.clone()], &mut c[r.clone()], &mut tc[r.clone()], &mut hn[r]);
        // Zipped iterators (no bounds checks) so the loop vectorises.
        for ((((((cn, tn), hh), &cp), &i), &f), (&g, &o)) in
            cn.iter_mut().zip(tn.iter_mut()).zip(hh.iter_mut()).zip(cp).zip(&*i).zip(&*f).zip(g.iter().zip(&*o))
        {
            let cv = f * cp + i * g;
            let t = 2.0 * sigmoid(2.0 * cv) - 1.0;
            *cn = cv;
            *tn = t;
            *hh = o * t;
        }
    }
}

/// The backward of [`lstm_pointwise`]: from `dh` and `dc` (the gradients reaching `h` and `c`),
/// the pre-activation gradients `dz [b, 4h]` and the gradient into `c_prev` (`dc_prev [b, h]`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn lstm_pointwise_back(
    act: &[f32],
    tc: &[f32],
    c_prev: &[f32],
    h: usize,
    dh: &[f32],
    dc: &[f32],
    dz: &mut [f32],
    dc_prev: &mut [f32],
) {
    let g4 = 4 * h;
    for (bi, (a, row)) in act.chunks_exact(g4).zip(dz.chunks_exact_mut(g4)).enumerate() {
        let (i, rest) = a.split_at(h);
        let (f, rest) = rest.split_at(h);
        let (g, o) = rest.split_at(h);
        let (dzi, rest) = row.split_at_mut(h);
        let (dzf, rest) = rest.split_at_mut(h);
        let (dzg, dzo) = rest.split_at_mut(h);
        let r = bi * h..(bi + 1) * h;
        let (t, cp, dhv, dcv, dcp) =
            (&tc[r.clone()], &c_prev[r.clone()], &dh[r.clone()], &dc[r.clone()], &mut dc_prev[r]);
        // Zipped iterators (no bounds checks) so the loop vectorises.
        let outs = dzi.iter_mut().zip(dzf.iter_mut()).zip(dzg.iter_mut()).zip(dzo.iter_mut()).zip(dcp.iter_mut());
        let ins = i.iter().zip(f).zip(g).zip(o).zip(t.iter().zip(cp).zip(dhv.iter().zip(dcv)));
        for (((((dzi, dzf), dzg), dzo), dcp), ((((&i, &f), &g), &o), ((&t, &cp), (&dhv, &dcv)))) in outs.zip(ins) {
            let d = dcv + dhv * o * (1.0 - t * t);
            *dzo = dhv * t * o * (1.0 - o);
            *dzi = d * g * i * (1.0 - i);
            *dzf = d * cp * f * (1.0 - f);
            *dzg = d * i * 0.5 * (1.0 - g * g);
            *dcp = d * f;
        }
    }
}

/// Whether the fused op is allowed: [`set_fused`]'s choice, else not switched off by
/// `VANE_FUSED=0` (or `false`, `off`, `no`) in the environment. On by default.
pub fn fused_enabled() -> bool {
    match OVERRIDE.load(Ordering::SeqCst) {
        1 => true,
        2 => false,
        _ => !switched_off("VANE_FUSED"),
    }
}

/// Whether the environment variable `var` is `0`, `false`, `off` or `no`: how `VANE_FUSED`
/// turns every fused op off, and `VANE_FUSED_CONV` / `VANE_FUSED_ATTENTION` one op alone (for
/// before/after timings of that op with one binary).
pub fn switched_off(var: &str) -> bool {
    matches!(std::env::var(var).as_deref(), Ok("0" | "false" | "off" | "no"))
}

/// Whether [`lstm_sequence`] can run on `device` (the flex CPU backend, with or without autodiff)
/// and is enabled ([`fused_enabled`]).
pub fn fused_available(device: &Device) -> bool {
    fused_enabled() && matches!(device.clone().without_autodiff().as_dispatch(), DispatchDevice::Flex(_))
}

/// The fused LSTM layer on tensors: `x [b, t, d]` → hidden states `[b, t, h]`. Only on the flex
/// device ([`fused_available`]); any other backend panics in burn's dispatch.
pub fn lstm_sequence(
    x: Tensor<3>,
    w_ih: Tensor<2>,
    w_hh: Tensor<2>,
    bias: Tensor<1>,
    h0: Tensor<2>,
    c0: Tensor<2>,
) -> Tensor<3> {
    use burn::backend::Dispatch;
    Tensor::from_dispatch(Dispatch::lstm_sequence(
        x.into_dispatch(),
        w_ih.into_dispatch(),
        w_hh.into_dispatch(),
        bias.into_dispatch(),
        h0.into_dispatch(),
        c0.into_dispatch(),
    ))
}
