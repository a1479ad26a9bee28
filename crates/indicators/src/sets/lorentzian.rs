//! Seed 003's features for the Lorentzian classifier, as jdehorty's "Machine Learning:
//! Lorentzian Classification" computes them (TradingView, MLExtensions):
//!
//! | column | script | here |
//! |---|---|---|
//! | `f1_rsi_14` | `n_rsi(close, 14, 1)` | `RSI(14)/100` |
//! | `f2_wt_10_11` | `n_wt(hlc3, 10, 11)` | `normalize(wt1 − wt2)` with wt from Pine EMAs |
//! | `f3_cci_20` | `n_cci(close, 20, 1)` | `normalize(CCI(close, 20))` |
//! | `f4_adx_20` | `n_adx(high, low, close, 20)` | the script's own ADX `/100` |
//! | `f5_rsi_9` | `n_rsi(close, 9, 1)` | `RSI(9)/100` |
//!
//! `normalize(x)` rescales by the minimum and maximum of x seen **so far** (the script's
//! `var` historic min/max): `(x − min)/max(max − min, 1e−9)`, so a row depends only on bars up
//! to it. The script's ADX starts at bar 0 with `nz(x[1]) = 0` for the missing previous bar:
//! `tr = max(h − l, |h − c₋₁|, |l − c₋₁|)`, `+dm = h − h₋₁ > l₋₁ − l ? max(h − h₋₁, 0) : 0`,
//! `−dm = l₋₁ − l > h − h₋₁ ? max(l₋₁ − l, 0) : 0`, each smoothed as `s = s − s/n + x`,
//! `dx = |di+ − di−|/(di+ + di−)·100`, `adx = rma(dx, n)` (SMA-seeded Wilder average).
//! An EMA of length 1 (the scripts' second parameter) is the identity.

use vane_core::Bar;

use super::{FeatureStream, names};
use crate::Indicator;
use crate::momentum::{CommodityChannelIndex, RelativeStrengthIndex, WaveTrend};
use crate::rolling::WilderCore;

pub(crate) const COLUMNS: [&str; 5] = ["f1_rsi_14", "f2_wt_10_11", "f3_cci_20", "f4_adx_20", "f5_rsi_9"];

/// Running min/max normaliser into [0, 1] (jdehorty's `normalize`).
#[derive(Clone, Debug)]
struct Normalizer {
    min: f64,
    max: f64,
}

impl Normalizer {
    fn new() -> Self {
        Self { min: 10e10, max: -10e10 }
    }
    fn update(&mut self, x: f64) -> f64 {
        if !x.is_finite() {
            return f64::NAN;
        }
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        (x - self.min) / (self.max - self.min).max(10e-10)
    }
}

/// jdehorty's ADX (see the module docs).
#[derive(Clone, Debug)]
struct ScriptAdx {
    n: usize,
    prev: (f64, f64, f64),
    tr: f64,
    plus: f64,
    minus: f64,
    adx: WilderCore,
}

impl ScriptAdx {
    fn new(n: usize) -> Self {
        Self { n, prev: (0.0, 0.0, 0.0), tr: 0.0, plus: 0.0, minus: 0.0, adx: WilderCore::new(n) }
    }
    fn update(&mut self, h: f64, l: f64, c: f64) -> Option<f64> {
        let (ph, pl, pc) = self.prev;
        self.prev = (h, l, c);
        let tr = (h - l).max((h - pc).abs()).max((l - pc).abs());
        let up = h - ph;
        let down = pl - l;
        let plus_dm = if up > down { up.max(0.0) } else { 0.0 };
        let minus_dm = if down > up { down.max(0.0) } else { 0.0 };
        let n = self.n as f64;
        self.tr = self.tr - self.tr / n + tr;
        self.plus = self.plus - self.plus / n + plus_dm;
        self.minus = self.minus - self.minus / n + minus_dm;
        let dip = self.plus / self.tr * 100.0;
        let dim = self.minus / self.tr * 100.0;
        let dx = (dip - dim).abs() / (dip + dim) * 100.0;
        if !dx.is_finite() {
            return None;
        }
        self.adx.update(dx)
    }
}

/// The `lorentzian` feature stream (also usable on its own by the Lorentzian classifier).
pub struct Lorentzian {
    names: Vec<String>,
    rsi14: RelativeStrengthIndex,
    wt: WaveTrend,
    wt_norm: Normalizer,
    cci: CommodityChannelIndex,
    cci_norm: Normalizer,
    adx: ScriptAdx,
    rsi9: RelativeStrengthIndex,
}

impl std::fmt::Debug for Lorentzian {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lorentzian")
    }
}

impl Default for Lorentzian {
    fn default() -> Self {
        Self::new()
    }
}

impl Lorentzian {
    /// The script's default features.
    pub fn new() -> Self {
        Self {
            names: names(&COLUMNS),
            rsi14: RelativeStrengthIndex::new(14).expect("valid"),
            wt: WaveTrend::new(10, 11).expect("valid"),
            wt_norm: Normalizer::new(),
            cci: CommodityChannelIndex::new(20).expect("valid"),
            cci_norm: Normalizer::new(),
            adx: ScriptAdx::new(20),
            rsi9: RelativeStrengthIndex::new(9).expect("valid"),
        }
    }
}

impl FeatureStream for Lorentzian {
    fn names(&self) -> &[String] {
        &self.names
    }

    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        if !bar.is_valid() {
            out[..5].fill(f64::NAN);
            return;
        }
        out[0] = self.rsi14.update_valid(bar).map_or(f64::NAN, |r| r / 100.0);
        let (wt1, wt2) = self.wt.update_value((bar.high + bar.low + bar.close) / 3.0);
        out[1] = match (wt1, wt2) {
            (Some(a), Some(b)) => self.wt_norm.update(a - b),
            _ => f64::NAN,
        };
        out[2] = self.cci.update_value(bar.close).map_or(f64::NAN, |x| self.cci_norm.update(x));
        out[3] = self.adx.update(bar.high, bar.low, bar.close).map_or(f64::NAN, |a| a / 100.0);
        out[4] = self.rsi9.update_valid(bar).map_or(f64::NAN, |r| r / 100.0);
    }

    fn reset(&mut self) {
        *self = Self::new();
    }
}
