//! `vane worker`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use vane_server::jobs::{JobControl, JobQueue, JobSpec, QueueLocation, Runner, run_worker_at};

use crate::args::worker::WorkerArgs;
use crate::failure::usage;

/// The `--queue` value of `vane worker` and `vane serve`: a file path or a `postgres://` URL. An
/// error names the flag and masks the URL's password (clap's own message would echo it, which
/// is why the flag is parsed here and not by clap).
pub(crate) fn queue_flag(value: Option<&str>) -> Result<Option<QueueLocation>> {
    value.map(|v| v.parse::<QueueLocation>().map_err(|e| usage(format!("--queue: {e}")))).transpose()
}

pub(crate) fn run(a: WorkerArgs) -> Result<()> {
    let queue = queue_flag(a.queue.as_deref())?
        .unwrap_or_else(|| QueueLocation::Sqlite(JobQueue::default_path(&a.artifacts_dir)));
    let runner = Arc::new(Logged(vane_server::train_runner(&a.data.data_dir, &a.artifacts_dir)));
    run_worker_at(&queue, usize::from(a.workers), runner, Duration::from_secs(a.grace_sec))?;
    Ok(())
}

/// One stderr line when a job starts and one when it ends (`worker: start train_symbol
/// ETHUSDT`, `worker: done train_symbol ETHUSDT model ETHUSDT`): what ran where, for the logs
/// of a fleet of workers.
struct Logged(Arc<dyn Runner>);

impl Runner for Logged {
    fn run(&self, spec: &JobSpec, ctl: &mut dyn JobControl) -> Result<String, String> {
        let (kind, symbol) = (spec.kind.as_str(), spec.symbol.as_str());
        eprintln!("worker: start {kind} {symbol}");
        let result = self.0.run(spec, ctl);
        match &result {
            Ok(model) => eprintln!("worker: done {kind} {symbol} model {model}"),
            Err(e) => eprintln!("worker: failed {kind} {symbol}: {e}"),
        }
        result
    }
}
