//! Learning-rate schedules: cosine annealing per step, reduce-on-plateau, constant.

use serde::{Deserialize, Serialize};

use crate::train::config::TrainConfig;

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

/// Reduce-on-plateau state: the current rate and the epochs since it last improved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plateau {
    /// Current rate (reduce-on-plateau only).
    pub lr: f64,
    /// Epochs without a better validation loss since the last reduction.
    pub bad_epochs: usize,
}

impl Plateau {
    /// Starts at the config's peak rate.
    pub fn new(cfg: &TrainConfig) -> Self {
        Self { lr: cfg.learning_rate, bad_epochs: 0 }
    }

    /// Records an epoch: an improvement resets the count; `plateau_patience` epochs without one
    /// multiply the rate by `plateau_factor` (not below `min_lr`) under reduce-on-plateau.
    pub fn update(&mut self, cfg: &TrainConfig, improved: bool) {
        if improved {
            self.bad_epochs = 0;
            return;
        }
        self.bad_epochs += 1;
        if cfg.scheduler == Scheduler::ReduceOnPlateau && self.bad_epochs >= cfg.plateau_patience {
            self.lr = (self.lr * cfg.plateau_factor).max(cfg.min_lr);
            self.bad_epochs = 0;
        }
    }
}

/// The learning rate at `step` of `epoch` (0-based) under `cfg`'s schedule.
pub fn lr_at(cfg: &TrainConfig, epoch: usize, step: usize, steps_per_epoch: usize, plateau: &Plateau) -> f64 {
    match cfg.scheduler {
        Scheduler::Constant => cfg.learning_rate,
        Scheduler::ReduceOnPlateau => plateau.lr,
        Scheduler::Cosine => {
            let total = (cfg.epochs * steps_per_epoch).max(1) as f64;
            let done = (epoch * steps_per_epoch + step) as f64;
            cfg.min_lr + 0.5 * (cfg.learning_rate - cfg.min_lr) * (1.0 + (std::f64::consts::PI * done / total).cos())
        }
    }
}
