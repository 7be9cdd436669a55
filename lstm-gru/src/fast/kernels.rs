//! The engine's kernels in each float type ([`Kernels`]): what the passes call that is not a
//! GEMM. For f64 every method is the `shared::kernels` function the engine always called (the
//! same bits as before the engine was generic); for f32 the f32 counterparts, which `shared`
//! does not have:
//!
//! | kernel | f64 | f32 |
//! |---|---|---|
//! | σ, tanh | `shared::kernels::fastmath` | the same f64 functions on the widened value, rounded once (correctly rounded to f32 but for double rounding; vectorised, no libm) |
//! | per-step product, B = 1 | `shared::kernels::{gemv, gemv_t}` | `shared::kernels::{gemm, gemm_tn}` (f32 GEMM) |
//! | Σ of columns | `shared::kernels::sum_columns` | the same order, in f32 |
//! | softmax of columns | `shared::activation::softmax_columns_mut` | the same loop in f32 (libm `expf`) |
//! | cross-entropy | `shared::loss::cross_entropy` | the same sum in f64 over the f32 probabilities |

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
    /// `c ← α aᵀ b + β c` for one time step (the backward pass's W_hhᵀ dA_t).
    fn step_product_tn(
        alpha: Self,
        a: DMatrixView<'_, Self>,
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
    /// The same batch-1 shortcut (`shared::kernels::gemv_t`).
    fn step_product_tn(
        alpha: f64,
        a: DMatrixView<'_, f64>,
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
        fastmath::sigmoid(f64::from(x)) as f32
    }
    #[inline(always)]
    fn fast_tanh(x: f32) -> f32 {
        fastmath::tanh(f64::from(x)) as f32
    }
    fn tanh_mut(v: &mut [f32]) {
        tanh_mut_f32(v);
    }
    /// The f32 GEMM at every batch size (the `gemm` crate takes a matrix–vector path itself
    /// when B = 1).
    fn step_product(
        alpha: f32,
        a: DMatrixView<'_, f32>,
        b: DMatrixView<'_, f32>,
        beta: f32,
        mut c: DMatrixViewMut<'_, f32>,
    ) {
        gemm(alpha, &a, &b, beta, &mut c);
    }
    fn step_product_tn(
        alpha: f32,
        a: DMatrixView<'_, f32>,
        b: DMatrixView<'_, f32>,
        beta: f32,
        mut c: DMatrixViewMut<'_, f32>,
    ) {
        gemm_tn(alpha, &a, &b, beta, &mut c);
    }
    fn sum_columns(m: &DMatrix<f32>, out: &mut DMatrix<f32>) {
        assert_eq!(out.shape(), (m.nrows(), 1), "sum_columns: out is n × 1");
        out.fill(0.0);
        for j in 0..m.ncols() {
            *out += m.column(j);
        }
    }
    /// As shared's f64 softmax: the column's maximum subtracted, libm's `exp`, the sum in
    /// order, one division per entry.
    fn softmax_columns(m: &mut DMatrix<f32>) {
        for mut col in m.column_iter_mut() {
            let max = col.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0;
            for v in col.iter_mut() {
                *v = (*v - max).exp();
                sum += *v;
            }
            col /= sum;
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

/// [`Kernels::tanh_mut`] for f32, compiled for AVX-512 and AVX2 as well.
#[multiversion::multiversion(targets("x86_64+avx512f", "x86_64+avx2"))]
fn tanh_mut_f32(v: &mut [f32]) {
    for x in v {
        *x = <f32 as Kernels>::fast_tanh(*x);
    }
}
