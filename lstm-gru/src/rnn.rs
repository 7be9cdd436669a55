//! The vanilla RNN of notes §6, s_t = tanh(U x_t + W s_{t−1} + b_h), written in the LSTM's
//! names so the three cells read alike: h_t = tanh(W_xh x_t + W_hh h_{t−1} + b_h)
//! (W_xh = U, W_hh = W, h = s). Its only path from h_{t−1} to h_t goes through W_hh and
//! tanh', so ∂h_T/∂h_1 is a product of T − 1 such Jacobians: the vanishing gradient the notes
//! name, and what the gates of [`crate::lstm`] and [`crate::gru`] route around.

use crate::{Cell, Tape, input_part, input_part_backward, step_product, step_product_tn};
use nalgebra::{DMatrix, DMatrixView};
use shared::activation::tanh_grad;
use shared::kernels::gemm_nt;
use shared::rng::Rng;

/// Vanilla RNN parameters (or, for a gradient buffer, their gradients).
#[derive(Clone, Debug, PartialEq)]
pub struct Rnn {
    /// H × D: the notes' U.
    pub W_xh: DMatrix<f64>,
    /// H × H: the notes' W.
    pub W_hh: DMatrix<f64>,
    /// H × 1: b_h.
    pub b_h: DMatrix<f64>,
}

/// What the vanilla RNN's forward pass records, plus the backward pass's buffers.
#[derive(Clone, Debug)]
pub struct RnnTape {
    T: usize,
    B: usize,
    H: usize,
    /// H × (T+1)·B: h_0 … h_T.
    h: DMatrix<f64>,
    /// H × T·B: ∂E/∂(pre-activation).
    dA: DMatrix<f64>,
    /// H × B: ∂E/∂h_t arriving from step t+1.
    dh_next: DMatrix<f64>,
}

impl RnnTape {
    /// Sets h_0 (H × B).
    pub fn set_initial(&mut self, h0: &DMatrix<f64>) {
        self.h.columns_mut(0, self.B).copy_from(h0);
    }
}

impl Tape for RnnTape {
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

impl Cell for Rnn {
    const NAME: &'static str = "rnn";
    type Tape = RnnTape;

    /// Weights uniform in ±1/√H, bias 0.
    fn new(D: usize, H: usize, rng: &mut Rng) -> Self {
        Rnn {
            W_xh: shared::init::uniform_inv_sqrt(H, D, H, rng),
            W_hh: shared::init::uniform_inv_sqrt(H, H, H, rng),
            b_h: DMatrix::zeros(H, 1),
        }
    }

    fn input_size(&self) -> usize {
        self.W_xh.ncols()
    }

    fn hidden_size(&self) -> usize {
        self.W_hh.ncols()
    }

    fn tape(&self, T: usize, B: usize) -> RnnTape {
        let H = self.hidden_size();
        RnnTape {
            T,
            B,
            H,
            h: DMatrix::zeros(H, (T + 1) * B),
            dA: DMatrix::zeros(H, T * B),
            dh_next: DMatrix::zeros(H, B),
        }
    }

    fn forward(&self, X: DMatrixView<'_, f64>, tape: &mut RnnTape) {
        let (T, B, H) = (tape.T, tape.B, tape.H);
        assert_eq!(H, self.hidden_size(), "tape of another hidden size");
        // W_xh x_t + b_h for all steps at once, written straight into h_1 … h_T.
        input_part(&self.W_xh, &self.b_h, &X, tape.h.columns_mut(B, T * B));
        for t in 0..T {
            let (h_prev, mut h_t) = tape
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
            let h_t = &mut tape.h.as_mut_slice()[(t + 1) * n..(t + 2) * n];
            shared::kernels::fastmath::tanh_mut(h_t); // h_t = tanh(W_xh x_t + W_hh h_{t−1} + b_h)
        }
    }

    fn backward(
        &self,
        X: DMatrixView<'_, f64>,
        tape: &mut RnnTape,
        dH: DMatrixView<'_, f64>,
        grad: &mut Rnn,
        dX: Option<&mut DMatrix<f64>>,
    ) {
        let (T, B, H) = (tape.T, tape.B, tape.H);
        assert_eq!(dH.shape(), (H, T * B), "dH is H × T·B");
        let n = B * H;
        tape.dh_next.fill(0.0);
        for t in (0..T).rev() {
            let h_t = &tape.h.as_slice()[(t + 1) * n..(t + 2) * n];
            let dA_t = &mut tape.dA.as_mut_slice()[t * n..(t + 1) * n];
            let dh_next = tape.dh_next.as_slice();
            for (j, da) in dA_t.chunks_exact_mut(H).enumerate() {
                let dH_tj = dH.column(t * B + j);
                for k in 0..H {
                    // h_t = tanh(a_t), h_t feeds the layer above and step t+1.
                    da[k] = (dH_tj[k] + dh_next[j * H + k]) * tanh_grad(h_t[j * H + k]);
                }
            }
            // ∂E/∂h_{t−1} = W_hhᵀ ∂E/∂a_t.
            step_product_tn(
                1.0,
                self.W_hh.as_view(),
                tape.dA.columns(t * B, B),
                0.0,
                tape.dh_next.as_view_mut(),
            );
        }
        // dW_hh = Σ_t da_t h_{t−1}ᵀ in one product.
        gemm_nt(
            1.0,
            &tape.dA,
            &tape.h.columns(0, T * B),
            1.0,
            &mut grad.W_hh,
        );
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
