//! σ(x), tanh x and e^x (x ≤ 0) in f32 for the engines' `--dtype f32`, written as
//! [`super::fastmath`] writes them in f64 (no libm call, no branch, so the compiler vectorises
//! the loops that call them), with f32 constants and shorter polynomials: 16 lanes per AVX-512
//! instruction instead of 8, and half the terms. (From lstm-gru's gates and rnn-lm's softmax.)
//!
//! Both rest on e^x − 1 for x ≤ 0: x = k ln 2 + r with |r| ≤ ln2/2, e^x − 1 = 2^k (e^r − 1) +
//! (2^k − 1), and e^r − 1 = r (1 + r/2! + … + r⁷/8!) (the next term is below 2e-9 of the sum:
//! under f32's rounding).

/// Below this, e^x is under f32's smallest normal number.
const UNDERFLOW: f32 = -87.0;
/// ln 2 split in two (Cody–Waite): `LN2_HI` has its low 12 bits zero, so `k · LN2_HI` is exact
/// for the |k| ≤ 126 that occur here.
const LN2_HI: f32 = f32::from_bits(0x3f31_7000); // 0.693_115_234_375
const LN2_LO: f32 = 3.194_618_5e-5; // ln 2 − LN2_HI
/// 1.5 · 2²³: adding it to a number of magnitude < 2²² rounds it to an integer held in the low
/// mantissa bits.
const ROUND: f32 = 12_582_912.0;

/// (e^x − 1, e^x) for x ≤ 0; (−1, 0) below −87, NaN for NaN.
#[inline(always)]
fn expm1_exp(x: f32) -> (f32, f32) {
    let xc = if x < UNDERFLOW { UNDERFLOW } else { x }; // keeps NaN
    let t = xc * std::f32::consts::LOG2_E + ROUND;
    let k = t - ROUND;
    let r = (xc - k * LN2_HI) - k * LN2_LO;
    let mut p = 1.0 / 40_320.0; // 1/8!
    for c in [
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
    ] {
        p = p * r + c;
    }
    let em1_r = p * r; // e^r − 1
    let k_int = t.to_bits().wrapping_sub(ROUND.to_bits());
    let two_k = f32::from_bits(k_int.wrapping_add(127) << 23); // 2^k, k ≥ −126
    let em1 = two_k * em1_r + (two_k - 1.0);
    let e = two_k * em1_r + two_k;
    if x < UNDERFLOW { (-1.0, 0.0) } else { (em1, e) }
}

/// σ(x) = 1 / (1 + e^{−x}) from e = e^{−|x|}: 1 / (1 + e) for x ≥ 0, e / (1 + e) below.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    let (_, e) = expm1_exp(-x.abs());
    let num = if x >= 0.0 { 1.0 } else { e };
    num / (1.0 + e)
}

/// tanh |x| = −m / (2 + m) with m = e^{−2|x|} − 1 (no cancellation near 0), and the sign of x.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let (m, _) = expm1_exp(-2.0 * x.abs());
    (-m / (2.0 + m)).copysign(x)
}

/// e^x in f32 for x ≤ 0 (softmax scores minus their maximum), within 2 ulp of the correctly
/// rounded value; 0 below −87 (where e^x leaves f32's normal range), NaN for NaN. The f32 form of
/// `shared::kernels::fastmath::exp_nonpositive`: e^x = 2^k e^r, k = round(x / ln 2), r = x − k ln 2
/// in [−ln2/2, ln2/2] (Cody–Waite with cephes' split of ln 2), e^r by Taylor to r⁷/7! (the next
/// term is below 6e-9 of the sum), 2^k in the exponent bits.
#[inline(always)]
pub fn exp_nonpositive(x: f32) -> f32 {
    const UNDERFLOW: f32 = -87.0;
    const LN2_HI: f32 = 0.693_359_4; // 355/512: k · LN2_HI is exact for |k| < 2¹⁵
    const LN2_LO: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2²³: rounds to an integer in the low bits
    let xc = if x < UNDERFLOW { UNDERFLOW } else { x }; // keeps NaN
    let t = xc * std::f32::consts::LOG2_E + ROUND;
    let k = t - ROUND;
    let r = (xc - k * LN2_HI) - k * LN2_LO;
    let mut p = 1.0 / 5040.0; // 1/7!
    for c in [
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    let k_int = t.to_bits().wrapping_sub(ROUND.to_bits());
    let two_k = f32::from_bits(k_int.wrapping_add(127) << 23);
    if x < UNDERFLOW { 0.0 } else { p * two_k }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in f32 units in the last place between `a` and the f64 value `b` rounded.
    fn ulps(a: f32, b: f64) -> u32 {
        let b = b as f32;
        if a == b {
            return 0;
        }
        assert_eq!(a.is_sign_negative(), b.is_sign_negative(), "{a} vs {b}");
        a.to_bits().abs_diff(b.to_bits())
    }

    #[test]
    fn sigmoid_and_tanh_are_within_a_few_ulp_of_libm() {
        let (mut ws, mut wt) = (0, 0);
        let n = 200_000;
        for i in 0..=n {
            let x = -30.0 + 60.0 * i as f32 / n as f32;
            let xd = f64::from(x);
            ws = ws.max(ulps(sigmoid(x), 1.0 / (1.0 + (-xd).exp())));
            wt = wt.max(ulps(tanh(x), xd.tanh()));
        }
        for i in 1..=n {
            let x = 10f32.powf(-30.0 + 30.0 * i as f32 / n as f32); // 1e-30 … 1: tanh's small end
            wt = wt.max(ulps(tanh(x), f64::from(x).tanh()));
            wt = wt.max(ulps(tanh(-x), f64::from(-x).tanh()));
        }
        assert!(ws <= 4 && wt <= 4, "sigmoid {ws} ulp, tanh {wt} ulp");
        assert_eq!((sigmoid(0.0), tanh(0.0)), (0.5, 0.0));
        assert_eq!((sigmoid(200.0), sigmoid(-200.0)), (1.0, 0.0));
        assert_eq!((tanh(100.0), tanh(-100.0)), (1.0, -1.0));
        assert_eq!(tanh(-0.0).to_bits(), (-0.0f32).to_bits());
        assert!(sigmoid(f32::NAN).is_nan() && tanh(f32::NAN).is_nan());
    }

    #[test]
    fn exp_nonpositive_is_within_2_ulp_of_the_exact_exponential() {
        let mut worst = 0.0f64;
        for i in 0..=870_000 {
            let x = -(i as f32) * 1e-4; // 0 … −87
            let (ours, exact) = (f64::from(exp_nonpositive(x)), f64::from(x).exp());
            // in units of f32's spacing at the exact value
            let ulp = f64::from(f32::EPSILON) * exact;
            worst = worst.max((ours - exact).abs() / ulp);
        }
        assert!(worst <= 2.0, "{worst} ulp");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-87.5), 0.0);
        assert_eq!(exp_nonpositive(-1e30), 0.0);
        assert!(exp_nonpositive(f32::NAN).is_nan());
    }
}
