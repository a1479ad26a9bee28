//! `vane worker`.

use std::time::Duration;

use anyhow::Result;
use vane_server::jobs::{JobQueue, run_worker};

use crate::args::worker::WorkerArgs;

pub(crate) fn run(a: WorkerArgs) -> Result<()> {
    let queue = a.queue.clone().unwrap_or_else(|| JobQueue::default_path(&a.artifacts_dir));
    let runner = vane_server::train_runner(&a.data.data_dir, &a.artifacts_dir);
    run_worker(&queue, usize::from(a.workers), runner, Duration::from_secs(a.grace_sec))?;
    Ok(())
}
