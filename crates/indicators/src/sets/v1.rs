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
        out[8] = bb.map_or(f64::NAN, |b| b.percent_b);
        out[9] = bb.map_or(f64::NAN, |b| b.width);
        out[10] = bar.volume.ln_1p();
        out[11] = self.vol30.update_valid(bar).map_or(f64::NAN, |v| v.ratio);
        out[12] = val(self.cmf.update_valid(bar));
        out[13] = val(self.obv.update_valid(bar));
    }

    fn reset(&mut self) {
        *self = Self::new();
    }
}
