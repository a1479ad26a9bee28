//! The trainer (seed 002's `model_trainer_v2`): AdamW with weight decay, cosine or
//! reduce-on-plateau learning rate, gradient clipping, early stopping on validation loss with
//! patience, best-checkpoint saving and resume, deterministic seeds; per-epoch history and seed
//! 002's pre-production checklist.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::Device;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::augment::Augmentation;
use crate::data::{ClassWeighting, SeqBatch, SeqBatcher, WindowedDataset, class_weights, oversample};
use crate::error::{ModelError, Result, config_err};
use crate::loss::{LossSettings, classification_loss, confidence_loss, pinball, value_mse};
use crate::model::{ModelConfig, ModelOutput, SequenceModel};
use crate::presets::Preset;

/// Classification on class labels or regression on a value (e.g. seed 004's expected return).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// k-class classification.
    #[default]
    Classification,
    /// Regression (MSE, or pinball for the TFT's quantiles).
    Regression,
}

/// Learning-rate schedule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheduler {
    /// Cosine annealing per step from `learning_rate` to `min_lr` over all epochs.
    #[default]
    Cosine,
    /// Multiply by `plateau_factor` after `plateau_patience` epochs without a better validation
    /// loss, not below `min_lr`.
    ReduceOnPlateau,
    /// Constant.
    Constant,
}

/// Every training setting, resolved (base defaults → preset → file → command line).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// The preset applied (for the record).
    pub preset: Option<Preset>,
    /// Classification or regression.
    pub task: Task,
    /// Peak learning rate (seed 002: 5e-5).
    pub learning_rate: f64,
    /// Mini-batch size (seed 002: 256).
    pub batch_size: usize,
    /// AdamW decoupled weight decay (seed 002: 0.01).
    pub weight_decay: f64,
    /// Maximum epochs.
    pub epochs: usize,
    /// Model dropout; `None` keeps the model's default.
    pub dropout: Option<f64>,
    /// Focal γ (0 = cross-entropy).
    pub focal_gamma: f64,
    /// Label smoothing ε.
    pub label_smoothing: f64,
    /// Mixup α (0 = off).
    pub mixup_alpha: f64,
    /// Augmentation on/off (mixup, time mask, noise, feature dropout).
    pub use_augmentation: bool,
    /// Probability of a time mask per sample.
    pub time_mask_prob: f64,
    /// Longest time mask, fraction of the window.
    pub time_mask_max: f64,
    /// Gaussian noise σ (seed 002: 0.01).
    pub noise_std: f64,
    /// Feature-dropout probability.
    pub feature_dropout: f64,
    /// Stop after this many epochs without a better validation loss.
    pub early_stopping_patience: usize,
    /// Smallest improvement that counts.
    pub min_delta: f64,
    /// Gradient clipping by norm, per parameter tensor (0 = off).
    pub grad_clip_norm: f64,
    /// LR schedule.
    pub scheduler: Scheduler,
    /// LR floor.
    pub min_lr: f64,
    /// Reduce-on-plateau factor.
    pub plateau_factor: f64,
    /// Reduce-on-plateau patience (epochs).
    pub plateau_patience: usize,
    /// Class weighting.
    pub class_weighting: ClassWeighting,
    /// Randomly oversample minority classes of the training set.
    pub oversample: bool,
    /// Directional-accuracy penalty λ.
    pub direction_penalty: f64,
    /// Multitask: confidence-head weight (models with one).
    pub confidence_weight: f64,
    /// Multitask: return-head weight in classification.
    pub value_weight: f64,
    /// Regression targets are multiplied by this (returns ~1e-2 → percent).
    pub value_scale: f64,
    /// Seed of initialisation, shuffling, dropout and augmentation.
    pub seed: u64,
}

impl Default for TrainConfig {
    /// Seed 002's `TrainerConfig` after its three critical changes (lr 5e-5, batch 256,
    /// weight decay 0.01), focal loss on, balanced class weights, patience 20.
    fn default() -> Self {
        Self {
            preset: None,
            task: Task::Classification,
            learning_rate: 5e-5,
            batch_size: 256,
            weight_decay: 0.01,
            epochs: 100,
            dropout: None,
            focal_gamma: 2.0,
            label_smoothing: 0.1,
            mixup_alpha: 0.2,
            use_augmentation: true,
            time_mask_prob: 0.2,
            time_mask_max: 0.1,
            noise_std: 0.01,
            feature_dropout: 0.05,
            early_stopping_patience: 20,
            min_delta: 1e-4,
            grad_clip_norm: 1.0,
            scheduler: Scheduler::Cosine,
            min_lr: 1e-6,
            plateau_factor: 0.5,
            plateau_patience: 5,
            class_weighting: ClassWeighting::Balanced,
            oversample: false,
            direction_penalty: 0.1,
            confidence_weight: 0.2,
            value_weight: 0.5,
            value_scale: 100.0,
            seed: 42,
        }
    }
}

fn merge(into: &mut Map<String, Value>, from: &Map<String, Value>) {
    for (k, v) in from {
        into.insert(k.clone(), v.clone());
    }
}

impl TrainConfig {
    /// Base defaults, then the preset (`overrides["preset"]` if `preset` is `None`), then the
    /// overrides (a config file's `[train]` table, then command-line `key=value`s, in order).
    /// Unknown keys are errors.
    pub fn resolve(preset: Option<Preset>, overrides: &[Map<String, Value>]) -> Result<Self> {
        let mut preset = preset;
        for o in overrides {
            if let Some(p) = o.get("preset") {
                let name = p.as_str().ok_or_else(|| ModelError::Config("preset must be a string".into()))?;
                preset = Some(name.parse()?);
            }
        }
        let mut map = match serde_json::to_value(Self::default()) {
            Ok(Value::Object(m)) => m,
            _ => unreachable!("TrainConfig serialises to an object"),
        };
        if let Some(p) = preset {
            let values = serde_json::to_value(p.values()).expect("preset serialises");
            if let Value::Object(v) = values {
                for (k, val) in v {
                    if !val.is_null() {
                        map.insert(k, val);
                    }
                }
            }
            map.insert("preset".into(), Value::String(p.as_str().into()));
        }
        for o in overrides {
            let mut o = o.clone();
            o.remove("preset");
            merge(&mut map, &o);
        }
        let cfg: Self =
            serde_json::from_value(Value::Object(map)).map_err(|e| ModelError::Config(format!("[train]: {e}")))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Range checks; the message names the field.
    pub fn validate(&self) -> Result<()> {
        let positive = |n: &str, v: f64| {
            if v > 0.0 && v.is_finite() { Ok(()) } else { config_err(format!("{n} must be > 0, got {v}")) }
        };
        let unit = |n: &str, v: f64| {
            if (0.0..1.0).contains(&v) { Ok(()) } else { config_err(format!("{n} must be in [0, 1), got {v}")) }
        };
        let nonneg = |n: &str, v: f64| {
            if v >= 0.0 && v.is_finite() { Ok(()) } else { config_err(format!("{n} must be ≥ 0, got {v}")) }
        };
        positive("learning_rate", self.learning_rate)?;
        nonneg("weight_decay", self.weight_decay)?;
        nonneg("focal_gamma", self.focal_gamma)?;
        unit("label_smoothing", self.label_smoothing)?;
        nonneg("mixup_alpha", self.mixup_alpha)?;
        unit("time_mask_prob", self.time_mask_prob)?;
        unit("feature_dropout", self.feature_dropout)?;
        nonneg("noise_std", self.noise_std)?;
        nonneg("grad_clip_norm", self.grad_clip_norm)?;
        nonneg("min_lr", self.min_lr)?;
        positive("value_scale", self.value_scale)?;
        if let Some(d) = self.dropout {
            unit("dropout", d)?;
        }
        if self.batch_size == 0 || self.epochs == 0 {
            return config_err("batch_size and epochs must be ≥ 1");
        }
        if !(self.plateau_factor > 0.0 && self.plateau_factor < 1.0) {
            return config_err(format!("plateau_factor must be in (0, 1), got {}", self.plateau_factor));
        }
        Ok(())
    }

    /// The augmentation in force (off unless `use_augmentation`).
    pub fn augmentation(&self) -> Augmentation {
        if !self.use_augmentation {
            return Augmentation::off();
        }
        Augmentation {
            mixup_alpha: self.mixup_alpha,
            time_mask_prob: self.time_mask_prob,
            time_mask_max: self.time_mask_max,
            noise_std: self.noise_std,
            feature_dropout: self.feature_dropout,
        }
    }

    fn lr_at(&self, epoch: usize, step: usize, steps_per_epoch: usize, plateau_lr: f64) -> f64 {
        match self.scheduler {
            Scheduler::Constant => self.learning_rate,
            Scheduler::ReduceOnPlateau => plateau_lr,
            Scheduler::Cosine => {
                let total = (self.epochs * steps_per_epoch).max(1) as f64;
                let done = (epoch * steps_per_epoch + step) as f64;
                self.min_lr
                    + 0.5 * (self.learning_rate - self.min_lr) * (1.0 + (std::f64::consts::PI * done / total).cos())
            }
        }
    }
}

/// One epoch of history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss (augmented batches).
    pub train_loss: f64,
    /// Validation loss (no augmentation).
    pub val_loss: f64,
    /// Training accuracy against the un-mixed classes (classification).
    pub train_accuracy: f64,
    /// Validation accuracy (classification; direction accuracy for regression).
    pub val_accuracy: f64,
    /// Validation macro-F1 (classification).
    pub val_macro_f1: f64,
    /// Learning rate at the epoch's end.
    pub lr: f64,
    /// Whether this epoch's weights became the best checkpoint.
    pub best: bool,
}

/// Receives progress; every method has an empty default.
pub trait TrainObserver {
    /// Before the first epoch.
    fn on_start(&mut self, _epochs: usize, _batches_per_epoch: usize) {}
    /// After each training batch.
    fn on_batch(&mut self, _epoch: usize, _batch: usize, _loss: f64) {}
    /// After each epoch.
    fn on_epoch(&mut self, _record: &EpochRecord) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default)]
pub struct Quiet;
impl TrainObserver for Quiet {}

/// Model outputs over a dataset.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Predictions {
    /// Class probabilities per sample.
    pub probs: Vec<Vec<f32>>,
    /// Regression outputs per sample (already divided back by `value_scale`).
    pub values: Vec<Vec<f32>>,
    /// Confidence-head output per sample, where the model has one.
    pub confidence: Vec<f32>,
    /// Mean loss (the training loss without augmentation).
    pub loss: f64,
}

impl Predictions {
    /// Argmax class per sample.
    pub fn classes(&self) -> Vec<usize> {
        self.probs.iter().map(|p| p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |m| m.0)).collect()
    }
}

/// Seed 002's pre-production checklist.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checklist {
    /// Each item: what is checked, the value found, pass/fail.
    pub items: Vec<ChecklistItem>,
    /// All passed.
    pub passed: bool,
}

/// One checklist line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChecklistItem {
    /// The rule, as seed 002 words it.
    pub rule: String,
    /// The value found.
    pub value: String,
    /// Whether the rule holds.
    pub ok: bool,
}

impl Checklist {
    /// Evaluates the eight rules on the config and the best epoch.
    pub fn evaluate(cfg: &TrainConfig, best: Option<&EpochRecord>) -> Self {
        let mut items = Vec::new();
        let mut add = |rule: &str, value: String, ok: bool| items.push(ChecklistItem { rule: rule.into(), value, ok });
        add("learning rate ≤ 1e-4 (recommended 5e-5)", format!("{:e}", cfg.learning_rate), cfg.learning_rate <= 1e-4);
        add("batch size ≥ 128 (recommended 256)", cfg.batch_size.to_string(), cfg.batch_size >= 128);
        add("weight decay ≥ 0.001 (recommended 0.01)", cfg.weight_decay.to_string(), cfg.weight_decay >= 0.001);
        add("focal loss on (γ ≥ 2.0)", cfg.focal_gamma.to_string(), cfg.focal_gamma >= 2.0);
        add(
            "class weights on",
            format!("{:?}", cfg.class_weighting),
            cfg.class_weighting != ClassWeighting::None || cfg.oversample,
        );
        add("early stopping patience ≥ 15", cfg.early_stopping_patience.to_string(), cfg.early_stopping_patience >= 15);
        let (acc, gap) = best.map_or((f64::NAN, f64::NAN), |b| (b.val_accuracy, b.val_loss - b.train_loss));
        add("validation accuracy > 50%", format!("{:.4}", acc), acc > 0.5);
        add("train–val loss gap < 0.15", format!("{:.4}", gap), gap.abs() < 0.15);
        let passed = items.iter().all(|i| i.ok);
        Self { items, passed }
    }
}

/// What training returns.
#[derive(Debug)]
pub struct TrainOutcome {
    /// The best model (by validation loss), in inference mode on the plain device.
    pub model: SequenceModel,
    /// Per-epoch history.
    pub history: Vec<EpochRecord>,
    /// 1-based best epoch.
    pub best_epoch: usize,
    /// Stopped before `epochs` by early stopping.
    pub stopped_early: bool,
    /// Seed 002's checklist on the best epoch.
    pub checklist: Checklist,
    /// Class weights used.
    pub class_weights: Vec<f32>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct ResumeState {
    config: Value,
    epochs_done: usize,
    best_val: f64,
    best_epoch: usize,
    bad_epochs: usize,
    plateau_lr: f64,
    plateau_bad: usize,
    history: Vec<EpochRecord>,
}

/// Training inputs.
#[derive(Debug)]
pub struct TrainInputs<'a, 'b> {
    /// The network.
    pub model: &'a ModelConfig,
    /// The settings.
    pub config: &'a TrainConfig,
    /// Training windows.
    pub train: &'a WindowedDataset<'b>,
    /// Validation windows (early stopping and the checklist).
    pub valid: &'a WindowedDataset<'b>,
    /// Where the per-epoch checkpoint and the best weights go; `None` keeps everything in memory.
    pub checkpoint_dir: Option<&'a Path>,
    /// Continue from the checkpoint in `checkpoint_dir` if one exists.
    pub resume: bool,
}

/// Loss of one batch under the task and settings.
pub fn batch_loss(
    out: &ModelOutput,
    batch: &SeqBatch,
    task: Task,
    quantiles: Option<&[f64]>,
    s: &LossSettings,
) -> burn::tensor::Tensor<1> {
    match task {
        Task::Regression => match quantiles {
            Some(q) => pinball(out.value.clone(), batch.value.clone(), batch.weight.clone(), q, s.value_scale),
            None => value_mse(out.value.clone(), batch.value.clone(), batch.weight.clone(), s.value_scale),
        },
        Task::Classification => {
            let mut loss = classification_loss(out.logits.clone(), batch.target.clone(), batch.weight.clone(), s);
            if let Some(conf) = &out.confidence
                && s.confidence_weight > 0.0
            {
                loss = loss
                    + confidence_loss(conf.clone(), out.logits.clone(), batch.class.clone(), batch.weight.clone())
                        .mul_scalar(s.confidence_weight);
            }
            if s.value_weight > 0.0 && out.confidence.is_some() {
                loss = loss
                    + value_mse(out.value.clone(), batch.value.clone(), batch.weight.clone(), s.value_scale)
                        .mul_scalar(s.value_weight);
            }
            loss
        }
    }
}

fn scalar(t: burn::tensor::Tensor<1>) -> f64 {
    t.into_scalar::<f32>() as f64
}

/// Runs `model` over `ds` in batches of `batch_size` (no augmentation, no dropout).
pub fn predict(
    model: &SequenceModel,
    model_cfg: &ModelConfig,
    ds: &WindowedDataset<'_>,
    task: Task,
    settings: &LossSettings,
    batch_size: usize,
    device: &Device,
) -> Predictions {
    let k = model_cfg.n_classes();
    let batcher = SeqBatcher { seq_len: ds.seq_len(), n_features: ds.n_features(), n_classes: k };
    let mut out = Predictions::default();
    let mut loss_sum = 0.0;
    let mut weight_sum = 0.0;
    let idx: Vec<usize> = (0..ds.len()).collect();
    for chunk in idx.chunks(batch_size.max(1)) {
        let items: Vec<_> = chunk.iter().map(|&i| ds.get(i)).collect();
        let host = batcher.host(&items);
        let w: f64 = host.weight.iter().map(|&v| f64::from(v)).sum();
        let batch = host.to_device(device);
        let o = model.forward(batch.x.clone(), batch.symbol.clone());
        let l = scalar(batch_loss(&o, &batch, task, model_cfg.quantiles(), settings));
        loss_sum += l * w;
        weight_sum += w;
        let probs = burn::tensor::activation::softmax(o.logits, 1).into_data();
        let probs = probs.try_to_vec::<f32>().expect("f32 probabilities");
        out.probs.extend(probs.chunks(k).map(<[f32]>::to_vec));
        let nv = model_cfg.n_values();
        let vals = o.value.into_data().try_to_vec::<f32>().expect("f32 values");
        out.values.extend(vals.chunks(nv).map(|c| c.iter().map(|v| v / settings.value_scale as f32).collect()));
        if let Some(c) = o.confidence {
            out.confidence.extend(c.into_data().try_to_vec::<f32>().expect("f32 confidence"));
        }
    }
    out.loss = if weight_sum > 0.0 { loss_sum / weight_sum } else { f64::NAN };
    out
}

/// The loss settings implied by a training config and class weights.
pub fn loss_settings(cfg: &TrainConfig, class_weights: Vec<f32>) -> LossSettings {
    LossSettings {
        focal_gamma: cfg.focal_gamma,
        label_smoothing: cfg.label_smoothing,
        class_weights,
        direction_penalty: cfg.direction_penalty,
        confidence_weight: cfg.confidence_weight,
        value_weight: cfg.value_weight,
        value_scale: cfg.value_scale,
    }
}

fn scores(task: Task, ds: &WindowedDataset<'_>, p: &Predictions) -> (f64, f64) {
    let n = ds.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    match task {
        Task::Classification => {
            let y: Vec<usize> = ds.samples().iter().map(|s| s.target.class).collect();
            let pred = p.classes();
            let acc = vane_validation::metrics::accuracy(&y, &pred).unwrap_or(f64::NAN);
            let f1 = vane_validation::metrics::macro_f1(&y, &pred).unwrap_or(f64::NAN);
            (acc, f1)
        }
        Task::Regression => {
            let mid = |v: &Vec<f32>| f64::from(v[v.len() / 2]);
            let y: Vec<f64> = ds.samples().iter().map(|s| f64::from(s.target.value)).collect();
            let pred: Vec<f64> = p.values.iter().map(mid).collect();
            (vane_validation::metrics::direction_accuracy(&y, &pred).unwrap_or(f64::NAN), f64::NAN)
        }
    }
}

/// Trains `inputs.model` and returns the best model by validation loss.
pub fn fit(inputs: &TrainInputs<'_, '_>, device: &Device, observer: &mut dyn TrainObserver) -> Result<TrainOutcome> {
    let cfg = inputs.config;
    let mcfg = inputs.model;
    cfg.validate()?;
    mcfg.validate()?;
    let (train, valid) = (inputs.train, inputs.valid);
    if train.is_empty() || valid.is_empty() {
        return Err(ModelError::Data(format!(
            "training needs samples in both splits (train {}, validation {})",
            train.len(),
            valid.len()
        )));
    }
    if train.n_features() != mcfg.n_features() {
        return config_err(format!("model expects {} features, data has {}", mcfg.n_features(), train.n_features()));
    }
    let k = mcfg.n_classes();
    let cw = match cfg.task {
        Task::Classification => class_weights(&train.class_counts(k), cfg.class_weighting)?,
        Task::Regression => Vec::new(),
    };
    let settings = loss_settings(cfg, cw.clone());
    let aug = cfg.augmentation();
    let batcher = SeqBatcher { seq_len: train.seq_len(), n_features: train.n_features(), n_classes: k };
    let classes: Vec<usize> = train.samples().iter().map(|s| s.target.class).collect();
    let base_order: Vec<usize> = if cfg.oversample && cfg.task == Task::Classification {
        oversample(&classes, k, cfg.seed)
    } else {
        (0..train.len()).collect()
    };
    let steps_per_epoch = base_order.len().div_ceil(cfg.batch_size);

    let ad = device.clone().autodiff();
    device.seed(cfg.seed);
    let mut model = mcfg.init(&ad);
    let mut clip = AdamWConfig::new().with_weight_decay(cfg.weight_decay as f32).with_epsilon(1e-8);
    if cfg.grad_clip_norm > 0.0 {
        clip = clip.with_grad_clipping(Some(GradientClippingConfig::Norm(cfg.grad_clip_norm as f32)));
    }
    let mut optim = clip.init();
    let config_value = serde_json::json!({ "model": mcfg, "train": cfg });

    let mut state = ResumeState {
        config: config_value.clone(),
        epochs_done: 0,
        best_val: f64::INFINITY,
        best_epoch: 0,
        bad_epochs: 0,
        plateau_lr: cfg.learning_rate,
        plateau_bad: 0,
        history: Vec::new(),
    };
    let ckpt = inputs.checkpoint_dir.map(Path::to_path_buf);
    if let Some(dir) = &ckpt {
        std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
        let state_path = dir.join("state.json");
        if inputs.resume && state_path.exists() {
            let text = std::fs::read_to_string(&state_path).map_err(|e| ModelError::io(&state_path, e))?;
            let saved: ResumeState = serde_json::from_str(&text)
                .map_err(|e| ModelError::Json { path: state_path.display().to_string(), source: e })?;
            if saved.config != config_value {
                return config_err(format!(
                    "{} was written by a different model/training config; use the same config or remove the checkpoint",
                    state_path.display()
                ));
            }
            let mpath = dir.join("last.bpk");
            model = model.try_load_file(&mpath).map_err(|e| ModelError::weights(&mpath, e))?;
            let opath = dir.join("optimizer.bpk");
            optim = optim.load(&opath).map_err(|e| ModelError::weights(&opath, e))?;
            state = saved;
        }
    }
    let mut best_model: Option<SequenceModel> = None;
    observer.on_start(cfg.epochs, steps_per_epoch);
    let mut stopped_early = false;
    let mut epoch = state.epochs_done;
    while epoch < cfg.epochs {
        if state.bad_epochs >= cfg.early_stopping_patience {
            stopped_early = true;
            break;
        }
        let epoch_seed = cfg.seed.wrapping_add(1 + epoch as u64);
        device.seed(epoch_seed);
        crate::nn::seed_dropout(epoch_seed);
        let mut rng = StdRng::seed_from_u64(epoch_seed);
        let mut order = base_order.clone();
        order.shuffle(&mut rng);
        let (mut loss_sum, mut n_sum, mut correct) = (0.0, 0usize, 0usize);
        let mut lr = cfg.lr_at(epoch, 0, steps_per_epoch, state.plateau_lr);
        for (bi, chunk) in order.chunks(cfg.batch_size).enumerate() {
            let items: Vec<_> = chunk.iter().map(|&i| train.get(i)).collect();
            let mut host = batcher.host(&items);
            aug.apply(&mut host, &mut rng);
            let batch = host.to_device(&ad);
            let out = model.forward(batch.x.clone(), batch.symbol.clone());
            let loss = batch_loss(&out, &batch, cfg.task, mcfg.quantiles(), &settings);
            let pred = out.logits.clone().argmax(1).reshape([chunk.len()]);
            let hits = pred.equal(batch.class.clone()).int().sum().into_scalar::<i64>();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let l = scalar(loss.detach());
            if !l.is_finite() {
                return Err(ModelError::Diverged(format!("epoch {} batch {}: loss {l}", epoch + 1, bi + 1)));
            }
            lr = cfg.lr_at(epoch, bi, steps_per_epoch, state.plateau_lr);
            model = optim.step(lr, model, grads);
            loss_sum += l * chunk.len() as f64;
            n_sum += chunk.len();
            correct += hits as usize;
            observer.on_batch(epoch + 1, bi + 1, l);
        }
        let inference = model.valid();
        let vp = predict(&inference, mcfg, valid, cfg.task, &settings, cfg.batch_size.max(256), device);
        let (val_accuracy, val_macro_f1) = scores(cfg.task, valid, &vp);
        let improved = vp.loss < state.best_val - cfg.min_delta;
        if improved {
            state.best_val = vp.loss;
            state.best_epoch = epoch + 1;
            state.bad_epochs = 0;
            state.plateau_bad = 0;
            if let Some(dir) = &ckpt {
                let p = dir.join("best.bpk");
                inference.clone().save_file(&p).map_err(|e| ModelError::weights(&p, e))?;
            }
            best_model = Some(inference);
        } else {
            state.bad_epochs += 1;
            state.plateau_bad += 1;
            if cfg.scheduler == Scheduler::ReduceOnPlateau && state.plateau_bad >= cfg.plateau_patience {
                state.plateau_lr = (state.plateau_lr * cfg.plateau_factor).max(cfg.min_lr);
                state.plateau_bad = 0;
            }
        }
        let record = EpochRecord {
            epoch: epoch + 1,
            train_loss: loss_sum / n_sum.max(1) as f64,
            val_loss: vp.loss,
            train_accuracy: correct as f64 / n_sum.max(1) as f64,
            val_accuracy,
            val_macro_f1,
            lr,
            best: improved,
        };
        observer.on_epoch(&record);
        state.history.push(record);
        epoch += 1;
        state.epochs_done = epoch;
        if let Some(dir) = &ckpt {
            save_checkpoint(dir, &model, &optim, &state)?;
        }
    }
    if state.bad_epochs >= cfg.early_stopping_patience && epoch < cfg.epochs {
        stopped_early = true;
    }
    let best = match best_model {
        Some(m) => m,
        None => {
            // Resumed after the best epoch: reload it from the checkpoint.
            let dir = ckpt.clone().ok_or_else(|| ModelError::Data("no epoch was trained".into()))?;
            let p = dir.join("best.bpk");
            mcfg.init(device).try_load_file(&p).map_err(|e| ModelError::weights(&p, e))?
        }
    };
    let best_record = state.history.iter().find(|r| r.epoch == state.best_epoch);
    let checklist = Checklist::evaluate(cfg, best_record);
    Ok(TrainOutcome {
        model: best,
        best_epoch: state.best_epoch,
        stopped_early,
        checklist,
        class_weights: cw,
        history: state.history,
    })
}

fn save_checkpoint(
    dir: &Path,
    model: &SequenceModel,
    optim: &burn::optim::ModuleOptimizer,
    state: &ResumeState,
) -> Result<()> {
    let mpath = dir.join("last.bpk");
    model.clone().save_file(&mpath).map_err(|e| ModelError::weights(&mpath, e))?;
    let opath = dir.join("optimizer.bpk");
    optim.save(&opath).map_err(|e| ModelError::weights(&opath, e))?;
    let spath: PathBuf = dir.join("state.json");
    let tmp = dir.join("state.json.tmp");
    let text = serde_json::to_string_pretty(state).expect("state serialises");
    std::fs::write(&tmp, text).map_err(|e| ModelError::io(&tmp, e))?;
    std::fs::rename(&tmp, &spath).map_err(|e| ModelError::io(&spath, e))
}
