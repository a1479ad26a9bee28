//! `PgStore::prepare` against a real server: preparing 70 % of a series and then all of it
//! leaves exactly the rows of one full recompute, equal bit for bit to the `full` feature set and
//! the expected-return ladder computed in memory (what `vane features --set full` and `vane label
//! --kind expected-return` print; the CLI test `postgres_pipeline` compares their CSVs). Each test
//! runs in its own throwaway database; without `DATABASE_URL` they skip, with
//! `VANE_REQUIRE_POSTGRES=1` they fail.

mod common;

use common::test_db;
use vane_core::{Bars, Interval, Symbol, Timestamp};
use vane_indicators::FeatureSet;
use vane_labeling::ladder::{LadderConfig, expected_returns};
use vane_postgres::{PgStore, PrepareOptions, ProcessedRows, ladder_class};

const EX: &str = "bybit-linear";
const ALL: (Timestamp, Timestamp) = (Timestamp(i64::MIN), Timestamp(i64::MAX));

fn sym(s: &str) -> Symbol {
    Symbol::new(s).unwrap()
}

/// Two weeks of real 15m candles (1344 bars).
fn candles() -> Bars {
    vane_testkit::fixture_bars("SOLUSDT_15m.csv", Interval::M15)
}

fn read(store: &PgStore, s: &Symbol) -> ProcessedRows {
    store.read_processed(EX, s, Interval::M15, FeatureSet::Full, ALL.0, ALL.1).unwrap()
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Every value of `a` equals `b`'s bit for bit (NaN included), apart from the series name.
fn assert_rows_bits_eq(a: &ProcessedRows, b: &ProcessedRows) {
    assert_eq!(a.open_time, b.open_time);
    assert_eq!(a.feature_version, b.feature_version);
    for (k, (x, y)) in a.features.iter().zip(&b.features).enumerate() {
        assert_eq!(bits(x), bits(y), "feature column {k}");
    }
    let ob = |v: &[Option<f64>]| v.iter().map(|x| x.map(f64::to_bits)).collect::<Vec<_>>();
    assert_eq!(ob(&a.er_long), ob(&b.er_long));
    assert_eq!(ob(&a.er_short), ob(&b.er_short));
    assert_eq!(a.exit_long_ms, b.exit_long_ms);
    assert_eq!(a.exit_short_ms, b.exit_short_ms);
    assert_eq!(a.label, b.label);
}

/// The rows equal the in-memory features and ladder of `bars`, bit for bit.
fn assert_equals_in_memory(rows: &ProcessedRows, bars: &Bars) {
    let frame = FeatureSet::Full.compute(bars);
    assert_eq!(rows.open_time, bars.open_time());
    assert_eq!(rows.features.len(), 49);
    for (k, c) in frame.columns().iter().enumerate() {
        assert_eq!(bits(&rows.features[k]), bits(c), "feature {}", frame.names()[k]);
    }
    let er = expected_returns(bars, &LadderConfig::default()).unwrap();
    let t = bars.open_time();
    for (i, v) in er.values.iter().enumerate() {
        assert_eq!(rows.er_long[i].map(f64::to_bits), v.as_ref().map(|e| e.er_long.to_bits()), "er_long {i}");
        assert_eq!(rows.er_short[i].map(f64::to_bits), v.as_ref().map(|e| e.er_short.to_bits()), "er_short {i}");
        assert_eq!(rows.exit_long_ms[i], v.as_ref().map(|e| t[e.exit_long]));
        assert_eq!(rows.exit_short_ms[i], v.as_ref().map(|e| t[e.exit_short]));
        assert_eq!(rows.label[i], v.as_ref().map(ladder_class));
    }
}

#[test]
fn prepare_in_two_steps_equals_one_full_recompute_bit_for_bit() {
    let Some(db) = test_db() else { return };
    let mut store = db.migrated();
    let bars = candles();
    let n = bars.len();
    let cut = n * 7 / 10;
    let (a, b) = (sym("STEPUSDT"), sym("ONCEUSDT"));
    let opts = PrepareOptions::default();

    // 70 % first: every bar processed, the last 100 without targets.
    store.upsert_bars(EX, &a, Interval::M15, &bars.slice(0..cut)).unwrap();
    let r1 = store.prepare(Some(EX), &a, Interval::M15, &opts).unwrap();
    assert_eq!((r1.bars, r1.rows_written, r1.processed_before), (cut, cut, 0));
    assert_eq!((r1.labelled, r1.pending_targets), (cut - 100, 100));
    assert_eq!(r1.recomputed, None);
    let first = read(&store, &a);
    assert_eq!(first.er_long.iter().filter(|v| v.is_none()).count(), 100);

    // Then all of it: only the new bars and the 100 rows whose targets were incomplete.
    store.upsert_bars(EX, &a, Interval::M15, &bars).unwrap();
    let r2 = store.prepare(None, &a, Interval::M15, &opts).unwrap();
    assert_eq!(r2.processed_before, cut as u64);
    assert_eq!(r2.rows_written, n - cut + 100, "{r2:?}");
    assert_eq!(r2.from_open_time_ms, Some(bars.open_time()[cut - 100]));
    assert_eq!((r2.upsert.inserted, r2.upsert.updated), ((n - cut) as u64, 100));
    assert_eq!((r2.labelled, r2.pending_targets), (n - 100, 100));

    // All at once.
    store.upsert_bars(EX, &b, Interval::M15, &bars).unwrap();
    let r3 = store.prepare(Some(EX), &b, Interval::M15, &opts).unwrap();
    assert_eq!(r3.rows_written, n);

    let (two_steps, once) = (read(&store, &a), read(&store, &b));
    assert_eq!(two_steps.len(), n);
    assert_rows_bits_eq(&two_steps, &once);
    assert_equals_in_memory(&once, &bars);
    // The earlier rows were left as the first run wrote them.
    assert_eq!(bits(&first.features[0][..cut]), bits(&two_steps.features[0][..cut]));
}

#[test]
fn prepare_again_writes_nothing_and_recompute_changes_nothing() {
    let Some(db) = test_db() else { return };
    let mut store = db.migrated();
    let bars = candles().slice(0..400);
    let s = sym("SOLUSDT");
    store.upsert_bars(EX, &s, Interval::M15, &bars).unwrap();
    store.prepare(None, &s, Interval::M15, &PrepareOptions::default()).unwrap();
    // The last 100 rows are still pending: they are rewritten, unchanged.
    let again = store.prepare(None, &s, Interval::M15, &PrepareOptions::default()).unwrap();
    assert_eq!((again.rows_written, again.upsert.unchanged, again.upsert.inserted), (100, 100, 0));
    let all =
        store.prepare(None, &s, Interval::M15, &PrepareOptions { recompute: true, ..Default::default() }).unwrap();
    assert_eq!((all.rows_written, all.upsert.unchanged), (400, 400));
    assert!(all.recomputed.is_some());
    assert_equals_in_memory(&read(&store, &s), &bars);
}

#[test]
fn a_bar_backfilled_before_the_last_processed_one_recomputes_everything() {
    let Some(db) = test_db() else { return };
    let mut store = db.migrated();
    let bars = candles().slice(0..500);
    let s = sym("GAPUSDT");
    // A gap at bar 200 first, filled later.
    let holey = bars.slice(0..200).merge(&bars.slice(201..500)).unwrap().0;
    store.upsert_bars(EX, &s, Interval::M15, &holey).unwrap();
    store.prepare(None, &s, Interval::M15, &PrepareOptions::default()).unwrap();
    store.upsert_bars(EX, &s, Interval::M15, &bars).unwrap();
    let r = store.prepare(None, &s, Interval::M15, &PrepareOptions::default()).unwrap();
    assert!(r.recomputed.as_deref().is_some_and(|w| w.contains("bars were added")), "{r:?}");
    assert_eq!(r.rows_written, 500);
    assert_equals_in_memory(&read(&store, &s), &bars);
}

#[test]
fn a_series_not_stored_is_not_found() {
    let Some(db) = test_db() else { return };
    let mut store = db.migrated();
    let e = store.prepare(None, &sym("NOPEUSDT"), Interval::M15, &PrepareOptions::default()).unwrap_err();
    assert_eq!(e.class(), vane_core::ErrorClass::Usage, "{e}");
    assert!(e.to_string().contains("NOPEUSDT"), "{e}");
}
