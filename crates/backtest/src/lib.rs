//! Backtests: prices + positions (or decisions) + costs → per-period returns, a trade log, the
//! equity curve and trading metrics.
//!
//! **Timing convention.** A position decided at the close of bar t is held over bar t+1, and the
//! trade that reaches it is paid in that same period:
//! `r[t+1] = pos[t]·(close[t+1]/close[t] − 1) − |pos[t] − pos[t−1]|·(fee_bps + slip_bps)/10⁴`,
//! with the position before the first decision 0. `r[0] = 0`; a change decided on the last bar
//! has no period to be paid in.
//!
//! [`run_exits`] is the event-driven variant: entries on decisions, exits by seed 004's
//! partial-take-profit ladder (breakeven, profit lock), stop-loss, take-profit and time exits —
//! all through `vane_labeling::ladder::simulate`, the same engine the expected-return labels use.
//! [`RiskProfile`] is seed 004's risk profile (leverage, SL/TP per side, the partial-close
//! ladder) read from TOML; it converts to that engine's ladder and backtests through
//! [`run_exits_sided`].
//!
//! # Feature flags
//! None.
#![warn(missing_docs)]

pub mod deflated;
/// Errors of this crate.
pub mod error;
/// Trading metrics.
pub mod metrics;
/// Sparse position decisions → one position per bar.
pub mod positions;
/// Seed 004's risk profile (leverage, SL/TP per side, the partial-close ladder) as configuration.
pub mod risk;

pub use deflated::{DeflatedSharpe, deflated_sharpe, expected_max_sharpe, probabilistic_sharpe};
pub use error::{BacktestError, Result};
use serde::{Deserialize, Serialize};
use vane_core::{Bars, Signal};
use vane_costs::CostModel;
use vane_labeling::ladder::{LadderConfig, Side, simulate};

pub use metrics::{Metrics, compute as compute_metrics};
pub use positions::forward_fill;
pub use risk::{ExitCounts, LadderStep, LadderSummary, PartialCloses, ProfileBacktest, RiskProfile, StopTarget};

/// One round trip: from a position opening (or flipping) to it closing (or flipping).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trade {
    /// Bar whose close opened it.
    pub entry_bar: usize,
    /// Bar whose close ended it.
    pub exit_bar: usize,
    /// +1 long, −1 short.
    pub side: i8,
    /// Net return contributed to equity (price moves times the position, minus costs of the
    /// position changes made during the trade, the exit's included).
    pub net_return: f64,
}

impl Trade {
    /// Bars held.
    pub fn bars_held(&self) -> usize {
        self.exit_bar - self.entry_bar
    }
}

/// What a backtest produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BacktestResult {
    /// Per-bar returns, `r[0] = 0`.
    pub returns: Vec<f64>,
    /// Position held after each bar's close.
    pub positions: Vec<f64>,
    /// Completed (and, at the end, still-open) trades.
    pub trades: Vec<Trade>,
}

impl BacktestResult {
    /// Compounded equity after each bar, starting from 1: `cumprod(1 + r)`.
    pub fn equity(&self) -> Vec<f64> {
        let mut e = 1.0;
        self.returns
            .iter()
            .map(|r| {
                e *= 1.0 + r;
                e
            })
            .collect()
    }
}

/// Runs the close-to-close backtest of `positions` (one per bar, decided at its close; any
/// real number: 1 long, −1 short, 0.5 half long).
pub fn run_positions(close: &[f64], positions: &[f64], costs: &CostModel) -> Result<BacktestResult> {
    let mut out = BacktestResult { returns: Vec::new(), positions: Vec::new(), trades: Vec::new() };
    run_positions_into(close, positions, costs, &mut out)?;
    Ok(out)
}

/// [`run_positions`] into `out`, reusing its buffers (for loops that run many backtests).
pub fn run_positions_into(close: &[f64], positions: &[f64], costs: &CostModel, out: &mut BacktestResult) -> Result<()> {
    costs.validate().map_err(|e| BacktestError::InvalidParameter(e.to_string()))?;
    let n = close.len();
    if positions.len() != n {
        return Err(BacktestError::InvalidInput(format!("{} positions for {n} prices", positions.len())));
    }
    if let Some(i) = close.iter().position(|c| !(c.is_finite() && *c > 0.0)) {
        return Err(BacktestError::InvalidInput(format!("price #{i} = {} is not a positive number", close[i])));
    }
    if let Some(i) = positions.iter().position(|p| !p.is_finite()) {
        return Err(BacktestError::InvalidInput(format!("position #{i} is not finite")));
    }
    let per_side = costs.per_side_bps() * vane_costs::BP;
    out.returns.clear();
    out.returns.reserve(n);
    if n > 0 {
        out.returns.push(0.0);
    }
    let mut prev_pos = 0.0;
    for t in 0..n.saturating_sub(1) {
        let pos = positions[t];
        out.returns.push(pos * (close[t + 1] / close[t] - 1.0) - (pos - prev_pos).abs() * per_side);
        prev_pos = pos;
    }
    out.positions.clear();
    out.positions.extend_from_slice(positions);
    out.trades.clear();
    trades_from_positions(close, positions, per_side, &mut out.trades);
    Ok(())
}

fn trades_from_positions(close: &[f64], pos: &[f64], per_side: f64, trades: &mut Vec<Trade>) {
    let n = close.len();
    let sign = |p: f64| (p > 0.0) as i8 - (p < 0.0) as i8;
    let mut open: Option<(usize, i8, f64)> = None; // entry bar, side, accumulated net
    let mut prev = 0.0;
    for t in 0..n {
        let p = pos[t];
        // The period return earned by the position held over (t−1, t].
        if t > 0
            && let Some((_, _, acc)) = open.as_mut()
        {
            *acc += prev * (close[t] / close[t - 1] - 1.0);
        }
        let change_cost = (p - prev).abs() * per_side;
        let (s_prev, s_now) = (sign(prev), sign(p));
        if s_prev != 0 && s_now != s_prev {
            // Close the trade (its exit cost is the part of this change that flattens it).
            let (entry, side, acc) = open.take().expect("open while the position is non-zero");
            let exit_cost = prev.abs() * per_side;
            trades.push(Trade { entry_bar: entry, exit_bar: t, side, net_return: acc - exit_cost });
            if s_now != 0 {
                open = Some((t, s_now, -(p.abs()) * per_side));
            }
        } else if s_prev == 0 && s_now != 0 {
            open = Some((t, s_now, -change_cost));
        } else if let Some((_, _, acc)) = open.as_mut() {
            *acc -= change_cost; // resizing within the trade
        }
        prev = p;
    }
    if let Some((entry, side, acc)) = open {
        trades.push(Trade { entry_bar: entry, exit_bar: n - 1, side, net_return: acc });
    }
}

/// How decisions become positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mapping {
    /// BUY → +1, SELL → −1, HOLD keeps the position.
    LongShort,
    /// BUY → +1, SELL → 0 (exit), HOLD keeps the position (spot).
    LongOnly,
    /// BUY → +1, SELL → −1, HOLD → 0.
    HoldIsFlat,
}

/// Positions from decisions.
pub fn positions_from_signals(signals: &[Signal], mapping: Mapping) -> Vec<f64> {
    let mut pos = 0.0;
    signals
        .iter()
        .map(|s| {
            pos = match (mapping, s) {
                (_, Signal::Buy) => 1.0,
                (Mapping::LongOnly, Signal::Sell) => 0.0,
                (_, Signal::Sell) => -1.0,
                (Mapping::HoldIsFlat, Signal::Hold) => 0.0,
                (_, Signal::Hold) => pos,
            };
            pos
        })
        .collect()
}

/// Exit rules of the event-driven backtest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "exits", rename_all = "snake_case")]
pub enum Exits {
    /// Seed 004's partial-take-profit ladder.
    Ladder(LadderConfig),
    /// A stop-loss, an optional take-profit and a time exit.
    Simple {
        /// Stop distance (0.02 = 2 %).
        stop_loss: f64,
        /// Take-profit distance (None: none).
        take_profit: Option<f64>,
        /// Bars until the position is closed at the close.
        max_bars: usize,
    },
}

impl Exits {
    /// The ladder that implements these exits (stop/take-profit/time exits are a ladder without
    /// partials, breakeven or profit lock).
    pub fn ladder(&self) -> LadderConfig {
        match self {
            Exits::Ladder(c) => c.clone(),
            Exits::Simple { stop_loss, take_profit, max_bars } => LadderConfig {
                stop: *stop_loss,
                partials: Vec::new(),
                final_target: take_profit.unwrap_or(f64::MAX),
                breakeven: false,
                profit_lock: false,
                horizon: *max_bars,
                fee_bps: 0.0,
            },
        }
    }
}

/// Event-driven backtest: when flat, a BUY (SELL) opens a long (short) of size 1 at that bar's
/// close; the exits manage it bar by bar (fills at the levels' prices, the stop checked first
/// inside a bar); decisions while a position is open are ignored. Per-bar returns mark the open
/// part to each close and the exiting part to its fill price; each fill and the entry pay
/// `fee + slip` per side.
pub fn run_exits(bars: &Bars, signals: &[Signal], exits: &Exits, costs: &CostModel) -> Result<BacktestResult> {
    run_exits_sided(bars, signals, exits, exits, costs)
}

/// [`run_exits`] with one set of exits for longs (BUY) and another for shorts (SELL), e.g. a
/// [`RiskProfile`] whose SELL levels differ from its BUY levels.
pub fn run_exits_sided(
    bars: &Bars,
    signals: &[Signal],
    long: &Exits,
    short: &Exits,
    costs: &CostModel,
) -> Result<BacktestResult> {
    costs.validate().map_err(|e| BacktestError::InvalidParameter(e.to_string()))?;
    let n = bars.len();
    if signals.len() != n {
        return Err(BacktestError::InvalidInput(format!("{} decisions for {n} bars", signals.len())));
    }
    let (cfg_long, cfg_short) = (long.ladder(), short.ladder());
    cfg_long.validate().map_err(|e| BacktestError::InvalidParameter(e.to_string()))?;
    cfg_short.validate().map_err(|e| BacktestError::InvalidParameter(e.to_string()))?;
    let per_side = costs.per_side_bps() * vane_costs::BP;
    let close = bars.close();
    let mut returns = vec![0.0; n];
    let mut positions = vec![0.0; n];
    let mut trades = Vec::new();
    let mut t = 0;
    while t + 1 < n {
        let side = match signals[t] {
            Signal::Buy => Side::Long,
            Signal::Sell => Side::Short,
            Signal::Hold => {
                t += 1;
                continue;
            }
        };
        let s = if side == Side::Long { 1.0 } else { -1.0 };
        let cfg = if side == Side::Long { &cfg_long } else { &cfg_short };
        let out = simulate(bars, t, close[t], side, cfg);
        // Mark to market: the entry cost is paid in the first period.
        returns[t + 1] -= per_side;
        let mut left = 1.0;
        let mut fills = out.fills.iter().peekable();
        for j in t + 1..=out.exit_bar {
            let mut r = 0.0;
            let mut exiting = 0.0;
            while let Some(f) = fills.next_if(|f| f.bar == j) {
                r += f.fraction * s * (f.price / close[j - 1] - 1.0) - f.fraction * per_side;
                exiting += f.fraction;
            }
            let staying = left - exiting;
            r += staying * s * (close[j] / close[j - 1] - 1.0);
            returns[j] += r;
            positions[j - 1] = s * left;
            left = staying;
        }
        positions[out.exit_bar] = s * left.max(0.0);
        let net = out.gross_return - per_side * (1.0 + out.fills.iter().map(|f| f.fraction).sum::<f64>());
        trades.push(Trade { entry_bar: t, exit_bar: out.exit_bar, side: s as i8, net_return: net });
        t = out.exit_bar.max(t + 1);
    }
    Ok(BacktestResult { returns, positions, trades })
}
