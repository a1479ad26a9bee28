//! `vane stack train` and `vane stack predict`.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use serde::Serialize;
use vane_core::{Interval, Signal, Symbol};
use vane_market_data::{ParquetStore, last_days, regularise};
use vane_models::DeviceKind;
use vane_stacking::resume::resume_dir;
use vane_stacking::{
    L1Resume, Stack, StackConfig, TrainOptions, TrainReport, artifacts_for_symbol, consensus, majority,
    symbol_artifacts_dir, train_stacks_with,
};

use super::runs::{RunOutcome, RunStart, record_run};
use crate::args::stack::{StackArgs, StackCommand, StackPredictArgs, StackTrainArgs};
use crate::output::Render;

/// Either verb's result.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum StackOutput {
    /// `stack train` of one symbol.
    Train(Box<TrainReport>),
    /// `stack train` of several symbols.
    TrainSymbols(SymbolsReport),
    /// `stack predict`.
    Predict(PredictOutput),
    /// `stack backtest`.
    Backtest(Box<super::stack_backtest::StackBacktestReport>),
}

/// `stack train --symbols A,B`: one report per symbol.
#[derive(Debug, Serialize)]
pub(crate) struct SymbolsReport {
    symbols: BTreeMap<String, TrainReport>,
}

/// `stack predict`'s answer.
#[derive(Debug, Serialize)]
pub(crate) struct PredictOutput {
    decision: Signal,
    tags: BTreeMap<String, TagOutput>,
    consensus: String,
    as_of: String,
}

#[derive(Debug, Serialize)]
struct TagOutput {
    l1: BTreeMap<String, f64>,
    l2: f64,
    l3: f64,
    vote: Signal,
}

impl Render for StackOutput {
    fn human(&self) -> String {
        match self {
            StackOutput::TrainSymbols(m) => m
                .symbols
                .iter()
                .map(|(sym, r)| format!("{sym}: {}", StackOutput::Train(Box::new(r.clone())).human()))
                .collect(),
            StackOutput::Train(r) => {
                let mut s = format!(
                    "stack trained on {} grid bars (stride {}, {} out-of-fold rows, {} held-out rows, history {} bars) in {:.1} s\n",
                    r.grid_bars,
                    r.stride,
                    r.train_rows,
                    r.valid_rows,
                    r.history,
                    r.seconds.get("total").copied().unwrap_or(f64::NAN)
                );
                if !r.l1_resumed.is_empty() {
                    s.push_str(&format!(
                        "L1 resumed (--resume): {}; trained: {}\n",
                        r.l1_resumed.join(", "),
                        if r.l1_trained.is_empty() { "none".to_string() } else { r.l1_trained.join(", ") }
                    ));
                }
                for (tag, m) in &r.tags {
                    let f = |l: &str, k: &str| m[l][k].as_f64().unwrap_or(f64::NAN);
                    s.push_str(&format!(
                        "{tag:>5}: log-loss L1 {:.4} L2 {:.4} L3 {:.4} (base rate {:.4}); L3 precision {:.3} at activity {:.3}, \
                         realised net edge {:.2} bps over {} trades; uplift over best L1 {:+.3}\n",
                        f("l1", "log_loss"),
                        f("l2", "log_loss"),
                        f("l3", "log_loss"),
                        f("l3", "base_rate_log_loss"),
                        f("l3", "precision"),
                        f("l3", "activity"),
                        f("l3", "realised_net_edge_bps"),
                        m["l3"]["trades"],
                        m["l3_precision_uplift_over_best_l1"].as_f64().unwrap_or(f64::NAN)
                    ));
                }
                s
            }
            StackOutput::Backtest(b) => b.human(),
            StackOutput::Predict(p) => {
                let mut s = format!("{} ({}) as of {}\n", p.decision.as_str(), p.consensus, p.as_of);
                for (tag, t) in &p.tags {
                    s.push_str(&format!("{tag:>5}: L2 {:.4} L3 {:.4} → {}\n", t.l2, t.l3, t.vote.as_str()));
                }
                s
            }
        }
    }
}

pub(crate) fn run(a: StackArgs, quiet: bool) -> Result<StackOutput> {
    match a.command {
        StackCommand::Train(t) => train(t, quiet),
        StackCommand::Predict(p) => predict(p).map(StackOutput::Predict),
        StackCommand::Backtest(b) => super::stack_backtest::run(b).map(|r| StackOutput::Backtest(Box::new(r))),
    }
}

fn grid_of(
    store: &ParquetStore,
    symbol: &Symbol,
    interval: Interval,
    days: u32,
) -> Result<(vane_market_data::GridBars, String)> {
    let bars = store.read(symbol, interval).with_context(|| format!("reading {symbol} {interval} from the store"))?;
    if bars.is_empty() {
        return Err(crate::failure::usage(format!(
            "no {symbol} {interval} bars in the store: download or import them first (vane download / vane import)"
        )));
    }
    let (bars, sel) = last_days(&bars, interval, days)?;
    Ok((regularise(&bars, interval)?, sel.describe()))
}

/// The symbols to train: `--symbols`, else the config's first.
fn symbols_of(a: &StackTrainArgs, cfg: &StackConfig) -> Result<Vec<Symbol>> {
    if !a.symbols.is_empty() {
        let mut out: Vec<Symbol> = Vec::new();
        for s in &a.symbols {
            if !out.contains(s) {
                out.push(s.clone());
            }
        }
        return Ok(out);
    }
    let first = cfg
        .data
        .symbols
        .first()
        .ok_or_else(|| crate::failure::usage("no symbol: pass --symbols or set [data] symbols"))?
        .parse::<Symbol>()
        .map_err(|e| crate::failure::usage(format!("--config [data] symbols: {e}")))?;
    Ok(vec![first])
}

/// Every symbol must be stored at `interval`; the error names the missing ones, where they came
/// from (`source`: `--symbols`, or the config's `[data] symbols`) and lists what is stored.
fn check_stored(
    store: &ParquetStore,
    symbols: &[Symbol],
    interval: Interval,
    data_dir: &std::path::Path,
    source: &str,
) -> Result<()> {
    let stored = store.list().with_context(|| format!("listing {}", data_dir.display()))?;
    let missing: Vec<String> = symbols
        .iter()
        .filter(|s| !stored.iter().any(|x| &x.symbol == *s && x.interval == interval))
        .map(|s| s.to_string())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let have: Vec<String> =
        stored.iter().filter(|x| x.interval == interval).map(|x| x.symbol.to_string()).collect::<Vec<_>>();
    Err(crate::failure::usage(format!(
        "{source}: no {interval} bars stored for {} in {}; stored {interval} symbols: {}; download or import them first (vane download / vane import)",
        missing.join(", "),
        data_dir.display(),
        if have.is_empty() { "none".to_string() } else { have.join(", ") }
    )))
}

fn train(a: StackTrainArgs, quiet: bool) -> Result<StackOutput> {
    let text =
        std::fs::read_to_string(&a.config).with_context(|| format!("reading --config {}", a.config.display()))?;
    let cfg = StackConfig::from_toml(&text)
        .map_err(|e| crate::failure::usage(format!("--config {}: {e}", a.config.display())))?;
    let symbols = symbols_of(&a, &cfg)?;
    let interval = match a.interval {
        Some(i) => i,
        None => cfg
            .data
            .interval
            .parse::<Interval>()
            .map_err(|e| crate::failure::usage(format!("--config [data] interval: {e}")))?,
    };
    if interval != Interval::S1 {
        return Err(crate::failure::usage(format!(
            "--interval {interval}: the stack runs on a 1s grid (its horizons, windows and σ windows are seconds); use --interval 1s"
        )));
    }
    let store = ParquetStore::new(&a.data.data_dir);
    let source = if a.symbols.is_empty() {
        format!("{} [data] symbols (the first; --symbols overrides it)", a.config.display())
    } else {
        "--symbols".to_string()
    };
    check_stored(&store, &symbols, interval, &a.data.data_dir, &source)?;
    if symbols.len() == 1 {
        let root = a.artifacts_dir.join("stacks");
        return train_one(&a, &cfg, &store, &symbols[0], interval, &root, quiet)
            .map(|r| StackOutput::Train(Box::new(r)));
    }
    let mut out = BTreeMap::new();
    for symbol in &symbols {
        let root = symbol_artifacts_dir(&a.artifacts_dir, symbol.as_str()).join("stacks");
        if !quiet {
            eprintln!("stack: {symbol} → {}", root.display());
        }
        let r = train_one(&a, &cfg, &store, symbol, interval, &root, quiet)?;
        out.insert(symbol.to_string(), r);
    }
    Ok(StackOutput::TrainSymbols(SymbolsReport { symbols: out }))
}

/// Trains one symbol's stacks into `root` (`…/stacks`).
fn train_one(
    a: &StackTrainArgs,
    cfg: &StackConfig,
    store: &ParquetStore,
    symbol: &Symbol,
    interval: Interval,
    root: &std::path::Path,
    quiet: bool,
) -> Result<TrainReport> {
    let mut cfg = cfg.clone();
    let (mut grid, days) = grid_of(store, symbol, interval, cfg.data.days)?;
    if cfg.data.last_bars > 0 && grid.len() > cfg.data.last_bars {
        let n = grid.len();
        let keep = n - cfg.data.last_bars..n;
        grid = vane_market_data::GridBars {
            bars: grid.bars.slice(keep.clone()),
            filled: grid.filled[keep].to_vec(),
            interval: grid.interval,
        };
    }
    if a.fast_sanity {
        cfg = cfg.fast_sanity(grid.len());
    }
    if !quiet {
        eprintln!("stack: {symbol} {interval}: {days}");
    }
    let start = RunStart {
        verb: "stack-train".into(),
        model: "hrm-stack".into(),
        symbols: vec![symbol.to_string()],
        interval: Some(interval.to_string()),
        config: serde_json::json!({ "stack": cfg, "fast_sanity": a.fast_sanity, "permute_labels": a.permute_labels, "resume": a.resume }),
    };
    cfg.data.save_features |= a.save_features;
    let opts = TrainOptions { symbol: symbol.to_string(), permute_labels: a.permute_labels };
    let resume = L1Resume::at(resume_dir(&a.artifacts_dir, symbol.as_str()), a.resume);
    let work = || -> Result<TrainReport> {
        let device = DeviceKind::Cpu.device()?;
        let mut progress = |m: &str| {
            if !quiet {
                eprintln!("{m}");
            }
        };
        Ok(train_stacks_with(&grid, &cfg, &opts, &resume, root, &device, &mut progress)?)
    };
    let root_for_outcome = root.to_path_buf();
    let (report, _) = record_run(&a.record, start, work, move |r: &TrainReport| {
        let mut metrics = Vec::new();
        for (tag, m) in &r.tags {
            for level in ["l1", "l2", "l3"] {
                for k in ["log_loss", "base_rate_log_loss", "precision", "realised_net_edge_bps"] {
                    metrics.push((format!("{tag}.{level}.{k}"), m[level][k].as_f64().unwrap_or(f64::NAN)));
                }
            }
        }
        for (k, v) in &r.seconds {
            metrics.push((format!("seconds.{k}"), *v));
        }
        RunOutcome { metrics, artifacts: vec![root_for_outcome], ..RunOutcome::default() }
    })?;
    Ok(report)
}

fn predict(a: StackPredictArgs) -> Result<PredictOutput> {
    let device = DeviceKind::Cpu.device()?;
    let root = artifacts_for_symbol(&a.artifacts_dir, a.symbol.as_str())?.join("stacks");
    let mut stacks = Vec::new();
    for tag in &a.tags {
        stacks.push(Stack::load(&root, tag, &device)?);
    }
    let need = stacks.iter().map(Stack::history).max().unwrap_or(1);
    let store = ParquetStore::new(&a.data.data_dir);
    let bars = store.read(&a.symbol, a.interval).with_context(|| format!("reading {} {}", a.symbol, a.interval))?;
    // Enough source bars for `need` grid bars (a sparse series has fewer bars than seconds).
    let from = bars.len().saturating_sub(need);
    let mut grid = regularise(&bars.slice(from..bars.len()), a.interval)?;
    if grid.len() < need {
        grid = regularise(&bars, a.interval)?;
    }
    if grid.len() < need {
        return Err(crate::failure::usage(format!(
            "{} {}: {} grid bars stored, the stacks need {need}",
            a.symbol,
            a.interval,
            grid.len()
        )));
    }
    let n = grid.len();
    let mut tags = BTreeMap::new();
    let mut votes = Vec::new();
    for s in &stacks {
        let p = s.predict_last(&grid.bars.slice(n - s.history()..n), &grid.filled[n - s.history()..])?;
        votes.push(p.vote);
        tags.insert(s.tag().to_string(), TagOutput { l1: p.l1, l2: p.l2, l3: p.l3, vote: p.vote });
    }
    let k = majority(votes.len());
    let decision = consensus(&votes, k);
    Ok(PredictOutput {
        decision,
        tags,
        consensus: format!("{k} of {}", votes.len()),
        as_of: vane_core::Timestamp(grid.bars.open_time()[n - 1]).to_string(),
    })
}
