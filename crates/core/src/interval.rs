//! [`Interval`]: the bar lengths vane works with, spelled as the exchanges spell them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::time::{DAY_MS, Timestamp};

/// A bar length. All intervals are aligned to UTC multiples of their length since the epoch
/// (a `1d` bar opens at 00:00 UTC), as on Binance and Bybit.
///
/// `1s`…`30s` beyond Binance's `1s` exist for resampling 1-second data (seed 000's 5s–30s
/// horizons); exchanges are only asked for the intervals they list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Interval {
    /// 1 second.
    S1,
    /// 5 seconds.
    S5,
    /// 10 seconds.
    S10,
    /// 15 seconds.
    S15,
    /// 30 seconds.
    S30,
    /// 1 minute.
    M1,
    /// 3 minutes.
    M3,
    /// 5 minutes.
    M5,
    /// 15 minutes.
    M15,
    /// 30 minutes.
    M30,
    /// 1 hour.
    H1,
    /// 2 hours.
    H2,
    /// 4 hours.
    H4,
    /// 6 hours.
    H6,
    /// 8 hours.
    H8,
    /// 12 hours.
    H12,
    /// 1 day.
    D1,
}

const TABLE: [(Interval, &str, i64); 17] = [
    (Interval::S1, "1s", 1_000),
    (Interval::S5, "5s", 5_000),
    (Interval::S10, "10s", 10_000),
    (Interval::S15, "15s", 15_000),
    (Interval::S30, "30s", 30_000),
    (Interval::M1, "1m", 60_000),
    (Interval::M3, "3m", 180_000),
    (Interval::M5, "5m", 300_000),
    (Interval::M15, "15m", 900_000),
    (Interval::M30, "30m", 1_800_000),
    (Interval::H1, "1h", 3_600_000),
    (Interval::H2, "2h", 7_200_000),
    (Interval::H4, "4h", 14_400_000),
    (Interval::H6, "6h", 21_600_000),
    (Interval::H8, "8h", 28_800_000),
    (Interval::H12, "12h", 43_200_000),
    (Interval::D1, "1d", DAY_MS),
];

impl Interval {
    /// Every interval, shortest first.
    pub const ALL: [Interval; 17] = {
        let mut all = [Interval::S1; 17];
        let mut i = 0;
        while i < 17 {
            all[i] = TABLE[i].0;
            i += 1;
        }
        all
    };

    /// The accepted spellings, for error messages.
    pub const ALL_SPELLINGS: &'static str = "1s 5s 10s 15s 30s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d";

    fn row(self) -> &'static (Interval, &'static str, i64) {
        &TABLE[self as usize]
    }

    /// The exchange spelling (`"4h"`).
    pub fn as_str(self) -> &'static str {
        self.row().1
    }

    /// Length in milliseconds.
    pub fn millis(self) -> i64 {
        self.row().2
    }

    /// The interval of exactly `ms` milliseconds, if vane knows one.
    pub fn from_millis(ms: i64) -> Option<Self> {
        TABLE.iter().find(|r| r.2 == ms).map(|r| r.0)
    }

    /// The interval of a series of ascending open times: the smallest step between two of them,
    /// when it is an interval vane knows (`None` for fewer than two times or an unknown step).
    pub fn infer(open_times: &[i64]) -> Option<Self> {
        let step = open_times.windows(2).filter_map(|w| w[1].checked_sub(w[0])).min()?;
        Self::from_millis(step)
    }

    /// Whether `t` is the open time of a bar of this interval (a UTC multiple of its length).
    pub fn is_aligned(self, t: Timestamp) -> bool {
        t.0.rem_euclid(self.millis()) == 0
    }

    /// The open time of the bar of this interval that contains `t`.
    pub fn align_down(self, t: Timestamp) -> Timestamp {
        Timestamp(t.0 - t.0.rem_euclid(self.millis()))
    }

    /// The first open time at or after `t`.
    pub fn align_up(self, t: Timestamp) -> Timestamp {
        let down = self.align_down(t);
        if down == t { t } else { down.add_millis(self.millis()) }
    }

    /// The close time of the bar opening at `open`, in the exchanges' convention
    /// (`open + length − 1` ms).
    pub fn close_time(self, open: Timestamp) -> Timestamp {
        open.add_millis(self.millis() - 1)
    }

    /// Whether bars of this interval can be built from whole bars of `finer`.
    pub fn is_multiple_of(self, finer: Interval) -> bool {
        self.millis() > finer.millis() && self.millis() % finer.millis() == 0
    }

    /// Bars per year in a 24/7 market (365 days): `4h` → 2190.
    pub fn periods_per_year(self) -> f64 {
        365.0 * DAY_MS as f64 / self.millis() as f64
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Interval {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self> {
        TABLE.iter().find(|r| r.1 == s).map(|r| r.0).ok_or_else(|| CoreError::InvalidInterval(s.to_string()))
    }
}

impl Serialize for Interval {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infer_takes_the_smallest_known_step() {
        let h = 3_600_000;
        assert_eq!(Interval::infer(&[0, h, 3 * h, 4 * h]), Some(Interval::H1));
        assert_eq!(Interval::infer(&[0]), None);
        assert_eq!(Interval::infer(&[0, 7]), None);
    }

    #[test]
    fn table_is_in_enum_order() {
        for (i, row) in TABLE.iter().enumerate() {
            assert_eq!(row.0 as usize, i);
            assert_eq!(row.1.parse::<Interval>().unwrap(), row.0);
            assert_eq!(Interval::from_millis(row.2), Some(row.0));
        }
        assert_eq!(Interval::ALL_SPELLINGS.split(' ').count(), TABLE.len());
    }

    #[test]
    fn lengths_and_alignment() {
        assert_eq!(Interval::H4.millis(), 4 * 3_600_000);
        assert_eq!(Interval::H4.periods_per_year(), 2190.0);
        assert_eq!(Interval::M15.periods_per_year(), 35040.0);
        let t = Timestamp(1_672_531_200_000); // 2023-01-01T00:00Z
        assert!(Interval::D1.is_aligned(t) && Interval::H4.is_aligned(t));
        assert!(!Interval::H4.is_aligned(t.add_millis(3_600_000)));
        assert_eq!(Interval::H4.align_down(t.add_millis(3_600_000)), t);
        assert_eq!(Interval::H4.align_up(t.add_millis(1)), t.add_millis(14_400_000));
        assert_eq!(Interval::H4.align_up(t), t);
        assert_eq!(Interval::H4.close_time(t).0, 1_672_545_599_999);
        // Negative times align too (euclidean remainder).
        assert_eq!(Interval::M1.align_down(Timestamp(-1)), Timestamp(-60_000));
    }

    #[test]
    fn multiples() {
        assert!(Interval::M15.is_multiple_of(Interval::M1));
        assert!(Interval::H4.is_multiple_of(Interval::H1));
        assert!(Interval::M3.is_multiple_of(Interval::S1));
        assert!(!Interval::M15.is_multiple_of(Interval::M15));
        assert!(!Interval::M1.is_multiple_of(Interval::M15));
        assert!(Interval::H8.is_multiple_of(Interval::M3));
        assert!(!Interval::M5.is_multiple_of(Interval::M3));
    }

    #[test]
    fn bad_spelling_is_a_clear_error() {
        let e = "4H".parse::<Interval>().unwrap_err();
        assert_eq!(e, CoreError::InvalidInterval("4H".into()));
        assert!(e.to_string().contains("1s 5s 10s"), "{e}");
        assert!("".parse::<Interval>().is_err());
        assert!("240".parse::<Interval>().is_err());
    }

    #[test]
    fn serde_uses_exchange_spelling() {
        assert_eq!(serde_json::to_string(&Interval::H4).unwrap(), "\"4h\"");
        assert_eq!(serde_json::from_str::<Interval>("\"15m\"").unwrap(), Interval::M15);
        assert!(serde_json::from_str::<Interval>("\"7m\"").is_err());
    }
}
