//! Hostile input on the data side of the CLI (issue 12): import, download, data info, predict
//! --refresh. Each test is named after the case number.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use vane_core::{Interval, Symbol};
use vane_testkit::{Fault, Flavor, MockExchange, fixture_bars};

fn import(dir: &Path, csv: &Path, symbol: &str) -> std::process::Output {
    vane(&["import", "--csv", csv.to_str().unwrap(), "--symbol", symbol, "--interval", "4h"], dir)
}

fn mock_btc_4h() -> MockExchange {
    MockExchange::start(
        Flavor::BinanceSpot,
        Symbol::new("BTCUSDT").unwrap(),
        Interval::H4,
        fixture_bars("BTCUSDT_4h.csv", Interval::H4),
    )
}

fn download(dir: &Path, url: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "download",
        "--symbols",
        "BTCUSDT",
        "--interval",
        "4h",
        "--since",
        "2023-01-01",
        "--until",
        "2024-01-01",
        "--base-url",
        url,
    ];
    args.extend_from_slice(extra);
    vane_within(&args, dir, Duration::from_secs(30))
}

#[test]
fn case_09_a_flipped_bit_is_reported_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    ok(&import(dir.path(), &fixture("BTCUSDT_4h.csv"), "BTCUSDT"));
    let path = dir.path().join("data/BTCUSDT_4h.parquet");
    let mut bytes = std::fs::read(&path).unwrap();
    // A bit in the middle of the data pages (the footer is at the end).
    let at = bytes.len() / 3;
    bytes[at] ^= 0x04;
    std::fs::write(&path, &bytes).unwrap();
    let out = vane(&["export", "--symbol", "BTCUSDT", "--interval", "4h", "--csv", "out.csv"], dir.path());
    fails(&out, exit::DATA, &["BTCUSDT_4h.parquet"]);
    assert!(!dir.path().join("out.csv").exists());
}

#[test]
fn case_10_microsecond_open_times_are_refused_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("micro.csv");
    std::fs::write(&csv, "open_time_ms,open,high,low,close,volume\n1704067200000000,100,110,90,105,1\n").unwrap();
    let out = import(dir.path(), &csv, "BTCUSDT");
    fails(&out, exit::DATA, &["micro.csv:2", "1704067200000000", "microseconds"]);
    assert!(!dir.path().join("data/BTCUSDT_4h.parquet").exists());
}

#[test]
fn case_11_a_server_that_ignores_start_time_is_a_failure_not_no_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let mock = mock_btc_4h();
    for i in 1..10 {
        mock.fault_at(i, Fault::IgnoreStart);
    }
    let out = download(dir.path(), &mock.url(), &[]);
    let err = fails(&out, exit::FAILURE, &["ignores the requested start time", "stopped after storing 1000"]);
    assert!(!err.contains("run it again"), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("no gaps"));
}

#[test]
fn case_19_predict_refresh_falls_back_to_stored_bars_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    for s in ["BTCUSDT", "ETHUSDT"] {
        ok(&import(dir.path(), &fixture(&format!("{s}_4h.csv")), s));
    }
    std::fs::write(
        dir.path().join("small.toml"),
        "train_bars = 900\ntest_bars = 360\ntheta_steps_fast = 2\niterations_fast = 10\ndepth = 3\n",
    )
    .unwrap();
    ok(&vane(&["train", "--config", "small.toml", "--mode", "fast"], dir.path()));
    case_28_feature_schema_mismatch_names_the_column(dir.path());
    // The exchange is down: bounded, then a stale forecast from the stored bars.
    let t0 = Instant::now();
    let out = vane_within(
        &["predict", "--symbol", "BTCUSDT", "--refresh", "--base-url", "http://127.0.0.1:9", "--json"],
        dir.path(),
        Duration::from_secs(20),
    );
    assert!(t0.elapsed() < Duration::from_secs(5), "a failing refresh took {:?}", t0.elapsed());
    let p: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(p["stale"], true);
    assert_eq!(p["as_of"], 1_704_052_800_000i64);
    assert!(p["as_of_age_s"].as_i64().unwrap() > 0);
    assert!(p["refresh_error"].as_str().unwrap().contains("127.0.0.1:9"), "{p}");
    // Only empty pages: no error, but stale, and a warning in human mode.
    let mock = mock_btc_4h();
    let out = vane(&["predict", "--symbol", "BTCUSDT", "--refresh", "--base-url", &mock.url()], dir.path());
    ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not up to date") && err.contains("stale"), "{err}");
    let p: Value = serde_json::from_str(&ok(&vane(
        &["predict", "--symbol", "BTCUSDT", "--refresh", "--base-url", &mock.url(), "--json"],
        dir.path(),
    )))
    .unwrap();
    assert_eq!(p["stale"], true);
    assert!(p.get("refresh_error").is_none(), "{p}");
}

/// Case 28: a feature schema that differs from this build's names the column that differs (run
/// inside case 19's test, which has a trained model).
fn case_28_feature_schema_mismatch_names_the_column(dir: &Path) {
    let p = dir.join("artifacts/models/global/feature_schema.json");
    let good = std::fs::read_to_string(&p).unwrap();
    assert!(good.contains("\"rsi_14\""), "{good}");
    std::fs::write(&p, good.replacen("\"rsi_14\"", "\"rsi_21\"", 1)).unwrap();
    let out = vane(&["predict", "--symbol", "BTCUSDT"], dir);
    fails(&out, exit::DATA, &["feature_schema.json", "\"rsi_21\" in the model", "\"rsi_14\" in this build"]);
    std::fs::write(&p, good).unwrap();
}

#[test]
fn case_20_duplicate_and_lone_columns_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("dup.csv");
    std::fs::write(&csv, "open_time_ms,open,high,low,close,volume,open\n1704067200000,1,2,0.5,1.5,1,9\n").unwrap();
    fails(&import(dir.path(), &csv, "BTCUSDT"), exit::DATA, &["dup.csv:1", "open 2 times"]);
    std::fs::write(
        &csv,
        "open_time_ms,open,high,low,close,volume,taker_buy_base_volume\n1704067200000,1,2,0.5,1.5,1,0.5\n",
    )
    .unwrap();
    fails(&import(dir.path(), &csv, "BTCUSDT"), exit::DATA, &["taker_buy_base_volume comes only with"]);
}

#[test]
fn case_22_a_binary_file_is_not_echoed_whole() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("blob.csv");
    let blob: Vec<u8> = (0..3_000_000u32).map(|i| if i % 7 == 0 { 0x1b } else { (i % 251) as u8 | 0x80 }).collect();
    std::fs::write(&csv, &blob).unwrap();
    let out = import(dir.path(), &csv, "BTCUSDT");
    let err = fails(&out, exit::DATA, &["blob.csv:1", "not a candle CSV"]);
    assert!(err.len() < 2000, "{} bytes on stderr", err.len());
    assert!(!err.contains('\u{1b}'), "an escape byte reached the terminal");
}

#[test]
fn case_23_missing_column_names_are_comma_separated() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("m.csv");
    std::fs::write(&csv, "open_time_ms,open,high,low,volume\n1704067200000,1,2,0.5,1\n").unwrap();
    fails(&import(dir.path(), &csv, "BTCUSDT"), exit::DATA, &["m.csv:1", "open_time_ms, open, high, low, volume"]);
    // Optional columns that differ from the stored series: plain words.
    ok(&import(dir.path(), &fixture("BTCUSDT_4h.csv"), "BTCUSDT"));
    std::fs::write(&csv, "open_time_ms,open,high,low,close,volume\n1704067200000,1,2,0.5,1.5,1\n").unwrap();
    let err = fails(&import(dir.path(), &csv, "BTCUSDT"), exit::USAGE, &["BTCUSDT_4h.parquet", "[none]"]);
    assert!(!err.contains("Extras"), "{err}");
}

#[test]
fn case_24_data_info_reports_each_file() {
    let dir = tempfile::tempdir().unwrap();
    ok(&import(dir.path(), &fixture("BTCUSDT_4h.csv"), "BTCUSDT"));
    ok(&import(dir.path(), &fixture("ETHUSDT_4h.csv"), "ETHUSDT"));
    std::fs::write(dir.path().join("data/ADAUSDT_4h.parquet"), "open_time_ms,open\n1,2\n").unwrap();
    let out = vane(&["data", "info"], dir.path());
    fails(&out, exit::FAILURE, &["1 of 3 file(s)"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("BTCUSDT") && text.contains("ETHUSDT"), "{text}");
    assert!(text.contains("unreadable") && text.contains("ADAUSDT_4h.parquet"), "{text}");
    let out = vane(&["data", "info", "--json"], dir.path());
    assert_eq!(out.status.code(), Some(exit::FAILURE));
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["files"].as_array().unwrap().len(), 2);
    assert!(j["errors"][0]["path"].as_str().unwrap().ends_with("ADAUSDT_4h.parquet"));
    assert!(!j["errors"][0]["error"].as_str().unwrap().is_empty());
}

#[test]
fn case_25_waits_are_shown_and_bounded_by_max_wait() {
    let dir = tempfile::tempdir().unwrap();
    let mock = mock_btc_4h();
    mock.fault_at(0, Fault::Status { code: 429, retry_after: Some(1), body: "{}".into() });
    mock.fault_at(1, Fault::Status { code: 429, retry_after: Some(250), body: "{}".into() });
    let t0 = Instant::now();
    let out = download(dir.path(), &mock.url(), &["--max-wait", "10"]);
    assert!(t0.elapsed() < Duration::from_secs(8), "took {:?}", t0.elapsed());
    let err = fails(&out, exit::FAILURE, &["waiting 1s", "HTTP 429", "250s", "--max-wait"]);
    assert!(err.contains("note:"), "{err}");
    // A server that hangs: --timeout bounds each attempt.
    let mock = mock_btc_4h();
    mock.fault_at(0, Fault::Hang(4_000));
    let t0 = Instant::now();
    let out = download(dir.path(), &mock.url(), &["--timeout", "1", "--max-attempts", "1"]);
    assert!(t0.elapsed() < Duration::from_secs(4), "took {:?}", t0.elapsed());
    fails(&out, exit::FAILURE, &["no answer within 1s"]);
}

#[test]
fn case_26_permanent_errors_are_not_retried() {
    let dir = tempfile::tempdir().unwrap();
    for url in ["ftp://example.invalid", "not a url"] {
        let t0 = Instant::now();
        let err = fails(&download(dir.path(), url, &[]), exit::USAGE, &[url, "--base-url"]);
        assert!(!err.contains("run it again") && !err.contains("note:"), "{err}");
        assert!(t0.elapsed() < Duration::from_secs(5));
    }
    let mock = mock_btc_4h();
    let out = vane(
        &[
            "download",
            "--exchange",
            "bybit-linear",
            "--symbols",
            "BTCUSDT",
            "--interval",
            "8h",
            "--base-url",
            &mock.url(),
        ],
        dir.path(),
    );
    let err = fails(&out, exit::USAGE, &["bybit-linear has no 8h klines"]);
    assert!(!err.contains("run it again"), "{err}");
    assert!(mock.requests().is_empty());
}

#[test]
fn case_28_data_dir_that_is_a_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("afile"), "x").unwrap();
    let csv = fixture("BTCUSDT_4h.csv");
    let out = vane(
        &["import", "--csv", csv.to_str().unwrap(), "--symbol", "BTCUSDT", "--interval", "4h", "--data-dir", "afile"],
        dir.path(),
    );
    let err = fails(&out, exit::USAGE, &["afile is a file, not a folder"]);
    assert!(!err.contains("creating folder"), "{err}");
    fails(&vane(&["data", "info", "--data-dir", "afile"], dir.path()), exit::USAGE, &["not a folder"]);
}

#[test]
fn case_30_stale_temp_files_are_listed_then_cleaned() {
    let dir = tempfile::tempdir().unwrap();
    ok(&import(dir.path(), &fixture("BTCUSDT_4h.csv"), "BTCUSDT"));
    let stale = dir.path().join("data/.BTCUSDT_4h.parquet.tmp-999999999-0");
    std::fs::write(&stale, vec![0u8; 1000]).unwrap();
    let text = ok(&vane(&["data", "info"], dir.path()));
    assert!(text.contains("stale temporary files") && text.contains(".BTCUSDT_4h.parquet.tmp-999999999-0"), "{text}");
    let j: Value = serde_json::from_str(&ok(&vane(&["data", "info", "--json"], dir.path()))).unwrap();
    assert!(j["stale_temps"][0].as_str().unwrap().ends_with(".BTCUSDT_4h.parquet.tmp-999999999-0"));
    // The next write to the series removes it.
    ok(&import(dir.path(), &fixture("BTCUSDT_4h.csv"), "BTCUSDT"));
    assert!(!stale.exists());
    let j: Value = serde_json::from_str(&ok(&vane(&["data", "info", "--json"], dir.path()))).unwrap();
    assert_eq!(j["stale_temps"], serde_json::json!([]));
}
