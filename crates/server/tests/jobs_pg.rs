//! The PostgreSQL job queue's deduplication after a cancel request, on a throwaway database per
//! test made from `DATABASE_URL` (`eval "$(bash .ci/pg.sh)"`). Without it a test skips with a
//! message, unless `VANE_REQUIRE_POSTGRES=1` or `CI=true`, where it fails.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::Connection;
use vane_core::Symbol;
use vane_server::jobs::{JobControl, JobInfo, JobKind, JobQueue, JobSpec, JobStatus, PgUrl, Runner};

/// `block`: reports progress until cancelled, writes nothing. Anything else: a few steps, then
/// writes `<artifacts>/models/<SYMBOL>/written_by` (its tag) through a staged folder, as the
/// trainer writes a model.
struct Trainer;
impl Runner for Trainer {
    fn run(&self, spec: &JobSpec, ctl: &mut dyn JobControl) -> Result<String, String> {
        let steps = if spec.mode == "block" { u32::MAX } else { 3 };
        for _ in 0..steps {
            if ctl.progress(0.5).is_break() {
                return Err("stopped".to_string());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let artifacts = spec.config["artifacts"].as_str().ok_or("no artifacts folder")?;
        let stage = vane_artifact::StagedDir::new(&Path::new(artifacts).join("models").join(spec.symbol.as_str()))
            .map_err(|e| e.to_string())?;
        stage
            .write("written_by", spec.config["tag"].as_str().unwrap_or_default().as_bytes())
            .map_err(|e| e.to_string())?;
        stage.commit().map_err(|e| e.to_string())?;
        Ok(spec.symbol.to_string())
    }
}

fn spec(mode: &str, tag: &str, artifacts: &Path) -> JobSpec {
    JobSpec {
        kind: JobKind::TrainSymbol,
        symbol: Symbol::new("SOLUSDT").unwrap(),
        config: serde_json::json!({ "tag": tag, "artifacts": artifacts.to_str().unwrap() }),
        mode: mode.to_string(),
    }
}

/// A fresh database (dropped at the end), or `None` to skip.
struct TestDb {
    admin: String,
    name: String,
    url: String,
}

async fn test_db() -> Option<TestDb> {
    let required = std::env::var("VANE_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
        || std::env::var("CI").is_ok_and(|v| v == "true");
    let skip = |why: String| {
        assert!(!required, "PostgreSQL is required here (VANE_REQUIRE_POSTGRES=1 or CI=true) but {why}");
        eprintln!("skipping: {why} (set DATABASE_URL, e.g. `eval \"$(bash .ci/pg.sh)\"`)");
        None
    };
    let Ok(admin) = std::env::var("DATABASE_URL") else { return skip("DATABASE_URL is not set".into()) };
    let mut conn = match sqlx::PgConnection::connect(&admin).await {
        Ok(c) => c,
        Err(e) => return skip(format!("the database is unreachable: {e}")),
    };
    // A ULID: letters and digits only, safe to splice into the statement.
    let name = format!("vane_jobs_test_{}", ulid::Ulid::generate().to_string().to_lowercase());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    let (head, query) = admin.split_once('?').map_or((admin.as_str(), String::new()), |(h, q)| (h, format!("?{q}")));
    let base = head.rsplit_once('/').filter(|(b, _)| b.contains("://") && !b.ends_with('/')).map_or(head, |(b, _)| b);
    let url = format!("{base}/{name}{query}");
    Some(TestDb { admin, name, url })
}

impl TestDb {
    async fn drop_db(self) {
        let mut conn = sqlx::PgConnection::connect(&self.admin).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

async fn wait_until(queue: &JobQueue, id: &str, done: impl Fn(&JobInfo) -> bool) -> JobInfo {
    let start = Instant::now();
    loop {
        let info = queue.get(id).await.unwrap().unwrap();
        if done(&info) {
            return info;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "job {id} stuck: {info:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The unique indexes on vane_queue.jobs, by name.
async fn unique_indexes(url: &str) -> Vec<String> {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT indexname::TEXT FROM pg_indexes WHERE schemaname = 'vane_queue' AND tablename = 'jobs' \
         AND indexdef LIKE 'CREATE UNIQUE INDEX%' AND indexname <> 'jobs_pkey' ORDER BY indexname",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    rows.into_iter().map(|(n,)| n).collect()
}

/// Cancel a running job, resubmit at once: a new job, which ends `done` with its model in place;
/// the old one ends `cancelled` having written nothing.
async fn cancel_then_resubmit_makes_a_new_job(queue: &JobQueue, artifacts: &Path) {
    let pool = queue.spawn_workers(2, Arc::new(Trainer));
    let (old, created) = queue.submit(spec("block", "old", artifacts), "sol").await.unwrap();
    assert!(created);
    wait_until(queue, &old.id, |i| i.status == JobStatus::Running).await;
    let requested = queue.cancel(&old.id).await.unwrap().unwrap();
    assert!(requested.cancel_requested);
    assert_eq!(requested.status, JobStatus::Running);
    assert_eq!(queue.active_for("sol").await.unwrap(), None, "a job being cancelled is not live");

    let (new, created) = queue.submit(spec("ok", "new", artifacts), "sol").await.unwrap();
    assert!(created, "the resubmission queues a new job");
    assert_ne!(new.id, old.id);
    assert_eq!(new.status, JobStatus::Queued);
    let (again, created) = queue.submit(spec("ok", "again", artifacts), "sol").await.unwrap();
    assert!(!created);
    assert_eq!(again.id, new.id, "later submissions dedupe onto the new job");

    let old_end = wait_until(queue, &old.id, |i| i.status.is_finished()).await;
    assert_eq!((old_end.status, old_end.model_id.as_deref()), (JobStatus::Cancelled, None), "{old_end:?}");
    let new_end = wait_until(queue, &new.id, |i| i.status.is_finished()).await;
    assert_eq!((new_end.status, new_end.model_id.as_deref()), (JobStatus::Done, Some("SOLUSDT")), "{new_end:?}");
    pool.shutdown().await;
    let written = std::fs::read_to_string(artifacts.join("models/SOLUSDT/written_by")).unwrap();
    assert_eq!(written, "new");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pg_cancel_then_resubmit_queues_a_new_job() {
    let Some(db) = test_db().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let queue = JobQueue::open_postgres(&PgUrl::parse(&db.url).unwrap()).await.unwrap();
    assert_eq!(unique_indexes(&db.url).await, vec!["jobs_live_key".to_string()]);
    cancel_then_resubmit_makes_a_new_job(&queue, dir.path()).await;
    drop(queue);
    db.drop_db().await;
}

/// vane_queue.jobs as versions before the fix created it (the unique index counted jobs with a
/// cancel request), with one finished row.
const OLD_DDL: &str = "
CREATE SCHEMA vane_queue;
CREATE TABLE vane_queue.jobs (
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
CREATE UNIQUE INDEX jobs_active_key ON vane_queue.jobs(dedupe_key) WHERE status IN ('queued', 'running');
CREATE INDEX jobs_created ON vane_queue.jobs(created_at_ms);
CREATE INDEX jobs_status ON vane_queue.jobs(status);
INSERT INTO vane_queue.jobs (id, kind, symbol, spec, dedupe_key, status, created_at_ms, model_id)
    VALUES ('01OLDJOB', 'train_symbol', 'SOLUSDT', '{}', 'sol', 'done', 1, 'SOLUSDT');
";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pg_a_queue_made_with_the_old_dedupe_index_is_migrated_at_open() {
    let Some(db) = test_db().await else { return };
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::raw_sql(OLD_DDL).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    assert_eq!(unique_indexes(&db.url).await, vec!["jobs_active_key".to_string()]);

    let dir = tempfile::tempdir().unwrap();
    let url = PgUrl::parse(&db.url).unwrap();
    let queue = JobQueue::open_postgres(&url).await.unwrap();
    assert_eq!(unique_indexes(&db.url).await, vec!["jobs_live_key".to_string()], "old index replaced");
    let kept = queue.get("01OLDJOB").await.unwrap().unwrap();
    assert_eq!((kept.status, kept.model_id.as_deref()), (JobStatus::Done, Some("SOLUSDT")));
    cancel_then_resubmit_makes_a_new_job(&queue, dir.path()).await;
    drop(queue);

    // The migration runs at every open: a second open changes nothing and keeps the rows.
    let queue = JobQueue::open_postgres(&url).await.unwrap();
    assert_eq!(unique_indexes(&db.url).await, vec!["jobs_live_key".to_string()]);
    let mut statuses: Vec<&str> = queue.list(10).await.unwrap().into_iter().map(|i| i.status.as_str()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, vec!["cancelled", "done", "done"]);
    drop(queue);
    db.drop_db().await;
}
