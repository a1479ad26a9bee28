//! Sample weights from label overlap (López de Prado, *Advances in Financial Machine
//! Learning*, ch. 4): average uniqueness and time decay.

use vane_core::Span;

/// Average uniqueness of each label: with `c_i` the number of labels whose span covers bar i,
/// label j's uniqueness is the mean of `1/c_i` over its span. `None` spans get `None`.
pub fn average_uniqueness(spans: &[Option<Span>], n_bars: usize) -> Vec<Option<f64>> {
    // Concurrency by a difference array: +1 at start, −1 after end.
    let mut diff = vec![0i64; n_bars + 1];
    for s in spans.iter().flatten() {
        if s.start < n_bars {
            diff[s.start] += 1;
            diff[(s.end + 1).min(n_bars)] -= 1;
        }
    }
    let mut inv = vec![0.0; n_bars];
    let mut c = 0i64;
    for i in 0..n_bars {
        c += diff[i];
        inv[i] = if c > 0 { 1.0 / c as f64 } else { 0.0 };
    }
    // Prefix sums of 1/c for O(1) window means.
    let mut pre = vec![0.0; n_bars + 1];
    for i in 0..n_bars {
        pre[i + 1] = pre[i] + inv[i];
    }
    spans
        .iter()
        .map(|s| {
            let s = (*s)?;
            let end = s.end.min(n_bars.saturating_sub(1));
            (s.start <= end && s.start < n_bars).then(|| (pre[end + 1] - pre[s.start]) / (end + 1 - s.start) as f64)
        })
        .collect()
}

/// Linear time decay over cumulative uniqueness (López de Prado's `getTimeDecay`): the newest
/// sample weighs 1, the oldest `oldest` (`oldest ∈ [0, 1]`; a negative value in (−1, 0) zeroes
/// the oldest `|oldest|` share). Multiply by the uniqueness to combine. `None` stays `None`.
pub fn time_decay(uniqueness: &[Option<f64>], oldest: f64) -> Vec<Option<f64>> {
    let mut cum = 0.0;
    let cums: Vec<Option<f64>> = uniqueness
        .iter()
        .map(|u| {
            let u = (*u)?;
            cum += u;
            Some(cum)
        })
        .collect();
    let last = cum;
    if last <= 0.0 {
        return uniqueness.iter().map(|u| u.map(|_| 1.0)).collect();
    }
    let slope = if oldest >= 0.0 { (1.0 - oldest) / last } else { 1.0 / ((oldest + 1.0) * last) };
    let konst = 1.0 - slope * last;
    cums.into_iter().map(|c| c.map(|c| (konst + slope * c).max(0.0))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniqueness_by_hand() {
        // Spans [0,2], [1,3], [3,3] over 4 bars: concurrency 1, 2, 2, 2.
        let spans = [Some(Span::new(0, 2)), Some(Span::new(1, 3)), Some(Span::new(3, 3)), None];
        let u = average_uniqueness(&spans, 4);
        assert_eq!(u[0], Some((1.0 + 0.5 + 0.5) / 3.0));
        assert_eq!(u[1], Some((0.5 + 0.5 + 0.5) / 3.0));
        assert_eq!(u[2], Some(0.5));
        assert_eq!(u[3], None);
        // Non-overlapping labels are fully unique.
        let solo = average_uniqueness(&[Some(Span::new(0, 1)), Some(Span::new(2, 3))], 4);
        assert_eq!(solo, vec![Some(1.0), Some(1.0)]);
    }

    #[test]
    fn decay_by_hand() {
        let u = [Some(1.0), Some(1.0), None, Some(2.0)];
        // cum = 1, 2, 4; oldest = 0.5: slope = 0.5/4, const = 0.5.
        let d = time_decay(&u, 0.5);
        assert_eq!(d, vec![Some(0.625), Some(0.75), None, Some(1.0)]);
        // No decay.
        assert_eq!(time_decay(&u, 1.0), vec![Some(1.0), Some(1.0), None, Some(1.0)]);
        // Negative: the oldest half gets 0. slope = 1/(0.5·4) = 0.5, const = −1.
        assert_eq!(time_decay(&u, -0.5), vec![Some(0.0), Some(0.0), None, Some(1.0)]);
    }
}
