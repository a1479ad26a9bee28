//! Windowed datasets, normaliser, class weights, oversampling, augmentation, presets and configs.

use burn::data::dataloader::batcher::Batcher;
use burn::tensor::Device;
use rand::SeedableRng;
use rand::rngs::StdRng;
use vane_models::augment::Augmentation;
use vane_models::data::{
    ClassWeighting, FeatureMatrix, HostBatch, NormKind, Normaliser, Sample, SeqBatcher, Target, WindowedDataset,
    class_weights, oversample,
};
use vane_models::train::{Checklist, ChecklistInputs, EpochRecord, TrainConfig};
use vane_models::{DeviceKind, ModelKind, ModelSpec, Preset};

fn matrix() -> FeatureMatrix {
    let mut m = FeatureMatrix::new(vec!["x".into(), "y".into()]).unwrap();
    // Symbol 0: rows 0..6, symbol 1: rows 6..10.
    let a: Vec<f32> = (0..6).flat_map(|r| [r as f32, 10.0 * r as f32]).collect();
    let b: Vec<f32> = (0..4).flat_map(|r| [100.0 + r as f32, -(r as f32)]).collect();
    m.push_segment(0, &a).unwrap();
    m.push_segment(1, &b).unwrap();
    m
}

fn sample(end: usize, class: usize) -> Sample {
    Sample { end, target: Target { class, value: 0.0, weight: 1.0 } }
}

#[test]
fn a_sample_is_a_view_of_the_matrix() {
    let m = matrix();
    let ds = WindowedDataset::new(&m, 3, vec![sample(2, 0), sample(5, 1), sample(9, 2)], Some(3)).unwrap();
    let it = ds.get(1);
    assert_eq!(it.x, &[3.0, 30.0, 4.0, 40.0, 5.0, 50.0]);
    assert!(std::ptr::eq(it.x.as_ptr(), m.row(3).as_ptr()), "no copy per sample");
    assert_eq!(ds.get(2).symbol, 1);
    assert_eq!(ds.get(2).x, &[101.0, -1.0, 102.0, -2.0, 103.0, -3.0]);
    assert_eq!(ds.class_counts(3), vec![1, 1, 1]);

    let batcher = SeqBatcher { seq_len: 3, n_features: 2, n_classes: 3 };
    let items = vec![ds.get(0), ds.get(2)];
    let b = batcher.batch(items, &Device::flex());
    assert_eq!(b.x.dims(), [2, 3, 2]);
    assert_eq!(b.target.into_data().try_to_vec::<f32>().unwrap(), vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
    assert_eq!(b.symbol.into_data().try_to_vec::<i32>().unwrap(), vec![0, 1]);
}

#[test]
fn bad_samples_are_rejected_with_a_clear_error() {
    let m = matrix();
    let e = WindowedDataset::new(&m, 3, vec![sample(7, 0)], Some(3)).unwrap_err().to_string();
    assert!(e.contains("starts before its symbol's first row 6"), "{e}");
    let e = WindowedDataset::new(&m, 3, vec![sample(10, 0)], Some(3)).unwrap_err().to_string();
    assert!(e.contains("outside the matrix"), "{e}");
    let e = WindowedDataset::new(&m, 3, vec![sample(4, 3)], Some(3)).unwrap_err().to_string();
    assert!(e.contains("class 3 with 3 classes"), "{e}");
    let mut nan = FeatureMatrix::new(vec!["x".into()]).unwrap();
    nan.push_segment(0, &[1.0, f32::NAN, 2.0, 3.0]).unwrap();
    let e = WindowedDataset::new(&nan, 2, vec![sample(2, 0)], None).unwrap_err().to_string();
    assert!(e.contains("row 1 column \"x\" is not finite"), "{e}");
    assert!(WindowedDataset::new(&nan, 2, vec![sample(3, 0)], None).is_ok());
    assert!(m.clone().push_segment(2, &[1.0, 2.0, 3.0]).is_err());
}

#[test]
fn normaliser_is_fitted_on_the_given_rows_only() {
    let mut m = matrix();
    let z = Normaliser::fit(NormKind::ZScore, &m, std::slice::from_ref(&(0..4))).unwrap();
    // x over rows 0..4 = 0,1,2,3: mean 1.5, population std sqrt(1.25).
    assert!((z.center[0] - 1.5).abs() < 1e-6);
    assert!((z.scale[0] - 1.25f32.sqrt()).abs() < 1e-6);
    assert!((z.center[1] - 15.0).abs() < 1e-5);
    let r = Normaliser::fit(NormKind::Robust, &m, &[0..5, 6..7]).unwrap();
    // x over rows 0..5 and 6: 0,1,2,3,4,100 → median 2.5, IQR 3.75 − 1.25 = 2.5.
    assert_eq!((r.center[0], r.scale[0]), (2.5, 2.5));
    z.apply(&mut m).unwrap();
    assert!((m.row(0)[0] - (-1.5 / 1.25f32.sqrt())).abs() < 1e-6);
    let mut constant = FeatureMatrix::new(vec!["c".into()]).unwrap();
    constant.push_segment(0, &[4.0, 4.0]).unwrap();
    let c = Normaliser::fit(NormKind::ZScore, &constant, std::slice::from_ref(&(0..2))).unwrap();
    assert_eq!((c.center[0], c.scale[0]), (4.0, 1.0));
    let other = FeatureMatrix::new(vec!["a".into(), "b".into(), "c".into()]).unwrap();
    assert!(c.apply(&mut other.clone()).is_err());
}

#[test]
fn class_weight_schemes_match_their_formulas() {
    let counts = [10, 30, 60];
    let n = 100.0;
    let bal = class_weights(&counts, ClassWeighting::Balanced).unwrap();
    for (w, c) in bal.iter().zip(counts) {
        assert!((f64::from(*w) - n / (3.0 * c as f64)).abs() < 1e-6);
    }
    let sq = class_weights(&counts, ClassWeighting::Sqrt).unwrap();
    for (w, c) in sq.iter().zip(counts) {
        assert!((f64::from(*w) - (n / (3.0 * c as f64)).sqrt()).abs() < 1e-6);
    }
    let beta = 0.99f64;
    let eff = class_weights(&counts, ClassWeighting::Effective { beta }).unwrap();
    let raw: Vec<f64> = counts.iter().map(|&c| (1.0 - beta) / (1.0 - beta.powi(c as i32))).collect();
    let s: f64 = raw.iter().sum();
    for (w, r) in eff.iter().zip(&raw) {
        assert!((f64::from(*w) - r * 3.0 / s).abs() < 1e-6);
    }
    assert_eq!(class_weights(&counts, ClassWeighting::None).unwrap(), vec![1.0; 3]);
    assert_eq!(class_weights(&[4, 0, 4], ClassWeighting::Balanced).unwrap()[1], 0.0);
    assert!(class_weights(&[0, 0], ClassWeighting::Balanced).is_err());
    assert!(class_weights(&counts, ClassWeighting::Effective { beta: 1.0 }).is_err());
}

#[test]
fn oversampling_balances_classes_and_keeps_every_sample() {
    let classes = [0, 0, 0, 0, 0, 0, 1, 1, 2];
    let idx = oversample(&classes, 3, 9);
    let mut counts = [0; 3];
    for &i in &idx {
        counts[classes[i]] += 1;
    }
    assert_eq!(counts, [6, 6, 6]);
    for i in 0..classes.len() {
        assert!(idx.contains(&i));
    }
    assert_eq!(idx, oversample(&classes, 3, 9), "deterministic");
}

fn host(batch: usize) -> HostBatch {
    let mut m = FeatureMatrix::new(vec!["a".into(), "b".into()]).unwrap();
    let vals: Vec<f32> = (0..batch * 4 * 2).map(|v| 1.0 + v as f32).collect();
    m.push_segment(0, &vals).unwrap();
    let samples = (0..batch).map(|i| sample(i * 4 + 3, i % 3)).collect();
    let ds = WindowedDataset::new(&m, 4, samples, Some(3)).unwrap();
    let items: Vec<_> = (0..batch).map(|i| ds.get(i)).collect();
    SeqBatcher { seq_len: 4, n_features: 2, n_classes: 3 }.host(&items)
}

#[test]
fn augmentation_transforms() {
    let base = host(6);
    let mut rng = StdRng::seed_from_u64(1);
    let mut off = base.clone();
    Augmentation::off().apply(&mut off, &mut rng);
    assert_eq!(off, base);

    let mut mixed = base.clone();
    let mix = Augmentation { mixup_alpha: 0.4, ..Augmentation::off() };
    mix.apply(&mut mixed, &mut StdRng::seed_from_u64(1));
    for r in mixed.target.chunks(3) {
        assert!((r.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }
    assert_ne!(mixed.x, base.x);
    let mut again = base.clone();
    mix.apply(&mut again, &mut StdRng::seed_from_u64(1));
    assert_eq!(again, mixed, "deterministic in the seed");
    // Every mixed sample is λ·x_i + (1 − λ)·x_j for a partner j, with λ read off its target row.
    for i in 0..6 {
        let row = &mixed.target[i * 3..i * 3 + 3];
        if row.iter().filter(|&&t| t > 0.0).count() < 2 {
            continue; // mixed with its own class: λ not identifiable from the target
        }
        let lam = row[base.class[i]];
        let found = (0..6).any(|j| {
            (0..8).all(|e| {
                (mixed.x[i * 8 + e] - (lam * base.x[i * 8 + e] + (1.0 - lam) * base.x[j * 8 + e])).abs() < 1e-3
            })
        });
        assert!(found, "sample {i} is not a mixup of two originals with λ = {lam}");
    }

    let mut masked = base.clone();
    Augmentation { time_mask_prob: 0.999, time_mask_max: 0.5, ..Augmentation::off() }.apply(&mut masked, &mut rng);
    for s in 0..6 {
        let zero_steps = (0..4).filter(|t| masked.x[s * 8 + t * 2..s * 8 + t * 2 + 2] == [0.0, 0.0]).count();
        assert!((1..=2).contains(&zero_steps), "sample {s}: {zero_steps} masked steps");
    }

    let mut dropped = base.clone();
    Augmentation { feature_dropout: 0.5, ..Augmentation::off() }.apply(&mut dropped, &mut rng);
    for s in 0..6 {
        for j in 0..2 {
            let col: Vec<f32> = (0..4).map(|t| dropped.x[s * 8 + t * 2 + j]).collect();
            let orig: Vec<f32> = (0..4).map(|t| base.x[s * 8 + t * 2 + j]).collect();
            assert!(col == orig || col == vec![0.0; 4], "a feature column is dropped whole");
        }
    }

    let mut noisy = host(64);
    let clean = noisy.clone();
    Augmentation { noise_std: 0.5, ..Augmentation::off() }.apply(&mut noisy, &mut rng);
    let d: Vec<f64> = noisy.x.iter().zip(&clean.x).map(|(a, b)| f64::from(a - b)).collect();
    let mean = d.iter().sum::<f64>() / d.len() as f64;
    let sd = (d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / d.len() as f64).sqrt();
    assert!(mean.abs() < 0.06 && (sd - 0.5).abs() < 0.05, "noise mean {mean} sd {sd}");
}

#[test]
fn presets_equal_seed_002() {
    let v = Preset::ProductionSmall.values();
    assert_eq!(
        (
            v.learning_rate,
            v.batch_size,
            v.weight_decay,
            v.epochs,
            v.dropout,
            v.focal_gamma,
            v.mixup_alpha,
            v.label_smoothing
        ),
        (Some(5e-5), Some(256), Some(0.01), Some(150), Some(0.4), Some(2.5), Some(0.2), Some(0.1))
    );
    let v = Preset::ProductionLarge.values();
    assert_eq!(
        (
            v.learning_rate,
            v.batch_size,
            v.weight_decay,
            v.epochs,
            v.dropout,
            v.focal_gamma,
            v.mixup_alpha,
            v.label_smoothing
        ),
        (Some(1e-4), Some(128), Some(0.005), Some(100), Some(0.3), Some(2.0), Some(0.1), Some(0.05))
    );
    let v = Preset::QuickExperiment.values();
    assert_eq!(
        (v.learning_rate, v.batch_size, v.epochs, v.use_augmentation, v.early_stopping_patience, v.dropout),
        (Some(1e-4), Some(128), Some(30), Some(false), Some(10), None)
    );
    let v = Preset::Conservative.values();
    assert_eq!(
        (v.learning_rate, v.batch_size, v.weight_decay, v.dropout, v.focal_gamma, v.label_smoothing, v.epochs),
        (Some(3e-5), Some(256), Some(0.02), Some(0.5), Some(3.0), Some(0.15), None)
    );
    // Resolution: base → preset → file → command line.
    let mut file = serde_json::Map::new();
    file.insert("preset".into(), serde_json::json!("conservative"));
    file.insert("epochs".into(), serde_json::json!(7));
    let mut cli = serde_json::Map::new();
    cli.insert("learning_rate".into(), serde_json::json!(1e-3));
    let c = TrainConfig::resolve(None, &[file.clone(), cli]).unwrap();
    assert_eq!(
        (c.preset, c.learning_rate, c.batch_size, c.weight_decay, c.epochs, c.dropout),
        (Some(Preset::Conservative), 1e-3, 256, 0.02, 7, Some(0.5))
    );
    assert_eq!(c.mixup_alpha, TrainConfig::default().mixup_alpha, "not set by the preset");
    let quick = TrainConfig::resolve(Some(Preset::QuickExperiment), &[]).unwrap();
    assert!(!quick.augmentation().mixup_alpha.is_nan() && quick.augmentation() == Augmentation::off());
    let mut bad = serde_json::Map::new();
    bad.insert("learning_rat".into(), serde_json::json!(1));
    assert!(TrainConfig::resolve(None, &[bad]).unwrap_err().to_string().contains("learning_rat"));
    let mut bad = serde_json::Map::new();
    bad.insert("label_smoothing".into(), serde_json::json!(1.5));
    assert!(TrainConfig::resolve(None, &[bad]).unwrap_err().to_string().contains("label_smoothing"));
    assert!("production_tiny".parse::<Preset>().is_err());
    // The preset's dropout reaches the model unless the model sets its own.
    let m = ModelSpec::of(ModelKind::CnnLstm).resolve(5, 3, 1, c.dropout).unwrap();
    assert!(matches!(m, vane_models::ModelConfig::CnnLstm(ref x) if x.dropout == 0.5));
    let m = ModelSpec { dropout: Some(0.1), ..ModelSpec::of(ModelKind::CnnLstm) }.resolve(5, 3, 1, c.dropout).unwrap();
    assert!(matches!(m, vane_models::ModelConfig::CnnLstm(ref x) if x.dropout == 0.1));
    let e = ModelSpec { d_model: Some(8), ..ModelSpec::of(ModelKind::Hrm) }.resolve(5, 3, 1, None).unwrap_err();
    assert!(e.to_string().contains("`d_model` does not apply to hrm"), "{e}");
    let e = ModelSpec { n_heads: Some(3), ..ModelSpec::of(ModelKind::Tft) }.resolve(5, 3, 1, None).unwrap_err();
    assert!(e.to_string().contains("must divide d_model"), "{e}");
}

#[test]
fn checklist_applies_seed_002_rules() {
    let cfg = TrainConfig::default();
    let good = EpochRecord {
        epoch: 3,
        train_loss: 0.60,
        val_loss: 0.70,
        train_accuracy: 0.6,
        val_accuracy: 0.56,
        val_macro_f1: 0.5,
        lr: 5e-5,
        best: true,
    };
    let inputs = ChecklistInputs { best: Some(&good), clean_train_loss: Some(0.60), data: None };
    let c = Checklist::evaluate(&cfg, &inputs);
    assert_eq!(c.items.len(), 8);
    assert!(c.passed, "{c:?}");
    let bad = EpochRecord { val_accuracy: 0.45, val_loss: 0.9, ..good.clone() };
    let inputs = ChecklistInputs { best: Some(&bad), ..inputs };
    let c = Checklist::evaluate(&TrainConfig { learning_rate: 1e-3, ..cfg }, &inputs);
    let failed: Vec<&str> = c.items.iter().filter(|i| !i.ok).map(|i| i.rule.as_str()).collect();
    assert_eq!(
        failed,
        vec!["learning rate ≤ 1e-4 (recommended 5e-5)", "validation accuracy > 50%", "train–val loss gap < 0.15"]
    );
}

#[test]
fn device_choices() {
    assert_eq!("cpu".parse::<DeviceKind>().unwrap(), DeviceKind::Cpu);
    assert!(DeviceKind::Cpu.device().is_ok());
    assert!("tpu".parse::<DeviceKind>().unwrap_err().to_string().contains("unknown device"));
    if !cfg!(feature = "wgpu") {
        let e = DeviceKind::Wgpu.device().unwrap_err().to_string();
        assert!(e.contains("--features wgpu"), "{e}");
    }
}

#[test]
fn dropout_masks_are_seeded_scaled_and_off_in_inference() {
    use burn::tensor::Tensor;
    use vane_models::nn::{DropoutConfig, DropoutRng};
    let d = DropoutConfig::new(0.25).init().unwrap();
    let plain = Device::flex();
    let x = Tensor::<2>::ones([100, 100], &plain);
    let seeded = d.forward(x.clone(), &mut DropoutRng::seeded(3));
    assert_eq!(seeded.into_data(), x.clone().into_data(), "identity outside training");
    let ad = plain.autodiff();
    let ones = Tensor::<2>::ones([100, 100], &ad);
    assert_eq!(d.forward(ones.clone(), &mut DropoutRng::off()).into_data(), ones.into_data(), "off: identity");
    let run = |seed| {
        let mut rng = DropoutRng::seeded(seed);
        d.forward(Tensor::<2>::ones([100, 100], &ad), &mut rng).into_data().try_to_vec::<f32>().unwrap()
    };
    let a = run(3);
    assert_eq!(a, run(3), "same seed, same mask");
    assert_ne!(a, run(4), "another seed, another mask");
    let zeros = a.iter().filter(|&&v| v == 0.0).count() as f64 / 1e4;
    assert!((zeros - 0.25).abs() < 0.02, "dropped share {zeros}");
    assert!(a.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6));
}
