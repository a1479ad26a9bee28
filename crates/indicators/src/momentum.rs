//! Momentum and oscillators: RSI, MACD, Stochastic, CCI, Williams %R, ROC, MOM, Ultimate
//! oscillator, MFI, TRIX, PPO, Aroon, DPO, WaveTrend.

use vane_core::Bar;

use crate::average::{is_zero, is_zero_scaled};
use crate::error::{Result, check_period};
use crate::indicator::{Indicator, outputs};
use crate::rolling::{EmaCore, Lag, PineEma, Ring, RollingExtreme, RollingSum, SmaCore};

/// Implements the `Indicator` boilerplate for a type with `step(&mut self, &Bar) -> Option<Out>`,
/// `fresh(&self) -> Self`, a `ready: bool` field and a `lookback(&self) -> usize`.
macro_rules! stepped {
    ($ty:ty, $out:ty) => {
        impl Indicator for $ty {
            type Output = $out;
            fn update_valid(&mut self, bar: &Bar) -> Option<$out> {
                let out = self.step(bar);
                self.ready |= out.is_some();
                out
            }
            fn reset(&mut self) {
                *self = self.fresh();
            }
            fn is_ready(&self) -> bool {
                self.ready
            }
            fn warmup(&self) -> usize {
                self.lookback()
            }
        }
    };
}
pub(crate) use stepped;

/// Relative strength index, TA-Lib `RSI(n)` (Wilder): the mean gain and loss of the first n
/// changes seed the averages, then `avg = (avg·(n−1) + x)/n`; `RSI = 100·gain/(gain + loss)`
/// (0 when both are 0, as TA-Lib 0.8 does); first value at index n.
#[derive(Clone, Debug)]
pub struct RelativeStrengthIndex {
    n: usize,
    prev: Option<f64>,
    gain: f64,
    loss: f64,
    changes: usize,
    ready: bool,
}

impl RelativeStrengthIndex {
    /// RSI over `n ≥ 2` bars.
    pub fn new(n: usize) -> Result<Self> {
        check_period("RSI", "period", n, 2)?;
        Ok(Self { n, prev: None, gain: 0.0, loss: 0.0, changes: 0, ready: false })
    }
    fn fresh(&self) -> Self {
        Self::new(self.n).expect("valid period")
    }
    fn lookback(&self) -> usize {
        self.n
    }
    /// Feeds a value directly (non-finite values are skipped).
    pub fn update_value(&mut self, x: f64) -> Option<f64> {
        if !x.is_finite() {
            return None;
        }
        let prev = self.prev.replace(x)?;
        let d = x - prev;
        let n = self.n as f64;
        self.changes += 1;
        if self.changes <= self.n {
            if d < 0.0 {
                self.loss -= d;
            } else {
                self.gain += d;
            }
            if self.changes < self.n {
                return None;
            }
            self.loss /= n;
            self.gain /= n;
        } else {
            self.loss *= n - 1.0;
            self.gain *= n - 1.0;
            if d < 0.0 {
                self.loss -= d;
            } else {
                self.gain += d;
            }
            self.loss /= n;
            self.gain /= n;
        }
        let total = self.gain + self.loss;
        let out = if total > 0.0 { 100.0 * (self.gain / total) } else { 0.0 };
        self.ready = true;
        Some(out)
    }
    fn step(&mut self, bar: &Bar) -> Option<f64> {
        self.update_value(bar.close)
    }
}
stepped!(RelativeStrengthIndex, f64);

outputs! {
    /// MACD output.
    MacdOutput {
        /// Fast EMA − slow EMA.
        macd,
        /// EMA of the MACD line.
        signal,
        /// `macd − signal`.
        hist,
    }
}

/// MACD, TA-Lib `MACD(fast, slow, signal)`. As in TA-Lib, both EMAs start at index `slow − 1`:
/// the slow one seeded with the SMA of the first `slow` closes, the fast one with the SMA of the
/// `fast` closes ending there; the signal EMA (seeded with the SMA of its first `signal` MACD
/// values) makes the first output at index `slow + signal − 2`.
#[derive(Clone, Debug)]
pub struct MovingAverageConvergenceDivergence {
    fast_n: usize,
    slow_n: usize,
    signal_n: usize,
    closes: Ring,
    slow: EmaCore,
    fast: Option<f64>,
    signal: EmaCore,
    ready: bool,
}

impl MovingAverageConvergenceDivergence {
    /// MACD with `fast, slow, signal ≥ 2` (fast and slow are swapped if fast > slow, as TA-Lib does).
    pub fn new(fast: usize, slow: usize, signal: usize) -> Result<Self> {
        check_period("MACD", "fast period", fast, 2)?;
        check_period("MACD", "slow period", slow, 2)?;
        check_period("MACD", "signal period", signal, 1)?;
        let (fast, slow) = if slow < fast { (slow, fast) } else { (fast, slow) };
        Ok(Self {
            fast_n: fast,
            slow_n: slow,
            signal_n: signal,
            closes: Ring::new(fast),
            slow: EmaCore::new(slow),
            fast: None,
            signal: EmaCore::new(signal),
            ready: false,
        })
    }
    fn fresh(&self) -> Self {
        Self::new(self.fast_n, self.slow_n, self.signal_n).expect("valid periods")
    }
    fn lookback(&self) -> usize {
        self.slow_n + self.signal_n - 2
    }
    fn step(&mut self, bar: &Bar) -> Option<MacdOutput> {
        let c = bar.close;
        let k = 2.0 / (self.fast_n as f64 + 1.0);
        if self.fast.is_none() {
            self.closes.push(c);
        }
        let slow = self.slow.update(c);
        let fast = match (self.fast, slow) {
            (Some(f), _) => (c - f) * k + f,
            (None, Some(_)) => self.closes.iter().sum::<f64>() / self.fast_n as f64,
            (None, None) => return None,
        };
        self.fast = Some(fast);
        let macd = fast - slow?;
        let signal = self.signal.update(macd)?;
        Some(MacdOutput { macd, signal, hist: macd - signal })
    }
}
stepped!(MovingAverageConvergenceDivergence, MacdOutput);

outputs! {
    /// Stochastic output.
    StochasticOutput {
        /// Slow %K: SMA of fast %K.
        slow_k,
        /// Slow %D: SMA of slow %K.
        slow_d,
    }
}

/// Slow stochastic, TA-Lib `STOCH(fastk, slowk, SMA, slowd, SMA)`: fast %K =
/// `(c − LL)/(HH − LL)·100` over `fastk` bars (0 when `HH − LL` is ~0 relative to the price
/// level, TA-Lib's scaled zero test), slow %K = SMA(slowk) of it,
/// slow %D = SMA(slowd) of slow %K; first value at `fastk + slowk + slowd − 3`.
#[derive(Clone, Debug)]
pub struct Stochastic {
    fastk: usize,
    slowk: usize,
    slowd: usize,
    hh: RollingExtreme,
    ll: RollingExtreme,
    k: SmaCore,
    d: SmaCore,
    ready: bool,
}

impl Stochastic {
    /// Stochastic with periods ≥ 1.
    pub fn new(fastk: usize, slowk: usize, slowd: usize) -> Result<Self> {
        check_period("STOCH", "fastk period", fastk, 1)?;
        check_period("STOCH", "slowk period", slowk, 1)?;
        check_period("STOCH", "slowd period", slowd, 1)?;
        Ok(Self {
            fastk,
            slowk,
            slowd,
            hh: RollingExtreme::max(fastk),
            ll: RollingExtreme::min(fastk),
            k: SmaCore::new(slowk),
            d: SmaCore::new(slowd),
            ready: false,
        })
    }
    fn fresh(&self) -> Self {
        Self::new(self.fastk, self.slowk, self.slowd).expect("valid periods")
    }
    fn lookback(&self) -> usize {
        self.fastk + self.slowk + self.slowd - 3
    }
    fn step(&mut self, bar: &Bar) -> Option<StochasticOutput> {
        let (hh, ll) = (self.hh.push(bar.high), self.ll.push(bar.low));
        let (hh, ll) = (hh?, ll?);
        let range = hh - ll;
        let fast_k = if is_zero_scaled(range, hh.abs() + ll.abs()) { 0.0 } else { ((bar.close - ll) / range) * 100.0 };
        let slow_k = self.k.update(fast_k)?;
        let slow_d = self.d.update(slow_k)?;
        Some(StochasticOutput { slow_k, slow_d })
    }
}
stepped!(Stochastic, StochasticOutput);

/// Commodity channel index, TA-Lib `CCI(n)` on the typical price `(h + l + c)/3`:
/// `(tp − mean)/(0.015·meandev)` over n bars (0 when either is ~0); first value at n−1.
#[derive(Clone, Debug)]
pub struct CommodityChannelIndex {
    n: usize,
    tp: Ring,
    ready: bool,
}

impl CommodityChannelIndex {
    /// CCI over `n ≥ 2` bars.
    pub fn new(n: usize) -> Result<Self> {
        check_period("CCI", "period", n, 2)?;
        Ok(Self { n, tp: Ring::new(n), ready: false })
    }
    fn fresh(&self) -> Self {
        Self::new(self.n).expect("valid period")
    }
    fn lookback(&self) -> usize {
        self.n - 1
    }
    /// Feeds a value directly instead of the typical price (non-finite values are skipped).
    pub fn update_value(&mut self, x: f64) -> Option<f64> {
        if !x.is_finite() {
            return None;
        }
        self.tp.push(x);
        if !self.tp.is_full() {
            return None;
        }
        let n = self.n as f64;
        // Summed in ring-slot order, as TA-Lib does.
        let mean = self.tp.slots().iter().sum::<f64>() / n;
        let dev: f64 = self.tp.slots().iter().map(|v| (v - mean).abs()).sum();
        let num = x - mean;
        self.ready = true;
        Some(if !is_zero(num) && !is_zero(dev) { num / (0.015 * (dev / n)) } else { 0.0 })
    }
    fn step(&mut self, bar: &Bar) -> Option<f64> {
        self.update_value((bar.high + bar.low + bar.close) / 3.0)
    }
}
stepped!(CommodityChannelIndex, f64);

/// Williams %R, TA-Lib `WILLR(n)`: `(HH − c)/(HH − LL)·(−100)` over n bars, clamped to
/// [−100, 0] (0 when `HH − LL` is ~0 relative to the price level); first value at n−1.
#[derive(Clone, Debug)]
pub struct WilliamsR {
    n: usize,
    hh: RollingExtreme,
    ll: RollingExtreme,
    ready: bool,
}

impl WilliamsR {
    /// %R over `n ≥ 2` bars.
    pub fn new(n: usize) -> Result<Self> {
        check_period("WILLR", "period", n, 2)?;
        Ok(Self { n, hh: RollingExtreme::max(n), ll: RollingExtreme::min(n), ready: false })
    }
    fn fresh(&self) -> Self {
        Self::new(self.n).expect("valid period")
    }
    fn lookback(&self) -> usize {
        self.n - 1
    }
    fn step(&mut self, bar: &Bar) -> Option<f64> {
        let (hh, ll) = (self.hh.push(bar.high), self.ll.push(bar.low));
        let (hh, ll) = (hh?, ll?);
        let range = hh - ll;
        Some(if is_zero_scaled(range, hh.abs() + ll.abs()) {
            0.0
        } else {
            (((hh - bar.close) / range) * -100.0).clamp(-100.0, 0.0)
        })
    }
}
stepped!(WilliamsR, f64);

/// Rate of change, TA-Lib `ROC(n)` = `(c/c_{t−n} − 1)·100` (0 when the old close is 0);
/// first value at n.
#[derive(Clone, Debug)]
pub struct RateOfChange {
    n: usize,
    lag: Lag,
    ready: bool,
}

impl RateOfChange {
    /// ROC over `n ≥ 1` bars.
    pub fn new(n: usize) -> Result<Self> {
        check_period("ROC", "period", n, 1)?;
        Ok(Self { n, lag: Lag::new(n), ready: false })
    }
    fn fresh(&self) -> Self {
        Self::new(self.n).expect("valid period")
    }
    fn lookback(&self) -> usize {
        self.n
    }
    /// Feeds a value directly (non-finite values are skipped).
    pub fn update_value(&mut self, x: f64) -> Option<f64> {
        if !x.is_finite() {
            return None;
        }
        let p = self.lag.update(x)?;
        self.ready = true;
        Some(if p != 0.0 { ((x / p) - 1.0) * 100.0 } else { 0.0 })
    }
    fn step(&mut self, bar: &Bar) -> Option<f64> {
        self.update_value(bar.close)
    }
}
stepped!(RateOfChange, f64);

/// Momentum, TA-Lib `MOM(n)` = `c − c_{t−n}`; first value at n.
#[derive(Clone, Debug)]
pub struct Momentum {
    n: usize,
    lag: Lag,
    ready: bool,
}

impl Momentum {
    /// MOM over `n ≥ 1` bars.
    pub fn new(n: usize) -> Result<Self> {
        check_period("MOM", "period", n, 1)?;
        Ok(Self { n, lag: Lag::new(n), ready: false })
    }
    fn fresh(&self) -> Self {
        Self::new(self.n).expect("valid period")
    }
    fn lookback(&self) -> usize {
        self.n
    }
    fn step(&mut self, bar: &Bar) -> Option<f64> {
        self.lag.update(bar.close).map(|p| bar.close - p)
    }
}
stepped!(Momentum, f64);

/// Ultimate oscillator, TA-Lib `ULTOSC(p1, p2, p3)`: buying pressure `c − min(l, c₋₁)` over true
/// range `max(h, c₋₁) − min(l, c₋₁)`, summed over the three windows;
/// `100·(4·a₁ + 2·a₂ + a₃)/7` (a term is 0 when its range sum is ~0); first value at `max(p)`.
#[derive(Clone, Debug)]
pub struct UltimateOscillator {
    periods: [usize; 3],
    prev_close: Option<f64>,
    bp: [RollingSum; 3],
    tr: [RollingSum; 3],
    ready: bool,
}

impl UltimateOscillator {
    /// Periods `p1 < p2 < p3` in any order (sorted as TA-Lib does), each ≥ 1.
    pub fn new(p1: usize, p2: usize, p3: usize) -> Result<Self> {
        for p in [p1, p2, p3] {
            check_period("ULTOSC", "period", p, 1)?;
        }
        let mut periods = [p1, p2, p3];
        periods.sort_unstable();
        let sums = periods.map(RollingSum::new);
        Ok(Self { periods, prev_close: None, bp: sums.clone(), tr: sums, ready: false })
    }
    fn fresh(&self) -> Self {
        Self::new(self.periods[0], self.periods[1], self.periods[2]).expect("valid periods")
    }
    fn lookback(&self) -> usize {
        self.periods[2]
    }
    fn step(&mut self, bar: &Bar) -> Option<f64> {
        let pc = self.prev_close.replace(bar.close)?;
        let true_low = bar.low.min(pc);
        let bp = bar.close - true_low;
        let tr = bar.high.max(pc) - true_low;
        let mut sums = [(0.0, 0.0); 3];
        let mut full = true;
        for ((bp_sum, tr_sum), slot) in self.bp.iter_mut().zip(self.tr.iter_mut()).zip(sums.iter_mut()) {
            let a = bp_sum.push(bp);
            let b = tr_sum.push(tr);
            full &= a.is_some();
            *slot = (a.unwrap_or(0.0), b.unwrap_or(0.0));
        }
        if !full {
            return None;
        }
        let mut total = 0.0;
        for (w, (a, b)) in [4.0, 2.0, 1.0].into_iter().zip(sums) {
            if !is_zero(b) {
                total += w * (a / b);
            }
        }
        Some(100.0 * (total / 7.0))
    }
}
stepped!(UltimateOscillator, f64);

/// Money flow index, TA-Lib `MFI(n)`: typical price `tp = (h + l + c)/3`, flow `tp·v` counted
/// as positive when tp rises and negative when it falls (no flow when the change is ~0 relative
/// to the price level), over n bars; `100·pos/(pos + neg)`, 0 when there is no flow in the
/// window (TA-Lib 0.8's rules); first value at n.
#[derive(Clone, Debug)]
pub struct MoneyFlowIndex {
    n: usize,
    prev_tp: Option<f64>,
    pos: RollingSum,
    neg: RollingSum,
    null_run: usize,
    ready: bool,
}

impl MoneyFlowIndex {
    /// MFI over `n ≥ 2` bars.
    pub fn new(n: usize) -> Result<Self> {
        check_period("MFI", "period", n, 2)?;
        Ok(Self { n, prev_tp: None, pos: RollingSum::new(n), neg: RollingSum::new(n), null_run: 0, ready: false })
    }
    fn fresh(&self) -> Self {
        Self::new(self.n).expect("valid period")
    }
    fn lookback(&self) -> usize {
        self.n
    }
    fn step(&mut self, bar: &Bar) -> Option<f64> {
        let tp = (bar.high + bar.low + bar.close) / 3.0;
        let prev = self.prev_tp.replace(tp)?;
        let d = tp - prev;
        let money = if is_zero_scaled(d, tp.abs() + prev.abs()) { 0.0 } else { tp * bar.volume };
        let (p, q) = if d < 0.0 { (0.0, money) } else { (money, 0.0) };
        self.null_run = if money == 0.0 { (self.null_run + 1).min(self.n) } else { 0 };
        let (pos, neg) = (self.pos.push(p), self.neg.push(q));
        let (mut pos, mut neg) = (pos?, neg?);
        if self.null_run >= self.n {
            // A whole window without money flow: exactly zero, not rounding residue.
            self.pos.resum();
            self.neg.resum();
            pos = 0.0;
            neg = 0.0;
        }
        let total = pos + neg;
        Some(if total <= 0.0 { 0.0 } else { 100.0 * (pos.clamp(0.0, total) / total) })
    }
}
stepped!(MoneyFlowIndex, f64);

/// TRIX, TA-Lib `TRIX(n)`: the one-bar rate of change in percent of a triple EMA of the close
/// (each EMA seeded with the SMA of its first n inputs); first value at `3(n−1) + 1`.
#[derive(Clone, Debug)]
pub struct Trix {
    n: usize,
    e: [EmaCore; 3],
    roc: RateOfChange,
    ready: bool,
}

impl Trix {
    /// TRIX over `n ≥ 1` bars.
    pub fn new(n: usize) -> Result<Self> {
        check_period("TRIX", "period", n, 1)?;
        let e = EmaCore::new(n);
        Ok(Self { n, e: [e.clone(), e.clone(), e], roc: RateOfChange::new(1)?, ready: false })
    }
    fn fresh(&self) -> Self {
        Self::new(self.n).expect("valid period")
    }
    fn lookback(&self) -> usize {
        3 * (self.n - 1) + 1
    }
    fn step(&mut self, bar: &Bar) -> Option<f64> {
        let e1 = self.e[0].update(bar.close)?;
        let e2 = self.e[1].update(e1)?;
        let e3 = self.e[2].update(e2)?;
        self.roc.update_value(e3)
    }
}
stepped!(Trix, f64);

/// Percentage price oscillator with simple moving averages, TA-Lib `PPO(fast, slow, SMA)`:
/// `(SMA_fast − SMA_slow)/SMA_slow·100` (0 when the slow SMA is ~0); first value at `slow − 1`.
#[derive(Clone, Debug)]
pub struct PercentagePriceOscillator {
    fast_n: usize,
    slow_n: usize,
    fast: SmaCore,
    slow: SmaCore,
    ready: bool,
}

impl PercentagePriceOscillator {
    /// PPO with `fast, slow ≥ 2` (swapped if fast > slow).
    pub fn new(fast: usize, slow: usize) -> Result<Self> {
        check_period("PPO", "fast period", fast, 2)?;
        check_period("PPO", "slow period", slow, 2)?;
        let (fast, slow) = if slow < fast { (slow, fast) } else { (fast, slow) };
        Ok(Self { fast_n: fast, slow_n: slow, fast: SmaCore::new(fast), slow: SmaCore::new(slow), ready: false })
    }
    fn fresh(&self) -> Self {
        Self::new(self.fast_n, self.slow_n).expect("valid periods")
    }
    fn lookback(&self) -> usize {
        self.slow_n - 1
    }
    fn step(&mut self, bar: &Bar) -> Option<f64> {
        let (f, s) = (self.fast.update(bar.close), self.slow.update(bar.close));
        let (f, s) = (f?, s?);
        Some(if is_zero(s) { 0.0 } else { ((f - s) / s) * 100.0 })
    }
}
stepped!(PercentagePriceOscillator, f64);

outputs! {
    /// Aroon output.
    AroonOutput {
        /// `100·(n − bars since the highest high)/n`.
        up,
        /// `100·(n − bars since the lowest low)/n`.
        down,
        /// `up − down`.
        oscillator,
    }
}

/// Aroon, TA-Lib `AROON(n)` / `AROONOSC(n)` over the last n+1 bars; on ties the most recent
/// extreme counts; first value at n. The extremes are tracked incrementally and rescanned only
/// when they leave the window (TA-Lib's method).
#[derive(Clone, Debug)]
pub struct Aroon {
    n: usize,
    highs: Ring,
    lows: Ring,
    t: usize,
    hi: (f64, usize),
    lo: (f64, usize),
    ready: bool,
}

impl Aroon {
    /// Aroon over `n ≥ 2` bars.
    pub fn new(n: usize) -> Result<Self> {
        check_period("AROON", "period", n, 2)?;
        Ok(Self {
            n,
            highs: Ring::new(n + 1),
            lows: Ring::new(n + 1),
            t: 0,
            hi: (f64::NEG_INFINITY, 0),
            lo: (f64::INFINITY, 0),
            ready: false,
        })
    }
    fn fresh(&self) -> Self {
        Self::new(self.n).expect("valid period")
    }
    fn lookback(&self) -> usize {
        self.n
    }
    fn step(&mut self, bar: &Bar) -> Option<AroonOutput> {
        self.highs.push(bar.high);
        self.lows.push(bar.low);
        let t = self.t;
        self.t += 1;
        // Window: absolute bars t−n..=t, ring position i ↔ bar t+1−len+i.
        let first = (t + 1).saturating_sub(self.highs.len());
        if self.hi.1 < first || bar.high >= self.hi.0 || t == 0 {
            if bar.high >= self.hi.0 || t == 0 {
                self.hi = (bar.high, t);
            } else {
                self.hi = (f64::NEG_INFINITY, first);
                for i in 0..self.highs.len() {
                    let h = self.highs.get(i);
                    if h >= self.hi.0 {
                        self.hi = (h, first + i);
                    }
                }
            }
        }
        if self.lo.1 < first || bar.low <= self.lo.0 || t == 0 {
            if bar.low <= self.lo.0 || t == 0 {
                self.lo = (bar.low, t);
            } else {
                self.lo = (f64::INFINITY, first);
                for i in 0..self.lows.len() {
                    let l = self.lows.get(i);
                    if l <= self.lo.0 {
                        self.lo = (l, first + i);
                    }
                }
            }
        }
        if !self.highs.is_full() {
            return None;
        }
        let factor = 100.0 / self.n as f64;
        let n = self.n as f64;
        let up = factor * (n - (t - self.hi.1) as f64);
        let down = factor * (n - (t - self.lo.1) as f64);
        Some(AroonOutput { up, down, oscillator: factor * (self.hi.1 as f64 - self.lo.1 as f64) })
    }
}
stepped!(Aroon, AroonOutput);

/// Detrended price oscillator, causal form: `c_{t−(n/2+1)} − SMA_n(c)_t` (the centred textbook
/// form looks ahead); first value at n−1.
#[derive(Clone, Debug)]
pub struct DetrendedPriceOscillator {
    n: usize,
    sma: SmaCore,
    lag: Lag,
    ready: bool,
}

impl DetrendedPriceOscillator {
    /// DPO over `n ≥ 2` bars.
    pub fn new(n: usize) -> Result<Self> {
        check_period("DPO", "period", n, 2)?;
        Ok(Self { n, sma: SmaCore::new(n), lag: Lag::new(n / 2 + 1), ready: false })
    }
    fn fresh(&self) -> Self {
        Self::new(self.n).expect("valid period")
    }
    fn lookback(&self) -> usize {
        self.n - 1
    }
    fn step(&mut self, bar: &Bar) -> Option<f64> {
        let (m, l) = (self.sma.update(bar.close), self.lag.update(bar.close));
        Some(l? - m?)
    }
}
stepped!(DetrendedPriceOscillator, f64);

outputs! {
    /// WaveTrend output.
    WaveTrendOutput {
        /// WT1: `EMA_n2(ci)`.
        wt1,
        /// WT2: `SMA_4(wt1)`.
        wt2,
    }
}

/// WaveTrend (LazyBear), with TradingView's EMA (seeded with the first value):
/// `ap = hlc3`, `esa = EMA_n1(ap)`, `d = EMA_n1(|ap − esa|)`, `ci = (ap − esa)/(0.015·d)`,
/// `wt1 = EMA_n2(ci)`, `wt2 = SMA_4(wt1)`. On the first bar `ci = 0/0` (TradingView's `na`), so
/// wt1 starts at index 1 and wt2 at index 4; later, `ci = 0` while there is no deviation (`d = 0`).
#[derive(Clone, Debug)]
pub struct WaveTrend {
    n1: usize,
    n2: usize,
    esa: PineEma,
    d: PineEma,
    tci: PineEma,
    wt2: SmaCore,
    started: bool,
    ready: bool,
}

impl WaveTrend {
    /// WaveTrend with channel length `n1` and average length `n2` (LazyBear: 10, 21).
    pub fn new(n1: usize, n2: usize) -> Result<Self> {
        check_period("WaveTrend", "channel length", n1, 1)?;
        check_period("WaveTrend", "average length", n2, 1)?;
        Ok(Self {
            n1,
            n2,
            esa: PineEma::new(n1),
            d: PineEma::new(n1),
            tci: PineEma::new(n2),
            wt2: SmaCore::new(4),
            started: false,
            ready: false,
        })
    }
    fn fresh(&self) -> Self {
        Self::new(self.n1, self.n2).expect("valid periods")
    }
    fn lookback(&self) -> usize {
        4
    }
    /// Feeds the source value (hlc3 for the classic indicator); `(wt1, wt2)` where defined.
    pub fn update_value(&mut self, ap: f64) -> (Option<f64>, Option<f64>) {
        if !ap.is_finite() {
            return (None, None);
        }
        let first = !self.started;
        self.started = true;
        let esa = self.esa.update(ap);
        let d = self.d.update((ap - esa).abs());
        if first {
            // ci = 0/0 on the first bar: TradingView's na, so the averages start at bar 1.
            return (None, None);
        }
        let ci = if d == 0.0 { 0.0 } else { (ap - esa) / (0.015 * d) };
        let wt1 = self.tci.update(ci);
        (Some(wt1), self.wt2.update(wt1))
    }
    fn step(&mut self, bar: &Bar) -> Option<WaveTrendOutput> {
        let (wt1, wt2) = self.update_value((bar.high + bar.low + bar.close) / 3.0);
        Some(WaveTrendOutput { wt1: wt1?, wt2: wt2? })
    }
}
stepped!(WaveTrend, WaveTrendOutput);
