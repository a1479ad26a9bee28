//! Labellers on hand-computed cases, and leakage: a label depends only on the bars it looks at.

use vane_core::{Bar, Bars, Interval, Signal, Span};
use vane_labeling::barrier::{Touch, TripleBarrier, Vertical};
use vane_labeling::deadzone::DeadZone;
use vane_labeling::fixed::FixedHorizon;
use vane_labeling::ladder::{ExitReason, LadderConfig, Side, expected_returns, simulate};
use vane_labeling::weights::average_uniqueness;
use vane_testkit::{fixture_bars, ohlc_path as bars};

fn closes(cs: &[f64]) -> Bars {
    bars(&cs.iter().map(|&c| (c, c, c, c)).collect::<Vec<_>>())
}

/// σ of the returns +ln(1.01), −ln(1.01) (ddof 1) = √2·ln 1.01.
fn sigma() -> f64 {
    2f64.sqrt() * 1.01f64.ln()
}

#[test]
fn triple_barrier_by_hand() {
    // σ_2 from closes 100, 101, 100; barriers 100·e^{±σ} = 101.417 / 98.603.
    let tb = TripleBarrier::new(3, 2, 1.0, 1.0).unwrap();
    let l = tb.label(&closes(&[100.0, 101.0, 100.0, 101.0, 101.5, 99.0])).unwrap();
    let v = l.values[2].unwrap();
    assert!((v.sigma - sigma()).abs() < 1e-15);
    assert_eq!((v.label, v.touch_index), (1, 4));
    assert!((v.ret - 0.015).abs() < 1e-12);
    assert_eq!(l.spans[2], Some(Span::new(2, 4)));
    // Bars 0, 1 lack a σ window; 3.. lack a full horizon.
    assert!(l.values[0].is_none() && l.values[1].is_none() && l.values[3].is_none());

    // Lower barrier first.
    let l = tb.label(&closes(&[100.0, 101.0, 100.0, 99.0, 98.5, 103.0])).unwrap();
    assert_eq!((l.values[2].unwrap().label, l.values[2].unwrap().touch_index), (-1, 4));

    // Neither: vertical barrier, 0 or the sign of the return.
    let path = closes(&[100.0, 101.0, 100.0, 100.5, 99.5, 100.2]);
    let l = tb.label(&path).unwrap();
    assert_eq!((l.values[2].unwrap().label, l.values[2].unwrap().touch_index), (0, 5));
    assert!((l.values[2].unwrap().ret - 0.002).abs() < 1e-12);
    let signed = TripleBarrier { vertical: Vertical::Sign, ..tb };
    assert_eq!(signed.label(&path).unwrap().values[2].unwrap().label, 1);
}

#[test]
fn both_barriers_inside_one_bar_count_the_stop_first() {
    let tb = TripleBarrier { touch: Touch::HighLow, ..TripleBarrier::new(2, 2, 1.0, 1.0).unwrap() };
    // Bar 3 spans 98 .. 102: both barriers; the lower (the stop of a long view) counts.
    let b = bars(&[
        (100.0, 100.0, 100.0, 100.0),
        (101.0, 101.0, 101.0, 101.0),
        (100.0, 100.0, 100.0, 100.0),
        (100.0, 102.0, 98.0, 100.0),
        (100.0, 100.0, 100.0, 100.0),
    ]);
    let v = tb.label(&b).unwrap().values[2].unwrap();
    assert_eq!((v.label, v.touch_index), (-1, 3));
    assert!((v.ret - ((-sigma()).exp() - 1.0)).abs() < 1e-15, "return at the barrier price");
    // With closes only, the same bar closes flat: vertical.
    let close_only = TripleBarrier { touch: Touch::Close, ..tb };
    assert_eq!(close_only.label(&b).unwrap().values[2].unwrap().label, 0);
}

#[test]
fn flat_series_labels_zero_and_min_ret_filters() {
    let flat = closes(&[50.0; 12]);
    let tb = TripleBarrier::new(3, 4, 1.5, 1.5).unwrap();
    let l = tb.label(&flat).unwrap();
    let labels: Vec<i8> = l.iter().map(|(_, v, _)| v.label).collect();
    assert_eq!(labels, vec![0; 12 - 4 - 3]);
    assert!(l.iter().all(|(t, v, s)| v.ret == 0.0 && s == Span::new(t, t + 3)));
    let strict = TripleBarrier { min_ret: 0.001, ..tb };
    assert_eq!(strict.label(&flat).unwrap().labeled(), 0);
}

#[test]
fn meta_labels_follow_the_side() {
    let tb = TripleBarrier::new(3, 2, 1.0, 1.0).unwrap();
    let rising = closes(&[100.0, 101.0, 100.0, 101.0, 101.5, 99.0]);
    let mut sides = vec![None; 6];
    sides[2] = Some(1);
    let m = tb.meta_label(&rising, &sides).unwrap();
    assert_eq!((m.values[2].unwrap().label, m.values[2].unwrap().touch_index), (1, 4));
    // Short on the same path: the short's stop is the upper barrier, reached at bar 4.
    sides[2] = Some(-1);
    let m = tb.meta_label(&rising, &sides).unwrap();
    assert_eq!((m.values[2].unwrap().label, m.values[2].unwrap().touch_index), (0, 4));
    // Short on a falling path: profit at the lower barrier.
    let falling = closes(&[100.0, 101.0, 100.0, 99.0, 98.5, 103.0]);
    assert_eq!(tb.meta_label(&falling, &sides).unwrap().values[2].unwrap().label, 1);
    sides[2] = Some(2);
    assert!(tb.meta_label(&falling, &sides).is_err());
    assert!(tb.meta_label(&falling, &[None]).is_err());
}

fn ladder(rows: &[(f64, f64, f64, f64)], side: Side, cfg: &LadderConfig) -> vane_labeling::ladder::LadderOutcome {
    simulate(&bars(rows), 0, 100.0, side, cfg)
}

const ENTRY: (f64, f64, f64, f64) = (100.0, 100.0, 100.0, 100.0);

#[test]
fn ladder_hits_every_partial_then_the_final_target() {
    let cfg = LadderConfig::default();
    let path = [
        ENTRY,
        (100.0, 101.3, 99.5, 101.0),
        (101.0, 102.5, 100.5, 102.0),
        (102.0, 103.6, 101.5, 103.0),
        (103.0, 106.0, 102.6, 105.0),
    ];
    let o = ladder(&path, Side::Long, &cfg);
    let reasons: Vec<ExitReason> = o.fills.iter().map(|f| f.reason).collect();
    assert_eq!(
        reasons,
        vec![ExitReason::Partial(0), ExitReason::Partial(1), ExitReason::Partial(2), ExitReason::FinalTarget]
    );
    let want = 0.2 * 0.012 + 0.3 * 0.024 + 0.3 * 0.035 + 0.2 * 0.058;
    assert!((o.gross_return - want).abs() < 1e-15, "{} vs {want}", o.gross_return);
    assert_eq!(o.exit_bar, 4);
    assert!((o.fills.iter().map(|f| f.fraction).sum::<f64>() - 1.0).abs() < 1e-12);
    // Fees: 10 bps on the entry and on every exit's notional = 20 bps in all.
    let fee = LadderConfig { fee_bps: 10.0, ..cfg };
    let f = ladder(&path, Side::Long, &fee);
    assert!((f.net_return - (want - 0.002)).abs() < 1e-15);
}

#[test]
fn ladder_breakeven_then_stop() {
    // First partial on bar 1 (its low stays above the initial stop), then bar 2 dips to the
    // entry: the breakeven stop closes the remaining 80 % at 100.
    let o = ladder(
        &[ENTRY, (100.0, 101.3, 99.5, 101.0), (101.0, 101.1, 99.9, 100.2)],
        Side::Long,
        &LadderConfig::default(),
    );
    assert_eq!(o.fills.len(), 2);
    assert_eq!((o.fills[1].reason, o.fills[1].price, o.fills[1].bar), (ExitReason::Stop, 100.0, 2));
    assert!((o.fills[1].fraction - 0.8).abs() < 1e-12);
    assert!((o.gross_return - 0.2 * 0.012).abs() < 1e-15);
}

#[test]
fn ladder_profit_lock_after_the_second_partial() {
    // One bar reaches both +1.2 % and +2.4 % (ascending order); next bar falls to +1.2 %:
    // the locked stop closes the remaining 50 % there.
    let o = ladder(
        &[ENTRY, (100.0, 102.5, 99.5, 102.0), (102.0, 102.2, 101.1, 101.5)],
        Side::Long,
        &LadderConfig::default(),
    );
    let reasons: Vec<ExitReason> = o.fills.iter().map(|f| f.reason).collect();
    assert_eq!(reasons, vec![ExitReason::Partial(0), ExitReason::Partial(1), ExitReason::Stop]);
    assert!((o.fills[2].price - 101.2).abs() < 1e-12);
    assert!((o.gross_return - (0.2 * 0.012 + 0.3 * 0.024 + 0.5 * 0.012)).abs() < 1e-15);
}

#[test]
fn ladder_checks_the_stop_before_targets_inside_a_bar() {
    let o = ladder(&[ENTRY, (100.0, 101.5, 98.8, 101.0)], Side::Long, &LadderConfig::default());
    assert_eq!(o.fills.len(), 1);
    assert_eq!(o.fills[0].reason, ExitReason::Stop);
    assert!((o.gross_return - -0.011).abs() < 1e-15);
}

#[test]
fn ladder_short_mirrors_the_long() {
    // −1.2 % on bar 1, then the price returns to the entry: breakeven stop for the short.
    let o =
        ladder(&[ENTRY, (100.0, 100.5, 98.7, 99.0), (99.0, 100.1, 98.9, 100.0)], Side::Short, &LadderConfig::default());
    let reasons: Vec<ExitReason> = o.fills.iter().map(|f| f.reason).collect();
    assert_eq!(reasons, vec![ExitReason::Partial(0), ExitReason::Stop]);
    assert!((o.fills[0].price - 98.8).abs() < 1e-12);
    assert!((o.gross_return - 0.2 * (1.0 - 98.8 / 100.0)).abs() < 1e-15);
    // A short stopped at +1.1 %.
    let s = ladder(&[ENTRY, (100.0, 101.2, 99.9, 101.0)], Side::Short, &LadderConfig::default());
    assert!((s.gross_return - -0.011).abs() < 1e-12);
}

#[test]
fn ladder_closes_the_rest_at_the_horizon() {
    let cfg = LadderConfig { horizon: 2, ..LadderConfig::default() };
    let o = ladder(
        &[ENTRY, (100.0, 100.5, 99.5, 100.3), (100.3, 100.6, 99.8, 100.4), (100.4, 110.0, 100.0, 109.0)],
        Side::Long,
        &cfg,
    );
    assert_eq!(
        o.fills,
        vec![vane_labeling::ladder::Fill { bar: 2, price: 100.4, fraction: 1.0, reason: ExitReason::Horizon }]
    );
    assert!((o.gross_return - 0.004).abs() < 1e-12);
    assert!(LadderConfig { final_target: 0.03, ..LadderConfig::default() }.validate().is_err());
    assert!(LadderConfig { stop: 0.0, ..LadderConfig::default() }.validate().is_err());
}

#[test]
fn expected_returns_use_the_ladder_for_both_sides() {
    let b = fixture_bars("BTCUSDT_4h.csv", Interval::H4);
    let cfg = LadderConfig::default();
    let er = expected_returns(&b, &cfg).unwrap();
    assert_eq!(er.labeled(), b.len() - 100);
    for t in [0usize, 777, 2089] {
        let v = er.values[t].unwrap();
        let c = b.close()[t];
        assert_eq!(v.er_long, simulate(&b, t, c, Side::Long, &cfg).net_return);
        assert_eq!(v.er_short, simulate(&b, t, c, Side::Short, &cfg).net_return);
        assert_eq!(er.spans[t], Some(Span::new(t, v.exit_long.max(v.exit_short))));
        assert!(v.er_long >= -0.011 - 1e-12 && v.er_long <= 0.0317 + 1e-12, "bounded by the stop and the full ladder");
    }
}

/// Replaces every bar outside `keep` with a wild one; the label must not change.
fn scramble_outside(b: &Bars, keep: std::ops::RangeInclusive<usize>) -> Bars {
    Bars::from_bars(
        &b.iter()
            .enumerate()
            .map(
                |(i, bar)| {
                    if keep.contains(&i) { bar } else { Bar { open: 7.0, high: 9.0, low: 5.0, close: 8.0, ..bar } }
                },
            )
            .collect::<Vec<_>>(),
    )
    .unwrap()
}

#[test]
fn labels_depend_only_on_their_window() {
    let b = fixture_bars("ETHUSDT_4h.csv", Interval::H4);
    let fixed = FixedHorizon::new(6, 0.01).unwrap();
    let dz = DeadZone::new(6, 0.0005, 0.2).unwrap();
    let tb = TripleBarrier { touch: Touch::HighLow, ..TripleBarrier::new(12, 20, 1.5, 1.0).unwrap() };
    let cfg = LadderConfig { horizon: 30, ..LadderConfig::default() };
    let (f0, d0, t0, e0) =
        (fixed.label(b.close()), dz.label(b.close()), tb.label(&b).unwrap(), expected_returns(&b, &cfg).unwrap());
    for t in [100usize, 900, 1500] {
        // Fixed / dead zone: bars t and t+H only.
        let s = scramble_outside(&b, t..=t + 6);
        assert_eq!(fixed.label(s.close()).values[t], f0.values[t]);
        assert_eq!(dz.label(s.close()).values[t], d0.values[t]);
        // Triple barrier: its σ window (t−20..t) and its span up to the touch.
        let span = t0.spans[t].unwrap();
        let s = scramble_outside(&b, t - 20..=span.end);
        assert_eq!(tb.label(&s).unwrap().values[t], t0.values[t]);
        // Ladder: the entry bar up to the last exit.
        let span = e0.spans[t].unwrap();
        let s = scramble_outside(&b, t..=span.end);
        assert_eq!(expected_returns(&s, &cfg).unwrap().values[t], e0.values[t]);
    }
}

#[test]
fn fixed_labels_on_real_candles_and_uniqueness() {
    let b = fixture_bars("BTCUSDT_4h.csv", Interval::H4);
    let l = FixedHorizon::new(6, 0.01).unwrap().label(b.close());
    assert_eq!(l.labeled(), b.len() - 6);
    assert!(l.values[b.len() - 6..].iter().all(Option::is_none));
    let counts = [Signal::Buy, Signal::Sell, Signal::Hold].map(|s| l.iter().filter(|(_, v, _)| v.signal == s).count());
    assert_eq!(counts.iter().sum::<usize>(), b.len() - 6);
    assert!(counts.iter().all(|&c| c > 200), "{counts:?}");
    // H = 6: interior labels overlap 7 at a time on each bar → uniqueness 1/7.
    let u = average_uniqueness(&l.spans, b.len());
    assert!((u[1000].unwrap() - 1.0 / 7.0).abs() < 1e-12);
    assert!(u[0].unwrap() > 1.0 / 7.0);
}
