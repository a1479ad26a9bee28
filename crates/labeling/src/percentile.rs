//! Percentile-adaptive thresholds (seed 002 `percentile_sell 0.30`, `percentile_buy 0.70`): the
//! SELL and BUY thresholds are percentiles of the forward returns **of the training window
//! only**, then applied to any window.

use serde::{Deserialize, Serialize};

use crate::error::{LabelError, Result, param};
use crate::fixed::{FixedLabel, label_returns};
use crate::{Labels, forward_returns};

/// Fitted thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PercentileThresholds {
    /// Forward-return horizon, bars.
    pub horizon: usize,
    /// Returns below this are SELL.
    pub sell: f64,
    /// Returns above this are BUY.
    pub buy: f64,
}

/// The `q`-quantile (0..=1) of `xs` with NumPy's default linear interpolation
/// (`pos = q·(n−1)`, interpolating between the neighbouring order statistics).
pub fn quantile(xs: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() || !(0.0..=1.0).contains(&q) {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let pos = q * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    Some(v[lo] + (pos - lo as f64) * (v[hi] - v[lo]))
}

impl PercentileThresholds {
    /// Fits on the training bars `close_train` (the returns whose horizon ends inside it).
    pub fn fit(close_train: &[f64], horizon: usize, p_sell: f64, p_buy: f64) -> Result<Self> {
        param("percentile", horizon >= 1, || format!("horizon = {horizon}, must be ≥ 1"))?;
        param("percentile", (0.0..=1.0).contains(&p_sell) && p_sell <= p_buy && p_buy <= 1.0, || {
            format!("need 0 ≤ percentile_sell ≤ percentile_buy ≤ 1, got {p_sell} and {p_buy}")
        })?;
        let rets: Vec<f64> = forward_returns(close_train, horizon).into_iter().flatten().collect();
        let none = || {
            LabelError::InvalidInput(format!(
                "training window of {} bars has no {horizon}-bar return",
                close_train.len()
            ))
        };
        Ok(Self {
            horizon,
            sell: quantile(&rets, p_sell).ok_or_else(none)?,
            buy: quantile(&rets, p_buy).ok_or_else(none)?,
        })
    }

    /// Labels a series with the fitted thresholds: BUY when `r > buy`, SELL when `r < sell`.
    pub fn label(&self, close: &[f64]) -> Labels<FixedLabel> {
        label_returns(&forward_returns(close, self.horizon), self.horizon, self.buy, self.sell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vane_core::Signal;

    #[test]
    fn numpy_quantiles() {
        // numpy.percentile([1, 2, 3, 4], [30, 70]) == [1.9, 3.1]
        let xs = [4.0, 1.0, 3.0, 2.0];
        assert!((quantile(&xs, 0.3).unwrap() - 1.9).abs() < 1e-12);
        assert!((quantile(&xs, 0.7).unwrap() - 3.1).abs() < 1e-12);
        assert_eq!(quantile(&xs, 0.0), Some(1.0));
        assert_eq!(quantile(&xs, 1.0), Some(4.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn fitted_on_train_only() {
        // Train returns (H = 1): +1 %, −1 %, +2 %, −2 %, 0 → p30 = −0.8 %, p70 = +0.8 %.
        let train = [100.0, 101.0, 99.99, 101.9898, 99.950_004, 99.950_004];
        let th = PercentileThresholds::fit(&train, 1, 0.3, 0.7).unwrap();
        let rets: Vec<f64> = forward_returns(&train, 1).into_iter().flatten().collect();
        assert!((th.sell - quantile(&rets, 0.3).unwrap()).abs() < 1e-15);
        // Applied to other data, the thresholds do not move.
        let test = [100.0, 100.5, 102.0, 100.0];
        let l = th.label(&test);
        let signals: Vec<_> = l.values.iter().map(|v| v.map(|x| x.signal)).collect();
        assert_eq!(signals, vec![Some(Signal::Hold), Some(Signal::Buy), Some(Signal::Sell), None]);
        assert!(PercentileThresholds::fit(&[100.0], 1, 0.3, 0.7).is_err());
        assert!(PercentileThresholds::fit(&train, 1, 0.8, 0.7).is_err());
    }
}
