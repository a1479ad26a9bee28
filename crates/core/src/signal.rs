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
    fn signal_spelling() {
        for s in [Signal::Buy, Signal::Sell, Signal::Hold] {
            assert_eq!(s.as_str().parse::<Signal>().unwrap(), s);
        }
        assert!("buy".parse::<Signal>().is_err());
    }
}
