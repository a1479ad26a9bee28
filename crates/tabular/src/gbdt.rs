//! Gradient-boosted oblivious trees, CatBoost-style.
//!
//! **Features.** Numeric columns are cut into at most `max_bins` quantile bins on the training
//! data (borders halfway between neighbouring distinct values); NaN has its own lowest bin, so a
//! missing value goes with the smallest ones (CatBoost's `nan_mode=Min`). Each categorical
//! column becomes target-statistic columns: P(class j | category) for classification (one per
//! class; one for binary), the mean target for regression, as
//! `(sum + prior·global)/(count + prior)` — **ordered** on the training rows (each row sees only
//! the rows before it in a seeded permutation, so a category seen once carries no information
//! about its own label) and over all training rows at prediction time.
//!
//! **Trees.** Every tree is oblivious: level ℓ applies one split `x_f > border` to all 2^ℓ nodes,
//! chosen to maximise `Σ_leaves Σ_k (G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ))` over all features
//! and borders from per-leaf histograms. Leaf values are Newton steps `−G/(H+λ)` times the
//! learning rate. Gradients: softmax `p − y` with `p(1−p)`, logistic likewise, squared error
//! `F − y` with 1; each scaled by the sample weight × its class weight.
//!
//! **Boosting.** Raw scores start at the (weighted) log class priors / log-odds / mean; each
//! iteration adds one tree; with an evaluation set, training stops `early_stopping_rounds`
//! iterations after the best evaluation loss and keeps the trees up to it.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::{Result, TabularError};

/// Largest number of model outputs (classes) handled with stack buffers.
const MAX_WIDTH: usize = 64;

/// Version of the model JSON format.
pub const FORMAT_VERSION: u32 = 1;

/// What the model predicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Objective {
    /// Softmax over `classes` classes (labels 0..classes).
    Multiclass {
        /// Number of classes (≥ 2).
        classes: usize,
    },
    /// Logistic (labels 0 / 1).
    Binary,
    /// Squared error.
    Regression,
}

impl Objective {
    fn width(self) -> usize {
        match self {
            Objective::Multiclass { classes } => classes,
            Objective::Binary | Objective::Regression => 1,
        }
    }
}

/// Training parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GbdtConfig {
    /// The objective.
    pub objective: Objective,
    /// Maximum number of trees.
    pub iterations: usize,
    /// Shrinkage of every leaf value.
    pub learning_rate: f64,
    /// Levels per tree (1..=12).
    pub depth: usize,
    /// L2 regularisation λ of the leaf values.
    pub l2_leaf_reg: f64,
    /// Bins per numeric feature, NaN's included (2..=255).
    pub max_bins: usize,
    /// Stop when the evaluation loss has not improved for this many trees.
    pub early_stopping_rounds: Option<usize>,
    /// Weight per class (classification), multiplied into the sample weights.
    pub class_weights: Option<Vec<f64>>,
    /// Prior weight of the target statistics.
    pub ctr_prior: f64,
    /// Seed of the target-statistics permutation.
    pub seed: u64,
}

impl Default for GbdtConfig {
    fn default() -> Self {
        Self {
            objective: Objective::Multiclass { classes: 3 },
            iterations: 500,
            learning_rate: 0.05,
            depth: 6,
            l2_leaf_reg: 3.0,
            max_bins: 255,
            early_stopping_rounds: Some(50),
            class_weights: None,
            ctr_prior: 1.0,
            seed: 0,
        }
    }
}

impl GbdtConfig {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(TabularError::InvalidParameter(m));
        if let Objective::Multiclass { classes } = self.objective
            && !(2..=MAX_WIDTH).contains(&classes)
        {
            return bad(format!("multiclass needs 2..={MAX_WIDTH} classes, got {classes}"));
        }
        if self.iterations == 0 || !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return bad(format!(
                "iterations = {} must be ≥ 1 and learning_rate = {} in (0, 1]",
                self.iterations, self.learning_rate
            ));
        }
        if !(1..=12).contains(&self.depth) {
            return bad(format!("depth = {} must be in 1..=12", self.depth));
        }
        if !(self.l2_leaf_reg >= 0.0 && self.ctr_prior > 0.0) {
            return bad(format!(
                "l2_leaf_reg = {} must be ≥ 0 and ctr_prior = {} > 0",
                self.l2_leaf_reg, self.ctr_prior
            ));
        }
        if !(2..=255).contains(&self.max_bins) {
            return bad(format!("max_bins = {} must be in 2..=255", self.max_bins));
        }
        if let Some(w) = &self.class_weights {
            let k = self.objective.width().max(2);
            if w.len() != k || w.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
                return bad(format!("class_weights needs {k} finite non-negative values"));
            }
        }
        Ok(())
    }
}

/// The largest leaf value, base score or target statistic a loaded model may hold (a trained one
/// is many orders of magnitude below it).
pub const MAX_ABS_VALUE: f64 = 1e12;
/// The largest score the trees of a loaded model may add up to.
pub const MAX_ABS_SCORE: f64 = 1e13;
/// The deepest tree a loaded model may hold.
const MAX_TREE_DEPTH: usize = 16;

/// Target statistics of one categorical column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct CtrTable {
    /// category → (count, per-class (or target) sums).
    stats: BTreeMap<String, (f64, Vec<f64>)>,
    /// Global mean per class (or of the target).
    global: Vec<f64>,
}

/// One split: `x[feature] > border` goes right (NaN never does).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
struct Split {
    feature: usize,
    border: f64,
}

/// One oblivious tree: the level splits and `2^levels × width` leaf values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Tree {
    splits: Vec<Split>,
    values: Vec<f64>,
}

/// A trained model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gbdt {
    format_version: u32,
    config: GbdtConfig,
    numeric_names: Vec<String>,
    categorical_names: Vec<String>,
    ctrs: Vec<CtrTable>,
    base: Vec<f64>,
    trees: Vec<Tree>,
    /// Total split gain per combined feature (numeric, then target-statistic columns).
    gains: Vec<f64>,
    /// Evaluation loss after each tree (empty without an evaluation set).
    eval_history: Vec<f64>,
}

/// Labels: class indices (as f64) or regression targets.
fn check_labels(obj: Objective, y: &[f64], n: usize) -> Result<()> {
    if y.len() != n {
        return Err(TabularError::InvalidInput(format!("{} labels for {n} rows", y.len())));
    }
    let k = match obj {
        Objective::Multiclass { classes } => classes,
        Objective::Binary => 2,
        Objective::Regression => {
            return match y.iter().position(|v| !v.is_finite()) {
                Some(i) => Err(TabularError::InvalidInput(format!("label #{i} is not finite"))),
                None => Ok(()),
            };
        }
    };
    if let Some((i, v)) = y.iter().enumerate().find(|(_, v)| !(v.fract() == 0.0 && **v >= 0.0 && (**v as usize) < k)) {
        return Err(TabularError::InvalidInput(format!("label #{i} = {v}: expected a class in 0..{k}")));
    }
    Ok(())
}

/// Columns of target statistics for one categorical column.
fn ctr_columns(table: &CtrTable, values: &[String], prior: f64, width: usize) -> Vec<Vec<f64>> {
    (0..width)
        .map(|j| {
            values
                .iter()
                .map(|v| match table.stats.get(v) {
                    Some((count, sums)) => (sums[j] + prior * table.global[j]) / (count + prior),
                    None => table.global[j],
                })
                .collect()
        })
        .collect()
}

fn target_vector(obj: Objective, y: f64) -> Vec<f64> {
    match obj {
        Objective::Multiclass { classes } => (0..classes).map(|j| f64::from(u8::from(y as usize == j))).collect(),
        Objective::Binary | Objective::Regression => vec![y],
    }
}

fn softmax(z: &[f64], out: &mut [f64]) {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut s = 0.0;
    for (o, v) in out.iter_mut().zip(z) {
        *o = (v - m).exp();
        s += *o;
    }
    out.iter_mut().for_each(|o| *o /= s);
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 { 1.0 / (1.0 + (-z).exp()) } else { z.exp() / (1.0 + z.exp()) }
}

/// Mean loss of raw scores: log-loss (classification) or RMSE (regression).
fn loss(obj: Objective, raw: &[f64], y: &[f64], w: usize) -> f64 {
    let n = y.len();
    let mut p = vec![0.0; w];
    let mut total = 0.0;
    for i in 0..n {
        let z = &raw[i * w..(i + 1) * w];
        total += match obj {
            Objective::Multiclass { .. } => {
                softmax(z, &mut p);
                -p[y[i] as usize].max(1e-15).ln()
            }
            Objective::Binary => {
                let q = sigmoid(z[0]).clamp(1e-15, 1.0 - 1e-15);
                -(if y[i] > 0.5 { q.ln() } else { (1.0 - q).ln() })
            }
            Objective::Regression => (z[0] - y[i]).powi(2),
        };
    }
    let m = total / n as f64;
    if obj == Objective::Regression { m.sqrt() } else { m }
}

/// Quantile borders of a column: halfway between neighbouring distinct values.
fn borders(values: &[f64], max_bins: usize) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    if v.len() <= 1 {
        return Vec::new();
    }
    let max_borders = max_bins - 2; // one bin for NaN, one more bin than borders
    if v.len() - 1 <= max_borders {
        return v.windows(2).map(|w| w[0] + (w[1] - w[0]) / 2.0).collect();
    }
    let mut out: Vec<f64> = (1..=max_borders)
        .map(|q| {
            let i = (q * (v.len() - 1)) / (max_borders + 1);
            v[i] + (v[i + 1] - v[i]) / 2.0
        })
        .collect();
    out.dedup();
    out
}

/// Bin of a value: 0 for NaN, else 1 + the number of borders below it.
fn bin_of(b: &[f64], x: f64) -> u8 {
    if x.is_nan() { 0 } else { (1 + b.partition_point(|&v| v < x)) as u8 }
}

/// `cell += row`, element-wise (one row's interleaved gradients and hessians into a sum).
#[inline(always)]
fn add_row(cell: &mut [f64], row: &[f64]) {
    // Fixed widths for the common cases (binary/regression, 3 classes) so the adds unroll.
    fn fixed<const N: usize>(cell: &mut [f64], row: &[f64]) {
        let (c, r): (&mut [f64; N], &[f64; N]) = (cell.try_into().unwrap(), row.try_into().unwrap());
        for k in 0..N {
            c[k] += r[k];
        }
    }
    match row.len() {
        2 => fixed::<2>(cell, row),
        6 => fixed::<6>(cell, row),
        _ => {
            for (c, r) in cell.iter_mut().zip(row) {
                *c += r;
            }
        }
    }
}

/// Leaf value `−G/(H + λ)`, 0 for an empty leaf (no hessian mass and λ = 0).
#[inline]
fn newton_step(g: f64, h: f64, lambda: f64) -> f64 {
    let d = h + lambda;
    if d > 0.0 { -g / d } else { 0.0 }
}

/// Split score of a node: `G²/(H + λ)`, 0 for an empty node (no hessian mass and λ = 0).
#[inline]
fn score(g: f64, h: f64, lambda: f64) -> f64 {
    let d = h + lambda;
    if d > 0.0 { g * g / d } else { 0.0 }
}

/// Training sets whose gradients and leaf indices fit in this many bytes (about a core's L2
/// cache) search splits by walking each feature's rows in bin order, with every running sum in
/// cache; larger ones build per-leaf histograms, which read the rows sequentially. (On 2 968 rows
/// × 3 classes bin order is ~1.2× faster; on 200 000 rows it is 2–3.5× slower.)
const SORTED_SEARCH_MAX_BYTES: usize = 2 << 20;

/// Per-feature scratch of the split search, kept for the whole fit.
enum Scratch {
    /// Per-leaf histograms (the last level searched) and per-border gains.
    Histogram { hist: Vec<f64>, gain: Vec<f64> },
    /// The feature's rows sorted by bin and per-leaf running sums.
    Sorted(SortedScratch),
}

/// Scratch of the bin-order split search.
struct SortedScratch {
    /// Row indices sorted by bin (stable); bin `b`'s rows are `order[starts[b]..starts[b + 1]]`.
    order: Vec<u32>,
    starts: Vec<u32>,
    /// Per leaf: running left sums `(G, H)` per output.
    left: Vec<f64>,
    /// Per leaf: its current split gain.
    leaf_gain: Vec<f64>,
    /// Per leaf: touched in the current bin (all false between bins).
    dirty: Vec<bool>,
    touched: Vec<usize>,
}

impl Scratch {
    fn new(bins: &[u8], nb: usize, max_leaves: usize, w: usize) -> Scratch {
        if bins.len() * (2 * w + 1) * 8 > SORTED_SEARCH_MAX_BYTES {
            return Scratch::Histogram { hist: vec![0.0; max_leaves * nb * w * 2], gain: vec![0.0; nb] };
        }
        // Counting sort of the rows by bin.
        let mut starts = vec![0u32; nb + 1];
        for &b in bins {
            starts[b as usize + 1] += 1;
        }
        for b in 0..nb {
            starts[b + 1] += starts[b];
        }
        let mut next = starts.clone();
        let mut order = vec![0u32; bins.len()];
        for (i, &b) in bins.iter().enumerate() {
            order[next[b as usize] as usize] = i as u32;
            next[b as usize] += 1;
        }
        Scratch::Sorted(SortedScratch {
            order,
            starts,
            left: vec![0.0; max_leaves * w * 2],
            leaf_gain: vec![0.0; max_leaves],
            dirty: vec![false; max_leaves],
            touched: Vec::with_capacity(max_leaves),
        })
    }
}

/// What the split search of one tree level reads.
struct SplitContext<'a> {
    w: usize,
    nl: usize,
    lambda: f64,
    leaf: &'a [usize],
    /// Per row, interleaved `(g, h)` per output (`rows × 2·width`).
    gh: &'a [f64],
    tot: Vec<f64>,
    /// The histogram search's rows that went right at the previous level (their leaf is odd),
    /// when its histograms from that level are still in the scratch; `None` builds from scratch.
    right_rows: Option<&'a [u32]>,
    /// Per leaf: its score `Σ_k G²/(H+λ)`.
    leaf_score: Vec<f64>,
    parent: f64,
}

impl<'a> SplitContext<'a> {
    /// The context of one level: per-leaf sums of the interleaved `(g, h)` rows, each leaf's
    /// score `Σ_k G²/(H+λ)`, and their total (the parent score of the level's split).
    fn new(w: usize, nl: usize, lambda: f64, leaf: &'a [usize], gh: &'a [f64], right_rows: Option<&'a [u32]>) -> Self {
        let mut tot = vec![0.0; nl * w * 2];
        for (&l, row) in leaf.iter().zip(gh.chunks_exact(w * 2)) {
            add_row(&mut tot[l * w * 2..(l + 1) * w * 2], row);
        }
        let leaf_score: Vec<f64> =
            (0..nl).map(|l| (l * w..(l + 1) * w).map(|q| score(tot[q * 2], tot[q * 2 + 1], lambda)).sum()).collect();
        let parent = leaf_score.iter().sum();
        SplitContext { w, nl, lambda, leaf, gh, tot, right_rows, leaf_score, parent }
    }

    /// The best border `t` of one feature (rows with bin ≤ t go left) and its gain over the
    /// parent score.
    fn best_border(&self, bins: &[u8], nb: usize, scratch: &mut Scratch) -> Option<(f64, usize)> {
        match scratch {
            Scratch::Histogram { hist, gain } => self.best_border_histogram(bins, nb, hist, gain),
            Scratch::Sorted(s) => self.best_border_sorted(nb, s),
        }
    }

    /// The split search in bin order: walk the rows bin by bin, adding each to its leaf's running
    /// left sums; after each bin, recompute the gain of the leaves it touched and update the
    /// total. Costs O(rows + bins) per feature with every running sum in cache.
    fn best_border_sorted(&self, nb: usize, s: &mut SortedScratch) -> Option<(f64, usize)> {
        let (w, nl, lambda) = (self.w, self.nl, self.lambda);
        let SortedScratch { order, starts, left, leaf_gain, dirty, touched } = s;
        let left = &mut left[..nl * w * 2];
        left.fill(0.0);
        let leaf_gain = &mut leaf_gain[..nl];
        leaf_gain.fill(0.0);
        let mut total = 0.0;
        let mut best: Option<(f64, usize)> = None;
        for t in 0..nb - 1 {
            let rows = &order[starts[t] as usize..starts[t + 1] as usize];
            if rows.is_empty() {
                continue;
            }
            for &i in rows {
                let i = i as usize;
                let l = self.leaf[i];
                add_row(&mut left[l * w * 2..(l + 1) * w * 2], &self.gh[i * w * 2..(i + 1) * w * 2]);
                if !dirty[l] {
                    dirty[l] = true;
                    touched.push(l);
                }
            }
            for l in touched.drain(..) {
                dirty[l] = false;
                let totals = &self.tot[l * w * 2..(l + 1) * w * 2];
                let cell = &left[l * w * 2..(l + 1) * w * 2];
                let mut gain = -self.leaf_score[l];
                for j in 0..w {
                    let (gl, hl, gt, ht) = (cell[2 * j], cell[2 * j + 1], totals[2 * j], totals[2 * j + 1]);
                    gain += score(gl, hl, lambda) + score(gt - gl, ht - hl, lambda);
                }
                total += gain - leaf_gain[l];
                leaf_gain[l] = gain;
            }
            if total > 1e-12 && best.is_none_or(|b| total > b.0) {
                best = Some((total, t));
            }
        }
        best
    }

    /// The split search from per-leaf histograms (large training sets).
    fn best_border_histogram(
        &self,
        bins: &[u8],
        nb: usize,
        hist_buf: &mut [f64],
        gain_buf: &mut [f64],
    ) -> Option<(f64, usize)> {
        let (w, nl, lambda) = (self.w, self.nl, self.lambda);
        let cells = nb * w * 2;
        let hist = &mut hist_buf[..nl * cells];
        match self.right_rows {
            // Histogram subtraction: `hist` holds the previous level's per-leaf histograms. Leaf
            // p split into 2p and 2p+1: build only the right children's from their rows, then
            // left = parent − right. (In place, parents taken from the highest down.)
            Some(right_rows) => {
                for p in (0..nl / 2).rev() {
                    hist.copy_within(p * cells..(p + 1) * cells, 2 * p * cells);
                    hist[(2 * p + 1) * cells..(2 * p + 2) * cells].fill(0.0);
                }
                for &i in right_rows {
                    let i = i as usize;
                    let base_idx = self.leaf[i] * cells + bins[i] as usize * w * 2;
                    add_row(&mut hist[base_idx..base_idx + 2 * w], &self.gh[i * w * 2..(i + 1) * w * 2]);
                }
                for p in 0..nl / 2 {
                    let (left, right) = hist[2 * p * cells..(2 * p + 2) * cells].split_at_mut(cells);
                    for (l, r) in left.iter_mut().zip(right.iter()) {
                        *l -= r;
                    }
                }
            }
            None => {
                hist.fill(0.0);
                for (i, (&l, &b)) in self.leaf.iter().zip(bins).enumerate() {
                    let base_idx = l * cells + b as usize * w * 2;
                    add_row(&mut hist[base_idx..base_idx + 2 * w], &self.gh[i * w * 2..(i + 1) * w * 2]);
                }
            }
        }
        let gain_t = &mut gain_buf[..nb - 1];
        gain_t.fill(0.0);
        // A leaf's split score only changes at its non-empty bins: recompute it there and carry
        // it forward elsewhere.
        for l in 0..nl {
            let totals = &self.tot[l * w * 2..(l + 1) * w * 2];
            let mut left = [0.0f64; 2 * MAX_WIDTH];
            let left = &mut left[..2 * w];
            let mut contrib: f64 =
                (0..w).map(|j| score(0.0, 0.0, lambda) + score(totals[2 * j], totals[2 * j + 1], lambda)).sum();
            for (t, g) in gain_t.iter_mut().enumerate() {
                let q = (l * nb + t) * w * 2;
                let cell = &hist[q..q + 2 * w];
                if cell[1] != 0.0 {
                    contrib = 0.0;
                    for j in 0..w {
                        left[2 * j] += cell[2 * j];
                        left[2 * j + 1] += cell[2 * j + 1];
                        let (gl, hl) = (left[2 * j], left[2 * j + 1]);
                        contrib += score(gl, hl, lambda) + score(totals[2 * j] - gl, totals[2 * j + 1] - hl, lambda);
                    }
                }
                *g += contrib;
            }
        }
        let mut best: Option<(f64, usize)> = None;
        for (t, g) in gain_t.iter().enumerate() {
            let gain = *g - self.parent;
            if gain > 1e-12 && best.is_none_or(|b| gain > b.0) {
                best = Some((gain, t));
            }
        }
        best
    }
}

impl Gbdt {
    /// The combined feature columns for prediction: numeric, then target statistics from the
    /// stored (all-training-rows) tables.
    fn features(&self, d: &Dataset) -> Vec<Vec<f64>> {
        let w = self.ctr_width();
        let mut cols = d.numeric.clone();
        for (table, values) in self.ctrs.iter().zip(&d.categorical) {
            cols.extend(ctr_columns(table, values, self.config.ctr_prior, w));
        }
        cols
    }

    fn ctr_width(&self) -> usize {
        self.config.objective.width()
    }

    /// Trains on `train` with labels `y` (class indices as f64, or targets) and optional
    /// per-row `weights`; `eval` enables early stopping.
    pub fn fit(
        config: &GbdtConfig,
        train: &Dataset,
        y: &[f64],
        weights: Option<&[f64]>,
        eval: Option<(&Dataset, &[f64])>,
    ) -> Result<Self> {
        config.validate()?;
        train.validate()?;
        let n = train.rows();
        if n < 2 {
            return Err(TabularError::InvalidInput(format!("{n} training rows; need at least 2")));
        }
        check_labels(config.objective, y, n)?;
        if let Some(w) = weights
            && (w.len() != n || w.iter().any(|v| !(v.is_finite() && *v >= 0.0)))
        {
            return Err(TabularError::InvalidInput(format!("weights: need {n} finite non-negative values")));
        }
        if let Some((e, ey)) = eval {
            e.validate()?;
            if e.numeric_names != train.numeric_names || e.categorical_names != train.categorical_names {
                return Err(TabularError::InvalidInput(
                    "the evaluation set has other columns than the training set".into(),
                ));
            }
            check_labels(config.objective, ey, e.rows())?;
        }
        let obj = config.objective;
        let w = obj.width();
        let classes = match obj {
            Objective::Multiclass { classes } => classes,
            Objective::Binary => 2,
            Objective::Regression => 0,
        };
        let sample_w: Vec<f64> = (0..n)
            .map(|i| {
                let cw =
                    config.class_weights.as_ref().map_or(1.0, |cw| if classes > 0 { cw[y[i] as usize] } else { 1.0 });
                weights.map_or(1.0, |ws| ws[i]) * cw
            })
            .collect();
        let wsum: f64 = sample_w.iter().sum();
        if wsum <= 0.0 {
            return Err(TabularError::InvalidInput("the sample weights sum to 0".into()));
        }
        // Base scores.
        let base: Vec<f64> = match obj {
            Objective::Multiclass { classes } => (0..classes)
                .map(|j| {
                    let pj = (0..n).filter(|&i| y[i] as usize == j).map(|i| sample_w[i]).sum::<f64>() / wsum;
                    pj.max(1e-6).ln()
                })
                .collect(),
            Objective::Binary => {
                let p =
                    ((0..n).filter(|&i| y[i] > 0.5).map(|i| sample_w[i]).sum::<f64>() / wsum).clamp(1e-6, 1.0 - 1e-6);
                vec![(p / (1.0 - p)).ln()]
            }
            Objective::Regression => vec![(0..n).map(|i| y[i] * sample_w[i]).sum::<f64>() / wsum],
        };
        // Target-statistic tables and ordered training columns (one per model output).
        let ctr_w = w;
        let mut model = Gbdt {
            format_version: FORMAT_VERSION,
            config: config.clone(),
            numeric_names: train.numeric_names.clone(),
            categorical_names: train.categorical_names.clone(),
            ctrs: Vec::new(),
            base: base.clone(),
            trees: Vec::new(),
            gains: Vec::new(),
            eval_history: Vec::new(),
        };
        let targets: Vec<Vec<f64>> = y.iter().map(|&v| target_vector(obj, v)).collect();
        let global: Vec<f64> = (0..ctr_w).map(|j| targets.iter().map(|t| t[j]).sum::<f64>() / n as f64).collect();
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(config.seed));
        let mut train_cols = train.numeric.clone();
        for values in &train.categorical {
            let mut stats: BTreeMap<String, (f64, Vec<f64>)> = BTreeMap::new();
            let mut ordered = vec![vec![0.0; n]; ctr_w];
            for &i in &order {
                let e = stats.entry(values[i].clone()).or_insert_with(|| (0.0, vec![0.0; ctr_w]));
                for ((col, sum), g) in ordered.iter_mut().zip(&e.1).zip(&global) {
                    col[i] = (sum + config.ctr_prior * g) / (e.0 + config.ctr_prior);
                }
                e.0 += 1.0;
                for (sum, t) in e.1.iter_mut().zip(&targets[i]) {
                    *sum += t;
                }
            }
            train_cols.extend(ordered);
            model.ctrs.push(CtrTable { stats, global: global.clone() });
        }
        // Borders and bins.
        let feature_borders: Vec<Vec<f64>> = train_cols.iter().map(|c| borders(c, config.max_bins)).collect();
        let bins: Vec<Vec<u8>> =
            train_cols.iter().zip(&feature_borders).map(|(c, b)| c.iter().map(|&x| bin_of(b, x)).collect()).collect();
        let nf = train_cols.len();
        // A feature can split when it has two distinct values, or values and NaNs.
        let splittable: Vec<bool> = train_cols
            .iter()
            .zip(&feature_borders)
            .map(|(c, b)| !b.is_empty() || (c.iter().any(|v| v.is_nan()) && c.iter().any(|v| !v.is_nan())))
            .collect();
        model.gains = vec![0.0; nf];
        let eval_data = eval.map(|(e, ey)| (model.features(e), ey.to_vec()));
        let mut eval_raw: Vec<f64> =
            eval_data.as_ref().map_or(Vec::new(), |(_, ey)| (0..ey.len()).flat_map(|_| base.clone()).collect());
        let mut raw: Vec<f64> = (0..n).flat_map(|_| base.clone()).collect();
        let mut gh = vec![0.0; n * w * 2];
        let lambda = config.l2_leaf_reg;
        let mut best = (f64::INFINITY, 0usize);
        let mut leaf = vec![0usize; n];
        // Split-search scratch per feature for the whole fit, sized for the deepest level.
        let max_leaves = 1usize << (config.depth - 1);
        let mut buffers: Vec<Scratch> =
            feature_borders.iter().zip(&bins).map(|(b, bf)| Scratch::new(bf, b.len() + 2, max_leaves, w)).collect();
        let histograms = buffers.iter().any(|s| matches!(s, Scratch::Histogram { .. }));
        let parallel_rows = n >= 16_384 && rayon::current_num_threads() > 1;
        let mut right_rows: Vec<u32> = Vec::new();
        for iter in 0..config.iterations {
            // Gradients (in parallel on large sets; each row is independent).
            let gradient = |(i, row): (usize, &mut [f64])| {
                let z = &raw[i * w..(i + 1) * w];
                let sw = sample_w[i];
                match obj {
                    Objective::Multiclass { .. } => {
                        let mut p = [0.0f64; MAX_WIDTH];
                        let p = &mut p[..w];
                        softmax(z, p);
                        for j in 0..w {
                            let t = f64::from(u8::from(y[i] as usize == j));
                            row[2 * j] = sw * (p[j] - t);
                            row[2 * j + 1] = sw * (p[j] * (1.0 - p[j])).max(1e-16);
                        }
                    }
                    Objective::Binary => {
                        let q = sigmoid(z[0]);
                        row[0] = sw * (q - y[i]);
                        row[1] = sw * (q * (1.0 - q)).max(1e-16);
                    }
                    Objective::Regression => {
                        row[0] = sw * (z[0] - y[i]);
                        row[1] = sw;
                    }
                }
            };
            if parallel_rows {
                gh.par_chunks_mut(w * 2).enumerate().for_each(gradient);
            } else {
                gh.chunks_mut(w * 2).enumerate().for_each(gradient);
            }
            // Grow one oblivious tree.
            leaf.fill(0);
            let mut splits = Vec::with_capacity(config.depth);
            for level in 0..config.depth {
                let nl = 1usize << level;
                // The best border of every feature, in parallel (each with its own buffers),
                // then the best feature: the highest gain, ties to the lower index, so the result
                // does not depend on the thread count.
                let ctx = SplitContext::new(w, nl, lambda, &leaf, &gh, (level > 0).then_some(&right_rows[..]));
                let search = |(f, scratch): (usize, &mut Scratch)| {
                    if !splittable[f] {
                        return None;
                    }
                    ctx.best_border(&bins[f], feature_borders[f].len() + 2, scratch)
                };
                let per_feature: Vec<Option<(f64, usize)>> = if rayon::current_num_threads() > 1 {
                    buffers.par_iter_mut().enumerate().map(search).collect()
                } else {
                    buffers.iter_mut().enumerate().map(search).collect()
                };
                let mut best_split: Option<(f64, usize, usize)> = None;
                for (f, r) in per_feature.into_iter().enumerate() {
                    if let Some((gain, t)) = r
                        && best_split.is_none_or(|b| gain > b.0)
                    {
                        best_split = Some((gain, f, t));
                    }
                }
                let Some((gain, f, t)) = best_split else { break };
                model.gains[f] += gain;
                for i in 0..n {
                    leaf[i] = leaf[i] * 2 + usize::from(bins[f][i] as usize > t);
                }
                if histograms {
                    right_rows.clear();
                    right_rows.extend((0..n as u32).filter(|&i| leaf[i as usize] & 1 == 1));
                }
                let border = if t == 0 { f64::NEG_INFINITY } else { feature_borders[f][t - 1] };
                splits.push(Split { feature: f, border });
            }
            let nl = 1usize << splits.len();
            let mut sums = vec![0.0; nl * w * 2];
            for i in 0..n {
                add_row(&mut sums[leaf[i] * w * 2..(leaf[i] + 1) * w * 2], &gh[i * w * 2..(i + 1) * w * 2]);
            }
            let values: Vec<f64> =
                (0..nl * w).map(|q| newton_step(sums[q * 2], sums[q * 2 + 1], lambda) * config.learning_rate).collect();
            for i in 0..n {
                for j in 0..w {
                    raw[i * w + j] += values[leaf[i] * w + j];
                }
            }
            let tree = Tree { splits, values };
            if let Some((cols, ey)) = &eval_data {
                let m = ey.len();
                for r in 0..m {
                    let li = tree.leaf(|f| cols[f][r]);
                    for j in 0..w {
                        eval_raw[r * w + j] += tree.values[li * w + j];
                    }
                }
                let l = loss(obj, &eval_raw, ey, w);
                model.eval_history.push(l);
                if l < best.0 {
                    best = (l, iter);
                }
            }
            model.trees.push(tree);
            if let Some(rounds) = config.early_stopping_rounds
                && eval_data.is_some()
                && iter - best.1 >= rounds
            {
                break;
            }
        }
        if eval_data.is_some() {
            model.trees.truncate(best.1 + 1);
        }
        Ok(model)
    }

    /// Raw scores (`rows × width`, row-major).
    fn raw(&self, d: &Dataset) -> Result<(Vec<f64>, usize)> {
        d.validate()?;
        if d.numeric_names != self.numeric_names || d.categorical_names != self.categorical_names {
            return Err(TabularError::InvalidInput(format!(
                "columns {:?} + {:?} differ from the model's {:?} + {:?}",
                d.numeric_names, d.categorical_names, self.numeric_names, self.categorical_names
            )));
        }
        let w = self.config.objective.width();
        let cols = self.features(d);
        let n = d.rows();
        let mut raw: Vec<f64> = (0..n).flat_map(|_| self.base.clone()).collect();
        for t in &self.trees {
            for r in 0..n {
                let li = t.leaf(|f| cols[f][r]);
                for j in 0..w {
                    raw[r * w + j] += t.values[li * w + j];
                }
            }
        }
        if let Some(i) = raw.iter().position(|v| !v.is_finite()) {
            return Err(TabularError::InvalidInput(format!(
                "row {}: the model's score {} is not finite (a corrupt model or an out-of-range input)",
                i / w,
                raw[i]
            )));
        }
        Ok((raw, w))
    }

    /// Class probabilities per row (binary: `[P(0), P(1)]`); an error for regression.
    pub fn predict_proba(&self, d: &Dataset) -> Result<Vec<Vec<f64>>> {
        let (raw, w) = self.raw(d)?;
        match self.config.objective {
            Objective::Multiclass { .. } => Ok(raw
                .chunks(w)
                .map(|z| {
                    let mut p = vec![0.0; w];
                    softmax(z, &mut p);
                    p
                })
                .collect()),
            Objective::Binary => Ok(raw
                .iter()
                .map(|&z| {
                    let q = sigmoid(z);
                    vec![1.0 - q, q]
                })
                .collect()),
            Objective::Regression => {
                Err(TabularError::InvalidInput("a regression model has no class probabilities".into()))
            }
        }
    }

    /// Predicted values (regression) or raw scores of the first output.
    pub fn predict(&self, d: &Dataset) -> Result<Vec<f64>> {
        let (raw, w) = self.raw(d)?;
        Ok(raw.chunks(w).map(|z| z[0]).collect())
    }

    /// Number of trees kept.
    pub fn trees(&self) -> usize {
        self.trees.len()
    }

    /// Evaluation loss after each trained tree (log-loss or RMSE).
    pub fn eval_history(&self) -> &[f64] {
        &self.eval_history
    }

    /// Share of the total split gain per input column (categorical columns sum their target
    /// statistics), in percent, in the order numeric then categorical.
    pub fn feature_importance(&self) -> Vec<(String, f64)> {
        let nn = self.numeric_names.len();
        let cw = self.ctr_width();
        let mut out: Vec<(String, f64)> =
            self.numeric_names.iter().cloned().zip(self.gains[..nn].iter().copied()).collect();
        for (c, name) in self.categorical_names.iter().enumerate() {
            out.push((name.clone(), self.gains[nn + c * cw..nn + (c + 1) * cw].iter().sum()));
        }
        let total: f64 = out.iter().map(|o| o.1).sum();
        if total > 0.0 {
            out.iter_mut().for_each(|o| o.1 *= 100.0 / total);
        }
        out
    }

    /// The model as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("models serialise")
    }

    /// Reads a model from JSON text; another `format_version` is an error naming both, and so is
    /// content that cannot give finite scores ([`Gbdt::load`]'s checks).
    pub fn from_json(s: &str) -> Result<Self> {
        let origin = std::path::Path::new("GBDT model JSON");
        let m: Self = vane_artifact::parse_json(origin, s, FORMAT_VERSION)?;
        m.check().map_err(|message| TabularError::Model { path: origin.to_path_buf(), message })?;
        Ok(m)
    }

    /// Reads a model file (`model.json`); errors name the file. Refuses a model whose contents
    /// cannot give finite scores — a leaf value, base score or target statistic that is not finite
    /// or beyond ±[`MAX_ABS_VALUE`] — or whose trees do not fit its columns (the error names the
    /// field).
    pub fn load(path: &std::path::Path) -> Result<Self> {
        let m: Self = vane_artifact::read_json(path, FORMAT_VERSION)?;
        m.check().map_err(|message| TabularError::Model { path: path.to_path_buf(), message })?;
        Ok(m)
    }

    /// The structural and numeric checks of a loaded model; the message names the field.
    fn check(&self) -> std::result::Result<(), String> {
        self.config.validate().map_err(|e| format!("config: {e}"))?;
        let w = self.config.objective.width();
        let value = |field: String, v: f64| -> std::result::Result<(), String> {
            if v.is_finite() && v.abs() <= MAX_ABS_VALUE {
                Ok(())
            } else {
                Err(format!(
                    "{field} = {v:e} is not a finite value within ±{MAX_ABS_VALUE:e}: the model is corrupt; retrain it"
                ))
            }
        };
        if self.base.len() != w {
            return Err(format!("base has {} values, the objective needs {w}", self.base.len()));
        }
        for (i, &v) in self.base.iter().enumerate() {
            value(format!("base[{i}]"), v)?;
        }
        if self.ctrs.len() != self.categorical_names.len() {
            return Err(format!(
                "ctrs has {} tables for {} categorical columns",
                self.ctrs.len(),
                self.categorical_names.len()
            ));
        }
        for (c, t) in self.ctrs.iter().enumerate() {
            if t.global.len() != w {
                return Err(format!("ctrs[{c}].global has {} values, expected {w}", t.global.len()));
            }
            for (j, &v) in t.global.iter().enumerate() {
                value(format!("ctrs[{c}].global[{j}]"), v)?;
            }
            for (cat, (count, sums)) in &t.stats {
                if sums.len() != w || !(count.is_finite() && *count >= 0.0) {
                    return Err(format!("ctrs[{c}].stats[{cat:?}]: expected a count ≥ 0 and {w} sums"));
                }
                for (j, &v) in sums.iter().enumerate() {
                    value(format!("ctrs[{c}].stats[{cat:?}][{j}]"), v)?;
                }
            }
        }
        let n_features = self.numeric_names.len() + self.categorical_names.len() * w;
        if self.gains.len() != n_features {
            return Err(format!("gains has {} values for {n_features} feature columns", self.gains.len()));
        }
        // The largest score a row can reach: every tree's largest leaf on top of the base.
        let mut bound = self.base.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (t, tree) in self.trees.iter().enumerate() {
            if tree.splits.len() > MAX_TREE_DEPTH {
                return Err(format!("trees[{t}] has {} levels, at most {MAX_TREE_DEPTH}", tree.splits.len()));
            }
            if tree.values.len() != (1usize << tree.splits.len()) * w {
                return Err(format!(
                    "trees[{t}].values has {} values, {} levels × {w} outputs need {}",
                    tree.values.len(),
                    tree.splits.len(),
                    (1usize << tree.splits.len()) * w
                ));
            }
            for (l, s) in tree.splits.iter().enumerate() {
                if s.feature >= n_features || s.border.is_nan() {
                    return Err(format!(
                        "trees[{t}].splits[{l}]: feature {} of {n_features}, border {}",
                        s.feature, s.border
                    ));
                }
            }
            let mut largest = 0.0f64;
            for (i, &v) in tree.values.iter().enumerate() {
                value(format!("trees[{t}].values[{i}]"), v)?;
                largest = largest.max(v.abs());
            }
            bound += largest;
        }
        if bound > MAX_ABS_SCORE {
            return Err(format!(
                "the trees can add up to a score of {bound:e}, beyond ±{MAX_ABS_SCORE:e}: the model is corrupt; retrain it"
            ));
        }
        Ok(())
    }
}

impl Tree {
    /// Leaf index of a row given its combined feature values.
    fn leaf(&self, x: impl Fn(usize) -> f64) -> usize {
        self.splits.iter().fold(0usize, |li, s| {
            let v = x(s.feature);
            li * 2 + usize::from(!v.is_nan() && v > s.border)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bin-order search and the histogram search (built at the root, then by subtraction
    /// level after level) find the same border with the same gain, on random gradients
    /// (synthetic, seeded), for one and three outputs, with λ > 0 and λ = 0.
    #[test]
    fn sorted_and_histogram_split_search_agree() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (n, nb, depth) = (3000usize, 40usize, 5usize);
        for (w, lambda) in [(1usize, 1.5), (3, 1.5), (3, 0.0)] {
            let bins: Vec<u8> = (0..n).map(|_| (next() * nb as f64) as u8).collect();
            // A signal so the best border is well separated: gradients lean on bin < 15.
            let gh: Vec<f64> = (0..n * w)
                .flat_map(|q| {
                    let g = next() - 0.5 + if bins[q / w] < 15 { 0.4 } else { -0.4 };
                    [g, 0.05 + next()]
                })
                .collect();
            let max_leaves = 1 << (depth - 1);
            let mut hist = Scratch::Histogram { hist: vec![0.0; max_leaves * nb * w * 2], gain: vec![0.0; nb] };
            let mut sorted = Scratch::new(&bins, nb, max_leaves, w);
            assert!(matches!(sorted, Scratch::Sorted(_)));
            let mut leaf = vec![0usize; n];
            let mut right_rows: Vec<u32> = Vec::new();
            for level in 0..depth {
                let nl = 1usize << level;
                let right = (level > 0).then_some(&right_rows[..]);
                let ctx = SplitContext::new(w, nl, lambda, &leaf, &gh, right);
                let a = ctx.best_border(&bins, nb, &mut hist).unwrap();
                let b = ctx.best_border(&bins, nb, &mut sorted).unwrap();
                assert_eq!(a.1, b.1, "w {w} level {level}: {a:?} vs {b:?}");
                assert!((a.0 - b.0).abs() <= 1e-9 * a.0.abs(), "w {w} level {level}: {a:?} vs {b:?}");
                assert_eq!(a.1, 14, "the planted border");
                // Split every leaf at random (another feature's split) for the next level.
                for l in leaf.iter_mut() {
                    *l = *l * 2 + usize::from(next() < 0.5);
                }
                right_rows = (0..n as u32).filter(|&i| leaf[i as usize] & 1 == 1).collect();
            }
        }
    }
}
