//! The parquet store with the real fixture candles: round trips, merges, concurrent writers,
//! range reads.

use std::sync::Arc;

use vane_core::{Interval, Symbol, Timestamp};
use vane_market_data::ParquetStore;
use vane_testkit::fixture_bars;

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

#[test]
fn fixture_round_trips_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let store = ParquetStore::new(dir.path());
    for (file, sym, iv) in [
        ("BTCUSDT_4h.csv", "BTCUSDT", Interval::H4),
        ("bybit_perp/BTCUSDT_1m.csv", "BTCUSDT", Interval::M1),
        ("coinbase/ETHUSD_1m.csv", "ETHUSD", Interval::M1),
    ] {
        let bars = fixture_bars(file, iv);
        let symbol = Symbol::new(sym).unwrap();
        store.append(&symbol, iv, &bars).unwrap();
        assert_eq!(store.read(&symbol, iv).unwrap(), bars, "{file}");
        assert_eq!(store.last_open_time(&symbol, iv).unwrap(), bars.last_open_time());
    }
}

#[test]
fn appending_overlapping_pieces_in_any_order_gives_the_whole() {
    let bars = fixture_bars("ETHUSDT_4h.csv", Interval::H4);
    let pieces = [1500..2190, 0..700, 600..1600, 2000..2190, 0..1];
    let dir = tempfile::tempdir().unwrap();
    let store = ParquetStore::new(dir.path()).with_row_group_rows(128);
    let mut added = 0;
    for r in pieces {
        added += store.append(&btc(), Interval::H4, &bars.slice(r)).unwrap().added;
    }
    assert_eq!(added, 2190);
    assert_eq!(store.read(&btc(), Interval::H4).unwrap(), bars);
}

#[test]
fn concurrent_appends_lose_nothing() {
    // Four threads append interleaved slices of the same series at once; the series lock
    // serialises the read-merge-write cycles, so the result is the union.
    let bars = Arc::new(fixture_bars("BTCUSDT_4h.csv", Interval::H4));
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(ParquetStore::new(dir.path()));
    let handles: Vec<_> = (0..4)
        .map(|k| {
            let (bars, store) = (bars.clone(), store.clone());
            std::thread::spawn(move || {
                for chunk in (k * 100..bars.len()).step_by(400) {
                    store.append(&btc(), Interval::H4, &bars.slice(chunk..chunk + 100)).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(store.read(&btc(), Interval::H4).unwrap(), *bars);
}

#[test]
fn one_day_range_read() {
    let bars = fixture_bars("SOLUSDT_15m.csv", Interval::M15);
    let dir = tempfile::tempdir().unwrap();
    let store = ParquetStore::new(dir.path()).with_row_group_rows(96);
    let sol = Symbol::new("SOLUSDT").unwrap();
    store.write(&sol, Interval::M15, &bars).unwrap();
    let day = Timestamp::from_ymd(2025, 1, 10).unwrap();
    let got = store.read_range(&sol, Interval::M15, day, day.add_millis(86_400_000)).unwrap();
    assert_eq!(got.len(), 96);
    assert_eq!(got, bars.between(day, day.add_millis(86_400_000)));
}
