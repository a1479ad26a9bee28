//! `vane wfo` on the fixture store: the files it writes and their columns, the summary table, the
//! JSON report, and errors that name the flag.

mod common;

use std::path::Path;

use common::{exit, fails, fixture, ok, vane};
use serde_json::Value;

fn store(dir: &Path) {
    let csv = fixture("BTCUSDT_4h.csv");
    ok(&vane(&["import", "--csv", csv.to_str().unwrap(), "--symbol", "BTCUSDT", "--interval", "4h"], dir));
}

const SMALL: [&str; 12] = [
    "wfo",
    "--model",
    "lorentzian-knn",
    "--symbol",
    "BTCUSDT",
    "--interval",
    "4h",
    "--data-days",
    "60",
    "--window-size",
    "14",
    "--test-size",
];

#[test]
fn wfo_knn_writes_the_window_metrics_returns_models_and_report() {
    let dir = tempfile::tempdir().unwrap();
    store(dir.path());
    let mut args = SMALL.to_vec();
    args.extend(["7", "--out", "out", "--grid", "neighbors=4,8 features=3,5"]);
    let out = ok(&vane(&args, dir.path()));
    assert!(out.contains("test period (UTC)"), "{out}");
    assert!(out.contains("stitched out of sample"), "{out}");
    assert!(out.contains("deflated Sharpe ratio"), "{out}");
    let o = dir.path().join("out");
    let names: Vec<String> =
        std::fs::read_dir(&o).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    let wm = names.iter().find(|n| n.starts_with("window_metrics_") && n.ends_with(".csv")).expect("window metrics");
    // window_metrics_YYYYMMDD_HHMMSS.csv
    assert_eq!(wm.len(), "window_metrics_20260101_000000.csv".len(), "{wm}");
    assert!(names.iter().any(|n| n.starts_with("best_model_final_") && n.ends_with(".json")), "{names:?}");
    for f in ["oos_returns.csv", "wfo_report.json", "best_model_window_0.json", "visualizations"] {
        assert!(names.iter().any(|n| n == f), "{f} missing: {names:?}");
    }
    let text = std::fs::read_to_string(o.join(wm)).unwrap();
    let head: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    assert_eq!(
        &head[..7],
        ["window", "train_start_ms", "train_end_ms", "test_start_ms", "test_end_ms", "neighbors", "features"]
    );
    for m in [
        "total_return",
        "win_rate",
        "profitable_periods",
        "max_drawdown",
        "sharpe_ratio",
        "sortino_ratio",
        "calmar_ratio",
        "profit_factor",
        "expected_value",
        "risk_reward",
        "recovery_factor",
        "max_consecutive_losses",
    ] {
        assert!(head.contains(&format!("is_{m}").as_str()) && head.contains(&format!("oos_{m}").as_str()), "{m}");
    }
    assert!(head.contains(&"oos_accuracy") && head.contains(&"oos_macro_f1"));
    let rows = text.lines().count() - 1;
    assert!(rows >= 5, "{rows} windows");
    assert!(text.lines().skip(1).all(|l| l.split(',').count() == head.len()));
    let returns = std::fs::read_to_string(o.join("oos_returns.csv")).unwrap();
    assert!(returns.starts_with("open_time_ms,window,return\n"));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(o.join("wfo_report.json")).unwrap()).unwrap();
    assert_eq!(report["windows"].as_array().unwrap().len(), rows);
    assert_eq!(report["trials"], 4 * rows);
    assert!(report["deflated_sharpe"]["dsr"].is_number());
    let vis: Vec<_> = std::fs::read_dir(o.join("visualizations")).unwrap().collect();
    assert!(vis.len() >= 4);

    // The session is recorded in the runs registry (`runs/` in the working directory).
    let runs: Vec<_> =
        std::fs::read_dir(dir.path().join("runs")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run: Value = serde_json::from_str(&std::fs::read_to_string(runs[0].join("run.json")).unwrap()).unwrap();
    assert_eq!(run["verb"], "wfo");
    assert_eq!(run["status"], "finished");
    assert!(run["metrics"]["oos_sharpe_ratio"].is_number());
    assert_eq!(std::fs::read_to_string(runs[0].join("windows.csv")).unwrap(), text);
    assert_eq!(std::fs::read_to_string(runs[0].join("returns.csv")).unwrap(), returns);
    assert!(runs[0].join("plots").join("oos_equity.png").exists());

    // --json: the same report on stdout.
    let mut args = SMALL.to_vec();
    args.extend(["7", "--out", "out2", "--grid", "neighbors=8 features=5", "--json", "--no-run-record"]);
    let v: Value = serde_json::from_str(&ok(&vane(&args, dir.path()))).unwrap();
    assert_eq!(v["candidates"], 1);
    assert_eq!(v["config"]["model"], "lorentzian-knn");
}

#[test]
fn wfo_errors_name_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    store(dir.path());
    let mut args = SMALL.to_vec();
    args.extend(["10"]);
    fails(&vane(&args, dir.path()), exit::USAGE, &["--window-size 14", "--test-size 10"]);
    let mut args = SMALL.to_vec();
    args.extend(["7", "--grid", "neighbors=4 k=3"]);
    fails(&vane(&args, dir.path()), exit::USAGE, &["--grid", "\"k\""]);
    let mut args = SMALL.to_vec();
    args.extend(["7", "--grid", "neighbors=four"]);
    fails(&vane(&args, dir.path()), exit::USAGE, &["neighbors=four"]);
    let mut args = SMALL.to_vec();
    args[2] = "svm";
    args.extend(["7"]);
    fails(&vane(&args, dir.path()), exit::USAGE, &["--model svm"]);
    // Fewer days than one window: says how many are stored.
    let mut args = SMALL.to_vec();
    args[8] = "10";
    args.extend(["7"]);
    fails(&vane(&args, dir.path()), exit::DATA, &["365.0 days are stored", "--window-size 14"]);
}
