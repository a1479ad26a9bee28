//! The split search of large training sets: rows kept partitioned by leaf, with their gradient
//! rows moved along (so every leaf's rows and `(g, h)` rows are contiguous), and per-leaf
//! histograms built by feature groups over blocks of those rows.
//!
//! Every sum runs over a leaf's rows in row order (each partition is stable, starting from the
//! identity), so the histograms, totals and leaf values are the same numbers the per-row search
//! gives, whatever the thread count.

use rayon::prelude::*;

use super::{SplitContext, add_row};

/// Rows per block of the histogram build: the block's `(g, h)` rows stay in cache while every
/// feature of a group adds them.
const BLOCK: usize = 2048;

/// The training rows partitioned by leaf.
pub(super) struct Rows {
    w2: usize,
    /// Row indices, leaf by leaf (each leaf's in row order); `idx_next` is the next level's.
    idx: Vec<u32>,
    idx_next: Vec<u32>,
    /// The `(g, h)` rows in `idx` order (`2·width` values each); `gh_next` is the next level's.
    gh: Vec<f64>,
    gh_next: Vec<f64>,
    /// Leaf `l`'s positions are `starts[l]..starts[l + 1]`.
    starts: Vec<usize>,
    /// Per leaf: its `(G, H)` per output, summed in row order.
    tot: Vec<f64>,
}

impl Rows {
    pub(super) fn new(n: usize, w: usize) -> Self {
        Rows {
            w2: 2 * w,
            idx: (0..n as u32).collect(),
            idx_next: vec![0; n],
            gh: vec![0.0; n * 2 * w],
            gh_next: vec![0.0; n * 2 * w],
            starts: vec![0, n],
            tot: vec![0.0; 2 * w],
        }
    }

    /// One leaf of all rows in row order; returns the `(g, h)` rows for the caller to fill (row
    /// `i` at `i·2·width`).
    pub(super) fn reset(&mut self) -> &mut [f64] {
        let n = self.idx.len();
        self.idx.iter_mut().enumerate().for_each(|(i, v)| *v = i as u32);
        self.starts.clear();
        self.starts.extend([0, n]);
        &mut self.gh
    }

    /// Sums the root's `(G, H)` per output (in row order), once the `(g, h)` rows are filled.
    pub(super) fn sum_root(&mut self) {
        self.tot.clear();
        self.tot.resize(self.w2, 0.0);
        for row in self.gh.chunks_exact(self.w2) {
            add_row(&mut self.tot, row);
        }
    }

    /// Per leaf: its `(G, H)` per output, summed in row order.
    pub(super) fn totals(&self) -> &[f64] {
        &self.tot
    }

    /// Splits each of the `nl` leaves by `bins[row] > t` (stable): leaf `l`'s rows with bin ≤ t
    /// become leaf `2l`, the others `2l + 1`. Leaves in parallel.
    pub(super) fn split(&mut self, nl: usize, bins: &[u8], t: usize) {
        let w2 = self.w2;
        let mut parts = Vec::with_capacity(nl);
        let (mut di, mut dg) = (&mut self.idx_next[..], &mut self.gh_next[..]);
        for l in 0..nl {
            let (s, e) = (self.starts[l], self.starts[l + 1]);
            let (a, rest_i) = di.split_at_mut(e - s);
            let (b, rest_g) = dg.split_at_mut((e - s) * w2);
            (di, dg) = (rest_i, rest_g);
            parts.push((&self.idx[s..e], &self.gh[s * w2..e * w2], a, b));
        }
        // Each leaf's rows moved to its children, whose totals are summed on the way (in row
        // order, as a pass over each child's rows would).
        let one = |(si, sg, di, dg): (&[u32], &[f64], &mut [u32], &mut [f64])| -> (usize, Vec<f64>) {
            let left = si.iter().filter(|&&i| bins[i as usize] as usize <= t).count();
            let mut tot = vec![0.0; 2 * w2];
            // Branch-free (which side a row goes is unpredictable): the position and the total
            // are picked by index.
            let mut next = [0, left];
            for (&i, row) in si.iter().zip(sg.chunks_exact(w2)) {
                let side = usize::from(bins[i as usize] as usize > t);
                add_row(&mut tot[side * w2..(side + 1) * w2], row);
                let pos = next[side];
                next[side] += 1;
                di[pos] = i;
                copy_row(&mut dg[pos * w2..(pos + 1) * w2], row);
            }
            (left, tot)
        };
        let lefts: Vec<(usize, Vec<f64>)> = if nl > 1 && rayon::current_num_threads() > 1 {
            parts.into_par_iter().map(one).collect()
        } else {
            parts.into_iter().map(one).collect()
        };
        self.tot.clear();
        let mut starts = Vec::with_capacity(2 * nl + 1);
        for (l, (left, tot)) in lefts.into_iter().enumerate() {
            starts.extend([self.starts[l], self.starts[l] + left]);
            self.tot.extend(tot);
        }
        starts.push(self.idx.len());
        self.starts = starts;
        std::mem::swap(&mut self.idx, &mut self.idx_next);
        std::mem::swap(&mut self.gh, &mut self.gh_next);
    }

    /// `raw[row] += values[leaf]` for every row (`values`: `width` per leaf of the last level).
    pub(super) fn add_leaf_values(&self, raw: &mut [f64], values: &[f64]) {
        let w = self.w2 / 2;
        for l in 0..self.starts.len() - 1 {
            let v = &values[l * w..(l + 1) * w];
            for &i in &self.idx[self.starts[l]..self.starts[l + 1]] {
                let r = &mut raw[i as usize * w..(i as usize + 1) * w];
                for (a, b) in r.iter_mut().zip(v) {
                    *a += b;
                }
            }
        }
    }
}

/// One feature's per-leaf histograms (the last level searched) and per-border gains.
pub(super) struct FeatureHist {
    hist: Vec<f64>,
    gain: Vec<f64>,
}

impl FeatureHist {
    pub(super) fn new(nb: usize, max_leaves: usize, w: usize) -> Self {
        FeatureHist { hist: vec![0.0; max_leaves * nb * w * 2], gain: vec![0.0; nb] }
    }
}

/// `dst = src` for one `(g, h)` row (fixed widths for 1 and 3 outputs, so no call to `memcpy`).
#[inline(always)]
fn copy_row(dst: &mut [f64], src: &[f64]) {
    fn fixed<const N: usize>(dst: &mut [f64], src: &[f64]) {
        let (d, s): (&mut [f64; N], &[f64; N]) = (dst.try_into().unwrap(), src.try_into().unwrap());
        *d = *s;
    }
    match src.len() {
        2 => fixed::<2>(dst, src),
        6 => fixed::<6>(dst, src),
        _ => dst.copy_from_slice(src),
    }
}

/// `hist[bins[row]] += (g, h) row` over one block of positions.
#[inline(never)]
fn accumulate(hist: &mut [f64], w2: usize, bins: &[u8], idx: &[u32], gh: &[f64]) {
    for (&i, row) in idx.iter().zip(gh.chunks_exact(w2)) {
        let b = bins[i as usize] as usize * w2;
        add_row(&mut hist[b..b + w2], row);
    }
}

/// The best border of every feature at `level` (`None` for one that cannot split): at level 0
/// the root's histograms; below, histogram subtraction — the previous level's histograms stay in
/// `hists`, the smaller child of each parent is built from its rows and the other is parent −
/// smaller. Features in groups, in parallel; each group walks the rows once, block by block.
pub(super) fn search_level(
    ctx: &SplitContext,
    rows: &Rows,
    bins: &[Vec<u8>],
    nbs: &[usize],
    splittable: &[bool],
    hists: &mut [FeatureHist],
    level: usize,
) -> Vec<Option<(f64, usize)>> {
    let nl = ctx.nl;
    let w2 = rows.w2;
    let nf = hists.len();
    // Per parent of the previous level: the child whose histogram is built from its rows (the one
    // with fewer rows, ties to the right) and the one that is parent − built.
    let size = |l: usize| rows.starts[l + 1] - rows.starts[l];
    let pairs: Vec<(usize, usize)> = (0..nl / 2)
        .map(|p| if size(2 * p) < size(2 * p + 1) { (2 * p, 2 * p + 1) } else { (2 * p + 1, 2 * p) })
        .collect();
    let build: Vec<usize> = if level == 0 { vec![0] } else { pairs.iter().map(|pair| pair.0).collect() };
    let group = |(f0, chunk): (usize, &mut [FeatureHist])| -> Vec<Option<(f64, usize)>> {
        for (j, fh) in chunk.iter_mut().enumerate() {
            if !splittable[f0 + j] {
                continue;
            }
            let cells = nbs[f0 + j] * w2;
            let hist = &mut fh.hist[..nl * cells];
            if level == 0 {
                hist.fill(0.0);
            } else {
                // In place, parents taken from the highest down: leaf p's histogram moves to the
                // child that is not built (slots 2p, 2p + 1 ≥ p hold no parent still to move).
                for (p, &(built, other)) in pairs.iter().enumerate().rev() {
                    hist.copy_within(p * cells..(p + 1) * cells, other * cells);
                    hist[built * cells..(built + 1) * cells].fill(0.0);
                }
            }
        }
        for &l in &build {
            let (s, e) = (rows.starts[l], rows.starts[l + 1]);
            let mut b0 = s;
            while b0 < e {
                let b1 = (b0 + BLOCK).min(e);
                let (idx, gh) = (&rows.idx[b0..b1], &rows.gh[b0 * w2..b1 * w2]);
                for (j, fh) in chunk.iter_mut().enumerate() {
                    let f = f0 + j;
                    if splittable[f] {
                        let cells = nbs[f] * w2;
                        accumulate(&mut fh.hist[l * cells..(l + 1) * cells], w2, &bins[f], idx, gh);
                    }
                }
                b0 = b1;
            }
        }
        chunk
            .iter_mut()
            .enumerate()
            .map(|(j, fh)| {
                let f = f0 + j;
                if !splittable[f] {
                    return None;
                }
                let cells = nbs[f] * w2;
                let hist = &mut fh.hist[..nl * cells];
                for &(built, other) in &pairs {
                    let (lo, hi) = (built.min(other), built.max(other));
                    let (a, b) = hist[lo * cells..(hi + 1) * cells].split_at_mut(cells);
                    let (built_h, other_h) = if built == lo { (&*a, b) } else { (&*b, a) };
                    for (o, x) in other_h.iter_mut().zip(built_h) {
                        *o -= x;
                    }
                }
                ctx.best_border_histogram(hist, nbs[f], &mut fh.gain)
            })
            .collect()
    };
    // Features in groups of near-equal size (a few per thread, for balance), in parallel.
    let threads = rayon::current_num_threads();
    let groups = if threads > 1 { (threads * 2).min(nf).max(1) } else { 1 };
    let mut chunks: Vec<(usize, &mut [FeatureHist])> = Vec::with_capacity(groups);
    let mut rest = hists;
    for g in 0..groups {
        let (from, to) = (g * nf / groups, (g + 1) * nf / groups);
        let (chunk, tail) = rest.split_at_mut(to - from);
        chunks.push((from, chunk));
        rest = tail;
    }
    let per_group: Vec<Vec<Option<(f64, usize)>>> =
        if groups > 1 { chunks.into_par_iter().map(group).collect() } else { chunks.into_iter().map(group).collect() };
    per_group.into_iter().flatten().collect()
}
