//! The PostgreSQL store against a real server: migrations, the parquet round trip bit for bit,
//! upserts counted, rollback of a failed COPY, an unreachable server, processed rows, the
//! analytics views on a planted case. Each test runs in its own throwaway database
//! (`common::test_db`); without `DATABASE_URL` the tests skip, with `VANE_REQUIRE_POSTGRES=1`
//! they fail.

mod common;

use std::time::Duration;

use common::test_db;
use vane_core::{Bar, Bars, ErrorClass, Interval, Symbol, Timestamp};
use vane_indicators::FeatureSet;
use vane_market_data::{ParquetStore, import_csv};
use vane_postgres::{MIGRATIONS, PgError, PgStore, PredictionRow, ProcessedRows, SeriesRef, processed_feature_columns};

const EX: &str = "bybit-linear";

fn sym(s: &str) -> Symbol {
    Symbol::new(s).unwrap()
}

/// `n` valid 15m bars from `start` (ms), with Binance's optional columns.
fn synthetic(start: i64, n: usize, seed: f64) -> Bars {
    let bars: Vec<Bar> = (0..n)
        .map(|i| {
            let c = 100.0 + seed + (i as f64 * 0.37).sin() * 5.0 + i as f64 * 0.001;
            Bar {
                quote_volume: Some(c * 10.0),
                trades: Some(i as u64 % 97),
                taker_buy_base: Some(4.0),
                taker_buy_quote: Some(c * 4.0),
                ..Bar::ohlcv(Timestamp(start + i as i64 * 900_000), c, c + 1.0, c - 1.0, c + 0.5, 10.0 + i as f64 % 7.0)
            }
        })
        .collect();
    Bars::from_bars(&bars).unwrap()
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn assert_bits_eq(a: &Bars, b: &Bars) {
    assert_eq!(a.len(), b.len());
    assert_eq!(a.extras(), b.extras());
    assert_eq!(a.open_time(), b.open_time());
    for (x, y) in [(a.open(), b.open()), (a.high(), b.high()), (a.low(), b.low()), (a.close(), b.close())] {
        assert_eq!(bits(x), bits(y));
    }
    assert_eq!(bits(a.volume()), bits(b.volume()));
    let (ca, cb) = (a.columns(), b.columns());
    assert_eq!(ca.quote_volume.as_deref().map(bits), cb.quote_volume.as_deref().map(bits));
    assert_eq!(ca.trades, cb.trades);
    assert_eq!(ca.taker_buy_base.as_deref().map(bits), cb.taker_buy_base.as_deref().map(bits));
    assert_eq!(ca.taker_buy_quote.as_deref().map(bits), cb.taker_buy_quote.as_deref().map(bits));
    assert_eq!(a, b);
}

const ALL: (Timestamp, Timestamp) = (Timestamp(i64::MIN), Timestamp(i64::MAX));

#[test]
fn migrations_up_from_empty_and_idempotent() {
    let Some(db) = test_db() else { return };
    let mut s = db.store();
    let st = s.status().unwrap();
    assert_eq!(st.database_version, 0);
    assert_eq!(st.pending.len(), MIGRATIONS.len());
    // A data call on an unmigrated database says what to run, and creates nothing.
    let e = s.upsert_bars(EX, &sym("BTCUSDT"), Interval::M15, &synthetic(0, 3, 0.0)).unwrap_err();
    assert!(matches!(e, PgError::NotMigrated { .. }), "{e}");
    assert!(e.to_string().contains("vane db migrate"), "{e}");
    assert_eq!(e.class(), ErrorClass::Usage);

    let first = s.migrate().unwrap();
    assert_eq!(first.newly_applied.len(), MIGRATIONS.len());
    assert!(first.pending.is_empty());
    assert_eq!(first.database_version, MIGRATIONS.len() as i64);
    let second = s.migrate().unwrap();
    assert!(second.newly_applied.is_empty(), "{:?}", second.newly_applied);
    assert_eq!(second.applied, first.applied);
    // A second connection migrating again changes nothing either.
    assert!(db.store().migrate().unwrap().newly_applied.is_empty());
    for t in ["raw_market_data", "processed_market_data", "model_metadata", "training_sequences", "model_predictions"] {
        let n: i64 = s.block_on(s.client().query_one(&format!("SELECT count(*) FROM {t}"), &[])).unwrap().get(0);
        assert_eq!(n, 0, "{t}");
    }
    for v in ["model_symbol_metrics", "model_symbol_ladder", "model_daily_metrics"] {
        s.block_on(s.client().query(&format!("SELECT * FROM {v}"), &[])).unwrap();
    }
}

#[test]
fn a_newer_schema_is_refused() {
    let Some(db) = test_db() else { return };
    let mut s = db.migrated();
    s.block_on(s.client().batch_execute(
        "INSERT INTO vane_schema_migrations (version, name, checksum) VALUES (999, 'from_the_future', '0')",
    ))
    .unwrap();
    let e = s.migrate().unwrap_err();
    assert!(matches!(e, PgError::SchemaTooNew { database: 999, .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("999") && msg.contains(&MIGRATIONS.len().to_string()), "{msg}");
    assert_eq!(e.class(), ErrorClass::Data);
    // Data calls on a fresh connection are refused the same way.
    let mut fresh = db.store();
    let e = fresh.upsert_bars(EX, &sym("BTCUSDT"), Interval::M15, &synthetic(0, 3, 0.0)).unwrap_err();
    assert!(matches!(e, PgError::SchemaTooNew { .. }), "{e}");
    assert!(fresh.status().unwrap().is_newer_than_binary());
}

#[test]
fn a_changed_migration_is_refused() {
    let Some(db) = test_db() else { return };
    let s = db.migrated();
    s.block_on(s.client().batch_execute("UPDATE vane_schema_migrations SET checksum = 'deadbeef' WHERE version = 1"))
        .unwrap();
    let e = db.store().migrate().unwrap_err();
    assert!(matches!(e, PgError::MigrationChanged { version: 1, .. }), "{e}");
}

#[test]
fn csv_round_trip_equals_the_parquet_path_bit_for_bit() {
    let Some(db) = test_db() else { return };
    let mut s = db.migrated();
    let csv = vane_testkit::fixtures_dir().join("BTCUSDT_4h.csv");
    let symbol = sym("BTCUSDT");
    let dir = tempfile::tempdir().unwrap();
    let parquet = ParquetStore::new(dir.path());
    import_csv(&parquet, &csv, &symbol, Interval::H4).unwrap();
    let from_parquet = parquet.read(&symbol, Interval::H4).unwrap();

    let rep = s.import_csv(EX, &csv, &symbol, Interval::H4).unwrap();
    assert_eq!(rep.rows_read, from_parquet.len());
    assert_eq!(rep.upsert.inserted, from_parquet.len() as u64);
    assert_eq!(rep.total, from_parquet.len() as u64);
    let from_pg = s.read_bars(None, &symbol, Interval::H4, ALL.0, ALL.1).unwrap();
    assert_bits_eq(&from_pg, &from_parquet);

    // A time range, and the streaming reader in chunks, give the same bars.
    let (a, b) = (from_parquet.open_time()[100], from_parquet.open_time()[400]);
    let part = s.read_bars(Some(EX), &symbol, Interval::H4, Timestamp(a), Timestamp(b)).unwrap();
    assert_bits_eq(&part, &parquet.read_range(&symbol, Interval::H4, Timestamp(a), Timestamp(b)).unwrap());
    let mut chunks = Vec::new();
    s.stream_bars(Some(EX), &symbol, Interval::H4, ALL.0, ALL.1, 256, &mut |c| {
        chunks.push(c);
        Ok(())
    })
    .unwrap();
    assert!(chunks.len() > 1 && chunks.iter().all(|c| c.len() <= 256));
    let joined = chunks.iter().skip(1).fold(chunks[0].clone(), |acc, c| acc.merge(c).unwrap().0);
    assert_bits_eq(&joined, &from_parquet);

    // The store's inventory.
    let info = s.series_info().unwrap();
    assert_eq!(info.len(), 1);
    assert_eq!((info[0].exchange.as_str(), info[0].symbol.as_str(), info[0].interval.as_str()), (EX, "BTCUSDT", "4h"));
    assert_eq!(info[0].rows, from_parquet.len());
    assert_eq!(info[0].first_open_time_ms, from_parquet.first_open_time().map(|t| t.0));
    assert_eq!(info[0].gaps, vane_market_data::gap_report(from_parquet.open_time(), Interval::H4).gaps);

    // The open_time column Metabase reads is the same instant.
    let ok: bool = s
        .block_on(s.client().query_one(
            "SELECT bool_and(open_time = 'epoch'::timestamptz + open_time_ms * interval '1 millisecond') FROM raw_market_data",
            &[],
        ))
        .unwrap()
        .get(0);
    assert!(ok);
}

#[test]
fn a_symbol_not_in_the_store_is_not_found() {
    let Some(db) = test_db() else { return };
    let mut s = db.migrated();
    s.upsert_bars(EX, &sym("BTCUSDT"), Interval::M15, &synthetic(0, 5, 0.0)).unwrap();
    let e = s.read_bars(None, &sym("DOGEUSDT"), Interval::M15, ALL.0, ALL.1).unwrap_err();
    assert!(matches!(e, PgError::NotFound { .. }), "{e}");
    assert_eq!(e.class(), ErrorClass::Usage);
    let msg = e.to_string();
    assert!(msg.contains("DOGEUSDT 15m") && msg.contains("bybit-linear BTCUSDT 15m"), "{msg}");
    let e = s.read_bars(Some("binance-spot"), &sym("BTCUSDT"), Interval::M15, ALL.0, ALL.1).unwrap_err();
    assert!(matches!(e, PgError::NotFound { .. }), "{e}");
    // A stored series with nothing in the range is empty, not missing.
    let none = s.read_bars(None, &sym("BTCUSDT"), Interval::M15, Timestamp(10_000_000), ALL.1).unwrap();
    assert!(none.is_empty());
}

#[test]
fn duplicates_are_upserted_and_counted() {
    let Some(db) = test_db() else { return };
    let mut s = db.migrated();
    let symbol = sym("ETHUSDT");
    let start = 1_700_000_100_000; // a multiple of 15 minutes
    let bars = synthetic(start, 100, 3.0);
    let r = s.upsert_bars(EX, &symbol, Interval::M15, &bars).unwrap();
    assert_eq!((r.rows, r.inserted, r.updated, r.unchanged), (100, 100, 0, 0));
    let r = s.upsert_bars(EX, &symbol, Interval::M15, &bars).unwrap();
    assert_eq!((r.rows, r.inserted, r.updated, r.unchanged), (100, 0, 0, 100));
    // The last 50 again (10 of them changed) plus 50 new ones.
    let mut next: Vec<Bar> = synthetic(start, 150, 3.0).iter().skip(50).collect();
    for b in next.iter_mut().take(10) {
        b.close = b.open;
    }
    let next = Bars::from_bars(&next).unwrap();
    assert_eq!(&next.open_time()[..50], &bars.open_time()[50..]);
    let r = s.upsert_bars(EX, &symbol, Interval::M15, &next).unwrap();
    assert_eq!((r.rows, r.inserted, r.updated, r.unchanged), (100, 50, 10, 40));
    let all = s.read_bars(Some(EX), &symbol, Interval::M15, ALL.0, ALL.1).unwrap();
    assert_eq!(all.len(), 150);
    assert_bits_eq(&all, &bars.merge(&next).unwrap().0);
    // The same series twice in one write is refused before anything is sent.
    let e = s
        .upsert_bars_many(&[
            SeriesRef { exchange: EX, symbol: &symbol, interval: Interval::M15, bars: &bars },
            SeriesRef { exchange: EX, symbol: &symbol, interval: Interval::M15, bars: &next },
        ])
        .unwrap_err();
    assert_eq!(e.class(), ErrorClass::Usage, "{e}");
}

fn count(s: &PgStore, symbol: &str) -> i64 {
    s.block_on(s.client().query_one("SELECT count(*) FROM raw_market_data WHERE symbol = $1", &[&symbol]))
        .unwrap()
        .get(0)
}

#[test]
fn a_copy_failing_half_way_rolls_back() {
    let Some(db) = test_db() else { return };
    let mut s = db.migrated();
    let (a, b) = (sym("AAAUSDT"), sym("BBBUSDT"));
    let old = synthetic(0, 10, 0.0);
    s.upsert_bars(EX, &a, Interval::M15, &old).unwrap();
    // A new version of A, then B whose 600th bar cannot be stored (a trade count beyond BIGINT):
    // the COPY has sent A and 599 bars of B when it fails.
    let newer = synthetic(0, 20, 1.0);
    let mut rows: Vec<Bar> = synthetic(0, 1000, 2.0).iter().collect();
    rows[599].trades = Some(u64::MAX);
    let bad = Bars::from_bars(&rows).unwrap();
    let e = s
        .upsert_bars_many(&[
            SeriesRef { exchange: EX, symbol: &a, interval: Interval::M15, bars: &newer },
            SeriesRef { exchange: EX, symbol: &b, interval: Interval::M15, bars: &bad },
        ])
        .unwrap_err();
    assert!(e.to_string().contains("bar #599"), "{e}");
    assert_eq!(count(&s, "BBBUSDT"), 0);
    assert_eq!(count(&s, "AAAUSDT"), 10);
    assert_bits_eq(&s.read_bars(Some(EX), &a, Interval::M15, ALL.0, ALL.1).unwrap(), &old);
    // The connection is still usable.
    assert_eq!(s.upsert_bars(EX, &b, Interval::M15, &synthetic(0, 5, 0.0)).unwrap().inserted, 5);
}

#[test]
fn a_connection_dropped_during_copy_rolls_back() {
    let Some(db) = test_db() else { return };
    let mut s = db.migrated();
    let pid: i32 = s.block_on(s.client().query_one("SELECT pg_backend_pid()", &[])).unwrap().get(0);
    let killer_url = db.url.clone();
    // Kill the writer's backend as soon as it is seen running its COPY.
    let killer = std::thread::spawn(move || {
        let k = PgStore::connect(&killer_url).unwrap();
        for _ in 0..4000 {
            let r = k
                .block_on(k.client().query_one(
                    "SELECT coalesce(bool_or(query LIKE 'COPY%' AND state = 'active'), false) FROM pg_stat_activity WHERE pid = $1",
                    &[&pid],
                ))
                .unwrap();
            if r.get::<_, bool>(0) {
                k.block_on(k.client().query_one("SELECT pg_terminate_backend($1)", &[&pid])).unwrap();
                return true;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        false
    });
    let big = synthetic(0, 1_500_000, 0.0);
    let r = s.upsert_bars(EX, &sym("BIGUSDT"), Interval::M15, &big);
    assert!(killer.join().unwrap(), "the COPY was never seen running");
    let e = r.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Network, "{e}");
    let other = db.migrated();
    assert_eq!(count(&other, "BIGUSDT"), 0);
}

#[test]
fn an_unreachable_server_is_named_by_host_and_port() {
    // Port 1 on loopback: nothing listens there.
    let e =
        PgStore::connect_with_timeout("postgres://vane:hunter2@127.0.0.1:1/vane", Duration::from_secs(3)).unwrap_err();
    assert!(matches!(e, PgError::Unreachable { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("127.0.0.1:1"), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");
    assert_eq!(e.class(), ErrorClass::Network);
}

#[test]
fn processed_columns_are_the_full_set_header() {
    assert_eq!(processed_feature_columns(), FeatureSet::Full.columns().as_slice());
    assert_eq!(processed_feature_columns().len(), 49);
    let Some(db) = test_db() else { return };
    let s = db.migrated();
    let rows = s
        .block_on(s.client().query(
            "SELECT column_name::text FROM information_schema.columns WHERE table_name = 'processed_market_data' ORDER BY ordinal_position",
            &[],
        ))
        .unwrap();
    let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    let i = names.iter().position(|n| n == "feature_version").unwrap();
    assert_eq!(&names[i + 1..i + 50], processed_feature_columns());
    assert_eq!(&names[i + 50..], ["er_long", "er_short", "exit_long_ms", "exit_short_ms", "label"]);
}

#[test]
fn processed_rows_round_trip_bit_for_bit() {
    let Some(db) = test_db() else { return };
    let mut s = db.migrated();
    let bars = vane_testkit::fixture_bars("BTCUSDT_4h.csv", Interval::H4);
    let symbol = sym("BTCUSDT");
    let frame = FeatureSet::Full.compute(&bars);
    let cfg = vane_labeling::ladder::LadderConfig::default();
    let er = vane_labeling::ladder::expected_returns(&bars, &cfg).unwrap();
    let mut rows = ProcessedRows::new(EX, &symbol, Interval::H4, FeatureSet::Full).unwrap();
    rows.open_time = bars.open_time().to_vec();
    rows.features = frame.columns().to_vec();
    let t = bars.open_time();
    for v in &er.values {
        rows.er_long.push(v.as_ref().map(|v| v.er_long));
        rows.er_short.push(v.as_ref().map(|v| v.er_short));
        rows.exit_long_ms.push(v.as_ref().map(|v| t[v.exit_long]));
        rows.exit_short_ms.push(v.as_ref().map(|v| t[v.exit_short]));
        rows.label.push(v.as_ref().map(|v| i16::from(v.er_long > 0.0)));
    }
    let r = s.upsert_processed(&rows).unwrap();
    assert_eq!(r.inserted, bars.len() as u64);
    assert_eq!(s.upsert_processed(&rows).unwrap().unchanged, bars.len() as u64);
    let back = s.read_processed(EX, &symbol, Interval::H4, FeatureSet::Full, ALL.0, ALL.1).unwrap();
    assert_eq!(back.open_time, rows.open_time);
    assert_eq!(back.feature_version, 1);
    for (k, (a, b)) in back.features.iter().zip(&rows.features).enumerate() {
        assert_eq!(bits(a), bits(b), "column {}", processed_feature_columns()[k]);
    }
    assert_eq!(back.er_long, rows.er_long);
    assert_eq!(back.exit_short_ms, rows.exit_short_ms);
    assert_eq!(back.label, rows.label);
    assert!(back.er_long.iter().any(Option::is_none) && back.er_long.iter().any(Option::is_some));
    // Other sets have no table.
    assert_eq!(ProcessedRows::new(EX, &symbol, Interval::H4, FeatureSet::V1).unwrap_err().class(), ErrorClass::Usage);
}

fn pred(
    model: &str,
    symbol: &str,
    t: i64,
    p: f64,
    r: Option<f64>,
    long: Option<f64>,
    short: Option<f64>,
) -> PredictionRow {
    PredictionRow {
        model_id: model.into(),
        symbol: symbol.into(),
        interval: "15m".into(),
        open_time_ms: t,
        horizon: 100,
        prediction: p,
        probabilities: Some(vec![0.25, 0.75]),
        realised: r,
        realised_long: long,
        realised_short: short,
    }
}

#[test]
fn analytics_views_return_the_hand_computed_planted_case() {
    let Some(db) = test_db() else { return };
    let mut s = db.migrated();
    // The views must not depend on the session's time zone.
    s.block_on(s.client().batch_execute("SET TIME ZONE 'Asia/Tokyo'")).unwrap();
    let day1 = 1_704_067_200_000; // 2024-01-01T00:00Z
    let day2 = day1 + 86_400_000;
    let q = 900_000;
    let rows = vec![
        // prediction, realised:         |p - r|   (p - r)^2   sign match
        pred("M", "BTCUSDT", day1, 0.5, Some(0.25), Some(0.012), Some(-0.02)), //  0.25  0.0625  yes (long, +0.012 hit)
        pred("M", "BTCUSDT", day2 - q, -0.25, Some(-0.5), Some(0.01), Some(-0.011)), //  0.25  0.0625  yes (short, -0.011 miss)
        pred("M", "BTCUSDT", day2, 0.75, Some(-0.25), Some(0.03), None), //  1.00  1.0     no  (long, +0.03 hit)
        pred("M", "BTCUSDT", day2 + q, 0.0, Some(0.5), Some(0.05), Some(0.05)), //  0.50  0.25    no  (no trade)
        pred("M", "BTCUSDT", day2 + 2 * q, 0.3, None, None, None),       // not yet realised: ignored
        pred("M", "ETHUSDT", day1, -1.0, Some(-1.0), None, Some(0.02)),
        pred("N", "BTCUSDT", day1, 1.0, Some(1.0), None, None),
    ];
    let r = s.upsert_predictions(&rows).unwrap();
    assert_eq!((r.inserted, r.updated), (7, 0));
    // Written again: unchanged; with its realised target filled in: updated (and then scored
    // below, so it is written back as it was).
    assert_eq!(s.upsert_predictions(&rows[4..5]).unwrap().unchanged, 1);
    let mut later = rows[4].clone();
    later.realised = Some(0.3);
    assert_eq!(s.upsert_predictions(&[later]).unwrap().updated, 1);
    assert_eq!(s.upsert_predictions(&rows[4..5]).unwrap().updated, 1);

    let m = s.symbol_metrics(Some("M")).unwrap();
    assert_eq!(m.len(), 2);
    let btc = &m[0];
    assert_eq!((btc.model_id.as_str(), btc.symbol.as_str(), btc.n), ("M", "BTCUSDT", 4));
    // MAE = (0.25 + 0.25 + 1 + 0.5) / 4; MSE = 1.375 / 4; mean realised = 0, SS_tot = 0.625,
    // R² = 1 - 1.375 / 0.625 = -1.2; direction: 2 of 4.
    assert_eq!(btc.mae, 0.5);
    assert!((btc.rmse - (1.375f64 / 4.0).sqrt()).abs() < 1e-15, "{}", btc.rmse);
    assert!((btc.r2.unwrap() - (-1.2)).abs() < 1e-12, "{:?}", btc.r2);
    assert_eq!(btc.direction_accuracy, 0.5);
    // ETH: one exact prediction; R² undefined (no variance).
    assert_eq!((m[1].symbol.as_str(), m[1].n, m[1].mae, m[1].r2), ("ETHUSDT", 1, 0.0, None));
    assert_eq!(s.symbol_metrics(None).unwrap().len(), 3);

    let l = s.ladder_metrics(Some("M")).unwrap();
    let btc = &l[0];
    // Trades: long +0.012 (hit), short -0.011 (miss), long +0.03 (hit); prediction 0: no trade.
    assert_eq!((btc.symbol.as_str(), btc.trades), ("BTCUSDT", 3));
    assert!((btc.hit_rate - 2.0 / 3.0).abs() < 1e-15);
    assert!((btc.total_return - 0.031).abs() < 1e-15);
    assert!((btc.mean_return - 0.031 / 3.0).abs() < 1e-15);
    assert_eq!((l[1].symbol.as_str(), l[1].trades, l[1].hit_rate), ("ETHUSDT", 1, 1.0));

    let d = s.daily_metrics(Some("M")).unwrap();
    let btc: Vec<_> = d.iter().filter(|x| x.symbol == "BTCUSDT").collect();
    assert_eq!(btc.len(), 2);
    // 2024-01-01: 00:00 and 23:45 UTC; 2024-01-02: 00:00 and 00:15.
    assert_eq!((btc[0].day.as_str(), btc[0].n, btc[0].mae, btc[0].direction_accuracy), ("2024-01-01", 2, 0.25, 1.0));
    assert_eq!((btc[1].day.as_str(), btc[1].n, btc[1].mae, btc[1].direction_accuracy), ("2024-01-02", 2, 0.75, 0.0));
}

#[test]
fn model_metadata_and_training_sequences_round_trip() {
    let Some(db) = test_db() else { return };
    let mut s = db.migrated();
    let m = vane_postgres::ModelMetadata {
        model_id: "tft-global".into(),
        kind: "tft".into(),
        config: serde_json::json!({"d_model": 128, "heads": 8}),
        feature_schema: serde_json::json!({"set": "full", "version": 1}),
        metrics: serde_json::json!({"mae": 0.02}),
        artifact_path: Some("artifacts/models/tft-global".into()),
    };
    s.upsert_model(&m).unwrap();
    s.upsert_model(&m).unwrap();
    assert_eq!(s.model("tft-global").unwrap(), Some(m));
    assert_eq!(s.model("nope").unwrap(), None);
    let seq = vane_postgres::TrainingSequence {
        run_id: "run-1".into(),
        model_id: "tft-global".into(),
        exchange: EX.into(),
        symbol: "BTCUSDT".into(),
        interval: "15m".into(),
        split: "train".into(),
        window_index: 0,
        start_ms: 0,
        end_ms: 900_000 * 99,
        feature_set: "full".into(),
        feature_version: 1,
        seq_len: 60,
        horizon: 100,
        rows: 41,
    };
    let test = vane_postgres::TrainingSequence { split: "test".into(), ..seq.clone() };
    s.upsert_training_sequences(&[seq.clone(), test.clone()]).unwrap();
    assert_eq!(s.training_sequences("run-1").unwrap().len(), 2);
    let bad = vane_postgres::TrainingSequence { split: "holdout".into(), ..seq };
    assert_eq!(s.upsert_training_sequences(&[bad]).unwrap_err().class(), ErrorClass::Data);
    assert_eq!(s.training_sequences("run-1").unwrap().len(), 2);
}
