//! Seed 002's pre-production checklist.

use serde::{Deserialize, Serialize};

use crate::data::ClassWeighting;
use crate::train::config::TrainConfig;
use crate::train::trainer::EpochRecord;

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
