//! `vane backtest --decisions F --exits ladder --risk profile.toml`: seed 004's ladder through
//! the CLI (the one engine, `vane_labeling::ladder::simulate`), returns × the leverage, the
//! win rate over trades, partial closes and exits by reason; bad profiles name the file and
//! the field.

mod common;

use common::{fails, ok, vane};
use serde_json::Value;

const PROFILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/seed004/risk_profile.toml");
const STEP: i64 = 900_000; // 15m

/// A BUY at 100 that reaches +1.2 % (20 % closes, breakeven), then +2.4 % (30 % closes, the
/// stop locks at +1.2 %), then falls back to the lock (the other 50 % closes at 101.2); then a
/// SELL at 101.5 stopped at +1.1 %.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        (100.0, 100.0, 100.0, 100.0),
        (100.0, 101.3, 99.5, 101.0),
        (101.0, 102.5, 100.5, 102.0),
        (102.0, 102.2, 101.0, 101.5),
        (101.5, 101.6, 101.4, 101.5),
        (101.5, 102.7, 101.4, 102.5),
        (102.5, 102.6, 102.4, 102.5),
    ];
    let mut csv = String::from("open_time_ms,open,high,low,close,volume\n");
    for (i, (o, h, l, c)) in rows.iter().enumerate() {
        csv.push_str(&format!("{},{o},{h},{l},{c},1\n", 1_700_000_000_000 + i as i64 * STEP));
    }
    std::fs::write(dir.path().join("prices.csv"), csv).unwrap();
    let t = |i: i64| 1_700_000_000_000 + i * STEP;
    std::fs::write(
        dir.path().join("decisions.csv"),
        format!("open_time_ms,signal\n{},BUY\n{},HOLD\n{},SELL\n", t(0), t(2), t(4)),
    )
    .unwrap();
    dir
}

fn backtest(dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["backtest", "--prices", "prices.csv", "--decisions", "decisions.csv"];
    args.extend_from_slice(extra);
    vane(&args, dir)
}

#[test]
fn ladder_exits_by_hand() {
    let dir = setup();
    let out = ok(&backtest(
        dir.path(),
        &["--exits", "ladder", "--risk", PROFILE, "--fee-bps", "5", "--slip-bps", "1", "--json"],
    ));
    let v: Value = serde_json::from_str(&out).unwrap();
    // Long: 0.2·1.2 % + 0.3·2.4 % + 0.5·1.2 % gross, 6 bp per side on the entry and on the
    // fills (their shares sum to 1): 12 bp; × leverage 10.
    let long = 10.0 * (0.2 * 0.012 + 0.3 * 0.024 + 0.5 * 0.012 - 0.0012);
    // Short: stopped at +1.1 %, 12 bp; × 10.
    let short = 10.0 * (-0.011 - 0.0012);
    assert_eq!(v["exits"], "ladder");
    assert_eq!(v["trade_count"], 2);
    assert_eq!(v["trade_win_rate"].as_f64().unwrap(), 0.5);
    let expectancy = v["expectancy"].as_f64().unwrap();
    assert!((expectancy - (long + short) / 2.0).abs() < 1e-12, "{expectancy} vs {}", (long + short) / 2.0);
    let l = &v["ladder"];
    assert_eq!(l["leverage"].as_f64().unwrap(), 10.0);
    assert!((l["risk_reward"].as_f64().unwrap() - 5.8 / 1.1).abs() < 1e-12);
    let counts: Vec<u64> =
        l["partial_closes"].as_array().unwrap().iter().map(|c| c["count"].as_u64().unwrap()).collect();
    assert_eq!(counts, vec![1, 1, 0]);
    assert_eq!(l["exits"]["profit_lock"], 1);
    assert_eq!(l["exits"]["stop_loss"], 1);
    assert_eq!(l["exits"]["take_profit"], 0);
    assert_eq!(l["exits"]["time"], 0);

    // The long alone, realised: the lock fill at 101.2.
    std::fs::write(dir.path().join("buy.csv"), "open_time_ms,signal\n1700000000000,BUY\n").unwrap();
    let out = ok(&vane(
        &[
            "backtest",
            "--prices",
            "prices.csv",
            "--decisions",
            "buy.csv",
            "--exits",
            "ladder",
            "--risk",
            PROFILE,
            "--json",
        ],
        dir.path(),
    ));
    let v: Value = serde_json::from_str(&out).unwrap();
    let gross = 10.0 * (0.2 * 0.012 + 0.3 * 0.024 + 0.5 * 0.012);
    assert!((v["expectancy"].as_f64().unwrap() - gross).abs() < 1e-12, "{v}");
    assert_eq!(v["trade_win_rate"].as_f64().unwrap(), 1.0);

    // The human table names the win rate over trades, the partial closes and the exits.
    let human = ok(&backtest(dir.path(), &["--exits", "ladder", "--risk", PROFILE]));
    for needle in ["win rate (trades)", "partial closes", "20% @ +1.2%: 1", "profit lock 1", "reward/risk 1:5.27"] {
        assert!(human.contains(needle), "{needle:?} not in\n{human}");
    }
}

#[test]
fn decisions_close_to_close_and_windows_still_work() {
    let dir = setup();
    // Close-to-close on decisions: BUY +1 over bars 0..4, SELL −1 after.
    let v: Value = serde_json::from_str(&ok(&backtest(dir.path(), &["--json"]))).unwrap();
    assert_eq!(v["exits"], "close-to-close");
    assert!(v.get("ladder").is_none());
    assert_eq!(v["trade_count"], 2);
    // The window: only the periods from bar 4 on.
    let v: Value = serde_json::from_str(&ok(&backtest(
        dir.path(),
        &["--exits", "ladder", "--risk", PROFILE, "--from", "1700003600000", "--json"],
    )))
    .unwrap();
    assert_eq!(v["window"]["periods_scored"], 3);
    assert_eq!(v["trade_count"], 1, "{v}");
}

#[test]
fn bad_profiles_and_flags_are_refused() {
    let dir = setup();
    let text = std::fs::read_to_string(PROFILE).unwrap();
    std::fs::write(dir.path().join("sl.toml"), text.replace("stop_loss = -0.011", "stop_loss = 0.011")).unwrap();
    fails(&backtest(dir.path(), &["--exits", "ladder", "--risk", "sl.toml"]), 2, &["sl.toml", "buy.stop_loss"]);
    std::fs::write(
        dir.path().join("shares.toml"),
        text.replacen("share = 0.3\ntrigger = 0.035", "share = 0.6\ntrigger = 0.035", 1),
    )
    .unwrap();
    fails(
        &backtest(dir.path(), &["--exits", "ladder", "--risk", "shares.toml"]),
        2,
        &["shares.toml", "ladder", "sum to"],
    );
    fails(&backtest(dir.path(), &["--exits", "ladder"]), 2, &["--risk"]);
    fails(&backtest(dir.path(), &["--risk", PROFILE]), 2, &["--exits ladder"]);
    fails(
        &vane(
            &[
                "backtest",
                "--prices",
                "prices.csv",
                "--positions",
                "decisions.csv",
                "--exits",
                "ladder",
                "--risk",
                PROFILE,
            ],
            dir.path(),
        ),
        2,
        &["--decisions"],
    );
    fails(&backtest(dir.path(), &["--exits", "ladder", "--risk", "missing.toml"]), 4, &["missing.toml"]);
    std::fs::write(dir.path().join("late.csv"), "open_time_ms,signal\n1800000000000,BUY\n").unwrap();
    fails(
        &vane(&["backtest", "--prices", "prices.csv", "--decisions", "late.csv"], dir.path()),
        3,
        &["late.csv:2", "not a bar"],
    );
}
