//! Trading decisions: [`Signal`] and [`Prediction`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::{Symbol, Timestamp};

/// A trading decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Signal {
    /// Go or stay long.
    Buy,
    /// Go or stay short / exit long.
    Sell,
    /// Do nothing.
    Hold,
}

impl Signal {
    /// Every class in vane's class order: BUY 0, SELL 1, HOLD 2. Models' probability vectors,
    /// label indices and `inference.json`'s `classes` use this order.
    pub const ALL: [Signal; 3] = [Signal::Buy, Signal::Sell, Signal::Hold];

    /// The class names in [`Signal::ALL`]'s order.
    pub const NAMES: [&'static str; 3] = ["BUY", "SELL", "HOLD"];

    /// The index of this class in [`Signal::ALL`].
    pub fn class_index(self) -> usize {
        match self {
            Signal::Buy => 0,
            Signal::Sell => 1,
            Signal::Hold => 2,
        }
    }

    /// The class at `index` of [`Signal::ALL`], `None` past the end.
    pub fn from_index(index: usize) -> Option<Signal> {
        Signal::ALL.get(index).copied()
    }

    /// Checks that a saved class list is vane's order (`["BUY", "SELL", "HOLD"]`).
    pub fn check_class_order<S: AsRef<str>>(classes: &[S]) -> Result<(), CoreError> {
        if classes.len() == Signal::NAMES.len() && classes.iter().zip(Signal::NAMES).all(|(a, b)| a.as_ref() == b) {
            return Ok(());
        }
        let found: Vec<&str> = classes.iter().map(AsRef::as_ref).collect();
        Err(CoreError::InvalidArgument(format!(
            "class order {found:?} is not vane's {:?}: the model was saved with another class order",
            Signal::NAMES
        )))
    }

    /// `"BUY"`, `"SELL"` or `"HOLD"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Buy => "BUY",
            Signal::Sell => "SELL",
            Signal::Hold => "HOLD",
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Signal {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, CoreError> {
        match s {
            "BUY" => Ok(Signal::Buy),
            "SELL" => Ok(Signal::Sell),
            "HOLD" => Ok(Signal::Hold),
            _ => Err(CoreError::InvalidArgument(format!("invalid signal {s:?}: expected BUY, SELL or HOLD"))),
        }
    }
}

/// Class probabilities of one prediction; serialised with the class names as keys.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassProbs {
    /// P(BUY).
    #[serde(rename = "BUY")]
    pub buy: f64,
    /// P(SELL).
    #[serde(rename = "SELL")]
    pub sell: f64,
    /// P(HOLD).
    #[serde(rename = "HOLD")]
    pub hold: f64,
}

impl ClassProbs {
    /// Tolerance of the sum of the probabilities around 1.
    pub const SUM_TOLERANCE: f64 = 1e-6;

    /// Validates probabilities in [`Signal::ALL`]'s order: exactly three, finite, in [0, 1],
    /// summing to 1 within [`SUM_TOLERANCE`](Self::SUM_TOLERANCE).
    pub fn try_from_slice(p: &[f64]) -> Result<Self, CoreError> {
        let &[buy, sell, hold] = p else {
            return Err(CoreError::InvalidArgument(format!(
                "class probabilities: expected 3 (BUY, SELL, HOLD), got {}",
                p.len()
            )));
        };
        if let Some((i, v)) = p.iter().enumerate().find(|(_, v)| !v.is_finite() || !(0.0..=1.0).contains(*v)) {
            return Err(CoreError::InvalidArgument(format!(
                "class probabilities: P({}) = {v} is not a probability",
                Signal::NAMES[i]
            )));
        }
        let sum = buy + sell + hold;
        if (sum - 1.0).abs() > Self::SUM_TOLERANCE {
            return Err(CoreError::InvalidArgument(format!(
                "class probabilities {p:?} sum to {sum}, not 1 (tolerance {})",
                Self::SUM_TOLERANCE
            )));
        }
        Ok(Self { buy, sell, hold })
    }

    /// The probabilities in [`Signal::ALL`]'s order.
    pub fn to_array(self) -> [f64; 3] {
        [self.buy, self.sell, self.hold]
    }

    /// P(`signal`).
    pub fn get(self, signal: Signal) -> f64 {
        self.to_array()[signal.class_index()]
    }

    /// The most probable class (the first in [`Signal::ALL`]'s order on ties).
    pub fn argmax(self) -> Signal {
        let a = self.to_array();
        let mut best = 0;
        for i in 1..3 {
            if a[i] > a[best] {
                best = i;
            }
        }
        Signal::ALL[best]
    }

    /// The probability behind a decision: P(BUY) for BUY, P(SELL) for SELL, and for HOLD the
    /// largest of the three (how sure the model is of whatever it leans to).
    pub fn confidence(self, signal: Signal) -> f64 {
        match signal {
            Signal::Hold => self.buy.max(self.sell).max(self.hold),
            s => self.get(s),
        }
    }
}

/// What a model says about a symbol at one bar:
/// `{symbol, signal, confidence, probs: {BUY, SELL, HOLD}, as_of, model_id_used}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The instrument.
    pub symbol: Symbol,
    /// The decision after the policy.
    pub signal: Signal,
    /// The probability behind the decision.
    pub confidence: f64,
    /// All class probabilities.
    pub probs: ClassProbs,
    /// Open time of the last closed bar the prediction used.
    pub as_of: Timestamp,
    /// Which model answered (`BTCUSDT` or `global`).
    pub model_id_used: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prediction_json_shape() {
        let p = Prediction {
            symbol: Symbol::new("BTCUSDT").unwrap(),
            signal: Signal::Buy,
            confidence: 0.6,
            probs: ClassProbs { buy: 0.6, sell: 0.1, hold: 0.3 },
            as_of: Timestamp(1_672_531_200_000),
            model_id_used: "global".into(),
        };
        let j = serde_json::to_string(&p).unwrap();
        assert_eq!(
            j,
            r#"{"symbol":"BTCUSDT","signal":"BUY","confidence":0.6,"probs":{"BUY":0.6,"SELL":0.1,"HOLD":0.3},"as_of":1672531200000,"model_id_used":"global"}"#
        );
        assert_eq!(serde_json::from_str::<Prediction>(&j).unwrap(), p);
    }

    #[test]
    fn class_vocabulary() {
        for (i, s) in Signal::ALL.iter().enumerate() {
            assert_eq!(s.class_index(), i);
            assert_eq!(Signal::from_index(i), Some(*s));
            assert_eq!(s.as_str(), Signal::NAMES[i]);
        }
        assert_eq!(Signal::from_index(3), None);
        assert!(Signal::check_class_order(&["BUY", "SELL", "HOLD"]).is_ok());
        for bad in [&["SELL", "BUY", "HOLD"][..], &["UP", "DOWN"], &[]] {
            let e = Signal::check_class_order(bad).unwrap_err().to_string();
            assert!(e.contains("class order"), "{e}");
        }
    }

    #[test]
    fn class_probs_validation() {
        let p = ClassProbs::try_from_slice(&[0.2, 0.5, 0.3]).unwrap();
        assert_eq!(p, ClassProbs { buy: 0.2, sell: 0.5, hold: 0.3 });
        assert_eq!(p.to_array(), [0.2, 0.5, 0.3]);
        assert_eq!(p.argmax(), Signal::Sell);
        assert_eq!(p.confidence(Signal::Buy), 0.2);
        assert_eq!(p.confidence(Signal::Hold), 0.5);
        assert!(ClassProbs::try_from_slice(&[0.2, 0.5, 0.3 + 5e-7]).is_ok());
        for (bad, what) in [
            (&[0.5, 0.5][..], "expected 3"),
            (&[0.25, 0.25, 0.25, 0.25], "expected 3"),
            (&[f64::NAN, 0.5, 0.5], "P(BUY) = NaN"),
            (&[0.5, f64::INFINITY, 0.5], "P(SELL) = inf"),
            (&[1.5, -0.5, 0.0], "P(BUY) = 1.5"),
            (&[0.3, 0.3, 0.3], "sum to"),
        ] {
            let e = ClassProbs::try_from_slice(bad).unwrap_err().to_string();
            assert!(e.contains(what), "{bad:?}: {e}");
        }
    }

    #[test]
    fn signal_spelling() {
        for s in [Signal::Buy, Signal::Sell, Signal::Hold] {
            assert_eq!(s.as_str().parse::<Signal>().unwrap(), s);
        }
        assert!("buy".parse::<Signal>().is_err());
    }
}
