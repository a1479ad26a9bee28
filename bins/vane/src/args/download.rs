//! `vane download`.

use std::path::PathBuf;

use vane_core::{Interval, Symbol, Timestamp};
use vane_market_data::Exchange;

use super::DataDir;
use super::db::PgOption;

#[derive(Debug, clap::Args)]
pub(crate) struct DownloadArgs {
    /// binance-spot, binance-usdm or bybit-linear.
    #[arg(long, value_enum, default_value = "binance-spot")]
    pub(crate) exchange: Exchange,
    /// Comma-separated symbols (BTCUSDT,ETHUSDT).
    #[arg(long, value_delimiter = ',', required_unless_present = "symbols_file")]
    pub(crate) symbols: Vec<Symbol>,
    /// A file with one symbol per line (`#` comments allowed), e.g. examples/universes/*.txt.
    #[arg(long, conflicts_with = "symbols")]
    pub(crate) symbols_file: Option<PathBuf>,
    /// Bar interval (1m, 15m, 4h, ...).
    #[arg(long)]
    pub(crate) interval: Interval,
    /// When nothing is stored yet: start this many days ago.
    #[arg(long, default_value_t = 1095, conflicts_with = "since")]
    pub(crate) since_days: u32,
    /// When nothing is stored yet: start at this date (YYYY-MM-DD or ms).
    #[arg(long)]
    pub(crate) since: Option<Timestamp>,
    /// Only bars opening before this date (default: up to the last closed bar).
    #[arg(long)]
    pub(crate) until: Option<Timestamp>,
    #[command(flatten)]
    pub(crate) data: DataDir,
    // --database-url: the bars go to PostgreSQL (under the --exchange name), not the parquet store.
    #[command(flatten)]
    pub(crate) pg: PgOption,
    /// Exchange endpoint (default: the exchange's public API).
    #[arg(long)]
    pub(crate) base_url: Option<String>,
    /// Request attempts before giving up on a page.
    #[arg(long, default_value_t = 6)]
    pub(crate) max_attempts: u32,
    /// Seconds one request may spend on retries in all (waits for Retry-After and backoff, and
    /// the further attempts); past it the download stops and says so. Each wait is shown on stderr.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub(crate) max_wait: u64,
    /// Seconds one request may take, connection included.
    #[arg(long, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) timeout: u64,
}
