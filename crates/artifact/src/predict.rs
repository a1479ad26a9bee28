//! [`Predict`]: the one interface of every trained model kind — seed 001's GBDT, the sequence
//! models (HRM, CNN-LSTM, TFT) and the stack — loaded from an artifact folder, predicting on
//! closed [`Bars`] or streaming bar by bar with [`PredictStream::on_bar`].

use std::path::Path;

use serde::{Deserialize, Serialize};
use vane_core::{Bar, Bars, ClassProbs, Prediction, Signal, Symbol, Timestamp};

/// What a model says about a symbol at one bar. A classifier fills `probs`, `signal` and
/// `confidence`; a binary classifier fills `p_up`, `signal` and `confidence` (no `probs`); a
/// regressor fills `expected_return` (and `signal` only when its artifact has a decision rule).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// The instrument.
    pub symbol: Symbol,
    /// The model kind (`gbdt`, `hrm`, `cnn-lstm`, `tft`, …).
    pub model_kind: String,
    /// Which model folder answered (`BTCUSDT`, `global`, `BTCUSDT-ETHUSDT_4h_hrm`).
    pub model_id_used: String,
    /// Open time of the last closed bar the forecast used.
    pub as_of: Timestamp,
    /// The decision after the model's policy, when it has one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signal: Option<Signal>,
    /// The probability behind the decision.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub confidence: Option<f64>,
    /// Class probabilities (classifiers).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub probs: Option<ClassProbs>,
    /// The predicted forward return (regressors).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expected_return: Option<f64>,
    /// Binary classifiers (two classes, e.g. dead-zone `down`/`up` or ladder `loss`/`profit`):
    /// the probability of class 1 (up / profit), calibrated when the model ships a binary
    /// calibrator. `probs` stays `None` for them (no HOLD probability is invented).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub p_up: Option<f64>,
}

impl Forecast {
    /// A classifier's forecast: the signal from the policy, its confidence and the probabilities.
    pub fn classified(
        symbol: &Symbol,
        model_kind: &str,
        model_id: &str,
        as_of: Timestamp,
        signal: Signal,
        probs: ClassProbs,
    ) -> Self {
        Self {
            symbol: symbol.clone(),
            model_kind: model_kind.into(),
            model_id_used: model_id.into(),
            as_of,
            signal: Some(signal),
            confidence: Some(probs.confidence(signal)),
            probs: Some(probs),
            expected_return: None,
            p_up: None,
        }
    }

    /// A binary classifier's forecast: the signal of its decision rule on `p_up` (the
    /// probability of class 1) and its confidence — `p_up` for BUY, `1 − p_up` for SELL, the
    /// larger of the two for HOLD.
    pub fn binary(
        symbol: &Symbol,
        model_kind: &str,
        model_id: &str,
        as_of: Timestamp,
        signal: Signal,
        p_up: f64,
    ) -> Self {
        let confidence = match signal {
            Signal::Buy => p_up,
            Signal::Sell => 1.0 - p_up,
            Signal::Hold => p_up.max(1.0 - p_up),
        };
        Self {
            symbol: symbol.clone(),
            model_kind: model_kind.into(),
            model_id_used: model_id.into(),
            as_of,
            signal: Some(signal),
            confidence: Some(confidence),
            probs: None,
            expected_return: None,
            p_up: Some(p_up),
        }
    }

    /// The served `Prediction` shape (`{symbol, signal, confidence, probs, as_of, model_id_used}`),
    /// when this is a classifier's forecast.
    pub fn to_prediction(&self) -> Option<Prediction> {
        Some(Prediction {
            symbol: self.symbol.clone(),
            signal: self.signal?,
            confidence: self.confidence?,
            probs: self.probs?,
            as_of: self.as_of,
            model_id_used: self.model_id_used.clone(),
        })
    }
}

/// A trained model that turns closed bars into forecasts.
pub trait Predict {
    /// The error of loading and predicting.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Loads a model from its artifact folder (`artifacts/models/<MODEL_ID>`).
    fn load(dir: &Path) -> Result<Self, Self::Error>
    where
        Self: Sized;

    /// The model kind (`gbdt`, `hrm`, `cnn-lstm`, `tft`, `stack`).
    fn model_kind(&self) -> &str;

    /// The artifact folder name it was loaded from.
    fn model_id(&self) -> &str;

    /// The forecast for the last bar of `bars` (closed bars of `symbol`, oldest first), computed
    /// from these bars only.
    fn predict(&self, symbol: &Symbol, bars: &Bars) -> Result<Forecast, Self::Error>;

    /// A streaming predictor for one symbol: the same forecasts as [`predict`](Self::predict) on
    /// the bars fed so far.
    fn stream(&self, symbol: &Symbol) -> Result<Box<dyn PredictStream<Error = Self::Error> + '_>, Self::Error>;
}

/// Streaming forecasts for one symbol.
pub trait PredictStream {
    /// The error of a step.
    type Error;

    /// Feeds the next closed bar; a forecast once the model has warmed up.
    fn on_bar(&mut self, bar: &Bar) -> Result<Option<Forecast>, Self::Error>;
}
