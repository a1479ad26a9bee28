//! `vane stack train --fast-sanity` and `vane stack predict --json` on the real 1 s fixture
//! (imported into a store in a temp dir; the last 4000 grid seconds, tiny windows).

mod common;

use common::{fails, fixture, ok, vane};
use serde_json::Value;

const CONFIG: &str = r#"
tags = ["1s", "10s", "15s"]
[data]
symbols = ["BTCUSD"]
interval = "1s"
days = 1
last_bars = 4000
stride = 3
[l1]
horizons = [1, 5, 10, 15]
seq_lens = [10, 10, 12, 12]
meta_seq_len = 8
[l2]
l1_seq_len = 8
l2_seq_len = 8
[l3]
l1_seq_len = 8
l3_seq_len = 8
"#;

#[test]
fn fast_sanity_train_then_predict_json() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let csv = fixture("coinbase/BTCUSD_1s.csv");
    ok(&vane(&["import", "--csv", csv.to_str().unwrap(), "--symbol", "BTCUSD", "--interval", "1s"], dir));
    std::fs::write(dir.join("stack.toml"), CONFIG).unwrap();
    let out = ok(&vane(
        &[
            "stack",
            "train",
            "--config",
            "stack.toml",
            "--fast-sanity",
            "--artifacts-dir",
            "a",
            "--runs-dir",
            "runs",
            "--json",
        ],
        dir,
    ));
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["grid_bars"], 4000);
    for tag in ["1s", "10s", "15s"] {
        for level in ["l1", "l2", "l3"] {
            assert!(r["tags"][tag][level]["log_loss"].as_f64().unwrap().is_finite(), "{tag} {level}");
        }
        for f in
            ["meta.json", "supervisor.json", "metrics.json", "supervisor_L3.calib.json", "l2/net.json", "l3/model.bpk"]
        {
            assert!(dir.join("a/stacks").join(tag).join(f).exists(), "{tag}/{f}");
        }
    }
    for h in ["1s", "5s", "10s", "15s"] {
        assert!(dir.join("a/stacks/_l1").join(h).join("model.bpk").exists(), "_l1/{h}");
    }
    assert!(std::fs::read_dir(dir.join("runs")).unwrap().count() >= 1, "a run is recorded");

    let out = ok(&vane(
        &["stack", "predict", "--tags", "1s,10s,15s", "--symbol", "BTCUSD", "--artifacts-dir", "a", "--json"],
        dir,
    ));
    let p: Value = serde_json::from_str(&out).unwrap();
    assert!(["BUY", "SELL", "HOLD"].contains(&p["decision"].as_str().unwrap()), "{p}");
    assert_eq!(p["consensus"], "2 of 3");
    assert!(p["as_of"].is_string());
    for tag in ["1s", "10s", "15s"] {
        let t = &p["tags"][tag];
        for k in ["l2", "l3"] {
            let v = t[k].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{tag} {k} = {v}");
        }
        assert_eq!(t["l1"].as_object().unwrap().len(), 4, "{tag}: one L1 per horizon");
        assert!(t["vote"].is_string());
    }
    // Errors name the input.
    fails(
        &vane(&["stack", "predict", "--tags", "30s", "--symbol", "BTCUSD", "--artifacts-dir", "a"], dir),
        2,
        &["30s"],
    );
}
