//! The runner of the background training jobs: seed 001's trainer for one symbol's own model
//! (`models/<SYMBOL>`, never `global`), with the configuration the global model was trained with,
//! in `fast` mode — the seed's mode for automatic retraining. Used by `vane serve` and
//! `vane worker`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use vane_core::Symbol;
use vane_market_data::ParquetStore;
use vane_pipeline::{Mode, PipelineError, TrainConfig, train_with};

use crate::jobs::{JobControl, JobSpec, Runner};

/// Why a training job for a symbol cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SymbolConfigError {
    /// `models/global` is a sequence model: the jobs train seed 001's GBDT only.
    #[error(
        "train=true trains {symbol}'s own GBDT model (seed 001) with the configuration of models/global, \
         but models/global is a {kind} model ({path}): train {symbol}'s model with `vane train` instead, \
         or leave train=true out"
    )]
    NotGbdt {
        /// The symbol asked for.
        symbol: String,
        /// The global model's kind (`hrm`, `cnn-lstm`, `tft`).
        kind: String,
        /// Its `config.json`.
        path: PathBuf,
    },
    /// The global model's `config.json` cannot be read (the message names the file).
    #[error("{0}")]
    Unreadable(String),
}

/// The training configuration of a job for `symbol`: the global model's (its `config.json`), or
/// the defaults when there is no global model, narrowed to the symbol, one model per symbol.
pub fn symbol_config(artifacts_dir: &Path, symbol: &Symbol) -> Result<serde_json::Value, SymbolConfigError> {
    let path = artifacts_dir.join("models").join("global").join("config.json");
    let mut cfg: TrainConfig = if path.is_file() {
        // A sequence model's config.json has `model.kind` and no GBDT `config`.
        let raw: serde_json::Value = vane_artifact::read_json(&path, vane_pipeline::artifacts::FORMAT_VERSION)
            .map_err(|e| SymbolConfigError::Unreadable(e.to_string()))?;
        if raw.get("config").is_none()
            && let Some(kind) = raw.pointer("/model/kind").and_then(|k| k.as_str())
        {
            return Err(SymbolConfigError::NotGbdt { symbol: symbol.to_string(), kind: kind.to_string(), path });
        }
        let saved: vane_pipeline::artifacts::SavedConfig =
            vane_artifact::read_json(&path, vane_pipeline::artifacts::FORMAT_VERSION)
                .map_err(|e| SymbolConfigError::Unreadable(e.to_string()))?;
        saved.config
    } else {
        TrainConfig::default()
    };
    cfg.symbols = vec![symbol.clone()];
    cfg.per_symbol = true;
    serde_json::to_value(&cfg).map_err(|e| SymbolConfigError::Unreadable(e.to_string()))
}

/// A short stable hash of a configuration (FNV-1a 64 of its canonical JSON: keys sorted), the
/// dedupe key's second half: the same symbol under another configuration is another job.
pub fn config_hash(config: &serde_json::Value) -> String {
    let text = serde_json::to_string(config).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The lock of model folder `folder` in this process. Jobs that write the same folder train one
/// after the other: a resubmitted job waits for the cancelled one to stop (at its next progress
/// report), so two staged swaps of one folder never interleave. Processes sharing an artifacts
/// folder are not covered (each swap still leaves one whole model in place).
fn folder_lock(folder: &Path) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>> = OnceLock::new();
    let mut locks = LOCKS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    Arc::clone(locks.entry(folder.to_path_buf()).or_default())
}

/// Trains per-symbol models from `data_dir` into `artifacts_dir`; calls `on_done` after every
/// job that wrote a model (the server then loads it without a restart).
pub struct TrainRunner {
    data_dir: PathBuf,
    artifacts_dir: PathBuf,
    on_done: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl std::fmt::Debug for TrainRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrainRunner")
            .field("data_dir", &self.data_dir)
            .field("artifacts_dir", &self.artifacts_dir)
            .finish_non_exhaustive()
    }
}

impl TrainRunner {
    /// A runner over the candle store `data_dir` and the model folder `artifacts_dir`.
    pub fn new(data_dir: impl Into<PathBuf>, artifacts_dir: impl Into<PathBuf>) -> Self {
        Self { data_dir: data_dir.into(), artifacts_dir: artifacts_dir.into(), on_done: None }
    }

    /// Calls `f` after each job that wrote a model.
    pub fn on_done(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.on_done = Some(Arc::new(f));
        self
    }
}

impl Runner for TrainRunner {
    fn run(&self, spec: &JobSpec, ctl: &mut dyn JobControl) -> Result<String, String> {
        let cfg: TrainConfig =
            serde_json::from_value(spec.config.clone()).map_err(|e| format!("the job's training config: {e}"))?;
        if cfg.symbols != [spec.symbol.clone()] || !cfg.per_symbol {
            return Err(format!("the job's config must train {} alone, per symbol", spec.symbol));
        }
        let mode = match spec.mode.as_str() {
            "fast" => Mode::Fast,
            "quality" => Mode::Quality,
            m => return Err(format!("mode {m:?}: expected fast or quality")),
        };
        let folder = folder_lock(&self.artifacts_dir.join("models").join(spec.symbol.as_str()));
        let _writing = folder.lock().unwrap_or_else(|e| e.into_inner());
        let store = ParquetStore::new(&self.data_dir);
        let report = train_with(&store, &self.artifacts_dir, &cfg, mode, false, &mut |p| ctl.progress(p)).map_err(
            |e| match e {
                PipelineError::Cancelled => "cancelled".to_string(),
                e => e.to_string(),
            },
        )?;
        if let Some(f) = &self.on_done {
            f();
        }
        report.models.first().map(|(id, _)| id.clone()).ok_or_else(|| "the run wrote no model".to_string())
    }
}

/// The runner `vane serve` and `vane worker` use.
pub fn train_runner(data_dir: &Path, artifacts_dir: &Path) -> Arc<dyn Runner> {
    Arc::new(TrainRunner::new(data_dir, artifacts_dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_job_config_is_the_global_one_narrowed_to_the_symbol() {
        let dir = tempfile::tempdir().unwrap();
        let eth = Symbol::new("ETHUSDT").unwrap();
        let v = symbol_config(dir.path(), &eth).unwrap();
        assert_eq!(v["symbols"], serde_json::json!(["ETHUSDT"]));
        assert_eq!(v["per_symbol"], true);
        let g = dir.path().join("models/global");
        std::fs::create_dir_all(&g).unwrap();
        let cfg = TrainConfig { depth: 3, symbols: vec![Symbol::new("BTCUSDT").unwrap()], ..TrainConfig::default() };
        std::fs::write(
            g.join("config.json"),
            serde_json::to_string(&serde_json::json!({"format_version": 2, "config": cfg})).unwrap(),
        )
        .unwrap();
        let w = symbol_config(dir.path(), &eth).unwrap();
        assert_eq!(w["depth"], 3);
        assert_eq!(w["symbols"], serde_json::json!(["ETHUSDT"]));
        assert_ne!(config_hash(&v), config_hash(&w));
        assert_eq!(config_hash(&w), config_hash(&w.clone()));
    }

    #[test]
    fn one_lock_per_model_folder() {
        let a = folder_lock(Path::new("/artifacts/models/ETHUSDT"));
        let b = folder_lock(Path::new("/artifacts/models/ETHUSDT"));
        let c = folder_lock(Path::new("/artifacts/models/BTCUSDT"));
        assert!(Arc::ptr_eq(&a, &b), "the same folder shares one lock");
        assert!(!Arc::ptr_eq(&a, &c), "another folder has its own");
        let held = a.lock().unwrap();
        assert!(b.try_lock().is_err(), "a second job on the folder waits");
        assert!(c.try_lock().is_ok(), "a job on another folder does not");
        drop(held);
        assert!(b.try_lock().is_ok());
    }

    /// A sequence model as `global` (its config.json has `model.kind`, no GBDT `config`): a clear
    /// error naming the kind, the file and what to do, not a serde message about a missing field.
    #[test]
    fn a_sequence_global_model_cannot_train_a_symbol() {
        let dir = tempfile::tempdir().unwrap();
        let g = dir.path().join("models/global");
        std::fs::create_dir_all(&g).unwrap();
        std::fs::write(
            g.join("config.json"),
            r#"{"format_version": 2, "model": {"kind": "hrm", "n_features": 14}, "train": {"epochs": 3}}"#,
        )
        .unwrap();
        let eth = Symbol::new("ETHUSDT").unwrap();
        let err = symbol_config(dir.path(), &eth).unwrap_err();
        assert_eq!(
            err,
            SymbolConfigError::NotGbdt { symbol: "ETHUSDT".into(), kind: "hrm".into(), path: g.join("config.json") }
        );
        let msg = err.to_string();
        assert!(msg.starts_with("train=true trains ETHUSDT's own GBDT model"), "{msg}");
        assert!(msg.contains("models/global is a hrm model"), "{msg}");
        assert!(msg.contains("leave train=true out"), "{msg}");
        let api = crate::predict::train_config_error(err);
        assert_eq!((api.status.as_u16(), api.code), (422, "cannot_train"));

        // A config.json that is neither: still an error naming the file.
        std::fs::write(g.join("config.json"), r#"{"format_version": 2, "other": 1}"#).unwrap();
        let err = symbol_config(dir.path(), &eth).unwrap_err();
        assert!(matches!(&err, SymbolConfigError::Unreadable(m) if m.contains("config.json")), "{err:?}");
        let api = crate::predict::train_config_error(err);
        assert_eq!((api.status.as_u16(), api.code), (500, "bad_config"));
    }
}
