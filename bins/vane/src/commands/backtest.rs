//! `vane backtest`.

use anyhow::{Context, Result};
use vane_backtest::{Metrics, forward_fill, run_positions};
use vane_core::Interval;
use vane_costs::CostModel;
use vane_market_data::read_bars_file;
use vane_tabular::Table;

use crate::args::backtest::BacktestArgs;

pub(crate) fn run(a: BacktestArgs) -> Result<Metrics> {
    let bars = read_bars_file(&a.prices, None)?;
    let decisions = Table::read(&a.positions)?;
    let positions = forward_fill(
        bars.open_time(),
        &decisions.column::<i64>("open_time_ms")?,
        &decisions.column::<f64>("position")?,
    )
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
