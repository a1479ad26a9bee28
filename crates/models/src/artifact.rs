//! A trained sequence model on disk (ARCHITECTURE.md "Artifacts"):
//!
//! ```text
//! <dir>/model.bpk            weights (burnpack; backend-independent)
//!       config.json          {"format_version", "model": ModelConfig, "train": TrainConfig, "data": …}
//!       feature_schema.json  format_version, columns, seq_len, normaliser, symbols, class names
//!       metrics.json         format_version, validation scores, best epoch, class weights
//!       history.json         {"format_version", "history": per-epoch records}
//!       loss_curve.png       train/validation loss per epoch, best epoch marked (vane-report)
//!       loss_curve.svg       the same as SVG
//!       checklist.json       format_version, seed 002's pre-production checklist
//!       interpretation.json  TFT only: {"format_version", "interpretation": mean variable-selection
//!                            weights and attention by lag}
//! ```
//!
//! The folder is written through `vane_artifact::StagedDir` (filled beside the destination, then
//! swapped in atomically; a failure leaves any previous model whole) and read after
//! `vane_artifact::open_dir`. Every JSON file carries `format_version` ([`FORMAT_VERSION`](crate::artifact::FORMAT_VERSION)) and
//! the loader checks it in each: a model written by another format version is refused with
//! `ArtifactError::Version`, which names the file and says to retrain.

use std::path::Path;

use burn::module::Module;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vane_artifact::{StagedDir, Versioned, read_json};

use crate::data::Normaliser;
use crate::error::{ModelError, Result};
use crate::model::{ModelConfig, SequenceModel};
use crate::train::{Checklist, EpochRecord, TrainConfig};

/// Format version of every file of a sequence artifact (and of training checkpoints); bumped on
/// incompatible change. 2: `format_version` in every JSON file (was `version` in the schema
/// only), `loss_curve.png`/`.svg` instead of `loss.svg`.
pub const FORMAT_VERSION: u32 = 2;

/// Inputs a saved model expects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SequenceSchema {
    /// Format version ([`FORMAT_VERSION`]).
    pub format_version: u32,
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
    /// What the pipeline adds (walk-forward scores, the calibrator, the reliability diagram),
    /// written into the same staged folder so the whole folder is swapped in at once.
    pub extra: ArtifactExtras,
}

/// Files and `metrics.json` keys a pipeline adds to a model folder.
#[derive(Clone, Debug, Default)]
pub struct ArtifactExtras {
    /// Keys merged into `metrics.json` (beside the [`SequenceMetrics`] fields).
    pub metrics: serde_json::Map<String, Value>,
    /// Further JSON files: (file name, content), e.g. `calibration.json`.
    pub json: Vec<(String, Value)>,
    /// A reliability diagram (`reliability.png` and `.svg`): its series (legend label and
    /// points; e.g. raw and calibrated) and title.
    pub reliability: Option<(ReliabilityCurves, String)>,
}

/// The curves of a reliability diagram: each one's legend label and points.
pub type ReliabilityCurves = Vec<(String, Vec<vane_report::ReliabilityPoint>)>;

/// `config.json`.
#[derive(Serialize)]
struct ConfigFile<'a> {
    model: &'a ModelConfig,
    train: &'a TrainConfig,
    data: &'a Value,
}

/// `config.json` as read back (the `data` description is not needed to load).
#[derive(Deserialize)]
struct ConfigRead {
    model: ModelConfig,
    train: TrainConfig,
}

/// The loss series of a history, for `vane_report`.
pub fn loss_series(title: impl Into<String>, history: &[EpochRecord]) -> vane_report::LossSeries {
    vane_report::LossSeries {
        title: title.into(),
        train: history.iter().map(|r| r.train_loss).collect(),
        valid: history.iter().map(|r| r.val_loss).collect(),
        best_epoch: history.iter().rposition(|r| r.best).map(|i| i + 1),
        step: String::new(),
    }
}

/// Writes the model and its files as the folder `dir` (its parent created if needed), swapped in
/// atomically: a failure leaves any previous model at `dir` intact.
pub fn save(dir: &Path, model: &SequenceModel, files: &ArtifactFiles<'_>) -> Result<()> {
    if files.schema.format_version != FORMAT_VERSION {
        return Err(ModelError::Data(format!(
            "schema format_version {} but this build writes {FORMAT_VERSION}",
            files.schema.format_version
        )));
    }
    let staged = StagedDir::new(dir)?;
    let weights = staged.path().join("model.bpk");
    model.clone().save_file(&weights).map_err(|e| ModelError::weights(&weights, e))?;
    staged.write_json(
        "config.json",
        &Versioned::new(FORMAT_VERSION, ConfigFile { model: files.model, train: files.train, data: &files.data }),
    )?;
    staged.write_json("feature_schema.json", files.schema)?;
    let mut metrics =
        serde_json::to_value(files.metrics).map_err(|e| ModelError::Data(format!("metrics.json: {e}")))?;
    if let Value::Object(m) = &mut metrics {
        m.extend(files.extra.metrics.clone());
    }
    staged.write_json("metrics.json", &Versioned::new(FORMAT_VERSION, metrics))?;
    for (name, value) in &files.extra.json {
        staged.write_json(name, value)?;
    }
    if let Some((series, title)) = &files.extra.reliability {
        let series: Vec<vane_report::reliability::ReliabilitySeries<'_>> = series
            .iter()
            .map(|(label, points)| vane_report::reliability::ReliabilitySeries { label, points })
            .collect();
        vane_report::reliability::reliability_png_series(&staged.path().join("reliability.png"), &series, title)?;
        vane_report::reliability::reliability_svg_series(&staged.path().join("reliability.svg"), &series, title)?;
    }
    staged
        .write_json("history.json", &Versioned::new(FORMAT_VERSION, serde_json::json!({ "history": files.history })))?;
    staged.write_json("checklist.json", &Versioned::new(FORMAT_VERSION, files.checklist))?;
    if let Some(i) = &files.inference {
        staged.write_json("inference.json", i)?;
    }
    if let Some(i) = &files.interpretation {
        staged.write_json(
            "interpretation.json",
            &Versioned::new(FORMAT_VERSION, serde_json::json!({ "interpretation": i })),
        )?;
    }
    let series = loss_series(format!("{}: loss per epoch", files.model.kind()), files.history);
    vane_report::loss_curve_png(&staged.path().join("loss_curve.png"), &series)?;
    vane_report::loss_curve_svg(&staged.path().join("loss_curve.svg"), &series)?;
    staged.commit()?;
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

/// Loads `dir` onto `device` (any backend: burnpack weights are backend-independent). Every JSON
/// file's `format_version` is checked first.
pub fn load(dir: &Path, device: &Device) -> Result<LoadedModel> {
    let dir = vane_artifact::open_dir(dir)?
        .ok_or_else(|| ModelError::Data(format!("{}: no such model folder", dir.display())))?;
    let cfg: ConfigRead = read_json(&dir.join("config.json"), FORMAT_VERSION)?;
    let schema: SequenceSchema = read_json(&dir.join("feature_schema.json"), FORMAT_VERSION)?;
    // The other files are not needed to predict, but a folder mixing versions is refused.
    for name in ["metrics.json", "history.json", "checklist.json", "interpretation.json"] {
        let p = dir.join(name);
        if name != "interpretation.json" || p.exists() {
            read_json::<Value>(&p, FORMAT_VERSION)?;
        }
    }
    cfg.model.validate()?;
    cfg.model.validate_seq_len(schema.seq_len)?;
    if schema.columns.len() != cfg.model.n_features() {
        return Err(ModelError::Data(format!(
            "{}: schema has {} columns, model expects {}",
            dir.display(),
            schema.columns.len(),
            cfg.model.n_features()
        )));
    }
    let weights = dir.join("model.bpk");
    let model = cfg.model.init(device)?.try_load_file(&weights).map_err(|e| ModelError::weights(&weights, e))?;
    Ok(LoadedModel { model, config: cfg.model, train: cfg.train, schema })
}
