//! The seed 001 dataset built from the bundled real 4h candles (BTCUSDT, ETHUSDT 2023): `v1`
//! features, the `symbol`, and fixed-horizon labels (H = 6, θ = 1 %), split by time — the first
//! 70 % of each symbol's bars to train, the rest (after a 6-bar gap) to test. Rows whose features
//! are still warming up or whose label is missing are left out. Shared by
//! `examples/fixture_dataset.rs` (which writes it for `benches/gbdt_compare.py` and `vane
//! tabular`) and the log-loss guard test.

use std::fmt::Write as _;

use vane_core::Interval;
use vane_indicators::FeatureSet;
use vane_labeling::fixed::FixedHorizon;
use vane_testkit::fixture_bars;

/// The training and test tables as CSV text (`open_time_ms`, the features, `symbol`, `label`),
/// each in time order across symbols, so the tail of the training table is its latest period.
pub fn fixture_dataset() -> Result<(String, String), Box<dyn std::error::Error>> {
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
    train.sort();
    test.sort();
    let join = |rows: &[(i64, String)]| rows.iter().map(|r| r.1.as_str()).collect::<String>();
    Ok((format!("{header}{}", join(&train)), format!("{header}{}", join(&test))))
}
