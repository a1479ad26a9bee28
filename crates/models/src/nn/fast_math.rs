//! Branch-free `exp` and the activations built on it, in safe Rust that the compiler vectorises
//! when called inside a loop over a slice.
//!
//! burn's flex backend computes `exp` (and so sigmoid, ELU, softmax) element by element through
//! the platform's scalar `expf`. [`exp`] is the Cephes single-precision algorithm: `x = n·ln2 + r`
//! with `n` rounded by the `1.5·2²³` trick (no `round` call, which needs SSE4.1 to vectorise),
//! `e^r` by a degree-6 polynomial on `|r| ≤ ln2/2`, and `2ⁿ` built in the exponent bits. Inputs
//! are clamped to `[-87.3, 88.3]`, so the result is finite and at least `≈ 1.2·10⁻³⁸` (never a
//! subnormal). Maximum relative error against `f64::exp` over the clamped range: below `3·10⁻⁷`
//! (about 2.5 ulp; `nn::fast_math` tests check it on a dense grid).
//!
//! [`erf`] is the rational approximation Eigen and XNNPACK use for `f32` (an odd degree-13
//! polynomial over an even degree-8 one in `x`, on `x` clamped to `[-4, 4]`, where
//! `1 − erf(4) < 1.6·10⁻⁸`): one division, no branch, no table. Maximum absolute error against an
//! `f64` reference on a dense grid: below `5·10⁻⁷`. [`gelu`] (exact, erf-based, as burn's `gelu`)
//! and its derivative [`gelu_grad`] are built on it and on [`exp`].

const LOG2E: f32 = std::f32::consts::LOG2_E;
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
const ROUND: f32 = 12_582_912.0; // 1.5 · 2²³
const MAX_X: f32 = 88.376_26;
const MIN_X: f32 = -87.336_55;

/// `e^x` for `f32` (see the module docs for its range and error).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(MIN_X, MAX_X);
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = ((((1.987_569_2e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 1.666_666_5e-1)
        * r
        + 0.5;
    let er = p * r * r + r + 1.0;
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
    er * scale
}

/// `1 / (1 + e^{-x})` through [`exp`].
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// ELU with α = 1: `x` for `x > 0`, `e^x − 1` otherwise (through [`exp`]).
#[inline(always)]
pub fn elu(x: f32) -> f32 {
    let e = exp(x.min(0.0)) - 1.0;
    if x > 0.0 { x } else { e }
}

/// The error function for `f32` (see the module docs for its range and error).
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = -2.726_142_3e-10f32;
    p = p * x2 + 2.770_681_4e-8;
    p = p * x2 - 2.101_024e-6;
    p = p * x2 - 5.692_506_4e-5;
    p = p * x2 - 7.349_906e-4;
    p = p * x2 - 2.954_600_5e-3;
    p = p * x2 - 1.609_603_3e-2;
    let mut q = -1.456_607_2e-5f32;
    q = q * x2 - 2.133_740_6e-4;
    q = q * x2 - 1.682_827e-3;
    q = q * x2 - 7.373_329e-3;
    q = q * x2 - 1.426_474e-2;
    x * p / q
}

const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
/// `1/√(2π)`.
const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;

/// Exact (erf-based) GELU: `x·Φ(x) = x/2 · (1 + erf(x/√2))`, as burn's `gelu`.
#[inline(always)]
pub fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * FRAC_1_SQRT_2))
}

/// The derivative of [`gelu`]: `Φ(x) + x·φ(x)`, `φ` the standard normal density.
#[inline(always)]
pub fn gelu_grad(x: f32) -> f32 {
    gelu_and_grad(x).1
}

/// [`gelu`] and [`gelu_grad`] together (one [`erf`], one [`exp`]).
#[inline(always)]
pub fn gelu_and_grad(x: f32) -> (f32, f32) {
    let cdf = 0.5 * (1.0 + erf(x * FRAC_1_SQRT_2));
    let pdf = FRAC_1_SQRT_2PI * exp(-0.5 * x * x);
    (x * cdf, cdf + x * pdf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `erf` in `f64` by its Maclaurin series (absolute error below 10⁻¹⁰ for `|x| ≤ 4.5`; the
    /// crate has no `libm` dependency), `±(1 − ε)` beyond, where `1 − erf(4.5) < 2·10⁻¹⁰`.
    fn erf64(x: f64) -> f64 {
        if x.abs() > 4.5 {
            return x.signum();
        }
        let (mut term, mut sum, x2) = (x, x, x * x);
        for n in 1..200 {
            term *= -x2 / n as f64;
            let t = term / (2 * n + 1) as f64;
            sum += t;
            if t.abs() < 1e-17 {
                break;
            }
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn erf_matches_f64_within_1e_6_absolute() {
        let mut worst = 0.0f64;
        let mut x = -7.0f32;
        while x < 7.0 {
            worst = worst.max((f64::from(erf(x)) - erf64(f64::from(x))).abs());
            x += 0.000_17;
        }
        assert!(worst < 1e-6, "worst absolute error {worst}");
        assert_eq!(erf(0.0), 0.0);
        assert_eq!(erf(f32::INFINITY), erf(4.0));
        assert_eq!(erf(-100.0), -erf(100.0));
    }

    #[test]
    fn gelu_and_its_derivative_match_f64() {
        let s = std::f64::consts::FRAC_1_SQRT_2;
        let mut x = -12.0f32;
        while x < 12.0 {
            let xd = f64::from(x);
            let cdf = 0.5 * (1.0 + erf64(xd * s));
            let pdf = (-0.5 * xd * xd).exp() / (2.0 * std::f64::consts::PI).sqrt();
            let (g, dg) = gelu_and_grad(x);
            assert_eq!(g, gelu(x));
            assert_eq!(dg, gelu_grad(x));
            assert!((f64::from(g) - xd * cdf).abs() < 1e-6 * xd.abs().max(1.0), "gelu({x})");
            assert!((f64::from(dg) - (cdf + xd * pdf)).abs() < 2e-6, "gelu'({x})");
            x += 0.000_7;
        }
    }

    #[test]
    fn exp_matches_libm_within_3e_7_relative() {
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let want = f64::from(x).exp();
            let got = f64::from(exp(x));
            worst = worst.max(((got - want) / want).abs());
            x += 0.000_37;
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(-1000.0) >= 0.0 && exp(-1000.0) < 1e-37);
        assert!(exp(1000.0).is_finite());
    }

    #[test]
    fn sigmoid_and_elu_match_libm_within_2e_7_absolute() {
        let mut x = -30.0f32;
        while x < 30.0 {
            let s = 1.0 / (1.0 + (-f64::from(x)).exp());
            assert!((f64::from(sigmoid(x)) - s).abs() < 1e-7, "sigmoid({x})");
            let e = if x > 0.0 { f64::from(x) } else { f64::from(x).exp_m1() };
            assert!((f64::from(elu(x)) - e).abs() < 2e-7 * e.abs().max(1.0), "elu({x})");
            x += 0.001_3;
        }
    }
}
