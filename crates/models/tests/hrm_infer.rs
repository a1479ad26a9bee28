//! `HrmInfer` (the batch-of-one inference path) against burn's HRM forward: random weights for
//! both cells over several window lengths (some not a multiple of `high_period`, one shorter
//! than it), a batch of windows, and a trained tiny model loaded from disk. Tolerance 1e-5 (max
//! abs) on logits, probabilities and states: the products sum in another order than gemm.

use burn::module::{Module, Param};
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use vane_models::data::{FeatureMatrix, Sample, Target, WindowedDataset};
use vane_models::hrm::{Hrm, HrmCell, HrmConfig, HrmInfer, HrmScratch};
use vane_models::nn::DropoutRng;
use vane_models::train::{Quiet, TrainInputs, fit};
use vane_models::{ModelConfig, SequenceModel, TrainConfig};

const TOL: f32 = 1e-5;

fn dev() -> Device {
    Device::flex()
}

/// burn's CPU random generator is process-wide: tests that seed it take turns.
static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn rng_lock() -> std::sync::MutexGuard<'static, ()> {
    RNG.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn v<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn rand1(n: usize, scale: f64) -> Param<Tensor<1>> {
    Param::from_tensor(Tensor::random([n], Distribution::Uniform(-scale, scale), &dev()))
}

/// A random HRM whose norm and head biases are not at their init values either.
fn random_hrm(cell: HrmCell, f: usize, k: usize, hl: usize, hh: usize, period: usize, seed: u64) -> Hrm {
    dev().seed(seed);
    let mut m = HrmConfig::new(f)
        .with_n_classes(k)
        .with_hidden_low(hl)
        .with_hidden_high(hh)
        .with_high_period(period)
        .with_dropout(0.3)
        .with_cell(Some(cell))
        .init(&dev())
        .unwrap();
    m.norm.gamma = Param::from_tensor(Tensor::random([hl + hh], Distribution::Uniform(0.5, 1.5), &dev()));
    m.norm.beta = Some(rand1(hl + hh, 0.3));
    m.head.bias = Some(rand1(k, 0.5));
    if let Some(c) = &mut m.low {
        c.bias = rand1(4 * hl, 0.3);
    }
    if let Some(c) = &mut m.high {
        c.bias = rand1(4 * hh, 0.3);
    }
    if let Some(c) = &mut m.low_gru {
        c.b_ih = rand1(3 * hl, 0.3);
        c.b_hh = rand1(3 * hl, 0.3);
    }
    if let Some(c) = &mut m.high_gru {
        c.b_ih = rand1(3 * hh, 0.3);
        c.b_hh = rand1(3 * hh, 0.3);
    }
    m
}

/// Compares every window of `x [b, t, f]` (logits, softmax, states) against burn's batched forward.
fn check(m: &Hrm, x: Tensor<3>, what: &str) -> f32 {
    let [b, t, f] = x.dims();
    let infer = HrmInfer::from_model(m).unwrap();
    assert_eq!(infer.n_features(), f);
    let k = infer.n_classes();
    let out = m.forward(x.clone(), &mut DropoutRng::off());
    let logits = v(out.logits.clone());
    let probs = v(burn::tensor::activation::softmax(out.logits, 1));
    let (hl, hh) = m.states(x.clone());
    let (hl, hh) = (v(hl), v(hh));
    let xs = v(x);
    let mut s = HrmScratch::new();
    let mut worst = 0.0f32;
    for i in 0..b {
        let w = &xs[i * t * f..(i + 1) * t * f];
        let mut lo = vec![0.0; k];
        infer.logits(w, &mut s, &mut lo).unwrap();
        let mut pr = vec![0.0; k];
        infer.probs(w, &mut s, &mut pr).unwrap();
        let (l, h) = infer.states(w, &mut s).unwrap();
        let d = [
            max_diff(&lo, &logits[i * k..(i + 1) * k]),
            max_diff(&pr, &probs[i * k..(i + 1) * k]),
            max_diff(&l, &hl[i * l.len()..(i + 1) * l.len()]),
            max_diff(&h, &hh[i * h.len()..(i + 1) * h.len()]),
        ];
        for (j, d) in d.iter().enumerate() {
            assert!(*d <= TOL, "{what}: window {i}, quantity {j} (logits, probs, h_low, h_high) differs by {d}");
            worst = worst.max(*d);
        }
        assert!((pr.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
    // probs_many: the same windows in parallel, bit for bit the one-at-a-time result.
    let many = infer
        .probs_many(b, |i, buf| {
            buf.clear();
            buf.extend_from_slice(&xs[i * t * f..(i + 1) * t * f]);
            Ok(())
        })
        .unwrap();
    for i in 0..b {
        let mut pr = vec![0.0; k];
        infer.probs(&xs[i * t * f..(i + 1) * t * f], &mut s, &mut pr).unwrap();
        assert_eq!(pr, &many[i * k..(i + 1) * k], "{what}: probs_many window {i}");
    }
    worst
}

#[test]
fn random_weights_both_cells_several_lengths_match_burn_within_1e_5() {
    let _rng = rng_lock();
    for cell in [HrmCell::Gru, HrmCell::Lstm] {
        for (f, k, hl, hh, period) in [(5, 2, 16, 12, 4), (3, 3, 8, 8, 10), (7, 2, 64, 64, 10)] {
            let m = random_hrm(cell, f, k, hl, hh, period, 3 + f as u64);
            for t in [1usize, 3, 4, 9, 10, 23, 30, 61] {
                dev().seed(100 + t as u64);
                let x = Tensor::<3>::random([3, t, f], Distribution::Normal(0.0, 1.5), &dev());
                let worst = check(&m, x, &format!("{cell} f{f} k{k} {hl}/{hh}/{period} seq {t}"));
                eprintln!("{cell} {hl}/{hh}/{period} seq {t}: worst {worst:e}");
            }
        }
    }
}

#[test]
fn bad_inputs_are_errors() {
    let _rng = rng_lock();
    let m = random_hrm(HrmCell::Gru, 4, 2, 8, 8, 3, 1);
    let infer = HrmInfer::from_model(&m).unwrap();
    let mut s = HrmScratch::new();
    let mut out = [0.0f32; 2];
    assert!(infer.probs(&[0.0; 7], &mut s, &mut out).is_err());
    assert!(infer.probs(&[], &mut s, &mut out).is_err());
    assert!(infer.probs(&[0.0; 8], &mut s, &mut [0.0; 3]).is_err());
    // The scratch serves a larger network after a smaller one and back (buffers are resized).
    let big = random_hrm(HrmCell::Lstm, 4, 2, 32, 16, 5, 2);
    let bi = HrmInfer::from_model(&big).unwrap();
    let x: Vec<f32> = (0..4 * 12).map(|i| (i as f32 * 0.37).sin()).collect();
    let (mut a, mut b) = ([0.0f32; 2], [0.0f32; 2]);
    infer.probs(&x, &mut s, &mut a).unwrap();
    bi.probs(&x, &mut s, &mut b).unwrap();
    let mut fresh = [0.0f32; 2];
    infer.probs(&x, &mut s, &mut fresh).unwrap();
    assert_eq!(a, fresh);
    bi.probs(&x, &mut HrmScratch::new(), &mut fresh).unwrap();
    assert_eq!(b, fresh);
}

fn small_train_config(epochs: usize) -> TrainConfig {
    let mut o = serde_json::Map::new();
    for (k, v) in [
        ("learning_rate", serde_json::json!(0.02)),
        ("batch_size", serde_json::json!(8)),
        ("epochs", serde_json::json!(epochs)),
        ("use_augmentation", serde_json::json!(false)),
        ("early_stopping_patience", serde_json::json!(100)),
        ("class_weighting", serde_json::json!({"kind": "none"})),
    ] {
        o.insert(k.into(), v);
    }
    TrainConfig::resolve(None, &[o]).unwrap()
}

#[test]
fn trained_tiny_model_loaded_from_disk_matches_burn_within_1e_5() {
    let _rng = rng_lock();
    let (f, seq) = (3usize, 14usize);
    let mut m = FeatureMatrix::new((0..f).map(|j| format!("c{j}")).collect()).unwrap();
    let mut state = 99u64;
    let mut rnd = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 33) as f64 / (1u64 << 31) as f64) as f32 - 0.5
    };
    let values: Vec<f32> = (0..200 * f).map(|_| rnd() * 2.0).collect();
    m.push_segment(0, &values).unwrap();
    let samples: Vec<Sample> = (seq - 1..200)
        .map(|end| Sample {
            end,
            target: Target { class: usize::from(values[end * f] > 0.0), value: 0.0, weight: 1.0 },
        })
        .collect();
    let ds = WindowedDataset::new(&m, seq, samples, Some(2)).unwrap();
    for cell in [HrmCell::Gru, HrmCell::Lstm] {
        let mcfg = ModelConfig::Hrm(
            HrmConfig::new(f)
                .with_n_classes(2)
                .with_hidden_low(8)
                .with_hidden_high(6)
                .with_high_period(4)
                .with_cell(Some(cell)),
        );
        let cfg = small_train_config(2);
        dev().seed(cfg.seed);
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
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.bpk");
        out.model.clone().save_file(&path).unwrap();
        let loaded: SequenceModel = mcfg.init(&dev()).unwrap().try_load_file(&path).unwrap();
        let SequenceModel::Hrm(h) = &loaded else { panic!("not an HRM") };
        let x = Tensor::<3>::from_data(TensorData::new(values[..4 * seq * f].to_vec(), [4, seq, f]), &dev());
        check(h, x.clone(), &format!("trained {cell}"));
        // And against the SequenceModel entry point the stacking crate calls.
        let sym = Tensor::<1, Int>::zeros([4], &dev());
        let logits = v(loaded.forward(x, sym).logits);
        let infer = HrmInfer::from_model(h).unwrap();
        let mut s = HrmScratch::new();
        for i in 0..4 {
            let mut lo = [0.0f32; 2];
            infer.logits(&values[i * seq * f..(i + 1) * seq * f], &mut s, &mut lo).unwrap();
            assert!(max_diff(&lo, &logits[i * 2..i * 2 + 2]) <= TOL, "trained {cell} window {i}");
        }
    }
}
