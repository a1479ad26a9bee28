//! A lean batch-of-one inference path for the [`Hrm`]: the same forward pass as
//! [`Hrm::forward`] without dropout (input projection, the fast cell every step, the slow cell
//! every `high_period` steps and its feedback, the layer norm over `[h_low, h_high]`, the class
//! head), on plain `f32` vectors copied once from a model's weights.
//!
//! The streaming runtime calls the network once per bar and per level on ONE window; burn's
//! forward then spends most of its time in 1×N gemm calls and per-step tensor allocation. Here
//! every matrix–vector product is an `axpy` loop over a row-major `[in, out]` weight (the inner
//! loop runs over contiguous `out` columns, which the compiler vectorises), and every buffer lives
//! in an [`HrmScratch`] reused across calls: no allocation per step or per call once warm.
//!
//! Arithmetic: the gates use [`fast_math::sigmoid`](crate::nn::fast_math::sigmoid) and
//! `tanh(x) = 2σ(2x) − 1` as the fused CPU kernels do; the products sum in a different order than
//! gemm, so logits agree with burn's forward to about 10⁻⁶ (tests: `crates/models/tests/hrm_infer.rs`,
//! ≤ 10⁻⁵), not bit for bit. The layer norm's ε is 10⁻⁵, the one every HRM is built with.

use burn::module::Param;
use burn::tensor::Tensor;
use rayon::prelude::*;

use crate::error::{Result, data_err};
use crate::hrm::Hrm;
use crate::nn::fast_math::sigmoid;

/// The layer norm's ε ([`HrmConfig::init`](crate::hrm::HrmConfig::init) builds every HRM's norm
/// with it).
const LN_EPS: f32 = 1e-5;

/// One cell's weights: `w_ih [in, g·h]`, `w_hh [h, g·h]` row-major, the input bias (GRU `b_ih`,
/// LSTM `bias`) and, for the GRU, the recurrent bias `b_hh` (empty for the LSTM).
#[derive(Clone, Debug)]
struct CellW {
    w_ih: Vec<f32>,
    w_hh: Vec<f32>,
    b_ih: Vec<f32>,
    b_hh: Vec<f32>,
    d_in: usize,
    h: usize,
}

/// Which cell both levels use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Gru,
    Lstm,
}

/// An [`Hrm`]'s weights laid out for batch-of-one inference ([module docs](self)). Build once
/// with [`HrmInfer::from_model`]; call [`HrmInfer::logits`] / [`HrmInfer::probs`] with an
/// [`HrmScratch`] per thread.
#[derive(Clone, Debug)]
pub struct HrmInfer {
    kind: Kind,
    low: CellW,
    high: CellW,
    /// Feedback `[hh, g·hl]`.
    feedback: Vec<f32>,
    gamma: Vec<f32>,
    beta: Vec<f32>,
    /// Class head `[hl + hh, k]` and its bias `[k]`.
    head_w: Vec<f32>,
    head_b: Vec<f32>,
    period: usize,
    n_features: usize,
    n_classes: usize,
}

/// Reusable state buffers for [`HrmInfer`] (any size: they grow to the largest network they
/// serve and are then reused without allocation).
#[derive(Clone, Debug, Default)]
pub struct HrmScratch {
    /// `x·W_ih + b` for every step, `[seq, g·hl]`.
    xg: Vec<f32>,
    /// Input-side gates of the current step.
    gi: Vec<f32>,
    /// Recurrent gates of the current step.
    hg: Vec<f32>,
    /// Feedback `h_high·F`.
    fb: Vec<f32>,
    h_low: Vec<f32>,
    c_low: Vec<f32>,
    h_high: Vec<f32>,
    c_high: Vec<f32>,
    /// `[h_low, h_high]`, then its norm.
    z: Vec<f32>,
    /// A window buffer for callers that normalise into it ([`HrmScratch::window`]).
    window: Vec<f32>,
}

impl HrmScratch {
    /// An empty scratch (grows on first use).
    pub fn new() -> Self {
        Self::default()
    }

    /// A buffer of `len` values the caller may fill (e.g. a normalised window) and pass back to
    /// [`HrmInfer::logits`] through [`HrmInfer::probs_of_window`].
    pub fn window(&mut self, len: usize) -> &mut Vec<f32> {
        self.window.resize(len, 0.0);
        &mut self.window
    }
}

fn vec1(p: &Param<Tensor<1>>) -> Result<Vec<f32>> {
    let d = p.val().into_data().convert::<f32>();
    d.try_into_vec::<f32>().or_else(|e| data_err(format!("HRM weights are not f32: {e:?}")))
}

fn vec2(p: &Param<Tensor<2>>, rows: usize, cols: usize, name: &str) -> Result<Vec<f32>> {
    let t = p.val();
    let dims = t.dims();
    if dims != [rows, cols] {
        return data_err(format!("HRM weight {name}: shape {dims:?}, expected [{rows}, {cols}]"));
    }
    let d = t.into_data().convert::<f32>();
    d.try_into_vec::<f32>().or_else(|e| data_err(format!("HRM weight {name} is not f32: {e:?}")))
}

fn check_len(v: &[f32], n: usize, name: &str) -> Result<()> {
    if v.len() != n {
        return data_err(format!("HRM weight {name}: {} values, expected {n}", v.len()));
    }
    Ok(())
}

/// `y = x·W` for `W [x.len(), y.len()]` row-major, eight input rows at a time: `y += x₀W₀ + … +
/// x₇W₇` (contiguous in the output, so the inner loop vectorises, and `y` is read and written
/// once per eight rows), then four, then the remaining rows one by one.
#[inline]
fn matvec(y: &mut [f32], x: &[f32], w: &[f32]) {
    let n = y.len();
    y.fill(0.0);
    let b8 = x.len() / 8 * 8;
    for (xs, wb) in x[..b8].chunks_exact(8).zip(w.chunks_exact(8 * n)) {
        let (w0, rest) = wb.split_at(n);
        let (w1, rest) = rest.split_at(n);
        let (w2, rest) = rest.split_at(n);
        let (w3, rest) = rest.split_at(n);
        let (w4, rest) = rest.split_at(n);
        let (w5, rest) = rest.split_at(n);
        let (w6, w7) = rest.split_at(n);
        let [x0, x1, x2, x3, x4, x5, x6, x7] = [xs[0], xs[1], xs[2], xs[3], xs[4], xs[5], xs[6], xs[7]];
        let ws = w0.iter().zip(w1).zip(w2.iter().zip(w3)).zip(w4.iter().zip(w5).zip(w6.iter().zip(w7)));
        for (yv, (((&a, &b), (&c, &d)), ((&e, &f), (&g, &h)))) in y.iter_mut().zip(ws) {
            *yv += (x0 * a + x1 * b + x2 * c + x3 * d) + (x4 * e + x5 * f + x6 * g + x7 * h);
        }
    }
    let (x, w) = (&x[b8..], &w[b8 * n..]);
    let b4 = x.len() / 4 * 4;
    for (xs, wb) in x[..b4].chunks_exact(4).zip(w.chunks_exact(4 * n)) {
        let (w0, rest) = wb.split_at(n);
        let (w1, rest) = rest.split_at(n);
        let (w2, w3) = rest.split_at(n);
        let (x0, x1, x2, x3) = (xs[0], xs[1], xs[2], xs[3]);
        for ((yv, (&a, &b)), (&c, &d)) in y.iter_mut().zip(w0.iter().zip(w1)).zip(w2.iter().zip(w3)) {
            *yv += x0 * a + x1 * b + x2 * c + x3 * d;
        }
    }
    for (&xi, row) in x[b4..].iter().zip(w[b4 * n..].chunks_exact(n)) {
        for (yv, &wv) in y.iter_mut().zip(row) {
            *yv += xi * wv;
        }
    }
}

#[inline]
fn add(y: &mut [f32], b: &[f32]) {
    for (yv, &bv) in y.iter_mut().zip(b) {
        *yv += bv;
    }
}

/// One GRU step from the input-side gates `gi [3h]` (everything added) and the recurrent gates
/// `hg [3h]` (`h·W_hh + b_hh`): `r, z = σ(gi + hg)`, `n = tanh(gi_n + r ⊙ hg_n)`,
/// `h ← n + z ⊙ (h − n)`. `gi`'s r|z part is overwritten with `r, z` (simple loops over slices,
/// which vectorise).
#[inline]
fn gru_step(gi: &mut [f32], hg: &[f32], h: &mut [f32]) {
    let hd = h.len();
    let (grz, gn) = gi.split_at_mut(2 * hd);
    let (hrz, hn) = hg.split_at(2 * hd);
    for (g, &r) in grz.iter_mut().zip(hrz) {
        *g = sigmoid(*g + r);
    }
    let (r, z) = grz.split_at(hd);
    for (((hv, &r), &z), (&gn, &hn)) in h.iter_mut().zip(r).zip(z).zip(gn.iter().zip(hn)) {
        let a = gn + r * hn;
        let n = 2.0 * sigmoid(2.0 * a) - 1.0;
        *hv = n + z * (*hv - n);
    }
}

/// One LSTM step from the summed gates `[4h]` (i, f, g, o; the cell-gate columns pre-scaled by 2
/// as in [`LstmCell`](crate::nn::LstmCell)).
#[inline]
fn lstm_step(gate: &mut [f32], h: &mut [f32], c: &mut [f32]) {
    for g in gate.iter_mut() {
        *g = sigmoid(*g);
    }
    let hd = h.len();
    let (i, rest) = gate.split_at(hd);
    let (f, rest) = rest.split_at(hd);
    let (g, o) = rest.split_at(hd);
    for ((hv, cv), ((&i, &f), (&g, &o))) in h.iter_mut().zip(c.iter_mut()).zip(i.iter().zip(f).zip(g.iter().zip(o))) {
        let g = 2.0 * g - 1.0;
        let cn = f * *cv + i * g;
        let t = 2.0 * sigmoid(2.0 * cn) - 1.0;
        *cv = cn;
        *hv = o * t;
    }
}

impl HrmInfer {
    /// Copies `model`'s weights (either cell). An error if the model has no cell pair or a weight
    /// has an unexpected shape.
    pub fn from_model(model: &Hrm) -> Result<Self> {
        let (hl, hh) = (model.hidden_low, model.hidden_high);
        let (kind, low, high) = match (&model.low, &model.high, &model.low_gru, &model.high_gru) {
            (_, _, Some(lo), Some(hi)) => {
                let d_in = lo.w_ih.val().dims()[0];
                let low = CellW {
                    w_ih: vec2(&lo.w_ih, d_in, 3 * hl, "low_gru.w_ih")?,
                    w_hh: vec2(&lo.w_hh, hl, 3 * hl, "low_gru.w_hh")?,
                    b_ih: vec1(&lo.b_ih)?,
                    b_hh: vec1(&lo.b_hh)?,
                    d_in,
                    h: hl,
                };
                let high = CellW {
                    w_ih: vec2(&hi.w_ih, hl, 3 * hh, "high_gru.w_ih")?,
                    w_hh: vec2(&hi.w_hh, hh, 3 * hh, "high_gru.w_hh")?,
                    b_ih: vec1(&hi.b_ih)?,
                    b_hh: vec1(&hi.b_hh)?,
                    d_in: hl,
                    h: hh,
                };
                for (v, n, name) in [
                    (&low.b_ih, 3 * hl, "b_ih"),
                    (&low.b_hh, 3 * hl, "b_hh"),
                    (&high.b_ih, 3 * hh, "b_ih"),
                    (&high.b_hh, 3 * hh, "b_hh"),
                ] {
                    check_len(v, n, name)?;
                }
                (Kind::Gru, low, high)
            }
            (Some(lo), Some(hi), _, _) => {
                let d_in = lo.w_ih.val().dims()[0];
                let low = CellW {
                    w_ih: vec2(&lo.w_ih, d_in, 4 * hl, "low.w_ih")?,
                    w_hh: vec2(&lo.w_hh, hl, 4 * hl, "low.w_hh")?,
                    b_ih: vec1(&lo.bias)?,
                    b_hh: Vec::new(),
                    d_in,
                    h: hl,
                };
                let high = CellW {
                    w_ih: vec2(&hi.w_ih, hl, 4 * hh, "high.w_ih")?,
                    w_hh: vec2(&hi.w_hh, hh, 4 * hh, "high.w_hh")?,
                    b_ih: vec1(&hi.bias)?,
                    b_hh: Vec::new(),
                    d_in: hl,
                    h: hh,
                };
                check_len(&low.b_ih, 4 * hl, "low.bias")?;
                check_len(&high.b_ih, 4 * hh, "high.bias")?;
                (Kind::Lstm, low, high)
            }
            _ => return data_err("HRM without a cell pair (neither low/high nor low_gru/high_gru)"),
        };
        let g = if kind == Kind::Gru { 3 } else { 4 };
        let feedback = vec2(&model.feedback, hh, g * hl, "feedback")?;
        let gamma = vec1(&model.norm.gamma)?;
        let beta = match &model.norm.beta {
            Some(b) => vec1(b)?,
            None => vec![0.0; hl + hh],
        };
        check_len(&gamma, hl + hh, "norm.gamma")?;
        check_len(&beta, hl + hh, "norm.beta")?;
        let k = model.head.weight.val().dims()[1];
        let head_w = vec2(&model.head.weight, hl + hh, k, "head.weight")?;
        let head_b = match &model.head.bias {
            Some(b) => vec1(b)?,
            None => vec![0.0; k],
        };
        check_len(&head_b, k, "head.bias")?;
        Ok(Self {
            kind,
            n_features: low.d_in,
            low,
            high,
            feedback,
            gamma,
            beta,
            head_w,
            head_b,
            period: model.high_period.max(1),
            n_classes: k,
        })
    }

    /// Input features per step.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Output classes.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// The last step's `[h_low, h_high]` for one window `x` (`[seq, F]` row-major, any `seq ≥
    /// 1`), left in the scratch's `z`; `x.len()` must be a multiple of `F`.
    fn run(&self, x: &[f32], s: &mut HrmScratch) -> Result<()> {
        let f = self.n_features;
        if x.is_empty() || !x.len().is_multiple_of(f) {
            return data_err(format!("HRM window of {} values: not a positive multiple of {f} features", x.len()));
        }
        let seq = x.len() / f;
        let (hl, hh) = (self.low.h, self.high.h);
        let g = if self.kind == Kind::Gru { 3 } else { 4 };
        let (gl, gh) = (g * hl, g * hh);
        s.xg.resize(seq * gl, 0.0);
        s.gi.resize(gl.max(gh), 0.0);
        s.hg.resize(gl.max(gh), 0.0);
        s.fb.clear();
        s.fb.resize(gl, 0.0);
        for v in [&mut s.h_low, &mut s.c_low] {
            v.clear();
            v.resize(hl, 0.0);
        }
        for v in [&mut s.h_high, &mut s.c_high] {
            v.clear();
            v.resize(hh, 0.0);
        }
        // Input projection of every step, bias added after the product (as the fused kernels).
        for (xg, xs) in s.xg.chunks_exact_mut(gl).zip(x.chunks_exact(f)) {
            matvec(xg, xs, &self.low.w_ih);
            add(xg, &self.low.b_ih);
        }
        let p = self.period;
        for step in 0..seq {
            let xg = &s.xg[step * gl..(step + 1) * gl];
            match self.kind {
                Kind::Gru => {
                    let gi = &mut s.gi[..gl];
                    gi.copy_from_slice(xg);
                    add(gi, &s.fb);
                    let hg = &mut s.hg[..gl];
                    matvec(hg, &s.h_low, &self.low.w_hh);
                    add(hg, &self.low.b_hh);
                    gru_step(gi, hg, &mut s.h_low);
                }
                Kind::Lstm => {
                    let gate = &mut s.gi[..gl];
                    matvec(gate, &s.h_low, &self.low.w_hh);
                    for ((z, &a), &c) in gate.iter_mut().zip(xg).zip(&s.fb) {
                        *z += a + c;
                    }
                    lstm_step(gate, &mut s.h_low, &mut s.c_low);
                }
            }
            if (step + 1) % p == 0 {
                match self.kind {
                    Kind::Gru => {
                        let gi = &mut s.gi[..gh];
                        matvec(gi, &s.h_low, &self.high.w_ih);
                        add(gi, &self.high.b_ih);
                        let hg = &mut s.hg[..gh];
                        matvec(hg, &s.h_high, &self.high.w_hh);
                        add(hg, &self.high.b_hh);
                        gru_step(gi, hg, &mut s.h_high);
                    }
                    Kind::Lstm => {
                        let gate = &mut s.gi[..gh];
                        matvec(gate, &s.h_low, &self.high.w_ih);
                        let rec = &mut s.hg[..gh];
                        matvec(rec, &s.h_high, &self.high.w_hh);
                        add(gate, rec);
                        add(gate, &self.high.b_ih);
                        lstm_step(gate, &mut s.h_high, &mut s.c_high);
                    }
                }
                matvec(&mut s.fb, &s.h_high, &self.feedback);
            }
        }
        s.z.clear();
        s.z.extend_from_slice(&s.h_low);
        s.z.extend_from_slice(&s.h_high);
        Ok(())
    }

    /// The last step's `(h_low, h_high)` of one window (`[seq, F]` row-major), as
    /// [`Hrm::states`] gives them on a batch of one.
    pub fn states(&self, x: &[f32], scratch: &mut HrmScratch) -> Result<(Vec<f32>, Vec<f32>)> {
        self.run(x, scratch)?;
        Ok((scratch.h_low.clone(), scratch.h_high.clone()))
    }

    /// The class logits of one window `x` (`[seq, F]` row-major) into `out` (`n_classes` long),
    /// as [`Hrm::forward`] without dropout gives them.
    pub fn logits(&self, x: &[f32], scratch: &mut HrmScratch, out: &mut [f32]) -> Result<()> {
        if out.len() != self.n_classes {
            return data_err(format!("an output of {} values for {} classes", out.len(), self.n_classes));
        }
        self.run(x, scratch)?;
        let z = &mut scratch.z;
        let n = z.len() as f32;
        let mean = z.iter().sum::<f32>() / n;
        let var = z.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
        let inv = 1.0 / (var + LN_EPS).sqrt();
        for ((v, &g), &b) in z.iter_mut().zip(&self.gamma).zip(&self.beta) {
            *v = (*v - mean) * inv * g + b;
        }
        matvec(out, z, &self.head_w);
        add(out, &self.head_b);
        Ok(())
    }

    /// The class probabilities (softmax of [`HrmInfer::logits`]) of one window into `out`.
    pub fn probs(&self, x: &[f32], scratch: &mut HrmScratch, out: &mut [f32]) -> Result<()> {
        self.logits(x, scratch, out)?;
        softmax(out);
        Ok(())
    }

    /// [`HrmInfer::probs`] of the window the caller left in [`HrmScratch::window`].
    pub fn probs_of_window(&self, scratch: &mut HrmScratch, out: &mut [f32]) -> Result<()> {
        let w = std::mem::take(&mut scratch.window);
        let r = self.probs(&w, scratch, out);
        scratch.window = w;
        r
    }

    /// Class probabilities of `n` windows, `[n, n_classes]` row-major, in parallel on the rayon
    /// pool (each window on its own, so the result does not depend on the thread count and
    /// equals [`HrmInfer::probs`] bit for bit). `fill(i, buf)` writes window `i` into `buf`
    /// (resized to `seq·F` by the caller's choice: `fill` may resize it).
    pub fn probs_many<F>(&self, n: usize, fill: F) -> Result<Vec<f32>>
    where
        F: Fn(usize, &mut Vec<f32>) -> Result<()> + Sync,
    {
        let k = self.n_classes;
        let mut out = vec![0.0f32; n * k];
        const CHUNK: usize = 64;
        out.par_chunks_mut(CHUNK * k).enumerate().try_for_each(|(c, part)| -> Result<()> {
            let mut s = HrmScratch::new();
            let mut w = Vec::new();
            for (j, o) in part.chunks_exact_mut(k).enumerate() {
                fill(c * CHUNK + j, &mut w)?;
                self.probs(&w, &mut s, o)?;
            }
            Ok(())
        })?;
        Ok(out)
    }
}

/// Softmax in place: `exp(x − max) / Σ`.
fn softmax(v: &mut [f32]) {
    let m = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for x in v.iter_mut() {
        *x = (*x - m).exp();
        sum += *x;
    }
    for x in v.iter_mut() {
        *x /= sum;
    }
}
