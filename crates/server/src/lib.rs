//! vane's HTTP API, the service other bots call: seed 001's `GET /v1/predict` (synchronous
//! refresh, per-symbol model or `global` fallback, background training jobs queued with
//! `train=true`), the job endpoints, `POST /v1/thresholds/reload`, seed 000's runtime
//! (`GET /v1/signal/{tag}`, the Server-Sent Events of `GET /v1/stream`) and `GET /health`.
//! axum on tokio; jobs on apalis with a SQLite or PostgreSQL queue ([`jobs`]). Every answer is JSON, errors
//! as `{"error": {"code", "message"}}`; `docs/api.md` documents each endpoint.
//!
//! ```no_run
//! use vane_server::{ServeConfig, run};
//!
//! let cfg = ServeConfig::new("127.0.0.1:8080".parse()?, "artifacts", "data");
//! run(cfg)?; // blocks until Ctrl-C / SIGTERM
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Feature flags
//! None.
#![warn(missing_docs)]

/// The error answer and the mapping of library errors to statuses.
pub mod api;
/// Bearer-token checks of the mutating endpoints.
pub mod auth;
/// The server's configuration.
pub mod config;
/// The dashboard page (`GET /`) and its embedded assets.
pub mod dashboard;
/// Errors of this crate.
pub mod error;
pub mod jobs;
/// `GET /v1/predict`.
pub mod predict;
/// The routes, limits and request log.
pub mod routes;
/// The training runner of the background jobs.
pub mod runner;
/// The runs registry over HTTP: `/v1/runs…`.
pub mod runs_api;
pub mod runtime;
/// The shared state: models, warm bars, forecasts.
pub mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

pub use config::{RuntimeConfig, ServeConfig};
pub use error::{Result, ServerError};
pub use jobs::{JobQueue, Runner};
pub use routes::{Health, router};
pub use runner::{TrainRunner, train_runner};
pub use state::AppState;

/// Binds `addr` (an error naming the address when it is in use or not local).
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.map_err(|source| ServerError::Bind { addr, source })
}

/// Serves the API on `listener` until `shutdown` completes, then finishes the requests in
/// flight, lets the running jobs stop and returns. Opens the job queue (`cfg.queue_location()`),
/// starts `cfg.workers` workers, loads every model folder, and watches the disk for new models
/// and bars. `cfg.addr` is informational here: the listener decides the address.
pub async fn serve<F>(listener: tokio::net::TcpListener, cfg: ServeConfig, shutdown: F) -> Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    cfg.validate().map_err(ServerError::Config)?;
    let mut cfg = cfg;
    cfg.runtime.symbols = runtime::resolve_symbols(&cfg.runtime.symbols, &cfg.quote, &cfg.data_dir, &cfg.artifacts_dir);
    let addr = listener.local_addr().unwrap_or(cfg.addr);
    let queue = JobQueue::open_at(&cfg.queue_location()).await.map_err(|e| ServerError::Jobs(e.to_string()))?;
    let state = AppState::new(cfg.clone(), Some(queue.clone()));
    {
        let st = state.clone();
        let warnings = tokio::task::spawn_blocking(move || {
            st.scan_models();
            runtime::missing_data_warnings(&st)
        })
        .await
        .map_err(|e| ServerError::Jobs(e.to_string()))?;
        // A followed symbol without bars is otherwise silently absent from the signal answers.
        for w in warnings {
            eprintln!("{w}");
        }
    }
    let pool = (cfg.workers > 0).then(|| {
        let runner = serving_runner(&state);
        queue.spawn_workers(cfg.workers, Arc::new(runner))
    });
    let watcher = tokio::spawn(watch(state.clone()));
    let runtime = tokio::spawn(runtime::run(state.clone()));
    let app = router(state);
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    watcher.abort();
    runtime.abort();
    if let Some(p) = pool {
        // A training job gets a grace period to finish, then is stopped and marked failed.
        p.shutdown_within(std::time::Duration::from_secs(10)).await;
    }
    served.map_err(|source| ServerError::Serve { addr, source })
}

/// The runner of this server's own workers: a job that wrote a model loads it before it is
/// marked `done`, so a client that sees `done` and asks `/v1/predict` at once gets the symbol's
/// own model (a notified rescan could still be running then, answering with `global`).
fn serving_runner(state: &AppState) -> TrainRunner {
    let cfg = state.config();
    let st = state.clone();
    TrainRunner::new(&cfg.data_dir, &cfg.artifacts_dir).on_done(move || {
        st.scan_models();
    })
}

/// Every `watch_every` (or at once when a job finished): load new or changed model folders,
/// forget bars whose store file changed.
async fn watch(state: AppState) {
    let every = state.config().watch_every;
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = state.inner.rescan.notified() => {}
        }
        let st = state.clone();
        let _ = tokio::task::spawn_blocking(move || {
            st.scan_models();
            st.scan_bars();
        })
        .await;
    }
}

/// Completes on Ctrl-C, or on SIGTERM on Unix. If a signal handler cannot be installed, that
/// signal is simply not waited for.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// Blocking entry point for the CLI: builds a multi-threaded tokio runtime, binds `cfg.addr`,
/// prints `listening on http://ADDR` to stderr and serves until Ctrl-C or SIGTERM.
pub fn run(cfg: ServeConfig) -> Result<()> {
    cfg.validate().map_err(ServerError::Config)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(ServerError::Runtime)?;
    rt.block_on(async move {
        let listener = bind(cfg.addr).await?;
        let addr = listener.local_addr().map_err(|source| ServerError::Bind { addr: cfg.addr, source })?;
        eprintln!("listening on http://{addr}");
        serve(listener, cfg, shutdown_signal()).await
    })
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;

    use vane_core::{Interval, Symbol};
    use vane_market_data::ParquetStore;

    use super::*;
    use crate::jobs::{JobControl, JobKind, JobSpec};

    struct Quiet;
    impl JobControl for Quiet {
        fn progress(&mut self, _fraction: f64) -> ControlFlow<()> {
            ControlFlow::Continue(())
        }
    }

    /// When the job returns (and is then marked `done`), the server already serves its model.
    #[test]
    fn a_finished_job_s_model_is_served_before_the_job_reads_done() {
        let dir = tempfile::tempdir().unwrap();
        let (data, arts) = (dir.path().join("data"), dir.path().join("artifacts"));
        let btc = Symbol::new("BTCUSDT").unwrap();
        let bars = vane_testkit::fixture_bars("BTCUSDT_4h.csv", Interval::H4);
        ParquetStore::new(&data).append(&btc, Interval::H4, &bars).unwrap();
        let cfg = vane_pipeline::TrainConfig {
            symbols: vec![btc.clone()],
            per_symbol: true,
            train_bars: 900,
            test_bars: 360,
            theta_steps_fast: 2,
            iterations_fast: 30,
            depth: 4,
            ..vane_pipeline::TrainConfig::default()
        };
        let state = AppState::new(ServeConfig::new("127.0.0.1:0".parse().unwrap(), &arts, &data), None);
        state.scan_models();
        assert!(state.model("BTCUSDT").is_none());
        let spec = JobSpec {
            kind: JobKind::TrainSymbol,
            symbol: btc,
            config: serde_json::to_value(&cfg).unwrap(),
            mode: "fast".into(),
        };
        let id = serving_runner(&state).run(&spec, &mut Quiet).unwrap();
        assert_eq!(id, "BTCUSDT");
        let m = state.model("BTCUSDT").expect("loaded when the job returned");
        assert_eq!(m.summary.as_ref().map(|s| s.kind.as_str()), Some("gbdt"));
    }
}
