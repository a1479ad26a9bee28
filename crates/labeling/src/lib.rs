//! Labels for supervised trading models. Every labeller returns, per bar `t`, the label and the
//! [`Span`] `[t, t_end]` of bars it looked at — `None` for the last bars whose window would run
//! past the data — so that validation splitters can purge overlapping training samples.
//!
//! | labeller | module | seed |
//! |---|---|---|
//! | fixed horizon BUY/SELL/HOLD, θ search under HOLD-share bounds | [`fixed`] | 001 |
//! | binary direction with a dead zone weight | [`deadzone`] | 000 |
//! | percentile-adaptive thresholds fitted on the training window | [`percentile`] | 002 |
//! | volatility-scaled triple barrier, meta-labels | [`barrier`] | 000 |
//! | expected return of a partial-take-profit ladder (the engine the backtest reuses) | [`ladder`] | 004 |
//! | average-uniqueness sample weights, time decay | [`weights`] | – |
//!
//! Definitions: `docs/labels.md`.
//!
//! # Feature flags
//! `clap`: the CLI-facing enums derive `clap::ValueEnum`.
#![warn(missing_docs)]

/// Volatility-scaled triple barrier and meta-labels.
pub mod barrier;
/// Binary direction with a dead zone.
pub mod deadzone;
/// Errors of this crate.
pub mod error;
/// Fixed-horizon three-class labels and the θ search.
pub mod fixed;
/// The partial-take-profit ladder engine and expected-return labels.
pub mod ladder;
/// Percentile-adaptive thresholds.
pub mod percentile;
/// Sample weights from label overlap.
pub mod weights;

pub use error::{LabelError, Result};
pub use vane_core::Span;

/// Per-bar labels with the span each one looks at; `None` where no label exists.
#[derive(Clone, Debug, PartialEq)]
pub struct Labels<T> {
    /// The label of bar `t`, if any.
    pub values: Vec<Option<T>>,
    /// The bars label `t` looks at, `[t, t_end]`.
    pub spans: Vec<Option<Span>>,
}

impl<T> Labels<T> {
    pub(crate) fn with_len(n: usize) -> Self {
        Self { values: (0..n).map(|_| None).collect(), spans: vec![None; n] }
    }

    pub(crate) fn set(&mut self, t: usize, value: T, end: usize) {
        self.values[t] = Some(value);
        self.spans[t] = Some(Span::new(t, end));
    }

    /// Number of bars (labelled or not).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no bars.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Number of labelled bars.
    pub fn labeled(&self) -> usize {
        self.values.iter().filter(|v| v.is_some()).count()
    }

    /// `(t, label, span)` of every labelled bar.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &T, Span)> + '_ {
        self.values.iter().zip(&self.spans).enumerate().filter_map(|(t, (v, s))| Some((t, v.as_ref()?, (*s)?)))
    }
}

/// `close[t + h] / close[t] − 1` for every `t` with `t + h` inside the series.
pub fn forward_returns(close: &[f64], horizon: usize) -> Vec<Option<f64>> {
    (0..close.len()).map(|t| close.get(t + horizon).map(|&c| c / close[t] - 1.0)).collect()
}
