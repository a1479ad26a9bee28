//! Writes the seed 001 dataset built from the bundled real 4h candles (BTCUSDT, ETHUSDT 2023):
//! `v1` features, the `symbol`, and fixed-horizon labels (H = 6, θ = 1 %), split by time — the
//! first 70 % of each symbol's bars to train, the rest (after a 6-bar gap) to test. Rows whose
//! features are still warming up or whose label is missing are left out. (The builder is
//! `tests/support/fixture_dataset.rs`, which the log-loss guard test shares.)
//!
//! `cargo run --release -p vane-tabular --example fixture_dataset [OUT_DIR]`
//! (default `target/bench-data`), then `benches/gbdt_compare.py` and `vane tabular` use it.

#[path = "../tests/support/fixture_dataset.rs"]
mod support;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/bench-data").to_string());
    std::fs::create_dir_all(&out)?;
    let (train, test) = support::fixture_dataset()?;
    std::fs::write(format!("{out}/gbdt_train.csv"), &train)?;
    std::fs::write(format!("{out}/gbdt_test.csv"), &test)?;
    let rows = |t: &str| t.lines().count() - 1;
    println!("{out}/gbdt_train.csv: {} rows; {out}/gbdt_test.csv: {} rows", rows(&train), rows(&test));
    Ok(())
}
