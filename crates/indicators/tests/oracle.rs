//! Every `talib` column against the TA-Lib oracle (`fixtures/oracle/indicators_BTCUSDT_4h.csv`,
//! computed by TA-Lib 0.8.x and pandas on `fixtures/BTCUSDT_4h.csv`): NaN exactly where the
//! oracle is empty, and within rtol 1e-9 everywhere else.

use vane_core::Interval;
use vane_indicators::{FeatureFrame, FeatureSet};
use vane_testkit::{fixture_bars, fixtures_dir};

struct Oracle {
    names: Vec<String>,
    open_time: Vec<i64>,
    columns: Vec<Vec<f64>>,
}

fn oracle() -> Oracle {
    let path = fixtures_dir().join("oracle/indicators_BTCUSDT_4h.csv");
    let mut rdr = csv::Reader::from_path(&path).unwrap();
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let names = headers[1..].to_vec();
    let mut columns = vec![Vec::new(); names.len()];
    let mut open_time = Vec::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        open_time.push(rec[0].parse::<i64>().unwrap());
        for (k, col) in columns.iter_mut().enumerate() {
            let f = &rec[k + 1];
            col.push(if f.is_empty() { f64::NAN } else { f.parse::<f64>().unwrap() });
        }
    }
    Oracle { names, open_time, columns }
}

fn ours() -> FeatureFrame {
    FeatureSet::Talib.compute(&fixture_bars("BTCUSDT_4h.csv", Interval::H4))
}

#[test]
fn talib_set_has_exactly_the_oracle_columns() {
    let o = oracle();
    let f = ours();
    assert_eq!(f.names(), &o.names[..]);
    assert_eq!(f.open_time(), &o.open_time[..]);
}

#[test]
fn every_column_matches_the_oracle() {
    let o = oracle();
    let f = ours();
    let mut failures = Vec::new();
    for (name, want) in o.names.iter().zip(&o.columns) {
        let got = f.column(name).unwrap();
        let scale = want.iter().filter(|v| v.is_finite()).fold(0.0f64, |m, v| m.max(v.abs()));
        let atol = 1e-9 * scale.max(1e-300);
        let mut worst = (0.0f64, 0usize);
        let mut first_bad = None;
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            if w.is_nan() {
                if !g.is_nan() && first_bad.is_none() {
                    first_bad = Some(format!("row {i}: expected NaN (warm-up), got {g}"));
                }
                continue;
            }
            if !g.is_finite() {
                first_bad.get_or_insert_with(|| format!("row {i}: expected {w}, got {g}"));
                continue;
            }
            let err = (g - w).abs();
            if err > atol + 1e-9 * w.abs() && first_bad.is_none() {
                first_bad = Some(format!("row {i}: expected {w}, got {g} (|diff| {err:.3e})"));
            }
            let rel = err / w.abs().max(scale * 1e-6).max(1e-300);
            if rel > worst.0 {
                worst = (rel, i);
            }
        }
        if let Some(msg) = first_bad {
            failures.push(format!("{name}: {msg}; worst relative error {:.2e} at row {}", worst.0, worst.1));
        }
    }
    assert!(failures.is_empty(), "{} column(s) differ from TA-Lib:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn first_valid_index_matches_the_oracle_for_every_column() {
    let o = oracle();
    let f = ours();
    for (name, want) in o.names.iter().zip(&o.columns) {
        let got = f.column(name).unwrap();
        let first = |v: &[f64]| v.iter().position(|x| !x.is_nan());
        assert_eq!(first(got), first(want), "{name}");
    }
}
