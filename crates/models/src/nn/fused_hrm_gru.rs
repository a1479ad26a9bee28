//! The GRU HRM's two-timescale loop (seed 000's `cell = "gru"`) as one primitive on the CPU
//! (`flex`) backend, like [`fused_hrm`](crate::nn::fused_hrm) for the LSTM HRM.
//!
//! Fast step: `gi = x_s·W_ih + b_ih + fb`, `hg = h·W_hh + b_hh`, `r, z = σ(gi + hg)` on their
//! columns, `n = tanh(gi_n + r ⊙ hg_n)`, `h' = n + z ⊙ (h − n)` ([`GruCell::step`](crate::nn::GruCell::step));
//! `fb = h_high·F`; the slow cell steps on `h_low` after every `period`-th step. Output: the last
//! `[h_low, h_high]`.

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
use crate::nn::fused_seq::{matmul, sigmoid, tensor, to_vec};

/// The backend extension: the GRU HRM's recurrence over `[b, t, f]`.
#[backend_extension(Flex, Autodiff)]
pub trait HrmGruBackend: Backend {
    /// `x [b, t, f]`; fast cell `wl_ih [f, 3hl]`, `wl_hh [hl, 3hl]`, `bl_ih`, `bl_hh [3hl]`;
    /// slow cell `wh_ih [hl, 3hh]`, `wh_hh [hh, 3hh]`, `bh_ih`, `bh_hh [3hh]`; feedback
    /// `fb [hh, 3hl]` → the last `[h_low, h_high]` as `[b, hl + hh]`. States start at zero.
    #[allow(clippy::too_many_arguments)]
    fn hrm_gru(
        x: FloatTensor<Self>,
        wl_ih: FloatTensor<Self>,
        wl_hh: FloatTensor<Self>,
        bl_ih: FloatTensor<Self>,
        bl_hh: FloatTensor<Self>,
        wh_ih: FloatTensor<Self>,
        wh_hh: FloatTensor<Self>,
        bh_ih: FloatTensor<Self>,
        bh_hh: FloatTensor<Self>,
        fb: FloatTensor<Self>,
        period: usize,
    ) -> FloatTensor<Self>;
}

impl HrmGruBackend for Flex {
    fn hrm_gru(
        x: FlexTensor,
        wl_ih: FlexTensor,
        wl_hh: FlexTensor,
        bl_ih: FlexTensor,
        bl_hh: FlexTensor,
        wh_ih: FlexTensor,
        wh_hh: FlexTensor,
        bh_ih: FlexTensor,
        bh_hh: FlexTensor,
        fb: FlexTensor,
        period: usize,
    ) -> FlexTensor {
        forward([x, wl_ih, wl_hh, bl_ih, bl_hh, wh_ih, wh_hh, bh_ih, bh_hh, fb], period).0
    }
}

impl<C: CheckpointStrategy> HrmGruBackend for Autodiff<Flex, C> {
    fn hrm_gru(
        x: FloatTensor<Self>,
        wl_ih: FloatTensor<Self>,
        wl_hh: FloatTensor<Self>,
        bl_ih: FloatTensor<Self>,
        bl_hh: FloatTensor<Self>,
        wh_ih: FloatTensor<Self>,
        wh_hh: FloatTensor<Self>,
        bh_ih: FloatTensor<Self>,
        bh_hh: FloatTensor<Self>,
        fb: FloatTensor<Self>,
        period: usize,
    ) -> FloatTensor<Self> {
        let (p0, n0) = x.into_parts();
        let (p1, n1) = wl_ih.into_parts();
        let (p2, n2) = wl_hh.into_parts();
        let (p3, n3) = bl_ih.into_parts();
        let (p4, n4) = bl_hh.into_parts();
        let (p5, n5) = wh_ih.into_parts();
        let (p6, n6) = wh_hh.into_parts();
        let (p7, n7) = bh_ih.into_parts();
        let (p8, n8) = bh_hh.into_parts();
        let (p9, n9) = fb.into_parts();
        let inputs = [p0, p1, p2, p3, p4, p5, p6, p7, p8, p9];
        match GruBackward.prepare::<C>([n0, n1, n2, n3, n4, n5, n6, n7, n8, n9]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (out, saved) = forward(inputs, period);
                prep.finish(Arc::new(saved), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(forward(inputs, period).0),
        }
    }
}

/// One GRU cell's saved steps.
#[derive(Debug, Default)]
struct CellTrace {
    /// States `[(n+1)·b, h]`, zeros first.
    h: Vec<f32>,
    /// Per step `[b, 3h]`: r, z, n.
    rzn: Vec<f32>,
    /// Per step `[b, h]`: the recurrent new-gate term `hg_n = (h·W_hh + b_hh)_n`.
    hgn: Vec<f32>,
}

/// What the backward pass needs; rows chunk-major time-major ([`fused_par`]): per chunk of
/// batch rows, the fast and the slow cell's traces.
#[derive(Debug)]
struct Saved {
    dims: [usize; 6], // b, t, f, hl, hh, period
    ranges: Vec<(usize, usize)>,
    x: Vec<f32>,
    chunks: Vec<(CellTrace, CellTrace)>,
    /// `wl_ih, wl_hh, wh_ih, wh_hh, fb`.
    w: [FlexTensor; 5],
}

#[derive(Debug)]
struct GruBackward;

impl Backward<Flex, 10> for GruBackward {
    type State = Arc<Saved>;

    fn backward(self, ops: Ops<Self::State, 10>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
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

fn add(a: &mut [f32], b: &[f32]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

fn add_rows(m: &mut [f32], bias: &[f32]) {
    for row in m.chunks_exact_mut(bias.len()) {
        add(row, bias);
    }
}

/// One GRU step's element-wise part: `gi` (input side, everything added) and `hg` (`h·W_hh +
/// b_hh`) `[b, 3h]`, `h_prev [b, h]` → appends the new state, r|z|n and `hg_n` to `tr`.
fn gru_pointwise(gi: &[f32], hg: &[f32], h_prev_row: usize, h: usize, tr: &mut CellTrace) {
    let b = gi.len() / (3 * h);
    let start = tr.rzn.len();
    tr.rzn.resize(start + b * 3 * h, 0.0);
    let hstart = tr.hgn.len();
    tr.hgn.resize(hstart + b * h, 0.0);
    let mut new_h = vec![0.0f32; b * h];
    for bi in 0..b {
        let (gr, hr) = (&gi[bi * 3 * h..(bi + 1) * 3 * h], &hg[bi * 3 * h..(bi + 1) * 3 * h]);
        let rzn = &mut tr.rzn[start + bi * 3 * h..start + (bi + 1) * 3 * h];
        let hp = &tr.h[(h_prev_row + bi) * h..(h_prev_row + bi + 1) * h];
        let (rr, rest) = rzn.split_at_mut(h);
        let (zz, nn) = rest.split_at_mut(h);
        let (gr_r, rest) = gr.split_at(h);
        let (gr_z, gr_n) = rest.split_at(h);
        let (hr_r, rest) = hr.split_at(h);
        let (hr_z, hr_n) = rest.split_at(h);
        tr.hgn[hstart + bi * h..hstart + (bi + 1) * h].copy_from_slice(hr_n);
        let nh = &mut new_h[bi * h..(bi + 1) * h];
        // Zipped iterators (no bounds checks) so the loop vectorises.
        for (((((rr, zz), nn), nh), &hp), ((&gr, &hr), ((&gz, &hz), (&gn, &hn)))) in rr
            .iter_mut()
            .zip(zz.iter_mut())
            .zip(nn.iter_mut())
            .zip(nh.iter_mut())
            .zip(hp)
            .zip(gr_r.iter().zip(hr_r).zip(gr_z.iter().zip(hr_z).zip(gr_n.iter().zip(hr_n))))
        {
            let r = sigmoid(gr + hr);
            let z = sigmoid(gz + hz);
            let a = gn + r * hn;
            let n = 2.0 * sigmoid(2.0 * a) - 1.0;
            *rr = r;
            *zz = z;
            *nn = n;
            *nh = n + z * (hp - n);
        }
    }
    tr.h.extend_from_slice(&new_h);
}

/// The backward of step `s` of `tr`: from `dh [b, h]` → input-side `dgi [b, 3h]`, recurrent
/// `dhg [b, 3h]`, and the direct part of the gradient into `h_prev` (`z ⊙ dh`).
fn gru_pointwise_back(
    tr: &CellTrace,
    s: usize,
    b: usize,
    h: usize,
    dh: &[f32],
    dgi: &mut [f32],
    dhg: &mut [f32],
) -> Vec<f32> {
    let mut dprev = vec![0.0f32; b * h];
    for bi in 0..b {
        let rzn = &tr.rzn[(s * b + bi) * 3 * h..(s * b + bi + 1) * 3 * h];
        let hgn = &tr.hgn[(s * b + bi) * h..(s * b + bi + 1) * h];
        let hp = &tr.h[(s * b + bi) * h..(s * b + bi + 1) * h];
        let (gi, hg) = (&mut dgi[bi * 3 * h..(bi + 1) * 3 * h], &mut dhg[bi * 3 * h..(bi + 1) * 3 * h]);
        let (gi_r, rest) = gi.split_at_mut(h);
        let (gi_z, gi_n) = rest.split_at_mut(h);
        let (hg_r, rest) = hg.split_at_mut(h);
        let (hg_z, hg_n) = rest.split_at_mut(h);
        let (rr, rest) = rzn.split_at(h);
        let (zz, nn) = rest.split_at(h);
        let (dhr, dpr) = (&dh[bi * h..(bi + 1) * h], &mut dprev[bi * h..(bi + 1) * h]);
        // Zipped iterators (no bounds checks) so the loop vectorises.
        let outs = gi_r
            .iter_mut()
            .zip(gi_z.iter_mut())
            .zip(gi_n.iter_mut())
            .zip(hg_r.iter_mut().zip(hg_z.iter_mut()).zip(hg_n.iter_mut()).zip(dpr.iter_mut()));
        let ins = rr.iter().zip(zz).zip(nn).zip(dhr.iter().zip(hgn).zip(hp));
        for ((((gr, gz), gn), (((hr, hz), hn), dp)), (((&r, &z), &n), ((&d, &hgn), &hp))) in outs.zip(ins) {
            let dn = d * (1.0 - z);
            let da = dn * (1.0 - n * n);
            let dr = da * hgn * r * (1.0 - r);
            let dz = d * (hp - n) * z * (1.0 - z);
            *gr = dr;
            *gz = dz;
            *gn = da;
            *hr = dr;
            *hz = dz;
            *hn = da * r;
            *dp = d * z;
        }
    }
    dprev
}

fn forward(inputs: [FlexTensor; 10], period: usize) -> (FlexTensor, Saved) {
    let [x, wl_ih, wl_hh, bl_ih, bl_hh, wh_ih, wh_hh, bh_ih, bh_hh, fbw] = inputs;
    let xd = dims(&x);
    let (b, t, f) = (xd[0], xd[1], xd[2]);
    let hl = dims(&wl_hh)[0];
    let hh = dims(&wh_hh)[0];
    let p = period.max(1);
    let g3l = 3 * hl;
    let ranges = fused_par::chunks(b);
    let xt = fused_par::to_chunk_major(&to_vec(x), t, f, &ranges);
    let mut xg = matmul(xt.clone(), [t * b, f], wl_ih.clone());
    add_rows(&mut xg, &to_vec(bl_ih));
    let (blh, bhi, bhh) = (to_vec(bl_hh), to_vec(bh_ih), to_vec(bh_hh));
    let chunks = fused_par::par_chunks(&ranges, |_, r0, r1| {
        let bc = r1 - r0;
        let (nl, nh) = (bc * hl, bc * hh);
        let xg = &xg[t * r0 * g3l..t * r1 * g3l];
        let mut low = CellTrace { h: vec![0.0f32; nl], ..CellTrace::default() };
        let mut high = CellTrace { h: vec![0.0f32; nh], ..CellTrace::default() };
        let mut fb = vec![0.0f32; bc * g3l];
        let mut k = 0;
        for s in 0..t {
            let mut gi = xg[s * bc * g3l..(s + 1) * bc * g3l].to_vec();
            add(&mut gi, &fb);
            let mut hg = matmul(low.h[s * nl..(s + 1) * nl].to_vec(), [bc, hl], wl_hh.clone());
            add_rows(&mut hg, &blh);
            gru_pointwise(&gi, &hg, s * bc, hl, &mut low);
            if (s + 1) % p == 0 {
                let mut gih = matmul(low.h[(s + 1) * nl..(s + 2) * nl].to_vec(), [bc, hl], wh_ih.clone());
                add_rows(&mut gih, &bhi);
                let mut hgh = matmul(high.h[k * nh..(k + 1) * nh].to_vec(), [bc, hh], wh_hh.clone());
                add_rows(&mut hgh, &bhh);
                gru_pointwise(&gih, &hgh, k * bc, hh, &mut high);
                k += 1;
                fb = matmul(high.h[k * nh..(k + 1) * nh].to_vec(), [bc, hh], fbw.clone());
            }
        }
        (low, high)
    });
    let n_high = t / p;
    let mut out = vec![0.0f32; b * (hl + hh)];
    for (&(r0, r1), (low, high)) in ranges.iter().zip(&chunks) {
        let bc = r1 - r0;
        for i in 0..bc {
            let row = &mut out[(r0 + i) * (hl + hh)..(r0 + i + 1) * (hl + hh)];
            row[..hl].copy_from_slice(&low.h[(t * bc + i) * hl..(t * bc + i + 1) * hl]);
            row[hl..].copy_from_slice(&high.h[(n_high * bc + i) * hh..(n_high * bc + i + 1) * hh]);
        }
    }
    let saved = Saved { dims: [b, t, f, hl, hh, p], ranges, x: xt, chunks, w: [wl_ih, wl_hh, wh_ih, wh_hh, fbw] };
    (tensor(out, &[b, hl + hh]), saved)
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

/// Gradients for `[x, wl_ih, wl_hh, bl_ih, bl_hh, wh_ih, wh_hh, bh_ih, bh_hh, fb]`. Each
/// chunk's reverse loop is one task; the weight gradients are whole-sequence products after.
fn backward(st: &Saved, grad: FlexTensor) -> [FlexTensor; 10] {
    let [b, t, f, hl, hh, p] = st.dims;
    let (g3l, g3h) = (3 * hl, 3 * hh);
    let n_high = t / p;
    let [wl_ih, wl_hh, wh_ih, wh_hh, fbw] = &st.w;
    let wl_hh_t = Flex::float_transpose(wl_hh.clone());
    let wh_ih_t = Flex::float_transpose(wh_ih.clone());
    let wh_hh_t = Flex::float_transpose(wh_hh.clone());
    let fbw_t = Flex::float_transpose(fbw.clone());
    let gv = to_vec(grad);
    let mut dgil = vec![0.0f32; t * b * g3l];
    let mut dhgl = vec![0.0f32; t * b * g3l];
    let mut dgih = vec![0.0f32; n_high * b * g3h];
    let mut dhgh = vec![0.0f32; n_high * b * g3h];
    // Per slow state k ≥ 1 (row k − 1): the summed feedback gradient of the fast steps that used it.
    let mut dfb = vec![0.0f32; n_high * b * g3l];
    let parts: Vec<_> = fused_par::split(&mut dgil, &st.ranges, t * g3l)
        .into_iter()
        .zip(fused_par::split(&mut dhgl, &st.ranges, t * g3l))
        .zip(fused_par::split(&mut dgih, &st.ranges, n_high * g3h))
        .zip(fused_par::split(&mut dhgh, &st.ranges, n_high * g3h))
        .zip(fused_par::split(&mut dfb, &st.ranges, n_high * g3l))
        .zip(st.ranges.iter().copied())
        .collect();
    fused_par::par_each(parts, |ci, (((((dgil, dhgl), dgih), dhgh), dfb), (r0, r1))| {
        let (low, high) = &st.chunks[ci];
        let bc = r1 - r0;
        let (nl, nh) = (bc * hl, bc * hh);
        let mut dh_l = vec![0.0f32; nl];
        let mut dh_h = vec![0.0f32; nh];
        for i in 0..bc {
            let g = &gv[(r0 + i) * (hl + hh)..(r0 + i + 1) * (hl + hh)];
            dh_l[i * hl..(i + 1) * hl].copy_from_slice(&g[..hl]);
            dh_h[i * hh..(i + 1) * hh].copy_from_slice(&g[hl..]);
        }
        let mut dfb_sum = vec![0.0f32; bc * g3l];
        for s in (0..t).rev() {
            if (s + 1) % p == 0 {
                let k = (s + 1) / p;
                add(&mut dh_h, &matmul(dfb_sum.clone(), [bc, g3l], fbw_t.clone()));
                dfb[(k - 1) * bc * g3l..k * bc * g3l].copy_from_slice(&dfb_sum);
                dfb_sum.fill(0.0);
                let (gi, hg) =
                    (&mut dgih[(k - 1) * bc * g3h..k * bc * g3h], &mut dhgh[(k - 1) * bc * g3h..k * bc * g3h]);
                let mut dprev = gru_pointwise_back(high, k - 1, bc, hh, &dh_h, gi, hg);
                add(&mut dprev, &matmul(hg.to_vec(), [bc, g3h], wh_hh_t.clone()));
                dh_h = dprev;
                add(&mut dh_l, &matmul(gi.to_vec(), [bc, g3h], wh_ih_t.clone()));
            }
            let (gi, hg) = (&mut dgil[s * bc * g3l..(s + 1) * bc * g3l], &mut dhgl[s * bc * g3l..(s + 1) * bc * g3l]);
            let mut dprev = gru_pointwise_back(low, s, bc, hl, &dh_l, gi, hg);
            add(&mut dfb_sum, gi);
            add(&mut dprev, &matmul(hg.to_vec(), [bc, g3l], wl_hh_t.clone()));
            dh_l = dprev;
        }
    });
    let hk = fused_par::concat(&st.chunks, |c| &c.1.h[c.1.h.len() / (n_high + 1)..]);
    let dfbw = if n_high == 0 { tensor(vec![0.0f32; hh * g3l], &[hh, g3l]) } else { at_b(hk, hh, dfb, g3l) };
    let dbl_ih = tensor(col_sums(&dgil, g3l), &[g3l]);
    let dbl_hh = tensor(col_sums(&dhgl, g3l), &[g3l]);
    let dbh_ih = tensor(col_sums(&dgih, g3h), &[g3h]);
    let dbh_hh = tensor(col_sums(&dhgh, g3h), &[g3h]);
    let dwl_ih = at_b(st.x.clone(), f, dgil.clone(), g3l);
    let dwl_hh = at_b(fused_par::concat(&st.chunks, |c| &c.0.h[..c.0.h.len() / (t + 1) * t]), hl, dhgl, g3l);
    let mut hin = Vec::with_capacity(n_high * b * hl);
    for (&(r0, r1), (low, _)) in st.ranges.iter().zip(&st.chunks) {
        let nl = (r1 - r0) * hl;
        for k in 1..=n_high {
            hin.extend_from_slice(&low.h[k * p * nl..(k * p + 1) * nl]);
        }
    }
    let dwh_ih = at_b(hin, hl, dgih, g3h);
    let dwh_hh = at_b(fused_par::concat(&st.chunks, |c| &c.1.h[..c.1.h.len() / (n_high + 1) * n_high]), hh, dhgh, g3h);
    let dxt = to_vec(Flex::float_matmul(tensor(dgil, &[t * b, g3l]), Flex::float_transpose(wl_ih.clone())));
    let dx = fused_par::from_chunk_major(&dxt, t, f, &st.ranges);
    [tensor(dx, &[b, t, f]), dwl_ih, dwl_hh, dbl_ih, dbl_hh, dwh_ih, dwh_hh, dbh_ih, dbh_hh, dfbw]
}

/// The fused GRU HRM recurrence on tensors → `[h_low, h_high]` after the last step. Only on the
/// flex device ([`fused_available`](crate::nn::fused_seq::fused_available)).
#[allow(clippy::too_many_arguments)]
pub fn hrm_gru(
    x: Tensor<3>,
    wl_ih: Tensor<2>,
    wl_hh: Tensor<2>,
    bl_ih: Tensor<1>,
    bl_hh: Tensor<1>,
    wh_ih: Tensor<2>,
    wh_hh: Tensor<2>,
    bh_ih: Tensor<1>,
    bh_hh: Tensor<1>,
    fb: Tensor<2>,
    period: usize,
) -> Tensor<2> {
    use burn::backend::Dispatch;
    Tensor::from_dispatch(Dispatch::hrm_gru(
        x.into_dispatch(),
        wl_ih.into_dispatch(),
        wl_hh.into_dispatch(),
        bl_ih.into_dispatch(),
        bl_hh.into_dispatch(),
        wh_ih.into_dispatch(),
        wh_hh.into_dispatch(),
        bh_ih.into_dispatch(),
        bh_hh.into_dispatch(),
        fb.into_dispatch(),
        period,
    ))
}
