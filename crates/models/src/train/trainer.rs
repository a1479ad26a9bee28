//! The training loop ([`fit`]), batch losses, prediction over a dataset, and the progress
//! observer.

use std::path::Path;

use burn::module::Module;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::Device;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::artifact::FORMAT_VERSION;
use crate::data::{SeqBatch, SeqBatcher, WindowedDataset, class_weights, oversample};
use crate::error::{ModelError, Result, config_err};
use crate::loss::{LossSettings, classification_loss, confidence_loss, effective_weight_sum, pinball, value_mse};
use crate::model::{ModelConfig, SequenceModel};
use crate::nn::DropoutRng;
use crate::output::ModelOutput;
use crate::train::checklist::{Checklist, ChecklistInputs};
use crate::train::checkpoint::{self, CheckpointState};
use crate::train::config::{Task, TrainConfig};
use crate::train::early_stopping::EarlyStopping;
use crate::train::schedule::{Plateau, lr_at};

/// One epoch of history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss over the epoch's augmented batches (mixup, noise, masks, dropout): not
    /// comparable with `val_loss`; the checklist's gap uses [`TrainOutcome::clean_train_loss`].
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
    /// After each epoch (right after [`TrainObserver::on_epoch`]), with what the trainer
    /// computed on the validation windows: the predictions it scored the epoch with and the
    /// model in inference mode. Drawing plots from it costs the observer's time only (e.g. every
    /// `plot_every` epochs).
    fn on_validation(&mut self, _validation: &EpochValidation<'_, '_>) {}
}

/// What [`TrainObserver::on_validation`] receives after each epoch.
#[derive(Debug)]
pub struct EpochValidation<'a, 'b> {
    /// The epoch's record (also passed to [`TrainObserver::on_epoch`]).
    pub record: &'a EpochRecord,
    /// The epochs configured (training may stop earlier).
    pub epochs: usize,
    /// Classification or regression.
    pub task: Task,
    /// The model after this epoch, in inference mode on the plain device.
    pub model: &'a SequenceModel,
    /// The network's config.
    pub model_config: &'a ModelConfig,
    /// The validation windows (realised targets in `samples()`).
    pub valid: &'a WindowedDataset<'b>,
    /// The model's outputs on `valid`, in its order.
    pub predictions: &'a Predictions,
    /// The plain device `model` is on.
    pub device: &'a Device,
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
    /// Mean loss (the training loss without augmentation): weighted by sample × class weights
    /// as in training (`Σ ω ℓ / Σ ω`, see [`crate::loss`]); NaN when every weight is 0.
    pub loss: f64,
}

impl Predictions {
    /// Argmax class per sample.
    pub fn classes(&self) -> Vec<usize> {
        self.probs.iter().map(|p| p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |m| m.0)).collect()
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
    /// The best model's loss on the training rows in eval mode (no augmentation, no dropout):
    /// the train loss that is comparable with the validation loss.
    pub clean_train_loss: f64,
    /// Seed 002's checklist on the best epoch (without data warnings: the caller knows the data;
    /// see [`Checklist::evaluate`]).
    pub checklist: Checklist,
    /// Class weights used.
    pub class_weights: Vec<f32>,
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
    /// What else the checkpoint must match to be resumed (the caller's data config: symbols,
    /// horizon, θ, label kind, …); `None` for none. Saved in the checkpoint's `state.json`.
    pub context: Option<&'a serde_json::Value>,
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
        // Batch means combine by their normaliser, so the result is the dataset's weighted mean
        // (sample × class weights, as in training; see `crate::loss`).
        let w = match task {
            Task::Classification => effective_weight_sum(&host.weight, &host.target, &settings.class_weights),
            Task::Regression => effective_weight_sum(&host.weight, &host.target, &[]),
        };
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
///
/// Deterministic for a seed: initialisation, shuffling, augmentation and dropout draw from
/// streams seeded by `config.seed` and the epoch, so a resumed run repeats an uninterrupted one.
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
    mcfg.validate_seq_len(train.seq_len())?;
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
    let mut model = mcfg.init(&ad)?;
    let mut adamw = AdamWConfig::new().with_weight_decay(cfg.weight_decay as f32).with_epsilon(1e-8);
    if cfg.grad_clip_norm > 0.0 {
        adamw = adamw.with_grad_clipping(Some(GradientClippingConfig::Norm(cfg.grad_clip_norm as f32)));
    }
    let mut optim = adamw.init();
    let config_value = match inputs.context {
        Some(c) => serde_json::json!({ "model": mcfg, "train": cfg, "context": c }),
        None => serde_json::json!({ "model": mcfg, "train": cfg }),
    };

    let mut state = CheckpointState {
        format_version: FORMAT_VERSION,
        config: config_value.clone(),
        epochs_done: 0,
        stopping: EarlyStopping::default(),
        plateau: Plateau::new(cfg),
        history: Vec::new(),
    };
    let mut best_model: Option<SequenceModel> = None;
    let ckpt = inputs.checkpoint_dir;
    if let Some(dir) = ckpt
        && inputs.resume
        && let Some(found) = checkpoint::find(dir)?
    {
        let c = checkpoint::load(&found, &config_value, mcfg, model, optim, device)?;
        (state, model, optim, best_model) = (c.state, c.model, c.optim, c.best);
    }
    observer.on_start(cfg.epochs, steps_per_epoch);
    let mut stopped_early = false;
    let mut epoch = state.epochs_done;
    while epoch < cfg.epochs {
        if state.stopping.should_stop(cfg.early_stopping_patience) {
            stopped_early = true;
            break;
        }
        let epoch_seed = cfg.seed.wrapping_add(1 + epoch as u64);
        device.seed(epoch_seed);
        let mut dropout_rng = DropoutRng::seeded(epoch_seed);
        let mut rng = StdRng::seed_from_u64(epoch_seed);
        let mut order = base_order.clone();
        order.shuffle(&mut rng);
        let (mut loss_sum, mut n_sum, mut correct) = (0.0, 0usize, 0usize);
        let mut lr = lr_at(cfg, epoch, 0, steps_per_epoch, &state.plateau);
        for (bi, chunk) in order.chunks(cfg.batch_size).enumerate() {
            let items: Vec<_> = chunk.iter().map(|&i| train.get(i)).collect();
            let mut host = batcher.host(&items);
            aug.apply(&mut host, &mut rng);
            let batch = host.to_device(&ad);
            let out = model.forward_with(batch.x.clone(), batch.symbol.clone(), &mut dropout_rng);
            let loss = batch_loss(&out, &batch, cfg.task, mcfg.quantiles(), &settings);
            let pred = out.logits.clone().argmax(1).reshape([chunk.len()]);
            let hits = pred.equal(batch.class.clone()).int().sum().into_scalar::<i64>();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let l = scalar(loss.detach());
            if !l.is_finite() {
                return Err(ModelError::Diverged(format!("epoch {} batch {}: loss {l}", epoch + 1, bi + 1)));
            }
            lr = lr_at(cfg, epoch, bi, steps_per_epoch, &state.plateau);
            model = optim.step(lr, model, grads);
            loss_sum += l * chunk.len() as f64;
            n_sum += chunk.len();
            correct += hits as usize;
            observer.on_batch(epoch + 1, bi + 1, l);
        }
        let inference = model.valid();
        let vp = predict(&inference, mcfg, valid, cfg.task, &settings, cfg.batch_size.max(256), device);
        let (val_accuracy, val_macro_f1) = scores(cfg.task, valid, &vp);
        let improved = state.stopping.update(epoch + 1, vp.loss, cfg.min_delta);
        state.plateau.update(cfg, improved);
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
        observer.on_validation(&EpochValidation {
            record: &record,
            epochs: cfg.epochs,
            task: cfg.task,
            model: &inference,
            model_config: mcfg,
            valid,
            predictions: &vp,
            device,
        });
        if improved {
            best_model = Some(inference);
        }
        state.history.push(record);
        epoch += 1;
        state.epochs_done = epoch;
        if let Some(dir) = ckpt {
            checkpoint::save(dir, &model, &optim, best_model.as_ref(), &state)?;
        }
    }
    if state.stopping.should_stop(cfg.early_stopping_patience) && epoch < cfg.epochs {
        stopped_early = true;
    }
    let best = best_model.ok_or_else(|| {
        ModelError::Data(format!("no epoch improved on the validation loss in {} epochs", state.history.len()))
    })?;
    let best_epoch = state.stopping.best_epoch;
    let best_record = state.history.iter().find(|r| r.epoch == best_epoch);
    // Like with like: the best weights in eval mode on the training rows, no augmentation.
    let clean_train_loss = predict(&best, mcfg, train, cfg.task, &settings, cfg.batch_size.max(256), device).loss;
    let checklist = Checklist::evaluate(
        cfg,
        &ChecklistInputs { best: best_record, clean_train_loss: Some(clean_train_loss), data: None },
    );
    Ok(TrainOutcome {
        model: best,
        best_epoch,
        stopped_early,
        clean_train_loss,
        checklist,
        class_weights: cw,
        history: state.history,
    })
}
