//! `vane backtest`.

use std::path::PathBuf;

use vane_core::Timestamp;

#[derive(Debug, clap::Args)]
pub(crate) struct BacktestArgs {
    /// Candles (.csv in the fixture schema, or .parquet).
    #[arg(long)]
    pub(crate) prices: PathBuf,
    /// Positions CSV: `open_time_ms,position` (a position decided at that bar's close); bars
    /// without a row keep the previous position.
    #[arg(long)]
    pub(crate) positions: PathBuf,
    /// Fee per side, bps.
    #[arg(long, default_value_t = 0.0)]
    pub(crate) fee_bps: f64,
    /// Slippage per side, bps.
    #[arg(long, default_value_t = 0.0)]
    pub(crate) slip_bps: f64,
    /// Periods per year (default: from the bar interval, 24/7).
    #[arg(long)]
    pub(crate) periods_per_year: Option<f64>,
    /// The largest |position| accepted (1 = fully invested, no leverage; seed 004 uses 10).
    #[arg(long, default_value_t = 1.0)]
    pub(crate) max_leverage: f64,
    /// Score only the periods (bars) opening at or after this time (RFC 3339 `2024-01-01T00:00Z`,
    /// `YYYY-MM-DD` or ms). Positions before it still shape the returns inside the window.
    #[arg(long)]
    pub(crate) from: Option<Timestamp>,
    /// Score only the periods (bars) opening before this time (exclusive; same formats as --from).
    #[arg(long)]
    pub(crate) to: Option<Timestamp>,
    /// Write `open_time_ms,return` per scored period here.
    #[arg(long)]
    pub(crate) returns_out: Option<PathBuf>,
}
