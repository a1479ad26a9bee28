//! `vane serve`.

use std::time::Duration;

use anyhow::{Context, Result};
use vane_server::{RuntimeConfig, ServeConfig};

use crate::args::serve::ServeArgs;
use crate::failure::usage;

/// An environment variable, `None` when unset or empty.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// A number from a flag or, failing that, an environment variable (seed 000's names).
fn number(flag: Option<f64>, var: &str, default: f64) -> Result<f64> {
    match (flag, env(var)) {
        (Some(v), _) => Ok(v),
        (None, Some(v)) => v.parse().map_err(|_| usage(format!("{var}={v:?} is not a number"))),
        (None, None) => Ok(default),
    }
}

pub(crate) fn config(a: ServeArgs) -> Result<ServeConfig> {
    let token = match &a.token_file {
        Some(p) => Some(
            std::fs::read_to_string(p)
                .with_context(|| format!("reading the token file {}", p.display()))?
                .trim()
                .to_string(),
        ),
        None => env("VANE_API_TOKEN"),
    };
    // A short token is refused by the server's config too; here the message names where it came
    // from and how to make a good one.
    if let Some(t) = &token
        && t.trim().len() < 16
    {
        let source = a.token_file.as_ref().map_or_else(|| "VANE_API_TOKEN".to_string(), |p| p.display().to_string());
        return Err(usage(format!(
            "{source}: the API token must be at least 16 characters (it has {} bytes); make one with `openssl rand -hex 16 > token.txt`",
            t.trim().len()
        )));
    }
    if !(a.poll_sec.is_finite() && a.poll_sec > 0.0) {
        return Err(usage(format!("--poll-sec {} must be a positive number", a.poll_sec)));
    }
    let consensus_tags = if a.consensus_tags.is_empty() {
        env("CONSENSUS_TAGS")
            .map(|v| v.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect())
            .unwrap_or_default()
    } else {
        a.consensus_tags
    };
    let runtime = RuntimeConfig {
        model_tag: a.model_tag.or_else(|| env("MODEL_TAG")),
        consensus_tags,
        consensus_k: a.consensus_k,
        hysteresis: number(a.hysteresis, "HYSTERESIS", 0.0)?,
        cooldown_sec: number(a.cooldown_sec, "COOLDOWN_SEC", 0.0)?,
        symbols: a.stream_symbols,
        refresh: a.stream_refresh,
        poll_every: Duration::from_secs_f64(a.poll_sec),
    };
    let mut cfg = ServeConfig::new(a.addr, a.artifacts_dir, a.data.data_dir);
    cfg.runs_dir = a.runs_dir.or_else(|| env("VANE_RUNS_DIR").map(Into::into)).unwrap_or_else(|| "runs".into());
    cfg.exchange = a.exchange;
    cfg.base_url = a.base_url;
    cfg.quote = a.quote;
    cfg.token = token;
    cfg.insecure_local = a.insecure_local;
    cfg.workers = usize::from(a.workers);
    match crate::commands::worker::queue_flag(a.queue.as_deref())? {
        Some(vane_server::jobs::QueueLocation::Postgres(url)) => cfg.queue_url = Some(url),
        Some(vane_server::jobs::QueueLocation::Sqlite(path)) => cfg.queue_path = Some(path),
        None => {}
    }
    cfg.max_in_flight = a.max_in_flight as usize;
    cfg.runtime = runtime;
    cfg.validate().map_err(usage)?;
    Ok(cfg)
}

pub(crate) fn run(a: ServeArgs) -> Result<()> {
    let cfg = config(a)?;
    init_logging();
    vane_server::run(cfg)?;
    Ok(())
}

/// One line per request on stderr (`RUST_LOG` picks the level; default info for vane).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("vane_server=info,warn"));
    // A closed stderr (the parent went away) must not take the requests down with it: write
    // errors of the log are dropped, not reported on that same stderr (which would panic).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .log_internal_errors(false)
        .try_init();
}
