//! `vane import`, `export`, `data info`, `resample`.

use std::path::PathBuf;

use vane_core::{Interval, Symbol, Timestamp};

use super::DataDir;
use super::db::PgOption;

#[derive(Debug, clap::Args)]
pub(crate) struct ImportArgs {
    /// The CSV file (`open_time_ms,open,high,low,close,volume[,...]`).
    #[arg(long)]
    pub(crate) csv: PathBuf,
    /// The symbol the file holds.
    #[arg(long)]
    pub(crate) symbol: Symbol,
    /// The bar interval of the file.
    #[arg(long)]
    pub(crate) interval: Interval,
    #[command(flatten)]
    pub(crate) data: DataDir,
    #[command(flatten)]
    pub(crate) pg: PgOption,
    /// With --database-url: the exchange the bars are stored under (default bybit-linear).
    #[arg(long, requires = "database_url")]
    pub(crate) exchange: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ExportArgs {
    /// The stored symbol.
    #[arg(long)]
    pub(crate) symbol: Symbol,
    /// The stored interval.
    #[arg(long)]
    pub(crate) interval: Interval,
    /// Output CSV file.
    #[arg(long)]
    pub(crate) csv: PathBuf,
    /// Only bars opening at or after this time (YYYY-MM-DD or ms).
    #[arg(long)]
    pub(crate) from: Option<Timestamp>,
    /// Only bars opening before this time.
    #[arg(long)]
    pub(crate) to: Option<Timestamp>,
    #[command(flatten)]
    pub(crate) data: DataDir,
    #[command(flatten)]
    pub(crate) pg: PgOption,
    /// With --database-url: the exchange the series is stored under (default: the only one
    /// holding it).
    #[arg(long, requires = "database_url")]
    pub(crate) exchange: Option<String>,
}

/// `--json` prints `{"files":[{symbol, interval, rows, first_open_time_ms, last_open_time_ms, gaps,
/// duplicates, misaligned, checksummed}], "errors":[{path, error}], "stale_temps":[path]}`; an
/// unreadable file is listed under `errors` (exit 1 at the end) and hides no other series.
/// With `--database-url`: `{"server", "database", "series":[{exchange, symbol, interval, rows,
/// first_open_time_ms, last_open_time_ms, gaps, misaligned}]}`.
#[derive(Debug, clap::Args)]
pub(crate) struct InfoArgs {
    #[command(flatten)]
    pub(crate) data: DataDir,
    #[command(flatten)]
    pub(crate) pg: PgOption,
}

/// The source is one of `--symbol` (stored bars) and `--input` (a CSV): the group makes clap's
/// error name both when neither is given.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").args(["symbol", "input"]).required(true)))]
pub(crate) struct ResampleArgs {
    /// Source: a stored symbol (with --from) ...
    #[arg(long)]
    pub(crate) symbol: Option<Symbol>,
    /// ... or a CSV file.
    #[arg(long)]
    pub(crate) input: Option<PathBuf>,
    /// Interval of the source bars.
    #[arg(long)]
    pub(crate) from: Interval,
    /// Target interval (a whole multiple of --from).
    #[arg(long)]
    pub(crate) to: Interval,
    /// Write a CSV here instead of storing `<SYMBOL>_<to>.parquet`.
    #[arg(long)]
    pub(crate) output: Option<PathBuf>,
    /// Keep incomplete buckets at the start and end of the data.
    #[arg(long)]
    pub(crate) keep_partial: bool,
    #[command(flatten)]
    pub(crate) data: DataDir,
}
