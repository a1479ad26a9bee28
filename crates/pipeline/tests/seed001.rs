//! Seed 001 end to end on the bundled real candles (BTCUSDT, ETHUSDT 4h, 2023): train, artifacts,
//! predict (batch and streaming), per-symbol and global fallback, the shuffled-label leakage
//! alarm, and bad input.

use std::path::Path;

use vane_core::{Interval, Symbol};
use vane_market_data::ParquetStore;
use vane_pipeline::{Mode, PipelineError, Predictor, TrainConfig, train};
use vane_testkit::{fixture_bars, fixture_store_4h};

fn sym(s: &str) -> Symbol {
    Symbol::new(s).unwrap()
}

fn store(dir: &Path) -> ParquetStore {
    fixture_store_4h(dir)
}

/// A small, quick configuration: 3 walk-forward windows, 2 θ candidates, 40 trees.
fn cfg() -> TrainConfig {
    TrainConfig {
        train_bars: 900,
        test_bars: 360,
        theta_steps_fast: 2,
        iterations_fast: 40,
        depth: 4,
        ..TrainConfig::default()
    }
}

#[test]
fn train_writes_artifacts_and_predicts() {
    let dir = tempfile::tempdir().unwrap();
    let st = store(dir.path());
    let arts = dir.path().join("artifacts");
    let report = train(&st, &arts, &cfg(), Mode::Fast, false).unwrap();
    let ids: Vec<&str> = report.models.iter().map(|m| m.0.as_str()).collect();
    assert_eq!(ids, vec!["global"]);
    let per = train(&st, &arts, &TrainConfig { per_symbol: true, ..cfg() }, Mode::Fast, false).unwrap();
    let ids: Vec<&str> = per.models.iter().map(|m| m.0.as_str()).collect();
    assert_eq!(ids, vec!["BTCUSDT", "ETHUSDT"]);
    for f in ["model.json", "config.json", "feature_schema.json", "inference.json", "metrics.json"] {
        assert!(arts.join("models/global").join(f).is_file(), "{f}");
    }
    // Nothing half-written is left behind.
    let stray: Vec<_> = std::fs::read_dir(arts.join("models"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
    // metrics.json: 3 windows with the model beside both baselines.
    let m = &report.metrics;
    assert_eq!(m.windows.len(), 3);
    assert!(m.windows.iter().all(|w| w.test_rows > 600
        && w.scores["gbdt"].log_loss.is_finite()
        && w.scores["majority"].accuracy > 0.0
        && w.scores["logistic"].macro_f1.is_finite()));
    assert_eq!(
        m.mean.keys().collect::<Vec<_>>(),
        ["earlier_base_rate", "gbdt", "gbdt_calibrated", "logistic", "majority"]
    );
    assert!(m.theta_search.iter().any(|c| c.score.is_some()));
    assert!((0.0..=1.0).contains(&m.min_conf));

    // Predict with the per-symbol model, fall back to the global one for another symbol.
    let btc = fixture_bars("BTCUSDT_4h.csv", Interval::H4);
    let p = Predictor::for_symbol(&arts, &sym("BTCUSDT")).unwrap();
    assert_eq!(p.model_id(), "BTCUSDT");
    let pred = p.predict(&sym("BTCUSDT"), &btc).unwrap();
    assert_eq!(pred.as_of, btc.last_open_time().unwrap());
    assert!((pred.probs.buy + pred.probs.sell + pred.probs.hold - 1.0).abs() < 1e-12);
    let sol = Predictor::for_symbol(&arts, &sym("SOLUSDT")).unwrap();
    assert_eq!(sol.model_id(), "global");
    let eth = fixture_bars("ETHUSDT_4h.csv", Interval::H4);
    assert_eq!(sol.predict(&sym("SOLUSDT"), &eth).unwrap().model_id_used, "global");

    // Streaming bar by bar ends at the same decision as the batch prediction.
    let mut stream = p.stream(sym("BTCUSDT")).unwrap();
    let mut last = None;
    for bar in btc.iter() {
        if let Some(x) = stream.on_bar(&bar).unwrap() {
            last = Some(x);
        }
    }
    let last = last.unwrap();
    assert_eq!((last.probs, last.as_of), (pred.probs, pred.as_of));
    // Too little history is a clear error.
    assert!(p.predict(&sym("BTCUSDT"), &btc.slice(0..20)).unwrap_err().to_string().contains("not enough"));
}

#[test]
fn shuffled_labels_score_at_chance() {
    let dir = tempfile::tempdir().unwrap();
    let st = store(dir.path());
    let r = train(&st, &dir.path().join("a"), &cfg(), Mode::Fast, true).unwrap();
    let (model, majority) = (r.metrics.mean["gbdt"], r.metrics.mean["majority"]);
    // No edge over the majority class out of sample once the labels are shuffled.
    assert!(model.log_loss > majority.log_loss - 0.005, "model {model:?} vs majority {majority:?}");
    assert!(model.accuracy < majority.accuracy + 0.03, "model {model:?} vs majority {majority:?}");
}

#[test]
fn bad_artifacts_and_configs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let st = store(dir.path());
    let arts = dir.path().join("artifacts");
    assert!(matches!(Predictor::for_symbol(&arts, &sym("BTCUSDT")), Err(PipelineError::NoModel { .. })));
    train(&st, &arts, &cfg(), Mode::Fast, false).unwrap();
    let g = arts.join("models/global");
    // Another format_version.
    let inf = std::fs::read_to_string(g.join("inference.json")).unwrap();
    std::fs::write(g.join("inference.json"), inf.replacen("\"format_version\": 2", "\"format_version\": 1", 1))
        .unwrap();
    let e = Predictor::load(&g).unwrap_err().to_string();
    assert!(e.contains("inference.json") && e.contains("format_version 1 but this build reads 2"), "{e}");
    assert!(e.contains("retrain"), "{e}");
    // Another class order.
    std::fs::write(g.join("inference.json"), inf.replacen("\"BUY\",\n    \"SELL\"", "\"SELL\",\n    \"BUY\"", 1))
        .unwrap();
    let e = Predictor::load(&g).unwrap_err().to_string();
    assert!(e.contains("inference.json") && e.contains("class order"), "{e}");
    std::fs::write(g.join("inference.json"), &inf).unwrap();
    // Another feature schema.
    let fs = std::fs::read_to_string(g.join("feature_schema.json")).unwrap();
    std::fs::write(g.join("feature_schema.json"), fs.replacen("\"rsi_14\"", "\"rsi_21\"", 1)).unwrap();
    assert!(Predictor::load(&g).unwrap_err().to_string().contains("does not match this build"));
    // Config out of range; unknown symbol in the store.
    assert!(
        train(&st, &arts, &TrainConfig { horizon: 0, ..cfg() }, Mode::Fast, false)
            .unwrap_err()
            .to_string()
            .contains("horizon")
    );
    let e = train(&st, &arts, &TrainConfig { symbols: vec![sym("XRPUSDT")], ..cfg() }, Mode::Fast, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no stored candles for XRPUSDT 4h"), "{e}");
    // The good model is still in place after the failed runs.
    assert!(g.join("model.json").is_file());
}

#[test]
fn progress_reaches_one_and_a_cancel_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let st = store(dir.path());
    let arts = dir.path().join("artifacts");
    let one = TrainConfig { symbols: vec![sym("ETHUSDT")], per_symbol: true, ..cfg() };
    let mut seen = Vec::new();
    vane_pipeline::train_with(&st, &arts, &one, Mode::Fast, false, &mut |p| {
        seen.push(p);
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    // 2 θ candidates × 3 windows (at most) + 3 report windows + the final fit.
    assert!(seen.len() >= 4 && seen.len() <= 10, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]) && seen[0] > 0.0, "{seen:?}");
    assert_eq!(*seen.last().unwrap(), 1.0);
    // Cancelled after the third fit: an error, and no model folder for the other symbol.
    let other = TrainConfig { symbols: vec![sym("BTCUSDT")], per_symbol: true, ..cfg() };
    let mut calls = 0;
    let e = vane_pipeline::train_with(&st, &arts, &other, Mode::Fast, false, &mut |_| {
        calls += 1;
        if calls == 3 { std::ops::ControlFlow::Break(()) } else { std::ops::ControlFlow::Continue(()) }
    })
    .unwrap_err();
    assert!(matches!(e, PipelineError::Cancelled), "{e}");
    assert!(!arts.join("models/BTCUSDT").exists());
    assert!(arts.join("models/ETHUSDT/model.json").is_file());
}

#[test]
fn early_stopping_pooled_scores_and_a_verdict_per_model() {
    let dir = tempfile::tempdir().unwrap();
    let st = store(dir.path());
    let arts = dir.path().join("artifacts");
    let r = train(&st, &arts, &TrainConfig { iterations_fast: 200, ..cfg() }, Mode::Fast, false).unwrap();
    let m = &r.metrics;
    // Every window's GBDT stopped early on its own validation slice; the shipped model has the
    // median count.
    assert!(
        m.windows.iter().all(|w| w.trees >= 1 && w.trees < 200),
        "{:?}",
        m.windows.iter().map(|w| w.trees).collect::<Vec<_>>()
    );
    let mut t: Vec<usize> = m.windows.iter().map(|w| w.trees).collect();
    t.sort_unstable();
    assert_eq!(m.trees, t[t.len() / 2]);
    // Pooled scores for the model and both baselines, and a verdict that matches them.
    assert_eq!(
        m.pooled.keys().collect::<Vec<_>>(),
        ["earlier_base_rate", "gbdt", "gbdt_calibrated", "logistic", "majority"]
    );
    let v = m.verdict.as_ref().unwrap();
    // The verdict scores the shipped model: each window calibrated by what the earlier windows
    // chose; the first has nothing before it and is not scored.
    assert!(!m.windows[0].scores.contains_key("gbdt_calibrated"));
    assert!(m.windows[1..].iter().all(|w| w.scores.contains_key("gbdt_calibrated")));
    assert_eq!(v.windows, m.windows.len() - 1);
    assert!(v.text.contains("the first window has no earlier out-of-sample rows"), "{}", v.text);
    // Beside it, the same difference against the earlier windows' base rate alone.
    let [de, lo, hi] = v.vs_earlier_base_rate.expect("compared with the earlier windows' base rate");
    assert!(lo <= de && de <= hi && v.text.contains("against the earlier windows' base rate"), "{}", v.text);
    let later = &m.windows[1..];
    let won = later.iter().filter(|w| w.scores["gbdt_calibrated"].log_loss < w.scores["majority"].log_loss).count();
    assert_eq!(v.windows_beating_base_rate, won);
    // The pooled difference over the same rows: the later windows' majority rows, weighted by size.
    let rows: usize = later.iter().map(|w| w.test_rows).sum();
    let majority_later: f64 =
        later.iter().map(|w| w.scores["majority"].log_loss * w.test_rows as f64).sum::<f64>() / rows as f64;
    let d = m.pooled["gbdt_calibrated"].log_loss - majority_later;
    assert!((v.log_loss_diff - d).abs() < 1e-9, "{} vs {d}", v.log_loss_diff);
    assert!(v.log_loss_diff_ci95[0] <= v.log_loss_diff && v.log_loss_diff <= v.log_loss_diff_ci95[1]);
    assert_eq!(v.beats_base_rate, v.log_loss_diff_ci95[1] < 0.0);
    assert!(v.text.contains(&format!("{} of {} windows", v.windows_beating_base_rate, v.windows)));
    let majority_brier: f64 =
        later.iter().map(|w| w.scores["majority"].brier * w.test_rows as f64).sum::<f64>() / rows as f64;
    let bss = 1.0 - m.pooled["gbdt_calibrated"].brier / majority_brier;
    assert!((v.brier_skill - bss).abs() < 1e-9, "{} vs {bss}", v.brier_skill);
    assert!(m.pooled["gbdt"].ece >= 0.0 && m.pooled["gbdt"].ece <= 1.0);
    // The reliability table: 10 bins over every pooled row, whose ECE is the pooled ECE.
    assert_eq!(m.reliability.len(), 10);
    let n: usize = m.reliability.iter().map(|b| b.count).sum();
    assert_eq!(n, m.windows.iter().map(|w| w.test_rows).sum::<usize>());
    let ece: f64 = m
        .reliability
        .iter()
        .filter(|b| b.count > 0)
        .map(|b| b.count as f64 / n as f64 * (b.observed - b.mean_predicted).abs())
        .sum();
    assert!((ece - m.pooled["gbdt"].ece).abs() < 1e-12, "{ece} vs {}", m.pooled["gbdt"].ece);
    // Written to metrics.json.
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(arts.join("models/global/metrics.json")).unwrap()).unwrap();
    assert!(j["verdict"]["text"].is_string() && j["pooled"]["gbdt"]["ece"].is_number(), "{j}");
    // The calibration check: the shipped model's pooled ECE beside its sampling noise.
    let noise = m.ece_noise.expect("a calibration check");
    assert!((noise.ece - m.pooled["gbdt_calibrated"].ece).abs() < 1e-12, "{noise:?}");
    assert_eq!(noise.rows, rows);
    // The shipped model's reliability table: the calibrated rows, whose ECE is the calibrated
    // GBDT's pooled ECE; in metrics.json and drawn beside the raw curve.
    let cal = &m.reliability_calibrated;
    assert_eq!(cal.len(), 10);
    let nc: usize = cal.iter().map(|b| b.count).sum();
    assert_eq!(nc, noise.rows);
    let ece_cal = vane_calibration::metrics::ece_of_bins(cal);
    assert!(
        (ece_cal - m.pooled["gbdt_calibrated"].ece).abs() < 1e-12,
        "{ece_cal} vs {}",
        m.pooled["gbdt_calibrated"].ece
    );
    assert_eq!(j["reliability_calibrated"].as_array().map(Vec::len), Some(10), "{j}");
    let svg = std::fs::read_to_string(arts.join("models/global/reliability.svg")).unwrap();
    let n_all: usize = m.windows.iter().map(|w| w.test_rows).sum();
    let last = m.windows.len();
    for text in [
        "global: out-of-sample reliability, raw and shipped".to_string(),
        format!("raw (windows 1..{last}): ECE {:.3}, n = {n_all}", m.pooled["gbdt"].ece),
        format!("shipped (calibrated, windows 2..{last}): ECE {ece_cal:.3}, n = {nc}"),
    ] {
        assert!(svg.contains(&text), "reliability.svg lacks {text:?}");
    }
    assert!(noise.mean > 0.0 && noise.mean <= noise.p95 && noise.within_noise == (noise.ece <= noise.p95));
    // Beside it, the raw GBDT's ECE on the same rows (every window but the first).
    let raw = noise.uncalibrated_ece.expect("the raw ECE on the calibrated rows");
    assert!(raw.is_finite() && raw != noise.ece, "{noise:?}");
    assert_eq!(j["ece_noise"]["p95"].as_f64(), Some(noise.p95));
    // With early stopping off, the shipped model keeps every tree.
    let off =
        train(&st, &arts, &TrainConfig { early_stopping_rounds: 0, iterations_fast: 25, ..cfg() }, Mode::Fast, false)
            .unwrap();
    assert!(off.metrics.windows.iter().all(|w| w.trees == 25));
    assert_eq!(off.metrics.trees, 25);
}

#[test]
fn theta_at_the_edge_is_flagged_and_quality_widens_the_grid_once() {
    let dir = tempfile::tempdir().unwrap();
    let st = store(dir.path());
    let arts = dir.path().join("artifacts");
    // A one-point-wide grid at a small θ: the best candidate is at an edge.
    let narrow = TrainConfig {
        theta_min: 0.004,
        theta_max: 0.005,
        theta_steps_quality: 2,
        iterations_quality: 20,
        hold_min: 0.0,
        hold_max: 1.0,
        ..cfg()
    };
    let q = train(&st, &arts, &narrow, Mode::Quality, false).unwrap();
    let [lo, hi] = q.metrics.theta_grid_widened.expect("widened once");
    assert!(lo < 0.004 || hi > 0.005, "{lo} {hi}");
    let f = train(&st, &arts, &TrainConfig { theta_steps_fast: 2, ..narrow }, Mode::Fast, false).unwrap();
    assert!(f.metrics.theta_at_edge);
    assert!(f.metrics.theta_grid_widened.is_none(), "fast mode only flags it");
}

#[test]
fn the_shipped_calibrator_is_fitted_on_out_of_sample_rows_and_applied_by_predict() {
    let dir = tempfile::tempdir().unwrap();
    let st = store(dir.path());
    let arts = dir.path().join("artifacts");
    let r = train(&st, &arts, &cfg(), Mode::Fast, false).unwrap();
    let m = &r.metrics;
    // The chooser saw exactly the out-of-sample rows of the windows — no training row.
    let choice = m.calibration.as_ref().expect("a calibration choice");
    let oos: usize = m.windows.iter().map(|w| w.test_rows).sum();
    assert_eq!(choice.fit_rows + choice.held_out_rows, oos);
    assert!(!choice.reason.is_empty());
    let g = arts.join("models/global");
    for f in ["calibration.json", "reliability.png", "reliability.svg"] {
        assert!(g.join(f).is_file(), "{f}");
    }
    // Predict applies calibration.json: the answer equals the calibrator applied to the raw
    // model's probabilities for the same features.
    let cal = vane_calibration::CalibrationFile::load(&g.join("calibration.json")).unwrap().multiclass.unwrap();
    let raw = vane_tabular::Gbdt::load(&g.join("model.json")).unwrap();
    let p = Predictor::load(&g).unwrap();
    let btc = sym("BTCUSDT");
    let bars = st.read(&btc, Interval::H4).unwrap();
    let got = p.predict(&btc, &bars).unwrap();
    let set: vane_indicators::FeatureSet = p.schema().feature_set.parse().unwrap();
    let row = set.compute(&bars).row(bars.len() - 1);
    let d = vane_tabular::Dataset {
        numeric_names: p.schema().columns.clone(),
        numeric: row.iter().map(|&v| vec![v]).collect(),
        categorical_names: p.schema().categorical.clone(),
        categorical: vec![vec!["BTCUSDT".to_string()]],
    };
    let want = cal.calibrator.apply(&raw.predict_proba(&d).unwrap()[0]);
    assert_eq!(got.probs.to_array().to_vec(), want, "{}", cal.calibrator.method());
}

/// Seed-001 feature rows of `symbol` (every `step`-th bar after the warm-up) as a dataset.
fn feature_rows(p: &Predictor, st: &ParquetStore, symbol: &str, step: usize) -> vane_tabular::Dataset {
    let bars = st.read(&sym(symbol), Interval::H4).unwrap();
    let set: vane_indicators::FeatureSet = p.schema().feature_set.parse().unwrap();
    let frame = set.compute(&bars);
    let rows: Vec<Vec<f64>> =
        (0..bars.len()).step_by(step).map(|t| frame.row(t)).filter(|r| r.iter().all(|v| v.is_finite())).collect();
    let cols = p.schema().columns.len();
    vane_tabular::Dataset {
        numeric_names: p.schema().columns.clone(),
        numeric: (0..cols).map(|c| rows.iter().map(|r| r[c]).collect()).collect(),
        categorical_names: p.schema().categorical.clone(),
        categorical: vec![vec![symbol.to_string(); rows.len()]],
    }
}

#[test]
fn the_calibrator_never_sees_a_training_row_so_memorised_labels_are_not_trusted() {
    // Shuffled labels, and trees free to memorise them (no early stopping, deep, many): on its
    // own training rows the shipped GBDT is confident, because there the labels can be recovered
    // by remembering the rows and nothing else. Out of sample that confidence is worth nothing,
    // and the calibrator — fitted on out-of-sample rows only — learns so: the calibrated
    // probabilities of the very rows the model memorised stay near the base rate. A calibrator
    // that saw training rows would have learned to trust the memorised confidence.
    let dir = tempfile::tempdir().unwrap();
    let st = store(dir.path());
    let arts = dir.path().join("artifacts");
    let memorise =
        TrainConfig { early_stopping_rounds: 0, iterations_fast: 300, depth: 8, learning_rate: 0.3, ..cfg() };
    let r = train(&st, &arts, &memorise, Mode::Fast, true).unwrap();
    let g = arts.join("models/global");
    let p = Predictor::load(&g).unwrap();
    let raw = vane_tabular::Gbdt::load(&g.join("model.json")).unwrap();
    let cal = vane_calibration::CalibrationFile::load(&g.join("calibration.json")).unwrap().multiclass.unwrap();
    let d = feature_rows(&p, &st, "BTCUSDT", 3);
    let raw_p = raw.predict_proba(&d).unwrap();
    let top =
        |rows: &[Vec<f64>]| rows.iter().map(|r| r.iter().copied().fold(0.0, f64::max)).sum::<f64>() / rows.len() as f64;
    let base = r.metrics.windows.last().unwrap();
    let majority_top = r.metrics.pooled["majority"].accuracy.max(1.0 / 3.0);
    let (raw_conf, cal_conf) = (top(&raw_p), top(&cal.calibrator.apply_all(&raw_p)));
    eprintln!("raw {raw_conf} calibrated {cal_conf} base {majority_top} {}", cal.choice.reason);
    assert!(raw_conf > majority_top + 0.2, "the model memorised its training rows: mean top probability {raw_conf}");
    assert!(
        cal_conf < majority_top + 0.08,
        "calibrated {cal_conf} on memorised rows, raw {raw_conf}, base-rate accuracy {majority_top} ({}; last window {:?})",
        cal.choice.reason,
        base.scores
    );
    // And out of sample the shipped model is no worse than the base rate (on the windows that
    // had a calibrator: all but the first).
    let v = r.metrics.verdict.as_ref().unwrap();
    assert!(v.log_loss_diff < 0.02, "{}", v.text);
    let majority = r.metrics.pooled["majority"];
    assert!(
        r.metrics.pooled["gbdt"].log_loss > majority.log_loss + 0.1,
        "the raw memoriser is far worse out of sample"
    );
}

#[test]
fn each_window_trades_its_decisions_with_a_min_conf_from_earlier_windows_only() {
    let dir = tempfile::tempdir().unwrap();
    let st = store(dir.path());
    let one_theta =
        TrainConfig { theta_min: 0.01, theta_max: 0.01, theta_steps_fast: 1, hold_min: 0.0, hold_max: 1.0, ..cfg() };
    let full = train(&st, &dir.path().join("a"), &one_theta, Mode::Fast, false).unwrap().metrics;
    for w in &full.windows {
        assert_eq!(w.trading.keys().collect::<Vec<_>>(), ["buy_and_hold", "gbdt", "logistic", "majority"]);
        let bh = &w.trading["buy_and_hold"];
        assert!((bh.exposure - 1.0).abs() < 0.01, "buy and hold is always in: {bh:?}");
        assert!(w.trading.values().all(|t| t.net_return.is_finite() && (0.0..=1.0).contains(&t.exposure)));
    }
    assert_eq!(full.windows[0].min_conf, Some(0.5), "nothing before the first window");
    // Dropping the last window's bars changes nothing about the earlier windows' min_conf:
    // it is never tuned on the window it scores, nor on later ones.
    let short = tempfile::tempdir().unwrap();
    let st2 = ParquetStore::new(short.path().join("data"));
    for s in ["BTCUSDT", "ETHUSDT"] {
        let b = st.read(&sym(s), Interval::H4).unwrap();
        st2.append(&sym(s), Interval::H4, &b.slice(0..b.len() - 360)).unwrap();
    }
    let fewer = train(&st2, &short.path().join("a"), &one_theta, Mode::Fast, false).unwrap().metrics;
    assert_eq!(fewer.windows.len() + 1, full.windows.len());
    for (a, b) in fewer.windows.iter().zip(&full.windows) {
        assert_eq!(a.min_conf, b.min_conf);
        // (NaN Sharpes compare as JSON nulls.)
        assert_eq!(serde_json::to_value(&a.trading).unwrap(), serde_json::to_value(&b.trading).unwrap());
    }
}
