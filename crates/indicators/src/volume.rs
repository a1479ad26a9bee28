//! Volume: OBV, Chaikin A/D line and oscillator, Chaikin money flow, volume SMA and ratio.

use vane_core::Bar;

use crate::error::{Result, check_period};
use crate::indicator::{Indicator, outputs, ratio};
use crate::rolling::{RollingSum, SmaCore};

/// On-balance volume, TA-Lib `OBV`: starts at the first bar's volume, then adds the volume when
/// the close rises and subtracts it when it falls; first value at index 0.
#[derive(Clone, Debug, Default)]
pub struct OnBalanceVolume {
    prev_close: Option<f64>,
    obv: f64,
}

impl OnBalanceVolume {
    /// An OBV line.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Indicator for OnBalanceVolume {
    type Output = f64;
    fn update_valid(&mut self, bar: &Bar) -> Option<f64> {
        match self.prev_close {
            None => self.obv = bar.volume,
            Some(p) if bar.close > p => self.obv += bar.volume,
            Some(p) if bar.close < p => self.obv -= bar.volume,
            Some(_) => {}
        }
        self.prev_close = Some(bar.close);
        Some(self.obv)
    }
    fn reset(&mut self) {
        *self = Self::default();
    }
    fn is_ready(&self) -> bool {
        self.prev_close.is_some()
    }
    fn warmup(&self) -> usize {
        0
    }
}

/// The close-location value times volume: `((c − l) − (h − c))/(h − l)·v`, 0 when `h == l`.
#[inline]
pub(crate) fn money_flow_volume(bar: &Bar) -> f64 {
    let range = bar.high - bar.low;
    if range > 0.0 { (((bar.close - bar.low) - (bar.high - bar.close)) / range) * bar.volume } else { 0.0 }
}

/// Chaikin accumulation/distribution line, TA-Lib `AD`: the running sum of
/// `money_flow_volume`; first value at index 0.
#[derive(Clone, Debug, Default)]
pub struct AccumulationDistribution {
    ad: f64,
    seen: bool,
}

impl AccumulationDistribution {
    /// An A/D line.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Indicator for AccumulationDistribution {
    type Output = f64;
    fn update_valid(&mut self, bar: &Bar) -> Option<f64> {
        self.ad += money_flow_volume(bar);
        self.seen = true;
        Some(self.ad)
    }
    fn reset(&mut self) {
        *self = Self::default();
    }
    fn is_ready(&self) -> bool {
        self.seen
    }
    fn warmup(&self) -> usize {
        0
    }
}

/// Chaikin A/D oscillator, TA-Lib `ADOSC(fast, slow)`: `EMA_fast(AD) − EMA_slow(AD)` where both
/// EMAs start at the first A/D value (not an SMA seed) and update as `k·x + (1 − k)·ema`;
/// first value at index `max(fast, slow) − 1`.
#[derive(Clone, Debug)]
pub struct ChaikinOscillator {
    fast: usize,
    slow: usize,
    ad: AccumulationDistribution,
    ema_fast: f64,
    ema_slow: f64,
    count: usize,
}

impl ChaikinOscillator {
    /// Oscillator with `fast, slow ≥ 2`.
    pub fn new(fast: usize, slow: usize) -> Result<Self> {
        check_period("ADOSC", "fast period", fast, 2)?;
        check_period("ADOSC", "slow period", slow, 2)?;
        Ok(Self { fast, slow, ad: AccumulationDistribution::new(), ema_fast: 0.0, ema_slow: 0.0, count: 0 })
    }
}

impl Indicator for ChaikinOscillator {
    type Output = f64;
    fn update_valid(&mut self, bar: &Bar) -> Option<f64> {
        let ad = self.ad.update_valid(bar)?;
        let kf = 2.0 / (self.fast as f64 + 1.0);
        let ks = 2.0 / (self.slow as f64 + 1.0);
        if self.count == 0 {
            self.ema_fast = ad;
            self.ema_slow = ad;
        } else {
            self.ema_fast = kf * ad + (1.0 - kf) * self.ema_fast;
            self.ema_slow = ks * ad + (1.0 - ks) * self.ema_slow;
        }
        self.count += 1;
        (self.count > self.warmup()).then_some(self.ema_fast - self.ema_slow)
    }
    fn reset(&mut self) {
        *self = Self::new(self.fast, self.slow).expect("valid periods");
    }
    fn is_ready(&self) -> bool {
        self.count > self.warmup()
    }
    fn warmup(&self) -> usize {
        self.fast.max(self.slow) - 1
    }
}

/// Chaikin money flow: `Σ_n money_flow_volume / Σ_n volume` over the last n bars (NaN when the
/// volume sum is 0); first value at n−1.
#[derive(Clone, Debug)]
pub struct ChaikinMoneyFlow {
    n: usize,
    mfv: RollingSum,
    vol: RollingSum,
    ready: bool,
}

impl ChaikinMoneyFlow {
    /// CMF over `n ≥ 1` bars.
    pub fn new(n: usize) -> Result<Self> {
        check_period("CMF", "period", n, 1)?;
        Ok(Self { n, mfv: RollingSum::new(n), vol: RollingSum::new(n), ready: false })
    }
}

impl Indicator for ChaikinMoneyFlow {
    type Output = f64;
    fn update_valid(&mut self, bar: &Bar) -> Option<f64> {
        let (m, v) = (self.mfv.push(money_flow_volume(bar)), self.vol.push(bar.volume));
        let out = ratio(m?, v?);
        self.ready = true;
        Some(out)
    }
    fn reset(&mut self) {
        *self = Self::new(self.n).expect("valid period");
    }
    fn is_ready(&self) -> bool {
        self.ready
    }
    fn warmup(&self) -> usize {
        self.n - 1
    }
}

outputs! {
    /// Volume moving average and ratio output.
    VolumeSmaOutput {
        /// SMA(n) of the volume.
        sma,
        /// `volume / SMA(n)` (NaN when the SMA is 0).
        ratio,
    }
}

/// Volume SMA over n bars and the current volume relative to it; first value at n−1.
#[derive(Clone, Debug)]
pub struct VolumeSma {
    n: usize,
    sma: SmaCore,
    ready: bool,
}

impl VolumeSma {
    /// Over `n ≥ 1` bars.
    pub fn new(n: usize) -> Result<Self> {
        check_period("VolumeSma", "period", n, 1)?;
        Ok(Self { n, sma: SmaCore::new(n), ready: false })
    }
}

impl Indicator for VolumeSma {
    type Output = VolumeSmaOutput;
    fn update_valid(&mut self, bar: &Bar) -> Option<VolumeSmaOutput> {
        let sma = self.sma.update(bar.volume)?;
        self.ready = true;
        Some(VolumeSmaOutput { sma, ratio: ratio(bar.volume, sma) })
    }
    fn reset(&mut self) {
        *self = Self::new(self.n).expect("valid period");
    }
    fn is_ready(&self) -> bool {
        self.ready
    }
    fn warmup(&self) -> usize {
        self.n - 1
    }
}

/// OBV made scale-free: `(OBV_t − OBV_{t−n}) / Σ_n volume`, in [−1, 1] (NaN when the volume sum
/// is 0); first value at n.
#[derive(Clone, Debug)]
pub struct NormalizedObv {
    n: usize,
    obv: OnBalanceVolume,
    lag: crate::rolling::Lag,
    volume: RollingSum,
    ready: bool,
}

impl NormalizedObv {
    /// Over `n ≥ 1` bars.
    pub fn new(n: usize) -> Result<Self> {
        check_period("NormalizedObv", "period", n, 1)?;
        Ok(Self {
            n,
            obv: OnBalanceVolume::new(),
            lag: crate::rolling::Lag::new(n),
            volume: RollingSum::new(n),
            ready: false,
        })
    }
}

impl Indicator for NormalizedObv {
    type Output = f64;
    fn update_valid(&mut self, bar: &Bar) -> Option<f64> {
        let obv = self.obv.update_valid(bar)?;
        let (old, sum) = (self.lag.update(obv), self.volume.push(bar.volume));
        let out = ratio(obv - old?, sum?);
        self.ready = true;
        Some(out)
    }
    fn reset(&mut self) {
        *self = Self::new(self.n).expect("valid period");
    }
    fn is_ready(&self) -> bool {
        self.ready
    }
    fn warmup(&self) -> usize {
        self.n
    }
}
