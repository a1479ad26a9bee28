//! The triple barrier's σ in O(n) (`rolling_sigmas`, what `TripleBarrier::sigmas` returns)
//! against the two-pass formula on every window of a long random walk with flat stretches
//! (σ exactly 0 there — the barrier treats σ = 0 as "vertical barrier only"), volatility regimes
//! 1000× apart, a trend, and a non-finite close.

use vane_labeling::barrier::{TripleBarrier, rolling_sigmas, two_pass_sigma};

/// xorshift in [0, 1).
fn rng(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// 60,000 closes: 1 s random walk with 30 % flat seconds, flat stretches of 5 … 800 bars,
/// quiet (1e-7) and wild (1e-2) regimes and a steady trend.
fn walk() -> Vec<f64> {
    let mut next = rng(0x5EED_0000_0000_0015);
    let mut px = 2000.0f64;
    let mut out = Vec::with_capacity(60_000);
    let mut i = 0usize;
    while out.len() < 60_000 {
        i += 1;
        let seg = 200 + (next() * 3000.0) as usize;
        let kind = i % 5;
        for _ in 0..seg {
            match kind {
                // Flat stretch (long enough to cover every window tested on some segments).
                0 => {}
                1 => px *= 1.0 + (next() - 0.5) * 2e-7,
                2 => px *= 1.0 + (next() - 0.5) * 2e-2,
                3 => px *= 1.0 + 3e-5 + (next() - 0.5) * 1e-6,
                _ => {
                    if next() >= 0.3 {
                        px *= 1.0 + (next() - 0.5) * 6e-4;
                    }
                }
            }
            out.push(px);
        }
    }
    out.truncate(60_000);
    out
}

/// Agreement with the two-pass formula within 1e-12 relative wherever the window's |mean
/// return| is at most its σ (every random-walk window: returns' means are far below their
/// spread). On a steady trend (|mean| ≫ σ) both formulas lose about log10(|mean|/σ) digits to
/// the rounding of the mean, so there the bound is 1e-12·|mean|/σ.
fn check(close: &[f64], w: usize) -> (usize, usize) {
    let got = rolling_sigmas(close, w);
    assert_eq!(got.len(), close.len());
    let (mut flat, mut worst, mut worst_trend) = (0usize, 0.0f64, 0.0f64);
    for t in 0..close.len() {
        if t < w {
            assert!(got[t].is_nan(), "w {w}: bar {t} has no full window, σ must be NaN");
            continue;
        }
        let want = two_pass_sigma(close, t, w);
        if want.is_nan() {
            assert!(got[t].is_nan(), "w {w}, bar {t}: two-pass NaN, rolling {}", got[t]);
            continue;
        }
        if want == 0.0 {
            assert_eq!(got[t], 0.0, "w {w}, bar {t}: a flat window must have σ exactly 0");
            flat += 1;
            continue;
        }
        assert!(got[t] > 0.0, "w {w}, bar {t}: σ {} for two-pass {want}", got[t]);
        let mean = ((close[t] / close[t - w]).ln() / w as f64).abs();
        let rel = (got[t] - want).abs() / want;
        let scale = (mean / want).max(1.0);
        if scale == 1.0 {
            worst = worst.max(rel);
        } else {
            worst_trend = worst_trend.max(rel / scale);
        }
        assert!(
            rel <= 1e-12 * scale,
            "w {w}, bar {t}: rolling {} vs two-pass {want} (rel {rel:e}, |mean|/σ {scale})",
            got[t]
        );
    }
    eprintln!(
        "w {w}: {flat} flat windows, worst relative difference {worst:e} (|mean| ≤ σ), {worst_trend:e}·|mean|/σ (trend)"
    );
    (flat, close.len() - w)
}

#[test]
fn rolling_sigma_equals_two_pass_with_flat_stretches() {
    let close = walk();
    for w in [2, 3, 15, 90, 120, 360] {
        let (flat, total) = check(&close, w);
        assert!(flat > 100 && flat < total, "w {w}: the series must have flat and non-flat windows ({flat})");
    }
}

#[test]
fn sigmas_of_the_labeller_are_the_rolling_ones() {
    let close = walk();
    let tb = TripleBarrier::new(10, 120, 1.2, 1.2).unwrap();
    let a = tb.sigmas(&close);
    let b = rolling_sigmas(&close, 120);
    assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
}

#[test]
fn a_non_finite_close_poisons_only_its_windows() {
    let mut close = walk()[..5_000].to_vec();
    close[2_000] = f64::NAN;
    close[3_000] = 0.0;
    for w in [2, 90] {
        let got = rolling_sigmas(&close, w);
        for t in [2_000, 2_001, 2_000 + w, 3_000, 3_000 + w] {
            assert!(got[t].is_nan(), "w {w}: bar {t} reads a non-finite return");
        }
        check(&close, w);
        assert!(got[2_001 + w].is_finite() && got[3_001 + w].is_finite());
    }
}

#[test]
fn short_series_and_tiny_windows() {
    assert!(rolling_sigmas(&[1.0, 2.0], 2).iter().all(|x| x.is_nan()));
    assert!(rolling_sigmas(&[1.0, 2.0, 3.0], 1).iter().all(|x| x.is_nan()));
    let s = rolling_sigmas(&[1.0, 1.0, 1.0, 2.0], 2);
    assert_eq!(s[2], 0.0);
    assert_eq!(s[3], two_pass_sigma(&[1.0, 1.0, 1.0, 2.0], 3, 2));
}
