//! Sequence-model training (`vane train` with `[model] kind = "hrm" | "cnn-lstm" | "tft" | "lorentzian"`):
//! candles from the store → a feature set → fixed-horizon or expected-return (seed 004 ladder)
//! labels → windows of `seq_len` bars → a chronological split with the validation block purged
//! of overlapping labels → normaliser fitted on the training rows → training (seed 002's toolkit)
//! → artifacts.

use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use vane_core::{Bars, Interval, Signal, Symbol};
use vane_indicators::FeatureSet;
use vane_labeling::barrier::{Touch, TripleBarrier, Vertical};
use vane_labeling::deadzone::DeadZone;
use vane_labeling::fixed::FixedHorizon;
use vane_labeling::fixed::classify;
use vane_labeling::ladder::{LadderConfig, expected_returns};
use vane_labeling::percentile::{self, PercentileThresholds};
use vane_market_data::ParquetStore;
use vane_models::artifact::{self, ArtifactFiles, FORMAT_VERSION, SequenceMetrics, SequenceSchema};
use vane_models::data::{FeatureMatrix, NormKind, Normaliser, Sample, Target, WindowedDataset};
use vane_models::train::{
    Checklist, ChecklistInputs, DataSummary, EpochRecord, Predictions, TrainInputs, TrainObserver, fit, loss_settings,
    predict,
};
use vane_models::{DeviceKind, ModelKind, ModelSpec, SequenceModel, Task, TrainConfig};

use crate::error::{PipelineError, Result};
use crate::sequence_metrics::{
    ClassificationMetrics, RegressionMetrics, SeedExpectations, SymbolDecisions, ladder_trades, seed004_expectations,
};
use crate::sequence_predictor::{Decision, INFERENCE_VERSION, SequenceInference};
use crate::sequence_wf::{RegressionWalkForward, WalkForwardReport, point_output};

/// Seed of the target shuffle of [`SequenceData::permute_labels`].
const PERMUTE_SEED: u64 = 0x5eed;

/// Which labels the model learns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelKind {
    /// `r = close[t+H]/close[t] − 1`: BUY if r > θ, SELL if r < −θ, else HOLD; regression on r.
    #[default]
    Fixed,
    /// Seed 004's ladder expected returns: BUY if `er_long > θ` and `er_long ≥ er_short`, SELL if
    /// `er_short > θ` and `er_short > er_long`, else HOLD; regression on `er_long − er_short`.
    ExpectedReturn,
    /// Seed 002's percentile-adaptive labels (`vane_labeling::percentile`): the SELL and BUY
    /// thresholds are the `percentile_sell` / `percentile_buy` quantiles of the forward returns
    /// `close[t+H]/close[t] − 1` of the **training rows only** (each walk-forward window refits
    /// them on its own training rows), then applied to every row; regression on r. θ is unused.
    Percentile,
    /// Seed 000's binary direction with a dead zone (`vane_labeling::deadzone`, exactly as
    /// `vane label --kind deadzone`): class 1 (up) when `r = close[t+H]/close[t] − 1 > 0`, else
    /// class 0 (down); a sample with `|r| < deadzone_eps` keeps its class (by the sign of r) with
    /// sample weight `deadzone_weight`, every other sample weight 1. Two classes; regression on r.
    #[serde(alias = "deadzone")]
    DeadZone,
    /// Seed 000's volatility-scaled triple barrier (`vane_labeling::barrier`, exactly as `vane
    /// label --kind triple-barrier`): σ over `sigma_window` log returns, upper barrier
    /// `up_k_sigma`·σ, lower `dn_k_sigma`·σ, vertical barrier at the horizon. Up first → BUY, down
    /// first → SELL, the vertical barrier → HOLD (or the sign of the return there with
    /// `barrier_vertical = "sign"`). Three classes; regression on the return at the touch.
    TripleBarrier,
    /// Seed 004's profit/loss classification: class 1 (`profit`) when the **long** ladder trade
    /// opened at `close[t]` (`vane_labeling::ladder`, the same engine and parameters as
    /// `expected_return`: seed 004's ladder, `horizon`, `fee_bps` per fill) ends with a positive
    /// net return, `er_long > 0` after fees — exactly the sign of `vane label --kind
    /// expected-return`'s `er_long`; class 0 (`loss`) otherwise (`er_long ≤ 0`). The label spans
    /// `[t, exit of the long]`. Two classes; regression on `er_long`. θ is unused.
    LadderProfit,
}

impl LabelKind {
    /// Classes of the label: 2 for the binary labels (dead zone: 0 down, 1 up; ladder profit: 0
    /// loss, 1 profit), 3 otherwise (BUY 0, SELL 1, HOLD 2: [`Signal::class_index`]).
    pub fn n_classes(self) -> usize {
        match self {
            LabelKind::DeadZone | LabelKind::LadderProfit => 2,
            _ => Signal::ALL.len(),
        }
    }

    /// The class names in class-index order (`schema.json`'s and `inference.json`'s `classes`).
    pub fn class_names(self) -> Vec<String> {
        match self {
            LabelKind::DeadZone => vec!["down".into(), "up".into()],
            LabelKind::LadderProfit => vec!["loss".into(), "profit".into()],
            _ => Signal::NAMES.iter().map(|c| c.to_string()).collect(),
        }
    }

    /// Whether the label is binary (one probability, P(class 1): P(up) or P(profit)).
    pub fn is_binary(self) -> bool {
        self.n_classes() == 2
    }
}

/// The `[data]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SequenceData {
    /// Symbols (one model across them; the TFT embeds the symbol).
    pub symbols: Vec<Symbol>,
    /// Bar interval.
    pub interval: Interval,
    /// Feature set (`v1`, `full`, `talib`, `regime`, `lorentzian`).
    pub feature_set: String,
    /// Window length in bars.
    pub seq_len: usize,
    /// Label kind.
    pub label: LabelKind,
    /// Label horizon in bars (the ladder's horizon for expected returns).
    pub horizon: usize,
    /// θ of the class rule.
    pub theta: f64,
    /// Ladder cost per fill (bps) for expected-return and ladder-profit labels.
    pub fee_bps: f64,
    /// Share of the time axis (the most recent part) used for validation.
    pub valid_frac: f64,
    /// Feature scaling.
    pub normaliser: NormKind,
    /// Use only the last `max_bars` bars of each symbol (0 = all).
    pub max_bars: usize,
    /// Use only the last `days` days of stored data (seed 002's `--days 30`), counted back from
    /// the last stored bar of the job's symbols; fewer when fewer are stored (the report says so).
    /// Applied before `max_bars`. `None`: all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    /// Shuffle the targets across the windows (the leakage alarm, `vane train --permute-labels`):
    /// the validation scores must then fall to chance.
    pub permute_labels: bool,
    /// Walk-forward out-of-sample report (classification): K expanding windows over K + 1 equal
    /// blocks of the labelled time axis (`vane train --walk-forward K`); their pooled predictions
    /// fit the shipped `calibration.json`. 0: off (no report, no calibrator).
    pub walk_forward: usize,
    /// Percentile labels: the SELL quantile of the training returns (seed 002: 0.30).
    pub percentile_sell: f64,
    /// Percentile labels: the BUY quantile of the training returns (seed 002: 0.70).
    pub percentile_buy: f64,
    /// Dead-zone labels: half-width of the dead zone on r (seed 000: 0.0005).
    #[serde(skip_serializing_if = "is_default_eps")]
    pub deadzone_eps: f64,
    /// Dead-zone labels: sample weight inside the dead zone, in [0, 1] (seed 000: 0.2).
    #[serde(skip_serializing_if = "is_default_dz_weight")]
    pub deadzone_weight: f64,
    /// Triple-barrier labels: log returns in σ, in bars (seconds on the 1 s grid), ≥ 2.
    #[serde(skip_serializing_if = "is_default_sigma_window")]
    pub sigma_window: usize,
    /// Triple-barrier labels: upper barrier in σ (> 0).
    #[serde(skip_serializing_if = "is_default_k")]
    pub up_k_sigma: f64,
    /// Triple-barrier labels: lower barrier in σ (> 0).
    #[serde(skip_serializing_if = "is_default_k")]
    pub dn_k_sigma: f64,
    /// Triple-barrier labels: which prices touch the barriers (`close` or `high-low`).
    #[serde(skip_serializing_if = "is_default_touch")]
    pub barrier_touch: Touch,
    /// Triple-barrier labels: the label at the vertical barrier (`zero` = HOLD, or `sign`).
    #[serde(skip_serializing_if = "is_default_vertical")]
    pub barrier_vertical: Vertical,
}

// The label parameters added for seed 000 are left out of the serialised config while they hold
// their defaults, so the artifact names (a hash of the config) of existing jobs do not change.
const DEFAULT_DEADZONE_EPS: f64 = 0.0005;
const DEFAULT_DEADZONE_WEIGHT: f64 = 0.2;
const DEFAULT_SIGMA_WINDOW: usize = 60;
const DEFAULT_K_SIGMA: f64 = 1.2;
fn is_default_eps(v: &f64) -> bool {
    *v == DEFAULT_DEADZONE_EPS
}
fn is_default_dz_weight(v: &f64) -> bool {
    *v == DEFAULT_DEADZONE_WEIGHT
}
fn is_default_sigma_window(v: &usize) -> bool {
    *v == DEFAULT_SIGMA_WINDOW
}
fn is_default_k(v: &f64) -> bool {
    *v == DEFAULT_K_SIGMA
}
fn is_default_touch(v: &Touch) -> bool {
    *v == Touch::Close
}
fn is_default_vertical(v: &Vertical) -> bool {
    *v == Vertical::Zero
}

impl Default for SequenceData {
    fn default() -> Self {
        Self {
            symbols: vec![Symbol::new("BTCUSDT").expect("valid")],
            interval: Interval::H4,
            feature_set: "v1".into(),
            seq_len: 60,
            label: LabelKind::Fixed,
            horizon: 6,
            theta: 0.005,
            fee_bps: 0.0,
            valid_frac: 0.2,
            normaliser: NormKind::ZScore,
            max_bars: 0,
            days: None,
            permute_labels: false,
            walk_forward: 3,
            percentile_sell: 0.3,
            percentile_buy: 0.7,
            deadzone_eps: DEFAULT_DEADZONE_EPS,
            deadzone_weight: DEFAULT_DEADZONE_WEIGHT,
            sigma_window: DEFAULT_SIGMA_WINDOW,
            up_k_sigma: DEFAULT_K_SIGMA,
            dn_k_sigma: DEFAULT_K_SIGMA,
            barrier_touch: Touch::Close,
            barrier_vertical: Vertical::Zero,
        }
    }
}

/// A whole sequence-training config file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SequenceJob {
    /// Classification or regression.
    pub task: Task,
    /// Backend (the command line's `--device` wins).
    pub device: DeviceKind,
    /// Which device of the backend, by the index `vane devices` prints; empty: the backend's
    /// default (the command line's `--devices` wins). At most one: see
    /// [`vane_models::device::MULTI_DEVICE`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<usize>,
    /// Data, features and labels.
    pub data: SequenceData,
    /// The network.
    pub model: ModelSpec,
    /// Training overrides (`preset` and any [`TrainConfig`] field).
    pub train: Map<String, Value>,
    /// How the trained model's output becomes a signal (saved as `inference.json`).
    pub decision: Decision,
}

/// What a sequence training run reports.
#[derive(Clone, Debug, Serialize)]
pub struct SequenceReport {
    /// Artifact folder.
    pub dir: PathBuf,
    /// Model kind.
    pub model: ModelKind,
    /// Device used.
    pub device: DeviceKind,
    /// Validation metrics of the best epoch.
    pub metrics: SequenceMetrics,
    /// The resolved training config.
    pub train: TrainConfig,
    /// Per-epoch history.
    pub history: Vec<EpochRecord>,
    /// Seed 002's checklist, target table and warnings (with the data summary: days used, label
    /// counts).
    pub checklist: Checklist,
    /// The walk-forward out-of-sample report (classification with `data.walk_forward` > 0), also
    /// in `metrics.json` under `walk_forward`.
    pub walk_forward: Option<WalkForwardReport>,
    /// The label's class names in class-index order (BUY/SELL/HOLD, `down`/`up`, `loss`/`profit`).
    pub classes: Vec<String>,
    /// What `calibration.json` holds, or why there is none (one sentence).
    pub calibration_note: String,
    /// Percentile labels: the thresholds of the shipped model (fitted on its training rows).
    pub percentile: Option<PercentileThresholds>,
    /// Regression: MAE, RMSE, R², direction accuracy of the shipped model on its validation split.
    pub validation_regression: Option<RegressionMetrics>,
    /// Classification: accuracy, precision, recall, F1, ROC-AUC of the shipped model on its
    /// validation split.
    pub validation_classification: Option<ClassificationMetrics>,
    /// Regression with `data.walk_forward` > 0: the purged walk-forward out-of-sample report
    /// (`metrics.json`'s `walk_forward_regression`).
    pub walk_forward_regression: Option<RegressionWalkForward>,
    /// Seed 004's expected results, met / not met (TFT runs and expected-return labels;
    /// `metrics.json`'s `seed004_expected`).
    pub seed004: Option<SeedExpectations>,
    /// Training plots (`plot_every`) that could not be drawn or moved into `plots/`; training
    /// went on without them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plot_notes: Vec<String>,
    /// Walk-forward runs: every out-of-sample prediction with its symbol, open time and realised
    /// target (not serialised; the PostgreSQL store writes them to `model_predictions`).
    #[serde(skip)]
    pub oos_predictions: Vec<crate::sequence_oos::OosPrediction>,
    /// The bars each split used, per symbol: window 0 the shipped model's train / validation,
    /// then each walk-forward window's train / validation / test (not serialised;
    /// `training_sequences`).
    #[serde(skip)]
    pub splits: Vec<crate::sequence_oos::SplitUse>,
}

fn cfg_err<T>(m: impl Into<String>) -> Result<T> {
    Err(PipelineError::Config(m.into()))
}

impl SequenceJob {
    /// Parses a TOML config.
    pub fn from_toml(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| PipelineError::Config(e.to_string()))
    }

    /// Range checks.
    pub fn validate(&self) -> Result<()> {
        let d = &self.data;
        if d.symbols.is_empty() {
            return cfg_err("data.symbols is empty");
        }
        if let Some(s) = crate::config::duplicate(&d.symbols) {
            return cfg_err(format!("data.symbols: {s} is listed twice (each symbol once)"));
        }
        if d.seq_len == 0 || d.horizon == 0 {
            return cfg_err("data.seq_len and data.horizon must be ≥ 1");
        }
        if !(d.valid_frac > 0.0 && d.valid_frac < 1.0) {
            return cfg_err(format!("data.valid_frac must be in (0, 1), got {}", d.valid_frac));
        }
        if d.days == Some(0) {
            return cfg_err("data.days (--days) must be ≥ 1");
        }
        if !(0.0..=1.0).contains(&d.percentile_sell)
            || !(0.0..=1.0).contains(&d.percentile_buy)
            || d.percentile_sell > d.percentile_buy
        {
            return cfg_err(format!(
                "data.percentile_sell and data.percentile_buy must satisfy 0 ≤ sell ≤ buy ≤ 1, got {} and {}",
                d.percentile_sell, d.percentile_buy
            ));
        }
        if !(d.theta.is_finite() && d.theta >= 0.0) {
            return cfg_err(format!("data.theta must be ≥ 0, got {}", d.theta));
        }
        match d.label {
            // The labellers' own checks (errors name the parameter: data.<name>).
            LabelKind::DeadZone => {
                DeadZone::new(d.horizon, d.deadzone_eps, d.deadzone_weight)?;
            }
            LabelKind::TripleBarrier => {
                TripleBarrier::new(d.horizon, d.sigma_window, d.up_k_sigma, d.dn_k_sigma)?;
            }
            _ => {}
        }
        d.feature_set.parse::<FeatureSet>().map_err(|e| PipelineError::Config(format!("data.feature_set: {e}")))?;
        // The [model] fields, checked before any data is read (the feature count is not known
        // yet: one stands in; the real one is resolved in `train_sequence`).
        let model = self.model.resolve(1, d.label.n_classes(), d.symbols.len(), None)?;
        model.validate_seq_len(d.seq_len)?;
        self.decision.validate()
    }
}

/// The training target of one bar ([`label_targets`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LabelTarget {
    /// Class index (see [`LabelKind::n_classes`]; HOLD for percentile labels until the split).
    pub class: usize,
    /// Regression target (the forward return; the ladder's `er_long − er_short`; the return at
    /// the barrier touch).
    pub value: f32,
    /// Sample weight (dead-zone labels: `deadzone_weight` inside the dead zone; else 1).
    pub weight: f32,
    /// The last bar the label looks at.
    pub end: usize,
}

/// Per-bar training targets of one symbol's bars (`None` where no label exists), with the same
/// labellers and parameters as `vane label`. On a 1-second grid, bars are seconds: the horizon
/// and σ window count seconds.
pub fn label_targets(bars: &Bars, d: &SequenceData) -> Result<Vec<Option<LabelTarget>>> {
    targets(bars, d)
}

/// Per-bar targets of one symbol.
fn targets(bars: &Bars, d: &SequenceData) -> Result<Vec<Option<LabelTarget>>> {
    let n = bars.len();
    let mut out = vec![None; n];
    let target = |class: usize, value: f32, end: usize, weight: f32| Some(LabelTarget { class, value, weight, end });
    match d.label {
        // Percentile classes depend on the training rows' quantiles: `assign_classes` sets them
        // once the split is known (HOLD until then).
        LabelKind::Fixed | LabelKind::Percentile => {
            let labels = FixedHorizon::new(d.horizon, d.theta)?.label(bars.close());
            for (t, l, span) in labels.iter() {
                out[t] = target(l.signal.class_index(), l.ret as f32, span.end, 1.0);
            }
        }
        LabelKind::DeadZone => {
            let labels = DeadZone::new(d.horizon, d.deadzone_eps, d.deadzone_weight)?.label(bars.close());
            for (t, l, span) in labels.iter() {
                out[t] = target(usize::from(l.up), l.ret as f32, span.end, l.weight as f32);
            }
        }
        LabelKind::TripleBarrier => {
            let tb = TripleBarrier {
                touch: d.barrier_touch,
                vertical: d.barrier_vertical,
                ..TripleBarrier::new(d.horizon, d.sigma_window, d.up_k_sigma, d.dn_k_sigma)?
            };
            for (t, l, span) in tb.label(bars)?.iter() {
                let class = match l.label {
                    1 => Signal::Buy,
                    -1 => Signal::Sell,
                    _ => Signal::Hold,
                };
                out[t] = target(class.class_index(), l.ret as f32, span.end, 1.0);
            }
        }
        LabelKind::ExpectedReturn => {
            let cfg = LadderConfig { horizon: d.horizon, fee_bps: d.fee_bps, ..LadderConfig::default() };
            let labels = expected_returns(bars, &cfg)?;
            for (t, er, span) in labels.iter() {
                let class = if er.er_long > d.theta && er.er_long >= er.er_short {
                    Signal::Buy
                } else if er.er_short > d.theta && er.er_short > er.er_long {
                    Signal::Sell
                } else {
                    Signal::Hold
                };
                out[t] = target(class.class_index(), (er.er_long - er.er_short) as f32, span.end, 1.0);
            }
        }
        LabelKind::LadderProfit => {
            let cfg = LadderConfig { horizon: d.horizon, fee_bps: d.fee_bps, ..LadderConfig::default() };
            let labels = expected_returns(bars, &cfg)?;
            for (t, er, _) in labels.iter() {
                out[t] = target(usize::from(er.er_long > 0.0), er.er_long as f32, er.exit_long, 1.0);
            }
        }
    }
    Ok(out)
}

/// The prepared data of a job: the normalised matrix and the two sample lists.
#[derive(Debug)]
pub struct Prepared {
    /// Normalised features of every symbol.
    pub matrix: FeatureMatrix,
    /// Training samples.
    pub train: Vec<Sample>,
    /// Validation samples.
    pub valid: Vec<Sample>,
    /// The fitted normaliser.
    pub normaliser: Normaliser,
    /// Column names.
    pub columns: Vec<String>,
    /// Days of stored data used and the label counts (the checklist's data warnings).
    pub data: DataSummary,
    /// Percentile labels: the thresholds fitted on the training samples' returns.
    pub percentile: Option<PercentileThresholds>,
}

/// The stored bars a job trains on, per symbol: `data.days` (the last N days, counted back from
/// the last stored bar of all the job's symbols: bars whose open time is at or after
/// `last open + interval − N days`), then `data.max_bars`.
///
/// Second intervals (`1s` … `30s`: seed 000's sparse 1-second data, a bar only where trades
/// happened) are put on a regular grid first ([`vane_market_data::regularise`]: every second from
/// the first to the last bar, empty ones filled with the previous close and zero volume), so the
/// window, the horizon and the σ window count seconds; `max_bars` then counts grid bars. Every
/// grid second is a decision point, filled or not (seed 000 predicts every second).
pub fn read_bars(store: &ParquetStore, d: &SequenceData) -> Result<Vec<Bars>> {
    let mut all = Vec::with_capacity(d.symbols.len());
    for sym in &d.symbols {
        all.push(store.read(sym, d.interval)?);
    }
    if let Some(days) = d.days {
        let last = all.iter().filter_map(|b| b.open_time().last().copied()).max();
        if let Some(last) = last {
            let from = last + d.interval.millis() - i64::from(days) * 86_400_000;
            for bars in &mut all {
                let start = bars.open_time().partition_point(|&t| t < from);
                *bars = bars.slice(start..bars.len());
            }
        }
    }
    if d.interval < Interval::M1 {
        for bars in &mut all {
            *bars = vane_market_data::regularise(bars, d.interval)?.bars;
        }
    }
    for bars in &mut all {
        if d.max_bars > 0 && bars.len() > d.max_bars {
            *bars = bars.slice(bars.len() - d.max_bars..bars.len());
        }
    }
    Ok(all)
}

/// Days covered by `bars` (first open to last close), the longest over the symbols.
fn days_covered(all: &[Bars], interval: Interval) -> f64 {
    all.iter()
        .filter_map(|b| Some((*b.open_time().first()?, *b.open_time().last()?)))
        .map(|(first, last)| (last + interval.millis() - first) as f64 / 86_400_000.0)
        .fold(0.0, f64::max)
}

/// One labelled window end: its matrix row, target, label end and open time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Candidate {
    /// Matrix row of the window's last bar.
    pub(crate) row: usize,
    /// Class index (HOLD for percentile labels until [`assign_classes`]).
    pub(crate) class: usize,
    /// Regression target (the forward return for fixed and percentile labels).
    pub(crate) value: f32,
    /// Sample weight (dead-zone labels; 1 otherwise).
    pub(crate) weight: f32,
    /// Open time of the bar the label ends at.
    pub(crate) label_end: i64,
    /// Open time of the window's last bar.
    pub(crate) time: i64,
}

impl Candidate {
    fn sample(&self) -> Sample {
        Sample { end: self.row, target: Target { class: self.class, value: self.value, weight: self.weight } }
    }
}

/// The raw (un-normalised) feature matrix of a job and every labelled window, before any split.
#[derive(Debug)]
pub(crate) struct RawData {
    /// Raw features of every symbol.
    pub(crate) matrix: FeatureMatrix,
    /// Open times of each segment's rows.
    pub(crate) segment_times: Vec<Vec<i64>>,
    /// Every labelled window (targets already shuffled under `permute_labels`).
    pub(crate) cands: Vec<Candidate>,
    /// Column names.
    pub(crate) columns: Vec<String>,
    /// Days covered by the bars used.
    pub(crate) days: f64,
    /// The bars of each symbol (segment order): seed 004's ladder trades on the out-of-sample
    /// decisions.
    pub(crate) bars: Vec<Bars>,
}

/// Reads the bars, computes the features and labels every window (`permute_labels` shuffles the
/// targets here, before any split, so every split and walk-forward window sees the same shuffle).
pub(crate) fn raw_data(store: &ParquetStore, d: &SequenceData) -> Result<RawData> {
    let set: FeatureSet = d.feature_set.parse().map_err(|e| PipelineError::Config(format!("data.feature_set: {e}")))?;
    let columns = set.columns();
    let mut matrix = FeatureMatrix::new(columns.clone())?;
    let mut cands = Vec::new();
    // Open times of each segment's rows, for the normaliser's rows.
    let mut segment_times = Vec::with_capacity(d.symbols.len());
    let all_bars = read_bars(store, d)?;
    let days = days_covered(&all_bars, d.interval);
    for (s, bars) in all_bars.iter().enumerate() {
        let frame = set.compute(bars);
        let first = (0..bars.len()).find(|&t| frame.row(t).iter().all(|v| v.is_finite())).unwrap_or(bars.len());
        let values: Vec<f32> = (first..bars.len()).flat_map(|t| frame.row(t).into_iter().map(|v| v as f32)).collect();
        let rows = matrix.push_segment(s as u32, &values)?;
        let tg = targets(bars, d)?;
        let times = bars.open_time();
        segment_times.push(times[first..].to_vec());
        for t in first + d.seq_len.saturating_sub(1)..bars.len() {
            let row = rows.start + (t - first);
            let window = matrix.rows_slice(row + 1 - d.seq_len..row + 1);
            if let Some(LabelTarget { class, value, end, weight }) = tg[t]
                && window.iter().all(|v| v.is_finite())
            {
                cands.push(Candidate { row, class, value, weight, label_end: times[end], time: times[t] });
            }
        }
    }
    if d.permute_labels {
        // Targets move between windows; each window keeps its own time and label span, so the
        // split and the purging are unchanged.
        let mut targets: Vec<(usize, f32, f32)> = cands.iter().map(|c| (c.class, c.value, c.weight)).collect();
        targets.shuffle(&mut rand::rngs::StdRng::seed_from_u64(PERMUTE_SEED));
        for (c, (class, value, weight)) in cands.iter_mut().zip(targets) {
            (c.class, c.value, c.weight) = (class, value, weight);
        }
    }
    if cands.len() < 4 {
        let days_note = d.days.map_or(String::new(), |n| {
            format!(
                " (--days {n} keeps {days:.1} days of bars; the feature warm-up, the window and the label horizon \
                 use some of them: raise --days)"
            )
        });
        return Err(PipelineError::Data(format!(
            "only {} labelled windows of {} bars{days_note}; download more candles or shorten seq_len",
            cands.len(),
            d.seq_len
        )));
    }
    Ok(RawData { matrix, segment_times, cands, columns, days, bars: all_bars })
}

/// Percentile labels: fits the thresholds on the returns of `fit_on` (training rows only) and
/// sets every candidate's class with them; other label kinds are left as they are (`None`).
pub(crate) fn assign_classes(
    d: &SequenceData,
    cands: &mut [Candidate],
    fit_on: &[usize],
) -> Result<Option<PercentileThresholds>> {
    if d.label != LabelKind::Percentile {
        return Ok(None);
    }
    let rets: Vec<f64> = fit_on.iter().map(|&i| f64::from(cands[i].value)).collect();
    let q = |p: f64| {
        percentile::quantile(&rets, p).ok_or_else(|| {
            PipelineError::Data("percentile labels: no training rows to fit the thresholds on".to_string())
        })
    };
    let th = PercentileThresholds { horizon: d.horizon, sell: q(d.percentile_sell)?, buy: q(d.percentile_buy)? };
    for c in cands.iter_mut() {
        c.class = classify(f64::from(c.value), th.buy, th.sell).class_index();
    }
    Ok(Some(th))
}

/// The raw matrix normalised with a normaliser fitted on every row whose open time is before
/// `cut` (per symbol).
pub(crate) fn normalised(raw: &RawData, kind: NormKind, cut: i64) -> Result<(FeatureMatrix, Normaliser)> {
    let mut matrix = raw.matrix.clone();
    let fit_rows: Vec<_> = matrix
        .segments()
        .iter()
        .zip(&raw.segment_times)
        .map(|(seg, times)| seg.rows.start..seg.rows.start + times.partition_point(|&t| t < cut))
        .collect();
    let normaliser = Normaliser::fit(kind, &matrix, &fit_rows)?;
    normaliser.apply(&mut matrix)?;
    Ok((matrix, normaliser))
}

/// Builds the windows. The time axis is cut at the `1 − valid_frac` quantile of the labelled
/// bars' open times: validation samples are at or after the cut, training samples must have
/// their whole label span before it (purging), and the normaliser sees only rows before it.
/// Percentile thresholds are fitted on the training samples' returns.
pub fn prepare(store: &ParquetStore, d: &SequenceData) -> Result<Prepared> {
    prepare_from(&raw_data(store, d)?, d)
}

/// [`prepare`] on already-read data.
pub(crate) fn prepare_from(raw: &RawData, d: &SequenceData) -> Result<Prepared> {
    let mut cands = raw.cands.clone();
    let mut times: Vec<i64> = cands.iter().map(|c| c.time).collect();
    times.sort_unstable();
    let cut = times[((times.len() as f64) * (1.0 - d.valid_frac)) as usize];
    let train_idx: Vec<usize> = (0..cands.len()).filter(|&i| cands[i].label_end < cut).collect();
    let valid_idx: Vec<usize> = (0..cands.len()).filter(|&i| cands[i].time >= cut).collect();
    if train_idx.is_empty() || valid_idx.is_empty() {
        return Err(PipelineError::Data(format!(
            "the split left {} training and {} validation windows; adjust data.valid_frac",
            train_idx.len(),
            valid_idx.len()
        )));
    }
    let percentile = assign_classes(d, &mut cands, &train_idx)?;
    let train: Vec<Sample> = train_idx.iter().map(|&i| cands[i].sample()).collect();
    let valid: Vec<Sample> = valid_idx.iter().map(|&i| cands[i].sample()).collect();
    // Normaliser rows: every matrix row before the cut (per symbol).
    let (matrix, normaliser) = normalised(raw, d.normaliser, cut)?;
    let mut label_counts = vec![0usize; d.label.n_classes()];
    for s in train.iter().chain(&valid) {
        label_counts[s.target.class] += 1;
    }
    // The checklist's HOLD-heavy warning can suggest `data.label = "percentile"`.
    let data = DataSummary { days: raw.days, requested_days: d.days, label_counts, percentile_labels: true };
    Ok(Prepared { matrix, train, valid, normaliser, columns: raw.columns.clone(), data, percentile })
}
/// Mean variable-selection weight per feature (named by column) and mean last-step attention
/// per lag over the validation windows (TFT only): [`vane_models::tft::interpret`].
fn interpretation(
    model: &SequenceModel,
    ds: &WindowedDataset<'_>,
    columns: &[String],
    device: &burn::tensor::Device,
) -> Option<Value> {
    let i = vane_models::tft::interpret(model, ds, columns, Signal::ALL.len(), device)?;
    serde_json::to_value(i).ok()
}

/// A saved model's `interpretation.json` (TFT only): the variable-selection weights per feature
/// ("variable importance") and the attention by lag over its validation windows. An error naming
/// the file when it is missing or unreadable.
pub fn read_interpretation(model_dir: &Path) -> Result<vane_models::tft::TftInterpretation> {
    let path = model_dir.join("interpretation.json");
    if !path.exists() {
        return Err(PipelineError::Data(format!(
            "{} does not exist: only TFT models write interpretation.json",
            path.display()
        )));
    }
    let v: Value = vane_artifact::read_versioned(&path, FORMAT_VERSION)?;
    let inner = v.get("interpretation").cloned().unwrap_or(Value::Null);
    serde_json::from_value(inner)
        .map_err(|e| PipelineError::Data(format!("{}: not a TFT interpretation: {e}", path.display())))
}

/// The readable part of a job's folder name: `<SYMBOLS>_<interval>_<kind>_h<horizon>_`.
fn name_prefix(d: &SequenceData, kind: ModelKind) -> String {
    format!(
        "{}_{}_{}_h{}_",
        d.symbols.iter().map(Symbol::as_str).collect::<Vec<_>>().join("-"),
        d.interval,
        kind,
        d.horizon
    )
}

/// Everything a trained model depends on, as a checkpoint saves it (`{"model", "train",
/// "context": {"data", "decision"}}`): the key of its artifact and checkpoint folders.
fn run_config(job: &SequenceJob, mcfg: &vane_models::ModelConfig, tcfg: &TrainConfig) -> Value {
    serde_json::json!({
        "model": mcfg,
        "train": tcfg,
        "context": { "data": &job.data, "decision": job.decision },
    })
}

/// FNV-1a of `bytes` (stable across builds and platforms, unlike `std`'s hasher).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The artifact (and checkpoint) folder name of a job: the readable parts — symbols, interval,
/// model kind, label horizon — and the first 8 hex digits of a hash of the whole resolved config
/// (data, labels, model, training, decision; not the device), e.g.
/// `BTCUSDT-ETHUSDT_4h_hrm_h6_1f0c9a2b`. Two configs that differ anywhere get two folders; the
/// same config trained again replaces its folder.
pub fn model_name(job: &SequenceJob, mcfg: &vane_models::ModelConfig, tcfg: &TrainConfig) -> String {
    // serde_json's maps are sorted by key: the text is canonical.
    let canonical = run_config(job, mcfg, tcfg).to_string();
    format!("{}{:08x}", name_prefix(&job.data, mcfg.kind()), fnv1a(canonical.as_bytes()) >> 32)
}

/// `--resume` found no checkpoint for this config: when a checkpoint of the same symbols,
/// interval, model and horizon exists under another config, refuse and say which keys differ
/// (rather than silently starting afresh).
fn refuse_other_checkpoint(
    checkpoints: &Path,
    name: &str,
    job: &SequenceJob,
    mcfg: &vane_models::ModelConfig,
    tcfg: &TrainConfig,
) -> Result<()> {
    let prefix = format!(
        "{}_{}_{}_",
        job.data.symbols.iter().map(Symbol::as_str).collect::<Vec<_>>().join("-"),
        job.data.interval,
        mcfg.kind()
    );
    let Ok(entries) = std::fs::read_dir(checkpoints) else { return Ok(()) };
    let ours = run_config(job, mcfg, tcfg);
    let mut best: Option<(String, Vec<String>)> = None;
    for e in entries.flatten() {
        let other = e.file_name().to_string_lossy().into_owned();
        if other == name || !other.starts_with(&prefix) || other.starts_with('.') {
            continue;
        }
        let state = e.path().join("state.json");
        let Ok(saved) = vane_artifact::read_json::<vane_models::train::checkpoint::CheckpointState>(
            &state,
            vane_models::artifact::FORMAT_VERSION,
        ) else {
            continue;
        };
        let diff = vane_models::train::checkpoint::config_diff(&saved.config, &ours);
        if best.as_ref().is_none_or(|b| diff.len() < b.1.len()) {
            best = Some((other, diff));
        }
    }
    match best {
        Some((other, diff)) => Err(PipelineError::Config(format!(
            "--resume: no checkpoint for this config ({name}); {} was written under another config ({}): resume with that config, or train without --resume",
            checkpoints.join(other).display(),
            diff.join(", ")
        ))),
        None => Ok(()),
    }
}

/// Trains the job's model and writes its artifacts under `artifacts_dir`.
pub fn train_sequence(
    store: &ParquetStore,
    artifacts_dir: &Path,
    job: &SequenceJob,
    cli_train: &[Map<String, Value>],
    resume: bool,
    observer: &mut dyn TrainObserver,
) -> Result<SequenceReport> {
    job.validate()?;
    // The device first: a `--devices` the backend cannot honour fails before any data is read.
    let device = job.device.open(&job.devices)?;
    let d = &job.data;
    let mut overrides = vec![job.train.clone()];
    overrides.extend(cli_train.iter().cloned());
    let mut tcfg = TrainConfig::resolve(None, &overrides)?;
    tcfg.task = job.task;
    let raw = raw_data(store, d)?;
    let prepared = prepare_from(&raw, d)?;
    let k = d.label.n_classes();
    let mcfg = job.model.resolve(prepared.columns.len(), k, d.symbols.len(), tcfg.dropout)?;
    let n_classes = (job.task == Task::Classification).then_some(k);
    let train = WindowedDataset::new(&prepared.matrix, d.seq_len, prepared.train.clone(), n_classes)?;
    let valid = WindowedDataset::new(&prepared.matrix, d.seq_len, prepared.valid.clone(), n_classes)?;
    let context = serde_json::json!({ "data": d, "decision": job.decision });
    let name = model_name(job, &mcfg, &tcfg);
    let dir = artifacts_dir.join("models").join(&name);
    let checkpoints = artifacts_dir.join(".checkpoints");
    let ckpt = checkpoints.join(&name);
    if resume && vane_models::train::checkpoint::find(&ckpt)?.is_none() {
        refuse_other_checkpoint(&checkpoints, &name, job, &mcfg, &tcfg)?;
    }
    let inputs = TrainInputs {
        model: &mcfg,
        config: &tcfg,
        train: &train,
        valid: &valid,
        checkpoint_dir: Some(&ckpt),
        resume,
        context: Some(&context),
    };
    // Seed 004's training plots every `plot_every` epochs (0 = off): see `train_plots`.
    let quantity = match d.label {
        LabelKind::ExpectedReturn => "expected return (long − short)",
        LabelKind::Fixed | LabelKind::Percentile | LabelKind::DeadZone => "forward return",
        LabelKind::TripleBarrier => "return at the barrier touch",
        LabelKind::LadderProfit => "long ladder net return",
    };
    let progress = crate::train_plots::progress_dir(artifacts_dir, &name);
    let mut plots = crate::train_plots::TrainPlots::new(
        progress,
        tcfg.plot_every,
        mcfg.kind().to_string(),
        quantity,
        prepared.columns.clone(),
    );
    let outcome = if tcfg.plot_every > 0 {
        fit(&inputs, &device, &mut crate::train_plots::Both { first: observer, second: &mut plots })?
    } else {
        fit(&inputs, &device, observer)?
    };
    // The out-of-sample report and the calibrator fitted on its pooled predictions.
    // Binary labels run the same windows with two classes and ship a binary calibrator on P(up).
    let wf = if job.task == Task::Classification && d.walk_forward > 0 {
        Some(crate::sequence_wf::run(&raw, d, &mcfg, &tcfg, &job.decision, &device)?)
    } else {
        None
    };
    let wf_reg = if job.task == Task::Regression && d.walk_forward > 0 {
        Some(crate::sequence_wf::run_regression(&raw, d, &mcfg, &tcfg, &device)?)
    } else {
        None
    };
    let calibration_note = match (&wf, job.task) {
        (Some(w), _) => {
            let (method, reason) = match (&w.report.calibration, &w.report.binary) {
                (Some(c), _) => (c.chosen.name().to_string(), c.reason.clone()),
                (None, Some(b)) => (format!("binary {} on P(up)", b.calibration.chosen), b.calibration.reason.clone()),
                (None, None) => ("none".to_string(), String::new()),
            };
            format!(
                "calibration.json: {method} fitted on the {} pooled out-of-sample rows of {} walk-forward windows ({reason})",
                w.report.calibration_rows, w.report.k,
            )
        }
        (None, Task::Classification) => {
            "no calibration.json: data.walk_forward = 0, so there are no out-of-sample predictions to fit one on; \
             probs are the network's raw softmax"
                .to_string()
        }
        (None, Task::Regression) => "no calibration.json: regression models output returns, not probabilities".into(),
    };
    let settings = loss_settings(&tcfg, outcome.class_weights.clone());
    let vp: Predictions = predict(&outcome.model, &mcfg, &valid, tcfg.task, &settings, 256, &device);
    plots.finish(&outcome.history, outcome.best_epoch, tcfg.task, &outcome.model, &mcfg, &valid, &vp, &device);
    let best = outcome.history.iter().find(|r| r.epoch == outcome.best_epoch).cloned();
    let (validation_regression, validation_classification) = validation_scores(&mcfg, job.task, &prepared, &vp)?;
    let seed004 =
        if mcfg.kind() == ModelKind::Tft || matches!(d.label, LabelKind::ExpectedReturn | LabelKind::LadderProfit) {
            Some(seed_expectations(&raw, d, job.task, wf.as_ref(), wf_reg.as_ref(), validation_regression.as_ref())?)
        } else {
            None
        };
    // The trainer's checklist plus seed 002's data warnings (days, label imbalance).
    let checklist = Checklist::evaluate(
        &tcfg,
        &ChecklistInputs {
            best: best.as_ref(),
            clean_train_loss: Some(outcome.clean_train_loss),
            data: Some(&prepared.data),
        },
    );
    let metrics = SequenceMetrics {
        best_epoch: outcome.best_epoch,
        epochs_run: outcome.history.len(),
        stopped_early: outcome.stopped_early,
        val_loss: vp.loss,
        val_accuracy: best.as_ref().map_or(f64::NAN, |b| b.val_accuracy),
        val_macro_f1: best.as_ref().map_or(f64::NAN, |b| b.val_macro_f1),
        class_weights: outcome.class_weights.clone(),
        n_train: train.len(),
        n_valid: valid.len(),
        param_count: burn::module::Module::num_params(&outcome.model),
    };
    let schema = SequenceSchema {
        format_version: FORMAT_VERSION,
        feature_set: d.feature_set.clone(),
        columns: prepared.columns.clone(),
        seq_len: d.seq_len,
        normaliser: prepared.normaliser.clone(),
        symbols: d.symbols.iter().map(|s| s.to_string()).collect(),
        classes: d.label.class_names(),
    };
    let interp = interpretation(&outcome.model, &valid, &prepared.columns, &device);
    let inference = SequenceInference {
        format_version: INFERENCE_VERSION,
        model_id: name.clone(),
        model_kind: mcfg.kind().to_string(),
        task: job.task,
        interval: d.interval,
        classes: d.label.class_names(),
        decision: job.decision,
        trained_until_ms: raw.cands.iter().map(|c| c.time).max(),
    };
    let files = ArtifactFiles {
        model: &mcfg,
        train: &tcfg,
        data: serde_json::to_value(d).expect("data serialises"),
        schema: &schema,
        metrics: &metrics,
        history: &outcome.history,
        checklist: &checklist,
        interpretation: interp,
        inference: Some(serde_json::to_value(&inference).expect("inference serialises")),
        extra: {
            let mut extra = walk_forward_extras(wf.as_ref(), &calibration_note, prepared.percentile.as_ref());
            let mut put = |k: &str, v: Value| {
                if !v.is_null() {
                    extra.metrics.insert(k.into(), v);
                }
            };
            put("validation_regression", serde_json::to_value(validation_regression).expect("serialises"));
            put("validation_classification", serde_json::to_value(&validation_classification).expect("serialises"));
            put(
                "walk_forward_regression",
                serde_json::to_value(wf_reg.as_ref().map(|w| &w.report)).expect("serialises"),
            );
            put("seed004_expected", serde_json::to_value(&seed004).expect("serialises"));
            extra
        },
    };
    artifact::save(&dir, &outcome.model, &files)?;
    plots.install(&dir);
    let _ = std::fs::remove_dir_all(&ckpt);
    let mut splits = crate::sequence_oos::split_uses(&raw, d, prepared.train.iter().map(|s| s.end), 0, "train");
    splits.extend(crate::sequence_oos::split_uses(&raw, d, prepared.valid.iter().map(|s| s.end), 0, "validation"));
    let mut oos_predictions = Vec::new();
    for (rows, s) in wf.iter().map(|w| (&w.rows, &w.splits)).chain(wf_reg.iter().map(|w| (&w.rows, &w.splits))) {
        oos_predictions.extend(rows.iter().cloned());
        splits.extend(s.iter().cloned());
    }
    Ok(SequenceReport {
        dir,
        model: mcfg.kind(),
        device: job.device,
        metrics,
        train: tcfg,
        history: outcome.history,
        checklist,
        walk_forward: wf.map(|w| w.report),
        classes: d.label.class_names(),
        calibration_note,
        percentile: prepared.percentile,
        validation_regression,
        validation_classification,
        walk_forward_regression: wf_reg.map(|w| w.report),
        seed004,
        plot_notes: plots.errors().to_vec(),
        oos_predictions,
        splits,
    })
}

/// The walk-forward section (and the calibration note, the percentile thresholds) for
/// `metrics.json`, `calibration.json` and the reliability diagram: written into the model's
/// staged folder with the rest, so the folder is swapped in whole.
fn walk_forward_extras(
    wf: Option<&crate::sequence_wf::WalkForwardOutcome>,
    note: &str,
    percentile: Option<&PercentileThresholds>,
) -> vane_models::artifact::ArtifactExtras {
    let mut extra = vane_models::artifact::ArtifactExtras::default();
    extra.metrics.insert("walk_forward".into(), serde_json::to_value(wf.map(|w| &w.report)).expect("serialises"));
    extra.metrics.insert("calibration_note".into(), Value::String(note.into()));
    if let Some(p) = percentile {
        extra.metrics.insert("percentile_thresholds".into(), serde_json::to_value(p).expect("serialises"));
    }
    if let Some(w) = wf {
        extra.json.push(("calibration.json".into(), serde_json::to_value(&w.calibration).expect("serialises")));
        if !w.reliability.is_empty() {
            // The model kind, not the folder name: the whole id does not fit the plot's width.
            // The raw curve, and beside it the shipped (calibrated) one on the windows that had
            // an earlier windows' calibrator.
            let calibrated_name = format!("{}_calibrated", w.report.model);
            let calibrated: Vec<bool> =
                w.report.windows.iter().map(|x| x.scores.contains_key(&calibrated_name)).collect();
            let shipped = crate::train::reliability_points(&w.report.reliability_calibrated);
            extra.reliability =
                Some(crate::artifacts::reliability_series(&w.report.model, &w.reliability, &shipped, &calibrated));
        }
    }
    extra
}

/// The shipped model's validation-split scores: regression (MAE, RMSE, R², direction accuracy of
/// the point prediction) or classification (accuracy, precision, recall, F1, ROC-AUC).
fn validation_scores(
    mcfg: &vane_models::ModelConfig,
    task: Task,
    prepared: &Prepared,
    vp: &Predictions,
) -> Result<(Option<RegressionMetrics>, Option<ClassificationMetrics>)> {
    match task {
        Task::Regression => {
            let (point, _) = point_output(mcfg);
            let p: Vec<f64> = vp.values.iter().map(|v| f64::from(v.get(point).copied().unwrap_or(f32::NAN))).collect();
            let y: Vec<f64> = prepared.valid.iter().map(|s| f64::from(s.target.value)).collect();
            Ok((Some(RegressionMetrics::of(&y, &p)?), None))
        }
        Task::Classification => {
            let y: Vec<usize> = prepared.valid.iter().map(|s| s.target.class).collect();
            let p = crate::sequence_wf::prob_rows(&vp.probs);
            Ok((None, Some(ClassificationMetrics::of(&y, &p)?)))
        }
    }
}

/// The out-of-sample decisions per symbol (HOLD where no prediction was made) from
/// `(candidate index, signal)` pairs.
fn oos_decisions<'a>(raw: &'a RawData, oos: &[(usize, Signal)]) -> Vec<SymbolDecisions<'a>> {
    let mut out: Vec<SymbolDecisions<'a>> =
        raw.bars.iter().map(|b| SymbolDecisions { bars: b, signals: vec![Signal::Hold; b.len()] }).collect();
    let segments = raw.matrix.segments();
    for &(i, sig) in oos {
        let c = &raw.cands[i];
        let Some(s) = segments.iter().position(|seg| seg.rows.contains(&c.row)) else { continue };
        let Some(dec) = out.get_mut(s) else { continue };
        if let Ok(t) = dec.bars.open_time().binary_search(&c.time) {
            dec.signals[t] = sig;
        }
    }
    out
}

/// Seed 004's expected results (direction accuracy 55–65 %, MAE 1.5–2.5 %, win rate with partial
/// closes 30–40 %) from the walk-forward's pooled out-of-sample predictions, else the validation
/// split (no win rate then: the ladder runs on the walk-forward's decisions).
fn seed_expectations(
    raw: &RawData,
    d: &SequenceData,
    task: Task,
    wf: Option<&crate::sequence_wf::WalkForwardOutcome>,
    wf_reg: Option<&crate::sequence_wf::RegressionOutcome>,
    validation_regression: Option<&RegressionMetrics>,
) -> Result<SeedExpectations> {
    let ladder_cfg = LadderConfig { horizon: d.horizon, fee_bps: d.fee_bps, ..LadderConfig::default() };
    let theta = d.theta;
    let (signals, rule): (Option<Vec<(usize, Signal)>>, String) = match (task, wf, wf_reg) {
        (Task::Regression, _, Some(w)) => (
            Some(
                w.oos
                    .iter()
                    .map(|&(i, p)| {
                        let s = if p > theta {
                            Signal::Buy
                        } else if p < -theta {
                            Signal::Sell
                        } else {
                            Signal::Hold
                        };
                        (i, s)
                    })
                    .collect(),
            ),
            format!("BUY when the predicted value > θ = {theta}, SELL when < −θ"),
        ),
        (Task::Classification, Some(w), _) => (
            Some(w.oos.clone()),
            match &w.report.binary {
                Some(b) => format!("{} (HOLD opens none)", b.rule),
                None => "the argmax class (BUY / SELL; HOLD opens none)".into(),
            },
        ),
        _ => (None, String::new()),
    };
    let ladder = match &signals {
        Some(sig) => Some(ladder_trades(&oos_decisions(raw, sig), &ladder_cfg, d.fee_bps, &rule)?),
        None => None,
    };
    // A classification run's direction accuracy: its BUY / SELL calls against the sign of the
    // realised value (HOLD calls are not scored).
    let class_direction = match (task, wf) {
        (Task::Classification, Some(w)) => {
            let (mut hit, mut n) = (0usize, 0usize);
            for &(i, s) in &w.oos {
                let v = f64::from(raw.cands[i].value);
                if s == Signal::Hold || v == 0.0 {
                    continue;
                }
                n += 1;
                hit += usize::from((s == Signal::Buy) == (v > 0.0));
            }
            (n > 0).then(|| hit as f64 / n as f64)
        }
        _ => None,
    };
    let (regression, source) = match (wf_reg, validation_regression) {
        (Some(w), _) => (Some(&w.report.pooled), format!("walk-forward, {} windows pooled out of sample", w.report.k)),
        (None, Some(v)) => (Some(v), "the validation split (data.walk_forward = 0)".to_string()),
        (None, None) => (None, format!("walk-forward, {} windows pooled out of sample", d.walk_forward)),
    };
    let reason = "data.walk_forward = 0: no out-of-sample decisions over time to open ladder trades on (set \
                  data.walk_forward ≥ 1)";
    Ok(seed004_expectations(regression, class_direction, ladder, &source, reason))
}
