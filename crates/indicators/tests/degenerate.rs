//! Degenerate windows (flat price, zero volume) in the `v1` and `full` sets.

use vane_core::{Bars, Interval};
use vane_indicators::{FeatureFrame, FeatureSet};
use vane_testkit::fixture_bars;

/// FNV-1a over the bits of every value of a column (every NaN hashed as one canonical NaN).
fn column_hash(col: &[f64]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in col {
        let bits = if v.is_nan() { f64::NAN.to_bits() } else { v.to_bits() };
        for b in bits.to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

fn grid_1s() -> Bars {
    let bars = fixture_bars("coinbase/BTCUSD_1s.csv", Interval::S1);
    vane_market_data::regularise(&bars, Interval::S1).unwrap().bars
}

/// First row from which every column of `f` has been finite once (the end of warm-up).
fn warm_up_end(f: &FeatureFrame) -> usize {
    f.columns().iter().map(|c| c.iter().position(|v| v.is_finite()).unwrap_or(c.len())).max().unwrap_or(0)
}

#[test]
fn print_measurements() {
    for set in [FeatureSet::V1, FeatureSet::Full] {
        for file in ["BTCUSDT_4h.csv", "ETHUSDT_4h.csv"] {
            let f = set.compute(&fixture_bars(file, Interval::H4));
            for (n, c) in f.names().iter().zip(f.columns()) {
                println!("HASH {set} {file} (\"{n}\", 0x{:016x}),", column_hash(c));
            }
        }
        let g = grid_1s();
        let f = set.compute(&g);
        let w = warm_up_end(&f);
        let rows = f.len() - w;
        let all = (w..f.len()).filter(|&i| f.columns().iter().all(|c| c[i].is_finite())).count();
        println!("GRID {set}: warm-up {w}, rows {rows}, all finite {all} ({:.2} %)", 100.0 * all as f64 / rows as f64);
        let ok: Vec<bool> = (0..f.len()).map(|i| f.columns().iter().all(|c| c[i].is_finite())).collect();
        for len in [30usize, 60, 300] {
            let mut run = 0;
            let mut usable = 0;
            for &o in &ok {
                run = if o { run + 1 } else { 0 };
                usable += usize::from(run >= len);
            }
            println!("GRID {set}: windows of {len}: {usable} usable of {}", f.len() + 1 - len);
        }
        for (n, c) in f.names().iter().zip(f.columns()) {
            let fin = c[w..].iter().filter(|v| v.is_finite());
            let (lo, hi) = fin.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
            println!("RANGE {set} {n}: [{lo}, {hi}]");
            let bad = c[w..].iter().filter(|v| !v.is_finite()).count();
            if bad > 0 {
                println!("GRID {set} {n}: {bad} non-finite after warm-up");
            }
        }
    }
}
