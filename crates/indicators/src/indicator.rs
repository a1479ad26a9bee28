//! The streaming [`Indicator`] trait and the batch helpers built on it.

use vane_core::{Bar, Bars};

/// A streaming indicator: one [`update`](Indicator::update) per closed bar, in time order.
///
/// Conventions shared by every indicator in this crate:
/// - Outputs follow TA-Lib where TA-Lib has the indicator: the first output comes after
///   [`warmup`](Indicator::warmup) bars (TA-Lib's lookback), with TA-Lib's seeding and
///   degenerate-case values; batch results hold NaN before that.
/// - A bar that is not a valid candle ([`Bar::is_valid`]: a NaN or infinite field, a price ≤ 0,
///   `high < max(open, close)`...) is skipped: its output is `None` (NaN in batch) and the
///   indicator's state is unchanged, so one bad tick does not poison a live stream.
/// - No allocation per bar: buffers are sized at construction.
/// - The batch functions run the same `update` over the series, so streaming and batch results
///   are identical by construction (and tested to be).
pub trait Indicator {
    /// What one update yields: `f64`, or a small struct for multi-output indicators.
    type Output: Outputs;

    /// Feeds the next closed bar; `None` until the indicator is warmed up (or for a skipped,
    /// invalid bar).
    #[inline]
    fn update(&mut self, bar: &Bar) -> Option<Self::Output> {
        if bar.is_valid() { self.update_valid(bar) } else { None }
    }

    /// [`update`](Indicator::update) for a bar the caller has already checked with
    /// [`Bar::is_valid`] — feature sets check each bar once for all their indicators. Feeding an
    /// invalid bar here is a logic error: the outputs are meaningless (but never undefined
    /// behaviour).
    fn update_valid(&mut self, bar: &Bar) -> Option<Self::Output>;

    /// Forgets everything seen so far.
    fn reset(&mut self);

    /// Whether the indicator has warmed up: it has seen more than [`warmup`](Indicator::warmup)
    /// valid bars, so its last update produced an output and every later valid bar will.
    fn is_ready(&self) -> bool;

    /// Number of valid bars consumed before the first output (TA-Lib's lookback): the first
    /// output is produced by bar number `warmup()` (0-based).
    fn warmup(&self) -> usize;
}

/// An indicator output that can be written as `N` feature columns.
pub trait Outputs: Copy {
    /// Number of columns.
    const WIDTH: usize;
    /// Writes the columns into `out[..WIDTH]`.
    fn write(&self, out: &mut [f64]);
}

impl Outputs for f64 {
    const WIDTH: usize = 1;
    fn write(&self, out: &mut [f64]) {
        out[0] = *self;
    }
}

// The batch helpers feed `update_valid`: a `Bars` is validated when it is built, so every bar
// in it is a valid candle, and indicators read only the OHLCV fields.

/// Declares a multi-output struct of `f64` fields and its [`Outputs`] impl (columns in field
/// order).
macro_rules! outputs {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: f64,)+
        }

        impl $crate::indicator::Outputs for $name {
            const WIDTH: usize = [$(stringify!($field)),+].len();
            fn write(&self, out: &mut [f64]) {
                let values = [$(self.$field),+];
                out[..values.len()].copy_from_slice(&values);
            }
        }
    };
}
pub(crate) use outputs;

/// Runs `ind` over `bars` (from its current state) and collects every update.
pub fn run<I: Indicator>(ind: &mut I, bars: &Bars) -> Vec<Option<I::Output>> {
    bars.iter_ohlcv().map(|b| ind.update_valid(&b)).collect()
}

/// Runs `ind` over `bars` and returns its columns, NaN where there is no output.
pub fn run_columns<I: Indicator>(ind: &mut I, bars: &Bars) -> Vec<Vec<f64>> {
    let w = I::Output::WIDTH;
    if w == 1 {
        let mut row = [f64::NAN];
        let col = bars
            .iter_ohlcv()
            .map(|b| match ind.update_valid(&b) {
                Some(o) => {
                    o.write(&mut row);
                    row[0]
                }
                None => f64::NAN,
            })
            .collect();
        return vec![col];
    }
    let mut cols = vec![Vec::with_capacity(bars.len()); w];
    let mut row = vec![f64::NAN; w];
    for b in bars.iter_ohlcv() {
        match ind.update_valid(&b) {
            Some(o) => o.write(&mut row),
            None => row.fill(f64::NAN),
        }
        for (c, v) in cols.iter_mut().zip(&row) {
            c.push(*v);
        }
    }
    cols
}

/// Runs a single-output indicator over `bars`: one value per bar, NaN where there is none.
pub fn run_f64<I: Indicator<Output = f64>>(ind: &mut I, bars: &Bars) -> Vec<f64> {
    bars.iter_ohlcv().map(|b| ind.update_valid(&b).unwrap_or(f64::NAN)).collect()
}

/// `a / b`, NaN when `b` is 0 or either is not finite: never ±Inf.
#[inline]
pub(crate) fn ratio(a: f64, b: f64) -> f64 {
    let r = a / b;
    if r.is_finite() { r } else { f64::NAN }
}
