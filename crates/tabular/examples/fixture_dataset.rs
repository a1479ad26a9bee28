//! Writes the seed 001 dataset built from the bundled real 4h candles (BTCUSDT, ETHUSDT 2023):
//! `v1` features, the `symbol`, and fixed-horizon labels (H = 6, θ = 1 %), split by time — the
//! first 70 % of each symbol's bars to train, the rest (after a 6-bar gap) to test. Rows whose
//! features are still warming up or whose label is missing are left out.
//!
//! `cargo run --release -p vane-tabular --example fixture_dataset [OUT_DIR]`
//! (default `target/bench-data`), then `benches/gbdt_compare.py` and `vane tabular` use it.

use std::fmt::Write as _;

use vane_core::Interval;
use vane_indicators::FeatureSet;
use vane_labeling::fixed::FixedHorizon;
use vane_testkit::fixture_bars;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/bench-data").to_string());
    std::fs::create_dir_all(&out)?;
    let mut header = String::from("open_time_ms");
    let mut train: Vec<(i64, String)> = Vec::new();
    let mut test: Vec<(i64, String)> = Vec::new();
    for (file, sym) in [("BTCUSDT_4h.csv", "BTCUSDT"), ("ETHUSDT_4h.csv", "ETHUSDT")] {
        let bars = fixture_bars(file, Interval::H4);
        let frame = FeatureSet::V1.compute(&bars);
        let labels = FixedHorizon::new(6, 0.01)?.label(bars.close());
        if header == "open_time_ms" {
            for n in frame.names() {
                header.push(',');
                header.push_str(n);
            }
            header.push_str(",symbol,label\n");
        }
        let n = bars.len();
        let cut = n * 7 / 10;
        for i in 0..n {
            let row = frame.row(i);
            let Some(l) = labels.values[i] else { continue };
            if row.iter().any(|v| !v.is_finite()) || (i >= cut && i < cut + 6) {
                continue;
            }
            let t = bars.open_time()[i];
            let mut line = t.to_string();
            for v in row {
                write!(line, ",{v}")?;
            }
            writeln!(line, ",{sym},{}", l.signal)?;
            if i < cut { train.push((t, line)) } else { test.push((t, line)) }
        }
    }
    // Time order across symbols, so the tail of the training file is its latest period.
    train.sort();
    test.sort();
    let join = |rows: &[(i64, String)]| rows.iter().map(|r| r.1.as_str()).collect::<String>();
    std::fs::write(format!("{out}/gbdt_train.csv"), format!("{header}{}", join(&train)))?;
    std::fs::write(format!("{out}/gbdt_test.csv"), format!("{header}{}", join(&test)))?;
    println!("{out}/gbdt_train.csv: {} rows; {out}/gbdt_test.csv: {} rows", train.len(), test.len());
    Ok(())
}
