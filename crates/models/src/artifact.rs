//! A trained sequence model on disk (ARCHITECTURE.md "Artifacts"):
//!
//! ```text
//! <dir>/model.bpk            weights (burnpack; backend-independent)
//!       config.json          {"model": ModelConfig, "train": TrainConfig, "data": …}
//!       feature_schema.json  columns, seq_len, normaliser, symbols, class names, version
//!       metrics.json         validation scores, best epoch, class weights
//!       history.json         per-epoch records
//!       loss.svg             train/validation loss curves
//!       checklist.json       seed 002's pre-production checklist
//!       interpretation.json  TFT only: mean variable-selection weights and attention by lag
//! ```

use std::path::Path;

use burn::module::Module;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::data::Normaliser;
use crate::error::{ModelError, Result};
use crate::model::{ModelConfig, SequenceModel};
use crate::train::{Checklist, EpochRecord, TrainConfig};

/// Version of the files below; bumped on incompatible change.
pub const ARTIFACT_VERSION: u32 = 1;

/// Inputs a saved model expects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SequenceSchema {
    /// Format version.
    pub version: u32,
    /// Feature set name (e.g. `v1`, `full`).
    pub feature_set: String,
    /// Column names in order.
    pub columns: Vec<String>,
    /// Window length.
    pub seq_len: usize,
    /// Normaliser fitted on the training rows.
    pub normaliser: Normaliser,
    /// Symbol names by id (the TFT's static input).
    pub symbols: Vec<String>,
    /// Class names by index.
    pub classes: Vec<String>,
}

/// Validation metrics of the saved (best) model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SequenceMetrics {
    /// Best epoch (1-based).
    pub best_epoch: usize,
    /// Epochs run.
    pub epochs_run: usize,
    /// Early stopping fired.
    pub stopped_early: bool,
    /// Validation loss at the best epoch.
    pub val_loss: f64,
    /// Validation accuracy (direction accuracy for regression).
    pub val_accuracy: f64,
    /// Validation macro-F1 (classification).
    pub val_macro_f1: f64,
    /// Class weights used in the loss.
    pub class_weights: Vec<f32>,
    /// Training / validation samples.
    pub n_train: usize,
    /// See `n_train`.
    pub n_valid: usize,
    /// Parameters.
    pub param_count: usize,
}

fn write_json<T: Serialize>(path: &Path, v: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(v)
        .map_err(|e| ModelError::Json { path: path.display().to_string(), source: e })?;
    std::fs::write(path, text + "\n").map_err(|e| ModelError::io(path, e))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| ModelError::Json { path: path.display().to_string(), source: e })
}

/// Everything written next to the weights.
#[derive(Debug)]
pub struct ArtifactFiles<'a> {
    /// Model config.
    pub model: &'a ModelConfig,
    /// Training config.
    pub train: &'a TrainConfig,
    /// Free-form data description (symbols, interval, labels …).
    pub data: Value,
    /// Input schema.
    pub schema: &'a SequenceSchema,
    /// Metrics.
    pub metrics: &'a SequenceMetrics,
    /// History.
    pub history: &'a [EpochRecord],
    /// Checklist.
    pub checklist: &'a Checklist,
    /// TFT interpretation (already summarised), if any.
    pub interpretation: Option<Value>,
    /// The decision rule (`inference.json`, written by the pipeline), if any.
    pub inference: Option<Value>,
}

/// Writes the model and its files into `dir` (created if needed). Files are written to a
/// temporary folder first and swapped into place, so a failure leaves any previous model intact.
pub fn save(dir: &Path, model: &SequenceModel, files: &ArtifactFiles<'_>) -> Result<()> {
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| ModelError::io(parent, e))?;
    let name = dir.file_name().map_or_else(|| "model".into(), |n| n.to_string_lossy().into_owned());
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| ModelError::io(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| ModelError::io(&tmp, e))?;
    let written = (|| {
        let weights = tmp.join("model.bpk");
        model.clone().save_file(&weights).map_err(|e| ModelError::weights(&weights, e))?;
        let config = serde_json::json!({ "model": files.model, "train": files.train, "data": files.data });
        write_json(&tmp.join("config.json"), &config)?;
        write_json(&tmp.join("feature_schema.json"), files.schema)?;
        write_json(&tmp.join("metrics.json"), files.metrics)?;
        write_json(&tmp.join("history.json"), &files.history)?;
        write_json(&tmp.join("checklist.json"), files.checklist)?;
        let svg = tmp.join("loss.svg");
        std::fs::write(&svg, crate::svg::loss_curve(files.history)).map_err(|e| ModelError::io(&svg, e))?;
        if let Some(i) = &files.inference {
            write_json(&tmp.join("inference.json"), i)?;
        }
        match &files.interpretation {
            Some(i) => write_json(&tmp.join("interpretation.json"), i),
            None => Ok(()),
        }
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    // Move the previous model aside, put the new one in place, then drop the old one (the same
    // swap as seed 001's model folders): a failure never leaves `dir` half-written.
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    if dir.exists() {
        std::fs::rename(dir, &old).map_err(|e| ModelError::io(dir, e))?;
    }
    std::fs::rename(&tmp, dir).map_err(|e| ModelError::io(dir, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// A model loaded from disk.
#[derive(Debug)]
pub struct LoadedModel {
    /// The network on the requested device.
    pub model: SequenceModel,
    /// Its config.
    pub config: ModelConfig,
    /// The training config it was trained with.
    pub train: TrainConfig,
    /// Its input schema.
    pub schema: SequenceSchema,
}

/// Loads `dir` onto `device` (any backend: burnpack weights are backend-independent).
pub fn load(dir: &Path, device: &Device) -> Result<LoadedModel> {
    #[derive(Deserialize)]
    struct Cfg {
        model: ModelConfig,
        train: TrainConfig,
    }
    let cfg: Cfg = read_json(&dir.join("config.json"))?;
    let schema: SequenceSchema = read_json(&dir.join("feature_schema.json"))?;
    if schema.version != ARTIFACT_VERSION {
        return Err(ModelError::Data(format!(
            "{}: artifact version {} (this build reads {ARTIFACT_VERSION})",
            dir.display(),
            schema.version
        )));
    }
    cfg.model.validate()?;
    if schema.columns.len() != cfg.model.n_features() {
        return Err(ModelError::Data(format!(
            "{}: schema has {} columns, model expects {}",
            dir.display(),
            schema.columns.len(),
            cfg.model.n_features()
        )));
    }
    let weights = dir.join("model.bpk");
    let model = cfg.model.init(device).try_load_file(&weights).map_err(|e| ModelError::weights(&weights, e))?;
    Ok(LoadedModel { model, config: cfg.model, train: cfg.train, schema })
}
