//! The files of `artifacts/models/<MODEL_ID>/`, each with a `format_version`, written into a
//! temporary folder that is renamed into place: readers see the old model or the new one, never
//! a half-written folder.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use vane_core::Interval;
use vane_indicators::FeatureSet;
use vane_policy::optimize::Choice;
use vane_policy::{PolicyConfig, Rule};
use vane_tabular::Gbdt;

use crate::config::TrainConfig;
use crate::error::{PipelineError, Result};

/// Version of `config.json`, `feature_schema.json`, `inference.json` and `metrics.json`.
pub const ARTIFACT_VERSION: u32 = 1;

/// `feature_schema.json`: what the model was trained on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureSchema {
    /// Must equal [`ARTIFACT_VERSION`].
    pub format_version: u32,
    /// Feature-set name (`v1`).
    pub feature_set: String,
    /// Its version.
    pub feature_set_version: u32,
    /// Numeric columns, in order.
    pub columns: Vec<String>,
    /// Categorical columns.
    pub categorical: Vec<String>,
    /// Bar interval.
    pub interval: Interval,
    /// Label horizon, bars.
    pub horizon: usize,
}

impl FeatureSchema {
    /// The schema of seed 001's `v1` models.
    pub fn v1(interval: Interval, horizon: usize) -> Self {
        let set = FeatureSet::V1;
        Self {
            format_version: ARTIFACT_VERSION,
            feature_set: set.name().into(),
            feature_set_version: set.version(),
            columns: set.columns(),
            categorical: vec!["symbol".into()],
            interval,
            horizon,
        }
    }
}

/// `inference.json`: the decision rule and what the model outputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Inference {
    /// Must equal [`ARTIFACT_VERSION`].
    pub format_version: u32,
    /// `global` or the symbol.
    pub model_id: String,
    /// Class order of the model's probabilities.
    pub classes: Vec<String>,
    /// The chosen θ of the labels.
    pub theta: f64,
    /// The policy (`min_conf` rule).
    pub policy: PolicyConfig,
    /// Open time of the last bar used in training.
    pub trained_until_ms: Option<i64>,
}

impl Inference {
    pub(crate) fn new(
        model_id: &str,
        theta: f64,
        min_conf: f64,
        _cfg: &TrainConfig,
        trained_until_ms: Option<i64>,
    ) -> Self {
        Self {
            format_version: ARTIFACT_VERSION,
            model_id: model_id.into(),
            classes: crate::train::CLASSES.iter().map(|s| s.to_string()).collect(),
            theta,
            policy: PolicyConfig { rule: Rule::MinConf { min_conf }, hysteresis: 0.0, cooldown_ms: 0 },
            trained_until_ms,
        }
    }
}

/// Accuracy, macro-F1 and log-loss of one set of predictions.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Accuracy.
    pub accuracy: f64,
    /// Macro-F1.
    pub macro_f1: f64,
    /// Log-loss.
    pub log_loss: f64,
}

/// One walk-forward validation window.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowMetrics {
    /// Training rows (all symbols, purged).
    pub train_rows: usize,
    /// Validation rows.
    pub test_rows: usize,
    /// First validation bar.
    pub test_first_open_time_ms: i64,
    /// Last validation bar.
    pub test_last_open_time_ms: i64,
    /// The GBDT.
    pub model: Scores,
    /// Multinomial logistic regression on the same features.
    pub logistic: Scores,
    /// Always the training majority class.
    pub majority: Scores,
}

/// `metrics.json`: out-of-sample metrics per window and aggregated, beside the baselines.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelMetrics {
    /// Must equal [`ARTIFACT_VERSION`].
    pub format_version: u32,
    /// Chosen θ.
    pub theta: f64,
    /// Every θ tried, its HOLD share and mean macro-F1.
    pub theta_search: Vec<vane_labeling::fixed::ThetaCandidate>,
    /// Per validation window.
    pub windows: Vec<WindowMetrics>,
    /// Means over the windows: model, logistic, majority.
    pub mean: [Scores; 3],
    /// The tuned `min_conf` (0.5 when no candidate met the activity constraints).
    pub min_conf: f64,
    /// The figures behind `min_conf`.
    pub min_conf_choice: Option<Choice>,
}

impl ModelMetrics {
    pub(crate) fn new(
        theta: f64,
        theta_search: Vec<vane_labeling::fixed::ThetaCandidate>,
        windows: Vec<WindowMetrics>,
        choice: Option<Choice>,
    ) -> Self {
        let mean = |f: &dyn Fn(&WindowMetrics) -> Scores| {
            let n = windows.len() as f64;
            let s: Vec<Scores> = windows.iter().map(f).collect();
            Scores {
                accuracy: s.iter().map(|x| x.accuracy).sum::<f64>() / n,
                macro_f1: s.iter().map(|x| x.macro_f1).sum::<f64>() / n,
                log_loss: s.iter().map(|x| x.log_loss).sum::<f64>() / n,
            }
        };
        let m = [mean(&|w| w.model), mean(&|w| w.logistic), mean(&|w| w.majority)];
        Self {
            format_version: ARTIFACT_VERSION,
            theta,
            theta_search,
            windows,
            mean: m,
            min_conf: choice.map_or(0.5, |c| c.long),
            min_conf_choice: choice,
        }
    }
}

/// `config.json`: the full training configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedConfig {
    /// Must equal [`ARTIFACT_VERSION`].
    pub format_version: u32,
    /// The configuration.
    pub config: TrainConfig,
}

fn write_json(dir: &Path, name: &str, v: &impl Serialize) -> Result<()> {
    let path = dir.join(name);
    let text = serde_json::to_string_pretty(v)
        .map_err(|e| PipelineError::Artifact { path: path.clone(), message: e.to_string() })?;
    std::fs::write(&path, text).map_err(|e| PipelineError::io("writing", path, e))
}

/// Writes a model folder atomically and returns its final path.
pub fn write_model_dir(
    artifacts: &Path,
    model_id: &str,
    model: &Gbdt,
    cfg: &TrainConfig,
    schema: &FeatureSchema,
    inference: &Inference,
    metrics: &ModelMetrics,
) -> Result<PathBuf> {
    let models = artifacts.join("models");
    std::fs::create_dir_all(&models).map_err(|e| PipelineError::io("creating", &models, e))?;
    let pid = std::process::id();
    let tmp = models.join(format!(".tmp-{model_id}-{pid}"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| PipelineError::io("creating", &tmp, e))?;
    let result = (|| {
        std::fs::write(tmp.join("model.json"), model.to_json())
            .map_err(|e| PipelineError::io("writing", tmp.join("model.json"), e))?;
        write_json(&tmp, "config.json", &SavedConfig { format_version: ARTIFACT_VERSION, config: cfg.clone() })?;
        write_json(&tmp, "feature_schema.json", schema)?;
        write_json(&tmp, "inference.json", inference)?;
        write_json(&tmp, "metrics.json", metrics)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let dest = models.join(model_id);
    let old = models.join(format!(".old-{model_id}-{pid}"));
    if dest.exists() {
        std::fs::rename(&dest, &old).map_err(|e| PipelineError::io("moving aside", &dest, e))?;
    }
    std::fs::rename(&tmp, &dest).map_err(|e| PipelineError::io("renaming into place", &dest, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(dest)
}

/// Reads a JSON artifact, checking its `format_version`.
pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| PipelineError::Artifact { path: path.into(), message: e.to_string() })?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| PipelineError::Artifact { path: path.into(), message: e.to_string() })?;
    let version = v.get("format_version").and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(ARTIFACT_VERSION)) {
        return Err(PipelineError::Artifact {
            path: path.into(),
            message: format!(
                "format_version {} is not supported (this build reads {ARTIFACT_VERSION})",
                version.map_or("missing".into(), |v| v.to_string())
            ),
        });
    }
    serde_json::from_value(v).map_err(|e| PipelineError::Artifact { path: path.into(), message: e.to_string() })
}
