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

mod hist;
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
/// cache; larger ones build per-leaf histograms over rows kept partitioned by leaf
/// ([`hist::Rows`]). (On 2 968 rows × 3 classes bin order is ~1.2× faster; on 200 000 rows it is
/// 2–3.5× slower.)
const SORTED_SEARCH_MAX_BYTES: usize = 2 << 20;

/// Scratch of the bin-order split search of one feature, kept for the whole fit.
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

impl SortedScratch {
    fn new(bins: &[u8], nb: usize, max_leaves: usize, w: usize) -> SortedScratch {
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
        SortedScratch {
            order,
            starts,
            left: vec![0.0; max_leaves * w * 2],
            leaf_gain: vec![0.0; max_leaves],
            dirty: vec![false; max_leaves],
            touched: Vec::with_capacity(max_leaves),
        }
    }
}

/// What the split search of one tree level reads: the per-leaf totals and scores.
struct SplitContext {
    w: usize,
    nl: usize,
    lambda: f64,
    /// Per leaf: `(G, H)` per output.
    tot: Vec<f64>,
    /// Per leaf: its score `Σ_k G²/(H+λ)`.
    leaf_score: Vec<f64>,
    parent: f64,
}

impl SplitContext {
    /// The context of one level from its per-leaf sums of the interleaved `(g, h)` rows: each
    /// leaf's score `Σ_k G²/(H+λ)`, and their total (the parent score of the level's split).
    fn from_totals(w: usize, nl: usize, lambda: f64, tot: Vec<f64>) -> Self {
        let leaf_score: Vec<f64> =
            (0..nl).map(|l| (l * w..(l + 1) * w).map(|q| score(tot[q * 2], tot[q * 2 + 1], lambda)).sum()).collect();
        let parent = leaf_score.iter().sum();
        SplitContext { w, nl, lambda, tot, leaf_score, parent }
    }

    /// The context of one level from each row's leaf and `(g, h)` row (sums in row order).
    fn from_rows(w: usize, nl: usize, lambda: f64, leaf: &[usize], gh: &[f64]) -> Self {
        let mut tot = vec![0.0; nl * w * 2];
        for (&l, row) in leaf.iter().zip(gh.chunks_exact(w * 2)) {
            add_row(&mut tot[l * w * 2..(l + 1) * w * 2], row);
        }
        Self::from_totals(w, nl, lambda, tot)
    }

    /// The split search in bin order: walk the rows bin by bin, adding each to its leaf's running
    /// left sums; after each bin, recompute the gain of the leaves it touched and update the
    /// total. Costs O(rows + bins) per feature with every running sum in cache. `leaf` and `gh`
    /// are per row.
    fn best_border_sorted(&self, leaf: &[usize], gh: &[f64], nb: usize, s: &mut SortedScratch) -> Option<(f64, usize)> {
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
                let l = leaf[i];
                add_row(&mut left[l * w * 2..(l + 1) * w * 2], &gh[i * w * 2..(i + 1) * w * 2]);
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

    /// The best border from one feature's per-leaf histograms (`nl × nb` cells of `(G, H)` per
    /// output), `gain_buf` holding at least `nb` values.
    fn best_border_histogram(&self, hist: &[f64], nb: usize, gain_buf: &mut [f64]) -> Option<(f64, usize)> {
        let (w, nl, lambda) = (self.w, self.nl, self.lambda);
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

/// The best `(gain, feature, border)` of per-feature results: the highest gain, ties to the
/// lower feature index, so the result does not depend on the thread count.
fn pick_split(per_feature: impl IntoIterator<Item = Option<(f64, usize)>>) -> Option<(f64, usize, usize)> {
    let mut best_split: Option<(f64, usize, usize)> = None;
    for (f, r) in per_feature.into_iter().enumerate() {
        if let Some((gain, t)) = r
            && best_split.is_none_or(|b| gain > b.0)
        {
            best_split = Some((gain, f, t));
        }
    }
    best_split
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
        Self::fit_with(config, train, y, weights, eval, None)
    }

    /// [`Gbdt::fit`] with the split search chosen: `Some(true)` per-leaf histograms, `Some(false)`
    /// bin order, `None` by the size of the training set (tests compare the two).
    fn fit_with(
        config: &GbdtConfig,
        train: &Dataset,
        y: &[f64],
        weights: Option<&[f64]>,
        eval: Option<(&Dataset, &[f64])>,
        histograms: Option<bool>,
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
        let lambda = config.l2_leaf_reg;
        let mut best = (f64::INFINITY, 0usize);
        let nbs: Vec<usize> = feature_borders.iter().map(|b| b.len() + 2).collect();
        // Split-search state for the whole fit, sized for the deepest level: rows partitioned by
        // leaf and per-feature histograms (large sets), or per-row leaves and per-feature
        // bin-order scratch (small ones).
        let max_leaves = 1usize << (config.depth - 1);
        let histograms = histograms.unwrap_or(n * (2 * w + 1) * 8 > SORTED_SEARCH_MAX_BYTES);
        let mut rows = histograms.then(|| hist::Rows::new(n, w));
        let mut hists: Vec<hist::FeatureHist> = if histograms {
            nbs.iter().map(|&nb| hist::FeatureHist::new(nb, max_leaves, w)).collect()
        } else {
            Vec::new()
        };
        let mut buffers: Vec<SortedScratch> = if histograms {
            Vec::new()
        } else {
            bins.iter().zip(&nbs).map(|(bf, &nb)| SortedScratch::new(bf, nb, max_leaves, w)).collect()
        };
        let mut gh = if histograms { Vec::new() } else { vec![0.0; n * w * 2] };
        let mut leaf = if histograms { Vec::new() } else { vec![0usize; n] };
        let parallel_rows = n >= 16_384 && rayon::current_num_threads() > 1;
        for iter in 0..config.iterations {
            // Gradients (in parallel on large sets; each row is independent), in row order.
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
            let gh_rows: &mut [f64] = match rows.as_mut() {
                Some(r) => r.reset(),
                None => &mut gh,
            };
            if parallel_rows {
                gh_rows.par_chunks_mut(w * 2).enumerate().for_each(gradient);
            } else {
                gh_rows.chunks_mut(w * 2).enumerate().for_each(gradient);
            }
            if let Some(r) = rows.as_mut() {
                r.sum_root();
            }
            // Grow one oblivious tree: at each level the best border of every feature (in
            // parallel, each with its own buffers), then the best feature.
            let mut splits = Vec::with_capacity(config.depth);
            let tree_values = |sums: &[f64], nl: usize| -> Vec<f64> {
                (0..nl * w).map(|q| newton_step(sums[q * 2], sums[q * 2 + 1], lambda) * config.learning_rate).collect()
            };
            let values = if let Some(rows) = rows.as_mut() {
                for level in 0..config.depth {
                    let nl = 1usize << level;
                    let ctx = SplitContext::from_totals(w, nl, lambda, rows.totals().to_vec());
                    let per_feature = hist::search_level(&ctx, rows, &bins, &nbs, &splittable, &mut hists, level);
                    let Some((gain, f, t)) = pick_split(per_feature) else { break };
                    model.gains[f] += gain;
                    rows.split(nl, &bins[f], t);
                    let border = if t == 0 { f64::NEG_INFINITY } else { feature_borders[f][t - 1] };
                    splits.push(Split { feature: f, border });
                }
                let nl = 1usize << splits.len();
                let values = tree_values(rows.totals(), nl);
                rows.add_leaf_values(&mut raw, &values);
                values
            } else {
                leaf.fill(0);
                for level in 0..config.depth {
                    let nl = 1usize << level;
                    let ctx = SplitContext::from_rows(w, nl, lambda, &leaf, &gh);
                    let search = |(f, scratch): (usize, &mut SortedScratch)| {
                        if !splittable[f] {
                            return None;
                        }
                        ctx.best_border_sorted(&leaf, &gh, nbs[f], scratch)
                    };
                    let per_feature: Vec<Option<(f64, usize)>> = if rayon::current_num_threads() > 1 {
                        buffers.par_iter_mut().enumerate().map(search).collect()
                    } else {
                        buffers.iter_mut().enumerate().map(search).collect()
                    };
                    let Some((gain, f, t)) = pick_split(per_feature) else { break };
                    model.gains[f] += gain;
                    for i in 0..n {
                        leaf[i] = leaf[i] * 2 + usize::from(bins[f][i] as usize > t);
                    }
                    let border = if t == 0 { f64::NEG_INFINITY } else { feature_borders[f][t - 1] };
                    splits.push(Split { feature: f, border });
                }
                let nl = 1usize << splits.len();
                let mut sums = vec![0.0; nl * w * 2];
                for i in 0..n {
                    add_row(&mut sums[leaf[i] * w * 2..(leaf[i] + 1) * w * 2], &gh[i * w * 2..(i + 1) * w * 2]);
                }
                let values = tree_values(&sums, nl);
                for i in 0..n {
                    for j in 0..w {
                        raw[i * w + j] += values[leaf[i] * w + j];
                    }
                }
                values
            };
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

    /// Seeded synthetic rows: 5 numeric columns (one with NaNs, one with few values), a
    /// 5-value categorical, and labels for each objective from a noisy score.
    fn synthetic(n: usize) -> (Dataset, Vec<f64>, Vec<f64>) {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut cols: Vec<Vec<f64>> = (0..5).map(|_| Vec::with_capacity(n)).collect();
        let (mut cats, mut class, mut target) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..n {
            let x: Vec<f64> = (0..5).map(|_| next() - 0.5).collect();
            let c = (next() * 5.0) as usize;
            let z = x[0] + 0.5 * x[1] * x[2] + 0.3 * c as f64 / 5.0 + 0.4 * (next() - 0.5);
            class.push(if z < -0.15 {
                0.0
            } else if z < 0.15 {
                1.0
            } else {
                2.0
            });
            target.push(z);
            cols[0].push(x[0]);
            cols[1].push(x[1]);
            cols[2].push(if x[2] > 0.35 { f64::NAN } else { x[2] });
            cols[3].push((x[3] * 6.0).round());
            cols[4].push(x[4]);
            cats.push(format!("c{c}"));
        }
        let d = Dataset {
            numeric_names: (0..5).map(|i| format!("x{i}")).collect(),
            numeric: cols,
            categorical_names: vec!["cat".into()],
            categorical: vec![cats],
        };
        (d, class, target)
    }

    /// The histogram search over rows partitioned by leaf (subtraction below the root, feature
    /// groups in parallel) grows the same trees as the per-row bin-order search — same splits,
    /// leaf values within 1e-9 — for 3 classes, binary and regression, with λ > 0 and λ = 0; and
    /// the same model bit for bit on one thread and on two.
    #[test]
    fn histogram_and_bin_order_search_grow_the_same_trees() {
        let (d, class, target) = synthetic(3000);
        let binary: Vec<f64> = class.iter().map(|&c| f64::from(u8::from(c == 2.0))).collect();
        let base = GbdtConfig { iterations: 12, depth: 5, early_stopping_rounds: None, ..GbdtConfig::default() };
        let cases = [
            (GbdtConfig { objective: Objective::Multiclass { classes: 3 }, ..base.clone() }, &class),
            (GbdtConfig { objective: Objective::Multiclass { classes: 3 }, l2_leaf_reg: 0.0, ..base.clone() }, &class),
            (GbdtConfig { objective: Objective::Binary, ..base.clone() }, &binary),
            (GbdtConfig { objective: Objective::Regression, ..base.clone() }, &target),
        ];
        for (c, y) in cases {
            let sorted = Gbdt::fit_with(&c, &d, y, None, None, Some(false)).unwrap();
            let pool = |t: usize| rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap();
            let hist = pool(2).install(|| Gbdt::fit_with(&c, &d, y, None, None, Some(true)).unwrap());
            let hist1 = pool(1).install(|| Gbdt::fit_with(&c, &d, y, None, None, Some(true)).unwrap());
            assert_eq!(hist, hist1, "{:?}: one thread and two differ", c.objective);
            assert_eq!(sorted.trees.len(), hist.trees.len());
            for (a, b) in sorted.trees.iter().zip(&hist.trees) {
                assert_eq!(a.splits, b.splits, "{:?}", c.objective);
                for (x, y) in a.values.iter().zip(&b.values) {
                    assert!((x - y).abs() <= 1e-9 * x.abs().max(1e-3), "{:?}: {x} vs {y}", c.objective);
                }
            }
        }
    }

    /// Splitting rows partitioned by leaf keeps every leaf's rows in row order, their `(g, h)`
    /// rows with them, and the leaf of every row is the one the per-row rule gives.
    #[test]
    fn partitioned_rows_follow_the_per_row_leaf_rule() {
        let (n, w) = (1000usize, 2usize);
        let mut rows = hist::Rows::new(n, w);
        let gh = rows.reset();
        for (q, v) in gh.iter_mut().enumerate() {
            *v = q as f64;
        }
        rows.sum_root();
        let bins: Vec<Vec<u8>> = (0..3).map(|f| (0..n).map(|i| ((i * (7 + f * 13)) % 11) as u8).collect()).collect();
        let mut leaf = vec![0usize; n];
        for (level, (f, t)) in [(0usize, 5usize), (1, 2), (2, 8)].into_iter().enumerate() {
            rows.split(1 << level, &bins[f], t);
            for (i, l) in leaf.iter_mut().enumerate() {
                *l = *l * 2 + usize::from(bins[f][i] as usize > t);
            }
        }
        let raw_rows: Vec<f64> = {
            let mut raw = vec![0.0; n * w];
            let values: Vec<f64> = (0..8 * w).map(|q| q as f64).collect();
            rows.add_leaf_values(&mut raw, &values);
            raw
        };
        for i in 0..n {
            assert_eq!(raw_rows[i * w], (leaf[i] * w) as f64, "row {i}");
        }
        let tot = rows.totals();
        for l in 0..8 {
            let want: f64 = (0..n).filter(|&i| leaf[i] == l).map(|i| (i * 2 * w) as f64).sum();
            assert_eq!(tot[l * 2 * w], want, "leaf {l}");
        }
    }
}
