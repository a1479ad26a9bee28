//! `vane prepare`.

use std::path::PathBuf;

use vane_core::{Interval, Symbol};

/// `--json` prints `{server, database, series: [{exchange, symbol, interval, bars,
/// processed_before, from_open_time_ms, rows_written, recomputed, labelled, pending_targets,
/// upsert: {rows, inserted, updated, unchanged, copy_seconds, upsert_seconds}, features_seconds,
/// labels_seconds}], seconds}`.
#[derive(Debug, clap::Args)]
pub(crate) struct PrepareArgs {
    /// PostgreSQL URL, postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (default: $DATABASE_URL).
    #[arg(long, value_name = "URL")]
    pub(crate) database_url: Option<String>,
    /// The symbols to prepare (comma-separated) ...
    #[arg(long, value_delimiter = ',', required_unless_present = "symbols_file")]
    pub(crate) symbols: Vec<Symbol>,
    /// ... or a universe file (one symbol a line, `#` comments), e.g.
    /// examples/universes/bybit_linear_51.txt.
    #[arg(long, conflicts_with = "symbols")]
    pub(crate) symbols_file: Option<PathBuf>,
    /// The bar interval of the stored candles.
    #[arg(long)]
    pub(crate) interval: Interval,
    /// The exchange the candles are stored under (default: the only one holding each series).
    #[arg(long)]
    pub(crate) exchange: Option<String>,
    /// Rewrite every row of each series (after re-importing corrected candles); unchanged rows
    /// are counted as such.
    #[arg(long)]
    pub(crate) recompute: bool,
    /// Expected-return ladder: stop distance (as `vane label --kind expected-return`).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.011)]
    pub(crate) stop: f64,
    /// Expected-return ladder: final target.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.058)]
    pub(crate) final_target: f64,
    /// Expected-return ladder: bars until the rest closes at the close.
    #[arg(long, default_value_t = 100)]
    pub(crate) horizon: usize,
    /// Expected-return ladder: cost per fill in bps of its notional.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub(crate) fee_bps: f64,
}
