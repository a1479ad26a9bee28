//! Probability calibration (seed 000: "Platt + isotonic, fallback when one fails").
//!
//! - [`Platt`]: sigmoid scaling as scikit-learn's `_sigmoid_calibration`, solved by Newton.
//! - [`Isotonic`]: PAV with scikit-learn's `IsotonicRegression(out_of_bounds='clip')` semantics.
//! - [`choose`](mod@choose): fits both on a calibration fold, keeps the better by log-loss on a held-out
//!   part, falls back to the other (or the identity) when one cannot be fitted, and records why.
//! - [`multiclass`]: one-vs-rest with renormalisation, temperature scaling, and shrinkage to the
//!   base rate.
//! - [`multiclass_choose`]: [`choose_multiclass`] picks identity, temperature, shrinkage,
//!   one-vs-rest Platt or one-vs-rest isotonic by held-out log-loss on out-of-fold rows ([`MulticlassCalibrator`]).
//! - [`rolling`]: [`RollingPrior`], a prior shift to the class shares of the last bars whose
//!   labels are known (`q ∝ π_recent · (p / π_ref)^β`).
//! - [`metrics`]: Brier, log-loss, ECE (10 equal-width bins), reliability-diagram bins, and the
//!   ECE a perfectly calibrated forecaster would score on as many rows ([`metrics::ece_noise_top_label`]).
//!
//! Every fitted calibrator serialises to JSON with a `format_version` ([`CalibrationFile`]).
//!
//! # Feature flags
//! `clap`: the CLI-facing enums derive `clap::ValueEnum`.
#![warn(missing_docs)]

/// The Platt-vs-isotonic chooser with fallback.
pub mod choose;
/// Errors of this crate.
pub mod error;
/// Isotonic regression.
pub mod isotonic;
/// Calibration metrics.
pub mod metrics;
/// Multiclass calibration.
pub mod multiclass;
/// The multiclass chooser and the shipped multiclass calibrator.
pub mod multiclass_choose;
/// Platt scaling.
pub mod platt;
/// The rolling prior: a prior shift to the recent class shares.
pub mod rolling;

use serde::{Deserialize, Serialize};

pub use choose::{Choice, ISOTONIC_FLOOR, choose};
pub use error::{CalibrationError, Result};
pub use isotonic::Isotonic;
pub use multiclass::{OneVsRest, Shrinkage, Temperature};
pub use multiclass_choose::{
    FULL_SHRINK_EPS, MulticlassCalibrator, MulticlassChoice, MulticlassMethod, PIPELINE_METHODS, choose_multiclass,
    choose_multiclass_among, choose_multiclass_with,
};
pub use platt::Platt;
pub use rolling::{ROLLING_WINDOWS, RecentShares, RollingPrior, known_label_shares};

/// How to calibrate binary scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Method {
    /// Platt scaling (an error when it cannot be fitted).
    Platt,
    /// Isotonic regression (an error when it cannot be fitted).
    Isotonic,
    /// The [`choose`](mod@choose)r: the better of the two on held-out data, with fallbacks.
    Auto,
}

/// Fits a binary calibrator with `method`; `holdout` is the chooser's held-out share.
pub fn fit_binary(method: Method, scores: &[f64], labels: &[bool], holdout: f64) -> Result<(Calibrator, Choice)> {
    let fixed = |c: Calibrator| {
        let name = c.method().to_string();
        (
            c,
            Choice {
                chosen: name,
                platt_log_loss: None,
                isotonic_log_loss: None,
                identity_log_loss: None,
                reason: "method fixed by the caller".into(),
            },
        )
    };
    choose::check_holdout(holdout)?;
    match method {
        Method::Platt => Ok(fixed(Calibrator::Platt(Platt::fit(scores, labels)?))),
        Method::Isotonic => {
            error::check_binary(scores, labels, "isotonic", 2)?;
            let t: Vec<f64> = labels.iter().map(|&v| f64::from(u8::from(v))).collect();
            Ok(fixed(Calibrator::Isotonic(Isotonic::fit(scores, &t)?)))
        }
        Method::Auto => choose(scores, labels, holdout),
    }
}

/// Version of the calibration JSON format. The optional `multiclass` entry of
/// [`CalibrationFile`] was added without a bump: version-1 files without it still load.
pub const FORMAT_VERSION: u32 = 1;

/// A binary calibrator: score → probability.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum Calibrator {
    /// Sigmoid scaling.
    Platt(Platt),
    /// Isotonic regression.
    Isotonic(Isotonic),
    /// Scores are used as probabilities, clipped to [0, 1].
    Identity,
}

impl Calibrator {
    /// The calibrated probability of a score.
    pub fn apply(&self, score: f64) -> f64 {
        match self {
            Calibrator::Platt(p) => p.apply(score),
            Calibrator::Isotonic(i) => i.apply(score),
            Calibrator::Identity => score.clamp(0.0, 1.0),
        }
    }

    /// The method's name.
    pub fn method(&self) -> &'static str {
        match self {
            Calibrator::Platt(_) => "platt",
            Calibrator::Isotonic(_) => "isotonic",
            Calibrator::Identity => "identity",
        }
    }
}

/// The `calibration.json` artifact: a calibrator, or one per class, with how it was chosen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationFile {
    /// Must equal [`FORMAT_VERSION`].
    pub format_version: u32,
    /// Binary: one calibrator; one-vs-rest: one per class.
    pub calibrators: Vec<Calibrator>,
    /// Temperature scaling, when used instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<Temperature>,
    /// Which method was chosen and why, per calibrator.
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// A multiclass model's calibrator and how it was chosen; when present, it is what
    /// `Predict` applies (the binary fields above are then empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiclass: Option<MulticlassCalibration>,
}

/// A multiclass calibrator with the chooser's record, as shipped in `calibration.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MulticlassCalibration {
    /// The fitted calibrator.
    pub calibrator: MulticlassCalibrator,
    /// Every candidate's held-out log-loss and the reason for the pick.
    pub choice: MulticlassChoice,
}

impl CalibrationFile {
    /// A file holding one multiclass calibrator (no binary calibrators).
    pub fn from_multiclass(calibrator: MulticlassCalibrator, choice: MulticlassChoice) -> Self {
        Self {
            format_version: FORMAT_VERSION,
            calibrators: Vec::new(),
            temperature: None,
            choices: Vec::new(),
            multiclass: Some(MulticlassCalibration { calibrator, choice }),
        }
    }

    /// Serialises to pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("calibration files serialise")
    }

    /// Reads JSON text; a different `format_version` is an error naming both versions.
    pub fn from_json(s: &str) -> Result<Self> {
        Ok(vane_artifact::parse_json(std::path::Path::new("calibration JSON"), s, FORMAT_VERSION)?)
    }

    /// Reads `calibration.json` (errors name the file).
    pub fn load(path: &std::path::Path) -> Result<Self> {
        Ok(vane_artifact::read_json(path, FORMAT_VERSION)?)
    }

    /// Writes the file atomically.
    pub fn save(&self, path: &std::path::Path) -> Result<()> {
        Ok(vane_artifact::write_json(path, self)?)
    }
}
