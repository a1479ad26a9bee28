//! Sequence-model training on the bundled real candles (BTCUSDT, ETHUSDT 4h, 2023): the purged
//! chronological split, the normaliser fitted on training rows only, and a short end-to-end run
//! of each model writing loadable artifacts.

use std::path::Path;

use burn::tensor::Device;
use vane_core::{Interval, Symbol};
use vane_market_data::ParquetStore;
use vane_models::data::{NormKind, WindowedDataset};
use vane_models::loss::LossSettings;
use vane_models::train::{Quiet, Task, predict};
use vane_models::{ModelKind, ModelSpec, artifact};
use vane_pipeline::sequence::{LabelKind, SequenceData, SequenceJob, prepare, train_sequence};
use vane_pipeline::{AnyPredictor, ModelId, PipelineError, Predict};
use vane_testkit::fixture_store_4h;

fn sym(s: &str) -> Symbol {
    Symbol::new(s).unwrap()
}

fn store(dir: &Path) -> ParquetStore {
    fixture_store_4h(dir)
}

fn data() -> SequenceData {
    SequenceData {
        symbols: vec![sym("BTCUSDT"), sym("ETHUSDT")],
        seq_len: 12,
        max_bars: 600,
        ..SequenceData::default()
    }
}

#[test]
fn split_is_purged_and_normaliser_sees_training_rows_only() {
    let dir = tempfile::tempdir().unwrap();
    let st = store(dir.path());
    let d = data();
    let p = prepare(&st, &d).unwrap();
    assert_eq!(p.columns.len(), 14, "v1 features");
    assert_eq!(p.matrix.segments().len(), 2);
    // Map matrix rows back to open times.
    let mut row_time = vec![0i64; p.matrix.rows()];
    for (s, seg) in p.matrix.segments().iter().enumerate() {
        let bars = st.read(&d.symbols[s], d.interval).unwrap();
        let times = &bars.open_time()[bars.len() - seg.rows.len()..];
        for (i, r) in seg.rows.clone().enumerate() {
            row_time[r] = times[i];
        }
    }
    let first_valid = p.valid.iter().map(|s| row_time[s.end]).min().unwrap();
    let h_ms = d.horizon as i64 * Interval::H4.millis();
    for s in &p.train {
        // The label of a training sample ends before the first validation bar.
        assert!(row_time[s.end] + h_ms < first_valid, "training label overlaps validation");
    }
    let n_valid_share = p.valid.len() as f64 / (p.train.len() + p.valid.len()) as f64;
    assert!((0.15..0.25).contains(&n_valid_share), "validation share {n_valid_share}");
    // Normalised training rows have mean ≈ 0 and std ≈ 1 per column; validation rows need not.
    let train_rows: Vec<usize> = (0..p.matrix.rows()).filter(|&r| row_time[r] < first_valid).collect();
    for j in 0..p.columns.len() {
        let v: Vec<f64> = train_rows.iter().map(|&r| f64::from(p.matrix.row(r)[j])).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
        assert!(mean.abs() < 1e-3 && (sd - 1.0).abs() < 1e-3, "{}: mean {mean} sd {sd}", p.columns[j]);
    }
    assert_eq!(p.normaliser.kind, NormKind::ZScore);
    // Expected-return labels build too, with fewer windows (horizon 100 at the end).
    let er = prepare(&st, &SequenceData { label: LabelKind::ExpectedReturn, horizon: 30, ..d.clone() }).unwrap();
    assert!(er.train.len() < p.train.len());
    // Too little data is a clear error.
    let e = prepare(&st, &SequenceData { seq_len: 700, ..d }).unwrap_err();
    assert!(matches!(e, PipelineError::Data(ref m) if m.contains("labelled windows")), "{e}");
}

#[test]
fn each_model_trains_end_to_end_into_loadable_artifacts() {
    let dir = tempfile::tempdir().unwrap();
    let st = store(dir.path());
    let arts = dir.path().join("artifacts");
    for (kind, task) in [
        (ModelKind::Hrm, Task::Classification),
        (ModelKind::CnnLstm, Task::Classification),
        (ModelKind::Tft, Task::Regression),
        (ModelKind::Lorentzian, Task::Classification),
    ] {
        let model = match kind {
            ModelKind::Hrm => {
                ModelSpec { hidden_low: Some(8), hidden_high: Some(8), high_period: Some(4), ..ModelSpec::of(kind) }
            }
            ModelKind::CnnLstm => {
                ModelSpec { conv_channels: Some(8), lstm_hidden: Some(8), n_heads: Some(2), ..ModelSpec::of(kind) }
            }
            ModelKind::Tft => ModelSpec { d_model: Some(8), n_heads: Some(2), ..ModelSpec::of(kind) },
            ModelKind::Lorentzian => {
                ModelSpec { hidden: Some(8), prototypes: Some(2), lookback: Some(3), ..ModelSpec::of(kind) }
            }
        };
        let train: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
            "preset": "quick_experiment", "epochs": 2, "batch_size": 64, "learning_rate": 1e-3
        }))
        .unwrap();
        let job = SequenceJob {
            task,
            data: SequenceData { max_bars: 300, ..data() },
            model,
            train,
            ..SequenceJob::default()
        };
        let r = train_sequence(&st, &arts, &job, &[], false, &mut Quiet).unwrap();
        assert_eq!(r.model, kind);
        assert_eq!(r.history.len(), 2);
        assert_eq!(r.train.preset, Some(vane_models::Preset::QuickExperiment));
        assert_eq!(r.train.learning_rate, 1e-3);
        assert!(r.metrics.val_loss.is_finite());
        assert!(r.dir.join("loss_curve.png").exists() && r.dir.join("loss_curve.svg").exists());
        assert_eq!(r.dir.join("interpretation.json").exists(), kind == ModelKind::Tft);
        // Reload and score the validation windows again: same loss as reported.
        let loaded = artifact::load(&r.dir, &Device::flex()).unwrap();
        let p = prepare(&st, &job.data).unwrap();
        assert_eq!(loaded.schema.normaliser, p.normaliser);
        let n_classes = (task == Task::Classification).then_some(3);
        let valid = WindowedDataset::new(&p.matrix, job.data.seq_len, p.valid.clone(), n_classes).unwrap();
        let s = LossSettings {
            class_weights: r.metrics.class_weights.clone(),
            ..vane_models::train::loss_settings(&r.train, vec![])
        };
        let again = predict(&loaded.model, &loaded.config, &valid, task, &s, 256, &Device::flex());
        assert!((again.loss - r.metrics.val_loss).abs() < 1e-6, "{kind}: {} vs {}", again.loss, r.metrics.val_loss);
        assert!(!arts.join(".checkpoints").join(r.dir.file_name().unwrap()).exists(), "checkpoint removed");

        // Predict from the artifact by its id: the last bar's forecast, and streaming gives the
        // same forecast at every bar as a batch prediction on the bars up to it.
        let id: ModelId = r.dir.file_name().unwrap().to_str().unwrap().parse().unwrap();
        let pred = AnyPredictor::resolve(&arts, &sym("BTCUSDT"), Some(&id)).unwrap();
        assert_eq!(pred.model_kind(), kind.as_str());
        assert_eq!(pred.model_id(), id.as_str());
        assert_eq!(pred.interval(), Interval::H4);
        let bars = st.read(&sym("BTCUSDT"), Interval::H4).unwrap();
        let bars = bars.slice(bars.len() - 150..bars.len());
        let f = pred.predict(&sym("BTCUSDT"), &bars).unwrap();
        assert_eq!(f.as_of, bars.last_open_time().unwrap());
        match task {
            Task::Classification => {
                let probs = f.probs.unwrap();
                assert!((probs.buy + probs.sell + probs.hold - 1.0).abs() < 1e-9);
                // decision.min_conf = 0: the most probable class.
                assert_eq!(f.signal, Some(probs.argmax()));
                assert_eq!(f.expected_return, None);
                assert!(f.to_prediction().is_some());
            }
            Task::Regression => {
                assert!(f.expected_return.unwrap().is_finite());
                assert_eq!((f.signal, f.probs), (None, None), "no decision rule configured");
            }
        }
        let mut stream = pred.stream(&sym("BTCUSDT")).unwrap();
        let mut checked = 0;
        for t in 0..bars.len() {
            let streamed = stream.on_bar(&bars.get(t).unwrap()).unwrap();
            if t + 3 >= bars.len() {
                let batch = pred.predict(&sym("BTCUSDT"), &bars.slice(0..t + 1)).unwrap();
                let streamed = streamed.expect("warmed up");
                assert_eq!(streamed, batch, "{kind} at bar {t}");
                checked += 1;
            }
        }
        assert_eq!(checked, 3);
        // Too few bars is a clear error, not a panic.
        let e = pred.predict(&sym("BTCUSDT"), &bars.slice(0..5)).unwrap_err().to_string();
        assert!(e.contains("not enough"), "{e}");
    }
    // A sequence artifact's inference.json with another class order is refused.
    let hrm_dir = std::fs::read_dir(arts.join("models"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("_hrm_"))
        .unwrap();
    let inf = hrm_dir.join("inference.json");
    let text = std::fs::read_to_string(&inf).unwrap();
    std::fs::write(&inf, text.replacen("\"BUY\",\n    \"SELL\"", "\"SELL\",\n    \"BUY\"", 1)).unwrap();
    let e = AnyPredictor::load(&hrm_dir).unwrap_err().to_string();
    assert!(e.contains("inference.json") && e.contains("class order"), "{e}");
    // A regression job with a decision threshold gets a signal.
    let job = SequenceJob::from_toml(
        "task = \"regression\"\n[data]\nsymbols = [\"BTCUSDT\"]\nseq_len = 12\nmax_bars = 300\n\
         [model]\nkind = \"hrm\"\nhidden_low = 8\nhidden_high = 8\n[train]\nepochs = 1\n\
         [decision]\nreturn_threshold = 0.0\n",
    )
    .unwrap();
    let r = train_sequence(&st, &arts, &job, &[], false, &mut Quiet).unwrap();
    let pred = AnyPredictor::load(&r.dir).unwrap();
    let bars = st.read(&sym("BTCUSDT"), Interval::H4).unwrap();
    let f = pred.predict(&sym("BTCUSDT"), &bars).unwrap();
    let er = f.expected_return.unwrap();
    assert_eq!(f.signal, Some(if er > 0.0 { vane_core::Signal::Buy } else { vane_core::Signal::Sell }));
    assert!(SequenceJob::from_toml("[decision]\nmin_conf = 2.0").unwrap().validate().is_err());
    let bad = SequenceJob::from_toml("[data]\nseq_len = 0\n[model]\nkind = \"hrm\"").unwrap();
    assert!(train_sequence(&st, &arts, &bad, &[], false, &mut Quiet).unwrap_err().to_string().contains("seq_len"));
    assert!(SequenceJob::from_toml("[model]\nkind = \"hrm\"\nd_modl = 3").is_err());
}
