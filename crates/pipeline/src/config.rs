//! The seed 001 training configuration (TOML), with defaults and range checks.

use serde::{Deserialize, Serialize};
use vane_core::{Interval, Symbol};

use crate::error::{PipelineError, Result};

/// `quality` searches more θ candidates and grows more trees; `fast` is for regular retraining.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Mode {
    /// Thorough.
    Quality,
    /// Quick.
    Fast,
}

/// Seed 001's training settings. Every field has a default; a TOML file overrides any of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Symbols to train on (one global model across them).
    pub symbols: Vec<Symbol>,
    /// Bar interval.
    pub interval: Interval,
    /// Label horizon H in bars (seed 001: 6 = one day of 4h bars).
    pub horizon: usize,
    /// Smallest θ candidate.
    pub theta_min: f64,
    /// Largest θ candidate.
    pub theta_max: f64,
    /// θ candidates in `quality` mode.
    pub theta_steps_quality: usize,
    /// θ candidates in `fast` mode.
    pub theta_steps_fast: usize,
    /// Lowest acceptable HOLD share.
    pub hold_min: f64,
    /// Highest acceptable HOLD share.
    pub hold_max: f64,
    /// Walk-forward training window, bars per symbol.
    pub train_bars: usize,
    /// Walk-forward validation window, bars.
    pub test_bars: usize,
    /// Bars left out between each training window and its validation window (seed 001's gap;
    /// the label horizon is purged besides).
    pub gap: usize,
    /// Early stopping: trees stop this many iterations after the best log-loss on a validation
    /// slice at the end of each training window (0: no early stopping, every tree is kept).
    pub early_stopping_rounds: usize,
    /// The share of each training window's time steps held out, at its end, for early stopping
    /// (purged by the label horizon from the rows the trees are fitted on).
    pub early_stopping_frac: f64,
    /// Trees in `quality` mode.
    pub iterations_quality: usize,
    /// Trees in `fast` mode.
    pub iterations_fast: usize,
    /// Tree depth.
    pub depth: usize,
    /// Learning rate.
    pub learning_rate: f64,
    /// Fee per side (bps) used when tuning `min_conf`.
    pub fee_bps: f64,
    /// Slippage per side (bps) used when tuning `min_conf`.
    pub slip_bps: f64,
    /// One model per symbol (`models/<SYMBOL>`, each with its own θ, metrics and `min_conf`)
    /// instead of the global one (`models/global`, left as it is).
    pub per_symbol: bool,
    /// Seed of everything random (target statistics, label permutation).
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            symbols: vec![Symbol::new("BTCUSDT").expect("valid"), Symbol::new("ETHUSDT").expect("valid")],
            interval: Interval::H4,
            horizon: 6,
            theta_min: 0.005,
            theta_max: 0.03,
            theta_steps_quality: 11,
            theta_steps_fast: 4,
            hold_min: 0.2,
            hold_max: 0.6,
            train_bars: 720,
            test_bars: 180,
            gap: 0,
            early_stopping_rounds: 30,
            early_stopping_frac: 0.2,
            iterations_quality: 400,
            iterations_fast: 120,
            depth: 5,
            learning_rate: 0.05,
            fee_bps: 10.0,
            slip_bps: 2.0,
            per_symbol: false,
            seed: 0,
        }
    }
}

impl TrainConfig {
    /// Reads a TOML file over the defaults and checks it.
    pub fn from_toml(text: &str) -> Result<Self> {
        let c: TrainConfig = toml::from_str(text).map_err(|e| PipelineError::Config(e.to_string()))?;
        c.validate()?;
        Ok(c)
    }

    /// Checks every field's range; the error names the field.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, msg: String| Err(PipelineError::Config(format!("{field}: {msg}")));
        if self.symbols.is_empty() {
            return bad("symbols", "at least one symbol".into());
        }
        if let Some(d) = duplicate(&self.symbols) {
            return bad("symbols", format!("{d} is listed twice (each symbol once)"));
        }
        if !(1..=500).contains(&self.horizon) {
            return bad("horizon", format!("{} must be in 1..=500", self.horizon));
        }
        if !(self.theta_min >= 0.0 && self.theta_min <= self.theta_max && self.theta_max < 1.0) {
            return bad("theta_min/theta_max", format!("need 0 ≤ {} ≤ {} < 1", self.theta_min, self.theta_max));
        }
        if self.theta_steps_quality == 0 || self.theta_steps_fast == 0 {
            return bad("theta_steps", "must be ≥ 1".into());
        }
        if !(0.0 <= self.hold_min && self.hold_min <= self.hold_max && self.hold_max <= 1.0) {
            return bad("hold_min/hold_max", format!("need 0 ≤ {} ≤ {} ≤ 1", self.hold_min, self.hold_max));
        }
        if self.train_bars < 50 || self.test_bars < 10 {
            return bad(
                "train_bars/test_bars",
                format!("{} and {} must be ≥ 50 and ≥ 10", self.train_bars, self.test_bars),
            );
        }
        if self.iterations_quality == 0 || self.iterations_fast == 0 || !(1..=10).contains(&self.depth) {
            return bad("iterations/depth", "iterations ≥ 1, depth in 1..=10".into());
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return bad("learning_rate", format!("{} must be in (0, 1]", self.learning_rate));
        }
        if self.gap > 10_000 {
            return bad("gap", format!("{} must be ≤ 10000 bars", self.gap));
        }
        if self.early_stopping_rounds > 0 && !(0.05..=0.5).contains(&self.early_stopping_frac) {
            return bad("early_stopping_frac", format!("{} must be in [0.05, 0.5]", self.early_stopping_frac));
        }
        if !(self.fee_bps >= 0.0 && self.slip_bps >= 0.0) {
            return bad("fee_bps/slip_bps", "must be ≥ 0".into());
        }
        Ok(())
    }
}

/// The first symbol that appears twice in `symbols`.
pub(crate) fn duplicate(symbols: &[Symbol]) -> Option<&Symbol> {
    symbols.iter().enumerate().find(|(i, s)| symbols[..*i].contains(s)).map(|(_, s)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_overrides_and_checks() {
        let c = TrainConfig::from_toml("symbols = [\"SOLUSDT\"]\nhorizon = 3\n").unwrap();
        assert_eq!(c.symbols, vec![Symbol::new("SOLUSDT").unwrap()]);
        assert_eq!((c.horizon, c.interval), (3, Interval::H4));
        assert!(
            TrainConfig::from_toml("horizon = 0").unwrap_err().to_string().contains("horizon: 0 must be in 1..=500")
        );
        assert!(
            TrainConfig::from_toml("hold_min = 0.9\nhold_max = 0.5")
                .unwrap_err()
                .to_string()
                .contains("hold_min/hold_max")
        );
        assert!(TrainConfig::from_toml("symbols = [\"btc\"]").unwrap_err().to_string().contains("invalid symbol"));
        assert!(TrainConfig::from_toml("colour = 3").unwrap_err().to_string().contains("unknown field"));
    }
}
