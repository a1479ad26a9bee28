//! Core types of vane: time ([`Timestamp`], [`Interval`]), instruments ([`Symbol`]), candles
//! ([`Bar`], columnar [`Bars`]), label windows ([`Span`]) and decisions ([`Signal`], [`Prediction`]).
//!
//! Everything here validates untrusted input into a typed [`CoreError`]; nothing panics on bad
//! data.
//!
//! # Feature flags
//! None: this crate is dependency-light on purpose (serde and thiserror only).
#![warn(missing_docs)]

pub mod bar;
/// Error classes (exit codes, HTTP statuses).
pub mod class;
/// Errors of this crate.
pub mod error;
pub mod interval;
pub mod signal;
pub mod span;
pub mod symbol;
pub mod time;

pub use bar::{Bar, BarColumns, Bars, Extras, MergeStats};
pub use class::ErrorClass;
pub use error::{CoreError, Result};
pub use interval::Interval;
pub use signal::{ClassProbs, Prediction, Signal};
pub use span::Span;
pub use symbol::Symbol;
pub use time::{DAY_MS, Timestamp};

/// The types most users need.
pub mod prelude {
    pub use crate::{Bar, Bars, Interval, Prediction, Signal, Symbol, Timestamp};
}
