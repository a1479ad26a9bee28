//! `vane train-test` on the fixture store: the seed's files (model, metrics JSON, loss curve) named
//! by model and time, the test split's metrics equal to a recomputation from the recorded returns,
//! the run record, and errors that name the flag.

mod common;

use std::path::Path;

use common::{fails, fixture, ok, vane};
use serde_json::Value;

fn store(dir: &Path) {
    let csv = fixture("BTCUSDT_4h.csv");
    ok(&vane(&["import", "--csv", csv.to_str().unwrap(), "--symbol", "BTCUSDT", "--interval", "4h"], dir));
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

const BASE: [&str; 9] =
    ["train-test", "--symbol", "BTCUSDT", "--interval", "4h", "--data-days", "60", "--save-path", "out"];

fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = BASE.to_vec();
    a.extend_from_slice(extra);
    a
}

#[test]
fn a_burn_lorentzian_writes_model_metrics_and_loss_curve_and_a_run() {
    let dir = tempfile::tempdir().unwrap();
    store(dir.path());
    let out = ok(&vane(&args(&["--model", "lorentzian", "--epochs", "3", "--json"]), dir.path()));
    let r: Value = serde_json::from_str(&out).unwrap();
    let files = names(&dir.path().join("out"));
    // lorentzian_classifier_YYYYMMDD_HHMMSS (a model folder), metrics_…json, loss_curve_….png/svg.
    let model = files.iter().find(|n| n.starts_with("lorentzian_classifier_")).expect("model");
    assert_eq!(model.len(), "lorentzian_classifier_20260101_000000".len(), "{model}");
    let stamp = &model["lorentzian_classifier_".len()..];
    for f in [format!("metrics_{stamp}.json"), format!("loss_curve_{stamp}.png"), format!("loss_curve_{stamp}.svg")] {
        assert!(files.contains(&f), "{f} missing: {files:?}");
    }
    assert!(dir.path().join("out").join(model).is_dir(), "a burn model is a folder");
    // The history has one train and one validation loss per epoch run; the split is chronological.
    let h = &r["history"];
    let n = h["train"].as_array().unwrap().len();
    assert!((1..=3).contains(&n), "{h}");
    assert_eq!(h["valid"].as_array().unwrap().len(), n);
    let (f, v, t, l) = (
        r["first_ms"].as_i64().unwrap(),
        r["valid_start_ms"].as_i64().unwrap(),
        r["test_start_ms"].as_i64().unwrap(),
        r["last_ms"].as_i64().unwrap(),
    );
    assert!(f < v && v < t && t <= l, "{f} {v} {t} {l}");
    // 60 days of 4h bars, 20 % test.
    let bars = r["test_bars"].as_u64().unwrap();
    assert!((70..=74).contains(&bars), "{bars}");
    // The metrics file is the report.
    let m: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out").join(format!("metrics_{stamp}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(m["trading"], r["trading"]);
    assert!(m["classification"]["accuracy"].is_number());

    // The run record: returns.csv of the test split, whose metrics recompute to the report's.
    let runs = vane_artifact::runs::RunsDir::new(dir.path().join("runs"));
    let list = runs.list().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].verb, "train-test");
    let rets = runs.returns(&list[0].id).unwrap();
    assert_eq!(rets.len() as u64, bars);
    assert_eq!(rets[0].open_time_ms, t);
    let x: Vec<f64> = rets.iter().map(|r| r.ret).collect();
    let re = vane_backtest::metrics::compute(&x, vane_core::Interval::H4.periods_per_year(), None, &[]);
    for (key, ours) in [("total_return", re.total_return), ("sharpe", re.sharpe), ("max_drawdown", re.max_drawdown)] {
        let theirs = r["trading"][key].as_f64().unwrap();
        assert_eq!(ours.to_bits(), theirs.to_bits(), "{key}: {ours} vs {theirs}");
    }
    assert_eq!(runs.history(&list[0].id).unwrap().len(), n);
}

#[test]
fn knn_and_gbdt_runs_in_the_same_second_do_not_overwrite_each_other() {
    let dir = tempfile::tempdir().unwrap();
    store(dir.path());
    for _ in 0..2 {
        ok(&vane(&args(&["--model", "lorentzian-knn", "--no-run-record"]), dir.path()));
    }
    ok(&vane(&args(&["--model", "gbdt", "--depth", "3", "--no-run-record"]), dir.path()));
    let files = names(&dir.path().join("out"));
    assert_eq!(files.iter().filter(|n| n.starts_with("lorentzian_knn_classifier_")).count(), 2, "{files:?}");
    assert_eq!(files.iter().filter(|n| n.starts_with("metrics_")).count(), 3, "{files:?}");
    // The kNN has no loss curve, the GBDT has its validation curve.
    assert_eq!(files.iter().filter(|n| n.starts_with("loss_curve_") && n.ends_with(".png")).count(), 1, "{files:?}");
    let gbdt = files.iter().find(|n| n.starts_with("gbdt_classifier_")).expect("gbdt model");
    assert!(gbdt.ends_with(".json"));
    assert!(!dir.path().join("runs").exists(), "--no-run-record writes no run");
}

#[test]
fn errors_name_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    store(dir.path());
    fails(&vane(&args(&["--model", "lorentzian", "--test-size", "1.5"]), dir.path()), 2, &["--test-size"]);
    fails(&vane(&args(&["--model", "perceptron"]), dir.path()), 2, &["--model perceptron"]);
    fails(
        &vane(&["train-test", "--model", "gbdt", "--symbol", "ETHUSDT", "--interval", "4h"], dir.path()),
        2,
        &["ETHUSDT"],
    );
}
