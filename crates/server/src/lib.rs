//! vane's HTTP API: an axum router on a tokio runtime. First inhabitant: `GET /health`. Every
//! answer is JSON, unknown routes included (`404 {"error": ...}`).
//!
//! ```no_run
//! use vane_server::{ServeConfig, run};
//!
//! run(ServeConfig {
//!     addr: "127.0.0.1:8080".parse()?,
//!     artifacts_dir: "artifacts".into(),
//!     data_dir: "data".into(),
//! })?; // blocks until Ctrl-C / SIGTERM
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Feature flags
//! None.
#![warn(missing_docs)]

/// Errors of this crate.
pub mod error;
/// The routes and their handlers.
pub mod routes;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

pub use error::{Result, ServerError};
pub use routes::{Health, router};

/// Where to listen and what to serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeConfig {
    /// The listening address (`127.0.0.1:8080`; port 0 picks a free port).
    pub addr: SocketAddr,
    /// The folder of trained model artifacts.
    pub artifacts_dir: PathBuf,
    /// The candle store folder.
    pub data_dir: PathBuf,
}

/// What every handler shares: the configuration and the start time. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: ServeConfig,
    started: Instant,
}

impl AppState {
    /// A state for `config`, started now.
    pub fn new(config: ServeConfig) -> Self {
        Self { inner: Arc::new(Inner { config, started: Instant::now() }) }
    }

    /// The configuration served.
    pub fn config(&self) -> &ServeConfig {
        &self.inner.config
    }

    /// Seconds since the state was created.
    pub fn uptime_s(&self) -> f64 {
        self.inner.started.elapsed().as_secs_f64()
    }
}

/// Binds `addr` (an error naming the address when it is in use or not local).
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.map_err(|source| ServerError::Bind { addr, source })
}

/// Serves the API on `listener` until `shutdown` completes, then finishes the requests in
/// flight and returns. `cfg.addr` is informational here: the listener decides the address.
pub async fn serve<F>(listener: tokio::net::TcpListener, cfg: ServeConfig, shutdown: F) -> Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let addr = listener.local_addr().unwrap_or(cfg.addr);
    let app = router(AppState::new(cfg));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| ServerError::Serve { addr, source })
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
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(ServerError::Runtime)?;
    rt.block_on(async move {
        let listener = bind(cfg.addr).await?;
        let addr = listener.local_addr().map_err(|source| ServerError::Bind { addr: cfg.addr, source })?;
        eprintln!("listening on http://{addr}");
        serve(listener, cfg, shutdown_signal()).await
    })
}
