//! The trainable Lorentzian classifier: its forward pass against a hand computation in f64, the
//! distance being Lorentzian rather than Euclidean, training on a separable set, save → load, and
//! config errors.

use burn::module::{Module, Param};
use burn::tensor::{Device, Int, Tensor, TensorData};
use vane_models::artifact::{self, ArtifactFiles, SequenceMetrics, SequenceSchema};
use vane_models::data::{FeatureMatrix, NormKind, Normaliser, Sample, Target, WindowedDataset};
use vane_models::lorentzian::{Lorentzian, LorentzianConfig, raw_temperature};
use vane_models::loss::LossSettings;
use vane_models::nn::DropoutRng;
use vane_models::train::{Quiet, Task, TrainInputs, fit, predict};
use vane_models::{ModelConfig, ModelKind, ModelSpec, SequenceModel, TrainConfig};

fn dev() -> Device {
    Device::flex()
}

/// burn's CPU random generator is process-wide: tests that seed it take turns.
static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn rng_lock() -> std::sync::MutexGuard<'static, ()> {
    RNG.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn tensor2(values: &[f64], shape: [usize; 2]) -> Tensor<2> {
    let v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
    Tensor::from_data(TensorData::new(v, shape), &dev())
}

fn tensor3(values: &[f64], shape: [usize; 3]) -> Tensor<3> {
    let v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
    Tensor::from_data(TensorData::new(v, shape), &dev())
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

/// A model without projection (`hidden = 0`) whose prototypes (`[k·P, d]`, class-major) and τ
/// are set by hand.
fn hand_model(n_features: usize, lookback: usize, per_class: usize, protos: &[f64], tau: f64) -> Lorentzian {
    let cfg = LorentzianConfig::new(n_features)
        .with_hidden(0)
        .with_lookback(lookback)
        .with_prototypes(per_class)
        .with_dropout(0.0);
    let mut m = cfg.init(&dev()).unwrap();
    let d = lookback * n_features;
    m.prototypes = Param::from_tensor(tensor2(protos, [3 * per_class, d]));
    m.temperature =
        Param::from_tensor(Tensor::from_data(TensorData::new(vec![raw_temperature(tau) as f32], [1]), &dev()));
    m
}

fn lorentz(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (1.0 + (x - y).abs()).ln()).sum()
}

fn euclid(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

#[test]
fn forward_matches_a_hand_computation_in_f64() {
    // F = 2, lookback 2: the input is [x_{t−1}, x_t] flattened (4 values), 2 prototypes per class.
    let (f, lookback, per_class, tau) = (2, 2, 2, 0.7);
    let protos = [
        0.5, -1.0, 0.25, 2.0, // BUY
        -0.3, 0.1, 1.5, -0.75, // BUY
        1.0, 1.0, 1.0, 1.0, // SELL
        -2.0, 0.0, 0.5, 0.3, // SELL
        0.0, 0.0, 0.0, 0.0, // HOLD
        3.0, -3.0, 0.2, 0.9, // HOLD
    ];
    let model = hand_model(f, lookback, per_class, &protos, tau);
    let tau_read = f64::from(to_vec(model.tau())[0]);
    assert!((tau_read - tau).abs() < 1e-6, "τ = softplus(raw) = {tau_read}");
    // Two windows of 3 steps; the first step of each must be ignored (lookback 2).
    let x = [
        9.0, 9.0, 0.2, -0.4, 0.7, 1.1, // sample 0
        -9.0, 9.0, -1.2, 0.3, 2.5, -0.6, // sample 1
    ];
    let out = model.forward(tensor3(&x, [2, 3, f]), &mut DropoutRng::off());
    let logits = to_vec(out.logits.clone());
    let probs = to_vec(burn::tensor::activation::softmax(out.logits, 1));
    let dist = to_vec(model.distances(model.embed(tensor3(&x, [2, 3, f]))));
    for s in 0..2 {
        let v = &x[s * 6 + 2..s * 6 + 6];
        let d: Vec<f64> = protos.chunks(4).map(|p| lorentz(v, p)).collect();
        for (j, dj) in d.iter().enumerate() {
            assert!((f64::from(dist[s * 6 + j]) - dj).abs() < 1e-5, "sample {s} prototype {j}");
        }
        let logit: Vec<f64> =
            d.chunks(per_class).map(|dc| dc.iter().map(|dj| (-dj / tau).exp()).sum::<f64>().ln()).collect();
        let z: f64 = logit.iter().map(|l| l.exp()).sum();
        for c in 0..3 {
            assert!((f64::from(logits[s * 3 + c]) - logit[c]).abs() < 1e-5, "sample {s} logit {c}");
            let p = logit[c].exp() / z;
            assert!(
                (f64::from(probs[s * 3 + c]) - p).abs() < 1e-5,
                "sample {s} class {c}: {} vs {p}",
                probs[s * 3 + c]
            );
        }
    }
    // The model behind SequenceModel gives the same logits.
    let seq = SequenceModel::Lorentzian(model);
    let symbol = Tensor::<1, Int>::zeros([2], &dev());
    assert_eq!(to_vec(seq.forward(tensor3(&x, [2, 3, f]), symbol).logits), logits);
}

#[test]
fn the_distance_is_lorentzian_not_euclidean() {
    // From the origin: BUY's prototype is off by 3 in one feature, SELL's by 1 in all four.
    // Euclidean: 3 vs 2 (SELL nearer). Lorentzian: ln 4 ≈ 1.39 vs 4·ln 2 ≈ 2.77 (BUY nearer).
    let a = [3.0, 0.0, 0.0, 0.0];
    let b = [1.0, 1.0, 1.0, 1.0];
    let far = [10.0, -10.0, 10.0, -10.0];
    let zero = [0.0; 4];
    assert!(euclid(&zero, &b) < euclid(&zero, &a));
    assert!(lorentz(&zero, &a) < lorentz(&zero, &b));
    let protos: Vec<f64> = [a, b, far].concat();
    let model = hand_model(4, 1, 1, &protos, 1.0);
    let out = model.forward(tensor3(&zero, [1, 1, 4]), &mut DropoutRng::off());
    let logits = to_vec(out.logits);
    assert!(logits[0] > logits[1] && logits[1] > logits[2], "Lorentzian order BUY > SELL > HOLD: {logits:?}");
    // And away from the origin, the same geometry shifted: still Lorentzian.
    let shift = [0.5, -0.25, 1.0, 2.0];
    let shifted: Vec<f64> = protos.chunks(4).flat_map(|p| p.iter().zip(&shift).map(|(x, s)| x + s)).collect();
    let model = hand_model(4, 1, 1, &shifted, 1.0);
    let logits = to_vec(model.forward(tensor3(&shift, [1, 1, 4]), &mut DropoutRng::off()).logits);
    assert!(logits[0] > logits[1], "{logits:?}");
}

/// One symbol, `n` rows of 2 uniform features in ±1; each row from `seq − 1` on is a sample whose
/// class is BUY when feature 0 of its last row is positive, else SELL.
fn sign_set(n: usize, seq: usize) -> (FeatureMatrix, Vec<Sample>) {
    let mut m = FeatureMatrix::new(vec!["a".into(), "b".into()]).unwrap();
    let mut state = 2024u64;
    let mut rnd = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 33) as f64 / (1u64 << 30) as f64) as f32 - 1.0
    };
    let values: Vec<f32> = (0..n * 2).map(|_| rnd()).collect();
    m.push_segment(0, &values).unwrap();
    let samples = (seq - 1..n)
        .map(|r| {
            let class = if values[r * 2] > 0.0 { 0 } else { 1 };
            Sample { end: r, target: Target { class, value: values[r * 2], weight: 1.0 } }
        })
        .collect();
    (m, samples)
}

fn train_config(epochs: usize, lr: f64, batch: usize) -> TrainConfig {
    let mut o = serde_json::Map::new();
    for (k, v) in [
        ("learning_rate", serde_json::json!(lr)),
        ("batch_size", serde_json::json!(batch)),
        ("epochs", serde_json::json!(epochs)),
        ("use_augmentation", serde_json::json!(false)),
        ("focal_gamma", serde_json::json!(0.0)),
        ("label_smoothing", serde_json::json!(0.0)),
        ("scheduler", serde_json::json!("constant")),
        ("early_stopping_patience", serde_json::json!(100)),
        ("class_weighting", serde_json::json!({"kind": "none"})),
    ] {
        o.insert(k.into(), v);
    }
    TrainConfig::resolve(None, &[o]).unwrap()
}

fn spec(hidden: usize, lookback: usize, dropout: f64) -> ModelSpec {
    ModelSpec {
        hidden: Some(hidden),
        lookback: Some(lookback),
        prototypes: Some(2),
        dropout: Some(dropout),
        ..ModelSpec::of(ModelKind::Lorentzian)
    }
}

#[test]
fn trains_on_the_sign_of_one_feature() {
    let _rng = rng_lock();
    let (m, samples) = sign_set(300, 3);
    let n = samples.len();
    let train = WindowedDataset::new(&m, 3, samples[..n * 3 / 4].to_vec(), Some(3)).unwrap();
    let valid = WindowedDataset::new(&m, 3, samples[n * 3 / 4..].to_vec(), Some(3)).unwrap();
    let mcfg = spec(8, 2, 0.1).resolve(2, 3, 1, None).unwrap();
    let cfg = train_config(12, 0.02, 16);
    let inputs = TrainInputs {
        model: &mcfg,
        config: &cfg,
        train: &train,
        valid: &valid,
        checkpoint_dir: None,
        resume: false,
        context: None,
    };
    let out = fit(&inputs, &dev(), &mut Quiet).unwrap();
    let first = &out.history[0];
    let best = out.history.iter().find(|r| r.epoch == out.best_epoch).unwrap();
    assert!(best.val_loss < first.val_loss, "validation loss {} → {}", first.val_loss, best.val_loss);
    assert!(out.history.last().unwrap().train_loss < first.train_loss);
    let p = predict(&out.model, &mcfg, &valid, Task::Classification, &LossSettings::default(), 64, &dev());
    let y: Vec<usize> = valid.samples().iter().map(|s| s.target.class).collect();
    let acc = p.classes().iter().zip(&y).filter(|(a, b)| a == b).count() as f64 / y.len() as f64;
    assert!(acc > 0.85, "validation accuracy {acc} (chance 0.5)");
}

#[test]
fn save_load_gives_identical_outputs() {
    let _rng = rng_lock();
    let (m, samples) = sign_set(40, 4);
    let ds = WindowedDataset::new(&m, 4, samples, Some(3)).unwrap();
    let cfg = train_config(2, 0.01, 8);
    let dir = tempfile::tempdir().unwrap();
    for (hidden, lookback) in [(0, 1), (6, 3)] {
        let mcfg = spec(hidden, lookback, 0.3).resolve(2, 3, 1, None).unwrap();
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
        assert_eq!(a.history, b.history, "same seed, same history");
        let settings = LossSettings::default();
        let pa = predict(&a.model, &mcfg, &ds, cfg.task, &settings, 5, &dev());
        let path = dir.path().join(format!("h{hidden}"));
        let schema = SequenceSchema {
            format_version: artifact::FORMAT_VERSION,
            feature_set: "test".into(),
            columns: m.names().to_vec(),
            seq_len: 4,
            normaliser: Normaliser::fit(NormKind::ZScore, &m, std::slice::from_ref(&(0..m.rows()))).unwrap(),
            symbols: vec!["BTCUSDT".into()],
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
        let loaded = artifact::load(&path, &dev()).unwrap();
        assert_eq!(loaded.config.kind(), ModelKind::Lorentzian);
        let pl = predict(&loaded.model, &loaded.config, &ds, cfg.task, &settings, 5, &dev());
        assert_eq!(pl, pa, "hidden {hidden}: outputs after save → load");
        // A schema whose windows are shorter than the lookback is refused on load.
        if lookback > 1 {
            let text = std::fs::read_to_string(path.join("feature_schema.json")).unwrap();
            let text = text.replace("\"seq_len\": 4", "\"seq_len\": 2").replace("\"seq_len\":4", "\"seq_len\":2");
            std::fs::write(path.join("feature_schema.json"), text).unwrap();
            let e = artifact::load(&path, &dev()).unwrap_err().to_string();
            assert!(e.contains("lookback 3") && e.contains("seq_len 2"), "{e}");
        }
    }
}

#[test]
fn config_errors_name_the_field() {
    let resolve = |s: ModelSpec| s.resolve(4, 3, 1, None);
    // Defaults: 4 prototypes per class, hidden 32, lookback 1.
    let ModelConfig::Lorentzian(c) = resolve(ModelSpec::of(ModelKind::Lorentzian)).unwrap() else { unreachable!() };
    assert_eq!((c.prototypes, c.hidden, c.lookback, c.n_classes), (4, 32, 1, 3));
    assert_eq!("lorentzian".parse::<ModelKind>().unwrap(), ModelKind::Lorentzian);
    assert_eq!(serde_json::to_value(ModelKind::Lorentzian).unwrap(), "lorentzian");

    let e = resolve(ModelSpec { prototypes: Some(0), ..ModelSpec::of(ModelKind::Lorentzian) }).unwrap_err();
    assert!(e.to_string().contains("prototypes"), "{e}");
    let e = resolve(ModelSpec { lookback: Some(0), ..ModelSpec::of(ModelKind::Lorentzian) }).unwrap_err();
    assert!(e.to_string().contains("lookback"), "{e}");
    let e = resolve(ModelSpec { dropout: Some(1.0), ..ModelSpec::of(ModelKind::Lorentzian) }).unwrap_err();
    assert!(e.to_string().contains("dropout"), "{e}");
    // Fields of other kinds are refused, and other kinds refuse the Lorentzian fields.
    for (spec, field) in [
        (ModelSpec { hidden_low: Some(8), ..ModelSpec::of(ModelKind::Lorentzian) }, "hidden_low"),
        (ModelSpec { d_model: Some(8), ..ModelSpec::of(ModelKind::Lorentzian) }, "d_model"),
        (ModelSpec { n_heads: Some(2), ..ModelSpec::of(ModelKind::Lorentzian) }, "n_heads"),
        (ModelSpec { prototypes: Some(2), ..ModelSpec::of(ModelKind::Hrm) }, "prototypes"),
        (ModelSpec { hidden: Some(8), ..ModelSpec::of(ModelKind::CnnLstm) }, "hidden"),
        (ModelSpec { lookback: Some(2), ..ModelSpec::of(ModelKind::Tft) }, "lookback"),
    ] {
        let kind = spec.kind;
        let e = resolve(spec).unwrap_err().to_string();
        assert!(e.contains(&format!("`{field}` does not apply to {kind}")), "{e}");
    }

    // lookback > seq_len: refused by the check and by the trainer, before any step.
    let mcfg = resolve(ModelSpec { lookback: Some(5), ..ModelSpec::of(ModelKind::Lorentzian) }).unwrap();
    assert!(mcfg.validate_seq_len(5).is_ok());
    let e = mcfg.validate_seq_len(4).unwrap_err().to_string();
    assert!(e.contains("lookback 5") && e.contains("seq_len 4"), "{e}");
    let (m, samples) = sign_set(20, 4);
    let mut m4 = FeatureMatrix::new((0..4).map(|i| format!("f{i}")).collect()).unwrap();
    m4.push_segment(0, &vec![0.5; m.rows() * 4]).unwrap();
    let ds = WindowedDataset::new(&m4, 4, samples, Some(3)).unwrap();
    let cfg = train_config(1, 0.01, 8);
    let inputs = TrainInputs {
        model: &mcfg,
        config: &cfg,
        train: &ds,
        valid: &ds,
        checkpoint_dir: None,
        resume: false,
        context: None,
    };
    let e = fit(&inputs, &dev(), &mut Quiet).unwrap_err().to_string();
    assert!(e.contains("lookback 5"), "{e}");
}

#[test]
fn regression_output_is_a_linear_head_on_the_distances() {
    let mcfg = spec(4, 1, 0.0).resolve(2, 3, 1, None).unwrap();
    assert_eq!(mcfg.n_values(), 1);
    let model = mcfg.init(&dev()).unwrap();
    let out = model.forward(tensor3(&[0.1, 0.2, 0.3, -0.4], [2, 1, 2]), Tensor::<1, Int>::zeros([2], &dev()));
    assert_eq!(out.value.dims(), [2, 1]);
    assert!(out.confidence.is_none() && out.interpretation.is_none());
}
