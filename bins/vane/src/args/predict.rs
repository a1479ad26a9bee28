//! `vane predict`.

use std::path::PathBuf;

use vane_artifact::ModelId;
use vane_core::Symbol;
use vane_market_data::Exchange;

use super::DataDir;
use super::db::PgOption;

/// `--json` prints `{symbol, model_kind, model_id_used, as_of, signal, confidence, probs: {BUY, SELL,
/// HOLD}}` for a classifier, `{symbol, model_kind, model_id_used, as_of, signal, confidence, p_up}`
/// for a binary classifier (P(up) / P(profit), no `probs`), and `{symbol, model_kind,
/// model_id_used, as_of, expected_return[, signal]}` for a regressor, plus `stale` (closed bars are missing from the store), `as_of_age_s` (seconds
/// since the last stored bar closed) and, when `--refresh` failed, `refresh_error`: a failed
/// refresh predicts from the stored bars and says so.
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
    /// With --refresh: request attempts before the refresh gives up (then the stored bars are used).
    #[arg(long, default_value_t = 2)]
    pub(crate) max_attempts: u32,
    /// With --refresh: seconds one request may spend on retries in all.
    #[arg(long, default_value_t = 3, value_name = "SECS")]
    pub(crate) max_wait: u64,
    /// With --refresh: seconds one request may take.
    #[arg(long, default_value_t = 10, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) timeout: u64,
    /// With --refresh and nothing stored: start this many days back.
    #[arg(long, default_value_t = 1095)]
    pub(crate) since_days: u32,
    #[command(flatten)]
    pub(crate) data: DataDir,
    /// Artifacts folder.
    #[arg(long, default_value = "artifacts")]
    pub(crate) artifacts_dir: PathBuf,
    /// Read the candles from PostgreSQL's raw_market_data and write the forecast to
    /// model_predictions (realised NULL until its horizon has passed; each run fills in the
    /// realised targets of the model's earlier rows whose horizon has passed).
    #[command(flatten)]
    pub(crate) pg: PgOption,
    /// With --database-url: the exchange the candles are stored under (default: the only one
    /// holding the series).
    #[arg(long = "db-exchange", requires = "database_url", value_name = "EXCHANGE")]
    pub(crate) db_exchange: Option<String>,
}
