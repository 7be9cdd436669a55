//! `y ← softmax(y)` over one long column (rnn-lm's 8000 words), fast.
//!
//! At 8000 words a forward pass takes 8000 exponentials per time step; through libm's `exp` (a
//! call per element, about 6 ns here) that is as slow as the product that made the scores. This
//! softmax uses [`exp_nonpositive`] (no call, no branch, so the compiler vectorises
//! it), finds the maximum and sums in eight independent lanes, and multiplies by the inverse of
//! the sum. Its plain reference is [`crate::activation::softmax_columns_mut`] (libm's `exp`, one
//! running sum, a division); the two agree to a few units in the last place (the tests bound it).

use crate::kernels::fastmath::exp_nonpositive;
use multiversion::multiversion;

/// Independent lanes of the maximum and of the sum: lets the compiler use vector registers, and
/// fixes the order of the additions on every instruction set.
const L: usize = 8;

/// `y ← softmax(y)` in place on one column (any length ≥ 1): `y_w = e^{s_w − max} / Σ_v e^{s_v − max}`.
///
/// Compiled for AVX-512 and AVX2 besides the baseline (see [`crate::kernels`]); Rust never fuses
/// a multiply and an add on its own, and the lanes are the same, so every version gives the same
/// bits.
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2"))]
pub fn softmax_mut(y: &mut [f64]) {
    softmax_body(y)
}

#[inline(always)]
fn softmax_body(y: &mut [f64]) {
    let (chunks, rest) = y.as_chunks::<L>();
    let mut m = [f64::NEG_INFINITY; L];
    for c in chunks {
        for l in 0..L {
            m[l] = if c[l] > m[l] { c[l] } else { m[l] };
        }
    }
    let max = rest
        .iter()
        .chain(m.iter())
        .fold(f64::NEG_INFINITY, |a, &b| if b > a { b } else { a });
    let mut s = [0.0; L];
    let (chunks, rest) = y.as_chunks_mut::<L>();
    for c in chunks {
        for l in 0..L {
            c[l] = exp_nonpositive(c[l] - max);
            s[l] += c[l];
        }
    }
    let mut sum: f64 = s.iter().sum();
    for v in rest {
        *v = exp_nonpositive(*v - max);
        sum += *v;
    }
    let inv = 1.0 / sum;
    for v in y.iter_mut() {
        *v *= inv;
    }
}

/// `y ← softmax(y)` in f32: the maximum in f32 (exact), `e^{y − max}` by [`exp_nonpositive`](super::fastmath32::exp_nonpositive), their sum
/// in f64 over sixteen lanes added in a fixed order, one division. Compiled for AVX-512 and AVX2
/// besides the baseline, as shared's kernels (the same bits on each).
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2"))]
pub fn softmax32_mut(y: &mut [f32]) {
    const L: usize = 16;
    let (chunks, rest) = y.as_chunks::<L>();
    let mut m = [f32::NEG_INFINITY; L];
    for c in chunks {
        for l in 0..L {
            m[l] = if c[l] > m[l] { c[l] } else { m[l] };
        }
    }
    let max = rest
        .iter()
        .chain(m.iter())
        .fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a });
    let mut s = [0.0f64; L];
    let (chunks, rest) = y.as_chunks_mut::<L>();
    for c in chunks {
        for l in 0..L {
            c[l] = super::fastmath32::exp_nonpositive(c[l] - max);
            s[l] += f64::from(c[l]);
        }
    }
    let mut sum = 0.0;
    for half in [8, 4, 2, 1] {
        for l in 0..half {
            s[l] += s[l + half]; // a fixed tree: (s0 + s8) + (s4 + s12) + …
        }
    }
    sum += s[0];
    for v in rest {
        *v = super::fastmath32::exp_nonpositive(*v - max);
        sum += f64::from(*v);
    }
    let inv = (1.0 / sum) as f32;
    for v in y.iter_mut() {
        *v *= inv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;

    /// Scores spread over 30 nats around 1000 (so a missing max shift would overflow).
    fn scores(len: usize) -> Vec<f64> {
        (0..len)
            .map(|i| 30.0 * ((i * 37 % 101) as f64 / 101.0 - 0.5) + 1e3)
            .collect()
    }

    #[test]
    fn softmax_matches_libm_exp_with_a_compensated_sum() {
        for len in [1, 7, 8, 9, 8000, 8003] {
            let s = scores(len);
            // libm's exp and a Kahan sum of the normaliser: the softmax to about 1 ulp.
            let max = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = s.iter().map(|v| (v - max).exp()).collect();
            let (mut sum, mut carry) = (0.0f64, 0.0f64);
            for v in &e {
                let a = v - carry;
                let b = sum + a;
                carry = (b - sum) - a;
                sum = b;
            }
            let mut y = s.clone();
            softmax_mut(&mut y);
            // 2 ulp from exp, and the lane sums of ~1000 terms each: well under 1e-14.
            for (a, e) in y.iter().zip(&e) {
                let want = e / sum;
                assert!((a - want).abs() <= 1e-14 * want, "len {len}: {a} vs {want}");
            }
        }
    }

    #[test]
    fn softmax_matches_the_plain_softmax_and_every_version_gives_the_same_bits() {
        for len in [1, 4, 9, 100, 8000] {
            let s = scores(len);
            let mut want = DMatrix::from_column_slice(len, 1, &s);
            crate::activation::softmax_columns_mut(&mut want);
            let mut y = s.clone();
            softmax_mut(&mut y);
            for (a, b) in y.iter().zip(want.iter()) {
                assert!((a - b).abs() <= 1e-13 * b, "len {len}: {a} vs {b}");
            }
            // The baseline body (no target features) against the dispatched version.
            let mut base = s;
            softmax_body(&mut base);
            assert_eq!(y, base, "len {len}");
        }
    }

    #[test]
    fn softmax32_sums_to_one_and_matches_the_f64_softmax() {
        let mut r = crate::rng::seeded(3);
        let y64: Vec<f64> = (0..8003)
            .map(|_| 10.0 * crate::rng::normal(&mut r))
            .collect();
        let mut y: Vec<f32> = y64.iter().map(|&v| v as f32).collect();
        let mut want: Vec<f64> = y.iter().map(|&v| f64::from(v)).collect();
        let input = want.clone();
        softmax32_mut(&mut y);
        let max = want.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = want.iter().map(|v| (v - max).exp()).sum();
        want.iter_mut().for_each(|v| *v = (*v - max).exp() / sum);
        let total: f64 = y.iter().map(|&v| f64::from(v)).sum();
        assert!((total - 1.0).abs() < 1e-5, "{total}");
        // y − max is rounded to f32 first (relative error u, so e^{y − max} is off by up to
        // |y − max| u), then a few ulp from exp32, the sum and the scaling.
        for ((a, b), v) in y.iter().zip(&want).zip(&input) {
            let x = v - max;
            let bound = (4.0 - x) * f64::from(f32::EPSILON) * b;
            assert!((f64::from(*a) - b).abs() <= bound, "{a} vs {b}");
        }
    }
}
