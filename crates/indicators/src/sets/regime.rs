//! Seed 000's regime features: time of day on the unit circle, rolling σ of log returns and
//! the volume z-score.

use vane_core::Bar;

use super::{FeatureStream, val};
use crate::Indicator;
use crate::error::{Result, check_period};
use crate::indicator::ratio;
use crate::rolling::RollingStd;
use crate::volatility::RealizedVolatility;

pub(crate) struct RegimeStream {
    names: Vec<String>,
    window: usize,
    sigma: RealizedVolatility,
    vol: RollingStd,
}

impl RegimeStream {
    pub(crate) fn new(window: usize) -> Result<Self> {
        check_period("regime", "window", window, 2)?;
        Ok(Self {
            names: vec!["tod_sin".into(), "tod_cos".into(), format!("sigma_{window}"), format!("volume_z_{window}")],
            window,
            sigma: RealizedVolatility::new(window)?,
            vol: RollingStd::new(window, 1),
        })
    }
}

impl FeatureStream for RegimeStream {
    fn names(&self) -> &[String] {
        &self.names
    }

    fn update(&mut self, bar: &Bar, out: &mut [f64]) {
        if !bar.is_valid() {
            out[..4].fill(f64::NAN);
            return;
        }
        let frac = bar.open_time.0.rem_euclid(vane_core::DAY_MS) as f64 / vane_core::DAY_MS as f64;
        let angle = std::f64::consts::TAU * frac;
        out[0] = angle.sin();
        out[1] = angle.cos();
        out[2] = val(self.sigma.update_valid(bar));
        out[3] = self.vol.update(bar.volume).map_or(f64::NAN, |(m, sd)| ratio(bar.volume - m, sd));
    }

    fn reset(&mut self) {
        *self = Self::new(self.window).expect("valid window");
    }
}
