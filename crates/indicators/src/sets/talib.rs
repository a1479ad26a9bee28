//! The `talib` set: exactly the columns of `fixtures/oracle/indicators_BTCUSDT_4h.csv`, with its
//! names and TA-Lib's parameters.

use vane_core::Bar;

use super::{FeatureStream, names, put, val};
use crate::Indicator;
use crate::average::{ExponentialMovingAverage, KaufmanAdaptiveMovingAverage, SimpleMovingAverage, TillsonT3};
use crate::momentum::{
    Aroon, CommodityChannelIndex, Momentum, MoneyFlowIndex, MovingAverageConvergenceDivergence,
    PercentagePriceOscillator, RateOfChange, RelativeStrengthIndex, Stochastic, Trix, UltimateOscillator, WilliamsR,
};
use crate::trend::{AverageDirectionalIndex, DirectionalOutput, Ichimoku, ParabolicSar, Vortex};
use crate::volatility::{AverageTrueRange, BollingerBands, DonchianChannel, TrueRange};
use crate::volume::{AccumulationDistribution, ChaikinMoneyFlow, ChaikinOscillator, OnBalanceVolume};

/// The oracle's columns, in its order.
pub(crate) const COLUMNS: [&str; 47] = [
    "rsi_14",
    "macd_12_26_9",
    "macd_signal_12_26_9",
    "macd_hist_12_26_9",
    "adx_14",
    "plus_di_14",
    "minus_di_14",
    "dx_14",
    "atr_14",
    "natr_14",
    "trange",
    "bb_upper_20_2",
    "bb_middle_20_2",
    "bb_lower_20_2",
    "ema_50",
    "sma_30",
    "stoch_slowk_14_3_3",
    "stoch_slowd_14_3_3",
    "cci_20",
    "willr_14",
    "roc_10",
    "ultosc_7_14_28",
    "mfi_14",
    "obv",
    "ad",
    "adosc_3_10",
    "sar_0.02_0.2",
    "aroon_up_14",
    "aroon_down_14",
    "aroonosc_14",
    "trix_30",
    "mom_10",
    "ppo_12_26_sma",
    "kama_30",
    "t3_5_0.7",
    "cmf_20",
    "donchian_upper_20",
    "donchian_lower_20",
    "donchian_middle_20",
    "vortex_plus_14",
    "vortex_minus_14",
    "ichimoku_tenkan_9",
    "ichimoku_kijun_26",
    "ichimoku_senkou_a_raw",
    "ichimoku_senkou_b_raw",
    "ichimoku_senkou_a_shift26",
    "ichimoku_senkou_b_shift26",
];

pub(crate) struct TalibStream {
    names: Vec<String>,
    rsi: RelativeStrengthIndex,
    macd: MovingAverageConvergenceDivergence,
    adx: AverageDirectionalIndex,
    atr: AverageTrueRange,
    tr: TrueRange,
    bb: BollingerBands,
    ema: ExponentialMovingAverage,
    sma: SimpleMovingAverage,
    stoch: Stochastic,
    cci: CommodityChannelIndex,
    willr: WilliamsR,
    roc: RateOfChange,
    ultosc: UltimateOscillator,
    mfi: MoneyFlowIndex,
    obv: OnBalanceVolume,
    ad: AccumulationDistribution,
    adosc: ChaikinOscillator,
    sar: ParabolicSar,
    aroon: Aroon,
    trix: Trix,
    mom: Momentum,
    ppo: PercentagePriceOscillator,
    kama: KaufmanAdaptiveMovingAverage,
    t3: TillsonT3,
    cmf: ChaikinMoneyFlow,
    donchian: DonchianChannel,
    vortex: Vortex,
    ichimoku: Ichimoku,
}

impl TalibStream {
    pub(crate) fn new() -> Self {
        Self {
            names: names(&COLUMNS),
            rsi: RelativeStrengthIndex::new(14).expect("valid"),
            macd: MovingAverageConvergenceDivergence::new(12, 26, 9).expect("valid"),
            adx: AverageDirectionalIndex::new(14).expect("valid"),
            atr: AverageTrueRange::new(14).expect("valid"),
            tr: TrueRange::new(),
            bb: BollingerBands::new(20, 2.0, 2.0).expect("valid"),
            ema: ExponentialMovingAverage::new(50).expect("valid"),
            sma: SimpleMovingAverage::new(30).expect("valid"),
            stoch: Stochastic::new(14, 3, 3).expect("valid"),
            cci: CommodityChannelIndex::new(20).expect("valid"),
            willr: WilliamsR::new(14).expect("valid"),
            roc: RateOfChange::new(10).expect("valid"),
            ultosc: UltimateOscillator::new(7, 14, 28).expect("valid"),
            mfi: MoneyFlowIndex::new(14).expect("valid"),
            obv: OnBalanceVolume::new(),
            ad: AccumulationDistribution::new(),
            adosc: ChaikinOscillator::new(3, 10).expect("valid"),
            sar: ParabolicSar::new(0.02, 0.2).expect("valid"),
            aroon: Aroon::new(14).expect("valid"),
            trix: Trix::new(30).expect("valid"),
            mom: Momentum::new(10).expect("valid"),
            ppo: PercentagePriceOscillator::new(12, 26).expect("valid"),
            kama: KaufmanAdaptiveMovingAverage::new(30).expect("valid"),
            t3: TillsonT3::new(5, 0.7).expect("valid"),
            cmf: ChaikinMoneyFlow::new(20).expect("valid"),
            donchian: DonchianChannel::new(20).expect("valid"),
            vortex: Vortex::new(14).expect("valid"),
            ichimoku: Ichimoku::new(9, 26, 52, 26).expect("valid"),
        }
    }
}

impl FeatureStream for TalibStream {
    fn names(&self) -> &[String] {
        &self.names
    }

    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        if !bar.is_valid() {
            out[..COLUMNS.len()].fill(f64::NAN);
            return;
        }
        let mut i = 0;
        i += put(&mut out[i..], self.rsi.update_valid(bar));
        i += put(&mut out[i..], self.macd.update_valid(bar));
        let adx = self.adx.update_valid(bar);
        out[i] = val(adx);
        i += 1;
        let dm: Option<DirectionalOutput> = self.adx.directional();
        i += put(&mut out[i..], dm);
        let atr = self.atr.update_valid(bar);
        out[i] = val(atr);
        out[i + 1] = match atr {
            Some(a) if bar.close != 0.0 => (a / bar.close) * 100.0,
            Some(_) => 0.0,
            None => f64::NAN,
        };
        out[i + 2] = val(self.tr.update_valid(bar));
        i += 3;
        let bb = self.bb.update_valid(bar);
        out[i] = bb.map_or(f64::NAN, |b| b.upper);
        out[i + 1] = bb.map_or(f64::NAN, |b| b.middle);
        out[i + 2] = bb.map_or(f64::NAN, |b| b.lower);
        i += 3;
        out[i] = val(self.ema.update_valid(bar));
        out[i + 1] = val(self.sma.update_valid(bar));
        i += 2;
        i += put(&mut out[i..], self.stoch.update_valid(bar));
        for v in [
            self.cci.update_valid(bar),
            self.willr.update_valid(bar),
            self.roc.update_valid(bar),
            self.ultosc.update_valid(bar),
            self.mfi.update_valid(bar),
        ] {
            out[i] = val(v);
            i += 1;
        }
        for v in [
            self.obv.update_valid(bar),
            self.ad.update_valid(bar),
            self.adosc.update_valid(bar),
            self.sar.update_valid(bar),
        ] {
            out[i] = val(v);
            i += 1;
        }
        i += put(&mut out[i..], self.aroon.update_valid(bar));
        for v in [
            self.trix.update_valid(bar),
            self.mom.update_valid(bar),
            self.ppo.update_valid(bar),
            self.kama.update_valid(bar),
            self.t3.update_valid(bar),
            self.cmf.update_valid(bar),
        ] {
            out[i] = val(v);
            i += 1;
        }
        i += put(&mut out[i..], self.donchian.update_valid(bar));
        i += put(&mut out[i..], self.vortex.update_valid(bar));
        i += put(&mut out[i..], self.ichimoku.update_valid(bar));
        debug_assert_eq!(i, COLUMNS.len());
    }

    fn reset(&mut self) {
        *self = Self::new();
    }
}
