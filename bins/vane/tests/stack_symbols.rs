//! `vane stack train --symbols A,B` (one stack per symbol under `symbols/<SYMBOL>/stacks/`),
//! `--resume` through the CLI, and unknown symbols named with what is stored.

mod common;

use common::{fails, ok, vane};
use serde_json::Value;

const CONFIG: &str = r#"
tags = ["10s"]
[data]
symbols = ["AAAUSDT"]
interval = "1s"
days = 1
stride = 4
[l1]
horizons = [5, 10]
seq_lens = [8, 10]
oof_splits = 2
meta_seq_len = 6
meta_epochs = 1
meta_high_period = 3
[l1.net]
hidden_low = 4
hidden_high = 4
high_period = 4
epochs = 1
[l2]
l1_seq_len = 6
l2_seq_len = 6
[l2.net]
hidden_low = 4
hidden_high = 4
high_period = 4
epochs = 1
[l3]
l1_seq_len = 6
l3_seq_len = 6
[l3.net]
hidden_low = 4
hidden_high = 4
high_period = 4
epochs = 1
"#;

/// A tiny 1 s series (a seeded random walk, every 6th second without a trade) as CSV.
fn series_csv(seed: u64, n: usize, price: f64) -> String {
    let mut s = String::from("open_time_ms,open,high,low,close,volume\n");
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut px = price;
    for i in 0..n {
        if i % 6 == 5 {
            continue;
        }
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let u = ((x >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0;
        let open = px;
        px *= 1.0 + u * 4e-4;
        let (hi, lo) = (open.max(px), open.min(px));
        s.push_str(&format!("{},{open},{hi},{lo},{px},{}\n", 1_700_000_000_000i64 + i as i64 * 1000, 1.0 + u.abs()));
    }
    s
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap()
}

#[test]
fn two_symbols_train_one_stack_each_resume_and_unknown_symbols_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for (sym, seed, px) in [("AAAUSDT", 1, 2000.0), ("BBBUSDT", 2, 30.0)] {
        let csv = dir.join(format!("{sym}.csv"));
        std::fs::write(&csv, series_csv(seed, 1500, px)).unwrap();
        ok(&vane(&["import", "--csv", csv.to_str().unwrap(), "--symbol", sym, "--interval", "1s"], dir));
    }
    std::fs::write(dir.join("stack.toml"), CONFIG).unwrap();
    let train = |extra: &[&str]| {
        let mut args =
            vec!["stack", "train", "--config", "stack.toml", "--artifacts-dir", "a", "--no-run-record", "--json"];
        args.extend_from_slice(extra);
        vane(&args, dir)
    };

    // Unknown symbol: named, with what is stored, before anything trains.
    let err = fails(&train(&["--symbols", "AAAUSDT,ZZZUSDT"]), 2, &["ZZZUSDT", "AAAUSDT, BBBUSDT"]);
    assert!(!err.contains("AAAUSDT\n"), "{err}");
    assert!(!dir.join("a").exists(), "nothing trained");

    // Two symbols: one stack each under symbols/<SYMBOL>/stacks/.
    let r = json(&ok(&train(&["--symbols", "BBBUSDT,AAAUSDT"])));
    for (sym, file) in [("AAAUSDT", "10s/supervisor.json"), ("BBBUSDT", "10s/supervisor.json")] {
        assert_eq!(r["symbols"][sym]["symbol"], sym, "{r}");
        assert!(r["symbols"][sym]["tags"]["10s"]["l3"]["log_loss"].as_f64().unwrap().is_finite());
        let sup: Value =
            json(&std::fs::read_to_string(dir.join("a/symbols").join(sym).join("stacks").join(file)).unwrap());
        let sup = if sup.get("payload").is_some() { sup["payload"].clone() } else { sup };
        assert_eq!(sup["symbol"], sym);
        assert!(dir.join("a/symbols").join(sym).join("stacks/_l1/5s/model.bpk").is_file());
        assert!(dir.join("a/stack_resume").join(sym).join("l1/10s/complete.json").is_file());
    }
    assert!(!dir.join("a/stacks").exists(), "a several-symbol run leaves the single-symbol folder alone");

    // Each symbol predicts from its own stack; an unknown one is named with what is stored.
    for sym in ["AAAUSDT", "BBBUSDT"] {
        let p = json(&ok(&vane(
            &["stack", "predict", "--tags", "10s", "--symbol", sym, "--artifacts-dir", "a", "--json"],
            dir,
        )));
        assert!(["BUY", "SELL", "HOLD"].contains(&p["decision"].as_str().unwrap()), "{p}");
    }
    fails(
        &vane(&["stack", "predict", "--tags", "10s", "--symbol", "ZZZUSDT", "--artifacts-dir", "a", "--json"], dir),
        2,
        &["no stack for symbol ZZZUSDT", "AAAUSDT (", "BBBUSDT ("],
    );

    // --resume: every L1 horizon of both symbols is reused.
    let r = json(&ok(&train(&["--symbols", "AAAUSDT,BBBUSDT", "--resume"])));
    for sym in ["AAAUSDT", "BBBUSDT"] {
        assert_eq!(r["symbols"][sym]["l1_resumed"], serde_json::json!(["5s", "10s"]), "{sym}");
        assert_eq!(r["symbols"][sym]["l1_trained"], serde_json::json!([]), "{sym}");
    }

    // One symbol keeps the single-symbol layout (stacks/), reusing the same L1 state.
    let r = json(&ok(&train(&["--symbols", "AAAUSDT", "--resume"])));
    assert_eq!(r["l1_resumed"], serde_json::json!(["5s", "10s"]), "{r}");
    assert!(dir.join("a/stacks/10s/supervisor.json").is_file());
    ok(&vane(&["stack", "predict", "--tags", "10s", "--symbol", "AAAUSDT", "--artifacts-dir", "a", "--json"], dir));
}
