//! e^x, tanh x and σ(x) written so the compiler vectorises them: no call into libm, no branch
//! (only selects), additions, multiplications, one division (tanh, σ) and bit operations, all
//! correctly rounded.
//!
//! The recurrent chapters spend a large share of each step in libm: rnn-lm's softmax over 8000
//! words, char-rnn's 25 × 100 tanh and 25 × 65 exponentials per chunk (about 7 ns a call through
//! glibc). These functions agree with libm to a few units in the last place (the tests bound
//! it) and run several lanes at a time. The slice forms are compiled for AVX-512 and AVX2 as
//! well as the baseline and pick once at run time (see [`crate::kernels`]); Rust never fuses a
//! multiply and an add on its own, so every path gives the same bits as the plain loop beside it.

use multiversion::multiversion;

/// Below this, e^x is under f64's smallest normal number: [`exp_nonpositive`] returns 0.
const UNDERFLOW: f64 = -708.0;
/// ln 2 split in two (Cody–Waite): `LN2_HI` has 21 trailing zero bits, so `k · LN2_HI` is exact
/// for the |k| ≤ 1022 that occur here.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000); // 0.693147180369123816490
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76); // 1.90821492927058770002e-10
/// 1.5 · 2⁵²: adding it to a number of magnitude < 2⁵¹ rounds it to an integer held in the low
/// mantissa bits (round to nearest, branch-free, vectorisable).
const ROUND: f64 = 6_755_399_441_055_744.0;

/// e^x for x ≤ 0 (the max-subtracted scores of a softmax), within 2 ulp of libm's `exp`;
/// 0 below −708 (where e^x leaves the normal range), NaN for NaN.
#[inline(always)]
pub fn exp_nonpositive(x: f64) -> f64 {
    // e^x = 2^k e^r with k = round(x / ln 2) and r = x − k ln 2 in [−ln2/2, ln2/2].
    let xc = if x < UNDERFLOW { UNDERFLOW } else { x }; // keeps NaN
    let t = xc * std::f64::consts::LOG2_E + ROUND;
    let k = t - ROUND;
    let r = (xc - k * LN2_HI) - k * LN2_LO;
    // e^r by Taylor to r¹³/13! (the next term is < 5e-18 of the sum for |r| ≤ 0.347), Horner.
    let mut p = 1.0 / 6_227_020_800.0; // 1/13!
    for c in [
        1.0 / 479_001_600.0, // 1/12!
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
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
    // 2^k: t's bits minus ROUND's bits are k; k + 1023 in the exponent field is 2^k.
    let k_int = t.to_bits().wrapping_sub(ROUND.to_bits());
    let two_k = f64::from_bits(k_int.wrapping_add(1023) << 52);
    let y = p * two_k;
    if x < UNDERFLOW { 0.0 } else { y }
}

/// e^x − 1 for x ≤ 0, accurate near 0 where `exp(x) − 1` would cancel (within 3 ulp of libm's
/// `exp_m1`); −1 below −708, NaN for NaN.
#[inline(always)]
pub fn expm1_nonpositive(x: f64) -> f64 {
    // e^x − 1 = 2^k (e^r − 1) + (2^k − 1), with k, r as in `exp_nonpositive`. For |x| ≤ ln2/2,
    // k = 0 and r = x exactly, so the result is the series of e^r − 1 itself: no cancellation.
    let xc = if x < UNDERFLOW { UNDERFLOW } else { x }; // keeps NaN
    let t = xc * std::f64::consts::LOG2_E + ROUND;
    let k = t - ROUND;
    let r = (xc - k * LN2_HI) - k * LN2_LO;
    // e^r − 1 = r (1 + r/2! + r²/3! + … + r¹²/13!), Horner.
    let mut p = 1.0 / 6_227_020_800.0; // 1/13!
    for c in [
        1.0 / 479_001_600.0, // 1/12!
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
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
    let em1_r = p * r;
    let k_int = t.to_bits().wrapping_sub(ROUND.to_bits());
    let two_k = f64::from_bits(k_int.wrapping_add(1023) << 52); // exact, k ≥ −1022
    two_k * em1_r + (two_k - 1.0)
}

/// tanh x within 4 ulp of libm's `tanh`, vectorisable: tanh |x| = −m / (2 + m) with
/// m = e^{−2|x|} − 1, and the sign of x. ±1 for ±∞, ±0 for ±0, NaN for NaN.
#[inline(always)]
pub fn tanh(x: f64) -> f64 {
    // tanh x = (1 − e^{−2x}) / (1 + e^{−2x}) for x ≥ 0; odd.
    let m = expm1_nonpositive(-2.0 * x.abs()); // in [−1, 0]
    (-m / (2.0 + m)).copysign(x)
}

/// Applies [`tanh`] to every entry of `v` in place.
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2"))]
pub fn tanh_mut(v: &mut [f64]) {
    tanh_mut_body(v)
}

#[inline(always)]
fn tanh_mut_body(v: &mut [f64]) {
    for x in v {
        *x = tanh(*x);
    }
}

/// σ(x) = 1 / (1 + e^{−x}) within 4 ulp, vectorisable, never overflowing: from e = e^{−|x|},
/// 1 / (1 + e) for x ≥ 0 and e / (1 + e) below. 0 and 1 at ∓∞ (and below −708 / above 37),
/// NaN for NaN.
#[inline(always)]
pub fn sigmoid(x: f64) -> f64 {
    let e = exp_nonpositive(-x.abs()); // in [0, 1]
    let num = if x >= 0.0 { 1.0 } else { e };
    num / (1.0 + e)
}

/// Applies [`sigmoid`] to every entry of `v` in place.
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2"))]
pub fn sigmoid_mut(v: &mut [f64]) {
    sigmoid_mut_body(v)
}

#[inline(always)]
fn sigmoid_mut_body(v: &mut [f64]) {
    for x in v {
        *x = sigmoid(*x);
    }
}

/// `v ← e^{v − shift}` in place, returning Σ of the new entries: the two passes of a
/// max-subtracted softmax (pass the maximum of `v` as `shift`; then divide by the sum).
/// Entries above `shift` are not allowed (e^x is only computed for x ≤ 0).
///
/// The sum runs in 8 interleaved partial sums, added at the end in a fixed order, so it is
/// the same on every instruction set.
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2"))]
pub fn exp_shifted_mut(v: &mut [f64], shift: f64) -> f64 {
    exp_shifted_body(v, shift)
}

#[inline(always)]
fn exp_shifted_body(v: &mut [f64], shift: f64) -> f64 {
    const L: usize = 8;
    let mut s = [0.0; L];
    let (chunks, rest) = v.as_chunks_mut::<L>();
    for c in chunks {
        for l in 0..L {
            c[l] = exp_nonpositive(c[l] - shift);
            s[l] += c[l];
        }
    }
    let mut sum = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for x in rest {
        *x = exp_nonpositive(*x - shift);
        sum += *x;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place between two finite f64 of the same sign.
    fn ulps(a: f64, b: f64) -> u64 {
        if a == b {
            return 0;
        }
        assert_eq!(a.is_sign_negative(), b.is_sign_negative(), "{a} vs {b}");
        a.to_bits().abs_diff(b.to_bits())
    }

    #[test]
    fn exp_agrees_with_libm_within_two_ulp() {
        let mut worst = 0.0f64;
        let n = 200_000;
        for i in 0..=n {
            let x = -708.0 * (i as f64 / n as f64).powi(3); // dense near 0, where softmax lives
            let (a, b) = (exp_nonpositive(x), x.exp());
            worst = worst.max((a - b).abs() / b);
        }
        assert!(worst < 2.0 * f64::EPSILON, "max relative error {worst:e}");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-1000.0), 0.0);
        assert_eq!(exp_nonpositive(f64::NEG_INFINITY), 0.0);
        assert!(exp_nonpositive(f64::NAN).is_nan());
    }

    #[test]
    fn expm1_agrees_with_libm_within_three_ulp() {
        let mut worst = 0;
        let n = 200_000;
        for i in 1..=n {
            // From −1e-300 (where e^x − 1 = x) to −750, dense near 0.
            let x = -(10f64.powf(-300.0 + 302.875 * i as f64 / n as f64));
            let (a, b) = (expm1_nonpositive(x), x.exp_m1());
            worst = worst.max(ulps(a, b));
        }
        assert!(worst <= 3, "worst {worst} ulp");
        assert_eq!(expm1_nonpositive(0.0), 0.0);
        assert_eq!(expm1_nonpositive(-1e-20), -1e-20);
        assert_eq!(expm1_nonpositive(-800.0), -1.0);
        assert_eq!(expm1_nonpositive(f64::NEG_INFINITY), -1.0);
        assert!(expm1_nonpositive(f64::NAN).is_nan());
    }

    #[test]
    fn tanh_agrees_with_libm_within_four_ulp() {
        let mut worst = 0;
        let n = 200_000;
        for i in 1..=n {
            let x = 10f64.powf(-300.0 + 301.6 * i as f64 / n as f64); // 1e-300 … 40
            for x in [x, -x] {
                worst = worst.max(ulps(tanh(x), x.tanh()));
            }
        }
        // And evenly over the range an RNN's pre-activations live in.
        for i in 0..=n {
            let x = -8.0 + 16.0 * i as f64 / n as f64;
            worst = worst.max(ulps(tanh(x), x.tanh()));
        }
        // m carries up to 3 ulp; −m/(2 + m) adds the rounding of 2 + m and of the quotient.
        assert!(worst <= 4, "worst {worst} ulp");
        assert_eq!(tanh(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(tanh(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(tanh(f64::INFINITY), 1.0);
        assert_eq!(tanh(f64::NEG_INFINITY), -1.0);
        assert_eq!(tanh(1e300), 1.0);
        assert!(tanh(f64::NAN).is_nan());
    }

    #[test]
    fn sigmoid_agrees_with_its_definition_within_four_ulp() {
        let mut worst = 0;
        let n = 200_000;
        for i in 0..=n {
            let x = -40.0 + 80.0 * i as f64 / n as f64;
            // 1 / (1 + e^{−x}) through libm: itself a few roundings off the true value.
            worst = worst.max(ulps(sigmoid(x), 1.0 / (1.0 + (-x).exp())));
        }
        assert!(worst <= 4, "worst {worst} ulp");
        assert_eq!(sigmoid(0.0), 0.5);
        assert_eq!(sigmoid(800.0), 1.0);
        assert_eq!(sigmoid(f64::INFINITY), 1.0);
        assert_eq!(sigmoid(-800.0), 0.0);
        assert_eq!(sigmoid(f64::NEG_INFINITY), 0.0);
        assert!(sigmoid(-700.0) > 0.0 && sigmoid(-700.0) < 1e-300);
        assert!(sigmoid(f64::NAN).is_nan());
        // σ(−x) = 1 − σ(x) to rounding.
        for x in [0.1, 1.0, 3.7, 20.0] {
            assert!((sigmoid(-x) - (1.0 - sigmoid(x))).abs() <= 2.0 * f64::EPSILON);
        }
    }

    #[test]
    fn slice_forms_give_the_same_bits_on_every_path() {
        let v: Vec<f64> = (0..203)
            .map(|i| ((i * 7919) % 1009) as f64 * 0.013 - 6.0)
            .collect();
        let mut a = v.clone();
        tanh_mut(&mut a);
        let mut b = v.clone();
        tanh_mut_body(&mut b);
        assert_eq!(a, b);
        assert!(a.iter().zip(&v).all(|(y, x)| *y == tanh(*x)));

        let mut a = v.clone();
        sigmoid_mut(&mut a);
        let mut b = v.clone();
        sigmoid_mut_body(&mut b);
        assert_eq!(a, b);
        assert!(a.iter().zip(&v).all(|(y, x)| *y == sigmoid(*x)));

        let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (mut a, mut b) = (v.clone(), v.clone());
        let (sa, sb) = (exp_shifted_mut(&mut a, max), exp_shifted_body(&mut b, max));
        assert_eq!((a.clone(), sa.to_bits()), (b, sb.to_bits()));
        // The values are e^{v − max}; the sum is their sum to rounding.
        for (y, x) in a.iter().zip(&v) {
            assert_eq!(*y, exp_nonpositive(x - max));
        }
        let plain: f64 = a.iter().sum();
        assert!((sa - plain).abs() <= 1e-14 * plain, "{sa} vs {plain}");
    }
}
