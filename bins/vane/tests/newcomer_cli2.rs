//! More of a newcomer's mistakes with the `vane` binary (after newcomer_cli.rs): each ends in a
//! message naming the input and the fix, with the exit code of its class.

mod common;

use common::{exit, fails, fixture, ok, stderr, store_btc, vane};

#[test]
#[cfg(not(feature = "wgpu"))]
fn bench_train_on_a_device_this_build_lacks_is_a_usage_error() {
    // It exited 4 (I/O) although the fix is the command: another --device, or a rebuild.
    let dir = tempfile::tempdir().unwrap();
    let out = vane(&["bench-train", "--model", "hrm", "--device", "wgpu", "--steps", "1", "--warmup", "0"], dir.path());
    fails(&out, exit::USAGE, &["the wgpu backend is not compiled in", "--features wgpu"]);
}

#[test]
fn train_test_on_too_few_days_names_the_smallest_data_days() {
    // --data-days 2 at 4h fitted a GBDT on 2 rows with 0 validation rows and printed metrics.
    let dir = tempfile::tempdir().unwrap();
    store_btc(dir.path());
    let base = ["train-test", "--model", "gbdt", "--symbol", "BTCUSDT", "--interval", "4h", "--save-path", "out"];
    let out = vane(&[&base[..], &["--data-days", "2"]].concat(), dir.path());
    fails(
        &out,
        exit::USAGE,
        &["--data-days 2: 12 bars of BTCUSDT 4h give 2 rows to fit on and 0 validation rows", "--data-days 17 or more"],
    );
    assert!(!dir.path().join("out").exists(), "nothing trained, nothing written");
    // The minimum it names is enough.
    let out = ok(&vane(&[&base[..], &["--data-days", "17", "--no-run-record"]].concat(), dir.path()));
    assert!(out.contains("fitting") || out.contains("train/test of gbdt"), "{out}");
}

#[test]
fn a_negative_number_is_a_value_not_a_flag() {
    // `--theta -0.1` was "unexpected argument '-0' found"; now θ is read and checked.
    let dir = tempfile::tempdir().unwrap();
    let csv = fixture("BTCUSDT_4h.csv");
    let csv = csv.to_str().unwrap();
    let out = vane(&["label", "--input", csv, "--kind", "fixed", "--output", "l.csv", "--theta", "-0.1"], dir.path());
    let err = fails(&out, exit::USAGE, &["theta = -0.1, must be finite and ≥ 0"]);
    assert!(!err.contains("unexpected argument"), "{err}");
    // Every flag that takes a number reads a negative one and checks it.
    let out = vane(
        &["label", "--input", csv, "--kind", "expected-return", "--output", "e.csv", "--fee-bps", "-5"],
        dir.path(),
    );
    let err = fails(&out, exit::USAGE, &["fee_bps = -5, must be ≥ 0"]);
    assert!(!err.contains("unexpected argument"), "{err}");
}

#[test]
fn resample_without_a_source_names_both_sources() {
    let dir = tempfile::tempdir().unwrap();
    let out = vane(&["resample", "--from", "1m", "--to", "5m"], dir.path());
    fails(&out, exit::USAGE, &["--symbol <SYMBOL>", "--input <INPUT>"]);
    let out = vane(&["resample", "--from", "1m", "--to", "5m", "--symbol", "BTCUSDT", "--input", "a.csv"], dir.path());
    fails(&out, exit::USAGE, &["cannot be used with"]);
}

#[test]
fn help_texts_list_stack_backtest_and_say_what_the_sigma_window_is() {
    let dir = tempfile::tempdir().unwrap();
    let top = ok(&vane(&["--help"], dir.path()));
    assert!(top.contains("`stack backtest`"), "{top}");
    let label = ok(&vane(&["label", "--help"], dir.path()));
    assert!(label.contains("σ window, in bars"), "{label}");
    assert!(!label.contains("returns in σ"), "{label}");
}

#[test]
fn features_json_without_output_is_refused() {
    // The CSV and then the JSON summary both went to stdout: neither parseable.
    let dir = tempfile::tempdir().unwrap();
    let csv = fixture("BTCUSDT_4h.csv");
    let csv = csv.to_str().unwrap();
    let out = vane(&["features", "--input", csv, "--set", "v1", "--json"], dir.path());
    fails(&out, exit::USAGE, &["give --output FILE"]);
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(stderr(&out).starts_with("{\"error\""), "a JSON error under --json: {}", stderr(&out));
    // With --output, stdout is the one JSON summary.
    let out = ok(&vane(&["features", "--input", csv, "--set", "v1", "--output", "f.csv", "--json"], dir.path()));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["rows"], 2190);
}
