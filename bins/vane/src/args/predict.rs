//! `vane predict`.

use std::path::PathBuf;

use vane_artifact::ModelId;
use vane_core::Symbol;
use vane_market_data::Exchange;

use super::DataDir;

/// `--json` prints `{symbol, model_kind, model_id_used, as_of, signal, confidence, probs: {BUY, SELL,
/// HOLD}}` for a classifier and `{symbol, model_kind, model_id_used, as_of, expected_return[, signal]}`
/// for a regressor.
#[derive(Debug, clap::Args)]
pub(crate) struct PredictArgs {
    /// The symbol.
    #[arg(long)]
    pub(crate) symbol: Symbol,
    /// The model folder under `<artifacts-dir>/models/` (a sequence model's
    /// `BTCUSDT-ETHUSDT_4h_hrm`, a symbol, `global`); default: the symbol's own model, else
    /// `global`.
    #[arg(long)]
    pub(crate) model_id: Option<ModelId>,
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
