//! Multi-timeframe expansion: a feature set computed on coarser bars built from the stream's own
//! bars, joined to every finer bar without look-ahead.

use vane_core::{Bar, Interval};

use super::FeatureStream;
use crate::error::{IndicatorError, Result};

/// Wraps a [`FeatureStream`] so that it runs on `coarse` bars aggregated on the fly from the
/// `fine` bars it is fed (open of the first, max high, min low, close of the last, summed
/// volumes; buckets aligned to UTC multiples of `coarse`).
///
/// A coarse bar's features become visible at the fine bar that **closes** it — the last fine
/// bar of its bucket — or, when that bar is missing, at the first fine bar of a later bucket;
/// until then each fine bar carries the features of the last closed coarse bar (NaN before the
/// first). A first bucket that the data enters part-way is skipped, since its open would be
/// wrong. Columns are named `<coarse>_<name>`.
pub struct MultiTimeframe {
    inner: Box<dyn FeatureStream>,
    fine: Interval,
    coarse: Interval,
    names: Vec<String>,
    bucket: Option<Bucket>,
    started: bool,
    current: Vec<f64>,
}

impl std::fmt::Debug for MultiTimeframe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultiTimeframe").field("fine", &self.fine).field("coarse", &self.coarse).finish()
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    bar: Bar,
    complete_start: bool,
}

impl MultiTimeframe {
    /// `inner` computed on `coarse` bars built from `fine` bars; `coarse` must be a whole
    /// multiple of `fine`.
    pub fn new(inner: Box<dyn FeatureStream>, fine: Interval, coarse: Interval) -> Result<Self> {
        if !coarse.is_multiple_of(fine) {
            return Err(IndicatorError::InvalidInput(format!(
                "multi-timeframe: {coarse} is not a whole multiple of {fine} (and longer)"
            )));
        }
        let names = inner.names().iter().map(|n| format!("{coarse}_{n}")).collect::<Vec<_>>();
        let current = vec![f64::NAN; names.len()];
        Ok(Self { inner, fine, coarse, names, bucket: None, started: false, current })
    }

    fn close_bucket(&mut self) {
        if let Some(b) = self.bucket.take()
            && (b.complete_start || self.started)
        {
            self.inner.update(&b.bar, &mut self.current);
            self.started = true;
        }
    }
}

impl FeatureStream for MultiTimeframe {
    fn names(&self) -> &[String] {
        &self.names
    }

    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        if !bar.is_valid() || !self.fine.is_aligned(bar.open_time) {
            out[..self.names.len()].fill(f64::NAN);
            return;
        }
        let start = self.coarse.align_down(bar.open_time);
        if self.bucket.as_ref().is_some_and(|b| b.bar.open_time != start) {
            // A later bucket began: the previous one closed without its last fine bar.
            self.close_bucket();
        }
        match &mut self.bucket {
            Some(b) => {
                let a = &mut b.bar;
                a.high = a.high.max(bar.high);
                a.low = a.low.min(bar.low);
                a.close = bar.close;
                a.volume += bar.volume;
                a.quote_volume = a.quote_volume.zip(bar.quote_volume).map(|(x, y)| x + y);
                a.trades = a.trades.zip(bar.trades).map(|(x, y)| x + y);
                a.taker_buy_base = a.taker_buy_base.zip(bar.taker_buy_base).map(|(x, y)| x + y);
                a.taker_buy_quote = a.taker_buy_quote.zip(bar.taker_buy_quote).map(|(x, y)| x + y);
            }
            None => {
                self.bucket =
                    Some(Bucket { bar: Bar { open_time: start, ..*bar }, complete_start: bar.open_time == start });
            }
        }
        if bar.open_time.0 + self.fine.millis() == start.0 + self.coarse.millis() {
            self.close_bucket();
        }
        out[..self.names.len()].copy_from_slice(&self.current);
    }

    fn reset(&mut self) {
        self.inner.reset();
        self.bucket = None;
        self.started = false;
        self.current.fill(f64::NAN);
    }
}
