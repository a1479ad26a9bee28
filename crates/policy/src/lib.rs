//! The decision policy: the one piece of code that turns model probabilities into BUY / SELL /
//! HOLD, in backtests and live alike. [`Policy::decide`] is the streaming step;
//! [`Policy::decide_all`] runs the same step over a series.
//!
//! Rules, applied in this order for each prediction:
//! 1. **Raw decision** — [`Rule::MinConf`] (seed 001): HOLD when the largest class probability is
//!    below `min_conf`, else its class; or [`Rule::Thresholds`] (seed 000): from `P(up)`, BUY when
//!    it is above `long`, SELL when below `short`, else HOLD.
//! 2. **Hysteresis** `h` (seed 000 `HYSTERESIS=0.01`): entering a side needs the threshold + h;
//!    staying in the current side only needs the threshold − h.
//! 3. **Cooldown** (seed 000 `COOLDOWN_SEC=10`): the decision cannot change within `cooldown_ms`
//!    of its last change.
//!
//! [`Consensus`] combines several models' decisions k-of-n (seed 000: 2-of-3 over 1s, 10s, 15s).
//! [`optimize`] chooses thresholds (and `min_conf`) on validation data by expected net edge.
//!
//! # Feature flags
//! None.
#![warn(missing_docs)]

/// Errors of this crate.
pub mod error;
/// The threshold and `min_conf` optimisers.
pub mod optimize;

pub use error::{PolicyError, Result};
use serde::{Deserialize, Serialize};
use vane_core::{ClassProbs, Signal, Timestamp};

/// How probabilities become a raw decision.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rule {
    /// Three-class probabilities: HOLD when `max < min_conf`, else the argmax class (ties:
    /// HOLD, then BUY, then SELL).
    MinConf {
        /// Minimum confidence.
        min_conf: f64,
    },
    /// `P(up)`: BUY above `long`, SELL below `short`, else HOLD (`short ≤ long`).
    Thresholds {
        /// Long threshold.
        long: f64,
        /// Short threshold.
        short: f64,
    },
}

/// A model's output for one bar.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Input {
    /// BUY / SELL / HOLD probabilities (for [`Rule::MinConf`]).
    Classes(ClassProbs),
    /// The probability of an up move (for [`Rule::Thresholds`]).
    Up(f64),
}

/// The policy's parameters (saved as `inference.json`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyConfig {
    /// The raw decision rule.
    #[serde(flatten)]
    pub rule: Rule,
    /// Hysteresis half-width (0 = none).
    #[serde(default)]
    pub hysteresis: f64,
    /// Minimum time between two changes of decision, ms (0 = none).
    #[serde(default)]
    pub cooldown_ms: i64,
}

impl PolicyConfig {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(PolicyError::InvalidParameter(m));
        match self.rule {
            Rule::MinConf { min_conf } if !(0.0..=1.0).contains(&min_conf) => {
                return bad(format!("min_conf = {min_conf}, must be in [0, 1]"));
            }
            Rule::Thresholds { long, short }
                if !((0.0..=1.0).contains(&long) && (0.0..=1.0).contains(&short) && short <= long) =>
            {
                return bad(format!("thresholds long = {long}, short = {short}: need 0 ≤ short ≤ long ≤ 1"));
            }
            _ => {}
        }
        if !(self.hysteresis >= 0.0 && self.hysteresis < 0.5) {
            return bad(format!("hysteresis = {}, must be in [0, 0.5)", self.hysteresis));
        }
        if self.cooldown_ms < 0 {
            return bad(format!("cooldown_ms = {}, must be ≥ 0", self.cooldown_ms));
        }
        Ok(())
    }
}

/// The streaming policy: holds the current decision and when it last changed.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    cfg: PolicyConfig,
    current: Signal,
    last_change: Option<Timestamp>,
}

impl Policy {
    /// A policy starting at HOLD.
    pub fn new(cfg: PolicyConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(Self { cfg, current: Signal::Hold, last_change: None })
    }

    /// The configuration.
    pub fn config(&self) -> &PolicyConfig {
        &self.cfg
    }

    /// Replaces the decision rule (thresholds reloaded while running), keeping the current
    /// decision and the time of its last change.
    pub fn set_rule(&mut self, rule: Rule) -> Result<()> {
        let cfg = PolicyConfig { rule, ..self.cfg };
        cfg.validate()?;
        self.cfg = cfg;
        Ok(())
    }

    /// The current decision.
    pub fn current(&self) -> Signal {
        self.current
    }

    /// The raw decision for `input`, with the hysteresis relative to the current decision.
    fn raw(&self, input: &Input) -> Result<Signal> {
        let h = self.cfg.hysteresis;
        // Entering needs thr + h; keeping the current side needs thr − h.
        let margin = |side: Signal| if self.current == side { -h } else { h };
        Ok(match (self.cfg.rule, input) {
            (Rule::MinConf { min_conf }, Input::Classes(p)) => {
                for (name, v) in [("BUY", p.buy), ("SELL", p.sell), ("HOLD", p.hold)] {
                    if !v.is_finite() {
                        return Err(PolicyError::InvalidInput(format!("P({name}) = {v} is not finite")));
                    }
                }
                let best = if p.hold >= p.buy && p.hold >= p.sell {
                    Signal::Hold
                } else if p.buy >= p.sell {
                    Signal::Buy
                } else {
                    Signal::Sell
                };
                let conf = match best {
                    Signal::Buy => p.buy,
                    Signal::Sell => p.sell,
                    Signal::Hold => return Ok(Signal::Hold),
                };
                if conf >= min_conf + margin(best) { best } else { Signal::Hold }
            }
            (Rule::Thresholds { long, short }, Input::Up(p)) => {
                if !p.is_finite() {
                    return Err(PolicyError::InvalidInput(format!("P(up) = {p} is not finite")));
                }
                if *p > long + margin(Signal::Buy) {
                    Signal::Buy
                } else if *p < short - margin(Signal::Sell) {
                    Signal::Sell
                } else {
                    Signal::Hold
                }
            }
            (Rule::MinConf { .. }, Input::Up(_)) => {
                return Err(PolicyError::InvalidInput("the min_conf rule needs class probabilities, got P(up)".into()));
            }
            (Rule::Thresholds { .. }, Input::Classes(_)) => {
                return Err(PolicyError::InvalidInput(
                    "the threshold rule needs P(up), got class probabilities".into(),
                ));
            }
        })
    }

    /// Decides for the prediction made at `at` (times must not go backwards).
    pub fn decide(&mut self, at: Timestamp, input: &Input) -> Result<Signal> {
        if let Some(last) = self.last_change
            && at < last
        {
            return Err(PolicyError::InvalidInput(format!(
                "prediction at {at} is earlier than the last decision change at {last}"
            )));
        }
        let raw = self.raw(input)?;
        if raw != self.current {
            let cooling = self.last_change.is_some_and(|last| at.0 - last.0 < self.cfg.cooldown_ms);
            if !cooling {
                self.current = raw;
                self.last_change = Some(at);
            }
        }
        Ok(self.current)
    }

    /// Runs [`decide`](Policy::decide) over a series from a fresh HOLD state.
    pub fn decide_all(cfg: PolicyConfig, times: &[Timestamp], inputs: &[Input]) -> Result<Vec<Signal>> {
        if times.len() != inputs.len() {
            return Err(PolicyError::InvalidInput(format!("{} times for {} predictions", times.len(), inputs.len())));
        }
        let mut p = Policy::new(cfg)?;
        times.iter().zip(inputs).map(|(t, i)| p.decide(*t, i)).collect()
    }
}

/// k-of-n consensus: BUY when at least `k` of the decisions are BUY, SELL when at least `k` are
/// SELL (HOLD if both), else HOLD.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Consensus {
    /// Votes needed.
    pub k: usize,
    /// Number of models.
    pub n: usize,
}

impl Consensus {
    /// k-of-n with `1 ≤ k ≤ n`.
    pub fn new(k: usize, n: usize) -> Result<Self> {
        if !(1..=n).contains(&k) {
            return Err(PolicyError::InvalidParameter(format!("consensus {k}-of-{n}: need 1 ≤ k ≤ n")));
        }
        Ok(Self { k, n })
    }

    /// Combines one decision per model.
    pub fn combine(&self, decisions: &[Signal]) -> Result<Signal> {
        if decisions.len() != self.n {
            return Err(PolicyError::InvalidInput(format!(
                "{} decisions for a {}-of-{} consensus",
                decisions.len(),
                self.k,
                self.n
            )));
        }
        let buys = decisions.iter().filter(|&&s| s == Signal::Buy).count();
        let sells = decisions.iter().filter(|&&s| s == Signal::Sell).count();
        Ok(match (buys >= self.k, sells >= self.k) {
            (true, false) => Signal::Buy,
            (false, true) => Signal::Sell,
            _ => Signal::Hold,
        })
    }
}
