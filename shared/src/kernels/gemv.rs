//! Matrix–vector products: the recurrent chapters' per-time-step work at batch 1.
//!
//! A batch of one turns every step's product (W s_{t−1}, W_hh h_{t−1}, and W_hhᵀ dA_t backward)
//! into a matrix–vector product. matrixmultiply does not serve it (packing the weights at every
//! call costs more than the product) and nalgebra's `gemv` / `gemv_tr` stream y once per column
//! or run one addition chain, at about a third of the speed of these loops.
//!
//! | kernel | computes | summation order | reference |
//! |---|---|---|---|
//! | [`matvec_acc`] | y ← y + A x | four columns per pass, ((p₀ + p₁) + p₂) + p₃ | nalgebra `gemv` |
//! | [`gemv`] | y ← α A x + β y | four columns per pass, (p₀ + p₁) + (p₂ + p₃) | nalgebra `gemv` |
//! | [`gemv_t`] | y ← α Aᵀ x + β y | 16 interleaved partial sums per dot product | nalgebra `gemv_tr` |
//!
//! [`matvec_acc`] and [`gemv`] share one loop (`axpy4`): y is loaded and stored once per four
//! columns instead of once per column, and the four products p_k = a_{i,j+k} x_{j+k} are added
//! to y_i together. The two differ only in how those four are paired, a const parameter, kept
//! because each order is what its chapters' runs were recorded with (char-rnn and rnn-lm the
//! left-to-right one, lstm-gru the pairwise one): merging them would move their outputs' last
//! bits. In [`gemv_t`] entry i of a column goes into partial sum i mod 16 (four 4-lane
//! vectors: four independent addition chains), the sums are added in a fixed tree, then the rest.
//!
//! Each body is compiled for AVX2 besides the baseline and picked once per process (see
//! [`crate::kernels`]); AVX-512 builds of these memory-bound loops measured no faster on the
//! machine they were written on (and `matvec_acc` has always been AVX2 only). No fused
//! multiply–adds and a fixed order per y_i: the same bits on every path, which the tests check
//! against the baseline build of the same body.

use multiversion::multiversion;
use nalgebra::{DMatrix, DMatrixView};

/// `y ← y + A x` for a column-major `a` (m × n), `x` of length n and `y` of length m: the RNN
/// chapters' per-step W s_{t−1}. Four columns at a time, y_i ← y_i + (((a_i0 x_0 + a_i1 x_1) +
/// a_i2 x_2) + a_i3 x_3), then the next four, then the last n mod 4 columns one by one.
pub fn matvec_acc(a: &DMatrix<f64>, x: &[f64], y: &mut [f64]) {
    assert_eq!(
        a.shape(),
        (y.len(), x.len()),
        "matvec_acc: A is {}×{}, x has {} and y {} entries",
        a.nrows(),
        a.ncols(),
        x.len(),
        y.len()
    );
    matvec_acc_dispatch(a.as_slice(), x, y);
}

#[multiversion(targets("x86_64+avx2"))]
fn matvec_acc_dispatch(a: &[f64], x: &[f64], y: &mut [f64]) {
    matvec_acc_body(a, x, y);
}

/// [`matvec_acc`] on the contiguous columns of `a`, four at a time.
#[inline(always)]
fn matvec_acc_body(a: &[f64], x: &[f64], y: &mut [f64]) {
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
        axpy4::<false>([c0, c1, c2, c3], x4, y);
    }
    for (c, &xj) in blocks.remainder().chunks_exact(m).zip(xs.remainder()) {
        axpy1(c, xj, y);
    }
}

/// `y ← α A x + β y` for a column-major `a` (m × n; any column stride, e.g. a block of rows of a
/// larger matrix), `x` of length n and `y` of length m. Four columns at a time, y_i ← y_i +
/// ((a_i0 x'_0 + a_i1 x'_1) + (a_i2 x'_2 + a_i3 x'_3)) with x' = α x, after y ← β y (skipped
/// for β = 1).
pub fn gemv(alpha: f64, a: &DMatrixView<'_, f64>, x: &[f64], beta: f64, y: &mut [f64]) {
    assert_eq!((a.nrows(), a.ncols()), (y.len(), x.len()), "gemv: shapes");
    gemv_dispatch(alpha, a, x, beta, y);
}

#[multiversion(targets("x86_64+avx2"))]
fn gemv_dispatch(alpha: f64, a: &DMatrixView<'_, f64>, x: &[f64], beta: f64, y: &mut [f64]) {
    gemv_body(alpha, a, x, beta, y);
}

/// [`gemv`] on the columns of a strided view, four at a time.
#[inline(always)]
fn gemv_body(alpha: f64, a: &DMatrixView<'_, f64>, x: &[f64], beta: f64, y: &mut [f64]) {
    if beta != 1.0 {
        y.iter_mut().for_each(|v| *v *= beta);
    }
    let n = x.len();
    let mut j = 0;
    while j + 4 <= n {
        let (v0, v1, v2, v3) = (
            a.column(j),
            a.column(j + 1),
            a.column(j + 2),
            a.column(j + 3),
        );
        let c = [v0.as_slice(), v1.as_slice(), v2.as_slice(), v3.as_slice()];
        let x4 = [
            alpha * x[j],
            alpha * x[j + 1],
            alpha * x[j + 2],
            alpha * x[j + 3],
        ];
        axpy4::<true>(c, &x4, y);
        j += 4;
    }
    for (j, &xj) in x.iter().enumerate().skip(j) {
        axpy1(a.column(j).as_slice(), alpha * xj, y);
    }
}

/// The arithmetic of [`matvec_acc`] and [`gemv`]: y ← y + (p_0 + p_1 + p_2 + p_3) with
/// p_k = c_k x_k for four columns c_k, y loaded and stored once for the four. `PAIRWISE` picks
/// the order of the four-term sum: (p_0 + p_1) + (p_2 + p_3) if true, ((p_0 + p_1) + p_2) + p_3
/// if false. (`x` is a slice of four: passed as an array by value, the compiler unrolled the
/// loop half as far and `matvec_acc` ran 15–30 % slower at 100 × 100.)
#[inline(always)]
fn axpy4<const PAIRWISE: bool>(c: [&[f64]; 4], x: &[f64], y: &mut [f64]) {
    let [c0, c1, c2, c3] = c;
    for i in 0..y.len() {
        let (p0, p1, p2, p3) = (c0[i] * x[0], c1[i] * x[1], c2[i] * x[2], c3[i] * x[3]);
        y[i] += if PAIRWISE {
            (p0 + p1) + (p2 + p3)
        } else {
            ((p0 + p1) + p2) + p3
        };
    }
}

/// y ← y + c x for one column c.
#[inline(always)]
fn axpy1(c: &[f64], x: f64, y: &mut [f64]) {
    for (yi, ci) in y.iter_mut().zip(c) {
        *yi += ci * x;
    }
}

/// `y ← α Aᵀ x + β y` for a column-major `a` (m × n; any column stride), `x` of length m and `y`
/// of length n: the backward pass's ∂E/∂h_{t−1} = W_hhᵀ dA_t at batch 1. y_j is the dot product
/// of column j with x in 16 partial sums (entry i into sum i mod 16, `partial_dots`), added
/// as ((s₀ + s₂) + (s₁ + s₃)) per group of four and the four groups likewise, then the last
/// m mod 16 entries in order. β = 0 ignores y's old value (NaN included).
pub fn gemv_t(alpha: f64, a: &DMatrixView<'_, f64>, x: &[f64], beta: f64, y: &mut [f64]) {
    assert_eq!((a.nrows(), a.ncols()), (x.len(), y.len()), "gemv_t: shapes");
    let m = x.len();
    let whole = m - m % 16;
    for (j, v) in y.iter_mut().enumerate() {
        let col = a.column(j);
        let c = &col.as_slice()[..m];
        let mut s = [0.0; 16];
        partial_dots(&c[..whole], &x[..whole], &mut s);
        let q0 = (s[0] + s[2]) + (s[1] + s[3]);
        let q1 = (s[4] + s[6]) + (s[5] + s[7]);
        let q2 = (s[8] + s[10]) + (s[9] + s[11]);
        let q3 = (s[12] + s[14]) + (s[13] + s[15]);
        let mut d = (q0 + q2) + (q1 + q3);
        for (c, x) in c[whole..].iter().zip(&x[whole..]) {
            d += c * x;
        }
        *v = if beta == 0.0 {
            alpha * d
        } else {
            alpha * d + beta * *v
        };
    }
}

/// `s[k] += Σ_{i ≡ k mod 16} c_i x_i` for `c`, `x` of a length that is a multiple of 16: the
/// inner loop of [`gemv_t`], sixteen independent addition chains (four AVX2 registers). It is
/// its own dispatched function so that the compiler keeps `s` in registers: inlined into the
/// caller, the reduction that follows made it pair the lanes differently and shuffle at every
/// step (about half the speed).
#[multiversion(targets("x86_64+avx2"))]
fn partial_dots(c: &[f64], x: &[f64], s: &mut [f64; 16]) {
    partial_dots_body(c, x, s);
}

/// The one loop of [`partial_dots`].
#[inline(always)]
fn partial_dots_body(c: &[f64], x: &[f64], s: &mut [f64; 16]) {
    assert!(
        c.len() == x.len() && c.len().is_multiple_of(16),
        "partial_dots: lengths"
    );
    let mut acc = *s;
    for (c, x) in c.as_chunks::<16>().0.iter().zip(x.as_chunks::<16>().0) {
        for k in 0..16 {
            acc[k] += c[k] * x[k];
        }
    }
    *s = acc;
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DVector;

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    fn vector(n: usize, s: f64) -> Vec<f64> {
        (0..n).map(|i| (i as f64 * s).sin()).collect()
    }

    /// Odd sizes (remainders of 4 and 16), a view with column stride m + 2, β = 0, ½, 1.
    const SHAPES: [(usize, usize); 6] = [(512, 128), (37, 13), (16, 4), (3, 1), (1, 9), (0, 4)];

    #[test]
    fn matvec_acc_matches_nalgebra_and_is_the_same_on_every_path() {
        for (m, n) in SHAPES.into_iter().chain([(100, 100), (7, 5), (5, 0)]) {
            let a = DMatrix::from_fn(m, n, |i, j| ((i * 7 + j * 3) as f64 * 0.17).sin());
            let (x, y0) = (vector(n, 0.3), vector(m, 0.7));
            let mut y = y0.clone();
            matvec_acc(&a, &x, &mut y);
            let mut want = DVector::from_column_slice(&y0);
            want.gemv(1.0, &a, &DVector::from_column_slice(&x), 1.0);
            for (u, v) in y.iter().zip(want.iter()) {
                assert!((u - v).abs() < 1e-12, "{m}×{n}: {u} vs {v}");
            }
            let mut base = y0.clone();
            matvec_acc_body(a.as_slice(), &x, &mut base);
            assert_eq!(bits(&y), bits(&base), "{m}×{n}: dispatched vs baseline");
        }
    }

    #[test]
    fn gemv_and_gemv_t_match_nalgebra_and_gemv_is_the_same_on_every_path() {
        for (m, n) in SHAPES {
            let big = DMatrix::from_fn(m + 2, n, |i, j| ((i * 5 + j * 11) as f64 * 0.13).cos());
            let a = big.rows(1, m); // column stride m + 2
            let (x, xt) = (vector(n, 0.3), vector(m, 0.9));
            let (y0, yt0) = (vector(m, 0.7), vector(n, 0.4));
            for beta in [0.0, 1.0, 0.5] {
                let mut y = y0.clone();
                gemv(0.7, &a, &x, beta, &mut y);
                let want = 0.7 * a * DVector::from_column_slice(&x)
                    + beta * DVector::from_column_slice(&y0);
                assert!((DVector::from_column_slice(&y) - want).amax() < 1e-12);
                let mut base = y0.clone();
                gemv_body(0.7, &a, &x, beta, &mut base);
                assert_eq!(bits(&y), bits(&base), "gemv {m}×{n}, β = {beta}");

                let mut y = yt0.clone();
                gemv_t(0.7, &a, &xt, beta, &mut y);
                let want = 0.7 * a.transpose() * DVector::from_column_slice(&xt)
                    + beta * DVector::from_column_slice(&yt0);
                assert!((DVector::from_column_slice(&y) - want).amax() < 1e-12);
            }
        }
    }

    /// gemv_t's partial sums, dispatched, are bit for bit those of the baseline build.
    #[test]
    fn partial_dots_are_the_same_on_every_path() {
        let (c, x) = (vector(96, 0.37), vector(96, 0.91));
        let (mut a, mut b) = ([0.25; 16], [0.25; 16]);
        partial_dots(&c, &x, &mut a);
        partial_dots_body(&c, &x, &mut b);
        assert_eq!(bits(&a), bits(&b));
    }

    /// The pairing is what tells the two apart: on sums that round differently, the bits differ.
    #[test]
    fn the_two_pairings_are_two_orders() {
        let a = DMatrix::from_row_slice(1, 4, &[1e16, 1.0, -1e16, 1.0]);
        let x = [1.0; 4];
        let (mut left, mut pairwise) = ([0.0], [0.0]);
        matvec_acc(&a, &x, &mut left);
        gemv(1.0, &a.as_view(), &x, 1.0, &mut pairwise);
        // ((10¹⁶ + 1) − 10¹⁶) + 1 = 1 and (10¹⁶ + 1) + (−10¹⁶ + 1) = 0 in f64 (10¹⁶ + 1 rounds
        // to 10¹⁶, and −10¹⁶ + 1 to −10¹⁶).
        assert_eq!((left[0], pairwise[0]), (1.0, 0.0));
    }
}
