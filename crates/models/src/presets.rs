//! Seed 002's training presets, verbatim, and the resolution order of a training config:
//! base defaults → preset → config file → command line.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result, config_err};

/// A named preset of seed 002 (`optimized_configs.py`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// 7–30 days of data (recommended).
    ProductionSmall,
    /// 60+ days of data.
    ProductionLarge,
    /// Quick tests.
    QuickExperiment,
    /// Conservative trading.
    Conservative,
}

/// The values a preset sets; `None` leaves the base default.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PresetValues {
    /// Learning rate.
    pub learning_rate: Option<f64>,
    /// Batch size.
    pub batch_size: Option<usize>,
    /// AdamW weight decay.
    pub weight_decay: Option<f64>,
    /// Epochs.
    pub epochs: Option<usize>,
    /// Model dropout.
    pub dropout: Option<f64>,
    /// Focal γ.
    pub focal_gamma: Option<f64>,
    /// Mixup α.
    pub mixup_alpha: Option<f64>,
    /// Label smoothing ε.
    pub label_smoothing: Option<f64>,
    /// Augmentation on/off.
    pub use_augmentation: Option<bool>,
    /// Early-stopping patience (epochs).
    pub early_stopping_patience: Option<usize>,
}

impl Preset {
    /// All presets.
    pub const ALL: [Preset; 4] =
        [Self::ProductionSmall, Self::ProductionLarge, Self::QuickExperiment, Self::Conservative];

    /// The preset's name as written in configs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProductionSmall => "production_small",
            Self::ProductionLarge => "production_large",
            Self::QuickExperiment => "quick_experiment",
            Self::Conservative => "conservative",
        }
    }

    /// Exactly the fields seed 002 lists for the preset.
    pub fn values(self) -> PresetValues {
        match self {
            Self::ProductionSmall => PresetValues {
                learning_rate: Some(5e-5),
                batch_size: Some(256),
                weight_decay: Some(0.01),
                epochs: Some(150),
                dropout: Some(0.4),
                focal_gamma: Some(2.5),
                mixup_alpha: Some(0.2),
                label_smoothing: Some(0.1),
                ..PresetValues::default()
            },
            Self::ProductionLarge => PresetValues {
                learning_rate: Some(1e-4),
                batch_size: Some(128),
                weight_decay: Some(0.005),
                epochs: Some(100),
                dropout: Some(0.3),
                focal_gamma: Some(2.0),
                mixup_alpha: Some(0.1),
                label_smoothing: Some(0.05),
                ..PresetValues::default()
            },
            Self::QuickExperiment => PresetValues {
                learning_rate: Some(1e-4),
                batch_size: Some(128),
                epochs: Some(30),
                use_augmentation: Some(false),
                early_stopping_patience: Some(10),
                ..PresetValues::default()
            },
            Self::Conservative => PresetValues {
                learning_rate: Some(3e-5),
                batch_size: Some(256),
                weight_decay: Some(0.02),
                dropout: Some(0.5),
                focal_gamma: Some(3.0),
                label_smoothing: Some(0.15),
                ..PresetValues::default()
            },
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Preset {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s).map_or_else(
            || {
                config_err(format!(
                    "unknown preset {s:?} (production_small, production_large, quick_experiment, conservative)"
                ))
            },
            Ok,
        )
    }
}
