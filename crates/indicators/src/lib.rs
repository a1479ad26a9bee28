//! Streaming technical indicators with TA-Lib's exact semantics, and vane's named, versioned
//! feature sets.
//!
//! Every indicator implements [`Indicator`]: `update(&bar) -> Option<Output>` once per closed
//! bar, `reset()`, `is_ready()`, `warmup()`. Batch results ([`run_f64`], [`run_columns`],
//! [`FeatureSet::compute`]) are produced by the same update code, so streaming and batch agree
//! exactly. Indicators that TA-Lib has match it (seeding, Wilder smoothing, first valid index,
//! percent scales, degenerate cases); the formulas are in `docs/indicators.md`.
//!
//! ```
//! use vane_core::{Bar, Timestamp};
//! use vane_indicators::{Indicator, momentum::RelativeStrengthIndex};
//!
//! let mut rsi = RelativeStrengthIndex::new(14)?;
//! for i in 0..30 {
//!     let c = 100.0 + (i as f64 * 0.7).sin();
//!     if let Some(v) = rsi.update(&Bar::ohlcv(Timestamp(i * 60_000), c, c + 0.5, c - 0.5, c, 10.0)) {
//!         assert!((0.0..=100.0).contains(&v));
//!     }
//! }
//! assert!(rsi.is_ready());
//! # Ok::<(), vane_indicators::IndicatorError>(())
//! ```
//!
//! # Feature flags
//! None: the crate depends on vane-core and serde only.
#![warn(missing_docs)]

/// Moving averages: SMA, EMA, KAMA, T3.
pub mod average;
/// Errors of this crate.
pub mod error;
pub mod frame;
pub mod indicator;
/// Momentum and oscillators.
pub mod momentum;
/// Allocation-free rolling building blocks.
pub mod rolling;
pub mod sets;
/// Trend indicators.
pub mod trend;
/// Volatility indicators.
pub mod volatility;
/// Volume indicators.
pub mod volume;

pub use error::{IndicatorError, Result};
pub use frame::FeatureFrame;
pub use indicator::{Indicator, Outputs, run, run_columns, run_f64};
pub use sets::{FeatureSet, FeatureStream};
