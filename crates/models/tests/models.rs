//! The four networks on tiny configs: shapes, TFT causality, overfitting a separable set,
//! save → load → identical outputs, determinism and resume.

use burn::module::Module;
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use vane_models::artifact::{self, ArtifactFiles, SequenceMetrics, SequenceSchema};
use vane_models::data::{FeatureMatrix, NormKind, Normaliser, Sample, Target, WindowedDataset};
use vane_models::loss::LossSettings;
use vane_models::nn::DropoutRng;
use vane_models::train::{Quiet, Task, TrainInputs, fit, predict};
use vane_models::{ModelConfig, ModelKind, ModelSpec, TrainConfig};

/// `VANE_TEST_DEVICE=wgpu` runs these tests on a GPU (a build with `--features wgpu`); the
/// default is the CPU backend.
fn dev() -> Device {
    match std::env::var("VANE_TEST_DEVICE") {
        Ok(kind) => kind.parse::<vane_models::DeviceKind>().and_then(|k| k.device()).expect("VANE_TEST_DEVICE"),
        Err(_) => Device::flex(),
    }
}

/// burn's CPU random generator is process-wide: tests that seed it take turns, as training runs
/// in one process would.
static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn rng_lock() -> std::sync::MutexGuard<'static, ()> {
    RNG.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn tiny(kind: ModelKind, n_features: usize) -> ModelConfig {
    let spec = match kind {
        ModelKind::Hrm => ModelSpec {
            hidden_low: Some(8),
            hidden_high: Some(8),
            high_period: Some(3),
            dropout: Some(0.0),
            ..ModelSpec::of(kind)
        },
        ModelKind::CnnLstm => ModelSpec {
            conv_channels: Some(8),
            lstm_hidden: Some(8),
            n_heads: Some(2),
            n_conv_blocks: Some(1),
            dropout: Some(0.0),
            ..ModelSpec::of(kind)
        },
        ModelKind::Tft => ModelSpec { d_model: Some(8), n_heads: Some(2), dropout: Some(0.0), ..ModelSpec::of(kind) },
        ModelKind::Lorentzian => ModelSpec {
            hidden: Some(8),
            prototypes: Some(2),
            lookback: Some(5),
            dropout: Some(0.0),
            ..ModelSpec::of(kind)
        },
    };
    spec.resolve(n_features, 3, 2, None).unwrap()
}

const KINDS: [ModelKind; 4] = [ModelKind::Hrm, ModelKind::CnnLstm, ModelKind::Tft, ModelKind::Lorentzian];

fn random_x(b: usize, t: usize, f: usize) -> Tensor<3> {
    dev().seed(7);
    Tensor::random([b, t, f], Distribution::Normal(0.0, 1.0), &dev())
}

fn symbols(b: usize) -> Tensor<1, Int> {
    Tensor::from_data(TensorData::new((0..b).map(|i| (i % 2) as i64).collect::<Vec<_>>(), [b]), &dev())
}

#[test]
fn output_shapes() {
    let _rng = rng_lock();
    for kind in KINDS {
        let cfg = tiny(kind, 4);
        let model = cfg.init(&dev()).unwrap();
        let out = model.forward(random_x(5, 7, 4), symbols(5));
        assert_eq!(out.logits.dims(), [5, 3], "{kind}");
        assert_eq!(out.value.dims(), [5, cfg.n_values()], "{kind}");
        assert_eq!(out.confidence.as_ref().map(|c| c.dims()), (kind == ModelKind::CnnLstm).then_some([5, 1]), "{kind}");
        match out.interpretation {
            Some(i) => {
                assert_eq!(kind, ModelKind::Tft);
                assert_eq!(i.variable_weights.dims(), [5, 7, 4]);
                assert_eq!(i.attention.dims(), [5, 7, 7]);
                // Selection weights are a distribution over the features at every step.
                let sums = i.variable_weights.sum_dim(2).into_data().try_to_vec::<f32>().unwrap();
                assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-5), "{sums:?}");
            }
            None => assert_ne!(kind, ModelKind::Tft),
        }
        let finite = out.logits.into_data().try_to_vec::<f32>().unwrap();
        assert!(finite.iter().all(|v| v.is_finite()));
    }
}

#[test]
fn tft_attention_is_causal() {
    let _rng = rng_lock();
    let ModelConfig::Tft(cfg) = tiny(ModelKind::Tft, 3) else { unreachable!() };
    let model = cfg.init(&dev()).unwrap();
    let x = random_x(2, 9, 3);
    let base = model.step_logits(x.clone(), symbols(2)).into_data().try_to_vec::<f32>().unwrap();
    for t in 0..8 {
        // Change every step after t.
        let noise = Tensor::<3>::random([2, 8 - t, 3], Distribution::Normal(0.0, 5.0), &dev());
        let changed = Tensor::cat(vec![x.clone().narrow(1, 0, t + 1), noise], 1);
        let out = model.step_logits(changed, symbols(2)).into_data().try_to_vec::<f32>().unwrap();
        for b in 0..2 {
            for s in 0..9 {
                for c in 0..3 {
                    let i = (b * 9 + s) * 3 + c;
                    if s <= t {
                        assert_eq!(out[i], base[i], "step {s} changed when steps > {t} changed");
                    }
                }
            }
        }
        // And the future does matter (the test could fail).
        let later: f32 = (t + 1..9).map(|s| (out[s * 3] - base[s * 3]).abs()).sum();
        assert!(later > 0.0);
    }
    let att = model
        .forward(x, symbols(2), &mut DropoutRng::off())
        .interpretation
        .unwrap()
        .attention
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    for b in 0..2 {
        for q in 0..9 {
            let row = &att[(b * 9 + q) * 9..(b * 9 + q + 1) * 9];
            assert!(row[q + 1..].iter().all(|&w| w == 0.0), "query {q} attends to the future: {row:?}");
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
    }
}

/// A separable set: class = which of the three features has the largest mean over the window.
fn separable(n: usize, seq: usize) -> (FeatureMatrix, Vec<Sample>) {
    let f = 3;
    let mut m = FeatureMatrix::new(vec!["a".into(), "b".into(), "c".into()]).unwrap();
    let mut values = Vec::new();
    let mut samples = Vec::new();
    let mut state = 12345u64;
    let mut rnd = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 33) as f64 / (1u64 << 31) as f64) as f32 - 0.5
    };
    for i in 0..n {
        let class = i % 3;
        for _ in 0..seq {
            for j in 0..f {
                values.push(rnd() + if j == class { 1.0 } else { 0.0 });
            }
        }
        samples
            .push(Sample { end: (i + 1) * seq - 1, target: Target { class, value: class as f32 - 1.0, weight: 1.0 } });
    }
    // One segment per sample so windows never overlap.
    let mut start = 0;
    for i in 0..n {
        let rows = m.push_segment((i % 2) as u32, &values[i * seq * f..(i + 1) * seq * f]).unwrap();
        assert_eq!(rows.start, start);
        start = rows.end;
    }
    (m, samples)
}

fn overfit_config() -> TrainConfig {
    let mut o = serde_json::Map::new();
    for (k, v) in [
        ("learning_rate", serde_json::json!(0.02)),
        ("batch_size", serde_json::json!(12)),
        ("epochs", serde_json::json!(60)),
        ("use_augmentation", serde_json::json!(false)),
        ("focal_gamma", serde_json::json!(0.0)),
        ("label_smoothing", serde_json::json!(0.0)),
        ("direction_penalty", serde_json::json!(0.0)),
        ("confidence_weight", serde_json::json!(0.0)),
        ("value_weight", serde_json::json!(0.0)),
        ("weight_decay", serde_json::json!(0.0)),
        ("scheduler", serde_json::json!("constant")),
        ("early_stopping_patience", serde_json::json!(100)),
        ("class_weighting", serde_json::json!({"kind": "none"})),
    ] {
        o.insert(k.into(), v);
    }
    TrainConfig::resolve(None, &[o]).unwrap()
}

#[test]
fn each_model_overfits_a_tiny_separable_set() {
    let _rng = rng_lock();
    let (m, samples) = separable(24, 6);
    let ds = WindowedDataset::new(&m, 6, samples, Some(3)).unwrap();
    let cfg = overfit_config();
    for kind in KINDS {
        let mcfg = tiny(kind, 3);
        let settings = LossSettings::default();
        dev().seed(cfg.seed);
        let initial =
            predict(&mcfg.init(&dev()).unwrap(), &mcfg, &ds, Task::Classification, &settings, 64, &dev()).loss;
        let inputs = TrainInputs {
            model: &mcfg,
            config: &cfg,
            train: &ds,
            valid: &ds,
            checkpoint_dir: None,
            resume: false,
            context: None,
        };
        let out = fit(&inputs, &dev(), &mut Quiet).unwrap();
        let last = predict(&out.model, &mcfg, &ds, Task::Classification, &settings, 64, &dev());
        assert!(
            last.loss < 0.1 * initial,
            "{kind}: loss {initial:.4} → {:.4} (best epoch {})",
            last.loss,
            out.best_epoch
        );
        let y: Vec<usize> = ds.samples().iter().map(|s| s.target.class).collect();
        assert_eq!(last.classes(), y, "{kind}");
    }
}

#[test]
fn save_load_gives_identical_outputs_and_training_is_deterministic() {
    let _rng = rng_lock();
    let (m, samples) = separable(12, 5);
    let ds = WindowedDataset::new(&m, 5, samples, Some(3)).unwrap();
    let mut o = serde_json::Map::new();
    o.insert("epochs".into(), serde_json::json!(2));
    o.insert("batch_size".into(), serde_json::json!(4));
    o.insert("learning_rate".into(), serde_json::json!(0.01));
    let cfg = TrainConfig::resolve(None, &[o]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for kind in KINDS {
        let mut mcfg = tiny(kind, 3);
        if let ModelConfig::Hrm(c) = &mut mcfg {
            c.dropout = 0.3; // exercise dropout under a seed
        }
        let inputs = TrainInputs {
            model: &mcfg,
            config: &cfg,
            train: &ds,
            valid: &ds,
            checkpoint_dir: None,
            resume: false,
            context: None,
        };
        let a = fit(&inputs, &dev(), &mut Quiet).unwrap();
        let b = fit(&inputs, &dev(), &mut Quiet).unwrap();
        assert_eq!(a.history, b.history, "{kind}: same seed, same history");
        let settings = LossSettings::default();
        let pa = predict(&a.model, &mcfg, &ds, cfg.task, &settings, 5, &dev());
        let pb = predict(&b.model, &mcfg, &ds, cfg.task, &settings, 5, &dev());
        assert_eq!(pa, pb, "{kind}: same seed, same model");

        let path = dir.path().join(kind.as_str());
        let schema = SequenceSchema {
            format_version: artifact::FORMAT_VERSION,
            feature_set: "test".into(),
            columns: m.names().to_vec(),
            seq_len: 5,
            normaliser: Normaliser::fit(NormKind::ZScore, &m, std::slice::from_ref(&(0..m.rows()))).unwrap(),
            symbols: vec!["BTCUSDT".into(), "ETHUSDT".into()],
            classes: vec!["BUY".into(), "SELL".into(), "HOLD".into()],
        };
        let metrics = SequenceMetrics {
            best_epoch: a.best_epoch,
            epochs_run: a.history.len(),
            stopped_early: a.stopped_early,
            val_loss: 0.0,
            val_accuracy: 0.0,
            val_macro_f1: 0.0,
            class_weights: a.class_weights.clone(),
            n_train: ds.len(),
            n_valid: ds.len(),
            param_count: a.model.num_params(),
        };
        let files = ArtifactFiles {
            model: &mcfg,
            train: &cfg,
            data: serde_json::json!({}),
            schema: &schema,
            metrics: &metrics,
            history: &a.history,
            checklist: &a.checklist,
            interpretation: None,
            inference: None,
            extra: Default::default(),
        };
        artifact::save(&path, &a.model, &files).unwrap();
        for f in [
            "model.bpk",
            "config.json",
            "feature_schema.json",
            "metrics.json",
            "history.json",
            "loss_curve.png",
            "loss_curve.svg",
            "checklist.json",
        ] {
            assert!(path.join(f).exists(), "{kind}: {f}");
        }
        let loaded = artifact::load(&path, &dev()).unwrap();
        assert_eq!(loaded.schema, schema);
        assert_eq!(loaded.train, cfg);
        let pl = predict(&loaded.model, &loaded.config, &ds, cfg.task, &settings, 5, &dev());
        assert_eq!(pl, pa, "{kind}: outputs after save → load");
    }
}

#[test]
fn resume_continues_exactly_where_training_stopped() {
    let _rng = rng_lock();
    let (m, samples) = separable(12, 5);
    let ds = WindowedDataset::new(&m, 5, samples, Some(3)).unwrap();
    let with_epochs = |n: usize| {
        let mut o = serde_json::Map::new();
        o.insert("epochs".into(), serde_json::json!(n));
        o.insert("batch_size".into(), serde_json::json!(4));
        o.insert("learning_rate".into(), serde_json::json!(0.01));
        o.insert("scheduler".into(), serde_json::json!("constant"));
        TrainConfig::resolve(None, &[o]).unwrap()
    };
    let mcfg = tiny(ModelKind::Hrm, 3);
    let full_cfg = with_epochs(3);
    let straight = fit(
        &TrainInputs {
            model: &mcfg,
            config: &full_cfg,
            train: &ds,
            valid: &ds,
            checkpoint_dir: None,
            resume: false,
            context: None,
        },
        &dev(),
        &mut Quiet,
    )
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    // "Interrupted" after two epochs: a run limited to 2 epochs writes the same checkpoint as
    // the first two epochs of the 3-epoch run would, except for the cosine-free constant LR.
    let first = with_epochs(3);
    let mut stopper = StopAfter(2);
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        fit(
            &TrainInputs {
                model: &mcfg,
                config: &first,
                train: &ds,
                valid: &ds,
                checkpoint_dir: Some(dir.path()),
                resume: false,
                context: None,
            },
            &dev(),
            &mut stopper,
        )
    }));
    assert!(err.is_err(), "the observer interrupts training");
    // The checkpoint is one folder: weights, optimizer, best weights and a versioned state.
    let mut names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["best.bpk", "last.bpk", "optimizer.bpk", "state.json"]);
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("state.json")).unwrap()).unwrap();
    assert_eq!(state["format_version"], artifact::FORMAT_VERSION);
    assert_eq!(state["epochs_done"], 2);
    let resume = |config: &TrainConfig| {
        fit(
            &TrainInputs {
                model: &mcfg,
                config,
                train: &ds,
                valid: &ds,
                checkpoint_dir: Some(dir.path()),
                resume: true,
                context: None,
            },
            &dev(),
            &mut Quiet,
        )
    };
    let resumed = resume(&full_cfg).unwrap();
    assert_eq!(resumed.history, straight.history);
    let s = LossSettings::default();
    assert_eq!(
        predict(&resumed.model, &mcfg, &ds, Task::Classification, &s, 4, &dev()),
        predict(&straight.model, &mcfg, &ds, Task::Classification, &s, 4, &dev())
    );

    // A different config refuses the checkpoint.
    let other = with_epochs(5);
    let e = resume(&other).unwrap_err();
    assert!(e.to_string().contains("another config (train.epochs 3 → 5)"), "{e}");

    // A checkpoint of another format version is refused, naming the file.
    let p = dir.path().join("state.json");
    let mut state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    state["format_version"] = serde_json::json!(1);
    std::fs::write(&p, state.to_string()).unwrap();
    let e = resume(&full_cfg).unwrap_err().to_string();
    assert!(e.contains("state.json") && e.contains("format_version 1"), "{e}");
}

/// Panics (like a killed process) at the start of epoch `n + 1`, after epoch n's checkpoint.
struct StopAfter(usize);
impl vane_models::train::TrainObserver for StopAfter {
    fn on_batch(&mut self, epoch: usize, _batch: usize, _loss: f64) {
        if epoch > self.0 {
            panic!("interrupted");
        }
    }
}
