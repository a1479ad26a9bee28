//! Batch-row chunks for the fused recurrent ops, run on every core.
//!
//! A recurrence is sequential in time but independent across batch rows, so the fused ops
//! ([`lstm_sequence`](crate::nn::fused_seq::lstm_sequence),
//! [`hrm_lstm`](crate::nn::fused_hrm::hrm_lstm), [`hrm_gru`](crate::nn::fused_hrm_gru::hrm_gru))
//! split the batch into chunks of [`chunk_rows`] rows and run each chunk's forward and backward
//! time loop as one rayon task (burn's `rayon` pool, the one its matmuls use). The weight
//! gradients are then whole-sequence matrix products over all chunks' rows in chunk order.
//!
//! **Determinism.** The chunk boundaries depend on the batch size and [`chunk_rows`] only, never
//! on the number of threads, and each chunk computes exactly the same floats whichever thread runs
//! it; so a seeded run gives bit-identical results with 1, 2 or 16 threads
//! (`RAYON_NUM_THREADS`). Changing the chunk size changes the float summation order of the weight
//! gradients (chunk-major rows), i.e. results move by f32 rounding only.
//!
//! Rows are kept *chunk-major, time-major*: the rows of chunk `[r0, r1)` come after those of the
//! chunks before it, step by step, so batch row `bi` at step `s` is row
//! `t·r0 + s·(r1 − r0) + (bi − r0)` of a `[t·b, ·]` matrix.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

/// Rows per chunk unless [`set_chunk_rows`] or `VANE_FUSED_CHUNK_ROWS` says otherwise. 64 rows:
/// the training batch of 64 runs as one chunk, larger batches (the stack's 256) in parallel
/// chunks. On a quiet machine with 2 threads (docs/benchmarks.md, "Quiet-machine and GPU
/// figures"), one 64-row chunk beat four 16-row chunks by 12 % (HRM) and 10 % (TFT) and lost 4 %
/// (CNN-LSTM): at batch 64 each step's products are too small to split.
pub const DEFAULT_CHUNK_ROWS: usize = 64;

/// 0: not set ([`DEFAULT_CHUNK_ROWS`] or the environment).
static CHUNK_ROWS: AtomicUsize = AtomicUsize::new(0);

/// Sets the rows per chunk for the whole process (`None`: back to `VANE_FUSED_CHUNK_ROWS`, else
/// [`DEFAULT_CHUNK_ROWS`]). A value of 0 counts as 1. For tests and benchmarks.
pub fn set_chunk_rows(rows: Option<usize>) {
    CHUNK_ROWS.store(rows.map_or(0, |r| r.max(1)), Ordering::SeqCst);
}

/// Rows per chunk now: [`set_chunk_rows`]'s value, else a positive integer in
/// `VANE_FUSED_CHUNK_ROWS`, else [`DEFAULT_CHUNK_ROWS`].
pub fn chunk_rows() -> usize {
    match CHUNK_ROWS.load(Ordering::SeqCst) {
        0 => std::env::var("VANE_FUSED_CHUNK_ROWS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&r| r > 0)
            .unwrap_or(DEFAULT_CHUNK_ROWS),
        n => n,
    }
}

/// The chunks `[r0, r1)` of a batch of `b` rows.
pub(crate) fn chunks(b: usize) -> Vec<(usize, usize)> {
    let n = chunk_rows();
    (0..b).step_by(n).map(|r0| (r0, (r0 + n).min(b))).collect()
}

/// `f(chunk index, r0, r1)` for every chunk, in parallel when there are several, results in
/// chunk order.
pub(crate) fn par_chunks<T: Send>(ranges: &[(usize, usize)], f: impl Fn(usize, usize, usize) -> T + Sync) -> Vec<T> {
    if ranges.len() <= 1 {
        return ranges.iter().enumerate().map(|(i, &(a, b))| f(i, a, b)).collect();
    }
    ranges.par_iter().enumerate().map(|(i, &(a, b))| f(i, a, b)).collect()
}

/// Splits `buf` (chunk-major rows, `per_row` floats per batch row: `t·w` for a `[t·b, w]`
/// matrix) into the chunks' contiguous blocks, so each task writes its own block of one buffer
/// allocated by the caller (no per-chunk buffers to concatenate afterwards).
pub(crate) fn split<'a>(buf: &'a mut [f32], ranges: &[(usize, usize)], per_row: usize) -> Vec<&'a mut [f32]> {
    let mut out = Vec::with_capacity(ranges.len());
    let mut rest = buf;
    for &(r0, r1) in ranges {
        let (a, b) = std::mem::take(&mut rest).split_at_mut((r1 - r0) * per_row);
        out.push(a);
        rest = b;
    }
    out
}

/// `f(chunk index, item)` for every chunk's item, in parallel when there are several.
pub(crate) fn par_each<T: Send>(items: Vec<T>, f: impl Fn(usize, T) + Sync) {
    if items.len() <= 1 {
        items.into_iter().enumerate().for_each(|(i, it)| f(i, it));
    } else {
        items.into_par_iter().enumerate().for_each(|(i, it)| f(i, it));
    }
}

/// Batch-first `[b, t, w]` → chunk-major time-major `[t·b, w]` rows (see the module docs).
pub(crate) fn to_chunk_major(v: &[f32], t: usize, w: usize, ranges: &[(usize, usize)]) -> Vec<f32> {
    let mut out = vec![0.0f32; v.len()];
    for &(r0, r1) in ranges {
        let bc = r1 - r0;
        for bi in r0..r1 {
            for s in 0..t {
                let dst = t * r0 + s * bc + (bi - r0);
                let src = bi * t + s;
                out[dst * w..(dst + 1) * w].copy_from_slice(&v[src * w..(src + 1) * w]);
            }
        }
    }
    out
}

/// The inverse of [`to_chunk_major`].
pub(crate) fn from_chunk_major(v: &[f32], t: usize, w: usize, ranges: &[(usize, usize)]) -> Vec<f32> {
    let mut out = vec![0.0f32; v.len()];
    for &(r0, r1) in ranges {
        let bc = r1 - r0;
        for bi in r0..r1 {
            for s in 0..t {
                let src = t * r0 + s * bc + (bi - r0);
                let dst = bi * t + s;
                out[dst * w..(dst + 1) * w].copy_from_slice(&v[src * w..(src + 1) * w]);
            }
        }
    }
    out
}

/// Concatenates `part(chunk)` over the chunks, in order.
pub(crate) fn concat<'a, T: 'a>(items: &'a [T], part: impl Fn(&'a T) -> &'a [f32]) -> Vec<f32> {
    let mut out = Vec::with_capacity(items.iter().map(|i| part(i).len()).sum());
    for i in items {
        out.extend_from_slice(part(i));
    }
    out
}

/// Sums per-block partial vectors of width `w` in block order: the same floats whatever thread
/// computed each block.
pub(crate) fn sum_partials(parts: Vec<Vec<f32>>, w: usize) -> Vec<f32> {
    let mut acc = vec![0.0f32; w];
    for p in parts {
        for (a, v) in acc.iter_mut().zip(&p) {
            *a += v;
        }
    }
    acc
}

/// Column sums of `x [rows, w]`: fixed blocks of `block_rows` rows summed in parallel, the
/// blocks' sums then added in order ([`sum_partials`]), so the result does not depend on the
/// number of threads.
pub(crate) fn col_sum_blocks(x: &[f32], w: usize, block_rows: usize) -> Vec<f32> {
    let parts: Vec<Vec<f32>> = x
        .par_chunks(block_rows * w)
        .map(|block| {
            let mut acc = vec![0.0f32; w];
            for row in block.chunks_exact(w) {
                for (a, v) in acc.iter_mut().zip(row) {
                    *a += v;
                }
            }
            acc
        })
        .collect();
    sum_partials(parts, w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_major_round_trips() {
        let (b, t, w) = (5, 3, 2);
        let v: Vec<f32> = (0..b * t * w).map(|i| i as f32).collect();
        let ranges = vec![(0, 2), (2, 4), (4, 5)];
        let cm = to_chunk_major(&v, t, w, &ranges);
        // Chunk 1 (rows 2..4), step 1, row 3 → 3·2 + 1·2 + 1 = 9.
        assert_eq!(&cm[9 * w..10 * w], &v[(3 * t + 1) * w..(3 * t + 2) * w]);
        assert_eq!(from_chunk_major(&cm, t, w, &ranges), v);
    }
}
