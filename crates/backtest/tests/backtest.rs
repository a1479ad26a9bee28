//! The backtest formula and the trading metrics against numpy-style formulas evaluated here.

use vane_backtest::{Exits, Mapping, Trade, compute_metrics, positions_from_signals, run_exits, run_positions};
use vane_core::{Interval, Signal};
use vane_costs::CostModel;
use vane_labeling::ladder::LadderConfig;
use vane_testkit::{fixture_bars, ohlc_path as path};

fn close_enough(a: f64, b: f64) {
    assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} vs {b}");
}

#[test]
fn close_to_close_formula_by_hand() {
    let close = [100.0, 110.0, 99.0, 99.0, 108.9];
    let pos = [1.0, 1.0, -1.0, 0.0, 0.0];
    let costs = CostModel::new(10.0, 0.0).unwrap(); // 10 bp per side
    let bt = run_positions(&close, &pos, &costs).unwrap();
    // r[t+1] = pos[t]·(c[t+1]/c[t] − 1) − |pos[t] − pos[t−1]|·0.001
    let want = [0.0, 0.1 - 0.001, 99.0 / 110.0 - 1.0, 0.0 - 2.0 * 0.001, -0.001];
    for (a, b) in bt.returns.iter().zip(want) {
        close_enough(*a, b);
    }
    assert_eq!(bt.equity().len(), 5);
    close_enough(bt.equity()[4], want.iter().map(|r| 1.0 + r).product());
    // Trades: the long over bars 0→2 and the short over 2→3, each with entry and exit costs.
    assert_eq!(bt.trades.len(), 2);
    assert_eq!((bt.trades[0].entry_bar, bt.trades[0].exit_bar, bt.trades[0].side), (0, 2, 1));
    close_enough(bt.trades[0].net_return, 0.1 + (99.0 / 110.0 - 1.0) - 0.002);
    close_enough(bt.trades[1].net_return, -0.002);
    // Trade returns add up to the period returns.
    close_enough(bt.trades.iter().map(|t| t.net_return).sum(), bt.returns.iter().sum());
}

#[test]
fn fractional_positions_and_bad_input() {
    let bt = run_positions(&[10.0, 11.0, 12.1], &[0.5, 0.25, 0.0], &CostModel::new(0.0, 20.0).unwrap()).unwrap();
    close_enough(bt.returns[1], 0.5 * 0.1 - 0.5 * 0.002);
    close_enough(bt.returns[2], 0.25 * 0.1 - 0.25 * 0.002);
    assert_eq!(bt.trades.len(), 1);
    assert!(
        run_positions(&[1.0, 2.0], &[1.0], &CostModel::default())
            .unwrap_err()
            .to_string()
            .contains("1 positions for 2 prices")
    );
    assert!(run_positions(&[1.0, -2.0], &[1.0, 1.0], &CostModel::default()).is_err());
    assert!(run_positions(&[1.0, 2.0], &[f64::NAN, 1.0], &CostModel::default()).is_err());
}

#[test]
fn signal_mappings() {
    use Signal::*;
    let s = [Hold, Buy, Hold, Sell, Hold, Buy];
    assert_eq!(positions_from_signals(&s, Mapping::LongShort), vec![0.0, 1.0, 1.0, -1.0, -1.0, 1.0]);
    assert_eq!(positions_from_signals(&s, Mapping::LongOnly), vec![0.0, 1.0, 1.0, 0.0, 0.0, 1.0]);
    assert_eq!(positions_from_signals(&s, Mapping::HoldIsFlat), vec![0.0, 1.0, 0.0, -1.0, 0.0, 1.0]);
}

#[test]
fn metrics_match_numpy_style_formulas() {
    let r = [0.01, -0.02, 0.015, 0.0, -0.005, 0.03, -0.01];
    let p = 2190.0;
    let m = compute_metrics(&r, p, Some(&[1.0, 1.0, 0.0, 0.0, 1.0, -1.0, 1.0]), &[]);
    let n = r.len() as f64;
    let mean = r.iter().sum::<f64>() / n;
    let sd = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let e: Vec<f64> = std::iter::once(1.0)
        .chain(r.iter().scan(1.0, |acc, x| {
            *acc *= 1.0 + x;
            Some(*acc)
        }))
        .collect();
    let total = e[e.len() - 1] - 1.0;
    let mut peak = f64::MIN;
    let mdd = e
        .iter()
        .map(|&v| {
            peak = peak.max(v);
            v / peak - 1.0
        })
        .fold(0.0, f64::min);
    let cagr = (1.0 + total).powf(p / n) - 1.0;
    let downside = (r.iter().map(|x| x.min(0.0).powi(2)).sum::<f64>() / n).sqrt();
    close_enough(m.total_return, total);
    close_enough(m.cagr, cagr);
    close_enough(m.sharpe, mean / sd * p.sqrt());
    close_enough(m.sortino, mean / downside * p.sqrt());
    close_enough(m.annual_volatility, sd * p.sqrt());
    close_enough(m.max_drawdown, mdd);
    close_enough(m.calmar, cagr / mdd.abs());
    close_enough(m.win_rate, 3.0 / 6.0); // 3 positive of 6 non-zero
    close_enough(m.profitable_periods, 3.0 / 7.0);
    close_enough(m.profit_factor, 0.055 / 0.035);
    close_enough(m.recovery_factor, total / mdd.abs());
    assert_eq!((m.max_consecutive_losses, m.max_consecutive_wins), (1, 1));
    close_enough(m.exposure, 5.0 / 7.0);
    // Drawdown by hand: E = 1, 1.01, 0.9898, 1.004647, 1.004647, 0.99962..., 1.0296..., 1.0193...
    close_enough(m.max_drawdown, 0.9898 / 1.01 - 1.0);
    assert!(m.expectancy.is_nan() && m.trade_count == 0);
    let trades = [
        Trade { entry_bar: 0, exit_bar: 3, side: 1, net_return: 0.02 },
        Trade { entry_bar: 3, exit_bar: 4, side: -1, net_return: -0.01 },
        Trade { entry_bar: 5, exit_bar: 9, side: 1, net_return: 0.04 },
    ];
    let m = compute_metrics(&r, p, None, &trades);
    close_enough(m.trade_win_rate, 2.0 / 3.0);
    close_enough(m.expectancy, 0.05 / 3.0);
    close_enough(m.risk_reward, 0.03 / 0.01);
    close_enough(m.mean_holding_bars, 8.0 / 3.0);
    assert!(m.exposure.is_nan());
    // Undefined ratios are NaN (JSON null), never ±Inf.
    let flat = compute_metrics(&[0.0, 0.0, 0.0], p, None, &[]);
    assert!(flat.sharpe.is_nan() && flat.profit_factor.is_nan() && flat.calmar.is_nan());
    assert_eq!(serde_json::to_value(flat).unwrap()["sharpe"], serde_json::Value::Null);
}

#[test]
fn stop_loss_exit_by_hand() {
    use Signal::*;
    let b = path(&[
        (100.0, 100.0, 100.0, 100.0),
        (100.0, 100.5, 99.0, 99.0),
        (99.0, 99.5, 97.9, 98.5),
        (98.5, 99.0, 98.0, 98.8),
    ]);
    let exits = Exits::Simple { stop_loss: 0.02, take_profit: Some(0.05), max_bars: 10 };
    let costs = CostModel::new(10.0, 0.0).unwrap();
    let bt = run_exits(&b, &[Buy, Hold, Hold, Hold], &exits, &costs).unwrap();
    // Bar 1 marks 100 → 99 and pays the entry; bar 2 exits everything at the 98 stop.
    close_enough(bt.returns[1], 99.0 / 100.0 - 1.0 - 0.001);
    close_enough(bt.returns[2], 98.0 / 99.0 - 1.0 - 0.001);
    assert_eq!(bt.returns[3], 0.0);
    assert_eq!(bt.trades.len(), 1);
    close_enough(bt.trades[0].net_return, -0.02 - 0.002);
    assert_eq!(bt.trades[0].exit_bar, 2);
    assert_eq!(bt.positions, vec![1.0, 1.0, 0.0, 0.0]);
    // A time exit after 2 bars closes at the close.
    let timed = Exits::Simple { stop_loss: 0.5, take_profit: None, max_bars: 2 };
    let bt = run_exits(&b, &[Buy, Hold, Hold, Hold], &timed, &CostModel::new(0.0, 0.0).unwrap()).unwrap();
    close_enough(bt.trades[0].net_return, 98.5 / 100.0 - 1.0);
}

#[test]
fn ladder_exits_reuse_the_labeling_engine() {
    let bars = fixture_bars("BTCUSDT_4h.csv", Interval::H4);
    let signals: Vec<Signal> = (0..bars.len())
        .map(|i| {
            if i % 97 == 0 {
                Signal::Buy
            } else if i % 89 == 0 {
                Signal::Sell
            } else {
                Signal::Hold
            }
        })
        .collect();
    let cfg = LadderConfig::default();
    let costs = CostModel::new(2.0, 1.0).unwrap();
    let bt = run_exits(&bars, &signals, &Exits::Ladder(cfg.clone()), &costs).unwrap();
    assert!(bt.trades.len() > 10);
    for t in &bt.trades {
        let side = if t.side > 0 { vane_labeling::ladder::Side::Long } else { vane_labeling::ladder::Side::Short };
        let o = vane_labeling::ladder::simulate(&bars, t.entry_bar, bars.close()[t.entry_bar], side, &cfg);
        assert_eq!(t.exit_bar, o.exit_bar);
        close_enough(t.net_return, o.gross_return - 0.0003 * 2.0);
    }
    // No overlapping trades; positions are zero outside them.
    for w in bt.trades.windows(2) {
        assert!(w[1].entry_bar >= w[0].exit_bar);
    }
    assert!(bt.equity().iter().all(|e| e.is_finite() && *e > 0.0));
    let m = bt.metrics(Interval::H4.periods_per_year());
    assert_eq!(m.trade_count, bt.trades.len());
    assert!(m.exposure > 0.0 && m.exposure < 1.0);
}

#[test]
fn case_16_constant_and_huge_returns_give_null_or_true_ratios() {
    // Issue 12 case 16: constant returns gave a Sharpe of 6.7e16 (rounding noise of the mean
    // divided into it) and returns of 1e300 a Sharpe of 0 (squares overflowing).
    let m = compute_metrics(&[0.01; 50], 2190.0, None, &[]);
    assert!(m.sharpe.is_nan() && m.sortino.is_nan(), "{m:?}");
    assert_eq!(m.annual_volatility, 0.0);
    assert_eq!(serde_json::to_value(m).unwrap()["sharpe"], serde_json::Value::Null);
    // 1e300 and 3e300: mean 2e300, std (ddof 1) √2·1e300, Sharpe = 2/√2·√P.
    let m = compute_metrics(&[1e300, 3e300], 4.0, None, &[]);
    close_enough(m.sharpe, 2.0 / 2f64.sqrt() * 2.0);
    let m = compute_metrics(&[1e300; 3], 4.0, None, &[]);
    assert!(m.sharpe.is_nan());
}
