//! Splitters. Every fold's training part excludes the samples whose label span overlaps the
//! test window (purging) and, where the training data lies after the test window, the samples
//! starting within `embargo` bars after it.

use std::ops::Range;

use serde::Serialize;
use vane_core::{DAY_MS, Span};

use crate::error::{Result, ValidationError, param};

/// One split: sample positions to train on, and the test window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fold {
    /// Training samples, as sorted disjoint ranges.
    pub train: Vec<Range<usize>>,
    /// Test samples (one window; CPCV folds use [`CpcvSplit`]).
    pub test: Range<usize>,
}

impl Fold {
    /// Training sample positions in order.
    pub fn train_indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.train.iter().flat_map(|r| r.clone())
    }

    /// Number of training samples.
    pub fn train_len(&self) -> usize {
        self.train.iter().map(|r| r.len()).sum()
    }
}

/// Spans `[t, t + horizon]` (clipped to the series) for a fixed label horizon.
pub fn horizon_spans(n: usize, horizon: usize) -> Vec<Span> {
    (0..n).map(|t| Span::new(t, t.saturating_add(horizon).min(n.saturating_sub(1)))).collect()
}

/// The kept positions of `candidates` as sorted disjoint ranges.
fn ranges(kept: impl Iterator<Item = usize>) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    for i in kept {
        match out.last_mut() {
            Some(r) if r.end == i => r.end += 1,
            _ => out.push(i..i + 1),
        }
    }
    out
}

/// Training samples of `candidates` that neither overlap any `tests` window nor start within
/// `embargo` bars after one.
fn purge(candidates: Range<usize>, spans: &[Span], tests: &[Range<usize>], embargo: usize) -> Vec<Range<usize>> {
    ranges(candidates.filter(|&i| {
        let s = spans[i];
        tests.iter().all(|t| {
            let overlaps = !t.is_empty() && s.start < t.end && s.end >= t.start;
            let embargoed = i >= t.end && i < t.end + embargo;
            !overlaps && !embargoed && !t.contains(&i)
        })
    }))
}

fn check_spans(spans: &[Span], n: usize) -> Result<()> {
    if spans.len() != n {
        return Err(ValidationError::InvalidInput(format!("{} label spans for {n} samples", spans.len())));
    }
    if let Some((i, s)) = spans.iter().enumerate().find(|(i, s)| s.start != *i) {
        return Err(ValidationError::InvalidInput(format!(
            "sample {i} has a label span starting at {}; spans must start at their sample",
            s.start
        )));
    }
    Ok(())
}

/// Units of the walk-forward window sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowUnit {
    /// Sizes are numbers of bars.
    Bars,
    /// Sizes are days of open time (seed 003: `--window-size 30 --test-size 7`).
    Days,
}

/// Walk-forward splitter: a training window (rolling or expanding) followed, after `gap` bars,
/// by a test window; the pair advances by `step`. Training samples whose label span reaches into
/// the test window are purged. Only full test windows are produced.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct WalkForward {
    /// Unit of `train`, `test` and `step`.
    pub unit: WindowUnit,
    /// Training window size (the initial size when expanding).
    pub train: usize,
    /// Test window size.
    pub test: usize,
    /// Advance per fold (usually = `test`).
    pub step: usize,
    /// Expanding (all history) instead of rolling training windows.
    pub expanding: bool,
    /// Bars left out between the training and the test window (seed 001's gap).
    pub gap: usize,
}

impl WalkForward {
    /// A rolling splitter in bars with `step = test` and no gap.
    pub fn bars(train: usize, test: usize) -> Self {
        Self { unit: WindowUnit::Bars, train, test, step: test, expanding: false, gap: 0 }
    }

    /// The folds over samples with these open times (ms) and label spans.
    pub fn folds(&self, open_time: &[i64], spans: &[Span]) -> Result<Vec<Fold>> {
        let n = open_time.len();
        check_spans(spans, n)?;
        param("walk-forward", self.train >= 1 && self.test >= 1 && self.step >= 1, || {
            format!("train = {}, test = {}, step = {} must all be ≥ 1", self.train, self.test, self.step)
        })?;
        // Window boundaries as sample positions.
        let windows: Vec<(usize, Range<usize>)> = match self.unit {
            WindowUnit::Bars => {
                let mut out = Vec::new();
                let mut ts = self.train;
                while ts + self.test <= n {
                    let train_start = if self.expanding { 0 } else { ts - self.train };
                    out.push((train_start, ts..ts + self.test));
                    ts += self.step;
                }
                out
            }
            WindowUnit::Days => {
                let Some(&t0) = open_time.first() else { return Ok(Vec::new()) };
                let last = *open_time.last().expect("non-empty");
                let pos = |t: i64| open_time.partition_point(|&x| x < t);
                let day = |d: usize| d as i64 * DAY_MS;
                let mut out = Vec::new();
                let mut ts = t0 + day(self.train);
                while ts + day(self.test) <= last + 1 {
                    let train_start = if self.expanding { 0 } else { pos(ts - day(self.train)) };
                    out.push((train_start, pos(ts)..pos(ts + day(self.test))));
                    ts += day(self.step);
                }
                out
            }
        };
        Ok(windows
            .into_iter()
            .filter(|(_, test)| !test.is_empty())
            .map(|(train_start, test)| {
                let train_end = test.start.saturating_sub(self.gap).max(train_start);
                Fold { train: purge(train_start..train_end, spans, std::slice::from_ref(&test), 0), test }
            })
            .collect())
    }
}

/// Purged k-fold with embargo (López de Prado): k contiguous test folds (sizes as NumPy's
/// `array_split`); each fold trains on every other sample except those whose span overlaps the
/// test fold and those starting within `embargo` bars after it. For out-of-fold predictions
/// (seed 000 `--oof-splits 5`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PurgedKFold {
    /// Number of folds (≥ 2).
    pub k: usize,
    /// Bars embargoed after each test fold.
    pub embargo: usize,
}

/// `k` contiguous groups of `0..n`, the first `n % k` one longer.
fn groups(n: usize, k: usize) -> Vec<Range<usize>> {
    let (base, extra) = (n / k, n % k);
    let mut start = 0;
    (0..k)
        .map(|g| {
            let len = base + usize::from(g < extra);
            let r = start..start + len;
            start += len;
            r
        })
        .collect()
}

impl PurgedKFold {
    /// The folds over `spans.len()` samples.
    pub fn folds(&self, spans: &[Span]) -> Result<Vec<Fold>> {
        let n = spans.len();
        check_spans(spans, n)?;
        param("purged k-fold", self.k >= 2 && self.k <= n, || format!("k = {} must be in 2..={n}", self.k))?;
        Ok(groups(n, self.k)
            .into_iter()
            .map(|test| Fold { train: purge(0..n, spans, std::slice::from_ref(&test), self.embargo), test })
            .collect())
    }
}

/// Combinatorial purged cross-validation (López de Prado, ch. 12): `n_groups` contiguous groups,
/// every choice of `k_test` of them as the test set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Cpcv {
    /// Number of groups N (≥ 2).
    pub n_groups: usize,
    /// Test groups per split k (1 ≤ k < N).
    pub k_test: usize,
    /// Bars embargoed after each test group.
    pub embargo: usize,
}

/// One CPCV split.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CpcvSplit {
    /// The test groups, ascending.
    pub test_groups: Vec<usize>,
    /// Test sample ranges (one per test group).
    pub test: Vec<Range<usize>>,
    /// Training samples after purging and embargo.
    pub train: Vec<Range<usize>>,
}

/// All CPCV splits and the backtest paths they make.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CpcvPlan {
    /// The group ranges.
    pub groups: Vec<Range<usize>>,
    /// The C(N, k) splits, in lexicographic order of their test groups.
    pub splits: Vec<CpcvSplit>,
    /// φ = k·C(N, k)/N paths; `paths[p][g]` is the split whose predictions fill group g on path p
    /// (the p-th split, in order, that tests group g).
    pub paths: Vec<Vec<usize>>,
}

/// C(n, k), or `None` past `u64::MAX`.
pub fn binomial(n: usize, k: usize) -> Option<u64> {
    if k > n {
        return Some(0);
    }
    let k = k.min(n - k) as u128;
    let mut c: u128 = 1;
    for i in 0..k {
        // c · (n − i) / (i + 1) stays an integer at every step.
        c = c.checked_mul(n as u128 - i)? / (i + 1);
        if c > u64::MAX as u128 {
            return None;
        }
    }
    Some(c as u64)
}

fn combinations(n: usize, k: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut c: Vec<usize> = (0..k).collect();
    loop {
        out.push(c.clone());
        let mut i = k;
        while i > 0 && c[i - 1] == n - k + i - 1 {
            i -= 1;
        }
        if i == 0 {
            return out;
        }
        c[i - 1] += 1;
        for j in i..k {
            c[j] = c[j - 1] + 1;
        }
    }
}

impl Cpcv {
    /// The most splits [`Cpcv::plan`] builds: C(N, k) grows so fast (C(24, 12) = 2,704,156,
    /// C(60, 30) ≈ 1.2·10¹⁷) that a plan past this would exhaust memory or never finish.
    pub const MAX_SPLITS: u64 = 100_000;

    /// The plan over `spans.len()` samples. Fails, saying the count, when C(N, k) exceeds
    /// [`Cpcv::MAX_SPLITS`].
    pub fn plan(&self, spans: &[Span]) -> Result<CpcvPlan> {
        let n = spans.len();
        check_spans(spans, n)?;
        param("CPCV", self.n_groups >= 2 && self.n_groups <= n, || {
            format!("n_groups = {} must be in 2..={n}", self.n_groups)
        })?;
        param("CPCV", self.k_test >= 1 && self.k_test < self.n_groups, || {
            format!("k_test = {} must be in 1..{}", self.k_test, self.n_groups)
        })?;
        let count = binomial(self.n_groups, self.k_test);
        param("CPCV", count.is_some_and(|c| c <= Self::MAX_SPLITS), || {
            format!(
                "N = {} groups with k = {} test groups make C({}, {}) = {} splits, more than the {} vane builds; use fewer groups",
                self.n_groups,
                self.k_test,
                self.n_groups,
                self.k_test,
                count.map_or_else(|| "more than 18446744073709551615".to_string(), |c| c.to_string()),
                Self::MAX_SPLITS
            )
        })?;
        let groups = groups(n, self.n_groups);
        let splits: Vec<CpcvSplit> = combinations(self.n_groups, self.k_test)
            .into_iter()
            .map(|tg| {
                let test: Vec<Range<usize>> = tg.iter().map(|&g| groups[g].clone()).collect();
                CpcvSplit { train: purge(0..n, spans, &test, self.embargo), test, test_groups: tg }
            })
            .collect();
        let n_paths = self.k_test * splits.len() / self.n_groups;
        let mut paths = vec![vec![0usize; self.n_groups]; n_paths];
        for g in 0..self.n_groups {
            let testing: Vec<usize> =
                splits.iter().enumerate().filter(|(_, s)| s.test_groups.contains(&g)).map(|(i, _)| i).collect();
            for (p, path) in paths.iter_mut().enumerate() {
                path[g] = testing[p];
            }
        }
        Ok(CpcvPlan { groups, splits, paths })
    }
}

#[cfg(test)]
// Training parts are lists of ranges; a one-range list is the expected value, not a typo.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;

    #[test]
    fn walk_forward_purges_by_horizon() {
        let spans = horizon_spans(20, 2);
        let f = WalkForward::bars(8, 4).folds(&(0..20).collect::<Vec<i64>>(), &spans).unwrap();
        // Tests 8..12, 12..16, 16..20; training rolls over the 8 bars before, minus the last 2
        // (their 2-bar labels reach into the test window).
        assert_eq!(f.len(), 3);
        assert_eq!(f[0], Fold { train: vec![0..6], test: 8..12 });
        assert_eq!(f[1], Fold { train: vec![4..10], test: 12..16 });
        let expanding = WalkForward { expanding: true, gap: 1, ..WalkForward::bars(8, 4) };
        let f = expanding.folds(&(0..20).collect::<Vec<i64>>(), &spans).unwrap();
        assert_eq!(f[2], Fold { train: vec![0..14], test: 16..20 });
    }

    #[test]
    fn walk_forward_in_days() {
        // 4h bars over 60 days; 30-day training, 7-day tests (seed 003).
        let t: Vec<i64> = (0..360).map(|i| i * 4 * 3_600_000).collect();
        let spans = horizon_spans(360, 6);
        let wf = WalkForward { unit: WindowUnit::Days, train: 30, test: 7, step: 7, expanding: false, gap: 0 };
        let f = wf.folds(&t, &spans).unwrap();
        assert_eq!(f.len(), 4); // test windows start at days 30, 37, 44, 51 (51 + 7 ≤ 60)
        assert_eq!(f[0].test, 180..222);
        assert_eq!(f[0].train, vec![0..174]);
        assert_eq!(f[1].test, 222..264);
        assert_eq!(f[1].train, vec![42..216]);
    }

    #[test]
    fn purged_kfold_by_hand() {
        let spans = horizon_spans(10, 1);
        let f = PurgedKFold { k: 3, embargo: 1 }.folds(&spans).unwrap();
        // Groups 0..4, 4..7, 7..10.
        assert_eq!(f[0], Fold { train: vec![5..10], test: 0..4 }); // 4 embargoed
        assert_eq!(f[1], Fold { train: vec![0..3, 8..10], test: 4..7 }); // 3 purged, 7 embargoed
        assert_eq!(f[2], Fold { train: vec![0..6], test: 7..10 }); // 6 purged
        assert!(PurgedKFold { k: 1, embargo: 0 }.folds(&spans).is_err());
    }

    #[test]
    fn cpcv_refuses_combinatorial_explosions_with_the_count() {
        // Issue 12 case 5: C(24, 12) used to grow memory without bound, C(60, 30) never ended.
        assert_eq!(binomial(24, 12), Some(2_704_156));
        assert_eq!(binomial(60, 30), Some(118_264_581_564_861_424));
        assert_eq!(binomial(200, 100), None);
        assert_eq!(binomial(6, 2), Some(15));
        let spans = horizon_spans(1000, 0);
        let e = Cpcv { n_groups: 24, k_test: 12, embargo: 0 }.plan(&spans).unwrap_err().to_string();
        assert!(e.contains("2704156 splits") && e.contains("100000"), "{e}");
        let e = Cpcv { n_groups: 200, k_test: 100, embargo: 0 }.plan(&horizon_spans(1000, 0)).unwrap_err();
        assert!(e.to_string().contains("more than 18446744073709551615"), "{e}");
        assert_eq!(horizon_spans(3, usize::MAX).last(), Some(&Span::new(2, 2)));
    }

    #[test]
    fn cpcv_paths() {
        // N = 6, k = 2: C(6,2) = 15 splits, φ = 2·15/6 = 5 paths.
        let plan = Cpcv { n_groups: 6, k_test: 2, embargo: 0 }.plan(&horizon_spans(60, 0)).unwrap();
        assert_eq!(plan.splits.len(), 15);
        assert_eq!(plan.paths.len(), 5);
        for (p, path) in plan.paths.iter().enumerate() {
            for (g, &s) in path.iter().enumerate() {
                assert!(plan.splits[s].test_groups.contains(&g), "path {p} group {g}");
            }
        }
        // Every (split, group) test pair is used by exactly one path.
        let mut used: Vec<(usize, usize)> =
            plan.paths.iter().flat_map(|p| p.iter().enumerate().map(|(g, &s)| (s, g))).collect();
        used.sort();
        used.dedup();
        assert_eq!(used.len(), 30);
        assert_eq!(plan.paths[0], vec![0, 0, 1, 2, 3, 4]);
    }
}
