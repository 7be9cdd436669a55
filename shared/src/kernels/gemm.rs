//! Fast transposed matrix products.
//!
//! nalgebra computes `a.tr_mul(&b)` and `gemm_tr` with column dot products, skipping the
//! matrixmultiply kernel that `&a * &b` uses: about 7× slower at 256 × 256 (see the crate
//! reference sheet). Backprop is full of such products (dW = dY Xᵀ, dX = Wᵀ dY), so these
//! helpers call matrixmultiply's dgemm directly and express the transpose through strides:
//! no copy, full kernel speed. Any strided nalgebra matrix or view is accepted.
//!
//! The per-time-step matrix–vector products are in [`super::gemv`](mod@super::gemv).

use nalgebra::{Dim, Matrix, RawStorage, RawStorageMut};

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
}
