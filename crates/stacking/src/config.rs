//! The stack's configuration (`examples/seed000.toml`): data, L1, L2, L3 and the threshold
//! constraints, with seed 000's values as defaults and `--fast-sanity` pinned down.

use serde::{Deserialize, Serialize};

use crate::error::{Result, StackingError};

fn bad<T>(msg: impl Into<String>) -> Result<T> {
    Err(StackingError::Config(msg.into()))
}

/// `[data]`: which bars and how decision points are drawn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataConfig {
    /// Symbols (the first is the one trained when none is given on the command line).
    pub symbols: Vec<String>,
    /// The grid interval (seed 000: `1s`).
    pub interval: String,
    /// The last days of stored bars, counted back from the last stored bar (seed 000: 14).
    pub days: u32,
    /// Keep only the last `last_bars` grid bars after `days` (0 = all; tests and smoke runs).
    pub last_bars: usize,
    /// Decision points every `stride` grid bars (1 = every second).
    pub stride: usize,
    /// Share of the grid (the most recent) held out as the validation tail (seed 000: 0.2).
    pub valid_frac: f64,
    /// Seed of initialisation, shuffling and `--permute-labels`.
    pub seed: u64,
    /// Seed 000's `--save-features`: write every per-bar column (raw features, each level's
    /// output — out of fold in the training part, the final models' in the tail — and the
    /// `filled` flag) to `<artifacts>/features/<SYMBOL>_<interval>_stack.parquet`, keyed by
    /// `open_time_ms` ([`crate::train::features_path`]).
    pub save_features: bool,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            symbols: vec!["ETHUSDT".into()],
            interval: "1s".into(),
            days: 14,
            last_bars: 0,
            stride: 1,
            valid_frac: 0.2,
            seed: 42,
            save_features: false,
        }
    }
}

/// An HRM's size and training settings (one per level).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetConfig {
    /// Fast-cell width.
    pub hidden_low: usize,
    /// Slow-cell width.
    pub hidden_high: usize,
    /// Slow-cell period.
    pub high_period: usize,
    /// Recurrent cell, `"gru"` (seed 000's reading) or `"lstm"`.
    pub cell: String,
    /// Epochs.
    pub epochs: usize,
    /// Batch size.
    pub batch: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Focal γ (0 = cross-entropy).
    pub focal_gamma: f64,
    /// Dropout before the heads.
    pub dropout: f64,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            hidden_low: 64,
            hidden_high: 64,
            high_period: 10,
            cell: "gru".into(),
            epochs: 12,
            batch: 256,
            lr: 1e-3,
            focal_gamma: 0.0,
            dropout: 0.1,
        }
    }
}

impl NetConfig {
    fn validate(&self, level: &str) -> Result<()> {
        for (name, v) in [
            ("hidden_low", self.hidden_low),
            ("hidden_high", self.hidden_high),
            ("high_period", self.high_period),
            ("epochs", self.epochs),
            ("batch", self.batch),
        ] {
            if v == 0 {
                return bad(format!("[{level}] {name} = 0: must be ≥ 1"));
            }
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad(format!("[{level}] lr = {}: must be > 0", self.lr));
        }
        if !(self.focal_gamma.is_finite() && self.focal_gamma >= 0.0) {
            return bad(format!("[{level}] focal_gamma = {}: must be ≥ 0", self.focal_gamma));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad(format!("[{level}] dropout = {}: must be in [0, 1)", self.dropout));
        }
        if !matches!(self.cell.as_str(), "gru" | "lstm") {
            return bad(format!("[{level}] cell = {:?}: expected \"gru\" or \"lstm\"", self.cell));
        }
        Ok(())
    }
}

/// `[l1]`: one HRM per horizon on dead-zone binary labels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct L1Config {
    /// Horizons, seconds (grid bars).
    pub horizons: Vec<usize>,
    /// Window length per horizon, seconds.
    pub seq_lens: Vec<usize>,
    /// Purged k-fold splits of the out-of-fold predictions (embargo = the label horizon).
    pub oof_splits: usize,
    /// Dead-zone half-width (|r| below it keeps its label with `deadzone_weight`).
    pub deadzone_eps: f64,
    /// Weight of dead-zone samples.
    pub deadzone_weight: f64,
    /// The network.
    pub net: NetConfig,
    /// The per-horizon meta head: a second HRM over the L1 model's own output sequence.
    pub meta_head: bool,
    /// Meta head window, steps of L1 output.
    pub meta_seq_len: usize,
    /// Meta head epochs.
    pub meta_epochs: usize,
    /// Meta head slow-cell period.
    pub meta_high_period: usize,
}

impl Default for L1Config {
    fn default() -> Self {
        Self {
            horizons: vec![1, 5, 10, 15, 30, 60, 180],
            seq_lens: vec![30, 45, 60, 90, 120, 180, 300],
            oof_splits: 5,
            deadzone_eps: 0.0005,
            deadzone_weight: 0.2,
            net: NetConfig { focal_gamma: 1.5, ..NetConfig::default() },
            meta_head: true,
            meta_seq_len: 60,
            meta_epochs: 12,
            meta_high_period: 10,
        }
    }
}

/// `[l2]`: the meta-gate per target tag over sequences of L1 outputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct L2Config {
    /// Steps of L1 output in the window (seed 000: 60; must equal `l2_seq_len`).
    pub l1_seq_len: usize,
    /// The L2 window, steps.
    pub l2_seq_len: usize,
    /// Raw features beside the L1 outputs.
    pub use_raw: bool,
    /// Platt-calibrate the L2 output (fitted on its out-of-fold rows).
    pub platt: bool,
    /// The network.
    pub net: NetConfig,
}

impl Default for L2Config {
    fn default() -> Self {
        Self { l1_seq_len: 60, l2_seq_len: 60, use_raw: true, platt: true, net: NetConfig::default() }
    }
}

/// `[l3]`: the supervisor per target tag, triple-barrier labels, costs from seed 000's table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct L3Config {
    /// Steps of L1 output in the window (must equal `l3_seq_len`).
    pub l1_seq_len: usize,
    /// The L3 window, steps.
    pub l3_seq_len: usize,
    /// Raw features in the input.
    pub use_raw: bool,
    /// L1 outputs in the input.
    pub use_l1: bool,
    /// Every L2 head's output in the input.
    pub use_l2: bool,
    /// Regime features (time of day, σ over the tag's σ window, volume).
    pub use_regime: bool,
    /// Fit Platt on the out-of-fold rows.
    pub platt: bool,
    /// Fit isotonic on the out-of-fold rows (with `platt`: the better by held-out log-loss,
    /// falling back to the other when one fails).
    pub isotonic: bool,
    /// The network (seed 000: 96/96/12, lr 8e-4, batch 256, 12 epochs).
    pub net: NetConfig,
}

impl Default for L3Config {
    fn default() -> Self {
        Self {
            l1_seq_len: 60,
            l3_seq_len: 60,
            use_raw: true,
            use_l1: true,
            use_l2: true,
            use_regime: true,
            platt: true,
            isotonic: true,
            net: NetConfig { hidden_low: 96, hidden_high: 96, high_period: 12, lr: 8e-4, ..NetConfig::default() },
        }
    }
}

/// `[thresholds]`: seed 000's `--thr-*` constraints of the auto-threshold optimiser.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThresholdConfig {
    /// Minimum distance of each threshold from 0.5.
    pub min_margin: f64,
    /// Minimum share of bars acting.
    pub min_act: f64,
    /// Minimum share of bars abstaining.
    pub min_abstain: f64,
}

impl Default for ThresholdConfig {
    fn default() -> Self {
        Self { min_margin: 0.015, min_act: 0.10, min_abstain: 0.10 }
    }
}

/// The whole stack's configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StackConfig {
    /// Target tags of L2 and L3 (seed 000: 1s, 10s, 15s, 30s, 60s, 180s; 5s is an L1 input only).
    pub tags: Vec<String>,
    /// Data.
    pub data: DataConfig,
    /// L1.
    pub l1: L1Config,
    /// L2.
    pub l2: L2Config,
    /// L3.
    pub l3: L3Config,
    /// Threshold constraints.
    pub thresholds: ThresholdConfig,
}

/// Seed 000's target tags.
pub const SEED000_TAGS: [&str; 6] = ["1s", "10s", "15s", "30s", "60s", "180s"];

/// The horizon in seconds of a tag such as `"10s"`.
pub fn tag_secs(tag: &str) -> Result<usize> {
    tag.strip_suffix('s').and_then(|n| n.parse::<usize>().ok()).filter(|&n| n > 0).ok_or_else(|| {
        StackingError::Config(format!("tag {tag:?}: expected seconds such as \"10s\" (seed 000's tags: 1s … 180s)"))
    })
}

impl StackConfig {
    /// Seed 000's configuration.
    pub fn seed000() -> Self {
        Self { tags: SEED000_TAGS.iter().map(|s| s.to_string()).collect(), ..Self::default() }
    }

    /// Parses a TOML file's text; unknown keys are errors naming them.
    pub fn from_toml(text: &str) -> Result<Self> {
        let mut c: Self = toml_from_str(text)?;
        if c.tags.is_empty() {
            c.tags = Self::seed000().tags;
        }
        c.validate()?;
        Ok(c)
    }

    /// `--fast-sanity`, pinned down: tags 1s, 10s, 15s; L1 inputs 1s, 5s, 10s, 15s; sequence
    /// lengths capped at 60; 2 out-of-fold splits; 1 epoch (2 for L3); hidden sizes 16/16;
    /// decision points strided so that at most 20 000 rows per level remain of `grid_rows`.
    pub fn fast_sanity(&self, grid_rows: usize) -> Self {
        let mut c = self.clone();
        c.tags = vec!["1s".into(), "10s".into(), "15s".into()];
        let keep: Vec<(usize, usize)> = self
            .l1
            .horizons
            .iter()
            .zip(&self.l1.seq_lens)
            .filter(|(h, _)| [1, 5, 10, 15].contains(*h))
            .map(|(&h, &s)| (h, s.min(60)))
            .collect();
        let keep = if keep.len() == 4 { keep } else { vec![(1, 30), (5, 45), (10, 60), (15, 60)] };
        c.l1.horizons = keep.iter().map(|k| k.0).collect();
        c.l1.seq_lens = keep.iter().map(|k| k.1).collect();
        c.l1.oof_splits = 2;
        let small = |n: &NetConfig, epochs: usize| NetConfig {
            hidden_low: 16,
            hidden_high: 16,
            high_period: n.high_period.min(10),
            epochs,
            ..n.clone()
        };
        c.l1.net = small(&self.l1.net, 1);
        c.l1.meta_seq_len = self.l1.meta_seq_len.min(60);
        c.l1.meta_epochs = 1;
        c.l1.meta_high_period = self.l1.meta_high_period.min(10);
        c.l2.net = small(&self.l2.net, 1);
        c.l2.l1_seq_len = self.l2.l1_seq_len.min(60);
        c.l2.l2_seq_len = self.l2.l2_seq_len.min(60);
        c.l3.net = small(&self.l3.net, 2);
        c.l3.l1_seq_len = self.l3.l1_seq_len.min(60);
        c.l3.l3_seq_len = self.l3.l3_seq_len.min(60);
        let rows = if c.data.last_bars > 0 { grid_rows.min(c.data.last_bars) } else { grid_rows };
        c.data.stride = c.data.stride.max(rows.div_ceil(20_000)).max(1);
        c
    }

    /// Checks every field; the error names the table and key and says the fix.
    pub fn validate(&self) -> Result<()> {
        if self.tags.is_empty() {
            return bad("tags is empty: list the target tags, e.g. [\"1s\", \"10s\", \"15s\"]");
        }
        for t in &self.tags {
            let h = tag_secs(t)?;
            if !self.l1.horizons.contains(&h) {
                return bad(format!(
                    "tag {t:?}: no L1 horizon of {h} s in [l1] horizons {:?}; add it",
                    self.l1.horizons
                ));
            }
        }
        if self.l1.horizons.is_empty() || self.l1.horizons.len() != self.l1.seq_lens.len() {
            return bad(format!(
                "[l1] horizons ({}) and seq_lens ({}) must be non-empty and of equal length",
                self.l1.horizons.len(),
                self.l1.seq_lens.len()
            ));
        }
        if self.l1.horizons.contains(&0) || self.l1.seq_lens.contains(&0) {
            return bad("[l1] horizons and seq_lens must be ≥ 1");
        }
        if self.l1.oof_splits < 2 {
            return bad(format!("[l1] oof_splits = {}: must be ≥ 2", self.l1.oof_splits));
        }
        if !(self.l1.deadzone_eps.is_finite() && self.l1.deadzone_eps >= 0.0) {
            return bad(format!("[l1] deadzone_eps = {}: must be ≥ 0", self.l1.deadzone_eps));
        }
        if !(0.0..=1.0).contains(&self.l1.deadzone_weight) {
            return bad(format!("[l1] deadzone_weight = {}: must be in [0, 1]", self.l1.deadzone_weight));
        }
        if self.l1.meta_head && (self.l1.meta_seq_len == 0 || self.l1.meta_epochs == 0 || self.l1.meta_high_period == 0)
        {
            return bad("[l1] meta_seq_len, meta_epochs and meta_high_period must be ≥ 1");
        }
        self.l1.net.validate("l1")?;
        self.l2.net.validate("l2")?;
        self.l3.net.validate("l3")?;
        if self.l2.l1_seq_len != self.l2.l2_seq_len || self.l2.l2_seq_len == 0 {
            return bad(format!(
                "[l2] l1_seq_len {} must equal l2_seq_len {} (≥ 1): the L2 window is one sequence of L1 outputs (seed 000 sets both to 60)",
                self.l2.l1_seq_len, self.l2.l2_seq_len
            ));
        }
        if self.l3.l1_seq_len != self.l3.l3_seq_len || self.l3.l3_seq_len == 0 {
            return bad(format!(
                "[l3] l1_seq_len {} must equal l3_seq_len {} (≥ 1) (seed 000 sets both to 60)",
                self.l3.l1_seq_len, self.l3.l3_seq_len
            ));
        }
        if !(self.l3.use_raw || self.l3.use_l1 || self.l3.use_l2 || self.l3.use_regime) {
            return bad("[l3] use_raw, use_l1, use_l2 and use_regime are all false: L3 would have no input");
        }
        let d = &self.data;
        if !(d.valid_frac > 0.0 && d.valid_frac < 0.5) {
            return bad(format!("[data] valid_frac = {}: must be in (0, 0.5)", d.valid_frac));
        }
        if d.stride == 0 {
            return bad("[data] stride = 0: must be ≥ 1");
        }
        if d.days == 0 {
            return bad("[data] days = 0: must be ≥ 1");
        }
        let t = &self.thresholds;
        if !(0.0..0.5).contains(&t.min_margin)
            || !(0.0..1.0).contains(&t.min_act)
            || !(0.0..1.0).contains(&t.min_abstain)
        {
            return bad("[thresholds] min_margin must be in [0, 0.5), min_act and min_abstain in [0, 1)");
        }
        Ok(())
    }

    /// The L1 window of a horizon.
    pub fn l1_seq_len(&self, horizon: usize) -> Option<usize> {
        self.l1.horizons.iter().position(|&h| h == horizon).map(|i| self.l1.seq_lens[i])
    }
}

fn toml_from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| StackingError::Config(format!("stack config: {e}")))
}
