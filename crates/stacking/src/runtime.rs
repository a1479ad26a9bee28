//! Seed 000's streaming runtime: 1-second bars in, one decision per grid second out, through
//! L1 → L2 → L3 of every followed tag's stack and the policy (hysteresis, cooldown, k-of-n
//! consensus across tags).
//!
//! - [`StackRuntime::on_bar`] regularises the incoming stream itself (a gap of `g` seconds
//!   inserts `g` filled bars — previous close, zero volume, `filled` — exactly as
//!   [`vane_market_data::grid::regularise`] does), keeps the last `max(history)` grid bars and
//!   evaluates each tag's stack with [`Stack::predict_last`] on them.
//! - [`StackRuntime::replay`] is the batch path (`vane stack backtest`): [`Stack::predict_series`]
//!   over a whole grid, then the **same** [`DecisionEngine::step`] for every grid bar. A tag
//!   has probabilities from its `history`-th grid bar on in both paths (the warm-up), so the
//!   two give the same decisions on the same bars (tested).
//! - [`DecisionEngine`] is the policy part alone (no networks): each tag's calibrated L3 P(up)
//!   through a [`vane_policy::Policy`] with `meta.json`'s thresholds, the hysteresis and the
//!   cooldown, then [`vane_policy::Consensus`] k-of-n over the tags' decisions.
//! - [`StackRuntime::reload_thresholds`] re-reads every tag's `meta.json` while running and keeps
//!   each policy's state (current decision, time of its last change).
//!
//! Settings come from [`RuntimeSettings`] (seed 000: `MODEL_TAG=10s`, `HYSTERESIS=0.01`,
//! `COOLDOWN_SEC=10`, `CONSENSUS_TAGS=1s,10s,15s`; [`RuntimeSettings::from_env`]).

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use vane_core::{Bar, Bars, Interval, Signal, Timestamp};
use vane_market_data::grid::GridBars;
use vane_policy::{Consensus, Input, Policy, PolicyConfig, Rule};

use crate::error::{Result, StackingError};
use crate::features::{RAW_NAMES, REGIME_NAMES, raw_lookback, raw_row, regime_lookback, regime_row};
use crate::net::Net;
use crate::stack::{LevelProbs, Meta, STACK_FORMAT_VERSION, Stack, Thresholds, l1_column, l1_meta_column, l2_column};

/// The runtime's environment variables (seed 000's names).
pub const ENV_MODEL_TAG: &str = "MODEL_TAG";
/// Hysteresis half-width.
pub const ENV_HYSTERESIS: &str = "HYSTERESIS";
/// Cooldown, seconds.
pub const ENV_COOLDOWN_SEC: &str = "COOLDOWN_SEC";
/// Comma-separated tags voting k-of-n (the main tag is added when missing).
pub const ENV_CONSENSUS_TAGS: &str = "CONSENSUS_TAGS";

/// The runtime's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuntimeSettings {
    /// The followed tags, the main one (`MODEL_TAG`) first, no duplicates.
    pub tags: Vec<String>,
    /// Hysteresis half-width on the thresholds (seed 000: 0.01).
    pub hysteresis: f64,
    /// Minimum seconds between two changes of a tag's decision (seed 000: 10).
    pub cooldown_sec: f64,
    /// Votes needed for a consensus BUY/SELL (`None`: a majority of the tags, 2 of 3).
    pub consensus_k: Option<usize>,
    /// The grid interval of the incoming bars (`1s`).
    pub interval: Interval,
}

impl Default for RuntimeSettings {
    /// Seed 000's values with one tag: `10s`, hysteresis 0.01, cooldown 10 s, 1 s grid.
    fn default() -> Self {
        Self {
            tags: vec!["10s".into()],
            hysteresis: 0.01,
            cooldown_sec: 10.0,
            consensus_k: None,
            interval: Interval::S1,
        }
    }
}

/// The main tag first, then the others in order, without duplicates or empty names.
pub fn runtime_tags(main: &str, others: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in std::iter::once(main).chain(others.iter().map(String::as_str)) {
        let t = t.trim();
        if !t.is_empty() && !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    out
}

impl RuntimeSettings {
    /// Seed 000's runtime: `MODEL_TAG=10s`, `CONSENSUS_TAGS=1s,10s,15s` (tags `10s, 1s, 15s`,
    /// 2 of 3), hysteresis 0.01, cooldown 10 s.
    pub fn seed000() -> Self {
        Self { tags: runtime_tags("10s", &["1s".into(), "10s".into(), "15s".into()]), ..Self::default() }
    }

    /// The settings from the process environment ([`RuntimeSettings::from_lookup`]).
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// The settings from `lookup` (a variable's value): `MODEL_TAG` (default `10s`),
    /// `CONSENSUS_TAGS` (comma separated, default none), `HYSTERESIS` (default 0.01),
    /// `COOLDOWN_SEC` (default 10). Unset or empty variables take the default; a value that is
    /// not a number is an error naming the variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |k: &str| lookup(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let number = |k: &str, default: f64| -> Result<f64> {
            match get(k) {
                None => Ok(default),
                Some(v) => v.parse::<f64>().map_err(|_| {
                    StackingError::Config(format!("{k}={v:?} is not a number (for example {k}={default})"))
                }),
            }
        };
        let d = Self::default();
        let main = get(ENV_MODEL_TAG).unwrap_or_else(|| d.tags[0].clone());
        let others: Vec<String> =
            get(ENV_CONSENSUS_TAGS).map(|v| v.split(',').map(str::to_string).collect()).unwrap_or_default();
        let s = Self {
            tags: runtime_tags(&main, &others),
            hysteresis: number(ENV_HYSTERESIS, d.hysteresis)?,
            cooldown_sec: number(ENV_COOLDOWN_SEC, d.cooldown_sec)?,
            ..d
        };
        s.validate()?;
        Ok(s)
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        if self.tags.is_empty() {
            return Err(StackingError::Config("the runtime needs at least one tag (MODEL_TAG)".into()));
        }
        if !(self.hysteresis >= 0.0 && self.hysteresis < 0.5) {
            return Err(StackingError::Config(format!("HYSTERESIS = {}: must be in [0, 0.5)", self.hysteresis)));
        }
        if !(self.cooldown_sec >= 0.0 && self.cooldown_sec.is_finite()) {
            return Err(StackingError::Config(format!(
                "COOLDOWN_SEC = {}: must be a finite number ≥ 0",
                self.cooldown_sec
            )));
        }
        self.consensus(self.tags.len()).map(|_| ())
    }

    /// The k-of-n rule over `n` tags.
    pub fn consensus(&self, n: usize) -> Result<Consensus> {
        let k = self.consensus_k.unwrap_or(n / 2 + 1);
        Ok(Consensus::new(k, n)?)
    }

    fn cooldown_ms(&self) -> i64 {
        (self.cooldown_sec * 1000.0).round() as i64
    }
}

/// One tag's part of a [`Decision`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TagDecision {
    /// L1 P(up) per horizon, calibrated (empty during the warm-up).
    pub l1: BTreeMap<String, f64>,
    /// L2 P(up), calibrated.
    pub l2: Option<f64>,
    /// L3 P(up), calibrated (what decides).
    pub l3: Option<f64>,
    /// The raw vote of `l3` under `meta.json`'s thresholds (no hysteresis, no cooldown).
    pub vote: Option<Signal>,
    /// The tag's decision after hysteresis and cooldown.
    pub decision: Signal,
}

/// The runtime's output for one grid bar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Open time of the grid bar decided on (ms UTC).
    pub as_of: Timestamp,
    /// Whether that bar was filled in (no trade in that second).
    pub filled: bool,
    /// Each tag's probabilities, vote and decision.
    pub tags: BTreeMap<String, TagDecision>,
    /// k-of-n over the tags' decisions: the runtime's decision (with one tag, its decision).
    pub decision: Signal,
    /// The consensus rule.
    pub consensus: Consensus,
}

/// What [`StackRuntime::reload_thresholds`] changed for one tag.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThresholdChange {
    /// The tag.
    pub tag: String,
    /// Its thresholds before.
    pub before: Thresholds,
    /// Its thresholds now.
    pub after: Thresholds,
}

/// The policy part of the runtime, without networks: per tag a [`Policy`] on the L3 P(up)
/// (`meta.json` thresholds, hysteresis, cooldown), then k-of-n consensus. Driven by
/// [`StackRuntime::on_bar`] and [`StackRuntime::replay`] alike.
#[derive(Clone, Debug)]
pub struct DecisionEngine {
    tags: Vec<String>,
    thresholds: Vec<Thresholds>,
    policies: Vec<Policy>,
    consensus: Consensus,
    base: PolicyConfig,
}

fn threshold_rule(t: Thresholds) -> Rule {
    Rule::Thresholds { long: t.long, short: t.short }
}

impl DecisionEngine {
    /// An engine for `tags` with their thresholds (same order), every tag starting at HOLD.
    pub fn new(settings: &RuntimeSettings, tags: &[String], thresholds: &[Thresholds]) -> Result<Self> {
        if tags.is_empty() || tags.len() != thresholds.len() {
            return Err(StackingError::InvalidInput(format!(
                "{} tags with {} threshold pairs: need one pair per tag, at least one tag",
                tags.len(),
                thresholds.len()
            )));
        }
        let consensus = settings.consensus(tags.len())?;
        let base = PolicyConfig {
            rule: threshold_rule(Thresholds::never()),
            hysteresis: settings.hysteresis,
            cooldown_ms: settings.cooldown_ms(),
        };
        let policies = thresholds
            .iter()
            .zip(tags)
            .map(|(t, tag)| {
                Policy::new(PolicyConfig { rule: threshold_rule(*t), ..base }).map_err(|e| {
                    StackingError::InvalidInput(format!("{tag}'s thresholds (meta.json) or the runtime settings: {e}"))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { tags: tags.to_vec(), thresholds: thresholds.to_vec(), policies, consensus, base })
    }

    /// The tags, in order.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    /// The thresholds in force, per tag.
    pub fn thresholds(&self) -> &[Thresholds] {
        &self.thresholds
    }

    /// The consensus rule.
    pub fn consensus(&self) -> Consensus {
        self.consensus
    }

    /// Each tag's current decision.
    pub fn current(&self) -> Vec<Signal> {
        self.policies.iter().map(Policy::current).collect()
    }

    /// Replaces tag `i`'s thresholds, keeping its policy's state.
    pub fn set_thresholds(&mut self, i: usize, t: Thresholds) -> Result<()> {
        let tag = self.tags.get(i).cloned().unwrap_or_default();
        let p = self
            .policies
            .get_mut(i)
            .ok_or_else(|| StackingError::InvalidInput(format!("no tag #{i} in this runtime")))?;
        p.set_rule(threshold_rule(t))
            .map_err(|e| StackingError::InvalidInput(format!("{tag}'s new thresholds (meta.json): {e}")))?;
        self.thresholds[i] = t;
        Ok(())
    }

    /// Back to HOLD for every tag, no cooldown running (a fresh backtest).
    pub fn reset(&mut self) -> Result<()> {
        for (p, t) in self.policies.iter_mut().zip(&self.thresholds) {
            *p = Policy::new(PolicyConfig { rule: threshold_rule(*t), ..self.base })?;
        }
        Ok(())
    }

    /// The decision for the grid bar opening at `as_of`, given each tag's probabilities (same
    /// order as the tags; `None` during a tag's warm-up: its decision stays as it is).
    pub fn step(&mut self, as_of: Timestamp, filled: bool, probs: &[Option<&LevelProbs>]) -> Result<Decision> {
        if probs.len() != self.tags.len() {
            return Err(StackingError::InvalidInput(format!(
                "{} probability sets for {} tags",
                probs.len(),
                self.tags.len()
            )));
        }
        let mut tags = BTreeMap::new();
        let mut decisions = Vec::with_capacity(self.tags.len());
        for ((tag, policy), (p, thr)) in
            self.tags.iter().zip(&mut self.policies).zip(probs.iter().zip(&self.thresholds))
        {
            let td = match p {
                Some(p) => {
                    let decision = policy
                        .decide(as_of, &Input::Up(p.l3))
                        .map_err(|e| StackingError::InvalidInput(format!("{tag} at {as_of}: {e}")))?;
                    TagDecision {
                        l1: p.l1.clone(),
                        l2: Some(p.l2),
                        l3: Some(p.l3),
                        vote: Some(thr.vote(p.l3)),
                        decision,
                    }
                }
                None => TagDecision { l1: BTreeMap::new(), l2: None, l3: None, vote: None, decision: policy.current() },
            };
            decisions.push(td.decision);
            tags.insert(tag.clone(), td);
        }
        let decision = self.consensus.combine(&decisions)?;
        Ok(Decision { as_of, filled, tags, decision, consensus: self.consensus })
    }
}

/// The last grid bars of the incoming stream, regularised on the fly.
#[derive(Clone, Debug)]
struct GridBuffer {
    bars: VecDeque<Bar>,
    filled: VecDeque<bool>,
    cap: usize,
    interval: Interval,
    /// Grid bars seen since the start (the grid row of the next bar).
    seen: usize,
}

impl GridBuffer {
    fn new(cap: usize, interval: Interval) -> Self {
        Self {
            bars: VecDeque::with_capacity(cap + 1),
            filled: VecDeque::with_capacity(cap + 1),
            cap,
            interval,
            seen: 0,
        }
    }

    fn push_grid(&mut self, bar: Bar, filled: bool) {
        if self.bars.len() == self.cap {
            self.bars.pop_front();
            self.filled.pop_front();
        }
        self.bars.push_back(bar);
        self.filled.push_back(filled);
        self.seen += 1;
    }

    /// The grid bars `bar` adds: filled ones for the missing intervals before it, then itself.
    fn plan(&self, bar: &Bar) -> Result<Vec<(Bar, bool)>> {
        if let Some(reason) = bar.problem() {
            return Err(StackingError::InvalidInput(format!("bar at {}: {reason}", bar.open_time)));
        }
        if !self.interval.is_aligned(bar.open_time) {
            return Err(StackingError::InvalidInput(format!(
                "bar at {} is not on a {} boundary (is the runtime's interval right?)",
                bar.open_time, self.interval
            )));
        }
        // Only the fields the stack reads (the grid's optional columns are not inputs).
        let own = Bar::ohlcv(bar.open_time, bar.open, bar.high, bar.low, bar.close, bar.volume);
        let Some(last) = self.bars.back() else { return Ok(vec![(own, false)]) };
        if bar.open_time <= last.open_time {
            return Err(StackingError::InvalidInput(format!(
                "bar at {} is not after the last grid bar at {} (bars must arrive in time order, once)",
                bar.open_time, last.open_time
            )));
        }
        let step = self.interval.millis();
        let p = last.close;
        let mut out = Vec::new();
        let mut t = last.open_time.0 + step;
        while t < bar.open_time.0 {
            out.push((Bar::ohlcv(Timestamp(t), p, p, p, p, 0.0), true));
            t += step;
        }
        out.push((own, false));
        Ok(out)
    }

    /// The last `n` grid bars and their flags.
    fn tail(&self, n: usize) -> Result<(Bars, Vec<bool>)> {
        let len = self.bars.len();
        let from = len.saturating_sub(n);
        let rows: Vec<Bar> = self.bars.range(from..).copied().collect();
        let bars = Bars::from_bars(&rows).map_err(|e| StackingError::InvalidInput(format!("runtime buffer: {e}")))?;
        Ok((bars, self.filled.range(from..).copied().collect()))
    }
}

/// One network of a tag's stack with the column it writes and the columns it reads.
#[derive(Debug)]
struct Unit {
    net: Net,
    /// Index in [`Incremental::cols`] of each input column (the net's column order).
    inputs: Vec<usize>,
    /// Index of `out` in [`Incremental::cols`].
    out_col: usize,
}

/// One tag's stack evaluated one grid row at a time: every level's output of the last rows
/// (as many as the level above reads) is kept, so a new bar costs one window per network — the
/// 7 L1 windows, the meta heads', L2's and L3's — not the `history` rows of windows that
/// [`Stack::predict_last`] recomputes. Each row is the same arithmetic on the same window as
/// the batch path (the features are finite-window functions computed by the same row
/// functions; every network sees the same normalised window), so the outputs are those of
/// [`Stack::predict_series`] (tested). Columns are found by index (resolved at load), the new
/// feature rows are computed from the buffer's last bars in place, and each window goes
/// straight to [`Net::predict_window`].
#[derive(Debug)]
struct Incremental {
    units: Vec<Unit>,
    /// Column name → index in `cols`.
    index: BTreeMap<String, usize>,
    /// Rolling per-row columns (raw, regime, every unit's output), the last `cap` rows; the raw
    /// columns first, then the regime ones, then one per unit.
    cols: Vec<VecDeque<f32>>,
    sigma_window: usize,
    cap: usize,
    /// Scratch: the last bars' close, high, low, volume and filled flags, and one window.
    scratch: Scratch,
}

#[derive(Debug, Default)]
struct Scratch {
    close: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    volume: Vec<f64>,
    filled: Vec<bool>,
    row: Vec<f32>,
    window: Vec<f32>,
}

impl Scratch {
    /// Copies the buffer's last `n` bars (all when fewer).
    fn load(&mut self, buffer: &GridBuffer, n: usize) {
        let from = buffer.bars.len().saturating_sub(n);
        self.close.clear();
        self.high.clear();
        self.low.clear();
        self.volume.clear();
        self.filled.clear();
        for b in buffer.bars.range(from..) {
            self.close.push(b.close);
            self.high.push(b.high);
            self.low.push(b.low);
            self.volume.push(b.volume);
        }
        self.filled.extend(buffer.filled.range(from..));
    }
}

impl Incremental {
    fn new(stack: &Stack, device: &Device, cap: usize) -> Result<Self> {
        let root = stack.root();
        let sup = &stack.supervisor;
        let mut nets = Vec::new();
        for u in &sup.l1 {
            nets.push((l1_column(u.horizon), Net::load(&root.join(&u.dir), device)?));
            if let Some(d) = &u.meta_dir {
                nets.push((l1_meta_column(u.horizon), Net::load(&root.join(d), device)?));
            }
        }
        for t in &sup.l2_heads {
            nets.push((l2_column(t), Net::load(&root.join(t).join("l2"), device)?));
        }
        nets.push(("l3".into(), Net::load(&root.join(&sup.l3_dir), device)?));
        let mut index = BTreeMap::new();
        for name in RAW_NAMES
            .iter()
            .chain(REGIME_NAMES.iter())
            .map(|s| s.to_string())
            .chain(nets.iter().map(|(out, _)| out.clone()))
        {
            let next = index.len();
            index.entry(name).or_insert(next);
        }
        let mut units = Vec::with_capacity(nets.len());
        for (out, net) in nets {
            let inputs = net
                .file
                .columns
                .iter()
                .map(|name| {
                    index.get(name).copied().ok_or_else(|| {
                        StackingError::InvalidInput(format!(
                            "input column {name:?} of {out} is not computed (a stack file refers to a level that is missing)"
                        ))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let out_col = index[&out];
            units.push(Unit { net, inputs, out_col });
        }
        let cols = (0..index.len()).map(|_| VecDeque::with_capacity(cap + 1)).collect();
        Ok(Self { units, index, cols, sigma_window: sup.sigma_window, cap, scratch: Scratch::default() })
    }

    fn push(&mut self, col: usize, v: f32) {
        let c = &mut self.cols[col];
        if c.len() == self.cap {
            c.pop_front();
        }
        c.push_back(v);
    }

    /// Computes every column's value for the buffer's last row (the buffer already holds it).
    fn advance(&mut self, buffer: &GridBuffer, device: &Device) -> Result<()> {
        let len = buffer.bars.len();
        let (nr, ng) = (RAW_NAMES.len(), REGIME_NAMES.len());
        let rl = raw_lookback();
        let gl = regime_lookback(self.sigma_window);
        let mut sc = std::mem::take(&mut self.scratch);
        sc.row.clear();
        sc.row.resize(nr + ng, f32::NAN);
        if len > rl.min(gl) {
            sc.load(buffer, rl.max(gl) + 1);
            let t = sc.close.len() - 1;
            if len > rl {
                raw_row(&sc.close, &sc.high, &sc.low, &sc.volume, &sc.filled, t, &mut sc.row[..nr]);
            }
            if len > gl {
                let open_time = buffer.bars.back().map_or(0, |b| b.open_time.0);
                regime_row(&sc.close, &sc.volume, open_time, self.sigma_window, t, &mut sc.row[nr..]);
            }
        }
        // Raw columns are `cols[0..nr]`, regime `cols[nr..nr + ng]` (the index's first names).
        for j in 0..nr + ng {
            self.push(j, sc.row[j]);
        }
        for k in 0..self.units.len() {
            let u = &self.units[k];
            let seq = u.net.file.seq_len;
            sc.window.clear();
            let mut ok = true;
            'rows: for r in 0..seq {
                // Row r of the window: `seq − 1 − r` rows before the last.
                let back = seq - 1 - r;
                for &ci in &u.inputs {
                    let c = &self.cols[ci];
                    let v = if c.len() > back { c[c.len() - 1 - back] } else { f32::NAN };
                    if !v.is_finite() {
                        ok = false;
                        break 'rows;
                    }
                    sc.window.push(v);
                }
            }
            let out = if ok { u.net.predict_window(&sc.window, device)? as f32 } else { f32::NAN };
            let col = u.out_col;
            self.push(col, out);
        }
        self.scratch = sc;
        Ok(())
    }

    /// The last value of column `name`.
    fn last(&self, name: &str) -> Option<f32> {
        self.index.get(name).and_then(|&i| self.cols[i].back().copied())
    }

    /// The last row's probabilities, as [`Stack::predict_series`] gives them.
    fn probs(&self, stack: &Stack, open_time: i64) -> Option<LevelProbs> {
        let last = |name: &str| self.last(name);
        let l3_raw = f64::from(last("l3")?);
        if !l3_raw.is_finite() {
            return None;
        }
        let cal = &stack.calibration;
        let l2_raw = f64::from(last(&l2_column(stack.tag()))?);
        let mut l1 = BTreeMap::new();
        for u in &stack.supervisor.l1 {
            let key = format!("{}s", u.horizon);
            let p = f64::from(last(&l1_column(u.horizon))?);
            l1.insert(key.clone(), cal.l1.get(&key).map_or(p, |c| c.apply(p)));
        }
        let l3 = cal.l3.apply(l3_raw);
        Some(LevelProbs { open_time, l1, l2: cal.l2.apply(l2_raw), l3_raw, l3, vote: stack.meta.thresholds.vote(l3) })
    }
}

/// The streaming runtime over one or more tags' stacks (see the module doc).
#[derive(Debug)]
pub struct StackRuntime {
    stacks_root: PathBuf,
    settings: RuntimeSettings,
    stacks: Vec<Stack>,
    engine: DecisionEngine,
    buffer: GridBuffer,
    last: Option<Decision>,
    incremental: Vec<Incremental>,
    device: Device,
}

fn read_meta(stacks_root: &Path, tag: &str) -> Result<Meta> {
    Ok(vane_artifact::read_versioned(&stacks_root.join(tag).join("meta.json"), STACK_FORMAT_VERSION)?)
}

impl StackRuntime {
    /// Loads the stacks of `tags` (empty: `settings.tags`) from `<artifacts_dir>/stacks/<TAG>/`
    /// onto the CPU.
    pub fn load(artifacts_dir: &Path, tags: &[&str], settings: &RuntimeSettings) -> Result<Self> {
        let device = vane_models::DeviceKind::Cpu.device()?;
        Self::load_on(artifacts_dir, tags, settings, &device)
    }

    /// [`StackRuntime::load`] onto `device`.
    pub fn load_on(artifacts_dir: &Path, tags: &[&str], settings: &RuntimeSettings, device: &Device) -> Result<Self> {
        let stacks_root = artifacts_dir.join("stacks");
        let names: Vec<String> = if tags.is_empty() {
            settings.tags.clone()
        } else {
            runtime_tags(tags[0], &tags[1..].iter().map(|t| t.to_string()).collect::<Vec<_>>())
        };
        let settings = RuntimeSettings { tags: names.clone(), ..settings.clone() };
        settings.validate()?;
        let stacks = names.iter().map(|t| Stack::load(&stacks_root, t, device)).collect::<Result<Vec<_>>>()?;
        Self::from_stacks(stacks_root, stacks, &settings, device)
    }

    /// A runtime over stacks already loaded (tags in the stacks' order) that evaluates on
    /// `device`.
    pub fn from_stacks(
        stacks_root: PathBuf,
        stacks: Vec<Stack>,
        settings: &RuntimeSettings,
        device: &Device,
    ) -> Result<Self> {
        let tags: Vec<String> = stacks.iter().map(|s| s.tag().to_string()).collect();
        let settings = RuntimeSettings { tags: tags.clone(), ..settings.clone() };
        settings.validate()?;
        for s in &stacks {
            let iv: Interval = s.supervisor.interval.parse().map_err(|_| {
                StackingError::InvalidInput(format!(
                    "{}/supervisor.json: interval {:?} is not an interval",
                    s.tag(),
                    s.supervisor.interval
                ))
            })?;
            if iv != settings.interval {
                return Err(StackingError::InvalidInput(format!(
                    "the {} stack runs on a {iv} grid, the runtime on {}: follow stacks of one interval",
                    s.tag(),
                    settings.interval
                )));
            }
        }
        let thresholds: Vec<Thresholds> = stacks.iter().map(|s| s.meta.thresholds).collect();
        let engine = DecisionEngine::new(&settings, &tags, &thresholds)?;
        let cap = stacks.iter().map(Stack::history).max().unwrap_or(1).max(1);
        let buffer = GridBuffer::new(cap, settings.interval);
        let incremental = stacks.iter().map(|s| Incremental::new(s, device, cap)).collect::<Result<Vec<_>>>()?;
        Ok(Self { stacks_root, settings, stacks, engine, buffer, last: None, incremental, device: device.clone() })
    }

    /// The tags, the main one first.
    pub fn tags(&self) -> &[String] {
        self.engine.tags()
    }

    /// The settings in force.
    pub fn settings(&self) -> &RuntimeSettings {
        &self.settings
    }

    /// The loaded stacks.
    pub fn stacks(&self) -> &[Stack] {
        &self.stacks
    }

    /// The loaded stacks, by value (to build a runtime with other settings).
    pub fn into_stacks(self) -> Vec<Stack> {
        self.stacks
    }

    /// The policy part.
    pub fn engine(&self) -> &DecisionEngine {
        &self.engine
    }

    /// Grid bars kept: the largest history of the stacks.
    pub fn history(&self) -> usize {
        self.buffer.cap
    }

    /// Open time of the last grid bar seen.
    pub fn last_open_time(&self) -> Option<Timestamp> {
        self.buffer.bars.back().map(|b| b.open_time)
    }

    /// The decision of the last grid bar seen.
    pub fn last_decision(&self) -> Option<&Decision> {
        self.last.as_ref()
    }

    /// Grid bars seen since the start (filled ones included).
    pub fn seen(&self) -> usize {
        self.buffer.seen
    }

    /// Feeds the next bar of the stream (time order, on the runtime's interval; gaps allowed)
    /// and returns the decision for it. Missing intervals before it become filled grid bars,
    /// each decided on as the batch path does (their decisions only move the policies' state;
    /// [`StackRuntime::on_bar_all`] returns them too).
    pub fn on_bar(&mut self, bar: &Bar) -> Result<Decision> {
        let mut all = self.on_bar_all(bar)?;
        all.pop().ok_or_else(|| StackingError::InvalidInput("no grid bar was added".into()))
    }

    /// [`StackRuntime::on_bar`], returning the decision of every grid bar the bar added (filled
    /// ones first, the bar's own last).
    pub fn on_bar_all(&mut self, bar: &Bar) -> Result<Vec<Decision>> {
        let plan = self.buffer.plan(bar)?;
        let mut out = Vec::with_capacity(plan.len());
        for (b, filled) in plan {
            self.buffer.push_grid(b, filled);
            for inc in &mut self.incremental {
                inc.advance(&self.buffer, &self.device)?;
            }
            out.push(self.decide_last()?);
        }
        self.last = out.last().cloned();
        Ok(out)
    }

    /// Every level's probabilities of every tag for the last grid bar (`None` for a tag still
    /// warming up: fewer than its history of grid bars seen), from the rolling per-level
    /// outputs: one window per network per bar.
    pub fn probabilities(&self) -> Result<Vec<Option<LevelProbs>>> {
        let seen = self.buffer.seen;
        let Some(last) = self.buffer.bars.back() else { return Ok(vec![None; self.stacks.len()]) };
        Ok(self
            .stacks
            .iter()
            .zip(&self.incremental)
            .map(|(s, inc)| if seen < s.history() { None } else { inc.probs(s, last.open_time.0) })
            .collect())
    }

    /// [`StackRuntime::probabilities`] recomputed from the last `history` grid bars with
    /// [`Stack::predict_last`] (every level's window of every row the levels above read; the
    /// reference the rolling path is checked against).
    pub fn probabilities_from_window(&self) -> Result<Vec<Option<LevelProbs>>> {
        let seen = self.buffer.seen;
        let (bars, filled) = self.buffer.tail(self.buffer.cap)?;
        let n = bars.len();
        let mut out = Vec::with_capacity(self.stacks.len());
        for s in &self.stacks {
            let h = s.history();
            if seen < h {
                out.push(None);
                continue;
            }
            let tail = bars.slice(n - h..n);
            match s.predict_last(&tail, &filled[n - h..]) {
                Ok(p) => out.push(Some(p)),
                // No full finite window at this bar: as the batch path's `None`.
                Err(StackingError::InvalidInput(_)) => out.push(None),
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    fn decide_last(&mut self) -> Result<Decision> {
        let probs = self.probabilities()?;
        let last = self.buffer.bars.back().map(|b| b.open_time).unwrap_or(Timestamp(0));
        let filled = self.buffer.filled.back().copied().unwrap_or(false);
        let refs: Vec<Option<&LevelProbs>> = probs.iter().map(Option::as_ref).collect();
        self.engine.step(last, filled, &refs)
    }

    /// The batch path over a whole grid, from a fresh state (every tag at HOLD, an empty
    /// buffer afterwards): [`Stack::predict_series`] per tag, a tag's rows before its history
    /// treated as warm-up, then [`DecisionEngine::step`] per grid bar. Equal to feeding the
    /// grid's bars one by one through [`StackRuntime::on_bar`] from a fresh runtime.
    pub fn replay(&mut self, grid: &GridBars) -> Result<Vec<Decision>> {
        if grid.interval != self.settings.interval {
            return Err(StackingError::InvalidInput(format!(
                "a {} grid for a runtime on {}",
                grid.interval, self.settings.interval
            )));
        }
        let series = self.batch_probabilities(grid)?;
        self.engine.reset()?;
        self.buffer = GridBuffer::new(self.buffer.cap, self.settings.interval);
        self.last = None;
        for inc in &mut self.incremental {
            inc.cols.iter_mut().for_each(VecDeque::clear);
        }
        let times = grid.bars.open_time();
        let mut out = Vec::with_capacity(grid.len());
        for (t, &time) in times.iter().enumerate() {
            let refs: Vec<Option<&LevelProbs>> = series.iter().map(|s| s[t].as_ref()).collect();
            out.push(self.engine.step(Timestamp(time), grid.filled[t], &refs)?);
        }
        Ok(out)
    }

    /// Every tag's batch probabilities for every grid bar, with each tag's warm-up rows (before
    /// its `history`-th bar) set to `None` as the streaming path has them.
    pub fn batch_probabilities(&self, grid: &GridBars) -> Result<Vec<Vec<Option<LevelProbs>>>> {
        self.stacks
            .iter()
            .map(|s| {
                let mut v = s.predict_series(&grid.bars, &grid.filled)?;
                let h = s.history();
                for p in v.iter_mut().take(h.saturating_sub(1)) {
                    *p = None;
                }
                Ok(v)
            })
            .collect()
    }

    /// Re-reads every tag's `meta.json` and puts its L3 thresholds in force, keeping each
    /// policy's state; returns the tags whose thresholds changed. On an error nothing changes.
    pub fn reload_thresholds(&mut self) -> Result<Vec<ThresholdChange>> {
        let metas = self.stacks.iter().map(|s| read_meta(&self.stacks_root, s.tag())).collect::<Result<Vec<Meta>>>()?;
        let mut engine = self.engine.clone();
        let mut changes = Vec::new();
        for (i, m) in metas.iter().enumerate() {
            let before = engine.thresholds()[i];
            if m.thresholds != before {
                engine.set_thresholds(i, m.thresholds)?;
                changes.push(ThresholdChange { tag: self.stacks[i].tag().to_string(), before, after: m.thresholds });
            }
        }
        self.engine = engine;
        for (s, m) in self.stacks.iter_mut().zip(metas) {
            s.meta = m;
        }
        Ok(changes)
    }
}
