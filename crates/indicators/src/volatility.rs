//! Volatility: true range, ATR, NATR, Bollinger Bands, Donchian channel, realised volatility,
//! log returns.

use vane_core::Bar;

use crate::error::{IndicatorError, Result, check_period};
use crate::indicator::{Indicator, outputs, ratio};
use crate::momentum::stepped;
use crate::rolling::{Lag, RollingExtreme, RollingMoments, RollingStd, SmaCore};

/// TA-Lib's true range given the previous close.
#[inline]
pub(crate) fn true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    let mut greatest = high - low;
    let v2 = (prev_close - high).abs();
    if v2 > greatest {
        greatest = v2;
    }
    let v3 = (prev_close - low).abs();
    if v3 > greatest {
        greatest = v3;
    }
    greatest
}

/// True range, TA-Lib `TRANGE`: `max(h − l, |h − c₋₁|, |l − c₋₁|)`; first value at index 1.
#[derive(Clone, Debug, Default)]
pub struct TrueRange {
    prev_close: Option<f64>,
    count: usize,
}

impl TrueRange {
    /// A true-range indicator.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Indicator for TrueRange {
    type Output = f64;
    fn update_valid(&mut self, bar: &Bar) -> Option<f64> {
        self.count += 1;
        let out = self.prev_close.map(|pc| true_range(bar.high, bar.low, pc));
        self.prev_close = Some(bar.close);
        out
    }
    fn reset(&mut self) {
        *self = Self::default();
    }
    fn is_ready(&self) -> bool {
        self.count > 1
    }
    fn warmup(&self) -> usize {
        1
    }
}

/// Average true range, TA-Lib `ATR(n)`: the mean of the first n true ranges (bars 1..=n), then
/// `atr = (atr·(n−1) + tr)/n`; first value at index n.
#[derive(Clone, Debug)]
pub struct AverageTrueRange {
    n: usize,
    tr: TrueRange,
    seed: f64,
    count: usize,
    atr: Option<f64>,
}

impl AverageTrueRange {
    /// ATR over `n ≥ 1` bars.
    pub fn new(n: usize) -> Result<Self> {
        check_period("ATR", "period", n, 1)?;
        Ok(Self { n, tr: TrueRange::new(), seed: 0.0, count: 0, atr: None })
    }
}

impl Indicator for AverageTrueRange {
    type Output = f64;
    fn update_valid(&mut self, bar: &Bar) -> Option<f64> {
        let tr = self.tr.update_valid(bar)?;
        let n = self.n as f64;
        match self.atr {
            Some(a) => self.atr = Some((a * (n - 1.0) + tr) / n),
            None => {
                self.seed += tr;
                self.count += 1;
                if self.count == self.n {
                    self.atr = Some(self.seed / n);
                }
            }
        }
        self.atr
    }
    fn reset(&mut self) {
        *self = Self::new(self.n).expect("valid period");
    }
    fn is_ready(&self) -> bool {
        self.atr.is_some()
    }
    fn warmup(&self) -> usize {
        self.n
    }
}

/// Normalised ATR, TA-Lib `NATR(n)` = `100·ATR/close` (0 when close is 0); first value at n.
#[derive(Clone, Debug)]
pub struct NormalizedAverageTrueRange {
    atr: AverageTrueRange,
}

impl NormalizedAverageTrueRange {
    /// NATR over `n ≥ 1` bars.
    pub fn new(n: usize) -> Result<Self> {
        Ok(Self { atr: AverageTrueRange::new(n)? })
    }
}

impl Indicator for NormalizedAverageTrueRange {
    type Output = f64;
    fn update_valid(&mut self, bar: &Bar) -> Option<f64> {
        let a = self.atr.update_valid(bar)?;
        Some(if bar.close != 0.0 { (a / bar.close) * 100.0 } else { 0.0 })
    }
    fn reset(&mut self) {
        self.atr.reset();
    }
    fn is_ready(&self) -> bool {
        self.atr.is_ready()
    }
    fn warmup(&self) -> usize {
        self.atr.warmup()
    }
}

outputs! {
    /// Bollinger Bands output.
    BollingerOutput {
        /// `middle + k_up·σ`.
        upper,
        /// SMA(n) of the close.
        middle,
        /// `middle − k_dn·σ`.
        lower,
        /// %B = `(close − lower)/(upper − lower)`; NaN when the bands coincide.
        percent_b,
        /// Width = `(upper − lower)/middle`.
        width,
    }
}

/// Bollinger Bands, TA-Lib `BBANDS(n, up, dn, SMA)`: middle = SMA(n), σ = population standard
/// deviation over n (shifted-data moments, as TA-Lib 0.8); first value at n−1.
#[derive(Clone, Debug)]
pub struct BollingerBands {
    n: usize,
    k_up: f64,
    k_dn: f64,
    sma: SmaCore,
    moments: RollingMoments,
    count: usize,
}

impl BollingerBands {
    /// Bands over `n ≥ 2` bars at `k_up` / `k_dn` deviations.
    pub fn new(n: usize, k_up: f64, k_dn: f64) -> Result<Self> {
        check_period("BBANDS", "period", n, 2)?;
        if !(k_up.is_finite() && k_dn.is_finite()) {
            return Err(IndicatorError::InvalidParameter {
                indicator: "BBANDS",
                message: "deviations must be finite".into(),
            });
        }
        Ok(Self { n, k_up, k_dn, sma: SmaCore::new(n), moments: RollingMoments::new(n), count: 0 })
    }
}

impl Indicator for BollingerBands {
    type Output = BollingerOutput;
    fn update_valid(&mut self, bar: &Bar) -> Option<BollingerOutput> {
        self.count += 1;
        let c = bar.close;
        let middle = self.sma.update(c);
        let moments = self.moments.update(c);
        let (middle, (_, var)) = (middle?, moments?);
        let sd = if var != 0.0 { var.sqrt() } else { 0.0 };
        let (upper, lower) = if self.k_up == self.k_dn {
            let d = self.k_up * sd;
            (middle + d, middle - d)
        } else {
            (middle + self.k_up * sd, middle - self.k_dn * sd)
        };
        Some(BollingerOutput {
            upper,
            middle,
            lower,
            percent_b: ratio(c - lower, upper - lower),
            width: ratio(upper - lower, middle),
        })
    }
    fn reset(&mut self) {
        *self = Self::new(self.n, self.k_up, self.k_dn).expect("valid parameters");
    }
    fn is_ready(&self) -> bool {
        self.count >= self.n
    }
    fn warmup(&self) -> usize {
        self.n - 1
    }
}

outputs! {
    /// Donchian channel output.
    DonchianOutput {
        /// Highest high of the window (current bar included).
        upper,
        /// Lowest low of the window.
        lower,
        /// `(upper + lower)/2`.
        middle,
    }
}

/// Donchian channel over n bars **including the current one**; first value at n−1.
#[derive(Clone, Debug)]
pub struct DonchianChannel {
    n: usize,
    hi: RollingExtreme,
    lo: RollingExtreme,
    count: usize,
}

impl DonchianChannel {
    /// Channel over `n ≥ 1` bars.
    pub fn new(n: usize) -> Result<Self> {
        check_period("Donchian", "period", n, 1)?;
        Ok(Self { n, hi: RollingExtreme::max(n), lo: RollingExtreme::min(n), count: 0 })
    }
}

impl Indicator for DonchianChannel {
    type Output = DonchianOutput;
    fn update_valid(&mut self, bar: &Bar) -> Option<DonchianOutput> {
        self.count += 1;
        let (h, l) = (self.hi.push(bar.high), self.lo.push(bar.low));
        let (upper, lower) = (h?, l?);
        Some(DonchianOutput { upper, lower, middle: (upper + lower) / 2.0 })
    }
    fn reset(&mut self) {
        *self = Self::new(self.n).expect("valid period");
    }
    fn is_ready(&self) -> bool {
        self.count >= self.n
    }
    fn warmup(&self) -> usize {
        self.n - 1
    }
}

/// Log return of the close over n bars: `ln(c_t / c_{t−n})`; first value at n.
#[derive(Clone, Debug)]
pub struct LogReturn {
    n: usize,
    lag: Lag,
    count: usize,
}

impl LogReturn {
    /// Log return over `n ≥ 1` bars.
    pub fn new(n: usize) -> Result<Self> {
        check_period("LogReturn", "bars", n, 1)?;
        Ok(Self { n, lag: Lag::new(n), count: 0 })
    }
}

impl Indicator for LogReturn {
    type Output = f64;
    fn update_valid(&mut self, bar: &Bar) -> Option<f64> {
        self.count += 1;
        self.lag.update(bar.close).map(|p| (bar.close / p).ln())
    }
    fn reset(&mut self) {
        self.lag.reset();
        self.count = 0;
    }
    fn is_ready(&self) -> bool {
        self.count > self.n
    }
    fn warmup(&self) -> usize {
        self.n
    }
}

/// Realised volatility: the sample standard deviation (ddof 1) of the last n one-bar log
/// returns `ln(c_i/c_{i−1})`; first value at n. Not annualised.
#[derive(Clone, Debug)]
pub struct RealizedVolatility {
    n: usize,
    ret: LogReturn,
    std: RollingStd,
    ready: bool,
}

impl RealizedVolatility {
    /// Over `n ≥ 2` returns.
    pub fn new(n: usize) -> Result<Self> {
        check_period("RealizedVolatility", "window", n, 2)?;
        Ok(Self { n, ret: LogReturn::new(1)?, std: RollingStd::new(n, 1), ready: false })
    }
    fn fresh(&self) -> Self {
        Self::new(self.n).expect("valid period")
    }
    fn lookback(&self) -> usize {
        self.n
    }
    fn step(&mut self, bar: &Bar) -> Option<f64> {
        let r = self.ret.update_valid(bar)?;
        self.std.update(r).map(|(_, sd)| sd)
    }
}
stepped!(RealizedVolatility, f64);
