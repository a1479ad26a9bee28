//! Binary sequence models through the CLI: `vane train` on dead-zone (`down`/`up`) labels writes
//! the binary walk-forward report and a binary `calibration.json`; `vane predict --json` answers
//! with `p_up` (no `probs`) and the signal of the P(up) thresholds; `ladder_profit` training
//! labels are the sign of `vane label --kind expected-return`'s `er_long`.

mod common;

use std::path::{Path, PathBuf};

use common::{fixture, ok, vane};
use serde_json::Value;
use vane_core::Interval;
use vane_pipeline::sequence::{LabelKind, SequenceData, label_targets};

fn model_dirs(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir.join("artifacts/models")).unwrap().map(|e| e.unwrap().path()).collect()
}

#[test]
fn binary_model_trains_and_predict_json_carries_p_up() {
    let dir = tempfile::tempdir().unwrap();
    let csv = fixture("BTCUSDT_4h.csv");
    ok(&vane(&["import", "--csv", csv.to_str().unwrap(), "--symbol", "BTCUSDT", "--interval", "4h"], dir.path()));
    std::fs::write(
        dir.path().join("bin.toml"),
        "[data]\nsymbols = [\"BTCUSDT\"]\nseq_len = 10\nmax_bars = 500\nlabel = \"dead_zone\"\nhorizon = 3\n\
         [decision]\np_up_long = 0.55\np_up_short = 0.45\n\
         [model]\nkind = \"hrm\"\nhidden_low = 4\nhidden_high = 4\nhigh_period = 4\n\
         [train]\nepochs = 1\nbatch_size = 64\n",
    )
    .unwrap();
    let out = ok(&vane(&["train", "--config", "bin.toml", "--walk-forward", "2"], dir.path()));
    assert!(out.contains("calibration.json: binary"), "{out}");
    assert!(out.contains("labels down ") && out.contains("P(up)): log-loss"), "{out}");
    let dirs = model_dirs(dir.path());
    assert_eq!(dirs.len(), 1);
    let m = &dirs[0];
    let metrics: Value = serde_json::from_str(&std::fs::read_to_string(m.join("metrics.json")).unwrap()).unwrap();
    let b = &metrics["walk_forward"]["binary"];
    assert_eq!(b["classes"], serde_json::json!(["down", "up"]));
    for k in ["log_loss", "base_rate_log_loss", "base_rate", "ece"] {
        assert!(b[k].as_f64().unwrap().is_finite(), "{k}: {b}");
    }
    let cal: Value = serde_json::from_str(&std::fs::read_to_string(m.join("calibration.json")).unwrap()).unwrap();
    assert_eq!(cal["calibrators"].as_array().unwrap().len(), 1, "{cal}");
    assert!(cal.get("multiclass").is_none());
    let inference: Value = serde_json::from_str(&std::fs::read_to_string(m.join("inference.json")).unwrap()).unwrap();
    assert_eq!(inference["classes"], serde_json::json!(["down", "up"]));

    let id = m.file_name().unwrap().to_str().unwrap();
    let p: Value =
        serde_json::from_str(&ok(&vane(&["predict", "--symbol", "BTCUSDT", "--model-id", id, "--json"], dir.path())))
            .unwrap();
    let up = p["p_up"].as_f64().expect("p_up");
    assert!((0.0..=1.0).contains(&up), "{p}");
    assert!(p.get("probs").is_none(), "no invented three-class probabilities: {p}");
    let want = if up > 0.55 {
        "BUY"
    } else if up < 0.45 {
        "SELL"
    } else {
        "HOLD"
    };
    assert_eq!(p["signal"], want, "{p}");
    assert_eq!(p["model_kind"], "hrm");
    // The human line names P(up).
    let human = ok(&vane(&["predict", "--symbol", "BTCUSDT", "--model-id", id], dir.path()));
    assert!(human.contains("P(up)"), "{human}");
}

#[test]
fn ladder_profit_labels_are_the_sign_of_vane_label_er_long() {
    let dir = tempfile::tempdir().unwrap();
    let csv = fixture("BTCUSDT_4h.csv");
    let out = dir.path().join("er.csv");
    ok(&vane(
        &[
            "label",
            "--input",
            csv.to_str().unwrap(),
            "--kind",
            "expected-return",
            "--horizon",
            "20",
            "--fee-bps",
            "5",
            "--output",
            out.to_str().unwrap(),
        ],
        dir.path(),
    ));
    let bars = vane_testkit::fixture_bars("BTCUSDT_4h.csv", Interval::H4);
    let d = SequenceData { label: LabelKind::LadderProfit, horizon: 20, fee_bps: 5.0, ..SequenceData::default() };
    let t = label_targets(&bars, &d).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("open_time_ms,er_long"));
    let (mut n, mut profit) = (0, 0);
    for (i, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[0].parse::<i64>().unwrap(), bars.open_time()[i]);
        match (cells[1], t[i]) {
            ("", None) => {}
            (er, Some(tg)) => {
                let er: f64 = er.parse().unwrap();
                assert_eq!(tg.class, usize::from(er > 0.0), "bar {i}: er_long {er}");
                n += 1;
                profit += tg.class;
            }
            (er, None) => panic!("bar {i}: vane label has er_long {er}, the training label none"),
        }
    }
    assert!(n > 100 && profit > 0 && profit < n, "{profit} of {n} profitable");
}
