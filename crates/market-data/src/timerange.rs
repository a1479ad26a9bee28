//! The range of open times that market data from outside may have: from 2009-01-01 (before any
//! crypto exchange) to one day after "now". Checked where outside data comes in — CSV import,
//! downloads — and not inside [`vane_core::Bars`], which tests build with 1970-era times.

use vane_core::{DAY_MS, Timestamp};

/// 2009-01-01T00:00:00Z: no market data is older.
pub const EARLIEST_OPEN_TIME: Timestamp = Timestamp(1_230_768_000_000);

/// The accepted open times, `[EARLIEST_OPEN_TIME, now + 1 day]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    /// The earliest accepted open time.
    pub earliest: Timestamp,
    /// The latest accepted open time.
    pub latest: Timestamp,
}

impl TimeRange {
    /// The range for a clock reading `now`.
    pub fn at(now: Timestamp) -> Self {
        Self { earliest: EARLIEST_OPEN_TIME, latest: now.add_millis(DAY_MS) }
    }

    /// The range for the wall clock.
    pub fn now() -> Self {
        Self::at(Timestamp::now())
    }

    /// Whether `t` is inside.
    pub fn contains(&self, t: Timestamp) -> bool {
        t >= self.earliest && t <= self.latest
    }

    /// `None` when `t` is inside; else what is wrong, with a hint when the value looks like
    /// seconds, microseconds or nanoseconds instead of milliseconds.
    pub fn problem(&self, t: Timestamp) -> Option<String> {
        if self.contains(t) {
            return None;
        }
        let mut s = format!(
            "open time {} ({}) is outside the range of market data ({} … {})",
            t.0,
            year_of(t),
            date_of(self.earliest),
            date_of(self.latest)
        );
        if let Some(unit) = self.likely_unit(t) {
            s.push_str(&format!("; it looks like {unit}: open times are milliseconds since 1970-01-01 UTC"));
        } else {
            s.push_str("; open times are milliseconds since 1970-01-01 UTC");
        }
        Some(s)
    }

    fn likely_unit(&self, t: Timestamp) -> Option<&'static str> {
        for (factor, unit) in [(1_000i64, "microseconds"), (1_000_000, "nanoseconds")] {
            if self.contains(Timestamp(t.0 / factor)) {
                return Some(unit);
            }
        }
        if let Some(ms) = t.0.checked_mul(1000)
            && self.contains(Timestamp(ms))
        {
            return Some("seconds");
        }
        None
    }
}

fn year_of(t: Timestamp) -> String {
    match t.0.checked_abs() {
        Some(a) if a < 100_000_000_000_000_000 => format!("year {}", t.to_parts().0),
        _ => "millions of years from 1970".into(),
    }
}

fn date_of(t: Timestamp) -> String {
    let (y, m, d, ..) = t.to_parts();
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_at_the_unit() {
        let now = Timestamp(1_764_000_000_000);
        let r = TimeRange::at(now);
        assert!(r.problem(Timestamp(1_704_067_200_000)).is_none());
        let e = r.problem(Timestamp(1_704_067_200_000_000)).unwrap();
        assert!(e.contains("1704067200000000") && e.contains("microseconds"), "{e}");
        assert!(r.problem(Timestamp(1_704_067_200)).unwrap().contains("seconds"));
        assert!(r.problem(Timestamp(1_704_067_200_000_000_000)).unwrap().contains("nanoseconds"));
        assert!(r.problem(Timestamp(0)).unwrap().contains("2009-01-01"));
        assert!(r.problem(Timestamp(i64::MAX)).is_some());
        assert!(r.problem(Timestamp(i64::MIN)).is_some());
        assert!(r.problem(now.add_millis(2 * DAY_MS)).is_some());
    }
}
