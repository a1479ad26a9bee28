//! `vane backtest`.

use std::path::PathBuf;

use vane_core::Timestamp;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["positions", "decisions"])))]
pub(crate) struct BacktestArgs {
    /// Candles (.csv in the fixture schema, or .parquet).
    #[arg(long)]
    pub(crate) prices: PathBuf,
    /// Positions CSV: `open_time_ms,position` (a position decided at that bar's close); bars
    /// without a row keep the previous position. Close-to-close exits only.
    #[arg(long)]
    pub(crate) positions: Option<PathBuf>,
    /// Decisions CSV: `open_time_ms,signal` with BUY, SELL or HOLD (decided at that bar's close);
    /// bars without a row are HOLD. Close-to-close: BUY +1, SELL −1, HOLD keeps the position;
    /// ladder: BUY (SELL) opens a long (short) when flat.
    #[arg(long)]
    pub(crate) decisions: Option<PathBuf>,
    /// How positions close: `close-to-close` (held until the file changes them) or `ladder`
    /// (seed 004's partial closes, stop-loss, take-profit, breakeven, profit locks and horizon
    /// from --risk; needs --decisions).
    #[arg(long, value_enum, default_value_t = ExitsKind::CloseToClose)]
    pub(crate) exits: ExitsKind,
    /// Risk profile TOML for `--exits ladder` (e.g. examples/seed004/risk_profile.toml).
    #[arg(long)]
    pub(crate) risk: Option<PathBuf>,
    /// Fee per side, bps.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub(crate) fee_bps: f64,
    /// Slippage per side, bps.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub(crate) slip_bps: f64,
    /// Periods per year (default: from the bar interval, 24/7).
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) periods_per_year: Option<f64>,
    /// The largest |position| accepted in --positions (1 = fully invested, no leverage; seed 004
    /// uses 10). With `--exits ladder` the risk profile's `leverage` sizes the position instead.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1.0)]
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

/// `--exits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ExitsKind {
    /// The position is held until the positions (decisions) change it.
    CloseToClose,
    /// Seed 004's ladder through the risk profile (`vane_labeling::ladder::simulate`).
    Ladder,
}
