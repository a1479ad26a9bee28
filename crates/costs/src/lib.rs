//! Trading costs: fees and slippage per side in basis points, optional perpetual funding, the
//! round-trip cost and the net edge of a trade. Seed 000's per-horizon table ships as
//! [`seed000_horizons`].
//!
//! # Feature flags
//! None.
#![warn(missing_docs)]

/// Errors of this crate.
pub mod error;

pub use error::{CostError, Result};
use serde::{Deserialize, Serialize};

/// One basis point as a fraction.
pub const BP: f64 = 1e-4;

/// Costs of trading one market.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostModel {
    /// Exchange fee per side, bps of the traded notional.
    pub fee_bps: f64,
    /// Expected slippage per side, bps of the traded notional.
    pub slip_bps: f64,
    /// Perpetual funding rate per 8 hours in bps, paid by longs to shorts when positive (0 for
    /// spot).
    #[serde(default)]
    pub funding_bps_per_8h: f64,
}

impl Default for CostModel {
    /// Seed 000's default: 1 bp fee and 1 bp slippage per side, no funding.
    fn default() -> Self {
        Self { fee_bps: 1.0, slip_bps: 1.0, funding_bps_per_8h: 0.0 }
    }
}

impl CostModel {
    /// A model with `fee_bps` and `slip_bps` per side; both finite and ≥ 0.
    pub fn new(fee_bps: f64, slip_bps: f64) -> Result<Self> {
        let m = Self { fee_bps, slip_bps, funding_bps_per_8h: 0.0 };
        m.validate()?;
        Ok(m)
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [("fee_bps", self.fee_bps), ("slip_bps", self.slip_bps)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(CostError::InvalidParameter(format!("{name} = {v}, must be finite and ≥ 0")));
            }
        }
        if !self.funding_bps_per_8h.is_finite() {
            return Err(CostError::InvalidParameter(format!(
                "funding_bps_per_8h = {} is not finite",
                self.funding_bps_per_8h
            )));
        }
        Ok(())
    }

    /// Fee plus slippage per side, bps.
    pub fn per_side_bps(&self) -> f64 {
        self.fee_bps + self.slip_bps
    }

    /// Cost of changing the position by `turnover` (|Δposition|, in units of equity), as a
    /// fraction of equity: `turnover · (fee + slip)/10⁴`.
    pub fn trade_cost(&self, turnover: f64) -> f64 {
        turnover.abs() * self.per_side_bps() * BP
    }

    /// Entering and leaving a full position: `2 · (fee + slip)/10⁴`.
    pub fn round_trip(&self) -> f64 {
        self.trade_cost(2.0)
    }

    /// Funding paid over `holding_ms` by a position of signed size `position` (long > 0): the
    /// rate accrues pro rata per 8 hours; negative means received.
    pub fn funding(&self, position: f64, holding_ms: i64) -> f64 {
        position * self.funding_bps_per_8h * BP * holding_ms as f64 / (8.0 * 3_600_000.0)
    }

    /// Net edge of a round trip: the gross return of a position of signed size `position` minus
    /// the round-trip cost and the funding over the holding time.
    pub fn net_edge(&self, gross_return: f64, position: f64, holding_ms: i64) -> f64 {
        gross_return - self.trade_cost(2.0 * position.abs()) - self.funding(position, holding_ms)
    }
}

/// Seed 000's per-horizon settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HorizonCosts {
    /// The horizon tag (`1s`, `10s`, …).
    pub tag: &'static str,
    /// Horizon in seconds.
    pub horizon_secs: u32,
    /// σ window of the triple barrier, seconds.
    pub sigma_window_secs: u32,
    /// Triple-barrier width in σ (up and down).
    pub k_sigma: f64,
    /// Minimum expected edge to act, bps.
    pub edge_min_bps: f64,
    /// Costs.
    pub costs: CostModel,
}

/// Seed 000's table ("Doporučené hodnoty po horizontech").
pub fn seed000_horizons() -> [HorizonCosts; 6] {
    let c = |fee, slip| CostModel { fee_bps: fee, slip_bps: slip, funding_bps_per_8h: 0.0 };
    [
        HorizonCosts {
            tag: "1s",
            horizon_secs: 1,
            sigma_window_secs: 90,
            k_sigma: 1.0,
            edge_min_bps: 0.6,
            costs: c(1.0, 1.0),
        },
        HorizonCosts {
            tag: "10s",
            horizon_secs: 10,
            sigma_window_secs: 120,
            k_sigma: 1.2,
            edge_min_bps: 1.0,
            costs: c(1.0, 1.0),
        },
        HorizonCosts {
            tag: "15s",
            horizon_secs: 15,
            sigma_window_secs: 150,
            k_sigma: 1.2,
            edge_min_bps: 1.2,
            costs: c(1.0, 1.0),
        },
        HorizonCosts {
            tag: "30s",
            horizon_secs: 30,
            sigma_window_secs: 180,
            k_sigma: 1.3,
            edge_min_bps: 1.5,
            costs: c(1.0, 1.0),
        },
        HorizonCosts {
            tag: "60s",
            horizon_secs: 60,
            sigma_window_secs: 240,
            k_sigma: 1.5,
            edge_min_bps: 2.0,
            costs: c(1.0, 1.0),
        },
        HorizonCosts {
            tag: "180s",
            horizon_secs: 180,
            sigma_window_secs: 360,
            k_sigma: 1.7,
            edge_min_bps: 3.0,
            costs: c(1.0, 1.5),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_by_hand() {
        let m = CostModel::new(4.0, 1.5).unwrap();
        assert_eq!(m.per_side_bps(), 5.5);
        assert!((m.round_trip() - 0.0011).abs() < 1e-15);
        assert!((m.trade_cost(-0.5) - 0.000275).abs() < 1e-15);
        // 1 % gross on a full long held 8 h with 1 bp funding: 1 % − 11 bp − 1 bp.
        let p = CostModel { funding_bps_per_8h: 1.0, ..m };
        assert!((p.net_edge(0.01, 1.0, 8 * 3_600_000) - (0.01 - 0.0011 - 0.0001)).abs() < 1e-15);
        // A short receives positive funding.
        assert!(p.funding(-1.0, 4 * 3_600_000) < 0.0);
        assert!(CostModel::new(-1.0, 0.0).unwrap_err().to_string().contains("fee_bps = -1"));
        assert!(CostModel::new(1.0, f64::NAN).is_err());
    }

    #[test]
    fn seed000_table() {
        let t = seed000_horizons();
        assert_eq!(t.map(|h| h.tag), ["1s", "10s", "15s", "30s", "60s", "180s"]);
        assert_eq!(t[5].costs.slip_bps, 1.5);
        assert_eq!(t[2].edge_min_bps, 1.2);
        assert_eq!(
            serde_json::to_string(&t[0].costs).unwrap(),
            r#"{"fee_bps":1.0,"slip_bps":1.0,"funding_bps_per_8h":0.0}"#
        );
    }
}
