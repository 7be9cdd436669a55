//! The engine pass of the character language model ([`FastLm`], see [`crate::model::charlm`]):
//! the one-hot inputs, the probabilities and ∂E/∂h_t in buffers made once, the output layer as
//! one GEMM over all T·B columns.

use super::{FastCell, FastStack, Kernels, NetGrads, StackCache, narrow, widen};
use crate::model::CharLm;
use nalgebra::DMatrix;
use shared::kernels::{gemm, gemm_nt, gemm_tn};

/// A [`CharLm`] in the engine, parameters in `F`.
#[derive(Clone, Debug)]
pub struct FastLm<C: FastCell, F: Kernels> {
    /// L layers; layer 0 reads one-hot characters (D = V).
    pub rnn: FastStack<C, F>,
    /// V × H.
    pub W_hy: DMatrix<F>,
    /// V × 1.
    pub b_y: DMatrix<F>,
}

/// The buffers of a [`FastLm`] for T steps of B streams.
#[derive(Clone, Debug)]
pub struct LmCache<C: FastCell, F: Kernels> {
    /// The stack's caches (states carry from chunk to chunk).
    pub rnn: StackCache<C, F>,
    /// V × T·B: one-hot inputs x_t.
    X: DMatrix<F>,
    /// V × T·B: the probabilities y_t, then (backward) ∂E/∂(W_hy h_t + b_y).
    Y: DMatrix<F>,
    /// H × T·B: ∂E/∂h_t of the top layer.
    dH: DMatrix<F>,
    /// V × 1: Σ_t of ∂E/∂(W_hy h_t + b_y).
    db: DMatrix<F>,
}

impl<C: FastCell, F: Kernels> LmCache<C, F> {
    /// V × T·B: y_t of the last forward pass.
    pub fn probabilities(&self) -> &DMatrix<F> {
        &self.Y
    }
}

impl<C: FastCell, F: Kernels> FastLm<C, F> {
    /// The engine twin of `model` (parameters rounded to `F`: a copy for f64).
    pub fn from_model(model: &CharLm<C>) -> Self {
        FastLm {
            rnn: FastStack::from_model(&model.rnn),
            W_hy: narrow(&model.W_hy),
            b_y: narrow(&model.b_y),
        }
    }

    /// The notes-layer model of this one (parameters as f64, exact).
    pub fn to_model(&self) -> CharLm<C> {
        CharLm {
            rnn: self.rnn.to_model(),
            W_hy: widen(&self.W_hy),
            b_y: widen(&self.b_y),
        }
    }

    /// V.
    pub fn vocab_size(&self) -> usize {
        self.W_hy.nrows()
    }

    /// All parameters, in the order and with the names of [`CharLm::params`].
    pub fn params(&self) -> Vec<(String, &DMatrix<F>)> {
        let mut p: Vec<(String, &DMatrix<F>)> = (self.rnn.layers.iter().enumerate())
            .flat_map(|(l, c)| {
                let names = ["W_xh", "W_hh", "b_h"].map(|n| format!("l{l}.{n}"));
                names.into_iter().zip(super::Layer::weights(c))
            })
            .collect();
        p.push(("W_hy".into(), &self.W_hy));
        p.push(("b_y".into(), &self.b_y));
        p
    }

    /// The same parameters, mutable, in the same order.
    pub fn params_mut(&mut self) -> Vec<&mut DMatrix<F>> {
        let mut p = self.rnn.params_mut();
        p.push(&mut self.W_hy);
        p.push(&mut self.b_y);
        p
    }

    /// Number of parameters.
    pub fn count(&self) -> usize {
        self.params().iter().map(|(_, p)| p.len()).sum()
    }

    /// Zero gradients of every parameter.
    pub fn zero_grads(&self) -> NetGrads<F> {
        NetGrads::zeros(&self.rnn.layers, &self.W_hy)
    }

    /// Buffers for T steps of B streams, zero initial states.
    pub fn fast_cache(&self, T: usize, B: usize) -> LmCache<C, F> {
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
    pub fn forward_fast(
        &self,
        inputs: &[usize],
        targets: &[usize],
        cache: &mut LmCache<C, F>,
    ) -> f64 {
        let (zero, one) = (F::zero(), F::one());
        let n = cache.X.ncols();
        assert_eq!(inputs.len(), n, "T·B inputs");
        assert_eq!(targets.len(), n, "T·B targets");
        cache.X.fill(zero);
        for (col, &c) in inputs.iter().enumerate() {
            cache.X[(c, col)] = one; // x_t: one-hot
        }
        self.rnn.forward_fast(cache.X.columns(0, n), &mut cache.rnn);
        // y_t = Softmax(W_hy h_t + b_y) for every t and stream at once.
        gemm(one, &self.W_hy, &cache.rnn.outputs(), zero, &mut cache.Y);
        for mut col in cache.Y.column_iter_mut() {
            col += &self.b_y.column(0);
        }
        F::softmax_columns(&mut cache.Y);
        F::cross_entropy(&cache.Y, targets)
    }

    /// Forward and backward pass; *accumulates* the gradients into `grads`; returns the loss.
    pub fn backward_fast(
        &self,
        inputs: &[usize],
        targets: &[usize],
        cache: &mut LmCache<C, F>,
        grads: &mut NetGrads<F>,
    ) -> f64 {
        let (zero, one) = (F::zero(), F::one());
        let loss = self.forward_fast(inputs, targets, cache);
        let n = targets.len();
        // E = −(1/N) Σ log y[target]  ⇒  ∂E/∂(W_hy h_t + b_y) = (y_t − onehot(target))/N
        for (col, &t) in targets.iter().enumerate() {
            cache.Y[(t, col)] -= one;
        }
        cache.Y /= F::round_from(n as f64);
        let dY = &cache.Y; // V × T·B
        gemm_nt(one, dY, &cache.rnn.outputs(), one, &mut grads.dW_hy); // dW_hy = Σ_t dy_t h_tᵀ
        F::sum_columns(dY, &mut cache.db);
        grads.db_y += &cache.db; // db_y = Σ_t dy_t
        gemm_tn(one, &self.W_hy, dY, zero, &mut cache.dH); // ∂E/∂h_t = W_hyᵀ dy_t
        self.rnn.backward_fast(
            cache.X.columns(0, n),
            &mut cache.rnn,
            cache.dH.columns(0, n),
            &mut grads.rnn,
        );
        loss
    }
}
