//! The job pool's shutdown as `vane serve` uses it on SIGTERM: a running job gets the grace
//! period, then is stopped and ends `failed` — the shutdown does not wait for the whole job.

use std::time::Duration;

use vane_core::Symbol;
use vane_server::jobs::{JobControl, JobKind, JobQueue, JobSpec, JobStatus, Runner, SHUT_DOWN};

/// Reports progress until told to stop (a training that would run for ever).
struct Endless;
impl Runner for Endless {
    fn run(&self, _spec: &JobSpec, ctl: &mut dyn JobControl) -> Result<String, String> {
        while ctl.progress(0.25).is_continue() {
            std::thread::sleep(Duration::from_millis(10));
        }
        Err("stopped".to_string())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutdown_within_stops_a_running_job_after_the_grace() {
    let dir = tempfile::tempdir().unwrap();
    let queue = JobQueue::open(&dir.path().join("jobs.sqlite")).await.unwrap();
    let pool = queue.spawn_workers(1, std::sync::Arc::new(Endless));
    let spec = JobSpec {
        kind: JobKind::TrainSymbol,
        symbol: Symbol::new("ETHUSDT").unwrap(),
        config: serde_json::json!({}),
        mode: "fast".into(),
    };
    let (info, _) = queue.submit(spec, "eth").await.unwrap();
    loop {
        let now = queue.get(&info.id).await.unwrap().unwrap();
        assert!(!now.status.is_finished(), "{now:?}");
        if now.status == JobStatus::Running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Before the fix this waited for apalis's worker, which waits for the job: for ever here.
    // The outer timeout only turns such a hang into a failure.
    tokio::time::timeout(Duration::from_secs(120), pool.shutdown_within(Duration::from_millis(100)))
        .await
        .expect("shutdown_within returned");
    let end = queue.get(&info.id).await.unwrap().unwrap();
    assert_eq!(end.status, JobStatus::Failed, "{end:?}");
    assert_eq!(end.error.as_deref(), Some(SHUT_DOWN));
}
