//! The engine's kernels in each float type ([`Kernels`]): what the passes call that is not a
//! GEMM. For f64 every method is the `shared::kernels` function the engine always called (the
//! same bits as before the engine was generic); for f32 the f32 counterparts, which `shared`
//! does not have:
//!
//! | kernel | f64 | f32 |
//! |---|---|---|
//! | σ, tanh | `shared::kernels::fastmath` | `shared::kernels::fastmath32`: the same method in f32 (within 4 ulp; vectorised, no libm) |
//! | per-step product, B = 1 | `shared::kernels::{gemv, gemv_t}` | [`gemv_f32`]: `gemv`'s loop in f32 (four columns per pass), compiled for AVX-512 and AVX2; Aᵀx as the copy of Aᵀ times x |
//! | aᵀ b, B > 1 and the whole sequence's dX = W_xhᵀ dA | `shared::kernels::gemm_tn` (matrixmultiply) | aᵀ copied once per backward pass ([`Kernels::transpose_into`]), then the `gemm` crate's f32 GEMM on it: on this machine 52 µs against `gemm_tn`'s 89 µs for a step's W_hhᵀ dA_t (512 × 128 transposed, times 128 × 32) |
//! | Σ of columns | `shared::kernels::sum_columns` | the same order, in f32 |
//! | softmax of columns | `shared::activation::softmax_columns_mut` | `shared::kernels::softmax::softmax32_mut` per column (e^x in f32, the sum in f64) |
//! | cross-entropy | `shared::loss::cross_entropy` | the same sum in f64 over the f32 probabilities |

use multiversion::multiversion;
use nalgebra::{DMatrix, DMatrixView, DMatrixViewMut};
use shared::kernels::fastmath;
use shared::kernels::{gemm, gemm_tn, gemv, gemv_t};

pub use shared::kernels::{Float, narrow, widen};

/// A [`Float`] with the engine's kernels.
pub trait Kernels: Float {
    /// σ(x) = 1 / (1 + e^{−x}).
    fn fast_sigmoid(x: Self) -> Self;
    /// tanh x.
    fn fast_tanh(x: Self) -> Self;
    /// tanh of every entry, in place.
    fn tanh_mut(v: &mut [Self]);
    /// `c ← α a b + β c` for one time step (`b`, `c`: the B columns of one step).
    fn step_product(
        alpha: Self,
        a: DMatrixView<'_, Self>,
        b: DMatrixView<'_, Self>,
        beta: Self,
        c: DMatrixViewMut<'_, Self>,
    );
    /// Readies `at` for [`Kernels::product_tn`] and [`Kernels::step_product_tn`] with left
    /// operand `a` (G × K): f32 copies aᵀ (K × G) into it; f64 only gives it that shape (its
    /// products read `a` in place).
    fn transpose_into(a: &DMatrix<Self>, at: &mut DMatrix<Self>);
    /// `c ← α aᵀ b + β c` for one time step (the backward pass's W_hhᵀ dA_t); `at` is aᵀ as
    /// [`Kernels::transpose_into`] left it.
    fn step_product_tn(
        alpha: Self,
        a: DMatrixView<'_, Self>,
        at: DMatrixView<'_, Self>,
        b: DMatrixView<'_, Self>,
        beta: Self,
        c: DMatrixViewMut<'_, Self>,
    );
    /// `c ← α aᵀ b + β c` over the whole sequence (dX = W_xhᵀ dA); `at` as above.
    fn product_tn(
        alpha: Self,
        a: DMatrixView<'_, Self>,
        at: DMatrixView<'_, Self>,
        b: DMatrixView<'_, Self>,
        beta: Self,
        c: DMatrixViewMut<'_, Self>,
    );
    /// `out` (n × 1) ← Σ_j column j of `m` (n × k), columns added in order from zero.
    fn sum_columns(m: &DMatrix<Self>, out: &mut DMatrix<Self>);
    /// Every column of `m` replaced by its softmax.
    fn softmax_columns(m: &mut DMatrix<Self>);
    /// Mean cross-entropy −(1/N) Σ_n log y[target_n, n] (N = columns), in f64.
    fn cross_entropy(y: &DMatrix<Self>, targets: &[usize]) -> f64;
}

impl Kernels for f64 {
    #[inline(always)]
    fn fast_sigmoid(x: f64) -> f64 {
        fastmath::sigmoid(x)
    }
    #[inline(always)]
    fn fast_tanh(x: f64) -> f64 {
        fastmath::tanh(x)
    }
    fn tanh_mut(v: &mut [f64]) {
        fastmath::tanh_mut(v);
    }
    /// A mini-batch goes to the GEMM kernel; a single column (B = 1) is a matrix–vector
    /// product (`shared::kernels::gemv`): matrixmultiply would repack all of `a` (the 4H × H
    /// weights) at every step.
    fn step_product(
        alpha: f64,
        a: DMatrixView<'_, f64>,
        b: DMatrixView<'_, f64>,
        beta: f64,
        mut c: DMatrixViewMut<'_, f64>,
    ) {
        if b.ncols() == 1 {
            let x = b.column(0);
            gemv(
                alpha,
                &a,
                x.as_slice(),
                beta,
                c.column_mut(0).as_mut_slice(),
            );
        } else {
            gemm(alpha, &a, &b, beta, &mut c);
        }
    }
    fn transpose_into(a: &DMatrix<f64>, at: &mut DMatrix<f64>) {
        if at.shape() != (a.ncols(), a.nrows()) {
            *at = DMatrix::zeros(a.ncols(), a.nrows()); // once per cache, never read
        }
    }
    /// The same batch-1 shortcut (`shared::kernels::gemv_t`); matrixmultiply's `gemm_tn`
    /// reads `a` transposed in place.
    fn step_product_tn(
        alpha: f64,
        a: DMatrixView<'_, f64>,
        _at: DMatrixView<'_, f64>,
        b: DMatrixView<'_, f64>,
        beta: f64,
        mut c: DMatrixViewMut<'_, f64>,
    ) {
        if b.ncols() == 1 {
            let x = b.column(0);
            gemv_t(
                alpha,
                &a,
                x.as_slice(),
                beta,
                c.column_mut(0).as_mut_slice(),
            );
        } else {
            gemm_tn(alpha, &a, &b, beta, &mut c);
        }
    }
    fn product_tn(
        alpha: f64,
        a: DMatrixView<'_, f64>,
        _at: DMatrixView<'_, f64>,
        b: DMatrixView<'_, f64>,
        beta: f64,
        mut c: DMatrixViewMut<'_, f64>,
    ) {
        gemm_tn(alpha, &a, &b, beta, &mut c);
    }
    fn sum_columns(m: &DMatrix<f64>, out: &mut DMatrix<f64>) {
        shared::kernels::sum_columns(m, &mut out.column_mut(0));
    }
    fn softmax_columns(m: &mut DMatrix<f64>) {
        shared::activation::softmax_columns_mut(m);
    }
    fn cross_entropy(y: &DMatrix<f64>, targets: &[usize]) -> f64 {
        shared::loss::cross_entropy(y, targets)
    }
}

impl Kernels for f32 {
    #[inline(always)]
    fn fast_sigmoid(x: f32) -> f32 {
        shared::kernels::fastmath32::sigmoid(x)
    }
    #[inline(always)]
    fn fast_tanh(x: f32) -> f32 {
        shared::kernels::fastmath32::tanh(x)
    }
    fn tanh_mut(v: &mut [f32]) {
        tanh_mut_f32(v);
    }
    fn step_product(
        alpha: f32,
        a: DMatrixView<'_, f32>,
        b: DMatrixView<'_, f32>,
        beta: f32,
        mut c: DMatrixViewMut<'_, f32>,
    ) {
        if b.ncols() == 1 {
            let x = b.column(0);
            gemv_f32(
                alpha,
                &a,
                x.as_slice(),
                beta,
                c.column_mut(0).as_mut_slice(),
            );
        } else {
            gemm(alpha, &a, &b, beta, &mut c);
        }
    }
    fn transpose_into(a: &DMatrix<f32>, at: &mut DMatrix<f32>) {
        let (G, K) = a.shape();
        if at.shape() != (K, G) {
            *at = DMatrix::zeros(K, G);
        }
        transpose_f32(a.as_slice(), G, K, at.as_mut_slice());
    }
    /// On aᵀ, also at B = 1 (a matrix–vector product on the copy).
    fn step_product_tn(
        alpha: f32,
        _a: DMatrixView<'_, f32>,
        at: DMatrixView<'_, f32>,
        b: DMatrixView<'_, f32>,
        beta: f32,
        mut c: DMatrixViewMut<'_, f32>,
    ) {
        if b.ncols() == 1 {
            let x = b.column(0);
            gemv_f32(
                alpha,
                &at,
                x.as_slice(),
                beta,
                c.column_mut(0).as_mut_slice(),
            );
        } else {
            gemm(alpha, &at, &b, beta, &mut c);
        }
    }
    fn product_tn(
        alpha: f32,
        _a: DMatrixView<'_, f32>,
        at: DMatrixView<'_, f32>,
        b: DMatrixView<'_, f32>,
        beta: f32,
        mut c: DMatrixViewMut<'_, f32>,
    ) {
        gemm(alpha, &at, &b, beta, &mut c);
    }
    fn sum_columns(m: &DMatrix<f32>, out: &mut DMatrix<f32>) {
        assert_eq!(out.shape(), (m.nrows(), 1), "sum_columns: out is n × 1");
        out.fill(0.0);
        for j in 0..m.ncols() {
            *out += m.column(j);
        }
    }
    /// Each column by `shared::kernels::softmax::softmax32_mut` (e^x in f32, the sum in f64).
    fn softmax_columns(m: &mut DMatrix<f32>) {
        let rows = m.nrows();
        for col in m.as_mut_slice().chunks_exact_mut(rows.max(1)) {
            shared::kernels::softmax::softmax32_mut(col);
        }
    }
    /// As shared's f64 cross-entropy (the same `TINY` inside the logarithm), each probability
    /// widened to f64 first.
    fn cross_entropy(y: &DMatrix<f32>, targets: &[usize]) -> f64 {
        assert_eq!(y.ncols(), targets.len(), "one target per column");
        let total: f64 = (targets.iter().enumerate())
            .map(|(n, &t)| -(f64::from(y[(t, n)]) + shared::loss::TINY).ln())
            .sum();
        total / targets.len() as f64
    }
}

/// `at` (K × G, column-major) ← aᵀ for `a` G × K column-major, in 32 × 32 tiles (a plain
/// column-by-column copy strides through `at` and ran at 2.5 ns an entry).
fn transpose_f32(a: &[f32], G: usize, K: usize, at: &mut [f32]) {
    const TILE: usize = 32;
    for j0 in (0..K).step_by(TILE) {
        for i0 in (0..G).step_by(TILE) {
            for j in j0..(j0 + TILE).min(K) {
                for i in i0..(i0 + TILE).min(G) {
                    at[i * K + j] = a[j * G + i]; // at[j, i] = a[i, j]
                }
            }
        }
    }
}

/// `y ← α A x + β y` in f32 (A: m × n, any column stride): as `shared::kernels::gemv`, four
/// columns per pass, y_i += (a_i0 x'_0 + a_i1 x'_1) + (a_i2 x'_2 + a_i3 x'_3) with x' = α x.
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2"))]
pub fn gemv_f32(alpha: f32, a: &DMatrixView<'_, f32>, x: &[f32], beta: f32, y: &mut [f32]) {
    assert_eq!(
        (a.nrows(), a.ncols()),
        (y.len(), x.len()),
        "gemv_f32: shapes"
    );
    if beta != 1.0 {
        y.iter_mut().for_each(|v| *v *= beta);
    }
    let (m, n) = (y.len(), x.len());
    let mut j = 0;
    while j + 4 <= n {
        let (c0, c1) = (a.column(j), a.column(j + 1));
        let (c2, c3) = (a.column(j + 2), a.column(j + 3));
        let (c0, c1, c2, c3) = (
            &c0.as_slice()[..m],
            &c1.as_slice()[..m],
            &c2.as_slice()[..m],
            &c3.as_slice()[..m],
        );
        let x4 = [
            alpha * x[j],
            alpha * x[j + 1],
            alpha * x[j + 2],
            alpha * x[j + 3],
        ];
        for i in 0..m {
            y[i] += (c0[i] * x4[0] + c1[i] * x4[1]) + (c2[i] * x4[2] + c3[i] * x4[3]);
        }
        j += 4;
    }
    for (j, &xj) in x.iter().enumerate().skip(j) {
        let c = a.column(j);
        for (yi, ci) in y.iter_mut().zip(c.iter()) {
            *yi += ci * (alpha * xj);
        }
    }
}

/// [`Kernels::tanh_mut`] for f32, compiled for AVX-512 and AVX2 as well.
#[multiversion::multiversion(targets("x86_64+avx512f", "x86_64+avx2"))]
fn tanh_mut_f32(v: &mut [f32]) {
    for x in v {
        *x = <f32 as Kernels>::fast_tanh(*x);
    }
}
