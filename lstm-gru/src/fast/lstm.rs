//! The LSTM's engine pass (see [`crate::model::lstm`] for the equations): the four gates'
//! pre-activations of all steps in one 4H × T·B buffer (each example's column holds f, i, o, g),
//! the input part as one GEMM, the recurrent part as one 4H × H product per step, and the gates'
//! elementwise work in one loop per example and step.

use super::{
    Cache, FastCell, Grads, Kernels, Layer, input_part, input_part_backward, narrow, sigmoid_grad,
    tanh_grad, widen,
};
use crate::model::Lstm;
use multiversion::multiversion;
use nalgebra::{DMatrix, DMatrixView};
use shared::kernels::gemm_nt;

/// The LSTM's parameters in the engine's float type (see [`Lstm`]).
#[derive(Clone, Debug, PartialEq)]
pub struct FastLstm<F: Kernels> {
    /// 4H × D: W^f_xh, W^i_xh, W^o_xh, W^g_xh stacked as row blocks.
    pub W_xh: DMatrix<F>,
    /// 4H × H: W^f_hh, W^i_hh, W^o_hh, W^g_hh.
    pub W_hh: DMatrix<F>,
    /// 4H × 1: b^f_h, b^i_h, b^o_h, b^g_h.
    pub b_h: DMatrix<F>,
}

impl FastCell for Lstm {
    type Layer<F: Kernels> = FastLstm<F>;

    fn to_layer<F: Kernels>(&self) -> FastLstm<F> {
        FastLstm {
            W_xh: narrow(&self.W_xh),
            W_hh: narrow(&self.W_hh),
            b_h: narrow(&self.b_h),
        }
    }

    fn from_layer<F: Kernels>(layer: &FastLstm<F>) -> Lstm {
        Lstm {
            W_xh: widen(&layer.W_xh),
            W_hh: widen(&layer.W_hh),
            b_h: widen(&layer.b_h),
        }
    }
}

/// What the LSTM's forward pass records (all steps), plus the backward pass's buffers.
#[derive(Clone, Debug)]
pub struct LstmCache<F: Kernels> {
    T: usize,
    B: usize,
    H: usize,
    /// 4H × T·B: the gates [f; i; o; g] of step t in columns tB..(t+1)B (pre-activations
    /// until the step's nonlinearities overwrite them).
    A: DMatrix<F>,
    /// [h, c], each H × (T+1)·B: h_0 … h_T and c_0 … c_T.
    hc: [DMatrix<F>; 2],
    /// H × T·B: tanh(c_1) … tanh(c_T).
    tc: DMatrix<F>,
    /// 4H × T·B: ∂E/∂(pre-activation) of every gate, filled by the backward pass.
    dA: DMatrix<F>,
    /// H × B: ∂E/∂h_t arriving from step t+1.
    dh_next: DMatrix<F>,
    /// H × B: ∂E/∂c_t arriving from step t+1.
    dc_next: DMatrix<F>,
    /// 4H × 1: Σ_t of dA's columns.
    db: DMatrix<F>,
    /// W_hhᵀ and W_xhᵀ, for the backward pass's transposed products
    /// ([`Kernels::transpose_into`]).
    Wt: [DMatrix<F>; 2],
}

impl<F: Kernels> Cache<F> for LstmCache<F> {
    fn sequences(&self) -> (usize, usize, &[DMatrix<F>]) {
        (self.T, self.B, &self.hc)
    }
    fn sequences_mut(&mut self) -> (usize, usize, &mut [DMatrix<F>]) {
        (self.T, self.B, &mut self.hc)
    }
}

/// One example's slices of one LSTM step, each of length H: the four gates' pre-activations
/// (overwritten by the gates), c_{t−1}, and the c_t, tanh(c_t), h_t to fill.
struct Step<'a, F> {
    f: &'a mut [F],
    i: &'a mut [F],
    o: &'a mut [F],
    g: &'a mut [F],
    c_prev: &'a [F],
    c_t: &'a mut [F],
    tc_t: &'a mut [F],
    h_t: &'a mut [F],
}

/// The nonlinear part of one LSTM step for one example: the gates from their pre-activations
/// (in place), then c_t, tanh(c_t) and h_t. Compiled for AVX-512 and AVX2 as well, where σ and
/// tanh from `shared::kernels::fastmath` vectorise; the same bits on every path (no fused
/// multiply–adds).
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2"))]
fn gates<F: Kernels>(step: Step<'_, F>) {
    gates_body(step);
}

/// The one loop of [`gates`].
#[inline(always)]
fn gates_body<F: Kernels>(step: Step<'_, F>) {
    let Step {
        f,
        i,
        o,
        g,
        c_prev,
        c_t,
        tc_t,
        h_t,
    } = step;
    let H = f.len();
    let (i, o, g, c_prev) = (&mut i[..H], &mut o[..H], &mut g[..H], &c_prev[..H]);
    let (c_t, tc_t, h_t) = (&mut c_t[..H], &mut tc_t[..H], &mut h_t[..H]);
    for k in 0..H {
        f[k] = F::fast_sigmoid(f[k]); // f_t = σ(W^f_xh x_t + W^f_hh h_{t−1} + b^f_h)
        i[k] = F::fast_sigmoid(i[k]); // i_t = σ(W^i_xh x_t + W^i_hh h_{t−1} + b^i_h)
        o[k] = F::fast_sigmoid(o[k]); // o_t = σ(W^o_xh x_t + W^o_hh h_{t−1} + b^o_h)
        g[k] = F::fast_tanh(g[k]); //   g_t = tanh(W^g_xh x_t + W^g_hh h_{t−1} + b^g_h)
        c_t[k] = f[k] * c_prev[k] + i[k] * g[k]; // c_t = f_t ∘ c_{t−1} + i_t ∘ g_t
        tc_t[k] = F::fast_tanh(c_t[k]);
        h_t[k] = o[k] * tc_t[k]; // h_t = o_t ∘ tanh(c_t)
    }
}

/// One example's slices of one LSTM step for the backward pass, each of length H: the gates
/// f, i, o, g, c_{t−1}, tanh(c_t) and ∂E/∂h_t from above; the gates' ∂E/∂(pre-activation) to
/// fill, and ∂E/∂h_t, ∂E/∂c_t from step t+1 (∂E/∂c_{t−1} on return).
struct Back<'a, F> {
    gates: [&'a [F]; 4],
    c_prev: &'a [F],
    tc_t: &'a [F],
    dH_t: &'a [F],
    da: [&'a mut [F]; 4],
    dh_next: &'a [F],
    dc_next: &'a mut [F],
}

/// The elementwise part of one LSTM step's BPTT for one example, compiled for AVX-512 and
/// AVX2 as well (the same bits on every path, as [`gates`]).
#[multiversion(targets("x86_64+avx512f", "x86_64+avx2"))]
fn gates_backward<F: Kernels>(step: Back<'_, F>) {
    gates_backward_body(step);
}

/// The one loop of [`gates_backward`].
#[inline(always)]
fn gates_backward_body<F: Kernels>(step: Back<'_, F>) {
    let Back {
        gates: [f, i, o, g],
        c_prev,
        tc_t,
        dH_t: dH_tj,
        da: [da_f, da_i, da_o, da_g],
        dh_next,
        dc_next,
    } = step;
    let H = f.len();
    let (i, o, g, c_prev, tc_t) = (&i[..H], &o[..H], &g[..H], &c_prev[..H], &tc_t[..H]);
    let (da_f, da_i, da_o, da_g) = (
        &mut da_f[..H],
        &mut da_i[..H],
        &mut da_o[..H],
        &mut da_g[..H],
    );
    let (dH_tj, dh_next, dc_next) = (&dH_tj[..H], &dh_next[..H], &mut dc_next[..H]);
    for k in 0..H {
        // h_t feeds the layer above (dH) and step t+1 (through W_hh).
        let dh = dH_tj[k] + dh_next[k];
        // h_t = o_t ∘ tanh(c_t), o_t = σ(a^o)  ⇒  ∂E/∂a^o = dh ∘ tanh(c_t) ∘ o(1 − o).
        da_o[k] = dh * tc_t[k] * sigmoid_grad(o[k]);
        // c_t reaches E through h_t = o_t ∘ tanh(c_t) and c_{t+1} = f_{t+1} ∘ c_t + …
        let dc = dh * o[k] * tanh_grad(tc_t[k]) + dc_next[k];
        // c_t = f_t ∘ c_{t−1} + i_t ∘ g_t, then each gate's own nonlinearity.
        da_f[k] = dc * c_prev[k] * sigmoid_grad(f[k]);
        da_i[k] = dc * g[k] * sigmoid_grad(i[k]);
        da_g[k] = dc * i[k] * tanh_grad(g[k]);
        dc_next[k] = dc * f[k]; // ∂E/∂c_{t−1}, through f_t ∘ c_{t−1}
    }
}

impl<F: Kernels> Layer<F> for FastLstm<F> {
    type Cache = LstmCache<F>;

    fn weights(&self) -> [&DMatrix<F>; 3] {
        [&self.W_xh, &self.W_hh, &self.b_h]
    }

    fn weights_mut(&mut self) -> [&mut DMatrix<F>; 3] {
        [&mut self.W_xh, &mut self.W_hh, &mut self.b_h]
    }

    fn fast_cache(&self, T: usize, B: usize) -> LstmCache<F> {
        let H = self.hidden_size();
        LstmCache {
            T,
            B,
            H,
            A: DMatrix::zeros(4 * H, T * B),
            hc: [
                DMatrix::zeros(H, (T + 1) * B),
                DMatrix::zeros(H, (T + 1) * B),
            ],
            tc: DMatrix::zeros(H, T * B),
            dA: DMatrix::zeros(4 * H, T * B),
            dh_next: DMatrix::zeros(H, B),
            dc_next: DMatrix::zeros(H, B),
            db: DMatrix::zeros(4 * H, 1),
            Wt: [DMatrix::zeros(0, 0), DMatrix::zeros(0, 0)],
        }
    }

    fn forward_fast(&self, X: DMatrixView<'_, F>, cache: &mut LstmCache<F>) {
        let (T, B, H) = (cache.T, cache.B, cache.H);
        assert_eq!(H, self.hidden_size(), "a cache of another hidden size");
        // W^·_xh x_t + b^· _h of all four gates for all T steps: one GEMM.
        input_part(&self.W_xh, &self.b_h, &X, cache.A.columns_mut(0, T * B));
        let [h, c] = &mut cache.hc;
        let n = B * H; // entries of one state block h_t or c_t
        for t in 0..T {
            // + W^·_hh h_{t−1}: the four gates' recurrent terms as one 4H × H product.
            F::step_product(
                F::one(),
                self.W_hh.as_view(),
                h.columns(t * B, B),
                F::one(),
                cache.A.columns_mut(t * B, B),
            );
            let A_t = &mut cache.A.as_mut_slice()[t * 4 * n..(t + 1) * 4 * n]; // 4H × B
            let (c_prev, c_t) = c.as_mut_slice()[t * n..(t + 2) * n].split_at_mut(n);
            let tc_t = &mut cache.tc.as_mut_slice()[t * n..(t + 1) * n]; // H × B
            let h_t = &mut h.as_mut_slice()[(t + 1) * n..(t + 2) * n]; // H × B
            for (j, a) in A_t.chunks_exact_mut(4 * H).enumerate() {
                // Example j: its gates, and its columns of c_{t−1}, c_t, tanh(c_t), h_t.
                let (f, a) = a.split_at_mut(H);
                let (i, a) = a.split_at_mut(H);
                let (o, g) = a.split_at_mut(H);
                let cols = j * H..(j + 1) * H;
                let (c_prev, c_t) = (&c_prev[cols.clone()], &mut c_t[cols.clone()]);
                let (tc_t, h_t) = (&mut tc_t[cols.clone()], &mut h_t[cols]);
                gates(Step {
                    f,
                    i,
                    o,
                    g,
                    c_prev,
                    c_t,
                    tc_t,
                    h_t,
                });
            }
        }
    }

    fn backward_fast(
        &self,
        X: DMatrixView<'_, F>,
        cache: &mut LstmCache<F>,
        dH: DMatrixView<'_, F>,
        grads: &mut Grads<F>,
        dX: Option<&mut DMatrix<F>>,
    ) {
        let (T, B, H) = (cache.T, cache.B, cache.H);
        assert_eq!(dH.shape(), (H, T * B), "dH is H × T·B");
        let n = B * H;
        F::transpose_into(&self.W_hh, &mut cache.Wt[0]);
        F::transpose_into(&self.W_xh, &mut cache.Wt[1]);
        cache.dh_next.fill(F::zero()); // nothing arrives from beyond step T
        cache.dc_next.fill(F::zero());
        let [h, c] = &cache.hc;
        for t in (0..T).rev() {
            let A_t = &cache.A.as_slice()[t * 4 * n..(t + 1) * 4 * n]; // f, i, o, g
            let dA_t = &mut cache.dA.as_mut_slice()[t * 4 * n..(t + 1) * 4 * n];
            let c_prev = &c.as_slice()[t * n..(t + 1) * n];
            let tc_t = &cache.tc.as_slice()[t * n..(t + 1) * n];
            let dh_next = cache.dh_next.as_slice();
            let dc_next = cache.dc_next.as_mut_slice();
            for (j, (a, da)) in A_t
                .chunks_exact(4 * H)
                .zip(dA_t.chunks_exact_mut(4 * H))
                .enumerate()
            {
                let (f, a) = a.split_at(H);
                let (i, a) = a.split_at(H);
                let (o, g) = a.split_at(H);
                let (da_f, da) = da.split_at_mut(H);
                let (da_i, da) = da.split_at_mut(H);
                let (da_o, da_g) = da.split_at_mut(H);
                let dH_tj = dH.column(t * B + j);
                let cols = j * H..(j + 1) * H;
                let (c_prev, tc_t) = (&c_prev[cols.clone()], &tc_t[cols.clone()]);
                let (dh_next, dc_next) = (&dh_next[cols.clone()], &mut dc_next[cols]);
                gates_backward(Back {
                    gates: [f, i, o, g],
                    c_prev,
                    tc_t,
                    dH_t: dH_tj.as_slice(),
                    da: [da_f, da_i, da_o, da_g],
                    dh_next,
                    dc_next,
                });
            }
            // h_{t−1} entered all four gates through W_hh: ∂E/∂h_{t−1} = W_hhᵀ dA_t.
            F::step_product_tn(
                F::one(),
                self.W_hh.as_view(),
                cache.Wt[0].as_view(),
                cache.dA.columns(t * B, B),
                F::zero(),
                cache.dh_next.as_view_mut(),
            );
        }
        // dW_hh = Σ_t dA_t h_{t−1}ᵀ for all steps in one product (h_0 … h_{T−1} are the
        // first T·B columns of h).
        let one = F::one();
        gemm_nt(one, &cache.dA, &h.columns(0, T * B), one, &mut grads.dW_hh);
        // dW_xh = Σ_t dA_t x_tᵀ, db_h = Σ_t dA_t 1, dx_t = W_xhᵀ dA_t.
        let Wt_xh = cache.Wt[1].as_view();
        input_part_backward(&self.W_xh, Wt_xh, &cache.dA, &X, grads, &mut cache.db, dX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dispatched gate loop (AVX-512 or AVX2 where the CPU has them) gives the bits of the
    /// baseline build of the same body.
    #[test]
    fn gates_give_the_same_bits_on_every_path() {
        let H = 37;
        let a = shared::init::uniform(4 * H + H, 1, -4.0, 4.0, &mut shared::rng::seeded(1));
        let run = |dispatched: bool| {
            let mut a = a.as_slice().to_vec();
            let (gates4, c_prev) = a.split_at_mut(4 * H);
            let (f, rest) = gates4.split_at_mut(H);
            let (i, rest) = rest.split_at_mut(H);
            let (o, g) = rest.split_at_mut(H);
            let (mut c, mut tc, mut h) = (vec![0.0f64; H], vec![0.0; H], vec![0.0; H]);
            let step = Step {
                f,
                i,
                o,
                g,
                c_prev,
                c_t: &mut c,
                tc_t: &mut tc,
                h_t: &mut h,
            };
            if dispatched {
                gates(step);
            } else {
                gates_body(step);
            }
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            [bits(gates4), bits(&c), bits(&tc), bits(&h)]
        };
        assert_eq!(run(true), run(false));
    }
}
