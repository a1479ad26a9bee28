//! Market data for vane: exchange kline clients (Binance spot, Binance USDT-M futures, Bybit
//! linear), incremental download, the parquet candle store, CSV import/export, resampling and
//! gap reports.
//!
//! ```no_run
//! use vane_core::{Interval, Symbol, Timestamp};
//! use vane_market_data::{DownloadRequest, Downloader, Exchange, ParquetStore, RetryPolicy, Sleeper};
//!
//! let store = ParquetStore::new("data");
//! let client = Exchange::BinanceSpot.client(None, RetryPolicy::default(), Sleeper::default());
//! let req = DownloadRequest {
//!     symbol: Symbol::new("BTCUSDT")?,
//!     interval: Interval::H4,
//!     since: "2023-01-01".parse::<Timestamp>()?,
//!     until: None,
//! };
//! let summary = Downloader::new(client.as_ref(), &store).download(&req, &mut |_| {})?;
//! println!("{} new bars", summary.rows_added);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Feature flags
//! - `clap`: [`Exchange`] derives `clap::ValueEnum`.
//!
//! The fixtures helper and the mock exchange server live in the `vane-testkit` crate.
#![warn(missing_docs)]

pub mod client;
/// CSV import and export.
pub mod csv;
pub mod download;
/// Errors of this crate.
pub mod error;
/// Candle files and symbol lists named on a command line.
pub mod files;
/// Gap reports.
pub mod gaps;
pub mod grid;
/// Store inventory and CSV import.
pub mod info;
/// Resampling to coarser intervals.
pub mod resample;
pub mod store;
pub mod timerange;

pub use client::{BinanceClient, BinanceMarket, BybitClient, Exchange, KlineSource, RetryNotice, RetryPolicy, Sleeper};
pub use csv::{read_csv, read_market_csv, write_csv};
pub use download::{Clock, DownloadRequest, DownloadSummary, Downloader, Freshness, Progress, Refresh};
pub use error::{MarketDataError, Result};
pub use files::{is_parquet, read_bars_file, read_bars_file_with_interval, read_universe};
pub use gaps::{Gap, GapReport, gap_report};
pub use grid::{DaysSelection, GridBars, last_days, regularise, resample_grid};
pub use info::{FileError, ImportReport, SeriesInfo, StoreReport, import_csv, import_csv_in, store_info, store_report};
pub use resample::resample;
pub use store::{
    AppendSummary, ParquetStore, StoredSeries, read_parquet_file, write_table_parquet, write_table_parquet_owned,
};
pub use timerange::{EARLIEST_OPEN_TIME, TimeRange};
