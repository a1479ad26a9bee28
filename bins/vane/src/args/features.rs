//! `vane features`.

use std::path::PathBuf;

use vane_core::{Interval, Symbol};
use vane_indicators::FeatureSet;

use super::DataDir;
use super::db::PgOption;

#[derive(Debug, clap::Args)]
pub(crate) struct FeaturesArgs {
    /// Candles from a file (.csv in the fixture schema, or .parquet as the store writes it) ...
    #[arg(long, required_unless_present = "symbol")]
    pub(crate) input: Option<PathBuf>,
    /// ... or from the store (the parquet store, or PostgreSQL's raw_market_data with
    /// --database-url).
    #[arg(long, conflicts_with = "input", requires = "interval")]
    pub(crate) symbol: Option<Symbol>,
    /// Bar interval (required with --symbol; inferred from the open times of --input otherwise).
    #[arg(long)]
    pub(crate) interval: Option<Interval>,
    /// The feature set: talib, v1, full, regime or lorentzian.
    #[arg(long)]
    pub(crate) set: FeatureSet,
    /// Also compute the set on this coarser interval and join it without look-ahead.
    #[arg(long)]
    pub(crate) mtf: Option<Interval>,
    /// Output file (.csv or .parquet); CSV to stdout when absent (then --json is refused: the
    /// summary it prints would follow the CSV on stdout).
    #[arg(long)]
    pub(crate) output: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) data: DataDir,
    #[command(flatten)]
    pub(crate) pg: PgOption,
    /// With --database-url: the exchange the series is stored under (default: the only one
    /// holding it).
    #[arg(long, requires = "database_url")]
    pub(crate) exchange: Option<String>,
}
