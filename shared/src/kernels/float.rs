//! The engine's float type: `f64` (every default run, the notes' type) or `f32` (`train
//! --dtype f32`, for speed: twice the lanes per vector instruction and half the bytes).
//!
//! The notes layer stays f64. An engine generic over [`Float`] takes its inputs and initial
//! weights as f64 ([`narrow`]), computes in `T`, and gives its results back as f64 ([`widen`],
//! exact). A checkpoint stores a `T` tensor in `T`'s safetensors dtype
//! (`shared::session::Tensors::matrix`), so an f32 model is read back bit for bit.

use crate::cli::Dtype;
use crate::optim::{Optimize, Optimizer, Optimizer32};
use nalgebra::{DMatrix, RealField};

/// The engine's float type, `f64` or `f32`.
pub trait Float: super::gemm::Real + RealField + Copy + Default + Send + Sync + 'static {
    /// [`Dtype::F64`] or [`Dtype::F32`]: the `--dtype` value and a checkpoint's `dtype`.
    const DTYPE: Dtype;
    /// The optimizer of parameters of this type: [`Optimizer`] for f64, [`Optimizer32`] for f32.
    type Optimizer: Optimize<Self>;
    /// `x` rounded to this type (exact for f64).
    fn round_from(x: f64) -> Self;
    /// This value as f64 (exact).
    fn as_f64(self) -> f64;
}

impl Float for f64 {
    const DTYPE: Dtype = Dtype::F64;
    type Optimizer = Optimizer;
    fn round_from(x: f64) -> f64 {
        x
    }
    fn as_f64(self) -> f64 {
        self
    }
}

impl Float for f32 {
    const DTYPE: Dtype = Dtype::F32;
    type Optimizer = Optimizer32;
    fn round_from(x: f64) -> f32 {
        x as f32
    }
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
}

/// `m` with every entry rounded to `T` (a copy; exact for f64).
pub fn narrow<T: Float>(m: &DMatrix<f64>) -> DMatrix<T> {
    m.map(T::round_from)
}

/// `m` with every entry as f64 (a copy; exact).
pub fn widen<T: Float>(m: &DMatrix<T>) -> DMatrix<f64> {
    m.map(T::as_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_and_widen_round_trip_f32_values_exactly() {
        let m = DMatrix::from_row_slice(1, 3, &[0.1, -1e-30, 3.0e38]);
        let m32: DMatrix<f32> = narrow(&m);
        assert_eq!(m32[0], 0.1f32);
        assert_eq!(narrow::<f32>(&widen(&m32)), m32);
        assert_eq!(widen(&narrow::<f64>(&m)), m);
        assert_eq!(f32::DTYPE.as_str(), "f32");
        assert_eq!(f64::DTYPE.as_str(), "f64");
    }
}
