//! Errors of vane-core.

/// Everything that can go wrong when building core values from untrusted input.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CoreError {
    /// A symbol that is not 2–20 characters of `A-Z0-9`.
    #[error("invalid symbol {0:?}: a symbol is 2 to 20 characters of A-Z and 0-9 (for example BTCUSDT)")]
    InvalidSymbol(String),
    /// An interval spelling that vane does not know.
    #[error("invalid interval {0:?}: expected one of {list}", list = crate::Interval::ALL_SPELLINGS)]
    InvalidInterval(String),
    /// A timestamp string that could not be parsed.
    #[error(
        "invalid timestamp {0:?}: expected milliseconds since the epoch, YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS[.mmm]]Z"
    )]
    InvalidTimestamp(String),
    /// A bar that breaks an OHLCV invariant.
    #[error("invalid bar #{index} (open time {open_time}): {reason}")]
    InvalidBar {
        /// Position of the bar in its series.
        index: usize,
        /// Its open time, printed as UTC.
        open_time: crate::Timestamp,
        /// What is wrong with it.
        reason: String,
    },
    /// Open times that are not strictly increasing.
    #[error("bars out of order at #{index}: open time {open_time} does not come after {previous}")]
    Unordered {
        /// Position of the offending bar.
        index: usize,
        /// Its open time.
        open_time: crate::Timestamp,
        /// The open time of the bar before it.
        previous: crate::Timestamp,
    },
    /// Columns of different lengths, or optional columns present on one side only.
    #[error("inconsistent bar columns: {0}")]
    Columns(String),
    /// Any other argument out of its domain.
    #[error("{0}")]
    InvalidArgument(String),
}

/// Result type of vane-core.
pub type Result<T> = std::result::Result<T, CoreError>;
