//! `vane backtest`.

use anyhow::{Context, Result};
use vane_backtest::{BacktestError, Metrics, forward_fill, run_positions};
use vane_core::Interval;
use vane_costs::CostModel;
use vane_market_data::read_bars_file;
use vane_tabular::Table;

use crate::args::backtest::BacktestArgs;
use crate::failure::usage;

pub(crate) fn run(a: BacktestArgs) -> Result<Metrics> {
    if let Some(out) = &a.returns_out {
        vane_artifact::check_output(out, &[&a.prices, &a.positions], &[])?;
    }
    if !(a.max_leverage.is_finite() && a.max_leverage > 0.0) {
        return Err(usage(format!("--max-leverage {} must be a positive number", a.max_leverage)));
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
    let positions = forward_fill(bars.open_time(), &times, &held)
        .with_context(|| format!("{} against the bars of {}", a.positions.display(), a.prices.display()))?;
    let costs = CostModel { fee_bps: a.fee_bps, slip_bps: a.slip_bps, funding_bps_per_8h: 0.0 };
    let bt = run_positions(bars.close(), &positions, &costs)?;
    let ppy = match a.periods_per_year {
        Some(p) => p,
        None => Interval::infer(bars.open_time())
            .context("cannot infer the bar interval: pass --periods-per-year")?
            .periods_per_year(),
    };
    if let Some(out) = &a.returns_out {
        let mut s = String::from("open_time_ms,return\n");
        for (t, r) in bars.open_time().iter().zip(&bt.returns).skip(1) {
            s.push_str(&format!("{t},{r}\n"));
        }
        vane_artifact::write_atomic(out, s.as_bytes())?;
    }
    Ok(bt.metrics(ppy))
}
