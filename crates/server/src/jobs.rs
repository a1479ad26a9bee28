//! Durable background jobs: apalis + apalis-sqlite do the queueing (a SQLite file, by default
//! `<artifacts-dir>/jobs.sqlite`), and vane keeps its own table beside apalis's for what apalis
//! lacks: the status vocabulary (`queued|running|done|failed|cancelled`), deduplication,
//! progress, cancellation and results.
//!
//! How the two tables work together:
//!
//! - [`JobQueue::submit`] inserts a vane row (`queued`) and pushes an apalis task carrying the
//!   job id, in one `BEGIN IMMEDIATE` transaction. A partial unique index on the dedupe key of
//!   `queued`/`running` rows without a cancel request makes "at most one live job per key" hold
//!   across processes; a job being cancelled does not count, so cancelling a running job and
//!   submitting again queues a new one at once.
//! - An apalis worker (see [`JobQueue::spawn_workers`]) pops the task and *claims* the vane row
//!   with `UPDATE … SET status = 'running' WHERE status = 'queued'`. Only one claim can succeed,
//!   so two pools (two `vane worker` processes on one file) never run a job twice; a cancelled or
//!   interrupted job's task is popped and skipped. The handler always acknowledges apalis with
//!   `Ok`: failures are vane's status, so apalis never retries a job behind vane's back.
//! - A running job's owner (host, pid, pool instance) writes a heartbeat. A `running` row whose
//!   owner is gone (its process is not alive on this host, or its heartbeat is older than
//!   30 s) becomes `failed` with [`INTERRUPTED`] when a queue is opened and every couple of
//!   seconds while a pool runs: never lost, never silently re-run.
//!
//! The same design runs on PostgreSQL ([`JobQueue::open_postgres`], `--queue postgres://…`):
//! apalis-postgres holds the tasks (schema `apalis`), vane's table is `vane_queue.jobs`, and any
//! number of `vane worker` processes on any machines drain the one queue (see [`QueueLocation`]).

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use apalis::prelude::{BackendExt, BoxDynError, Data, TaskBuilder, WorkerBuilder, WorkerBuilderExt, WorkerError};
use apalis_core::backend::WorkerFilter;
use apalis_sqlite::{Config as ApalisConfig, SqliteStorage};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use vane_core::{ErrorClass, Symbol, Timestamp};

#[path = "queue_pg.rs"]
mod queue_pg;
pub use queue_pg::{PgUrl, QueueLocation};

/// The error text of a job whose process stopped while it ran.
pub const INTERRUPTED: &str = "interrupted: the process running it stopped (killed or crashed); submit it again";

/// The error text of a job stopped by [`WorkerPool::shutdown_within`] after the grace period.
pub const SHUT_DOWN: &str = "interrupted: the worker shut down before the job finished; submit it again";

/// The file name of the queue inside the artifacts folder.
pub const DEFAULT_FILE: &str = "jobs.sqlite";

/// The apalis queue (its `job_type`) vane's tasks go to.
const APALIS_QUEUE: &str = "vane.jobs";
/// How often a pool polls apalis for new tasks.
const POLL: Duration = Duration::from_millis(100);
/// How often a pool writes its running jobs' heartbeat and looks for interrupted jobs.
const HEARTBEAT: Duration = Duration::from_secs(2);
/// A running job whose heartbeat is older than this is taken as interrupted.
const STALE_MS: i64 = 30_000;
/// Progress is written to the database at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);
/// apalis's own worker heartbeat (it re-enqueues a dead worker's tasks after two missed ones).
const APALIS_HEARTBEAT: Duration = Duration::from_secs(5);

/// vane's table (idempotent, run at every open). The unique index on the dedupe key covers the
/// *live* jobs: `queued`/`running` without a cancel request, so a job being cancelled does not
/// hold its key and a resubmission queues a new job. Databases made before that had
/// `vane_jobs_active_key` (counting jobs being cancelled too): it is dropped here and
/// `vane_jobs_live_key` created in its place.
const MIGRATION: &str = "
CREATE TABLE IF NOT EXISTS vane_jobs (
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
DROP INDEX IF EXISTS vane_jobs_active_key;
CREATE UNIQUE INDEX IF NOT EXISTS vane_jobs_live_key ON vane_jobs(dedupe_key)
    WHERE status IN ('queued', 'running') AND cancel_requested = 0;
CREATE INDEX IF NOT EXISTS vane_jobs_created ON vane_jobs(created_at_ms);
CREATE INDEX IF NOT EXISTS vane_jobs_status ON vane_jobs(status);
";

/// `SELECT <the JobInfo columns> FROM vane_jobs <tail>`, as a literal.
macro_rules! select_jobs {
    ($tail:literal) => {
        concat!(
            "SELECT id, kind, symbol, status, progress, created_at_ms, started_at_ms, finished_at_ms, ",
            "error, model_id, dedupe_key, attempts, cancel_requested, owner FROM vane_jobs ",
            $tail
        )
    };
}

/// What can go wrong with the job queue.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The queue's folder cannot be created.
    #[error("cannot create the job queue folder {path}: {source}")]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The queue file cannot be opened or set up (apalis's tables or vane's).
    #[error("cannot open the job queue {path}: {message}")]
    Open {
        /// The SQLite file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// A query on the queue failed (locked for too long, disk full, file removed).
    #[error("job queue query failed ({what}): {source}")]
    Db {
        /// The operation.
        what: &'static str,
        /// The database's reason.
        #[source]
        source: sqlx::Error,
    },
    /// A row of the queue cannot be read back (a file edited by hand, or another version).
    #[error("job {id} in the queue is unreadable: {reason}")]
    Corrupt {
        /// The job id.
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// A job cannot be submitted as given.
    #[error("invalid job: {0}")]
    Invalid(String),
    /// The async runtime of [`run_worker`] cannot be built.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// A `postgres://` queue URL that cannot be used as given (shown without its password).
    #[error("invalid job queue URL {url}: {reason}")]
    BadUrl {
        /// The URL, password masked.
        url: String,
        /// What is wrong, and the expected form.
        reason: String,
    },
    /// The PostgreSQL queue cannot be reached or its tables set up.
    #[error("cannot open the job queue on PostgreSQL at {target} ({what}): {source}")]
    PgOpen {
        /// `host:port/database` (never the password).
        target: String,
        /// What failed (connect, vane's tables).
        what: &'static str,
        /// The driver's reason.
        #[source]
        source: sqlx::Error,
    },
    /// apalis-postgres cannot set up or use its tables (`apalis` schema).
    #[error("job queue on PostgreSQL at {target} ({what}): {source}")]
    PgApalis {
        /// `host:port/database` (never the password).
        target: String,
        /// What failed.
        what: &'static str,
        /// apalis's reason.
        #[source]
        source: apalis_postgres::Error,
    },
}

impl JobError {
    /// The class of this error (exit code of the CLI, HTTP status of the service).
    pub fn class(&self) -> ErrorClass {
        match self {
            JobError::CreateDir { .. }
            | JobError::Open { .. }
            | JobError::Db { .. }
            | JobError::PgOpen { .. }
            | JobError::PgApalis { .. } => ErrorClass::Io,
            JobError::Corrupt { .. } => ErrorClass::Data,
            JobError::Invalid(_) | JobError::BadUrl { .. } => ErrorClass::Usage,
            JobError::Runtime(_) => ErrorClass::Internal,
        }
    }
}

fn db(what: &'static str) -> impl FnOnce(sqlx::Error) -> JobError {
    move |source| JobError::Db { what, source }
}

/// The kinds of job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Train one symbol's own model (`models/<SYMBOL>`).
    TrainSymbol,
}

impl JobKind {
    /// The stored spelling (`train_symbol`).
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::TrainSymbol => "train_symbol",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        (s == "train_symbol").then_some(JobKind::TrainSymbol)
    }
}

/// What a job does: handed to the [`Runner`] as submitted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    /// The kind of job.
    pub kind: JobKind,
    /// The symbol it is about.
    pub symbol: Symbol,
    /// The training configuration (opaque to the queue).
    pub config: serde_json::Value,
    /// The training mode (`fast`, `quality`; opaque to the queue).
    pub mode: String,
}

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for a worker.
    Queued,
    /// A worker runs it.
    Running,
    /// Finished; `model_id` is set.
    Done,
    /// Finished with an error (`error`), or interrupted.
    Failed,
    /// Cancelled before or while it ran.
    Cancelled,
}

impl JobStatus {
    /// The stored spelling (`queued`, `running`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    /// True for `done`, `failed` and `cancelled`.
    pub fn is_finished(self) -> bool {
        matches!(self, JobStatus::Done | JobStatus::Failed | JobStatus::Cancelled)
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "done" => JobStatus::Done,
            "failed" => JobStatus::Failed,
            "cancelled" => JobStatus::Cancelled,
            _ => return None,
        })
    }
}

/// A job as the queue knows it (the answer of `GET /v1/jobs/{id}`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JobInfo {
    /// The job id (a ULID: 26 characters, sortable by creation time).
    pub id: String,
    /// The kind of job.
    pub kind: JobKind,
    /// The symbol it is about.
    pub symbol: Symbol,
    /// Where it is.
    pub status: JobStatus,
    /// Progress, 0 to 1 (1 once done).
    pub progress: f64,
    /// When it was submitted (ms since epoch, UTC).
    pub created_at_ms: i64,
    /// When a worker started it.
    pub started_at_ms: Option<i64>,
    /// When it finished (done, failed or cancelled).
    pub finished_at_ms: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
    /// The model it produced.
    pub model_id: Option<String>,
    /// The deduplication key it was submitted with.
    pub dedupe_key: String,
    /// How many times a worker started it (0 or 1: a job is never run twice).
    pub attempts: u32,
    /// A cancel was asked for while it runs; it ends `cancelled` at its next progress report.
    pub cancel_requested: bool,
    /// The worker that ran (or runs) it: `vane:<host>:<pid>:<instance>`; `None` while queued.
    pub worker: Option<String>,
}

/// What a running job sees of the queue.
pub trait JobControl {
    /// Reports progress (`fraction` in 0..=1; out-of-range values are clamped, NaN ignored).
    /// `Break` means the job was cancelled (or its worker is shutting down): stop and return.
    fn progress(&mut self, fraction: f64) -> ControlFlow<()>;
}

/// Does the work of a job.
pub trait Runner: Send + Sync + 'static {
    /// Runs the job on a blocking thread; `Ok(model id)` or `Err(message)`. Call
    /// `ctl.progress` regularly: it is how cancellation reaches the job.
    fn run(&self, spec: &JobSpec, ctl: &mut dyn JobControl) -> Result<String, String>;
}

/// The payload of vane's apalis tasks: which vane job to run.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Dispatch {
    id: String,
}

/// A durable job queue: one SQLite file ([`JobQueue::open`]) or a PostgreSQL database
/// ([`JobQueue::open_postgres`]). Cheap to clone; share it.
#[derive(Clone, Debug)]
pub struct JobQueue {
    backend: Backend,
}

#[derive(Clone, Debug)]
enum Backend {
    Sqlite(SqliteQueue),
    Postgres(queue_pg::PgQueue),
}

/// The SQLite backend.
#[derive(Clone, Debug)]
struct SqliteQueue {
    pool: SqlitePool,
    path: PathBuf,
}

fn now_ms() -> i64 {
    Timestamp::now().0
}

impl JobQueue {
    /// The default queue file in `artifacts_dir` (`<artifacts-dir>/jobs.sqlite`).
    pub fn default_path(artifacts_dir: &Path) -> PathBuf {
        artifacts_dir.join(DEFAULT_FILE)
    }

    /// Opens (creating the file and its folders) the SQLite queue at `path`: apalis's tables and
    /// vane's, WAL mode. `running` jobs whose process is gone become `failed` with
    /// [`INTERRUPTED`], and apalis tasks held by such a process are released for other workers.
    pub async fn open(path: &Path) -> Result<Self, JobError> {
        Ok(Self { backend: Backend::Sqlite(SqliteQueue::open(path).await?) })
    }

    /// Connects to the PostgreSQL queue at `url`, runs apalis-postgres's migrations (schema
    /// `apalis`) and vane's (`vane_queue.jobs`), and reaps interrupted jobs as [`open`](Self::open)
    /// does. An unreachable server is an error naming `host:port/database`; the password is
    /// never shown.
    pub async fn open_postgres(url: &PgUrl) -> Result<Self, JobError> {
        Ok(Self { backend: Backend::Postgres(queue_pg::PgQueue::open(url).await?) })
    }

    /// Opens the queue at `location` (a SQLite file or a PostgreSQL URL).
    pub async fn open_at(location: &QueueLocation) -> Result<Self, JobError> {
        match location {
            QueueLocation::Sqlite(path) => Self::open(path).await,
            QueueLocation::Postgres(url) => Self::open_postgres(url).await,
        }
    }

    /// The queue file (`None` on PostgreSQL).
    pub fn path(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Sqlite(q) => Some(&q.path),
            Backend::Postgres(_) => None,
        }
    }

    /// Where the queue is, for messages: the file, or the URL with its password masked.
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Sqlite(q) => q.path.display().to_string(),
            Backend::Postgres(q) => q.url().to_string(),
        }
    }

    /// Submits a job, unless a `queued` or `running` job without a cancel request has
    /// `dedupe_key`: then that job is returned with `created = false`. Atomic across tasks and
    /// processes.
    pub async fn submit(&self, spec: JobSpec, dedupe_key: &str) -> Result<(JobInfo, bool), JobError> {
        match &self.backend {
            Backend::Sqlite(q) => q.submit(spec, dedupe_key).await,
            Backend::Postgres(q) => q.submit(spec, dedupe_key).await,
        }
    }

    /// The job `id`, if there is one.
    pub async fn get(&self, id: &str) -> Result<Option<JobInfo>, JobError> {
        match &self.backend {
            Backend::Sqlite(q) => q.get(id).await,
            Backend::Postgres(q) => q.get(id).await,
        }
    }

    /// The `limit` newest jobs, newest first.
    pub async fn list(&self, limit: usize) -> Result<Vec<JobInfo>, JobError> {
        match &self.backend {
            Backend::Sqlite(q) => q.list(limit).await,
            Backend::Postgres(q) => q.list(limit).await,
        }
    }

    /// Cancels job `id`: a `queued` job becomes `cancelled` at once (a worker that pops it
    /// skips it); a `running` one gets `cancel_requested` and ends `cancelled` at its next
    /// progress report; a finished one is left as it is. `None` when there is no such job.
    pub async fn cancel(&self, id: &str) -> Result<Option<JobInfo>, JobError> {
        match &self.backend {
            Backend::Sqlite(q) => q.cancel(id).await,
            Backend::Postgres(q) => q.cancel(id).await,
        }
    }

    /// How many jobs are `(queued, running)`.
    pub async fn counts(&self) -> Result<(usize, usize), JobError> {
        match &self.backend {
            Backend::Sqlite(q) => q.counts().await,
            Backend::Postgres(q) => q.counts().await,
        }
    }

    /// The `queued` or `running` job with `dedupe_key` and no cancel request, if any.
    pub async fn active_for(&self, dedupe_key: &str) -> Result<Option<JobInfo>, JobError> {
        match &self.backend {
            Backend::Sqlite(q) => q.active_for(dedupe_key).await,
            Backend::Postgres(q) => q.active_for(dedupe_key).await,
        }
    }

    /// Starts an apalis worker that runs up to `n` jobs at once (`n = 0` counts as 1) on the
    /// current tokio runtime. Each job runs `runner.run` on a blocking thread; progress goes to
    /// the database at most every 200 ms and reads the cancel flag back, so a cancel from
    /// another process reaches the job too. A panic in `run` fails the job with its message.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn spawn_workers(&self, n: usize, runner: Arc<dyn Runner>) -> WorkerPool {
        match &self.backend {
            Backend::Sqlite(q) => q.spawn_workers(n, runner),
            Backend::Postgres(q) => q.spawn_workers(n, runner),
        }
    }
}

impl SqliteQueue {
    async fn open(path: &Path) -> Result<Self, JobError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| JobError::CreateDir { path: dir.to_path_buf(), source })?;
        }
        let open_err = |message: String| JobError::Open { path: path.to_path_buf(), message };
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30));
        // apalis's setup sets per-connection pragmas (`synchronous = OFF`) we do not want on the
        // pool we keep: run it on a connection of its own.
        let setup = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(|e| open_err(e.to_string()))?;
        let migrated = async {
            SqliteStorage::setup(&setup).await.map_err(|e| format!("apalis setup: {e}"))?;
            sqlx::raw_sql(MIGRATION).execute(&setup).await.map_err(|e| format!("vane tables: {e}"))?;
            Ok::<(), String>(())
        }
        .await;
        setup.close().await;
        migrated.map_err(open_err)?;
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|e| open_err(e.to_string()))?;
        let queue = Self { pool, path: path.to_path_buf() };
        queue.reap().await?;
        Ok(queue)
    }

    /// Submits a job, unless a `queued` or `running` job without a cancel request has
    /// `dedupe_key`: then that job is returned with `created = false`. Atomic across tasks and
    /// processes.
    async fn submit(&self, spec: JobSpec, dedupe_key: &str) -> Result<(JobInfo, bool), JobError> {
        if dedupe_key.is_empty() || dedupe_key.len() > 512 {
            return Err(JobError::Invalid(format!("the dedupe key must be 1 to 512 bytes, got {}", dedupe_key.len())));
        }
        let spec_json =
            serde_json::to_string(&spec).map_err(|e| JobError::Invalid(format!("the job spec is not JSON: {e}")))?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(db("submit: begin"))?;
        let sql = select_jobs!("WHERE dedupe_key = ?1 AND status IN ('queued', 'running') AND cancel_requested = 0");
        if let Some(row) =
            sqlx::query(sql).bind(dedupe_key).fetch_optional(&mut *tx).await.map_err(db("submit: dedupe"))?
        {
            let info = info_from_row(&row)?;
            tx.commit().await.map_err(db("submit: commit"))?;
            return Ok((info, false));
        }
        let id = ulid::Ulid::generate().to_string();
        let now = now_ms();
        sqlx::query(
            "INSERT INTO vane_jobs (id, kind, symbol, spec, dedupe_key, status, created_at_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6)",
        )
        .bind(&id)
        .bind(spec.kind.as_str())
        .bind(spec.symbol.as_str())
        .bind(&spec_json)
        .bind(dedupe_key)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db("submit: insert"))?;
        let args = serde_json::to_vec(&Dispatch { id: id.clone() })
            .map_err(|e| JobError::Invalid(format!("the dispatch is not JSON: {e}")))?;
        let task = TaskBuilder::new(args).max_attempts(1).build();
        apalis_sqlite::queries::push_tasks(&mut *tx, APALIS_QUEUE, &[task]).await.map_err(|e| JobError::Db {
            what: "submit: push the apalis task",
            source: match e {
                apalis_sqlite::Error::Database(e) => e,
                other => sqlx::Error::Protocol(other.to_string()),
            },
        })?;
        tx.commit().await.map_err(db("submit: commit"))?;
        let info = JobInfo {
            id,
            kind: spec.kind,
            symbol: spec.symbol,
            status: JobStatus::Queued,
            progress: 0.0,
            created_at_ms: now,
            started_at_ms: None,
            finished_at_ms: None,
            error: None,
            model_id: None,
            dedupe_key: dedupe_key.to_string(),
            attempts: 0,
            cancel_requested: false,
            worker: None,
        };
        Ok((info, true))
    }

    /// The job `id`, if there is one.
    async fn get(&self, id: &str) -> Result<Option<JobInfo>, JobError> {
        let sql = select_jobs!("WHERE id = ?1");
        let row = sqlx::query(sql).bind(id).fetch_optional(&self.pool).await.map_err(db("get"))?;
        row.as_ref().map(info_from_row).transpose()
    }

    /// The `limit` newest jobs, newest first.
    async fn list(&self, limit: usize) -> Result<Vec<JobInfo>, JobError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let sql = select_jobs!("ORDER BY created_at_ms DESC, id DESC LIMIT ?1");
        let rows = sqlx::query(sql).bind(limit).fetch_all(&self.pool).await.map_err(db("list"))?;
        rows.iter().map(info_from_row).collect()
    }

    /// Cancels job `id`: a `queued` job becomes `cancelled` at once (a worker that pops it
    /// skips it); a `running` one gets `cancel_requested` and ends `cancelled` at its next
    /// progress report; a finished one is left as it is. `None` when there is no such job.
    async fn cancel(&self, id: &str) -> Result<Option<JobInfo>, JobError> {
        sqlx::query(
            "UPDATE vane_jobs SET status = 'cancelled', finished_at_ms = ?2 WHERE id = ?1 AND status = 'queued'",
        )
        .bind(id)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(db("cancel queued"))?;
        sqlx::query("UPDATE vane_jobs SET cancel_requested = 1 WHERE id = ?1 AND status = 'running'")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db("cancel running"))?;
        self.get(id).await
    }

    /// How many jobs are `(queued, running)`.
    async fn counts(&self) -> Result<(usize, usize), JobError> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM vane_jobs WHERE status IN ('queued', 'running') GROUP BY status",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db("counts"))?;
        let (mut queued, mut running) = (0, 0);
        for row in rows {
            let status: String = row.try_get("status").map_err(db("counts"))?;
            let n: i64 = row.try_get("n").map_err(db("counts"))?;
            let n = usize::try_from(n).unwrap_or(0);
            match status.as_str() {
                "queued" => queued = n,
                _ => running = n,
            }
        }
        Ok((queued, running))
    }

    /// The `queued` or `running` job with `dedupe_key` and no cancel request, if any.
    async fn active_for(&self, dedupe_key: &str) -> Result<Option<JobInfo>, JobError> {
        let sql = select_jobs!("WHERE dedupe_key = ?1 AND status IN ('queued', 'running') AND cancel_requested = 0");
        let row = sqlx::query(sql).bind(dedupe_key).fetch_optional(&self.pool).await.map_err(db("active_for"))?;
        row.as_ref().map(info_from_row).transpose()
    }

    /// Starts an apalis worker that runs up to `n` jobs at once (`n = 0` counts as 1) on the
    /// current tokio runtime. Each job runs `runner.run` on a blocking thread; progress goes to
    /// the database at most every 200 ms and reads the cancel flag back, so a cancel from
    /// another process reaches the job too. A panic in `run` fails the job with its message.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    fn spawn_workers(&self, n: usize, runner: Arc<dyn Runner>) -> WorkerPool {
        let n = n.max(1);
        let owner = owner_name();
        live_instances().lock().unwrap_or_else(|e| e.into_inner()).insert(owner.clone());
        let shared = Arc::new(Shared {
            pool: self.pool.clone(),
            runner,
            owner: owner.clone(),
            flight: Arc::new(Flight::default()),
        });
        let config = ApalisConfig::default().queue(APALIS_QUEUE).batch_size(1).heartbeat_interval(APALIS_HEARTBEAT);
        let backend = SqliteStorage::<Dispatch>::new(&self.pool).with_config(config).poll_with_interval(POLL);
        let worker =
            WorkerBuilder::new(owner.as_str()).backend(backend).data(Arc::clone(&shared)).concurrency(n).build(handle);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let worker_task = tokio::spawn(async move {
            let stop = async move {
                let _ = stop_rx.await;
                Ok::<(), WorkerError>(())
            };
            if let Err(e) = worker.run_until(stop).await {
                eprintln!("job worker stopped: {e}");
            }
        });
        let beat = {
            let queue = self.clone();
            let owner = owner.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(HEARTBEAT);
                loop {
                    tick.tick().await;
                    let _ =
                        sqlx::query("UPDATE vane_jobs SET heartbeat_ms = ?2 WHERE owner = ?1 AND status = 'running'")
                            .bind(&owner)
                            .bind(now_ms())
                            .execute(&queue.pool)
                            .await;
                    let _ = queue.reap().await;
                }
            })
        };
        WorkerPool {
            flight: Arc::clone(&shared.flight),
            stop: Some(stop_tx),
            worker: Some(worker_task),
            beat,
            owner,
            workers: n,
        }
    }

    /// Fails the `running` jobs of gone owners and releases the apalis tasks gone workers held.
    async fn reap(&self) -> Result<(), JobError> {
        let now = now_ms();
        let rows = sqlx::query("SELECT id, owner, heartbeat_ms FROM vane_jobs WHERE status = 'running'")
            .fetch_all(&self.pool)
            .await
            .map_err(db("reap: running jobs"))?;
        for row in rows {
            let id: String = row.try_get("id").map_err(db("reap"))?;
            let owner: Option<String> = row.try_get("owner").map_err(db("reap"))?;
            let beat: Option<i64> = row.try_get("heartbeat_ms").map_err(db("reap"))?;
            let owner = owner.unwrap_or_default();
            if owner_alive(&owner, beat.unwrap_or(0), now) {
                continue;
            }
            sqlx::query(
                "UPDATE vane_jobs SET status = 'failed', error = ?3, finished_at_ms = ?4 \
                 WHERE id = ?1 AND status = 'running' AND owner IS ?2",
            )
            .bind(&id)
            .bind((!owner.is_empty()).then_some(owner.as_str()))
            .bind(INTERRUPTED)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db("reap: fail interrupted"))?;
        }
        let workers = sqlx::query(
            // Workers silent for a minute are apalis's own business (its heartbeat re-enqueues
            // their tasks); this is the fast path for a process that just died on this host.
            "SELECT id, last_seen FROM Workers WHERE worker_type = ?1 AND last_seen >= strftime('%s', 'now') - 60",
        )
        .bind(APALIS_QUEUE)
        .fetch_all(&self.pool)
        .await
        .map_err(db("reap: apalis workers"))?;
        for row in workers {
            let id: String = row.try_get("id").map_err(db("reap"))?;
            let last_seen: i64 = row.try_get("last_seen").map_err(db("reap"))?;
            if owner_alive(&id, last_seen.saturating_mul(1000), now) {
                continue;
            }
            apalis_sqlite::queries::reenqueue_orphaned(&self.pool, 0, APALIS_QUEUE, &WorkerFilter::Only(id))
                .await
                .map_err(db("reap: re-enqueue a gone worker's tasks"))?;
        }
        Ok(())
    }
}

fn info_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<JobInfo, JobError> {
    let id: String = row.try_get("id").map_err(db("read a job"))?;
    let corrupt = |reason: String| JobError::Corrupt { id: id.clone(), reason };
    let kind: String = row.try_get("kind").map_err(db("read a job"))?;
    let kind = JobKind::parse(&kind).ok_or_else(|| corrupt(format!("unknown kind {kind:?}")))?;
    let symbol: String = row.try_get("symbol").map_err(db("read a job"))?;
    let symbol = Symbol::new(&symbol).map_err(|e| corrupt(e.to_string()))?;
    let status: String = row.try_get("status").map_err(db("read a job"))?;
    let status = JobStatus::parse(&status).ok_or_else(|| corrupt(format!("unknown status {status:?}")))?;
    let attempts: i64 = row.try_get("attempts").map_err(db("read a job"))?;
    let cancel: i64 = row.try_get("cancel_requested").map_err(db("read a job"))?;
    Ok(JobInfo {
        kind,
        symbol,
        status,
        progress: row.try_get("progress").map_err(db("read a job"))?,
        created_at_ms: row.try_get("created_at_ms").map_err(db("read a job"))?,
        started_at_ms: row.try_get("started_at_ms").map_err(db("read a job"))?,
        finished_at_ms: row.try_get("finished_at_ms").map_err(db("read a job"))?,
        error: row.try_get("error").map_err(db("read a job"))?,
        model_id: row.try_get("model_id").map_err(db("read a job"))?,
        dedupe_key: row.try_get("dedupe_key").map_err(db("read a job"))?,
        attempts: u32::try_from(attempts).unwrap_or(0),
        cancel_requested: cancel != 0,
        worker: row.try_get("owner").map_err(db("read a job"))?,
        id,
    })
}

/// `vane worker`: blocking entry point. Builds a tokio runtime, opens the queue at
/// `queue_path`, runs `workers` jobs at once with `runner`, prints `worker: N workers on PATH`
/// to stderr, and on Ctrl-C / SIGTERM stops taking jobs and gives the running ones `grace` to
/// finish before stopping them ([`WorkerPool::shutdown_within`]); a second signal returns at once
/// (jobs still running then are failed as interrupted by the next process that opens the queue).
pub fn run_worker(queue_path: &Path, workers: usize, runner: Arc<dyn Runner>, grace: Duration) -> Result<(), JobError> {
    run_worker_at(&QueueLocation::Sqlite(queue_path.to_path_buf()), workers, runner, grace)
}

/// [`run_worker`] on the queue at `location`: a SQLite file, or a PostgreSQL URL that any
/// number of workers on any machines share (each job runs once). Prints
/// `worker: N workers on LOCATION (name NAME)`, the URL's password masked.
pub fn run_worker_at(
    location: &QueueLocation,
    workers: usize,
    runner: Arc<dyn Runner>,
    grace: Duration,
) -> Result<(), JobError> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(JobError::Runtime)?;
    let result = rt.block_on(async move {
        let queue = JobQueue::open_at(location).await?;
        let pool = queue.spawn_workers(workers, runner);
        eprintln!("worker: {} workers on {} (name {})", pool.workers(), queue.describe(), pool.name());
        crate::shutdown_signal().await;
        eprintln!("worker: stopping; running jobs get {} s to finish (a second signal stops at once)", grace.as_secs());
        tokio::select! {
            () = pool.shutdown_within(grace) => {}
            () = crate::shutdown_signal() => {
                eprintln!("worker: stopped with jobs running; they will show as failed (interrupted)");
            }
        }
        Ok(())
    });
    // Jobs abandoned by a second signal still hold blocking threads: do not wait for them.
    rt.shutdown_background();
    result
}

// ---- owners: which process runs a job, and is it still there ----

fn live_instances() -> &'static Mutex<HashSet<String>> {
    static LIVE: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    LIVE.get_or_init(|| Mutex::new(HashSet::new()))
}

fn host_name() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().replace(':', "_"))
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_string())
    })
}

/// `vane:<host>:<pid>:<instance>`: the apalis worker name and the owner of the jobs it runs.
fn owner_name() -> String {
    format!("vane:{}:{}:{}", host_name(), std::process::id(), ulid::Ulid::generate())
}

/// Whether the owner of a running job (or an apalis worker) is still there: its heartbeat is
/// recent, and when it is on this host, its process (or, in this process, its pool) exists.
fn owner_alive(owner: &str, last_seen_ms: i64, now: i64) -> bool {
    if now.saturating_sub(last_seen_ms) > STALE_MS {
        return false;
    }
    let Some(rest) = owner.strip_prefix("vane:") else { return true };
    let mut parts = rest.rsplitn(3, ':');
    let (Some(_instance), Some(pid), Some(host)) = (parts.next(), parts.next(), parts.next()) else {
        return true;
    };
    let Ok(pid) = pid.parse::<u32>() else { return true };
    if host != host_name() {
        return true;
    }
    if pid == std::process::id() {
        return live_instances().lock().unwrap_or_else(|e| e.into_inner()).contains(owner);
    }
    if Path::new("/proc/self").exists() {
        return process_running(pid);
    }
    true
}

/// Whether process `pid` exists and has not exited (Linux `/proc`). A killed process stays in
/// `/proc` as a zombie (state `Z`) until its parent reaps it — for ever under a container's PID 1
/// that reaps nothing — and its jobs must be failed at once, not after [`STALE_MS`].
fn process_running(pid: u32) -> bool {
    let dir = Path::new("/proc").join(pid.to_string());
    match std::fs::read_to_string(dir.join("stat")) {
        // `pid (comm) S …`: the state follows the last `)` (comm may hold spaces and parens).
        Ok(stat) => !matches!(
            stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next()),
            Some('Z' | 'X' | 'x')
        ),
        Err(_) => dir.exists(),
    }
}

// ---- workers ----

struct Shared {
    pool: SqlitePool,
    runner: Arc<dyn Runner>,
    owner: String,
    flight: Arc<Flight>,
}

/// What a pool and its running jobs share, whatever the backend.
#[derive(Debug, Default)]
struct Flight {
    in_flight: AtomicUsize,
    idle: tokio::sync::Notify,
    interrupt: AtomicBool,
}

impl Flight {
    fn enter(&self) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
    }

    fn leave(&self) {
        if self.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }

    fn interrupted(&self) -> bool {
        self.interrupt.load(Ordering::SeqCst)
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("owner", &self.owner).finish_non_exhaustive()
    }
}

/// The apalis handler: runs the vane job in a task of its own, so that the job is finished and
/// recorded even if apalis drops this future.
async fn handle(task: Dispatch, shared: Data<Arc<Shared>>) -> Result<(), BoxDynError> {
    let shared = Arc::clone(&shared);
    shared.flight.enter();
    let job = tokio::spawn({
        let shared = Arc::clone(&shared);
        async move { execute(&shared, &task.id).await }
    });
    let result = job.await;
    shared.flight.leave();
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Box::new(e)),
        Err(e) => Err(Box::new(e)),
    }
}

enum Outcome {
    Done(String),
    Failed(String),
    Cancelled,
}

async fn execute(shared: &Arc<Shared>, id: &str) -> Result<(), JobError> {
    let now = now_ms();
    let claimed = sqlx::query(
        "UPDATE vane_jobs SET status = 'running', started_at_ms = ?2, heartbeat_ms = ?2, owner = ?3, \
         attempts = attempts + 1, progress = 0 WHERE id = ?1 AND status = 'queued' RETURNING spec",
    )
    .bind(id)
    .bind(now)
    .bind(&shared.owner)
    .fetch_optional(&shared.pool)
    .await
    .map_err(db("claim a job"))?;
    let Some(row) = claimed else { return Ok(()) }; // cancelled, interrupted or already taken
    let spec_json: String = row.try_get("spec").map_err(db("claim a job"))?;
    let spec: JobSpec = match serde_json::from_str(&spec_json) {
        Ok(spec) => spec,
        Err(e) => return finish(shared, id, Outcome::Failed(format!("unreadable job spec: {e}"))).await,
    };
    let ctl = Control {
        rt: tokio::runtime::Handle::current(),
        pool: shared.pool.clone(),
        id: id.to_string(),
        owner: shared.owner.clone(),
        shared: Arc::clone(shared),
        last_write: None,
        stop: None,
    };
    let runner = Arc::clone(&shared.runner);
    let ran = tokio::task::spawn_blocking(move || {
        let mut ctl = ctl;
        let result = runner.run(&spec, &mut ctl);
        (result, ctl.stop)
    })
    .await;
    match outcome_of(ran) {
        Some(outcome) => finish(shared, id, outcome).await,
        None => Ok(()),
    }
}

/// What the runner's thread came back with, as the job's outcome; `None` when the row is no
/// longer this worker's to finish (both queue backends).
fn outcome_of(ran: Result<(Result<String, String>, Option<Stop>), tokio::task::JoinError>) -> Option<Outcome> {
    Some(match ran {
        Ok((Ok(model_id), _)) => Outcome::Done(model_id),
        Ok((Err(_), Some(Stop::Cancelled))) => Outcome::Cancelled,
        Ok((Err(_), Some(Stop::ShutDown))) => Outcome::Failed(SHUT_DOWN.to_string()),
        Ok((Err(_), Some(Stop::Gone))) => return None,
        Ok((Err(message), None)) => Outcome::Failed(message),
        Err(e) if e.is_panic() => Outcome::Failed(format!("the job panicked: {}", panic_message(e.into_panic()))),
        Err(e) => Outcome::Failed(format!("the job's thread failed: {e}")),
    })
}

impl Outcome {
    /// The row's `(status, error, model_id, progress)` for this outcome.
    fn columns(self) -> (&'static str, Option<String>, Option<String>, Option<f64>) {
        match self {
            Outcome::Done(model) => ("done", None, Some(model), Some(1.0)),
            Outcome::Failed(message) => ("failed", Some(message), None, None),
            Outcome::Cancelled => ("cancelled", None, None, None),
        }
    }
}

async fn finish(shared: &Shared, id: &str, outcome: Outcome) -> Result<(), JobError> {
    let (status, error, model_id, progress) = outcome.columns();
    // The end of a job must reach the table (else the row stays `running` while this pool
    // lives): retry a failing write a few times before giving up.
    let mut tries = 0;
    loop {
        let written = sqlx::query(
            "UPDATE vane_jobs SET status = ?3, error = ?4, model_id = ?5, progress = COALESCE(?6, progress), \
             finished_at_ms = ?7 WHERE id = ?1 AND owner = ?2 AND status = 'running'",
        )
        .bind(id)
        .bind(&shared.owner)
        .bind(status)
        .bind(error.as_deref())
        .bind(model_id.as_deref())
        .bind(progress)
        .bind(now_ms())
        .execute(&shared.pool)
        .await;
        match written {
            Ok(_) => return Ok(()),
            Err(e) if tries >= 5 => return Err(JobError::Db { what: "record a job's end", source: e }),
            Err(_) => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(200 * tries)).await;
            }
        }
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(s) => (*s).to_string(),
            Err(_) => "(no message)".to_string(),
        },
    }
}

/// Why a job was told to stop.
#[derive(Clone, Copy, Debug)]
enum Stop {
    /// A cancel was requested.
    Cancelled,
    /// The pool is shutting down past its grace period.
    ShutDown,
    /// The row is no longer ours (taken as interrupted by another process).
    Gone,
}

struct Control {
    rt: tokio::runtime::Handle,
    pool: SqlitePool,
    id: String,
    owner: String,
    shared: Arc<Shared>,
    last_write: Option<Instant>,
    stop: Option<Stop>,
}

impl JobControl for Control {
    fn progress(&mut self, fraction: f64) -> ControlFlow<()> {
        if self.stop.is_some() {
            return ControlFlow::Break(());
        }
        if self.shared.flight.interrupted() {
            self.stop = Some(Stop::ShutDown);
            return ControlFlow::Break(());
        }
        if self.last_write.is_some_and(|t| t.elapsed() < PROGRESS_EVERY) {
            return ControlFlow::Continue(());
        }
        self.last_write = Some(Instant::now());
        let fraction = if fraction.is_nan() { None } else { Some(fraction.clamp(0.0, 1.0)) };
        let query = sqlx::query(
            "UPDATE vane_jobs SET progress = COALESCE(?3, progress), heartbeat_ms = ?4 \
             WHERE id = ?1 AND owner = ?2 AND status = 'running' RETURNING cancel_requested",
        )
        .bind(&self.id)
        .bind(&self.owner)
        .bind(fraction)
        .bind(now_ms())
        .fetch_optional(&self.pool);
        match self.rt.block_on(query) {
            Ok(Some(row)) => {
                if row.try_get::<i64, _>("cancel_requested").unwrap_or(0) != 0 {
                    self.stop = Some(Stop::Cancelled);
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            }
            Ok(None) => {
                self.stop = Some(Stop::Gone);
                ControlFlow::Break(())
            }
            // A busy or failing database must not kill a long job: try again next time.
            Err(_) => ControlFlow::Continue(()),
        }
    }
}

/// Workers started by [`JobQueue::spawn_workers`]. Dropping it stops taking jobs without
/// waiting; prefer [`WorkerPool::shutdown`].
#[derive(Debug)]
pub struct WorkerPool {
    flight: Arc<Flight>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    worker: Option<tokio::task::JoinHandle<()>>,
    beat: tokio::task::JoinHandle<()>,
    owner: String,
    workers: usize,
}

impl WorkerPool {
    /// How many jobs it runs at once.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The pool's name (`vane:<host>:<pid>:<instance>`), the `owner` of the jobs it runs.
    pub fn name(&self) -> &str {
        &self.owner
    }

    /// How many jobs this pool is running now.
    pub fn running(&self) -> usize {
        self.flight.in_flight.load(Ordering::SeqCst)
    }

    /// Stops taking jobs and waits until the running ones finish (or end `cancelled` when
    /// cancelled meanwhile).
    pub async fn shutdown(mut self) {
        self.stop_taking().await;
        self.wait_idle().await;
    }

    /// Like [`shutdown`](Self::shutdown), but after `grace` the running jobs are told to stop
    /// (their next progress report returns `Break`) and end `failed` with [`SHUT_DOWN`].
    pub async fn shutdown_within(mut self, grace: Duration) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // apalis's worker ends only after the tasks it is running: waiting for it is waiting for
        // the jobs, so it counts against the grace too (a SIGTERM mid-training otherwise waited
        // for the whole training).
        let mut worker = self.worker.take();
        let mut worker_done = worker.is_none();
        let drained = tokio::time::timeout(grace, async {
            if let Some(w) = worker.as_mut() {
                let _ = w.await;
                worker_done = true;
            }
            self.wait_idle().await;
        })
        .await;
        if drained.is_err() {
            self.flight.interrupt.store(true, Ordering::SeqCst);
            if let (false, Some(w)) = (worker_done, worker) {
                let _ = w.await;
            }
            self.wait_idle().await;
        }
    }

    async fn stop_taking(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(worker) = self.worker.take() {
            let _ = worker.await;
        }
    }

    async fn wait_idle(&self) {
        loop {
            let notified = self.flight.idle.notified();
            if self.flight.in_flight.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.beat.abort();
        live_instances().lock().unwrap_or_else(|e| e.into_inner()).remove(&self.owner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_of_this_process_are_alive_only_while_registered() {
        let now = now_ms();
        let me = owner_name();
        assert!(!owner_alive(&me, now, now));
        live_instances().lock().unwrap().insert(me.clone());
        assert!(owner_alive(&me, now, now));
        assert!(!owner_alive(&me, now - STALE_MS - 1, now), "a stale heartbeat is gone");
        live_instances().lock().unwrap().remove(&me);
    }

    #[test]
    fn foreign_or_unknown_owners_count_on_the_heartbeat() {
        let now = now_ms();
        assert!(owner_alive("vane:some-other-host:1:X", now, now));
        assert!(!owner_alive("vane:some-other-host:1:X", now - STALE_MS - 1, now));
        assert!(owner_alive("something else", now, now));
        let gone = format!("vane:{}:{}:X", host_name(), u32::MAX - 7);
        if Path::new("/proc/self").exists() {
            assert!(!owner_alive(&gone, now, now), "a pid that does not exist is gone");
        }
    }

    /// A killed owner that its parent has not reaped yet (a zombie) is gone: a restarted server
    /// fails its job at once instead of reporting it `running` (and handing its id to a new
    /// `train=true`) until the heartbeat goes stale.
    #[test]
    fn a_zombie_owner_is_gone() {
        if !Path::new("/proc/self/stat").exists() {
            return;
        }
        assert!(process_running(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let state = || {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| s.rsplit_once(')').and_then(|(_, r)| r.trim_start().chars().next()))
        };
        // Not waited for: once it exits it stays a zombie until `wait` below.
        while state() != Some('Z') {
            std::thread::yield_now();
        }
        assert!(!process_running(pid), "a zombie is not running");
        let now = now_ms();
        assert!(!owner_alive(&format!("vane:{}:{pid}:X", host_name()), now, now));
        child.wait().unwrap();
        assert!(!process_running(pid));
    }

    #[test]
    fn vocabularies_round_trip() {
        for s in [JobStatus::Queued, JobStatus::Running, JobStatus::Done, JobStatus::Failed, JobStatus::Cancelled] {
            assert_eq!(JobStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.as_str()));
        }
        assert_eq!(serde_json::to_value(JobKind::TrainSymbol).unwrap(), serde_json::json!("train_symbol"));
        assert_eq!(JobKind::parse("train_symbol"), Some(JobKind::TrainSymbol));
        assert_eq!(JobStatus::parse("Running"), None);
    }
}
