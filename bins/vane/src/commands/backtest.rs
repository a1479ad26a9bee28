//! `vane backtest`.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;
use vane_backtest::{
    BacktestError, LadderSummary, Mapping, Metrics, RiskProfile, forward_fill, positions_from_signals, run_positions,
};
use vane_core::{Interval, Signal, Timestamp};
use vane_costs::CostModel;
use vane_market_data::read_bars_file;
use vane_tabular::Table;

use crate::args::backtest::{BacktestArgs, ExitsKind};
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
    /// `close-to-close` or `ladder`.
    pub(crate) exits: &'static str,
    /// With `--exits ladder`: the profile's leverage and reward/risk, fills per ladder step and
    /// trades by their last exit (over all trades of the price file, not only the window's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ladder: Option<LadderSummary>,
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
        if let Some(l) = &self.ladder {
            s.push_str(&format!(
                "{:<24} leverage {} (returns ×{}), reward/risk 1:{:.2}\n",
                "ladder exits", l.leverage, l.leverage, l.risk_reward
            ));
            let steps: Vec<String> = l
                .partial_closes
                .iter()
                .map(|c| format!("{}% @ +{}%: {}", pct(c.share), pct(c.trigger), c.count))
                .collect();
            s.push_str(&format!("{:<24} {}\n", "partial closes", steps.join(", ")));
            let e = &l.exits;
            s.push_str(&format!(
                "{:<24} stop-loss {}, breakeven {}, profit lock {}, take-profit {}, time {}{}\n",
                "exits by reason",
                e.stop_loss,
                e.breakeven,
                e.profit_lock,
                e.take_profit,
                e.time,
                if e.ladder > 0 { format!(", last ladder step {}", e.ladder) } else { String::new() }
            ));
        }
        s
    }
}

/// A fraction as a percentage without the binary noise (0.035 → 3.5).
fn pct(x: f64) -> f64 {
    (x * 100.0 * 1e9).round() / 1e9
}

/// The data rows' open times, refused unless strictly increasing (an error naming the line).
fn increasing_times(table: &Table, path: &Path) -> Result<Vec<i64>> {
    let times = table.column::<i64>("open_time_ms")?;
    if let Some(i) = times.windows(2).position(|w| w[1] <= w[0]) {
        let line = table.line(i + 1).unwrap_or(i + 3);
        return Err(BacktestError::InvalidInput(format!(
            "{}:{line}: open_time_ms {} {} the row before it ({}): rows must be in strictly increasing time order, one per bar",
            path.display(),
            times[i + 1],
            if times[i + 1] == times[i] { "repeats" } else { "comes before" },
            times[i]
        ))
        .into());
    }
    Ok(times)
}

/// One decision per bar from `open_time_ms,signal` (bars without a row: HOLD).
fn read_decisions(path: &Path, open_time: &[i64]) -> Result<Vec<Signal>> {
    let table = Table::read(path)?;
    let times = increasing_times(&table, path)?;
    let signals = table.column::<Signal>("signal")?;
    let mut out = vec![Signal::Hold; open_time.len()];
    for (i, (t, s)) in times.iter().zip(signals).enumerate() {
        let Ok(bar) = open_time.binary_search(t) else {
            let line = table.line(i).unwrap_or(i + 2);
            return Err(BacktestError::InvalidInput(format!(
                "{}:{line}: open_time_ms {t} ({}) is not a bar of the price file",
                path.display(),
                Timestamp(*t)
            ))
            .into());
        };
        out[bar] = s;
    }
    Ok(out)
}

pub(crate) fn run(a: BacktestArgs) -> Result<BacktestReport> {
    let input = match (&a.positions, &a.decisions) {
        (Some(p), None) | (None, Some(p)) => p,
        _ => return Err(usage("pass one of --positions FILE.csv and --decisions FILE.csv")),
    };
    let ladder = a.exits == ExitsKind::Ladder;
    if ladder && a.positions.is_some() {
        return Err(usage(
            "--exits ladder opens trades on decisions: pass --decisions FILE.csv (open_time_ms,signal with BUY/SELL/HOLD) instead of --positions",
        ));
    }
    if !ladder && a.risk.is_some() {
        return Err(usage("--risk applies to --exits ladder only: add --exits ladder or leave --risk out"));
    }
    let profile = match (&a.risk, ladder) {
        (Some(path), true) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the risk profile --risk {}", path.display()))?;
            Some(RiskProfile::from_toml(&text, &path.display().to_string())?)
        }
        (None, true) => {
            return Err(usage(
                "--exits ladder needs --risk FILE.toml, the risk profile (e.g. examples/seed004/risk_profile.toml)",
            ));
        }
        _ => None,
    };
    if let Some(out) = &a.returns_out {
        let mut inputs = vec![a.prices.as_path(), input.as_path()];
        inputs.extend(a.risk.as_deref());
        vane_artifact::check_output(out, &inputs, &[])?;
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
    if let Some(p) = a.periods_per_year
        && !(p.is_finite() && p > 0.0)
    {
        // 0 would print every annualised ratio as 0 (as `vane metrics` refuses it too).
        return Err(usage(format!(
            "--periods-per-year {p} must be a positive number (e.g. 2190 for 4h bars, 365 for 1d), or leave it out to use the bar interval's"
        )));
    }
    let bars = read_bars_file(&a.prices, None)?;
    let open_time = bars.open_time();
    let costs = CostModel { fee_bps: a.fee_bps, slip_bps: a.slip_bps, funding_bps_per_8h: 0.0 };
    let (bt, ladder_summary) = if let Some(path) = &a.positions {
        let decisions = Table::read(path)?;
        if decisions.header().iter().any(|h| h == "signal") && !decisions.header().iter().any(|h| h == "position") {
            return Err(usage(format!(
                "--positions {}: it has a `signal` column and no `position` column: pass BUY/SELL/HOLD decisions as --decisions {}",
                path.display(),
                path.display()
            )));
        }
        let times = increasing_times(&decisions, path)?;
        let max = a.max_leverage;
        let held = decisions.column_where::<f64>(
            "position",
            |p| p.is_finite() && p.abs() <= max,
            "must be a finite number with |position| at most --max-leverage",
        )?;
        let positions = forward_fill(open_time, &times, &held)
            .with_context(|| format!("{} against the bars of {}", path.display(), a.prices.display()))?;
        (run_positions(bars.close(), &positions, &costs)?, None)
    } else {
        let signals = read_decisions(input, open_time)?;
        match &profile {
            Some(p) => {
                let pb = p.backtest(&bars, &signals, &costs)?;
                (pb.result, Some(pb.summary))
            }
            None => (run_positions(bars.close(), &positions_from_signals(&signals, Mapping::LongShort), &costs)?, None),
        }
    };
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
        exits: if ladder { "ladder" } else { "close-to-close" },
        ladder: ladder_summary,
    })
}
