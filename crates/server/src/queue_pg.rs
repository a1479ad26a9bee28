//! The PostgreSQL backend of the job queue: the same two-table design as the SQLite one (see the
//! parent module), on apalis-postgres. apalis keeps its tasks in the `apalis` schema (its own
//! migrations, run on open); vane's table is `vane_queue.jobs`. Any number of `vane worker
//! --queue postgres://…` processes, on any machines, drain the one queue:
//!
//! - apalis hands a task to one worker (`FOR UPDATE SKIP LOCKED` in `apalis.get_jobs`);
//! - the worker *claims* vane's row with `UPDATE … SET status = 'running' WHERE status =
//!   'queued'`: only one claim can succeed, so a task apalis delivers twice (re-enqueued after a
//!   missed heartbeat) never runs a job twice;
//! - a job whose worker died is failed as interrupted (its heartbeat is older than 30 s, or its
//!   process is gone on this host): never lost, never silently re-run.
//!
//! The URL's password never appears in messages: [`PgUrl`] shows `postgres://user:***@host…`.

use std::fmt;
use std::str::FromStr;

use apalis_postgres::PostgresStorage;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{ConnectOptions, Connection};

use super::*;

/// vane's tables on PostgreSQL (idempotent; run under an advisory lock). As on SQLite, the
/// unique index on the dedupe key covers the live jobs only (`queued`/`running` without a cancel
/// request); the older `jobs_active_key`, which counted jobs being cancelled, is dropped.
const MIGRATION_PG: &str = "
CREATE SCHEMA IF NOT EXISTS vane_queue;
CREATE TABLE IF NOT EXISTS vane_queue.jobs (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    symbol TEXT NOT NULL,
    spec TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    progress DOUBLE PRECISION NOT NULL DEFAULT 0,
    created_at_ms BIGINT NOT NULL,
    started_at_ms BIGINT,
    finished_at_ms BIGINT,
    error TEXT,
    model_id TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    owner TEXT,
    heartbeat_ms BIGINT
);
DROP INDEX IF EXISTS vane_queue.jobs_active_key;
CREATE UNIQUE INDEX IF NOT EXISTS jobs_live_key ON vane_queue.jobs(dedupe_key)
    WHERE status IN ('queued', 'running') AND NOT cancel_requested;
CREATE INDEX IF NOT EXISTS jobs_created ON vane_queue.jobs(created_at_ms);
CREATE INDEX IF NOT EXISTS jobs_status ON vane_queue.jobs(status);
";

/// The advisory lock key of vane's migration (so that workers starting together do not race).
const MIGRATION_LOCK: i64 = 0x7661_6e65_5f71_7565; // "vane_que"

/// The database server's clock in ms: heartbeats are written and judged by it, so that workers
/// on machines whose clocks disagree do not take each other for dead.
macro_rules! db_now_ms {
    () => {
        "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT"
    };
}

/// How long connecting to the server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// apalis re-enqueues the tasks of a worker silent for this many of its heartbeats.
const MISSED_HEARTBEATS: usize = 3;

/// `SELECT <the JobInfo columns> FROM vane_queue.jobs <tail>`, as a literal.
macro_rules! select_pg {
    ($tail:literal) => {
        concat!(
            "SELECT id, kind, symbol, status, progress, created_at_ms, started_at_ms, finished_at_ms, ",
            "error, model_id, dedupe_key, attempts, cancel_requested, owner FROM vane_queue.jobs ",
            $tail
        )
    };
}

// ---- the URL ----

/// A `postgres://` (or `postgresql://`) URL whose password never shows: `Display` and `Debug`
/// mask it (`postgres://vane:***@db:5432/vane`), and errors name only `host:port/database`.
#[derive(Clone, PartialEq, Eq)]
pub struct PgUrl {
    url: String,
    masked: String,
    target: String,
}

impl PgUrl {
    /// Checks `url` (scheme `postgres://` or `postgresql://`, parsable by the driver).
    pub fn parse(url: &str) -> Result<Self, JobError> {
        let masked = mask_url(url);
        let bad = |reason: String| JobError::BadUrl { url: masked.clone(), reason };
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(bad("expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE".into()));
        }
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            // The driver's message may quote the URL: keep only what cannot hold the password.
            let text = e.to_string().replace(url, &masked);
            bad(format!("{text}; expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"))
        })?;
        let target = format!(
            "{}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().or(options.get_username().into()).unwrap_or("")
        );
        Ok(Self { url: url.to_string(), masked, target })
    }

    /// The URL itself, password included: for the driver only, never for messages.
    pub fn expose(&self) -> &str {
        &self.url
    }

    /// `host:port/database`, what error messages name.
    pub fn target(&self) -> &str {
        &self.target
    }
}

impl fmt::Display for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked)
    }
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgUrl({})", self.masked)
    }
}

impl FromStr for PgUrl {
    type Err = JobError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// `url` with the password of its user info and any `password=` query value replaced by `***`.
fn mask_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return url.to_string() };
    let (head, rest) = url.split_at(scheme_end);
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    let authority = match authority.rfind('@') {
        Some(at) => {
            let (info, host) = authority.split_at(at);
            match info.find(':') {
                Some(colon) => format!("{}:***{host}", &info[..colon]),
                None => authority.to_string(),
            }
        }
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_string(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{head}{authority}{tail}")
}

/// Where a job queue is: a SQLite file (the default, `<artifacts-dir>/jobs.sqlite`) or a
/// PostgreSQL database that workers on several machines share. Parsed from a `--queue` value:
/// `postgres://…` / `postgresql://…` is PostgreSQL, anything else a file path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueueLocation {
    /// The SQLite file.
    Sqlite(PathBuf),
    /// The PostgreSQL database.
    Postgres(PgUrl),
}

impl FromStr for QueueLocation {
    type Err = JobError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return PgUrl::parse(s).map(QueueLocation::Postgres);
        }
        if let Some((scheme, _)) = s.split_once("://") {
            return Err(JobError::BadUrl {
                url: mask_url(s),
                reason: format!("{scheme}:// is not a queue: give a SQLite file path or a postgres:// URL"),
            });
        }
        if s.is_empty() {
            return Err(JobError::Invalid("the queue is empty: give a SQLite file path or a postgres:// URL".into()));
        }
        Ok(QueueLocation::Sqlite(PathBuf::from(s)))
    }
}

impl fmt::Display for QueueLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueueLocation::Sqlite(path) => write!(f, "{}", path.display()),
            QueueLocation::Postgres(url) => write!(f, "{url}"),
        }
    }
}

// ---- the queue ----

/// The PostgreSQL backend.
#[derive(Clone, Debug)]
pub(super) struct PgQueue {
    pool: PgPool,
    url: PgUrl,
}

impl PgQueue {
    pub(super) async fn open(url: &PgUrl) -> Result<Self, JobError> {
        let target = url.target().to_string();
        let options = PgConnectOptions::from_str(url.expose())
            .map_err(|e| JobError::BadUrl {
                url: url.to_string(), reason: e.to_string().replace(url.expose(), "…")
            })?;
        // One direct connection first: the pool would report only "timed out" for a refused
        // connection, this says why (refused, unknown host, authentication failed, …).
        match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
            }
            Ok(Err(source)) => return Err(JobError::PgOpen { target, what: "connect", source }),
            Err(_) => {
                let source = sqlx::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
                ));
                return Err(JobError::PgOpen { target, what: "connect", source });
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|source| JobError::PgOpen { target: target.clone(), what: "connect", source })?;
        PostgresStorage::setup(&pool).await.map_err(|source| JobError::PgApalis {
            target: target.clone(),
            what: "apalis-postgres migrations",
            source,
        })?;
        let pg_open = |source| JobError::PgOpen { target: target.clone(), what: "vane's tables", source };
        let mut tx = pool.begin().await.map_err(pg_open)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(pg_open)?;
        sqlx::raw_sql(MIGRATION_PG).execute(&mut *tx).await.map_err(pg_open)?;
        tx.commit().await.map_err(pg_open)?;
        let queue = Self { pool, url: url.clone() };
        queue.reap().await?;
        Ok(queue)
    }

    pub(super) fn url(&self) -> &PgUrl {
        &self.url
    }

    pub(super) async fn submit(&self, spec: JobSpec, dedupe_key: &str) -> Result<(JobInfo, bool), JobError> {
        if dedupe_key.is_empty() || dedupe_key.len() > 512 {
            return Err(JobError::Invalid(format!("the dedupe key must be 1 to 512 bytes, got {}", dedupe_key.len())));
        }
        let spec_json =
            serde_json::to_string(&spec).map_err(|e| JobError::Invalid(format!("the job spec is not JSON: {e}")))?;
        let mut tx = self.pool.begin().await.map_err(db("submit: begin"))?;
        // Serialise submitters of one key (the partial unique index is the backstop).
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(dedupe_key)
            .execute(&mut *tx)
            .await
            .map_err(db("submit: lock the key"))?;
        let sql = select_pg!("WHERE dedupe_key = $1 AND status IN ('queued', 'running') AND NOT cancel_requested");
        if let Some(row) =
            sqlx::query(sql).bind(dedupe_key).fetch_optional(&mut *tx).await.map_err(db("submit: dedupe"))?
        {
            let info = info_from_pg_row(&row)?;
            tx.commit().await.map_err(db("submit: commit"))?;
            return Ok((info, false));
        }
        let id = ulid::Ulid::generate().to_string();
        let now = now_ms();
        sqlx::query(
            "INSERT INTO vane_queue.jobs (id, kind, symbol, spec, dedupe_key, status, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, 'queued', $6)",
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
        apalis_postgres::queries::push_tasks(&mut *tx, APALIS_QUEUE, vec![task]).await.map_err(|source| {
            JobError::PgApalis { target: self.url.target().to_string(), what: "submit: push the apalis task", source }
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

    pub(super) async fn get(&self, id: &str) -> Result<Option<JobInfo>, JobError> {
        let sql = select_pg!("WHERE id = $1");
        let row = sqlx::query(sql).bind(id).fetch_optional(&self.pool).await.map_err(db("get"))?;
        row.as_ref().map(info_from_pg_row).transpose()
    }

    pub(super) async fn list(&self, limit: usize) -> Result<Vec<JobInfo>, JobError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let sql = select_pg!("ORDER BY created_at_ms DESC, id DESC LIMIT $1");
        let rows = sqlx::query(sql).bind(limit).fetch_all(&self.pool).await.map_err(db("list"))?;
        rows.iter().map(info_from_pg_row).collect()
    }

    pub(super) async fn cancel(&self, id: &str) -> Result<Option<JobInfo>, JobError> {
        sqlx::query(
            "UPDATE vane_queue.jobs SET status = 'cancelled', finished_at_ms = $2 WHERE id = $1 AND status = 'queued'",
        )
        .bind(id)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(db("cancel queued"))?;
        sqlx::query("UPDATE vane_queue.jobs SET cancel_requested = TRUE WHERE id = $1 AND status = 'running'")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db("cancel running"))?;
        self.get(id).await
    }

    pub(super) async fn counts(&self) -> Result<(usize, usize), JobError> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM vane_queue.jobs WHERE status IN ('queued', 'running') GROUP BY status",
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

    pub(super) async fn active_for(&self, dedupe_key: &str) -> Result<Option<JobInfo>, JobError> {
        let sql = select_pg!("WHERE dedupe_key = $1 AND status IN ('queued', 'running') AND NOT cancel_requested");
        let row = sqlx::query(sql).bind(dedupe_key).fetch_optional(&self.pool).await.map_err(db("active_for"))?;
        row.as_ref().map(info_from_pg_row).transpose()
    }

    pub(super) fn spawn_workers(&self, n: usize, runner: Arc<dyn Runner>) -> WorkerPool {
        let n = n.max(1);
        let owner = owner_name();
        live_instances().lock().unwrap_or_else(|e| e.into_inner()).insert(owner.clone());
        let shared = Arc::new(PgShared {
            pool: self.pool.clone(),
            runner,
            owner: owner.clone(),
            flight: Arc::new(Flight::default()),
        });
        let config = apalis_postgres::Config::default()
            .queue(APALIS_QUEUE)
            .batch_size(1)
            .heartbeat_interval(APALIS_HEARTBEAT)
            .missed_heartbeats(MISSED_HEARTBEATS);
        let backend = PostgresStorage::<Dispatch>::new(&self.pool).with_config(config).poll_with_interval(POLL);
        let worker = WorkerBuilder::new(owner.as_str())
            .backend(backend)
            .data(Arc::clone(&shared))
            .concurrency(n)
            .build(handle_pg);
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
                    let _ = sqlx::query(concat!(
                        "UPDATE vane_queue.jobs SET heartbeat_ms = ",
                        db_now_ms!(),
                        " WHERE owner = $1 AND status = 'running'"
                    ))
                    .bind(&owner)
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

    /// Fails the `running` jobs of gone owners and releases the apalis tasks gone workers of
    /// this host held (apalis itself re-enqueues those of workers silent for
    /// `MISSED_HEARTBEATS` heartbeats, on any host).
    async fn reap(&self) -> Result<(), JobError> {
        let now: i64 = sqlx::query_scalar(concat!("SELECT ", db_now_ms!()))
            .fetch_one(&self.pool)
            .await
            .map_err(db("reap: the server's clock"))?;
        let rows = sqlx::query("SELECT id, owner, heartbeat_ms FROM vane_queue.jobs WHERE status = 'running'")
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
                "UPDATE vane_queue.jobs SET status = 'failed', error = $3, finished_at_ms = $4 \
                 WHERE id = $1 AND status = 'running' AND owner IS NOT DISTINCT FROM $2",
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
            "SELECT id, (EXTRACT(EPOCH FROM last_seen) * 1000)::BIGINT AS last_seen_ms FROM apalis.workers \
             WHERE worker_type = $1 AND last_seen >= NOW() - INTERVAL '60 seconds'",
        )
        .bind(APALIS_QUEUE)
        .fetch_all(&self.pool)
        .await
        .map_err(db("reap: apalis workers"))?;
        for row in workers {
            let id: String = row.try_get("id").map_err(db("reap"))?;
            let last_seen: i64 = row.try_get("last_seen_ms").map_err(db("reap"))?;
            if owner_alive(&id, last_seen, now) {
                continue;
            }
            sqlx::query(
                "UPDATE apalis.jobs SET status = 'Pending', lock_by = NULL, lock_at = NULL \
                 WHERE lock_by = $1 AND job_type = $2 AND status IN ('Queued', 'Running')",
            )
            .bind(&id)
            .bind(APALIS_QUEUE)
            .execute(&self.pool)
            .await
            .map_err(db("reap: re-enqueue a gone worker's tasks"))?;
        }
        Ok(())
    }
}

fn info_from_pg_row(row: &PgRow) -> Result<JobInfo, JobError> {
    let get = |e| JobError::Db { what: "read a job", source: e };
    let id: String = row.try_get("id").map_err(get)?;
    let corrupt = |reason: String| JobError::Corrupt { id: id.clone(), reason };
    let kind: String = row.try_get("kind").map_err(get)?;
    let kind = JobKind::parse(&kind).ok_or_else(|| corrupt(format!("unknown kind {kind:?}")))?;
    let symbol: String = row.try_get("symbol").map_err(get)?;
    let symbol = Symbol::new(&symbol).map_err(|e| corrupt(e.to_string()))?;
    let status: String = row.try_get("status").map_err(get)?;
    let status = JobStatus::parse(&status).ok_or_else(|| corrupt(format!("unknown status {status:?}")))?;
    let attempts: i64 = row.try_get("attempts").map_err(get)?;
    Ok(JobInfo {
        kind,
        symbol,
        status,
        progress: row.try_get("progress").map_err(get)?,
        created_at_ms: row.try_get("created_at_ms").map_err(get)?,
        started_at_ms: row.try_get("started_at_ms").map_err(get)?,
        finished_at_ms: row.try_get("finished_at_ms").map_err(get)?,
        error: row.try_get("error").map_err(get)?,
        model_id: row.try_get("model_id").map_err(get)?,
        dedupe_key: row.try_get("dedupe_key").map_err(get)?,
        attempts: u32::try_from(attempts).unwrap_or(0),
        cancel_requested: row.try_get("cancel_requested").map_err(get)?,
        worker: row.try_get("owner").map_err(get)?,
        id,
    })
}

// ---- workers ----

struct PgShared {
    pool: PgPool,
    runner: Arc<dyn Runner>,
    owner: String,
    flight: Arc<Flight>,
}

impl fmt::Debug for PgShared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgShared").field("owner", &self.owner).finish_non_exhaustive()
    }
}

/// The apalis handler: runs the vane job in a task of its own (finished and recorded even if
/// apalis drops this future), and always acknowledges: failures are vane's status.
async fn handle_pg(task: Dispatch, shared: Data<Arc<PgShared>>) -> Result<(), BoxDynError> {
    let shared = Arc::clone(&shared);
    shared.flight.enter();
    let job = tokio::spawn({
        let shared = Arc::clone(&shared);
        async move { execute_pg(&shared, &task.id).await }
    });
    let result = job.await;
    shared.flight.leave();
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Box::new(e)),
        Err(e) => Err(Box::new(e)),
    }
}

async fn execute_pg(shared: &Arc<PgShared>, id: &str) -> Result<(), JobError> {
    let now = now_ms();
    let claimed = sqlx::query(concat!(
        "UPDATE vane_queue.jobs SET status = 'running', started_at_ms = $2, heartbeat_ms = ",
        db_now_ms!(),
        ", owner = $3, attempts = attempts + 1, progress = 0 WHERE id = $1 AND status = 'queued' RETURNING spec"
    ))
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
        Err(e) => return finish_pg(shared, id, Outcome::Failed(format!("unreadable job spec: {e}"))).await,
    };
    let ctl = PgControl {
        rt: tokio::runtime::Handle::current(),
        pool: shared.pool.clone(),
        id: id.to_string(),
        owner: shared.owner.clone(),
        flight: Arc::clone(&shared.flight),
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
        Some(outcome) => finish_pg(shared, id, outcome).await,
        None => Ok(()),
    }
}

async fn finish_pg(shared: &PgShared, id: &str, outcome: Outcome) -> Result<(), JobError> {
    let (status, error, model_id, progress) = outcome.columns();
    let mut tries = 0;
    loop {
        let written = sqlx::query(
            "UPDATE vane_queue.jobs SET status = $3, error = $4, model_id = $5, \
             progress = COALESCE($6, progress), finished_at_ms = $7 \
             WHERE id = $1 AND owner = $2 AND status = 'running'",
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

struct PgControl {
    rt: tokio::runtime::Handle,
    pool: PgPool,
    id: String,
    owner: String,
    flight: Arc<Flight>,
    last_write: Option<Instant>,
    stop: Option<Stop>,
}

impl JobControl for PgControl {
    fn progress(&mut self, fraction: f64) -> ControlFlow<()> {
        if self.stop.is_some() {
            return ControlFlow::Break(());
        }
        if self.flight.interrupted() {
            self.stop = Some(Stop::ShutDown);
            return ControlFlow::Break(());
        }
        if self.last_write.is_some_and(|t| t.elapsed() < PROGRESS_EVERY) {
            return ControlFlow::Continue(());
        }
        self.last_write = Some(Instant::now());
        let fraction = if fraction.is_nan() { None } else { Some(fraction.clamp(0.0, 1.0)) };
        let sql = concat!(
            "UPDATE vane_queue.jobs SET progress = COALESCE($3, progress), heartbeat_ms = ",
            db_now_ms!(),
            " WHERE id = $1 AND owner = $2 AND status = 'running' RETURNING cancel_requested"
        );
        let query = sqlx::query(sql).bind(&self.id).bind(&self.owner).bind(fraction).fetch_optional(&self.pool);
        match self.rt.block_on(query) {
            Ok(Some(row)) => {
                if row.try_get::<bool, _>("cancel_requested").unwrap_or(false) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        let url = PgUrl::parse("postgres://vane:s3cret@db.example:6543/jobs?sslmode=disable&password=x2").unwrap();
        let shown = format!("{url} {url:?} {}", url.target());
        assert!(!shown.contains("s3cret") && !shown.contains("x2"), "{shown}");
        assert_eq!(url.to_string(), "postgres://vane:***@db.example:6543/jobs?sslmode=disable&password=***");
        assert_eq!(url.target(), "db.example:6543/jobs");
        assert_eq!(mask_url("postgresql://u@h/d"), "postgresql://u@h/d");
        assert_eq!(mask_url("postgres://u:p@ss@h/d"), "postgres://u:***@h/d");
    }

    #[test]
    fn queue_locations_parse() {
        assert_eq!("a/jobs.sqlite".parse::<QueueLocation>().unwrap(), QueueLocation::Sqlite("a/jobs.sqlite".into()));
        assert!(matches!("postgresql://h/d".parse::<QueueLocation>().unwrap(), QueueLocation::Postgres(_)));
        let err = "mysql://u:pw@h/d".parse::<QueueLocation>().unwrap_err().to_string();
        assert!(err.contains("mysql://") && !err.contains("pw"), "{err}");
        assert!("".parse::<QueueLocation>().is_err());
    }
}
