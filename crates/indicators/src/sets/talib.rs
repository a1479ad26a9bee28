//! The `talib` set: exactly the columns of `fixtures/oracle/indicators_BTCUSDT_4h.csv`, with its
//! names and TA-Lib's parameters.

use vane_core::{Bar, Bars};

use super::{FeatureStream, fill_columns, names, put, val};
use crate::Indicator;
use crate::average::{ExponentialMovingAverage, KaufmanAdaptiveMovingAverage, SimpleMovingAverage, TillsonT3};
use crate::frame::FeatureFrame;
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

/// The columns of [`First`]: the oracle's `[0, SPLIT)`; [`Second`] writes the rest. The two
/// halves cost about the same, so a whole series is computed with one on each core
/// ([`compute_into`]), each running exactly the code of the streaming update.
const SPLIT: usize = 19;

pub(crate) struct TalibStream {
    names: Vec<String>,
    first: First,
    second: Second,
}

/// RSI … CCI.
struct First {
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
}

/// WILLR … Ichimoku.
struct Second {
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
        Self { names: names(&COLUMNS), first: First::new(), second: Second::new() }
    }
}

impl First {
    fn new() -> Self {
        Self {
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
        }
    }

    /// Writes columns `[0, SPLIT)` of a valid bar.
    #[inline]
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
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
        out[i] = val(self.cci.update_valid(bar));
        i += 1;
        debug_assert_eq!(i, SPLIT);
    }
}

impl Second {
    fn new() -> Self {
        Self {
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

    /// Writes columns `[SPLIT, 47)` of a valid bar (into `out[0..]`).
    #[inline]
    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        let mut i = 0;
        for v in [
            self.willr.update_valid(bar),
            self.roc.update_valid(bar),
            self.ultosc.update_valid(bar),
            self.mfi.update_valid(bar),
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
        debug_assert_eq!(SPLIT + i, COLUMNS.len());
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
        let (a, b) = out[..COLUMNS.len()].split_at_mut(SPLIT);
        self.first.update(bar, a);
        self.second.update(bar, b);
    }

    fn reset(&mut self) {
        *self = Self::new();
    }
}

/// The set over a whole series into `frame`: the two halves of the columns on two threads when
/// there are two cores (the same values as the one-stream [`super::compute_stream_into`], bit for
/// bit: each half runs the streaming code over every bar).
pub(crate) fn compute_into(bars: &Bars, frame: &mut FeatureFrame) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    compute_into_threads(bars, frame, threads >= 2 && bars.len() >= PARALLEL_MIN_BARS);
}

fn compute_into_threads(bars: &Bars, frame: &mut FeatureFrame, parallel: bool) {
    let mut stream = TalibStream::new();
    if !parallel {
        super::compute_stream_into(&mut stream, bars, frame);
        return;
    }
    frame.reshape(&stream.names, bars.open_time());
    let (a, b) = frame.columns_mut().split_at_mut(SPLIT);
    let TalibStream { first, second, .. } = &mut stream;
    std::thread::scope(|s| {
        s.spawn(|| {
            fill_columns(bars, a, |bar, out| if bar.is_valid() { first.update(bar, out) } else { out.fill(f64::NAN) })
        });
        fill_columns(bars, b, |bar, out| if bar.is_valid() { second.update(bar, out) } else { out.fill(f64::NAN) });
    });
}

/// Below this many bars one thread computes the set (a thread costs more than it saves).
const PARALLEL_MIN_BARS: usize = 20_000;

#[cfg(test)]
mod tests {
    use super::*;
    use vane_core::Timestamp;

    #[test]
    fn two_threads_give_the_streaming_values_bit_for_bit() {
        // A seeded random walk with flat bars and zero volumes mixed in.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut price = 100.0;
        let rows: Vec<Bar> = (0..3000)
            .map(|i| {
                let open = price;
                price *= 1.0 + (next() - 0.5) * 0.01;
                let flat = i % 97 == 0;
                let high = if flat { open.max(price) } else { open.max(price) * (1.0 + next() * 0.002) };
                let low = if flat { open.min(price) } else { open.min(price) * (1.0 - next() * 0.002) };
                let volume = if i % 53 == 0 { 0.0 } else { next() * 100.0 };
                Bar::ohlcv(Timestamp(i as i64 * 60_000), open, high, low, price, volume)
            })
            .collect();
        let bars = Bars::from_bars(&rows).unwrap();
        let streamed = super::super::compute_stream(&mut TalibStream::new(), &bars);
        let mut parallel = FeatureFrame::default();
        compute_into_threads(&bars, &mut parallel, true);
        assert_eq!(parallel.names(), streamed.names());
        assert_eq!(parallel.open_time(), streamed.open_time());
        for (name, (p, s)) in streamed.names().iter().zip(parallel.columns().iter().zip(streamed.columns())) {
            let bits = |c: &[f64]| c.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(p), bits(s), "{name}");
        }
    }
}
