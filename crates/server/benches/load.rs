//! Loopback load test of `vane serve` (a bench binary, not a test: it asserts nothing, it
//! prints figures). The server runs in-process on 127.0.0.1:0 over the bundled real candles with
//! a small global model; the client sends `GET /v1/predict` for a warm symbol at a fixed rate
//! (open loop: requests are scheduled at the rate whatever the answers take) from several
//! keep-alive connections, and reports p50/p99/max latency, errors and the rate achieved. Then it
//! times a new bar from the store to an updated decision on `/v1/stream`.
//!
//! `cargo bench -p vane-server --bench load` (`LOAD_RPS`, `LOAD_SECS`, `LOAD_CONNECTIONS` change
//! the defaults of 1000 requests/s for 30 s over 16 connections).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use vane_core::{Interval, Symbol};
use vane_market_data::ParquetStore;
use vane_pipeline::{Mode, TrainConfig, train};
use vane_server::{RuntimeConfig, ServeConfig, bind, serve};
use vane_testkit::fixture_bars;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Starts the server on its own runtime thread; returns its address.
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

fn main() {
    let rps = env("LOAD_RPS", 1000).max(1);
    let secs = env("LOAD_SECS", 30).max(1);
    let conns = env("LOAD_CONNECTIONS", 16).max(1);
    let dir = tempfile::tempdir().unwrap();
    let store = ParquetStore::new(dir.path().join("data"));
    let btc = Symbol::new("BTCUSDT").unwrap();
    let bars = fixture_bars("BTCUSDT_4h.csv", Interval::H4);
    // Hold back the last bar for the stream timing.
    let head = bars.slice(0..bars.len() - 1);
    store.append(&btc, Interval::H4, &head).unwrap();
    let cfg = TrainConfig {
        symbols: vec![btc.clone()],
        train_bars: 900,
        test_bars: 360,
        theta_steps_fast: 2,
        iterations_fast: 60,
        depth: 4,
        ..TrainConfig::default()
    };
    train(&store, &dir.path().join("artifacts"), &cfg, Mode::Fast, false).unwrap();

    let mut sc =
        ServeConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().join("artifacts"), dir.path().join("data"));
    sc.workers = 0;
    sc.max_in_flight = 4096;
    sc.runtime = RuntimeConfig {
        model_tag: Some("global".into()),
        symbols: vec![btc.clone()],
        poll_every: Duration::from_millis(20),
        ..RuntimeConfig::default()
    };
    let addr = start(sc);
    let url = format!("http://{addr}/v1/predict?symbol=BTCUSDT");
    // Warm the symbol (first request reads the store and computes the forecast).
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let t = Instant::now();
    agent.get(&url).call().unwrap().body_mut().read_to_string().unwrap();
    let cold_ms = t.elapsed().as_secs_f64() * 1000.0;

    let total = rps * secs;
    let start_at = Instant::now() + Duration::from_millis(200);
    let handles: Vec<_> = (0..conns)
        .map(|c| {
            let url = url.clone();
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
                let (mut lat, mut errors) = (Vec::new(), 0u64);
                let mut i = c;
                while i < total {
                    // Request i is due at start + i/rps; latency counts from when it was due,
                    // so a slow answer delays the next ones and shows up (no coordinated omission).
                    let due = start_at + Duration::from_secs_f64(i as f64 / rps as f64);
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                    match agent.get(&url).call() {
                        Ok(mut r) if r.status() == 200 => {
                            let _ = r.body_mut().read_to_string();
                        }
                        _ => errors += 1,
                    }
                    lat.push(due.elapsed().as_secs_f64() * 1000.0);
                    i += conns;
                }
                (lat, errors)
            })
        })
        .collect();
    let mut lat = Vec::new();
    let mut errors = 0;
    for h in handles {
        let (l, e) = h.join().unwrap();
        lat.extend(l);
        errors += e;
    }
    let wall = start_at.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    println!(
        "GET /v1/predict (warm BTCUSDT, gbdt): {} requests at {rps}/s target over {conns} connections in {wall:.1} s = {:.0}/s; errors {errors}; latency ms p50 {:.3} p90 {:.3} p99 {:.3} max {:.3}; first (cold) request {cold_ms:.1} ms",
        lat.len(),
        lat.len() as f64 / wall,
        percentile(&lat, 0.50),
        percentile(&lat, 0.90),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or(f64::NAN),
    );

    // A new bar to an updated decision on the stream.
    let mut resp = ureq::get(&format!("http://{addr}/v1/stream")).call().unwrap();
    let mut lines = BufReader::new(resp.body_mut().as_reader()).lines();
    let next_event = |lines: &mut dyn Iterator<Item = std::io::Result<String>>| -> serde_json::Value {
        for line in &mut *lines {
            if let Some(d) = line.unwrap().strip_prefix("data: ") {
                return serde_json::from_str(d).unwrap();
            }
        }
        panic!("the stream ended")
    };
    let first = next_event(&mut lines);
    let t = Instant::now();
    store.append(&btc, Interval::H4, &bars.slice(bars.len() - 1..bars.len())).unwrap();
    let next = next_event(&mut lines);
    let bar_to_event_ms = t.elapsed().as_secs_f64() * 1000.0;
    assert_ne!(first["as_of"], next["as_of"]);
    println!(
        "new bar written to the store -> decision on /v1/stream: {bar_to_event_ms:.1} ms (the runtime looks every 20 ms; deciding took {:.2} ms)",
        next["decide_ms"].as_f64().unwrap_or(f64::NAN)
    );
}
