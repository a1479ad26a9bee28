//! Seed 004's `full` set: 49 features in eight groups, every one relative to price (or
//! otherwise scale-free) so one model serves every symbol.

use vane_core::Bar;

use super::v1::{Run, or_degenerate};
use super::{FeatureStream, hour_and_weekday, names, val};
use crate::Indicator;
use crate::average::ExponentialMovingAverage;
use crate::indicator::ratio;
use crate::momentum::{
    Aroon, CommodityChannelIndex, DetrendedPriceOscillator, MoneyFlowIndex, MovingAverageConvergenceDivergence,
    RateOfChange, RelativeStrengthIndex, Stochastic, UltimateOscillator, WilliamsR,
};
use crate::rolling::{Lag, SmaCore};
use crate::trend::{AverageDirectionalIndex, Ichimoku, ParabolicSar, Vortex};
use crate::volatility::{AverageTrueRange, BollingerBands, DonchianChannel};
use crate::volume::{ChaikinMoneyFlow, NormalizedObv};

pub(crate) const COLUMNS: [&str; 49] = [
    // trend (11)
    "ema_12_dist",
    "ema_26_dist",
    "ema_50_dist",
    "adx_14",
    "macd_norm",
    "macd_hist_norm",
    "ichimoku_tk_diff",
    "ichimoku_cloud_dist",
    "sar_dist",
    "aroon_osc_14",
    "dpo_20_norm",
    // oscillators (9)
    "rsi_14",
    "rsi_7",
    "stoch_k",
    "stoch_d",
    "cci_20",
    "willr_14",
    "roc_10",
    "ultosc",
    "mfi_14",
    // volatility (8)
    "atr_norm",
    "bb_upper_dist",
    "bb_lower_dist",
    "bb_width",
    "bb_pctb",
    "donchian_upper_dist",
    "donchian_lower_dist",
    "donchian_pos",
    // volume (4)
    "obv_norm_20",
    "cmf_20",
    "volume_sma_ratio",
    "volume_ratio_20",
    // vortex (2)
    "vortex_plus_14",
    "vortex_minus_14",
    // time (3)
    "hour",
    "day_of_week",
    "is_weekend",
    // price changes (3)
    "ret_1",
    "ret_4",
    "ret_16",
    // derived (9)
    "hl_range",
    "body",
    "upper_wick",
    "lower_wick",
    "close_pos",
    "di_diff",
    "ema_12_26_spread",
    "rsi_14_change",
    "atr_ratio_14_50",
];

pub(crate) struct FullStream {
    names: Vec<String>,
    ema12: ExponentialMovingAverage,
    ema26: ExponentialMovingAverage,
    ema50: ExponentialMovingAverage,
    adx: AverageDirectionalIndex,
    macd: MovingAverageConvergenceDivergence,
    ichimoku: Ichimoku,
    sar: ParabolicSar,
    aroon: Aroon,
    dpo: DetrendedPriceOscillator,
    rsi14: RelativeStrengthIndex,
    rsi7: RelativeStrengthIndex,
    stoch: Stochastic,
    cci: CommodityChannelIndex,
    willr: WilliamsR,
    roc: RateOfChange,
    ultosc: UltimateOscillator,
    mfi: MoneyFlowIndex,
    atr14: AverageTrueRange,
    atr50: AverageTrueRange,
    bb: BollingerBands,
    donchian: DonchianChannel,
    obv: NormalizedObv,
    cmf: ChaikinMoneyFlow,
    vol_sma5: SmaCore,
    vol_sma20: SmaCore,
    vortex: Vortex,
    close_lag: [Lag; 3],
    prev_rsi: Option<f64>,
    prev_close: Option<f64>,
    /// Bars since the last one with volume.
    no_volume: Run,
    /// Bars since the last one with a nonzero true range.
    no_range: Run,
}

impl FullStream {
    pub(crate) fn new() -> Self {
        Self {
            names: names(&COLUMNS),
            ema12: ExponentialMovingAverage::new(12).expect("valid"),
            ema26: ExponentialMovingAverage::new(26).expect("valid"),
            ema50: ExponentialMovingAverage::new(50).expect("valid"),
            adx: AverageDirectionalIndex::new(14).expect("valid"),
            macd: MovingAverageConvergenceDivergence::new(12, 26, 9).expect("valid"),
            ichimoku: Ichimoku::new(9, 26, 52, 26).expect("valid"),
            sar: ParabolicSar::new(0.02, 0.2).expect("valid"),
            aroon: Aroon::new(14).expect("valid"),
            dpo: DetrendedPriceOscillator::new(20).expect("valid"),
            rsi14: RelativeStrengthIndex::new(14).expect("valid"),
            rsi7: RelativeStrengthIndex::new(7).expect("valid"),
            stoch: Stochastic::new(14, 3, 3).expect("valid"),
            cci: CommodityChannelIndex::new(20).expect("valid"),
            willr: WilliamsR::new(14).expect("valid"),
            roc: RateOfChange::new(10).expect("valid"),
            ultosc: UltimateOscillator::new(7, 14, 28).expect("valid"),
            mfi: MoneyFlowIndex::new(14).expect("valid"),
            atr14: AverageTrueRange::new(14).expect("valid"),
            atr50: AverageTrueRange::new(50).expect("valid"),
            bb: BollingerBands::new(20, 2.0, 2.0).expect("valid"),
            donchian: DonchianChannel::new(20).expect("valid"),
            obv: NormalizedObv::new(20).expect("valid"),
            cmf: ChaikinMoneyFlow::new(20).expect("valid"),
            vol_sma5: SmaCore::new(5),
            vol_sma20: SmaCore::new(20),
            vortex: Vortex::new(14).expect("valid"),
            close_lag: [Lag::new(1), Lag::new(4), Lag::new(16)],
            prev_rsi: None,
            prev_close: None,
            no_volume: Run::default(),
            no_range: Run::default(),
        }
    }
}

impl FeatureStream for FullStream {
    fn names(&self) -> &[String] {
        &self.names
    }

    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        if !bar.is_valid() {
            out[..COLUMNS.len()].fill(f64::NAN);
            return;
        }
        let (o, h, l, c, v) = (bar.open, bar.high, bar.low, bar.close, bar.volume);
        let rel = |x: Option<f64>| x.map_or(f64::NAN, |x| c / x - 1.0);
        // trend
        let e12 = self.ema12.update_valid(bar);
        let e26 = self.ema26.update_valid(bar);
        out[0] = rel(e12);
        out[1] = rel(e26);
        out[2] = rel(self.ema50.update_valid(bar));
        out[3] = val(self.adx.update_valid(bar));
        let macd = self.macd.update_valid(bar);
        out[4] = macd.map_or(f64::NAN, |m| m.macd / c);
        out[5] = macd.map_or(f64::NAN, |m| m.hist / c);
        let ich = self.ichimoku.update_valid(bar);
        out[6] = ich.map_or(f64::NAN, |i| (i.tenkan - i.kijun) / c);
        out[7] = ich.map_or(f64::NAN, |i| (c - (i.senkou_a_shifted + i.senkou_b_shifted) / 2.0) / c);
        out[8] = self.sar.update_valid(bar).map_or(f64::NAN, |s| (c - s) / c);
        out[9] = self.aroon.update_valid(bar).map_or(f64::NAN, |a| a.oscillator);
        out[10] = self.dpo.update_valid(bar).map_or(f64::NAN, |d| d / c);
        // oscillators
        let rsi14 = self.rsi14.update_valid(bar);
        out[11] = val(rsi14);
        out[12] = val(self.rsi7.update_valid(bar));
        let st = self.stoch.update_valid(bar);
        out[13] = st.map_or(f64::NAN, |s| s.slow_k);
        out[14] = st.map_or(f64::NAN, |s| s.slow_d);
        out[15] = val(self.cci.update_valid(bar));
        out[16] = val(self.willr.update_valid(bar));
        out[17] = val(self.roc.update_valid(bar));
        out[18] = val(self.ultosc.update_valid(bar));
        out[19] = val(self.mfi.update_valid(bar));
        // volatility
        let atr14 = self.atr14.update_valid(bar);
        let atr50 = self.atr50.update_valid(bar);
        out[20] = atr14.map_or(f64::NAN, |a| a / c);
        let bb = self.bb.update_valid(bar);
        out[21] = bb.map_or(f64::NAN, |b| b.upper / c - 1.0);
        out[22] = bb.map_or(f64::NAN, |b| b.lower / c - 1.0);
        out[23] = bb.map_or(f64::NAN, |b| b.width);
        out[24] = or_degenerate(bb.map(|b| b.percent_b), false, 0.5);
        let dc = self.donchian.update_valid(bar);
        out[25] = dc.map_or(f64::NAN, |d| d.upper / c - 1.0);
        out[26] = dc.map_or(f64::NAN, |d| d.lower / c - 1.0);
        out[27] = or_degenerate(dc.map(|d| ratio(c - d.lower, d.upper - d.lower)), false, 0.5);
        // volume
        let no_volume = self.no_volume.update(v == 0.0);
        out[28] = or_degenerate(self.obv.update_valid(bar), no_volume >= 20, 0.0);
        out[29] = or_degenerate(self.cmf.update_valid(bar), no_volume >= 20, 0.0);
        let s5 = self.vol_sma5.update(v);
        let s20 = self.vol_sma20.update(v);
        out[30] = or_degenerate(s5.zip(s20).map(|(a, b)| ratio(a, b)), no_volume >= 5, 0.0);
        out[31] = or_degenerate(s20.map(|b| ratio(v, b)), no_volume > 0, 0.0);
        // vortex
        let vx = self.vortex.update_valid(bar);
        let pc = self.prev_close.replace(c).unwrap_or(c);
        let no_range = self.no_range.update(h.max(pc) - l.min(pc) == 0.0) >= 14;
        out[32] = or_degenerate(vx.map(|x| x.plus), no_range, 1.0);
        out[33] = or_degenerate(vx.map(|x| x.minus), no_range, 1.0);
        // time
        let (hour, dow) = hour_and_weekday(bar.open_time.0);
        out[34] = hour;
        out[35] = dow;
        out[36] = if dow >= 5.0 { 1.0 } else { 0.0 };
        // price changes
        for (k, lag) in self.close_lag.iter_mut().enumerate() {
            out[37 + k] = lag.update(c).map_or(f64::NAN, |p| c / p - 1.0);
        }
        // derived
        out[40] = (h - l) / c;
        out[41] = (c - o) / o;
        out[42] = (h - o.max(c)) / c;
        out[43] = (o.min(c) - l) / c;
        out[44] = or_degenerate(Some(ratio(c - l, h - l)), false, 0.5);
        out[45] = self.adx.directional().map_or(f64::NAN, |d| (d.plus_di - d.minus_di) / 100.0);
        out[46] = match (e12, e26) {
            (Some(a), Some(b)) => a / b - 1.0,
            _ => f64::NAN,
        };
        out[47] = match (rsi14, self.prev_rsi) {
            (Some(a), Some(b)) => a - b,
            _ => f64::NAN,
        };
        self.prev_rsi = rsi14;
        out[48] = or_degenerate(atr14.zip(atr50).map(|(a, b)| ratio(a, b)), false, 0.0);
    }

    fn reset(&mut self) {
        *self = Self::new();
    }
}
