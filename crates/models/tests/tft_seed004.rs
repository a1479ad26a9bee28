//! Seed 004's TFT: the sinusoidal positional encoding (hand values, shape, what it changes), the
//! config that sets it, the interpretation summary and the checklist per loss.

use burn::tensor::{Device, Int, Tensor, TensorData};
use vane_models::data::{FeatureMatrix, Sample, Target, WindowedDataset};
use vane_models::nn::DropoutRng;
use vane_models::tft::{
    InterpretableAttentionConfig, PositionalEncoding, TftConfig, interpret, sinusoidal, sinusoidal_table,
};
use vane_models::train::{Checklist, ChecklistInputs, Task};
use vane_models::{ModelConfig, ModelKind, ModelSpec, SequenceModel, TrainConfig};

fn dev() -> Device {
    Device::flex()
}

fn tensor3(v: &[f32], shape: [usize; 3]) -> Tensor<3> {
    Tensor::from_data(TensorData::new(v.to_vec(), shape), &dev())
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

/// A deterministic pseudo-random sequence in [-1, 1).
fn noise(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 33) as f64 / (1u64 << 31) as f64 * 2.0 - 1.0) as f32
        })
        .collect()
}

#[test]
fn sinusoidal_table_hand_values_and_shape() {
    let (t, d) = (3, 4);
    let pe = sinusoidal_table(t, d);
    assert_eq!(pe.len(), t * d);
    // Position 0: sin 0 = 0, cos 0 = 1.
    assert_eq!(&pe[0..4], &[0.0, 1.0, 0.0, 1.0]);
    // Position 1: frequencies 1 and 1/10000^(2/4) = 1/100.
    let want = [1f64.sin(), 1f64.cos(), 0.01f64.sin(), 0.01f64.cos()];
    for (j, w) in want.iter().enumerate() {
        assert!((f64::from(pe[4 + j]) - w).abs() < 1e-6, "PE[1, {j}] = {} ≠ {w}", pe[4 + j]);
    }
    // Position 2, column 2: sin(2 / 100).
    assert!((f64::from(pe[8 + 2]) - 0.02f64.sin()).abs() < 1e-6);
    // Odd width: the last column is a sine of its own pair.
    let odd = sinusoidal_table(2, 5);
    assert!((f64::from(odd[5 + 4]) - (1.0 / 10_000f64.powf(4.0 / 5.0)).sin()).abs() < 1e-6);
    let tensor = sinusoidal(t, d, &dev());
    assert_eq!(tensor.dims(), [t, d]);
    assert_eq!(to_vec(tensor), pe);
}

/// Without positions the attention is blind to the order of the keys: the last step's output is
/// unchanged when the earlier steps are permuted. With the sinusoidal encoding added it changes.
#[test]
fn positional_encoding_breaks_permutation_invariance_of_attention() {
    let (t, d) = (6, 8);
    let att = InterpretableAttentionConfig::new(d, 2, 0.0).init(&dev()).unwrap();
    let x = noise(t * d, 7);
    // Reverse steps 0..t-1, keep the last step in place.
    let mut perm = x.clone();
    for s in 0..t - 1 {
        perm[s * d..(s + 1) * d].copy_from_slice(&x[(t - 2 - s) * d..(t - 1 - s) * d]);
    }
    let last = |v: &[f32]| {
        let (out, _) = att.forward(tensor3(v, [1, t, d]), &mut DropoutRng::off());
        to_vec(out.narrow(1, t - 1, 1))
    };
    let diff = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(p, q)| (p - q).abs()).fold(0.0f32, f32::max);
    assert!(diff(&last(&x), &last(&perm)) < 1e-5, "no PE: the attention must be permutation-invariant");
    let pe = sinusoidal_table(t, d);
    let add = |v: &[f32]| v.iter().zip(&pe).map(|(a, b)| a + b).collect::<Vec<f32>>();
    let changed = diff(&last(&add(&x)), &last(&add(&perm)));
    assert!(changed > 1e-4, "with PE the permuted window must give another output (max diff {changed})");
}

fn tiny_tft(pe: Option<PositionalEncoding>, f: usize) -> TftConfig {
    let mut c = TftConfig::new(f).with_d_model(8).with_n_heads(2).with_dropout(0.0).with_n_classes(2);
    c.positional_encoding = pe;
    c
}

#[test]
fn tft_output_depends_on_the_encoding_and_the_step_order() {
    let (t, f) = (5, 3);
    let model = tiny_tft(Some(PositionalEncoding::Sinusoidal), f).init(&dev()).unwrap();
    assert!(model.positional);
    let x = noise(t * f, 11);
    let sym = || Tensor::<1, Int>::from_ints([0], &dev());
    let logits = |m: &vane_models::tft::Tft, v: &[f32]| {
        to_vec(m.forward(tensor3(v, [1, t, f]), sym(), &mut DropoutRng::off()).logits)
    };
    let with = logits(&model, &x);
    let mut off = model.clone();
    off.positional = false;
    let without = logits(&off, &x);
    assert!(with.iter().zip(&without).any(|(a, b)| (a - b).abs() > 1e-6), "PE on/off must change the logits");
    let mut rev = x.clone();
    for s in 0..t {
        rev[s * f..(s + 1) * f].copy_from_slice(&x[(t - 1 - s) * f..(t - s) * f]);
    }
    assert!(with.iter().zip(logits(&model, &rev)).any(|(a, b)| (a - b).abs() > 1e-6));
    // Shapes: 2 classes, 3 quantiles, VSN weights [1, t, f].
    let out = model.forward(tensor3(&x, [1, t, f]), sym(), &mut DropoutRng::off());
    assert_eq!(out.logits.dims(), [1, 2]);
    assert_eq!(out.value.dims(), [1, 3]);
    let v = model.variable_selection_weights(tensor3(&x, [1, t, f]), sym());
    assert_eq!(v.dims(), [1, t, f]);
    for row in to_vec(v).chunks(f) {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
}

#[test]
fn config_defaults_old_configs_and_the_model_table() {
    let c = TftConfig::new(4);
    assert_eq!((c.d_model, c.n_heads, c.dropout), (128, 8, 0.2), "seed 004's defaults");
    assert_eq!(c.positional_encoding, Some(PositionalEncoding::Sinusoidal));
    // A config saved before the field existed loads without positional encoding.
    let mut json = serde_json::to_value(&c).unwrap();
    json.as_object_mut().unwrap().remove("positional_encoding");
    let old: TftConfig = serde_json::from_value(json).unwrap();
    assert_eq!(old.positional_encoding, None);
    assert!(!old.init(&dev()).unwrap().positional);
    // The [model] table sets it, and only for the TFT.
    let spec: ModelSpec = serde_json::from_value(serde_json::json!({
        "kind": "tft", "d_model": 16, "n_heads": 2, "positional_encoding": "none"
    }))
    .unwrap();
    let ModelConfig::Tft(r) = spec.resolve(5, 2, 2, None).unwrap() else { panic!("a TFT") };
    assert_eq!((r.d_model, r.n_heads, r.n_classes, r.n_symbols), (16, 2, 2, 2));
    assert_eq!(r.positional_encoding, Some(PositionalEncoding::None));
    let hrm = ModelSpec { positional_encoding: Some(PositionalEncoding::Sinusoidal), ..ModelSpec::of(ModelKind::Hrm) };
    let e = hrm.resolve(5, 3, 1, None).unwrap_err().to_string();
    assert!(e.contains("positional_encoding"), "{e}");
}

#[test]
fn interpretation_weights_sum_to_one_and_are_named_by_column() {
    let (t, f) = (4, 3);
    let cols: Vec<String> = ["rsi_14", "atr_14", "obv"].iter().map(|s| s.to_string()).collect();
    let mut m = FeatureMatrix::new(cols.clone()).unwrap();
    let rows = 12;
    m.push_segment(0, &noise(rows * f, 3)).unwrap();
    let samples: Vec<Sample> =
        (t - 1..rows).map(|end| Sample { end, target: Target { class: end % 2, value: 0.0, weight: 1.0 } }).collect();
    let ds = WindowedDataset::new(&m, t, samples, Some(2)).unwrap();
    let model = SequenceModel::Tft(tiny_tft(Some(PositionalEncoding::Sinusoidal), f).init(&dev()).unwrap());
    let i = interpret(&model, &ds, &cols, 2, &dev()).expect("a TFT interpretation");
    assert_eq!(i.windows, ds.len());
    let mut names: Vec<&str> = i.variable_selection.iter().map(|w| w.feature.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["atr_14", "obv", "rsi_14"]);
    let total: f64 = i.variable_selection.iter().map(|w| w.weight).sum();
    assert!((total - 1.0).abs() < 1e-5, "selection weights sum to {total}");
    assert!((i.window_weight_sum_range.0 - 1.0).abs() < 1e-5 && (i.window_weight_sum_range.1 - 1.0).abs() < 1e-5);
    assert!(i.variable_selection.windows(2).all(|w| w[0].weight >= w[1].weight), "largest first");
    assert_eq!(i.attention_by_lag.len(), t);
    assert!((i.attention_by_lag.iter().sum::<f64>() - 1.0).abs() < 1e-5);
    assert_eq!(i.weights_by_column(&cols).len(), f);
    // Not a TFT, or columns that do not match: no interpretation.
    assert!(interpret(&model, &ds, &cols[..2], 2, &dev()).is_none());
}

#[test]
fn checklist_lists_only_the_items_of_the_loss_in_use() {
    let regression = TrainConfig { task: Task::Regression, ..TrainConfig::default() };
    let c = Checklist::evaluate(&regression, &ChecklistInputs::default());
    let rules: Vec<&str> = c.items.iter().map(|i| i.rule.as_str()).collect();
    assert!(!rules.iter().any(|r| r.contains("focal")), "MSE/pinball loss: no focal item, got {rules:?}");
    assert!(!rules.iter().any(|r| r.contains("class weights") || r.contains("accuracy")), "{rules:?}");
    let skipped: Vec<&str> = c.not_applicable.iter().map(|n| n.rule.as_str()).collect();
    assert!(skipped.iter().any(|r| r.contains("focal")), "{skipped:?}");
    assert!(c.targets.is_empty() && !c.targets_met, "seed 002's class targets do not apply to regression");
    let classification = TrainConfig::default();
    let c = Checklist::evaluate(&classification, &ChecklistInputs::default());
    let focal = c.items.iter().find(|i| i.rule.contains("focal")).expect("classification lists focal loss");
    assert!(focal.ok, "γ = 2 by default");
    assert!(c.not_applicable.is_empty());
    let ce = TrainConfig { focal_gamma: 0.0, ..TrainConfig::default() };
    let c = Checklist::evaluate(&ce, &ChecklistInputs::default());
    assert!(!c.items.iter().find(|i| i.rule.contains("focal")).unwrap().ok, "cross-entropy: focal loss is off");
}
