//! Windowed sequence datasets over a feature matrix.
//!
//! A [`FeatureMatrix`](crate::data::FeatureMatrix) holds the feature rows of one or more symbols back to back (row-major,
//! `f32`), with one segment per symbol. A sample is the window `[end + 1 − seq_len, end]` of one
//! segment, returned as a borrowed slice of the matrix (no copy per sample), with its target at
//! `end`. The [`Normaliser`](crate::data::Normaliser) is fitted on training rows only and saved with the model; class
//! weights and random oversampling follow seed 002; [`SeqBatcher`](crate::data::SeqBatcher) is burn's `Batcher`.

use std::ops::Range;

use burn::data::dataloader::batcher::Batcher;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::error::{Result, config_err, data_err};

/// Feature rows of one or more symbols, stored back to back.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureMatrix {
    values: Vec<f32>,
    n_features: usize,
    names: Vec<String>,
    segments: Vec<Segment>,
}

/// The rows of one symbol inside a [`FeatureMatrix`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Symbol id (the TFT's static input).
    pub symbol: u32,
    /// Row range in the matrix.
    pub rows: Range<usize>,
}

impl FeatureMatrix {
    /// An empty matrix with these column names.
    pub fn new(names: Vec<String>) -> Result<Self> {
        if names.is_empty() {
            return data_err("a feature matrix needs at least one column");
        }
        Ok(Self { values: Vec::new(), n_features: names.len(), names, segments: Vec::new() })
    }

    /// Appends the rows of one symbol (`values` row-major, `rows × n_features`). NaN is allowed
    /// (warm-up rows); a window that touches one is rejected when the dataset is built.
    pub fn push_segment(&mut self, symbol: u32, values: &[f32]) -> Result<Range<usize>> {
        if !values.len().is_multiple_of(self.n_features) {
            return data_err(format!(
                "segment of symbol {symbol}: {} values is not a multiple of {} features",
                values.len(),
                self.n_features
            ));
        }
        let start = self.rows();
        self.values.extend_from_slice(values);
        let rows = start..self.rows();
        self.segments.push(Segment { symbol, rows: rows.clone() });
        Ok(rows)
    }

    /// Number of rows over all segments.
    pub fn rows(&self) -> usize {
        self.values.len() / self.n_features
    }

    /// Number of feature columns.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Column names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The symbol segments.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Row `r`.
    pub fn row(&self, r: usize) -> &[f32] {
        &self.values[r * self.n_features..(r + 1) * self.n_features]
    }

    /// Rows `rows` as one contiguous slice.
    pub fn rows_slice(&self, rows: Range<usize>) -> &[f32] {
        &self.values[rows.start * self.n_features..rows.end * self.n_features]
    }

    fn segment_of(&self, row: usize) -> Option<&Segment> {
        self.segments.iter().find(|s| s.rows.contains(&row))
    }
}

/// The target of one sample, read at the window's last bar.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Target {
    /// Class index (BUY 0, SELL 1, HOLD 2 for three classes); ignored by regression.
    pub class: usize,
    /// Regression target (e.g. the expected return of seed 004's ladder); 0 when unused.
    pub value: f32,
    /// Sample weight (dead-zone, uniqueness …), ≥ 0.
    pub weight: f32,
}

/// One sample: the row index of its last bar and its target.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Row of the window's last bar.
    pub end: usize,
    /// The target at `end`.
    pub target: Target,
}

/// Samples over a feature matrix; each is a `[seq_len, n_features]` view of it.
#[derive(Clone, Debug)]
pub struct WindowedDataset<'a> {
    matrix: &'a FeatureMatrix,
    seq_len: usize,
    samples: Vec<Sample>,
    symbols: Vec<u32>,
}

/// A borrowed sample: the window's rows, row-major, plus its target and symbol.
#[derive(Clone, Copy, Debug)]
pub struct WindowItem<'a> {
    /// `seq_len × n_features` values, a slice of the matrix.
    pub x: &'a [f32],
    /// The target.
    pub target: Target,
    /// Symbol id of the window's segment.
    pub symbol: u32,
}

impl<'a> WindowedDataset<'a> {
    /// Checks every sample: its window lies inside one symbol segment, holds only finite values,
    /// and its class is below `n_classes` (pass `None` for regression) and weight is finite and ≥ 0.
    pub fn new(
        matrix: &'a FeatureMatrix,
        seq_len: usize,
        samples: Vec<Sample>,
        n_classes: Option<usize>,
    ) -> Result<Self> {
        if seq_len == 0 {
            return config_err("seq_len must be ≥ 1");
        }
        let mut symbols = Vec::with_capacity(samples.len());
        for (i, s) in samples.iter().enumerate() {
            let Some(seg) = matrix.segment_of(s.end) else {
                return data_err(format!("sample {i}: row {} is outside the matrix ({} rows)", s.end, matrix.rows()));
            };
            if s.end + 1 < seg.rows.start + seq_len {
                return data_err(format!(
                    "sample {i}: the window of {seq_len} rows ending at row {} starts before its symbol's first row {}",
                    s.end, seg.rows.start
                ));
            }
            let window = matrix.rows_slice(s.end + 1 - seq_len..s.end + 1);
            if let Some(p) = window.iter().position(|v| !v.is_finite()) {
                let row = s.end + 1 - seq_len + p / matrix.n_features;
                return data_err(format!(
                    "sample {i}: row {row} column {:?} is not finite (drop warm-up rows before windowing)",
                    matrix.names[p % matrix.n_features]
                ));
            }
            if let Some(k) = n_classes
                && s.target.class >= k
            {
                return data_err(format!("sample {i}: class {} with {k} classes", s.target.class));
            }
            if !(s.target.weight.is_finite() && s.target.weight >= 0.0 && s.target.value.is_finite()) {
                return data_err(format!(
                    "sample {i}: weight {} / value {} must be finite, weight ≥ 0",
                    s.target.weight, s.target.value
                ));
            }
            symbols.push(seg.symbol);
        }
        Ok(Self { matrix, seq_len, samples, symbols })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Window length.
    pub fn seq_len(&self) -> usize {
        self.seq_len
    }

    /// Feature count.
    pub fn n_features(&self) -> usize {
        self.matrix.n_features
    }

    /// The samples.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// Sample `i` as a view into the matrix.
    pub fn get(&self, i: usize) -> WindowItem<'a> {
        let s = self.samples[i];
        WindowItem {
            x: self.matrix.rows_slice(s.end + 1 - self.seq_len..s.end + 1),
            target: s.target,
            symbol: self.symbols[i],
        }
    }

    /// Class counts over `n_classes`.
    pub fn class_counts(&self, n_classes: usize) -> Vec<usize> {
        let mut c = vec![0; n_classes];
        for s in &self.samples {
            if s.target.class < n_classes {
                c[s.target.class] += 1;
            }
        }
        c
    }
}

/// How features are scaled; fitted on training rows only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NormKind {
    /// (x − mean) / std.
    #[default]
    ZScore,
    /// (x − median) / IQR, robust to fat tails.
    Robust,
}

/// Per-column centre and scale, saved in `feature_schema.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Normaliser {
    /// Which statistic was fitted.
    pub kind: NormKind,
    /// Mean or median per column.
    pub center: Vec<f32>,
    /// Std or IQR per column (1 where the column is constant).
    pub scale: Vec<f32>,
}

impl Normaliser {
    /// Fits on the finite values of `rows` of `matrix` (the training rows only).
    pub fn fit(kind: NormKind, matrix: &FeatureMatrix, rows: &[Range<usize>]) -> Result<Self> {
        let f = matrix.n_features;
        let mut center = vec![0.0f32; f];
        let mut scale = vec![1.0f32; f];
        for j in 0..f {
            let mut col: Vec<f64> = rows
                .iter()
                .flat_map(|r| r.clone())
                .map(|r| f64::from(matrix.values[r * f + j]))
                .filter(|v| v.is_finite())
                .collect();
            if col.is_empty() {
                return data_err(format!("column {:?} has no finite training value", matrix.names[j]));
            }
            let (c, s) = match kind {
                NormKind::ZScore => {
                    let n = col.len() as f64;
                    let mean = col.iter().sum::<f64>() / n;
                    let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
                    (mean, var.sqrt())
                }
                NormKind::Robust => {
                    col.sort_by(f64::total_cmp);
                    (quantile(&col, 0.5), quantile(&col, 0.75) - quantile(&col, 0.25))
                }
            };
            center[j] = c as f32;
            scale[j] = if s > 1e-12 { s as f32 } else { 1.0 };
        }
        Ok(Self { kind, center, scale })
    }

    /// Scales every row of `matrix` in place (NaN stays NaN).
    pub fn apply(&self, matrix: &mut FeatureMatrix) -> Result<()> {
        if self.center.len() != matrix.n_features {
            return data_err(format!("normaliser has {} columns, matrix {}", self.center.len(), matrix.n_features));
        }
        self.apply_rows(&mut matrix.values);
        Ok(())
    }

    /// Scales row-major `values` (whole rows of this normaliser's columns; a trailing partial
    /// row is left alone) in place: `(v − center) / scale` per column, the arithmetic of
    /// [`Normaliser::apply`] for a caller holding a plain window.
    pub fn apply_rows(&self, values: &mut [f32]) {
        for row in values.chunks_exact_mut(self.center.len()) {
            for ((v, c), s) in row.iter_mut().zip(&self.center).zip(&self.scale) {
                *v = (*v - c) / s;
            }
        }
    }
}

/// Linear-interpolated quantile of sorted values (numpy's default).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Class weighting scheme (seed 002's `class_balancing_v2`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ClassWeighting {
    /// All classes weigh 1.
    #[default]
    None,
    /// `n / (k · n_c)` (scikit-learn's "balanced").
    Balanced,
    /// `sqrt(n / (k · n_c))`: a softer balance.
    Sqrt,
    /// Effective number of samples (Cui et al. 2019): `(1 − β) / (1 − β^{n_c})`, scaled so the
    /// weights sum to k.
    Effective {
        /// β in [0, 1); 0.999 is the paper's default.
        beta: f64,
    },
}

/// Class weights from class counts; a class with no sample gets weight 0.
pub fn class_weights(counts: &[usize], scheme: ClassWeighting) -> Result<Vec<f32>> {
    let k = counts.len();
    let n: usize = counts.iter().sum();
    if k == 0 || n == 0 {
        return data_err("class weights need at least one labelled sample");
    }
    let balanced = |c: usize| if c == 0 { 0.0 } else { n as f64 / (k as f64 * c as f64) };
    let w: Vec<f64> = match scheme {
        ClassWeighting::None => vec![1.0; k],
        ClassWeighting::Balanced => counts.iter().map(|&c| balanced(c)).collect(),
        ClassWeighting::Sqrt => counts.iter().map(|&c| balanced(c).sqrt()).collect(),
        ClassWeighting::Effective { beta } => {
            if !(0.0..1.0).contains(&beta) {
                return config_err(format!("effective-number β must be in [0, 1), got {beta}"));
            }
            let raw: Vec<f64> =
                counts.iter().map(|&c| if c == 0 { 0.0 } else { (1.0 - beta) / (1.0 - beta.powi(c as i32)) }).collect();
            let present = counts.iter().filter(|&&c| c > 0).count() as f64;
            let sum: f64 = raw.iter().sum();
            raw.iter().map(|w| w * present / sum).collect()
        }
    };
    Ok(w.into_iter().map(|v| v as f32).collect())
}

/// Sample indices with minority classes randomly oversampled (with replacement) up to the
/// majority class's count; the original indices are all kept. Shuffled, deterministic in `seed`.
pub fn oversample(classes: &[usize], n_classes: usize, seed: u64) -> Vec<usize> {
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for (i, &c) in classes.iter().enumerate() {
        if c < n_classes {
            by_class[c].push(i);
        }
    }
    let target = by_class.iter().map(Vec::len).max().unwrap_or(0);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out: Vec<usize> = (0..classes.len()).collect();
    for members in &by_class {
        if members.is_empty() {
            continue;
        }
        for _ in members.len()..target {
            out.push(members[rng.random_range(0..members.len())]);
        }
    }
    out.shuffle(&mut rng);
    out
}

/// A batch on a device: inputs, soft targets (one-hot unless mixed up), regression targets,
/// sample weights and symbol ids.
#[derive(Clone, Debug)]
pub struct SeqBatch {
    /// `[batch, seq_len, n_features]`.
    pub x: Tensor<3>,
    /// `[batch, n_classes]` soft class targets.
    pub target: Tensor<2>,
    /// `[batch]` hard classes (before mixup), for metrics.
    pub class: Tensor<1, Int>,
    /// `[batch]` regression targets.
    pub value: Tensor<1>,
    /// `[batch]` sample weights.
    pub weight: Tensor<1>,
    /// `[batch]` symbol ids.
    pub symbol: Tensor<1, Int>,
}

/// A batch still on the host, where augmentation happens.
#[derive(Clone, Debug, PartialEq)]
pub struct HostBatch {
    /// Rows in the batch.
    pub batch: usize,
    /// Window length.
    pub seq_len: usize,
    /// Features per step.
    pub n_features: usize,
    /// Classes.
    pub n_classes: usize,
    /// `batch × seq_len × n_features`.
    pub x: Vec<f32>,
    /// `batch × n_classes`.
    pub target: Vec<f32>,
    /// `batch`.
    pub class: Vec<usize>,
    /// `batch`.
    pub value: Vec<f32>,
    /// `batch`.
    pub weight: Vec<f32>,
    /// `batch`.
    pub symbol: Vec<u32>,
}

impl HostBatch {
    /// Gathers items (copying each window once, into the batch buffer). Every item's window
    /// must hold `seq_len × n_features` values.
    pub fn gather(items: &[WindowItem<'_>], seq_len: usize, n_features: usize, n_classes: usize) -> Self {
        let batch = items.len();
        let mut x = Vec::with_capacity(batch * seq_len * n_features);
        let mut target = vec![0.0; batch * n_classes];
        for (b, it) in items.iter().enumerate() {
            assert_eq!(it.x.len(), seq_len * n_features, "window shape");
            x.extend_from_slice(it.x);
            if it.target.class < n_classes {
                target[b * n_classes + it.target.class] = 1.0;
            }
        }
        Self {
            batch,
            seq_len,
            n_features,
            n_classes,
            x,
            target,
            class: items.iter().map(|i| i.target.class).collect(),
            value: items.iter().map(|i| i.target.value).collect(),
            weight: items.iter().map(|i| i.target.weight).collect(),
            symbol: items.iter().map(|i| i.symbol).collect(),
        }
    }

    /// Moves the batch to `device`.
    pub fn to_device(&self, device: &Device) -> SeqBatch {
        let b = self.batch;
        SeqBatch {
            x: Tensor::from_data(TensorData::new(self.x.clone(), [b, self.seq_len, self.n_features]), device),
            target: Tensor::from_data(TensorData::new(self.target.clone(), [b, self.n_classes]), device),
            class: Tensor::from_data(
                TensorData::new(self.class.iter().map(|&c| c as i64).collect::<Vec<_>>(), [b]),
                device,
            ),
            value: Tensor::from_data(TensorData::new(self.value.clone(), [b]), device),
            weight: Tensor::from_data(TensorData::new(self.weight.clone(), [b]), device),
            symbol: Tensor::from_data(
                TensorData::new(self.symbol.iter().map(|&s| i64::from(s)).collect::<Vec<_>>(), [b]),
                device,
            ),
        }
    }
}

/// burn `Batcher` for window items.
#[derive(Clone, Copy, Debug)]
pub struct SeqBatcher {
    /// Window length.
    pub seq_len: usize,
    /// Features per step.
    pub n_features: usize,
    /// Classes (soft-target width).
    pub n_classes: usize,
}

impl SeqBatcher {
    /// Gathers items into a host batch of the right shape.
    pub fn host(&self, items: &[WindowItem<'_>]) -> HostBatch {
        HostBatch::gather(items, self.seq_len, self.n_features, self.n_classes)
    }
}

impl<'a> Batcher<WindowItem<'a>, SeqBatch> for SeqBatcher {
    fn batch(&self, items: Vec<WindowItem<'a>>, device: &Device) -> SeqBatch {
        self.host(&items).to_device(device)
    }
}
