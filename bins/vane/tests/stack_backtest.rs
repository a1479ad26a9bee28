//! `vane stack backtest` on the real 1 s fixture: a tiny `10s` stack trained with
//! `--fast-sanity` on the last 4000 grid seconds, then its runtime's decisions scored with the
//! stack's costs and seed 003's metric list.

mod common;

use common::{fails, fixture, ok, vane};
use serde_json::Value;

const CONFIG: &str = r#"
tags = ["10s"]
[data]
symbols = ["BTCUSD"]
interval = "1s"
days = 1
last_bars = 4000
stride = 3
[l1]
horizons = [1, 5, 10]
seq_lens = [10, 10, 12]
meta_seq_len = 8
[l2]
l1_seq_len = 8
l2_seq_len = 8
[l3]
l1_seq_len = 8
l3_seq_len = 8
"#;

const METRICS: [&str; 12] = [
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
];

#[test]
fn stack_backtest_json() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let csv = fixture("coinbase/BTCUSD_1s.csv");
    ok(&vane(&["import", "--csv", csv.to_str().unwrap(), "--symbol", "BTCUSD", "--interval", "1s"], dir));
    std::fs::write(dir.join("stack.toml"), CONFIG).unwrap();
    ok(&vane(
        &["stack", "train", "--config", "stack.toml", "--fast-sanity", "--artifacts-dir", "a", "--runs-dir", "runs"],
        dir,
    ));
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("a/stacks/10s/meta.json")).unwrap()).unwrap();
    // The last stored bar of the fixture (its last CSV row); score the last 3000 seconds.
    let text = std::fs::read_to_string(&csv).unwrap();
    let last: i64 = text.lines().last().unwrap().split(',').next().unwrap().parse().unwrap();
    let from = (last - 3000 * 1000).to_string();
    let out = ok(&vane(&["stack", "backtest", "--tag", "10s", "--artifacts-dir", "a", "--from", &from, "--json"], dir));
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["tags"], serde_json::json!(["10s"]));
    assert_eq!(r["symbol"], "BTCUSD");
    assert_eq!(r["costs"]["fee_bps"], 1.0);
    assert_eq!(r["settings"]["hysteresis"], 0.01);
    assert_eq!(r["settings"]["cooldown_sec"], 10.0);
    assert_eq!(r["thresholds"]["10s"], meta["thresholds"]);
    for m in METRICS {
        assert!(r["metrics"].get(m).is_some(), "metric {m}: {r}");
    }
    let bars = r["window"]["bars"].as_u64().unwrap();
    assert_eq!(bars, 3001, "{r}");
    assert_eq!(r["window"]["first_ms"].as_i64().unwrap(), last - 3000 * 1000);
    assert_eq!(r["window"]["last_ms"].as_i64().unwrap(), last);
    let counted: u64 = r["decisions"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(counted, bars);

    // --to: the 1000 seconds after --from.
    let to = (last - 2000 * 1000).to_string();
    let out = ok(&vane(
        &["stack", "backtest", "--tag", "10s", "--artifacts-dir", "a", "--from", &from, "--to", &to, "--json"],
        dir,
    ));
    let w: Value = serde_json::from_str(&out).unwrap();
    // The grid ends at the last trade before --to (no bar is invented after it).
    let (f, l) = (w["window"]["first_ms"].as_i64().unwrap(), w["window"]["last_ms"].as_i64().unwrap());
    assert!(f == last - 3000 * 1000 && l < last - 2000 * 1000 && l > f, "{w}");
    assert_eq!(w["window"]["bars"].as_i64().unwrap(), (l - f) / 1000 + 1);

    // Errors name the input.
    fails(&vane(&["stack", "backtest", "--tag", "30s", "--artifacts-dir", "a"], dir), 2, &["30s"]);
    let late = (last + 1000).to_string();
    fails(
        &vane(&["stack", "backtest", "--tag", "10s", "--artifacts-dir", "a", "--from", &late], dir),
        2,
        &["grid bars"],
    );
}
