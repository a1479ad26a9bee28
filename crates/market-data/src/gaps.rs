//! Gap report of a series of open times: missing bars, duplicates, misaligned and
//! out-of-order times.

use serde::{Deserialize, Serialize};
use vane_core::{Interval, Timestamp};

/// A run of missing bars.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// Open time of the last bar before the gap.
    pub after_open_time_ms: i64,
    /// How many bars of the interval are missing after it.
    pub missing_bars: i64,
}

/// What is wrong with a series' open times, if anything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GapReport {
    /// Runs of missing bars, in time order.
    pub gaps: Vec<Gap>,
    /// Open times equal to the one before.
    pub duplicates: usize,
    /// Open times not on an interval boundary.
    pub misaligned: usize,
    /// Open times earlier than the one before.
    pub out_of_order: usize,
}

impl GapReport {
    /// Total missing bars over all gaps.
    pub fn missing_bars(&self) -> i64 {
        self.gaps.iter().map(|g| g.missing_bars).sum()
    }

    /// Whether the series is complete and clean.
    pub fn is_clean(&self) -> bool {
        self.gaps.is_empty() && self.duplicates == 0 && self.misaligned == 0 && self.out_of_order == 0
    }
}

/// Checks `open_times` (ms) against `interval`. A step of `d` ms between consecutive times
/// (d > interval) is a gap of `ceil(d / interval) − 1` missing bars.
pub fn gap_report(open_times: &[i64], interval: Interval) -> GapReport {
    let step = interval.millis();
    let mut r = GapReport {
        misaligned: open_times.iter().filter(|&&t| !interval.is_aligned(Timestamp(t))).count(),
        ..GapReport::default()
    };
    for w in open_times.windows(2) {
        let d = w[1] - w[0];
        if d == 0 {
            r.duplicates += 1;
        } else if d < 0 {
            r.out_of_order += 1;
        } else if d > step {
            r.gaps.push(Gap { after_open_time_ms: w[0], missing_bars: (d + step - 1) / step - 1 });
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_problem() {
        let h = 3_600_000;
        let t = [0, h, 4 * h, 4 * h, 5 * h, 3 * h, 3 * h + 5, 9 * h];
        let r = gap_report(&t, Interval::H1);
        assert_eq!(
            r.gaps,
            vec![
                Gap { after_open_time_ms: h, missing_bars: 2 },
                Gap { after_open_time_ms: 3 * h + 5, missing_bars: 5 }
            ]
        );
        assert_eq!((r.duplicates, r.misaligned, r.out_of_order), (1, 1, 1));
        assert_eq!(r.missing_bars(), 7);
        assert!(!r.is_clean());
        assert!(gap_report(&[0, h, 2 * h], Interval::H1).is_clean());
        assert!(gap_report(&[], Interval::H1).is_clean());
    }
}
