//! `vane metrics`, and the rendering of [`Metrics`] (also `vane backtest`'s output).

use anyhow::Result;
use vane_backtest::{Metrics, compute_metrics};
use vane_tabular::Table;

use crate::args::metrics::MetricsArgs;
use crate::failure::usage;
use crate::output::Render;

pub(crate) fn run(a: MetricsArgs) -> Result<Metrics> {
    let table = Table::read(&a.returns)?;
    super::tabular::need_column(&table, &a.returns, "one period's return per row", "return")?;
    let r = table.column_where::<f64>("return", |x| x.is_finite() && *x > -1.0, "must be finite and > −1")?;
    if a.periods_per_year.is_nan() || a.periods_per_year <= 0.0 {
        return Err(usage(format!(
            "--periods-per-year {} must be a positive number (e.g. 2190 for 4h bars, 365 for 1d)",
            a.periods_per_year
        )));
    }
    Ok(compute_metrics(&r, a.periods_per_year, None, &[]))
}

impl Render for Metrics {
    fn human(&self) -> String {
        let v = serde_json::to_value(self).unwrap_or_default();
        let mut s = String::new();
        for (k, x) in v.as_object().into_iter().flatten() {
            // Name which win rate each is (the JSON keys stay `win_rate`, `trade_win_rate`).
            let k = match k.as_str() {
                "win_rate" => "win rate (periods)",
                "trade_win_rate" => "win rate (trades)",
                k => k,
            };
            s.push_str(&format!("{k:<24} {}\n", if x.is_null() { "n/a".to_string() } else { x.to_string() }));
        }
        s
    }
}
