//! Seed 001's `v1` set: 14 scale-free columns for a multi-asset 4h model.

use vane_core::Bar;

use super::{FeatureStream, names, val};
use crate::Indicator;
use crate::average::ExponentialMovingAverage;
use crate::indicator::ratio;
use crate::momentum::{MovingAverageConvergenceDivergence, RelativeStrengthIndex};
use crate::trend::AverageDirectionalIndex;
use crate::volatility::{AverageTrueRange, BollingerBands, LogReturn, RealizedVolatility};
use crate::volume::{ChaikinMoneyFlow, NormalizedObv, VolumeSma};

pub(crate) const COLUMNS: [&str; 14] = [
    "r_1",
    "r_6",
    "rsi_14",
    "macd_hist",
    "adx_14",
    "ema50_dist",
    "atr_norm",
    "rv_20",
    "bb_pctb",
    "bb_width",
    "log_volume",
    "vol_rel",
    "cmf_20",
    "obv_norm",
];

pub(crate) struct V1Stream {
    names: Vec<String>,
    r1: LogReturn,
    r6: LogReturn,
    rsi: RelativeStrengthIndex,
    macd: MovingAverageConvergenceDivergence,
    adx: AverageDirectionalIndex,
    ema50: ExponentialMovingAverage,
    atr: AverageTrueRange,
    rv: RealizedVolatility,
    bb: BollingerBands,
    vol30: VolumeSma,
    cmf: ChaikinMoneyFlow,
    obv: NormalizedObv,
    /// Bars since the last one with volume.
    no_volume: Run,
}

impl V1Stream {
    pub(crate) fn new() -> Self {
        Self {
            names: names(&COLUMNS),
            r1: LogReturn::new(1).expect("valid"),
            r6: LogReturn::new(6).expect("valid"),
            rsi: RelativeStrengthIndex::new(14).expect("valid"),
            macd: MovingAverageConvergenceDivergence::new(12, 26, 9).expect("valid"),
            adx: AverageDirectionalIndex::new(14).expect("valid"),
            ema50: ExponentialMovingAverage::new(50).expect("valid"),
            atr: AverageTrueRange::new(14).expect("valid"),
            rv: RealizedVolatility::new(20).expect("valid"),
            bb: BollingerBands::new(20, 2.0, 2.0).expect("valid"),
            vol30: VolumeSma::new(30).expect("valid"),
            cmf: ChaikinMoneyFlow::new(20).expect("valid"),
            obv: NormalizedObv::new(30).expect("valid"),
            no_volume: Run::default(),
        }
    }
}

impl FeatureStream for V1Stream {
    fn names(&self) -> &[String] {
        &self.names
    }

    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        if !bar.is_valid() {
            out[..COLUMNS.len()].fill(f64::NAN);
            return;
        }
        let c = bar.close;
        out[0] = val(self.r1.update_valid(bar));
        out[1] = val(self.r6.update_valid(bar));
        out[2] = val(self.rsi.update_valid(bar));
        out[3] = self.macd.update_valid(bar).map_or(f64::NAN, |m| m.hist / c);
        out[4] = val(self.adx.update_valid(bar));
        out[5] = self.ema50.update_valid(bar).map_or(f64::NAN, |e| ratio(c - e, e));
        out[6] = self.atr.update_valid(bar).map_or(f64::NAN, |a| a / c);
        out[7] = val(self.rv.update_valid(bar));
        let bb = self.bb.update_valid(bar);
        out[8] = or_degenerate(bb.map(|b| b.percent_b), false, 0.5);
        out[9] = bb.map_or(f64::NAN, |b| b.width);
        out[10] = bar.volume.ln_1p();
        let no_volume = self.no_volume.update(bar.volume == 0.0);
        out[11] = or_degenerate(self.vol30.update_valid(bar).map(|v| v.ratio), no_volume > 0, 0.0);
        out[12] = or_degenerate(self.cmf.update_valid(bar), no_volume >= 20, 0.0);
        out[13] = or_degenerate(self.obv.update_valid(bar), no_volume >= 30, 0.0);
    }

    fn reset(&mut self) {
        *self = Self::new();
    }
}

/// A column's value once warmed up, with its degenerate case defined: NaN in warm-up (`None`);
/// `degenerate` when `flat` (an exact test that the column's window has zero range or zero
/// volume: the building blocks' rolling sums can keep rounding residue there, e.g. a CMF of
/// ±32) or when the value is NaN (0/0: a ratio with a zero denominator — the bars fed are valid
/// candles, finite positive prices and volumes ≥ 0, so NaN after warm-up means exactly that);
/// else the value itself. Each column's degenerate value and why: `docs/indicators.md`,
/// "Degenerate windows".
#[inline]
pub(super) fn or_degenerate(x: Option<f64>, flat: bool, degenerate: f64) -> f64 {
    match x {
        None => f64::NAN,
        Some(v) if flat || v.is_nan() => degenerate,
        Some(v) => v,
    }
}

/// The number of consecutive bars, up to the latest, for which a condition held: the window of
/// the last `n` bars is wholly degenerate exactly when the run is ≥ n.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Run(usize);

impl Run {
    /// Extends the run when `holds`, else restarts it; returns its length.
    #[inline]
    pub(super) fn update(&mut self, holds: bool) -> usize {
        self.0 = if holds { self.0.saturating_add(1) } else { 0 };
        self.0
    }
}
