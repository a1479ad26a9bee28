//! `vane stack`: seed 000's L1 → L2 → L3 stack (docs/stacking.md).

use std::path::PathBuf;

use vane_core::{Interval, Symbol};

use super::DataDir;
use super::runs::RecordArgs;

#[derive(Debug, clap::Args)]
pub(crate) struct StackArgs {
    #[command(subcommand)]
    pub(crate) command: StackCommand,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum StackCommand {
    /// Train every target tag's stack (L1 per horizon, L2 meta-gate, L3 supervisor) out of fold.
    Train(StackTrainArgs),
    /// Every level's probabilities and the consensus decision on the last stored bar.
    Predict(StackPredictArgs),
    /// The runtime's decisions over stored bars, out of sample with the stack's costs (seed 003's
    /// metrics); the same decision code as the live runtime.
    Backtest(crate::commands::stack_backtest::StackBacktestArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct StackTrainArgs {
    /// The stack config (TOML), e.g. examples/seed000.toml.
    #[arg(long)]
    pub(crate) config: PathBuf,
    /// Seed 000's fast sanity run: tags 1s,10s,15s, L1 inputs 1s,5s,10s,15s, windows ≤ 60, 2 folds,
    /// 1–2 epochs, small networks, ≤ ~20k decision rows per level.
    #[arg(long)]
    pub(crate) fast_sanity: bool,
    /// Shuffle every level's labels: the stack must then score at chance (a leakage check).
    #[arg(long)]
    pub(crate) permute_labels: bool,
    /// Symbols, comma separated (default: the config's first). One symbol writes
    /// `<artifacts-dir>/stacks/`; several train one stack per symbol, each under
    /// `<artifacts-dir>/symbols/<SYMBOL>/stacks/`.
    #[arg(long, value_delimiter = ',')]
    pub(crate) symbols: Vec<Symbol>,
    /// Reuse every L1 horizon whose state under `<artifacts-dir>/stack_resume/<SYMBOL>/l1/<H>s/`
    /// is complete and was trained under the same config and data (seed 000's --resume); retrain
    /// the others.
    #[arg(long)]
    pub(crate) resume: bool,
    /// Grid interval (default: the config's, 1s).
    #[arg(long)]
    pub(crate) interval: Option<Interval>,
    /// Write every per-bar column (features, out-of-fold outputs of every level) to
    /// `<artifacts-dir>/features/<SYMBOL>_<interval>_stack.parquet` (seed 000's --save-features).
    #[arg(long)]
    pub(crate) save_features: bool,
    #[command(flatten)]
    pub(crate) data: DataDir,
    /// Artifacts folder; the stacks go to `<dir>/stacks/` (several symbols:
    /// `<dir>/symbols/<SYMBOL>/stacks/`).
    #[arg(long, default_value = "artifacts")]
    pub(crate) artifacts_dir: PathBuf,
    #[command(flatten)]
    pub(crate) record: RecordArgs,
}

#[derive(Debug, clap::Args)]
pub(crate) struct StackPredictArgs {
    /// Target tags whose stacks vote (k-of-n majority), e.g. 1s,10s,15s.
    #[arg(long, value_delimiter = ',', default_value = "1s,10s,15s")]
    pub(crate) tags: Vec<String>,
    /// Symbol.
    #[arg(long)]
    pub(crate) symbol: Symbol,
    /// Grid interval of the stored bars.
    #[arg(long, default_value = "1s")]
    pub(crate) interval: Interval,
    #[command(flatten)]
    pub(crate) data: DataDir,
    /// Artifacts folder holding `stacks/` (or `symbols/<SYMBOL>/stacks/`).
    #[arg(long, default_value = "artifacts")]
    pub(crate) artifacts_dir: PathBuf,
}
