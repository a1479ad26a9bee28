//! Computes the `talib` feature set over 1,000,000 SYNTHETIC bars (a seeded random walk) and
//! prints the time — a target for profilers (`perf record`), next to the criterion bench.
//!
//! `cargo run --release -p vane-indicators --example talib_set_1m [set]`

use std::time::Instant;

use vane_core::{Bar, Bars, Timestamp};
use vane_indicators::FeatureSet;

fn main() {
    let set: FeatureSet = std::env::args().nth(1).as_deref().unwrap_or("talib").parse().expect("a feature set name");
    let mut price = 20_000.0f64;
    let mut state = 0x2545F4914F6CDD1Du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let rows: Vec<Bar> = (0..1_000_000)
        .map(|i| {
            let open = price;
            price *= 1.0 + (next() - 0.5) * 0.004;
            let high = open.max(price) * (1.0 + next() * 0.001);
            let low = open.min(price) * (1.0 - next() * 0.001);
            Bar::ohlcv(Timestamp(i * 60_000), open, high, low, price, 1.0 + next() * 500.0)
        })
        .collect();
    let bars = Bars::from_bars(&rows).expect("valid synthetic bars");
    for _ in 0..3 {
        let t = Instant::now();
        let f = set.compute(&bars);
        println!(
            "{set}: {} rows × {} columns in {:.1} ms (fresh frame)",
            f.len(),
            f.names().len(),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    let mut frame = set.compute(&bars);
    for _ in 0..3 {
        let t = Instant::now();
        set.compute_into(&bars, &mut frame);
        println!("{set}: {:.1} ms (reused frame)", t.elapsed().as_secs_f64() * 1e3);
    }
}
