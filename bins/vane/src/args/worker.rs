//! `vane worker`.

use std::path::PathBuf;

use super::DataDir;

/// Runs background training jobs from a job queue (the SQLite file `vane serve` submits to)
/// until Ctrl-C / SIGTERM. Several workers, in one process or many, may share one queue: each
/// job runs once.
#[derive(Debug, clap::Args)]
pub(crate) struct WorkerArgs {
    /// The job queue's SQLite file (default: <artifacts-dir>/jobs.sqlite).
    #[arg(long)]
    pub(crate) queue: Option<PathBuf>,
    /// Jobs run at once.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) workers: u16,
    #[command(flatten)]
    pub(crate) data: DataDir,
    /// Artifacts folder the trained models are written to.
    #[arg(long, default_value = "artifacts")]
    pub(crate) artifacts_dir: PathBuf,
    /// On Ctrl-C / SIGTERM, seconds the running jobs get to finish before they are stopped
    /// (and marked failed: submit them again). A second signal stops at once.
    #[arg(long, default_value_t = 30)]
    pub(crate) grace_sec: u64,
}
