//! `vane wfo`.

use std::path::PathBuf;

use vane_core::{Interval, Symbol};
use vane_pipeline::wfo::OptimizeMetric;

use super::DataDir;
use super::runs::RecordArgs;

#[derive(Debug, clap::Args)]
pub(crate) struct WfoArgs {
    /// The model: lorentzian-knn (jdehorty's kNN scan), gbdt, or a burn model (hrm, cnn-lstm,
    /// tft, lorentzian).
    #[arg(long)]
    pub(crate) model: String,
    /// Symbol (e.g. BTCUSDT).
    #[arg(long)]
    pub(crate) symbol: Symbol,
    /// Bar interval (e.g. 4h).
    #[arg(long)]
    pub(crate) interval: Interval,
    #[command(flatten)]
    pub(crate) data: DataDir,
    /// Use the last N days of stored bars, counted back from the last one.
    #[arg(long, default_value_t = 180)]
    pub(crate) data_days: u32,
    /// Training window, days (its last 20 % is the purged validation slice candidates are chosen on).
    #[arg(long, default_value_t = 30)]
    pub(crate) window_size: u32,
    /// Test window, days: each window's winner trades the next N days; windows advance by N.
    #[arg(long, default_value_t = 7)]
    pub(crate) test_size: u32,
    /// Training epochs of burn models (per candidate and window).
    #[arg(long, default_value_t = 30)]
    pub(crate) epochs: usize,
    /// The metric a window's winner is chosen by (on its validation slice).
    #[arg(long, value_enum, default_value = "sharpe_ratio")]
    pub(crate) optimize_metric: OptimizeMetric,
    /// Hyperparameter grid replacing the default one, e.g. "lr=0.01,0.001 batch=32,64 hidden=64
    /// dropout=0.2" (burn), "neighbors=4,8 features=3,5" (kNN), "lr=0.05 depth=3,5" (gbdt); keys
    /// left out take their base value.
    #[arg(long)]
    pub(crate) grid: Option<String>,
    /// Output folder.
    #[arg(long, default_value = "models/trained")]
    pub(crate) out: PathBuf,
    /// Fee per side, bps (as `vane train`).
    #[arg(long, allow_negative_numbers = true, default_value_t = 10.0)]
    pub(crate) fee_bps: f64,
    /// Slippage per side, bps (as `vane train`).
    #[arg(long, allow_negative_numbers = true, alias = "slippage-bps", default_value_t = 2.0)]
    pub(crate) slip_bps: f64,
    /// Spot: SELL closes a long instead of opening a short.
    #[arg(long)]
    pub(crate) long_only: bool,
    /// Label horizon, bars (gbdt and burn models; default 6 at 4h and coarser, else 4 hours of bars).
    #[arg(long)]
    pub(crate) horizon: Option<usize>,
    /// θ of the BUY/SELL labels (default 0.005 at 4h and coarser, else 0.002).
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) theta: Option<f64>,
    /// Window length in bars of burn models.
    #[arg(long, default_value_t = 16)]
    pub(crate) seq_len: usize,
    #[command(flatten)]
    pub(crate) record: RecordArgs,
}
