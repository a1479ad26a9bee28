//! Workers that share one PostgreSQL queue (issue 17, item 6): `vane serve --queue postgres://…`
//! queues per-symbol training jobs, two `vane worker --queue postgres://…` processes drain them,
//! and every job runs exactly once. Each test gets a database of its own, created from
//! `DATABASE_URL` (`eval "$(bash .ci/pg.sh)"`) and dropped afterwards; without a database the
//! tests skip with a message, unless `VANE_REQUIRE_POSTGRES=1`, which makes them fail.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{exit, fixture, ok, vane, vane_within};
use serde_json::Value;

const TOKEN: &str = "test-token-0123456789abcdef";

// ---- the database ----

/// A database of this test's own, dropped on drop.
struct TestDb {
    admin: String,
    name: String,
    url: String,
}

fn psql(url: &str, sql: &str) -> Result<String, String> {
    let out = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-Atqc", sql])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// `url` with its database replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let (head, rest) = url.split_at(start);
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, format!("?{q}")),
        None => (rest, String::new()),
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    format!("{head}{authority}/{db}{query}")
}

/// A fresh database, or `None` (with a message) when Postgres is not there and not required.
fn fresh_db(tag: &str) -> Option<TestDb> {
    let required = common::required("VANE_REQUIRE_POSTGRES");
    let missing = |why: String| {
        assert!(!required, "PostgreSQL is required here (VANE_REQUIRE_POSTGRES=1 or CI=true) but {why}");
        eprintln!("skipping {tag}: {why} (eval \"$(bash .ci/pg.sh)\" to run it)");
        None
    };
    let Ok(admin) = std::env::var("DATABASE_URL") else {
        return missing("DATABASE_URL is not set".into());
    };
    if let Err(e) = psql(&admin, "SELECT 1") {
        return missing(format!("PostgreSQL at DATABASE_URL is unreachable: {e}"));
    }
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let name = format!("vane_test_{tag}_{}_{nanos}", std::process::id());
    psql(&admin, &format!("CREATE DATABASE {name}")).unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    let url = with_database(&admin, &name);
    Some(TestDb { admin, name, url })
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = psql(&self.admin, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

// ---- the processes ----

/// A `vane` subprocess whose stderr lines are collected; SIGKILLed on drop.
struct Proc {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    fn start(dir: &Path, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vane"))
            .args(args)
            .current_dir(dir)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = BufReader::new(child.stderr.take().unwrap());
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in err.lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Self { child, lines }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits (at most `secs`) for a stderr line starting with `prefix`.
    fn wait_line(&mut self, prefix: &str, secs: u64) -> String {
        let start = Instant::now();
        loop {
            if let Some(l) = self.lines().into_iter().find(|l| l.starts_with(prefix)) {
                return l;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("exited ({status}) before printing {prefix:?}: {:?}", self.lines());
            }
            assert!(start.elapsed() < Duration::from_secs(secs), "no {prefix:?} line: {:?}", self.lines());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then the exit status (at most 60 s: the running jobs' grace).
    fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "did not stop on SIGTERM: {:?}", self.lines());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn call(base: &str, method: &str, path: &str) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let url = format!("{base}{path}");
    let auth = format!("Bearer {TOKEN}");
    let resp = match method {
        "GET" => agent.get(&url).header("Authorization", &auth).call(),
        _ => agent.post(&url).header("Authorization", &auth).send_empty(),
    };
    let mut resp = resp.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")))
}

/// A store with BTCUSDT 4h, a small global model trained on it (which the jobs' configs
/// inherit: quick jobs), and the same candles under `names` (labelled synthetic: only the names
/// are made up).
fn store_with(dir: &Path, names: &[String]) {
    let csv = fixture("BTCUSDT_4h.csv");
    let csv = csv.to_str().unwrap();
    ok(&vane(&["import", "--csv", csv, "--symbol", "BTCUSDT", "--interval", "4h"], dir));
    std::fs::write(
        dir.join("small.toml"),
        "symbols = [\"BTCUSDT\"]\ntrain_bars = 900\ntest_bars = 360\ntheta_steps_fast = 2\niterations_fast = 30\ndepth = 4\n",
    )
    .unwrap();
    ok(&vane(&["train", "--config", "small.toml", "--mode", "fast"], dir));
    for n in names {
        ok(&vane(&["import", "--csv", csv, "--symbol", n, "--interval", "4h"], dir));
    }
    std::fs::write(dir.join("token.txt"), format!("{TOKEN}\n")).unwrap();
}

#[test]
fn two_workers_drain_one_postgres_queue_without_running_a_job_twice() {
    let Some(db) = fresh_db("drain") else { return };
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..6).map(|i| format!("S{i:02}USDT")).collect();
    store_with(dir.path(), &names);

    // The server queues; it runs no job itself.
    let mut server = Proc::start(
        dir.path(),
        &["serve", "--addr", "127.0.0.1:0", "--token-file", "token.txt", "--workers", "0", "--queue", &db.url],
    );
    let base = server.wait_line("listening on ", 60).trim_start_matches("listening on ").trim().to_string();
    // Two workers on the one queue, both waiting for work before the jobs come.
    let mut workers: Vec<Proc> =
        (0..2).map(|_| Proc::start(dir.path(), &["worker", "--queue", &db.url, "--grace-sec", "30"])).collect();
    for w in &mut workers {
        let line = w.wait_line("worker: 1 workers on ", 60);
        assert!(line.contains("127.0.0.1"), "{line}");
    }
    let mut jobs = BTreeMap::new();
    for n in &names {
        let (s, p) = call(&base, "GET", &format!("/v1/predict?symbol={n}&train=true"));
        assert_eq!(s, 200, "{p}");
        assert_eq!(p["model_id_used"], "global", "{p}");
        jobs.insert(p["job_id"].as_str().expect("a job id").to_string(), n.clone());
    }
    assert_eq!(jobs.len(), 6, "one job per symbol");

    let start = Instant::now();
    let finished = loop {
        let (_, list) = call(&base, "GET", "/v1/jobs?limit=100");
        let list = list["jobs"].as_array().unwrap().clone();
        if list.len() == 6
            && list.iter().all(|j| ["done", "failed", "cancelled"].contains(&j["status"].as_str().unwrap()))
        {
            break list;
        }
        assert!(start.elapsed() < Duration::from_secs(600), "the jobs never finished: {list:?}");
        std::thread::sleep(Duration::from_millis(250));
    };

    // Every job done, once, by one of the two workers.
    let pids: Vec<String> = workers.iter().map(|w| w.child.id().to_string()).collect();
    let mut ran_by: BTreeMap<String, usize> = BTreeMap::new();
    for j in &finished {
        assert_eq!(j["status"], "done", "{j}");
        assert_eq!(j["attempts"], 1, "{j}");
        assert_eq!(j["model_id"], j["symbol"], "{j}");
        let who = j["worker"].as_str().unwrap_or_else(|| panic!("no worker recorded: {j}"));
        let pid = who.split(':').nth(2).unwrap_or_default();
        assert!(pids.iter().any(|p| p == pid), "{who} is not one of the workers {pids:?}");
        *ran_by.entry(pid.to_string()).or_default() += 1;
    }
    // The runners themselves: each symbol's training started exactly once, over both processes.
    let mut starts: BTreeMap<String, usize> = BTreeMap::new();
    for w in &workers {
        for l in w.lines() {
            if let Some(sym) = l.strip_prefix("worker: start train_symbol ") {
                *starts.entry(sym.to_string()).or_default() += 1;
            }
        }
    }
    let expected: BTreeMap<String, usize> = names.iter().map(|n| (n.clone(), 1)).collect();
    assert_eq!(starts, expected, "each job ran exactly once");
    assert_eq!(ran_by.len(), 2, "both workers took jobs from the one queue: {ran_by:?}");
    // apalis's side: six tasks, each completed once.
    let apalis = psql(&db.url, "SELECT count(*), count(*) FILTER (WHERE status = 'Done') FROM apalis.jobs").unwrap();
    assert_eq!(apalis, "6|6", "apalis tasks (all, done)");
    for n in &names {
        assert!(dir.path().join("artifacts/models").join(n).join("model.json").is_file(), "{n}'s model");
    }

    // Both stop cleanly on SIGTERM, and so does the server.
    for w in &mut workers {
        assert!(w.terminate().success(), "{:?}", w.lines());
        assert!(w.lines().iter().any(|l| l.starts_with("worker: stopping")), "{:?}", w.lines());
    }
    let (_, h) = call(&base, "GET", "/health");
    assert_eq!((h["jobs"]["queued"].as_u64(), h["jobs"]["running"].as_u64()), (Some(0), Some(0)), "{h}");
    assert!(server.terminate().success(), "{:?}", server.lines());
}

#[test]
fn an_unreachable_postgres_queue_is_a_clear_error_without_the_password() {
    // Nothing listens on port 1: no database is needed for this one.
    let dir = tempfile::tempdir().unwrap();
    let out = vane_within(
        &["worker", "--queue", "postgres://vane:hunter2@127.0.0.1:1/nowhere"],
        dir.path(),
        Duration::from_secs(60),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(exit::IO), "{err}");
    assert!(err.contains("127.0.0.1:1/nowhere"), "names host:port/database: {err}");
    assert!(!err.contains("hunter2"), "the password never shows: {err}");
    // Not a queue at all: a usage error, password masked too.
    let out = vane(&["worker", "--queue", "mysql://vane:hunter2@127.0.0.1/x"], dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(exit::USAGE), "{err}");
    assert!(err.contains("postgres://") && !err.contains("hunter2"), "{err}");
}

#[test]
fn the_password_never_shows_and_a_second_worker_reuses_the_tables() {
    let Some(db) = fresh_db("reopen") else { return };
    let dir = tempfile::tempdir().unwrap();
    // A password in the URL: the server takes it (trust) or refuses it; either way it never
    // shows in the output.
    let with_pw = db.url.replacen("://vane@", "://vane:not-the-password@", 1);
    let mut w = Proc::start(dir.path(), &["worker", "--queue", &with_pw]);
    let start = Instant::now();
    while w.child.try_wait().unwrap().is_none() && !w.lines().iter().any(|l| l.contains(" workers on ")) {
        assert!(start.elapsed() < Duration::from_secs(60), "{:?}", w.lines());
        std::thread::sleep(Duration::from_millis(50));
    }
    if w.child.try_wait().unwrap().is_none() {
        let line = w.wait_line("worker: 1 workers on ", 1);
        assert!(line.contains("vane:***@127.0.0.1"), "{line}");
        assert!(w.terminate().success(), "{:?}", w.lines());
    }
    assert!(!w.lines().is_empty());
    assert!(w.lines().iter().all(|l| !l.contains("not-the-password")), "{:?}", w.lines());
    // Workers on the same database find the tables there (the migrations are idempotent).
    for _ in 0..2 {
        let mut w2 = Proc::start(dir.path(), &["worker", "--queue", &db.url]);
        w2.wait_line("worker: 1 workers on ", 60);
        assert!(w2.terminate().success(), "{:?}", w2.lines());
    }
}

#[test]
fn a_worker_killed_mid_job_fails_it_as_interrupted_and_no_other_worker_reruns_it() {
    let Some(db) = fresh_db("kill") else { return };
    let dir = tempfile::tempdir().unwrap();
    let names = vec!["S00USDT".to_string()];
    store_with(dir.path(), &names);
    // A slow job: the global model's config (which jobs inherit) asks for many trees.
    let cfg_path = dir.path().join("artifacts/models/global/config.json");
    let mut cfg: Value = serde_json::from_str(&std::fs::read_to_string(&cfg_path).unwrap()).unwrap();
    cfg["config"]["iterations_fast"] = serde_json::json!(20000);
    std::fs::write(&cfg_path, serde_json::to_string_pretty(&cfg).unwrap()).unwrap();
    let mut server = Proc::start(
        dir.path(),
        &["serve", "--addr", "127.0.0.1:0", "--token-file", "token.txt", "--workers", "0", "--queue", &db.url],
    );
    let base = server.wait_line("listening on ", 60).trim_start_matches("listening on ").trim().to_string();
    let mut workers: Vec<Proc> = (0..2).map(|_| Proc::start(dir.path(), &["worker", "--queue", &db.url])).collect();
    for w in &mut workers {
        w.wait_line("worker: 1 workers on ", 60);
    }
    let (s, p) = call(&base, "GET", "/v1/predict?symbol=S00USDT&train=true");
    assert_eq!(s, 200, "{p}");
    let job = p["job_id"].as_str().unwrap().to_string();
    let wait_job = |what: &str, done: &dyn Fn(&Value) -> bool| {
        let start = Instant::now();
        loop {
            let (_, j) = call(&base, "GET", &format!("/v1/jobs/{job}"));
            if done(&j) {
                return j;
            }
            assert!(start.elapsed() < Duration::from_secs(120), "the job never got {what}: {j}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let running = wait_job("running", &|j| j["status"] == "running");
    let pid = running["worker"].as_str().unwrap().split(':').nth(2).unwrap().to_string();
    let victim = workers.iter().position(|w| w.child.id().to_string() == pid).expect("one of the two ran it");
    let mut dead = workers.remove(victim);
    dead.child.kill().unwrap(); // SIGKILL
    dead.child.wait().unwrap();
    let survivor = &mut workers[0];

    // The survivor's reaper fails the job as interrupted, and releases the apalis task the dead
    // worker held; the survivor then takes that task and skips it: the job is not run again.
    let failed = wait_job("failed", &|j| j["status"] != "running");
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(failed["error"].as_str().unwrap().contains("interrupted"), "{failed}");
    assert_eq!(failed["attempts"], 1, "{failed}");
    let start = Instant::now();
    while psql(&db.url, "SELECT status FROM apalis.jobs").unwrap() != "Done" {
        assert!(start.elapsed() < Duration::from_secs(120), "apalis never re-delivered the task");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        !survivor.lines().iter().any(|l| l.starts_with("worker: start")),
        "the survivor re-ran the job: {:?}",
        survivor.lines()
    );
    let (_, again) = call(&base, "GET", &format!("/v1/jobs/{job}"));
    assert_eq!((again["status"].as_str(), again["attempts"].as_u64()), (Some("failed"), Some(1)), "{again}");
    assert!(survivor.terminate().success(), "{:?}", survivor.lines());
    assert!(server.terminate().success(), "{:?}", server.lines());
}
