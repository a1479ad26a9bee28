//! What `vane serve` is told: where the files are, which exchange to refresh from, who may
//! mutate, how many jobs and requests run at once, and seed 000's runtime settings.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use vane_core::Symbol;
use vane_market_data::{Exchange, RetryPolicy};

/// The server's configuration. [`ServeConfig::new`] gives the defaults of `vane serve`.
#[derive(Clone, Debug, PartialEq)]
pub struct ServeConfig {
    /// The listening address (`127.0.0.1:8080`; port 0 picks a free port).
    pub addr: SocketAddr,
    /// The folder of trained model artifacts (may be missing or empty at start).
    pub artifacts_dir: PathBuf,
    /// The candle store folder.
    pub data_dir: PathBuf,
    /// The runs registry the dashboard and `/v1/runs…` read (may be missing: no runs).
    pub runs_dir: PathBuf,
    /// The exchange `refresh=true` downloads from.
    pub exchange: Exchange,
    /// Its endpoint (tests: the mock exchange); `None` is the exchange's own.
    pub base_url: Option<String>,
    /// The quote appended to a bare base asset (`ETH` → `ETHUSDT`).
    pub quote: String,
    /// The bearer token of the mutating endpoints; `None` refuses them unless `insecure_local`.
    pub token: Option<String>,
    /// Without a token, allow the mutating endpoints anyway: only when bound to loopback.
    pub insecure_local: bool,
    /// Background training jobs run at once in this process (0: none; `vane worker` runs them).
    pub workers: usize,
    /// The job queue's SQLite file (`None`: `<artifacts_dir>/jobs.sqlite`).
    pub queue_path: Option<PathBuf>,
    /// A PostgreSQL job queue shared with `vane worker` processes on other machines; when set,
    /// `queue_path` is unused.
    pub queue_url: Option<crate::jobs::PgUrl>,
    /// Requests handled at once; beyond that, `429` with `Retry-After`.
    pub max_in_flight: usize,
    /// Retries of a synchronous refresh, kept short: a dead exchange costs seconds.
    pub refresh_retry: RetryPolicy,
    /// How often the server looks for new models, new bars and changed thresholds on disk.
    pub watch_every: Duration,
    /// Seed 000's runtime: decisions with hysteresis, cooldown and consensus.
    pub runtime: RuntimeConfig,
}

impl ServeConfig {
    /// The defaults: Binance spot, quote USDT, no token, 1 worker, 64 requests in flight, runs
    /// registry `runs`.
    pub fn new(addr: SocketAddr, artifacts_dir: impl Into<PathBuf>, data_dir: impl Into<PathBuf>) -> Self {
        Self {
            addr,
            artifacts_dir: artifacts_dir.into(),
            data_dir: data_dir.into(),
            runs_dir: PathBuf::from("runs"),
            exchange: Exchange::BinanceSpot,
            base_url: None,
            quote: "USDT".into(),
            token: None,
            insecure_local: false,
            workers: 1,
            queue_path: None,
            queue_url: None,
            max_in_flight: 64,
            refresh_retry: RetryPolicy {
                max_attempts: 2,
                base_delay: Duration::from_millis(250),
                max_wait: Duration::from_secs(3),
                timeout: Duration::from_secs(10),
                ..RetryPolicy::default()
            },
            watch_every: Duration::from_secs(2),
            runtime: RuntimeConfig::default(),
        }
    }

    /// The job queue's file.
    pub fn queue_path(&self) -> PathBuf {
        self.queue_path.clone().unwrap_or_else(|| self.artifacts_dir.join("jobs.sqlite"))
    }

    /// Where the job queue is: `queue_url` when set, else [`queue_path`](Self::queue_path).
    pub fn queue_location(&self) -> crate::jobs::QueueLocation {
        match &self.queue_url {
            Some(url) => crate::jobs::QueueLocation::Postgres(url.clone()),
            None => crate::jobs::QueueLocation::Sqlite(self.queue_path()),
        }
    }

    /// Checks the combination: `insecure_local` only on a loopback address, sizes ≥ 1, a quote
    /// of 2–10 characters A-Z0-9.
    pub fn validate(&self) -> Result<(), String> {
        if self.insecure_local && self.token.is_none() && !self.addr.ip().is_loopback() {
            return Err(format!(
                "--insecure-local serves the mutating endpoints without a token, so it only binds to loopback (127.0.0.1 or ::1), not {}",
                self.addr.ip()
            ));
        }
        if self.token.as_deref().is_some_and(|t| t.trim().len() < 16) {
            return Err("the API token must be at least 16 characters".into());
        }
        if self.max_in_flight == 0 {
            return Err("max in-flight requests must be ≥ 1".into());
        }
        if !(2..=10).contains(&self.quote.len())
            || !self.quote.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(format!("quote {:?}: expected 2-10 characters of A-Z and 0-9 (for example USDT)", self.quote));
        }
        self.runtime.validate()
    }
}

/// Seed 000's runtime settings (`MODEL_TAG`, `HYSTERESIS`, `COOLDOWN_SEC`, `CONSENSUS_TAGS`).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct RuntimeConfig {
    /// The model whose decisions `/v1/signal/{tag}` and `/v1/stream` publish (a model id).
    pub model_tag: Option<String>,
    /// More models voting k-of-n with the main one.
    pub consensus_tags: Vec<String>,
    /// Votes needed for a consensus BUY or SELL (default: a majority of the tags).
    pub consensus_k: Option<usize>,
    /// Hysteresis half-width on the decision rule (0 = none).
    pub hysteresis: f64,
    /// Minimum seconds between two changes of decision.
    pub cooldown_sec: f64,
    /// The symbols the runtime follows.
    pub symbols: Vec<Symbol>,
    /// Refresh the followed symbols from the exchange before each look (else the store only,
    /// fed by `vane download` or another process).
    pub refresh: bool,
    /// How often the runtime looks for new bars.
    pub poll_every: Duration,
}

impl RuntimeConfig {
    /// Whether a runtime is configured.
    pub fn enabled(&self) -> bool {
        self.model_tag.is_some()
    }

    /// Every tag, the main one first.
    pub fn tags(&self) -> Vec<String> {
        self.model_tag.iter().chain(&self.consensus_tags).cloned().collect()
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), String> {
        if !self.enabled() {
            if !self.consensus_tags.is_empty() || !self.symbols.is_empty() {
                return Err("the runtime needs --model-tag (MODEL_TAG) for its consensus tags and symbols".into());
            }
            return Ok(());
        }
        if !(self.hysteresis >= 0.0 && self.hysteresis < 0.5) {
            return Err(format!("hysteresis {} must be in [0, 0.5)", self.hysteresis));
        }
        if !(self.cooldown_sec >= 0.0 && self.cooldown_sec.is_finite()) {
            return Err(format!("cooldown {} s must be a finite number ≥ 0", self.cooldown_sec));
        }
        if self.symbols.is_empty() {
            return Err("the runtime needs the symbols it follows (--stream-symbols)".into());
        }
        let n = self.tags().len();
        if let Some(k) = self.consensus_k
            && !(1..=n).contains(&k)
        {
            return Err(format!("consensus k = {k} must be in 1..={n} (the number of tags)"));
        }
        if self.poll_every.is_zero() {
            return Err("the runtime's poll interval must be > 0".into());
        }
        Ok(())
    }
}
