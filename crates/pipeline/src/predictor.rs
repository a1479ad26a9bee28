//! [`Predictor`]: load a trained model folder and turn bars into decisions — the way a trading
//! bot embeds vane.

use std::path::{Path, PathBuf};

use vane_core::{Bar, Bars, ClassProbs, Prediction, Signal, Symbol};
use vane_indicators::{FeatureSet, FeatureStream};
use vane_policy::{Input, Policy};
use vane_tabular::{Dataset, Gbdt};

use vane_artifact::{Forecast, ModelId, Predict, PredictStream};

use crate::artifacts::{FeatureSchema, GBDT, Inference, read_json};
use crate::error::{PipelineError, Result};

/// A loaded seed 001 model with its feature schema and decision policy.
#[derive(Debug, Clone)]
pub struct Predictor {
    dir: PathBuf,
    model: Gbdt,
    schema: FeatureSchema,
    inference: Inference,
    /// `calibration.json`'s multiclass calibrator, applied to every prediction (absent in
    /// folders trained before calibration shipped: their probabilities are the raw ones).
    calibrator: Option<vane_calibration::MulticlassCalibrator>,
}

impl Predictor {
    /// Loads `dir` (`artifacts/models/<MODEL_ID>`), checking every file's `format_version` and
    /// that its feature schema is the one this build computes.
    pub fn load(dir: &Path) -> Result<Self> {
        let dir = &open_model_dir(dir)?;
        if !dir.join("model.json").is_file() {
            return Err(incomplete(dir, "model.json"));
        }
        let model = Gbdt::load(&dir.join("model.json"))?;
        let schema: FeatureSchema = read_json(&dir.join("feature_schema.json"))?;
        let inference: Inference = read_json(&dir.join("inference.json"))?;
        inference.check(&dir.join("inference.json"))?;
        let set: FeatureSet = schema.feature_set.parse().map_err(|e: vane_indicators::IndicatorError| {
            PipelineError::Artifact { path: dir.join("feature_schema.json"), message: e.to_string() }
        })?;
        let built = set.columns();
        if set.version() != schema.feature_set_version || built != schema.columns {
            // Say what differs: the version, or the first column that is not the same.
            let what = if set.version() != schema.feature_set_version {
                format!("the model has version {}, this build {}", schema.feature_set_version, set.version())
            } else {
                match schema.columns.iter().zip(&built).position(|(a, b)| a != b) {
                    Some(i) => format!(
                        "column {} is {:?} in the model, {:?} in this build",
                        i + 1,
                        schema.columns[i],
                        built[i]
                    ),
                    None => format!("the model has {} columns, this build {}", schema.columns.len(), built.len()),
                }
            };
            return Err(PipelineError::Artifact {
                path: dir.join("feature_schema.json"),
                message: format!("feature set {} does not match this build's ({what}): retrain", schema.feature_set),
            });
        }
        let cal = dir.join("calibration.json");
        let calibrator = if cal.is_file() {
            let file = vane_calibration::CalibrationFile::load(&cal)?;
            let c = file.multiclass.map(|m| m.calibrator).ok_or_else(|| PipelineError::Artifact {
                path: cal.clone(),
                message: "holds no multiclass calibrator (a binary calibration file?)".into(),
            })?;
            if c.n_classes().is_some_and(|k| k != Signal::ALL.len()) {
                return Err(PipelineError::Artifact {
                    path: cal,
                    message: format!("a calibrator for {:?} classes, the model has 3", c.n_classes()),
                });
            }
            Some(c)
        } else {
            None
        };
        Ok(Self { dir: dir.to_path_buf(), model, schema, inference, calibrator })
    }

    /// The per-symbol model when `artifacts/models/<SYMBOL>` exists, else the global one.
    pub fn for_symbol(artifacts: &Path, symbol: &Symbol) -> Result<Self> {
        Self::load(&model_dir_for(artifacts, symbol)?)
    }

    /// `global` or the symbol.
    pub fn model_id(&self) -> &str {
        &self.inference.model_id
    }

    /// The folder it was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The feature schema.
    pub fn schema(&self) -> &FeatureSchema {
        &self.schema
    }

    /// Its `inference.json` (θ, the `min_conf` policy, the last training bar).
    pub fn inference(&self) -> &Inference {
        &self.inference
    }

    /// The calibrator from `calibration.json` applied to every prediction (`None`: the folder
    /// has none).
    pub fn calibrator(&self) -> Option<&vane_calibration::MulticlassCalibrator> {
        self.calibrator.as_ref()
    }

    fn probs(&self, symbol: &Symbol, row: &[f64]) -> Result<ClassProbs> {
        let d = Dataset {
            numeric_names: self.schema.columns.clone(),
            numeric: row.iter().map(|&v| vec![v]).collect(),
            categorical_names: self.schema.categorical.clone(),
            categorical: vec![vec![symbol.to_string()]],
        };
        let p = &self.model.predict_proba(&d)?[0];
        match &self.calibrator {
            Some(c) => Ok(ClassProbs::try_from_slice(&c.apply(p))?),
            None => Ok(ClassProbs::try_from_slice(p)?),
        }
    }

    /// The decision for the last bar of `bars` (closed bars of `symbol`, oldest first); the
    /// features use these bars only.
    pub fn predict(&self, symbol: &Symbol, bars: &Bars) -> Result<Prediction> {
        let set: FeatureSet = self.schema.feature_set.parse().expect("checked on load");
        let frame = set.compute(bars);
        let last = bars.len().checked_sub(1).ok_or_else(|| PipelineError::Data(format!("no bars for {symbol}")))?;
        let at = bars.last_open_time().expect("non-empty");
        self.predict_row(symbol, &frame.row(last), at, bars.len())
    }

    /// A stream of this model's features, for a caller that keeps it warm and feeds it each new
    /// bar (the service): its row after a bar equals the batch features' row of that bar.
    pub fn feature_stream(&self) -> Box<dyn vane_indicators::FeatureStream> {
        let set: FeatureSet = self.schema.feature_set.parse().expect("checked on load");
        set.stream()
    }

    /// The decision for the feature `row` of `symbol`'s bar opening at `at` — what
    /// [`predict`](Predictor::predict) does with the last row of its frame (`bars_seen`: how many
    /// bars the features saw, for the warm-up error).
    pub fn predict_row(
        &self,
        symbol: &Symbol,
        row: &[f64],
        at: vane_core::Timestamp,
        bars_seen: usize,
    ) -> Result<Prediction> {
        if row.len() != self.schema.columns.len() || row.iter().any(|v| !v.is_finite()) {
            return Err(PipelineError::Data(format!(
                "{symbol}: {bars_seen} bars are not enough for the {} features (they need a longer warm-up)",
                self.schema.feature_set
            )));
        }
        let probs = self.probs(symbol, row)?;
        let mut policy = Policy::new(self.inference.policy)?;
        let signal = policy.decide(at, &Input::Classes(probs))?;
        Ok(self.prediction(symbol, signal, probs, at))
    }

    fn prediction(&self, symbol: &Symbol, signal: Signal, probs: ClassProbs, at: vane_core::Timestamp) -> Prediction {
        Prediction {
            symbol: symbol.clone(),
            signal,
            confidence: probs.confidence(signal),
            probs,
            as_of: at,
            model_id_used: self.inference.model_id.clone(),
        }
    }

    /// A streaming predictor for one symbol: feed closed bars one at a time.
    pub fn stream(&self, symbol: Symbol) -> Result<PredictorStream<'_>> {
        let set: FeatureSet = self.schema.feature_set.parse().expect("checked on load");
        let features = set.stream();
        let row = vec![f64::NAN; features.names().len()];
        Ok(PredictorStream { predictor: self, symbol, features, row, policy: Policy::new(self.inference.policy)? })
    }
}

/// Streaming decisions for one symbol (the same features and policy as [`Predictor::predict`]).
pub struct PredictorStream<'a> {
    predictor: &'a Predictor,
    symbol: Symbol,
    features: Box<dyn FeatureStream>,
    row: Vec<f64>,
    policy: Policy,
}

impl std::fmt::Debug for PredictorStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PredictorStream").field("symbol", &self.symbol).finish()
    }
}

impl PredictorStream<'_> {
    /// Feeds the next closed bar; a decision once the features have warmed up.
    pub fn on_bar(&mut self, bar: &Bar) -> Result<Option<Prediction>> {
        self.features.update(bar, &mut self.row);
        if self.row.iter().any(|v| !v.is_finite()) {
            return Ok(None);
        }
        let probs = self.predictor.probs(&self.symbol, &self.row)?;
        let signal = self.policy.decide(bar.open_time, &Input::Classes(probs))?;
        Ok(Some(self.predictor.prediction(&self.symbol, signal, probs, bar.open_time)))
    }
}

/// `dir` after crash recovery ([`vane_artifact::open_dir`]); an error naming it when there is no
/// such folder.
pub(crate) fn open_model_dir(dir: &Path) -> Result<PathBuf> {
    vane_artifact::open_dir(dir)?.ok_or_else(|| PipelineError::Artifact {
        path: dir.to_path_buf(),
        message: "no such model folder: train one first (vane train)".into(),
    })
}

/// A model folder that has its other files but not the weights `missing`: damaged or copied in
/// part, not "never trained".
/// An empty folder has no model yet: train one first.
pub(crate) fn incomplete(dir: &Path, missing: &str) -> PipelineError {
    let others = ["inference.json", "config.json", "feature_schema.json", "metrics.json"];
    let message = if others.iter().any(|f| dir.join(f).is_file()) {
        format!(
            "the model folder is incomplete: {missing} is missing beside its other files (damaged or copied in part); restore the folder or retrain it (vane train)"
        )
    } else {
        format!("holds no {missing}: train one first (vane train)")
    };
    PipelineError::Artifact { path: dir.to_path_buf(), message }
}

/// `artifacts/models/<SYMBOL>` when it holds a model, else `artifacts/models/global`.
pub fn model_dir_for(artifacts: &Path, symbol: &Symbol) -> Result<PathBuf> {
    let models = artifacts.join("models");
    for id in [ModelId::for_symbol(symbol), ModelId::global()] {
        if let Some(d) = vane_artifact::open_dir(&models.join(id.as_str()))? {
            return Ok(d);
        }
    }
    Err(PipelineError::NoModel { symbol: symbol.to_string(), dir: models })
}

/// A GBDT prediction as the [`Forecast`] every model kind answers with.
pub fn forecast(p: Prediction) -> Forecast {
    Forecast::classified(&p.symbol, GBDT, &p.model_id_used, p.as_of, p.signal, p.probs)
}

impl Predict for Predictor {
    type Error = PipelineError;

    fn load(dir: &Path) -> Result<Self> {
        Predictor::load(dir)
    }

    fn model_kind(&self) -> &str {
        GBDT
    }

    fn model_id(&self) -> &str {
        Predictor::model_id(self)
    }

    fn predict(&self, symbol: &Symbol, bars: &Bars) -> Result<Forecast> {
        Predictor::predict(self, symbol, bars).map(forecast)
    }

    fn stream(&self, symbol: &Symbol) -> Result<Box<dyn PredictStream<Error = PipelineError> + '_>> {
        Ok(Box::new(Predictor::stream(self, symbol.clone())?))
    }
}

impl PredictStream for PredictorStream<'_> {
    type Error = PipelineError;

    fn on_bar(&mut self, bar: &Bar) -> Result<Option<Forecast>> {
        PredictorStream::on_bar(self, bar).map(|p| p.map(forecast))
    }
}

/// What [`AnyPredictor::summary`] reports.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ModelSummary {
    /// The model id (`global`, a symbol, or a sequence model's folder name).
    pub model_id: String,
    /// `gbdt`, `hrm`, `cnn-lstm` or `tft`.
    pub kind: String,
    /// The bar interval it reads.
    pub interval: vane_core::Interval,
    /// The feature set it reads.
    pub feature_set: String,
    /// The decision thresholds it applies (GBDT: θ and the `min_conf` policy; sequence models:
    /// the `[decision]` table).
    pub thresholds: serde_json::Value,
    /// Open time of the last bar it was trained on, when recorded (GBDT: `inference.json`;
    /// sequence models: the last walk-forward window in `metrics.json`, `None` without one).
    pub trained_until_ms: Option<i64>,
    /// Its probabilities (and so its signal) are the same for every symbol and bar: its
    /// calibration shrank it fully to the base rate (`calibration.json`: `shrink` with λ = 1).
    pub constant: bool,
    /// Why it is constant (absent when it is not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constant_reason: Option<String>,
    /// Its folder.
    pub dir: PathBuf,
}

/// Any trained model folder: seed 001's GBDT (`model.json`) or a sequence model (`model.bpk`).
#[derive(Debug)]
pub enum AnyPredictor {
    /// Seed 001's gradient-boosted trees.
    Gbdt(Box<Predictor>),
    /// An HRM, CNN-LSTM or TFT.
    Sequence(Box<crate::SequencePredictor>),
}

impl AnyPredictor {
    /// Loads whichever kind `dir` holds.
    pub fn load(dir: &Path) -> Result<Self> {
        let dir = open_model_dir(dir)?;
        if dir.join("model.bpk").is_file() {
            Ok(Self::Sequence(Box::new(<crate::SequencePredictor as Predict>::load(&dir)?)))
        } else if dir.join("model.json").is_file() {
            Ok(Self::Gbdt(Box::new(Predictor::load(&dir)?)))
        } else {
            Err(incomplete(&dir, "model.json (GBDT) or model.bpk (sequence model)"))
        }
    }

    /// `artifacts/models/<ID>` when an id is given, else the symbol's own model, else `global`.
    pub fn resolve(artifacts: &Path, symbol: &Symbol, model_id: Option<&ModelId>) -> Result<Self> {
        match model_id {
            Some(id) => {
                let dir = artifacts.join("models").join(id.as_str());
                if vane_artifact::open_dir(&dir)?.is_none() {
                    // Sequence folders end in a hash of their config: suggest the ones the id
                    // starts (e.g. a name from before the hash was added).
                    let models = artifacts.join("models");
                    let mut near: Vec<String> = std::fs::read_dir(&models)
                        .into_iter()
                        .flatten()
                        .flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .filter(|n| !n.starts_with('.') && n.starts_with(id.as_str()))
                        .collect();
                    near.sort();
                    let hint =
                        if near.is_empty() { String::new() } else { format!("did you mean {}? ", near.join(", ")) };
                    return Err(PipelineError::UnknownModel { id: id.to_string(), dir: models, hint });
                }
                Self::load(&dir)
            }
            None => Self::load(&model_dir_for(artifacts, symbol)?),
        }
    }

    /// What a service reports about the model: id, kind, interval, feature set, decision
    /// thresholds, the last bar it was trained on and whether its output is constant.
    pub fn summary(&self) -> ModelSummary {
        let constant_reason = crate::sequence_predictor::constant_reason(match self {
            Self::Gbdt(p) => p.calibrator(),
            Self::Sequence(p) => p.calibrator(),
        });
        let constant = constant_reason.is_some();
        match self {
            Self::Gbdt(p) => ModelSummary {
                model_id: p.model_id().to_string(),
                kind: "gbdt".into(),
                interval: p.schema().interval,
                feature_set: p.schema().feature_set.clone(),
                thresholds: serde_json::json!({"theta": p.inference().theta, "policy": p.inference().policy}),
                trained_until_ms: p.inference().trained_until_ms,
                constant,
                constant_reason,
                dir: p.dir().to_path_buf(),
            },
            Self::Sequence(p) => ModelSummary {
                model_id: p.inference().model_id.clone(),
                kind: p.inference().model_kind.clone(),
                interval: p.interval(),
                feature_set: p.feature_set().to_string(),
                thresholds: serde_json::json!({"decision": p.inference().decision}),
                trained_until_ms: p.trained_until_ms(),
                constant,
                constant_reason,
                dir: p.dir().to_path_buf(),
            },
        }
    }

    /// The GBDT predictor, when the folder holds one.
    pub fn gbdt(&self) -> Option<&Predictor> {
        match self {
            Self::Gbdt(p) => Some(p),
            Self::Sequence(_) => None,
        }
    }

    /// The bar interval the model was trained on.
    pub fn interval(&self) -> vane_core::Interval {
        match self {
            Self::Gbdt(p) => p.schema().interval,
            Self::Sequence(p) => p.interval(),
        }
    }

    fn inner(&self) -> &dyn Predict<Error = PipelineError> {
        match self {
            Self::Gbdt(p) => p.as_ref(),
            Self::Sequence(p) => p.as_ref(),
        }
    }
}

impl Predict for AnyPredictor {
    type Error = PipelineError;

    fn load(dir: &Path) -> Result<Self> {
        AnyPredictor::load(dir)
    }

    fn model_kind(&self) -> &str {
        self.inner().model_kind()
    }

    fn model_id(&self) -> &str {
        self.inner().model_id()
    }

    fn predict(&self, symbol: &Symbol, bars: &Bars) -> Result<Forecast> {
        self.inner().predict(symbol, bars)
    }

    fn stream(&self, symbol: &Symbol) -> Result<Box<dyn PredictStream<Error = PipelineError> + '_>> {
        self.inner().stream(symbol)
    }
}
