//! The files of `artifacts/models/<MODEL_ID>/`, each with a `format_version`, written into a
//! temporary folder that is renamed into place: readers see the old model or the new one, never
//! a half-written folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use vane_artifact::{ModelId, StagedDir};
use vane_core::{Interval, Signal};
use vane_indicators::FeatureSet;
use vane_policy::optimize::Choice;
use vane_policy::{PolicyConfig, Rule};
use vane_tabular::Gbdt;

use crate::config::TrainConfig;
use crate::error::{PipelineError, Result};

/// Version of `config.json`, `feature_schema.json`, `inference.json` and `metrics.json` (2: metrics
/// keyed by model name; artifacts of version 1 are refused with an error that says to retrain).
pub const FORMAT_VERSION: u32 = 2;

/// `feature_schema.json`: what the model was trained on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureSchema {
    /// Must equal [`FORMAT_VERSION`].
    pub format_version: u32,
    /// Feature-set name (`v1`).
    pub feature_set: String,
    /// Its version.
    pub feature_set_version: u32,
    /// Numeric columns, in order.
    pub columns: Vec<String>,
    /// Categorical columns.
    pub categorical: Vec<String>,
    /// Bar interval.
    pub interval: Interval,
    /// Label horizon, bars.
    pub horizon: usize,
}

impl FeatureSchema {
    /// The schema of seed 001's `v1` models.
    pub fn v1(interval: Interval, horizon: usize) -> Self {
        let set = FeatureSet::V1;
        Self {
            format_version: FORMAT_VERSION,
            feature_set: set.name().into(),
            feature_set_version: set.version(),
            columns: set.columns(),
            categorical: vec!["symbol".into()],
            interval,
            horizon,
        }
    }
}

/// `inference.json`: the decision rule and what the model outputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Inference {
    /// Must equal [`FORMAT_VERSION`].
    pub format_version: u32,
    /// `global` or the symbol.
    pub model_id: String,
    /// Class order of the model's probabilities: always `["BUY", "SELL", "HOLD"]`
    /// ([`Signal::ALL`]); loading checks it.
    pub classes: Vec<String>,
    /// The chosen θ of the labels.
    pub theta: f64,
    /// The policy (`min_conf` rule).
    pub policy: PolicyConfig,
    /// Open time of the last bar used in training.
    pub trained_until_ms: Option<i64>,
}

impl Inference {
    /// Checks a loaded `inference.json` (at `path`): vane's class order and a valid policy.
    pub fn check(&self, path: &Path) -> Result<()> {
        Signal::check_class_order(&self.classes)
            .map_err(|e| PipelineError::Artifact { path: path.into(), message: e.to_string() })?;
        vane_policy::Policy::new(self.policy)?;
        Ok(())
    }

    pub(crate) fn new(
        model_id: &str,
        theta: f64,
        min_conf: f64,
        _cfg: &TrainConfig,
        trained_until_ms: Option<i64>,
    ) -> Self {
        Self {
            format_version: FORMAT_VERSION,
            model_id: model_id.into(),
            classes: Signal::NAMES.iter().map(|s| s.to_string()).collect(),
            theta,
            policy: PolicyConfig { rule: Rule::MinConf { min_conf }, hysteresis: 0.0, cooldown_ms: 0 },
            trained_until_ms,
        }
    }
}

/// Accuracy, macro-F1 and log-loss of one set of predictions.
pub use vane_validation::metrics::ClassScores as Scores;

/// The name of seed 001's model in [`ModelMetrics`] (its raw probabilities).
pub const GBDT: &str = "gbdt";
/// The shipped model as it would have been at the time: window k's GBDT probabilities through
/// the calibrator chosen on windows 0..k's out-of-sample rows only — absent from the windows
/// whose earlier windows hold fewer than [`MIN_CALIBRATION_ROWS`] rows (always the first). The
/// verdict scores this one, on the windows that have it.
pub const GBDT_CALIBRATED: &str = "gbdt_calibrated";
/// A baseline beside [`GBDT_CALIBRATED`]: the class frequencies of the earlier windows'
/// out-of-sample rows (add-one smoothed) — the base rate the shrinkage calibrator pulls
/// towards, alone. Beating it says the model adds something beyond a more recent base rate.
pub const EARLIER_BASE_RATE: &str = "earlier_base_rate";
/// The fewest earlier out-of-sample rows a window's calibrator is chosen on.
pub const MIN_CALIBRATION_ROWS: usize = 60;
/// The multinomial logistic regression baseline on the same features.
pub const LOGISTIC: &str = "logistic";
/// The baseline that always predicts the training majority class.
pub const MAJORITY: &str = "majority";

/// One walk-forward validation window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowMetrics {
    /// Training rows (all symbols, purged).
    pub train_rows: usize,
    /// Validation rows.
    pub test_rows: usize,
    /// First validation bar.
    pub test_first_open_time_ms: i64,
    /// Last validation bar.
    pub test_last_open_time_ms: i64,
    /// Scores by model name ([`GBDT`], [`GBDT_CALIBRATED`], [`LOGISTIC`], [`MAJORITY`]).
    pub scores: BTreeMap<String, Scores>,
    /// Trees the window's GBDT kept (early stopping on its validation slice; 0 in older files).
    #[serde(default)]
    pub trees: usize,
    /// What acting on each model's decisions in this window would have earned, with costs, beside
    /// buy-and-hold (by name: gbdt, logistic, majority, buy_and_hold).
    #[serde(default)]
    pub trading: BTreeMap<String, Trading>,
    /// The `min_conf` the window's decisions used: tuned on the windows before it only (0.5 for
    /// the first).
    #[serde(default)]
    pub min_conf: Option<f64>,
    /// The calibration method the chooser picked on the earlier windows' out-of-sample rows for
    /// this window's [`GBDT_CALIBRATED`] scores (None: too few earlier rows, so not scored).
    #[serde(default)]
    pub calibrator: Option<vane_calibration::MulticlassMethod>,
}

/// A window's decisions backtested per symbol with costs (close to close, BUY +1, SELL −1,
/// HOLD flat), averaged over the symbols.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trading {
    /// Mean total net return over the symbols.
    pub net_return: f64,
    /// Mean annualised Sharpe over the symbols (null when undefined).
    pub sharpe: f64,
    /// Position changes, all symbols.
    pub trades: usize,
    /// Mean share of bars with a position.
    pub exposure: f64,
}

/// Does the model beat the base rate? The plain answer of `metrics.json` and the CLI report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Windows whose calibrated GBDT log-loss ([`GBDT_CALIBRATED`]) is below the majority
    /// baseline's.
    pub windows_beating_base_rate: usize,
    /// Windows in all.
    pub windows: usize,
    /// Pooled out-of-sample log-loss of the calibrated GBDT minus the majority baseline's
    /// (negative: better).
    pub log_loss_diff: f64,
    /// 95 % paired-bootstrap interval of that difference (1,000 resamples of the pooled rows).
    pub log_loss_diff_ci95: [f64; 2],
    /// Brier skill score against the base rate, pooled:
    /// `1 − Brier(gbdt_calibrated)/Brier(majority)`.
    pub brier_skill: f64,
    /// The interval lies below 0: the model's probabilities beat the base rate.
    pub beats_base_rate: bool,
    /// One sentence for people.
    pub text: String,
    /// The pooled log-loss difference against [`EARLIER_BASE_RATE`] instead of the majority
    /// baseline, with its 95 % interval: `[difference, low, high]` (negative: the model adds
    /// something beyond the more recent base rate). None for the raw-GBDT verdict.
    #[serde(default)]
    pub vs_earlier_base_rate: Option<[f64; 3]>,
}

/// `metrics.json`: out-of-sample metrics per window and aggregated, beside the baselines.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelMetrics {
    /// Must equal [`FORMAT_VERSION`].
    pub format_version: u32,
    /// Chosen θ.
    pub theta: f64,
    /// Every θ tried, its HOLD share and mean macro-F1.
    pub theta_search: Vec<vane_labeling::fixed::ThetaCandidate>,
    /// Per validation window.
    pub windows: Vec<WindowMetrics>,
    /// Means over the windows, by model name.
    pub mean: BTreeMap<String, Scores>,
    /// The tuned `min_conf` (0.5 when no candidate met the activity constraints).
    pub min_conf: f64,
    /// The figures behind `min_conf`.
    pub min_conf_choice: Option<Choice>,
    /// Scores of every out-of-sample prediction pooled over the windows, by model name.
    #[serde(default)]
    pub pooled: BTreeMap<String, Scores>,
    /// Whether the model beats the base rate (absent in older files).
    #[serde(default)]
    pub verdict: Option<Verdict>,
    /// The chosen θ is the smallest or largest of its grid (the search may be cut short).
    #[serde(default)]
    pub theta_at_edge: bool,
    /// `quality` mode widened the θ grid once to this range because the best θ was at an edge.
    #[serde(default)]
    pub theta_grid_widened: Option<[f64; 2]>,
    /// Trees of the shipped model: the median of the windows' early-stopped counts.
    #[serde(default)]
    pub trees: usize,
    /// How the calibrator shipped in `calibration.json` was chosen on the out-of-sample rows
    /// (every candidate's held-out log-loss and the reason).
    #[serde(default)]
    pub calibration: Option<vane_calibration::MulticlassChoice>,
    /// The reliability table of the GBDT's pooled out-of-sample probabilities (top label, 10
    /// equal-width confidence bins; empty bins hold nulls): what `reliability.png` draws.
    #[serde(default)]
    pub reliability: Vec<vane_calibration::metrics::ReliabilityBin>,
    /// The same table of the shipped model as it would have been: the [`GBDT_CALIBRATED`]
    /// probabilities of the windows that had a calibrator chosen on the earlier windows alone
    /// (every window but the first, when they have enough rows). Its counts sum to
    /// `ece_noise.rows` and its ECE is `pooled["gbdt_calibrated"].ece`; `reliability.png` draws
    /// it beside the raw curve. Empty when no window had a calibrator (and in older files).
    #[serde(default)]
    pub reliability_calibrated: Vec<vane_calibration::metrics::ReliabilityBin>,
    /// The pooled top-label ECE of the verdict's rows (the calibrated GBDT's, else the raw
    /// GBDT's) beside what sampling noise alone gives a perfectly calibrated forecaster with the
    /// same probabilities (absent in older files).
    #[serde(default)]
    pub ece_noise: Option<vane_calibration::metrics::EceNoise>,
}

impl ModelMetrics {
    pub(crate) fn new(
        theta: f64,
        theta_search: Vec<vane_labeling::fixed::ThetaCandidate>,
        windows: Vec<WindowMetrics>,
        choice: Option<Choice>,
    ) -> Self {
        // Every model any window scores, each averaged over the windows that score it.
        let names: std::collections::BTreeSet<String> = windows.iter().flat_map(|w| w.scores.keys().cloned()).collect();
        let mean = names
            .into_iter()
            .map(|name| {
                let s: Vec<Scores> = windows.iter().filter_map(|w| w.scores.get(&name).copied()).collect();
                (name, Scores::mean(&s))
            })
            .collect();
        Self {
            format_version: FORMAT_VERSION,
            theta,
            theta_search,
            windows,
            mean,
            min_conf: choice.map_or(0.5, |c| c.long),
            min_conf_choice: choice,
            pooled: BTreeMap::new(),
            verdict: None,
            theta_at_edge: false,
            theta_grid_widened: None,
            trees: 0,
            calibration: None,
            reliability: Vec::new(),
            reliability_calibrated: Vec::new(),
            ece_noise: None,
        }
    }

    /// The mean scores of model `name`, when it was evaluated.
    pub fn mean_of(&self, name: &str) -> Option<&Scores> {
        self.mean.get(name)
    }
}

/// `config.json`: the full training configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedConfig {
    /// Must equal [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The configuration.
    pub config: TrainConfig,
}

/// Writes a model folder atomically ([`StagedDir`]: readers see the old model or the new one)
/// and returns its final path.
// Each argument is one file of the folder; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn write_model_dir(
    artifacts: &Path,
    model_id: &ModelId,
    model: &Gbdt,
    cfg: &TrainConfig,
    schema: &FeatureSchema,
    inference: &Inference,
    metrics: &ModelMetrics,
    extras: &ModelExtras,
) -> Result<PathBuf> {
    let stage = StagedDir::new(&artifacts.join("models").join(model_id.as_str()))?;
    stage.write("model.json", model.to_json().as_bytes())?;
    stage.write_json("config.json", &SavedConfig { format_version: FORMAT_VERSION, config: cfg.clone() })?;
    stage.write_json("feature_schema.json", schema)?;
    stage.write_json("inference.json", inference)?;
    stage.write_json("metrics.json", metrics)?;
    if let Some(c) = &extras.calibration {
        stage.write_json("calibration.json", c)?;
    }
    if !extras.reliability.is_empty() {
        let calibrated = metrics.windows.iter().map(|w| w.scores.contains_key(GBDT_CALIBRATED)).collect::<Vec<_>>();
        let (series, title) =
            reliability_series(model_id.as_str(), &extras.reliability, &extras.reliability_calibrated, &calibrated);
        let series: Vec<vane_report::reliability::ReliabilitySeries<'_>> = series
            .iter()
            .map(|(label, points)| vane_report::reliability::ReliabilitySeries { label, points })
            .collect();
        vane_report::reliability::reliability_png_series(&stage.path().join("reliability.png"), &series, &title)?;
        vane_report::reliability::reliability_svg_series(&stage.path().join("reliability.svg"), &series, &title)?;
    }
    Ok(stage.commit()?)
}

/// What a model folder holds besides the model: the calibrator and the reliability diagram.
#[derive(Clone, Debug, Default)]
pub struct ModelExtras {
    /// `calibration.json`: the multiclass calibrator `Predict` applies.
    pub calibration: Option<vane_calibration::CalibrationFile>,
    /// The pooled out-of-sample reliability bins drawn as `reliability.png` / `.svg`.
    pub reliability: Vec<vane_report::ReliabilityPoint>,
    /// The shipped (calibrated) model's bins on the windows that had a calibrator, drawn beside
    /// `reliability` (empty: none had, and the diagram shows the raw curve alone).
    pub reliability_calibrated: Vec<vane_report::ReliabilityPoint>,
}

/// Which windows (1-based) a series covers, for a legend: `windows 2..5` when they are
/// consecutive, `window 3` for one, else `4 of 6 windows`.
pub(crate) fn windows_label(covered: &[bool]) -> String {
    let idx: Vec<usize> = covered.iter().enumerate().filter(|(_, c)| **c).map(|(i, _)| i + 1).collect();
    match idx.as_slice() {
        [] => "no window".to_string(),
        [one] => format!("window {one}"),
        [first, .., last] if last - first + 1 == idx.len() => format!("windows {first}..{last}"),
        _ => format!("{} of {} windows", idx.len(), covered.len()),
    }
}

/// The reliability diagram's series and title: the raw curve of every window's out-of-sample
/// rows, and beside it, when there are calibrated rows, the shipped model's curve (calibrated as
/// it would have been: by the calibrator chosen on the earlier windows alone) on the windows
/// `calibrated` marks. `name` starts the title (a model id or kind).
pub(crate) fn reliability_series(
    name: &str,
    raw: &[vane_report::ReliabilityPoint],
    calibrated_points: &[vane_report::ReliabilityPoint],
    calibrated: &[bool],
) -> (Vec<(String, Vec<vane_report::ReliabilityPoint>)>, String) {
    let all = vec![true; calibrated.len()];
    let raw_label = format!("raw ({})", windows_label(&all));
    if calibrated_points.is_empty() {
        return (vec![(raw_label, raw.to_vec())], format!("{name}: out-of-sample reliability (uncalibrated)"));
    }
    (
        vec![
            (raw_label, raw.to_vec()),
            (format!("shipped (calibrated, {})", windows_label(calibrated)), calibrated_points.to_vec()),
        ],
        format!("{name}: out-of-sample reliability, raw and shipped"),
    )
}

/// Reads a JSON artifact, checking its `format_version`.
pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    Ok(vane_artifact::read_json(path, FORMAT_VERSION)?)
}
