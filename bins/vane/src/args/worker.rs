//! `vane worker`.

use std::path::PathBuf;

use super::DataDir;

/// Runs background training jobs from a job queue (the SQLite file `vane serve` submits to, or
/// a PostgreSQL database) until Ctrl-C / SIGTERM. Several workers, in one process or many (on
/// several machines with a `postgres://` queue), may share one queue: each job runs once.
#[derive(Debug, clap::Args)]
pub(crate) struct WorkerArgs {
    /// The job queue: a SQLite file (default: <artifacts-dir>/jobs.sqlite) or a
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE URL shared by workers on any machines
    /// (its password is never printed; PGPASSWORD or ~/.pgpass keep it off the command line).
    #[arg(long)]
    pub(crate) queue: Option<String>,
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
