//! Trend: directional movement (+DI, −DI, DX, ADX), Parabolic SAR, Ichimoku, Vortex.

use vane_core::Bar;

use crate::average::is_zero;
use crate::error::{IndicatorError, Result, check_period};
use crate::indicator::{Indicator, outputs, ratio};
use crate::momentum::stepped;
use crate::rolling::{Ring, RollingExtreme, RollingSum};
use crate::volatility::true_range;

outputs! {
    /// Directional movement output.
    DirectionalOutput {
        /// +DI.
        plus_di,
        /// −DI.
        minus_di,
        /// DX = `100·|+DI − −DI|/(+DI + −DI)`.
        dx,
    }
}

/// Wilder's directional movement in TA-Lib's exact form (`PLUS_DI`, `MINUS_DI`, `DX`): +DM, −DM
/// and TR are summed raw over bars 1..n−1, then smoothed as `s = s − s/n + x` from bar n on,
/// where the first output is made. +DM counts when `up > 0 && up > down`, −DM when
/// `down > 0 && up < down`. DIs are 0 when the smoothed TR is 0; when TR is 0 or the DI sum is
/// ~0, DX repeats its previous value (0 for the first), as TA-Lib 0.8 does.
#[derive(Clone, Debug)]
pub struct DirectionalMovement {
    n: usize,
    prev: Option<(f64, f64, f64)>,
    plus_dm: f64,
    minus_dm: f64,
    tr: f64,
    steps: usize,
    last_dx: f64,
    defined: bool,
    ready: bool,
}

impl DirectionalMovement {
    /// Over `n ≥ 2` bars.
    pub fn new(n: usize) -> Result<Self> {
        check_period("DX", "period", n, 2)?;
        Ok(Self {
            n,
            prev: None,
            plus_dm: 0.0,
            minus_dm: 0.0,
            tr: 0.0,
            steps: 0,
            last_dx: 0.0,
            defined: false,
            ready: false,
        })
    }
    fn fresh(&self) -> Self {
        Self::new(self.n).expect("valid period")
    }
    fn lookback(&self) -> usize {
        self.n
    }
    fn step(&mut self, bar: &Bar) -> Option<DirectionalOutput> {
        let (ph, pl, pc) = self.prev.replace((bar.high, bar.low, bar.close))?;
        let diff_p = bar.high - ph;
        let diff_m = pl - bar.low;
        let tr = true_range(bar.high, bar.low, pc);
        self.steps += 1;
        let n = self.n as f64;
        if self.steps >= self.n {
            self.plus_dm -= self.plus_dm / n;
            self.minus_dm -= self.minus_dm / n;
            self.tr = self.tr - self.tr / n + tr;
        } else {
            self.tr += tr;
        }
        if diff_m > 0.0 && diff_p < diff_m {
            self.minus_dm += diff_m;
        } else if diff_p > 0.0 && diff_p > diff_m {
            self.plus_dm += diff_p;
        }
        if self.steps < self.n {
            return None;
        }
        let (plus_di, minus_di) = if self.tr > 0.0 {
            (100.0 * (self.plus_dm / self.tr), 100.0 * (self.minus_dm / self.tr))
        } else {
            (0.0, 0.0)
        };
        let sum = minus_di + plus_di;
        self.defined = self.tr > 0.0 && !is_zero(sum);
        let dx = if self.defined { 100.0 * ((minus_di - plus_di).abs() / sum) } else { self.last_dx };
        self.last_dx = dx;
        Some(DirectionalOutput { plus_di, minus_di, dx })
    }
}
stepped!(DirectionalMovement, DirectionalOutput);

/// Average directional index, TA-Lib `ADX(n)`: the mean of the first n DX values (bars
/// n..=2n−1; degenerate DX values count as 0), then `adx = (adx·(n−1) + dx)/n`, skipping
/// degenerate DX values; first value at 2n−1.
#[derive(Clone, Debug)]
pub struct AverageDirectionalIndex {
    n: usize,
    dm: DirectionalMovement,
    last_dm: Option<DirectionalOutput>,
    sum: f64,
    count: usize,
    adx: Option<f64>,
    ready: bool,
}

impl AverageDirectionalIndex {
    /// ADX over `n ≥ 2` bars.
    pub fn new(n: usize) -> Result<Self> {
        Ok(Self { n, dm: DirectionalMovement::new(n)?, last_dm: None, sum: 0.0, count: 0, adx: None, ready: false })
    }
    fn fresh(&self) -> Self {
        Self::new(self.n).expect("valid period")
    }
    fn lookback(&self) -> usize {
        2 * self.n - 1
    }
    /// +DI, −DI and DX of the last update (the same period), once they exist.
    pub fn directional(&self) -> Option<DirectionalOutput> {
        self.last_dm
    }
    fn step(&mut self, bar: &Bar) -> Option<f64> {
        let o = self.dm.update_valid(bar)?;
        self.last_dm = Some(o);
        let defined = self.dm.defined;
        let n = self.n as f64;
        match self.adx {
            Some(a) => {
                if defined {
                    self.adx = Some(((a * (n - 1.0)) + o.dx) / n);
                }
            }
            None => {
                if defined {
                    self.sum += o.dx;
                }
                self.count += 1;
                if self.count == self.n {
                    self.adx = Some(self.sum / n);
                }
            }
        }
        self.adx
    }
}
stepped!(AverageDirectionalIndex, f64);

outputs! {
    /// Ichimoku output: the lines computed at bar t, and the senkou spans shifted forward 26 bars
    /// (the values a chart shows at t, computed at t−26).
    IchimokuOutput {
        /// `(HH_9 + LL_9)/2`.
        tenkan,
        /// `(HH_26 + LL_26)/2`.
        kijun,
        /// `(tenkan + kijun)/2`, unshifted.
        senkou_a_raw,
        /// `(HH_52 + LL_52)/2`, unshifted.
        senkou_b_raw,
        /// `senkou_a_raw` of 26 bars ago.
        senkou_a_shifted,
        /// `senkou_b_raw` of 26 bars ago.
        senkou_b_shifted,
    }
}

/// Ichimoku cloud (9, 26, 52, displacement 26), highs and lows including the current bar. Each
/// line is NaN until its window is full; the update yields from index 8 (tenkan) on. The
/// look-ahead chikou span is not computed.
#[derive(Clone, Debug)]
pub struct Ichimoku {
    periods: (usize, usize, usize, usize),
    t: (RollingExtreme, RollingExtreme),
    k: (RollingExtreme, RollingExtreme),
    b: (RollingExtreme, RollingExtreme),
    a_hist: Ring,
    b_hist: Ring,
    ready: bool,
}

impl Ichimoku {
    /// Ichimoku with tenkan, kijun, senkou-B periods and displacement (classic: 9, 26, 52, 26).
    pub fn new(tenkan: usize, kijun: usize, senkou_b: usize, displacement: usize) -> Result<Self> {
        for p in [tenkan, kijun, senkou_b, displacement] {
            check_period("Ichimoku", "period", p, 1)?;
        }
        let mm = |n| (RollingExtreme::max(n), RollingExtreme::min(n));
        Ok(Self {
            periods: (tenkan, kijun, senkou_b, displacement),
            t: mm(tenkan),
            k: mm(kijun),
            b: mm(senkou_b),
            a_hist: Ring::new(displacement + 1),
            b_hist: Ring::new(displacement + 1),
            ready: false,
        })
    }
    fn fresh(&self) -> Self {
        let (a, b, c, d) = self.periods;
        Self::new(a, b, c, d).expect("valid periods")
    }
    fn lookback(&self) -> usize {
        self.periods.0 - 1
    }
    fn step(&mut self, bar: &Bar) -> Option<IchimokuOutput> {
        let mid = |p: &mut (RollingExtreme, RollingExtreme)| {
            let (h, l) = (p.0.push(bar.high), p.1.push(bar.low));
            match (h, l) {
                (Some(h), Some(l)) => (h + l) / 2.0,
                _ => f64::NAN,
            }
        };
        let tenkan = mid(&mut self.t);
        let kijun = mid(&mut self.k);
        let senkou_b_raw = mid(&mut self.b);
        let senkou_a_raw = (tenkan + kijun) / 2.0;
        self.a_hist.push(senkou_a_raw);
        self.b_hist.push(senkou_b_raw);
        let shifted = |r: &Ring| if r.is_full() { r.get(0) } else { f64::NAN };
        if tenkan.is_nan() {
            return None;
        }
        Some(IchimokuOutput {
            tenkan,
            kijun,
            senkou_a_raw,
            senkou_b_raw,
            senkou_a_shifted: shifted(&self.a_hist),
            senkou_b_shifted: shifted(&self.b_hist),
        })
    }
}
stepped!(Ichimoku, IchimokuOutput);

outputs! {
    /// Vortex output.
    VortexOutput {
        /// VI+ = `Σ|h − l₋₁| / Σ TR`.
        plus,
        /// VI− = `Σ|l − h₋₁| / Σ TR`.
        minus,
    }
}

/// Vortex indicator over n bars: `TR = max(h, c₋₁) − min(l, c₋₁)`, sums over bars t−n+1..t
/// (NaN when the TR sum is 0); first value at n.
#[derive(Clone, Debug)]
pub struct Vortex {
    n: usize,
    prev: Option<(f64, f64, f64)>,
    vp: RollingSum,
    vm: RollingSum,
    tr: RollingSum,
    ready: bool,
}

impl Vortex {
    /// Vortex over `n ≥ 1` bars.
    pub fn new(n: usize) -> Result<Self> {
        check_period("Vortex", "period", n, 1)?;
        Ok(Self { n, prev: None, vp: RollingSum::new(n), vm: RollingSum::new(n), tr: RollingSum::new(n), ready: false })
    }
    fn fresh(&self) -> Self {
        Self::new(self.n).expect("valid period")
    }
    fn lookback(&self) -> usize {
        self.n
    }
    fn step(&mut self, bar: &Bar) -> Option<VortexOutput> {
        let (ph, pl, pc) = self.prev.replace((bar.high, bar.low, bar.close))?;
        let tr = bar.high.max(pc) - bar.low.min(pc);
        let (p, m, t) = (self.vp.push((bar.high - pl).abs()), self.vm.push((bar.low - ph).abs()), self.tr.push(tr));
        let t = t?;
        Some(VortexOutput { plus: ratio(p?, t), minus: ratio(m?, t) })
    }
}
stepped!(Vortex, VortexOutput);

/// Parabolic SAR parameters check shared by the SAR implementation.
pub(crate) fn check_sar(acceleration: f64, maximum: f64) -> Result<()> {
    if !(acceleration > 0.0 && maximum >= acceleration && maximum.is_finite()) {
        return Err(IndicatorError::InvalidParameter {
            indicator: "SAR",
            message: format!(
                "acceleration {acceleration} and maximum {maximum} must satisfy 0 < acceleration ≤ maximum"
            ),
        });
    }
    Ok(())
}

/// Parabolic SAR, TA-Lib `SAR(acceleration, maximum)`; first value at index 1.
///
/// The first direction is short when bar 1 has positive −DM (`l₀ − l₁ > 0` and
/// `h₁ − h₀ < l₀ − l₁`), else long; a long starts with `sar = l₀`, `ep = h₁` (a short with
/// `sar = h₀`, `ep = l₁`). Each bar outputs the SAR computed the bar before, unless the bar
/// penetrates it: then the position flips, the SAR becomes the extreme point (kept outside the
/// range of this bar and the previous one) and the acceleration restarts. The acceleration grows
/// by `acceleration` with each new extreme, up to `maximum`; a new SAR never enters the range of
/// the current or previous bar.
#[derive(Clone, Debug)]
pub struct ParabolicSar {
    acceleration: f64,
    maximum: f64,
    first: Option<(f64, f64)>,
    last: Option<(f64, f64)>,
    state: Option<SarState>,
    ready: bool,
}

#[derive(Clone, Copy, Debug)]
struct SarState {
    long: bool,
    sar: f64,
    ep: f64,
    af: f64,
}

impl ParabolicSar {
    /// SAR with acceleration step and maximum (classic: 0.02, 0.2).
    pub fn new(acceleration: f64, maximum: f64) -> Result<Self> {
        check_sar(acceleration, maximum)?;
        Ok(Self { acceleration, maximum, first: None, last: None, state: None, ready: false })
    }
    fn fresh(&self) -> Self {
        Self::new(self.acceleration, self.maximum).expect("valid parameters")
    }
    fn lookback(&self) -> usize {
        1
    }
    fn step(&mut self, bar: &Bar) -> Option<f64> {
        let (new_high, new_low) = (bar.high, bar.low);
        let (prev_high, prev_low) = match (self.state, self.first) {
            (None, None) => {
                self.first = Some((new_high, new_low));
                self.last = Some((new_high, new_low));
                return None;
            }
            (None, Some((h0, l0))) => {
                let diff_m = l0 - new_low;
                let diff_p = new_high - h0;
                let short = diff_m > 0.0 && diff_p < diff_m;
                self.state = Some(if short {
                    SarState { long: false, sar: h0, ep: new_low, af: self.acceleration }
                } else {
                    SarState { long: true, sar: l0, ep: new_high, af: self.acceleration }
                });
                // TA-Lib's first iteration uses this bar as its own "previous" bar.
                (new_high, new_low)
            }
            (Some(_), _) => self.last.expect("set with the first bar"),
        };
        self.last = Some((new_high, new_low));
        let s = self.state.as_mut().expect("initialised above");
        let (acc, max) = (self.acceleration, self.maximum);
        let out;
        if s.long {
            if new_low <= s.sar {
                s.long = false;
                s.sar = s.ep.max(prev_high).max(new_high);
                out = s.sar;
                s.af = acc;
                s.ep = new_low;
                s.sar += s.af * (s.ep - s.sar);
                s.sar = s.sar.max(prev_high).max(new_high);
            } else {
                out = s.sar;
                if new_high > s.ep {
                    s.ep = new_high;
                    s.af = (s.af + acc).min(max);
                }
                s.sar += s.af * (s.ep - s.sar);
                s.sar = s.sar.min(prev_low).min(new_low);
            }
        } else if new_high >= s.sar {
            s.long = true;
            s.sar = s.ep.min(prev_low).min(new_low);
            out = s.sar;
            s.af = acc;
            s.ep = new_high;
            s.sar += s.af * (s.ep - s.sar);
            s.sar = s.sar.min(prev_low).min(new_low);
        } else {
            out = s.sar;
            if new_low < s.ep {
                s.ep = new_low;
                s.af = (s.af + acc).min(max);
            }
            s.sar += s.af * (s.ep - s.sar);
            s.sar = s.sar.max(prev_high).max(new_high);
        }
        Some(out)
    }
}
stepped!(ParabolicSar, f64);
