//! Platt or isotonic, whichever is better on held-out data — with fallbacks.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::multiclass_choose::TIE_SE;
use crate::{Calibrator, Isotonic, Platt};

/// What the chooser did and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// `platt`, `isotonic` or `identity`.
    pub chosen: String,
    /// Held-out log-loss of Platt (None when it could not be fitted).
    pub platt_log_loss: Option<f64>,
    /// Held-out log-loss of isotonic (None when it could not be fitted).
    pub isotonic_log_loss: Option<f64>,
    /// Held-out log-loss of the raw scores used as probabilities.
    pub identity_log_loss: Option<f64>,
    /// A sentence: which won, or which failed and why.
    pub reason: String,
}

/// A `holdout` share outside [0.1, 0.5] is an error (it used to be clamped silently).
pub(crate) fn check_holdout(holdout: f64) -> Result<()> {
    if !(0.1..=0.5).contains(&holdout) {
        return Err(crate::CalibrationError::InvalidParameter(format!(
            "holdout {holdout} must be in [0.1, 0.5] (the share of the samples held out to choose the method)"
        )));
    }
    Ok(())
}

/// Why a candidate is unavailable: its fitting error, or no held-out samples to score it.
fn why(err: Option<&crate::CalibrationError>) -> String {
    err.map_or("no held-out samples to score it".to_string(), |e| e.to_string())
}

/// The chooser's isotonic candidate is kept within `[ISOTONIC_FLOOR, 1 − ISOTONIC_FLOOR]`:
/// isotonic regression maps scores beyond its most extreme fitting examples to exactly 0 or 1,
/// and one such row among new ones costs `−ln ε` ≈ 36 nats of log-loss (a seed 000 stack on
/// shuffled labels scored 3.3 against the base rate's 0.69 that way). The same floor as the
/// one-vs-rest calibrators' ([`OVR_FLOOR`](crate::multiclass_choose::OVR_FLOOR)); an isotonic
/// fit asked for explicitly ([`Method::Isotonic`](crate::Method::Isotonic)) is left exact.
pub const ISOTONIC_FLOOR: f64 = 1e-3;

/// `iso` with its fitted values clipped to `[ISOTONIC_FLOOR, 1 − ISOTONIC_FLOOR]` (still
/// non-decreasing).
fn floored(mut iso: Isotonic) -> Isotonic {
    iso.y.iter_mut().for_each(|v| *v = v.clamp(ISOTONIC_FLOOR, 1.0 - ISOTONIC_FLOOR));
    iso
}

/// Fits Platt and isotonic on the first `1 − holdout` share of the (chronologically ordered)
/// samples (isotonic floored at [`ISOTONIC_FLOOR`]), compares their log-loss on the rest —
/// isotonic replaces Platt only when lower by more than [`TIE_SE`] paired standard errors — and
/// refits the winner on all samples. When one
/// method fails (too few samples, one class, no convergence) the other is used; when both fail,
/// the identity (scores taken as probabilities, clipped), and the [`Choice`] says why. No
/// samples at all is an error, and so is a `holdout` outside [0.1, 0.5].
pub fn choose(scores: &[f64], labels: &[bool], holdout: f64) -> Result<(Calibrator, Choice)> {
    crate::error::check_inputs(scores, labels)?;
    check_holdout(holdout)?;
    let n = scores.len();
    if n == 0 {
        return Err(crate::CalibrationError::CannotFit { method: "auto", reason: "0 samples".into() });
    }
    let cut = ((n as f64) * (1.0 - holdout)).round() as usize;
    let (fit_s, fit_y, ho_s, ho_y) = (&scores[..cut], &labels[..cut], &scores[cut..], &labels[cut..]);
    let targets = |y: &[bool]| y.iter().map(|&v| f64::from(u8::from(v))).collect::<Vec<_>>();
    // Per held-out row (clipped as `log_loss_binary` clips): their mean is the held-out log-loss,
    // and Platt against isotonic is the paired comparison of the rows.
    let eval = |c: &Calibrator| -> Option<Vec<f64>> {
        let rows: Vec<f64> = ho_s
            .iter()
            .zip(ho_y)
            .map(|(&s, &y)| {
                let p = c.apply(s).clamp(f64::EPSILON, 1.0 - f64::EPSILON);
                -(if y { p.ln() } else { (1.0 - p).ln() })
            })
            .collect();
        (!rows.is_empty() && rows.iter().all(|v| v.is_finite())).then_some(rows)
    };
    let mean = |rows: &[f64]| rows.iter().sum::<f64>() / rows.len() as f64;
    let platt = Platt::fit(fit_s, fit_y);
    let iso = crate::error::check_binary(fit_s, fit_y, "isotonic", 2)
        .and_then(|_| Isotonic::fit(fit_s, &targets(fit_y)).map(floored));
    let pl = platt.as_ref().ok().map(|p| Calibrator::Platt(*p)).and_then(|c| eval(&c).map(|r| (c, mean(&r), r)));
    let il =
        iso.as_ref().ok().map(|i| Calibrator::Isotonic(i.clone())).and_then(|c| eval(&c).map(|r| (c, mean(&r), r)));
    let identity_log_loss = eval(&Calibrator::Identity).map(|r| mean(&r));
    let (pick, reason) = match (&pl, &il) {
        (Some((_, a, pr)), Some((_, b, ir))) => {
            // Platt (two parameters) unless isotonic is better by more than TIE_SE paired
            // standard errors, as the multiclass chooser keeps its simpler candidate.
            let (d, se) = crate::multiclass_choose::paired(ir, pr);
            if d < -TIE_SE * se && d < -1e-12 {
                (
                    "isotonic",
                    format!(
                        "isotonic held-out log-loss {b:.6} < Platt {a:.6} by more than {TIE_SE} standard errors ({se:.6})"
                    ),
                )
            } else if b < a {
                (
                    "platt",
                    format!(
                        "Platt held-out log-loss {a:.6}; isotonic {b:.6} is lower by only {:.6} (standard error {se:.6}), so the simpler Platt is kept",
                        a - b
                    ),
                )
            } else {
                ("platt", format!("Platt held-out log-loss {a:.6} ≤ isotonic {b:.6}"))
            }
        }
        (Some(_), None) => ("platt", format!("isotonic unavailable: {}", why(iso.as_ref().err()))),
        (None, Some(_)) => ("isotonic", format!("Platt unavailable: {}", why(platt.as_ref().err()))),
        (None, None) => (
            "identity",
            format!(
                "Platt unavailable: {}; isotonic unavailable: {}",
                why(platt.as_ref().err()),
                why(iso.as_ref().err())
            ),
        ),
    };
    // Refit the winner on every sample (falling back to the fold fit if that fails).
    let calibrator = match pick {
        "platt" => Platt::fit(scores, labels).map(Calibrator::Platt).unwrap_or_else(|_| pl.clone().expect("picked").0),
        "isotonic" => Isotonic::fit(scores, &targets(labels))
            .map(|i| Calibrator::Isotonic(floored(i)))
            .unwrap_or_else(|_| il.clone().expect("picked").0),
        _ => Calibrator::Identity,
    };
    let choice = Choice {
        chosen: pick.to_string(),
        platt_log_loss: pl.map(|p| p.1),
        isotonic_log_loss: il.map(|i| i.1),
        identity_log_loss,
        reason,
    };
    Ok((calibrator, choice))
}
