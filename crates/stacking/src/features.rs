//! The stack's inputs on the grid: raw features and regime features, each row computed from a
//! **finite** window of bars ending at it (no recursive state such as an EMA), every row by the
//! same arithmetic in the same order — so the features of the last rows of any suffix of the
//! grid that holds [`raw_lookback`]/[`regime_lookback`] earlier bars are bit-identical to the
//! batch computation. This is what makes `Stack::predict_last` on the last
//! [`Stack::history`](crate::Stack::history) bars equal the batch path.

use vane_core::Bars;

/// Names of the raw feature columns.
pub const RAW_NAMES: [&str; 12] = [
    "ret_1",
    "ret_5",
    "ret_15",
    "ret_60",
    "vol_15",
    "vol_60",
    "range",
    "log_volume",
    "log_volume_60",
    "filled",
    "filled_share_60",
    "position_60",
];

/// Bars before row `t` that raw features read (row `t` needs bars `t − 60 ..= t`).
pub fn raw_lookback() -> usize {
    60
}

/// Bars before row `t` that regime features with σ window `sigma_window` read.
pub fn regime_lookback(sigma_window: usize) -> usize {
    sigma_window.max(60)
}

/// Names of the regime feature columns.
pub const REGIME_NAMES: [&str; 4] = ["tod_sin", "tod_cos", "sigma_w", "log_volume_w"];

fn std_of_returns(close: &[f64], t: usize, w: usize) -> f64 {
    // Sample std (ddof 1) of ln(c[i]/c[i−1]) for i in (t − w, t].
    let mut sum = 0.0;
    for i in t + 1 - w..=t {
        sum += (close[i] / close[i - 1]).ln();
    }
    let mean = sum / w as f64;
    let mut ss = 0.0;
    for i in t + 1 - w..=t {
        let d = (close[i] / close[i - 1]).ln() - mean;
        ss += d * d;
    }
    if w > 1 { (ss / (w - 1) as f64).sqrt() } else { 0.0 }
}

/// Raw features, row-major `bars.len() × RAW_NAMES.len()`; rows before [`raw_lookback`] are
/// NaN. `filled[t]` says bar `t` was filled in on the grid.
pub fn raw_features(bars: &Bars, filled: &[bool]) -> Vec<f32> {
    let n = bars.len();
    let f = RAW_NAMES.len();
    let (c, h, l, v) = (bars.close(), bars.high(), bars.low(), bars.volume());
    let mut out = vec![f32::NAN; n * f];
    for t in raw_lookback()..n {
        raw_row(c, h, l, v, filled, t, &mut out[t * f..(t + 1) * f]);
    }
    out
}

/// Row `t` (≥ [`raw_lookback`]) of [`raw_features`] from the bars' columns, written into `row`
/// (`RAW_NAMES.len()` wide): the same arithmetic, so the streaming runtime computes a new row
/// from the last bars alone, bit for bit as the batch path.
pub fn raw_row(c: &[f64], h: &[f64], l: &[f64], v: &[f64], filled: &[bool], t: usize, row: &mut [f32]) {
    let lr = |k: usize| (c[t] / c[t - k]).ln();
    let mut vsum = 0.0;
    let mut fsum = 0.0;
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for i in t + 1 - 60..=t {
        vsum += v[i];
        fsum += if filled.get(i).copied().unwrap_or(false) { 1.0 } else { 0.0 };
        lo = lo.min(c[i]);
        hi = hi.max(c[i]);
    }
    let pos = if hi > lo { (c[t] - lo) / (hi - lo) } else { 0.5 };
    let range = if l[t] > 0.0 && h[t] >= l[t] { (h[t] / l[t]).ln() } else { 0.0 };
    let vals = [
        lr(1) * 1e4,
        lr(5) * 1e4,
        lr(15) * 1e4,
        lr(60) * 1e4,
        std_of_returns(c, t, 15) * 1e4,
        std_of_returns(c, t, 60) * 1e4,
        range * 1e4,
        v[t].max(0.0).ln_1p(),
        (vsum / 60.0).max(0.0).ln_1p(),
        if filled.get(t).copied().unwrap_or(false) { 1.0 } else { 0.0 },
        fsum / 60.0,
        pos,
    ];
    for (o, x) in row.iter_mut().zip(vals) {
        *o = x as f32;
    }
}

/// Regime features (seed 000's "čas dne, σ, objem"): time of day as sine and cosine, σ of the
/// 1-bar log returns over `sigma_window` bars (bps), and the log of the mean volume over the same
/// window. Row-major `bars.len() × REGIME_NAMES.len()`, NaN before [`regime_lookback`].
pub fn regime_features(bars: &Bars, sigma_window: usize) -> Vec<f32> {
    let n = bars.len();
    let f = REGIME_NAMES.len();
    let (c, v, t0) = (bars.close(), bars.volume(), bars.open_time());
    let mut out = vec![f32::NAN; n * f];
    for t in regime_lookback(sigma_window)..n {
        regime_row(c, v, t0[t], sigma_window, t, &mut out[t * f..(t + 1) * f]);
    }
    out
}

/// Row `t` (≥ [`regime_lookback`]) of [`regime_features`] from the closes, volumes and bar
/// `t`'s open time (ms), written into `row` (`REGIME_NAMES.len()` wide): the same arithmetic.
pub fn regime_row(c: &[f64], v: &[f64], open_time: i64, sigma_window: usize, t: usize, row: &mut [f32]) {
    let w = sigma_window.max(2);
    let day_ms = 86_400_000i64;
    let frac = open_time.rem_euclid(day_ms) as f64 / day_ms as f64;
    let ang = frac * std::f64::consts::TAU;
    let mut vsum = 0.0;
    for &x in &v[t + 1 - w..=t] {
        vsum += x;
    }
    let vals = [ang.sin(), ang.cos(), std_of_returns(c, t, w) * 1e4, (vsum / w as f64).max(0.0).ln_1p()];
    for (o, x) in row.iter_mut().zip(vals) {
        *o = x as f32;
    }
}
