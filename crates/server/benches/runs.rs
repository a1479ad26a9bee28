//! The runs registry endpoints at the dashboard's scale (a bench binary: it asserts nothing, it
//! prints figures). It writes SYNTHETIC runs — `BENCH_RUNS` (500) runs of `BENCH_POINTS`
//! (100 000) pseudo-random returns each, through `vane_artifact::runs`, about 1.8 GB in a
//! temporary folder — starts the server in-process on 127.0.0.1:0 with `runs_dir` there, and times
//! over loopback (one keep-alive connection, wall time of request + answer):
//!
//! - `GET /v1/runs?limit=100` (reads every `run.json`),
//! - `GET /v1/runs/{id}/series?kind=equity` (default 2 000 points): cold (the first request of
//!   a run parses its `returns.csv`) and warm (the parsed returns are cached),
//! - `GET /v1/runs/compare?ids=…` of 5 runs (aligned on one time axis, downsampled),
//! - `GET /v1/runs/correlation` over every run.
//!
//! `cargo bench -p vane-server --bench runs` (`BENCH_RUNS`, `BENCH_POINTS` change the sizes).

use std::net::SocketAddr;
use std::time::Instant;

use vane_artifact::runs::{ReturnRow, RunsDir};
use vane_server::{ServeConfig, bind, serve};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn start(cfg: ServeConfig) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = bind(cfg.addr).await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            serve(listener, cfg, std::future::pending()).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

/// SYNTHETIC run `k`: `points` 1-minute returns from a per-run seed, and headline metrics.
fn write_run(runs: &RunsDir, k: usize, points: usize) -> String {
    let mut s = (k as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut next = move || {
        s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    let model = ["lorentzian", "gbdt", "lorentzian-knn", "hrm"][k % 4];
    let verb = if k.is_multiple_of(5) { "wfo" } else { "train-test" };
    let mut w = runs
        .start(verb, model, &["BTCUSDT".into()], Some("1m"), serde_json::json!({"synthetic": true, "k": k}))
        .unwrap();
    let t0 = 1_700_000_000_000i64 + (k as i64 % 50) * 3_600_000;
    let rows: Vec<ReturnRow> = (0..points)
        .map(|i| ReturnRow { open_time_ms: t0 + i as i64 * 60_000, window: i * 10 / points, ret: 0.001 * next() })
        .collect();
    w.write_returns(&rows).unwrap();
    for m in ["total_return", "sharpe_ratio", "sortino_ratio", "max_drawdown", "win_rate", "profit_factor"] {
        w.metric(m, next());
    }
    w.finish().unwrap().id
}

fn get(agent: &ureq::Agent, url: &str) -> usize {
    let mut r = agent.get(url).call().unwrap();
    assert_eq!(r.status().as_u16(), 200, "{url}");
    r.body_mut().with_config().limit(1 << 30).read_to_string().unwrap().len()
}

/// Times `n` calls of `url(i)`; prints median, p95 and max (ms) and the answer's size.
fn time(label: &str, agent: &ureq::Agent, n: usize, url: impl Fn(usize) -> String) {
    let mut ms = Vec::with_capacity(n);
    let mut bytes = 0;
    for i in 0..n {
        let t = Instant::now();
        bytes = get(agent, &url(i));
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    let p = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    println!(
        "{label:<48} n={n:<3} median {:>8.2} ms  p95 {:>8.2} ms  max {:>8.2} ms  answer {:>7} bytes",
        p(0.5),
        p(0.95),
        ms[ms.len() - 1],
        bytes
    );
}

fn main() {
    let n_runs = env("BENCH_RUNS", 500).max(5);
    let points = env("BENCH_POINTS", 100_000).max(10);
    let dir = tempfile::tempdir().unwrap();
    let runs = RunsDir::new(dir.path().join("runs"));
    let t = Instant::now();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(8);
    let mut ids: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let runs = &runs;
                s.spawn(move || (t..n_runs).step_by(threads).map(|k| write_run(runs, k, points)).collect::<Vec<_>>())
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    ids.sort();
    println!(
        "SYNTHETIC runs registry: {n_runs} runs × {points} returns written in {:.1} s ({})",
        t.elapsed().as_secs_f64(),
        runs.root().display()
    );

    let mut cfg =
        ServeConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().join("artifacts"), dir.path().join("data"));
    cfg.runs_dir = runs.root().to_path_buf();
    cfg.workers = 0;
    let addr = start(cfg);
    let base = format!("http://{addr}");
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();

    time("GET /v1/runs?limit=100", &agent, 20, |_| format!("{base}/v1/runs?limit=100"));
    time("GET /v1/runs?verb=wfo&model=gbdt&limit=100", &agent, 20, |_| {
        format!("{base}/v1/runs?verb=wfo&model=gbdt&limit=100")
    });
    time("GET /v1/runs/{id}/series?kind=equity  cold", &agent, 20, |i| {
        format!("{base}/v1/runs/{}/series?kind=equity", ids[i * (n_runs / 20).max(1) % n_runs])
    });
    time("GET /v1/runs/{id}/series?kind=equity  warm", &agent, 20, |_| {
        format!("{base}/v1/runs/{}/series?kind=equity", ids[0])
    });
    time("GET /v1/runs/{id}/series?kind=drawdown warm", &agent, 20, |_| {
        format!("{base}/v1/runs/{}/series?kind=drawdown", ids[0])
    });
    let five = ids[..5].join(",");
    get(&agent, &format!("{base}/v1/runs/compare?ids={five}")); // parses the 4 runs not cached yet
    time("GET /v1/runs/compare?ids=<5 runs>  warm", &agent, 10, |_| format!("{base}/v1/runs/compare?ids={five}"));
    time("GET /v1/runs/correlation", &agent, 10, |_| format!("{base}/v1/runs/correlation"));
    time("GET /", &agent, 20, |_| format!("{base}/"));
}
