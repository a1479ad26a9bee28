//! Binary direction labels with a dead zone (seed 000 `--deadzone-eps 0.0005
//! --deadzone-weight 0.2`): up when `r = close[t+H]/close[t] − 1 > 0`, down otherwise; samples
//! with `|r| < eps` keep their label but get weight `deadzone_weight` (1 elsewhere).

use serde::Serialize;

use crate::error::{Result, param};
use crate::{Labels, forward_returns};

/// One direction label.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct DirectionLabel {
    /// `true` when the forward return is positive.
    pub up: bool,
    /// The forward return.
    pub ret: f64,
    /// The sample weight: `deadzone_weight` inside the dead zone, else 1.
    pub weight: f64,
}

/// Dead-zone labeller.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct DeadZone {
    /// Bars ahead, ≥ 1.
    pub horizon: usize,
    /// Half-width of the dead zone, ≥ 0.
    pub eps: f64,
    /// Weight of dead-zone samples, in [0, 1].
    pub weight: f64,
}

impl DeadZone {
    /// A labeller; seed 000 uses `eps = 0.0005`, `weight = 0.2`.
    pub fn new(horizon: usize, eps: f64, weight: f64) -> Result<Self> {
        param("deadzone", horizon >= 1, || format!("horizon = {horizon}, must be ≥ 1"))?;
        param("deadzone", eps.is_finite() && eps >= 0.0, || format!("eps = {eps}, must be ≥ 0"))?;
        param("deadzone", (0.0..=1.0).contains(&weight), || format!("weight = {weight}, must be in [0, 1]"))?;
        Ok(Self { horizon, eps, weight })
    }

    /// Labels every bar whose horizon lies inside the series; span `[t, t+H]`.
    pub fn label(&self, close: &[f64]) -> Labels<DirectionLabel> {
        let mut out = Labels::with_len(close.len());
        for (t, r) in forward_returns(close, self.horizon).into_iter().enumerate() {
            if let Some(r) = r.filter(|r| r.is_finite()) {
                let weight = if r.abs() < self.eps { self.weight } else { 1.0 };
                out.set(t, DirectionLabel { up: r > 0.0, ret: r, weight }, t + self.horizon);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        let close = [100.0, 100.01, 101.0, 100.0];
        let l = DeadZone::new(1, 0.0005, 0.2).unwrap().label(&close);
        let v: Vec<_> = l.values.iter().map(|x| x.map(|d| (d.up, d.weight))).collect();
        // +0.01 % (dead zone, up), +0.99 % (up), −0.99 % (down), none.
        assert_eq!(v, vec![Some((true, 0.2)), Some((true, 1.0)), Some((false, 1.0)), None]);
        assert!(DeadZone::new(1, 0.001, 1.5).is_err());
    }
}
