//! `vane runs list|show|compare`, and the `--runs-dir` / `--no-run-record` flags of the training
//! verbs.

use std::path::PathBuf;

/// The environment variable read when `--runs-dir` is not given.
pub(crate) const RUNS_DIR_ENV: &str = "VANE_RUNS_DIR";

/// `--runs-dir`, shared by every verb that reads or writes the runs registry.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct RunsDirArg {
    /// The runs registry folder (default: $VANE_RUNS_DIR, else `runs` in the working directory).
    #[arg(long, value_name = "DIR")]
    pub(crate) runs_dir: Option<PathBuf>,
}

impl RunsDirArg {
    /// `--runs-dir`, else `$VANE_RUNS_DIR`, else `runs`.
    pub(crate) fn path(&self) -> PathBuf {
        if let Some(p) = &self.runs_dir {
            return p.clone();
        }
        match std::env::var_os(RUNS_DIR_ENV) {
            Some(v) if !v.is_empty() => PathBuf::from(v),
            _ => PathBuf::from("runs"),
        }
    }
}

/// The registry flags of a training verb (`#[command(flatten)]` it).
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct RecordArgs {
    #[command(flatten)]
    pub(crate) runs: RunsDirArg,
    /// Do not record this training session in the runs registry.
    #[arg(long)]
    pub(crate) no_run_record: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct RunsArgs {
    #[command(subcommand)]
    pub(crate) command: RunsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum RunsCommand {
    /// Every recorded run, oldest first: id, verb, model, symbols, interval, status, start,
    /// duration and headline metrics.
    List(ListArgs),
    /// One run: its record, its files and a summary of its training curves.
    Show(ShowArgs),
    /// Two or more runs side by side: metrics, and the config keys that differ.
    Compare(CompareArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    pub(crate) runs: RunsDirArg,
    /// Only runs of this verb (train, train-test, wfo, …).
    #[arg(long)]
    pub(crate) verb: Option<String>,
    /// Only runs of this model kind (gbdt, hrm, lorentzian, …).
    #[arg(long)]
    pub(crate) model: Option<String>,
    /// Only runs that trained on this symbol.
    #[arg(long)]
    pub(crate) symbol: Option<String>,
    /// Only runs with this status (running, finished, failed).
    #[arg(long, value_parser = ["running", "finished", "failed"])]
    pub(crate) status: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ShowArgs {
    /// The run id (see `vane runs list`).
    pub(crate) id: String,
    #[command(flatten)]
    pub(crate) runs: RunsDirArg,
}

#[derive(Debug, clap::Args)]
pub(crate) struct CompareArgs {
    /// Two or more run ids.
    #[arg(num_args = 2.., required = true)]
    pub(crate) ids: Vec<String>,
    #[command(flatten)]
    pub(crate) runs: RunsDirArg,
}
