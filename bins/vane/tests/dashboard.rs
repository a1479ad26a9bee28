//! The dashboard (`GET /` of `vane serve --runs-dir DIR`, no models, no store) driven by a real
//! headless Chromium: the page's self-test mode (`/?selftest=1&token=T`) lists the runs, compares
//! two, opens the walk-forward run, draws the correlation heatmap and presses "Load thresholds",
//! then writes a JSON verdict into `<pre id="selftest">`, which this test reads from the DOM that
//! `chromium --headless --dump-dom` prints. The server side is checked too (its reload counter in
//! `/health`), and a screenshot is saved to `target/dashboard.png`.
//!
//! Four runs are SYNTHETIC (deterministic pseudo-random returns and losses written through
//! `vane_artifact::runs`, no training); the fifth is a real, tiny `vane wfo --model
//! lorentzian-knn` on the fixture candles recorded into the registry. The test takes seconds. Without Chromium the test is
//! skipped with a message, unless `VANE_REQUIRE_CHROMIUM=1` (CI) makes it fail.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use vane_artifact::runs::{HistoryRow, ReturnRow, RunsDir};

const TOKEN: &str = "dashboard-token-0123456789";

/// A running `vane serve`, killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(dir: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vane"))
            .args(["serve", "--addr", "127.0.0.1:0", "--token-file", "token.txt", "--runs-dir", "runs"])
            .args(["--workers", "0"])
            .current_dir(dir)
            .env("RUST_LOG", "warn")
            .env_remove("VANE_RUNS_DIR")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        err.read_line(&mut line).unwrap();
        let url =
            line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("no address: {line:?}")).to_string();
        std::thread::spawn(move || for _ in err.lines() {});
        Self { child, url }
    }

    /// `GET path`: status, content type, body.
    fn get_raw(&self, path: &str) -> (u16, String, Vec<u8>) {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let mut resp = agent.get(&format!("{}{path}", self.url)).call().unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = resp.status().as_u16();
        let ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        let mut body = Vec::new();
        resp.body_mut().as_reader().read_to_end(&mut body).unwrap();
        (status, ct, body)
    }

    fn get(&self, path: &str) -> (u16, Value) {
        let (status, ct, body) = self.get_raw(path);
        assert_eq!(ct, "application/json", "{path}");
        (status, serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{path}: {e}")))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A deterministic pseudo-random stream in [-1, 1) (synthetic data, no `rand` needed).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

const H4: i64 = 4 * 3600 * 1000;
const T0: i64 = 1_700_006_400_000;

/// A SYNTHETIC `train-test` run: `n` 4h returns with a small drift, a loss curve, metrics.
fn synthetic_run(runs: &RunsDir, seed: u64, n: usize, drift: f64) -> String {
    let mut rng = Lcg(seed);
    let mut w = runs
        .start(
            "train-test",
            "lorentzian",
            &["BTCUSDT".into()],
            Some("4h"),
            json!({"synthetic": true, "epochs": 20, "lr": 0.001, "seed": seed}),
        )
        .unwrap();
    let rets: Vec<ReturnRow> = (0..n)
        .map(|i| ReturnRow { open_time_ms: T0 + i as i64 * H4, window: 0, ret: drift + 0.01 * rng.next() })
        .collect();
    w.write_returns(&rets).unwrap();
    let hist: Vec<HistoryRow> = (1..=20)
        .map(|e| HistoryRow {
            epoch: e,
            train_loss: 1.1 / (e as f64).sqrt() + 0.01 * rng.next(),
            valid_loss: Some(1.15 / (e as f64).powf(0.4) + 0.02 * rng.next()),
        })
        .collect();
    w.write_history(&hist).unwrap();
    // A tiny hand-made reliability diagram (synthetic) so the plots endpoint has an SVG to serve.
    let plots = w.plots_dir().unwrap();
    std::fs::write(
        plots.join("reliability.svg"),
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><rect width="200" height="200" fill="#fff"/><path d="M20 180 L180 20" stroke="#999"/><path d="M20 170 L60 130 L100 95 L140 60 L180 30" stroke="#2563eb" fill="none"/><text x="30" y="20" font-size="12">synthetic reliability</text></svg>"##,
    )
    .unwrap();
    let total: f64 = rets.iter().map(|r| 1.0 + r.ret).product::<f64>() - 1.0;
    w.metric("total_return", total);
    w.metric("sharpe_ratio", 0.5 + 40.0 * drift + 0.1 * rng.next());
    w.metric("max_drawdown", 0.1 + 0.05 * rng.next());
    w.metric("win_rate", 0.5 + 0.1 * rng.next());
    w.metric("profit_factor", 1.0 + 0.3 * rng.next());
    w.note("synthetic run made by the dashboard test");
    w.finish().unwrap().id
}

/// A SYNTHETIC WFO-shaped run: 6 windows of 30 days training, 7 days testing (4h bars), the
/// columns of issue 16's `window_metrics` (a subset of the metrics), stitched OOS returns.
fn synthetic_wfo(runs: &RunsDir) -> String {
    let mut rng = Lcg(99);
    let mut w = runs
        .start(
            "wfo",
            "lorentzian-knn",
            &["BTCUSDT".into()],
            Some("4h"),
            json!({"synthetic": true, "optimize_metric": "sharpe_ratio", "window_size_days": 30, "test_size_days": 7}),
        )
        .unwrap();
    let day = 24 * 3600 * 1000;
    let mut csv = String::from(
        "window,train_start_ms,train_end_ms,test_start_ms,test_end_ms,neighbors,features,is_total_return,oos_total_return,is_sharpe_ratio,oos_sharpe_ratio,is_win_rate,oos_win_rate,is_max_drawdown,oos_max_drawdown\n",
    );
    let mut rets = Vec::new();
    for k in 0..6i64 {
        let train_start = T0 + k * 7 * day;
        let test_start = train_start + 30 * day;
        csv.push_str(&format!(
            "{k},{train_start},{},{test_start},{},{},{},{},{},{},{},{},{},{},{}\n",
            test_start - 1,
            test_start + 7 * day - 1,
            [4, 8, 16][k as usize % 3],
            5,
            0.05 + 0.02 * rng.next(),
            0.01 + 0.03 * rng.next(),
            1.5 + 0.5 * rng.next(),
            0.3 + 0.8 * rng.next(),
            0.55 + 0.05 * rng.next(),
            0.5 + 0.05 * rng.next(),
            0.04 + 0.01 * rng.next(),
            0.06 + 0.02 * rng.next(),
        ));
        for i in 0..42 {
            rets.push(ReturnRow {
                open_time_ms: test_start + i * H4,
                window: k as usize,
                ret: 0.0003 + 0.008 * rng.next(),
            });
        }
    }
    w.write_file("windows.csv", csv.as_bytes()).unwrap();
    w.write_returns(&rets).unwrap();
    w.metric("total_return", rets.iter().map(|r| 1.0 + r.ret).product::<f64>() - 1.0);
    w.metric("sharpe_ratio", 0.9);
    w.metric("max_drawdown", 0.07);
    w.metric("win_rate", 0.52);
    w.metric("deflated_sharpe", 0.61);
    w.finish().unwrap().id
}

/// A real, tiny `vane wfo --model lorentzian-knn` on the fixture candles (60 days, 14-day
/// windows, 7-day tests, 2 candidates: well under a second), which records itself in the
/// registry (`windows.csv`, `returns.csv`, `plots/`, the stitched metrics). Returns the run id
/// and the number of windows.
fn real_wfo(dir: &Path, runs: &RunsDir) -> (String, usize) {
    let vane = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_vane")).args(args).current_dir(dir).output().unwrap();
        assert!(out.status.success(), "vane {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let before: Vec<String> = runs.list().unwrap().into_iter().map(|r| r.id).collect();
    let csv = vane_testkit::fixtures_dir().join("BTCUSDT_4h.csv");
    vane(&["import", "--csv", csv.to_str().unwrap(), "--symbol", "BTCUSDT", "--interval", "4h"]);
    vane(&[
        "wfo",
        "--model",
        "lorentzian-knn",
        "--symbol",
        "BTCUSDT",
        "--interval",
        "4h",
        "--data-days",
        "60",
        "--window-size",
        "14",
        "--test-size",
        "7",
        "--out",
        "wfo-out",
        "--grid",
        "neighbors=4,8 features=3",
        "--runs-dir",
        "runs",
    ]);
    let run = runs
        .list()
        .unwrap()
        .into_iter()
        .find(|r| r.verb == "wfo" && !before.contains(&r.id))
        .expect("vane wfo recorded a run in the registry");
    let windows = std::fs::read_to_string(runs.run_dir(&run.id).unwrap().join("windows.csv")).unwrap();
    (run.id, windows.lines().skip(1).filter(|l| !l.trim().is_empty()).count())
}

fn chromium() -> Option<String> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        let ok = Command::new(name)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(name.to_string());
        }
    }
    None
}

/// Runs headless Chromium on `url` in a `size` window (`W,H`) with `extra` flags (a fresh profile in `profile`), killed
/// after 120 s; returns stdout.
fn run_chromium(bin: &str, profile: &Path, url: &str, size: &str, extra: &[&str]) -> String {
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            "--virtual-time-budget=15000",
        ])
        .arg(format!("--window-size={size}"))
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 120 s on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap()
}

/// The text of `<pre id="selftest" …>…</pre>` in a dumped DOM, unescaped.
fn selftest_verdict(dom: &str) -> Value {
    let start = dom.find("id=\"selftest\"").unwrap_or_else(|| panic!("no selftest element in the DOM:\n{dom}"));
    let open = start + dom[start..].find('>').unwrap() + 1;
    let close = open + dom[open..].find("</pre>").unwrap();
    let text = dom[open..close].replace("&lt;", "<").replace("&gt;", ">").replace("&nbsp;", " ").replace("&amp;", "&");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("the self-test wrote no verdict ({e}): {text:?}"))
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

#[test]
fn the_dashboard_renders_compares_and_reloads_thresholds_in_headless_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("token.txt"), TOKEN).unwrap();
    let runs = RunsDir::new(dir.join("runs"));
    let a = synthetic_run(&runs, 1, 3000, 0.0004);
    let b = synthetic_run(&runs, 2, 2500, -0.0002);
    let c = synthetic_run(&runs, 3, 2000, 0.0001);
    let wfo = synthetic_wfo(&runs);
    let (real, real_windows) = real_wfo(dir, &runs);

    // No models, no store: the server still serves the page and the runs.
    let server = Server::start(dir);
    let (status, ct, body) = server.get_raw("/");
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(String::from_utf8_lossy(&body).contains("uPlot.iife.min.js"));
    let (status, ct, _) = server.get_raw("/assets/vendor/uPlot.iife.min.js");
    assert_eq!((status, ct.starts_with("text/javascript")), (200, true));

    // The JSON endpoints the page uses.
    let (s, list) = server.get("/v1/runs?limit=2");
    assert_eq!(s, 200);
    assert_eq!(list["total"], 5);
    let page: Vec<&str> = list["runs"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(page.len(), 2);
    let t = |i: usize| list["runs"][i]["created_ms"].as_i64().unwrap();
    assert!(t(0) >= t(1), "newest first: {page:?}");
    let (_, only) = server.get("/v1/runs?verb=wfo&model=lorentzian-knn");
    assert_eq!(only["total"], 2);
    let (s, e) = server.get("/v1/runs/20990101T000000-nope-x-0000");
    assert_eq!(s, 404);
    assert!(e["error"]["message"].as_str().unwrap().contains("20990101T000000-nope-x-0000"), "{e}");
    let (s, e) = server.get(&format!("/v1/runs/{a}/series?max_points=3"));
    assert_eq!(s, 400);
    assert!(e["error"]["message"].as_str().unwrap().contains("max_points"), "{e}");
    let (s, e) = server.get("/v1/runs?status=done");
    assert_eq!(s, 400);
    assert!(e["error"]["message"].as_str().unwrap().contains("status"), "{e}");
    let (s, eq) = server.get(&format!("/v1/runs/{a}/series?kind=equity&max_points=200"));
    assert_eq!(s, 200);
    assert_eq!(eq["total_points"], 3000);
    assert!(eq["x"].as_array().unwrap().len() <= 200);
    assert_eq!(eq["downsampled"], "minmax");
    let (s, cmp) = server.get(&format!("/v1/runs/compare?ids={a},{b}"));
    assert_eq!(s, 200);
    assert_eq!(cmp["equity"]["series"].as_object().unwrap().len(), 2);
    let (s, win) = server.get(&format!("/v1/runs/{wfo}/windows"));
    assert_eq!(s, 200);
    assert_eq!(win["rows"].as_array().unwrap().len(), 6);
    assert_eq!(win["optimize_metric"], "sharpe_ratio");
    let (s, _) = server.get(&format!("/v1/runs/{a}/windows"));
    assert_eq!(s, 404);
    let (s, corr) = server.get("/v1/runs/correlation");
    assert_eq!(s, 200);
    assert_eq!(corr["runs"], 5);
    let (s, ct, svg) = server.get_raw(&format!("/v1/runs/{c}/plots/reliability.svg"));
    assert_eq!((s, ct.as_str()), (200, "image/svg+xml"));
    assert!(svg.starts_with(b"<svg"));
    let (s, _, _) = server.get_raw(&format!("/v1/runs/{c}/plots/..%2Frun.json"));
    assert_eq!(s, 400, "a path outside plots/ is refused");
    let (s, win) = server.get(&format!("/v1/runs/{real}/windows"));
    assert_eq!(s, 200);
    assert_eq!(win["rows"].as_array().unwrap().len(), real_windows);
    assert_eq!(win["optimize_metric"], "sharpe_ratio", "read from vane wfo's config.optimize");
    assert!(win["metrics"].as_array().unwrap().iter().any(|m| m == "profit_factor"), "{}", win["metrics"]);
    let (_, health) = server.get("/health");
    assert_eq!(health["thresholds_reloads"], 0);
    assert_eq!(health["models"].as_array().unwrap().len(), 0, "no models: a degraded server, not a failed one");

    let Some(bin) = chromium() else {
        if common::required("VANE_REQUIRE_CHROMIUM") {
            panic!(
                "Chromium is required here (VANE_REQUIRE_CHROMIUM=1 or CI=true) but none is on PATH (apt-get install chromium)"
            );
        }
        eprintln!("SKIPPED the browser part of the dashboard test: no chromium on PATH (apt-get install chromium)");
        return;
    };
    // The page opens the real walk-forward run.
    let url = format!("{}/?selftest=1&token={TOKEN}&wfo={real}", server.url);
    let dom = run_chromium(&bin, &dir.join("profile"), &url, "1400,1000", &["--dump-dom"]);
    let v = selftest_verdict(&dom);
    eprintln!("self-test verdict: {v}");
    assert_eq!(v["loaded"], true);
    assert!(v["steps"].as_array().unwrap().iter().all(|s| s["ok"] == true), "a step failed: {v}");
    assert_eq!(v["errors"], json!([]), "console errors: {v}");
    assert_eq!(v["runs_listed"], 5, "{v}");
    let compared: Vec<&str> = v["compared"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
    assert_eq!(compared.len(), 2, "the comparison shows both ids: {v}");
    assert!(compared.iter().all(|id| [&a, &b, &c].iter().any(|x| x == id)), "{v}");
    assert!(v["non_empty_canvases"].as_u64().unwrap() >= 3, "charts drawn (compare, equity, drawdown): {v}");
    assert_eq!(v["wfo_windows"], real_windows, "{v}");
    assert!(v["wfo_bars"].as_u64().unwrap() > 0, "is and oos bars of the windows: {v}");
    assert!(v["heatmap_cells"].as_u64().unwrap() >= 9, "{v}");
    assert_eq!(v["reload"]["ok"], true, "the button's POST was accepted: {v}");
    assert_eq!(v["ok"], true, "{v}");
    // The server saw the button's request.
    let (_, health) = server.get("/health");
    assert_eq!(health["thresholds_reloads"], 1, "POST /v1/thresholds/reload reached the server once");

    // The screenshot, a build artifact.
    let shot = target_dir().join("dashboard.png");
    let _ = std::fs::remove_file(&shot);
    std::fs::create_dir_all(target_dir()).unwrap();
    run_chromium(&bin, &dir.join("profile2"), &url, "1400,1000", &[&format!("--screenshot={}", shot.display())]);
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", shot.display()));
    assert!(png.starts_with(b"\x89PNG"), "{} is not a PNG", shot.display());
    // The whole page too (the run, windows and heatmap panels lie below the first screen).
    let full = target_dir().join("dashboard-full.png");
    run_chromium(&bin, &dir.join("profile3"), &url, "1400,2300", &[&format!("--screenshot={}", full.display())]);
    eprintln!("screenshots: {} {}", shot.display(), full.display());
}
