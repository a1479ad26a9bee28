//! `BacktestResult::metrics_over`: the metrics of a window of periods equal the metrics of the
//! sliced returns; the whole range equals `metrics`.

use vane_backtest::{Metrics, compute_metrics, run_positions};
use vane_costs::CostModel;

#[test]
fn window_metrics_equal_the_sliced_returns() {
    let close: Vec<f64> = (0..60).map(|i| 100.0 + (i as f64 * 0.7).sin() * 5.0 + i as f64 * 0.1).collect();
    // Flat, long over bars 10..20, short over 30..40, flat after.
    let pos: Vec<f64> = (0..60)
        .map(|i| match i {
            10..20 => 1.0,
            30..40 => -1.0,
            _ => 0.0,
        })
        .collect();
    let costs = CostModel { fee_bps: 10.0, slip_bps: 2.0, funding_bps_per_8h: 0.0 };
    let bt = run_positions(&close, &pos, &costs).unwrap();
    assert_eq!(json(&bt.metrics_over(2190.0, 1..60)), json(&bt.metrics(2190.0)));
    // The window 11..21 scores bars 11..=20: the long trade's periods and its exit cost.
    let m = bt.metrics_over(2190.0, 11..21);
    let want = compute_metrics(&bt.returns[11..21], 2190.0, Some(&pos[10..20]), &bt.trades[..1]);
    assert_eq!(json(&m), json(&want));
    assert_eq!((m.periods, m.trade_count), (10, 1));
    assert_eq!(m.exposure, 1.0); // the positions held over periods 11..=20 are those of bars 10..=19
}

/// Metrics as JSON (NaN → null), so undefined values compare equal.
fn json(m: &Metrics) -> serde_json::Value {
    serde_json::to_value(m).unwrap()
}
