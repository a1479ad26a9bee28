//! Trading metrics (seeds 003 and 004) with quantstats/empyrical conventions. `P` is the number
//! of periods per year (24/7 markets: 4h → 2190). Undefined values (a ratio over zero) are NaN,
//! serialised as JSON `null`. The standard deviation of a constant series is zero, not the
//! rounding noise of its mean, so a constant series has no Sharpe (null) rather than 10¹⁶; huge
//! returns (10³⁰⁰) are scaled before squaring instead of overflowing to a Sharpe of 0.

use serde::{Deserialize, Serialize};

use crate::{BacktestResult, Trade};

/// The metrics of a return series (and, when given, its trades and positions).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Periods in the series.
    pub periods: usize,
    /// `E_N − 1` with `E = cumprod(1 + r)`.
    pub total_return: f64,
    /// `E_N^(P/N) − 1`.
    pub cagr: f64,
    /// `mean(r)/std(r, ddof 1)·√P`.
    pub sharpe: f64,
    /// `mean(r)/√(mean(min(r, 0)²))·√P`.
    pub sortino: f64,
    /// `CAGR/|max_drawdown|`.
    pub calmar: f64,
    /// `min(E/cummax(E)) − 1` over `E = [1, cumprod(1 + r)]` (≤ 0).
    pub max_drawdown: f64,
    /// `std(r, ddof 1)·√P`.
    pub annual_volatility: f64,
    /// Win rate **over periods**: `#(r > 0)/#(r ≠ 0)` (flat periods do not count). The win rate
    /// over trades is [`Metrics::trade_win_rate`].
    pub win_rate: f64,
    /// `#(r > 0)/N`.
    pub profitable_periods: f64,
    /// `Σ r⁺ / |Σ r⁻|` over periods.
    pub profit_factor: f64,
    /// Net profit over the maximum drawdown: `total_return/|max_drawdown|`.
    pub recovery_factor: f64,
    /// Longest run of periods with `r < 0`.
    pub max_consecutive_losses: usize,
    /// Longest run of periods with `r > 0`.
    pub max_consecutive_wins: usize,
    /// Share of periods with a non-zero position (NaN without positions).
    pub exposure: f64,
    /// Number of trades.
    pub trade_count: usize,
    /// Win rate **over trades**: the share of trades with a positive net return (NaN without
    /// trades). The win rate over periods is [`Metrics::win_rate`].
    pub trade_win_rate: f64,
    /// Mean net return per trade.
    pub expectancy: f64,
    /// Mean winning trade / |mean losing trade|.
    pub risk_reward: f64,
    /// Mean bars held per trade.
    pub mean_holding_bars: f64,
}

/// The largest |x| (1 when all are 0 or the slice is empty), to scale sums of squares by.
fn scale(v: &[f64]) -> f64 {
    let s = v.iter().fold(0.0f64, |a, x| a.max(x.abs()));
    if s > 0.0 && s.is_finite() { s } else { 1.0 }
}

fn mean(v: &[f64]) -> f64 {
    let s = scale(v);
    v.iter().map(|x| x / s).sum::<f64>() / v.len() as f64 * s
}

/// Sample standard deviation (ddof 1), exactly 0 for a series whose values are all equal.
fn std1(v: &[f64]) -> f64 {
    if v.windows(2).all(|w| w[0] == w[1]) {
        return 0.0;
    }
    let s = scale(v);
    let m = mean(v) / s;
    (v.iter().map(|x| (x / s - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0)).sqrt() * s
}

/// `√(mean(min(r, 0)²))`, scaled like [`std1`].
fn downside_deviation(r: &[f64]) -> f64 {
    let s = scale(r);
    (r.iter().map(|x| (x.min(0.0) / s).powi(2)).sum::<f64>() / r.len() as f64).sqrt() * s
}

/// NaN instead of ±Inf.
fn fin(x: f64) -> f64 {
    if x.is_finite() { x } else { f64::NAN }
}

fn runs(r: &[f64], pred: impl Fn(f64) -> bool) -> usize {
    let (mut best, mut cur) = (0, 0);
    for &x in r {
        if pred(x) {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

/// Computes the metrics of returns `r` (per period) with `periods_per_year`; `positions` (one
/// per period, for exposure) and `trades` are optional.
pub fn compute(r: &[f64], periods_per_year: f64, positions: Option<&[f64]>, trades: &[Trade]) -> Metrics {
    let n = r.len();
    let p = periods_per_year;
    let mut e = 1.0;
    let mut peak = 1.0f64;
    let mut mdd = 0.0f64;
    for &x in r {
        e *= 1.0 + x;
        peak = peak.max(e);
        mdd = mdd.min(e / peak - 1.0);
    }
    let total_return = e - 1.0;
    let cagr = if n > 0 { fin(e.powf(p / n as f64) - 1.0) } else { f64::NAN };
    let m = if n > 0 { mean(r) } else { f64::NAN };
    let sd = if n > 1 { std1(r) } else { f64::NAN };
    let downside = if n > 0 { downside_deviation(r) } else { f64::NAN };
    let pos_sum: f64 = r.iter().filter(|&&x| x > 0.0).sum();
    let neg_sum: f64 = r.iter().filter(|&&x| x < 0.0).sum();
    let wins = r.iter().filter(|&&x| x > 0.0).count();
    let nonzero = r.iter().filter(|&&x| x != 0.0).count();
    let tw: Vec<f64> = trades.iter().map(|t| t.net_return).filter(|&x| x > 0.0).collect();
    let tl: Vec<f64> = trades.iter().map(|t| t.net_return).filter(|&x| x < 0.0).collect();
    let nt = trades.len();
    Metrics {
        periods: n,
        total_return,
        cagr,
        sharpe: fin(m / sd * p.sqrt()),
        sortino: fin(m / downside * p.sqrt()),
        calmar: fin(cagr / mdd.abs()),
        max_drawdown: mdd,
        annual_volatility: sd * p.sqrt(),
        win_rate: fin(wins as f64 / nonzero as f64),
        profitable_periods: fin(wins as f64 / n as f64),
        profit_factor: fin(pos_sum / neg_sum.abs()),
        recovery_factor: fin(total_return / mdd.abs()),
        max_consecutive_losses: runs(r, |x| x < 0.0),
        max_consecutive_wins: runs(r, |x| x > 0.0),
        exposure: positions
            .map_or(f64::NAN, |ps| fin(ps.iter().filter(|&&x| x != 0.0).count() as f64 / ps.len() as f64)),
        trade_count: nt,
        trade_win_rate: fin(tw.len() as f64 / nt as f64),
        expectancy: fin(trades.iter().map(|t| t.net_return).sum::<f64>() / nt as f64),
        risk_reward: fin(mean(&tw) / mean(&tl).abs()),
        mean_holding_bars: fin(trades.iter().map(|t| t.bars_held() as f64).sum::<f64>() / nt as f64),
    }
}

impl BacktestResult {
    /// The metrics of this backtest: its returns from the first period on (`r[0]` is not a
    /// period), exposure of the positions held over those periods, and its trades.
    pub fn metrics(&self, periods_per_year: f64) -> Metrics {
        let r = self.returns.get(1..).unwrap_or(&[]);
        let held = &self.positions[..self.positions.len().saturating_sub(1)];
        compute(r, periods_per_year, Some(held), &self.trades)
    }

    /// The metrics of the periods `periods` only (bar indices: period `t` is the return over bar
    /// `t`, earned by the position decided at bar `t − 1`'s close; `1..len` is every period, as
    /// [`BacktestResult::metrics`]). The positions outside still shaped the returns inside (a
    /// position carried into the window earns its returns there), but returns outside are not
    /// scored. Exposure counts the positions held over those periods; the trades are those holding
    /// at least one of those periods, each with its whole net return (see
    /// [`BacktestResult::trades_in`]). An empty or out-of-range window gives the metrics of no
    /// periods (NaN ratios); callers check it first. Over `1..len` it equals
    /// [`BacktestResult::metrics`] except for a trade opened on the last bar, which holds no period.
    pub fn metrics_over(&self, periods_per_year: f64, periods: std::ops::Range<usize>) -> Metrics {
        let n = self.returns.len();
        let (a, b) = (periods.start.max(1).min(n), periods.end.min(n));
        let (a, b) = (a, b.max(a));
        let r = &self.returns[a..b];
        let held = &self.positions[a.saturating_sub(1)..b.saturating_sub(1).max(a.saturating_sub(1))];
        let trades: Vec<Trade> = self.trades_in(a..b).copied().collect();
        compute(r, periods_per_year, Some(held), &trades)
    }

    /// The trades holding at least one of the periods `periods` (bar indices as in
    /// [`BacktestResult::metrics_over`]): a trade holds the periods `entry_bar + 1 ..= exit_bar`.
    pub fn trades_in(&self, periods: std::ops::Range<usize>) -> impl Iterator<Item = &Trade> {
        self.trades.iter().filter(move |t| t.entry_bar + 1 < periods.end && t.exit_bar >= periods.start)
    }
}
