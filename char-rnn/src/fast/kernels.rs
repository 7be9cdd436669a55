//! The three per-step kernels of [`crate::fast`] in the engine's two float types: y ← y + A x
//! (W s_{t−1}, Wᵀ dz_t, V s), tanh, and the softmax's exponentials.
//!
//! f64 calls `shared::kernels` (every default run: the same bits as before). `shared`'s
//! versions are f64 only, so the f32 ones are here:
//! - [`matvec_acc_f32`]: the same loop as `shared::kernels::matvec_acc` (four columns per pass,
//!   ((p₀ + p₁) + p₂) + p₃ into each y_i) in f32, 16 lanes per AVX-512 register instead of 8;
//! - tanh and e^x: `shared::kernels::fastmath`'s f64 functions on each f32 widened, rounded
//!   back to f32 (within 1 ulp of f32, vectorised with the conversions; no f32 polynomial of
//!   our own to test).

use multiversion::multiversion;
use nalgebra::DMatrix;
use shared::kernels::{Float, fastmath};

/// What [`crate::fast`] needs of its float type besides [`Float`].
pub trait Kernels: Float {
    /// `y ← y + A x`, A column-major (m × n), x of length n, y of length m.
    fn matvec_acc(a: &DMatrix<Self>, x: &[Self], y: &mut [Self]);
    /// tanh of every entry, in place.
    fn tanh_mut(v: &mut [Self]);
    /// `v ← e^{v − shift}` in place (entries ≤ shift), returning the sum of the new entries.
    fn exp_shifted_mut(v: &mut [Self], shift: Self) -> Self;
}

impl Kernels for f64 {
    fn matvec_acc(a: &DMatrix<f64>, x: &[f64], y: &mut [f64]) {
        shared::kernels::matvec_acc(a, x, y);
    }
    fn tanh_mut(v: &mut [f64]) {
        fastmath::tanh_mut(v);
    }
    fn exp_shifted_mut(v: &mut [f64], shift: f64) -> f64 {
        fastmath::exp_shifted_mut(v, shift)
    }
}

impl Kernels for f32 {
    fn matvec_acc(a: &DMatrix<f32>, x: &[f32], y: &mut [f32]) {
        assert_eq!(a.shape(), (y.len(), x.len()), "matvec_acc: shapes");
        matvec_acc_f32(a.as_slice(), x, y);
    }
    fn tanh_mut(v: &mut [f32]) {
        tanh_mut_f32(v);
    }
    fn exp_shifted_mut(v: &mut [f32], shift: f32) -> f32 {
        exp_shifted_f32(v, shift)
    }
}

/// `y ← y + A x` on the contiguous columns of `a` (m × n, m = y.len()), four columns at a time:
/// y_i ← y_i + (((a_i0 x_0 + a_i1 x_1) + a_i2 x_2) + a_i3 x_3), then the last n mod 4 one by one.
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2"))]
pub fn matvec_acc_f32(a: &[f32], x: &[f32], y: &mut [f32]) {
    let m = y.len();
    if m == 0 {
        return;
    }
    let mut blocks = a.chunks_exact(4 * m); // four columns of A
    let mut xs = x.chunks_exact(4);
    for (cols, x4) in (&mut blocks).zip(&mut xs) {
        let (c0, rest) = cols.split_at(m);
        let (c1, rest) = rest.split_at(m);
        let (c2, c3) = rest.split_at(m);
        for i in 0..m {
            y[i] += ((c0[i] * x4[0] + c1[i] * x4[1]) + c2[i] * x4[2]) + c3[i] * x4[3];
        }
    }
    for (c, &xj) in blocks.remainder().chunks_exact(m).zip(xs.remainder()) {
        for (yi, ci) in y.iter_mut().zip(c) {
            *yi += ci * xj;
        }
    }
}

/// tanh of every entry: `fastmath::tanh` in f64, rounded to f32.
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2"))]
fn tanh_mut_f32(v: &mut [f32]) {
    for x in v {
        *x = fastmath::tanh(f64::from(*x)) as f32;
    }
}

/// `v ← e^{v − shift}` (the difference in f32, e^x by `fastmath::exp_nonpositive` in f64,
/// rounded to f32), and their sum in 16 interleaved f32 partial sums added in a fixed order
/// (the same on every instruction set).
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2"))]
fn exp_shifted_f32(v: &mut [f32], shift: f32) -> f32 {
    const L: usize = 16;
    let mut s = [0.0f32; L];
    let (chunks, rest) = v.as_chunks_mut::<L>();
    for c in chunks {
        for l in 0..L {
            c[l] = fastmath::exp_nonpositive(f64::from(c[l] - shift)) as f32;
            s[l] += c[l];
        }
    }
    let mut sum = pairwise(&s);
    for x in rest {
        *x = fastmath::exp_nonpositive(f64::from(*x - shift)) as f32;
        sum += *x;
    }
    sum
}

/// ((s₀ + s₁) + (s₂ + s₃)) + … : the 16 partial sums added pairwise.
#[inline(always)]
fn pairwise(s: &[f32; 16]) -> f32 {
    let mut h = *s;
    let mut n = 16;
    while n > 1 {
        n /= 2;
        for i in 0..n {
            h[i] = h[2 * i] + h[2 * i + 1];
        }
    }
    h[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_kernels_agree_with_f64_to_f32_rounding() {
        for (m, n) in [(100, 100), (65, 100), (7, 5), (3, 1), (1, 9), (13, 0)] {
            let a = DMatrix::from_fn(m, n, |i, j| ((i * 7 + j * 3) as f64 * 0.17).sin());
            let x: Vec<f64> = (0..n).map(|j| (j as f64 * 0.3).cos()).collect();
            let y0: Vec<f64> = (0..m).map(|i| (i as f64 * 0.7).sin()).collect();
            let mut y = y0.clone();
            f64::matvec_acc(&a, &x, &mut y);
            let a32 = a.map(|v| v as f32);
            let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let mut y32: Vec<f32> = y0.iter().map(|&v| v as f32).collect();
            f32::matvec_acc(&a32, &x32, &mut y32);
            // n + 1 roundings of f32 (ε = 6e-8) on terms of magnitude ≤ 1: |error| ≤ (n + 1)·ε·Σ|terms|.
            let bound = (n as f64 + 2.0) * f64::from(f32::EPSILON) * (n as f64 + 1.0);
            for (u, v) in y32.iter().zip(&y) {
                assert!((f64::from(*u) - v).abs() <= bound, "{m}×{n}: {u} vs {v}");
            }
        }
        let v: Vec<f32> = (0..203).map(|i| (i as f32) * 0.07 - 7.0).collect();
        let mut t = v.clone();
        f32::tanh_mut(&mut t);
        for (y, x) in t.iter().zip(&v) {
            assert_eq!(*y, f64::from(*x).tanh() as f32, "tanh {x}");
        }
        let mut e = v.clone();
        let sum = f32::exp_shifted_mut(&mut e, 7.21);
        let want: f64 = v.iter().map(|&x| (f64::from(x - 7.21)).exp()).sum();
        for (y, x) in e.iter().zip(&v) {
            let w = f64::from(x - 7.21).exp();
            assert!(
                (f64::from(*y) - w).abs() <= w * f64::from(f32::EPSILON),
                "exp {x}"
            );
        }
        assert!((f64::from(sum) - want).abs() <= want * 203.0 * f64::from(f32::EPSILON));
    }

    #[test]
    fn the_dispatched_f32_loops_give_the_baseline_bits() {
        // multiversion's baseline build is the same function body without target features;
        // the per-entry order is fixed, so every path must agree bit for bit.
        let a: Vec<f32> = (0..100 * 37)
            .map(|i| ((i * 13 % 97) as f32 * 0.1).sin())
            .collect();
        let x: Vec<f32> = (0..37).map(|j| (j as f32 * 0.2).cos()).collect();
        let mut y = vec![0.5f32; 100];
        matvec_acc_f32(&a, &x, &mut y);
        let mut want = vec![0.5f32; 100];
        for i in 0..100 {
            let mut j = 0;
            while j + 4 <= 37 {
                let p = |k: usize| a[(j + k) * 100 + i] * x[j + k];
                want[i] += ((p(0) + p(1)) + p(2)) + p(3);
                j += 4;
            }
            for k in j..37 {
                want[i] += a[k * 100 + i] * x[k];
            }
        }
        assert_eq!(y, want);
    }
}
