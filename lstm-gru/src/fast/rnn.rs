//! The vanilla RNN's engine pass (see [`crate::model::rnn`] for the equations): h_t =
//! f(W_xh x_t + W_hh h_{t−1} + b_h) with f = tanh or ReLU, the input part of all steps as one
//! GEMM, f in place on each step's block.

use super::{Cache, FastCell, input_part, input_part_backward, step_product, step_product_tn};
use crate::model::rnn::Activation;
use crate::model::{Cell, Grads, Rnn};
use nalgebra::{DMatrix, DMatrixView};
use shared::kernels::gemm_nt;

/// What the vanilla RNN's forward pass records, plus the backward pass's buffers.
#[derive(Clone, Debug)]
pub struct RnnCache {
    T: usize,
    B: usize,
    H: usize,
    /// H × (T+1)·B: h_0 … h_T.
    h: DMatrix<f64>,
    /// H × T·B: ∂E/∂(pre-activation).
    dA: DMatrix<f64>,
    /// H × B: ∂E/∂h_t arriving from step t+1.
    dh_next: DMatrix<f64>,
    /// H × 1: Σ_t of dA's columns.
    db: DMatrix<f64>,
}

impl Cache for RnnCache {
    fn sequences(&self) -> (usize, usize, &[DMatrix<f64>]) {
        (self.T, self.B, std::slice::from_ref(&self.h))
    }
    fn sequences_mut(&mut self) -> (usize, usize, &mut [DMatrix<f64>]) {
        (self.T, self.B, std::slice::from_mut(&mut self.h))
    }
}

impl FastCell for Rnn {
    type FastCache = RnnCache;

    fn fast_cache(&self, T: usize, B: usize) -> RnnCache {
        let H = self.hidden_size();
        RnnCache {
            T,
            B,
            H,
            h: DMatrix::zeros(H, (T + 1) * B),
            dA: DMatrix::zeros(H, T * B),
            dh_next: DMatrix::zeros(H, B),
            db: DMatrix::zeros(H, 1),
        }
    }

    fn forward_fast(&self, X: DMatrixView<'_, f64>, cache: &mut RnnCache) {
        let (T, B, H) = (cache.T, cache.B, cache.H);
        assert_eq!(H, self.hidden_size(), "a cache of another hidden size");
        // W_xh x_t + b_h for all steps at once, written straight into h_1 … h_T.
        input_part(&self.W_xh, &self.b_h, &X, cache.h.columns_mut(B, T * B));
        for t in 0..T {
            let (h_prev, mut h_t) = cache
                .h
                .columns_range_pair_mut(t * B..(t + 1) * B, (t + 1) * B..(t + 2) * B);
            step_product(
                1.0,
                self.W_hh.as_view(),
                h_prev.as_view(),
                1.0,
                h_t.as_view_mut(),
            ); // + W_hh h_{t−1}
            let n = H * B;
            let h_t = &mut cache.h.as_mut_slice()[(t + 1) * n..(t + 2) * n];
            // h_t = f(W_xh x_t + W_hh h_{t−1} + b_h)
            match self.f {
                Activation::Tanh => shared::kernels::fastmath::tanh_mut(h_t),
                Activation::Relu => h_t
                    .iter_mut()
                    .for_each(|h| *h = shared::activation::relu(*h)),
            }
        }
    }

    fn backward_fast(
        &self,
        X: DMatrixView<'_, f64>,
        cache: &mut RnnCache,
        dH: DMatrixView<'_, f64>,
        grads: &mut Grads,
        dX: Option<&mut DMatrix<f64>>,
    ) {
        let (T, B, H) = (cache.T, cache.B, cache.H);
        assert_eq!(dH.shape(), (H, T * B), "dH is H × T·B");
        let n = B * H;
        cache.dh_next.fill(0.0);
        for t in (0..T).rev() {
            let h_t = &cache.h.as_slice()[(t + 1) * n..(t + 2) * n];
            let dA_t = &mut cache.dA.as_mut_slice()[t * n..(t + 1) * n];
            let dh_next = cache.dh_next.as_slice();
            for (j, da) in dA_t.chunks_exact_mut(H).enumerate() {
                let dH_tj = dH.column(t * B + j);
                for k in 0..H {
                    // h_t = f(a_t), h_t feeds the layer above and step t+1.
                    da[k] = (dH_tj[k] + dh_next[j * H + k]) * self.f.grad(h_t[j * H + k]);
                }
            }
            // ∂E/∂h_{t−1} = W_hhᵀ ∂E/∂a_t.
            step_product_tn(
                1.0,
                self.W_hh.as_view(),
                cache.dA.columns(t * B, B),
                0.0,
                cache.dh_next.as_view_mut(),
            );
        }
        // dW_hh = Σ_t da_t h_{t−1}ᵀ in one product.
        gemm_nt(
            1.0,
            &cache.dA,
            &cache.h.columns(0, T * B),
            1.0,
            &mut grads.dW_hh,
        );
        input_part_backward(&self.W_xh, &cache.dA, &X, grads, &mut cache.db, dX);
    }
}
