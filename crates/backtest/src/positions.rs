//! Sparse position decisions → one position per bar.

use std::collections::HashMap;

use vane_core::Timestamp;

use crate::{BacktestError, Result};

/// One position per bar from decisions given only at some bars (`times[i]` → `positions[i]`):
/// a bar without a decision keeps the previous position; before the first decision it is 0.
/// A decision time that is not one of `bar_times` is an error naming it.
pub fn forward_fill(bar_times: &[i64], times: &[i64], positions: &[f64]) -> Result<Vec<f64>> {
    if times.len() != positions.len() {
        return Err(BacktestError::InvalidInput(format!("{} times for {} positions", times.len(), positions.len())));
    }
    if let Some(i) = times.windows(2).position(|w| w[1] <= w[0]) {
        return Err(BacktestError::InvalidInput(format!(
            "decision #{} at open_time_ms {} does not come after decision #{i} at {}: decision times must be strictly increasing",
            i + 1,
            times[i + 1],
            times[i]
        )));
    }
    if let Some(t) = times.iter().find(|t| bar_times.binary_search(t).is_err()) {
        return Err(BacktestError::InvalidInput(format!("open_time_ms {t} ({}) is not a bar", Timestamp(*t))));
    }
    let by_time: HashMap<i64, f64> = times.iter().copied().zip(positions.iter().copied()).collect();
    let mut current = 0.0;
    Ok(bar_times
        .iter()
        .map(|t| {
            if let Some(p) = by_time.get(t) {
                current = *p;
            }
            current
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_decision_and_rejects_unknown_times() {
        assert_eq!(forward_fill(&[1, 2, 3, 4], &[2, 4], &[1.0, -1.0]).unwrap(), vec![0.0, 1.0, 1.0, -1.0]);
        assert!(forward_fill(&[1, 2], &[123], &[1.0]).unwrap_err().to_string().contains("open_time_ms 123"));
        assert!(forward_fill(&[1, 2], &[1], &[]).is_err());
        // Issue 12 case 17: duplicates and disorder used to be accepted, the last one winning.
        let e = forward_fill(&[1, 2, 3], &[2, 2], &[1.0, -1.0]).unwrap_err().to_string();
        assert!(e.contains("decision #1") && e.contains("strictly increasing"), "{e}");
        assert!(forward_fill(&[1, 2, 3], &[3, 1], &[1.0, -1.0]).is_err());
    }
}
