//! The engine pass of the adding problem's network (see [`crate::model::adding`]).

use super::{FastCell, StackCache};
use crate::model::{AddingNet, NetGrads};
use nalgebra::{DMatrix, DMatrixView};

/// The buffers of an [`AddingNet`] for T steps of B sequences.
#[derive(Clone, Debug)]
pub struct AddingCache<C: FastCell> {
    /// The stack's caches.
    pub rnn: StackCache<C>,
    /// 1 × B: the predictions y.
    pub y: DMatrix<f64>,
    /// H × T·B: ∂E/∂h_t of the top layer (zero except at t = T, the only step read out).
    dY: DMatrix<f64>,
    /// 1 × B: ∂E/∂y.
    dy: DMatrix<f64>,
}

impl<C: FastCell> AddingNet<C> {
    /// Buffers for T steps of B sequences.
    pub fn fast_cache(&self, T: usize, B: usize) -> AddingCache<C> {
        AddingCache {
            rnn: self.rnn.fast_cache(T, B),
            y: DMatrix::zeros(1, B),
            dY: DMatrix::zeros(self.rnn.hidden_size(), T * B),
            dy: DMatrix::zeros(1, B),
        }
    }

    /// [`AddingNet::forward`] on the engine: runs the sequences `X` (2 × T·B) from zero states;
    /// returns the MSE (1/B) Σ_j (y_j − target_j)² against `target` (1 × B).
    pub fn forward_fast(
        &self,
        X: DMatrixView<'_, f64>,
        target: &DMatrix<f64>,
        cache: &mut AddingCache<C>,
    ) -> f64 {
        let (T, B) = (cache.rnn.steps(), cache.rnn.batch());
        cache.rnn.reset(); // every sequence starts from h_0 = c_0 = 0
        self.rnn.forward_fast(X, &mut cache.rnn);
        let h_T = cache.rnn.h(T); // H × B
        // y = W_hy h_T + b_y
        shared::kernels::gemm(1.0, &self.W_hy, &h_T, 0.0, &mut cache.y);
        cache.y.add_scalar_mut(self.b_y[(0, 0)]);
        (cache.y.iter())
            .zip(target.iter())
            .map(|(y, t)| (y - t) * (y - t))
            .sum::<f64>()
            / B as f64
    }

    /// Forward and backward pass; *accumulates* ∂MSE/∂θ into `grads`, returns the MSE.
    pub fn backward_fast(
        &self,
        X: DMatrixView<'_, f64>,
        target: &DMatrix<f64>,
        cache: &mut AddingCache<C>,
        grads: &mut NetGrads,
    ) -> f64 {
        let mse = self.forward_fast(X, target, cache);
        let (T, B) = (cache.rnn.steps(), cache.rnn.batch());
        // E = (1/B) Σ (y − t)²  ⇒  ∂E/∂y = 2(y − t)/B
        (cache.dy.iter_mut())
            .zip(cache.y.iter().zip(target.iter()))
            .for_each(|(d, (y, t))| *d = 2.0 * (y - t) / B as f64);
        let h_T = cache.rnn.h(T);
        // y = W_hy h_T + b_y  ⇒  dW_hy += dy h_Tᵀ, db_y += Σ dy, ∂E/∂h_T = W_hyᵀ dy
        shared::kernels::gemm_nt(1.0, &cache.dy, &h_T, 1.0, &mut grads.dW_hy);
        grads.db_y[(0, 0)] += cache.dy.sum();
        let mut dh_T = cache.dY.columns_mut((T - 1) * B, B);
        shared::kernels::gemm_tn(1.0, &self.W_hy, &cache.dy, 0.0, &mut dh_T);
        self.rnn.backward_fast(
            X,
            &mut cache.rnn,
            cache.dY.columns(0, T * B),
            &mut grads.rnn,
        );
        mse
    }
}
