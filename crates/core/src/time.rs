//! [`Timestamp`]: milliseconds since the Unix epoch, UTC.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

/// Milliseconds since 1970-01-01T00:00:00Z. Bars are keyed by their **open** time.
///
/// Serialises as the plain integer (the exchanges' and the fixtures' convention); prints as
/// RFC 3339 UTC (`2023-01-01T00:00:00Z`, with `.mmm` only when the milliseconds are non-zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// Milliseconds in one day.
pub const DAY_MS: i64 = 86_400_000;

impl Timestamp {
    /// The timestamp `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the epoch.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// The current wall-clock time.
    pub fn now() -> Self {
        let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Self(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }

    /// Midnight UTC of a calendar date.
    pub fn from_ymd(year: i64, month: u32, day: u32) -> Result<Self> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(CoreError::InvalidTimestamp(format!("{year:04}-{month:02}-{day:02}")));
        }
        Ok(Self(days_from_civil(year, month, day) * DAY_MS))
    }

    /// The (year, month, day, hour, minute, second, millisecond) of this instant in UTC.
    pub fn to_parts(self) -> (i64, u32, u32, u32, u32, u32, u32) {
        let days = self.0.div_euclid(DAY_MS);
        let rem = self.0.rem_euclid(DAY_MS);
        let (y, m, d) = civil_from_days(days);
        let ms = (rem % 1000) as u32;
        let s = (rem / 1000) as u32;
        (y, m, d, s / 3600, (s / 60) % 60, s % 60, ms)
    }

    /// `self + ms` milliseconds, saturating.
    pub const fn add_millis(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s, ms) = self.to_parts();
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")?;
        if ms != 0 {
            write!(f, ".{ms:03}")?;
        }
        f.write_str("Z")
    }
}

impl FromStr for Timestamp {
    type Err = CoreError;

    /// Accepts integer milliseconds, `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM[:SS[.mmm]]` with an
    /// optional trailing `Z` (always read as UTC).
    fn from_str(s: &str) -> Result<Self> {
        let bad = || CoreError::InvalidTimestamp(s.to_string());
        let t = s.trim();
        if !t.is_empty() && t.bytes().enumerate().all(|(i, b)| b.is_ascii_digit() || (i == 0 && b == b'-')) {
            return t.parse::<i64>().map(Self).map_err(|_| bad());
        }
        let t = t.strip_suffix('Z').unwrap_or(t);
        let (date, time) = match t.split_once(['T', ' ']) {
            Some((d, tm)) => (d, Some(tm)),
            None => (t, None),
        };
        let num = |p: &str, len: usize| -> Result<i64> {
            if p.len() != len || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            p.parse::<i64>().map_err(|_| bad())
        };
        let mut dp = date.split('-');
        let (Some(y), Some(m), Some(d), None) = (dp.next(), dp.next(), dp.next(), dp.next()) else {
            return Err(bad());
        };
        let day = Self::from_ymd(num(y, 4)?, num(m, 2)? as u32, num(d, 2)? as u32).map_err(|_| bad())?;
        let Some(time) = time else { return Ok(day) };
        let (hms, frac) = match time.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (time, None),
        };
        let mut tp = hms.split(':');
        let h = num(tp.next().ok_or_else(bad)?, 2)?;
        let mi = num(tp.next().ok_or_else(bad)?, 2)?;
        let sec = match tp.next() {
            Some(p) => num(p, 2)?,
            None => 0,
        };
        if tp.next().is_some() || h > 23 || mi > 59 || sec > 59 {
            return Err(bad());
        }
        let ms = match frac {
            Some(f) => num(f, 3)?,
            None => 0,
        };
        Ok(Self(day.0 + ((h * 60 + mi) * 60 + sec) * 1000 + ms))
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_instants() {
        // 2023-01-01T00:00:00Z is the first bar of the BTCUSDT_4h fixture.
        assert_eq!(Timestamp::from_ymd(2023, 1, 1).unwrap().0, 1_672_531_200_000);
        assert_eq!(Timestamp(1_672_531_200_000).to_string(), "2023-01-01T00:00:00Z");
        assert_eq!(Timestamp(1_736_122_499_999).to_string(), "2025-01-06T00:14:59.999Z");
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp(-1).to_string(), "1969-12-31T23:59:59.999Z");
        assert_eq!(Timestamp::from_ymd(2024, 2, 29).unwrap().to_string(), "2024-02-29T00:00:00Z");
    }

    #[test]
    fn parses_all_forms() {
        let p = |s: &str| s.parse::<Timestamp>().unwrap().0;
        assert_eq!(p("1672531200000"), 1_672_531_200_000);
        assert_eq!(p("2023-01-01"), 1_672_531_200_000);
        assert_eq!(p("2023-01-01T04:00Z"), 1_672_545_600_000);
        assert_eq!(p("2023-01-01T04:00:00"), 1_672_545_600_000);
        assert_eq!(p("2023-01-01 04:00:01.250Z"), 1_672_545_601_250);
        assert_eq!(p("-5"), -5);
    }

    #[test]
    fn rejects_garbage() {
        for s in
            ["", "2023-13-01", "2023-02-29", "2023-1-1", "2023-01-01T24:00", "abc", "2023-01-01T01:02:03:04", "1.5"]
        {
            assert!(matches!(s.parse::<Timestamp>(), Err(CoreError::InvalidTimestamp(_))), "{s:?} accepted");
        }
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(ms in -62_135_596_800_000i64..253_402_300_799_999) {
            let t = Timestamp(ms);
            prop_assert_eq!(t.to_string().parse::<Timestamp>().unwrap(), t);
        }
    }
}
