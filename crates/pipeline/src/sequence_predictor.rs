//! [`SequencePredictor`]: a trained HRM, CNN-LSTM or TFT artifact folder turned into forecasts —
//! the same feature set, window length and training-row normaliser as in training, then the
//! network on the last `seq_len` bars. Classification gives BUY/SELL/HOLD probabilities and the
//! signal of the saved decision rule; a binary classifier (dead-zone `down`/`up`, ladder
//! `loss`/`profit`) gives `p_up` = P(class 1) and the signal of its P(up) thresholds
//! ([`Decision::decide_binary`]), with no `probs` (no HOLD probability is invented); regression gives the expected return, and a signal only
//! when the artifact's `inference.json` has a `return_threshold`. A classification folder with a
//! `calibration.json` (fitted on the walk-forward out-of-sample predictions) has its calibrator
//! applied to every forecast (a binary model: one binary Platt / isotonic calibrator on P(up)), so
//! `probs` (`p_up`) and `confidence` are calibrated; a folder without one
//! (written before calibration shipped, or trained with `walk_forward = 0`) gives the raw softmax.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use vane_artifact::{Forecast, Predict, PredictStream};
use vane_calibration::{Calibrator, MulticlassCalibrator};
use vane_core::{Bar, Bars, ClassProbs, Signal, Symbol, Timestamp};
use vane_indicators::{FeatureSet, FeatureStream};
use vane_models::artifact::LoadedModel;
use vane_models::data::{FeatureMatrix, Sample, Target, WindowedDataset};
use vane_models::train::{loss_settings, predict};
use vane_models::{DeviceKind, Task};
use vane_policy::{Input, Policy, PolicyConfig, Rule};

use crate::error::{PipelineError, Result};

/// Version of a sequence artifact's `inference.json`.
pub const INFERENCE_VERSION: u32 = 1;

/// The `[decision]` table of a sequence job: how the network's output becomes a signal.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Decision {
    /// Classification: HOLD when the largest class probability is below this (0: the most
    /// probable class).
    pub min_conf: f64,
    /// Regression: BUY when the predicted return is above `+return_threshold`, SELL below
    /// `−return_threshold`, else HOLD. Unset: regression forecasts carry no signal.
    pub return_threshold: Option<f64>,
    /// Binary classification: BUY when P(up) (P(class 1)) is above this. Unset: 0.5.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_up_long: Option<f64>,
    /// Binary classification: SELL when P(up) is below this (0: never SELL — e.g. a long-only
    /// ladder profit/loss model); between the two thresholds HOLD. Unset: 0.5. A symmetric
    /// margin m is `p_up_long = 0.5 + m`, `p_up_short = 0.5 − m`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_up_short: Option<f64>,
}

impl Default for Decision {
    fn default() -> Self {
        Self { min_conf: 0.0, return_threshold: None, p_up_long: None, p_up_short: None }
    }
}

impl Decision {
    /// Range checks.
    pub fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.min_conf) {
            return Err(PipelineError::Config(format!("decision.min_conf must be in [0, 1], got {}", self.min_conf)));
        }
        if let Some(t) = self.return_threshold
            && !(t.is_finite() && t >= 0.0)
        {
            return Err(PipelineError::Config(format!("decision.return_threshold must be ≥ 0, got {t}")));
        }
        let (long, short) = self.binary_thresholds();
        for (name, v) in [("p_up_long", long), ("p_up_short", short)] {
            if !(0.0..=1.0).contains(&v) {
                return Err(PipelineError::Config(format!("decision.{name} must be in [0, 1], got {v}")));
            }
        }
        if short > long {
            return Err(PipelineError::Config(format!(
                "decision.p_up_short ({short}) must be ≤ decision.p_up_long ({long})"
            )));
        }
        Ok(())
    }

    /// The binary thresholds on P(up): `(p_up_long, p_up_short)`, 0.5 where unset.
    pub fn binary_thresholds(&self) -> (f64, f64) {
        (self.p_up_long.unwrap_or(0.5), self.p_up_short.unwrap_or(0.5))
    }

    /// A binary model's signal: BUY when `p_up > p_up_long`, SELL when `p_up < p_up_short`, else
    /// HOLD (with the defaults 0.5 / 0.5: BUY above one half, SELL below, HOLD at exactly 0.5).
    pub fn decide_binary(&self, p_up: f64) -> Signal {
        let (long, short) = self.binary_thresholds();
        if p_up > long {
            Signal::Buy
        } else if p_up < short {
            Signal::Sell
        } else {
            Signal::Hold
        }
    }
}

/// The class lists a binary sequence model may carry (class 1 is the one `p_up` is the
/// probability of).
pub const BINARY_CLASS_LISTS: [[&str; 2]; 2] = [["down", "up"], ["loss", "profit"]];

/// Whether `classes` is one of [`BINARY_CLASS_LISTS`].
pub fn is_binary_classes<S: AsRef<str>>(classes: &[S]) -> bool {
    BINARY_CLASS_LISTS.iter().any(|l| classes.len() == 2 && classes.iter().zip(l).all(|(a, b)| a.as_ref() == *b))
}

/// Checks a saved class list: BUY/SELL/HOLD (3 classes) or a binary list.
fn check_classes(classes: &[String]) -> std::result::Result<(), String> {
    if is_binary_classes(classes) {
        return Ok(());
    }
    Signal::check_class_order(classes).map_err(|e| format!("{e} (nor a binary list {BINARY_CLASS_LISTS:?})"))
}

/// A sequence artifact's `inference.json`: what the model outputs and its decision rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SequenceInference {
    /// Must equal [`INFERENCE_VERSION`].
    pub format_version: u32,
    /// The artifact folder name.
    pub model_id: String,
    /// `hrm`, `cnn-lstm` or `tft`.
    pub model_kind: String,
    /// Classification or regression.
    pub task: Task,
    /// The bar interval the model was trained on.
    pub interval: vane_core::Interval,
    /// Class order of the probabilities (`["BUY", "SELL", "HOLD"]`, or a binary model's
    /// `["down", "up"]` / `["loss", "profit"]`), checked on load.
    pub classes: Vec<String>,
    /// The decision rule.
    pub decision: Decision,
    /// Open time of the last bar the shipped model was trained (or validated) on: the end bar of
    /// its last labelled window (absent in folders written before it was recorded; the predictor
    /// then falls back to [`recorded_trained_until_ms`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trained_until_ms: Option<i64>,
}

/// A loaded sequence model with its inputs and decision rule.
#[derive(Debug)]
pub struct SequencePredictor {
    dir: PathBuf,
    loaded: LoadedModel,
    set: FeatureSet,
    inference: SequenceInference,
    device: burn::tensor::Device,
    calibrator: Option<MulticlassCalibrator>,
    binary_calibrator: Option<Calibrator>,
    trained_until_ms: Option<i64>,
}

/// The open time of the last bar a training (or validation) window of the model in `dir` ended
/// on, as its `metrics.json` records it: the latest `test_last_open_time_ms` of its walk-forward
/// windows (`walk_forward` or `walk_forward_regression`). The last walk-forward block reaches the
/// last labelled bar, which is also the shipped model's last validation window, so this is the
/// last bar the shipped model was trained (early-stopped) on. `None` when the folder was trained
/// without a walk-forward (`data.walk_forward = 0`) or its `metrics.json` cannot be read.
pub fn recorded_trained_until_ms(dir: &Path) -> Option<i64> {
    let text = std::fs::read_to_string(dir.join("metrics.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    ["walk_forward", "walk_forward_regression"]
        .iter()
        .filter_map(|k| v.get(*k)?.get("windows")?.as_array())
        .flatten()
        .filter_map(|w| w.get("test_last_open_time_ms")?.as_i64())
        .max()
}

/// Why a model's probabilities are the same for every bar, when they are: its multiclass
/// calibrator is shrinkage to the base rate with λ = 1 (within [`vane_calibration::FULL_SHRINK_EPS`]), so whatever the network or
/// the trees say, the answer is the base rate of the calibration rows.
pub fn constant_reason(calibrator: Option<&MulticlassCalibrator>) -> Option<String> {
    match calibrator? {
        MulticlassCalibrator::Shrink(s) if s.lambda >= 1.0 - vane_calibration::FULL_SHRINK_EPS => {
            let rate =
                Signal::ALL.iter().zip(&s.prior).map(|(c, p)| format!("{c} {p:.3}")).collect::<Vec<_>>().join(", ");
            Some(format!(
                "calibration shrank it to the base rate (λ = {:.2}): its probabilities are the base rate for every bar ({rate}), so its signal never changes; retrain it on more data or other features",
                s.lambda
            ))
        }
        _ => None,
    }
}

/// Reads `<dir>/calibration.json` of a binary model when it exists: its one binary calibrator
/// (applied to P(up)); a file holding anything else is an error naming the file.
fn load_binary_calibrator(dir: &Path) -> Result<Option<Calibrator>> {
    let path = dir.join("calibration.json");
    if !path.is_file() {
        return Ok(None);
    }
    let file = vane_calibration::CalibrationFile::load(&path)?;
    match (file.multiclass.is_some(), file.calibrators.as_slice()) {
        (false, [c]) => Ok(Some(c.clone())),
        _ => Err(PipelineError::Artifact {
            path,
            message: format!(
                "a binary model needs one binary calibrator, the file holds {} binary and {} multiclass: retrain",
                file.calibrators.len(),
                usize::from(file.multiclass.is_some())
            ),
        }),
    }
}

/// Reads `<dir>/calibration.json` when it exists: its multiclass calibrator for 3 classes (a
/// file without one, or for another class count, is an error naming the file).
fn load_calibrator(dir: &Path) -> Result<Option<MulticlassCalibrator>> {
    let path = dir.join("calibration.json");
    if !path.is_file() {
        return Ok(None);
    }
    let file = vane_calibration::CalibrationFile::load(&path)?;
    let c = file.multiclass.map(|m| m.calibrator).ok_or_else(|| PipelineError::Artifact {
        path: path.clone(),
        message: "holds no multiclass calibrator (a binary calibration file?): retrain".into(),
    })?;
    if c.n_classes().is_some_and(|k| k != Signal::ALL.len()) {
        return Err(PipelineError::Artifact {
            path,
            message: format!(
                "a calibrator for {:?} classes, the model has {}: retrain",
                c.n_classes(),
                Signal::ALL.len()
            ),
        });
    }
    Ok(Some(c))
}

impl SequencePredictor {
    /// Loads `dir` onto the given backend.
    pub fn load_on(dir: &Path, device: DeviceKind) -> Result<Self> {
        let dir = crate::predictor::open_model_dir(dir)?;
        let device = device.device()?;
        let inference_path = dir.join("inference.json");
        let inference: SequenceInference = vane_artifact::read_json(&inference_path, INFERENCE_VERSION)?;
        let bad = |m: String| PipelineError::Artifact { path: inference_path.clone(), message: m };
        check_classes(&inference.classes).map_err(bad)?;
        inference.decision.validate().map_err(|e| bad(e.to_string()))?;
        let loaded = vane_models::artifact::load(&dir, &device)?;
        check_classes(&loaded.schema.classes)
            .map_err(|message| PipelineError::Artifact { path: dir.join("feature_schema.json"), message })?;
        if inference.task == Task::Classification && loaded.schema.classes != inference.classes {
            return Err(bad(format!(
                "classes {:?}, but feature_schema.json has {:?}: retrain",
                inference.classes, loaded.schema.classes
            )));
        }
        let schema_path = dir.join("feature_schema.json");
        let set: FeatureSet = loaded.schema.feature_set.parse().map_err(|e: vane_indicators::IndicatorError| {
            PipelineError::Artifact { path: schema_path.clone(), message: e.to_string() }
        })?;
        if set.columns() != loaded.schema.columns {
            let theirs = &loaded.schema.columns;
            let ours = set.columns();
            let diff = theirs.iter().zip(&ours).position(|(a, b)| a != b).map_or_else(
                || format!("{} columns saved, {} computed by this build", theirs.len(), ours.len()),
                |i| format!("column {i} is {:?} in the artifact but {:?} in this build", theirs[i], ours[i]),
            );
            return Err(PipelineError::Artifact {
                path: schema_path,
                message: format!("feature set {}: {diff}: retrain", loaded.schema.feature_set),
            });
        }
        if loaded.train.task != inference.task {
            return Err(bad(format!(
                "task {:?} but the model was trained for {:?}",
                inference.task, loaded.train.task
            )));
        }
        let binary = is_binary_classes(&inference.classes);
        let (calibrator, binary_calibrator) = match inference.task {
            Task::Classification if binary => (None, load_binary_calibrator(&dir)?),
            Task::Classification => (load_calibrator(&dir)?, None),
            Task::Regression => (None, None),
        };
        let trained_until_ms = inference.trained_until_ms.or_else(|| recorded_trained_until_ms(&dir));
        Ok(Self { dir, loaded, set, inference, device, calibrator, binary_calibrator, trained_until_ms })
    }

    /// The open time of the last bar the model was trained on, as its folder records it
    /// (`inference.json`'s `trained_until_ms`, else [`recorded_trained_until_ms`]; `None` for an
    /// older folder trained without a walk-forward).
    pub fn trained_until_ms(&self) -> Option<i64> {
        self.trained_until_ms
    }

    /// The calibrator from `calibration.json` applied to every classification forecast (`None`:
    /// the folder has none and probabilities are the raw softmax).
    pub fn calibrator(&self) -> Option<&MulticlassCalibrator> {
        self.calibrator.as_ref()
    }

    /// A binary model's calibrator from `calibration.json`, applied to P(up) (`None`: none
    /// shipped, or not a binary model).
    pub fn binary_calibrator(&self) -> Option<&Calibrator> {
        self.binary_calibrator.as_ref()
    }

    /// Whether this is a binary classifier (forecasts carry `p_up`, not `probs`).
    pub fn is_binary(&self) -> bool {
        self.inference.task == Task::Classification && is_binary_classes(&self.inference.classes)
    }

    /// Its `inference.json` (task, interval, decision rule).
    pub fn inference(&self) -> &SequenceInference {
        &self.inference
    }

    /// The feature set the model reads.
    pub fn feature_set(&self) -> FeatureSet {
        self.set
    }

    /// The folder it was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bars of history a forecast needs at least (the window; the features need their warm-up
    /// before it).
    pub fn seq_len(&self) -> usize {
        self.loaded.schema.seq_len
    }

    /// The bar interval the model was trained on.
    pub fn interval(&self) -> vane_core::Interval {
        self.inference.interval
    }

    /// Classification or regression.
    pub fn task(&self) -> Task {
        self.inference.task
    }

    /// The symbol id the network was trained with (the TFT embeds it; the others ignore it).
    fn symbol_id(&self, symbol: &Symbol) -> Result<u32> {
        match self.loaded.schema.symbols.iter().position(|s| s == symbol.as_str()) {
            Some(i) => Ok(i as u32),
            None if matches!(self.loaded.model, vane_models::SequenceModel::Tft(_)) => {
                Err(PipelineError::Data(format!(
                    "{symbol}: this TFT embeds its symbols and was trained on {} only",
                    self.loaded.schema.symbols.join(", ")
                )))
            }
            None => Ok(0),
        }
    }

    /// The forecast from the last `seq_len` feature rows (raw, un-normalised), ending at `as_of`.
    fn infer(&self, symbol: &Symbol, rows: &[f32], as_of: Timestamp) -> Result<Forecast> {
        let schema = &self.loaded.schema;
        let mut matrix = FeatureMatrix::new(schema.columns.clone())?;
        let range = matrix.push_segment(self.symbol_id(symbol)?, rows)?;
        schema.normaliser.apply(&mut matrix)?;
        let task = self.inference.task;
        let k = if self.is_binary() { 2 } else { Signal::ALL.len() };
        let n_classes = (task == Task::Classification).then_some(k);
        let sample = Sample { end: range.end - 1, target: Target { class: 0, value: 0.0, weight: 1.0 } };
        let ds = WindowedDataset::new(&matrix, schema.seq_len, vec![sample], n_classes)?;
        let settings = loss_settings(&self.loaded.train, vec![1.0; k]);
        let out = predict(&self.loaded.model, &self.loaded.config, &ds, task, &settings, 1, &self.device);
        let kind = self.loaded.config.kind().to_string();
        let id = self.model_id();
        let d = self.inference.decision;
        match task {
            Task::Classification if self.is_binary() => {
                let p: Vec<f64> =
                    out.probs.first().map(|p| p.iter().map(|&v| f64::from(v)).collect()).unwrap_or_default();
                let raw = renormalised(&p).get(1).copied().unwrap_or(f64::NAN);
                let p_up = self.binary_calibrator.as_ref().map_or(raw, |c| c.apply(raw));
                if !(0.0..=1.0).contains(&p_up) {
                    return Err(PipelineError::Data(format!(
                        "{symbol}: the model's P(up) {p_up} is not a probability"
                    )));
                }
                Ok(Forecast::binary(symbol, &kind, id, as_of, d.decide_binary(p_up), p_up))
            }
            Task::Classification => {
                let p: Vec<f64> =
                    out.probs.first().map(|p| p.iter().map(|&v| f64::from(v)).collect()).unwrap_or_default();
                let probs = match &self.calibrator {
                    Some(c) => ClassProbs::try_from_slice(&c.apply(&renormalised(&p)))?,
                    None => class_probs(&p)?,
                };
                let policy =
                    PolicyConfig { rule: Rule::MinConf { min_conf: d.min_conf }, hysteresis: 0.0, cooldown_ms: 0 };
                let signal = Policy::new(policy)?.decide(as_of, &Input::Classes(probs))?;
                Ok(Forecast::classified(symbol, &kind, id, as_of, signal, probs))
            }
            Task::Regression => {
                let v = out.values.first().map(|v| self.point_forecast(v)).unwrap_or(f64::NAN);
                if !v.is_finite() {
                    return Err(PipelineError::Data(format!("{symbol}: the model's output {v} is not finite")));
                }
                let signal = d.return_threshold.map(|t| vane_labeling::fixed::classify(v, t, -t));
                Ok(Forecast {
                    symbol: symbol.clone(),
                    model_kind: kind,
                    model_id_used: id.to_string(),
                    as_of,
                    signal,
                    confidence: None,
                    probs: None,
                    expected_return: Some(v),
                    p_up: None,
                })
            }
        }
    }

    /// The regression output: the value, or the TFT's median quantile (the one nearest 0.5).
    fn point_forecast(&self, v: &[f32]) -> f64 {
        let i = match self.loaded.config.quantiles() {
            Some(q) => {
                q.iter().enumerate().min_by(|a, b| (a.1 - 0.5).abs().total_cmp(&(b.1 - 0.5).abs())).map_or(0, |m| m.0)
            }
            None => 0,
        };
        v.get(i).map_or(f64::NAN, |&x| f64::from(x))
    }

    fn window(&self, rows: impl Iterator<Item = Vec<f64>>) -> Option<Vec<f32>> {
        let mut out = Vec::with_capacity(self.seq_len() * self.loaded.schema.columns.len());
        for r in rows {
            if r.iter().any(|v| !v.is_finite()) {
                return None;
            }
            out.extend(r.into_iter().map(|v| v as f32));
        }
        Some(out)
    }
}

/// A network's f32 softmax renormalised in f64 (what the walk-forward calibrator was fitted on).
fn renormalised(p: &[f64]) -> Vec<f64> {
    let sum: f64 = p.iter().sum();
    p.iter().map(|v| v / sum).collect()
}

/// Probabilities from a network (f32 softmax, renormalised in f64) validated as [`ClassProbs`].
fn class_probs(p: &[f64]) -> Result<ClassProbs> {
    Ok(ClassProbs::try_from_slice(&renormalised(p))?)
}

impl Predict for SequencePredictor {
    type Error = PipelineError;

    fn load(dir: &Path) -> Result<Self> {
        Self::load_on(dir, DeviceKind::Cpu)
    }

    fn model_kind(&self) -> &str {
        self.loaded.config.kind().as_str()
    }

    fn model_id(&self) -> &str {
        &self.inference.model_id
    }

    fn predict(&self, symbol: &Symbol, bars: &Bars) -> Result<Forecast> {
        let frame = self.set.compute(bars);
        let n = bars.len();
        let seq = self.seq_len();
        let not_enough = || {
            PipelineError::Data(format!(
                "{symbol}: {n} bars are not enough for a window of {seq} bars of {} features (they need a longer warm-up)",
                self.set
            ))
        };
        if n < seq {
            return Err(not_enough());
        }
        let rows = self.window((n - seq..n).map(|t| frame.row(t))).ok_or_else(not_enough)?;
        let as_of = bars.last_open_time().ok_or_else(not_enough)?;
        self.infer(symbol, &rows, as_of)
    }

    fn stream(&self, symbol: &Symbol) -> Result<Box<dyn PredictStream<Error = PipelineError> + '_>> {
        self.symbol_id(symbol)?;
        let features = self.set.stream();
        let row = vec![f64::NAN; features.names().len()];
        Ok(Box::new(SequenceStream {
            predictor: self,
            symbol: symbol.clone(),
            features,
            row,
            window: VecDeque::with_capacity(self.seq_len() + 1),
        }))
    }
}

/// Streaming forecasts of a [`SequencePredictor`] for one symbol.
struct SequenceStream<'a> {
    predictor: &'a SequencePredictor,
    symbol: Symbol,
    features: Box<dyn FeatureStream>,
    row: Vec<f64>,
    window: VecDeque<Vec<f64>>,
}

impl PredictStream for SequenceStream<'_> {
    type Error = PipelineError;

    fn on_bar(&mut self, bar: &Bar) -> Result<Option<Forecast>> {
        self.features.update(bar, &mut self.row);
        if self.window.len() == self.predictor.seq_len() {
            self.window.pop_front();
        }
        self.window.push_back(self.row.clone());
        if self.window.len() < self.predictor.seq_len() {
            return Ok(None);
        }
        match self.predictor.window(self.window.iter().cloned()) {
            Some(rows) => self.predictor.infer(&self.symbol, &rows, bar.open_time).map(Some),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shrink(lambda: f64) -> MulticlassCalibrator {
        MulticlassCalibrator::Shrink(vane_calibration::Shrinkage { lambda, prior: vec![0.5, 0.3, 0.2] })
    }

    #[test]
    fn only_a_full_shrink_to_the_base_rate_is_constant() {
        assert!(constant_reason(None).is_none());
        assert!(constant_reason(Some(&MulticlassCalibrator::Identity)).is_none());
        assert!(constant_reason(Some(&MulticlassCalibrator::Temperature { t: 1e9 })).is_none());
        assert!(constant_reason(Some(&shrink(0.999))).is_none());
        assert!(constant_reason(Some(&shrink(1.0 - 2e-6))).is_none());
        let r = constant_reason(Some(&shrink(1.0 - 5e-7))).unwrap();
        assert!(r.starts_with("calibration shrank it to the base rate (λ = 1.00)"), "{r}");
        assert!(r.contains("(BUY 0.500, SELL 0.300, HOLD 0.200)"), "{r}");
        assert_eq!(constant_reason(Some(&shrink(1.0))), Some(r));
    }
}
