//! `vane serve`.

use std::net::SocketAddr;
use std::path::PathBuf;

use vane_core::Symbol;
use vane_market_data::Exchange;

use super::DataDir;

/// Serves the HTTP API (docs/api.md) and the dashboard (docs/dashboard.md, `GET /`) until
/// Ctrl-C / SIGTERM: predictions, background training jobs, the signal stream, health, the runs
/// registry.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (port 0 picks a free port, printed on stderr).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) addr: SocketAddr,
    #[command(flatten)]
    pub(crate) data: DataDir,
    /// Artifacts folder (may be missing or empty: the server then serves health and jobs).
    #[arg(long, default_value = "artifacts")]
    pub(crate) artifacts_dir: PathBuf,
    /// The runs registry the dashboard (`GET /`) and `/v1/runs…` read (default: $VANE_RUNS_DIR,
    /// else `runs`; may be missing: no runs).
    #[arg(long, value_name = "DIR")]
    pub(crate) runs_dir: Option<PathBuf>,
    /// Exchange `refresh=true` downloads from.
    #[arg(long, value_enum, default_value = "binance-spot")]
    pub(crate) exchange: Exchange,
    /// Exchange endpoint (tests: the mock exchange).
    #[arg(long)]
    pub(crate) base_url: Option<String>,
    /// The quote appended to a bare base asset (`symbol=ETH` → ETHUSDT).
    #[arg(long, default_value = "USDT")]
    pub(crate) quote: String,
    /// A file holding the bearer token of the mutating endpoints (else VANE_API_TOKEN).
    #[arg(long)]
    pub(crate) token_file: Option<PathBuf>,
    /// Without a token, allow the mutating endpoints anyway (loopback addresses only).
    #[arg(long)]
    pub(crate) insecure_local: bool,
    /// Background training jobs run at once in this process (0: leave them to `vane worker`).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(0..=64))]
    pub(crate) workers: u16,
    /// The job queue: a SQLite file (default: <artifacts-dir>/jobs.sqlite) or a
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE URL that `vane worker`s on other machines
    /// share (its password is never printed).
    #[arg(long)]
    pub(crate) queue: Option<String>,
    /// Requests handled at once; beyond that 429 with Retry-After.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub(crate) max_in_flight: u32,
    /// Seed 000 runtime: the model (folder name) whose decisions /v1/signal and /v1/stream
    /// publish (else MODEL_TAG).
    #[arg(long)]
    pub(crate) model_tag: Option<String>,
    /// More models voting k-of-n with --model-tag, comma separated (else CONSENSUS_TAGS).
    #[arg(long, value_delimiter = ',')]
    pub(crate) consensus_tags: Vec<String>,
    /// Votes needed for a consensus BUY/SELL (default: a majority of the tags).
    #[arg(long)]
    pub(crate) consensus_k: Option<usize>,
    /// Hysteresis half-width of the decision rule (else HYSTERESIS; default 0).
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) hysteresis: Option<f64>,
    /// Minimum seconds between two changes of decision (else COOLDOWN_SEC; default 0).
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) cooldown_sec: Option<f64>,
    /// The symbols the runtime follows, comma separated.
    #[arg(long, value_delimiter = ',')]
    pub(crate) stream_symbols: Vec<Symbol>,
    /// The runtime refreshes its symbols from the exchange before each look.
    #[arg(long)]
    pub(crate) stream_refresh: bool,
    /// Seconds between two looks of the runtime for new bars.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1.0)]
    pub(crate) poll_sec: f64,
}
