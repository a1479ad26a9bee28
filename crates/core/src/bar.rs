//! [`Bar`] (one candle) and [`Bars`] (a validated, columnar series of candles).

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::time::Timestamp;

/// One candle, keyed by its open time. The optional fields are Binance's extra kline columns.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bar {
    /// Open time (ms UTC).
    pub open_time: Timestamp,
    /// First trade price.
    pub open: f64,
    /// Highest trade price.
    pub high: f64,
    /// Lowest trade price.
    pub low: f64,
    /// Last trade price.
    pub close: f64,
    /// Base-asset volume.
    pub volume: f64,
    /// Quote-asset volume (Binance `quote_volume`, Bybit `turnover`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_volume: Option<f64>,
    /// Number of trades (Binance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trades: Option<u64>,
    /// Taker-buy base-asset volume (Binance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taker_buy_base: Option<f64>,
    /// Taker-buy quote-asset volume (Binance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taker_buy_quote: Option<f64>,
}

impl Bar {
    /// A bar with only the OHLCV fields.
    pub fn ohlcv(open_time: Timestamp, open: f64, high: f64, low: f64, close: f64, volume: f64) -> Self {
        Self {
            open_time,
            open,
            high,
            low,
            close,
            volume,
            quote_volume: None,
            trades: None,
            taker_buy_base: None,
            taker_buy_quote: None,
        }
    }

    /// Whether this is a valid candle (see [`Bar::problem`]); allocation-free, for hot loops.
    #[inline]
    pub fn is_valid(&self) -> bool {
        let pos = |v: f64| v.is_finite() && v > 0.0;
        let vol = |v: Option<f64>| v.is_none_or(|v| v.is_finite() && v >= 0.0);
        pos(self.open)
            && pos(self.high)
            && pos(self.low)
            && pos(self.close)
            && self.high >= self.open.max(self.close)
            && self.low <= self.open.min(self.close)
            && vol(Some(self.volume))
            && vol(self.quote_volume)
            && vol(self.taker_buy_base)
            && vol(self.taker_buy_quote)
    }

    /// Why this bar is not a valid candle, if it is not: every price finite and > 0,
    /// `high ≥ max(open, close)`, `low ≤ min(open, close)`, volumes finite and ≥ 0.
    pub fn problem(&self) -> Option<String> {
        for (name, v) in [("open", self.open), ("high", self.high), ("low", self.low), ("close", self.close)] {
            if !v.is_finite() || v <= 0.0 {
                return Some(format!("{name} = {v} is not a finite positive price"));
            }
        }
        if self.high < self.open.max(self.close) {
            return Some(format!("high {} is below max(open {}, close {})", self.high, self.open, self.close));
        }
        if self.low > self.open.min(self.close) {
            return Some(format!("low {} is above min(open {}, close {})", self.low, self.open, self.close));
        }
        let vols = [
            ("volume", Some(self.volume)),
            ("quote_volume", self.quote_volume),
            ("taker_buy_base", self.taker_buy_base),
            ("taker_buy_quote", self.taker_buy_quote),
        ];
        for (name, v) in vols {
            if let Some(v) = v
                && (!v.is_finite() || v < 0.0)
            {
                return Some(format!("{name} = {v} is not a finite non-negative volume"));
            }
        }
        None
    }

    fn extras(&self) -> Extras {
        Extras {
            quote_volume: self.quote_volume.is_some(),
            trades: self.trades.is_some(),
            taker_buy: self.taker_buy_base.is_some() && self.taker_buy_quote.is_some(),
        }
    }
}

/// Which optional columns a series carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Extras {
    /// `quote_volume` present.
    pub quote_volume: bool,
    /// `trades` present.
    pub trades: bool,
    /// `taker_buy_base` and `taker_buy_quote` present.
    pub taker_buy: bool,
}

impl Extras {
    /// Binance's full kline schema.
    pub const BINANCE: Extras = Extras { quote_volume: true, trades: true, taker_buy: true };
}

/// The raw columns of a bar series. Build a [`Bars`] from it with [`Bars::from_columns`], which
/// validates everything.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BarColumns {
    /// Open times (ms UTC), strictly increasing.
    pub open_time: Vec<i64>,
    /// Opens.
    pub open: Vec<f64>,
    /// Highs.
    pub high: Vec<f64>,
    /// Lows.
    pub low: Vec<f64>,
    /// Closes.
    pub close: Vec<f64>,
    /// Base volumes.
    pub volume: Vec<f64>,
    /// Quote volumes, when known.
    pub quote_volume: Option<Vec<f64>>,
    /// Trade counts, when known.
    pub trades: Option<Vec<u64>>,
    /// Taker-buy base volumes, when known.
    pub taker_buy_base: Option<Vec<f64>>,
    /// Taker-buy quote volumes, when known.
    pub taker_buy_quote: Option<Vec<f64>>,
}

impl BarColumns {
    /// Empty columns carrying the given optional columns.
    pub fn with_extras(extras: Extras, capacity: usize) -> Self {
        let f = |on: bool| on.then(|| Vec::with_capacity(capacity));
        Self {
            open_time: Vec::with_capacity(capacity),
            open: Vec::with_capacity(capacity),
            high: Vec::with_capacity(capacity),
            low: Vec::with_capacity(capacity),
            close: Vec::with_capacity(capacity),
            volume: Vec::with_capacity(capacity),
            quote_volume: f(extras.quote_volume),
            trades: extras.trades.then(|| Vec::with_capacity(capacity)),
            taker_buy_base: f(extras.taker_buy),
            taker_buy_quote: f(extras.taker_buy),
        }
    }

    /// Which optional columns are present.
    pub fn extras(&self) -> Extras {
        Extras {
            quote_volume: self.quote_volume.is_some(),
            trades: self.trades.is_some(),
            taker_buy: self.taker_buy_base.is_some() && self.taker_buy_quote.is_some(),
        }
    }

    /// Number of rows (length of `open_time`).
    pub fn len(&self) -> usize {
        self.open_time.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.open_time.is_empty()
    }

    /// Appends one bar without validation; the optional fields the columns carry must be set.
    fn push_unchecked(&mut self, b: &Bar) {
        self.open_time.push(b.open_time.0);
        self.open.push(b.open);
        self.high.push(b.high);
        self.low.push(b.low);
        self.close.push(b.close);
        self.volume.push(b.volume);
        if let Some(c) = &mut self.quote_volume {
            c.push(b.quote_volume.unwrap_or(f64::NAN));
        }
        if let Some(c) = &mut self.trades {
            c.push(b.trades.unwrap_or(0));
        }
        if let Some(c) = &mut self.taker_buy_base {
            c.push(b.taker_buy_base.unwrap_or(f64::NAN));
        }
        if let Some(c) = &mut self.taker_buy_quote {
            c.push(b.taker_buy_quote.unwrap_or(f64::NAN));
        }
    }

    /// The bar at row `i` (panics when `i` is out of range, like slice indexing).
    pub fn row(&self, i: usize) -> Bar {
        Bar {
            open_time: Timestamp(self.open_time[i]),
            open: self.open[i],
            high: self.high[i],
            low: self.low[i],
            close: self.close[i],
            volume: self.volume[i],
            quote_volume: self.quote_volume.as_ref().map(|c| c[i]),
            trades: self.trades.as_ref().map(|c| c[i]),
            taker_buy_base: self.taker_buy_base.as_ref().map(|c| c[i]),
            taker_buy_quote: self.taker_buy_quote.as_ref().map(|c| c[i]),
        }
    }
}

/// A validated candle series in struct-of-arrays form: open times strictly increasing (sorted,
/// unique), every bar a valid candle (see [`Bar::problem`]), all columns of one length.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bars {
    cols: BarColumns,
}

/// What [`Bars::merge`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MergeStats {
    /// Bars whose open time was new.
    pub added: usize,
    /// Bars that replaced a bar with the same open time.
    pub replaced: usize,
}

impl Bars {
    /// An empty series carrying the given optional columns.
    pub fn empty(extras: Extras) -> Self {
        Self { cols: BarColumns::with_extras(extras, 0) }
    }

    /// Validates columns into a series. Errors name the first offending row.
    pub fn from_columns(cols: BarColumns) -> Result<Self> {
        let n = cols.open_time.len();
        let lens = [
            ("open", cols.open.len()),
            ("high", cols.high.len()),
            ("low", cols.low.len()),
            ("close", cols.close.len()),
            ("volume", cols.volume.len()),
        ];
        let opt = [
            ("quote_volume", cols.quote_volume.as_ref().map(Vec::len)),
            ("trades", cols.trades.as_ref().map(Vec::len)),
            ("taker_buy_base", cols.taker_buy_base.as_ref().map(Vec::len)),
            ("taker_buy_quote", cols.taker_buy_quote.as_ref().map(Vec::len)),
        ];
        for (name, len) in lens.into_iter().chain(opt.into_iter().filter_map(|(k, v)| v.map(|v| (k, v)))) {
            if len != n {
                return Err(CoreError::Columns(format!("column {name} has {len} rows, open_time has {n}")));
            }
        }
        if cols.taker_buy_base.is_some() != cols.taker_buy_quote.is_some() {
            return Err(CoreError::Columns("taker_buy_base and taker_buy_quote must be present together".into()));
        }
        for i in 0..n {
            let bar = cols.row(i);
            if let Some(reason) = bar.problem() {
                return Err(CoreError::InvalidBar { index: i, open_time: bar.open_time, reason });
            }
            if i > 0 && cols.open_time[i] <= cols.open_time[i - 1] {
                return Err(CoreError::Unordered {
                    index: i,
                    open_time: bar.open_time,
                    previous: Timestamp(cols.open_time[i - 1]),
                });
            }
        }
        Ok(Self { cols })
    }

    /// Validates rows into a series; every row must carry the same optional fields.
    pub fn from_bars(bars: &[Bar]) -> Result<Self> {
        let extras = bars.first().map(Bar::extras).unwrap_or_default();
        let mut out = Self { cols: BarColumns::with_extras(extras, bars.len()) };
        for b in bars {
            out.push(*b)?;
        }
        Ok(out)
    }

    /// Appends a bar after the last one, validating it.
    pub fn push(&mut self, bar: Bar) -> Result<()> {
        let i = self.len();
        if i == 0 && self.cols.extras() != bar.extras() {
            self.cols = BarColumns::with_extras(bar.extras(), 0);
        } else if bar.extras() != self.cols.extras() {
            return Err(CoreError::Columns(format!(
                "bar #{i} at {} carries optional fields {:?} but the series carries {:?}",
                bar.open_time,
                bar.extras(),
                self.cols.extras()
            )));
        }
        if let Some(reason) = bar.problem() {
            return Err(CoreError::InvalidBar { index: i, open_time: bar.open_time, reason });
        }
        if let Some(last) = self.last_open_time()
            && bar.open_time <= last
        {
            return Err(CoreError::Unordered { index: i, open_time: bar.open_time, previous: last });
        }
        self.cols.push_unchecked(&bar);
        Ok(())
    }

    /// The validated columns.
    pub fn columns(&self) -> &BarColumns {
        &self.cols
    }

    /// The columns, by value.
    pub fn into_columns(self) -> BarColumns {
        self.cols
    }

    /// Which optional columns are present.
    pub fn extras(&self) -> Extras {
        self.cols.extras()
    }

    /// Number of bars.
    pub fn len(&self) -> usize {
        self.cols.len()
    }

    /// Whether there are no bars.
    pub fn is_empty(&self) -> bool {
        self.cols.is_empty()
    }

    /// Open times (ms UTC).
    pub fn open_time(&self) -> &[i64] {
        &self.cols.open_time
    }
    /// Opens.
    pub fn open(&self) -> &[f64] {
        &self.cols.open
    }
    /// Highs.
    pub fn high(&self) -> &[f64] {
        &self.cols.high
    }
    /// Lows.
    pub fn low(&self) -> &[f64] {
        &self.cols.low
    }
    /// Closes.
    pub fn close(&self) -> &[f64] {
        &self.cols.close
    }
    /// Base volumes.
    pub fn volume(&self) -> &[f64] {
        &self.cols.volume
    }

    /// The bar at position `i`.
    pub fn get(&self, i: usize) -> Option<Bar> {
        (i < self.len()).then(|| self.cols.row(i))
    }

    /// The bars in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Bar> + '_ {
        (0..self.len()).map(|i| self.cols.row(i))
    }

    /// The bars with only their OHLCV fields (the optional columns left `None`): a cheaper
    /// iteration for code that reads prices and volume only, such as the indicators.
    pub fn iter_ohlcv(&self) -> impl ExactSizeIterator<Item = Bar> + '_ {
        let c = &self.cols;
        c.open_time
            .iter()
            .zip(&c.open)
            .zip(&c.high)
            .zip(&c.low)
            .zip(&c.close)
            .zip(&c.volume)
            .map(|(((((&t, &o), &h), &l), &cl), &v)| Bar::ohlcv(Timestamp(t), o, h, l, cl, v))
    }

    /// Open time of the first bar.
    pub fn first_open_time(&self) -> Option<Timestamp> {
        self.cols.open_time.first().map(|&t| Timestamp(t))
    }

    /// Open time of the last bar.
    pub fn last_open_time(&self) -> Option<Timestamp> {
        self.cols.open_time.last().map(|&t| Timestamp(t))
    }

    /// Positions of the bars with `start <= open_time < end` (binary search, no copy).
    pub fn index_range(&self, start: Timestamp, end: Timestamp) -> Range<usize> {
        let t = &self.cols.open_time;
        let a = t.partition_point(|&x| x < start.0);
        let b = t.partition_point(|&x| x < end.0).max(a);
        a..b
    }

    /// A copy of the bars at positions `r` (clamped to the series).
    pub fn slice(&self, r: Range<usize>) -> Bars {
        let end = r.end.min(self.len());
        let start = r.start.min(end);
        let c = &self.cols;
        let s = |v: &Vec<f64>| v[start..end].to_vec();
        Bars {
            cols: BarColumns {
                open_time: c.open_time[start..end].to_vec(),
                open: s(&c.open),
                high: s(&c.high),
                low: s(&c.low),
                close: s(&c.close),
                volume: s(&c.volume),
                quote_volume: c.quote_volume.as_ref().map(s),
                trades: c.trades.as_ref().map(|v| v[start..end].to_vec()),
                taker_buy_base: c.taker_buy_base.as_ref().map(s),
                taker_buy_quote: c.taker_buy_quote.as_ref().map(s),
            },
        }
    }

    /// A copy of the bars with `start <= open_time < end`.
    pub fn between(&self, start: Timestamp, end: Timestamp) -> Bars {
        self.slice(self.index_range(start, end))
    }

    /// Merges `newer` into this series by open time: the union of both, sorted, one bar per
    /// open time, `newer`'s bar winning where both have one. Both must carry the same optional
    /// columns (an empty side adopts the other's).
    pub fn merge(&self, newer: &Bars) -> Result<(Bars, MergeStats)> {
        if self.is_empty() {
            return Ok((newer.clone(), MergeStats { added: newer.len(), replaced: 0 }));
        }
        if newer.is_empty() {
            return Ok((self.clone(), MergeStats::default()));
        }
        if self.extras() != newer.extras() {
            return Err(CoreError::Columns(format!(
                "cannot merge bars carrying optional columns {:?} into bars carrying {:?}; nothing was merged",
                newer.extras(),
                self.extras()
            )));
        }
        let (a, b) = (&self.cols, &newer.cols);
        let mut out = BarColumns::with_extras(self.extras(), a.len() + b.len());
        let mut stats = MergeStats::default();
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            let take_b = if i == a.len() {
                stats.added += 1;
                true
            } else if j == b.len() {
                false
            } else {
                match a.open_time[i].cmp(&b.open_time[j]) {
                    std::cmp::Ordering::Less => false,
                    std::cmp::Ordering::Greater => {
                        stats.added += 1;
                        true
                    }
                    std::cmp::Ordering::Equal => {
                        stats.replaced += 1;
                        i += 1;
                        true
                    }
                }
            };
            if take_b {
                out.push_unchecked(&b.row(j));
                j += 1;
            } else {
                out.push_unchecked(&a.row(i));
                i += 1;
            }
        }
        Ok((Bars { cols: out }, stats))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bar(t: i64, c: f64) -> Bar {
        Bar::ohlcv(Timestamp(t), c, c + 1.0, c - 1.0, c, 10.0)
    }

    #[test]
    fn validates_candles() {
        let good = bar(0, 100.0);
        assert_eq!(good.problem(), None);
        assert!(good.is_valid());
        let cases: [(Bar, &str); 7] = [
            (Bar { high: 99.5, ..good }, "high 99.5 is below"),
            (Bar { low: 100.5, ..good }, "low 100.5 is above"),
            (Bar { close: f64::NAN, ..good }, "close = NaN"),
            (Bar { open: f64::INFINITY, ..good }, "open = inf"),
            (Bar { low: 0.0, ..good }, "low = 0"),
            (Bar { volume: -1.0, ..good }, "volume = -1"),
            (Bar { quote_volume: Some(f64::NAN), ..good }, "quote_volume = NaN"),
        ];
        for (b, msg) in cases {
            assert!(!b.is_valid());
            let p = b.problem().expect("should be rejected");
            assert!(p.contains(msg), "{p:?} lacks {msg:?}");
        }
        // A zero-range bar (high == low) with zero volume is a valid candle.
        assert_eq!(Bar::ohlcv(Timestamp(0), 5.0, 5.0, 5.0, 5.0, 0.0).problem(), None);
    }

    #[test]
    fn from_bars_rejects_disorder_and_names_row() {
        let e = Bars::from_bars(&[bar(0, 1.5), bar(60_000, 2.0), bar(60_000, 3.0)]).unwrap_err();
        assert_eq!(e, CoreError::Unordered { index: 2, open_time: Timestamp(60_000), previous: Timestamp(60_000) });
        let e = Bars::from_bars(&[bar(0, 1.5), Bar { high: 0.1, ..bar(60_000, 2.0) }]).unwrap_err();
        assert!(matches!(e, CoreError::InvalidBar { index: 1, .. }), "{e:?}");
        assert!(e.to_string().contains("1970-01-01T00:01:00Z"), "{e}");
    }

    #[test]
    fn from_columns_checks_lengths() {
        let mut c = BarColumns::with_extras(Extras::default(), 2);
        c.open_time = vec![0, 1];
        c.open = vec![1.0, 1.0];
        c.high = vec![1.0, 1.0];
        c.low = vec![1.0, 1.0];
        c.close = vec![1.0];
        c.volume = vec![0.0, 0.0];
        let e = Bars::from_columns(c).unwrap_err();
        assert_eq!(e, CoreError::Columns("column close has 1 rows, open_time has 2".into()));
    }

    #[test]
    fn mixed_extras_rejected() {
        let mut b = Bars::empty(Extras::default());
        b.push(bar(0, 2.0)).unwrap();
        let e = b.push(Bar { quote_volume: Some(1.0), ..bar(1, 2.0) }).unwrap_err();
        assert!(matches!(e, CoreError::Columns(_)));
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn ranges_and_slices() {
        let b = Bars::from_bars(&(0..10).map(|i| bar(i * 100, 10.0 + i as f64)).collect::<Vec<_>>()).unwrap();
        assert_eq!(b.index_range(Timestamp(150), Timestamp(450)), 2..5);
        assert_eq!(b.index_range(Timestamp(-10), Timestamp(0)), 0..0);
        assert_eq!(b.index_range(Timestamp(500), Timestamp(100)), 5..5);
        let s = b.between(Timestamp(200), Timestamp(400));
        assert_eq!(s.open_time(), &[200, 300]);
        assert_eq!(s.close(), &[12.0, 13.0]);
        assert_eq!(b.slice(8..100).len(), 2);
        assert_eq!(b.get(3).unwrap(), bar(300, 13.0));
        assert_eq!(b.get(10), None);
    }

    #[test]
    fn merge_newer_wins() {
        let old = Bars::from_bars(&[bar(0, 10.0), bar(1, 11.0), bar(3, 13.0)]).unwrap();
        let new = Bars::from_bars(&[bar(1, 21.0), bar(2, 22.0), bar(4, 24.0)]).unwrap();
        let (m, st) = old.merge(&new).unwrap();
        assert_eq!(m.open_time(), &[0, 1, 2, 3, 4]);
        assert_eq!(m.close(), &[10.0, 21.0, 22.0, 13.0, 24.0]);
        assert_eq!(st, MergeStats { added: 2, replaced: 1 });
    }

    proptest! {
        #[test]
        fn merge_is_sorted_union(a in proptest::collection::btree_set(0i64..200, 0..60), b in proptest::collection::btree_set(0i64..200, 0..60)) {
            let old = Bars::from_bars(&a.iter().map(|&t| bar(t, 100.0)).collect::<Vec<_>>()).unwrap();
            let new = Bars::from_bars(&b.iter().map(|&t| bar(t, 200.0)).collect::<Vec<_>>()).unwrap();
            let (m, st) = old.merge(&new).unwrap();
            let union: Vec<i64> = a.union(&b).copied().collect();
            prop_assert_eq!(m.open_time(), &union[..]);
            prop_assert_eq!(st.added + st.replaced, b.len());
            prop_assert_eq!(st.replaced, a.intersection(&b).count());
            for (t, c) in m.open_time().iter().zip(m.close()) {
                prop_assert_eq!(*c, if b.contains(t) { 200.0 } else { 100.0 });
            }
            // Re-validating the merged columns succeeds: the invariants hold.
            prop_assert!(Bars::from_columns(m.into_columns()).is_ok());
        }
    }
}
