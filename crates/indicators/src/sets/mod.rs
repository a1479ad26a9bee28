//! Named, versioned feature sets. Each set is a [`FeatureStream`] — one row of features per
//! closed bar, computed from that bar and earlier ones only — and [`FeatureSet::compute`] runs
//! the same stream over a whole series. Column formulas: `docs/indicators.md`.

mod full;
mod lorentzian;
mod mtf;
mod regime;
mod talib;
mod v1;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use vane_core::{Bar, Bars, Interval};

pub use lorentzian::Lorentzian;
pub use mtf::MultiTimeframe;

use crate::error::{IndicatorError, Result};
use crate::frame::FeatureFrame;
use crate::indicator::Outputs;

/// A stream of feature rows: `update` writes one value per column into `out` for each bar.
/// A bar that is not a valid candle yields a row of NaN and leaves the state unchanged.
pub trait FeatureStream: Send {
    /// Column names, in row order.
    fn names(&self) -> &[String];
    /// Writes the row of `bar` into `out[..names().len()]`.
    fn update(&mut self, bar: &Bar, out: &mut [f64]);
    /// Forgets everything seen so far.
    fn reset(&mut self);
}

/// The feature sets vane ships.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeatureSet {
    /// Exactly the columns of the TA-Lib oracle file, with its names.
    Talib,
    /// Seed 001's v1 set (14 scale-free columns).
    V1,
    /// Seed 004's 49 features, all relative to price.
    Full,
    /// Seed 000's regime features: time of day, rolling σ, volume z-score (window 60).
    Regime,
    /// Seed 003's Lorentzian-classifier features (jdehorty).
    Lorentzian,
}

impl FeatureSet {
    /// Every set.
    pub const ALL: [FeatureSet; 5] =
        [FeatureSet::Talib, FeatureSet::V1, FeatureSet::Full, FeatureSet::Regime, FeatureSet::Lorentzian];

    /// The set's name.
    pub fn name(self) -> &'static str {
        match self {
            FeatureSet::Talib => "talib",
            FeatureSet::V1 => "v1",
            FeatureSet::Full => "full",
            FeatureSet::Regime => "regime",
            FeatureSet::Lorentzian => "lorentzian",
        }
    }

    /// The set's version: bumped whenever a column's definition changes, and recorded in
    /// feature schemas so a model never sees features it was not trained on.
    pub fn version(self) -> u32 {
        1
    }

    /// A fresh stream computing this set.
    pub fn stream(self) -> Box<dyn FeatureStream> {
        match self {
            FeatureSet::Talib => Box::new(talib::TalibStream::new()),
            FeatureSet::V1 => Box::new(v1::V1Stream::new()),
            FeatureSet::Full => Box::new(full::FullStream::new()),
            FeatureSet::Regime => Box::new(regime::RegimeStream::new(60).expect("60 is a valid window")),
            FeatureSet::Lorentzian => Box::new(Lorentzian::new()),
        }
    }

    /// The set's column names.
    pub fn columns(self) -> Vec<String> {
        self.stream().names().to_vec()
    }

    /// Computes the set over `bars`.
    pub fn compute(self, bars: &Bars) -> FeatureFrame {
        let mut frame = FeatureFrame::default();
        self.compute_into(bars, &mut frame);
        frame
    }

    /// [`compute`](FeatureSet::compute) into `frame`, reusing its column buffers (no allocation
    /// when `frame` already held this set for as many bars, e.g. when features are recomputed
    /// every period).
    pub fn compute_into(self, bars: &Bars, frame: &mut FeatureFrame) {
        match self {
            FeatureSet::Talib => talib::compute_into(bars, frame),
            _ => compute_stream_into(self.stream().as_mut(), bars, frame),
        }
    }

    /// Computes the set over `bars` of interval `fine`, plus the same set computed on `coarse`
    /// bars aggregated from them, joined without look-ahead (see [`MultiTimeframe`]); the coarse
    /// columns are prefixed with `<coarse>_`.
    pub fn compute_multi_timeframe(self, bars: &Bars, fine: Interval, coarse: Interval) -> Result<FeatureFrame> {
        let mut both =
            Joined { a: self.stream(), b: Box::new(MultiTimeframe::new(self.stream(), fine, coarse)?), names: vec![] };
        both.names = both.a.names().iter().chain(both.b.names()).cloned().collect();
        Ok(compute_stream(&mut both, bars))
    }
}

impl fmt::Display for FeatureSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FeatureSet {
    type Err = IndicatorError;
    fn from_str(s: &str) -> Result<Self> {
        FeatureSet::ALL.into_iter().find(|f| f.name() == s).ok_or_else(|| IndicatorError::UnknownSet(s.to_string()))
    }
}

/// Runs a stream over a series.
pub fn compute_stream(stream: &mut dyn FeatureStream, bars: &Bars) -> FeatureFrame {
    let mut frame = FeatureFrame::default();
    compute_stream_into(stream, bars, &mut frame);
    frame
}

/// Runs a stream over a series into `frame`, reusing its buffers.
pub fn compute_stream_into(stream: &mut dyn FeatureStream, bars: &Bars, frame: &mut FeatureFrame) {
    frame.reshape(stream.names(), bars.open_time());
    fill_columns(bars, frame.columns_mut(), |bar, out| stream.update(bar, out));
}

/// Extends `cols` (empty, with room for every bar) by one value per bar: `update` writes a bar's
/// row (one value per column) into its `out`.
pub(crate) fn fill_columns(bars: &Bars, cols: &mut [Vec<f64>], mut update: impl FnMut(&Bar, &mut [f64])) {
    let n = bars.len();
    let w = cols.len();
    // Rows go into a small row-major block (cache-resident), then each column's segment is
    // copied contiguously: far cheaper than scattering every row over w column streams.
    const BLOCK: usize = 128;
    let mut block = vec![f64::NAN; BLOCK * w.max(1)];
    let mut bars_iter = bars.iter_ohlcv();
    let mut start = 0;
    while start < n {
        let len = BLOCK.min(n - start);
        for r in 0..len {
            let bar = bars_iter.next().expect("n bars");
            update(&bar, &mut block[r * w..(r + 1) * w]);
        }
        for (k, col) in cols.iter_mut().enumerate() {
            col.extend((0..len).map(|r| block[r * w + k]));
        }
        start += len;
    }
    debug_assert!(cols.iter().all(|c| c.len() == n));
}

struct Joined {
    a: Box<dyn FeatureStream>,
    b: Box<dyn FeatureStream>,
    names: Vec<String>,
}

impl FeatureStream for Joined {
    fn names(&self) -> &[String] {
        &self.names
    }
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        let k = self.a.names().len();
        let (x, y) = out.split_at_mut(k);
        self.a.update(bar, x);
        self.b.update(bar, y);
    }
    fn reset(&mut self) {
        self.a.reset();
        self.b.reset();
    }
}

/// Writes an optional indicator output into `out` (NaN when absent) and returns the width.
#[inline]
pub(crate) fn put<O: Outputs>(out: &mut [f64], o: Option<O>) -> usize {
    match o {
        Some(o) => o.write(out),
        None => out[..O::WIDTH].fill(f64::NAN),
    }
    O::WIDTH
}

/// `x` when present, else NaN.
#[inline]
pub(crate) fn val(x: Option<f64>) -> f64 {
    x.unwrap_or(f64::NAN)
}

/// Builds owned column names.
pub(crate) fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Hour of day (0–23, UTC) and day of week (0 = Monday … 6 = Sunday) of an open time.
pub(crate) fn hour_and_weekday(open_time_ms: i64) -> (f64, f64) {
    let day = vane_core::DAY_MS;
    let days = open_time_ms.div_euclid(day);
    let hour = open_time_ms.rem_euclid(day) / 3_600_000;
    // 1970-01-01 was a Thursday (3 with Monday = 0).
    (hour as f64, (days + 3).rem_euclid(7) as f64)
}
