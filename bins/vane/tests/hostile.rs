//! Issue 12, hostile input: the cases of the adversarial run that concern resampling, splits,
//! output paths, calibration, backtests, metrics and how errors end (exit codes, JSON, pipes).
//! Each test runs the release-shaped binary as a subprocess with a deadline, so a hang or a crash
//! fails the test instead of the suite.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::Value;

const FAR: &str = "open_time_ms,open,high,low,close,volume\n9223372036843200000,100,110,90,105,1\n";

#[test]
fn case_01_far_future_bar_resample_is_a_data_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("far.csv"), FAR).unwrap();
    let out = vane_within(
        &["resample", "--input", "far.csv", "--from", "4h", "--to", "1d", "--output", "r.csv"],
        dir.path(),
        Duration::from_secs(30),
    );
    fails(&out, exit::DATA, &["9223372036843200000", "too far in the future"]);
    assert!(!dir.path().join("r.csv").exists());
}

#[test]
fn case_04_far_future_bar_after_history_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("open_time_ms,open,high,low,close,volume\n");
    for i in 0..12i64 {
        csv.push_str(&format!("{},100,110,90,105,1\n", 1_704_067_200_000 + i * 14_400_000));
    }
    csv.push_str("9223372036843200000,100,110,90,105,1\n");
    std::fs::write(dir.path().join("h.csv"), csv).unwrap();
    let out = vane_within(
        &["resample", "--input", "h.csv", "--from", "4h", "--to", "1d", "--output", "r.csv"],
        dir.path(),
        Duration::from_secs(30),
    );
    fails(&out, exit::DATA, &["too far in the future"]);
}

#[test]
fn case_02_huge_row_counts_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    for rows in ["18446744073709551615", "10000000000", "0"] {
        let out = vane_within(
            &["split", "--rows", rows, "--scheme", "purged-kfold", "--label-horizon", "6", "--json"],
            dir.path(),
            Duration::from_secs(30),
        );
        let err = fails(&out, exit::USAGE, &["--rows"]);
        let j: Value = serde_json::from_str(err.trim()).expect("a JSON error under --json");
        assert_eq!(j["error"]["class"], "usage");
        assert_eq!(j["error"]["exit_code"], 2);
    }
    // A huge label horizon saturates instead of overflowing.
    let out = vane(
        &["split", "--rows", "20", "--scheme", "purged-kfold", "--label-horizon", "18446744073709551615"],
        dir.path(),
    );
    ok(&out);
}

#[test]
fn case_05_cpcv_combinatorial_explosion_is_refused_with_the_count() {
    let dir = tempfile::tempdir().unwrap();
    for (g, k, count) in [("24", "12", "2704156"), ("60", "30", "118264581564861424")] {
        let out = vane_within(
            &["split", "--rows", "1000", "--scheme", "cpcv", "--groups", g, "--test-groups", k],
            dir.path(),
            Duration::from_secs(30),
        );
        fails(&out, exit::USAGE, &[count, "100000"]);
    }
}

fn import_btc(dir: &std::path::Path) {
    let csv = fixture("BTCUSDT_4h.csv");
    ok(&vane(&["import", "--csv", csv.to_str().unwrap(), "--symbol", "BTCUSDT", "--interval", "4h"], dir));
}

#[test]
fn case_06_outputs_into_the_store_or_over_an_input_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    import_btc(dir.path());
    let stored = dir.path().join("data/BTCUSDT_4h.parquet");
    let before = std::fs::read(&stored).unwrap();
    let attempts: [&[&str]; 4] = [
        &["export", "--symbol", "BTCUSDT", "--interval", "4h", "--csv", "data/BTCUSDT_4h.parquet"],
        &["features", "--symbol", "BTCUSDT", "--interval", "4h", "--set", "v1", "--output", "data/ETHUSDT_4h.parquet"],
        &["resample", "--symbol", "BTCUSDT", "--from", "4h", "--to", "1d", "--output", "data/BTCUSDT_1d.parquet"],
        &["resample", "--symbol", "BTCUSDT", "--from", "4h", "--to", "1d", "--output", "./data/../data/x.csv"],
    ];
    for args in attempts {
        let out = vane(args, dir.path());
        fails(&out, exit::USAGE, &["refusing to write", "data", "bar store"]);
    }
    assert_eq!(std::fs::read(&stored).unwrap(), before, "the stored series is untouched");
    assert!(!dir.path().join("data/ETHUSDT_4h.parquet").exists());
    assert!(!dir.path().join("data/BTCUSDT_1d.parquet").exists());
    ok(&vane(&["data", "info"], dir.path()));

    // An output that is also the input.
    let input = fixture("BTCUSDT_4h.csv");
    std::fs::copy(&input, dir.path().join("in.csv")).unwrap();
    let out = vane(&["label", "--kind", "fixed", "--input", "in.csv", "--output", "in.csv"], dir.path());
    fails(&out, exit::USAGE, &["refusing to write in.csv", "also an input"]);
    assert_eq!(std::fs::read(dir.path().join("in.csv")).unwrap(), std::fs::read(&input).unwrap());
}

fn calibrate_files(dir: &std::path::Path, fit: &str, apply: &str) {
    std::fs::write(dir.join("fit.csv"), fit).unwrap();
    std::fs::write(dir.join("apply.csv"), apply).unwrap();
}

fn calibrate(dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["calibrate", "--fit", "fit.csv", "--apply", "apply.csv", "--output", "out.csv"];
    args.extend_from_slice(extra);
    vane(&args, dir)
}

#[test]
fn case_14_calibrate_refuses_empty_fits_nan_scores_and_bad_holdouts() {
    let dir = tempfile::tempdir().unwrap();
    let good_fit = "score,label\n0.1,0\n0.3,0\n0.6,1\n0.2,1\n0.8,1\n0.4,0\n0.7,1\n0.9,0\n0.5,1\n0.35,0\n";
    calibrate_files(dir.path(), "score,label\n", "id,score\na,0.5\n");
    fails(&calibrate(dir.path(), &["--method", "auto"]), exit::DATA, &["0 samples"]);
    calibrate_files(dir.path(), good_fit, "id,score\na,0.5\nb,NaN\n");
    // Case 27: the message names the file and the line.
    fails(&calibrate(dir.path(), &["--method", "platt"]), exit::DATA, &["apply.csv:3", "score", "finite"]);
    assert!(!dir.path().join("out.csv").exists());
    calibrate_files(dir.path(), "score,label\n0.1,0\nnan,1\n", "id,score\na,0.5\n");
    fails(&calibrate(dir.path(), &["--method", "platt"]), exit::DATA, &["fit.csv:3", "finite"]);
    calibrate_files(dir.path(), good_fit, "id,score\na,0.5\n");
    for h in ["-0.5", "1"] {
        let holdout = format!("--holdout={h}");
        fails(&calibrate(dir.path(), &["--method", "auto", &holdout]), exit::USAGE, &["holdout", h]);
    }
    ok(&calibrate(dir.path(), &["--method", "auto"]));
}

#[test]
fn case_16_constant_returns_have_no_sharpe() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("open_time_ms,return\n");
    for i in 0..30 {
        csv.push_str(&format!("{i},0.01\n"));
    }
    std::fs::write(dir.path().join("r.csv"), csv).unwrap();
    let j: Value = serde_json::from_str(&ok(&vane(
        &["metrics", "--returns", "r.csv", "--periods-per-year", "365", "--json"],
        dir.path(),
    )))
    .unwrap();
    assert_eq!(j["sharpe"], Value::Null, "{j}");
    assert_eq!(j["annual_volatility"], 0.0);
}

#[test]
fn case_17_backtest_refuses_unsorted_duplicate_and_oversized_positions() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("BTCUSDT_4h.csv"), dir.path().join("p.csv")).unwrap();
    let (t0, t1) = (1_672_531_200_000i64, 1_672_545_600_000i64);
    let run = |positions: String, extra: &[&str]| {
        std::fs::write(dir.path().join("pos.csv"), positions).unwrap();
        let mut args = vec!["backtest", "--prices", "p.csv", "--positions", "pos.csv", "--json"];
        args.extend_from_slice(extra);
        vane(&args, dir.path())
    };
    let out = run(format!("open_time_ms,position\n{t0},1\n{t0},-1\n"), &[]);
    fails(&out, exit::DATA, &["pos.csv:3", "repeats", "strictly increasing"]);
    let out = run(format!("open_time_ms,position\n{t1},1\n{t0},-1\n"), &[]);
    fails(&out, exit::DATA, &["pos.csv:3", "comes before"]);
    let out = run(format!("open_time_ms,position\n{t0},-1000\n"), &[]);
    fails(&out, exit::DATA, &["pos.csv:2", "-1000", "--max-leverage"]);
    ok(&run(format!("open_time_ms,position\n{t0},-10\n"), &["--max-leverage", "10"]));
    // Case 27: a non-finite position names the file and line.
    let out = run(format!("open_time_ms,position\n{t0},1\n{t1},inf\n"), &[]);
    fails(&out, exit::DATA, &["pos.csv:3", "finite"]);
    fails(&run(format!("open_time_ms,position\n{t0},1\n"), &["--max-leverage", "0"]), exit::USAGE, &["--max-leverage"]);
}

#[test]
fn case_28_os_errors_are_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = vane(&["label", "--kind", "fixed", "--input", "missing.csv", "--output", "o.csv"], dir.path());
    let err = fails(&out, exit::IO, &["missing.csv"]);
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
}

#[test]
fn case_29_a_closed_stdout_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vane"))
        .args(["features", "--input", fixture("BTCUSDT_4h.csv").to_str().unwrap(), "--set", "talib"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with("open_time_ms"), "{first}");
    // The reader is dropped here, like `| head -1`.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("Broken pipe") && !stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn errors_are_json_on_stderr_under_json_and_classified() {
    let dir = tempfile::tempdir().unwrap();
    // A clap error.
    let out = vane(&["split", "--rows", "ten", "--scheme", "cpcv", "--json"], dir.path());
    let err = fails(&out, exit::USAGE, &[]);
    let j: Value = serde_json::from_str(err.trim()).unwrap();
    assert_eq!(j["error"]["class"], "usage");
    assert!(j["error"]["message"].as_str().unwrap().contains("ten"));
    // A data error: bad CSV contents.
    std::fs::write(dir.path().join("bad.csv"), "open_time_ms,open,high,low,close,volume\n1,2,1,3,2,1\n").unwrap();
    let out = vane(&["label", "--kind", "fixed", "--input", "bad.csv", "--output", "o.csv", "--json"], dir.path());
    let err = fails(&out, exit::DATA, &["bad.csv"]);
    let j: Value = serde_json::from_str(err.trim()).unwrap();
    assert_eq!((j["error"]["class"].as_str(), j["error"]["exit_code"].as_u64()), (Some("data"), Some(3)));
    assert!(j["error"]["causes"].as_array().is_some_and(|c| !c.is_empty()));
}
