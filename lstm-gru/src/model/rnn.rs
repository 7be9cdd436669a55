//! The vanilla RNN of notes §6, s_t = tanh(U x_t + W s_{t−1} + b_h), written in the LSTM's
//! names so the three cells read alike:
//!
//! ```text
//! h_t = tanh(W_xh x_t + W_hh h_{t−1} + b_h)        (W_xh = U, W_hh = W, h = s)
//! ```
//!
//! Its only path from h_{t−1} to h_t goes through W_hh and tanh', so ∂h_T/∂h_1 is a product of
//! T − 1 such Jacobians: the vanishing gradient the notes name, and what the gates of
//! [`super::lstm`] and [`super::gru`] route around.

use super::{Cell, Grads, side_by_side};
use nalgebra::DMatrix;
use shared::activation::tanh_grad;
use shared::rng::Rng;

/// Vanilla RNN parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Rnn {
    /// H × D: the notes' U.
    pub W_xh: DMatrix<f64>,
    /// H × H: the notes' W.
    pub W_hh: DMatrix<f64>,
    /// H × 1: b_h.
    pub b_h: DMatrix<f64>,
}

/// What [`Rnn`]'s forward pass keeps for the backward pass.
#[derive(Clone, Debug)]
pub struct Cache {
    /// D × T·B: the input the pass ran on.
    pub X: DMatrix<f64>,
    /// B.
    pub B: usize,
    /// h_0 … h_T, each H × B.
    pub h: Vec<DMatrix<f64>>,
}

impl Cell for Rnn {
    const NAME: &'static str = "rnn";
    type Cache = Cache;

    /// Weights uniform in ±1/√H, bias 0.
    fn new(D: usize, H: usize, rng: &mut Rng) -> Self {
        Rnn {
            W_xh: shared::init::uniform_inv_sqrt(H, D, H, rng),
            W_hh: shared::init::uniform_inv_sqrt(H, H, H, rng),
            b_h: DMatrix::zeros(H, 1),
        }
    }

    fn weights(&self) -> [&DMatrix<f64>; 3] {
        [&self.W_xh, &self.W_hh, &self.b_h]
    }

    fn weights_mut(&mut self) -> [&mut DMatrix<f64>; 3] {
        [&mut self.W_xh, &mut self.W_hh, &mut self.b_h]
    }

    fn forward(&self, X: &DMatrix<f64>, B: usize, state: &[DMatrix<f64>]) -> Cache {
        let T = X.ncols() / B;
        let mut h = Vec::with_capacity(T + 1);
        h.push(state[0].clone()); // h_0: H × B
        for t in 0..T {
            let x_t = X.columns(t * B, B); // D × B
            // h_t = tanh(W_xh x_t + W_hh h_{t−1} + b_h)                         H × B
            let h_t = self.affine(0, x_t, &h[t]).map(f64::tanh);
            h.push(h_t);
        }
        let X = X.clone();
        Cache { X, B, h }
    }

    fn outputs(cache: &Cache) -> DMatrix<f64> {
        side_by_side(&cache.h[1..])
    }

    fn last_state(cache: &Cache) -> Vec<DMatrix<f64>> {
        vec![cache.h[cache.h.len() - 1].clone()]
    }

    fn backward(&self, cache: &Cache, dH: &DMatrix<f64>) -> (Grads, DMatrix<f64>) {
        let (X, B, H) = (&cache.X, cache.B, self.hidden_size());
        let mut grads = Grads::zeros(self);
        let mut dX = DMatrix::zeros(X.nrows(), X.ncols()); // D × T·B
        let mut dh_next = DMatrix::zeros(H, B); // ∂E/∂h_t from step t + 1 (none after T)
        for t in (0..cache.h.len() - 1).rev() {
            let (x_t, h_prev, h_t) = (X.columns(t * B, B), &cache.h[t], &cache.h[t + 1]);
            // h_t feeds the layer above (dH_t) and step t + 1                   H × B
            let dh = dH.columns(t * B, B) + &dh_next;
            // h_t = tanh(a_t)  ⇒  ∂E/∂a_t = dh ∘ (1 − h_t²)                      H × B
            let da = dh.component_mul(&h_t.map(tanh_grad));
            // a_t = W_xh x_t + W_hh h_{t−1} + b_h  ⇒  summed over t:
            grads.dW_xh += &da * x_t.transpose(); // H × D
            grads.dW_hh += &da * h_prev.transpose(); // H × H
            grads.db_h += da.column_sum(); // H × 1
            let dx_t = self.W_xh.transpose() * &da; // D × B
            dX.columns_mut(t * B, B).copy_from(&dx_t);
            dh_next = self.W_hh.transpose() * &da; // ∂E/∂h_{t−1}: H × B
        }
        (grads, dX)
    }
}
