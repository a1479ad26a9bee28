//! `/v1/runs…` and the dashboard's page over real HTTP, the server in-process on 127.0.0.1:0
//! with a runs registry of SYNTHETIC runs (no models, no store): answers, downsampling, the
//! errors that name the run or the parameter, the plot path check, the reload counter.

use std::net::SocketAddr;
use std::path::Path;
use std::thread::JoinHandle;

use serde_json::{Value, json};
use vane_artifact::runs::{ReturnRow, RunsDir};
use vane_server::{ServeConfig, bind, serve};

struct Running {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<JoinHandle<vane_server::Result<()>>>,
}

impl Running {
    fn start(dir: &Path) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let listener = rt.block_on(bind("127.0.0.1:0".parse().unwrap())).unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let mut cfg = ServeConfig::new(addr, dir.join("artifacts"), dir.join("data"));
        cfg.runs_dir = dir.join("runs");
        cfg.workers = 0;
        cfg.insecure_local = true;
        let handle = std::thread::spawn(move || {
            rt.block_on(serve(listener, cfg, async {
                let _ = rx.await;
            }))
        });
        Self { addr, stop: Some(tx), handle: Some(handle) }
    }

    fn raw(&self, method: &str, path: &str) -> (u16, String, String) {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let url = format!("http://{}{path}", self.addr);
        let mut resp = if method == "POST" { agent.post(&url).send_empty() } else { agent.get(&url).call() }.unwrap();
        let status = resp.status().as_u16();
        let ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        (status, ct, resp.body_mut().read_to_string().unwrap())
    }

    fn get(&self, path: &str) -> (u16, Value) {
        let (status, ct, body) = self.raw("GET", path);
        assert_eq!(ct, "application/json", "{path}");
        (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// A SYNTHETIC run of `n` returns alternating +1 % / −1 % with one crash at `n / 2`.
fn run(runs: &RunsDir, verb: &str, n: usize, sharpe: f64) -> String {
    let mut w = runs.start(verb, "gbdt", &["ETHUSDT".into()], Some("1h"), json!({"optimize": "sharpe_ratio"})).unwrap();
    let rows: Vec<ReturnRow> = (0..n)
        .map(|i| ReturnRow {
            open_time_ms: 1_700_000_000_000 + i as i64 * 3_600_000,
            window: 0,
            ret: if i == n / 2 {
                -0.5
            } else if i % 2 == 0 {
                0.01
            } else {
                -0.01
            },
        })
        .collect();
    w.write_returns(&rows).unwrap();
    w.metric("sharpe_ratio", sharpe);
    w.metric("total_return", sharpe / 10.0);
    w.metric("max_drawdown", 0.5 - sharpe / 100.0);
    w.finish().unwrap().id
}

#[test]
fn a_missing_registry_is_empty_and_the_page_is_served() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Running::start(tmp.path());
    let (status, list) = s.get("/v1/runs");
    assert_eq!(status, 200);
    assert_eq!(list["total"], 0);
    let (status, ct, html) = s.raw("GET", "/");
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/html") && html.contains("<pre id=\"selftest\""), "{ct}");
    let (status, ct, js) = s.raw("GET", "/assets/app.js");
    assert_eq!((status, ct.starts_with("text/javascript")), (200, true));
    assert!(js.contains("/v1/thresholds/reload"));
    let (_, h) = s.get("/health");
    assert_eq!(h["thresholds_reloads"], 0);
    // --insecure-local on loopback: the reload is allowed, and counted.
    let (status, _, _) = s.raw("POST", "/v1/thresholds/reload");
    assert_eq!(status, 200);
    let (_, h) = s.get("/health");
    assert_eq!(h["thresholds_reloads"], 1);
}

#[test]
fn runs_series_compare_windows_and_their_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = RunsDir::new(tmp.path().join("runs"));
    let a = run(&runs, "train-test", 10_000, 1.0);
    let b = run(&runs, "train-test", 500, 2.0);
    let c = run(&runs, "wfo", 50, 0.5);
    let dir_c = runs.run_dir(&c).unwrap();
    std::fs::write(dir_c.join("windows.csv"), "window,is_sharpe_ratio,oos_sharpe_ratio,note\n0,1.5,0.5,x\n1,,0.25,\n")
        .unwrap();
    let s = Running::start(tmp.path());

    let (_, list) = s.get("/v1/runs?verb=train-test&limit=1&offset=1");
    assert_eq!(list["total"], 2);
    assert_eq!(list["runs"].as_array().unwrap().len(), 1);
    assert_eq!(list["facets"]["verbs"], json!(["train-test", "wfo"]));
    let (_, list) = s.get("/v1/runs?symbol=ethusdt&status=finished");
    assert_eq!(list["total"], 3);

    // Equity of 10 000 points down to ≤ 300, the crash kept.
    let (status, eq) = s.get(&format!("/v1/runs/{a}/series?kind=drawdown&max_points=300"));
    assert_eq!(status, 200);
    let x = eq["x"].as_array().unwrap();
    assert!(x.len() <= 300, "{}", x.len());
    assert_eq!(eq["total_points"], 10_000);
    let dd: Vec<f64> = eq["series"]["drawdown"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let worst = dd.iter().copied().fold(0.0, f64::min);
    assert!(worst < -0.5, "the crash's drawdown survives downsampling: {worst}");
    let (_, all) = s.get(&format!("/v1/runs/{b}/series?kind=returns&max_points=1000"));
    assert_eq!(all["downsampled"], "none");
    assert_eq!(all["x"].as_array().unwrap().len(), 500);

    let (status, cmp) = s.get(&format!("/v1/runs/compare?ids={a},{b}&max_points=100"));
    assert_eq!(status, 200);
    assert_eq!(cmp["table"]["sharpe_ratio"], json!([1.0, 2.0]));
    let ex = cmp["equity"]["x"].as_array().unwrap().len();
    assert!(ex <= 100);
    assert_eq!(cmp["equity"]["series"][&b].as_array().unwrap().len(), ex, "aligned");

    let (status, w) = s.get(&format!("/v1/runs/{c}/windows"));
    assert_eq!(status, 200);
    assert_eq!(w["metrics"], json!(["sharpe_ratio"]));
    assert_eq!(w["optimize_metric"], "sharpe_ratio");
    assert_eq!(w["rows"][1]["is_sharpe_ratio"], Value::Null);
    assert_eq!(w["rows"][0]["note"], "x");

    let (status, corr) = s.get("/v1/runs/correlation");
    assert_eq!(status, 200);
    let i = corr["metrics"].as_array().unwrap().iter().position(|m| m == "sharpe_ratio").unwrap();
    let j = corr["metrics"].as_array().unwrap().iter().position(|m| m == "max_drawdown").unwrap();
    assert!((corr["r"][i][j].as_f64().unwrap() + 1.0).abs() < 1e-9, "exactly anti-correlated by construction");
    assert_eq!(corr["n"][i][j], 3);

    // Errors name the run or the parameter.
    for (path, status, word) in [
        ("/v1/runs/no-such-run".to_string(), 404, "no-such-run"),
        ("/v1/runs/no-such-run/series".to_string(), 404, "no-such-run"),
        (format!("/v1/runs/{a}/series?max_points=5"), 400, "max_points"),
        (format!("/v1/runs/{a}/series?kind=candles"), 400, "kind"),
        (format!("/v1/runs/{a}/windows"), 404, "windows.csv"),
        ("/v1/runs/compare".to_string(), 400, "ids"),
        ("/v1/runs?limit=0".to_string(), 400, "limit"),
        ("/v1/runs?status=done".to_string(), 400, "status"),
        (format!("/v1/runs/{a}/plots/x.txt"), 400, "name"),
        (format!("/v1/runs/{a}/plots/missing.svg"), 404, "missing.svg"),
    ] {
        let (got, e) = s.get(&path);
        assert_eq!(got, status, "{path}: {e}");
        assert!(e["error"]["message"].as_str().unwrap().contains(word), "{path}: {e}");
    }
}

#[cfg(unix)]
#[test]
fn a_plot_link_out_of_the_run_is_not_served() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = RunsDir::new(tmp.path().join("runs"));
    let w = runs.start("train", "gbdt", &[], None, Value::Null).unwrap();
    let plots = w.plots_dir().unwrap();
    std::fs::write(plots.join("ok.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
    std::fs::write(tmp.path().join("secret.svg"), "<svg>secret</svg>").unwrap();
    std::os::unix::fs::symlink(tmp.path().join("secret.svg"), plots.join("leak.svg")).unwrap();
    let id = w.finish().unwrap().id;
    let s = Running::start(tmp.path());
    let (status, ct, body) = s.raw("GET", &format!("/v1/runs/{id}/plots/ok.svg"));
    assert_eq!((status, ct.as_str()), (200, "image/svg+xml"));
    assert!(body.starts_with("<svg"));
    let (status, _, body) = s.raw("GET", &format!("/v1/runs/{id}/plots/leak.svg"));
    assert_eq!(status, 404, "{body}");
    let (_, detail) = s.get(&format!("/v1/runs/{id}"));
    assert!(detail["plots"].as_array().unwrap().iter().any(|p| p == "ok.svg"));
}
