//! `y = softmax(s)` over an 8000-word column, fast.
//!
//! At N_x = 8000 the forward pass takes 8000 exponentials per time step; through libm's `exp`
//! (a call per element, about 6 ns here) that was as slow as the GEMM `V H` itself. This module
//! computes the same softmax with an exponential written so that the compiler vectorises it
//! (no call, no branch) and sums with independent accumulators. Results agree with
//! `shared::activation::softmax_columns_mut` to a few units in the last place (a test checks it).

use shared::kernels::fastmath::exp_nonpositive;

/// `y ← softmax(y)` in place on one column (any length ≥ 1): `y_w = e^{s_w − max} / Σ e^{s_v − max}`.
///
/// On x86-64 the same code is compiled a second time for AVX-512 and chosen at run time when
/// the CPU has it (8 lanes instead of SSE2's 2). Rust never fuses a multiply and an add on its
/// own, and the lanes are the same, so both versions give bit-identical results.
pub fn softmax_mut(y: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F, checked on the line above.
        return unsafe { softmax_avx512(y) };
    }
    softmax_portable(y)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn softmax_avx512(y: &mut [f64]) {
    softmax_portable(y)
}

#[inline(always)]
fn softmax_portable(y: &mut [f64]) {
    const L: usize = 8; // independent lanes: lets the compiler use vector registers
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

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;

    #[test]
    fn softmax_matches_libm_exp_with_a_compensated_sum() {
        for len in [1, 7, 8, 9, 8000, 8003] {
            let s: Vec<f64> = (0..len)
                .map(|i| 30.0 * ((i * 37 % 101) as f64 / 101.0 - 0.5) + 1e3)
                .collect();
            // Reference: libm's exp and a Kahan sum of the normaliser.
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
        // The AVX-512 version (when this CPU has it) and the portable one agree bit for bit.
        let s: Vec<f64> = (0..8003)
            .map(|i| ((i * 7919) % 1009) as f64 * 0.037)
            .collect();
        let (mut a, mut b) = (s.clone(), s);
        softmax_mut(&mut a);
        softmax_portable(&mut b);
        assert_eq!(a, b);
        // And it is the softmax the rest of the workspace uses.
        let s = [0.5, -2.0, 3.0, 1e-3];
        let mut want = DMatrix::from_column_slice(4, 1, &s);
        shared::activation::softmax_columns_mut(&mut want);
        let mut y = s;
        softmax_mut(&mut y);
        for (a, b) in y.iter().zip(want.iter()) {
            assert!((a - b).abs() <= 4.0 * f64::EPSILON * b);
        }
    }
}
