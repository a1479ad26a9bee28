//! The runs registry from the command line: `vane train` records a run (finished or failed),
//! `vane runs list|show|compare` read it back, `vane report --run` writes a self-contained HTML.

mod common;

use std::path::Path;

use common::{exit, fails, fixture, ok, vane};
use serde_json::Value;
use vane_artifact::runs::{HistoryRow, ReturnRow, RunsDir};

fn import_4h(dir: &Path) {
    for s in ["BTCUSDT", "ETHUSDT"] {
        let csv = fixture(&format!("{s}_4h.csv"));
        ok(&vane(&["import", "--csv", csv.to_str().unwrap(), "--symbol", s, "--interval", "4h"], dir));
    }
}

const SMALL_GBDT: &str = "train_bars = 900\ntest_bars = 360\ntheta_steps_fast = 2\niterations_fast = 10\ndepth = 3\n";

fn json(out: &std::process::Output) -> Value {
    serde_json::from_str(&ok(out)).unwrap()
}

#[test]
fn train_records_a_run_that_list_show_and_compare_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    import_4h(d);
    std::fs::write(d.join("small.toml"), SMALL_GBDT).unwrap();
    let a = json(&vane(&["train", "--config", "small.toml", "--mode", "fast", "--json"], d));
    let id_a = a["run"]["id"].as_str().expect("train --json names its run").to_string();
    assert!(id_a.contains("-train-gbdt-"), "{id_a}");
    // The record: finished, with the resolved config, metrics, the model folder and its plots.
    let run_dir = d.join("runs").join(&id_a);
    let rec: Value = serde_json::from_str(&std::fs::read_to_string(run_dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(rec["status"], "finished");
    assert_eq!(rec["verb"], "train");
    assert_eq!(rec["model"], "gbdt");
    assert_eq!(rec["symbols"], serde_json::json!(["BTCUSDT", "ETHUSDT"]));
    assert_eq!(rec["interval"], "4h");
    assert_eq!(rec["config"]["train_bars"], 900);
    assert_eq!(rec["config"]["cli"]["mode"], "fast");
    let ll = rec["metrics"]["log_loss"].as_f64().unwrap();
    assert_eq!(ll, a["metrics"]["pooled"]["gbdt_calibrated"]["log_loss"].as_f64().unwrap(), "the report's figure");
    assert!(rec["metrics"]["ece"].is_f64() && rec["metrics"]["macro_f1"].is_f64(), "{}", rec["metrics"]);
    assert!(rec["metrics"]["net_return"].is_f64(), "{}", rec["metrics"]);
    assert!(rec["artifacts"][0].as_str().unwrap().ends_with("global"), "{}", rec["artifacts"]);
    assert!(run_dir.join("plots/reliability.png").is_file() && run_dir.join("plots/reliability.svg").is_file());
    assert!(rec["finished_ms"].as_i64().unwrap() >= rec["created_ms"].as_i64().unwrap());

    // A second run with another setting, in a runs folder given by --runs-dir.
    let b = json(&vane(
        &["train", "--config", "small.toml", "--mode", "fast", "--set", "depth=2", "--runs-dir", "runs", "--json"],
        d,
    ));
    let id_b = b["run"]["id"].as_str().unwrap().to_string();
    // --no-run-record leaves no run.
    let c = json(&vane(&["train", "--config", "small.toml", "--mode", "fast", "--no-run-record", "--json"], d));
    assert!(c.get("run").is_none());

    let l = json(&vane(&["runs", "list", "--json"], d));
    let ids: Vec<&str> = l["runs"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [id_a.as_str(), id_b.as_str()], "oldest first, the unrecorded run absent");
    assert!(l["warnings"].as_array().unwrap().is_empty());
    let index = std::fs::read_to_string(d.join("runs/index.jsonl")).unwrap();
    assert_eq!(index.lines().count(), 2);
    // Filters.
    assert_eq!(json(&vane(&["runs", "list", "--model", "hrm", "--json"], d))["runs"].as_array().unwrap().len(), 0);
    assert_eq!(json(&vane(&["runs", "list", "--symbol", "ethusdt", "--json"], d))["runs"].as_array().unwrap().len(), 2);
    assert_eq!(json(&vane(&["runs", "list", "--status", "failed", "--json"], d))["runs"].as_array().unwrap().len(), 0);
    // The table a person reads.
    let text = ok(&vane(&["runs", "list"], d));
    assert!(text.contains(&id_a) && text.contains("finished") && text.contains("log_loss"), "{text}");
    assert!(text.contains("2 run(s) in runs"), "{text}");

    // show: record, files, no history for a GBDT run.
    let s = json(&vane(&["runs", "show", &id_a, "--json"], d));
    assert_eq!(s["record"]["id"], id_a.as_str());
    let files: Vec<&str> = s["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(files.contains(&"run.json") && files.contains(&"plots/reliability.svg"), "{files:?}");
    assert!(s["history"].is_null());
    let text = ok(&vane(&["runs", "show", &id_a], d));
    assert!(text.contains("status       finished") && text.contains("plots/reliability.png"), "{text}");
    assert!(text.contains("verdict:"), "the verdict is kept as a note: {text}");

    // compare: metrics side by side, the differing config key found.
    let cmp = json(&vane(&["runs", "compare", &id_a, &id_b, "--json"], d));
    assert_eq!(cmp["metrics"]["log_loss"].as_array().unwrap().len(), 2);
    let diffs: Vec<&str> =
        cmp["config_differences"].as_array().unwrap().iter().map(|x| x["key"].as_str().unwrap()).collect();
    assert_eq!(diffs, ["depth"], "only --set depth=2 differs");
    assert_eq!(cmp["config_differences"][0]["values"], serde_json::json!([3, 2]));
    let text = ok(&vane(&["runs", "compare", &id_a, &id_b], d));
    assert!(text.contains("[1] ") && text.contains("[2] ") && text.contains("depth"), "{text}");

    // An unknown id is a usage error naming the runs folder; so is a hostile one.
    fails(&vane(&["runs", "show", "nope"], d), exit::USAGE, &["no run \"nope\"", "runs list --runs-dir runs"]);
    fails(&vane(&["runs", "compare", &id_a, "../x"], d), exit::USAGE, &["no run \"../x\""]);
    fails(&vane(&["report", "--run", "nope"], d), exit::USAGE, &["no run \"nope\""]);

    // A corrupt run.json is a warning in the list, not an error.
    std::fs::write(d.join("runs").join(&id_b).join("run.json"), "{not json").unwrap();
    let l = json(&vane(&["runs", "list", "--json"], d));
    assert_eq!(l["runs"].as_array().unwrap().len(), 1);
    assert!(l["warnings"][0].as_str().unwrap().contains("run.json"), "{}", l["warnings"]);
    let out = vane(&["runs", "list"], d);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("warning: skipped a run folder"));

    // The GBDT run has no returns: its report still has the metrics and the reliability plot.
    let r = json(&vane(&["report", "--run", &id_a, "--json"], d));
    let html = std::fs::read_to_string(d.join(r["path"].as_str().unwrap())).unwrap();
    assert!(html.contains("log_loss") && html.contains("<svg"), "metrics and the inline reliability plot");
    assert!(html.contains("train-test") && html.contains("wfo"), "says which verbs record returns");
}

#[test]
fn a_train_that_fails_after_it_starts_is_recorded_failed_and_a_bad_config_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A config out of range fails before any work: no run.
    std::fs::write(d.join("bad.toml"), "hold_min = 0.9\nhold_max = 0.1\n").unwrap();
    fails(&vane(&["train", "--config", "bad.toml", "--mode", "fast"], d), exit::DATA, &["hold_min/hold_max"]);
    assert!(!d.join("runs").exists(), "no run for a config that never started");
    // No stored candles: the training itself fails, and the run says so.
    std::fs::write(d.join("small.toml"), SMALL_GBDT).unwrap();
    let out = vane(&["train", "--config", "small.toml", "--mode", "fast"], d);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let l = json(&vane(&["runs", "list", "--status", "failed", "--json"], d));
    let runs = l["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{l}");
    let id = runs[0]["id"].as_str().unwrap();
    let rec: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("runs").join(id).join("run.json")).unwrap()).unwrap();
    assert_eq!(rec["status"], "failed");
    let note = rec["notes"].as_array().unwrap().last().unwrap().as_str().unwrap().to_string();
    assert!(!note.is_empty() && err.contains(&note), "the failure message is the error printed: {note:?} in {err:?}");
    assert!(rec["finished_ms"].is_i64());
    // An unusable runs folder stops the run before training, naming the fixes.
    std::fs::write(d.join("afile"), "x").unwrap();
    fails(
        &vane(&["train", "--config", "small.toml", "--mode", "fast", "--runs-dir", "afile"], d),
        exit::IO,
        &["afile", "--no-run-record"],
    );
}

#[test]
fn a_sequence_run_records_its_history_and_loss_curve() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    import_4h(d);
    std::fs::write(
        d.join("hrm.toml"),
        "[data]\nsymbols = [\"BTCUSDT\"]\nseq_len = 10\nmax_bars = 300\n\
         [model]\nkind = \"hrm\"\nhidden_low = 8\nhidden_high = 8\n[train]\nepochs = 2\n",
    )
    .unwrap();
    let j = json(&vane(&["train", "--config", "hrm.toml", "--walk-forward", "0", "--json"], d));
    let id = j["run"]["id"].as_str().unwrap().to_string();
    assert!(id.contains("-train-hrm-"), "{id}");
    let runs = RunsDir::new(d.join("runs"));
    let rec = runs.load(&id).unwrap();
    assert_eq!(rec.status, vane_artifact::runs::RunStatus::Finished);
    assert_eq!(rec.config["model"]["kind"], "hrm");
    assert_eq!(rec.config["train"]["epochs"], 2);
    assert_eq!(rec.config["train_resolved"]["epochs"], 2);
    assert_eq!(rec.metrics["val_loss"], j["metrics"]["val_loss"].as_f64());
    let h = runs.history(&id).unwrap();
    assert_eq!(h.len(), 2);
    for (row, e) in h.iter().zip(j["history"].as_array().unwrap()) {
        assert_eq!(row.train_loss, e["train_loss"].as_f64().unwrap(), "read back exactly");
        assert_eq!(row.valid_loss, e["val_loss"].as_f64());
    }
    assert!(runs.root().join(&id).join("plots/loss_curve.svg").is_file());
    let s = ok(&vane(&["runs", "show", &id], d));
    assert!(s.contains("history: 2 epochs"), "{s}");
}

/// A run with returns, as `train-test` or `wfo` leave one: 600 4h periods over two windows.
fn run_with_returns(runs: &RunsDir) -> String {
    let mut w =
        runs.start("wfo", "lorentzian", &["BTCUSDT".into()], Some("4h"), serde_json::json!({"lr": 0.001})).unwrap();
    let mut x: u64 = 7;
    let rows: Vec<ReturnRow> = (0..600)
        .map(|i| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
            ReturnRow {
                open_time_ms: 1_700_000_000_000 + i * 14_400_000,
                window: usize::from(i >= 300),
                ret: (u - 0.48) * 0.02,
            }
        })
        .collect();
    w.write_returns(&rows).unwrap();
    let hist: Vec<HistoryRow> = (1..=5)
        .map(|e| HistoryRow { epoch: e, train_loss: 1.1 / e as f64, valid_loss: Some(1.0 + 0.05 / e as f64) })
        .collect();
    w.write_history(&hist).unwrap();
    w.metric("oos_sharpe_ratio", 0.5);
    let id = w.id().to_string();
    w.finish().unwrap();
    id
}

#[test]
fn report_writes_a_self_contained_tearsheet() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let runs = RunsDir::new(d.join("runs"));
    let id = run_with_returns(&runs);
    let r = json(&vane(&["report", "--run", &id, "--json"], d));
    let path = Path::new(r["path"].as_str().unwrap());
    assert_eq!(path, Path::new("runs").join(&id).join("report.html"));
    let html = std::fs::read_to_string(d.join(path)).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") || html.starts_with("<!doctype html>"), "{}", &html[..40]);
    assert!(html.contains("<table") && html.contains("Sharpe"), "a metrics table");
    assert!(html.matches("<svg").count() >= 3, "inline SVG panels");
    for bad in ["src=\"http", "href=\"http", "url(http", "<script src", "<link ", "@import"] {
        assert!(!html.contains(bad), "an external reference {bad:?}");
    }
    // --out elsewhere; text mode names the file.
    let out = vane(&["report", "--run", &id, "--out", "t.html"], d);
    ok(&out);
    assert!(d.join("t.html").is_file());
    // --out that is not an HTML file: a usage error.
    fails(&vane(&["report", "--run", &id, "--out", "t.png"], d), exit::USAGE, &["--out t.png", ".html"]);
}
