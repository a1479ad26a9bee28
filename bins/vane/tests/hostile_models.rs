//! Issue 12 ("hostile input"), the model side through the binary: `bench-train` with empty
//! sizes (3, used to segfault or panic inside burn), duplicate symbols (15), config errors that
//! name the right line or `--set` key (21).

mod common;

use std::time::Duration;

use common::*;

#[test]
fn case_3_bench_train_with_zero_sizes_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    for model in ["hrm", "cnn-lstm", "tft"] {
        for (flag, needle) in
            [("--batch", "--batch"), ("--seq", "--seq"), ("--hidden", "--hidden"), ("--steps", "--steps")]
        {
            let out = vane_within(
                &["bench-train", "--model", model, flag, "0", "--features", "3", "--steps", "1", "--warmup", "0"],
                dir.path(),
                Duration::from_secs(60),
            );
            // Not a signal (the segfault), not a panic, not exit 0 with 0 samples/s.
            fails(&out, exit::USAGE, &[needle, "0"]);
        }
    }
    // The library checks the same, for embedders.
    let shape = vane_models::bench::BenchShape {
        model: vane_models::ModelKind::Tft,
        batch: 0,
        seq: 4,
        features: 3,
        hidden: 8,
        steps: 1,
        warmup: 0,
    };
    let e = vane_models::bench::bench_train(&shape, vane_models::DeviceKind::Cpu, &[]).unwrap_err().to_string();
    assert!(e.contains("batch must be ≥ 1"), "{e}");
}

#[test]
fn case_15_duplicate_symbols_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = vane(&["train", "--symbols", "BTCUSDT,BTCUSDT"], dir.path());
    fails(&out, exit::USAGE, &["--symbols", "BTCUSDT is listed twice"]);
    std::fs::write(dir.path().join("cfg.toml"), "symbols = [\"BTCUSDT\", \"BTCUSDT\"]\n").unwrap();
    let out = vane(&["train", "--config", "cfg.toml"], dir.path());
    fails(&out, exit::DATA, &["cfg.toml", "BTCUSDT is listed twice"]);
    std::fs::write(
        dir.path().join("hrm.toml"),
        "[data]\nsymbols = [\"ETHUSDT\", \"ETHUSDT\"]\n[model]\nkind = \"hrm\"\n",
    )
    .unwrap();
    let out = vane(&["train", "--config", "hrm.toml"], dir.path());
    fails(&out, exit::DATA, &["hrm.toml", "data.symbols: ETHUSDT is listed twice"]);
}

#[test]
fn case_21_config_errors_name_the_line_the_key_and_the_file_plainly() {
    let dir = tempfile::tempdir().unwrap();
    // A typo on line 7 is reported at line 7.
    std::fs::write(
        dir.path().join("cfg.toml"),
        "horizon = 6\n\ndepth = 4\n\n\n\nhorizonn = 3\n[model]\nkind = \"gbdt\"\n",
    )
    .unwrap();
    let e = fails(&vane(&["train", "--config", "cfg.toml"], dir.path()), exit::DATA, &["cfg.toml:7:", "horizonn"]);
    assert!(!e.contains("Some(") && !e.contains("line 1,"), "{e}");
    std::fs::write(
        dir.path().join("hrm.toml"),
        "[data]\nseq_len = 10\n[model]\nkind = \"hrm\"\n\n[train]\nepochz = 3\n",
    )
    .unwrap();
    fails(&vane(&["train", "--config", "hrm.toml"], dir.path()), exit::DATA, &["hrm.toml:7:", "epochz"]);
    std::fs::write(dir.path().join("hrm.toml"), "[data]\nseq_len = 10\n[model]\nkind = \"hrm\"\n").unwrap();
    // A bad --set key is an error of that --set, not of a line of the file.
    let e = fails(
        &vane(&["train", "--config", "hrm.toml", "--set", "nosuch.key=1"], dir.path()),
        exit::USAGE,
        &["--set nosuch.key", "nosuch"],
    );
    assert!(!e.contains("hrm.toml") && !e.contains("line"), "{e}");
    // NaN: "must be a finite number" naming the key, not "invalid type: null".
    for args in [
        &["train", "--config", "hrm.toml", "--set", "train.learning_rate=nan"][..],
        &["train", "--set", "learning_rate=nan"],
    ] {
        let e = fails(&vane(args, dir.path()), exit::USAGE, &["learning_rate", "must be a finite number"]);
        assert!(!e.contains("null"), "{e}");
    }
    // A missing config file: its path plainly.
    let e = fails(&vane(&["train", "--config", "missing.toml"], dir.path()), exit::IO, &["reading missing.toml"]);
    assert!(!e.contains("Some("), "{e}");
}

#[test]
fn several_devices_fail_before_any_data_is_read_and_devices_lists_the_cpu() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hrm.toml"), "[data]\nsymbols = [\"BTCUSDT\"]\n[model]\nkind = \"hrm\"\n").unwrap();
    // The store is empty: had the data been read first, this would be a "no data" error.
    let out = vane(&["train", "--config", "hrm.toml", "--devices", "0,1"], dir.path());
    fails(&out, exit::USAGE, &["--devices: 2 devices asked of the cpu backend (0,1)", "one device per process"]);
    let out = vane(
        &["bench-train", "--model", "hrm", "--devices", "1", "--features", "3", "--steps", "1", "--warmup", "0"],
        dir.path(),
    );
    fails(&out, exit::USAGE, &["--devices", "index 0", "asked for index 1"]);
    // A GBDT config refuses the flag (it trains on the CPU only).
    std::fs::write(dir.path().join("gbdt.toml"), "symbols = [\"BTCUSDT\"]\n").unwrap();
    let out = vane(&["train", "--config", "gbdt.toml", "--devices", "0"], dir.path());
    fails(&out, exit::USAGE, &["--devices", "apply to sequence models"]);
    let out = vane(&["devices", "--json"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["devices"][0]["kind"], "cpu");
    assert_eq!(v["devices"][0]["index"], 0);
}
