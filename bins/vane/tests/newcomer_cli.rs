//! A newcomer's mistakes with the `vane` binary: each one ends in a message naming the input and
//! the fix (never a panic, never a silently ignored flag, never an input overwritten).

mod common;

use std::path::Path;

use common::{exit, fails, fixture, ok, stderr, store_btc, vane};
use serde_json::Value;

#[test]
fn export_with_from_after_to_is_a_usage_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    store_btc(dir.path());
    let out = vane(
        &[
            "export",
            "--symbol",
            "BTCUSDT",
            "--interval",
            "4h",
            "--csv",
            "o.csv",
            "--from",
            "2023-06-02",
            "--to",
            "2023-06-01",
        ],
        dir.path(),
    );
    fails(&out, exit::USAGE, &["--from 2023-06-02T00:00:00Z is not before --to 2023-06-01T00:00:00Z"]);
    assert!(!dir.path().join("o.csv").exists());
    // An empty range says where the stored bars are.
    let out = vane(
        &["export", "--symbol", "BTCUSDT", "--interval", "4h", "--csv", "o.csv", "--from", "2030-01-01"],
        dir.path(),
    );
    ok(&out);
    let err = stderr(&out);
    assert!(err.contains("the stored bars open from 2023-01-01T00:00:00Z to 2023-12-31T20:00:00Z"), "{err}");
}

#[test]
fn a_wrong_interval_names_the_files_own_interval() {
    let dir = tempfile::tempdir().unwrap();
    let csv = fixture("ETHUSDT_4h.csv");
    let csv = csv.to_str().unwrap();
    let out = vane(&["import", "--csv", csv, "--symbol", "ETHUSDT", "--interval", "1h"], dir.path());
    fails(&out, exit::DATA, &["ETHUSDT_4h.csv holds 4h bars, not 1h: pass --interval 4h", "close_time_ms"]);
    let sol = fixture("SOLUSDT_15m.csv");
    let out = vane(
        &["resample", "--input", sol.to_str().unwrap(), "--from", "1m", "--to", "1h", "--output", "o.csv"],
        dir.path(),
    );
    fails(&out, exit::DATA, &["holds 15m bars, not 1m: pass --from 15m"]);
    let out = vane(&["features", "--input", csv, "--interval", "1h", "--set", "v1", "--output", "f.csv"], dir.path());
    fails(&out, exit::DATA, &["holds 4h bars, not 1h: pass --interval 4h"]);
    // The right interval still imports.
    ok(&vane(&["import", "--csv", csv, "--symbol", "ETHUSDT", "--interval", "4h"], dir.path()));
}

#[test]
fn tabular_never_overwrites_its_inputs_and_names_a_missing_target() {
    let dir = tempfile::tempdir().unwrap();
    let train = "a,b,label\n1,2,x\n2,3,y\n3,4,x\n4,5,y\n5,6,x\n6,7,y\n";
    let test = "a,b,label\n1,2,x\n2,3,y\n";
    std::fs::write(dir.path().join("tr.csv"), train).unwrap();
    std::fs::write(dir.path().join("te.csv"), test).unwrap();
    let base = ["tabular", "--model", "logistic", "--train", "tr.csv", "--test", "te.csv"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> { base.iter().chain(extra).copied().collect() };
    for out_path in ["tr.csv", "te.csv"] {
        let out = vane(&with(&["--target", "label", "--output", out_path]), dir.path());
        fails(&out, exit::USAGE, &["refusing to write", out_path]);
    }
    assert_eq!(std::fs::read_to_string(dir.path().join("tr.csv")).unwrap(), train);
    assert_eq!(std::fs::read_to_string(dir.path().join("te.csv")).unwrap(), test);
    // A typo'd target lists the header.
    let out = vane(&with(&["--target", "lable"]), dir.path());
    fails(&out, exit::USAGE, &["tr.csv: no column \"lable\"", "its header is: a,b,label"]);
    // The summary names the model as the flag spells it.
    let text = ok(&vane(&with(&["--target", "label", "--output", "p.csv"]), dir.path()));
    assert!(text.starts_with("logistic: fit "), "{text}");
    assert_eq!(std::fs::read_to_string(dir.path().join("p.csv")).unwrap().lines().count(), 3);
}

#[test]
fn metrics_without_a_return_column_lists_the_header() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pos.csv"), "open_time_ms,position\n1,0.5\n").unwrap();
    let out = vane(&["metrics", "--returns", "pos.csv", "--periods-per-year", "2190"], dir.path());
    fails(&out, exit::USAGE, &["pos.csv: no column \"return\"", "its header is: open_time_ms,position"]);
}

#[test]
fn split_says_when_no_fold_fits_spells_the_scheme_and_refuses_other_schemes_flags() {
    let dir = tempfile::tempdir().unwrap();
    let out = vane(&["split", "--rows", "200", "--scheme", "walk-forward"], dir.path());
    fails(&out, exit::USAGE, &["no walk-forward fold fits in --rows 200", "= 600 rows"]);
    let out = vane(&["split", "--rows", "2000", "--scheme", "purged-kfold", "--train", "100"], dir.path());
    fails(&out, exit::USAGE, &["--train is a walk-forward parameter; --scheme purged-kfold does not use it"]);
    let out = vane(&["split", "--rows", "2000", "--scheme", "walk-forward", "--groups", "4"], dir.path());
    fails(&out, exit::USAGE, &["--groups is a cpcv parameter"]);
    for (scheme, folds) in [("walk-forward", 15), ("purged-kfold", 5), ("cpcv", 15)] {
        let j: Value =
            serde_json::from_str(&ok(&vane(&["split", "--rows", "2000", "--scheme", scheme, "--json"], dir.path())))
                .unwrap();
        assert_eq!(j["scheme"], scheme);
        assert_eq!(j["folds"].as_array().unwrap().len(), folds, "{scheme}");
    }
    // --embargo belongs to two schemes.
    ok(&vane(&["split", "--rows", "2000", "--scheme", "cpcv", "--embargo", "3"], dir.path()));
}

#[test]
fn label_refuses_another_kinds_parameters_and_warns_when_nothing_is_labelled() {
    let dir = tempfile::tempdir().unwrap();
    let csv = fixture("BTCUSDT_4h.csv");
    let csv = csv.to_str().unwrap();
    let out =
        vane(&["label", "--input", csv, "--kind", "fixed", "--sigma-window", "5", "--output", "l.csv"], dir.path());
    fails(&out, exit::USAGE, &["--sigma-window is a parameter of --kind triple-barrier; --kind fixed does not use it"]);
    assert!(!dir.path().join("l.csv").exists());
    let out =
        vane(&["label", "--input", csv, "--kind", "percentile", "--theta", "0.02", "--output", "l.csv"], dir.path());
    fails(&out, exit::USAGE, &["--theta is a parameter of --kind fixed"]);
    // The kind's own parameter is fine.
    let out = vane(&["label", "--input", csv, "--kind", "fixed", "--theta", "0.02", "--output", "l.csv"], dir.path());
    ok(&out);
    assert!(stderr(&out).contains("2184 of 2190 bars labelled"), "{}", stderr(&out));
    let out = vane(&["label", "--input", csv, "--kind", "fixed", "--horizon", "5000", "--output", "l.csv"], dir.path());
    ok(&out);
    assert!(stderr(&out).contains("0 of 2190 bars labelled"), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning: no bar has a label"), "{}", stderr(&out));
}

#[test]
fn data_info_on_a_missing_folder_says_it_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let text = ok(&vane(&["data", "info", "--data-dir", "nosuch"], dir.path()));
    assert!(text.contains("no store at nosuch: the folder does not exist"), "{text}");
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let text = ok(&vane(&["data", "info", "--data-dir", "empty"], dir.path()));
    assert_eq!(text.trim(), "no candle files in empty");
}

#[test]
fn predict_before_any_training_names_the_missing_models_folder() {
    let dir = tempfile::tempdir().unwrap();
    store_btc(dir.path());
    let out = vane(&["predict", "--symbol", "BTCUSDT"], dir.path());
    fails(
        &out,
        exit::USAGE,
        &["no model for BTCUSDT: artifacts/models does not exist", "--artifacts-dir", "vane train"],
    );
}

#[test]
fn download_of_an_interval_the_exchange_lacks_says_what_to_download_instead() {
    let dir = tempfile::tempdir().unwrap();
    // A closed port: the check must come before any request.
    let dl = |exchange: &str, interval: &str| {
        vane(
            &[
                "download",
                "--exchange",
                exchange,
                "--symbols",
                "BTCUSDT",
                "--interval",
                interval,
                "--base-url",
                "http://127.0.0.1:9",
                "--max-attempts",
                "1",
            ],
            dir.path(),
        )
    };
    fails(
        &dl("binance-spot", "5s"),
        exit::USAGE,
        &["binance-spot has no 5s klines", "--interval 1s", "vane resample --symbol S --from 1s --to 5s"],
    );
    fails(&dl("bybit-linear", "8h"), exit::USAGE, &["bybit-linear has no 8h klines", "--from 4h --to 8h"]);
    fails(&dl("binance-usdm", "1s"), exit::USAGE, &["binance-usdm has no 1s klines", "--exchange binance-spot"]);
    assert!(!dir.path().join("data").exists());
}

#[test]
fn serve_with_a_short_token_file_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tok.txt"), "short\n").unwrap();
    let out = vane(&["serve", "--addr", "127.0.0.1:0", "--token-file", "tok.txt"], dir.path());
    fails(
        &out,
        exit::USAGE,
        &["tok.txt: the API token must be at least 16 characters (it has 5 bytes)", "openssl rand"],
    );
}

#[test]
fn train_test_refuses_another_models_hyperparameters() {
    let dir = tempfile::tempdir().unwrap();
    store_btc(dir.path());
    let tt = |extra: &[&str]| {
        let mut args = vec!["train-test", "--symbol", "BTCUSDT", "--interval", "4h", "--no-run-record"];
        args.extend_from_slice(extra);
        vane(&args, dir.path())
    };
    fails(&tt(&["--model", "gbdt", "--epochs", "5"]), exit::USAGE, &["--epochs does not apply to --model gbdt"]);
    fails(
        &tt(&["--model", "lorentzian-knn", "--lr", "0.1"]),
        exit::USAGE,
        &["--lr does not apply to --model lorentzian-knn"],
    );
    fails(
        &tt(&["--model", "lorentzian", "--depth", "3"]),
        exit::USAGE,
        &["--depth does not apply to --model lorentzian"],
    );
    assert!(!dir.path().join("models").exists(), "nothing trained");
}

#[test]
fn stack_train_names_the_config_when_its_symbol_is_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/seed000.toml");
    let cfg = cfg.to_str().unwrap();
    let out = vane(&["stack", "train", "--config", cfg, "--no-run-record"], dir.path());
    let err = fails(&out, exit::USAGE, &["seed000.toml [data] symbols", "no 1s bars stored for"]);
    assert!(!err.contains("--symbols:"), "{err}");
    let out = vane(&["stack", "train", "--config", cfg, "--symbols", "BTCUSDT", "--no-run-record"], dir.path());
    fails(&out, exit::USAGE, &["--symbols: no 1s bars stored for BTCUSDT"]);
}

#[test]
fn backtest_refuses_zero_periods_per_year_and_points_a_decisions_file_at_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let prices = fixture("BTCUSDT_4h.csv");
    let prices = prices.to_str().unwrap();
    std::fs::write(dir.path().join("pos.csv"), "open_time_ms,position\n1672531200000,1\n").unwrap();
    std::fs::write(dir.path().join("dec.csv"), "open_time_ms,signal\n1672531200000,BUY\n").unwrap();
    let out = vane(&["backtest", "--prices", prices, "--positions", "pos.csv", "--periods-per-year", "0"], dir.path());
    fails(&out, exit::USAGE, &["--periods-per-year 0 must be a positive number"]);
    let out = vane(&["metrics", "--returns", "pos.csv", "--periods-per-year", "0"], dir.path());
    fails(&out, exit::USAGE, &["pos.csv: no column \"return\""]);
    let out = vane(&["backtest", "--prices", prices, "--positions", "dec.csv"], dir.path());
    fails(&out, exit::USAGE, &["--positions dec.csv: it has a `signal` column", "--decisions dec.csv"]);
    // The same file as --decisions runs (BUY at the first bar, held to the end: buy and hold).
    let j: Value = serde_json::from_str(&ok(&vane(
        &["backtest", "--prices", prices, "--decisions", "dec.csv", "--json"],
        dir.path(),
    )))
    .unwrap();
    assert_eq!(j["periods"], 2189);
    assert_eq!(j["trade_count"], 1);
}

#[test]
fn calibrate_refuses_holdout_with_a_fixed_method() {
    let dir = tempfile::tempdir().unwrap();
    let mut fit = String::from("score,label\n");
    for i in 0..40 {
        fit.push_str(&format!("{},{}\n", f64::from(i) / 40.0, u8::from(i % 3 != 0 && i > 10)));
    }
    std::fs::write(dir.path().join("fit.csv"), fit).unwrap();
    std::fs::write(dir.path().join("apply.csv"), "score\n0.1\n0.9\n").unwrap();
    let base = ["calibrate", "--fit", "fit.csv", "--apply", "apply.csv", "--output", "c.csv"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> { base.iter().chain(extra).copied().collect() };
    let out = vane(&with(&["--method", "isotonic", "--holdout", "0.2"]), dir.path());
    fails(&out, exit::USAGE, &["--holdout 0.2 is for --method auto", "--method isotonic fits on every row"]);
    assert!(!dir.path().join("c.csv").exists());
    ok(&vane(&with(&["--method", "auto", "--holdout", "0.2"]), dir.path()));
    let text = std::fs::read_to_string(dir.path().join("c.csv")).unwrap();
    assert_eq!(text.lines().next(), Some("score,calibrated"));
    assert_eq!(text.lines().count(), 3);
}

#[test]
fn runs_list_aligns_long_model_names_and_says_when_a_filter_matched_nothing() {
    let dir = tempfile::tempdir().unwrap();
    store_btc(dir.path());
    for model in ["lorentzian-knn", "gbdt"] {
        ok(&vane(
            &["train-test", "--model", model, "--symbol", "BTCUSDT", "--interval", "4h", "--data-days", "60"],
            dir.path(),
        ));
    }
    let text = ok(&vane(&["runs", "list"], dir.path()));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    // Every row's symbols column starts where the header's does.
    let col = lines[0].find("symbols").unwrap();
    for row in &lines[1..3] {
        assert_eq!(row.find("BTCUSDT"), Some(col), "{text}");
    }
    let text = ok(&vane(&["runs", "list", "--verb", "trian"], dir.path()));
    assert_eq!(
        text.trim(),
        "none of the 2 run(s) in runs matches --verb trian (verbs recorded there: train-test)",
        "{text}"
    );
    let text = ok(&vane(&["runs", "list", "--runs-dir", "nowhere"], dir.path()));
    assert!(text.starts_with("no runs in nowhere"), "{text}");
}

#[test]
fn wfo_refuses_flags_its_model_ignores() {
    let dir = tempfile::tempdir().unwrap();
    store_btc(dir.path());
    let wfo = |extra: &[&str]| {
        let mut args = vec!["wfo", "--symbol", "BTCUSDT", "--interval", "4h", "--no-run-record", "--out", "w"];
        args.extend_from_slice(extra);
        vane(&args, dir.path())
    };
    fails(&wfo(&["--model", "gbdt", "--epochs", "5"]), exit::USAGE, &["--epochs does not apply to --model gbdt"]);
    fails(&wfo(&["--model", "lorentzian-knn", "--seq-len", "8"]), exit::USAGE, &["--seq-len does not apply"]);
    fails(&wfo(&["--model", "lorentzian-knn", "--horizon", "8"]), exit::USAGE, &["--horizon does not apply"]);
    fails(&wfo(&["--model", "lorentzian-knn", "--theta", "0.01"]), exit::USAGE, &["--theta does not apply"]);
    assert!(!dir.path().join("w").exists());
    let tt = vane(
        &["train-test", "--model", "lorentzian-knn", "--symbol", "BTCUSDT", "--interval", "4h", "--theta", "0.01"],
        dir.path(),
    );
    fails(&tt, exit::USAGE, &["--theta does not apply to --model lorentzian-knn"]);
}
