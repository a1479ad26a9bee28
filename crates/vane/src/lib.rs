//! **vane** turns exchange candles into calibrated, cost-aware BUY / SELL / HOLD signals. This
//! crate is the one a trading bot depends on: it re-exports every library crate of the workspace
//! under a short module name, and [`prelude`] brings in what embedding needs.
//!
//! ```no_run
//! use vane::prelude::*;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let symbol = Symbol::new("BTCUSDT")?;
//! // A trained model folder (`vane train` / `vane demo` write them): GBDT or sequence model.
//! let model = AnyPredictor::resolve("artifacts".as_ref(), &symbol, None)?;
//! let bars = read_csv("fixtures/BTCUSDT_4h.csv".as_ref(), Some(Interval::H4))?;
//! let forecast = model.predict(&symbol, &bars)?;
//! println!("{:?} at {}", forecast.signal, forecast.as_of);
//! // Live: one closed bar at a time, the same forecasts as `predict`.
//! let mut stream = model.stream(&symbol)?;
//! for bar in bars.iter() {
//!     if let Some(f) = stream.on_bar(&bar)? { /* act on f.signal */ }
//! }
//! # Ok(()) }
//! ```
//!
//! # Feature flags
//! - `wgpu`: burn's wgpu backend (Vulkan, Metal, DX12) for the sequence models
//!   (`--device wgpu`).
//! - `tch`: burn's libtorch backend (needs PyTorch's libraries).
//! - `cuda`: burn's CUDA backend (its build downloads an LLVM bundle: needs the network).
//! - `server`: the HTTP service as `vane::server` (pulls in axum and tokio).
//!
//! None is on by default: the default build is CPU-only and has no async runtime.
#![warn(missing_docs)]

/// Time, intervals, symbols, bars, signals and class probabilities (`vane-core`).
pub use vane_core as core;

/// Atomic files and folders, versioned JSON, model ids, the `Predict` trait (`vane-artifact`).
pub use vane_artifact as artifact;

/// Exchange clients, incremental download, the parquet store, CSV, resampling
/// (`vane-market-data`).
pub use vane_market_data as data;

/// Streaming TA-Lib-exact indicators and feature sets (`vane-indicators`).
pub use vane_indicators as indicators;

/// Fixed-horizon, dead-zone, percentile, triple-barrier and expected-return labels
/// (`vane-labeling`).
pub use vane_labeling as labels;

/// Purged walk-forward, purged k-fold, CPCV and ML metrics (`vane-validation`).
pub use vane_validation as validation;

/// Fees, slippage, funding and net edge (`vane-costs`).
pub use vane_costs as costs;

/// Platt, isotonic and temperature calibration (`vane-calibration`).
pub use vane_calibration as calibration;

/// Probabilities → decisions: thresholds, min_conf, hysteresis, cooldown (`vane-policy`).
pub use vane_policy as policy;

/// Close-to-close backtests with costs and the trading metrics (`vane-backtest`).
pub use vane_backtest as backtest;

/// Gradient-boosted trees, logistic regression, the Lorentzian kNN (`vane-tabular`).
pub use vane_tabular as tabular;

/// Plots (PNG and SVG) of plain series: loss curves (`vane-report`).
pub use vane_report as report;

/// burn sequence models (HRM, CNN-LSTM, TFT) and their trainer (`vane-models`).
pub use vane_models as models;

/// Out-of-fold predictions for any model, the base of the L1 → L2 → L3 stack (`vane-stacking`).
pub use vane_stacking as stacking;

/// The workflows: training, predictors, artifacts (`vane-pipeline`).
pub use vane_pipeline as pipeline;

/// The HTTP service behind `vane serve` (`vane-server`, feature `server`).
#[cfg(feature = "server")]
pub use vane_server as server;

/// What a bot needs: candles in, models loaded, forecasts out.
pub mod prelude {
    pub use vane_artifact::{Forecast, ModelId, Predict, PredictStream};
    pub use vane_core::{Bar, Bars, ClassProbs, Interval, Prediction, Signal, Symbol, Timestamp};
    pub use vane_costs::CostModel;
    pub use vane_indicators::FeatureSet;
    pub use vane_market_data::{ParquetStore, read_csv, read_parquet_file};
    pub use vane_pipeline::{AnyPredictor, Mode, Predictor, SequencePredictor, TrainConfig, train};
    pub use vane_policy::{Policy, PolicyConfig};
}
