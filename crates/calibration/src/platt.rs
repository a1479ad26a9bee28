//! Platt scaling (Platt 1999; scikit-learn's `_sigmoid_calibration`): `p = 1/(1 + exp(a·f + b))`
//! fitted by maximum likelihood on the smoothed targets `t₊ = (N₊ + 1)/(N₊ + 2)`,
//! `t₋ = 1/(N₋ + 2)`, solved by Newton's method with a backtracking line search (Lin, Lin &
//! Weng 2007) to a gradient norm below 1e-10.

use serde::{Deserialize, Serialize};

use crate::error::{CalibrationError, Result, check_binary};

/// A fitted Platt scaler.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Platt {
    /// Slope (negative when higher scores mean more likely positive).
    pub a: f64,
    /// Intercept.
    pub b: f64,
}

/// `ln(1 + eˣ)` without overflow.
fn softplus(x: f64) -> f64 {
    if x > 0.0 { x + (-x).exp().ln_1p() } else { x.exp().ln_1p() }
}

impl Platt {
    /// Fits on decision scores `f` and binary labels.
    pub fn fit(f: &[f64], y: &[bool]) -> Result<Self> {
        check_binary(f, y, "Platt", 2)?;
        let n_pos = y.iter().filter(|&&v| v).count() as f64;
        let n_neg = y.len() as f64 - n_pos;
        let hi = (n_pos + 1.0) / (n_pos + 2.0);
        let lo = 1.0 / (n_neg + 2.0);
        let t: Vec<f64> = y.iter().map(|&v| if v { hi } else { lo }).collect();
        // NLL of p = 1/(1+e^z), z = a f + b: Σ t·softplus(z) + (1−t)·(softplus(z) − z).
        let nll = |a: f64, b: f64| -> f64 {
            f.iter()
                .zip(&t)
                .map(|(&fi, &ti)| {
                    let z = a * fi + b;
                    softplus(z) - (1.0 - ti) * z
                })
                .sum()
        };
        let (mut a, mut b) = (0.0, ((n_neg + 1.0) / (n_pos + 1.0)).ln());
        let mut value = nll(a, b);
        for _ in 0..200 {
            // Gradient and Hessian (with p = 1/(1+e^z): ∂/∂z = t − p, ∂²/∂z² = p(1−p)).
            let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-12, 0.0, 1e-12);
            for (&fi, &ti) in f.iter().zip(&t) {
                let z = a * fi + b;
                let p = if z >= 0.0 { (-z).exp() / (1.0 + (-z).exp()) } else { 1.0 / (1.0 + z.exp()) };
                let d1 = ti - p;
                let d2 = p * (1.0 - p);
                ga += fi * d1;
                gb += d1;
                haa += fi * fi * d2;
                hab += fi * d2;
                hbb += d2;
            }
            if ga.abs() < 1e-10 && gb.abs() < 1e-10 {
                return Ok(Self { a, b });
            }
            let det = haa * hbb - hab * hab;
            let (da, db) = (-(hbb * ga - hab * gb) / det, -(-hab * ga + haa * gb) / det);
            let mut step = 1.0;
            loop {
                let (na, nb) = (a + step * da, b + step * db);
                let nv = nll(na, nb);
                if nv < value + 1e-4 * step * (ga * da + gb * db) {
                    a = na;
                    b = nb;
                    value = nv;
                    break;
                }
                step /= 2.0;
                if step < 1e-10 {
                    // No further progress: the current point is as good as the arithmetic allows.
                    return if ga.abs() < 1e-5 && gb.abs() < 1e-5 {
                        Ok(Self { a, b })
                    } else {
                        Err(CalibrationError::NoConvergence {
                            method: "Platt",
                            reason: format!("line search failed at gradient ({ga:.3e}, {gb:.3e})"),
                        })
                    };
                }
            }
        }
        Err(CalibrationError::NoConvergence { method: "Platt", reason: "200 Newton iterations".into() })
    }

    /// The calibrated probability of a score.
    pub fn apply(&self, f: f64) -> f64 {
        let z = self.a * f + self.b;
        if z >= 0.0 { (-z).exp() / (1.0 + (-z).exp()) } else { 1.0 / (1.0 + z.exp()) }
    }
}
