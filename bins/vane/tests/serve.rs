//! `vane serve` end to end, as a bot in another language uses it: seed 001's scenario against the
//! mock exchange (refresh download, global fallback with a `job_id`, polling the job to `done`,
//! the symbol's own model afterwards), then the bad-input and fault list of the service issue.
//! The server runs as a subprocess on an ephemeral port; every wait has a deadline.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{fixture, ok, vane};
use serde_json::Value;
use vane_core::{Interval, Symbol};
use vane_testkit::{Flavor, MockExchange, fixture_bars};

const TOKEN: &str = "test-token-0123456789abcdef";

/// A running `vane serve`, stopped with SIGTERM on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(dir: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vane"))
            .args(["serve", "--addr", "127.0.0.1:0", "--token-file", "token.txt"])
            .args(extra)
            .current_dir(dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        err.read_line(&mut line).unwrap();
        let url =
            line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("no address: {line:?}")).to_string();
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in err.lines() {});
        Self { child, url }
    }

    fn call(&self, method: &str, path: &str, token: Option<&str>) -> (u16, Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let url = format!("{}{path}", self.url);
        let auth = token.map(|t| format!("Bearer {t}"));
        let resp = match method {
            "GET" => {
                let mut r = agent.get(&url);
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.call()
            }
            "DELETE" => {
                let mut r = agent.delete(&url);
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.call()
            }
            _ => {
                let mut r = agent.post(&url);
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.send_empty()
            }
        };
        let mut resp = resp.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_to_string().unwrap();
        (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")))
    }

    fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, None)
    }

    /// Polls `path` until `done` holds, for at most `secs`.
    fn wait_for(&self, path: &str, secs: u64, done: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let (_, v) = self.get(path);
            if done(&v) {
                return v;
            }
            assert!(start.elapsed() < Duration::from_secs(secs), "{path} never got there: {v}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn stop(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let status = self.child.wait().unwrap();
        std::mem::forget(self);
        status
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A store with BTCUSDT 4h and a global model trained on it alone (small and quick).
fn trained_btc(dir: &Path) {
    trained_btc_from(dir, &fixture("BTCUSDT_4h.csv"));
}

/// [`trained_btc`] from the candle file `csv`.
fn trained_btc_from(dir: &Path, csv: &Path) {
    ok(&vane(&["import", "--csv", csv.to_str().unwrap(), "--symbol", "BTCUSDT", "--interval", "4h"], dir));
    std::fs::write(
        dir.join("small.toml"),
        "symbols = [\"BTCUSDT\"]\ntrain_bars = 900\ntest_bars = 360\ntheta_steps_fast = 2\niterations_fast = 30\ndepth = 4\n",
    )
    .unwrap();
    ok(&vane(&["train", "--config", "small.toml", "--mode", "fast"], dir));
    std::fs::write(dir.join("token.txt"), format!("{TOKEN}\n")).unwrap();
}

fn eth_mock() -> MockExchange {
    MockExchange::start(
        Flavor::BinanceSpot,
        Symbol::new("ETHUSDT").unwrap(),
        Interval::H4,
        fixture_bars("ETHUSDT_4h.csv", Interval::H4),
    )
}

#[test]
fn seed001_scenario_refresh_global_fallback_job_then_own_model() {
    let dir = tempfile::tempdir().unwrap();
    trained_btc(dir.path());
    let mock = eth_mock();
    let server = Server::start(dir.path(), &["--base-url", &mock.url()]);
    let ask = "/v1/predict?symbol=ETH&refresh=true&train=true&since_days_default=3650";

    // train=true changes the server: no token, no job.
    let (s, e) = server.get(ask);
    assert_eq!(s, 401, "{e}");
    assert_eq!(e["error"]["code"], "unauthorized");

    // The seed's first call: download ETH synchronously, answer with the global model at once.
    let (s, p) = server.call("GET", ask, Some(TOKEN));
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["symbol"], "ETHUSDT");
    assert_eq!(p["model_id_used"], "global");
    assert!(["BUY", "SELL", "HOLD"].contains(&p["signal"].as_str().unwrap()), "{p}");
    assert!(p["confidence"].as_f64().unwrap() > 0.0);
    assert_eq!(p["as_of"], 1_704_052_800_000i64, "the last ETH fixture bar");
    assert_eq!(p["refreshed_bars"], 2190);
    assert_eq!(p["stale"], true, "the fixture ends in 2023");
    assert!(p["thresholds"]["policy"]["min_conf"].is_number(), "{p}");
    let job = p["job_id"].as_str().expect("a job id").to_string();
    assert!(dir.path().join("data/ETHUSDT_4h.parquet").is_file());

    // Asking again while the job is queued or running returns the same job.
    let (_, again) = server.call("GET", "/v1/predict?symbol=ETHUSDT&train=true", Some(TOKEN));
    if again["model_id_used"] == "global" {
        assert_eq!(again["job_id"], job.as_str(), "deduplicated: {again}");
    }

    // Poll the job to done.
    let done = server.wait_for(&format!("/v1/jobs/{job}"), 120, |j| {
        ["done", "failed", "cancelled"].contains(&j["status"].as_str().unwrap_or(""))
    });
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["model_id"], "ETHUSDT");
    assert_eq!(done["progress"], 1.0);
    assert!(done["finished_at_ms"].as_i64() >= done["started_at_ms"].as_i64());
    assert!(dir.path().join("artifacts/models/ETHUSDT/model.json").is_file());
    assert!(dir.path().join("artifacts/models/global/model.json").is_file(), "global untouched");

    // The next predict uses the symbol's own model, without a restart.
    let p = server.wait_for("/v1/predict?symbol=ETH", 30, |p| p["model_id_used"] == "ETHUSDT");
    assert!(p.get("job_id").is_none(), "{p}");
    let (_, list) = server.get("/v1/jobs");
    assert_eq!(list["jobs"].as_array().unwrap().len(), 1, "{list}");

    // Health lists both models, the two series and the queue.
    let (_, h) = server.get("/health");
    let ids: Vec<&str> = h["models"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["ETHUSDT", "global"], "{h}");
    assert_eq!(h["models"][1]["kind"], "gbdt");
    assert_eq!(h["data"].as_array().unwrap().len(), 2);
    assert_eq!(h["jobs"]["queued"], 0);
    assert!(server.stop().success(), "graceful shutdown");
}

#[test]
fn bad_input_and_faults_are_clear_answers() {
    let dir = tempfile::tempdir().unwrap();
    trained_btc(dir.path());
    let mock = eth_mock();
    let server = Server::start(dir.path(), &["--base-url", &mock.url(), "--workers", "0"]);
    let code = |path: &str| {
        let (s, v) = server.get(path);
        (
            s,
            v["error"]["code"].as_str().unwrap_or("").to_string(),
            v["error"]["message"].as_str().unwrap_or("").to_string(),
        )
    };
    // Malformed symbols, traversal, out-of-range parameters: 400 naming the input.
    let (s, c, m) = code("/v1/predict?symbol=../../etc");
    assert_eq!((s, c.as_str()), (400, "bad_symbol"), "{m}");
    assert!(m.contains("../../ETC"), "{m}");
    let (s, _, m) = code("/v1/predict?symbol=BTCUSDT&since_days_default=0");
    assert!(s == 400 && m.contains("since_days_default"), "{m}");
    let (s, _, m) = code("/v1/predict?symbol=BTCUSDT&since_days_default=3651");
    assert!(s == 400 && m.contains("3651"), "{m}");
    let (s, _, m) = code("/v1/predict?symbol=BTCUSDT&refresh=maybe");
    assert!(s == 400 && m.contains("refresh"), "{m}");
    let (s, _, m) = code("/v1/predict");
    assert!(s == 400 && m.contains("symbol is required"), "{m}");
    // Unknown symbol: 404 naming it.
    let (s, c, m) = code("/v1/predict?symbol=XRP");
    assert_eq!((s, c.as_str()), (404, "unknown_symbol"), "{m}");
    assert!(m.contains("XRPUSDT"), "{m}");
    let (s, c, _) = code("/v1/jobs/nosuch");
    assert_eq!((s, c.as_str()), (404, "unknown_job"));
    let (s, c, _) = code("/v1/signal/none");
    assert_eq!((s, c.as_str()), (404, "unknown_tag"));
    let long = format!("/v1/predict?symbol={}", "A".repeat(3000));
    assert_eq!(code(&long).0, 414);
    // Mutations need the token.
    assert_eq!(server.call("POST", "/v1/thresholds/reload", None).0, 401);
    assert_eq!(server.call("DELETE", "/v1/jobs/x", Some("wrong-token-0123456789")).0, 401);

    // A stored symbol predicts; a refresh against a dead exchange falls back to stored bars.
    let (s, p) = server.get("/v1/predict?symbol=BTCUSDT");
    assert_eq!((s, p["model_id_used"].as_str()), (200, Some("global")), "{p}");
    drop(mock);
    let (s, p) = server.get("/v1/predict?symbol=BTCUSDT&refresh=true");
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["stale"], true);
    assert!(p["as_of_age_s"].as_i64().unwrap() > 0);
    assert!(p["refresh_error"].as_str().unwrap().contains("BTCUSDT"), "{p}");
    // Nothing stored and the exchange down: 503 with Retry-After.
    let (s, c, m) = code("/v1/predict?symbol=SOLUSDT&refresh=true");
    assert_eq!((s, c.as_str()), (503, "exchange_unavailable"), "{m}");

    // Thresholds edited on disk: the reload says what changed.
    let inf = dir.path().join("artifacts/models/global/inference.json");
    let mut j: Value = serde_json::from_str(&std::fs::read_to_string(&inf).unwrap()).unwrap();
    j["policy"]["min_conf"] = serde_json::json!(0.77);
    std::fs::write(&inf, serde_json::to_string_pretty(&j).unwrap()).unwrap();
    let (s, r) = server.call("POST", "/v1/thresholds/reload", Some(TOKEN));
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["changed"], 1, "{r}");
    assert_eq!(r["models"][0]["after"]["policy"]["min_conf"], 0.77);
    let (_, p) = server.get("/v1/predict?symbol=BTCUSDT");
    assert_eq!(p["thresholds"]["policy"]["min_conf"], 0.77);

    // A corrupt model: 500 naming the file; the other models still answer.
    let eth = dir.path().join("artifacts/models/ETHUSDT");
    std::fs::create_dir_all(&eth).unwrap();
    for f in ["config.json", "feature_schema.json", "inference.json", "metrics.json"] {
        std::fs::copy(dir.path().join("artifacts/models/global").join(f), eth.join(f)).unwrap();
    }
    std::fs::write(eth.join("model.json"), b"{not json").unwrap();
    let csv = fixture("ETHUSDT_4h.csv");
    ok(&vane(&["import", "--csv", csv.to_str().unwrap(), "--symbol", "ETHUSDT", "--interval", "4h"], dir.path()));
    let bad = server.wait_for("/v1/predict?symbol=ETHUSDT", 20, |v| v["error"]["code"] == "model_unavailable");
    assert!(bad["error"]["message"].as_str().unwrap().contains("model.json"), "{bad}");
    let (s, _) = server.get("/v1/predict?symbol=BTCUSDT");
    assert_eq!(s, 200, "the server stays up for the other symbols");
    let (_, h) = server.get("/health");
    let e = h["models"].as_array().unwrap().iter().find(|m| m["id"] == "ETHUSDT").unwrap();
    assert!(e["error"].as_str().unwrap().contains("model.json"), "{h}");
}

#[test]
fn an_empty_artifacts_folder_serves_health_and_jobs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token.txt"), TOKEN).unwrap();
    let server = Server::start(dir.path(), &["--artifacts-dir", "nothing-here"]);
    let (s, h) = server.get("/health");
    assert_eq!(s, 200);
    assert_eq!(h["models"], serde_json::json!([]));
    assert_eq!(server.get("/v1/jobs").1["jobs"], serde_json::json!([]));
    let (s, e) = server.get("/v1/predict?symbol=BTCUSDT");
    assert_eq!((s, e["error"]["code"].as_str()), (404, Some("no_model")), "{e}");
    assert!(server.stop().success());
    // A token too short, or --insecure-local on a public address, is refused at start.
    std::fs::write(dir.path().join("short.txt"), "abc").unwrap();
    let out = vane(&["serve", "--addr", "127.0.0.1:0", "--token-file", "short.txt"], dir.path());
    common::fails(&out, common::exit::USAGE, &["at least 16 characters"]);
    let out = vane(&["serve", "--addr", "0.0.0.0:0", "--insecure-local"], dir.path());
    common::fails(&out, common::exit::USAGE, &["--insecure-local", "loopback"]);
}

/// Reads Server-Sent Events from `url` on a thread, sending each `data:` payload.
fn sse(url: String) -> std::sync::mpsc::Receiver<Value> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut resp = ureq::get(&url).call().unwrap();
        let reader = BufReader::new(resp.body_mut().as_reader());
        for line in reader.lines() {
            let Ok(line) = line else { return };
            if let Some(data) = line.strip_prefix("data: ")
                && tx.send(serde_json::from_str(data).unwrap()).is_err()
            {
                return;
            }
        }
    });
    rx
}

#[test]
fn seed000_runtime_publishes_decisions_and_new_bars_reach_the_stream() {
    // The fixture without its last bar; the last bar arrives later, as a new bar would.
    let dir = tempfile::tempdir().unwrap();
    let full = std::fs::read_to_string(fixture("BTCUSDT_4h.csv")).unwrap();
    let lines: Vec<&str> = full.lines().collect();
    std::fs::write(dir.path().join("head.csv"), lines[..lines.len() - 1].join("\n") + "\n").unwrap();
    trained_btc_from(dir.path(), &dir.path().join("head.csv"));
    let server = Server::start(
        dir.path(),
        &[
            "--model-tag",
            "global",
            "--consensus-tags",
            "global",
            "--stream-symbols",
            "BTCUSDT",
            "--poll-sec",
            "0.1",
            "--cooldown-sec",
            "0",
        ],
    );
    let s = server.wait_for("/v1/signal/global", 20, |v| !v["symbols"].as_array().unwrap().is_empty());
    let first = &s["symbols"][0];
    assert_eq!(first["symbol"], "BTCUSDT");
    assert_eq!(first["as_of"], 1_704_038_400_000i64);
    assert!(["BUY", "SELL", "HOLD"].contains(&first["signal"].as_str().unwrap()), "{s}");
    let (_, h) = server.get("/health");
    assert_eq!(h["stack_tags"], serde_json::json!(["global", "global"]));

    // The stream starts with the latest decision, then a new bar in the store is decided on.
    let events = sse(format!("{}/v1/stream", server.url));
    let e0 = events.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(e0["as_of"], 1_704_038_400_000i64);
    assert_eq!(e0["consensus_rule"], serde_json::json!({"k": 2, "n": 2}));
    let csv = fixture("BTCUSDT_4h.csv");
    ok(&vane(&["import", "--csv", csv.to_str().unwrap(), "--symbol", "BTCUSDT", "--interval", "4h"], dir.path()));
    let e1 = events.recv_timeout(Duration::from_secs(20)).expect("an update for the new bar");
    assert_eq!(e1["symbol"], "BTCUSDT");
    assert_eq!(e1["as_of"], 1_704_052_800_000i64);
    assert!(e1["tags"]["global"]["probs"]["BUY"].is_number(), "{e1}");
    assert!(e1["decide_ms"].as_f64().unwrap() >= 0.0);
}

#[test]
fn kill_9_mid_job_marks_it_failed_and_keeps_the_other_models() {
    let dir = tempfile::tempdir().unwrap();
    trained_btc(dir.path());
    // A slow job: the global model's config (which jobs inherit) asks for many trees.
    let cfg_path = dir.path().join("artifacts/models/global/config.json");
    let mut cfg: Value = serde_json::from_str(&std::fs::read_to_string(&cfg_path).unwrap()).unwrap();
    cfg["config"]["iterations_fast"] = serde_json::json!(20000);
    std::fs::write(&cfg_path, serde_json::to_string_pretty(&cfg).unwrap()).unwrap();
    let global_model = std::fs::read(dir.path().join("artifacts/models/global/model.json")).unwrap();
    let mock = eth_mock();
    let mut server = Server::start(dir.path(), &["--base-url", &mock.url()]);
    let (s, p) =
        server.call("GET", "/v1/predict?symbol=ETH&refresh=true&train=true&since_days_default=3650", Some(TOKEN));
    assert_eq!(s, 200, "{p}");
    let job = p["job_id"].as_str().unwrap().to_string();
    server.wait_for(&format!("/v1/jobs/{job}"), 60, |j| j["status"] == "running");
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    drop(server);

    assert_eq!(std::fs::read(dir.path().join("artifacts/models/global/model.json")).unwrap(), global_model);
    assert!(!dir.path().join("artifacts/models/ETHUSDT").exists(), "no half-written model");
    let server = Server::start(dir.path(), &["--base-url", &mock.url(), "--workers", "0"]);
    let (_, j) = server.get(&format!("/v1/jobs/{job}"));
    assert_eq!(j["status"], "failed", "{j}");
    assert!(j["error"].as_str().unwrap().contains("interrupted"), "{j}");
    // Never lost: it is listed, and a new request queues a new job.
    let (_, p) = server.call("GET", "/v1/predict?symbol=ETH&train=true", Some(TOKEN));
    let again = p["job_id"].as_str().unwrap();
    assert_ne!(again, job);
    let (_, list) = server.get("/v1/jobs");
    assert_eq!(list["jobs"].as_array().unwrap().len(), 2);
    // Cancel the queued one (no worker runs in this server).
    let (s, c) = server.call("DELETE", &format!("/v1/jobs/{again}"), Some(TOKEN));
    assert_eq!((s, c["status"].as_str()), (200, Some("cancelled")), "{c}");
}

#[test]
fn a_separate_vane_worker_process_runs_the_queued_job() {
    let dir = tempfile::tempdir().unwrap();
    trained_btc(dir.path());
    let mock = eth_mock();
    let server = Server::start(dir.path(), &["--base-url", &mock.url(), "--workers", "0"]);
    let (s, p) =
        server.call("GET", "/v1/predict?symbol=ETH&refresh=true&train=true&since_days_default=3650", Some(TOKEN));
    assert_eq!(s, 200, "{p}");
    let job = p["job_id"].as_str().unwrap().to_string();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(server.get(&format!("/v1/jobs/{job}")).1["status"], "queued", "no worker in the server");
    let mut worker = Command::new(env!("CARGO_BIN_EXE_vane"))
        .args(["worker", "--queue", "artifacts/jobs.sqlite"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let done =
        server.wait_for(&format!("/v1/jobs/{job}"), 120, |j| j["status"] != "queued" && j["status"] != "running");
    assert_eq!(done["status"], "done", "{done}");
    server.wait_for("/v1/predict?symbol=ETH", 30, |p| p["model_id_used"] == "ETHUSDT");
    let _ = Command::new("kill").args(["-TERM", &worker.id().to_string()]).status();
    assert!(worker.wait().unwrap().success(), "the worker stops on SIGTERM");
}

#[test]
fn a_hundred_train_requests_for_twenty_symbols_make_twenty_jobs() {
    // Load test data: the real BTCUSDT candles stored under 20 symbol names (labelled synthetic:
    // only the names are made up), no own models, no workers (the jobs stay queued).
    let dir = tempfile::tempdir().unwrap();
    trained_btc(dir.path());
    let csv = fixture("BTCUSDT_4h.csv");
    let names: Vec<String> = (0..20).map(|i| format!("S{i:02}USDT")).collect();
    for n in &names {
        ok(&vane(&["import", "--csv", csv.to_str().unwrap(), "--symbol", n, "--interval", "4h"], dir.path()));
    }
    let server = Server::start(dir.path(), &["--workers", "0"]);
    let url = server.url.clone();
    let threads: Vec<_> = (0..100)
        .map(|i| {
            let (url, sym) = (url.clone(), names[i % 20].clone());
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
                // Beyond 64 requests in flight the server answers 429 with Retry-After: a bot
                // waits and asks again.
                let (mut busy, mut tries) = (0, 0);
                loop {
                    tries += 1;
                    let mut r = agent
                        .get(&format!("{url}/v1/predict?symbol={sym}&train=true"))
                        .header("Authorization", &format!("Bearer {TOKEN}"))
                        .call()
                        .unwrap();
                    let status = r.status().as_u16();
                    let v: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
                    if status == 429 && tries < 50 {
                        assert!(r.headers().get("retry-after").is_some(), "{v}");
                        busy += 1;
                        std::thread::sleep(Duration::from_millis(100));
                        continue;
                    }
                    return (status, sym, v["job_id"].as_str().map(str::to_string), busy);
                }
            })
        })
        .collect();
    let mut by_symbol: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
    for t in threads {
        let (status, sym, job, _busy) = t.join().unwrap();
        assert_eq!(status, 200);
        by_symbol.entry(sym).or_default().insert(job.expect("a job id"));
    }
    assert_eq!(by_symbol.len(), 20);
    assert!(by_symbol.values().all(|ids| ids.len() == 1), "one job per symbol: {by_symbol:?}");
    let (_, list) = server.get("/v1/jobs?limit=1000");
    assert_eq!(list["jobs"].as_array().unwrap().len(), 20);
    let (_, h) = server.get("/health");
    assert_eq!(h["jobs"]["queued"], 20);
    assert!(h["models"][0]["trained_at_ms"].as_i64().unwrap() > 1_700_000_000_000, "{h}");
}
