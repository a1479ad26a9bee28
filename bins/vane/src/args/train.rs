//! `vane train`.

use std::path::PathBuf;

use vane_core::{Interval, Symbol};
use vane_models::{DeviceKind, Preset};
use vane_pipeline::{Mode, Override};

use super::DataDir;
use super::db::PgOption;
use super::runs::RecordArgs;

#[derive(Debug, clap::Args)]
pub(crate) struct TrainArgs {
    /// TOML config (every field optional; see examples/seed001.toml). `[model] kind = "hrm" |
    /// "cnn-lstm" | "tft"` trains a sequence model; no kind (or "gbdt") is seed 001's GBDT.
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// quality: more θ candidates and trees; fast: for regular retraining.
    #[arg(long, value_enum, default_value = "quality")]
    pub(crate) mode: Mode,
    /// Override the config's symbols.
    #[arg(long, value_delimiter = ',')]
    pub(crate) symbols: Vec<Symbol>,
    /// One model per listed symbol (models/<SYMBOL>, each with its own θ and min_conf) instead
    /// of the global one (models/global is left as it is).
    #[arg(long)]
    pub(crate) per_symbol: bool,
    /// Train on shuffled labels (the leakage alarm: out-of-sample scores must fall to chance);
    /// GBDT and sequence models.
    #[arg(long)]
    pub(crate) permute_labels: bool,
    #[command(flatten)]
    pub(crate) data: DataDir,
    /// Artifacts folder.
    #[arg(long, default_value = "artifacts")]
    pub(crate) artifacts_dir: PathBuf,
    /// Sequence models: backend (cpu | wgpu | cuda | tch); overrides the config's `device`.
    #[arg(long, value_enum)]
    pub(crate) device: Option<DeviceKind>,
    /// Sequence models: which device of the backend, by the index `vane devices` prints
    /// (overrides the config's `devices`). One index; several fail (vane trains on one device per
    /// process, docs/models.md "Several devices").
    #[arg(long, value_delimiter = ',')]
    pub(crate) devices: Vec<usize>,
    /// Sequence models: seed 002 preset (production_small, production_large, quick_experiment,
    /// conservative); config-file and --set values still override it.
    #[arg(long)]
    pub(crate) preset: Option<Preset>,
    /// Override any config value, e.g. `--set train.learning_rate=1e-4 --set model.hidden_low=32
    /// --set data.seq_len=30` (repeatable; applied after the file).
    #[arg(long = "set", value_name = "TABLE.KEY=VALUE")]
    pub(crate) set: Vec<Override>,
    /// Sequence models: continue an interrupted run from its checkpoint.
    #[arg(long)]
    pub(crate) resume: bool,
    /// Sequence models: train on the last N days of stored data (seed 002's `--days 30`), counted
    /// back from the last stored bar; fewer if fewer are stored (the report says so).
    #[arg(long, value_name = "N")]
    pub(crate) days: Option<u32>,
    /// Sequence classification: K expanding walk-forward windows for the out-of-sample report and
    /// the calibrator (`data.walk_forward`, default 3; 0 = off, no calibration.json).
    #[arg(long, value_name = "K")]
    pub(crate) walk_forward: Option<usize>,
    // The runs registry (`--runs-dir DIR`, `--no-run-record`): each session is recorded as
    // `runs/<run_id>/` (docs/runs.md).
    #[command(flatten)]
    pub(crate) record: RecordArgs,
    /// Read the job's candles from PostgreSQL's raw_market_data (instead of --data-dir); a
    /// sequence run also writes its walk-forward out-of-sample predictions (model_predictions),
    /// its model (model_metadata) and the bars each split used (training_sequences).
    #[command(flatten)]
    pub(crate) pg: PgOption,
    /// With --database-url: the exchange the candles are stored under (default: the only one
    /// holding each series).
    #[arg(long, requires = "database_url")]
    pub(crate) exchange: Option<String>,
    /// Override the config's bar interval.
    #[arg(long)]
    pub(crate) interval: Option<Interval>,
}
