//! Every training setting ([`TrainConfig`]) and the task it trains for.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::augment::Augmentation;
use crate::data::ClassWeighting;
use crate::error::{ModelError, Result, config_err};
use crate::presets::Preset;
use crate::train::schedule::Scheduler;

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
    /// Draw the training plots (loss curve, predicted vs realised, variable importance) every
    /// this many epochs and at the end (0 = off; seed 004: 5). How often to look does not change
    /// the model: the field is read from configs but never written, so it is not part of the
    /// checkpoint's config, the model folder's name or `config.json`.
    #[serde(default, skip_serializing)]
    pub plot_every: usize,
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
            plot_every: 0,
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
}
