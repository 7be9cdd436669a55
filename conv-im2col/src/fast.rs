//! The engine layer: the network that `train` runs, computing what [`crate::model`] computes,
//! faster. Nothing here is new mathematics; every function has its plain counterpart in the
//! model, and the tests check each against it (im2col and col2im bit for bit in
//! `tests/im2col.rs`; the layers and the whole network's loss and gradients to 1e-12 on
//! several sizes in `tests/fast.rs`).
//!
//! | file | what makes it fast |
//! |---|---|
//! | [`im2col`](mod@im2col) | [`im2col_into`] and [`col2im_into`] copy whole image rows into reused buffers |
//! | [`layers`] | buffers kept in each layer; the convolution computes A = W·colᵀ straight into its channels-last output (no transposes); branch-free max pooling |
//! | [`net`] | [`FastConvNet`]: the ReLU after the pooling (4× fewer values), ReLU in place |
//! | [`parallel`] | `train --threads N`: each mini-batch split into N groups on N threads, with replicas |
//! //!
//! **Precision.** The engine is generic over its float type [`Float`] (`shared::kernels`): `f64` (every default
//! run, the same numbers as before) or `f32` (`train --dtype f32`: parameters, activations,
//! gradients and Adam's moments in f32 (`shared::optim::Optimizer32`), the products at twice the
//! width). The notes layer stays
//! f64; the tests compare the f32 engine with it to f32 precision.
//!
//! The products go through `shared::kernels::{gemm, gemm_nt, gemm_tn}` (the `gemm` crate, in
//! f64 or f32, reading transposed operands in place).
//!
//! **The one visible difference: W2.** The engine keeps the conv output channels-last, so the
//! pooled maps reach the affine layer in (y, x, f) order and W2's columns follow that order;
//! the model's are in (f, y, x) order, as Saito's. [`w2_to_model`] and [`w2_from_model`] are
//! the permutation (the identity only when FN = 1), [`FastConvNet::to_model`] and
//! [`FastConvNet::from_model`] convert whole networks.

#![allow(non_snake_case)]

pub mod im2col;
pub mod layers;
pub mod net;
pub mod parallel;

pub use im2col::{col2im_into, ensure_shape, im2col_into};
pub use layers::{Affine, Convolution, Pooling};
pub use net::{Classifier, FastConvNet, LinearSoftmax};
pub use parallel::{Parallel, Threaded};
pub use shared::kernels::{Float, narrow, widen};
pub use shared::optim::Optimize;

use crate::model::{Config, Grads, SimpleConvNet};
use nalgebra::DMatrix;
use shared::Result;

/// W2 (hidden × FN·PH·PW) with its columns moved from the engine's (py, px, f) order to the
/// model's (f, py, px) order: model column f·PH·PW + q is engine column q·FN + f.
pub fn w2_to_model(W2: &DMatrix<f64>, config: &Config) -> DMatrix<f64> {
    let (FN, D) = (config.filters, W2.ncols());
    let PP = D / FN;
    DMatrix::from_fn(W2.nrows(), D, |i, j| W2[(i, (j % PP) * FN + j / PP)])
}

/// The inverse of [`w2_to_model`]: engine column q·FN + f is model column f·PH·PW + q.
pub fn w2_from_model(W2: &DMatrix<f64>, config: &Config) -> DMatrix<f64> {
    let (FN, D) = (config.filters, W2.ncols());
    let PP = D / FN;
    DMatrix::from_fn(W2.nrows(), D, |i, j| W2[(i, (j % FN) * PP + j / FN)])
}

impl FastConvNet<f64> {
    /// The engine network computing the same function as `model`.
    pub fn from_model(model: &SimpleConvNet) -> Self {
        let c = &model.config;
        let [W1, b1, W2, b2, W3, b3] = model.params().map(Clone::clone);
        Self::from_weights(*c, [W1, b1, w2_from_model(&W2, c), b2, W3, b3])
    }

    /// The model network computing the same function as this one.
    pub fn to_model(&self) -> Result<SimpleConvNet> {
        let c = &self.config;
        let [W1, b1, W2, b2, W3, b3] = self.params().map(Clone::clone);
        SimpleConvNet::from_weights(*c, [W1, b1, w2_to_model(&W2, c), b2, W3, b3])
    }

    /// The gradients of the last [`Classifier::gradient`], as the model's [`Grads`] (dW2's
    /// columns in the model's order).
    pub fn grads_for_model(&self) -> Grads {
        let [dW1, db1, dW2, db2, dW3, db3] = self.grads().map(Clone::clone);
        Grads::from([dW1, db1, w2_to_model(&dW2, &self.config), db2, dW3, db3])
    }
}
