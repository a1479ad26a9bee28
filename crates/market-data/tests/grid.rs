//! The 1-second grid (issue 15 item 1): sparse bars → a regular grid with flagged filled bars,
//! resampling the grid, the last-N-days selection.

use vane_core::{Bar, Bars, Extras, Interval, Timestamp};
use vane_market_data::{last_days, regularise, resample_grid};

fn bar(s: i64, o: f64, h: f64, l: f64, c: f64, v: f64) -> Bar {
    Bar::ohlcv(Timestamp(s * 1000), o, h, l, c, v)
}

#[test]
fn sparse_one_second_bars_by_hand() {
    // Bars at t = 0, 1, 4 s: the grid is 0..=4 with 2 and 3 filled, carrying the close of 1.
    let bars = Bars::from_bars(&[
        bar(0, 10.0, 11.0, 9.0, 10.5, 2.0),
        bar(1, 10.5, 12.0, 10.0, 11.0, 1.0),
        bar(4, 11.5, 11.5, 11.0, 11.2, 3.0),
    ])
    .unwrap();
    let g = regularise(&bars, Interval::S1).unwrap();
    assert_eq!(g.bars.open_time(), &[0, 1000, 2000, 3000, 4000]);
    assert_eq!(g.filled, vec![false, false, true, true, false]);
    assert_eq!(g.bars.open(), &[10.0, 10.5, 11.0, 11.0, 11.5]);
    assert_eq!(g.bars.high(), &[11.0, 12.0, 11.0, 11.0, 11.5]);
    assert_eq!(g.bars.low(), &[9.0, 10.0, 11.0, 11.0, 11.0]);
    assert_eq!(g.bars.close(), &[10.5, 11.0, 11.0, 11.0, 11.2]);
    assert_eq!(g.bars.volume(), &[2.0, 1.0, 0.0, 0.0, 3.0]);
    assert_eq!((g.n_filled(), g.n_real()), (2, 3));
    // Already regular: nothing changes.
    let again = regularise(&g.bars, Interval::S1).unwrap();
    assert_eq!(again.bars, g.bars);
    assert_eq!(again.n_filled(), 0);
}

#[test]
fn binance_columns_are_zero_on_filled_bars() {
    let b = |s: i64| Bar {
        quote_volume: Some(5.0),
        trades: Some(7),
        taker_buy_base: Some(1.0),
        taker_buy_quote: Some(2.0),
        ..bar(s, 10.0, 10.0, 10.0, 10.0, 1.0)
    };
    let g = regularise(&Bars::from_bars(&[b(10), b(12)]).unwrap(), Interval::S1).unwrap();
    assert_eq!(g.bars.extras(), Extras::BINANCE);
    let filled = g.bars.columns().row(1);
    assert_eq!(
        (filled.volume, filled.quote_volume, filled.trades, filled.taker_buy_base, filled.taker_buy_quote),
        (0.0, Some(0.0), Some(0), Some(0.0), Some(0.0))
    );
}

#[test]
fn any_interval_works() {
    // A 1-minute series with minutes 2 and 3 missing.
    let m = |k: i64, c: f64| Bar::ohlcv(Timestamp(k * 60_000), c, c, c, c, 1.0);
    let g = regularise(&Bars::from_bars(&[m(0, 1.0), m(1, 2.0), m(4, 3.0)]).unwrap(), Interval::M1).unwrap();
    assert_eq!(g.filled, vec![false, false, true, true, false]);
    assert_eq!(g.bars.close(), &[1.0, 2.0, 2.0, 2.0, 3.0]);
}

#[test]
fn unsorted_or_duplicate_input_is_refused_by_bars() {
    let e = Bars::from_bars(&[bar(2, 1.0, 1.0, 1.0, 1.0, 1.0), bar(1, 1.0, 1.0, 1.0, 1.0, 1.0)]).unwrap_err();
    assert!(e.to_string().contains("#1"), "{e}");
    assert!(Bars::from_bars(&[bar(1, 1.0, 1.0, 1.0, 1.0, 1.0), bar(1, 1.0, 1.0, 1.0, 1.0, 1.0)]).is_err());
}

#[test]
fn resampling_the_grid_to_5s_by_hand() {
    // Seconds 0..=14; trades at 0, 1, 4 (bucket 0), none in 5..=9 (bucket 5 is all filled),
    // 12 and 14 (bucket 10).
    let bars = Bars::from_bars(&[
        bar(0, 10.0, 11.0, 9.0, 10.5, 2.0),
        bar(1, 10.5, 12.0, 10.0, 11.0, 1.0),
        bar(4, 11.5, 11.5, 11.0, 11.2, 3.0),
        bar(12, 11.0, 11.4, 10.8, 11.3, 1.0),
        bar(14, 11.3, 11.6, 11.3, 11.5, 2.0),
    ])
    .unwrap();
    let g = regularise(&bars, Interval::S1).unwrap();
    assert_eq!(g.len(), 15);
    let r = resample_grid(&g, Interval::S5, false).unwrap();
    assert_eq!(r.interval, Interval::S5);
    assert_eq!(r.bars.open_time(), &[0, 5000, 10_000]);
    assert_eq!(r.filled, vec![false, true, false]);
    assert_eq!(r.bars.open(), &[10.0, 11.2, 11.2]);
    assert_eq!(r.bars.high(), &[12.0, 11.2, 11.6]);
    assert_eq!(r.bars.low(), &[9.0, 11.2, 10.8]);
    assert_eq!(r.bars.close(), &[11.2, 11.2, 11.5]);
    assert_eq!(r.bars.volume(), &[6.0, 0.0, 3.0]);
}

fn fixture() -> Bars {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/coinbase/BTCUSD_1s.csv");
    vane_market_data::read_csv(&path, Some(Interval::S1)).unwrap()
}

#[test]
fn the_real_sparse_day() {
    let bars = fixture();
    assert_eq!(bars.len(), 4063);
    let (first, last) = (bars.open_time()[0], *bars.open_time().last().unwrap());
    let g = regularise(&bars, Interval::S1).unwrap();
    assert_eq!(g.len() as i64, (last - first) / 1000 + 1);
    assert_eq!(g.len(), 86_395);
    assert_eq!(g.n_real(), 4063);
    assert_eq!(g.n_filled(), 86_395 - 4063);
    // Every source bar is on the grid unchanged.
    let real: Vec<i64> = g.bars.open_time().iter().zip(&g.filled).filter(|(_, f)| !**f).map(|(t, _)| *t).collect();
    assert_eq!(real, bars.open_time());
    // Every filled bar carries the close before it, with zero volume.
    for i in 1..g.len() {
        if g.filled[i] {
            assert_eq!(g.bars.close()[i], g.bars.close()[i - 1]);
            assert_eq!(g.bars.volume()[i], 0.0);
        }
    }
    // Seed 000's resampled horizons, on the grid; total volume is kept (inner buckets).
    for to in [Interval::S5, Interval::S10, Interval::S15, Interval::S30, Interval::M1] {
        let r = resample_grid(&g, to, true).unwrap();
        let sum: f64 = r.bars.volume().iter().sum();
        let want: f64 = bars.volume().iter().sum();
        assert!((sum - want).abs() < 1e-6 * want, "{to}: {sum} vs {want}");
        assert_eq!(r.bars.open_time().windows(2).filter(|w| w[1] - w[0] != to.millis()).count(), 0, "{to}");
        assert!(r.filled.iter().any(|&f| f) && r.filled.iter().any(|&f| !f), "{to}");
    }
}

#[test]
fn last_days_counts_back_from_the_last_bar() {
    let g = regularise(&fixture(), Interval::S1).unwrap();
    // 14 days asked, under one stored: all of it, said so.
    let (kept, sel) = last_days(&g.bars, Interval::S1, 14).unwrap();
    assert_eq!(kept.len(), g.len());
    assert!(sel.short && (sel.covered_days - 86_395.0 / 86_400.0).abs() < 1e-12);
    assert!(sel.describe().contains("14 days asked"), "{}", sel.describe());
    // A 2-second series asked for 1 day keeps both; a longer one keeps the last 86,400 seconds.
    let secs: Vec<Bar> = (0..200_000).map(|s| bar(s, 1.0, 1.0, 1.0, 1.0, 1.0)).collect();
    let long = Bars::from_bars(&secs).unwrap();
    let (kept, sel) = last_days(&long, Interval::S1, 1).unwrap();
    assert_eq!(kept.len(), 86_400);
    assert_eq!(kept.open_time()[0], (200_000 - 86_400) * 1000);
    assert!(!sel.short && sel.covered_days == 1.0);
    assert!(last_days(&long, Interval::S1, 0).is_err());
}
