//! `vane train-test`: seed 003's basic train/test workflow.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::Result;
use vane_artifact::runs::{HistoryRow, ReturnRow};
use vane_core::Timestamp;
use vane_market_data::ParquetStore;
use vane_pipeline::train_test::{TrainTestConfig, TrainTestReport, run_train_test};
use vane_pipeline::wfo::{METRIC_NAMES, WfoConfig, WfoModel, metric_value};

use super::runs::{RunOutcome, RunStart, record_run};
use super::wfo::{flag, num, pct};
use crate::args::train_test::TrainTestArgs;
use crate::output::Render;

/// Hyperparameters of another model are refused rather than silently ignored (`--model gbdt
/// --epochs 5` trains the trees as if it were not there). A flag with a default counts as given
/// when its value differs from it.
fn foreign_flags(a: &TrainTestArgs, model: WfoModel) -> Result<()> {
    let burn = matches!(model, WfoModel::Sequence(_));
    let knn = model == WfoModel::LorentzianKnn;
    let flags: [(&str, bool, bool); 11] = [
        // The kNN scan labels by the sign of close[t+4] − close[t] (docs/wfo.md).
        ("--horizon", a.horizon.is_some(), !knn),
        ("--theta", a.theta.is_some(), !knn),
        ("--epochs", a.epochs != 50, burn),
        ("--batch-size", a.batch_size != 64, burn),
        ("--seq-len", a.seq_len != 16, burn),
        ("--hidden", a.hidden.is_some(), burn),
        ("--dropout", a.dropout.is_some(), burn),
        ("--lr", a.lr.is_some(), burn || model == WfoModel::Gbdt),
        ("--depth", a.depth.is_some(), model == WfoModel::Gbdt),
        ("--neighbors", a.neighbors.is_some(), model == WfoModel::LorentzianKnn),
        ("--features", a.features.is_some(), model == WfoModel::LorentzianKnn),
    ];
    for (flag, given, used) in flags {
        if given && !used {
            return Err(crate::failure::usage(format!(
                "{flag} does not apply to --model {model} (see `vane train-test --help` for which model each flag tunes); drop it"
            )));
        }
    }
    Ok(())
}

/// Fewest labelled rows fitted on, and validation rows, that `train-test` accepts: fewer trains a
/// model on a handful of rows and scores it on none (`--data-days 2` at 4h fitted a GBDT on 2 rows
/// with 0 validation rows and printed a profit factor).
pub(crate) const MIN_FIT_ROWS: usize = 30;
/// See [`MIN_FIT_ROWS`].
pub(crate) const MIN_VALID_ROWS: usize = 10;

/// Rows fitted on, validation rows and labelled test bars that `n` consecutive bars give, split as
/// `vane_pipeline::train_test::split` does: test = the last `test_size` of the bars, validation =
/// the last `valid_frac` of the rest; a row's label needs `horizon` later bars inside its own part.
pub(crate) fn split_rows(n: usize, test_size: f64, valid_frac: f64, horizon: usize) -> [usize; 3] {
    let test = ((n as f64) * test_size).round() as usize;
    let test_start = n.saturating_sub(test);
    let valid_start = test_start - ((test_start as f64) * valid_frac).round() as usize;
    [
        valid_start.saturating_sub(horizon),
        (test_start - valid_start).saturating_sub(horizon),
        test.saturating_sub(horizon),
    ]
}

/// Refuses a `--data-days` whose bars give fewer than [`MIN_FIT_ROWS`] fit rows, [`MIN_VALID_ROWS`]
/// validation rows or no labelled test bar, naming the smallest `--data-days` that would do. A
/// series that cannot be read is left to the pipeline, which says why.
fn enough_days(a: &TrainTestArgs, model: WfoModel, store: &ParquetStore) -> Result<()> {
    let Ok(all) = store.read(&a.symbol, a.interval) else { return Ok(()) };
    let Some(&last) = all.open_time().last() else { return Ok(()) };
    let step = a.interval.millis();
    let from = last + step - i64::from(a.data_days) * vane_core::DAY_MS;
    let n = all.len() - all.open_time().partition_point(|&t| t < from);
    let horizon = match model {
        WfoModel::LorentzianKnn => vane_pipeline::wfo::KNN_HORIZON,
        _ => a.horizon.unwrap_or_else(|| vane_pipeline::wfo::default_horizon(a.interval)),
    };
    let valid_frac = WfoConfig::default().valid_frac;
    let ok = |n: usize| {
        let [fit, valid, test] = split_rows(n, a.test_size, valid_frac, horizon);
        fit >= MIN_FIT_ROWS && valid >= MIN_VALID_ROWS && test >= 1
    };
    if ok(n) {
        return Ok(());
    }
    let [fit, valid, _] = split_rows(n, a.test_size, valid_frac, horizon);
    let need = (n..n + 1_000_000).find(|&m| ok(m)).unwrap_or(n);
    let per_day = (vane_core::DAY_MS / step).max(1) as usize;
    let min_days = need.div_ceil(per_day).max(1);
    let stored = if all.len() < need {
        format!(" (the store holds {} bars of {} {}: import or download more)", all.len(), a.symbol, a.interval)
    } else {
        String::new()
    };
    Err(crate::failure::usage(format!(
        "--data-days {}: {n} bars of {} {} give {fit} rows to fit on and {valid} validation rows; train-test needs at \
         least {MIN_FIT_ROWS} and {MIN_VALID_ROWS} (label horizon {horizon} bars, --test-size {}): use --data-days \
         {min_days} or more{stored}",
        a.data_days, a.symbol, a.interval, a.test_size
    )))
}

pub(crate) fn run(a: TrainTestArgs, quiet: bool) -> Result<TrainTestReport> {
    let model: WfoModel = a.model.parse().map_err(flag)?;
    if !(a.test_size > 0.0 && a.test_size < 1.0) {
        return Err(crate::failure::usage(format!(
            "--test-size {}: must be a fraction in (0, 1), e.g. 0.2 (the most recent share of the bars)",
            a.test_size
        )));
    }
    foreign_flags(&a, model)?;
    let store = ParquetStore::new(&a.data.data_dir);
    enough_days(&a, model, &store)?;
    let mut params = BTreeMap::new();
    match model {
        WfoModel::Sequence(_) => {
            params.insert("lr".to_string(), a.lr.unwrap_or(0.001));
            params.insert("batch".to_string(), a.batch_size as f64);
            if let Some(h) = a.hidden {
                params.insert("hidden".to_string(), h as f64);
            }
            if let Some(d) = a.dropout {
                params.insert("dropout".to_string(), d);
            }
        }
        WfoModel::Gbdt => {
            if let Some(lr) = a.lr {
                params.insert("lr".to_string(), lr);
            }
            if let Some(d) = a.depth {
                params.insert("depth".to_string(), d as f64);
            }
        }
        WfoModel::LorentzianKnn => {
            if let Some(k) = a.neighbors {
                params.insert("neighbors".to_string(), k as f64);
            }
            if let Some(f) = a.features {
                params.insert("features".to_string(), f as f64);
            }
        }
    }
    let cfg = TrainTestConfig {
        base: WfoConfig {
            model,
            symbol: a.symbol.clone(),
            interval: a.interval,
            data_days: Some(a.data_days),
            epochs: a.epochs,
            fee_bps: a.fee_bps,
            slip_bps: a.slip_bps,
            long_only: a.long_only,
            horizon: a.horizon,
            theta: a.theta,
            seq_len: a.seq_len,
            grid: None,
            ..WfoConfig::default()
        },
        test_size: a.test_size,
        params,
    };
    let start = RunStart {
        verb: "train-test".into(),
        model: model.to_string(),
        symbols: vec![a.symbol.to_string()],
        interval: Some(a.interval.to_string()),
        config: serde_json::to_value(&cfg).unwrap_or_default(),
    };
    let work = || {
        let mut progress = |m: &str| {
            if !quiet {
                eprintln!("{m}");
            }
        };
        run_train_test(&store, &cfg, &a.save_path, &mut progress).map_err(flag)
    };
    let (report, _) = record_run(&a.record, start, work, outcome)?;
    Ok(report)
}

/// The run record of a train-test session.
fn outcome(r: &TrainTestReport) -> RunOutcome {
    // Seed 003's metric list under its names (`win_rate`: trades), as `vane wfo` records them.
    let mut metrics: Vec<(String, f64)> =
        METRIC_NAMES.iter().map(|n| (n.to_string(), metric_value(&r.trading, n).unwrap_or(f64::NAN))).collect();
    metrics.push(("trades".to_string(), r.trading.trade_count as f64));
    metrics.push(("accuracy".to_string(), r.classification.accuracy));
    metrics.push(("macro_f1".to_string(), r.classification.macro_f1));
    metrics.push(("buy_and_hold_total_return".to_string(), r.buy_and_hold.total_return));
    let h = &r.history;
    let history = (0..h.train.len())
        .map(|i| HistoryRow { epoch: i + 1, train_loss: h.train[i], valid_loss: h.valid.get(i).copied() })
        .collect();
    let returns = r.returns.iter().map(|&(t, x)| ReturnRow { open_time_ms: t, window: 0, ret: x }).collect();
    let mut plots = Vec::new();
    if let Some(p) = r.files.get("loss_curve") {
        plots.push(("loss_curve.png".to_string(), p.clone()));
        plots.push(("loss_curve.svg".to_string(), p.with_extension("svg")));
    }
    RunOutcome {
        metrics,
        history,
        returns,
        plots,
        artifacts: r.files.values().cloned().collect(),
        notes: r.notes.clone(),
        ..RunOutcome::default()
    }
}

fn day(ms: i64) -> String {
    Timestamp(ms).to_string().chars().take(16).collect()
}

impl Render for TrainTestReport {
    fn human(&self) -> String {
        let params: Vec<String> = self.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut s = format!(
            "train/test of {} on {} {} ({:.1} days of bars), {}\n",
            self.model,
            self.symbol,
            self.interval,
            self.days_used,
            params.join(" ")
        );
        let _ = writeln!(
            s,
            "  fit        {} → {}  {} labelled rows (purged before validation)",
            day(self.first_ms),
            day(self.valid_start_ms),
            self.fit_rows
        );
        let _ = writeln!(
            s,
            "  validation {} → {}  {} rows",
            day(self.valid_start_ms),
            day(self.test_start_ms),
            self.valid_rows
        );
        let _ =
            writeln!(s, "  test       {} → {}  {} bars", day(self.test_start_ms), day(self.last_ms), self.test_bars);
        let c = &self.classification;
        let _ = writeln!(
            s,
            "\ntest split: accuracy {} macro-F1 {} over {} labelled bars (labels: horizon {} bars, θ {})",
            num(c.accuracy, 3),
            num(c.macro_f1, 3),
            c.n,
            self.horizon,
            self.theta
        );
        let m = &self.trading;
        let b = &self.buy_and_hold;
        let _ = writeln!(
            s,
            "trading ({} + {} bps per side): total return {} (buy and hold {}), Sharpe {}, Sortino {}, max drawdown {}, \
             trades {}, win rate (trades) {}, win rate (periods) {}, profit factor {}",
            self.fee_bps,
            self.slip_bps,
            pct(m.total_return),
            pct(b.total_return),
            num(m.sharpe, 2),
            num(m.sortino, 2),
            pct(m.max_drawdown),
            m.trade_count,
            num(m.trade_win_rate, 3),
            num(m.win_rate, 3),
            num(m.profit_factor, 2)
        );
        for n in &self.notes {
            let _ = writeln!(s, "note: {n}");
        }
        for (k, p) in &self.files {
            let _ = writeln!(s, "  {k}: {}", p.display());
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_rows_follow_the_pipeline_split() {
        // 12 bars (2 days of 4h), 20 % test, 20 % validation, horizon 6: 2 test bars, 2
        // validation bars, 8 fit bars of which 2 have a label ending before validation.
        assert_eq!(split_rows(12, 0.2, 0.2, 6), [2, 0, 0]);
        // 90 days of 4h: 540 bars → 108 test, 86 validation, 346 fit bars; the pipeline printed
        // "fitting gbdt on 340 rows (80 validation rows), testing on 108 bars".
        assert_eq!(split_rows(540, 0.2, 0.2, 6), [340, 80, 102]);
        assert_eq!(split_rows(540, 0.2, 0.2, 4), [342, 82, 104]);
        assert_eq!(split_rows(0, 0.2, 0.2, 6), [0, 0, 0]);
    }
}
