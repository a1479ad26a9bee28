//! `vane stack backtest`: a stack's decisions over stored bars, scored out of sample with the
//! stack's own costs (`supervisor.json`'s fee + slippage) and seed 003's metric list. The
//! decisions come from `StackRuntime::replay` — the same `DecisionEngine` (hysteresis, cooldown,
//! k-of-n consensus) that `StackRuntime::on_bar` drives live, on the same grid and the same
//! probabilities (tested equal bar by bar), so live and backtest cannot diverge.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Serialize;
use vane_backtest::{Mapping, positions_from_signals, run_positions};
use vane_core::{Interval, Signal, Symbol, Timestamp};
use vane_costs::CostModel;
use vane_market_data::{ParquetStore, regularise};
use vane_models::DeviceKind;
use vane_pipeline::wfo::{METRIC_NAMES, metric_value};
use vane_stacking::runtime::{RuntimeSettings, StackRuntime};

use crate::args::DataDir;
use crate::failure::usage;
use crate::output::{Render, opt_time};

/// `vane stack backtest` arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct StackBacktestArgs {
    /// The stack's target tag; several (comma separated, the main one first) vote k-of-n as in
    /// the runtime (CONSENSUS_TAGS).
    #[arg(long, value_delimiter = ',', default_value = "10s")]
    pub(crate) tag: Vec<String>,
    /// Symbol (default: the one the main stack was trained on).
    #[arg(long)]
    pub(crate) symbol: Option<Symbol>,
    #[command(flatten)]
    pub(crate) data: DataDir,
    /// Artifacts folder holding `stacks/`.
    #[arg(long, default_value = "artifacts")]
    pub(crate) artifacts_dir: PathBuf,
    /// Score only bars opening at or after this time (RFC 3339, `YYYY-MM-DD` or ms): the
    /// out-of-sample start. The history before it warms the stack up.
    #[arg(long)]
    pub(crate) from: Option<Timestamp>,
    /// Score only bars opening before this time (exclusive).
    #[arg(long)]
    pub(crate) to: Option<Timestamp>,
    /// Hysteresis half-width (else HYSTERESIS; default 0.01).
    #[arg(long)]
    pub(crate) hysteresis: Option<f64>,
    /// Minimum seconds between two changes of a tag's decision (else COOLDOWN_SEC; default 10).
    #[arg(long)]
    pub(crate) cooldown_sec: Option<f64>,
    /// Votes needed for a consensus BUY/SELL (default: a majority of the tags).
    #[arg(long)]
    pub(crate) consensus_k: Option<usize>,
}

/// The scored window.
#[derive(Debug, Serialize)]
pub(crate) struct StackWindow {
    /// `--from` (ms), null: from the first bar with a full history.
    pub(crate) from_ms: Option<i64>,
    /// `--to` (ms), exclusive; null: to the last stored bar.
    pub(crate) to_ms: Option<i64>,
    /// First scored bar.
    pub(crate) first_ms: Option<i64>,
    /// Last scored bar.
    pub(crate) last_ms: Option<i64>,
    /// Grid bars scored (periods).
    pub(crate) bars: usize,
    /// Of which filled (no trade in that second).
    pub(crate) filled: usize,
    /// Grid bars read before the window to warm the stacks up.
    pub(crate) warmup_bars: usize,
}

/// `vane stack backtest`'s report.
#[derive(Debug, Serialize)]
pub(crate) struct StackBacktestReport {
    /// Tags, the main one first.
    pub(crate) tags: Vec<String>,
    /// Symbol.
    pub(crate) symbol: String,
    /// Costs per side (the main stack's `supervisor.json`).
    pub(crate) costs: CostModel,
    /// Hysteresis, cooldown, consensus.
    pub(crate) settings: RuntimeSettings,
    /// Each tag's thresholds (`meta.json`).
    pub(crate) thresholds: BTreeMap<String, vane_stacking::Thresholds>,
    /// The window scored.
    pub(crate) window: StackWindow,
    /// Seed 003's metrics (`vane wfo`'s names), after costs.
    pub(crate) metrics: BTreeMap<String, f64>,
    /// Round trips.
    pub(crate) trades: usize,
    /// Share of scored bars in a position.
    pub(crate) exposure: f64,
    /// Decisions over the scored bars: BUY, SELL, HOLD counts.
    pub(crate) decisions: BTreeMap<String, usize>,
    /// Changes of decision inside the window.
    pub(crate) changes: usize,
}

impl Render for StackBacktestReport {
    fn human(&self) -> String {
        let w = &self.window;
        let mut s = format!(
            "stack backtest {} on {} ({} .. {}, {} grid bars, {} filled; costs {} + {} bps per side; HOLD is flat)\n",
            self.tags.join(","),
            self.symbol,
            opt_time(w.first_ms),
            opt_time(w.last_ms),
            w.bars,
            w.filled,
            self.costs.fee_bps,
            self.costs.slip_bps
        );
        for name in METRIC_NAMES {
            s.push_str(&format!("{name:<24} {:.6}\n", self.metrics.get(name).copied().unwrap_or(f64::NAN)));
        }
        s.push_str(&format!("{:<24} {}\n{:<24} {:.4}\n", "trades", self.trades, "exposure", self.exposure));
        s.push_str(&format!(
            "{:<24} BUY {} SELL {} HOLD {} ({} changes)\n",
            "decisions",
            self.decisions.get("BUY").unwrap_or(&0),
            self.decisions.get("SELL").unwrap_or(&0),
            self.decisions.get("HOLD").unwrap_or(&0),
            self.changes
        ));
        s
    }
}

pub(crate) fn run(a: StackBacktestArgs) -> Result<StackBacktestReport> {
    let env = RuntimeSettings::from_env().map_err(|e| usage(e.to_string()))?;
    let settings = RuntimeSettings {
        tags: a.tag.clone(),
        hysteresis: a.hysteresis.unwrap_or(env.hysteresis),
        cooldown_sec: a.cooldown_sec.unwrap_or(env.cooldown_sec),
        consensus_k: a.consensus_k,
        interval: Interval::S1,
    };
    let device = DeviceKind::Cpu.device()?;
    let tags: Vec<&str> = a.tag.iter().map(String::as_str).collect();
    // Several-symbol runs keep each symbol's stacks under <artifacts>/symbols/<SYMBOL>/.
    let artifacts = match &a.symbol {
        Some(s) => vane_stacking::artifacts_for_symbol(&a.artifacts_dir, s.as_str())?,
        None => a.artifacts_dir.clone(),
    };
    let probe = StackRuntime::load_on(&artifacts, &tags, &settings, &device)
        .with_context(|| format!("loading the stacks {:?} from {}", a.tag, artifacts.join("stacks").display()))?;
    let interval: Interval =
        probe.stacks()[0].supervisor.interval.parse().map_err(|e| usage(format!("supervisor.json interval: {e}")))?;
    let settings = RuntimeSettings { interval, ..settings };
    let mut rt = StackRuntime::from_stacks(artifacts.join("stacks"), probe.into_stacks(), &settings, &device)?;
    let costs = rt.stacks()[0].supervisor.costs;
    let symbol = match &a.symbol {
        Some(s) => s.clone(),
        None => rt.stacks()[0]
            .supervisor
            .symbol
            .parse::<Symbol>()
            .map_err(|e| usage(format!("supervisor.json symbol: {e}; pass --symbol")))?,
    };
    let store = ParquetStore::new(&a.data.data_dir);
    let bars = store.read(&symbol, interval).with_context(|| format!("reading {symbol} {interval} from the store"))?;
    if bars.is_empty() {
        return Err(usage(format!(
            "no {symbol} {interval} bars in {}: download or import them first",
            a.data.data_dir.display()
        )));
    }
    let h = rt.history();
    let times = bars.open_time();
    let from_ms = a.from.map(|t| t.0);
    let to_ms = a.to.map(|t| t.0);
    if let (Some(f), Some(t)) = (from_ms, to_ms)
        && f >= t
    {
        return Err(usage(format!("--from {} is not before --to {}", Timestamp(f), Timestamp(t))));
    }
    // The grid starts at the last source bar at or before `--from − (history − 1)` so the bar
    // at --from is the first with a full history (else at the first stored bar).
    let start_ms = from_ms.map(|f| f - (h as i64 - 1) * interval.millis());
    let lo = start_ms.map_or(0, |s| times.partition_point(|&t| t <= s).saturating_sub(1));
    let hi = to_ms.map_or(times.len(), |t| times.partition_point(|&x| x < t));
    if hi <= lo {
        return Err(usage(format!("no stored {symbol} {interval} bars between --from and --to")));
    }
    let grid = regularise(&bars.slice(lo..hi), interval)?;
    let decisions = rt.replay(&grid)?;
    let g_times = grid.bars.open_time();
    // Scored: from --from (else the first bar every tag decides on) to the end.
    let first_ready = h.saturating_sub(1);
    let s0 = from_ms.map_or(first_ready, |f| g_times.partition_point(|&t| t < f)).max(first_ready);
    let n = grid.len();
    if s0 + 1 >= n {
        return Err(usage(format!(
            "{n} grid bars between the warm-up start and --to: the stacks need {h} bars of history and at least 2 bars to score"
        )));
    }
    let signals: Vec<Signal> = decisions.iter().map(|d| d.decision).collect();
    let positions = positions_from_signals(&signals, Mapping::HoldIsFlat);
    let bt = run_positions(grid.bars.close(), &positions, &costs)?;
    // Period i runs from bar i's close to bar i + 1's: scored periods s0 .. n − 1.
    let m = bt.metrics_over(interval.periods_per_year(), s0..n - 1);
    let metrics = METRIC_NAMES.iter().map(|k| (k.to_string(), metric_value(&m, k).unwrap_or(f64::NAN))).collect();
    let mut counts = BTreeMap::new();
    for d in &decisions[s0..] {
        *counts.entry(d.decision.as_str().to_string()).or_insert(0usize) += 1;
    }
    let changes = decisions[s0..].windows(2).filter(|w| w[0].decision != w[1].decision).count();
    let thresholds = rt.tags().iter().cloned().zip(rt.engine().thresholds().iter().copied()).collect();
    Ok(StackBacktestReport {
        tags: rt.tags().to_vec(),
        symbol: symbol.to_string(),
        costs,
        settings: rt.settings().clone(),
        thresholds,
        window: StackWindow {
            from_ms,
            to_ms,
            first_ms: Some(g_times[s0]),
            last_ms: Some(g_times[n - 1]),
            bars: n - s0,
            filled: grid.filled[s0..].iter().filter(|f| **f).count(),
            warmup_bars: s0,
        },
        metrics,
        trades: m.trade_count,
        exposure: m.exposure,
        decisions: counts,
        changes,
    })
}
