//! The SYNTHETIC bars both benches run on (a seeded random walk of 1m bars; load testing only).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use vane_core::{Bar, Bars, Timestamp};

/// `n` 1m bars from `start_ms`: a multiplicative random walk (±0.2 % a bar, seed 11) with
/// wicks up to 0.1 % and volumes in [1, 500).
pub fn synthetic(n: usize, start_ms: i64) -> Bars {
    let mut rng = StdRng::seed_from_u64(11);
    let mut price = 20_000.0f64;
    let rows: Vec<Bar> = (0..n)
        .map(|i| {
            let open = price;
            price *= 1.0 + rng.random_range(-0.002..0.002);
            let high = open.max(price) * (1.0 + rng.random_range(0.0..0.001));
            let low = open.min(price) * (1.0 - rng.random_range(0.0..0.001));
            Bar::ohlcv(Timestamp(start_ms + i as i64 * 60_000), open, high, low, price, rng.random_range(1.0..500.0))
        })
        .collect();
    Bars::from_bars(&rows).expect("valid synthetic bars")
}
