//! A regular time grid from a sparse series (seed 000's 1-second data): every interval between
//! the first and the last bar gets a bar, the empty ones filled and flagged, so that horizons,
//! sequence lengths and σ windows count *time* (seconds on a 1 s grid), not trades.
//!
//! A filled bar carries the previous close (`open = high = low = close = previous close`), zero
//! volume and, when the series carries Binance's optional columns, zero quote volume, zero
//! trades and zero taker-buy volumes. Resampling the grid ([`resample_grid`]) aggregates with
//! [`resample`]; a bucket made only of filled bars is itself filled.
//! Definitions: `docs/data.md` ("The 1-second grid").

use vane_core::{BarColumns, Bars, Interval, Timestamp};

use crate::error::{MarketDataError, Result};
use crate::resample::resample;

/// The largest grid [`regularise`] builds (rows): 50 million, about 19 months of 1 s bars.
pub const MAX_GRID_ROWS: i64 = 50_000_000;

/// A regular series: one bar per interval from the first to the last bar of the source, with a
/// flag per bar saying whether it was filled in (no bar existed at that time).
#[derive(Clone, Debug, PartialEq)]
pub struct GridBars {
    /// The bars, one per interval, strictly regular.
    pub bars: Bars,
    /// `filled[i]`: bar `i` was not in the source (carried close, zero volume).
    pub filled: Vec<bool>,
    /// The grid's interval.
    pub interval: Interval,
}

impl GridBars {
    /// Number of grid bars.
    pub fn len(&self) -> usize {
        self.bars.len()
    }

    /// Whether the grid is empty.
    pub fn is_empty(&self) -> bool {
        self.bars.is_empty()
    }

    /// Number of filled (empty-interval) bars.
    pub fn n_filled(&self) -> usize {
        self.filled.iter().filter(|&&f| f).count()
    }

    /// Number of bars that came from the source.
    pub fn n_real(&self) -> usize {
        self.len() - self.n_filled()
    }

    /// Share of the grid that is filled (0 for an empty grid).
    pub fn filled_share(&self) -> f64 {
        if self.is_empty() { 0.0 } else { self.n_filled() as f64 / self.len() as f64 }
    }
}

/// Puts `bars` (sorted and unique by construction of [`Bars`]; every open time on an `interval`
/// boundary) on a regular `interval` grid from the first to the last bar. Missing intervals get
/// a filled bar: `open = high = low = close =` the previous bar's close, volume 0, optional
/// volumes and trades 0; `filled = true`. The source bars are kept unchanged (`filled = false`).
///
/// Errors: a bar whose open time is not on an `interval` boundary, or a grid longer than
/// [`MAX_GRID_ROWS`] (select fewer days first: [`last_days`]).
pub fn regularise(bars: &Bars, interval: Interval) -> Result<GridBars> {
    let step = interval.millis();
    let times = bars.open_time();
    if let Some((i, &t)) = times.iter().enumerate().find(|&(_, &t)| !interval.is_aligned(Timestamp(t))) {
        return Err(MarketDataError::InvalidArgument(format!(
            "bar #{i} at {} is not on a {interval} boundary: cannot put it on a {interval} grid (is the interval right?)",
            Timestamp(t)
        )));
    }
    let (Some(&first), Some(&last)) = (times.first(), times.last()) else {
        return Ok(GridBars { bars: bars.clone(), filled: Vec::new(), interval });
    };
    let rows = (last - first) / step + 1;
    if rows > MAX_GRID_ROWS {
        return Err(MarketDataError::InvalidArgument(format!(
            "a {interval} grid from {} to {} would have {rows} bars (more than {MAX_GRID_ROWS}): select fewer days (--days)",
            Timestamp(first),
            Timestamp(last)
        )));
    }
    let rows = rows as usize;
    let c = bars.columns();
    let mut out = BarColumns::with_extras(bars.extras(), rows);
    let mut filled = Vec::with_capacity(rows);
    let mut src = 0;
    for k in 0..rows {
        let t = first + k as i64 * step;
        if src < c.len() && c.open_time[src] == t {
            let b = c.row(src);
            out.open_time.push(t);
            out.open.push(b.open);
            out.high.push(b.high);
            out.low.push(b.low);
            out.close.push(b.close);
            out.volume.push(b.volume);
            if let Some(v) = out.quote_volume.as_mut() {
                v.push(b.quote_volume.unwrap_or(0.0));
            }
            if let Some(v) = out.trades.as_mut() {
                v.push(b.trades.unwrap_or(0));
            }
            if let Some(v) = out.taker_buy_base.as_mut() {
                v.push(b.taker_buy_base.unwrap_or(0.0));
            }
            if let Some(v) = out.taker_buy_quote.as_mut() {
                v.push(b.taker_buy_quote.unwrap_or(0.0));
            }
            filled.push(false);
            src += 1;
        } else {
            // `k > 0` here: the first grid time is the first bar's.
            let p = *out.close.last().expect("the first grid bar is a source bar");
            out.open_time.push(t);
            out.open.push(p);
            out.high.push(p);
            out.low.push(p);
            out.close.push(p);
            out.volume.push(0.0);
            if let Some(v) = out.quote_volume.as_mut() {
                v.push(0.0);
            }
            if let Some(v) = out.trades.as_mut() {
                v.push(0);
            }
            if let Some(v) = out.taker_buy_base.as_mut() {
                v.push(0.0);
            }
            if let Some(v) = out.taker_buy_quote.as_mut() {
                v.push(0.0);
            }
            filled.push(true);
        }
    }
    Ok(GridBars { bars: Bars::from_columns(out)?, filled, interval })
}

/// Resamples a grid to a coarser interval `to` (a whole multiple of the grid's, e.g. 1 s → 5, 10,
/// 15, 30, 60 s) with [`resample`]: UTC-aligned buckets, open of the first bar, high/low the
/// extremes, close of the last, volumes and trades summed. A filled bar contributes its carried
/// close as open/high/low/close and zero volume, so a bucket that starts with empty seconds opens
/// at the previous close. A bucket made only of filled bars is itself filled. Partial buckets at
/// either end are dropped unless `keep_partial` (as in [`resample`]).
pub fn resample_grid(grid: &GridBars, to: Interval, keep_partial: bool) -> Result<GridBars> {
    let bars = resample(&grid.bars, grid.interval, to, keep_partial)?;
    let times = grid.bars.open_time();
    let step = to.millis();
    let filled = bars
        .open_time()
        .iter()
        .map(|&b| {
            let lo = times.partition_point(|&t| t < b);
            let hi = times.partition_point(|&t| t < b + step);
            grid.filled[lo..hi].iter().all(|&f| f)
        })
        .collect();
    Ok(GridBars { bars, filled, interval: to })
}

/// What [`last_days`] kept.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DaysSelection {
    /// Days asked for.
    pub requested_days: u32,
    /// Days the kept bars cover (first open to last close); less than asked when fewer are stored.
    pub covered_days: f64,
    /// Bars kept.
    pub bars: usize,
    /// Whether fewer days than asked were stored.
    pub short: bool,
}

impl DaysSelection {
    /// One line for a report: `"14 days asked, 2.0 days stored: all 172800 bars used"` or
    /// `"the last 14 days: 1209600 bars"`.
    pub fn describe(&self) -> String {
        if self.short {
            format!(
                "{} days asked, only {:.2} days stored: all {} bars used",
                self.requested_days, self.covered_days, self.bars
            )
        } else {
            format!("the last {} days: {} bars", self.requested_days, self.bars)
        }
    }
}

/// The last `days` days of `bars`, counted back from the last bar: the bars whose open time is at
/// or after `last open + interval − days · 24 h` (fewer days when fewer are stored; the
/// [`DaysSelection`] says how many were kept). `days = 0` is an error.
pub fn last_days(bars: &Bars, interval: Interval, days: u32) -> Result<(Bars, DaysSelection)> {
    if days == 0 {
        return Err(MarketDataError::InvalidArgument("--days 0: ask for at least 1 day".into()));
    }
    let Some(&last) = bars.open_time().last() else {
        let sel = DaysSelection { requested_days: days, covered_days: 0.0, bars: 0, short: true };
        return Ok((bars.clone(), sel));
    };
    let from = last + interval.millis() - i64::from(days) * 86_400_000;
    let start = bars.open_time().partition_point(|&t| t < from);
    let kept = bars.slice(start..bars.len());
    let first = kept.open_time()[0];
    let covered_days = (last + interval.millis() - first) as f64 / 86_400_000.0;
    let sel = DaysSelection { requested_days: days, covered_days, bars: kept.len(), short: start == 0 && first > from };
    Ok((kept, sel))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vane_core::Bar;

    #[test]
    fn misaligned_is_an_error() {
        let b = Bars::from_bars(&[Bar::ohlcv(Timestamp(1500), 1.0, 1.0, 1.0, 1.0, 1.0)]).unwrap();
        let e = regularise(&b, Interval::S1).unwrap_err().to_string();
        assert!(e.contains("bar #0") && e.contains("1s boundary"), "{e}");
    }

    #[test]
    fn empty_and_single() {
        let g = regularise(&Bars::default(), Interval::S1).unwrap();
        assert!(g.is_empty() && g.filled.is_empty());
        let b = Bars::from_bars(&[Bar::ohlcv(Timestamp(3000), 1.0, 2.0, 0.5, 1.5, 1.0)]).unwrap();
        let g = regularise(&b, Interval::S1).unwrap();
        assert_eq!((g.len(), g.n_filled()), (1, 0));
    }

    #[test]
    fn too_long_a_grid_is_an_error() {
        let b = Bars::from_bars(&[
            Bar::ohlcv(Timestamp(0), 1.0, 1.0, 1.0, 1.0, 1.0),
            Bar::ohlcv(Timestamp(MAX_GRID_ROWS * 1000), 1.0, 1.0, 1.0, 1.0, 1.0),
        ])
        .unwrap();
        assert!(regularise(&b, Interval::S1).unwrap_err().to_string().contains("--days"));
    }
}
