//! `vane backtest`.

use anyhow::{Context, Result};
use serde::Serialize;
use vane_backtest::{BacktestError, Metrics, forward_fill, run_positions};
use vane_core::{Interval, Timestamp};
use vane_costs::CostModel;
use vane_market_data::read_bars_file;
use vane_tabular::Table;

use crate::args::backtest::BacktestArgs;
use crate::failure::usage;
use crate::output::{Render, opt_time};

/// The metrics of the scored periods and the window they came from. JSON: the keys of
/// [`Metrics`] at the top level (as before windows existed) plus `window`.
#[derive(Debug, Serialize)]
pub(crate) struct BacktestReport {
    /// The metrics of the scored periods.
    #[serde(flatten)]
    pub(crate) metrics: Metrics,
    /// Which periods were scored.
    pub(crate) window: Window,
}

/// The scored window: `[from_ms, to_ms)` as asked (null: open), the open times of the first and
/// last scored periods, and how many periods were scored of how many in the price file.
#[derive(Debug, Serialize)]
pub(crate) struct Window {
    /// `--from` in ms (null: from the first period).
    pub(crate) from_ms: Option<i64>,
    /// `--to` in ms, exclusive (null: to the last period).
    pub(crate) to_ms: Option<i64>,
    /// Open time of the first scored period (null: none).
    pub(crate) first_period_ms: Option<i64>,
    /// Open time of the last scored period (null: none).
    pub(crate) last_period_ms: Option<i64>,
    /// Periods scored (= `periods`).
    pub(crate) periods_scored: usize,
    /// Periods in the price file (bars − 1).
    pub(crate) periods_total: usize,
    /// Trades counted that also hold periods outside the window (their whole net return counts).
    pub(crate) trades_straddling: usize,
}

impl Render for BacktestReport {
    fn human(&self) -> String {
        let w = &self.window;
        let mut s = self.metrics.human();
        s.push_str(&format!(
            "{:<24} {} .. {} ({} of {} periods scored{})\n",
            "window",
            opt_time(w.first_period_ms),
            opt_time(w.last_period_ms),
            w.periods_scored,
            w.periods_total,
            if w.trades_straddling > 0 {
                format!("; {} trade(s) straddle its bounds", w.trades_straddling)
            } else {
                String::new()
            }
        ));
        s
    }
}

pub(crate) fn run(a: BacktestArgs) -> Result<BacktestReport> {
    if let Some(out) = &a.returns_out {
        vane_artifact::check_output(out, &[&a.prices, &a.positions], &[])?;
    }
    if !(a.max_leverage.is_finite() && a.max_leverage > 0.0) {
        return Err(usage(format!("--max-leverage {} must be a positive number", a.max_leverage)));
    }
    if let (Some(f), Some(t)) = (a.from, a.to)
        && f >= t
    {
        return Err(usage(format!(
            "--from {f} is not before --to {t}: the window [--from, --to) is empty; pass a --to after --from"
        )));
    }
    let bars = read_bars_file(&a.prices, None)?;
    let decisions = Table::read(&a.positions)?;
    let times = decisions.column::<i64>("open_time_ms")?;
    if let Some(i) = times.windows(2).position(|w| w[1] <= w[0]) {
        let line = decisions.line(i + 1).unwrap_or(i + 3);
        return Err(BacktestError::InvalidInput(format!(
            "{}:{line}: open_time_ms {} {} the row before it ({}): positions must be in strictly increasing time order, one per bar",
            a.positions.display(),
            times[i + 1],
            if times[i + 1] == times[i] { "repeats" } else { "comes before" },
            times[i]
        ))
        .into());
    }
    let max = a.max_leverage;
    let held = decisions.column_where::<f64>(
        "position",
        |p| p.is_finite() && p.abs() <= max,
        "must be a finite number with |position| at most --max-leverage",
    )?;
    let open_time = bars.open_time();
    let positions = forward_fill(open_time, &times, &held)
        .with_context(|| format!("{} against the bars of {}", a.positions.display(), a.prices.display()))?;
    let costs = CostModel { fee_bps: a.fee_bps, slip_bps: a.slip_bps, funding_bps_per_8h: 0.0 };
    let bt = run_positions(bars.close(), &positions, &costs)?;
    let ppy = match a.periods_per_year {
        Some(p) => p,
        None => Interval::infer(open_time)
            .context("cannot infer the bar interval: pass --periods-per-year")?
            .periods_per_year(),
    };
    // Period t (t ≥ 1) is bar t: its return is earned over it, keyed by its open time.
    let n = open_time.len();
    let start = a.from.map_or(1, |f| open_time.partition_point(|&t| t < f.0).max(1));
    let end = a.to.map_or(n, |t| open_time.partition_point(|&x| x < t.0)).max(1);
    let windowed = a.from.is_some() || a.to.is_some();
    if windowed && start >= end {
        let flags = [a.from.map(|f| format!("--from {f}")), a.to.map(|t| format!("--to {t}"))]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let range = if n >= 2 {
            format!(
                "its periods open from {} to {} (pass --to after {} and --from at or before {})",
                Timestamp(open_time[1]),
                Timestamp(open_time[n - 1]),
                Timestamp(open_time[1]),
                Timestamp(open_time[n - 1])
            )
        } else {
            format!("it has {n} bar(s) and no period")
        };
        return Err(usage(format!("{flags} holds no period of {}: {range}", a.prices.display())));
    }
    let (start, end) = (start.min(n), end.max(start.min(n)));
    if let Some(out) = &a.returns_out {
        let mut s = String::from("open_time_ms,return\n");
        for (t, r) in open_time[start..end].iter().zip(&bt.returns[start..end]) {
            s.push_str(&format!("{t},{r}\n"));
        }
        vane_artifact::write_atomic(out, s.as_bytes())?;
    }
    let metrics = if windowed { bt.metrics_over(ppy, start..end) } else { bt.metrics(ppy) };
    let trades_straddling = bt.trades_in(start..end).filter(|t| t.entry_bar + 1 < start || t.exit_bar >= end).count();
    Ok(BacktestReport {
        metrics,
        window: Window {
            from_ms: a.from.map(|t| t.0),
            to_ms: a.to.map(|t| t.0),
            first_period_ms: (start < end).then(|| open_time[start]),
            last_period_ms: (start < end).then(|| open_time[end - 1]),
            periods_scored: end - start,
            periods_total: n.saturating_sub(1),
            trades_straddling,
        },
    })
}
