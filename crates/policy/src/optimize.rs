//! Choosing the policy's thresholds on validation data (seed 000's auto thresholds, seed 001's
//! `min_conf`): maximise the expected net edge after costs, under activity constraints.
//!
//! Each active bar is one trade earning `side · r − round_trip` where `r` is the realised
//! forward return of the label horizon. The objective is the total net edge over the
//! validation bars; a candidate is feasible when
//! - its thresholds keep `min_margin` from 0.5 (`long ≥ 0.5 + m`, `short ≤ 0.5 − m`;
//!   seed 000 `thr-min-margin 0.015`),
//! - at least `min_active` of the bars trade (`thr-min-act 0.10`),
//! - at least `min_abstain` of the bars hold (`thr-min-abstain 0.10`),
//! - the mean net edge per trade is at least `edge_min_bps`.

use serde::{Deserialize, Serialize};
use vane_core::ClassProbs;
use vane_costs::CostModel;

use crate::{PolicyError, Result};

/// Feasibility constraints (defaults: seed 000's).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Constraints {
    /// Minimum distance of each threshold from 0.5.
    pub min_margin: f64,
    /// Minimum share of bars that trade.
    pub min_active: f64,
    /// Minimum share of bars that hold.
    pub min_abstain: f64,
    /// Minimum mean net edge per trade, bps.
    pub edge_min_bps: f64,
    /// Threshold grid step.
    pub step: f64,
}

impl Default for Constraints {
    fn default() -> Self {
        Self { min_margin: 0.015, min_active: 0.10, min_abstain: 0.10, edge_min_bps: 0.0, step: 0.005 }
    }
}

/// The chosen thresholds and the figures behind them.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// Long threshold (BUY when P(up) > long); for `min_conf` tuning, the chosen `min_conf`.
    pub long: f64,
    /// Short threshold (SELL when P(up) < short); NaN for `min_conf` tuning.
    pub short: f64,
    /// Bars going long.
    pub n_long: usize,
    /// Bars going short.
    pub n_short: usize,
    /// Share of bars trading.
    pub active_share: f64,
    /// Share of bars holding.
    pub abstain_share: f64,
    /// Mean net edge per trade, bps.
    pub mean_edge_bps: f64,
    /// Total net edge over the validation bars (sum of per-trade net returns).
    pub total_net_edge: f64,
}

fn check(n: usize, m: usize, c: &Constraints) -> Result<()> {
    if n != m {
        return Err(PolicyError::InvalidInput(format!("{n} predictions for {m} returns")));
    }
    if n == 0 {
        return Err(PolicyError::InvalidInput("no validation samples".into()));
    }
    if !(c.step > 0.0 && c.step < 0.5 && (0.0..0.5).contains(&c.min_margin)) {
        return Err(PolicyError::InvalidParameter(format!(
            "step = {} and min_margin = {} must be in (0, 0.5) and [0, 0.5)",
            c.step, c.min_margin
        )));
    }
    Ok(())
}

/// Keeps the candidate `(long, short, n_long, n_short, total)` in `best` when it is feasible
/// under `c` (over `n` bars) and beats the current best.
fn consider(
    best: &mut Option<Choice>,
    c: &Constraints,
    n: usize,
    (long, short): (f64, f64),
    (n_long, n_short): (usize, usize),
    total: f64,
) {
    let active = n_long + n_short;
    let active_share = active as f64 / n as f64;
    if active == 0 || active_share < c.min_active || 1.0 - active_share < c.min_abstain {
        return;
    }
    let mean_edge_bps = total / active as f64 * 1e4;
    if mean_edge_bps >= c.edge_min_bps && best.is_none_or(|b| total > b.total_net_edge) {
        *best = Some(Choice {
            long,
            short,
            n_long,
            n_short,
            active_share,
            abstain_share: 1.0 - active_share,
            mean_edge_bps,
            total_net_edge: total,
        });
    }
}

/// Long/short thresholds on `P(up)` maximising the total net edge (None when no candidate is
/// feasible). O(n log n + grid²) with prefix sums over the sorted probabilities.
pub fn thresholds(p_up: &[f64], returns: &[f64], costs: &CostModel, c: &Constraints) -> Result<Option<Choice>> {
    check(p_up.len(), returns.len(), c)?;
    if p_up.iter().chain(returns).any(|v| !v.is_finite()) {
        return Err(PolicyError::InvalidInput("non-finite probability or return".into()));
    }
    let n = p_up.len();
    let rt = costs.round_trip();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| p_up[a].total_cmp(&p_up[b]));
    let sorted_p: Vec<f64> = idx.iter().map(|&i| p_up[i]).collect();
    // prefix_short[k] = Σ over the k smallest p of (−r − rt); suffix_long[k] = Σ over idx[k..] of (r − rt).
    let mut prefix_short = vec![0.0; n + 1];
    for k in 0..n {
        prefix_short[k + 1] = prefix_short[k] + (-returns[idx[k]] - rt);
    }
    let mut suffix_long = vec![0.0; n + 1];
    for k in (0..n).rev() {
        suffix_long[k] = suffix_long[k + 1] + (returns[idx[k]] - rt);
    }
    // Both grids walk outwards from 0.5 ± min_margin in steps, symmetric around 0.5.
    let steps = ((0.5 - c.min_margin) / c.step).floor() as usize;
    let longs: Vec<f64> = (0..=steps).map(|i| 0.5 + c.min_margin + c.step * i as f64).collect();
    let shorts: Vec<f64> = (0..=steps).map(|i| 0.5 - c.min_margin - c.step * i as f64).collect();
    let mut best: Option<Choice> = None;
    for &long in &longs {
        let kl = sorted_p.partition_point(|&p| p <= long); // p > long from kl on
        let (n_long, sum_long) = (n - kl, suffix_long[kl]);
        for &short in &shorts {
            let ks = sorted_p.partition_point(|&p| p < short);
            let (n_short, sum_short) = (ks, prefix_short[ks]);
            consider(&mut best, c, n, (long, short), (n_long, n_short), sum_long + sum_short);
        }
    }
    Ok(best)
}

/// Seed 001's `min_conf` on three-class probabilities, by the same objective and constraints
/// (`min_margin` unused): BUY earns `r − rt`, SELL `−r − rt`, HOLD nothing.
pub fn min_conf(probs: &[ClassProbs], returns: &[f64], costs: &CostModel, c: &Constraints) -> Result<Option<Choice>> {
    check(probs.len(), returns.len(), c)?;
    let n = probs.len();
    let rt = costs.round_trip();
    let mut best: Option<Choice> = None;
    let steps = ((1.0 - 1.0 / 3.0) / c.step).floor() as usize;
    for i in 0..=steps {
        let mc = 1.0 / 3.0 + c.step * i as f64;
        let (mut n_long, mut n_short, mut total) = (0, 0, 0.0);
        for (p, r) in probs.iter().zip(returns) {
            if p.hold >= p.buy && p.hold >= p.sell {
                continue;
            }
            if p.buy >= p.sell && p.buy >= mc {
                n_long += 1;
                total += r - rt;
            } else if p.sell > p.buy && p.sell >= mc {
                n_short += 1;
                total += -r - rt;
            }
        }
        consider(&mut best, c, n, (mc, f64::NAN), (n_long, n_short), total);
    }
    Ok(best)
}
