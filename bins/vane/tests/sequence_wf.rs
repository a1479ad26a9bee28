//! `vane train` on a tiny sequence config: the walk-forward out-of-sample report in
//! `metrics.json`, the verdict line in the output, and `calibration.json` next to the model;
//! `--walk-forward 0` writes no calibrator and says so.

mod common;

use std::path::{Path, PathBuf};

use common::{fixture, ok, vane};
use serde_json::Value;

fn model_dirs(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir.join("artifacts/models")).unwrap().map(|e| e.unwrap().path()).collect()
}

#[test]
fn train_writes_walk_forward_report_and_calibration() {
    let dir = tempfile::tempdir().unwrap();
    let csv = fixture("BTCUSDT_4h.csv");
    ok(&vane(&["import", "--csv", csv.to_str().unwrap(), "--symbol", "BTCUSDT", "--interval", "4h"], dir.path()));
    std::fs::write(
        dir.path().join("hrm.toml"),
        "[data]\nsymbols = [\"BTCUSDT\"]\nseq_len = 10\nmax_bars = 400\n\
         [model]\nkind = \"hrm\"\nhidden_low = 4\nhidden_high = 4\nhigh_period = 4\n\
         [train]\nepochs = 1\nbatch_size = 64\n",
    )
    .unwrap();
    let out = ok(&vane(&["train", "--config", "hrm.toml", "--walk-forward", "2"], dir.path()));
    assert!(out.contains("verdict: beats the base rate in"), "{out}");
    // The second window is scored through the calibrator the first chose; the first is not.
    assert!(out.contains("of 1 windows (the first window has no earlier"), "{out}");
    assert!(out.contains("hrm_calibrated:"), "{out}");
    assert!(out.contains("calibration check: pooled ECE"), "{out}");
    assert!(out.contains("calibration.json:"), "{out}");
    let dirs = model_dirs(dir.path());
    assert_eq!(dirs.len(), 1);
    let m = &dirs[0];
    assert!(m.join("calibration.json").is_file());
    assert!(m.join("reliability.png").is_file());
    let metrics: Value = serde_json::from_str(&std::fs::read_to_string(m.join("metrics.json")).unwrap()).unwrap();
    let wf = &metrics["walk_forward"];
    assert_eq!(wf["k"], 2);
    assert_eq!(wf["windows"].as_array().unwrap().len(), 2);
    assert!(wf["pooled"]["hrm"]["log_loss"].as_f64().unwrap().is_finite());
    assert!(wf["pooled"]["majority"]["ece"].as_f64().unwrap().is_finite());
    assert!(wf["verdict"]["text"].as_str().unwrap().contains("of 1 windows"));
    assert!(wf["pooled"]["hrm_calibrated"]["log_loss"].as_f64().unwrap().is_finite());
    assert!(wf["calibration"]["chosen"].is_string());

    // Off: no calibrator, and the output says why.
    let out = ok(&vane(&["train", "--config", "hrm.toml", "--walk-forward", "0"], dir.path()));
    assert!(out.contains("no calibration.json: data.walk_forward = 0"), "{out}");
    let off = model_dirs(dir.path()).into_iter().find(|p| p != m).expect("a second folder (another config)");
    assert!(!off.join("calibration.json").exists());
    let metrics: Value = serde_json::from_str(&std::fs::read_to_string(off.join("metrics.json")).unwrap()).unwrap();
    assert!(metrics["walk_forward"].is_null());
}
