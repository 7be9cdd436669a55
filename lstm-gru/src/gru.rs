//! The GRU cell as the notes write it (§6, Colah's figure; Cho et al. 2014, arXiv:1406.1078):
//!
//! ```text
//! z_t = σ(W_z · [h_{t−1}, x_t])
//! r_t = σ(W_r · [h_{t−1}, x_t])
//! h̃_t = tanh(W · [r_t ∗ h_{t−1}, x_t])
//! h_t = (1 − z_t) ∗ h_{t−1} + z_t ∗ h̃_t
//! ```
//!
//! The concatenation is split as for the LSTM: W_z · [h, x] = W^z_hh h + W^z_xh x, with the
//! three blocks z, r, h̃ stacked as rows of `W_xh` (3H × D) and `W_hh` (3H × H).
//!
//! One departure: biases b^z, b^r, b^h̃ are added, as the notes' LSTM has them (Colah's GRU
//! has none). They start at 0, so an untrained cell computes exactly the notes' equations.
//!
//! **Where PyTorch differs.** `nn.GRU` (like Britz's tutorial) weights the two terms the other
//! way round, h_t = (1 − z_t) ∗ h̃_t + z_t ∗ h_{t−1}: its z is our 1 − z. It also applies r
//! *after* the recurrent product, h̃_t = tanh(W_in x_t + b_in + r_t ∗ (W_hn h_{t−1} + b_hn)),
//! and keeps two bias vectors, so its numbers match neither form bit for bit. Here z → 0 keeps
//! the old state and z → 1 replaces it by the candidate.

use crate::{Cell, Tape, input_part, input_part_backward, step_product, step_product_tn};
use crate::{sigmoid, tanh, with_avx2};
use nalgebra::{DMatrix, DMatrixView};
use shared::activation::{sigmoid_grad, tanh_grad};
use shared::kernels::gemm_nt;
use shared::rng::Rng;

/// Row block of the update gate z in `W_xh`, `W_hh`, `b_h` (block k is rows kH..(k+1)H).
pub const Z: usize = 0;
/// Row block of the reset gate r.
pub const R: usize = 1;
/// Row block of the candidate h̃ (its `W_hh` block multiplies r ∗ h_{t−1}).
pub const N: usize = 2;

/// GRU parameters (or, for a gradient buffer, their gradients).
#[derive(Clone, Debug, PartialEq)]
pub struct Gru {
    /// 3H × D: the x-columns of W_z, W_r and W, stacked as row blocks z, r, h̃.
    pub W_xh: DMatrix<f64>,
    /// 3H × H: the h-columns of W_z, W_r (applied to h_{t−1}) and W (applied to r ∗ h_{t−1}).
    pub W_hh: DMatrix<f64>,
    /// 3H × 1: b^z, b^r, b^h̃ (not in the notes; zero at the start).
    pub b_h: DMatrix<f64>,
}

/// What the GRU's forward pass records, plus the backward pass's buffers.
#[derive(Clone, Debug)]
pub struct GruTape {
    T: usize,
    B: usize,
    H: usize,
    /// 3H × T·B: [z; r; h̃] of step t in columns tB..(t+1)B.
    A: DMatrix<f64>,
    /// H × T·B: r_t ∗ h_{t−1}.
    rh: DMatrix<f64>,
    /// H × (T+1)·B: h_0 … h_T.
    h: DMatrix<f64>,
    /// 3H × T·B: ∂E/∂(pre-activation) of z, r and h̃.
    dA: DMatrix<f64>,
    /// H × B: ∂E/∂h_t arriving from step t+1.
    dh_next: DMatrix<f64>,
    /// H × B: ∂E/∂(r_t ∗ h_{t−1}).
    drh: DMatrix<f64>,
}

impl GruTape {
    /// 3H × T·B: [z; r; h̃] of every step.
    pub fn gates(&self) -> DMatrixView<'_, f64> {
        self.A.columns(0, self.A.ncols())
    }
    /// Sets h_0 (H × B), e.g. to test a carried state.
    pub fn set_initial(&mut self, h0: &DMatrix<f64>) {
        self.h.columns_mut(0, self.B).copy_from(h0);
    }
}

impl Tape for GruTape {
    fn steps(&self) -> usize {
        self.T
    }
    fn batch(&self) -> usize {
        self.B
    }
    fn outputs(&self) -> DMatrixView<'_, f64> {
        self.h.columns(self.B, self.T * self.B)
    }
    fn h(&self, t: usize) -> DMatrixView<'_, f64> {
        self.h.columns(t * self.B, self.B)
    }
    fn carry(&mut self) {
        crate::carry_last_block(&mut self.h, self.T, self.B);
    }
    fn reset(&mut self) {
        self.h.columns_mut(0, self.B).fill(0.0);
    }
    fn initial_state(&self) -> Vec<DMatrix<f64>> {
        vec![self.h.columns(0, self.B).into_owned()]
    }
    fn set_initial_state(&mut self, state: &[DMatrix<f64>]) -> shared::Result<()> {
        let B = self.B;
        crate::copy_state(state, vec![self.h.columns_mut(0, B)])
    }
}

impl Cell for Gru {
    const NAME: &'static str = "gru";
    type Tape = GruTape;

    /// Weights uniform in ±1/√H, biases 0.
    fn new(D: usize, H: usize, rng: &mut Rng) -> Self {
        Gru {
            W_xh: shared::init::uniform_inv_sqrt(3 * H, D, H, rng),
            W_hh: shared::init::uniform_inv_sqrt(3 * H, H, H, rng),
            b_h: DMatrix::zeros(3 * H, 1),
        }
    }

    fn input_size(&self) -> usize {
        self.W_xh.ncols()
    }

    fn hidden_size(&self) -> usize {
        self.W_hh.ncols()
    }

    fn tape(&self, T: usize, B: usize) -> GruTape {
        let H = self.hidden_size();
        GruTape {
            T,
            B,
            H,
            A: DMatrix::zeros(3 * H, T * B),
            rh: DMatrix::zeros(H, T * B),
            h: DMatrix::zeros(H, (T + 1) * B),
            dA: DMatrix::zeros(3 * H, T * B),
            dh_next: DMatrix::zeros(H, B),
            drh: DMatrix::zeros(H, B),
        }
    }

    fn forward(&self, X: DMatrixView<'_, f64>, tape: &mut GruTape) {
        let (T, B, H) = (tape.T, tape.B, tape.H);
        assert_eq!(H, self.hidden_size(), "tape of another hidden size");
        // The x_t columns of W_z, W_r and W (plus biases) for all T steps: one GEMM.
        input_part(&self.W_xh, &self.b_h, &X, tape.A.columns_mut(0, T * B));
        let W_hh_zr = self.W_hh.rows(Z * H, 2 * H); // 2H × H, applied to h_{t−1}
        let W_hh_n = self.W_hh.rows(N * H, H); //      H × H, applied to r_t ∗ h_{t−1}
        let n = B * H;
        for t in 0..T {
            // + the h_{t−1} columns of W_z and W_r: one 2H × H product.
            step_product(
                1.0,
                W_hh_zr,
                tape.h.columns(t * B, B),
                1.0,
                tape.A.view_mut((Z * H, t * B), (2 * H, B)),
            );
            let h_prev = &tape.h.as_slice()[t * n..(t + 1) * n];
            let rh_t = &mut tape.rh.as_mut_slice()[t * n..(t + 1) * n];
            let A_t = &mut tape.A.as_mut_slice()[t * 3 * n..(t + 1) * 3 * n];
            for (j, a) in A_t.chunks_exact_mut(3 * H).enumerate() {
                let (z, a) = a.split_at_mut(H);
                let r = &mut a[..H];
                let cols = j * H..(j + 1) * H;
                let (h_prev, rh_t) = (&h_prev[cols.clone()], &mut rh_t[cols]);
                with_avx2(|| {
                    for k in 0..H {
                        z[k] = sigmoid(z[k]); // z_t = σ(W_z · [h_{t−1}, x_t])
                        r[k] = sigmoid(r[k]); // r_t = σ(W_r · [h_{t−1}, x_t])
                        rh_t[k] = r[k] * h_prev[k]; // r_t ∗ h_{t−1}
                    }
                });
            }
            // + the h-columns of W applied to r_t ∗ h_{t−1}.
            step_product(
                1.0,
                W_hh_n,
                tape.rh.columns(t * B, B),
                1.0,
                tape.A.view_mut((N * H, t * B), (H, B)),
            );
            let (h_prev, h_t) = tape.h.as_mut_slice()[t * n..(t + 2) * n].split_at_mut(n);
            let A_t = &mut tape.A.as_mut_slice()[t * 3 * n..(t + 1) * 3 * n];
            for (j, a) in A_t.chunks_exact_mut(3 * H).enumerate() {
                let (z, a) = a.split_at_mut(H);
                let h_tilde = &mut a[H..2 * H];
                let cols = j * H..(j + 1) * H;
                let (h_prev, h_t) = (&h_prev[cols.clone()], &mut h_t[cols]);
                with_avx2(|| {
                    for k in 0..H {
                        h_tilde[k] = tanh(h_tilde[k]); // h̃_t = tanh(W · [r_t ∗ h_{t−1}, x_t])
                        h_t[k] = (1.0 - z[k]) * h_prev[k] + z[k] * h_tilde[k]; // h_t = (1 − z_t) ∗ h_{t−1} + z_t ∗ h̃_t
                    }
                });
            }
        }
    }

    fn backward(
        &self,
        X: DMatrixView<'_, f64>,
        tape: &mut GruTape,
        dH: DMatrixView<'_, f64>,
        grad: &mut Gru,
        dX: Option<&mut DMatrix<f64>>,
    ) {
        let (T, B, H) = (tape.T, tape.B, tape.H);
        assert_eq!(dH.shape(), (H, T * B), "dH is H × T·B");
        let W_hh_zr = self.W_hh.rows(Z * H, 2 * H);
        let W_hh_n = self.W_hh.rows(N * H, H);
        let n = B * H;
        tape.dh_next.fill(0.0);
        for t in (0..T).rev() {
            let h_prev = &tape.h.as_slice()[t * n..(t + 1) * n];
            {
                let A_t = &tape.A.as_slice()[t * 3 * n..(t + 1) * 3 * n];
                let dA_t = &mut tape.dA.as_mut_slice()[t * 3 * n..(t + 1) * 3 * n];
                let dh_next = tape.dh_next.as_mut_slice();
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
                        dh_next[k] = dh * (1.0 - z[k]); // ∂E/∂h_{t−1} so far
                    }
                }
            }
            // h̃_t = tanh(W · [r_t ∗ h_{t−1}, x_t])  ⇒  ∂E/∂(r_t ∗ h_{t−1}) = W_hᵀ ∂E/∂a^h̃.
            step_product_tn(
                1.0,
                W_hh_n,
                tape.dA.view((N * H, t * B), (H, B)),
                0.0,
                tape.drh.as_view_mut(),
            );
            {
                let A_t = &tape.A.as_slice()[t * 3 * n..(t + 1) * 3 * n];
                let dA_t = &mut tape.dA.as_mut_slice()[t * 3 * n..(t + 1) * 3 * n];
                let drh = tape.drh.as_slice();
                let dh_next = tape.dh_next.as_mut_slice();
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
            step_product_tn(
                1.0,
                W_hh_zr,
                tape.dA.view((Z * H, t * B), (2 * H, B)),
                1.0,
                tape.dh_next.as_view_mut(),
            );
        }
        // Recurrent weight gradients for all steps in one product each:
        // d[W^z_hh; W^r_hh] = Σ_t [da^z; da^r]_t h_{t−1}ᵀ,  dW^h̃_hh = Σ_t da^h̃_t (r_t ∗ h_{t−1})ᵀ.
        gemm_nt(
            1.0,
            &tape.dA.rows(Z * H, 2 * H),
            &tape.h.columns(0, T * B),
            1.0,
            &mut grad.W_hh.rows_mut(Z * H, 2 * H),
        );
        gemm_nt(
            1.0,
            &tape.dA.rows(N * H, H),
            &tape.rh,
            1.0,
            &mut grad.W_hh.rows_mut(N * H, H),
        );
        // dW_xh = Σ_t dA_t x_tᵀ, db_h = Σ_t dA_t 1, dx_t = W_xhᵀ dA_t.
        input_part_backward(&self.W_xh, &tape.dA, &X, &mut grad.W_xh, &mut grad.b_h, dX);
    }

    fn params(&self) -> Vec<(&'static str, &DMatrix<f64>)> {
        vec![
            ("W_xh", &self.W_xh),
            ("W_hh", &self.W_hh),
            ("b_h", &self.b_h),
        ]
    }

    fn params_mut(&mut self) -> Vec<&mut DMatrix<f64>> {
        vec![&mut self.W_xh, &mut self.W_hh, &mut self.b_h]
    }
}
