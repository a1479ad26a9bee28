//! Training checkpoints: the last weights, the optimizer state, the best weights so far and the
//! loop state, written as ONE folder swapped into place atomically (`vane_artifact::StagedDir`),
//! so an interrupted write leaves the previous checkpoint whole.
//!
//! ```text
//! <checkpoint_dir>/last.bpk       weights after the last finished epoch
//!                  optimizer.bpk  AdamW state
//!                  best.bpk       the best weights by validation loss (once there is one)
//!                  state.json     {"format_version": 2, "config", "epochs_done", "stopping", …}
//! ```

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::artifact::FORMAT_VERSION;
use crate::error::{ModelError, Result, config_err};
use crate::model::{ModelConfig, SequenceModel};
use crate::train::early_stopping::EarlyStopping;
use crate::train::schedule::Plateau;
use crate::train::trainer::EpochRecord;

/// The loop state saved with each checkpoint (`state.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Format version of the file.
    pub format_version: u32,
    /// `{"model": …, "train": …, "context": …}` (`context`: the caller's data config, e.g. the
    /// pipeline's symbols, horizon, θ and label kind): a checkpoint resumes only under the same
    /// config.
    pub config: Value,
    /// Epochs finished.
    pub epochs_done: usize,
    /// Early-stopping state.
    pub stopping: EarlyStopping,
    /// Reduce-on-plateau state.
    pub plateau: Plateau,
    /// Per-epoch history so far.
    pub history: Vec<EpochRecord>,
}

/// A checkpoint read back.
pub struct Checkpoint {
    /// The loop state.
    pub state: CheckpointState,
    /// The weights after the last finished epoch (on the training device).
    pub model: SequenceModel,
    /// The optimizer.
    pub optim: ModuleOptimizer,
    /// The best weights so far (on the plain device), if an epoch improved.
    pub best: Option<SequenceModel>,
}

impl std::fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint")
            .field("state", &self.state)
            .field("model", &self.model)
            .field("best", &self.best)
            .finish_non_exhaustive()
    }
}

/// The dotted keys where `saved` and `now` differ, each as `key saved → now` (`absent` for a
/// missing key), in key order; at most 12, then a count.
pub fn config_diff(saved: &Value, now: &Value) -> Vec<String> {
    fn walk(prefix: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<String>) {
        match (a, b) {
            (Some(Value::Object(x)), Some(Value::Object(y))) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    walk(&key, x.get(k), y.get(k), out);
                }
            }
            (a, b) if a != b => {
                let show = |v: Option<&Value>| v.map_or_else(|| "absent".to_string(), Value::to_string);
                let key = if prefix.is_empty() { "(the whole config)" } else { prefix };
                out.push(format!("{key} {} → {}", show(a), show(b)));
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", Some(saved), Some(now), &mut out);
    if out.len() > 12 {
        let more = out.len() - 12;
        out.truncate(12);
        out.push(format!("and {more} more"));
    }
    out
}

/// Writes the checkpoint folder `dir` as one unit.
pub fn save(
    dir: &Path,
    model: &SequenceModel,
    optim: &ModuleOptimizer,
    best: Option<&SequenceModel>,
    state: &CheckpointState,
) -> Result<()> {
    let staged = vane_artifact::StagedDir::new(dir)?;
    let mpath = staged.path().join("last.bpk");
    model.clone().save_file(&mpath).map_err(|e| ModelError::weights(&mpath, e))?;
    let opath = staged.path().join("optimizer.bpk");
    optim.save(&opath).map_err(|e| ModelError::weights(&opath, e))?;
    if let Some(b) = best {
        let bpath = staged.path().join("best.bpk");
        b.clone().save_file(&bpath).map_err(|e| ModelError::weights(&bpath, e))?;
    }
    staged.write_json("state.json", state)?;
    staged.commit()?;
    Ok(())
}

/// The checkpoint folder `dir` after repairing an interrupted swap (`vane_artifact::open_dir`),
/// or `None` when it holds no checkpoint.
pub fn find(dir: &Path) -> Result<Option<PathBuf>> {
    Ok(vane_artifact::open_dir(dir)?.filter(|d| d.join("state.json").exists()))
}

/// Reads the checkpoint in `dir` (a folder [`find`] returned). `model` and `optim` are freshly
/// initialised ones the saved state is loaded into; a checkpoint written under another `config`
/// or by another format version is refused.
pub fn load(
    dir: &Path,
    config: &Value,
    mcfg: &ModelConfig,
    model: SequenceModel,
    optim: ModuleOptimizer,
    device: &Device,
) -> Result<Checkpoint> {
    let state_path = dir.join("state.json");
    let state: CheckpointState = vane_artifact::read_json(&state_path, FORMAT_VERSION)?;
    if &state.config != config {
        return config_err(format!(
            "{} was written under another config ({}); resume with the same config, or train without --resume",
            state_path.display(),
            config_diff(&state.config, config).join(", ")
        ));
    }
    let mpath = dir.join("last.bpk");
    let model = model.try_load_file(&mpath).map_err(|e| ModelError::weights(&mpath, e))?;
    let opath = dir.join("optimizer.bpk");
    let optim = optim.load(&opath).map_err(|e| ModelError::weights(&opath, e))?;
    let bpath = dir.join("best.bpk");
    let best = if state.stopping.best_epoch > 0 {
        Some(mcfg.init(device)?.try_load_file(&bpath).map_err(|e| ModelError::weights(&bpath, e))?)
    } else {
        None
    };
    Ok(Checkpoint { state, model, optim, best })
}
