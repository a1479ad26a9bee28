//! Approximate-nearest-neighbour classifier in Lorentzian space (seed 003; jdehorty's
//! "Machine Learning: Lorentzian Classification"), strictly causal.
//!
//! - Distance between bars a and b: `Σ_f ln(1 + |x_a,f − x_b,f|)` over the feature columns (the
//!   `lorentzian` feature set: normalised RSI(14), WT(10,11), CCI(20), ADX(20), RSI(9)).
//! - Training label of bar t: the sign of `close[t+4] − close[t]` (+1 long, −1 short, 0), known —
//!   and usable as a neighbour — only from bar t+4 on.
//! - At bar T the labelled history (the last `max_bars_back` bars with known labels, oldest
//!   first) is scanned as the script does: position i is skipped when `i % 4 == 0` (the script's
//!   `i%4` test); a bar whose distance is at least the running threshold joins the neighbours;
//!   when there are more than `k` of them, the threshold becomes the distance at position
//!   `round(3k/4)` and the oldest neighbour is dropped.
//! - Output per bar: the sum of the neighbours' labels (−k..=k), the class shares of the
//!   neighbours (P(short), P(neutral), P(long)), and the script's signal: long when the sum is
//!   positive and the filters pass, short when negative and they pass, else the previous signal.
//! - Optional filters (each a per-bar boolean the caller supplies or computes with the helpers
//!   here): volatility (recent ATR above the historical ATR), regime (the script's KLMF slope),
//!   ADX above a threshold.

use serde::{Deserialize, Serialize};

use crate::{Result, TabularError};

/// Classifier settings (the script's defaults).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LorentzianConfig {
    /// Neighbours k.
    pub neighbors: usize,
    /// Labelled bars scanned.
    pub max_bars_back: usize,
    /// Bars ahead of the training label.
    pub label_horizon: usize,
}

impl Default for LorentzianConfig {
    fn default() -> Self {
        Self { neighbors: 8, max_bars_back: 2000, label_horizon: 4 }
    }
}

/// The classifier's output for one bar.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LorentzianOutput {
    /// Sum of the neighbours' labels.
    pub prediction: i32,
    /// Share of short, neutral and long neighbours (all 0 without neighbours).
    pub probs: [f64; 3],
    /// +1 long, −1 short, 0 none yet (the script keeps the previous signal).
    pub signal: i8,
}

/// `Σ ln(1 + |a − b|)`.
pub fn lorentzian_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs().ln_1p()).sum()
}

/// The script's neighbour scan of `query` over `history` (`(position, row)` pairs in time order,
/// positions counted from `first`): position i is skipped when `(i − first) % 4 == 0`; a row at
/// least as far as the running threshold joins; past `k` neighbours the threshold becomes the
/// distance at index `round(3k/4)` and the oldest neighbour drops. Returns the neighbours'
/// positions, oldest first.
pub fn scan<'a>(
    query: &[f64],
    first: usize,
    history: impl Iterator<Item = (usize, &'a [f64])>,
    k: usize,
) -> Vec<usize> {
    let cut = ((k as f64) * 3.0 / 4.0).round() as usize;
    let mut dist: Vec<f64> = Vec::with_capacity(k + 1);
    let mut found: Vec<usize> = Vec::with_capacity(k + 1);
    let mut threshold = -1.0;
    for (j, row) in history {
        if (j - first).is_multiple_of(4) {
            continue;
        }
        let d = lorentzian_distance(query, row);
        if d >= threshold {
            threshold = d;
            dist.push(d);
            found.push(j);
            if found.len() > k {
                threshold = dist[cut.min(dist.len() - 1)];
                dist.remove(0);
                found.remove(0);
            }
        }
    }
    found
}

/// Runs the classifier over a series: `features[t]` is bar t's feature row, `close` its close,
/// `filter` (optional) whether bar t passes the filters. Rows with a non-finite feature get no
/// neighbours (prediction 0) and never serve as neighbours.
pub fn classify(
    features: &[Vec<f64>],
    close: &[f64],
    filter: Option<&[bool]>,
    cfg: &LorentzianConfig,
) -> Result<Vec<LorentzianOutput>> {
    let n = features.len();
    if close.len() != n || filter.is_some_and(|f| f.len() != n) {
        return Err(TabularError::InvalidInput(format!(
            "{n} feature rows, {} closes and {} filter values",
            close.len(),
            filter.map_or(n, <[bool]>::len)
        )));
    }
    if cfg.neighbors == 0 || cfg.max_bars_back == 0 || cfg.label_horizon == 0 {
        return Err(TabularError::InvalidParameter("neighbors, max_bars_back and label_horizon must be ≥ 1".into()));
    }
    let h = cfg.label_horizon;
    let label = |t: usize| -> i32 {
        let d = close[t + h] - close[t];
        (d > 0.0) as i32 - (d < 0.0) as i32
    };
    let usable = |t: usize| features[t].iter().all(|v| v.is_finite());
    let mut out = Vec::with_capacity(n);
    let mut signal = 0i8;
    let mut preds: Vec<i32> = Vec::with_capacity(cfg.neighbors + 1);
    for t in 0..n {
        preds.clear();
        if usable(t) && t >= h {
            // Labelled bars: 0..=t−h; scan the last max_bars_back of them, oldest first.
            let last = t - h;
            let first = (last + 1).saturating_sub(cfg.max_bars_back);
            let history = (first..=last).filter(|&j| usable(j)).map(|j| (j, &features[j][..]));
            preds.extend(scan(&features[t], first, history, cfg.neighbors).into_iter().map(label));
        }
        let prediction: i32 = preds.iter().sum();
        let m = preds.len() as f64;
        let probs = if preds.is_empty() {
            [0.0; 3]
        } else {
            [-1, 0, 1].map(|c| preds.iter().filter(|&&p| p == c).count() as f64 / m)
        };
        let pass = filter.is_none_or(|f| f[t]);
        if pass && prediction > 0 {
            signal = 1;
        } else if pass && prediction < 0 {
            signal = -1;
        }
        out.push(LorentzianOutput { prediction, probs, signal });
    }
    Ok(out)
}

/// Wilder's ATR in TradingView's form (`ta.atr`: RMA of the true range, the first TR being
/// `high − low`): NaN until `n` true ranges exist.
fn pine_atr(high: &[f64], low: &[f64], close: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; high.len()];
    let mut acc: Option<f64> = None;
    let mut seed = 0.0;
    for t in 0..high.len() {
        let tr = if t == 0 {
            high[0] - low[0]
        } else {
            (high[t] - low[t]).max((high[t] - close[t - 1]).abs()).max((low[t] - close[t - 1]).abs())
        };
        match acc {
            Some(a) => acc = Some((a * (n as f64 - 1.0) + tr) / n as f64),
            None => {
                seed += tr;
                if t + 1 == n {
                    acc = Some(seed / n as f64);
                }
            }
        }
        out[t] = acc.unwrap_or(f64::NAN);
    }
    out
}

/// The script's volatility filter: `ATR(min_len) > ATR(max_len)` (recent volatility above
/// the historical one); bars before both exist pass.
pub fn volatility_filter(high: &[f64], low: &[f64], close: &[f64], min_len: usize, max_len: usize) -> Vec<bool> {
    let (a, b) = (pine_atr(high, low, close, min_len.max(1)), pine_atr(high, low, close, max_len.max(1)));
    a.iter().zip(&b).map(|(x, y)| if x.is_nan() || y.is_nan() { true } else { x > y }).collect()
}

/// The script's regime filter on `src = ohlc4`: a Kalman-like smoother (KLMF), its absolute
/// slope against a 200-bar EMA of that slope; passes when
/// `(slope − ema)/ema ≥ threshold` (−0.1 by default).
pub fn regime_filter(open: &[f64], high: &[f64], low: &[f64], close: &[f64], threshold: f64) -> Vec<bool> {
    let n = close.len();
    let (mut v1, mut v2, mut klmf) = (0.0f64, 0.0f64, 0.0f64);
    let mut prev_src = f64::NAN;
    let mut prev_klmf = f64::NAN;
    let k = 2.0 / 201.0;
    let mut ema: Option<f64> = None;
    let mut out = Vec::with_capacity(n);
    for t in 0..n {
        let src = (open[t] + high[t] + low[t] + close[t]) / 4.0;
        let d = if prev_src.is_nan() { 0.0 } else { src - prev_src };
        v1 = 0.2 * d + 0.8 * v1;
        v2 = 0.1 * (high[t] - low[t]) + 0.8 * v2;
        let omega = if v2 != 0.0 { (v1 / v2).abs() } else { 0.0 };
        let alpha = (-omega.powi(2) + (omega.powi(4) + 16.0 * omega.powi(2)).sqrt()) / 8.0;
        klmf = alpha * src + (1.0 - alpha) * klmf;
        let slope = if prev_klmf.is_nan() { f64::NAN } else { (klmf - prev_klmf).abs() };
        prev_src = src;
        prev_klmf = klmf;
        if slope.is_nan() {
            out.push(true);
            continue;
        }
        let e = match ema {
            Some(e) => k * slope + (1.0 - k) * e,
            None => slope,
        };
        ema = Some(e);
        out.push(if e > 0.0 { (slope - e) / e >= threshold } else { true });
    }
    out
}

/// Class probabilities of `test` rows from labelled `train` rows (`classes[i]` in `0..k` is the
/// class of `train[i]`): every test row scans the last `max_bars_back` complete training rows
/// (no non-finite value) with [`scan`]'s rules and `neighbors` = k; its probabilities are the
/// neighbours' class shares. A test row with a non-finite value, or without neighbours, gets the
/// uniform distribution. No complete training row at all is an error.
pub fn class_probs(
    train: &[Vec<f64>],
    classes: &[usize],
    k: usize,
    test: &[Vec<f64>],
    cfg: &LorentzianConfig,
) -> Result<Vec<Vec<f64>>> {
    if train.len() != classes.len() {
        return Err(TabularError::InvalidInput(format!("{} training rows, {} classes", train.len(), classes.len())));
    }
    if let Some(c) = classes.iter().find(|&&c| c >= k) {
        return Err(TabularError::InvalidInput(format!("class {c} outside 0..{k}")));
    }
    let uniform = vec![1.0 / k as f64; k];
    let complete: Vec<usize> = (0..train.len()).filter(|&r| train[r].iter().all(|v| v.is_finite())).collect();
    if complete.is_empty() {
        // Like the GBDT and the logistic regression: no neighbours to learn from is an error,
        // not a column of uniform probabilities.
        return Err(TabularError::InvalidInput(format!(
            "{} training rows, none with every feature finite: the Lorentzian classifier needs at least one",
            train.len()
        )));
    }
    let window = &complete[complete.len().saturating_sub(cfg.max_bars_back)..];
    let first = window.first().copied().unwrap_or(0);
    Ok(test
        .iter()
        .map(|q| {
            if q.iter().any(|v| !v.is_finite()) {
                return uniform.clone();
            }
            let found = scan(q, first, window.iter().map(|&j| (j, &train[j][..])), cfg.neighbors);
            if found.is_empty() {
                return uniform.clone();
            }
            let mut p = vec![0.0; k];
            for j in &found {
                p[classes[*j]] += 1.0 / found.len() as f64;
            }
            p
        })
        .collect())
}

#[cfg(test)]
mod class_probs_tests {
    use super::*;

    #[test]
    fn shares_of_the_neighbours_and_uniform_without_any() {
        let train: Vec<Vec<f64>> = (0..12).map(|i| vec![i as f64]).collect();
        let classes: Vec<usize> = (0..12).map(|i| i % 2).collect();
        let cfg = LorentzianConfig::default();
        let p = class_probs(&train, &classes, 2, &[vec![3.0], vec![f64::NAN]], &cfg).unwrap();
        assert!((p[0].iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(p[1], vec![0.5, 0.5]);
        assert!(class_probs(&train, &classes, 1, &[], &cfg).is_err());
    }
}
