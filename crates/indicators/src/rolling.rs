//! Allocation-free building blocks over `f64` streams: ring buffer, rolling sums and extremes,
//! and the moving averages in TA-Lib's and TradingView's (Pine) seeding conventions.
//!
//! These take plain values; the public indicators feed them from bars.

/// A fixed-capacity ring buffer, oldest value first.
#[derive(Clone, Debug)]
pub struct Ring {
    buf: Vec<f64>,
    head: usize,
    len: usize,
}

impl Ring {
    /// A ring holding the last `cap` values (`cap ≥ 1`).
    pub fn new(cap: usize) -> Self {
        Self { buf: vec![0.0; cap.max(1)], head: 0, len: 0 }
    }

    /// Physical slot of the `i`-th oldest value (no division: `head + i < 2·cap`).
    #[inline]
    fn slot(&self, i: usize) -> usize {
        let j = self.head + i;
        if j >= self.buf.len() { j - self.buf.len() } else { j }
    }

    /// Appends `x`; returns the value it pushed out once full.
    #[inline]
    pub fn push(&mut self, x: f64) -> Option<f64> {
        if self.len < self.buf.len() {
            let j = self.slot(self.len);
            self.buf[j] = x;
            self.len += 1;
            None
        } else {
            let old = std::mem::replace(&mut self.buf[self.head], x);
            self.head += 1;
            if self.head == self.buf.len() {
                self.head = 0;
            }
            Some(old)
        }
    }

    /// The values held, in storage-slot order (not time order) — for order-free reductions;
    /// TA-Lib sums its circular buffers in this order too.
    #[inline]
    pub fn slots(&self) -> &[f64] {
        &self.buf[..self.len]
    }

    /// Number of values held.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no value is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `cap` values are held.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.len == self.buf.len()
    }

    /// Capacity.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The `i`-th oldest value held (0 = oldest).
    #[inline]
    pub fn get(&self, i: usize) -> f64 {
        self.buf[self.slot(i)]
    }

    /// The newest value.
    pub fn last(&self) -> Option<f64> {
        (self.len > 0).then(|| self.get(self.len - 1))
    }

    /// The values held, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        (0..self.len).map(|i| self.get(i))
    }

    /// Empties the ring.
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }
}

/// Sum of the last `n` values, updated incrementally (add the new, subtract the evicted, as
/// TA-Lib does) and re-summed exactly every `64·n` updates so rounding cannot drift on long streams.
#[derive(Clone, Debug)]
pub struct RollingSum {
    ring: Ring,
    sum: f64,
    since_resum: usize,
}

impl RollingSum {
    /// Sum over the last `n` values.
    pub fn new(n: usize) -> Self {
        Self { ring: Ring::new(n), sum: 0.0, since_resum: 0 }
    }

    /// Appends `x`; the sum once `n` values are held.
    #[inline]
    pub fn push(&mut self, x: f64) -> Option<f64> {
        match self.ring.push(x) {
            Some(old) => self.sum += x - old,
            None => self.sum += x,
        }
        self.since_resum += 1;
        if self.since_resum >= 64 * self.ring.capacity() {
            self.sum = self.ring.iter().sum();
            self.since_resum = 0;
        }
        self.ring.is_full().then_some(self.sum)
    }

    /// Recomputes the sum exactly from the values held.
    pub fn resum(&mut self) {
        self.sum = self.ring.iter().sum();
        self.since_resum = 0;
    }

    /// The current sum of the values held.
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// The window.
    pub fn ring(&self) -> &Ring {
        &self.ring
    }

    /// Whether `n` values are held.
    pub fn is_full(&self) -> bool {
        self.ring.is_full()
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.ring.clear();
        self.sum = 0.0;
        self.since_resum = 0;
    }
}

/// Maximum or minimum of the last `n` values (monotonic deque in a fixed power-of-two ring,
/// amortised O(1), no allocation after construction).
#[derive(Clone, Debug)]
pub struct RollingExtreme {
    n: u64,
    max: bool,
    t: u64,
    idx: Vec<u64>,
    val: Vec<f64>,
    mask: usize,
    head: usize,
    tail: usize,
}

impl RollingExtreme {
    /// Rolling maximum over `n` values.
    pub fn max(n: usize) -> Self {
        let cap = (n.max(1) + 1).next_power_of_two();
        Self {
            n: n.max(1) as u64,
            max: true,
            t: 0,
            idx: vec![0; cap],
            val: vec![0.0; cap],
            mask: cap - 1,
            head: 0,
            tail: 0,
        }
    }

    /// Rolling minimum over `n` values.
    pub fn min(n: usize) -> Self {
        Self { max: false, ..Self::max(n) }
    }

    /// Appends `x`; the extreme once `n` values have been seen.
    #[inline]
    pub fn push(&mut self, x: f64) -> Option<f64> {
        if self.max { self.push_impl::<true>(x) } else { self.push_impl::<false>(x) }
    }

    #[inline]
    fn push_impl<const MAX: bool>(&mut self, x: f64) -> Option<f64> {
        // Drop dominated values from the back.
        while self.tail != self.head {
            let back = self.tail.wrapping_sub(1) & self.mask;
            let v = self.val[back];
            let dominated = if MAX { v <= x } else { v >= x };
            if !dominated {
                break;
            }
            self.tail = back;
        }
        self.idx[self.tail] = self.t;
        self.val[self.tail] = x;
        self.tail = (self.tail + 1) & self.mask;
        self.t += 1;
        // Drop the front once it leaves the window.
        while self.head != self.tail && self.idx[self.head] + self.n < self.t {
            self.head = (self.head + 1) & self.mask;
        }
        (self.t >= self.n).then(|| self.val[self.head])
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.t = 0;
        self.head = 0;
        self.tail = 0;
    }
}

/// Simple moving average (TA-Lib `SMA`): first value after `n` inputs.
#[derive(Clone, Debug)]
pub struct SmaCore {
    sum: RollingSum,
    n: f64,
}

impl SmaCore {
    /// SMA over `n` values.
    pub fn new(n: usize) -> Self {
        Self { sum: RollingSum::new(n), n: n as f64 }
    }

    /// Feeds `x`.
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        self.sum.push(x).map(|s| s / self.n)
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        self.sum.clear();
    }

    /// The window of inputs.
    pub fn ring(&self) -> &Ring {
        self.sum.ring()
    }
}

/// Exponential moving average in TA-Lib's default convention: seeded with the SMA of the first
/// `n` inputs (first value after `n` inputs), then `ema += (x − ema)·k` with `k = 2/(n+1)`.
#[derive(Clone, Debug)]
pub struct EmaCore {
    n: usize,
    k: f64,
    count: usize,
    seed: f64,
    value: Option<f64>,
}

impl EmaCore {
    /// EMA with period `n` and `k = 2/(n+1)`.
    pub fn new(n: usize) -> Self {
        Self::with_k(n, 2.0 / (n as f64 + 1.0))
    }

    /// EMA seeded over `n` inputs with smoothing factor `k`.
    pub fn with_k(n: usize, k: f64) -> Self {
        Self { n: n.max(1), k, count: 0, seed: 0.0, value: None }
    }

    /// Feeds `x`.
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        match self.value {
            Some(v) => self.value = Some((x - v) * self.k + v),
            None => {
                self.seed += x;
                self.count += 1;
                if self.count == self.n {
                    self.value = Some(self.seed / self.n as f64);
                }
            }
        }
        self.value
    }

    /// The current value.
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        self.count = 0;
        self.seed = 0.0;
        self.value = None;
    }
}

/// Wilder's smoothing (TradingView `rma`, TA-Lib's ATR recurrence): seeded with the SMA of the
/// first `n` inputs, then `v = (v·(n−1) + x)/n`.
#[derive(Clone, Debug)]
pub struct WilderCore {
    n: usize,
    count: usize,
    seed: f64,
    value: Option<f64>,
}

impl WilderCore {
    /// Wilder smoothing over `n`.
    pub fn new(n: usize) -> Self {
        Self { n: n.max(1), count: 0, seed: 0.0, value: None }
    }

    /// Feeds `x`.
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        let n = self.n as f64;
        match self.value {
            Some(v) => self.value = Some((v * (n - 1.0) + x) / n),
            None => {
                self.seed += x;
                self.count += 1;
                if self.count == self.n {
                    self.value = Some(self.seed / n);
                }
            }
        }
        self.value
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        *self = Self::new(self.n);
    }
}

/// TradingView's `ta.ema`: seeded with the first input, `v = k·x + (1−k)·v`, `k = 2/(n+1)`.
#[derive(Clone, Debug)]
pub struct PineEma {
    k: f64,
    value: Option<f64>,
}

impl PineEma {
    /// Pine EMA with period `n`.
    pub fn new(n: usize) -> Self {
        Self { k: 2.0 / (n.max(1) as f64 + 1.0), value: None }
    }

    /// Feeds `x`.
    #[inline]
    pub fn update(&mut self, x: f64) -> f64 {
        let v = match self.value {
            Some(v) => self.k * x + (1.0 - self.k) * v,
            None => x,
        };
        self.value = Some(v);
        v
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        self.value = None;
    }
}

/// Mean and population variance of the last `n` values from sums of **shifted** data
/// `Σ(x − s)`, `Σ(x − s)²` (TA-Lib 0.8's scheme): the shift `s` is re-centred on the window, and
/// the sums recomputed exactly, every `32·n` updates or when cancellation shows (variance below
/// 1e-6 of the second moment), so large price levels and long streams keep full precision.
#[derive(Clone, Debug)]
pub struct RollingMoments {
    ring: Ring,
    n: f64,
    shift: f64,
    v1: f64,
    v2: f64,
    since_reseed: usize,
}

impl RollingMoments {
    /// Moments over the last `n ≥ 1` values.
    pub fn new(n: usize) -> Self {
        Self { ring: Ring::new(n), n: n.max(1) as f64, shift: 0.0, v1: 0.0, v2: 0.0, since_reseed: 0 }
    }

    /// Feeds `x`; `(mean, population variance)` once `n` values are held.
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<(f64, f64)> {
        if self.ring.is_empty() {
            self.shift = x;
        }
        let d = x - self.shift;
        self.v1 += d;
        self.v2 += d * d;
        if let Some(old) = self.ring.push(x) {
            let e = old - self.shift;
            self.v1 -= e;
            self.v2 -= e * e;
        }
        self.since_reseed += 1;
        if !self.ring.is_full() {
            return None;
        }
        let inv = 1.0 / self.n;
        let m1 = self.v1 * inv;
        let mut var = self.v2 * inv - m1 * m1;
        if var < 0.000001 * (self.v2 * inv) || self.since_reseed >= 32 * self.ring.capacity() {
            self.shift = self.ring.iter().sum::<f64>() * inv;
            let (mut v1, mut v2) = (0.0, 0.0);
            for v in self.ring.iter() {
                let d = v - self.shift;
                v1 += d;
                v2 += d * d;
            }
            self.v1 = v1;
            self.v2 = v2;
            self.since_reseed = 0;
            let m1 = v1 * inv;
            var = v2 * inv - m1 * m1;
            if var < 0.000000000001 * (v2 * inv) {
                var = 0.0;
            }
        }
        Some((self.shift + self.v1 * inv, var.max(0.0)))
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        *self = Self::new(self.ring.capacity());
    }
}

/// Sample (ddof = 1) or population (ddof = 0) standard deviation of the last `n` values (from
/// [`RollingMoments`]).
#[derive(Clone, Debug)]
pub struct RollingStd {
    moments: RollingMoments,
    n: f64,
    ddof: f64,
}

impl RollingStd {
    /// Standard deviation over `n` values with `ddof` (0 or 1).
    pub fn new(n: usize, ddof: u8) -> Self {
        Self { moments: RollingMoments::new(n), n: n as f64, ddof: f64::from(ddof) }
    }

    /// Feeds `x`; `(mean, std)` once `n` values are held.
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<(f64, f64)> {
        let (mean, var) = self.moments.update(x)?;
        let var = var * self.n / (self.n - self.ddof);
        Some((mean, if var > 0.0 { var.sqrt() } else { 0.0 }))
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        self.moments.reset();
    }
}

/// The value `n` inputs ago.
#[derive(Clone, Debug)]
pub struct Lag {
    ring: Ring,
}

impl Lag {
    /// Lag of `n` (≥ 1).
    pub fn new(n: usize) -> Self {
        Self { ring: Ring::new(n + 1) }
    }

    /// Feeds `x`; the input `n` steps back once there is one.
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        self.ring.push(x);
        self.ring.is_full().then(|| self.ring.get(0))
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        self.ring.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_and_sums() {
        let mut r = RollingSum::new(3);
        let got: Vec<_> = [1.0, 2.0, 3.0, 4.0, 10.0].into_iter().map(|x| r.push(x)).collect();
        assert_eq!(got, vec![None, None, Some(6.0), Some(9.0), Some(17.0)]);
        let mut mx = RollingExtreme::max(3);
        let mut mn = RollingExtreme::min(3);
        let xs = [5.0, 1.0, 3.0, 2.0, 2.0, 7.0, 0.5];
        let hi: Vec<_> = xs.iter().map(|&x| mx.push(x)).collect();
        let lo: Vec<_> = xs.iter().map(|&x| mn.push(x)).collect();
        assert_eq!(hi, vec![None, None, Some(5.0), Some(3.0), Some(3.0), Some(7.0), Some(7.0)]);
        assert_eq!(lo, vec![None, None, Some(1.0), Some(1.0), Some(2.0), Some(2.0), Some(0.5)]);
    }

    #[test]
    fn moving_averages_by_hand() {
        let mut e = EmaCore::new(3); // k = 0.5, seed = mean of first 3
        let got: Vec<_> = [1.0, 2.0, 3.0, 5.0, 1.0].into_iter().map(|x| e.update(x)).collect();
        assert_eq!(got, vec![None, None, Some(2.0), Some(3.5), Some(2.25)]);
        let mut w = WilderCore::new(2);
        let got: Vec<_> = [2.0, 4.0, 6.0].into_iter().map(|x| w.update(x)).collect();
        assert_eq!(got, vec![None, Some(3.0), Some(4.5)]);
        let mut p = PineEma::new(3);
        assert_eq!([4.0, 2.0, 6.0].map(|x| p.update(x)), [4.0, 3.0, 4.5]);
        let mut s = RollingStd::new(4, 1);
        let got: Vec<_> = [2.0, 4.0, 4.0, 6.0].into_iter().map(|x| s.update(x)).collect();
        // mean 4, squared deviations 4+0+0+4 = 8, / 3.
        let (m, sd) = got[3].unwrap();
        assert_eq!(m, 4.0);
        assert!((sd - (8.0f64 / 3.0).sqrt()).abs() < 1e-15);
        let mut l = Lag::new(2);
        assert_eq!([1.0, 2.0, 3.0, 4.0].map(|x| l.update(x)), [None, None, Some(1.0), Some(2.0)]);
    }

    #[test]
    fn resum_keeps_long_streams_exact() {
        // Values around 1e9 with tiny changes: the periodic re-sum keeps the window sum exact.
        let mut r = RollingSum::new(5);
        let mut last = None;
        for i in 0..100_000u64 {
            last = r.push(1e9 + (i % 7) as f64 * 0.001);
        }
        let exact: f64 = (99_995..100_000u64).map(|i| 1e9 + (i % 7) as f64 * 0.001).sum();
        assert!((last.unwrap() - exact).abs() <= exact * 1e-13, "{last:?} vs {exact}");
    }
}
