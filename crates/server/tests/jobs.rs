//! The job queue end to end: a real SQLite file, real apalis workers, a fake runner that sleeps in
//! small steps and reports progress.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use vane_core::Symbol;
use vane_server::jobs::{INTERRUPTED, JobControl, JobInfo, JobKind, JobQueue, JobSpec, JobStatus, Runner};

/// What the fake runner does is chosen by `spec.mode`: `ok` (a few steps, then the symbol as
/// model id; with `config.artifacts`, after writing a model folder there), `fail` (an error),
/// `panic`, `block` (steps until cancelled). `config.tag` names the job in the run counts.
#[derive(Default)]
struct FakeRunner {
    started: AtomicUsize,
    running: AtomicUsize,
    max_running: AtomicUsize,
    runs: Mutex<HashMap<String, usize>>,
}

impl FakeRunner {
    fn runs_of(&self, tag: &str) -> usize {
        self.runs.lock().unwrap().get(tag).copied().unwrap_or(0)
    }
}

struct Running<'a>(&'a AtomicUsize);
impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Runner for FakeRunner {
    fn run(&self, spec: &JobSpec, ctl: &mut dyn JobControl) -> Result<String, String> {
        self.started.fetch_add(1, Ordering::SeqCst);
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        let _guard = Running(&self.running);
        self.max_running.fetch_max(now, Ordering::SeqCst);
        let tag = tag_of(spec);
        *self.runs.lock().unwrap().entry(tag).or_default() += 1;
        let steps = spec.config["steps"].as_u64().unwrap_or(3);
        match spec.mode.as_str() {
            "fail" => Err(format!("no data for {}", spec.symbol)),
            "panic" => panic!("kaboom in {}", spec.symbol),
            "block" => loop {
                if ctl.progress(0.5).is_break() {
                    return Err("stopped".to_string());
                }
                std::thread::sleep(Duration::from_millis(10));
            },
            _ => {
                for i in 0..steps {
                    if ctl.progress(i as f64 / steps as f64).is_break() {
                        return Err("stopped".to_string());
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                // As the trainer does: the model folder is written whole, then swapped in.
                if let Some(artifacts) = spec.config["artifacts"].as_str() {
                    let dest = Path::new(artifacts).join("models").join(spec.symbol.as_str());
                    let stage = vane_artifact::StagedDir::new(&dest).map_err(|e| e.to_string())?;
                    stage.write("written_by", tag_of(spec).as_bytes()).map_err(|e| e.to_string())?;
                    stage.commit().map_err(|e| e.to_string())?;
                }
                Ok(spec.symbol.to_string())
            }
        }
    }
}

/// A runner that reports progress until cancelled (the "killed mid-job" child process).
struct BlockRunner;
impl Runner for BlockRunner {
    fn run(&self, _spec: &JobSpec, ctl: &mut dyn JobControl) -> Result<String, String> {
        while ctl.progress(0.25).is_continue() {
            std::thread::sleep(Duration::from_millis(10));
        }
        Err("stopped".to_string())
    }
}

fn spec(symbol: &str, mode: &str, tag: &str) -> JobSpec {
    JobSpec {
        kind: JobKind::TrainSymbol,
        symbol: Symbol::new(symbol).unwrap(),
        config: serde_json::json!({ "tag": tag }),
        mode: mode.to_string(),
    }
}

fn tag_of(spec: &JobSpec) -> String {
    spec.config["tag"].as_str().unwrap_or_default().to_string()
}

/// [`spec`] for a job that, when it ends `ok`, writes `<artifacts>/models/<SYMBOL>/written_by`
/// (its tag) through a staged folder, as the trainer writes a model.
fn writing_spec(symbol: &str, mode: &str, tag: &str, artifacts: &Path) -> JobSpec {
    let mut s = spec(symbol, mode, tag);
    s.config["artifacts"] = serde_json::json!(artifacts.to_str().unwrap());
    s
}

fn queue_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("artifacts").join("jobs.sqlite")
}

/// Polls job `id` until `done(info)` or 5 s pass.
async fn wait_until(queue: &JobQueue, id: &str, done: impl Fn(&JobInfo) -> bool) -> JobInfo {
    let start = Instant::now();
    loop {
        let info = queue.get(id).await.unwrap().expect("the job exists");
        if done(&info) {
            return info;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "job {id} stuck: {info:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_finished(queue: &JobQueue, id: &str) -> JobInfo {
    wait_until(queue, id, |i| i.status.is_finished()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn submit_runs_to_done_with_model_id_progress_and_timings() {
    let dir = tempfile::tempdir().unwrap();
    let queue = JobQueue::open(&queue_path(&dir)).await.unwrap();
    assert!(queue_path(&dir).exists(), "file and folders created");
    let (info, created) = queue.submit(spec("BTCUSDT", "ok", "a"), "btc").await.unwrap();
    assert!(created);
    assert_eq!(info.status, JobStatus::Queued);
    let got = queue.get(&info.id).await.unwrap().unwrap();
    assert_eq!(got, info);
    assert_eq!(queue.counts().await.unwrap(), (1, 0));
    assert_eq!(queue.active_for("btc").await.unwrap().map(|i| i.id), Some(info.id.clone()));

    let runner = Arc::new(FakeRunner::default());
    let pool = queue.spawn_workers(1, runner.clone());
    let done = wait_finished(&queue, &info.id).await;
    assert_eq!(done.status, JobStatus::Done, "{done:?}");
    assert_eq!(done.model_id.as_deref(), Some("BTCUSDT"));
    assert_eq!(done.progress, 1.0);
    assert_eq!(done.attempts, 1);
    assert_eq!(done.error, None);
    let (started, finished) = (done.started_at_ms.unwrap(), done.finished_at_ms.unwrap());
    assert!(done.created_at_ms <= started && started <= finished, "{done:?}");
    assert_eq!(queue.counts().await.unwrap(), (0, 0));
    assert_eq!(queue.active_for("btc").await.unwrap(), None);
    assert_eq!(queue.list(10).await.unwrap(), vec![done]);
    assert_eq!(queue.get("no-such-job").await.unwrap(), None);
    pool.shutdown().await;
    assert_eq!(runner.started.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_submits_dedupe_to_one_job_per_key_and_a_finished_key_makes_a_new_job() {
    let dir = tempfile::tempdir().unwrap();
    let queue = JobQueue::open(&queue_path(&dir)).await.unwrap();
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let queue = queue.clone();
            tokio::spawn(async move {
                let key = format!("key{}", i % 20);
                let (info, created) = queue.submit(spec("ETHUSDT", "ok", &key), &key).await.unwrap();
                (key, info.id, created)
            })
        })
        .collect();
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut created = 0;
    for t in tasks {
        let (key, id, c) = t.await.unwrap();
        created += usize::from(c);
        let first = ids.entry(key).or_insert_with(|| id.clone());
        assert_eq!(*first, id, "one id per key");
    }
    assert_eq!(created, 20);
    assert_eq!(ids.len(), 20);
    assert_eq!(queue.list(1000).await.unwrap().len(), 20);
    assert_eq!(queue.counts().await.unwrap(), (20, 0));

    let runner = Arc::new(FakeRunner::default());
    let pool = queue.spawn_workers(4, runner.clone());
    for id in ids.values() {
        assert_eq!(wait_finished(&queue, id).await.status, JobStatus::Done);
    }
    let (again, created) = queue.submit(spec("ETHUSDT", "ok", "key0"), "key0").await.unwrap();
    assert!(created, "a finished job does not block a new one");
    assert_ne!(again.id, ids["key0"]);
    assert_eq!(wait_finished(&queue, &again.id).await.status, JobStatus::Done);
    pool.shutdown().await;
    assert_eq!(runner.started.load(Ordering::SeqCst), 21);
    let list = queue.list(1000).await.unwrap();
    assert_eq!(list.len(), 21);
    assert_eq!(list[0].id, again.id, "newest first");
    assert_eq!(queue.list(3).await.unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancelled_queued_job_never_runs() {
    let dir = tempfile::tempdir().unwrap();
    let queue = JobQueue::open(&queue_path(&dir)).await.unwrap();
    let (job, _) = queue.submit(spec("BTCUSDT", "ok", "cancelled"), "btc").await.unwrap();
    let cancelled = queue.cancel(&job.id).await.unwrap().unwrap();
    assert_eq!(cancelled.status, JobStatus::Cancelled);
    assert!(cancelled.finished_at_ms.is_some());
    assert_eq!(queue.cancel("no-such-job").await.unwrap(), None);

    let runner = Arc::new(FakeRunner::default());
    let pool = queue.spawn_workers(1, runner.clone());
    let (next, created) = queue.submit(spec("BTCUSDT", "ok", "next"), "btc").await.unwrap();
    assert!(created, "a cancelled job does not block its key");
    let next = wait_finished(&queue, &next.id).await;
    assert_eq!(next.status, JobStatus::Done);
    // The cancelled job's apalis task was popped before the next one's (or is skipped later):
    // give the worker a moment, then check it never reached the runner.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(runner.runs_of("cancelled"), 0);
    assert_eq!(runner.started.load(Ordering::SeqCst), 1);
    let after = queue.get(&job.id).await.unwrap().unwrap();
    assert_eq!(after.status, JobStatus::Cancelled);
    assert_eq!(after.attempts, 0);
    // Cancelling a finished job leaves it as it is.
    assert_eq!(queue.cancel(&next.id).await.unwrap().unwrap(), next);
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancelled_running_job_ends_cancelled_promptly() {
    let dir = tempfile::tempdir().unwrap();
    let queue = JobQueue::open(&queue_path(&dir)).await.unwrap();
    let runner = Arc::new(FakeRunner::default());
    let pool = queue.spawn_workers(1, runner.clone());
    let (job, _) = queue.submit(spec("SOLUSDT", "block", "b"), "sol").await.unwrap();
    let running = wait_until(&queue, &job.id, |i| i.status == JobStatus::Running).await;
    assert!(running.started_at_ms.is_some());
    assert_eq!(queue.counts().await.unwrap(), (0, 1));
    assert_eq!(pool.running(), 1);

    let asked = Instant::now();
    let requested = queue.cancel(&job.id).await.unwrap().unwrap();
    assert!(requested.cancel_requested);
    assert_eq!(requested.status, JobStatus::Running, "running until the job stops");

    let ended = wait_finished(&queue, &job.id).await;
    assert!(asked.elapsed() < Duration::from_secs(2), "took {:?}", asked.elapsed());
    assert_eq!(ended.status, JobStatus::Cancelled);
    assert_eq!(ended.error, None);
    assert!(ended.finished_at_ms.is_some());
    assert!(ended.progress > 0.0 && ended.progress < 1.0, "progress reached the table: {}", ended.progress);
    pool.shutdown().await;
}

/// A bot cancels a running training and at once submits the same one again: the job being
/// cancelled no longer holds the dedupe key, so the resubmission queues a NEW job (before, it got
/// the cancelled job back and never its model). The old job ends `cancelled` and writes nothing;
/// the new one ends `done` and its model folder is the one in place.
async fn cancel_then_resubmit_makes_a_new_job(queue: &JobQueue, artifacts: &Path) {
    let runner = Arc::new(FakeRunner::default());
    let pool = queue.spawn_workers(2, runner.clone());
    let old_spec = writing_spec("SOLUSDT", "block", "old", artifacts);
    let (old, created) = queue.submit(old_spec, "sol").await.unwrap();
    assert!(created);
    wait_until(queue, &old.id, |i| i.status == JobStatus::Running).await;

    let requested = queue.cancel(&old.id).await.unwrap().unwrap();
    assert!(requested.cancel_requested);
    assert_eq!(requested.status, JobStatus::Running, "running until the job notices");
    assert_eq!(queue.active_for("sol").await.unwrap(), None, "a job being cancelled is not live");
    let mut new_spec = writing_spec("SOLUSDT", "ok", "new", artifacts);
    new_spec.config["steps"] = serde_json::json!(10); // still live for the checks below
    let (new, created) = queue.submit(new_spec, "sol").await.unwrap();
    assert!(created, "the resubmission queues a new job");
    assert_ne!(new.id, old.id);
    assert_eq!(new.status, JobStatus::Queued);
    assert!(!new.cancel_requested);
    // A third submission dedupes onto the new job, not onto the one being cancelled.
    let (again, created) = queue.submit(writing_spec("SOLUSDT", "ok", "again", artifacts), "sol").await.unwrap();
    assert!(!created);
    assert_eq!(again.id, new.id);
    assert_eq!(queue.active_for("sol").await.unwrap().map(|i| i.id), Some(new.id.clone()));

    let old_end = wait_finished(queue, &old.id).await;
    assert_eq!(old_end.status, JobStatus::Cancelled, "{old_end:?}");
    assert_eq!(old_end.model_id, None);
    let new_end = wait_finished(queue, &new.id).await;
    assert_eq!(new_end.status, JobStatus::Done, "{new_end:?}");
    assert_eq!(new_end.model_id.as_deref(), Some("SOLUSDT"));
    assert_eq!(new_end.error, None);
    pool.shutdown().await;
    assert_eq!((runner.runs_of("old"), runner.runs_of("new"), runner.runs_of("again")), (1, 1, 0));
    // The folder the server loads the model from is the new job's, whole.
    let folder = artifacts.join("models").join("SOLUSDT");
    assert_eq!(std::fs::read_to_string(folder.join("written_by")).unwrap(), "new");
    let names: Vec<String> = std::fs::read_dir(artifacts.join("models"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, vec!["SOLUSDT".to_string()], "no temporaries or set-aside folders left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_then_resubmit_queues_a_new_job_whose_model_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let queue = JobQueue::open(&queue_path(&dir)).await.unwrap();
    cancel_then_resubmit_makes_a_new_job(&queue, &dir.path().join("artifacts")).await;
}

/// vane_jobs as versions before the fix created it: the unique index counted `running` jobs with
/// a cancel request too.
const OLD_DDL: &str = "
CREATE TABLE vane_jobs (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    symbol TEXT NOT NULL,
    spec TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    progress REAL NOT NULL DEFAULT 0,
    created_at_ms INTEGER NOT NULL,
    started_at_ms INTEGER,
    finished_at_ms INTEGER,
    error TEXT,
    model_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    owner TEXT,
    heartbeat_ms INTEGER
);
CREATE UNIQUE INDEX vane_jobs_active_key ON vane_jobs(dedupe_key) WHERE status IN ('queued', 'running');
CREATE INDEX vane_jobs_created ON vane_jobs(created_at_ms);
CREATE INDEX vane_jobs_status ON vane_jobs(status);
INSERT INTO vane_jobs (id, kind, symbol, spec, dedupe_key, status, created_at_ms, model_id)
    VALUES ('01OLDJOB', 'train_symbol', 'SOLUSDT', '{}', 'sol', 'done', 1, 'SOLUSDT');
";

/// The unique indexes on vane_jobs, by name.
async fn unique_indexes(path: &Path) -> Vec<String> {
    let pool = sqlx::SqlitePool::connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(path)).await.unwrap();
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'vane_jobs' \
         AND sql LIKE 'CREATE UNIQUE INDEX%' ORDER BY name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows.into_iter().map(|(n,)| n).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_queue_made_with_the_old_dedupe_index_is_migrated_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = queue_path(&dir);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path).create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    sqlx::raw_sql(OLD_DDL).execute(&pool).await.unwrap();
    pool.close().await;
    assert_eq!(unique_indexes(&path).await, vec!["vane_jobs_active_key".to_string()]);

    let queue = JobQueue::open(&path).await.unwrap();
    assert_eq!(unique_indexes(&path).await, vec!["vane_jobs_live_key".to_string()], "old index replaced");
    let kept = queue.get("01OLDJOB").await.unwrap().unwrap();
    assert_eq!((kept.status, kept.model_id.as_deref()), (JobStatus::Done, Some("SOLUSDT")), "rows kept");
    cancel_then_resubmit_makes_a_new_job(&queue, &dir.path().join("artifacts")).await;
    drop(queue);

    // Opening again (the migration runs at every open) changes nothing and keeps the rows.
    let queue = JobQueue::open(&path).await.unwrap();
    assert_eq!(unique_indexes(&path).await, vec!["vane_jobs_live_key".to_string()]);
    let statuses: Vec<JobStatus> = queue.list(10).await.unwrap().into_iter().map(|i| i.status).collect();
    assert_eq!(statuses.len(), 3, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == JobStatus::Cancelled).count(), 1);
    assert_eq!(statuses.iter().filter(|s| **s == JobStatus::Done).count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn runner_errors_and_panics_fail_the_job_and_the_worker_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let queue = JobQueue::open(&queue_path(&dir)).await.unwrap();
    let runner = Arc::new(FakeRunner::default());
    let pool = queue.spawn_workers(1, runner.clone());
    let (fail, _) = queue.submit(spec("AAAUSDT", "fail", "f"), "f").await.unwrap();
    let (panic, _) = queue.submit(spec("BBBUSDT", "panic", "p"), "p").await.unwrap();
    let (ok, _) = queue.submit(spec("CCCUSDT", "ok", "o"), "o").await.unwrap();

    let fail = wait_finished(&queue, &fail.id).await;
    assert_eq!(fail.status, JobStatus::Failed);
    assert_eq!(fail.error.as_deref(), Some("no data for AAAUSDT"));
    assert_eq!(fail.model_id, None);
    let panic = wait_finished(&queue, &panic.id).await;
    assert_eq!(panic.status, JobStatus::Failed);
    let message = panic.error.unwrap();
    assert!(message.contains("panicked") && message.contains("kaboom in BBBUSDT"), "{message}");
    let ok = wait_finished(&queue, &ok.id).await;
    assert_eq!(ok.status, JobStatus::Done, "the worker survived the panic");
    pool.shutdown().await;
    assert_eq!(runner.started.load(Ordering::SeqCst), 3, "nothing retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn at_most_n_jobs_run_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let queue = JobQueue::open(&queue_path(&dir)).await.unwrap();
    let runner = Arc::new(FakeRunner::default());
    let pool = queue.spawn_workers(2, runner.clone());
    let mut ids = Vec::new();
    for i in 0..6 {
        let mut s = spec("BTCUSDT", "ok", &format!("t{i}"));
        s.config["steps"] = serde_json::json!(5);
        ids.push(queue.submit(s, &format!("k{i}")).await.unwrap().0.id);
    }
    for id in &ids {
        let start = Instant::now();
        loop {
            let (_, running) = queue.counts().await.unwrap();
            assert!(running <= 2, "{running} running");
            let info = queue.get(id).await.unwrap().unwrap();
            if info.status.is_finished() {
                assert_eq!(info.status, JobStatus::Done);
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(5));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    pool.shutdown().await;
    assert_eq!(runner.started.load(Ordering::SeqCst), 6);
    let max = runner.max_running.load(Ordering::SeqCst);
    assert!((1..=2).contains(&max), "max running {max}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_pools_on_one_file_run_each_job_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = queue_path(&dir);
    let a = JobQueue::open(&path).await.unwrap();
    let b = JobQueue::open(&path).await.unwrap();
    let runner = Arc::new(FakeRunner::default());
    let pool_a = a.spawn_workers(2, runner.clone());
    let pool_b = b.spawn_workers(2, runner.clone());
    let mut ids = Vec::new();
    for i in 0..12 {
        let q = if i % 2 == 0 { &a } else { &b };
        let mut s = spec("XRPUSDT", "ok", &format!("t{i}"));
        s.config["steps"] = serde_json::json!(2);
        ids.push(q.submit(s, &format!("k{i}")).await.unwrap().0.id);
    }
    for id in &ids {
        let info = wait_finished(&a, id).await;
        assert_eq!(info.status, JobStatus::Done);
        assert_eq!(info.attempts, 1);
    }
    pool_a.shutdown().await;
    pool_b.shutdown().await;
    for i in 0..12 {
        assert_eq!(runner.runs_of(&format!("t{i}")), 1, "job t{i}");
    }
    assert_eq!(runner.started.load(Ordering::SeqCst), 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_input_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let queue = JobQueue::open(&queue_path(&dir)).await.unwrap();
    let err = queue.submit(spec("BTCUSDT", "ok", "x"), "").await.unwrap_err();
    assert_eq!(err.class(), vane_core::ErrorClass::Usage);
    assert!(queue.list(0).await.unwrap().is_empty());

    // A queue path under a file cannot be created.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let err = JobQueue::open(&file.join("jobs.sqlite")).await.unwrap_err();
    assert_eq!(err.class(), vane_core::ErrorClass::Io);
    // A file that is not SQLite is refused, naming it.
    let junk = dir.path().join("junk.sqlite");
    std::fs::write(&junk, vec![b'j'; 4096]).unwrap();
    let err = JobQueue::open(&junk).await.unwrap_err();
    assert!(err.to_string().contains("junk.sqlite"), "{err}");
}

/// The environment variable that turns [`restart_child`] into the process that gets killed.
const CHILD_ENV: &str = "VANE_JOBS_TEST_CHILD_QUEUE";

/// Not a test of its own: when [`killed_mid_job_the_job_fails_as_interrupted_and_the_queue_goes_on`]
/// runs this test binary again with `CHILD_ENV` set, this opens the queue and runs one worker
/// whose jobs never finish, until it is killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_child() {
    let Some(path) = std::env::var_os(CHILD_ENV) else { return };
    let queue = JobQueue::open(Path::new(&path)).await.unwrap();
    let _pool = queue.spawn_workers(1, Arc::new(BlockRunner));
    tokio::time::sleep(Duration::from_secs(30)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_mid_job_the_job_fails_as_interrupted_and_the_queue_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = queue_path(&dir);
    let queue = JobQueue::open(&path).await.unwrap();
    // One finished job from before, which must stay as it is.
    let runner = Arc::new(FakeRunner::default());
    let pool = queue.spawn_workers(1, runner.clone());
    let (before, _) = queue.submit(spec("BTCUSDT", "ok", "before"), "before").await.unwrap();
    let before = wait_finished(&queue, &before.id).await;
    pool.shutdown().await;
    let (x, _) = queue.submit(spec("ETHUSDT", "ok", "x"), "x").await.unwrap();
    let (y, _) = queue.submit(spec("SOLUSDT", "ok", "y"), "y").await.unwrap();

    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["restart_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let (running, waiting) = loop {
        let (xi, yi) = (queue.get(&x.id).await.unwrap().unwrap(), queue.get(&y.id).await.unwrap().unwrap());
        if xi.status == JobStatus::Running && xi.progress > 0.0 {
            break (xi, yi);
        }
        if yi.status == JobStatus::Running && yi.progress > 0.0 {
            break (yi, xi);
        }
        assert!(start.elapsed() < Duration::from_secs(10), "the child never ran a job");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(waiting.status, JobStatus::Queued, "one worker: the other job waits");

    let reopened = JobQueue::open(&path).await.unwrap();
    let interrupted = reopened.get(&running.id).await.unwrap().unwrap();
    assert_eq!(interrupted.status, JobStatus::Failed);
    assert_eq!(interrupted.error.as_deref(), Some(INTERRUPTED));
    assert!(interrupted.finished_at_ms.is_some());
    assert_eq!(reopened.get(&before.id).await.unwrap().unwrap(), before, "other rows intact");
    assert_eq!(reopened.get(&waiting.id).await.unwrap().unwrap().status, JobStatus::Queued);

    let pool = reopened.spawn_workers(1, runner.clone());
    let done = wait_finished(&reopened, &waiting.id).await;
    assert_eq!(done.status, JobStatus::Done, "the queued job runs after the restart");
    tokio::time::sleep(Duration::from_millis(300)).await;
    pool.shutdown().await;
    let tag = |info: &JobInfo| if info.id == x.id { "x" } else { "y" };
    assert_eq!(runner.runs_of(tag(&interrupted)), 0, "an interrupted job is never re-run silently");
    assert_eq!(runner.runs_of(tag(&done)), 1);
    assert_eq!(reopened.get(&running.id).await.unwrap().unwrap().status, JobStatus::Failed);
}
