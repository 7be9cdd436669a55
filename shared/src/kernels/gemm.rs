//! The engine's matrix products, f64 and f32, on any strided nalgebra matrix or view.
//!
//! nalgebra's own `&a * &b` calls matrixmultiply, and its `a.tr_mul(&b)` and `gemm_tr` compute
//! aᵀb by column dot products, about 7× slower at 256 × 256 (see the crate reference sheet).
//! Backprop is full of transposed products (dW = dY Xᵀ, dX = Wᵀ dY), so these helpers express a
//! transpose through strides (no copy) and call a packed GEMM kernel:
//! - [`gemm()`] and [`gemm_nt`]: the `gemm` crate (the kernel faer and candle use, its rayon
//!   feature off). It picks its micro-kernel at run time (AVX-512, AVX2 + FMA, or the
//!   baseline), so one binary runs at the peak of every x86-64 CPU: on a 2-core AMD EPYC
//!   (Zen 4), 256³ takes about 5 % less time than matrixmultiply in f64 and 9 % less in f32,
//!   the chapters' shapes 14–42 % less (`cargo bench -p shared --bench gemm`).
//! - [`gemm_tn`]: matrixmultiply. With a transposed left operand the gemm crate takes a slow
//!   path: the LSTM's W_hhᵀ dA (512 × 128 transposed, times 128 × 32) took 423 µs against
//!   matrixmultiply's 94 µs.
//!
//! The gemm crate sums in another order than matrixmultiply's, so its results can differ from
//! nalgebra's `&a * &b` in the last digits (the tests compare within rounding). For inner dimensions above
//! 512 the `gemm` crate cuts the sum into blocks sized from the CPU's caches: the last digits
//! of such a product may differ between machines, as they already do between instruction sets.
//!
//! On several threads ([`super::threads::set_product_threads`]) the gemm crate cuts a large
//! product's output into blocks of rows and columns, one thread each; every entry is still one
//! thread's sum over k in the same order, so the results are the same bits on any number of
//! threads (tested). `gemm_tn` stays on one thread.
//!
//! The per-time-step matrix–vector products are in [`super::gemv`](mod@super::gemv).

use nalgebra::{Dim, Matrix, RawStorage, RawStorageMut, Scalar};

/// The element types of the engine's products: `f64` (every default run) and `f32`; sealed,
/// because they are the two real types the `gemm` crate takes.
pub trait Real: Scalar + Copy + PartialEq + std::ops::MulAssign + sealed::Sealed {
    /// 0 in this type.
    const ZERO: Self;

    /// matrixmultiply's GEMM in this type: `c ← α a b + β c`, `m × k` times `k × n`, strides
    /// row first.
    ///
    /// # Safety
    /// The pointers and strides must address `m × k`, `k × n` and `m × n` valid elements, and
    /// `c` must not overlap `a` or `b`.
    #[allow(clippy::too_many_arguments)]
    unsafe fn matrixmultiply(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: (*const Self, isize, isize),
        b: (*const Self, isize, isize),
        beta: Self,
        c: (*mut Self, isize, isize),
    );
}

/// `Real` for a type whose matrixmultiply GEMM is `$gemm`.
macro_rules! real {
    ($t:ty, $gemm:path) => {
        impl Real for $t {
            const ZERO: $t = 0.0;

            unsafe fn matrixmultiply(
                m: usize,
                k: usize,
                n: usize,
                alpha: $t,
                a: (*const $t, isize, isize),
                b: (*const $t, isize, isize),
                beta: $t,
                c: (*mut $t, isize, isize),
            ) {
                // SAFETY: the caller's contract.
                unsafe {
                    $gemm(
                        m, k, n, alpha, a.0, a.1, a.2, b.0, b.1, b.2, beta, c.0, c.1, c.2,
                    )
                }
            }
        }
    };
}

real!(f64, matrixmultiply::dgemm);
real!(f32, matrixmultiply::sgemm);

mod sealed {
    pub trait Sealed {}
    impl Sealed for f64 {}
    impl Sealed for f32 {}
}

/// One GEMM `c ← α op(a) op(b) + β c` on raw strides; `m × k` times `k × n`. As in BLAS,
/// `β = 0` ignores what `c` held (NaN included).
#[allow(clippy::too_many_arguments)]
fn gemm_strided<T, R1, C1, S1, R2, C2, S2, R3, C3, S3>(
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    a_t: bool,
    b: &Matrix<T, R2, C2, S2>,
    b_t: bool,
    beta: T,
    c: &mut Matrix<T, R3, C3, S3>,
) where
    T: Real,
    R1: Dim,
    C1: Dim,
    S1: RawStorage<T, R1, C1>,
    R2: Dim,
    C2: Dim,
    S2: RawStorage<T, R2, C2>,
    R3: Dim,
    C3: Dim,
    S3: RawStorageMut<T, R3, C3>,
{
    let (ar, ac) = a.shape();
    let (br, bc) = b.shape();
    let (m, k) = if a_t { (ac, ar) } else { (ar, ac) };
    let (kb, n) = if b_t { (bc, br) } else { (br, bc) };
    assert_eq!(k, kb, "inner dimensions differ: {m}x{k} times {kb}x{n}");
    assert_eq!(c.shape(), (m, n), "output shape");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        // An empty sum: c ← β c.
        if beta == T::ZERO {
            c.fill(T::ZERO);
        } else {
            c.apply(|x| *x *= beta);
        }
        return;
    }
    let (a_rs, a_cs) = a.strides();
    let (b_rs, b_cs) = b.strides();
    let (c_rs, c_cs) = c.strides();
    // op(a)(i, l) = a(l, i) when transposed: swap the two strides.
    let (rsa, csa) = if a_t { (a_cs, a_rs) } else { (a_rs, a_cs) };
    let (rsb, csb) = if b_t { (b_cs, b_rs) } else { (b_rs, b_cs) };
    let (a_ptr, b_ptr, c_ptr) = (a.data.ptr(), b.data.ptr(), c.data.ptr_mut());
    if a_t {
        // A transposed left operand (aᵀ b, e.g. W_hhᵀ dA at 512 × 128 × 32) takes a slow path in
        // the gemm crate (4–6× slower than matrixmultiply here); matrixmultiply packs any
        // strides at full speed.
        // SAFETY: the shapes were checked above; the pointers and strides come from nalgebra
        // matrices that own or borrow at least that many elements, and `c` is borrowed mutably
        // so it cannot alias `a` or `b`.
        unsafe {
            T::matrixmultiply(
                m,
                k,
                n,
                alpha,
                (a_ptr, rsa as isize, csa as isize),
                (b_ptr, rsb as isize, csb as isize),
                beta,
                (c_ptr, c_rs as isize, c_cs as isize),
            );
        }
        return;
    }
    // SAFETY: as above. `T` is f64 or f32 (`Real` is sealed), the types `gemm::gemm` takes. It
    // computes dst ← α_g dst + β_g lhs rhs (strides column first), reading dst only when asked.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c_ptr,
            c_cs as isize,
            c_rs as isize,
            beta != T::ZERO,
            a_ptr,
            csa as isize,
            rsa as isize,
            b_ptr,
            csb as isize,
            rsb as isize,
            beta,
            alpha,
            false,
            false,
            false,
            super::threads::product_parallelism(m, n, k),
        );
    }
}

/// `c ← α a b + β c` (same as nalgebra's `gemm`, for any strided views).
pub fn gemm<T, R1, C1, S1, R2, C2, S2, R3, C3, S3>(
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
    beta: T,
    c: &mut Matrix<T, R3, C3, S3>,
) where
    T: Real,
    R1: Dim,
    C1: Dim,
    S1: RawStorage<T, R1, C1>,
    R2: Dim,
    C2: Dim,
    S2: RawStorage<T, R2, C2>,
    R3: Dim,
    C3: Dim,
    S3: RawStorageMut<T, R3, C3>,
{
    gemm_strided(alpha, a, false, b, false, beta, c)
}

/// `c ← α aᵀ b + β c`: e.g. dX = Wᵀ dY, without nalgebra's slow `gemm_tr`.
pub fn gemm_tn<T, R1, C1, S1, R2, C2, S2, R3, C3, S3>(
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
    beta: T,
    c: &mut Matrix<T, R3, C3, S3>,
) where
    T: Real,
    R1: Dim,
    C1: Dim,
    S1: RawStorage<T, R1, C1>,
    R2: Dim,
    C2: Dim,
    S2: RawStorage<T, R2, C2>,
    R3: Dim,
    C3: Dim,
    S3: RawStorageMut<T, R3, C3>,
{
    gemm_strided(alpha, a, true, b, false, beta, c)
}

/// `c ← α a bᵀ + β c`: e.g. dW = dY Xᵀ, without copying Xᵀ.
pub fn gemm_nt<T, R1, C1, S1, R2, C2, S2, R3, C3, S3>(
    alpha: T,
    a: &Matrix<T, R1, C1, S1>,
    b: &Matrix<T, R2, C2, S2>,
    beta: T,
    c: &mut Matrix<T, R3, C3, S3>,
) where
    T: Real,
    R1: Dim,
    C1: Dim,
    S1: RawStorage<T, R1, C1>,
    R2: Dim,
    C2: Dim,
    S2: RawStorage<T, R2, C2>,
    R3: Dim,
    C3: Dim,
    S3: RawStorageMut<T, R3, C3>,
{
    gemm_strided(alpha, a, false, b, true, beta, c)
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
    fn large_products_match_nalgebra_in_f64_and_f32() {
        // Inner dimension 700: above 512, where the sum is cut into cache-sized blocks.
        let a = m(37, 700, 0.013);
        let b = m(700, 29, 0.021);
        let want = &a * &b;
        let mut c = DMatrix::from_element(37, 29, f64::NAN); // β = 0 ignores what c held
        gemm(1.0, &a, &b, 0.0, &mut c);
        assert_relative_eq!(c, want, epsilon = 1e-11);
        let mut ct = DMatrix::zeros(37, 29);
        gemm_tn(1.0, &a.transpose(), &b, 0.0, &mut ct);
        assert_relative_eq!(ct, want, epsilon = 1e-11);

        let (a32, b32) = (a.map(|x| x as f32), b.map(|x| x as f32));
        let mut c32 = DMatrix::from_element(37, 29, 1.0f32);
        gemm_nt(2.0f32, &a32, &b32.transpose(), -1.0, &mut c32);
        let want32 = (2.0 * &want).add_scalar(-1.0).map(|x| x as f32);
        assert_relative_eq!(c32, want32, epsilon = 1e-3);
    }

    /// The products on 1, 2 and 3 threads give the same bits: at the chapters' large shapes
    /// (conv forward and its weight gradient, RBM on MNIST, rnn-lm's V, the LSTM at batch 32),
    /// with k above 512, transposed operands and β ≠ 0, in f64 and f32.
    #[test]
    fn products_on_several_threads_are_the_same_bits() {
        use super::super::threads::{product_threads, set_product_threads};
        let shapes = [
            (30, 25, 57600), // m, k, n
            (30, 57600, 25),
            (500, 784, 100),
            (8000, 100, 45),
            (512, 128, 32),
            (300, 700, 200),
        ];
        let before = product_threads();
        for (m_, k, n) in shapes {
            let a = m(m_, k, 0.017);
            let b = m(k, n, 0.029);
            let bt = b.transpose();
            let c0 = m(m_, n, 0.003);
            let (a32, b32, c32) = (
                a.map(|x| x as f32),
                b.map(|x| x as f32),
                c0.map(|x| x as f32),
            );
            let mut runs = Vec::new();
            for t in [1, 2, 3] {
                set_product_threads(t);
                let (mut c, mut d, mut e) = (c0.clone(), c0.clone(), c32.clone());
                gemm(0.5, &a, &b, 1.0, &mut c);
                gemm_nt(1.0, &a, &bt, -2.0, &mut d);
                gemm(1.0f32, &a32, &b32, 0.5, &mut e);
                runs.push((c, d, e));
            }
            set_product_threads(before);
            assert!(
                runs.iter().all(|r| r == &runs[0]),
                "{m_}×{k}×{n}: the threads changed the bits"
            );
        }
    }

    #[test]
    fn empty_inner_dimension_scales_c() {
        let a = DMatrix::<f64>::zeros(3, 0);
        let b = DMatrix::<f64>::zeros(0, 2);
        let mut c = DMatrix::from_element(3, 2, 4.0);
        gemm(1.0, &a, &b, 0.5, &mut c);
        assert_eq!(c, DMatrix::from_element(3, 2, 2.0));
        c.fill(f64::NAN);
        gemm(1.0, &a, &b, 0.0, &mut c);
        assert_eq!(c, DMatrix::zeros(3, 2));
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
