//! Fast transposed matrix products.
//!
//! nalgebra computes `a.tr_mul(&b)` and `gemm_tr` with column dot products, skipping the
//! matrixmultiply kernel that `&a * &b` uses: about 7× slower at 256 × 256 (see the crate
//! reference sheet). Backprop is full of such products (dW = dY Xᵀ, dX = Wᵀ dY), so these
//! helpers call matrixmultiply's dgemm directly and express the transpose through strides:
//! no copy, full kernel speed. Any strided nalgebra matrix or view is accepted.
//!
//! [`matvec_acc`] is the RNN chapters' per-time-step product y ← y + A x (e.g. W s_{t−1}),
//! which matrixmultiply does not serve (packing A each call costs more than the product) and
//! nalgebra's `gemv` runs at baseline SSE2 width.

use multiversion::multiversion;
use nalgebra::{DMatrix, Dim, Matrix, RawStorage, RawStorageMut};

/// One f64 GEMM `c ← α op(a) op(b) + β c` on raw strides; `m × k` times `k × n`.
#[allow(clippy::too_many_arguments)]
fn dgemm_strided<R1, C1, S1, R2, C2, S2, R3, C3, S3>(
    alpha: f64,
    a: &Matrix<f64, R1, C1, S1>,
    a_t: bool,
    b: &Matrix<f64, R2, C2, S2>,
    b_t: bool,
    beta: f64,
    c: &mut Matrix<f64, R3, C3, S3>,
) where
    R1: Dim,
    C1: Dim,
    S1: RawStorage<f64, R1, C1>,
    R2: Dim,
    C2: Dim,
    S2: RawStorage<f64, R2, C2>,
    R3: Dim,
    C3: Dim,
    S3: RawStorageMut<f64, R3, C3>,
{
    let (ar, ac) = a.shape();
    let (br, bc) = b.shape();
    let (m, k) = if a_t { (ac, ar) } else { (ar, ac) };
    let (kb, n) = if b_t { (bc, br) } else { (br, bc) };
    assert_eq!(k, kb, "inner dimensions differ: {m}x{k} times {kb}x{n}");
    assert_eq!(c.shape(), (m, n), "output shape");
    let (a_rs, a_cs) = a.strides();
    let (b_rs, b_cs) = b.strides();
    let (c_rs, c_cs) = c.strides();
    // op(a)(i, l) = a(l, i) when transposed: swap the two strides.
    let (rsa, csa) = if a_t { (a_cs, a_rs) } else { (a_rs, a_cs) };
    let (rsb, csb) = if b_t { (b_cs, b_rs) } else { (b_rs, b_cs) };
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY: the shapes were checked above; the pointers and strides come from nalgebra
    // matrices that own or borrow at least that many elements, and `c` is borrowed mutably so
    // it cannot alias `a` or `b`.
    unsafe {
        matrixmultiply::dgemm(
            m,
            k,
            n,
            alpha,
            a.data.ptr(),
            rsa as isize,
            csa as isize,
            b.data.ptr(),
            rsb as isize,
            csb as isize,
            beta,
            c.data.ptr_mut(),
            c_rs as isize,
            c_cs as isize,
        );
    }
}

/// `c ← α a b + β c` (same as nalgebra's `gemm`, for any strided views).
pub fn gemm<R1, C1, S1, R2, C2, S2, R3, C3, S3>(
    alpha: f64,
    a: &Matrix<f64, R1, C1, S1>,
    b: &Matrix<f64, R2, C2, S2>,
    beta: f64,
    c: &mut Matrix<f64, R3, C3, S3>,
) where
    R1: Dim,
    C1: Dim,
    S1: RawStorage<f64, R1, C1>,
    R2: Dim,
    C2: Dim,
    S2: RawStorage<f64, R2, C2>,
    R3: Dim,
    C3: Dim,
    S3: RawStorageMut<f64, R3, C3>,
{
    dgemm_strided(alpha, a, false, b, false, beta, c)
}

/// `c ← α aᵀ b + β c`: e.g. dX = Wᵀ dY, without nalgebra's slow `gemm_tr`.
pub fn gemm_tn<R1, C1, S1, R2, C2, S2, R3, C3, S3>(
    alpha: f64,
    a: &Matrix<f64, R1, C1, S1>,
    b: &Matrix<f64, R2, C2, S2>,
    beta: f64,
    c: &mut Matrix<f64, R3, C3, S3>,
) where
    R1: Dim,
    C1: Dim,
    S1: RawStorage<f64, R1, C1>,
    R2: Dim,
    C2: Dim,
    S2: RawStorage<f64, R2, C2>,
    R3: Dim,
    C3: Dim,
    S3: RawStorageMut<f64, R3, C3>,
{
    dgemm_strided(alpha, a, true, b, false, beta, c)
}

/// `c ← α a bᵀ + β c`: e.g. dW = dY Xᵀ, without copying Xᵀ.
pub fn gemm_nt<R1, C1, S1, R2, C2, S2, R3, C3, S3>(
    alpha: f64,
    a: &Matrix<f64, R1, C1, S1>,
    b: &Matrix<f64, R2, C2, S2>,
    beta: f64,
    c: &mut Matrix<f64, R3, C3, S3>,
) where
    R1: Dim,
    C1: Dim,
    S1: RawStorage<f64, R1, C1>,
    R2: Dim,
    C2: Dim,
    S2: RawStorage<f64, R2, C2>,
    R3: Dim,
    C3: Dim,
    S3: RawStorageMut<f64, R3, C3>,
{
    dgemm_strided(alpha, a, false, b, true, beta, c)
}

/// `y ← y + A x` for a column-major `a` (m × n), `x` of length n and `y` of length m.
///
/// Written in axpy form, four columns at a time: y_i ← y_i + (((a_i0 x_0 + a_i1 x_1) + a_i2 x_2) +
/// a_i3 x_3), then the next four columns. On x86-64 CPUs with AVX2 the same code is compiled
/// for 256-bit vectors and picked at run time (≈ 2.4× faster than nalgebra's `gemv` at
/// 100 × 100). There is no fused multiply-add and every y_i is summed in the same order on both
/// paths, so the result is bit-identical on every machine.
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

/// The one implementation of [`matvec_acc`], inlined into each instruction-set variant.
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
        for i in 0..m {
            y[i] += c0[i] * x4[0] + c1[i] * x4[1] + c2[i] * x4[2] + c3[i] * x4[3];
        }
    }
    for (c, &xj) in blocks.remainder().chunks_exact(m).zip(xs.remainder()) {
        for (yi, ci) in y.iter_mut().zip(c) {
            *yi += ci * xj;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use nalgebra::DMatrix;

    fn m(r: usize, c: usize, s: f64) -> DMatrix<f64> {
        DMatrix::from_fn(r, c, |i, j| ((i * 7 + j * 3) as f64 * s).sin())
    }

    #[test]
    fn transposed_products_match_nalgebra() {
        let a = m(9, 6, 0.37);
        let b = m(9, 4, 0.11);
        let mut c = m(6, 4, 0.5);
        let want = 2.0 * a.transpose() * &b + 0.5 * &c;
        gemm_tn(2.0, &a, &b, 0.5, &mut c);
        assert_relative_eq!(c, want, epsilon = 1e-12);

        let x = m(7, 6, 0.2);
        let mut d = DMatrix::zeros(9, 7);
        gemm_nt(1.0, &a, &x, 0.0, &mut d);
        assert_relative_eq!(d, &a * x.transpose(), epsilon = 1e-12);

        let mut e = DMatrix::zeros(9, 4);
        gemm(1.0, &a, &m(6, 4, 0.3), 0.0, &mut e);
        assert_relative_eq!(e, &a * m(6, 4, 0.3), epsilon = 1e-12);
    }

    #[test]
    fn works_on_column_views() {
        // dW += dY[:, 2..5] X[:, 2..5]ᵀ, as a mini-batch slice would.
        let dy = m(5, 8, 0.3);
        let x = m(3, 8, 0.7);
        let mut dw = DMatrix::zeros(5, 3);
        gemm_nt(1.0, &dy.columns(2, 3), &x.columns(2, 3), 0.0, &mut dw);
        let want = dy.columns(2, 3) * x.columns(2, 3).transpose();
        assert_relative_eq!(dw, want, epsilon = 1e-12);
        // A row view has a non-unit row stride.
        let mut out = DMatrix::zeros(1, 3);
        gemm(1.0, &dy.rows(1, 1), &x.transpose(), 0.0, &mut out);
        assert_relative_eq!(out, dy.rows(1, 1) * x.transpose(), epsilon = 1e-12);
    }

    #[test]
    fn matvec_acc_matches_gemv_and_is_the_same_on_every_path() {
        for (rows, cols) in [(100, 100), (7, 5), (3, 1), (1, 9), (0, 4), (5, 0)] {
            let a = m(rows, cols, 0.17);
            let x: Vec<f64> = (0..cols).map(|j| (j as f64 * 0.3).cos()).collect();
            let y0: Vec<f64> = (0..rows).map(|i| (i as f64 * 0.7).sin()).collect();
            let mut y = y0.clone();
            matvec_acc(&a, &x, &mut y);
            let mut want = nalgebra::DVector::from_column_slice(&y0);
            want.gemv(1.0, &a, &nalgebra::DVector::from_column_slice(&x), 1.0);
            for (u, v) in y.iter().zip(want.iter()) {
                assert!((u - v).abs() < 1e-12, "{rows}x{cols}: {u} vs {v}");
            }
            // The baseline build of the same code gives the same bits as the dispatched one.
            let mut base = y0.clone();
            matvec_acc_body(a.as_slice(), &x, &mut base);
            assert_eq!(
                y.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                base.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
        }
    }
}
