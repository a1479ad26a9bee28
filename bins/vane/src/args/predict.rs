//! `vane predict`.

use std::path::PathBuf;

use vane_core::Symbol;
use vane_market_data::Exchange;

use super::DataDir;

/// `--json` prints `{symbol, signal, confidence, probs: {BUY, SELL, HOLD}, as_of, model_id_used}`.
#[derive(Debug, clap::Args)]
pub(crate) struct PredictArgs {
    /// The symbol.
    #[arg(long)]
    pub(crate) symbol: Symbol,
    /// First download new candles incrementally.
    #[arg(long)]
    pub(crate) refresh: bool,
    /// Exchange for --refresh.
    #[arg(long, value_enum, default_value = "binance-spot")]
    pub(crate) exchange: Exchange,
    /// Exchange endpoint for --refresh.
    #[arg(long)]
    pub(crate) base_url: Option<String>,
    /// With --refresh and nothing stored: start this many days back.
    #[arg(long, default_value_t = 1095)]
    pub(crate) since_days: u32,
    #[command(flatten)]
    pub(crate) data: DataDir,
    /// Artifacts folder.
    #[arg(long, default_value = "artifacts")]
    pub(crate) artifacts_dir: PathBuf,
}
