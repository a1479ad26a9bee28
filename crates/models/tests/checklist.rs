//! Seed 002's checklist, strict: class weights are not oversampling, the gap uses the clean train
//! loss, only applicable items are listed, the target table is met / not met row by row, and the
//! data warnings fire.

use burn::tensor::Device;
use vane_models::data::{ClassWeighting, FeatureMatrix, Sample, Target, WindowedDataset};
use vane_models::train::{
    Checklist, ChecklistInputs, DataSummary, EpochRecord, Quiet, Task, TrainInputs, fit, loss_settings, predict,
};
use vane_models::{ModelKind, ModelSpec, TrainConfig};

fn record(train_loss: f64, val_loss: f64, val_accuracy: f64, val_macro_f1: f64) -> EpochRecord {
    EpochRecord {
        epoch: 7,
        train_loss,
        val_loss,
        train_accuracy: 0.6,
        val_accuracy,
        val_macro_f1,
        lr: 5e-5,
        best: true,
    }
}

fn item<'a>(c: &'a Checklist, rule: &str) -> Option<&'a vane_models::train::ChecklistItem> {
    c.items.iter().find(|i| i.rule.starts_with(rule))
}

#[test]
fn oversampling_alone_is_not_class_weights() {
    let best = record(0.6, 0.65, 0.56, 0.55);
    let inputs = ChecklistInputs { best: Some(&best), clean_train_loss: Some(0.6), data: None };
    let cfg = TrainConfig { oversample: true, class_weighting: ClassWeighting::None, ..TrainConfig::default() };
    let c = Checklist::evaluate(&cfg, &inputs);
    let cw = item(&c, "class weights on").unwrap();
    assert!(!cw.ok, "{cw:?}");
    assert!(cw.value.contains("oversampling"), "{cw:?}");
    assert!(!c.passed);
    // Class weights on (with or without oversampling) pass.
    let c = Checklist::evaluate(&TrainConfig { class_weighting: ClassWeighting::Sqrt, ..cfg }, &inputs);
    assert!(item(&c, "class weights on").unwrap().ok);
    assert!(c.passed, "{c:?}");
}

#[test]
fn the_gap_uses_the_clean_train_loss_never_the_augmented_one() {
    let cfg = TrainConfig::default(); // mixup on
    // The mixup-augmented train loss (1.20) is far above validation (0.70); the clean one (0.65)
    // is close: the gap is 0.05 and passes both the item (< 0.15) and the target (< 0.08).
    let best = record(1.20, 0.70, 0.56, 0.55);
    let c = Checklist::evaluate(&cfg, &ChecklistInputs { best: Some(&best), clean_train_loss: Some(0.65), data: None });
    assert!((c.losses.gap.unwrap() - 0.05).abs() < 1e-12, "{:?}", c.losses);
    assert_eq!(c.losses.augmented_train_loss, Some(1.20));
    assert_eq!(c.losses.clean_train_loss, Some(0.65));
    assert!(item(&c, "train–val loss gap").unwrap().ok);
    assert!(c.targets.iter().find(|t| t.metric == "train_val_gap").unwrap().met);
    // The other way round: the augmented loss (0.68) would give a gap of 0.02, the clean one
    // (0.30) gives 0.40: not passed.
    let best = record(0.68, 0.70, 0.56, 0.55);
    let c = Checklist::evaluate(&cfg, &ChecklistInputs { best: Some(&best), clean_train_loss: Some(0.30), data: None });
    assert!((c.losses.gap.unwrap() - 0.40).abs() < 1e-12);
    assert!(!item(&c, "train–val loss gap").unwrap().ok);
    assert!(!c.targets.iter().find(|t| t.metric == "train_val_gap").unwrap().met);
    // Without a clean train loss the gap is not measured and fails; it never falls back.
    let c = Checklist::evaluate(&cfg, &ChecklistInputs { best: Some(&best), clean_train_loss: None, data: None });
    let gap = item(&c, "train–val loss gap").unwrap();
    assert!(!gap.ok && gap.value.contains("not measured"), "{gap:?}");
    assert_eq!(c.losses.gap, None);
}

#[test]
fn target_table_is_met_or_not_met_row_by_row() {
    let cfg = TrainConfig::default();
    let row = |c: &Checklist, m: &str| {
        let t = c.targets.iter().find(|t| t.metric == m).unwrap().clone();
        (t.met, t.status)
    };
    // All inside: accuracy 0.58, F1 0.55, val loss 0.65, gap 0.05.
    let best = record(1.0, 0.65, 0.58, 0.55);
    let c = Checklist::evaluate(&cfg, &ChecklistInputs { best: Some(&best), clean_train_loss: Some(0.60), data: None });
    assert_eq!(c.targets.len(), 4);
    assert!(c.targets_met, "{:?}", c.targets);
    assert!(c.targets.iter().all(|t| t.met && t.value.is_some()));
    // Seed 001's "before" numbers: accuracy 0.3389, F1 0.325, val loss 1.219, gap 0.295.
    let best = record(0.9, 1.219, 0.3389, 0.325);
    let c =
        Checklist::evaluate(&cfg, &ChecklistInputs { best: Some(&best), clean_train_loss: Some(0.924), data: None });
    assert!(!c.targets_met);
    assert_eq!(row(&c, "accuracy"), (false, "below".into()));
    assert_eq!(row(&c, "macro_f1"), (false, "below".into()));
    assert_eq!(row(&c, "val_loss"), (false, "above".into()));
    assert_eq!(row(&c, "train_val_gap"), (false, "above".into()));
    // Boundaries: 0.55 and 0.62 are in the range; 0.7 is not < 0.7; above the range is not met.
    let best = record(0.0, 0.7, 0.62, 0.52);
    let c = Checklist::evaluate(&cfg, &ChecklistInputs { best: Some(&best), clean_train_loss: Some(0.65), data: None });
    assert_eq!(row(&c, "accuracy"), (true, "met".into()));
    assert_eq!(row(&c, "macro_f1"), (true, "met".into()));
    assert_eq!(row(&c, "val_loss"), (false, "above".into()));
    // Under focal loss the validation loss says what a uniform guess scores under it.
    let note = c.targets.iter().find(|t| t.metric == "val_loss").unwrap().note.clone().unwrap();
    assert!(note.contains("≥ 0.488"), "{note}");
    let best = record(0.0, 0.5, 0.85, 0.40);
    let c = Checklist::evaluate(&cfg, &ChecklistInputs { best: Some(&best), clean_train_loss: Some(0.5), data: None });
    assert_eq!(row(&c, "accuracy"), (false, "above".into()));
    // No best epoch: nothing is met by default.
    let c = Checklist::evaluate(&cfg, &ChecklistInputs::default());
    assert!(!c.targets_met && !c.passed);
    assert!(c.targets.iter().all(|t| !t.met && t.status == "not measured" && t.value.is_none()));
    // JSON carries each target with its value and met.
    let j = serde_json::to_value(&c).unwrap();
    assert_eq!(j["targets"][0]["metric"], "accuracy");
    assert_eq!(j["targets"][0]["met"], false);
    assert!(j["targets"][0]["value"].is_null());
}

#[test]
fn only_items_that_apply_are_listed() {
    let best = record(0.6, 0.65, 0.56, f64::NAN);
    let inputs = ChecklistInputs { best: Some(&best), clean_train_loss: Some(0.6), data: None };
    let c = Checklist::evaluate(&TrainConfig { task: Task::Regression, ..TrainConfig::default() }, &inputs);
    let rules: Vec<&str> = c.items.iter().map(|i| i.rule.as_str()).collect();
    assert_eq!(
        rules,
        vec![
            "learning rate ≤ 1e-4 (recommended 5e-5)",
            "batch size ≥ 128 (recommended 256)",
            "weight decay ≥ 0.001 (recommended 0.01)",
            "early stopping patience ≥ 15",
            "train–val loss gap < 0.15",
        ]
    );
    assert_eq!(c.not_applicable.len(), 3);
    assert!(c.targets.is_empty() && !c.targets_met, "the 3-class target table does not apply");
    let c = Checklist::evaluate(&TrainConfig::default(), &inputs);
    assert_eq!(c.items.len(), 8);
    assert!(c.not_applicable.is_empty());
}

#[test]
fn warnings_fire_on_five_days_and_on_85_percent_hold() {
    let cfg = TrainConfig::default();
    let five =
        DataSummary { days: 5.0, requested_days: None, label_counts: vec![30, 30, 40], percentile_labels: false };
    let c = Checklist::evaluate(&cfg, &ChecklistInputs { data: Some(&five), ..Default::default() });
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(c.warnings[0].contains("5.0 days") && c.warnings[0].contains("under 7 days"), "{:?}", c.warnings);
    assert_eq!(c.data.as_ref(), Some(&five));
    let hold =
        DataSummary { days: 30.0, requested_days: Some(30), label_counts: vec![8, 7, 85], percentile_labels: false };
    assert!((hold.hold_share() - 0.85).abs() < 1e-12);
    let c = Checklist::evaluate(&cfg, &ChecklistInputs { data: Some(&hold), ..Default::default() });
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    let w = &c.warnings[0];
    assert!(w.contains("HOLD is 85.0 %") && w.contains("vane label --kind percentile"), "{w}");
    assert!(w.contains("cannot train on them yet"), "{w}");
    let with = DataSummary { percentile_labels: true, ..hold.clone() };
    let c = Checklist::evaluate(&cfg, &ChecklistInputs { data: Some(&with), ..Default::default() });
    assert!(c.warnings[0].contains("data.label = \"percentile\""), "{:?}", c.warnings);
    // 80 % exactly and 30 days: no warning.
    let fine =
        DataSummary { days: 30.0, requested_days: Some(30), label_counts: vec![10, 10, 80], percentile_labels: false };
    assert!(
        Checklist::evaluate(&cfg, &ChecklistInputs { data: Some(&fine), ..Default::default() }).warnings.is_empty()
    );
}

/// A separable set: class = which of the three features has the largest mean over the window.
fn separable(n: usize, seq: usize) -> (FeatureMatrix, Vec<Sample>) {
    let mut m = FeatureMatrix::new(vec!["a".into(), "b".into(), "c".into()]).unwrap();
    let mut samples = Vec::new();
    let mut state = 99u64;
    let mut rnd = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 33) as f64 / (1u64 << 31) as f64) as f32 - 0.5
    };
    for i in 0..n {
        let class = i % 3;
        let values: Vec<f32> = (0..seq * 3).map(|k| rnd() + if k % 3 == class { 0.8 } else { 0.0 }).collect();
        let rows = m.push_segment(0, &values).unwrap();
        samples.push(Sample { end: rows.end - 1, target: Target { class, value: 0.0, weight: 1.0 } });
    }
    (m, samples)
}

#[test]
fn fit_reports_the_clean_train_loss_of_the_best_weights() {
    let (m, samples) = separable(24, 4);
    let ds = WindowedDataset::new(&m, 4, samples, Some(3)).unwrap();
    let mut o = serde_json::Map::new();
    for (k, v) in [
        ("epochs", serde_json::json!(3)),
        ("batch_size", serde_json::json!(8)),
        ("learning_rate", serde_json::json!(0.01)),
        ("mixup_alpha", serde_json::json!(1.0)),
        ("noise_std", serde_json::json!(0.5)),
    ] {
        o.insert(k.into(), v);
    }
    let cfg = TrainConfig::resolve(None, &[o]).unwrap();
    assert!(cfg.use_augmentation && cfg.mixup_alpha > 0.0);
    let spec = ModelSpec {
        hidden_low: Some(8),
        hidden_high: Some(8),
        high_period: Some(2),
        dropout: Some(0.3),
        ..ModelSpec::of(ModelKind::Hrm)
    };
    let mcfg = spec.resolve(3, 3, 1, None).unwrap();
    let dev = Device::flex();
    let inputs = TrainInputs {
        model: &mcfg,
        config: &cfg,
        train: &ds,
        valid: &ds,
        checkpoint_dir: None,
        resume: false,
        context: None,
    };
    let out = fit(&inputs, &dev, &mut Quiet).unwrap();
    let settings = loss_settings(&cfg, out.class_weights.clone());
    let clean = predict(&out.model, &mcfg, &ds, cfg.task, &settings, 256, &dev).loss;
    assert_eq!(out.clean_train_loss, clean);
    let best = out.history.iter().find(|r| r.epoch == out.best_epoch).unwrap();
    // The mixup/noise/dropout loss of the epoch differs from the clean one; the checklist uses
    // the clean one (train = validation rows here, so the gap is exactly 0).
    assert!((best.train_loss - clean).abs() > 1e-3, "augmented {} vs clean {clean}", best.train_loss);
    assert_eq!(out.checklist.losses.clean_train_loss, Some(clean));
    assert_eq!(out.checklist.losses.augmented_train_loss, Some(best.train_loss));
    assert!(out.checklist.losses.gap.unwrap().abs() < 1e-6, "{:?}", out.checklist.losses);
}
