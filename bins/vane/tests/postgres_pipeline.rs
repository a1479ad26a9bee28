//! Seed 004's pipeline through the CLI against a real PostgreSQL: `vane prepare` (70 % then all)
//! equals `vane features --set full` and `vane label --kind expected-return` on the same candles
//! bit for bit; a tiny TFT trained with `--database-url` writes its walk-forward out-of-sample
//! predictions (with the realised targets), its model and the bars of each split, the analytics
//! views score them as a hand computation does; `vane predict --database-url` writes a live row
//! whose realised target a later run fills in. A throwaway database per test, created from
//! `DATABASE_URL` (skipped without it; failing with `VANE_REQUIRE_POSTGRES=1`).

mod common;

use std::path::Path;

use common::{fixture, vane};
use serde_json::Value;
use vane_core::{Bars, Interval, Symbol, Timestamp};
use vane_indicators::FeatureSet;
use vane_postgres::PgStore;
use vane_testkit::fixture_bars;

struct TestDb {
    url: String,
    name: String,
    admin_url: String,
}

fn test_db() -> Option<TestDb> {
    let required = common::required("VANE_REQUIRE_POSTGRES");
    let skip = |why: String| {
        assert!(!required, "PostgreSQL is required here (VANE_REQUIRE_POSTGRES=1 or CI=true) but {why}");
        eprintln!("skipping: {why} (set DATABASE_URL, e.g. `eval \"$(bash .ci/pg.sh)\"`)");
        None
    };
    let Ok(admin_url) = std::env::var("DATABASE_URL") else { return skip("DATABASE_URL is not set".into()) };
    let admin = match PgStore::connect(&admin_url) {
        Ok(s) => s,
        Err(e) => return skip(format!("the database is unreachable: {e}")),
    };
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let k = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("vane_pipe_test_{}_{nanos}_{k}", std::process::id());
    admin.block_on(admin.client().batch_execute(&format!("CREATE DATABASE {name}"))).expect("create database");
    let (head, _) = admin_url.split_once('?').unwrap_or((&admin_url, ""));
    let base = head.rsplit_once('/').map_or(head, |(b, _)| b);
    Some(TestDb { url: format!("{base}/{name}"), name, admin_url })
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(admin) = PgStore::connect(&self.admin_url) {
            let _ = admin
                .block_on(admin.client().batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)));
        }
    }
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_str(&ok(out)).unwrap()
}

const ALL: (Timestamp, Timestamp) = (Timestamp(i64::MIN), Timestamp(i64::MAX));

/// The first `n` rows of the fixture CSV (header kept) as a file in `dir`.
fn prefix_csv(dir: &Path, src: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(src).unwrap();
    let lines: Vec<&str> = text.lines().take(n + 1).collect();
    let p = dir.join(format!("prefix_{n}.csv"));
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p.to_str().unwrap().to_string()
}

/// A CSV cell: empty ↔ no value.
fn cell(s: &str) -> Option<f64> {
    (!s.is_empty()).then(|| s.parse().unwrap())
}

#[test]
fn prepare_in_two_steps_equals_features_and_label_csvs_bit_for_bit() {
    let Some(db) = test_db() else { return };
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let url = db.url.as_str();
    let src = fixture("SOLUSDT_15m.csv");
    let bars = fixture_bars("SOLUSDT_15m.csv", Interval::M15);
    let n = bars.len();
    ok(&vane(&["db", "migrate", "--database-url", url], cwd));
    let import = |csv: &str| {
        ok(&vane(&["import", "--database-url", url, "--csv", csv, "--symbol", "SOLUSDT", "--interval", "15m"], cwd))
    };
    let prepare =
        || json(&vane(&["prepare", "--database-url", url, "--symbols", "SOLUSDT", "--interval", "15m", "--json"], cwd));

    import(&prefix_csv(cwd, &src, n * 7 / 10));
    let first = prepare();
    assert_eq!(first["series"][0]["rows_written"].as_u64(), Some((n * 7 / 10) as u64));
    import(src.to_str().unwrap());
    let second = prepare();
    assert_eq!(second["series"][0]["rows_written"].as_u64(), Some((n - n * 7 / 10 + 100) as u64), "{second}");
    let human = ok(&vane(&["prepare", "--database-url", url, "--symbols", "SOLUSDT", "--interval", "15m"], cwd));
    assert!(human.contains("100 awaiting their horizon"), "{human}");

    // The CLI's CSVs on the same candles: from the file, and from the database.
    let src_s = src.to_str().unwrap();
    ok(&vane(&["features", "--input", src_s, "--set", "full", "--output", "f.csv"], cwd));
    ok(&vane(
        &[
            "features",
            "--database-url",
            url,
            "--symbol",
            "SOLUSDT",
            "--interval",
            "15m",
            "--set",
            "full",
            "--output",
            "fdb.csv",
        ],
        cwd,
    ));
    let features = std::fs::read_to_string(cwd.join("f.csv")).unwrap();
    assert_eq!(features, std::fs::read_to_string(cwd.join("fdb.csv")).unwrap());
    ok(&vane(&["label", "--input", src_s, "--kind", "expected-return", "--output", "l.csv"], cwd));
    let labels = std::fs::read_to_string(cwd.join("l.csv")).unwrap();

    let store = PgStore::connect(url).unwrap();
    let sym = Symbol::new("SOLUSDT").unwrap();
    let rows = store.read_processed("bybit-linear", &sym, Interval::M15, FeatureSet::Full, ALL.0, ALL.1).unwrap();
    assert_eq!(rows.len(), n);
    let mut lines = features.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&header[1..], vane_postgres::processed_feature_columns());
    for (i, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[0].parse::<i64>().unwrap(), rows.open_time[i]);
        for (k, c) in cells[1..].iter().enumerate() {
            let db = rows.features[k][i];
            match cell(c) {
                Some(v) => assert_eq!(v.to_bits(), db.to_bits(), "row {i} {}", header[k + 1]),
                None => assert!(!db.is_finite(), "row {i} {}: CSV empty, database {db}", header[k + 1]),
            }
        }
    }
    let mut lines = labels.lines();
    assert_eq!(lines.next(), Some("open_time_ms,er_long,er_short,exit_long,exit_short"));
    let t = bars.open_time();
    let mut labelled = 0;
    for (i, line) in lines.enumerate() {
        let c: Vec<&str> = line.split(',').collect();
        assert_eq!(c[0].parse::<i64>().unwrap(), rows.open_time[i]);
        assert_eq!(cell(c[1]).map(f64::to_bits), rows.er_long[i].map(f64::to_bits), "er_long {i}");
        assert_eq!(cell(c[2]).map(f64::to_bits), rows.er_short[i].map(f64::to_bits), "er_short {i}");
        let exit = |s: &str| (!s.is_empty()).then(|| t[s.parse::<usize>().unwrap()]);
        assert_eq!(exit(c[3]), rows.exit_long_ms[i]);
        assert_eq!(exit(c[4]), rows.exit_short_ms[i]);
        labelled += usize::from(rows.er_long[i].is_some());
    }
    assert_eq!(labelled, n - 100);
}

/// Two symbols (the fixture, and the fixture's candles under a second name), the first `n` bars.
fn import_two(url: &str, cwd: &Path, csv: &str) {
    for s in ["SOLUSDT", "SOLXUSDT"] {
        ok(&vane(&["import", "--database-url", url, "--csv", csv, "--symbol", s, "--interval", "15m"], cwd));
    }
}

const TINY_TFT: &str = "task = \"regression\"\n\
[data]\nsymbols = [\"SOLUSDT\", \"SOLXUSDT\"]\ninterval = \"15m\"\nfeature_set = \"full\"\nseq_len = 8\n\
label = \"expected_return\"\nhorizon = 20\ntheta = 0.0\nwalk_forward = 2\nvalid_frac = 0.2\n\
[model]\nkind = \"tft\"\nd_model = 8\nn_heads = 2\n\
[train]\nepochs = 1\nbatch_size = 128\n";

#[test]
fn a_tiny_tft_writes_its_predictions_model_and_sequences_and_the_views_score_them() {
    let Some(db) = test_db() else { return };
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let url = db.url.as_str();
    let src = fixture("SOLUSDT_15m.csv");
    let all: Bars = fixture_bars("SOLUSDT_15m.csv", Interval::M15);
    let cut = 1100;
    ok(&vane(&["db", "migrate", "--database-url", url], cwd));
    import_two(url, cwd, &prefix_csv(cwd, &src, cut));
    // The targets at the model's horizon (20 bars), for the comparison below.
    let prep =
        ["prepare", "--database-url", url, "--symbols", "SOLUSDT,SOLXUSDT", "--interval", "15m", "--horizon", "20"];
    ok(&vane(&prep, cwd));
    std::fs::write(cwd.join("tiny.toml"), TINY_TFT).unwrap();
    let out =
        json(&vane(&["train", "--config", "tiny.toml", "--database-url", url, "--runs-dir", "runs", "--json"], cwd));
    let w = &out["database"];
    let model_id = w["model_id"].as_str().unwrap().to_string();
    let run_id = w["run_id"].as_str().unwrap().to_string();
    let wf = &out["walk_forward_regression"];
    let oos_rows = wf["pooled"]["n"].as_u64().unwrap();
    assert!(oos_rows > 100, "{wf}");
    assert_eq!(w["predictions"]["rows"].as_u64(), Some(oos_rows));
    assert_eq!(w["predictions"]["inserted"].as_u64(), Some(oos_rows));

    let store = PgStore::connect(url).unwrap();
    let q = |sql: &str| store.block_on(store.client().query(sql, &[&model_id])).unwrap();
    // Every OOS row: its realised target is the label (er_long − er_short at horizon 20, as the
    // model's f32 target), its ladder returns those of processed_market_data.
    let rows = q("SELECT p.symbol, p.prediction, p.realised, p.realised_long, p.realised_short, m.er_long, m.er_short
                  FROM model_predictions p JOIN processed_market_data m
                    ON m.symbol = p.symbol AND m.interval = p.interval AND m.open_time_ms = p.open_time_ms
                  WHERE p.model_id = $1");
    assert_eq!(rows.len() as u64, oos_rows);
    let (mut abs, mut hits) = (0.0, 0usize);
    for r in &rows {
        let (p, y): (f64, f64) = (r.get(1), r.get::<_, Option<f64>>(2).unwrap());
        let (el, es): (f64, f64) = (r.get(5), r.get(6));
        assert_eq!(y.to_bits(), f64::from((el - es) as f32).to_bits());
        assert_eq!(r.get::<_, Option<f64>>(3).map(f64::to_bits), Some(el.to_bits()));
        assert_eq!(r.get::<_, Option<f64>>(4).map(f64::to_bits), Some(es.to_bits()));
        abs += (p - y).abs();
        hits += usize::from(p.signum() == y.signum() || (p == 0.0 && y == 0.0));
    }
    // The views, against the hand computation and the run's own pooled scores.
    let m = store.symbol_metrics(Some(&model_id)).unwrap();
    assert_eq!(m.iter().map(|s| s.symbol.as_str()).collect::<Vec<_>>(), ["SOLUSDT", "SOLXUSDT"]);
    let n: i64 = m.iter().map(|s| s.n).sum();
    assert_eq!(n as u64, oos_rows);
    let mae = m.iter().map(|s| s.mae * s.n as f64).sum::<f64>() / n as f64;
    let dir_acc = m.iter().map(|s| s.direction_accuracy * s.n as f64).sum::<f64>() / n as f64;
    assert!((mae - abs / n as f64).abs() < 1e-12, "{mae} vs {}", abs / n as f64);
    assert!((mae - wf["pooled"]["mae"].as_f64().unwrap()).abs() < 1e-9, "{mae} vs {}", wf["pooled"]);
    assert!((dir_acc - hits as f64 / n as f64).abs() < 1e-12);
    let ladder = store.ladder_metrics(Some(&model_id)).unwrap();
    assert!(ladder.iter().all(|l| l.trades > 0 && (0.0..=1.0).contains(&l.hit_rate)), "{ladder:?}");
    assert!(!store.daily_metrics(Some(&model_id)).unwrap().is_empty());

    // The model and what each split used.
    let meta = store.model(&model_id).unwrap().expect("a model_metadata row");
    assert_eq!(meta.kind, "tft");
    assert!(Path::new(meta.artifact_path.as_deref().unwrap()).join("model.bpk").is_file());
    assert!(meta.metrics["walk_forward_regression"]["pooled"]["mae"].is_number());
    assert_eq!(meta.feature_schema["columns"].as_array().map(Vec::len), Some(49));
    assert_eq!(meta.config["data"]["horizon"], 20);
    let seqs = store.training_sequences(&run_id).unwrap();
    let test_rows: i64 = seqs.iter().filter(|s| s.split == "test").map(|s| s.rows).sum();
    assert_eq!(test_rows as u64, oos_rows);
    for (window, split) in [(0, "train"), (0, "validation"), (1, "train"), (1, "test"), (2, "test")] {
        assert_eq!(seqs.iter().filter(|s| s.window_index == window && s.split == split).count(), 2, "{window} {split}");
    }
    assert!(
        seqs.iter().all(|s| s.start_ms <= s.end_ms && s.seq_len == 8 && s.horizon == 20 && s.feature_set == "full")
    );

    // A live prediction: realised NULL until its horizon has passed; the next run fills it in.
    let predict = ["predict", "--database-url", url, "--symbol", "SOLUSDT", "--model-id", &model_id, "--json"];
    let p = json(&vane(&predict, cwd));
    let as_of = all.open_time()[cut - 1];
    assert_eq!(p["database"]["prediction"]["open_time_ms"].as_i64(), Some(as_of));
    assert_eq!(p["database"]["prediction"]["realised"], Value::Null);
    let live = |t: i64| {
        let r = store
            .block_on(store.client().query_one(
                "SELECT prediction, realised, realised_long FROM model_predictions WHERE model_id = $1 AND symbol = 'SOLUSDT' AND open_time_ms = $2",
                &[&model_id, &t],
            ))
            .unwrap();
        (r.get::<_, f64>(0), r.get::<_, Option<f64>>(1), r.get::<_, Option<f64>>(2))
    };
    assert_eq!(live(as_of).1, None);
    import_two(url, cwd, src.to_str().unwrap());
    let p2 = json(&vane(&predict, cwd));
    assert_eq!(p2["database"]["realised_filled"].as_u64(), Some(1), "{p2}");
    let full = ["prepare", "--database-url", url, "--symbols", "SOLUSDT", "--interval", "15m", "--horizon", "20"];
    ok(&vane(&full, cwd));
    let sym = Symbol::new("SOLUSDT").unwrap();
    let pr = store
        .read_processed("bybit-linear", &sym, Interval::M15, FeatureSet::Full, Timestamp(as_of), Timestamp(as_of + 1))
        .unwrap();
    let (el, es) = (pr.er_long[0].unwrap(), pr.er_short[0].unwrap());
    let (_, realised, realised_long) = live(as_of);
    assert_eq!(realised.map(f64::to_bits), Some((el - es).to_bits()));
    assert_eq!(realised_long.map(f64::to_bits), Some(el.to_bits()));
    assert_eq!(live(*all.open_time().last().unwrap()).1, None);
}

#[test]
fn a_tiny_tft_classifier_writes_its_probabilities_and_signed_score() {
    let Some(db) = test_db() else { return };
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let url = db.url.as_str();
    ok(&vane(&["db", "migrate", "--database-url", url], cwd));
    import_two(url, cwd, fixture("SOLUSDT_15m.csv").to_str().unwrap());
    std::fs::write(cwd.join("tiny.toml"), TINY_TFT.replace("\"regression\"", "\"classification\"")).unwrap();
    let out = json(&vane(&["train", "--config", "tiny.toml", "--database-url", url, "--no-run-record", "--json"], cwd));
    let pooled = out["walk_forward"]["calibration_rows"].as_u64().unwrap();
    assert_eq!(out["database"]["predictions"]["inserted"].as_u64(), Some(pooled), "{}", out["database"]);
    let model_id = out["database"]["model_id"].as_str().unwrap().to_string();
    let store = PgStore::connect(url).unwrap();
    let rows = store
        .block_on(store.client().query(
            "SELECT prediction, probabilities, realised, realised_long FROM model_predictions WHERE model_id = $1",
            &[&model_id],
        ))
        .unwrap();
    assert_eq!(rows.len() as u64, pooled);
    for r in &rows {
        let p: Vec<f64> = r.get::<_, Option<Vec<f64>>>(1).unwrap();
        assert_eq!(p.len(), 3);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert_eq!(r.get::<_, f64>(0).to_bits(), (p[0] - p[1]).to_bits());
        assert!(r.get::<_, Option<f64>>(2).is_some() && r.get::<_, Option<f64>>(3).is_some());
    }
    assert_eq!(store.model(&model_id).unwrap().unwrap().kind, "tft");
}
