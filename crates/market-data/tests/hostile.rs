//! Hostile input for the data side (issue 12): corrupt store files, out-of-range times, bad CSV
//! headers, exchanges that misbehave. Each test is named after the case number.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use vane_core::{Bar, Bars, Extras, Interval, Symbol, Timestamp};
use vane_market_data::{
    DownloadRequest, Downloader, Exchange, ParquetStore, RetryPolicy, Sleeper, TimeRange, import_csv_in,
    read_parquet_file,
};
use vane_testkit::{Fault, Flavor, MockExchange, fixture_bars};

fn sym(s: &str) -> Symbol {
    Symbol::new(s).unwrap()
}

/// A clock at 2024-06-01.
const NOW: Timestamp = Timestamp(1_717_200_000_000);

fn range() -> TimeRange {
    TimeRange::at(NOW)
}

#[test]
fn case_09_bit_flip_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // Two row groups, so flips land in both, and the footer's checksum list has two entries.
    let store = ParquetStore::new(dir.path()).with_row_group_rows(1200);
    let s = sym("BTCUSDT");
    let bars = fixture_bars("BTCUSDT_4h.csv", Interval::H4);
    store.write(&s, Interval::H4, &bars).unwrap();
    let path = store.path(&s, Interval::H4);
    let good = std::fs::read(&path).unwrap();
    assert_eq!(read_parquet_file(&path).unwrap(), bars);
    let footer_len = u32::from_le_bytes(good[good.len() - 8..good.len() - 4].try_into().unwrap()) as usize;
    let data_end = good.len() - 8 - footer_len;
    let positions: Vec<usize> = (0..60).map(|i| 4 + i * (data_end - 4) / 60).collect();
    let mut errors = 0;
    for (k, &pos) in positions.iter().enumerate() {
        let mut bad = good.clone();
        bad[pos] ^= 1 << (k % 8);
        std::fs::write(&path, &bad).unwrap();
        for read in [read_parquet_file(&path), store.read(&s, Interval::H4)] {
            match read {
                Ok(got) => assert_eq!(got, bars, "a flip at byte {pos} changed the bars silently"),
                Err(e) => {
                    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
                    assert_eq!(e.class(), vane_core::ErrorClass::Data, "{e}");
                    errors += 1;
                }
            }
        }
    }
    // Nearly every flip in the data pages changes a value: most must be caught.
    assert!(errors >= 80, "only {errors} of 120 reads failed");
    // And in the footer: an error or the same bars, never different bars.
    for pos in (data_end..good.len() - 8).step_by(7) {
        let mut bad = good.clone();
        bad[pos] ^= 0x10;
        std::fs::write(&path, &bad).unwrap();
        if let Ok(got) = read_parquet_file(&path) {
            assert_eq!(got, bars, "a footer flip at byte {pos} changed the bars silently");
        }
    }
}

#[test]
fn case_09_files_without_checksums_still_read() {
    // A file written by another tool (no vane.crc32) is read unverified, and data info says so.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.parquet");
    let keys: Vec<i64> = vec![0, 60_000];
    vane_market_data::write_table_parquet(
        &path,
        "open_time",
        &keys,
        &["open", "high", "low", "close", "volume"].map(String::from),
        &[vec![1.0, 1.0], vec![2.0, 2.0], vec![0.5, 0.5], vec![1.5, 1.5], vec![3.0, 3.0]],
    )
    .unwrap();
    assert_eq!(read_parquet_file(&path).unwrap().len(), 2);
    assert!(!vane_market_data::store::has_checksums(&path).unwrap());
}

#[test]
fn case_10_microsecond_times_are_refused_at_import_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let store = ParquetStore::new(dir.path().join("data"));
    let csv = dir.path().join("us.csv");
    std::fs::write(&csv, "open_time_ms,open,high,low,close,volume\n1704067200000000,1,2,0.5,1.5,10\n").unwrap();
    let e = import_csv_in(&store, &csv, &sym("BTCUSDT"), Interval::H4, range()).unwrap_err();
    let m = e.to_string();
    assert!(m.contains("us.csv:2") && m.contains("1704067200000000") && m.contains("microseconds"), "{m}");
    assert_eq!(e.class(), vane_core::ErrorClass::Data);
    assert!(!store.contains(&sym("BTCUSDT"), Interval::H4), "nothing stored");
    // 1970-era and far-future times too; a time within the range imports.
    for (t, hint) in [("0", "2009-01-01"), ("1830297600000", "2024-06-02"), ("1704067200", "seconds")] {
        std::fs::write(&csv, format!("open_time_ms,open,high,low,close,volume\n{t},1,2,0.5,1.5,10\n")).unwrap();
        let m = import_csv_in(&store, &csv, &sym("BTCUSDT"), Interval::M1, range()).unwrap_err().to_string();
        assert!(m.contains(t) && m.contains(hint), "{m}");
    }
    std::fs::write(&csv, "open_time_ms,open,high,low,close,volume\n1704067200000,1,2,0.5,1.5,10\n").unwrap();
    import_csv_in(&store, &csv, &sym("BTCUSDT"), Interval::H4, range()).unwrap();
}

#[test]
fn case_10_download_refuses_a_stored_series_out_of_range() {
    // A series poisoned before the check existed: download says what is wrong instead of
    // making no request forever.
    let dir = tempfile::tempdir().unwrap();
    let store = ParquetStore::new(dir.path());
    let s = sym("BTCUSDT");
    let t = 1_704_067_200_000_000i64;
    store
        .write(&s, Interval::H4, &Bars::from_bars(&[Bar::ohlcv(Timestamp(t), 1.0, 2.0, 0.5, 1.5, 1.0)]).unwrap())
        .unwrap();
    let mock = MockExchange::start(Flavor::BinanceSpot, s.clone(), Interval::H4, Bars::empty(Extras::BINANCE));
    let client = Exchange::BinanceSpot.client(Some(&mock.url()), RetryPolicy::default(), Sleeper::new(|_| {}));
    let req = DownloadRequest { symbol: s.clone(), interval: Interval::H4, since: NOW, until: None };
    let e = Downloader::new(client.as_ref(), &store)
        .with_clock(Arc::new(|| NOW))
        .download(&req, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("1704067200000000") && e.contains("microseconds"), "{e}");
    assert!(e.contains(&store.path(&s, Interval::H4).display().to_string()), "{e}");
    // --since before 2009 is refused too.
    let store2 = ParquetStore::new(dir.path().join("other"));
    let req = DownloadRequest { symbol: s, interval: Interval::H4, since: Timestamp(0), until: None };
    let e = Downloader::new(client.as_ref(), &store2)
        .with_clock(Arc::new(|| NOW))
        .download(&req, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("2009-01-01"), "{e}");
}

fn read_header(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("h.csv");
    std::fs::write(&p, text).unwrap();
    vane_market_data::read_csv(&p, None).unwrap_err().to_string()
}

#[test]
fn case_20_duplicate_and_lone_columns_are_errors() {
    let e = read_header("open_time_ms,open,high,low,close,volume,open\n0,1,1,1,1,1,2\n");
    assert!(e.contains("h.csv:1") && e.contains("open 2 times") && e.contains("columns 2, 7"), "{e}");
    let e = read_header("open_time_ms,open,high,low,close,volume,taker_buy_base_volume\n0,1,1,1,1,1,2\n");
    assert!(e.contains("taker_buy_base_volume comes only with taker_buy_quote_volume"), "{e}");
    let e = read_header("open_time_ms,open,high,low,close,volume,taker_buy_quote_volume\n0,1,1,1,1,1,2\n");
    assert!(e.contains("taker_buy_quote_volume comes only with taker_buy_base_volume"), "{e}");
}

#[test]
fn case_22_a_huge_binary_header_is_cut_and_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("blob.csv");
    let blob: Vec<u8> = (0..4_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 0x01)
        .map(|b| if b == b'\n' { 0x1b } else { b })
        .collect();
    std::fs::write(&p, &blob).unwrap();
    let e = vane_market_data::read_csv(&p, None).unwrap_err().to_string();
    assert!(e.len() < 1000, "{} bytes of error", e.len());
    assert!(e.contains("blob.csv:1") && e.contains("not a candle CSV"), "{e}");
    assert!(!e.chars().any(|c| c.is_control()), "control characters echoed: {e:?}");
    // A long single field in a data row is cut too.
    let long = "9".repeat(100_000);
    std::fs::write(&p, format!("open_time_ms,open,high,low,close,volume\n0,{long}x,1,1,1,1\n")).unwrap();
    let e = vane_market_data::read_csv(&p, None).unwrap_err().to_string();
    assert!(e.len() < 1000 && e.contains("bytes in all"), "{e}");
}

#[test]
fn case_23_missing_column_lists_names_with_commas() {
    let e = read_header("open_time_ms,open,high,low,volume\n0,1,1,1,1\n");
    assert!(e.contains("open_time_ms, open, high, low, volume"), "{e}");
    assert!(e.contains("column close"), "{e}");
}

#[test]
fn case_23_optional_column_mismatch_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let store = ParquetStore::new(dir.path());
    let s = sym("BTCUSDT");
    let full = Bars::from_bars(&[Bar {
        quote_volume: Some(1.0),
        trades: Some(3),
        taker_buy_base: Some(0.5),
        taker_buy_quote: Some(0.5),
        ..Bar::ohlcv(Timestamp(0), 1.0, 1.0, 1.0, 1.0, 1.0)
    }])
    .unwrap();
    store.append(&s, Interval::M1, &full).unwrap();
    let plain = Bars::from_bars(&[Bar::ohlcv(Timestamp(60_000), 1.0, 1.0, 1.0, 1.0, 1.0)]).unwrap();
    let e = store.append(&s, Interval::M1, &plain).unwrap_err().to_string();
    assert!(!e.contains("Extras") && !e.contains("false"), "{e}");
    assert!(e.contains("quote_volume, trades, taker_buy_base_volume, taker_buy_quote_volume"), "{e}");
    assert!(e.contains(&store.path(&s, Interval::M1).display().to_string()), "{e}");
}

fn mock_4h(flavor: Flavor) -> (MockExchange, Bars) {
    let bars = fixture_bars("BTCUSDT_4h.csv", Interval::H4);
    (MockExchange::start(flavor, sym("BTCUSDT"), Interval::H4, bars.clone()), bars)
}

fn after_fixture(bars: &Bars) -> Timestamp {
    bars.last_open_time().unwrap().add_millis(Interval::H4.millis() * 2)
}

#[test]
fn case_11_a_page_that_does_not_advance_is_an_error() {
    for flavor in [Flavor::BinanceSpot, Flavor::BybitLinear] {
        let (mock, bars) = mock_4h(flavor);
        for i in 1..10 {
            mock.fault_at(i, Fault::IgnoreStart);
        }
        let exchange = if flavor == Flavor::BybitLinear { Exchange::BybitLinear } else { Exchange::BinanceSpot };
        let client = exchange.client(Some(&mock.url()), RetryPolicy::default(), Sleeper::new(|_| {}));
        let dir = tempfile::tempdir().unwrap();
        let store = ParquetStore::new(dir.path());
        let req = DownloadRequest {
            symbol: sym("BTCUSDT"),
            interval: Interval::H4,
            since: bars.first_open_time().unwrap(),
            until: None,
        };
        let now = after_fixture(&bars);
        let e = Downloader::new(client.as_ref(), &store)
            .with_clock(Arc::new(move || now))
            .with_page_limit(500)
            .download(&req, &mut |_| {})
            .unwrap_err();
        let m = e.to_string();
        assert!(m.contains("ignores the requested start"), "{flavor:?}: {m}");
        assert!(!m.contains("run it again"), "{flavor:?}: {m}");
        // The first page was good and is stored; the missing rest is reported, not hidden.
        assert_eq!(store.row_count(&sym("BTCUSDT"), Interval::H4).unwrap(), 500, "{flavor:?}");
    }
}

#[test]
fn case_25_waits_are_reported_and_bounded() {
    let (mock, bars) = mock_4h(Flavor::BinanceSpot);
    mock.push_fault(Fault::Status { code: 429, retry_after: Some(3), body: "{}".into() });
    mock.push_fault(Fault::Status { code: 429, retry_after: Some(250), body: "{}".into() });
    let waits = Arc::new(Mutex::new(Vec::new()));
    let w = waits.clone();
    let notes = Arc::new(Mutex::new(Vec::<String>::new()));
    let n = notes.clone();
    let sleeper =
        Sleeper::new(move |d| w.lock().unwrap().push(d)).with_report(move |r| n.lock().unwrap().push(r.to_string()));
    let retry = RetryPolicy { max_wait: Duration::from_secs(60), ..RetryPolicy::default() };
    let client = Exchange::BinanceSpot.client(Some(&mock.url()), retry, sleeper);
    let dir = tempfile::tempdir().unwrap();
    let store = ParquetStore::new(dir.path());
    let req = DownloadRequest {
        symbol: sym("BTCUSDT"),
        interval: Interval::H4,
        since: bars.first_open_time().unwrap(),
        until: None,
    };
    let now = after_fixture(&bars);
    let e = Downloader::new(client.as_ref(), &store)
        .with_clock(Arc::new(move || now))
        .download(&req, &mut |_| {})
        .unwrap_err();
    let m = e.to_string();
    assert!(m.contains("250") && m.contains("--max-wait"), "{m}");
    assert_eq!(*waits.lock().unwrap(), vec![Duration::from_secs(3)]);
    let notes = notes.lock().unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("waiting 3s") && notes[0].contains("429"), "{notes:?}");
}

#[test]
fn case_26_permanent_errors_are_not_retried() {
    let (mock, bars) = mock_4h(Flavor::BinanceSpot);
    let dir = tempfile::tempdir().unwrap();
    let store = ParquetStore::new(dir.path());
    let now = after_fixture(&bars);
    let waits = Arc::new(Mutex::new(0usize));
    let w = waits.clone();
    let sleeper = Sleeper::new(move |_| *w.lock().unwrap() += 1);
    let run = |url: &str, symbol: &str, interval: Interval| {
        let client = Exchange::BinanceUsdm.client(Some(url), RetryPolicy::default(), sleeper.clone());
        let req =
            DownloadRequest { symbol: sym(symbol), interval, since: bars.first_open_time().unwrap(), until: None };
        Downloader::new(client.as_ref(), &store)
            .with_clock(Arc::new(move || now))
            .download(&req, &mut |_| {})
            .unwrap_err()
    };
    for (url, symbol, interval, needle) in [
        ("ftp://example.invalid", "BTCUSDT", Interval::H4, "ftp://example.invalid"),
        ("not a url", "BTCUSDT", Interval::H4, "not a url"),
        (mock.url().as_str(), "BTCUSDT", Interval::S1, "has no 1s klines"),
    ] {
        let e = run(url, symbol, interval);
        let m = e.to_string();
        assert!(m.contains(needle), "{m}");
        assert!(!m.contains("run it again"), "{m}");
        assert!(!e.is_transient(), "{m}");
    }
    assert_eq!(*waits.lock().unwrap(), 0, "a permanent error was retried");
    // A transient one (the server went away) still says how to resume.
    let client = Exchange::BinanceSpot.client(
        Some("http://127.0.0.1:9"),
        RetryPolicy { max_attempts: 2, ..RetryPolicy::default() },
        Sleeper::new(|_| {}),
    );
    let req = DownloadRequest {
        symbol: sym("BTCUSDT"),
        interval: Interval::H4,
        since: bars.first_open_time().unwrap(),
        until: None,
    };
    let e = Downloader::new(client.as_ref(), &store)
        .with_clock(Arc::new(move || now))
        .download(&req, &mut |_| {})
        .unwrap_err();
    assert!(e.is_transient() && e.to_string().contains("run it again"), "{e}");
}

#[test]
fn case_28_a_data_dir_that_is_a_file_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("plain");
    std::fs::write(&f, "x").unwrap();
    let store = ParquetStore::new(&f);
    let b = Bars::from_bars(&[Bar::ohlcv(Timestamp(0), 1.0, 1.0, 1.0, 1.0, 1.0)]).unwrap();
    for e in [
        store.append(&sym("BTCUSDT"), Interval::M1, &b).unwrap_err(),
        store.list().unwrap_err(),
        store.read(&sym("BTCUSDT"), Interval::M1).unwrap_err(),
    ] {
        let m = e.to_string();
        assert!(m.contains("is a file, not a folder") && m.contains(&f.display().to_string()), "{m}");
        assert!(!m.contains("creating folder"), "{m}");
    }
}

#[test]
fn case_30_stale_temps_are_listed_and_cleaned() {
    let dir = tempfile::tempdir().unwrap();
    let store = ParquetStore::new(dir.path());
    let s = sym("BTCUSDT");
    store.append(&s, Interval::H4, &fixture_bars("BTCUSDT_4h.csv", Interval::H4)).unwrap();
    // A kill -9 during a write leaves a temp of a process that is gone.
    let stale = dir.path().join(".BTCUSDT_4h.parquet.tmp-999999999-0");
    let orphan = dir.path().join(".ETHUSDT_1h.parquet.tmp-999999998-3");
    std::fs::write(&stale, b"partial").unwrap();
    std::fs::write(&orphan, b"partial").unwrap();
    let report = vane_market_data::store_report(&store).unwrap();
    assert_eq!(report.stale_temps, vec![stale.clone(), orphan.clone()]);
    assert_eq!(report.files.len(), 1);
    // The next write to that series removes its stale temp.
    store.append(&s, Interval::H4, &fixture_bars("BTCUSDT_4h.csv", Interval::H4)).unwrap();
    store.write(&s, Interval::H4, &fixture_bars("BTCUSDT_4h.csv", Interval::H4)).unwrap();
    assert!(!stale.exists());
    assert!(orphan.exists());
}

#[test]
fn case_24_info_reports_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = ParquetStore::new(dir.path());
    store.append(&sym("BTCUSDT"), Interval::H4, &fixture_bars("BTCUSDT_4h.csv", Interval::H4)).unwrap();
    store.append(&sym("ETHUSDT"), Interval::H4, &fixture_bars("ETHUSDT_4h.csv", Interval::H4)).unwrap();
    std::fs::write(dir.path().join("ADAUSDT_4h.parquet"), b"open_time_ms,open\n").unwrap();
    let report = vane_market_data::store_report(&store).unwrap();
    assert_eq!(report.files.len(), 2);
    assert_eq!(report.errors.len(), 1);
    assert!(report.errors[0].path.ends_with("ADAUSDT_4h.parquet"));
    assert!(!report.errors[0].error.is_empty());
    assert!(report.files.iter().all(|f| f.checksummed));
}
