//! Seed 004's reports of a sequence run: regression and classification scores on planted cases
//! (hand values), the expected-results rows, the ladder win rate on planted trades, and a tiny
//! TFT trained end to end for regression and for classification on a purged walk-forward
//! (metrics.json, interpretation.json).

use std::path::Path;

use vane_core::{Signal, Symbol};
use vane_labeling::ladder::LadderConfig;
use vane_market_data::ParquetStore;
use vane_models::train::Quiet;
use vane_models::{ModelKind, ModelSpec, Task};
use vane_pipeline::sequence::{
    LabelKind, SequenceData, SequenceJob, SequenceReport, read_interpretation, train_sequence,
};
use vane_pipeline::sequence_metrics::{
    ClassificationMetrics, Expectation, RegressionMetrics, SymbolDecisions, ladder_trades, seed004_expectations,
};
use vane_testkit::{fixture_store_4h, ohlc_path};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn regression_metrics_equal_hand_values() {
    let y = [0.01, -0.02, 0.03, 0.0];
    let p = [0.02, -0.01, -0.01, 0.01];
    let m = RegressionMetrics::of(&y, &p).unwrap();
    assert_eq!(m.n, 4);
    assert!(close(m.mae, 0.0175), "MAE {}", m.mae);
    assert!(close(m.mae_pct, 1.75));
    assert!(close(m.rmse, (4.75e-4f64).sqrt()), "RMSE {}", m.rmse);
    // mean y = 0.005: SS_tot = 1.3e-3, SS_res = 1.9e-3.
    assert!((m.r2 - (1.0 - 1.9 / 1.3)).abs() < 1e-9, "R² {}", m.r2);
    // Three non-zero targets, the third called the wrong way.
    assert!(close(m.direction_accuracy, 2.0 / 3.0));
    assert!(RegressionMetrics::of(&[], &[]).is_err());
}

#[test]
fn classification_metrics_equal_hand_values() {
    // Binary (loss 0 / profit 1).
    let y = [1, 0, 1, 1, 0];
    let p1 = [0.9, 0.2, 0.4, 0.7, 0.6];
    let probs: Vec<Vec<f64>> = p1.iter().map(|&p| vec![1.0 - p, p]).collect();
    let m = ClassificationMetrics::of(&y, &probs).unwrap();
    assert_eq!((m.n, m.k), (5, 2));
    assert!(close(m.accuracy, 0.6));
    assert!(close(m.precision, 2.0 / 3.0) && close(m.recall, 2.0 / 3.0) && close(m.f1, 2.0 / 3.0));
    // 6 positive/negative pairs, 5 ordered right.
    assert!(close(m.roc_auc.unwrap(), 5.0 / 6.0), "AUC {:?}", m.roc_auc);
    assert_eq!(m.support, vec![2, 3]);
    // Three classes: macro means; a class never realised makes the one-vs-rest AUC undefined.
    let y3 = [0, 1, 2, 2];
    let p3 = vec![vec![0.8, 0.1, 0.1], vec![0.2, 0.7, 0.1], vec![0.1, 0.2, 0.7], vec![0.5, 0.3, 0.2]];
    let m3 = ClassificationMetrics::of(&y3, &p3).unwrap();
    assert!(close(m3.accuracy, 0.75));
    // Precision per class: 1/2, 1, 1; recall: 1, 1, 1/2.
    assert!(close(m3.precision, (0.5 + 1.0 + 1.0) / 3.0), "{}", m3.precision);
    assert!(close(m3.recall, (1.0 + 1.0 + 0.5) / 3.0));
    assert!(close(m3.f1, (2.0 / 3.0 + 1.0 + 2.0 / 3.0) / 3.0));
    assert!(m3.roc_auc.is_some());
    let m_missing = ClassificationMetrics::of(&[0, 0], &[vec![0.6, 0.4], vec![0.7, 0.3]]).unwrap();
    assert_eq!(m_missing.roc_auc, None, "one class only: AUC undefined, not a number");
}

#[test]
fn expectation_rows_say_met_below_above_not_computed() {
    let row = |v| Expectation::check("mae_pct", "1.5–2.5 %", 1.5, 2.5, v, "planted".into());
    assert_eq!((row(Some(2.0)).status.as_str(), row(Some(2.0)).met), ("met", true));
    assert_eq!(row(Some(2.5)).status, "met", "bounds inclusive");
    assert_eq!(row(Some(1.0)).status, "below");
    assert_eq!(row(Some(3.0)).status, "above");
    assert_eq!((row(None).status.as_str(), row(None).met), ("not computed", false));
    assert_eq!(row(Some(f64::NAN)).status, "not computed");
    // Regression: direction 60 %, MAE 2 %; no ladder trades: the win rate is not computed and says why.
    let r = RegressionMetrics::of(&[0.02, -0.02, 0.01, 0.03, -0.01], &[0.01, -0.01, -0.01, 0.01, 0.02]).unwrap();
    let e = seed004_expectations(Some(&r), None, None, "planted", "no walk-forward");
    assert_eq!(e.rows.len(), 3);
    assert_eq!(e.rows[0].metric, "direction_accuracy");
    assert!(close(e.rows[0].value.unwrap(), 60.0) && e.rows[0].met);
    assert!(close(e.rows[1].value.unwrap(), 100.0 * r.mae));
    assert_eq!(e.rows[2].status, "not computed");
    assert!(e.rows[2].source.contains("no walk-forward"));
    assert!(!e.all_met);
    // Classification: no MAE.
    let c = seed004_expectations(None, Some(0.5), None, "planted", "x");
    assert_eq!(c.rows[1].status, "not computed");
    assert!(c.rows[1].source.contains("classification"));
}

#[test]
fn ladder_win_rate_on_planted_trades() {
    // BUY at 100: the next bar reaches +6 % (every partial and the +5.8 % target): a win. SELL
    // at 106: the next bar reaches +1.4 % (the 1.1 % stop): a loss.
    let bars = ohlc_path(&[
        (100.0, 100.0, 100.0, 100.0),
        (100.0, 106.0, 100.0, 105.9),
        (105.9, 106.0, 105.9, 106.0),
        (106.0, 107.5, 106.0, 107.4),
        (107.4, 107.4, 107.4, 107.4),
        (107.4, 107.4, 107.4, 107.4),
    ]);
    let signals = vec![Signal::Buy, Signal::Hold, Signal::Sell, Signal::Hold, Signal::Hold, Signal::Hold];
    let ladder = LadderConfig { horizon: 3, ..LadderConfig::default() };
    let t = ladder_trades(&[SymbolDecisions { bars: &bars, signals }], &ladder, 0.0, "planted").unwrap();
    assert_eq!((t.trades, t.wins), (2, 1));
    assert!(close(t.win_rate, 0.5));
    // All HOLD: no trades, the rate is NaN and the expectation row says so.
    let none = ladder_trades(&[SymbolDecisions { bars: &bars, signals: vec![Signal::Hold; 6] }], &ladder, 0.0, "hold")
        .unwrap();
    assert_eq!(none.trades, 0);
    let e = seed004_expectations(None, None, Some(none), "planted", "x");
    assert_eq!(e.rows[2].status, "not computed");
    assert!(e.rows[2].source.contains("opened no trade"));
}

fn tiny_job(task: Task) -> SequenceJob {
    let train: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
        "epochs": 1, "batch_size": 64, "learning_rate": 1e-3, "use_augmentation": false
    }))
    .unwrap();
    SequenceJob {
        task,
        data: SequenceData {
            symbols: vec![Symbol::new("BTCUSDT").unwrap(), Symbol::new("ETHUSDT").unwrap()],
            seq_len: 8,
            max_bars: 260,
            label: LabelKind::ExpectedReturn,
            horizon: 6,
            theta: 0.002,
            walk_forward: 2,
            ..SequenceData::default()
        },
        model: ModelSpec { d_model: Some(8), n_heads: Some(2), dropout: Some(0.0), ..ModelSpec::of(ModelKind::Tft) },
        train,
        ..SequenceJob::default()
    }
}

fn run(dir: &Path, st: &ParquetStore, task: Task) -> SequenceReport {
    train_sequence(st, &dir.join("artifacts"), &tiny_job(task), &[], false, &mut Quiet).unwrap()
}

fn metrics_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap()
}

#[test]
fn tiny_tft_regression_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let st = fixture_store_4h(tmp.path());
    let r = run(tmp.path(), &st, Task::Regression);
    let v = r.validation_regression.expect("regression scores on the validation split");
    assert!(v.mae.is_finite() && v.rmse >= v.mae && v.r2.is_finite());
    assert!(r.validation_classification.is_none() && r.walk_forward.is_none());
    let w = r.walk_forward_regression.as_ref().expect("the regression walk-forward");
    assert_eq!((w.k, w.windows.len()), (2, 2));
    assert_eq!(w.point, "quantile 0.5");
    assert_eq!(w.pooled.n, w.windows.iter().map(|x| x.metrics.n).sum::<usize>());
    assert!(w.pooled.direction_accuracy.is_finite() && w.pooled_baseline.mae.is_finite());
    let e = r.seed004.as_ref().expect("a TFT run reports seed 004's expectations");
    let metrics: Vec<&str> = e.rows.iter().map(|x| x.metric.as_str()).collect();
    assert_eq!(metrics, ["direction_accuracy", "mae_pct", "win_rate_partial_closes"]);
    assert!(close(e.rows[1].value.unwrap(), w.pooled.mae_pct), "MAE from the pooled walk-forward");
    assert!(e.rows.iter().all(|x| ["met", "below", "above", "not computed"].contains(&x.status.as_str())));
    assert!(e.ladder.is_some(), "the ladder ran on the walk-forward decisions");
    let m = metrics_json(&r.dir);
    for key in ["validation_regression", "walk_forward_regression", "seed004_expected"] {
        assert!(m.get(key).is_some_and(|x| !x.is_null()), "metrics.json lacks {key}");
    }
    assert!(m.get("validation_classification").is_none());
    // The checklist lists no classification item for the regression loss.
    assert!(!r.checklist.items.iter().any(|i| i.rule.contains("focal")));
    // interpretation.json: weights named by column, summing to 1.
    let i = read_interpretation(&r.dir).unwrap();
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(r.dir.join("feature_schema.json")).unwrap()).unwrap();
    let mut cols: Vec<String> =
        schema["columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    let mut names: Vec<String> = i.variable_selection.iter().map(|w| w.feature.clone()).collect();
    cols.sort();
    names.sort();
    assert_eq!(names, cols);
    assert!((i.variable_selection.iter().map(|w| w.weight).sum::<f64>() - 1.0).abs() < 1e-4);
    assert!((i.window_weight_sum_range.0 - 1.0).abs() < 1e-4 && (i.window_weight_sum_range.1 - 1.0).abs() < 1e-4);
    assert_eq!(i.attention_by_lag.len(), 8);
    assert_eq!(i.windows, r.metrics.n_valid);
}

#[test]
fn tiny_tft_classification_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let st = fixture_store_4h(tmp.path());
    let r = run(tmp.path(), &st, Task::Classification);
    let c = r.validation_classification.as_ref().expect("classification scores on the validation split");
    assert_eq!(c.k, 3);
    assert!((0.0..=1.0).contains(&c.accuracy) && (0.0..=1.0).contains(&c.f1));
    assert!(r.validation_regression.is_none() && r.walk_forward_regression.is_none());
    let w = r.walk_forward.as_ref().expect("the classification walk-forward");
    let pooled = w.classification.as_ref().expect("pooled precision / recall / F1 / AUC");
    assert_eq!(pooled.n, w.windows.iter().map(|x| x.test_rows).sum::<usize>());
    let e = r.seed004.as_ref().unwrap();
    assert_eq!(e.rows[1].status, "not computed", "no MAE for a classification run");
    let m = metrics_json(&r.dir);
    assert!(m["walk_forward"]["classification"]["precision"].is_number());
    assert!(m["seed004_expected"]["rows"].as_array().unwrap().len() == 3);
    assert!(r.checklist.items.iter().any(|i| i.rule.contains("focal")));
    assert!(r.dir.join("interpretation.json").exists());
}

#[test]
fn example_configs_carry_the_seed_values() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/seed004");
    let load = |name: &str| {
        let job = SequenceJob::from_toml(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
        job.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
        job
    };
    let universe: Vec<String> = std::fs::read_to_string(dir.join("../universes/bybit_linear_51.txt"))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    for (name, task) in [("tft_regression.toml", Task::Regression), ("tft_classification.toml", Task::Classification)] {
        let j = load(name);
        assert_eq!(j.task, task, "{name}");
        let d = &j.data;
        let symbols: Vec<String> = d.symbols.iter().map(|s| s.to_string()).collect();
        assert_eq!(symbols, universe, "{name}: the 51 Bybit linear symbols");
        assert_eq!((d.interval.to_string().as_str(), d.days, d.seq_len, d.horizon), ("15m", Some(1095), 60, 100));
        // Seed 004's classification is profit / loss: the binary ladder_profit label.
        let label = if task == Task::Classification { LabelKind::LadderProfit } else { LabelKind::ExpectedReturn };
        assert_eq!((d.label, d.feature_set.as_str()), (label, "full"), "{name}");
        assert!(d.walk_forward > 0);
        let m = &j.model;
        assert_eq!((m.kind, m.d_model, m.n_heads, m.dropout), (ModelKind::Tft, Some(128), Some(8), Some(0.2)));
        assert_eq!(m.positional_encoding, Some(vane_models::tft::PositionalEncoding::Sinusoidal));
        assert_eq!(j.train["batch_size"], 32);
        assert_eq!(j.train["epochs"], 100);
    }
    let tiny = load("tft_tiny.toml");
    assert_eq!((tiny.model.d_model, tiny.model.n_heads, tiny.data.seq_len), (Some(16), Some(2), 32));
    assert_eq!((tiny.data.symbols.len(), tiny.data.days), (2, Some(120)));
}
