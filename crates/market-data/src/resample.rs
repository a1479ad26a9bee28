//! Resampling to a coarser interval: OHLCV aggregation over UTC-aligned buckets.

use vane_core::{BarColumns, Bars, Interval, Timestamp};

use crate::error::{MarketDataError, Result};

/// Aggregates `bars` of interval `from` into bars of interval `to` (a whole multiple of
/// `from`). A bucket opens at a UTC multiple of `to`; its open is the first bar's open, high the
/// maximum, low the minimum, close the last bar's close, and the volumes (and trade counts) are
/// sums.
///
/// A bucket at either end of the data that the data does not cover completely (the series
/// starts after the bucket's first sub-bar, or ends before its last one — the still-forming
/// trailing bucket) is dropped unless `keep_partial`. Buckets inside the series are always kept;
/// a gap inside one simply contributes no bars.
pub fn resample(bars: &Bars, from: Interval, to: Interval, keep_partial: bool) -> Result<Bars> {
    if !to.is_multiple_of(from) {
        return Err(MarketDataError::InvalidArgument(format!(
            "cannot resample {from} to {to}: the target must be a whole multiple of the source, and longer"
        )));
    }
    if let Some(&t) = bars.open_time().iter().find(|&&t| !from.is_aligned(Timestamp(t))) {
        return Err(MarketDataError::InvalidArgument(format!("bar at {} is not aligned to {from}", Timestamp(t))));
    }
    let c = bars.columns();
    let n = c.len();
    let mut out = BarColumns::with_extras(bars.extras(), n / (to.millis() / from.millis()) as usize + 2);
    let mut i = 0;
    while i < n {
        let bucket = to.align_down(Timestamp(c.open_time[i])).0;
        let Some(end) = bucket.checked_add(to.millis()) else {
            return Err(vane_core::CoreError::InvalidBar {
                index: i,
                open_time: Timestamp(c.open_time[i]),
                reason: format!(
                    "open_time_ms {} is too far in the future to resample to {to} (its bucket would end past the largest time vane can represent); is the open time in the wrong unit?",
                    c.open_time[i]
                ),
            }
            .into());
        };
        let mut j = i;
        while j < n && c.open_time[j] < end {
            j += 1;
        }
        let first_complete = c.open_time[i] == bucket;
        let last_complete = c.open_time[j - 1] == end - from.millis();
        let at_edge_partial = (i == 0 && !first_complete) || (j == n && !last_complete);
        if keep_partial || !at_edge_partial {
            let r = i..j;
            out.open_time.push(bucket);
            out.open.push(c.open[i]);
            out.high.push(c.high[r.clone()].iter().copied().fold(f64::NEG_INFINITY, f64::max));
            out.low.push(c.low[r.clone()].iter().copied().fold(f64::INFINITY, f64::min));
            out.close.push(c.close[j - 1]);
            out.volume.push(c.volume[r.clone()].iter().sum());
            let sum = |v: &Vec<f64>| v[r.clone()].iter().sum::<f64>();
            if let (Some(o), Some(v)) = (out.quote_volume.as_mut(), c.quote_volume.as_ref()) {
                o.push(sum(v));
            }
            if let (Some(o), Some(v)) = (out.trades.as_mut(), c.trades.as_ref()) {
                o.push(v[r.clone()].iter().sum());
            }
            if let (Some(o), Some(v)) = (out.taker_buy_base.as_mut(), c.taker_buy_base.as_ref()) {
                o.push(sum(v));
            }
            if let (Some(o), Some(v)) = (out.taker_buy_quote.as_mut(), c.taker_buy_quote.as_ref()) {
                o.push(sum(v));
            }
        }
        i = j;
    }
    Ok(Bars::from_columns(out)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vane_core::Bar;

    fn m1(minutes: &[i64]) -> Bars {
        Bars::from_bars(
            &minutes
                .iter()
                .map(|&m| {
                    let p = 100.0 + m as f64;
                    Bar {
                        trades: Some(m as u64),
                        ..Bar::ohlcv(Timestamp(m * 60_000), p, p + 0.5, p - 0.5, p + 0.25, 1.0)
                    }
                })
                .collect::<Vec<_>>(),
        )
        .unwrap()
    }

    #[test]
    fn aggregates_by_hand() {
        // Minutes 3..=11 at 3m: buckets 3 (3,4,5), 6 (6,7,8), 9 (9,10,11).
        let b = resample(&m1(&(3..12).collect::<Vec<_>>()), Interval::M1, Interval::M3, false).unwrap();
        assert_eq!(b.open_time(), &[180_000, 360_000, 540_000]);
        assert_eq!(b.open(), &[103.0, 106.0, 109.0]);
        assert_eq!(b.high(), &[105.5, 108.5, 111.5]);
        assert_eq!(b.low(), &[102.5, 105.5, 108.5]);
        assert_eq!(b.close(), &[105.25, 108.25, 111.25]);
        assert_eq!(b.volume(), &[3.0, 3.0, 3.0]);
        assert_eq!(b.columns().trades.as_deref(), Some(&[12u64, 21, 30][..]));
    }

    #[test]
    fn partial_edges_dropped_unless_asked() {
        let data = m1(&[1, 2, 3, 4, 5, 6, 7]);
        let b = resample(&data, Interval::M1, Interval::M3, false).unwrap();
        assert_eq!(b.open_time(), &[180_000]);
        let b = resample(&data, Interval::M1, Interval::M3, true).unwrap();
        assert_eq!(b.open_time(), &[0, 180_000, 360_000]);
        assert_eq!(b.open(), &[101.0, 103.0, 106.0]);
        assert_eq!(b.volume(), &[2.0, 3.0, 2.0]);
    }

    #[test]
    fn inner_gaps_keep_their_bucket() {
        let b = resample(&m1(&[0, 1, 2, 3, 5, 6, 7, 8]), Interval::M1, Interval::M3, false).unwrap();
        assert_eq!(b.open_time(), &[0, 180_000, 360_000]);
        assert_eq!(b.volume(), &[3.0, 2.0, 3.0]);
    }

    #[test]
    fn far_future_bar_is_an_error_not_a_panic_or_a_hang() {
        // Issue 12 cases 1 and 4: the bucket end of a bar near i64::MAX used to overflow.
        let far = 9_223_372_036_843_200_000;
        let bars = Bars::from_bars(&[
            Bar::ohlcv(Timestamp(far - 4 * 3_600_000), 100.0, 110.0, 90.0, 105.0, 1.0),
            Bar::ohlcv(Timestamp(far), 100.0, 110.0, 90.0, 105.0, 1.0),
        ])
        .unwrap();
        let e = resample(&bars, Interval::H4, Interval::D1, false).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("too far in the future") && msg.contains("bar #0"), "{msg}");
    }

    #[test]
    fn rejects_bad_targets() {
        let d = m1(&[0, 1]);
        for to in [Interval::M1, Interval::S30] {
            assert!(resample(&d, Interval::M1, to, false).unwrap_err().to_string().contains("whole multiple"));
        }
        assert!(
            resample(&d, Interval::M3, Interval::M15, false).unwrap_err().to_string().contains("not aligned to 3m")
        );
    }

    #[test]
    fn one_second_to_seed_000_horizons() {
        let secs: Vec<Bar> = (0..360).map(|s| Bar::ohlcv(Timestamp(s * 1000), 10.0, 10.0, 10.0, 10.0, 1.0)).collect();
        let b = Bars::from_bars(&secs).unwrap();
        for (to, n) in [
            (Interval::S5, 72),
            (Interval::S10, 36),
            (Interval::S15, 24),
            (Interval::S30, 12),
            (Interval::M1, 6),
            (Interval::M3, 2),
        ] {
            let r = resample(&b, Interval::S1, to, false).unwrap();
            assert_eq!(r.len(), n, "{to}");
            assert!(r.volume().iter().all(|&v| v == (to.millis() / 1000) as f64));
        }
    }
}
