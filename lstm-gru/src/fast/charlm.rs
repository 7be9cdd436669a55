//! The engine pass of the character language model (see [`crate::model::charlm`]): the one-hot
//! inputs, the probabilities and ∂E/∂h_t in buffers made once, the output layer as one GEMM
//! over all T·B columns.

use super::{FastCell, StackCache};
use crate::model::{CharLm, NetGrads};
use nalgebra::DMatrix;
use shared::activation::softmax_columns_mut;
use shared::kernels::{gemm, gemm_nt, gemm_tn, sum_columns};

/// The buffers of a [`CharLm`] for T steps of B streams.
#[derive(Clone, Debug)]
pub struct LmCache<C: FastCell> {
    /// The stack's caches (states carry from chunk to chunk).
    pub rnn: StackCache<C>,
    /// V × T·B: one-hot inputs x_t.
    X: DMatrix<f64>,
    /// V × T·B: the probabilities y_t, then (backward) ∂E/∂(W_hy h_t + b_y).
    Y: DMatrix<f64>,
    /// H × T·B: ∂E/∂h_t of the top layer.
    dH: DMatrix<f64>,
    /// V × 1: Σ_t of ∂E/∂(W_hy h_t + b_y).
    db: DMatrix<f64>,
}

impl<C: FastCell> LmCache<C> {
    /// V × T·B: y_t of the last forward pass.
    pub fn probabilities(&self) -> &DMatrix<f64> {
        &self.Y
    }
}

impl<C: FastCell> CharLm<C> {
    /// Buffers for T steps of B streams, zero initial states.
    pub fn fast_cache(&self, T: usize, B: usize) -> LmCache<C> {
        let V = self.vocab_size();
        LmCache {
            rnn: self.rnn.fast_cache(T, B),
            X: DMatrix::zeros(V, T * B),
            Y: DMatrix::zeros(V, T * B),
            dH: DMatrix::zeros(self.rnn.hidden_size(), T * B),
            db: DMatrix::zeros(V, 1),
        }
    }

    /// [`CharLm::forward`] on the engine: reads `inputs` (T·B character ids, step t of stream
    /// j at tB + j) from the cache's current state; leaves y_t = Softmax(W_hy h_t + b_y) in the
    /// cache and returns the mean cross-entropy against `targets`, in nats per character.
    pub fn forward_fast(&self, inputs: &[usize], targets: &[usize], cache: &mut LmCache<C>) -> f64 {
        let n = cache.X.ncols();
        assert_eq!(inputs.len(), n, "T·B inputs");
        assert_eq!(targets.len(), n, "T·B targets");
        cache.X.fill(0.0);
        for (col, &c) in inputs.iter().enumerate() {
            cache.X[(c, col)] = 1.0; // x_t: one-hot
        }
        self.rnn.forward_fast(cache.X.columns(0, n), &mut cache.rnn);
        // y_t = Softmax(W_hy h_t + b_y) for every t and stream at once.
        gemm(1.0, &self.W_hy, &cache.rnn.outputs(), 0.0, &mut cache.Y);
        for mut col in cache.Y.column_iter_mut() {
            col += &self.b_y.column(0);
        }
        softmax_columns_mut(&mut cache.Y);
        shared::loss::cross_entropy(&cache.Y, targets)
    }

    /// Forward and backward pass; *accumulates* the gradients into `grads`; returns the loss.
    pub fn backward_fast(
        &self,
        inputs: &[usize],
        targets: &[usize],
        cache: &mut LmCache<C>,
        grads: &mut NetGrads,
    ) -> f64 {
        let loss = self.forward_fast(inputs, targets, cache);
        let n = targets.len();
        // E = −(1/N) Σ log y[target]  ⇒  ∂E/∂(W_hy h_t + b_y) = (y_t − onehot(target))/N
        for (col, &t) in targets.iter().enumerate() {
            cache.Y[(t, col)] -= 1.0;
        }
        cache.Y /= n as f64;
        let dY = &cache.Y; // V × T·B
        gemm_nt(1.0, dY, &cache.rnn.outputs(), 1.0, &mut grads.dW_hy); // dW_hy = Σ_t dy_t h_tᵀ
        sum_columns(dY, &mut cache.db.column_mut(0));
        grads.db_y += &cache.db; // db_y = Σ_t dy_t
        gemm_tn(1.0, &self.W_hy, dY, 0.0, &mut cache.dH); // ∂E/∂h_t = W_hyᵀ dy_t
        self.rnn.backward_fast(
            cache.X.columns(0, n),
            &mut cache.rnn,
            cache.dH.columns(0, n),
            &mut grads.rnn,
        );
        loss
    }
}
