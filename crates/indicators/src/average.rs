//! Moving averages of the close: SMA, EMA, KAMA, T3 (TA-Lib semantics).

use vane_core::Bar;

use crate::error::{Result, check_period};
use crate::indicator::Indicator;
use crate::rolling::{EmaCore, Ring, SmaCore};

macro_rules! close_indicator {
    ($ty:ident) => {
        impl Indicator for $ty {
            type Output = f64;
            fn update_valid(&mut self, bar: &Bar) -> Option<f64> {
                self.update_value(bar.close)
            }
            fn reset(&mut self) {
                self.reset_state();
            }
            fn is_ready(&self) -> bool {
                self.count > self.warmup()
            }
            fn warmup(&self) -> usize {
                self.lookback()
            }
        }
    };
}

/// A moving average of the close over a `rolling` core with TA-Lib's lookback `n − 1`.
macro_rules! core_average {
    ($(#[$meta:meta])* $name:ident, $core:ident, $label:literal) => {
        $(#[$meta])*
        #[derive(Clone, Debug)]
        pub struct $name {
            core: $core,
            n: usize,
            count: usize,
        }

        impl $name {
            #[doc = concat!($label, " over `n ≥ 1` bars.")]
            pub fn new(n: usize) -> Result<Self> {
                check_period($label, "period", n, 1)?;
                Ok(Self { core: $core::new(n), n, count: 0 })
            }
            /// Feeds a value directly (non-finite values are skipped).
            pub fn update_value(&mut self, x: f64) -> Option<f64> {
                if !x.is_finite() {
                    return None;
                }
                self.count += 1;
                self.core.update(x)
            }
            fn reset_state(&mut self) {
                self.core.reset();
                self.count = 0;
            }
            fn lookback(&self) -> usize {
                self.n - 1
            }
        }
        close_indicator!($name);
    };
}

core_average!(
    /// Simple moving average of the close, TA-Lib `SMA(n)`; first value at index n−1.
    SimpleMovingAverage,
    SmaCore,
    "SMA"
);

core_average!(
    /// Exponential moving average of the close, TA-Lib `EMA(n)`: seeded with the SMA of the
    /// first n closes, `k = 2/(n+1)`; first value at index n−1.
    ExponentialMovingAverage,
    EmaCore,
    "EMA"
);

/// Kaufman adaptive moving average, TA-Lib `KAMA(n)`; first value at index n.
///
/// Efficiency ratio `er = |c_t − c_{t−n}| / Σ_{n} |c_i − c_{i−1}|` (1 when the denominator is
/// ~0 or not above the signed change, as in TA-Lib), smoothing `sc = (er·(2/3 − 2/31) + 2/31)²`
/// (TA-Lib fixes the fast/slow constants at 2 and 30 bars),
/// `kama += (c − kama)·sc`, started from the previous close.
#[derive(Clone, Debug)]
pub struct KaufmanAdaptiveMovingAverage {
    n: usize,
    closes: Ring,
    sum_roc: f64,
    kama: Option<f64>,
    count: usize,
}

impl KaufmanAdaptiveMovingAverage {
    /// KAMA over `n ≥ 1` bars.
    pub fn new(n: usize) -> Result<Self> {
        check_period("KAMA", "period", n, 1)?;
        Ok(Self { n, closes: Ring::new(n + 1), sum_roc: 0.0, kama: None, count: 0 })
    }
    /// Feeds a value directly (non-finite values are skipped).
    pub fn update_value(&mut self, x: f64) -> Option<f64> {
        if !x.is_finite() {
            return None;
        }
        self.count += 1;
        let prev = self.closes.last();
        if let Some(p) = prev {
            self.sum_roc += (x - p).abs();
        }
        if let Some(old) = self.closes.push(x) {
            // `old` left the window; the diff between it and the next one leaves the sum.
            self.sum_roc -= (old - self.closes.get(0)).abs();
        }
        if !self.closes.is_full() {
            return None;
        }
        let period_roc = x - self.closes.get(0);
        // TA-Lib fixes the fast and slow constants at 2 and 30 bars, whatever the period.
        let max = 2.0 / 31.0;
        let diff = 2.0 / 3.0 - max;
        let er =
            if self.sum_roc <= period_roc || is_zero(self.sum_roc) { 1.0 } else { (period_roc / self.sum_roc).abs() };
        let sc = (er * diff + max).powi(2);
        let base = self.kama.unwrap_or_else(|| prev.unwrap_or(x));
        let k = (x - base) * sc + base;
        self.kama = Some(k);
        Some(k)
    }
    fn reset_state(&mut self) {
        *self = Self::new(self.n).expect("valid period");
    }
    fn lookback(&self) -> usize {
        self.n
    }
}
close_indicator!(KaufmanAdaptiveMovingAverage);

/// TA-Lib's `TA_EPSILON` (0.6.1 and later).
pub(crate) const EPSILON: f64 = 1e-14;

/// TA-Lib's `TA_IS_ZERO`: |v| < 1e-14.
#[inline]
pub(crate) fn is_zero(v: f64) -> bool {
    -EPSILON < v && v < EPSILON
}

/// TA-Lib's `TA_IS_ZERO_SCALED`: |v| ≤ 1e-14·scale (a zero test relative to the price level).
#[inline]
pub(crate) fn is_zero_scaled(v: f64, scale: f64) -> bool {
    v.abs() <= EPSILON * scale
}

/// Tillson's T3, TA-Lib `T3(n, v)`: six chained EMAs (each seeded with the SMA of its first n
/// inputs), `T3 = c1·e6 + c2·e5 + c3·e4 + c4·e3` with `a = v`, `c1 = −a³`, `c2 = 3a² + 3a³`,
/// `c3 = −6a² − 3a − 3a³`, `c4 = 1 + 3a + a³ + 3a²`; first value at index 6(n−1).
#[derive(Clone, Debug)]
pub struct TillsonT3 {
    n: usize,
    v: f64,
    e: [EmaCore; 6],
    count: usize,
}

impl TillsonT3 {
    /// T3 with period `n ≥ 2` and volume factor `v`.
    pub fn new(n: usize, v: f64) -> Result<Self> {
        check_period("T3", "period", n, 2)?;
        if !v.is_finite() {
            return Err(crate::IndicatorError::InvalidParameter {
                indicator: "T3",
                message: format!("vfactor = {v} is not finite"),
            });
        }
        let e = EmaCore::new(n);
        Ok(Self { n, v, e: [e.clone(), e.clone(), e.clone(), e.clone(), e.clone(), e], count: 0 })
    }
    /// Feeds a value directly (non-finite values are skipped).
    pub fn update_value(&mut self, x: f64) -> Option<f64> {
        if !x.is_finite() {
            return None;
        }
        self.count += 1;
        let mut v = Some(x);
        let mut outs = [0.0; 6];
        for (i, e) in self.e.iter_mut().enumerate() {
            v = v.and_then(|x| e.update(x));
            outs[i] = v?;
        }
        let a = self.v;
        let (a2, a3) = (a * a, a * a * a);
        let c1 = -a3;
        let c2 = 3.0 * a2 + 3.0 * a3;
        let c3 = -6.0 * a2 - 3.0 * a - 3.0 * a3;
        let c4 = 1.0 + 3.0 * a + a3 + 3.0 * a2;
        Some(c1 * outs[5] + c2 * outs[4] + c3 * outs[3] + c4 * outs[2])
    }
    fn reset_state(&mut self) {
        *self = Self::new(self.n, self.v).expect("valid parameters");
    }
    fn lookback(&self) -> usize {
        6 * (self.n - 1)
    }
}
close_indicator!(TillsonT3);
