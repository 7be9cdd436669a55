//! The engine pass of the adding problem's network ([`FastAdding`], see
//! [`crate::model::adding`]).

use super::{FastCell, FastStack, Kernels, NetGrads, StackCache, narrow, widen};
use crate::model::AddingNet;
use nalgebra::{DMatrix, DMatrixView};

/// An [`AddingNet`] in the engine, parameters in `F`.
#[derive(Clone, Debug)]
pub struct FastAdding<C: FastCell, F: Kernels> {
    /// The recurrent layers (input size 2).
    pub rnn: FastStack<C, F>,
    /// 1 × H.
    pub W_hy: DMatrix<F>,
    /// 1 × 1.
    pub b_y: DMatrix<F>,
}

/// The buffers of a [`FastAdding`] for T steps of B sequences.
#[derive(Clone, Debug)]
pub struct AddingCache<C: FastCell, F: Kernels> {
    /// The stack's caches.
    pub rnn: StackCache<C, F>,
    /// 1 × B: the predictions y.
    pub y: DMatrix<F>,
    /// H × T·B: ∂E/∂h_t of the top layer (zero except at t = T, the only step read out).
    dY: DMatrix<F>,
    /// 1 × B: ∂E/∂y.
    dy: DMatrix<F>,
}

impl<C: FastCell, F: Kernels> FastAdding<C, F> {
    /// The engine twin of `net` (parameters rounded to `F`: a copy for f64).
    pub fn from_model(net: &AddingNet<C>) -> Self {
        FastAdding {
            rnn: FastStack::from_model(&net.rnn),
            W_hy: narrow(&net.W_hy),
            b_y: narrow(&net.b_y),
        }
    }

    /// The notes-layer network of this one (parameters as f64, exact).
    pub fn to_model(&self) -> AddingNet<C> {
        AddingNet {
            rnn: self.rnn.to_model(),
            W_hy: widen(&self.W_hy),
            b_y: widen(&self.b_y),
        }
    }

    /// All parameters: the layers' bottom first, then W_hy, b_y.
    pub fn params_mut(&mut self) -> Vec<&mut DMatrix<F>> {
        let mut p = self.rnn.params_mut();
        p.push(&mut self.W_hy);
        p.push(&mut self.b_y);
        p
    }

    /// Zero gradients of every parameter.
    pub fn zero_grads(&self) -> NetGrads<F> {
        NetGrads::zeros(&self.rnn.layers, &self.W_hy)
    }

    /// Buffers for T steps of B sequences.
    pub fn fast_cache(&self, T: usize, B: usize) -> AddingCache<C, F> {
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
        X: DMatrixView<'_, F>,
        target: &DMatrix<f64>,
        cache: &mut AddingCache<C, F>,
    ) -> f64 {
        let (T, B) = (cache.rnn.steps(), cache.rnn.batch());
        cache.rnn.reset(); // every sequence starts from h_0 = c_0 = 0
        self.rnn.forward_fast(X, &mut cache.rnn);
        let h_T = cache.rnn.h(T); // H × B
        // y = W_hy h_T + b_y
        shared::kernels::gemm(F::one(), &self.W_hy, &h_T, F::zero(), &mut cache.y);
        cache.y.add_scalar_mut(self.b_y[(0, 0)]);
        (cache.y.iter())
            .zip(target.iter())
            .map(|(y, t)| (y.as_f64() - t) * (y.as_f64() - t))
            .sum::<f64>()
            / B as f64
    }

    /// Forward and backward pass; *accumulates* ∂MSE/∂θ into `grads`, returns the MSE.
    pub fn backward_fast(
        &self,
        X: DMatrixView<'_, F>,
        target: &DMatrix<f64>,
        cache: &mut AddingCache<C, F>,
        grads: &mut NetGrads<F>,
    ) -> f64 {
        let (zero, one) = (F::zero(), F::one());
        let mse = self.forward_fast(X, target, cache);
        let (T, B) = (cache.rnn.steps(), cache.rnn.batch());
        // E = (1/B) Σ (y − t)²  ⇒  ∂E/∂y = 2(y − t)/B
        (cache.dy.iter_mut())
            .zip(cache.y.iter().zip(target.iter()))
            .for_each(|(d, (y, t))| *d = F::round_from(2.0 * (y.as_f64() - t) / B as f64));
        let h_T = cache.rnn.h(T);
        // y = W_hy h_T + b_y  ⇒  dW_hy += dy h_Tᵀ, db_y += Σ dy, ∂E/∂h_T = W_hyᵀ dy
        shared::kernels::gemm_nt(one, &cache.dy, &h_T, one, &mut grads.dW_hy);
        grads.db_y[(0, 0)] += cache.dy.sum();
        let mut dh_T = cache.dY.columns_mut((T - 1) * B, B);
        shared::kernels::gemm_tn(one, &self.W_hy, &cache.dy, zero, &mut dh_T);
        self.rnn.backward_fast(
            X,
            &mut cache.rnn,
            cache.dY.columns(0, T * B),
            &mut grads.rnn,
        );
        mse
    }
}
