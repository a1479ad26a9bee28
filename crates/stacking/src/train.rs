//! Training the stack (placeholder, filled in next).

use std::path::Path;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use vane_market_data::grid::GridBars;

use crate::config::StackConfig;
use crate::error::Result;

/// Options beside the config.
#[derive(Clone, Debug, Default)]
pub struct TrainOptions {
    /// Symbol name (recorded).
    pub symbol: String,
    /// Shuffle every level's labels (the null: the stack must score at chance).
    pub permute_labels: bool,
}

/// What training returns.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TrainReport {
    /// Per tag: `metrics.json`'s content.
    pub tags: std::collections::BTreeMap<String, serde_json::Value>,
}

/// Trains every tag's stack on `grid` and writes `stacks_root` (`A/stacks`) atomically.
pub fn train_stacks(
    grid: &GridBars,
    cfg: &StackConfig,
    opts: &TrainOptions,
    stacks_root: &Path,
    device: &Device,
    progress: &mut dyn FnMut(&str),
) -> Result<TrainReport> {
    let _ = (grid, cfg, opts, stacks_root, device, progress);
    Ok(TrainReport::default())
}
