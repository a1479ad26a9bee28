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

pub(crate) fn run(a: TrainTestArgs, quiet: bool) -> Result<TrainTestReport> {
    let model: WfoModel = a.model.parse().map_err(flag)?;
    if !(a.test_size > 0.0 && a.test_size < 1.0) {
        return Err(crate::failure::usage(format!(
            "--test-size {}: must be a fraction in (0, 1), e.g. 0.2 (the most recent share of the bars)",
            a.test_size
        )));
    }
    foreign_flags(&a, model)?;
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
    let store = ParquetStore::new(&a.data.data_dir);
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
