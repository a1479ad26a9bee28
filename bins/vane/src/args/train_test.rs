//! `vane train-test`.

use std::path::PathBuf;

use vane_core::{Interval, Symbol};

use super::DataDir;
use super::runs::RecordArgs;

#[derive(Debug, clap::Args)]
pub(crate) struct TrainTestArgs {
    /// The model: lorentzian (the trainable Lorentzian-prototype network), lorentzian-knn
    /// (jdehorty's kNN scan), gbdt, hrm, cnn-lstm or tft.
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
    #[arg(long, default_value_t = 90)]
    pub(crate) data_days: u32,
    /// Share of the bars (the most recent) in the test split, a fraction in (0, 1).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.2)]
    pub(crate) test_size: f64,
    /// Training epochs (burn models).
    #[arg(long, default_value_t = 50)]
    pub(crate) epochs: usize,
    /// Learning rate (burn models: default 0.001, the seed's; gbdt: default 0.1).
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) lr: Option<f64>,
    /// Batch size (burn models).
    #[arg(long, default_value_t = 64)]
    pub(crate) batch_size: usize,
    /// Hidden width (burn models; the Lorentzian network's projection width).
    #[arg(long)]
    pub(crate) hidden: Option<usize>,
    /// Dropout (burn models).
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) dropout: Option<f64>,
    /// Neighbours k (lorentzian-knn).
    #[arg(long)]
    pub(crate) neighbors: Option<usize>,
    /// Feature columns of the lorentzian set used, the first N (lorentzian-knn).
    #[arg(long)]
    pub(crate) features: Option<usize>,
    /// Tree depth (gbdt).
    #[arg(long)]
    pub(crate) depth: Option<usize>,
    /// Output folder of the model, metrics and loss-curve files.
    #[arg(long, default_value = "models/trained")]
    pub(crate) save_path: PathBuf,
    /// Fee per side, bps.
    #[arg(long, allow_negative_numbers = true, default_value_t = 10.0)]
    pub(crate) fee_bps: f64,
    /// Slippage per side, bps.
    #[arg(long, allow_negative_numbers = true, alias = "slippage-bps", default_value_t = 2.0)]
    pub(crate) slip_bps: f64,
    /// Spot: SELL closes a long instead of opening a short.
    #[arg(long)]
    pub(crate) long_only: bool,
    /// Label horizon, bars (default 6 at 4h and coarser, else 4 hours of bars).
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
