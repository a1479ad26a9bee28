//! The risk profile (seed 004) as configuration: leverage, the BUY and SELL stop-loss and
//! take-profit, the partial-close ladder, breakeven, profit locks and the horizon — read from
//! TOML, checked field by field, and turned into the one ladder engine's
//! [`LadderConfig`](vane_labeling::ladder::LadderConfig) per side. Nothing here simulates: a
//! backtest with a profile is [`run_exits_sided`](crate::run_exits_sided) (which calls
//! `vane_labeling::ladder::simulate`) with the returns scaled by the leverage.
//!
//! It lives in `vane-backtest`, not beside `LadderConfig` in `vane-labeling`, because two of its
//! parts only mean something for a traded position: the leverage (labels are per unit of
//! notional) and a SELL side that may differ from the BUY side (the labels walk one symmetric
//! ladder). The ladder part converts to `LadderConfig`, so labels and backtests still share one
//! engine.
//!
//! **Levels are signed fractions of the entry price**, as the seed writes them: a BUY's stop
//! `-0.011` is −1.1 %, its take-profit `0.058` is +5.8 %; a SELL's are `0.011` and `-0.058`
//! (omit `[sell]` for the mirror). Ladder triggers, `breakeven_after` and `profit_locks` are
//! favourable distances (positive; a SELL mirrors them).
//!
//! **Leverage** multiplies the position: a trade of notional `leverage × equity`, so every
//! per-period return, trade return and cost (fees are paid on the notional) is multiplied by the
//! leverage — a −1.1 % stop costs 11 % of equity at leverage 10. Margin, funding and
//! **liquidation are out of scope**: the profile refuses a leverage whose stop alone would lose
//! the whole margin (`leverage × |stop| ≥ 1`), and fills are at the levels' prices (no gap below
//! the stop), so the modelled loss of a trade is bounded by `leverage × |stop|` plus costs.

use serde::{Deserialize, Serialize};
use vane_core::{Bars, Signal};
use vane_costs::CostModel;
use vane_labeling::ladder::{ExitReason, LadderConfig, Partial, Side, simulate};

use crate::error::{BacktestError, Result};
use crate::{BacktestResult, Exits, run_exits_sided};

/// A stop-loss and a take-profit, signed fractions of the entry price.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopTarget {
    /// Stop-loss (BUY: negative, −0.011 = −1.1 %; SELL: positive).
    pub stop_loss: f64,
    /// Take-profit where the rest closes (BUY: positive, 0.058 = +5.8 %; SELL: negative).
    pub take_profit: f64,
}

/// One partial close: `share` of the initial position closes at `trigger` in the trade's favour.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LadderStep {
    /// Share of the initial position (0.2 = 20 %).
    pub share: f64,
    /// Favourable distance from the entry (0.012 = +1.2 % for a BUY, −1.2 % for a SELL).
    pub trigger: f64,
}

/// Seed 004's risk profile (see the module docs). TOML: `examples/seed004/risk_profile.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskProfile {
    /// Position size as a multiple of equity (1 = no leverage; seed 004: 10).
    #[serde(default = "one")]
    pub leverage: f64,
    /// Bars until what is left closes at the close (seed 004: 100).
    pub horizon_bars: usize,
    /// Move the stop to the entry once this level is reached. The engine does it after the
    /// first ladder step, so it must equal the first step's trigger (None: no breakeven).
    #[serde(default)]
    pub breakeven_after: Option<f64>,
    /// Levels that lock profit: reaching step k ≥ 2 moves the stop to step k−1's trigger. The
    /// engine locks at every step after the first or at none, so this is empty or lists the
    /// triggers of steps 2.. exactly.
    #[serde(default)]
    pub profit_locks: Vec<f64>,
    /// BUY stop-loss and take-profit.
    pub buy: StopTarget,
    /// SELL stop-loss and take-profit (None: the mirror of `buy`).
    #[serde(default)]
    pub sell: Option<StopTarget>,
    /// The partial closes, ascending triggers; the share left after them closes at the
    /// take-profit.
    #[serde(default)]
    pub ladder: Vec<LadderStep>,
}

fn one() -> f64 {
    1.0
}

impl RiskProfile {
    /// Seed 004's values: leverage 10, BUY SL −1.1 % / TP +5.8 %, SELL the mirror, 20 % @ +1.2 %,
    /// 30 % @ +2.4 %, 30 % @ +3.5 %, breakeven after +1.2 %, profit locks at +2.4 % and +3.5 %,
    /// 100 bars.
    pub fn seed004() -> Self {
        Self {
            leverage: 10.0,
            horizon_bars: 100,
            breakeven_after: Some(0.012),
            profit_locks: vec![0.024, 0.035],
            buy: StopTarget { stop_loss: -0.011, take_profit: 0.058 },
            sell: None,
            ladder: vec![
                LadderStep { share: 0.2, trigger: 0.012 },
                LadderStep { share: 0.3, trigger: 0.024 },
                LadderStep { share: 0.3, trigger: 0.035 },
            ],
        }
    }

    /// Parses and checks a profile; `origin` (the file) names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        let p: RiskProfile = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            BacktestError::ProfileToml { origin: origin.to_string(), line, error: Box::new(e) }
        })?;
        p.validate(origin)?;
        Ok(p)
    }

    /// The SELL levels: `sell`, or the mirror of `buy`.
    pub fn sell_levels(&self) -> StopTarget {
        self.sell.unwrap_or(StopTarget { stop_loss: -self.buy.stop_loss, take_profit: -self.buy.take_profit })
    }

    /// The BUY side's reward over risk, `take_profit / |stop_loss|` (seed 004: 5.8/1.1 ≈ 5.27,
    /// the seed's "1:5.3").
    pub fn risk_reward(&self) -> f64 {
        self.buy.take_profit / -self.buy.stop_loss
    }

    /// The SELL side's reward over risk, `|take_profit| / stop_loss`.
    pub fn risk_reward_sell(&self) -> f64 {
        let s = self.sell_levels();
        -s.take_profit / s.stop_loss
    }

    /// Checks every field; errors name `origin` and the field.
    pub fn validate(&self, origin: &str) -> Result<()> {
        let bad = |field: &str, message: String| {
            Err(BacktestError::Profile { origin: origin.to_string(), field: field.to_string(), message })
        };
        let finite = |v: f64| v.is_finite();
        if !(finite(self.leverage) && self.leverage > 0.0) {
            return bad("leverage", format!("{} must be a positive number (1 = no leverage)", self.leverage));
        }
        if self.horizon_bars == 0 {
            return bad("horizon_bars", "0 must be at least 1 bar".into());
        }
        let b = self.buy;
        if !(finite(b.stop_loss) && b.stop_loss < 0.0 && b.stop_loss > -1.0) {
            return bad(
                "buy.stop_loss",
                format!(
                    "{} must be negative and above −1 (a BUY's stop lies below the entry: −0.011 = −1.1 %)",
                    b.stop_loss
                ),
            );
        }
        if !(finite(b.take_profit) && b.take_profit > 0.0) {
            return bad(
                "buy.take_profit",
                format!("{} must be positive (a BUY's target lies above the entry: 0.058 = +5.8 %)", b.take_profit),
            );
        }
        if let Some(s) = self.sell {
            if !(finite(s.stop_loss) && s.stop_loss > 0.0 && s.stop_loss < 1.0) {
                return bad(
                    "sell.stop_loss",
                    format!(
                        "{} must be positive and below 1 (a SELL's stop lies above the entry: 0.011 = +1.1 %)",
                        s.stop_loss
                    ),
                );
            }
            if !(finite(s.take_profit) && s.take_profit < 0.0 && s.take_profit > -1.0) {
                return bad(
                    "sell.take_profit",
                    format!(
                        "{} must be negative and above −1 (a SELL's target lies below the entry: −0.058 = −5.8 %)",
                        s.take_profit
                    ),
                );
            }
        }
        let mut prev = 0.0;
        let mut total = 0.0;
        for (i, step) in self.ladder.iter().enumerate() {
            if !(finite(step.share) && step.share > 0.0 && step.share <= 1.0) {
                return bad(&format!("ladder[{i}].share"), format!("{} must be in (0, 1]", step.share));
            }
            if !(finite(step.trigger) && step.trigger > prev) {
                return bad(
                    &format!("ladder[{i}].trigger"),
                    format!("{} must be positive and above the previous step's trigger {prev}", step.trigger),
                );
            }
            prev = step.trigger;
            total += step.share;
        }
        if total > 1.0 + 1e-12 {
            return bad("ladder", format!("the shares sum to {total}, more than the whole position (at most 1)"));
        }
        let smallest_target = b.take_profit.min(-self.sell_levels().take_profit);
        if let Some(last) = self.ladder.last()
            && last.trigger >= smallest_target
        {
            return bad(
                &format!("ladder[{}].trigger", self.ladder.len() - 1),
                format!("{} must be below the take-profit distance {smallest_target}", last.trigger),
            );
        }
        if let Some(be) = self.breakeven_after {
            match self.ladder.first() {
                Some(first) if first.trigger == be => {}
                Some(first) => {
                    return bad(
                        "breakeven_after",
                        format!(
                            "{be}: the ladder engine moves the stop to the entry after the first step, so it must be that step's trigger {} (or be left out)",
                            first.trigger
                        ),
                    );
                }
                None => return bad("breakeven_after", format!("{be}: needs a ladder step at that trigger")),
            }
        }
        if !self.profit_locks.is_empty() {
            let want: Vec<f64> = self.ladder.iter().skip(1).map(|s| s.trigger).collect();
            if self.profit_locks != want {
                return bad(
                    "profit_locks",
                    format!(
                        "{:?}: the ladder engine locks profit at every step after the first (moving the stop to the step before), so this must be {want:?} or empty",
                        self.profit_locks
                    ),
                );
            }
        }
        for (side, stop) in [("buy", -b.stop_loss), ("sell", self.sell_levels().stop_loss)] {
            if self.leverage * stop >= 1.0 {
                return bad(
                    "leverage",
                    format!(
                        "{} × the {side} stop {stop} loses the whole margin before the stop fills; liquidation is not modelled: lower the leverage or tighten the stop",
                        self.leverage
                    ),
                );
            }
        }
        Ok(())
    }

    /// The ladder engine's parameters for `side` (fees 0: costs come from the
    /// [`CostModel`] of the backtest). Seed 004's profile gives `LadderConfig::default()`.
    pub fn ladder(&self, side: Side) -> LadderConfig {
        let st = match side {
            Side::Long => self.buy,
            Side::Short => {
                let s = self.sell_levels();
                StopTarget { stop_loss: -s.stop_loss, take_profit: -s.take_profit }
            }
        };
        LadderConfig {
            stop: -st.stop_loss,
            partials: self.ladder.iter().map(|s| Partial { level: s.trigger, fraction: s.share }).collect(),
            final_target: st.take_profit,
            breakeven: self.breakeven_after.is_some(),
            profit_lock: !self.profit_locks.is_empty(),
            horizon: self.horizon_bars,
            fee_bps: 0.0,
        }
    }

    /// The event-driven backtest of `signals` under this profile: [`run_exits_sided`] with each
    /// side's ladder, per-period and trade returns (costs included) times the leverage, positions
    /// times the leverage; plus the ladder's fills per step and the trades' last exits by reason.
    pub fn backtest(&self, bars: &Bars, signals: &[Signal], costs: &CostModel) -> Result<ProfileBacktest> {
        self.validate("risk profile")?;
        let (long, short) = (self.ladder(Side::Long), self.ladder(Side::Short));
        let mut result =
            run_exits_sided(bars, signals, &Exits::Ladder(long.clone()), &Exits::Ladder(short.clone()), costs)?;
        let mut summary = LadderSummary {
            leverage: self.leverage,
            risk_reward: self.risk_reward(),
            partial_closes: self
                .ladder
                .iter()
                .map(|s| PartialCloses { share: s.share, trigger: s.trigger, count: 0 })
                .collect(),
            exits: ExitCounts::default(),
        };
        // The same engine call run_exits_sided made for each trade, read for its fills.
        for t in &result.trades {
            let (side, cfg) = if t.side > 0 { (Side::Long, &long) } else { (Side::Short, &short) };
            let out = simulate(bars, t.entry_bar, bars.close()[t.entry_bar], side, cfg);
            let mut done = 0;
            for f in &out.fills {
                if let ExitReason::Partial(k) = f.reason {
                    summary.partial_closes[k].count += 1;
                    done = k + 1;
                }
            }
            let e = &mut summary.exits;
            match out.fills.last().map(|f| f.reason) {
                Some(ExitReason::FinalTarget) => e.take_profit += 1,
                Some(ExitReason::Horizon) | None => e.time += 1,
                Some(ExitReason::Partial(_)) => e.ladder += 1,
                Some(ExitReason::Stop) if done >= 2 && cfg.profit_lock => e.profit_lock += 1,
                Some(ExitReason::Stop) if done >= 1 && cfg.breakeven => e.breakeven += 1,
                Some(ExitReason::Stop) => e.stop_loss += 1,
            }
        }
        let l = self.leverage;
        result.returns.iter_mut().for_each(|r| *r *= l);
        result.positions.iter_mut().for_each(|p| *p *= l);
        result.trades.iter_mut().for_each(|t| t.net_return *= l);
        Ok(ProfileBacktest { result, summary })
    }
}

/// How often one ladder step filled.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartialCloses {
    /// The step's share of the position.
    pub share: f64,
    /// The step's trigger.
    pub trigger: f64,
    /// Trades in which it filled.
    pub count: usize,
}

/// Trades by how what was left of them closed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitCounts {
    /// The initial stop-loss.
    pub stop_loss: usize,
    /// The stop at the entry (after the first step, breakeven on).
    pub breakeven: usize,
    /// A locked stop (after step k ≥ 2, at step k−1's trigger).
    pub profit_lock: usize,
    /// The take-profit.
    pub take_profit: usize,
    /// The horizon, or the end of the data.
    pub time: usize,
    /// The last ladder step (the shares sum to 1, nothing left for the take-profit).
    pub ladder: usize,
}

/// What the ladder did over a backtest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LadderSummary {
    /// The profile's leverage (returns are scaled by it).
    pub leverage: f64,
    /// The profile's BUY reward over risk.
    pub risk_reward: f64,
    /// Fills per ladder step.
    pub partial_closes: Vec<PartialCloses>,
    /// Trades by their last exit.
    pub exits: ExitCounts,
}

/// A backtest under a risk profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileBacktest {
    /// Returns, positions and trades, scaled by the leverage.
    pub result: BacktestResult,
    /// Partial closes and exits by reason.
    pub summary: LadderSummary,
}
