//! `vane backtest --from --to`: only the periods inside `[from, to)` are scored (positions outside
//! still shape them), the JSON states the window, and a window without periods is an error naming
//! the flags and the data's range; without the flags nothing changes.

mod common;

use common::{exit, fails, fixture, ok, vane};
use serde_json::Value;
use vane_backtest::compute_metrics;
use vane_core::{Interval, Timestamp};
use vane_testkit::fixture_bars;

/// Long over bars 0..100 (a flat stretch after it), short over 300..400; returns the temp dir.
fn setup() -> (tempfile::TempDir, Vec<i64>) {
    let dir = tempfile::tempdir().unwrap();
    let bars = fixture_bars("BTCUSDT_4h.csv", Interval::H4);
    let t = bars.open_time().to_vec();
    std::fs::write(
        dir.path().join("pos.csv"),
        format!("open_time_ms,position\n{},1\n{},0\n{},-1\n{},0\n", t[0], t[100], t[300], t[400]),
    )
    .unwrap();
    (dir, t)
}

fn backtest(dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let prices = fixture("BTCUSDT_4h.csv");
    let mut args = vec![
        "backtest",
        "--prices",
        prices.to_str().unwrap(),
        "--positions",
        "pos.csv",
        "--fee-bps",
        "10",
        "--slip-bps",
        "2",
        "--returns-out",
        "r.csv",
        "--json",
    ];
    args.extend_from_slice(extra);
    vane(&args, dir)
}

fn read_returns(dir: &std::path::Path) -> Vec<(i64, f64)> {
    std::fs::read_to_string(dir.join("r.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let (t, r) = l.split_once(',').unwrap();
            (t.parse().unwrap(), r.parse().unwrap())
        })
        .collect()
}

#[test]
fn window_scores_only_its_periods() {
    let (dir, t) = setup();
    // The whole run, to slice from.
    let whole: Value = serde_json::from_str(&ok(&backtest(dir.path(), &[]))).unwrap();
    let all = read_returns(dir.path());
    assert_eq!(all.len(), 2189);
    assert_eq!(whole["window"]["periods_scored"], 2189);
    assert_eq!(whole["window"]["from_ms"], Value::Null);
    assert_eq!(whole["periods"], 2189);

    // The short's test window: periods (bars) 290..=410, --from as RFC 3339, --to as ms.
    let from = Timestamp(t[290]).to_string();
    let to = t[411].to_string();
    let j: Value = serde_json::from_str(&ok(&backtest(dir.path(), &["--from", &from, "--to", &to]))).unwrap();
    let w = &j["window"];
    assert_eq!(w["from_ms"], t[290]);
    assert_eq!(w["to_ms"], t[411]);
    assert_eq!(w["first_period_ms"], t[290]);
    assert_eq!(w["last_period_ms"], t[410]);
    assert_eq!(w["periods_scored"], 121);
    assert_eq!(w["periods_total"], 2189);
    assert_eq!(w["trades_straddling"], 0);
    assert_eq!(j["periods"], 121);
    assert_eq!(j["trade_count"], 1);

    // Every metric equals vane_backtest::metrics::compute over the sliced returns (periods
    // 290..=410 are rows 289..=409 of the whole run's returns, which start at bar 1).
    let sliced: Vec<f64> = all[289..410].iter().map(|&(_, r)| r).collect();
    assert_eq!(all[289].0, t[290]);
    let windowed = read_returns(dir.path());
    assert_eq!(windowed, all[289..410].to_vec(), "--returns-out writes the scored periods");
    let m = serde_json::to_value(compute_metrics(&sliced, 2190.0, None, &[])).unwrap();
    for k in [
        "total_return",
        "cagr",
        "sharpe",
        "sortino",
        "calmar",
        "max_drawdown",
        "annual_volatility",
        "win_rate",
        "profitable_periods",
        "profit_factor",
        "recovery_factor",
        "max_consecutive_losses",
        "max_consecutive_wins",
    ] {
        assert_eq!(j[k], m[k], "{k}");
    }
    // Not diluted: the window's Sharpe is larger in size than the whole file's.
    assert!(j["sharpe"].as_f64().unwrap().abs() > whole["sharpe"].as_f64().unwrap().abs());
    // The exposure is that of the window: short over bars 300..400 of 290..=409 held.
    assert!((j["exposure"].as_f64().unwrap() - 100.0 / 121.0).abs() < 1e-15);
}

#[test]
fn open_ended_window_and_straddling_trades() {
    let (dir, t) = setup();
    // --from inside the long trade: it straddles the window's start.
    let j: Value = serde_json::from_str(&ok(&backtest(dir.path(), &["--from", &t[50].to_string()]))).unwrap();
    assert_eq!(j["window"]["periods_scored"], 2190 - 50);
    assert_eq!(j["window"]["to_ms"], Value::Null);
    assert_eq!(j["window"]["last_period_ms"], t[2189]);
    assert_eq!((j["trade_count"].as_u64(), j["window"]["trades_straddling"].as_u64()), (Some(2), Some(1)));
    // A date (YYYY-MM-DD) works for --to.
    let j: Value = serde_json::from_str(&ok(&backtest(dir.path(), &["--to", "2023-02-01"]))).unwrap();
    // 2023-01-01 00:00 to 2023-01-31 20:00 in 4h bars: 186 bars, 185 periods (bar 0 is none).
    assert_eq!(j["window"]["periods_scored"], 185);
    assert_eq!(j["window"]["last_period_ms"], Timestamp::from_ymd(2023, 1, 31).unwrap().0 + 20 * 3_600_000);
}

#[test]
fn empty_or_outside_windows_are_errors() {
    let (dir, t) = setup();
    // --from not before --to.
    let e =
        fails(&backtest(dir.path(), &["--from", "2023-03-01", "--to", "2023-02-01"]), exit::USAGE, &["--from", "--to"]);
    assert!(e.contains("empty"), "{e}");
    // After the data: names the flag and the data's range.
    let e = fails(&backtest(dir.path(), &["--from", "2030-01-01"]), exit::USAGE, &["--from 2030-01-01T00:00:00Z"]);
    assert!(e.contains(&Timestamp(t[1]).to_string()) && e.contains(&Timestamp(t[2189]).to_string()), "{e}");
    // Before the data (the first bar is no period).
    fails(&backtest(dir.path(), &["--to", &t[1].to_string()]), exit::USAGE, &["--to", "holds no period"]);
    // Between two bars.
    fails(
        &backtest(dir.path(), &["--from", &(t[5] + 1).to_string(), "--to", &(t[6]).to_string()]),
        exit::USAGE,
        &["holds no period"],
    );
    // A bad time names the flag.
    fails(&backtest(dir.path(), &["--from", "yesterday"]), exit::USAGE, &["--from"]);
}
