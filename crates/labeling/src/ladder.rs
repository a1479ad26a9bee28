//! The partial-take-profit ladder (seed 004) and its expected-return labels.
//!
//! [`simulate`](crate::ladder::simulate) is the one implementation of the ladder: the expected-return labels here and the
//! backtest's ladder exits both call it. A position opened at `entry` on bar `t` is walked over
//! bars t+1..=t+H. Inside a bar the stop is checked first, at the stop in force when the bar
//! opened, then the partial targets in ascending order, then the final target; every fill is at
//! its level's price. After the first partial the stop moves to the entry (breakeven); after the
//! k-th partial (k ≥ 2) to the (k−1)-th partial's level (profit lock). At the horizon whatever is
//! left closes at `close[t+H]`. A short mirrors everything.

use serde::{Deserialize, Serialize};
use vane_core::Bars;

use crate::Labels;
use crate::error::{Result, param};

/// One partial take-profit: close `fraction` of the position at `entry·(1 ± level)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Partial {
    /// Distance from the entry, as a fraction (0.012 = +1.2 %).
    pub level: f64,
    /// Share of the initial position closed there.
    pub fraction: f64,
}

/// Ladder parameters. [`Default`] is seed 004's: stop 1.1 %, partials 20 % at +1.2 %, 30 % at
/// +2.4 %, 30 % at +3.5 %, the last 20 % at +5.8 %, breakeven and profit lock on, 100 bars.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LadderConfig {
    /// Initial stop distance (0.011 = −1.1 % for a long).
    pub stop: f64,
    /// Partial take-profits, ascending levels.
    pub partials: Vec<Partial>,
    /// Level where the remainder closes.
    pub final_target: f64,
    /// Move the stop to the entry after the first partial.
    pub breakeven: bool,
    /// After the k-th partial (k ≥ 2) move the stop to the (k−1)-th partial's level.
    pub profit_lock: bool,
    /// Bars until the remainder closes at the close.
    pub horizon: usize,
    /// Cost per fill in basis points of the filled notional (entry and every exit).
    pub fee_bps: f64,
}

impl Default for LadderConfig {
    fn default() -> Self {
        Self {
            stop: 0.011,
            partials: vec![
                Partial { level: 0.012, fraction: 0.2 },
                Partial { level: 0.024, fraction: 0.3 },
                Partial { level: 0.035, fraction: 0.3 },
            ],
            final_target: 0.058,
            breakeven: true,
            profit_lock: true,
            horizon: 100,
            fee_bps: 0.0,
        }
    }
}

impl LadderConfig {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        param("ladder", self.stop > 0.0 && self.stop < 1.0, || format!("stop = {}, must be in (0, 1)", self.stop))?;
        param("ladder", self.horizon >= 1, || format!("horizon = {}, must be ≥ 1", self.horizon))?;
        param("ladder", self.fee_bps >= 0.0 && self.fee_bps.is_finite(), || {
            format!("fee_bps = {}, must be ≥ 0", self.fee_bps)
        })?;
        let mut prev = 0.0;
        let mut total = 0.0;
        for p in &self.partials {
            param("ladder", p.level > prev && p.fraction > 0.0, || {
                format!("partials must have ascending levels > 0 and fractions > 0, got {p:?}")
            })?;
            prev = p.level;
            total += p.fraction;
        }
        param("ladder", total < 1.0 + 1e-12, || format!("partial fractions sum to {total}, must be ≤ 1"))?;
        param("ladder", self.final_target > prev, || {
            format!("final_target = {} must exceed the last partial level {prev}", self.final_target)
        })
    }
}

/// Long or short.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Profits when the price rises.
    Long,
    /// Profits when the price falls.
    Short,
}

impl Side {
    fn sign(self) -> f64 {
        match self {
            Side::Long => 1.0,
            Side::Short => -1.0,
        }
    }
}

/// Why a fill happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// Partial take-profit number k (0-based).
    Partial(usize),
    /// The final target.
    FinalTarget,
    /// The stop (initial, breakeven or locked).
    Stop,
    /// The horizon, or the end of the data.
    Horizon,
}

/// One exit fill.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fill {
    /// Bar position of the fill.
    pub bar: usize,
    /// Fill price.
    pub price: f64,
    /// Share of the initial position.
    pub fraction: f64,
    /// Why.
    pub reason: ExitReason,
}

/// The life of one position.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LadderOutcome {
    /// Exit fills in time order; the fractions sum to 1.
    pub fills: Vec<Fill>,
    /// Bar of the last fill.
    pub exit_bar: usize,
    /// `Σ fraction·(exit/entry − 1)` (short: `1 − exit/entry`).
    pub gross_return: f64,
    /// Gross minus `fee_bps` on the entry and on every exit fill's notional.
    pub net_return: f64,
}

/// Walks a position opened at `entry` on bar `entry_bar` over the following bars (at most
/// `cfg.horizon`, fewer at the end of the data, where the remainder closes at the last close).
pub fn simulate(bars: &Bars, entry_bar: usize, entry: f64, side: Side, cfg: &LadderConfig) -> LadderOutcome {
    let s = side.sign();
    let (h, l, c) = (bars.high(), bars.low(), bars.close());
    let at = |level: f64| entry * (1.0 + s * level);
    let mut stop = entry * (1.0 - s * cfg.stop);
    let mut left = 1.0;
    let mut done = 0usize;
    let mut fills = Vec::with_capacity(cfg.partials.len() + 1);
    let last = (entry_bar + cfg.horizon).min(bars.len().saturating_sub(1));
    let mut j = entry_bar;
    'bars: while j < last {
        j += 1;
        let (adverse, favourable) = if s > 0.0 { (l[j], h[j]) } else { (h[j], l[j]) };
        let reached = |px: f64, level_px: f64| if s > 0.0 { px >= level_px } else { px <= level_px };
        if reached(stop, adverse) {
            fills.push(Fill { bar: j, price: stop, fraction: left, reason: ExitReason::Stop });
            left = 0.0;
            break;
        }
        while done < cfg.partials.len() {
            let p = cfg.partials[done];
            if !reached(favourable, at(p.level)) {
                break;
            }
            let fraction = p.fraction.min(left);
            fills.push(Fill { bar: j, price: at(p.level), fraction, reason: ExitReason::Partial(done) });
            left -= fraction;
            done += 1;
            if left <= 1e-12 {
                left = 0.0;
                break 'bars;
            }
        }
        if done == cfg.partials.len() && reached(favourable, at(cfg.final_target)) {
            fills.push(Fill { bar: j, price: at(cfg.final_target), fraction: left, reason: ExitReason::FinalTarget });
            left = 0.0;
            break;
        }
        // The stop for the next bar.
        if done >= 2 && cfg.profit_lock {
            stop = at(cfg.partials[done - 2].level);
        } else if done >= 1 && cfg.breakeven {
            stop = entry;
        }
    }
    if left > 0.0 {
        fills.push(Fill { bar: j, price: c[j], fraction: left, reason: ExitReason::Horizon });
    }
    let gross: f64 = fills.iter().map(|f| f.fraction * s * (f.price / entry - 1.0)).sum();
    let fee = cfg.fee_bps / 10_000.0;
    let net = gross - fee * (1.0 + fills.iter().map(|f| f.fraction).sum::<f64>());
    LadderOutcome { exit_bar: fills.last().map_or(entry_bar, |f| f.bar), fills, gross_return: gross, net_return: net }
}

/// Expected returns of a long and a short opened at `close[t]`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ExpectedReturn {
    /// Net return of the long ladder.
    pub er_long: f64,
    /// Net return of the short ladder.
    pub er_short: f64,
    /// Bar of the long's last fill.
    pub exit_long: usize,
    /// Bar of the short's last fill.
    pub exit_short: usize,
}

/// Labels every bar whose horizon lies inside the series with both ladders' net returns; span
/// `[t, max(exit_long, exit_short)]`.
pub fn expected_returns(bars: &Bars, cfg: &LadderConfig) -> Result<Labels<ExpectedReturn>> {
    cfg.validate()?;
    let n = bars.len();
    let mut out = Labels::with_len(n);
    for t in 0..n.saturating_sub(cfg.horizon) {
        let c = bars.close()[t];
        let long = simulate(bars, t, c, Side::Long, cfg);
        let short = simulate(bars, t, c, Side::Short, cfg);
        let er = ExpectedReturn {
            er_long: long.net_return,
            er_short: short.net_return,
            exit_long: long.exit_bar,
            exit_short: short.exit_bar,
        };
        out.set(t, er, long.exit_bar.max(short.exit_bar));
    }
    Ok(out)
}
