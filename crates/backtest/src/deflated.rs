//! The probabilistic and the deflated Sharpe ratio (Bailey & López de Prado, "The Deflated Sharpe
//! Ratio: Correcting for Selection Bias, Backtest Overfitting and Non-Normality", Journal of
//! Portfolio Management 40(5), 2014).
//!
//! Everything here is **per period** (not annualised): `SR = mean(r)/std(r, ddof 1)`, which is
//! [`Metrics::sharpe`](crate::Metrics::sharpe)`/√P`. Skewness `γ3 = m3/m2^{3/2}` and kurtosis
//! `γ4 = m4/m2²` (non-excess: 3 for a normal) use the population central moments
//! `m_k = mean((r − r̄)^k)` (scipy's `skew`, `kurtosis(fisher=False)` with `bias=True`).
//!
//! * [`probabilistic_sharpe`] — `PSR(SR*) = Φ((SR − SR*)·√(T−1) / √(1 − γ3·SR + (γ4−1)/4·SR²))`,
//!   the probability that the true Sharpe exceeds `SR*` given `T` observations.
//! * [`expected_max_sharpe`] — `SR0 = √V·((1−γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e)))`, the expected
//!   maximum of `N` estimated Sharpe ratios whose true value is 0 and whose variance across the
//!   trials is `V` (γ the Euler–Mascheroni constant); 0 for a single trial.
//! * [`deflated_sharpe`] — `DSR = PSR(SR0)`: the probability that the selected strategy's true
//!   Sharpe exceeds what the best of `N` skill-less trials would show.
//!
//! Φ is `½·erfc(−x/√2)` (libm's erfc, accurate to about an ulp); Φ⁻¹ is Acklam's rational
//! approximation (relative error 1.15·10⁻⁹) refined by one Halley step on Φ, which brings it to
//! machine precision.

use serde::{Deserialize, Serialize};

use crate::error::{BacktestError, Result};

/// The Euler–Mascheroni constant γ.
pub const EULER_MASCHERONI: f64 = 0.577_215_664_901_532_9;

/// The standard normal CDF Φ(x) = ½·erfc(−x/√2). Φ(±∞) = 1 or 0; NaN in, NaN out.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// The standard normal quantile Φ⁻¹(p): −∞ at 0, +∞ at 1, NaN outside [0, 1] or for NaN.
pub fn normal_quantile(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    // Work on the lower tail, where Φ is accurate in relative terms; 1 − p is exact for p ≥ ½.
    if p > 0.5 {
        return -normal_quantile(1.0 - p);
    }
    let mut x = acklam_lower(p);
    // One Halley step: e = Φ(x) − p, u = e/φ(x), x ← x − u/(1 + x·u/2).
    let e = normal_cdf(x) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x -= u / (1.0 + x * u / 2.0);
    x
}

/// Acklam's approximation of Φ⁻¹(p) for 0 < p ≤ ½.
fn acklam_lower(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] =
        [7.784_695_709_041_462e-3, 3.224_671_290_700_398e-1, 2.445_134_137_142_996, 3.754_408_661_907_416];
    const P_LOW: f64 = 0.024_25;
    if p < P_LOW {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// The probabilistic Sharpe ratio `PSR(SR*) = Φ((SR − SR*)·√(T−1) / √(1 − γ3·SR + (γ4−1)/4·SR²))`
/// of a per-period Sharpe `sr` against the per-period benchmark `sr_benchmark`, with `n_obs` = T
/// returns of skewness `skew` (γ3) and non-excess kurtosis `kurtosis` (γ4; 3 for normal returns).
///
/// NaN when it is undefined: `n_obs < 2`, a non-finite input, or a variance term
/// `1 − γ3·SR + (γ4−1)/4·SR²` that is not positive (impossible for moments of one sample, where
/// `γ4 ≥ 1 + γ3²`).
pub fn probabilistic_sharpe(sr: f64, sr_benchmark: f64, n_obs: usize, skew: f64, kurtosis: f64) -> f64 {
    if n_obs < 2 || ![sr, sr_benchmark, skew, kurtosis].iter().all(|x| x.is_finite()) {
        return f64::NAN;
    }
    let var = 1.0 - skew * sr + (kurtosis - 1.0) / 4.0 * sr * sr;
    if var.is_nan() || var <= 0.0 {
        return f64::NAN;
    }
    normal_cdf((sr - sr_benchmark) * ((n_obs - 1) as f64).sqrt() / var.sqrt())
}

/// The expected maximum of `n_trials` estimated Sharpe ratios whose true value is 0 and whose
/// variance across the trials is `var_of_trial_sharpes` (per period²):
/// `√V·((1−γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e)))`. One trial is no selection: 0. NaN for
/// `n_trials = 0` or a negative or non-finite variance.
pub fn expected_max_sharpe(var_of_trial_sharpes: f64, n_trials: usize) -> f64 {
    if n_trials == 0 || !(var_of_trial_sharpes.is_finite() && var_of_trial_sharpes >= 0.0) {
        return f64::NAN;
    }
    if n_trials == 1 {
        return 0.0;
    }
    let n = n_trials as f64;
    let g = EULER_MASCHERONI;
    var_of_trial_sharpes.sqrt()
        * ((1.0 - g) * normal_quantile(1.0 - 1.0 / n) + g * normal_quantile(1.0 - 1.0 / (n * std::f64::consts::E)))
}

/// The deflated Sharpe ratio of one return series and what went into it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeflatedSharpe {
    /// `mean(r)/std(r, ddof 1)`, not annualised.
    pub sharpe_per_period: f64,
    /// The benchmark: the expected maximum Sharpe of `n_trials` skill-less trials, per period.
    pub sr0: f64,
    /// `PSR(0)`: the probability that the true Sharpe is above 0 (no selection correction).
    pub psr: f64,
    /// `PSR(SR0)`: the deflated Sharpe ratio, a probability.
    pub dsr: f64,
    /// T, the number of returns.
    pub n_obs: usize,
    /// γ3, the sample skewness (population moments).
    pub skew: f64,
    /// γ4, the sample kurtosis, non-excess (3 for normal returns).
    pub kurtosis: f64,
    /// N, the number of trials the series was selected from.
    pub n_trials: usize,
    /// V, the variance of the trials' per-period Sharpe ratios used for `sr0`.
    pub var_of_trial_sharpes: f64,
    /// True when V was not given and `1/(T−1)` was used (see [`deflated_sharpe`]).
    pub var_assumed: bool,
}

/// Sample moments of `r`: (mean, std ddof 1, skewness, non-excess kurtosis); skewness and
/// kurtosis from the population central moments.
pub fn moments(r: &[f64]) -> (f64, f64, f64, f64) {
    let n = r.len() as f64;
    let mean = r.iter().sum::<f64>() / n;
    let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
    for &x in r {
        let d = x - mean;
        let d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
    }
    let std1 = (m2 / (n - 1.0)).sqrt();
    let (m2, m3, m4) = (m2 / n, m3 / n, m4 / n);
    (mean, std1, m3 / m2.powf(1.5), m4 / (m2 * m2))
}

/// The deflated Sharpe ratio of `returns` (per period), selected as the best of `n_trials`
/// trials whose per-period Sharpe ratios have variance `var_of_trial_sharpes`.
///
/// When that variance is not given (`None`), `V = 1/(T−1)` is used: the variance of the Sharpe
/// estimator under the paper's null (every trial's true Sharpe 0, where the estimator's variance
/// `(1 − γ3·SR + (γ4−1)/4·SR²)/(T−1)` is `1/(T−1)` whatever the skewness and kurtosis), i.e. the
/// trials are taken to differ only by estimation noise. Pass the measured variance of the trials'
/// Sharpes when they are at hand: trials that really differ spread wider and deflate more.
///
/// Errors (naming the input): fewer than 2 returns, a non-finite return, constant returns (no
/// Sharpe: the standard deviation is 0), `n_trials = 0`, or a variance that is negative or not
/// finite.
pub fn deflated_sharpe(returns: &[f64], n_trials: usize, var_of_trial_sharpes: Option<f64>) -> Result<DeflatedSharpe> {
    let t = returns.len();
    if t < 2 {
        return Err(BacktestError::InvalidInput(format!(
            "deflated Sharpe: {t} return(s); it needs at least 2 (T − 1 > 0)"
        )));
    }
    if let Some(i) = returns.iter().position(|x| !x.is_finite()) {
        return Err(BacktestError::InvalidInput(format!(
            "deflated Sharpe: return #{i} = {} is not finite",
            returns[i]
        )));
    }
    if returns.windows(2).all(|w| w[0] == w[1]) {
        return Err(BacktestError::InvalidInput(format!(
            "deflated Sharpe: the {t} returns are all {}: their standard deviation is 0 and they have no Sharpe ratio",
            returns[0]
        )));
    }
    if n_trials == 0 {
        return Err(BacktestError::InvalidParameter("deflated Sharpe: n_trials = 0; it must be at least 1".into()));
    }
    if let Some(v) = var_of_trial_sharpes
        && !(v.is_finite() && v >= 0.0)
    {
        return Err(BacktestError::InvalidParameter(format!(
            "deflated Sharpe: var_of_trial_sharpes = {v}; it must be a finite number ≥ 0"
        )));
    }
    let (mean, sd, skew, kurtosis) = moments(returns);
    let sr = mean / sd;
    if !sr.is_finite() {
        return Err(BacktestError::InvalidInput(format!(
            "deflated Sharpe: the returns' standard deviation {sd} gives no finite Sharpe ratio"
        )));
    }
    let var = var_of_trial_sharpes.unwrap_or(1.0 / (t - 1) as f64);
    let sr0 = expected_max_sharpe(var, n_trials);
    Ok(DeflatedSharpe {
        sharpe_per_period: sr,
        sr0,
        psr: probabilistic_sharpe(sr, 0.0, t, skew, kurtosis),
        dsr: probabilistic_sharpe(sr, sr0, t, skew, kurtosis),
        n_obs: t,
        skew,
        kurtosis,
        n_trials,
        var_of_trial_sharpes: var,
        var_assumed: var_of_trial_sharpes.is_none(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn quantile_matches_known_values() {
        assert!(close(normal_quantile(0.975), 1.959_963_984_540_054, 1e-12));
        assert!(close(normal_quantile(0.025), -1.959_963_984_540_054, 1e-12));
        assert_eq!(normal_quantile(0.5), 0.0);
        // Φ⁻¹(0.99) = 2.3263478740408408, Φ⁻¹(0.999) = 3.090232306167813 (tables / scipy).
        assert!(close(normal_quantile(0.99), 2.326_347_874_040_840_8, 1e-12));
        assert!(close(normal_quantile(0.999), 3.090_232_306_167_813, 1e-12));
        assert!(close(normal_quantile(1e-10), -6.361_340_902_404_056, 1e-9));
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(normal_quantile(1.0), f64::INFINITY);
        assert!(normal_quantile(1.5).is_nan() && normal_quantile(-0.1).is_nan() && normal_quantile(f64::NAN).is_nan());
        // Φ(1.96) = 0.9750021048517795; Φ(0) = ½.
        assert!(close(normal_cdf(1.96), 0.975_002_104_851_779_5, 1e-15));
        assert_eq!(normal_cdf(0.0), 0.5);
    }

    #[test]
    fn quantile_round_trips() {
        for i in 1..1000 {
            let p = i as f64 / 1000.0;
            assert!(close(normal_cdf(normal_quantile(p)), p, 1e-14), "p = {p}");
        }
        for &p in &[1e-300, 1e-100, 1e-20, 1e-8, 0.02425, 0.97575, 1.0 - 1e-12] {
            let back = normal_cdf(normal_quantile(p));
            assert!(((back - p) / p.min(1.0 - p).max(p * 1e-3)).abs() < 1e-9, "p = {p}: {back}");
        }
        for &x in &[-8.0, -3.3, -1.0, 0.25, 2.0, 5.5] {
            assert!(close(normal_quantile(normal_cdf(x)), x, 1e-9 * x.abs().max(1.0)), "x = {x}");
        }
    }

    #[test]
    fn one_trial_has_no_selection_benchmark() {
        assert_eq!(expected_max_sharpe(0.7, 1), 0.0);
        assert!(expected_max_sharpe(0.7, 0).is_nan());
        assert!(expected_max_sharpe(-1.0, 5).is_nan());
        // With one trial the DSR is the PSR against 0.
        let r = [0.01, -0.005, 0.02, 0.0, 0.013, -0.011, 0.007];
        let d = deflated_sharpe(&r, 1, None).unwrap();
        assert_eq!(d.sr0, 0.0);
        assert_eq!(d.dsr, d.psr);
    }

    /// Two trials: Φ⁻¹(1 − 1/2) = 0 and Φ⁻¹(1 − 1/(2e)) = Φ⁻¹(0.8160602794) = 0.9004525966,
    /// so SR0 = √V·γ·0.9004525966; with V = 1: 0.5772156649·0.9004525966 = 0.5197553...
    #[test]
    fn expected_max_of_two_trials() {
        let z = normal_quantile(1.0 - 1.0 / (2.0 * std::f64::consts::E));
        assert!(close(normal_cdf(z), 1.0 - 0.5 / std::f64::consts::E, 1e-15));
        assert!(close(z, 0.900_452_596_637_790_3, 1e-12));
        assert!(close(expected_max_sharpe(1.0, 2), EULER_MASCHERONI * z, 1e-15));
        assert!(close(expected_max_sharpe(4.0, 2), 2.0 * EULER_MASCHERONI * z, 1e-15));
    }

    /// The paper's numerical example (§ "A numerical example"; inputs as we read them there): an
    /// annualised Sharpe of 2.5 over T = 1250 daily returns (5 years of 250 days), skewness −3,
    /// kurtosis 10, selected from N = 100 trials whose annualised Sharpes have variance 1/2; the
    /// paper reports DSR ≈ 0.9004 (not significant at 95 %). Per period (÷ √250 and ÷ 250), step
    /// by step (quantiles from Python's `statistics.NormalDist`, Wichura's AS241):
    ///   SR = 2.5/√250 = 0.158113883,  V = 0.5/250 = 0.002,  √V = 0.0447213595
    ///   Φ⁻¹(1 − 1/100) = Φ⁻¹(0.99) = 2.3263478740
    ///   Φ⁻¹(1 − 1/(100e)) = Φ⁻¹(0.9963212056) = 2.6802104450
    ///   E[max] = (1 − 0.5772156649)·2.3263478740 + 0.5772156649·2.6802104450 = 2.5306028932
    ///   SR0 = 0.0447213595·2.5306028932 = 0.1131720019  (annualised 1.7894)
    ///   variance term 1 − (−3)(0.1581139) + (10 − 1)/4·0.1581139² = 1.5305916490
    ///   z = (0.1581139 − 0.1131720)·√1249 / √1.5305916 = 1.2838160
    ///   DSR = Φ(1.2838160) = 0.9003968
    #[test]
    fn papers_numerical_example() {
        let sr = 2.5 / 250f64.sqrt();
        let v = 0.5 / 250.0;
        let sr0 = expected_max_sharpe(v, 100);
        assert!(close(normal_quantile(1.0 - 1.0 / (100.0 * std::f64::consts::E)), 2.680_210_444_966_887, 1e-12));
        assert!(close(sr0, 0.113_172_001_865_132_14, 1e-13), "{sr0}");
        let dsr = probabilistic_sharpe(sr, sr0, 1250, -3.0, 10.0);
        assert!(close(dsr, 0.900_396_834_449_390_4, 1e-12), "{dsr}");
        assert!(close(dsr, 0.9004, 5e-5), "the paper's rounded value");
        let z = (sr - sr0) * 1249f64.sqrt() / (1.0 + 3.0 * sr + 2.25 * sr * sr).sqrt();
        assert!(close(z, 1.283_816_036_533_654_6, 1e-12), "{z}");
        assert!(close(dsr, normal_cdf(z), 1e-15));
    }

    /// r = [0.02, −0.01, 0.03, 0.00] by hand: mean = 0.01; deviations 0.01, −0.02, 0.02, −0.01;
    /// Σd² = 0.001 → std (ddof 1) = √(0.001/3) = 0.018257419, m2 = 0.00025;
    /// Σd³ = 1e−6 − 8e−6 + 8e−6 − 1e−6 = 0 → skew 0;
    /// Σd⁴ = 1e−8 + 16e−8 + 16e−8 + 1e−8 = 34e−8 → m4 = 8.5e−8, kurtosis = 8.5e−8/6.25e−8 = 1.36.
    /// SR = 0.01/0.018257419 = 0.547722558 (= √0.3).
    /// PSR(0) = Φ(√0.3·√3/√(1 + 0.36/4·0.3)) = Φ(0.948683298/√1.027) = Φ(0.93614...) = 0.8253968
    #[test]
    fn hand_series() {
        let r = [0.02, -0.01, 0.03, 0.0];
        let (m, sd, s, k) = moments(&r);
        assert!(close(m, 0.01, 1e-16));
        assert!(close(sd, (0.001f64 / 3.0).sqrt(), 1e-15));
        assert!(close(s, 0.0, 1e-12));
        assert!(close(k, 1.36, 1e-12));
        let d = deflated_sharpe(&r, 1, None).unwrap();
        assert!(close(d.sharpe_per_period, 0.3f64.sqrt(), 1e-12));
        let z = 0.9f64.sqrt() / 1.027f64.sqrt();
        assert!(close(d.psr, normal_cdf(z), 1e-12));
        assert!(close(d.psr, 0.825_396_798_407_699_2, 1e-12), "{}", d.psr);
        assert_eq!((d.n_obs, d.n_trials, d.var_assumed), (4, 1, true));
        assert!(close(d.var_of_trial_sharpes, 1.0 / 3.0, 1e-16));
        // A skewed series: r = [0, 0, 0, 1]: mean ¼, d = −¼ ×3, ¾; m2 = 3/16, m3 = (−3/64 + 27/64)/4 = 3/32,
        // skew = (3/32)/(3/16)^1.5 = 1.1547005 (= 2/√3); m4 = (3/256 + 81/256)/4 = 21/256,
        // kurtosis = (21/256)/(9/256) = 7/3.
        let (_, _, s, k) = moments(&[0.0, 0.0, 0.0, 1.0]);
        assert!(close(s, 2.0 / 3f64.sqrt(), 1e-12));
        assert!(close(k, 7.0 / 3.0, 1e-12));
    }

    #[test]
    fn more_trials_deflate_more() {
        let r: Vec<f64> = (0..500).map(|i| 0.001 + 0.01 * ((i * 7919 % 101) as f64 / 50.0 - 1.0)).collect();
        let d1 = deflated_sharpe(&r, 1, None).unwrap();
        let d10 = deflated_sharpe(&r, 10, None).unwrap();
        let d1000 = deflated_sharpe(&r, 1000, None).unwrap();
        assert!(d1.dsr > d10.dsr && d10.dsr > d1000.dsr);
        assert_eq!(d1.psr, d1000.psr);
        // Under the default V = 1/(T−1), SR0 = E[max of N standard normals]/√(T−1).
        assert!(close(d10.sr0, expected_max_sharpe(1.0, 10) / 499f64.sqrt(), 1e-15));
        let given = deflated_sharpe(&r, 10, Some(0.01)).unwrap();
        assert!(!given.var_assumed && given.var_of_trial_sharpes == 0.01);
    }

    #[test]
    fn bad_inputs_are_errors_or_nan() {
        let e = deflated_sharpe(&[0.01], 5, None).unwrap_err();
        assert!(e.to_string().contains("1 return(s)"), "{e}");
        assert!(deflated_sharpe(&[], 5, None).is_err());
        let e = deflated_sharpe(&[0.01, 0.01, 0.01], 5, None).unwrap_err();
        assert!(e.to_string().contains("standard deviation is 0"), "{e}");
        let e = deflated_sharpe(&[0.01, f64::NAN], 5, None).unwrap_err();
        assert!(e.to_string().contains("return #1"), "{e}");
        let e = deflated_sharpe(&[0.01, 0.02], 0, None).unwrap_err();
        assert!(e.to_string().contains("n_trials = 0"), "{e}");
        let e = deflated_sharpe(&[0.01, 0.02], 3, Some(-1.0)).unwrap_err();
        assert!(e.to_string().contains("var_of_trial_sharpes = -1"), "{e}");
        assert!(probabilistic_sharpe(0.1, 0.0, 1, 0.0, 3.0).is_nan());
        assert!(probabilistic_sharpe(f64::NAN, 0.0, 10, 0.0, 3.0).is_nan());
    }
}
