//! The vanilla RNN's engine pass (see [`crate::model::rnn`] for the equations): h_t =
//! f(W_xh x_t + W_hh h_{t−1} + b_h) with f = tanh or ReLU, the input part of all steps as one
//! GEMM, f in place on each step's block.

use super::{
    Cache, FastCell, Grads, Kernels, Layer, input_part, input_part_backward, narrow, tanh_grad,
    widen,
};
use crate::model::Rnn;
use crate::model::rnn::Activation;
use nalgebra::{DMatrix, DMatrixView};
use shared::kernels::gemm_nt;

/// The vanilla RNN's parameters in the engine's float type (see [`Rnn`]).
#[derive(Clone, Debug, PartialEq)]
pub struct FastRnn<F: Kernels> {
    /// H × D: the notes' U.
    pub W_xh: DMatrix<F>,
    /// H × H: the notes' W.
    pub W_hh: DMatrix<F>,
    /// H × 1: b_h.
    pub b_h: DMatrix<F>,
    /// f: tanh or ReLU.
    pub f: Activation,
}

impl FastCell for Rnn {
    type Layer<F: Kernels> = FastRnn<F>;

    fn to_layer<F: Kernels>(&self) -> FastRnn<F> {
        FastRnn {
            W_xh: narrow(&self.W_xh),
            W_hh: narrow(&self.W_hh),
            b_h: narrow(&self.b_h),
            f: self.f,
        }
    }

    fn from_layer<F: Kernels>(layer: &FastRnn<F>) -> Rnn {
        Rnn {
            W_xh: widen(&layer.W_xh),
            W_hh: widen(&layer.W_hh),
            b_h: widen(&layer.b_h),
            f: layer.f,
        }
    }
}

/// f'(a) from the output h = f(a) (as [`Activation::grad`]): 1 − h² for tanh, 1 where h > 0
/// for ReLU.
#[inline(always)]
fn f_grad<F: Kernels>(f: Activation, h: F) -> F {
    match f {
        Activation::Tanh => tanh_grad(h),
        Activation::Relu if h > F::zero() => F::one(),
        Activation::Relu => F::zero(),
    }
}

/// What the vanilla RNN's forward pass records, plus the backward pass's buffers.
#[derive(Clone, Debug)]
pub struct RnnCache<F: Kernels> {
    T: usize,
    B: usize,
    H: usize,
    /// H × (T+1)·B: h_0 … h_T.
    h: DMatrix<F>,
    /// H × T·B: ∂E/∂(pre-activation).
    dA: DMatrix<F>,
    /// H × B: ∂E/∂h_t arriving from step t+1.
    dh_next: DMatrix<F>,
    /// H × 1: Σ_t of dA's columns.
    db: DMatrix<F>,
    /// W_hhᵀ and W_xhᵀ, for the backward pass's transposed products
    /// ([`Kernels::transpose_into`]).
    Wt: [DMatrix<F>; 2],
}

impl<F: Kernels> Cache<F> for RnnCache<F> {
    fn sequences(&self) -> (usize, usize, &[DMatrix<F>]) {
        (self.T, self.B, std::slice::from_ref(&self.h))
    }
    fn sequences_mut(&mut self) -> (usize, usize, &mut [DMatrix<F>]) {
        (self.T, self.B, std::slice::from_mut(&mut self.h))
    }
}

impl<F: Kernels> Layer<F> for FastRnn<F> {
    type Cache = RnnCache<F>;

    fn weights(&self) -> [&DMatrix<F>; 3] {
        [&self.W_xh, &self.W_hh, &self.b_h]
    }

    fn weights_mut(&mut self) -> [&mut DMatrix<F>; 3] {
        [&mut self.W_xh, &mut self.W_hh, &mut self.b_h]
    }

    fn fast_cache(&self, T: usize, B: usize) -> RnnCache<F> {
        let H = self.hidden_size();
        RnnCache {
            T,
            B,
            H,
            h: DMatrix::zeros(H, (T + 1) * B),
            dA: DMatrix::zeros(H, T * B),
            dh_next: DMatrix::zeros(H, B),
            db: DMatrix::zeros(H, 1),
            Wt: [DMatrix::zeros(0, 0), DMatrix::zeros(0, 0)],
        }
    }

    fn forward_fast(&self, X: DMatrixView<'_, F>, cache: &mut RnnCache<F>) {
        let (T, B, H) = (cache.T, cache.B, cache.H);
        assert_eq!(H, self.hidden_size(), "a cache of another hidden size");
        // W_xh x_t + b_h for all steps at once, written straight into h_1 … h_T.
        input_part(&self.W_xh, &self.b_h, &X, cache.h.columns_mut(B, T * B));
        for t in 0..T {
            let (h_prev, mut h_t) = cache
                .h
                .columns_range_pair_mut(t * B..(t + 1) * B, (t + 1) * B..(t + 2) * B);
            F::step_product(
                F::one(),
                self.W_hh.as_view(),
                h_prev.as_view(),
                F::one(),
                h_t.as_view_mut(),
            ); // + W_hh h_{t−1}
            let n = H * B;
            let h_t = &mut cache.h.as_mut_slice()[(t + 1) * n..(t + 2) * n];
            // h_t = f(W_xh x_t + W_hh h_{t−1} + b_h)
            match self.f {
                Activation::Tanh => F::tanh_mut(h_t),
                Activation::Relu => h_t
                    .iter_mut()
                    .for_each(|h| *h = if *h > F::zero() { *h } else { F::zero() }),
            }
        }
    }

    fn backward_fast(
        &self,
        X: DMatrixView<'_, F>,
        cache: &mut RnnCache<F>,
        dH: DMatrixView<'_, F>,
        grads: &mut Grads<F>,
        dX: Option<&mut DMatrix<F>>,
    ) {
        let (zero, one) = (F::zero(), F::one());
        let (T, B, H) = (cache.T, cache.B, cache.H);
        assert_eq!(dH.shape(), (H, T * B), "dH is H × T·B");
        let n = B * H;
        F::transpose_into(&self.W_hh, &mut cache.Wt[0]);
        F::transpose_into(&self.W_xh, &mut cache.Wt[1]);
        cache.dh_next.fill(zero);
        for t in (0..T).rev() {
            let h_t = &cache.h.as_slice()[(t + 1) * n..(t + 2) * n];
            let dA_t = &mut cache.dA.as_mut_slice()[t * n..(t + 1) * n];
            let dh_next = cache.dh_next.as_slice();
            for (j, da) in dA_t.chunks_exact_mut(H).enumerate() {
                let dH_tj = dH.column(t * B + j);
                for k in 0..H {
                    // h_t = f(a_t), h_t feeds the layer above and step t+1.
                    da[k] = (dH_tj[k] + dh_next[j * H + k]) * f_grad(self.f, h_t[j * H + k]);
                }
            }
            // ∂E/∂h_{t−1} = W_hhᵀ ∂E/∂a_t.
            F::step_product_tn(
                one,
                self.W_hh.as_view(),
                cache.Wt[0].as_view(),
                cache.dA.columns(t * B, B),
                zero,
                cache.dh_next.as_view_mut(),
            );
        }
        // dW_hh = Σ_t da_t h_{t−1}ᵀ in one product.
        gemm_nt(
            one,
            &cache.dA,
            &cache.h.columns(0, T * B),
            one,
            &mut grads.dW_hh,
        );
        let Wt_xh = cache.Wt[1].as_view();
        input_part_backward(&self.W_xh, Wt_xh, &cache.dA, &X, grads, &mut cache.db, dX);
    }
}
