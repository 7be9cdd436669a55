//! The GRU's engine pass (see [`crate::model::gru`] for the equations): the three blocks z, r,
//! h̃ of all steps in one 3H × T·B buffer, the input part as one GEMM, and per step two
//! recurrent products ([W^z_hh; W^r_hh] h_{t−1}, then W^h̃_hh (r_t ∗ h_{t−1})) around the
//! elementwise loops.

use super::{
    Cache, FastCell, Grads, Kernels, Layer, input_part, input_part_backward, narrow, sigmoid_grad,
    tanh_grad, widen,
};
use crate::model::Gru;
use crate::model::gru::{N, Z};
use multiversion::multiversion;
use nalgebra::{DMatrix, DMatrixView};
use shared::kernels::gemm_nt;

/// The GRU's parameters in the engine's float type (see [`Gru`]).
#[derive(Clone, Debug, PartialEq)]
pub struct FastGru<F: Kernels> {
    /// 3H × D: the x-columns of W_z, W_r and W, stacked as row blocks z, r, h̃.
    pub W_xh: DMatrix<F>,
    /// 3H × H: the h-columns of W_z, W_r and W.
    pub W_hh: DMatrix<F>,
    /// 3H × 1: b^z, b^r, b^h̃.
    pub b_h: DMatrix<F>,
}

impl FastCell for Gru {
    type Layer<F: Kernels> = FastGru<F>;

    fn to_layer<F: Kernels>(&self) -> FastGru<F> {
        FastGru {
            W_xh: narrow(&self.W_xh),
            W_hh: narrow(&self.W_hh),
            b_h: narrow(&self.b_h),
        }
    }

    fn from_layer<F: Kernels>(layer: &FastGru<F>) -> Gru {
        Gru {
            W_xh: widen(&layer.W_xh),
            W_hh: widen(&layer.W_hh),
            b_h: widen(&layer.b_h),
        }
    }
}

/// What the GRU's forward pass records, plus the backward pass's buffers.
#[derive(Clone, Debug)]
pub struct GruCache<F: Kernels> {
    T: usize,
    B: usize,
    H: usize,
    /// 3H × T·B: [z; r; h̃] of step t in columns tB..(t+1)B.
    A: DMatrix<F>,
    /// H × T·B: r_t ∗ h_{t−1}.
    rh: DMatrix<F>,
    /// H × (T+1)·B: h_0 … h_T.
    h: DMatrix<F>,
    /// 3H × T·B: ∂E/∂(pre-activation) of z, r and h̃.
    dA: DMatrix<F>,
    /// H × B: ∂E/∂h_t arriving from step t+1.
    dh_next: DMatrix<F>,
    /// H × B: ∂E/∂(r_t ∗ h_{t−1}).
    drh: DMatrix<F>,
    /// 3H × 1: Σ_t of dA's columns.
    db: DMatrix<F>,
    /// W_hhᵀ and W_xhᵀ, for the backward pass's transposed products
    /// ([`Kernels::transpose_into`]).
    Wt: [DMatrix<F>; 2],
}

impl<F: Kernels> Cache<F> for GruCache<F> {
    fn sequences(&self) -> (usize, usize, &[DMatrix<F>]) {
        (self.T, self.B, std::slice::from_ref(&self.h))
    }
    fn sequences_mut(&mut self) -> (usize, usize, &mut [DMatrix<F>]) {
        (self.T, self.B, std::slice::from_mut(&mut self.h))
    }
}

impl<F: Kernels> Layer<F> for FastGru<F> {
    type Cache = GruCache<F>;

    fn weights(&self) -> [&DMatrix<F>; 3] {
        [&self.W_xh, &self.W_hh, &self.b_h]
    }

    fn weights_mut(&mut self) -> [&mut DMatrix<F>; 3] {
        [&mut self.W_xh, &mut self.W_hh, &mut self.b_h]
    }

    fn fast_cache(&self, T: usize, B: usize) -> GruCache<F> {
        let H = self.hidden_size();
        GruCache {
            T,
            B,
            H,
            A: DMatrix::zeros(3 * H, T * B),
            rh: DMatrix::zeros(H, T * B),
            h: DMatrix::zeros(H, (T + 1) * B),
            dA: DMatrix::zeros(3 * H, T * B),
            dh_next: DMatrix::zeros(H, B),
            drh: DMatrix::zeros(H, B),
            db: DMatrix::zeros(3 * H, 1),
            Wt: [DMatrix::zeros(0, 0), DMatrix::zeros(0, 0)],
        }
    }

    fn forward_fast(&self, X: DMatrixView<'_, F>, cache: &mut GruCache<F>) {
        let one = F::one();
        let (T, B, H) = (cache.T, cache.B, cache.H);
        assert_eq!(H, self.hidden_size(), "a cache of another hidden size");
        // The x_t columns of W_z, W_r and W (plus biases) for all T steps: one GEMM.
        input_part(&self.W_xh, &self.b_h, &X, cache.A.columns_mut(0, T * B));
        let W_hh_zr = self.W_hh.rows(Z * H, 2 * H); // 2H × H, applied to h_{t−1}
        let W_hh_n = self.W_hh.rows(N * H, H); //      H × H, applied to r_t ∗ h_{t−1}
        let n = B * H;
        for t in 0..T {
            // + the h_{t−1} columns of W_z and W_r: one 2H × H product.
            F::step_product(
                one,
                W_hh_zr,
                cache.h.columns(t * B, B),
                one,
                cache.A.view_mut((Z * H, t * B), (2 * H, B)),
            );
            let h_prev = &cache.h.as_slice()[t * n..(t + 1) * n];
            let rh_t = &mut cache.rh.as_mut_slice()[t * n..(t + 1) * n];
            let A_t = &mut cache.A.as_mut_slice()[t * 3 * n..(t + 1) * 3 * n];
            for (j, a) in A_t.chunks_exact_mut(3 * H).enumerate() {
                let (z, a) = a.split_at_mut(H);
                let r = &mut a[..H];
                let cols = j * H..(j + 1) * H;
                let (h_prev, rh_t) = (&h_prev[cols.clone()], &mut rh_t[cols]);
                reset_gates(z, r, h_prev, rh_t);
            }
            // + the h-columns of W applied to r_t ∗ h_{t−1}.
            F::step_product(
                one,
                W_hh_n,
                cache.rh.columns(t * B, B),
                one,
                cache.A.view_mut((N * H, t * B), (H, B)),
            );
            let (h_prev, h_t) = cache.h.as_mut_slice()[t * n..(t + 2) * n].split_at_mut(n);
            let A_t = &mut cache.A.as_mut_slice()[t * 3 * n..(t + 1) * 3 * n];
            for (j, a) in A_t.chunks_exact_mut(3 * H).enumerate() {
                let (z, a) = a.split_at_mut(H);
                let h_tilde = &mut a[H..2 * H];
                let cols = j * H..(j + 1) * H;
                let (h_prev, h_t) = (&h_prev[cols.clone()], &mut h_t[cols]);
                update(z, h_tilde, h_prev, h_t);
            }
        }
    }

    fn backward_fast(
        &self,
        X: DMatrixView<'_, F>,
        cache: &mut GruCache<F>,
        dH: DMatrixView<'_, F>,
        grads: &mut Grads<F>,
        dX: Option<&mut DMatrix<F>>,
    ) {
        let (zero, one) = (F::zero(), F::one());
        let (T, B, H) = (cache.T, cache.B, cache.H);
        assert_eq!(dH.shape(), (H, T * B), "dH is H × T·B");
        let W_hh_zr = self.W_hh.rows(Z * H, 2 * H);
        let W_hh_n = self.W_hh.rows(N * H, H);
        F::transpose_into(&self.W_hh, &mut cache.Wt[0]);
        F::transpose_into(&self.W_xh, &mut cache.Wt[1]);
        let n = B * H;
        cache.dh_next.fill(zero);
        for t in (0..T).rev() {
            let h_prev = &cache.h.as_slice()[t * n..(t + 1) * n];
            {
                let A_t = &cache.A.as_slice()[t * 3 * n..(t + 1) * 3 * n];
                let dA_t = &mut cache.dA.as_mut_slice()[t * 3 * n..(t + 1) * 3 * n];
                let dh_next = cache.dh_next.as_mut_slice();
                for (j, (a, da)) in A_t
                    .chunks_exact(3 * H)
                    .zip(dA_t.chunks_exact_mut(3 * H))
                    .enumerate()
                {
                    let (z, a) = a.split_at(H);
                    let h_tilde = &a[H..];
                    let (da_z, da) = da.split_at_mut(H);
                    let da_n = &mut da[H..];
                    let dH_tj = dH.column(t * B + j);
                    let cols = j * H..(j + 1) * H;
                    let (h_prev, dh_next) = (&h_prev[cols.clone()], &mut dh_next[cols]);
                    for k in 0..H {
                        // h_t feeds the layer above (dH) and step t+1.
                        let dh = dH_tj[k] + dh_next[k];
                        // h_t = (1 − z_t) ∗ h_{t−1} + z_t ∗ h̃_t:
                        //   ∂/∂z_t = h̃_t − h_{t−1},  ∂/∂h̃_t = z_t,  ∂/∂h_{t−1} (direct) = 1 − z_t.
                        da_z[k] = dh * (h_tilde[k] - h_prev[k]) * sigmoid_grad(z[k]);
                        da_n[k] = dh * z[k] * tanh_grad(h_tilde[k]);
                        dh_next[k] = dh * (one - z[k]); // ∂E/∂h_{t−1} so far
                    }
                }
            }
            // h̃_t = tanh(W · [r_t ∗ h_{t−1}, x_t])  ⇒  ∂E/∂(r_t ∗ h_{t−1}) = W_hᵀ ∂E/∂a^h̃.
            F::step_product_tn(
                one,
                W_hh_n,
                cache.Wt[0].columns(N * H, H), // W_hh_nᵀ
                cache.dA.view((N * H, t * B), (H, B)),
                zero,
                cache.drh.as_view_mut(),
            );
            {
                let A_t = &cache.A.as_slice()[t * 3 * n..(t + 1) * 3 * n];
                let dA_t = &mut cache.dA.as_mut_slice()[t * 3 * n..(t + 1) * 3 * n];
                let drh = cache.drh.as_slice();
                let dh_next = cache.dh_next.as_mut_slice();
                for (j, (a, da)) in A_t
                    .chunks_exact(3 * H)
                    .zip(dA_t.chunks_exact_mut(3 * H))
                    .enumerate()
                {
                    let r = &a[H..2 * H];
                    let da_r = &mut da[H..2 * H];
                    let cols = j * H..(j + 1) * H;
                    let (h_prev, drh, dh_next) = (
                        &h_prev[cols.clone()],
                        &drh[cols.clone()],
                        &mut dh_next[cols],
                    );
                    for k in 0..H {
                        // r_t ∗ h_{t−1}: ∂/∂r_t = h_{t−1}, ∂/∂h_{t−1} = r_t; r_t = σ(a^r).
                        da_r[k] = drh[k] * h_prev[k] * sigmoid_grad(r[k]);
                        dh_next[k] += drh[k] * r[k];
                    }
                }
            }
            // h_{t−1} also entered z_t and r_t: ∂E/∂h_{t−1} += [W^z_hh; W^r_hh]ᵀ [da^z; da^r].
            F::step_product_tn(
                one,
                W_hh_zr,
                cache.Wt[0].columns(Z * H, 2 * H), // W_hh_zrᵀ
                cache.dA.view((Z * H, t * B), (2 * H, B)),
                one,
                cache.dh_next.as_view_mut(),
            );
        }
        // Recurrent weight gradients for all steps in one product each:
        // d[W^z_hh; W^r_hh] = Σ_t [da^z; da^r]_t h_{t−1}ᵀ,  dW^h̃_hh = Σ_t da^h̃_t (r_t ∗ h_{t−1})ᵀ.
        gemm_nt(
            one,
            &cache.dA.rows(Z * H, 2 * H),
            &cache.h.columns(0, T * B),
            one,
            &mut grads.dW_hh.rows_mut(Z * H, 2 * H),
        );
        gemm_nt(
            one,
            &cache.dA.rows(N * H, H),
            &cache.rh,
            one,
            &mut grads.dW_hh.rows_mut(N * H, H),
        );
        // dW_xh = Σ_t dA_t x_tᵀ, db_h = Σ_t dA_t 1, dx_t = W_xhᵀ dA_t.
        let Wt_xh = cache.Wt[1].as_view();
        input_part_backward(&self.W_xh, Wt_xh, &cache.dA, &X, grads, &mut cache.db, dX);
    }
}

/// z_t, r_t from their pre-activations (in place) and r_t ∗ h_{t−1}, for one example (slices of
/// length H). Compiled for AVX-512 and AVX2 as well (same bits, see [`super::lstm`]).
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2"))]
fn reset_gates<F: Kernels>(z: &mut [F], r: &mut [F], h_prev: &[F], rh_t: &mut [F]) {
    reset_gates_body(z, r, h_prev, rh_t);
}

/// The one loop of [`reset_gates`].
#[inline(always)]
fn reset_gates_body<F: Kernels>(z: &mut [F], r: &mut [F], h_prev: &[F], rh_t: &mut [F]) {
    let H = z.len();
    let (r, h_prev, rh_t) = (&mut r[..H], &h_prev[..H], &mut rh_t[..H]);
    for k in 0..H {
        z[k] = F::fast_sigmoid(z[k]); // z_t = σ(W_z · [h_{t−1}, x_t])
        r[k] = F::fast_sigmoid(r[k]); // r_t = σ(W_r · [h_{t−1}, x_t])
        rh_t[k] = r[k] * h_prev[k]; // r_t ∗ h_{t−1}
    }
}

/// h̃_t from its pre-activation (in place) and h_t, for one example (slices of length H).
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2"))]
fn update<F: Kernels>(z: &[F], h_tilde: &mut [F], h_prev: &[F], h_t: &mut [F]) {
    update_body(z, h_tilde, h_prev, h_t);
}

/// The one loop of [`update`].
#[inline(always)]
fn update_body<F: Kernels>(z: &[F], h_tilde: &mut [F], h_prev: &[F], h_t: &mut [F]) {
    let H = z.len();
    let (h_tilde, h_prev, h_t) = (&mut h_tilde[..H], &h_prev[..H], &mut h_t[..H]);
    for k in 0..H {
        h_tilde[k] = F::fast_tanh(h_tilde[k]); // h̃_t = tanh(W · [r_t ∗ h_{t−1}, x_t])
        h_t[k] = (F::one() - z[k]) * h_prev[k] + z[k] * h_tilde[k]; // h_t = (1 − z_t) ∗ h_{t−1} + z_t ∗ h̃_t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dispatched loops give the bits of the baseline build of the same bodies.
    #[test]
    fn gate_loops_give_the_same_bits_on_every_path() {
        let H = 37;
        let a = shared::init::uniform(4 * H, 1, -4.0, 4.0, &mut shared::rng::seeded(2));
        let run = |dispatched: bool| {
            let mut a = a.as_slice().to_vec();
            let (z, rest) = a.split_at_mut(H);
            let (r, rest) = rest.split_at_mut(H);
            let (h_tilde, h_prev) = rest.split_at_mut(H);
            let (mut rh, mut h) = (vec![0.0f64; H], vec![0.0; H]);
            if dispatched {
                reset_gates(z, r, h_prev, &mut rh);
                update(z, h_tilde, h_prev, &mut h);
            } else {
                reset_gates_body(z, r, h_prev, &mut rh);
                update_body(z, h_tilde, h_prev, &mut h);
            }
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            [bits(&a), bits(&rh), bits(&h)]
        };
        assert_eq!(run(true), run(false));
    }
}
