//! Seed 004's risk profile: the example file parses, its reward/risk is 5.8/1.1, it converts to
//! the ladder the labels use, bad values name the field and the file, and a backtest under it
//! is `run_exits` with the returns scaled by the leverage.

use vane_backtest::{BacktestError, Exits, RiskProfile, StopTarget, run_exits};
use vane_core::Signal;
use vane_costs::CostModel;
use vane_labeling::ladder::{LadderConfig, Side};
use vane_testkit::ohlc_path as path;

const EXAMPLE: &str = include_str!("../../../examples/seed004/risk_profile.toml");
const ORIGIN: &str = "examples/seed004/risk_profile.toml";

#[test]
fn the_example_file_is_seed_004() {
    let p = RiskProfile::from_toml(EXAMPLE, ORIGIN).unwrap();
    assert!((p.risk_reward() - 5.8 / 1.1).abs() < 1e-12, "{}", p.risk_reward());
    assert!((p.risk_reward() - 5.3).abs() < 0.05, "the seed's 1:5.3");
    assert!((p.risk_reward_sell() - 5.8 / 1.1).abs() < 1e-12);
    assert_eq!(p.leverage, 10.0);
    assert_eq!(p.sell_levels(), StopTarget { stop_loss: 0.011, take_profit: -0.058 });
    // The file writes [sell] out; the built-in profile leaves it to the mirror: same ladders.
    assert_eq!(RiskProfile { sell: p.sell, ..RiskProfile::seed004() }, p);
    // The ladder the labeling tests use for seed 004 (LadderConfig::default()), for both sides.
    assert_eq!(p.ladder(Side::Long), LadderConfig::default());
    assert_eq!(p.ladder(Side::Short), LadderConfig::default());
    assert_eq!(RiskProfile::seed004().ladder(Side::Short), LadderConfig::default());
}

fn refused(text: &str) -> String {
    let e = RiskProfile::from_toml(text, "my/profile.toml").unwrap_err();
    assert_eq!(e.class(), vane_core::ErrorClass::Usage);
    e.to_string()
}

#[test]
fn bad_values_name_the_field_and_the_file() {
    let e = refused(&EXAMPLE.replace("stop_loss = -0.011", "stop_loss = 0.011"));
    assert!(e.starts_with("my/profile.toml: buy.stop_loss: 0.011"), "{e}");
    let e = refused(&EXAMPLE.replace("stop_loss = -0.011", "stop_loss = 0.0"));
    assert!(e.contains("buy.stop_loss") && e.contains("negative"), "{e}");
    let e = refused(&EXAMPLE.replace("take_profit = -0.058", "take_profit = 0.058"));
    assert!(e.contains("my/profile.toml: sell.take_profit"), "{e}");
    // 0.2 + 0.3 + 0.6 > 1.
    let e = refused(&EXAMPLE.replacen("share = 0.3\ntrigger = 0.035", "share = 0.6\ntrigger = 0.035", 1));
    assert!(e.starts_with("my/profile.toml: ladder: ") && e.contains("sum to 1.1"), "{e}");
    let e = refused(&EXAMPLE.replace("trigger = 0.035", "trigger = 0.02"));
    assert!(e.contains("ladder[2].trigger"), "{e}");
    let e = refused(&EXAMPLE.replace("profit_locks = [0.024, 0.035]", "profit_locks = [0.035]"));
    assert!(e.contains("profit_locks") && e.contains("[0.024, 0.035]"), "{e}");
    let e = refused(&EXAMPLE.replace("breakeven_after = 0.012", "breakeven_after = 0.01"));
    assert!(e.contains("breakeven_after"), "{e}");
    let e = refused(&EXAMPLE.replace("leverage = 10", "leverage = 100"));
    assert!(e.contains("leverage") && e.contains("liquidation"), "{e}");
    // A misspelt key: the TOML error with the file and line.
    let e = refused(&EXAMPLE.replace("horizon_bars = 100", "horizon = 100"));
    assert!(e.starts_with("my/profile.toml:") && e.contains("horizon"), "{e}");
    assert!(matches!(RiskProfile::from_toml("leverage = 2", "x.toml").unwrap_err(), BacktestError::ProfileToml { .. }));
}

const ENTRY: (f64, f64, f64, f64) = (100.0, 100.0, 100.0, 100.0);

#[test]
fn a_backtest_is_run_exits_times_the_leverage() {
    // +1.2 % (20 % closes, breakeven), +2.4 % (30 % closes, lock at +1.2 %), back to 101.2: the
    // other 50 % closes at the lock.
    let bars = path(&[
        ENTRY,
        (100.0, 101.3, 99.5, 101.0),
        (101.0, 102.5, 100.5, 102.0),
        (102.0, 102.2, 101.0, 101.5),
        (101.5, 101.6, 101.4, 101.5),
    ]);
    let signals = [Signal::Buy, Signal::Hold, Signal::Hold, Signal::Hold, Signal::Hold];
    let costs = CostModel::new(5.0, 1.0).unwrap();
    let p = RiskProfile::seed004();
    let bt = p.backtest(&bars, &signals, &costs).unwrap();
    let plain = run_exits(&bars, &signals, &Exits::Ladder(LadderConfig::default()), &costs).unwrap();
    for (a, b) in bt.result.returns.iter().zip(&plain.returns) {
        assert!((a - 10.0 * b).abs() < 1e-15);
    }
    assert_eq!(bt.result.trades.len(), 1);
    let gross = 0.2 * 0.012 + 0.3 * 0.024 + 0.5 * 0.012;
    let want = 10.0 * (gross - 6e-4 * 2.0);
    assert!((bt.result.trades[0].net_return - want).abs() < 1e-14, "{:?}", bt.result.trades);
    assert_eq!(bt.summary.partial_closes.iter().map(|c| c.count).collect::<Vec<_>>(), vec![1, 1, 0]);
    assert_eq!(bt.summary.exits.profit_lock, 1);
    assert_eq!(bt.result.positions[0], 10.0);

    // A SELL side of its own: a 0.5 % stop instead of the mirror's 1.1 %.
    let down = path(&[ENTRY, (100.0, 100.6, 99.9, 100.4), (100.4, 100.5, 100.3, 100.4)]);
    let tight = RiskProfile { sell: Some(StopTarget { stop_loss: 0.005, take_profit: -0.058 }), ..p };
    let s =
        tight.backtest(&down, &[Signal::Sell, Signal::Hold, Signal::Hold], &CostModel::new(0.0, 0.0).unwrap()).unwrap();
    assert!((s.result.trades[0].net_return - 10.0 * -0.005).abs() < 1e-12, "{:?}", s.result.trades);
    assert_eq!(s.summary.exits.stop_loss, 1);
    // The mirror's 1.1 % stop is not touched: the rest closes at the end of the data.
    let m = RiskProfile::seed004()
        .backtest(&down, &[Signal::Sell, Signal::Hold, Signal::Hold], &CostModel::new(0.0, 0.0).unwrap())
        .unwrap();
    assert_eq!(m.summary.exits.time, 1);
}
