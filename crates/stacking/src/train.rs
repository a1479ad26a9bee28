//! Training seed 000's stack on a regular grid, out of fold end to end.
//!
//! The grid's first `1 − valid_frac` is the training part, the rest the held-out tail. Decision
//! rows `D` are every `stride`-th bar of the training part with full history and a label inside
//! it; validation rows `V` every `stride`-th bar of the tail from `history` bars after its start
//! (so every input of a validation row comes from the final models, never from a model that
//! trained on the rows around it).
//!
//! Each level runs a purged k-fold over `D` (embargo = its label horizon in rows,
//! [`out_of_fold`]): the fold's model trains on the other folds' rows and predicts **every grid
//! bar** of its own block, so the next level's windows of per-bar outputs are out of fold. The
//! next level trains only on rows whose whole look-back (its window and the windows beneath it)
//! lies inside one block. A final model per level trains on all of `D` and predicts the tail.
//! Calibrators and thresholds are fitted on the out-of-fold rows only; `metrics.json` scores
//! the tail.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use burn::tensor::Device;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use vane_calibration::{Calibrator, Method};
use vane_costs::{CostModel, HorizonCosts};
use vane_labeling::barrier::{TripleBarrier, Vertical};
use vane_labeling::deadzone::DeadZone;
use vane_market_data::grid::GridBars;
use vane_models::SequenceModel;
use vane_policy::optimize::{Constraints, thresholds};
use vane_validation::PurgedKFold;

use crate::config::{NetConfig, StackConfig, tag_secs};
use crate::error::{Result, StackingError};
use crate::features::{RAW_NAMES, REGIME_NAMES, regime_features};
use crate::net::{Net, Row};
use crate::oof::out_of_fold;
use crate::resume::{DataPrint, L1Fingerprint, L1Resume};
use crate::stack::{
    Columns, L1Unit, Meta, STACK_FORMAT_VERSION, StackCalibration, Supervisor, Thresholds, base_columns, gather,
    history_of, l1_column, l1_meta_column, l2_column, window_ends,
};

/// Options beside the config.
#[derive(Clone, Debug, Default)]
pub struct TrainOptions {
    /// Symbol name (recorded in `supervisor.json`).
    pub symbol: String,
    /// Shuffle every level's labels (the null: the stack must score at chance).
    pub permute_labels: bool,
}

/// Where `[data] save_features` writes the per-bar columns: beside `stacks_root`, in
/// `features/<SYMBOL>_<interval>_stack.parquet`.
pub fn features_path(stacks_root: &Path, symbol: &str, interval: &str) -> std::path::PathBuf {
    stacks_root.parent().unwrap_or(Path::new(".")).join("features").join(format!("{symbol}_{interval}_stack.parquet"))
}

/// What training returns.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TrainReport {
    /// Grid bars used.
    pub grid_bars: usize,
    /// Decision-point stride.
    pub stride: usize,
    /// Out-of-fold (training) decision rows.
    pub train_rows: usize,
    /// Held-out validation rows.
    pub valid_rows: usize,
    /// Grid bars a stack needs to predict one bar.
    pub history: usize,
    /// Seconds per phase: `features` (raw features of the grid), `labels` (dead-zone labels),
    /// `l1_<H>s` (each L1 horizon with its meta head; ~0 when resumed), `l1`, `l2`, `l3` (with
    /// its triple-barrier labels, calibration, thresholds and files), `labels_l3` (the part of
    /// `l3` spent on triple-barrier labels), `save` (the swap and
    /// `--save-features`), `total`.
    pub seconds: BTreeMap<String, f64>,
    /// Symbol trained.
    #[serde(default)]
    pub symbol: String,
    /// L1 horizons reused from their `--resume` state (`"<H>s"`).
    #[serde(default)]
    pub l1_resumed: Vec<String>,
    /// L1 horizons trained by this run.
    #[serde(default)]
    pub l1_trained: Vec<String>,
    /// Per L1 column L2 and L3 read (`l1_<H>`, `l1meta_<H>`): FNV-1a 64 of its per-bar values'
    /// bits ([`column_hash`]) — a resumed run must give the same as an uninterrupted one.
    #[serde(default)]
    pub l1_inputs: BTreeMap<String, String>,
    /// Per tag: `metrics.json`'s content.
    pub tags: BTreeMap<String, Value>,
}

/// One decision row's label.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RowLabel {
    /// Up (class 1).
    pub up: bool,
    /// Sample weight.
    pub weight: f32,
    /// Last bar the label reads.
    pub end: usize,
}

/// The fold layout shared by every level.
#[derive(Clone, Debug)]
pub struct Layout {
    /// Grid bars.
    pub n: usize,
    /// First bar of the held-out tail.
    pub n_train: usize,
    /// Decision rows of the training part (grid bars).
    pub d: Vec<usize>,
    /// Validation rows (grid bars).
    pub v: Vec<usize>,
    /// Decision stride.
    pub stride: usize,
    /// Folds.
    pub k: usize,
    /// Block of every grid bar (`k` for the tail).
    pub block: Vec<usize>,
    /// Per fold: its block of grid bars.
    pub blocks: Vec<std::ops::Range<usize>>,
}

impl Layout {
    /// Builds the layout: decision rows from `first` to the last bar whose `max_h` label fits in
    /// the training part, validation rows from `n_train + history`.
    pub fn new(
        n: usize,
        valid_frac: f64,
        first: usize,
        max_h: usize,
        history: usize,
        stride: usize,
        k: usize,
    ) -> Result<Self> {
        let n_train = ((n as f64) * (1.0 - valid_frac)).floor() as usize;
        let d: Vec<usize> = (first..n_train.saturating_sub(max_h)).step_by(stride).collect();
        let v: Vec<usize> = (n_train + history..n.saturating_sub(max_h)).step_by(stride).collect();
        if d.len() < 16 * k || v.len() < 8 {
            return Err(StackingError::InvalidInput(format!(
                "{n} grid bars give {} training and {} validation decision rows (stride {stride}, history {history}, horizon {max_h}): \
                 need ≥ {} and ≥ 8; use more bars (--days, [data] last_bars) or a smaller stride",
                d.len(),
                v.len(),
                16 * k
            )));
        }
        let groups: Vec<std::ops::Range<usize>> = PurgedKFold { k, embargo: 0 }
            .folds(&d.iter().enumerate().map(|(j, _)| vane_core::Span::new(j, j)).collect::<Vec<_>>())?
            .into_iter()
            .map(|f| f.test)
            .collect();
        let mut blocks = Vec::with_capacity(k);
        for (f, g) in groups.iter().enumerate() {
            let start = if f == 0 { 0 } else { d[g.start] };
            let end = if f + 1 == k { n_train } else { d[groups[f + 1].start] };
            blocks.push(start..end);
        }
        let mut block = vec![k; n];
        for (f, b) in blocks.iter().enumerate() {
            for x in &mut block[b.clone()] {
                *x = f;
            }
        }
        Ok(Self { n, n_train, d, v, stride, k, block, blocks })
    }

    /// Whether the `depth` bars ending at `t` lie in one block.
    pub fn clean(&self, t: usize, depth: usize) -> bool {
        t + 1 >= depth && self.block[t + 1 - depth] == self.block[t]
    }
}

/// A level's out-of-fold run.
#[derive(Debug)]
pub struct LevelRun {
    /// Per grid bar: the fold model's output in the training part, the final model's in the
    /// tail (NaN where no window).
    pub column: Vec<f32>,
    /// Per decision row: the out-of-fold output of a row the level trained on (None: unusable).
    pub oof: Vec<Option<f64>>,
    /// Which decision rows were training rows (labelled, finite window, clean look-back).
    pub usable: Vec<bool>,
    /// The final model.
    pub net: Net,
    /// The final model's last epoch (checkpoint).
    pub last: Option<(usize, SequenceModel)>,
    /// Per grid bar: which model wrote `column` there (fold index, `k` for the final model,
    /// `usize::MAX` for none).
    pub producer: Vec<usize>,
    /// Per fold, then the final model (last entry): the grid bars of the rows it trained on.
    pub trained_on: Vec<Vec<usize>>,
}

/// What one level trains on.
#[derive(Debug)]
pub struct LevelSpec<'a> {
    /// For progress.
    pub name: String,
    /// Input columns.
    pub inputs: Vec<String>,
    /// Window.
    pub seq_len: usize,
    /// Bars of look-back that must lie in one fold block (its window plus the windows beneath
    /// it that read out-of-fold outputs; 1 for raw inputs).
    pub depth: usize,
    /// Label per decision row.
    pub labels: &'a [Option<RowLabel>],
    /// The label horizon (embargo), bars.
    pub horizon: usize,
    /// Network.
    pub net: &'a NetConfig,
    /// Seed.
    pub seed: u64,
    /// Predict every grid bar (the next level reads windows of this output, or the per-bar
    /// columns are saved); `false`: only the decision and validation rows (the top level).
    pub every_bar: bool,
}

/// Runs one level out of fold over `layout` (see the module doc).
pub fn run_level(cols: &Columns, spec: &LevelSpec<'_>, layout: &Layout, device: &Device) -> Result<LevelRun> {
    let n = layout.n;
    let width = spec.inputs.len();
    let values = gather(cols, &spec.inputs, n)?;
    let finite_end: Vec<bool> = {
        let mut m = vec![false; n];
        for t in window_ends(&values, width, spec.seq_len, 0) {
            m[t] = true;
        }
        m
    };
    // Bars to predict: every bar, or only the decision and validation rows.
    let wanted: Vec<bool> = if spec.every_bar {
        finite_end.clone()
    } else {
        let mut w = vec![false; n];
        for &t in layout.d.iter().chain(&layout.v) {
            w[t] = finite_end[t];
        }
        w
    };
    let d = &layout.d;
    let usable: Vec<bool> =
        d.iter().zip(spec.labels).map(|(&t, l)| l.is_some() && finite_end[t] && layout.clean(t, spec.depth)).collect();
    let stride = layout.stride;
    let spans: Vec<vane_core::Span> = d
        .iter()
        .enumerate()
        .map(|(j, &t)| {
            let end_bar = spec.labels[j].map_or(t, |l| l.end.max(t));
            let end = (j + (end_bar - t).div_ceil(stride)).min(d.len() - 1);
            vane_core::Span::new(j, end)
        })
        .collect();
    let folds = PurgedKFold { k: layout.k, embargo: spec.horizon.div_ceil(stride) };
    let rows_of = |js: &mut dyn Iterator<Item = usize>| -> Vec<Row> {
        js.filter(|&j| usable[j])
            .map(|j| {
                let l = spec.labels[j].expect("usable rows are labelled");
                Row { end: d[j], up: l.up, weight: l.weight }
            })
            .collect()
    };
    let mut column = vec![f32::NAN; n];
    let mut producer = vec![usize::MAX; n];
    let mut trained_on: Vec<Vec<usize>> = Vec::new();
    let mut fold = 0usize;
    out_of_fold(&spans, &folds, 2, |train: &[usize], test: &[usize]| -> Result<Vec<Vec<f64>>> {
        let rows = rows_of(&mut train.iter().copied());
        let (net, _) =
            Net::train(&values, &spec.inputs, spec.seq_len, &rows, spec.net, spec.seed + fold as u64, device)?;
        let f = layout.block[d[test[0]]];
        let b = layout.blocks[f].clone();
        let ends: Vec<usize> = (b.start..b.end).filter(|&t| wanted[t]).collect();
        for (&t, p) in ends.iter().zip(net.predict(&values, &ends, device)?) {
            column[t] = p as f32;
            producer[t] = f;
        }
        trained_on.push(rows.iter().map(|r| r.end).collect());
        fold += 1;
        Ok(test
            .iter()
            .map(|&j| {
                let p = f64::from(column[d[j]]);
                let p = if p.is_finite() { p } else { 0.5 };
                vec![1.0 - p, p]
            })
            .collect())
    })?;
    let rows = rows_of(&mut (0..d.len()));
    let (net, last) = Net::train(&values, &spec.inputs, spec.seq_len, &rows, spec.net, spec.seed + 1000, device)?;
    let ends: Vec<usize> = (layout.n_train..n).filter(|&t| wanted[t]).collect();
    for (&t, p) in ends.iter().zip(net.predict(&values, &ends, device)?) {
        column[t] = p as f32;
        producer[t] = layout.k;
    }
    trained_on.push(rows.iter().map(|r| r.end).collect());
    let oof = d
        .iter()
        .zip(&usable)
        .map(|(&t, &u)| if u { Some(f64::from(column[t])).filter(|p| p.is_finite()) } else { None })
        .collect();
    Ok(LevelRun { column, oof, usable, net, last, producer, trained_on })
}

/// Dead-zone labels of horizon `h` at every grid bar, and forward returns.
fn deadzone(close: &[f64], h: usize, eps: f64, w: f64) -> Result<Vec<Option<(RowLabel, f64)>>> {
    let l = DeadZone::new(h, eps, w)?.label(close);
    Ok(l.values
        .iter()
        .enumerate()
        .map(|(t, v)| v.map(|d| (RowLabel { up: d.up, weight: d.weight as f32, end: t + h }, d.ret)))
        .collect())
}

/// Shuffles the classes and weights of the labelled bars (each bar keeps its own label window,
/// so purging and embargo stay those of the real labels).
fn permute(xs: &mut [Option<RowLabel>], seed: u64) {
    let idx: Vec<usize> = (0..xs.len()).filter(|&i| xs[i].is_some()).collect();
    let mut vals: Vec<(bool, f32)> = idx.iter().filter_map(|&i| xs[i].map(|l| (l.up, l.weight))).collect();
    vals.shuffle(&mut StdRng::seed_from_u64(seed));
    for (i, (up, weight)) in idx.into_iter().zip(vals) {
        if let Some(l) = xs[i].as_mut() {
            l.up = up;
            l.weight = weight;
        }
    }
}

fn rows_at(labels: &[Option<RowLabel>], at: &[usize]) -> Vec<Option<RowLabel>> {
    at.iter().map(|&t| labels[t]).collect()
}

/// Log-loss of probabilities (clipped to [1e-7, 1 − 1e-7]).
pub fn log_loss(y: &[bool], p: &[f64]) -> f64 {
    if y.is_empty() {
        return f64::NAN;
    }
    let s: f64 = y
        .iter()
        .zip(p)
        .map(|(&y, &p)| {
            let p = p.clamp(1e-7, 1.0 - 1e-7);
            if y { -p.ln() } else { -(1.0 - p).ln() }
        })
        .sum();
    s / y.len() as f64
}

/// Scores of one level on the held-out rows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LevelMetrics {
    /// Held-out rows scored.
    pub rows: usize,
    /// Log-loss of the calibrated probabilities against the level's own labels.
    pub log_loss: f64,
    /// Log-loss of always predicting the training base rate.
    pub base_rate_log_loss: f64,
    /// Training base rate of "up".
    pub base_rate: f64,
    /// ECE before calibration.
    pub ece_before: f64,
    /// ECE after calibration.
    pub ece_after: f64,
    /// Share of trades whose side matched the sign of the tag-horizon return.
    pub precision: f64,
    /// Share of rows trading.
    pub activity: f64,
    /// Share of rows holding.
    pub abstain: f64,
    /// Trades.
    pub trades: usize,
    /// Mean net edge per trade after fee + slippage on the out-of-fold rows the thresholds were
    /// chosen on, bps (NaN when no feasible thresholds).
    pub expected_net_edge_bps: f64,
    /// Mean net edge per trade after fee + slippage on the held-out rows, bps.
    pub realised_net_edge_bps: f64,
    /// Thresholds used.
    pub thresholds: Thresholds,
    /// Calibration used.
    pub calibration: String,
}

fn ece(y: &[bool], p: &[f64]) -> f64 {
    vane_calibration::metrics::ece(y, p).unwrap_or(f64::NAN)
}

struct Scored {
    thr: Thresholds,
    feasible: bool,
    expected_bps: f64,
}

fn choose_thresholds(p: &[f64], r: &[f64], costs: &CostModel, edge_min_bps: f64, cfg: &StackConfig) -> Result<Scored> {
    let c = Constraints {
        min_margin: cfg.thresholds.min_margin,
        min_active: cfg.thresholds.min_act,
        min_abstain: cfg.thresholds.min_abstain,
        edge_min_bps,
        step: 0.005,
    };
    Ok(match thresholds(p, r, costs, &c)? {
        Some(ch) => Scored {
            thr: Thresholds { long: ch.long, short: ch.short },
            feasible: true,
            expected_bps: ch.mean_edge_bps,
        },
        None => Scored { thr: Thresholds::never(), feasible: false, expected_bps: f64::NAN },
    })
}

#[allow(clippy::too_many_arguments)]
fn score(
    raw: &[f64],
    cal: &Calibrator,
    y: &[bool],
    r: &[f64],
    base_rate: f64,
    s: &Scored,
    costs: &CostModel,
) -> LevelMetrics {
    let p: Vec<f64> = raw.iter().map(|&x| cal.apply(x)).collect();
    let rt = costs.round_trip();
    let (mut trades, mut hits, mut edge) = (0usize, 0usize, 0.0);
    for (&pi, &ri) in p.iter().zip(r) {
        let side = match s.thr.vote(pi) {
            vane_core::Signal::Buy => 1.0,
            vane_core::Signal::Sell => -1.0,
            vane_core::Signal::Hold => continue,
        };
        trades += 1;
        hits += usize::from(side * ri > 0.0);
        edge += side * ri - rt;
    }
    let n = p.len().max(1) as f64;
    LevelMetrics {
        rows: p.len(),
        log_loss: log_loss(y, &p),
        base_rate_log_loss: log_loss(y, &vec![base_rate; y.len()]),
        base_rate,
        ece_before: ece(y, raw),
        ece_after: ece(y, &p),
        precision: if trades > 0 { hits as f64 / trades as f64 } else { f64::NAN },
        activity: trades as f64 / n,
        abstain: 1.0 - trades as f64 / n,
        trades,
        expected_net_edge_bps: s.expected_bps,
        realised_net_edge_bps: if trades > 0 { edge / trades as f64 * 1e4 } else { f64::NAN },
        thresholds: s.thr,
        calibration: cal.method().into(),
    }
}

/// Precision of the `share` most confident rows of `p` (by |p − 0.5|), side = sign(p − 0.5),
/// against the sign of `r`: a level's precision at a given activity.
pub fn precision_at_activity(p: &[f64], r: &[f64], share: f64) -> f64 {
    let k = ((p.len() as f64) * share).round() as usize;
    if k == 0 {
        return f64::NAN;
    }
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&a, &b| (p[b] - 0.5).abs().total_cmp(&(p[a] - 0.5).abs()));
    let hits = idx[..k].iter().filter(|&&i| (p[i] - 0.5) * r[i] > 0.0).count();
    hits as f64 / k as f64
}

fn platt_or_identity(scores: &[f64], y: &[bool]) -> Calibrator {
    vane_calibration::fit_binary(Method::Platt, scores, y, 0.2).map_or(Calibrator::Identity, |(c, _)| c)
}

/// Trains every tag's stack on `grid` and writes `stacks_root` (`A/stacks`) as one folder,
/// swapped in atomically.
pub fn train_stacks(
    grid: &GridBars,
    cfg: &StackConfig,
    opts: &TrainOptions,
    stacks_root: &Path,
    device: &Device,
    progress: &mut dyn FnMut(&str),
) -> Result<TrainReport> {
    train_stacks_with(grid, cfg, opts, &L1Resume::none(), stacks_root, device, progress)
}

/// FNV-1a 64 of a column's f32 bits, hex: what [`TrainReport::l1_inputs`] records.
pub fn column_hash(c: &[f32]) -> String {
    let mut h = crate::resume::FNV_OFFSET;
    for v in c {
        crate::resume::fnv(&mut h, &v.to_bits().to_le_bytes());
    }
    format!("{h:016x}")
}

/// [`train_stacks`] keeping each L1 horizon's state in `resume.dir` and, with `resume.resume`,
/// reusing a horizon whose state is complete and whose [`L1Fingerprint`] matches instead of
/// retraining it (seed 000's `--resume`; [`crate::resume`]).
pub fn train_stacks_with(
    grid: &GridBars,
    cfg: &StackConfig,
    opts: &TrainOptions,
    resume: &L1Resume,
    stacks_root: &Path,
    device: &Device,
    progress: &mut dyn FnMut(&str),
) -> Result<TrainReport> {
    cfg.validate()?;
    let started = Instant::now();
    let bars = &grid.bars;
    let n = bars.len();
    let close = bars.close();
    let table = vane_costs::seed000_horizons();
    let mut tags: Vec<(String, usize, HorizonCosts)> = Vec::new();
    for t in &cfg.tags {
        let h = tag_secs(t)?;
        let row = table.iter().find(|r| r.tag == t).copied().ok_or_else(|| {
            StackingError::Config(format!(
                "tag {t:?} has no row in seed 000's table (1s, 10s, 15s, 30s, 60s, 180s); 5s is an L1 input only"
            ))
        })?;
        tags.push((t.clone(), h, row));
    }
    let meta_seq = cfg.l1.meta_head.then_some(cfg.l1.meta_seq_len);
    let units: Vec<(usize, usize)> = cfg.l1.horizons.iter().copied().zip(cfg.l1.seq_lens.iter().copied()).collect();
    let max_sigma = tags.iter().map(|t| t.2.sigma_window_secs as usize).max().unwrap_or(2);
    let history = history_of(
        &units.iter().map(|&(_, s)| (s, meta_seq)).collect::<Vec<_>>(),
        cfg.l2.l2_seq_len,
        cfg.l2.use_raw,
        cfg.l3.l3_seq_len,
        Some(max_sigma),
    );
    let max_h = units.iter().map(|u| u.0).chain(tags.iter().map(|t| t.1)).max().unwrap_or(1);
    let first = (history - 1).max(max_sigma + 1);
    let k = cfg.l1.oof_splits;
    let layout = Layout::new(n, cfg.data.valid_frac, first, max_h, history, cfg.data.stride, k)?;
    progress(&format!(
        "stack: {n} grid bars ({:.1} % filled), stride {}, {} training rows in {k} folds, {} validation rows, history {history} bars",
        grid.filled_share() * 100.0,
        layout.stride,
        layout.d.len(),
        layout.v.len()
    ));
    let seed = cfg.data.seed;
    let mut seconds = BTreeMap::new();
    let tf = Instant::now();
    let mut cols: Columns = base_columns(bars, &grid.filled, None);
    let raw_names: Vec<String> = RAW_NAMES.iter().map(|s| s.to_string()).collect();
    seconds.insert("features".to_string(), tf.elapsed().as_secs_f64());
    let tl = Instant::now();

    // Labels at every grid bar: dead-zone per L1 horizon (L2 reads the tag's).
    let mut dz: BTreeMap<usize, (Vec<Option<RowLabel>>, Vec<f64>)> = BTreeMap::new();
    for &(h, _) in &units {
        let l = deadzone(close, h, cfg.l1.deadzone_eps, cfg.l1.deadzone_weight)?;
        let mut labels: Vec<Option<RowLabel>> = l.iter().map(|x| x.map(|v| v.0)).collect();
        let rets: Vec<f64> = l.iter().map(|x| x.map_or(f64::NAN, |v| v.1)).collect();
        if opts.permute_labels {
            permute(&mut labels, seed ^ (h as u64 * 7919));
        }
        dz.insert(h, (labels, rets));
    }
    seconds.insert("labels".to_string(), tl.elapsed().as_secs_f64());
    let data_print = resume.dir.as_ref().map(|_| DataPrint::of(bars, &grid.filled));
    let interval = grid.interval.to_string();
    let mut l1_resumed: Vec<String> = Vec::new();
    let mut l1_trained: Vec<String> = Vec::new();

    // L1.
    let t1 = Instant::now();
    let mut l1_runs: Vec<(usize, usize, LevelRun, Option<LevelRun>)> = Vec::new();
    let mut l1_state: BTreeMap<usize, std::path::PathBuf> = BTreeMap::new();
    let mut l1_cols: Vec<String> = Vec::new();
    for &(h, s) in &units {
        let th = Instant::now();
        let state_dir = resume.horizon_dir(h);
        let fp = data_print
            .as_ref()
            .map(|dp| L1Fingerprint::new(cfg, &opts.symbol, &interval, dp, &layout, h, s, opts.permute_labels));
        if let (Some(dir), Some(fp)) = (&state_dir, &fp)
            && resume.resume
        {
            crate::resume::check_dir(dir)?;
            match crate::resume::load(dir, fp, &layout, device)? {
                Ok((run, meta)) => {
                    progress(&format!("L1 {h}s: resumed from {} (complete, same fingerprint)", dir.display()));
                    cols.insert(l1_column(h), run.column.clone());
                    l1_cols.push(l1_column(h));
                    if let Some(m) = &meta {
                        cols.insert(l1_meta_column(h), m.column.clone());
                        l1_cols.push(l1_meta_column(h));
                    }
                    l1_runs.push((h, s, run, meta));
                    l1_state.insert(h, dir.clone());
                    l1_resumed.push(format!("{h}s"));
                    seconds.insert(format!("l1_{h}s"), th.elapsed().as_secs_f64());
                    continue;
                }
                Err(why) => progress(&format!("L1 {h}s: {why}; training it")),
            }
        }
        progress(&format!("L1 {h}s: HRM over {s} bars, {k}-fold out of fold + final"));
        let labels = rows_at(&dz[&h].0, &layout.d);
        let spec = LevelSpec {
            name: format!("l1 {h}s"),
            inputs: raw_names.clone(),
            seq_len: s,
            depth: 1,
            labels: &labels,
            horizon: h,
            net: &cfg.l1.net,
            seed: seed + h as u64,
            every_bar: true,
        };
        let run = run_level(&cols, &spec, &layout, device)?;
        cols.insert(l1_column(h), run.column.clone());
        l1_cols.push(l1_column(h));
        let meta = match meta_seq {
            Some(ms) => {
                progress(&format!("L1 {h}s meta head: HRM over its own {ms} outputs"));
                let net = NetConfig {
                    epochs: cfg.l1.meta_epochs,
                    high_period: cfg.l1.meta_high_period,
                    ..cfg.l1.net.clone()
                };
                let spec = LevelSpec {
                    name: format!("l1 meta {h}s"),
                    inputs: vec![l1_column(h)],
                    seq_len: ms,
                    depth: ms,
                    labels: &labels,
                    horizon: h,
                    net: &net,
                    seed: seed + 500 + h as u64,
                    every_bar: true,
                };
                let m = run_level(&cols, &spec, &layout, device)?;
                cols.insert(l1_meta_column(h), m.column.clone());
                l1_cols.push(l1_meta_column(h));
                Some(m)
            }
            None => None,
        };
        if let (Some(dir), Some(fp)) = (&state_dir, &fp) {
            crate::resume::save(dir, fp, &run, meta.as_ref())?;
            l1_state.insert(h, dir.clone());
        }
        l1_runs.push((h, s, run, meta));
        l1_trained.push(format!("{h}s"));
        seconds.insert(format!("l1_{h}s"), th.elapsed().as_secs_f64());
    }
    seconds.insert("l1".to_string(), t1.elapsed().as_secs_f64());
    let l1_inputs: BTreeMap<String, String> = l1_cols.iter().map(|c| (c.clone(), column_hash(&cols[c]))).collect();

    // L2 per tag.
    let t2 = Instant::now();
    let l2_depth = cfg.l2.l2_seq_len + meta_seq.map_or(0, |m| m - 1);
    let mut l2_runs: BTreeMap<String, LevelRun> = BTreeMap::new();
    for (tag, h, _) in &tags {
        progress(&format!("L2 {tag}: meta-gate over {} steps of {} L1 outputs", cfg.l2.l2_seq_len, l1_cols.len()));
        let labels = rows_at(&dz[h].0, &layout.d);
        let mut inputs = l1_cols.clone();
        if cfg.l2.use_raw {
            inputs.extend(raw_names.iter().cloned());
        }
        let spec = LevelSpec {
            name: format!("l2 {tag}"),
            inputs,
            seq_len: cfg.l2.l2_seq_len,
            depth: l2_depth,
            labels: &labels,
            horizon: *h,
            net: &cfg.l2.net,
            seed: seed + 2000 + *h as u64,
            every_bar: true,
        };
        let run = run_level(&cols, &spec, &layout, device)?;
        cols.insert(l2_column(tag), run.column.clone());
        l2_runs.insert(tag.clone(), run);
    }
    seconds.insert("l2".to_string(), t2.elapsed().as_secs_f64());

    // L3 per tag.
    let t3 = Instant::now();
    let l3_depth = cfg.l3.l3_seq_len + if cfg.l3.use_l2 { l2_depth - 1 } else { meta_seq.map_or(0, |m| m - 1) };
    let mut report = TrainReport {
        grid_bars: n,
        stride: layout.stride,
        train_rows: layout.d.len(),
        valid_rows: layout.v.len(),
        history,
        symbol: opts.symbol.clone(),
        l1_resumed,
        l1_trained,
        l1_inputs,
        ..TrainReport::default()
    };
    let staged = vane_artifact::StagedDir::new(stacks_root)?;
    let root = staged.path().to_path_buf();
    let mut l3_cols: Columns = Columns::new();
    let mut l1_units: Vec<L1Unit> = Vec::new();
    for (h, s, run, meta) in &l1_runs {
        let dir = format!("_l1/{h}s");
        let state = l1_state.get(h);
        match state {
            Some(st) => crate::resume::copy_dir(&st.join("l1"), &root.join(&dir))?,
            None => run.net.save(&root.join(&dir), run.last.as_ref())?,
        }
        let meta_dir = match meta {
            Some(m) => {
                let md = format!("{dir}/meta");
                match state {
                    Some(st) => crate::resume::copy_dir(&st.join("meta"), &root.join(&md))?,
                    None => m.net.save(&root.join(&md), m.last.as_ref())?,
                }
                Some(md)
            }
            None => None,
        };
        l1_units.push(L1Unit { horizon: *h, seq_len: *s, dir, meta_dir, meta_seq_len: meta_seq });
    }
    let l2_heads: Vec<String> = tags.iter().map(|t| t.0.clone()).collect();
    for (tag, run) in &l2_runs {
        run.net.save(&root.join(tag).join("l2"), run.last.as_ref())?;
    }
    // L1 calibrators (Platt on the out-of-fold rows), shared by every tag.
    let mut l1_cal: BTreeMap<usize, Calibrator> = BTreeMap::new();
    for (h, _, run, _) in &l1_runs {
        let (sc, y): (Vec<f64>, Vec<bool>) =
            run.oof.iter().zip(rows_at(&dz[h].0, &layout.d)).filter_map(|(p, l)| Some((((*p)?), l?.up))).unzip();
        l1_cal.insert(*h, platt_or_identity(&sc, &y));
    }
    for (tag, h, hc) in &tags {
        let sw = hc.sigma_window_secs as usize;
        progress(&format!(
            "L3 {tag}: supervisor, triple barrier {}σ over σ window {sw} s, edge ≥ {} bps",
            hc.k_sigma, hc.edge_min_bps
        ));
        let mut tcols = cols.clone();
        if cfg.l3.use_regime {
            let reg = regime_features(bars, sw);
            for (j, name) in REGIME_NAMES.iter().enumerate() {
                tcols.insert(name.to_string(), (0..n).map(|r| reg[r * REGIME_NAMES.len() + j]).collect());
            }
        }
        let tlab = Instant::now();
        let mut tb = TripleBarrier::new(*h, sw, hc.k_sigma, hc.k_sigma)?;
        tb.vertical = Vertical::Sign;
        let tbl = tb.label(bars)?;
        *seconds.entry("labels_l3".to_string()).or_insert(0.0) += tlab.elapsed().as_secs_f64();
        let mut labels3: Vec<Option<RowLabel>> = tbl
            .values
            .iter()
            .map(|v| v.map(|b| RowLabel { up: b.label > 0, weight: 1.0, end: b.touch_index }))
            .collect();
        if opts.permute_labels {
            permute(&mut labels3, seed ^ 0x5eed ^ (*h as u64));
        }
        let mut inputs = Vec::new();
        if cfg.l3.use_raw {
            inputs.extend(raw_names.iter().cloned());
        }
        if cfg.l3.use_l1 {
            inputs.extend(l1_cols.iter().cloned());
        }
        if cfg.l3.use_l2 {
            inputs.extend(l2_heads.iter().map(|t| l2_column(t)));
        }
        if cfg.l3.use_regime {
            inputs.extend(REGIME_NAMES.iter().map(|s| s.to_string()));
        }
        let d_labels3 = rows_at(&labels3, &layout.d);
        let spec = LevelSpec {
            name: format!("l3 {tag}"),
            inputs,
            seq_len: cfg.l3.l3_seq_len,
            depth: l3_depth,
            labels: &d_labels3,
            horizon: *h,
            net: &cfg.l3.net,
            seed: seed + 3000 + *h as u64,
            // Nothing reads windows of L3: its decision and validation rows suffice, unless the
            // per-bar columns are saved.
            every_bar: cfg.data.save_features,
        };
        let run3 = run_level(&tcols, &spec, &layout, device)?;
        let costs = hc.costs;
        let fwd = |t: usize| close[t + h] / close[t] - 1.0;

        // Calibration and thresholds on the out-of-fold rows only.
        let oof_pairs = |run: &LevelRun, labels: &[Option<RowLabel>]| -> (Vec<f64>, Vec<bool>, Vec<f64>) {
            let mut s = Vec::new();
            let mut y = Vec::new();
            let mut r = Vec::new();
            for (j, &t) in layout.d.iter().enumerate() {
                if let (Some(p), Some(l)) = (run.oof[j], labels[j]) {
                    s.push(p);
                    y.push(l.up);
                    r.push(fwd(t));
                }
            }
            (s, y, r)
        };
        let (s3, y3, r3) = oof_pairs(&run3, &d_labels3);
        let method = match (cfg.l3.platt, cfg.l3.isotonic) {
            (true, true) => Some(Method::Auto),
            (true, false) => Some(Method::Platt),
            (false, true) => Some(Method::Isotonic),
            (false, false) => None,
        };
        let (cal3, choice3) = match method {
            Some(m) => match vane_calibration::fit_binary(m, &s3, &y3, 0.2) {
                Ok(x) => x,
                Err(e) => (
                    Calibrator::Identity,
                    vane_calibration::Choice {
                        chosen: "identity".into(),
                        platt_log_loss: None,
                        isotonic_log_loss: None,
                        identity_log_loss: None,
                        reason: format!("fallback to identity: {e}"),
                    },
                ),
            },
            None => (
                Calibrator::Identity,
                vane_calibration::Choice {
                    chosen: "identity".into(),
                    platt_log_loss: None,
                    isotonic_log_loss: None,
                    identity_log_loss: None,
                    reason: "no calibration asked ([l3] platt = isotonic = false)".into(),
                },
            ),
        };
        let p3: Vec<f64> = s3.iter().map(|&x| cal3.apply(x)).collect();
        let thr3 = choose_thresholds(&p3, &r3, &costs, hc.edge_min_bps, cfg)?;

        let l2run = &l2_runs[tag];
        let d_labels2 = rows_at(&dz[h].0, &layout.d);
        let (s2, y2, r2) = oof_pairs(l2run, &d_labels2);
        let cal2 = if cfg.l2.platt { platt_or_identity(&s2, &y2) } else { Calibrator::Identity };
        let p2: Vec<f64> = s2.iter().map(|&x| cal2.apply(x)).collect();
        let thr2 = choose_thresholds(&p2, &r2, &costs, hc.edge_min_bps, cfg)?;

        let l1run = &l1_runs.iter().find(|u| u.0 == *h).expect("every tag has its L1").2;
        let (s1, _y1, r1) = oof_pairs(l1run, &d_labels2);
        let cal1 = &l1_cal[h];
        let p1: Vec<f64> = s1.iter().map(|&x| cal1.apply(x)).collect();
        let thr1 = choose_thresholds(&p1, &r1, &costs, hc.edge_min_bps, cfg)?;

        // Held-out scores: rows of the tail where every level has an output.
        let v: Vec<usize> = layout
            .v
            .iter()
            .copied()
            .filter(|&t| {
                run3.column[t].is_finite()
                    && l2run.column[t].is_finite()
                    && labels3[t].is_some()
                    && dz[h].0[t].is_some()
            })
            .collect();
        let r_v: Vec<f64> = v.iter().map(|&t| fwd(t)).collect();
        let base = |run: &LevelRun, labels: &[Option<RowLabel>]| -> f64 {
            let ys: Vec<bool> =
                run.usable.iter().zip(labels).filter(|(u, _)| **u).filter_map(|(_, l)| l.map(|l| l.up)).collect();
            ys.iter().filter(|&&b| b).count() as f64 / ys.len().max(1) as f64
        };
        let col_at = |c: &[f32]| -> Vec<f64> { v.iter().map(|&t| f64::from(c[t])).collect() };
        let y_dz: Vec<bool> = v.iter().map(|&t| dz[h].0[t].expect("filtered").up).collect();
        let y_tb: Vec<bool> = v.iter().map(|&t| labels3[t].expect("filtered").up).collect();
        let m1 = score(&col_at(&l1run.column), cal1, &y_dz, &r_v, base(l1run, &d_labels2), &thr1, &costs);
        let m2 = score(&col_at(&l2run.column), &cal2, &y_dz, &r_v, base(l2run, &d_labels2), &thr2, &costs);
        let m3 = score(&col_at(&run3.column), &cal3, &y_tb, &r_v, base(&run3, &d_labels3), &thr3, &costs);
        let mut per_h = serde_json::Map::new();
        let mut best_l1 = f64::NAN;
        for (hh, _, run, _) in &l1_runs {
            let p: Vec<f64> = col_at(&run.column).iter().map(|&x| l1_cal[hh].apply(x)).collect();
            let prec = precision_at_activity(&p, &r_v, m3.activity);
            if prec.is_finite() && (best_l1.is_nan() || prec > best_l1) {
                best_l1 = prec;
            }
            per_h.insert(format!("{hh}s"), json!({ "precision_at_l3_activity": prec }));
        }
        let uplift = m3.precision - best_l1;
        let metrics = json!({
            "tag": tag,
            "horizon_secs": h,
            "permute_labels": opts.permute_labels,
            "rows": { "train_oof": layout.d.len(), "validation": v.len() },
            "l1": m1,
            "l2": m2,
            "l3": m3,
            "l1_per_horizon": per_h,
            "l3_precision_uplift_over_best_l1": uplift,
            "best_l1_precision_at_l3_activity": best_l1,
            "note": "log_loss against each level's own label (L1/L2: dead-zone direction at the tag's horizon; L3: triple barrier); precision, edge and trades against the sign of the tag-horizon return; thresholds and calibrators fitted on out-of-fold rows, scored on the held-out tail",
        });
        progress(&format!(
            "{tag}: log-loss L1 {:.4} L2 {:.4} L3 {:.4} (base {:.4}); L3 precision {:.3} at activity {:.3}, realised edge {:.2} bps over {} trades",
            m1.log_loss,
            m2.log_loss,
            m3.log_loss,
            m3.base_rate_log_loss,
            m3.precision,
            m3.activity,
            m3.realised_net_edge_bps,
            m3.trades
        ));

        // Files.
        let tdir = root.join(tag);
        run3.net.save(&tdir.join("l3"), run3.last.as_ref())?;
        let tag_history = history_of(
            &units.iter().map(|&(_, s)| (s, meta_seq)).collect::<Vec<_>>(),
            cfg.l2.l2_seq_len,
            cfg.l2.use_raw,
            cfg.l3.l3_seq_len,
            Some(sw),
        );
        let mut l2_order = vec![tag.clone()];
        l2_order.extend(l2_heads.iter().filter(|t| *t != tag).cloned());
        if !cfg.l3.use_l2 {
            l2_order.truncate(1);
        }
        let sup = Supervisor {
            tag: tag.clone(),
            horizon: *h,
            interval: grid.interval.to_string(),
            symbol: opts.symbol.clone(),
            l1: l1_units.clone(),
            l2_heads: l2_order,
            l3_dir: format!("{tag}/l3"),
            sigma_window: sw,
            up_k_sigma: hc.k_sigma,
            dn_k_sigma: hc.k_sigma,
            edge_min_bps: hc.edge_min_bps,
            costs,
            history: tag_history,
            describe: json!({
                "inputs": { "l1": spec.inputs.iter().filter(|c| c.starts_with("l1")).collect::<Vec<_>>(), "l3": spec.inputs },
                "heads": "binary HRM heads, P(up) = class 1",
                "labels": { "l1_l2": format!("dead zone eps {} weight {}", cfg.l1.deadzone_eps, cfg.l1.deadzone_weight),
                            "l3": format!("triple barrier ±{}σ, σ window {sw}, vertical at {h}: sign of the return", hc.k_sigma) },
                "calibration": { "l3": cal3.method(), "l2": cal2.method(), "l1": "platt" },
                "thresholds": thr3.thr,
                "costs": costs,
                "config": cfg,
            }),
        };
        vane_artifact::write_versioned(&tdir.join("supervisor.json"), STACK_FORMAT_VERSION, &sup)?;
        let meta = Meta {
            tag: tag.clone(),
            thresholds: thr3.thr,
            l2_thresholds: thr2.thr,
            l1_thresholds: thr1.thr,
            feasible: thr3.feasible,
            calibration: cal3.method().into(),
            calibration_reason: choice3.reason.clone(),
            l2_calibration: cal2.method().into(),
            edge_min_bps: hc.edge_min_bps,
        };
        vane_artifact::write_versioned(&tdir.join("meta.json"), STACK_FORMAT_VERSION, &meta)?;
        let calib = StackCalibration {
            l3: cal3.clone(),
            l3_choice: choice3,
            l2: cal2.clone(),
            l1: l1_cal.iter().map(|(h, c)| (format!("{h}s"), c.clone())).collect(),
        };
        vane_artifact::write_versioned(&tdir.join("supervisor_L3.calib.json"), STACK_FORMAT_VERSION, &calib)?;
        vane_artifact::write_versioned(&tdir.join("metrics.json"), STACK_FORMAT_VERSION, &metrics)?;
        report.tags.insert(tag.clone(), metrics);
        l3_cols.insert(format!("l3_{tag}"), run3.column);
    }
    seconds.insert("l3".to_string(), t3.elapsed().as_secs_f64());
    let ts = Instant::now();
    staged.commit()?;
    if cfg.data.save_features {
        let path = &features_path(stacks_root, &opts.symbol, &grid.interval.to_string());
        let mut names = vec!["filled".to_string()];
        let mut columns = vec![grid.filled.iter().map(|&f| f64::from(u8::from(f))).collect::<Vec<f64>>()];
        for (name, c) in cols.iter().chain(&l3_cols) {
            names.push(name.clone());
            columns.push(c.iter().map(|&v| f64::from(v)).collect());
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| vane_artifact::ArtifactError::io("create", dir, e))?;
        }
        vane_market_data::write_table_parquet(path, "open_time_ms", bars.open_time(), &names, &columns)?;
        progress(&format!("features and out-of-fold outputs: {}", path.display()));
    }
    seconds.insert("save".to_string(), ts.elapsed().as_secs_f64());
    seconds.insert("total".to_string(), started.elapsed().as_secs_f64());
    report.seconds = seconds;
    Ok(report)
}
