//! The GRU cell against a hand computation, the HRM with `cell = "gru"` (shapes, the slow state's
//! period, save/load, training, binary heads) and its config errors.

use burn::module::{Module, Param};
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use vane_models::data::{FeatureMatrix, Sample, Target, WindowedDataset};
use vane_models::hrm::{HrmCell, HrmConfig};
use vane_models::loss::LossSettings;
use vane_models::nn::{DropoutRng, GruCell};
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

fn t2(v: &[f64], shape: [usize; 2]) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v.iter().map(|&x| x as f32).collect::<Vec<_>>(), shape), &dev())
}

fn t1(v: &[f64]) -> Tensor<1> {
    Tensor::from_data(TensorData::new(v.iter().map(|&x| x as f32).collect::<Vec<_>>(), [v.len()]), &dev())
}

fn vec2(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

// A 2-input, 2-hidden GRU with weights set by hand, stored `[in, 3h]` (columns r0 r1 z0 z1 n0 n1).
const IN: usize = 2;
const H: usize = 2;
const W_IH: [[f64; 6]; IN] = [[0.1, -0.2, 0.3, 0.05, -0.4, 0.25], [0.2, 0.15, -0.1, 0.3, 0.5, -0.35]];
const W_HH: [[f64; 6]; H] = [[-0.3, 0.2, 0.1, -0.25, 0.35, 0.4], [0.45, -0.1, 0.2, 0.15, -0.2, 0.3]];
const B_IH: [f64; 6] = [0.01, -0.02, 0.03, 0.04, -0.05, 0.06];
const B_HH: [f64; 6] = [-0.03, 0.02, 0.05, -0.01, 0.07, -0.04];

fn hand_cell() -> GruCell {
    GruCell {
        w_ih: Param::from_tensor(t2(&W_IH.concat(), [IN, 3 * H])),
        w_hh: Param::from_tensor(t2(&W_HH.concat(), [H, 3 * H])),
        b_ih: Param::from_tensor(t1(&B_IH)),
        b_hh: Param::from_tensor(t1(&B_HH)),
        d_hidden: H,
    }
}

/// PyTorch's GRUCell in f64, one sample.
fn reference_step(x: &[f64; IN], h: &[f64; H]) -> [f64; H] {
    let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
    let gi = |c: usize| (0..IN).map(|i| x[i] * W_IH[i][c]).sum::<f64>() + B_IH[c];
    let gh = |c: usize| (0..H).map(|i| h[i] * W_HH[i][c]).sum::<f64>() + B_HH[c];
    let mut out = [0.0; H];
    for j in 0..H {
        let r = sig(gi(j) + gh(j));
        let z = sig(gi(H + j) + gh(H + j));
        let n = (gi(2 * H + j) + r * gh(2 * H + j)).tanh();
        out[j] = (1.0 - z) * n + z * h[j];
    }
    out
}

#[test]
fn gru_cell_matches_a_hand_computation_over_one_and_two_steps() {
    let cell = hand_cell();
    let xs = [[[0.5, -1.0], [-0.7, 0.3]], [[1.5, 0.25], [0.2, -0.9]]]; // [step 2][batch 2][IN]
    let h0 = [[0.0, 0.0], [0.3, -0.6]];
    let mut h = t2(&h0.concat(), [2, H]);
    let mut want = h0;
    for (step, x_t) in xs.iter().enumerate() {
        h = cell.forward(t2(&x_t.concat(), [2, IN]), h);
        for (w, x) in want.iter_mut().zip(x_t) {
            *w = reference_step(x, w);
        }
        let got = vec2(h.clone());
        for (g, w) in got.iter().zip(want.concat()) {
            assert!((f64::from(*g) - w).abs() < 1e-5, "step {}: got {got:?}, want {want:?}", step + 1);
        }
    }
    // The state moved: the test could fail.
    assert!(want.concat().iter().all(|v| v.abs() > 1e-3), "{want:?}");
}

fn gru_config(n_features: usize, n_classes: usize, period: usize) -> HrmConfig {
    HrmConfig::new(n_features)
        .with_n_classes(n_classes)
        .with_hidden_low(6)
        .with_hidden_high(5)
        .with_high_period(period)
        .with_dropout(0.0)
        .with_cell(Some(HrmCell::Gru))
}

fn random_x(b: usize, t: usize, f: usize) -> Tensor<3> {
    dev().seed(11);
    Tensor::random([b, t, f], Distribution::Normal(0.0, 1.0), &dev())
}

#[test]
fn gru_hrm_shapes_and_the_slow_state_moves_every_high_period_steps() {
    let _rng = rng_lock();
    let hrm = gru_config(4, 3, 3).init(&dev()).unwrap();
    assert!(hrm.low_gru.is_some() && hrm.high_gru.is_some() && hrm.low.is_none() && hrm.high.is_none());
    let x = random_x(2, 10, 4);
    let out = hrm.forward(x.clone(), &mut DropoutRng::off());
    assert_eq!(out.logits.dims(), [2, 3]);
    assert_eq!(out.value.dims(), [2, 1]);
    let trace = hrm.high_states(x).into_data().try_to_vec::<f32>().unwrap(); // [2, 10, 5]
    let at = |b: usize, t: usize| &trace[(b * 10 + t) * 5..(b * 10 + t + 1) * 5];
    for b in 0..2 {
        for t in 0..10 {
            let prev: Vec<f32> = if t == 0 { vec![0.0; 5] } else { at(b, t - 1).to_vec() };
            let updates = (t + 1) % 3 == 0;
            if updates {
                assert_ne!(at(b, t), &prev[..], "batch {b} step {t} should update the slow state");
            } else {
                assert_eq!(at(b, t), &prev[..], "batch {b} step {t} must keep the slow state");
            }
        }
    }
    // The LSTM path is still there and is the default.
    let lstm = HrmConfig::new(4).with_hidden_low(6).with_hidden_high(5).init(&dev()).unwrap();
    assert!(lstm.low.is_some() && lstm.low_gru.is_none());
    assert_eq!(lstm.feedback.val().dims(), [5, 24]);
    assert_eq!(hrm.feedback.val().dims(), [5, 18]);
}

#[test]
fn config_json_without_cell_is_the_lstm_and_gru_round_trips() {
    let old = r#"{"n_features":4,"n_classes":3,"hidden_low":8,"hidden_high":8,"high_period":10,"dropout":0.1}"#;
    let c: HrmConfig = serde_json::from_str(old).unwrap();
    assert_eq!(c.cell, None);
    assert_eq!(c.cell_kind(), HrmCell::Lstm);
    let g = gru_config(4, 2, 3);
    let json = serde_json::to_string(&ModelConfig::Hrm(g)).unwrap();
    assert!(json.contains(r#""cell":"gru""#), "{json}");
    let back: ModelConfig = serde_json::from_str(&json).unwrap();
    let ModelConfig::Hrm(b) = back else { panic!("{json}") };
    assert_eq!(b.cell_kind(), HrmCell::Gru);
    assert_eq!("GRU".parse::<HrmCell>().unwrap(), HrmCell::Gru);
    assert!("rnn".parse::<HrmCell>().unwrap_err().to_string().contains("\"gru\" or \"lstm\""));
}

#[test]
fn gru_hrm_save_load_gives_identical_outputs() {
    let _rng = rng_lock();
    let mcfg = ModelConfig::Hrm(gru_config(3, 2, 2));
    dev().seed(5);
    let model = mcfg.init(&dev()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.bpk");
    model.clone().save_file(&path).unwrap();
    dev().seed(99);
    let loaded: SequenceModel = mcfg.init(&dev()).unwrap().try_load_file(&path).unwrap();
    let x = random_x(3, 7, 3);
    let sym = Tensor::<1, Int>::zeros([3], &dev());
    let a = vec2(model.forward(x.clone(), sym.clone()).logits);
    let b = vec2(loaded.forward(x, sym).logits);
    assert_eq!(a, b);
    // The LSTM HRM's parameter names are those of models saved before the option
    // (`low.w_ih`, …: an `Option` field adds no path segment), so they still load.
    let lstm_path = dir.path().join("lstm.bpk");
    ModelConfig::Hrm(gru_config(3, 2, 2).with_cell(None)).init(&dev()).unwrap().save_file(&lstm_path).unwrap();
    let bytes = std::fs::read(&lstm_path).unwrap();
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"Hrm.low.w_ih") && has(b"Hrm.high.w_hh") && has(b"Hrm.feedback") && !has(b"low_gru"));
    let gru_bytes = std::fs::read(&path).unwrap();
    assert!(gru_bytes.windows(16).any(|w| w == b"Hrm.low_gru.w_ih"));
    // A GRU file does not load into an LSTM HRM (different parameters), and says so.
    let lstm = ModelConfig::Hrm(gru_config(3, 2, 2).with_cell(None));
    assert!(lstm.init(&dev()).unwrap().try_load_file(&path).is_err());
}

/// Two classes by the sign of feature 0's mean over the window (class 1 = up).
fn separable_binary(n: usize, seq: usize) -> (FeatureMatrix, Vec<Sample>) {
    let f = 2;
    let mut m = FeatureMatrix::new(vec!["a".into(), "b".into()]).unwrap();
    let mut samples = Vec::new();
    let mut state = 777u64;
    let mut rnd = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 33) as f64 / (1u64 << 31) as f64) as f32 - 0.5
    };
    for i in 0..n {
        let class = i % 2;
        let mut values = Vec::new();
        for _ in 0..seq {
            values.push(rnd() + if class == 1 { 0.8 } else { -0.8 });
            values.push(rnd());
        }
        let rows = m.push_segment(0, &values).unwrap();
        samples.push(Sample { end: rows.end - 1, target: Target { class, value: 0.0, weight: 1.0 } });
    }
    assert_eq!(m.n_features(), f);
    (m, samples)
}

fn small_train_config(epochs: usize) -> TrainConfig {
    let mut o = serde_json::Map::new();
    for (k, v) in [
        ("learning_rate", serde_json::json!(0.02)),
        ("batch_size", serde_json::json!(8)),
        ("epochs", serde_json::json!(epochs)),
        ("use_augmentation", serde_json::json!(false)),
        ("focal_gamma", serde_json::json!(1.5)),
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
fn binary_gru_hrm_trains_and_predicts_probabilities_that_sum_to_one() {
    let _rng = rng_lock();
    let (m, samples) = separable_binary(24, 6);
    let ds = WindowedDataset::new(&m, 6, samples, Some(2)).unwrap();
    let spec = ModelSpec {
        cell: Some(HrmCell::Gru),
        hidden_low: Some(8),
        hidden_high: Some(8),
        high_period: Some(3),
        dropout: Some(0.0),
        ..ModelSpec::of(ModelKind::Hrm)
    };
    let mcfg = spec.resolve(2, 2, 1, None).unwrap();
    let ModelConfig::Hrm(h) = &mcfg else { panic!() };
    assert_eq!((h.cell_kind(), h.n_classes), (HrmCell::Gru, 2));
    let cfg = small_train_config(15);
    let settings = LossSettings { focal_gamma: 1.5, ..LossSettings::default() };
    dev().seed(cfg.seed);
    let initial = predict(&mcfg.init(&dev()).unwrap(), &mcfg, &ds, Task::Classification, &settings, 64, &dev());
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
    assert!(last.loss < 0.5 * initial.loss, "loss {:.4} → {:.4}", initial.loss, last.loss);
    assert!(out.history.first().unwrap().train_loss > out.history.last().unwrap().train_loss);
    for p in &last.probs {
        assert_eq!(p.len(), 2);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{p:?}");
    }
    // P(up) = class 1: high on the up windows.
    let y: Vec<usize> = ds.samples().iter().map(|s| s.target.class).collect();
    let acc = last.classes().iter().zip(&y).filter(|(a, b)| a == b).count();
    assert!(acc >= 22, "{acc}/24 right");
    let mean_up = |class: usize| {
        let ps: Vec<f32> = last.probs.iter().zip(&y).filter(|(_, c)| **c == class).map(|(p, _)| p[1]).collect();
        ps.iter().sum::<f32>() / ps.len() as f32
    };
    assert!(mean_up(1) > 0.7 && mean_up(0) < 0.3, "P(up): {} on up windows, {} on down", mean_up(1), mean_up(0));
}

#[test]
fn config_errors_name_the_fields() {
    let _rng = rng_lock();
    // seq_len < high_period (GRU): refused at validation and by the trainer, naming both.
    let mcfg = ModelConfig::Hrm(gru_config(2, 2, 8));
    let e = mcfg.validate_seq_len(6).unwrap_err().to_string();
    assert!(e.contains("seq_len 6") && e.contains("high_period 8"), "{e}");
    assert!(mcfg.validate_seq_len(8).is_ok());
    let (m, samples) = separable_binary(8, 6);
    let ds = WindowedDataset::new(&m, 6, samples, Some(2)).unwrap();
    let cfg = small_train_config(1);
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
    assert!(e.contains("seq_len") && e.contains("high_period"), "{e}");
    // The LSTM HRM keeps its old behaviour (saved models with short windows still load).
    assert!(ModelConfig::Hrm(gru_config(2, 2, 8).with_cell(None)).validate_seq_len(6).is_ok());
    // `cell` belongs to the HRM only.
    let e = ModelSpec { cell: Some(HrmCell::Gru), ..ModelSpec::of(ModelKind::Tft) }
        .resolve(2, 2, 1, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("`cell`") && e.contains("tft"), "{e}");
    // Unknown cell names in a config file.
    let e = serde_json::from_str::<ModelSpec>(r#"{"kind": "hrm", "cell": "rnn"}"#).unwrap_err().to_string();
    assert!(e.contains("rnn"), "{e}");
    let ok: ModelSpec = serde_json::from_str(r#"{"kind": "hrm", "cell": "gru"}"#).unwrap();
    assert_eq!(ok.cell, Some(HrmCell::Gru));
    // Zero widths name the field, as for the LSTM.
    let e = gru_config(2, 2, 3).with_hidden_high(0).init(&dev()).unwrap_err().to_string();
    assert!(e.contains("hidden_high"), "{e}");
    let e = vane_models::nn::GruCellConfig::new(0, 3).init(&dev()).unwrap_err().to_string();
    assert!(e.contains("d_input"), "{e}");
}

#[test]
fn every_model_takes_a_binary_head() {
    let _rng = rng_lock();
    let (m, samples) = separable_binary(8, 6);
    let ds = WindowedDataset::new(&m, 6, samples, Some(2)).unwrap();
    let cfg = small_train_config(1);
    let specs = [
        ModelSpec {
            cell: Some(HrmCell::Gru),
            hidden_low: Some(4),
            hidden_high: Some(4),
            high_period: Some(3),
            ..ModelSpec::of(ModelKind::Hrm)
        },
        ModelSpec {
            conv_channels: Some(4),
            lstm_hidden: Some(4),
            n_heads: Some(2),
            n_conv_blocks: Some(1),
            ..ModelSpec::of(ModelKind::CnnLstm)
        },
        ModelSpec { d_model: Some(4), n_heads: Some(2), ..ModelSpec::of(ModelKind::Tft) },
        ModelSpec { hidden: Some(4), prototypes: Some(2), lookback: Some(3), ..ModelSpec::of(ModelKind::Lorentzian) },
    ];
    let mut cfg_multitask = cfg.clone();
    cfg_multitask.confidence_weight = 0.5;
    cfg_multitask.value_weight = 0.5;
    for spec in specs {
        let mcfg = spec.resolve(2, 2, 1, None).unwrap();
        assert_eq!(mcfg.n_classes(), 2);
        let inputs = TrainInputs {
            model: &mcfg,
            config: &cfg_multitask,
            train: &ds,
            valid: &ds,
            checkpoint_dir: None,
            resume: false,
            context: None,
        };
        let out = fit(&inputs, &dev(), &mut Quiet).unwrap();
        let settings = LossSettings::default();
        let p = predict(&out.model, &mcfg, &ds, Task::Classification, &settings, 4, &dev());
        assert!(p.loss.is_finite(), "{}", spec.kind);
        for probs in &p.probs {
            assert_eq!(probs.len(), 2, "{}", spec.kind);
            assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{}: {probs:?}", spec.kind);
        }
    }
}
