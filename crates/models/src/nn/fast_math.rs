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

#[cfg(test)]
mod tests {
    use super::*;

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
