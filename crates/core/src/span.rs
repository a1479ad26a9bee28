//! [`Span`]: an inclusive range of bar positions, e.g. the bars a label looks at.

use serde::{Deserialize, Serialize};

/// Bars `start..=end` of a series (positions, inclusive). Every label carries the span it looks
/// at — `[t, t_end]` — so splitters can purge training samples whose span reaches a test window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    /// First bar position.
    pub start: usize,
    /// Last bar position (inclusive).
    pub end: usize,
}

impl Span {
    /// `start..=end`; `end` is raised to `start` if smaller.
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end: end.max(start) }
    }

    /// Number of bars covered.
    pub fn len(&self) -> usize {
        self.end - self.start + 1
    }

    /// Always false: a span covers at least one bar.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Whether the two spans share a bar.
    pub fn overlaps(&self, other: &Span) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    /// Whether bar position `i` is covered.
    pub fn contains(&self, i: usize) -> bool {
        self.start <= i && i <= self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_rules() {
        let a = Span::new(2, 5);
        assert!(a.overlaps(&Span::new(5, 9)) && a.overlaps(&Span::new(0, 2)) && a.overlaps(&Span::new(3, 3)));
        assert!(!a.overlaps(&Span::new(6, 9)) && !a.overlaps(&Span::new(0, 1)));
        assert_eq!(a.len(), 4);
        assert_eq!(Span::new(4, 1), Span::new(4, 4));
        assert!(a.contains(5) && !a.contains(6));
    }
}
