//! `vane wfo`: walk-forward optimisation of one model's grid by a trading metric (seed 003).

use std::fmt::Write as _;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use vane_core::Timestamp;
use vane_market_data::ParquetStore;
use vane_pipeline::PipelineError;
use vane_pipeline::wfo::{Grid, WfoConfig, WfoModel, WfoProgress, WfoReport, run_wfo};

use super::runs::{RunOutcome, RunStart, plots_in, record_run};
use crate::args::wfo::WfoArgs;
use crate::output::Render;

/// Flag errors (the pipeline's config errors here name a flag) exit as usage errors (also used
/// by `train-test`).
pub(crate) fn flag(e: PipelineError) -> anyhow::Error {
    match e {
        PipelineError::Config(m) => crate::failure::usage(m),
        e => e.into(),
    }
}

pub(crate) fn run(a: WfoArgs, quiet: bool) -> Result<WfoReport> {
    let model: WfoModel = a.model.parse().map_err(flag)?;
    // Flags of the burn models (and the label horizon, which the kNN scan does not use) are
    // refused for a model that would ignore them.
    let burn = matches!(model, WfoModel::Sequence(_));
    let unused = [
        ("--epochs", a.epochs != 30 && !burn),
        ("--seq-len", a.seq_len != 16 && !burn),
        ("--horizon", a.horizon.is_some() && model == WfoModel::LorentzianKnn),
        ("--theta", a.theta.is_some() && model == WfoModel::LorentzianKnn),
    ];
    if let Some((f, _)) = unused.iter().find(|(_, bad)| *bad) {
        return Err(crate::failure::usage(format!(
            "{f} does not apply to --model {model} (see `vane wfo --help` for which models each flag tunes); drop it"
        )));
    }
    let grid = a.grid.as_deref().map(Grid::parse).transpose().map_err(flag)?;
    let cfg = WfoConfig {
        model,
        symbol: a.symbol,
        interval: a.interval,
        data_days: Some(a.data_days),
        window_days: a.window_size,
        test_days: a.test_size,
        epochs: a.epochs,
        optimize: a.optimize_metric,
        grid,
        fee_bps: a.fee_bps,
        slip_bps: a.slip_bps,
        long_only: a.long_only,
        horizon: a.horizon,
        theta: a.theta,
        seq_len: a.seq_len,
        ..WfoConfig::default()
    };
    let start = RunStart {
        verb: "wfo".into(),
        model: cfg.model.to_string(),
        symbols: vec![cfg.symbol.to_string()],
        interval: Some(cfg.interval.to_string()),
        config: serde_json::to_value(&cfg).unwrap_or_default(),
    };
    let store = ParquetStore::new(&a.data.data_dir);
    let work = || {
        let mut bar: Option<ProgressBar> = None;
        let mut progress = |p: WfoProgress| {
            if quiet {
                return;
            }
            let b = bar.get_or_insert_with(|| {
                let b = ProgressBar::new(p.total as u64);
                b.set_style(
                    ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} fits {msg}")
                        .expect("valid template")
                        .progress_chars("=> "),
                );
                b
            });
            b.set_position(p.done as u64);
            b.set_message(p.message);
        };
        let report = run_wfo(&store, &cfg, &a.out, &mut progress);
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        report.map_err(flag)
    };
    let (report, _) = record_run(&a.record, start, work, outcome)?;
    Ok(report)
}

/// The run record of a wfo session: the stitched out-of-sample metrics, the returns, the
/// window metrics as `windows.csv`, the plots.
fn outcome(r: &WfoReport) -> RunOutcome {
    let m = &r.stitched;
    let mut metrics = vec![
        ("oos_total_return".to_string(), m.total_return),
        ("oos_sharpe_ratio".to_string(), m.sharpe),
        ("oos_sortino_ratio".to_string(), m.sortino),
        ("oos_calmar_ratio".to_string(), m.calmar),
        ("oos_max_drawdown".to_string(), m.max_drawdown),
        ("oos_win_rate".to_string(), m.trade_win_rate),
        ("oos_profitable_periods".to_string(), m.profitable_periods),
        ("oos_profit_factor".to_string(), m.profit_factor),
        ("oos_trades".to_string(), m.trade_count as f64),
        ("mean_degradation".to_string(), r.mean_degradation),
        ("windows".to_string(), r.windows.len() as f64),
        ("trials".to_string(), r.trials as f64),
    ];
    if let Some(d) = &r.deflated_sharpe {
        metrics.push(("deflated_sharpe".to_string(), d.dsr));
    }
    let mut returns = Vec::new();
    let mut files = Vec::new();
    if let Some(p) = r.files.get("oos_returns")
        && let Ok(text) = std::fs::read_to_string(p)
        && let Ok(rows) = vane_artifact::runs::parse_returns(p, &text)
    {
        returns = rows;
    }
    if let Some(p) = r.files.get("window_metrics")
        && let Ok(bytes) = std::fs::read(p)
    {
        files.push((vane_artifact::runs::WINDOWS_FILE.to_string(), bytes));
    }
    let plots = r.files.get("visualizations").map(|d| plots_in(d, "")).unwrap_or_default();
    let mut notes = Vec::new();
    if !r.deflated_sharpe_note.is_empty() {
        notes.push(format!("no deflated Sharpe ratio: {}", r.deflated_sharpe_note));
    }
    RunOutcome {
        metrics,
        returns,
        plots,
        files,
        artifacts: r.files.values().cloned().collect(),
        notes,
        ..RunOutcome::default()
    }
}

/// A metric for people: NaN as "–".
pub(crate) fn num(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let s = format!("{x:.decimals$}");
    // -0.0, or a tiny negative rounded to zero, prints without the sign ("0.00", not "-0.00").
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => s,
    }
}

/// A return for people: signed percent, NaN as "–".
pub(crate) fn pct(x: f64) -> String {
    if x.is_finite() { format!("{:+.2}%", 100.0 * x) } else { "–".into() }
}

fn day(ms: i64) -> String {
    Timestamp(ms).to_string().chars().take(10).collect()
}

impl Render for WfoReport {
    fn human(&self) -> String {
        let c = &self.config;
        let metric = c.optimize.name();
        let mut s = format!(
            "walk-forward optimisation of {} on {} {}: {} windows of {} train + {} test days ({:.1} days of bars), \
             {} candidates each, chosen by {metric} on the last {:.0}% of each train window (purged); costs {} + {} bps per side{}\n",
            c.model,
            c.symbol,
            c.interval,
            self.windows.len(),
            c.window_days,
            c.test_days,
            self.days_used,
            self.candidates,
            100.0 * c.valid_frac,
            c.fee_bps,
            c.slip_bps,
            if c.long_only { ", long only" } else { "" }
        );
        let _ = writeln!(
            s,
            "\n{:>3}  {:<23}  {:<28}  {:>10}  {:>10}  {:>9}  {:>8}",
            "win",
            "test period (UTC)",
            "chosen",
            format!("is {}", short(metric)),
            format!("oos {}", short(metric)),
            "oos ret",
            "oos acc"
        );
        for w in &self.windows {
            let params: Vec<String> = w.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let _ = writeln!(
                s,
                "{:>3}  {} → {}  {:<28}  {:>10}  {:>10}  {:>9}  {:>8}",
                w.span.window,
                day(w.span.test_start_ms),
                day(w.span.test_end_ms - 1),
                params.join(" "),
                num(c.optimize.of(&w.in_sample), 3),
                num(c.optimize.of(&w.out_of_sample), 3),
                pct(w.out_of_sample.total_return),
                num(w.oos_accuracy, 3)
            );
        }
        let _ = writeln!(
            s,
            "is = in sample: the validation slice the choice was made on; oos = out of sample: the test window, \
             never seen before; returns after costs; acc = share of decisions equal to the labels"
        );
        let m = &self.stitched;
        let _ = writeln!(
            s,
            "\nstitched out of sample ({} bars): total return {}, Sharpe {}, Sortino {}, max drawdown {}, trades {} (win rate {})",
            m.periods,
            pct(m.total_return),
            num(m.sharpe, 2),
            num(m.sortino, 2),
            pct(m.max_drawdown),
            m.trade_count,
            num(m.trade_win_rate, 3)
        );
        let b = &self.buy_and_hold;
        let _ = writeln!(
            s,
            "buy and hold over the same bars (no costs): total return {}, Sharpe {}, max drawdown {}",
            pct(b.total_return),
            num(b.sharpe, 2),
            pct(b.max_drawdown)
        );
        let _ = writeln!(
            s,
            "in-sample → out-of-sample degradation of {metric}: {} on average (positive: the choice traded worse than it looked)",
            num(self.mean_degradation, 3)
        );
        match &self.deflated_sharpe {
            Some(d) => {
                let _ = writeln!(
                    s,
                    "deflated Sharpe ratio: {} (the probability that the stitched curve's true Sharpe beats the best of {} \
                     skill-less trials = candidates × windows; {} without that correction)",
                    num(d.dsr, 3),
                    d.n_trials,
                    num(d.psr, 3)
                );
            }
            None => {
                let _ = writeln!(s, "deflated Sharpe ratio: none ({})", self.deflated_sharpe_note);
            }
        }
        let _ = writeln!(s, "final model: {}", self.final_rule);
        for (k, p) in &self.files {
            let _ = writeln!(s, "  {k}: {}", p.display());
        }
        s
    }
}

fn short(metric: &str) -> &str {
    match metric {
        "sharpe_ratio" => "Sharpe",
        "sortino_ratio" => "Sortino",
        "calmar_ratio" => "Calmar",
        "total_return" => "return",
        "win_rate" => "win rate",
        m => m,
    }
}

#[cfg(test)]
mod tests {
    use super::num;

    #[test]
    fn numbers_that_round_to_zero_print_without_a_sign() {
        assert_eq!(num(-0.0, 2), "0.00");
        assert_eq!(num(-0.0004, 2), "0.00");
        assert_eq!(num(-0.004, 2), "0.00");
        assert_eq!(num(-0.006, 2), "-0.01");
        assert_eq!(num(1.234, 1), "1.2");
        assert_eq!(num(f64::NAN, 2), "–");
    }
}
