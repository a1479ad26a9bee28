//! A trained stack loaded for prediction — the batch API the streaming runtime builds on.
//!
//! Every network's input is a list of named per-bar columns (`ret_1` … raw features,
//! `tod_sin` … regime features, `l1_<H>` the L1 output of horizon H, `l1meta_<H>` its meta head,
//! `l2_<TAG>` an L2 head's output). [`Stack::columns`] computes them for a range of grid rows,
//! level by level, each row from a finite window of the level below, so that
//! [`Stack::predict_last`] on the last [`Stack::history`] bars gives exactly what
//! [`Stack::predict_series`] gives for that bar.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use vane_calibration::Calibrator;
use vane_core::{Bars, Signal};
use vane_costs::CostModel;

use crate::error::{Result, StackingError};
use crate::features::{RAW_NAMES, REGIME_NAMES, raw_features, raw_lookback, regime_features, regime_lookback};
use crate::net::Net;

/// Format version of `supervisor.json`, `meta.json` and `metrics.json`.
pub const STACK_FORMAT_VERSION: u32 = 1;

/// One L1 network of a stack (`supervisor.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct L1Unit {
    /// Horizon, grid bars (seconds).
    pub horizon: usize,
    /// Window, grid bars.
    pub seq_len: usize,
    /// Folder, relative to the stacks root (`_l1/<H>s`).
    pub dir: String,
    /// The meta head's folder (`_l1/<H>s/meta`), when trained.
    pub meta_dir: Option<String>,
    /// The meta head's window.
    pub meta_seq_len: Option<usize>,
}

/// Long/short thresholds on a calibrated P(up) (`meta.json`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// BUY when P(up) > long.
    pub long: f64,
    /// SELL when P(up) < short.
    pub short: f64,
}

impl Default for Thresholds {
    /// [`Thresholds::never`].
    fn default() -> Self {
        Self::never()
    }
}

impl Thresholds {
    /// The neutral rule used when the optimiser finds no feasible pair: never act.
    pub fn never() -> Self {
        Self { long: 1.0, short: 0.0 }
    }

    /// BUY, SELL or HOLD for a probability.
    pub fn vote(&self, p_up: f64) -> Signal {
        if p_up > self.long {
            Signal::Buy
        } else if p_up < self.short {
            Signal::Sell
        } else {
            Signal::Hold
        }
    }
}

/// `supervisor.json`: the whole stack of one target tag.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Supervisor {
    /// Target tag (`10s`).
    pub tag: String,
    /// Its horizon, grid bars.
    pub horizon: usize,
    /// Grid interval (`1s`).
    pub interval: String,
    /// Symbol trained on.
    pub symbol: String,
    /// The L1 networks, in column order.
    pub l1: Vec<L1Unit>,
    /// Every L2 head this stack reads (its own first), as tags; each lives in `<TAG>/l2`.
    pub l2_heads: Vec<String>,
    /// The L3 folder (`<TAG>/l3`).
    pub l3_dir: String,
    /// σ window of the regime features and the triple barrier, grid bars.
    pub sigma_window: usize,
    /// Triple-barrier width up, σ.
    pub up_k_sigma: f64,
    /// Triple-barrier width down, σ.
    pub dn_k_sigma: f64,
    /// Minimum expected net edge to act, bps.
    pub edge_min_bps: f64,
    /// Fee and slippage per side.
    pub costs: CostModel,
    /// Grid bars [`Stack::predict_last`] needs.
    pub history: usize,
    /// Free description of inputs, heads, calibration and thresholds (for people).
    pub describe: serde_json::Value,
}

/// `meta.json`: the thresholds and the calibration chosen, per level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Target tag.
    pub tag: String,
    /// L3 thresholds (what decides).
    pub thresholds: Thresholds,
    /// L2 thresholds (reports).
    pub l2_thresholds: Thresholds,
    /// L1 thresholds of the tag's horizon (reports).
    pub l1_thresholds: Thresholds,
    /// Whether the optimiser found a feasible L3 pair (else the stack never acts).
    pub feasible: bool,
    /// Name of the L3 calibration chosen (`platt`, `isotonic` or `identity`).
    pub calibration: String,
    /// Why.
    pub calibration_reason: String,
    /// L2 calibration (`platt` or `identity`).
    pub l2_calibration: String,
    /// Minimum expected net edge, bps.
    pub edge_min_bps: f64,
}

/// The calibrators of one stack (`<TAG>/supervisor_L3.calib.json`, seed 000's
/// `supervisor_L3.calib.pkl`; the L2 and L1 ones beside them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StackCalibration {
    /// L3.
    pub l3: Calibrator,
    /// The chooser's record for L3.
    pub l3_choice: vane_calibration::Choice,
    /// L2 (own head).
    pub l2: Calibrator,
    /// L1 per horizon (Platt on its out-of-fold rows), keyed `"<H>s"`.
    pub l1: BTreeMap<String, Calibrator>,
}

/// Every level's probability for one bar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LevelProbs {
    /// Open time of the bar (ms).
    pub open_time: i64,
    /// L1 P(up) per horizon, calibrated, keyed `"<H>s"`.
    pub l1: BTreeMap<String, f64>,
    /// L2 P(up) of the tag, calibrated.
    pub l2: f64,
    /// L3 P(up) before calibration.
    pub l3_raw: f64,
    /// L3 P(up), calibrated (what decides).
    pub l3: f64,
    /// The L3 vote under `meta.json`'s thresholds.
    pub vote: Signal,
}

/// A loaded stack of one target tag.
#[derive(Debug)]
pub struct Stack {
    root: PathBuf,
    /// `supervisor.json`.
    pub supervisor: Supervisor,
    /// `meta.json`.
    pub meta: Meta,
    /// The calibrators.
    pub calibration: StackCalibration,
    l1: Vec<(L1Unit, Net, Option<Net>)>,
    l2: Vec<(String, Net)>,
    l3: Net,
    device: Device,
}

/// Per-bar named columns of a grid (NaN where not available).
pub type Columns = BTreeMap<String, Vec<f32>>;

/// Row-major gather of `names` from `cols` (n rows).
pub fn gather(cols: &Columns, names: &[String], n: usize) -> Result<Vec<f32>> {
    let mut out = vec![f32::NAN; n * names.len()];
    for (j, name) in names.iter().enumerate() {
        let c = cols.get(name).ok_or_else(|| {
            StackingError::InvalidInput(format!(
                "input column {name:?} is not computed (a stack file refers to a level that is missing)"
            ))
        })?;
        for (r, v) in c.iter().enumerate().take(n) {
            out[r * names.len() + j] = *v;
        }
    }
    Ok(out)
}

/// Rows `t ≥ from` whose `seq_len` window of `values` (row-major, `width` wide) is all finite.
pub fn window_ends(values: &[f32], width: usize, seq_len: usize, from: usize) -> Vec<usize> {
    let n = values.len() / width.max(1);
    let mut ends = Vec::new();
    let mut run = 0usize;
    for t in 0..n {
        if values[t * width..(t + 1) * width].iter().all(|v| v.is_finite()) {
            run += 1;
        } else {
            run = 0;
        }
        if t >= from && run >= seq_len {
            ends.push(t);
        }
    }
    ends
}

/// Predicts `net` at every row `≥ from` with a full finite window and writes P(up) into a
/// column (NaN elsewhere).
pub fn predict_column(net: &Net, cols: &Columns, n: usize, from: usize, device: &Device) -> Result<Vec<f32>> {
    let values = gather(cols, &net.file.columns, n)?;
    let ends = window_ends(&values, net.file.columns.len(), net.file.seq_len, from);
    let p = net.predict(&values, &ends, device)?;
    let mut out = vec![f32::NAN; n];
    for (&t, v) in ends.iter().zip(p) {
        out[t] = v as f32;
    }
    Ok(out)
}

/// Raw (and, with a σ window, regime) feature columns of a grid.
pub fn base_columns(bars: &Bars, filled: &[bool], sigma_window: Option<usize>) -> Columns {
    let n = bars.len();
    let mut cols = Columns::new();
    let raw = raw_features(bars, filled);
    for (j, name) in RAW_NAMES.iter().enumerate() {
        cols.insert(name.to_string(), (0..n).map(|r| raw[r * RAW_NAMES.len() + j]).collect());
    }
    if let Some(w) = sigma_window {
        let reg = regime_features(bars, w);
        for (j, name) in REGIME_NAMES.iter().enumerate() {
            cols.insert(name.to_string(), (0..n).map(|r| reg[r * REGIME_NAMES.len() + j]).collect());
        }
    }
    cols
}

fn l1_name(h: usize) -> String {
    format!("l1_{h}")
}

/// Column name of an L1 output.
pub fn l1_column(h: usize) -> String {
    l1_name(h)
}

/// Column name of an L1 meta head's output.
pub fn l1_meta_column(h: usize) -> String {
    format!("l1meta_{h}")
}

/// Column name of an L2 head's output.
pub fn l2_column(tag: &str) -> String {
    format!("l2_{tag}")
}

/// Grid bars a stack needs to predict its last bar: the deepest chain of windows.
pub fn history_of(
    l1: &[(usize, Option<usize>)],
    l2_seq: usize,
    l2_use_raw: bool,
    l3_seq: usize,
    sigma_window: Option<usize>,
) -> usize {
    let r = raw_lookback();
    let a1 = l1.iter().map(|&(s, m)| r + s - 1 + m.map_or(0, |m| m - 1)).max().unwrap_or(r);
    let a2 = a1.max(if l2_use_raw { r } else { 0 }) + l2_seq - 1;
    let a3_in = a2.max(a1).max(sigma_window.map_or(r, regime_lookback));
    a3_in + l3_seq - 1 + 1
}

impl Stack {
    /// Loads the stack of `tag` from `stacks_root` (`A/stacks`).
    pub fn load(stacks_root: &Path, tag: &str, device: &Device) -> Result<Stack> {
        let tag_dir = stacks_root.join(tag);
        let sup_path = tag_dir.join("supervisor.json");
        if !sup_path.exists() {
            return Err(StackingError::InvalidInput(format!(
                "{}: no stack for tag {tag:?} (train it with `vane stack train`)",
                sup_path.display()
            )));
        }
        let supervisor: Supervisor = vane_artifact::read_versioned(&sup_path, STACK_FORMAT_VERSION)?;
        let meta: Meta = vane_artifact::read_versioned(&tag_dir.join("meta.json"), STACK_FORMAT_VERSION)?;
        let calibration: StackCalibration =
            vane_artifact::read_versioned(&tag_dir.join("supervisor_L3.calib.json"), STACK_FORMAT_VERSION)?;
        let mut l1 = Vec::new();
        for u in &supervisor.l1 {
            let net = Net::load(&stacks_root.join(&u.dir), device)?;
            let meta_net = match &u.meta_dir {
                Some(d) => Some(Net::load(&stacks_root.join(d), device)?),
                None => None,
            };
            l1.push((u.clone(), net, meta_net));
        }
        let mut l2 = Vec::new();
        for t in &supervisor.l2_heads {
            l2.push((t.clone(), Net::load(&stacks_root.join(t).join("l2"), device)?));
        }
        let l3 = Net::load(&stacks_root.join(&supervisor.l3_dir), device)?;
        Ok(Stack { root: stacks_root.to_path_buf(), supervisor, meta, calibration, l1, l2, l3, device: device.clone() })
    }

    /// Reads `meta.json` again (thresholds and calibration names), e.g. after a retune while
    /// running; the networks and calibrators are unchanged.
    pub fn reload_meta(&mut self) -> Result<()> {
        let path = self.root.join(&self.supervisor.tag).join("meta.json");
        self.meta = vane_artifact::read_versioned(&path, STACK_FORMAT_VERSION)?;
        Ok(())
    }

    /// The stacks root it was loaded from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The target tag.
    pub fn tag(&self) -> &str {
        &self.supervisor.tag
    }

    /// Grid bars [`Stack::predict_last`] reads (the last `history` bars of its window).
    pub fn history(&self) -> usize {
        self.supervisor.history
    }

    /// Every level's output columns for rows of `bars` (a regular grid; `filled` its flags),
    /// computing the top level from row `from` on and each lower level from as far back as the
    /// level above reads. `from = 0` is the batch path.
    pub fn columns(&self, bars: &Bars, filled: &[bool], from: usize) -> Result<Columns> {
        let n = bars.len();
        if filled.len() != n {
            return Err(StackingError::InvalidInput(format!("{} filled flags for {n} bars", filled.len())));
        }
        let mut cols = base_columns(bars, filled, Some(self.supervisor.sigma_window));
        let l3_from = from;
        let l2_from = l3_from.saturating_sub(self.l3.file.seq_len - 1);
        let l2_seq = self.l2.iter().map(|(_, n)| n.file.seq_len).max().unwrap_or(1);
        let meta_from = l2_from.saturating_sub(l2_seq - 1);
        for (u, net, meta) in &self.l1 {
            let l1_from = meta_from.saturating_sub(u.meta_seq_len.unwrap_or(1) - 1);
            let c = predict_column(net, &cols, n, l1_from, &self.device)?;
            cols.insert(l1_column(u.horizon), c);
            if let Some(m) = meta {
                let c = predict_column(m, &cols, n, meta_from, &self.device)?;
                cols.insert(l1_meta_column(u.horizon), c);
            }
        }
        for (t, net) in &self.l2 {
            let c = predict_column(net, &cols, n, l2_from, &self.device)?;
            cols.insert(l2_column(t), c);
        }
        let c = predict_column(&self.l3, &cols, n, l3_from, &self.device)?;
        cols.insert("l3".into(), c);
        Ok(cols)
    }

    fn probs_at(&self, cols: &Columns, bars: &Bars, t: usize) -> Option<LevelProbs> {
        let l3_raw = f64::from(*cols.get("l3")?.get(t)?);
        if !l3_raw.is_finite() {
            return None;
        }
        let l2_raw = f64::from(cols.get(&l2_column(&self.supervisor.tag))?[t]);
        let mut l1 = BTreeMap::new();
        for (u, _, _) in &self.l1 {
            let key = format!("{}s", u.horizon);
            let p = f64::from(cols.get(&l1_column(u.horizon))?[t]);
            let p = self.calibration.l1.get(&key).map_or(p, |c| c.apply(p));
            l1.insert(key, p);
        }
        let l3 = self.calibration.l3.apply(l3_raw);
        Some(LevelProbs {
            open_time: bars.open_time()[t],
            l1,
            l2: self.calibration.l2.apply(l2_raw),
            l3_raw,
            l3,
            vote: self.meta.thresholds.vote(l3),
        })
    }

    /// The batch path: every level's probabilities for every bar of the grid (`None` for bars
    /// without enough history).
    pub fn predict_series(&self, bars: &Bars, filled: &[bool]) -> Result<Vec<Option<LevelProbs>>> {
        let cols = self.columns(bars, filled, 0)?;
        Ok((0..bars.len()).map(|t| self.probs_at(&cols, bars, t)).collect())
    }

    /// The pure per-bar function: every level's probabilities for the **last** bar of `bars`
    /// (a regular grid with its filled flags), reading only the last [`Stack::history`] bars.
    /// Equal to [`Stack::predict_series`]'s value for that bar.
    pub fn predict_last(&self, bars: &Bars, filled: &[bool]) -> Result<LevelProbs> {
        let n = bars.len();
        let h = self.history();
        if n < h || filled.len() != n {
            return Err(StackingError::InvalidInput(format!(
                "{n} grid bars ({} flags): the {} stack needs its last {h} bars",
                filled.len(),
                self.tag()
            )));
        }
        let tail = bars.slice(n - h..n);
        let cols = self.columns(&tail, &filled[n - h..], h - 1)?;
        self.probs_at(&cols, &tail, h - 1).ok_or_else(|| {
            StackingError::InvalidInput(format!(
                "the last {h} bars do not give the {} stack a full window (non-finite prices?)",
                self.tag()
            ))
        })
    }
}

/// The artifacts folder of one symbol of a several-symbol run (`vane stack train --symbols
/// A,B`): `<artifacts>/symbols/<SYMBOL>`. Its `stacks/` is laid out as a single-symbol run's
/// `<artifacts>/stacks/`, so every reader that takes an artifacts folder (`Stack::load` on its
/// `stacks/`, `StackRuntime::load`) reads it unchanged.
pub fn symbol_artifacts_dir(artifacts_dir: &Path, symbol: &str) -> PathBuf {
    artifacts_dir.join("symbols").join(symbol)
}

/// Symbols with stored stacks and the artifacts folder holding each one's `stacks/`:
/// `<artifacts>/symbols/<S>/stacks/` for every `S`, and the symbol `supervisor.json` names in
/// `<artifacts>/stacks/` (a single-symbol run). Sorted by symbol.
pub fn stored_stack_symbols(artifacts_dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let single = artifacts_dir.join("stacks");
    if let Ok(entries) = std::fs::read_dir(&single) {
        let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        names.sort();
        for p in names {
            let sup = p.join("supervisor.json");
            if let Ok(s) = vane_artifact::read_versioned::<Supervisor>(&sup, STACK_FORMAT_VERSION) {
                out.push((s.symbol, artifacts_dir.to_path_buf()));
                break;
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(artifacts_dir.join("symbols")) {
        for e in entries.flatten() {
            if e.path().join("stacks").is_dir()
                && let Some(name) = e.file_name().to_str()
            {
                out.push((name.to_string(), e.path()));
            }
        }
    }
    out.sort();
    out
}

/// The artifacts folder whose `stacks/` holds `symbol`'s stacks: `<artifacts>/symbols/<SYMBOL>`
/// (a several-symbol run) or `<artifacts>` when its `stacks/` were trained on `symbol` (a
/// single-symbol run); when both hold it, the one whose `stacks/` was written last. Otherwise [`StackingError::UnknownSymbol`] naming the symbol and listing what is
/// stored.
pub fn artifacts_for_symbol(artifacts_dir: &Path, symbol: &str) -> Result<PathBuf> {
    let stored = stored_stack_symbols(artifacts_dir);
    let modified = |d: &Path| std::fs::metadata(d.join("stacks")).and_then(|m| m.modified()).ok();
    if let Some((_, dir)) = stored.iter().filter(|(s, _)| s == symbol).max_by_key(|(_, d)| modified(d)) {
        return Ok(dir.clone());
    }
    Err(StackingError::UnknownSymbol {
        symbol: symbol.to_string(),
        artifacts: artifacts_dir.display().to_string(),
        stored: if stored.is_empty() {
            "none".into()
        } else {
            stored.iter().map(|(s, d)| format!("{s} ({})", d.join("stacks").display())).collect::<Vec<_>>().join(", ")
        },
    })
}

/// k-of-n consensus of votes: BUY (SELL) when at least `k` votes say so, else HOLD.
pub fn consensus(votes: &[Signal], k: usize) -> Signal {
    let buys = votes.iter().filter(|v| **v == Signal::Buy).count();
    let sells = votes.iter().filter(|v| **v == Signal::Sell).count();
    if k > 0 && buys >= k && buys > sells {
        Signal::Buy
    } else if k > 0 && sells >= k && sells > buys {
        Signal::Sell
    } else {
        Signal::Hold
    }
}

/// The majority `k` of `n` tags (2 of 3).
pub fn majority(n: usize) -> usize {
    n / 2 + 1
}
