//! The vanilla RNN of notes §6, s_t = f(U x_t + W s_{t−1} + b_h) with f = tanh or ReLU, written
//! in the LSTM's names so the three cells read alike:
//!
//! ```text
//! h_t = f(W_xh x_t + W_hh h_{t−1} + b_h)           (W_xh = U, W_hh = W, h = s)
//! ```
//!
//! Its only path from h_{t−1} to h_t goes through W_hh and f', so ∂h_T/∂h_1 is a product of
//! T − 1 such Jacobians diag(f'(a_t)) W_hh: the vanishing gradient the notes name, and what the
//! gates of [`super::lstm`] and [`super::gru`] route around. With f = ReLU, W_hh = I and b_h = 0
//! at the start (the IRNN of Le, Jaitly & Hinton 2015, [`Rnn::irnn`]) each Jacobian is the
//! identity on the units that are on: the product neither shrinks nor grows.

use super::{Bptt, Cell, Grads, side_by_side};
use nalgebra::DMatrix;
use shared::activation::{relu, relu_grad, tanh_grad};
use shared::rng::Rng;

/// The vanilla cell's f: the notes allow tanh or ReLU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Activation {
    /// f = tanh, f' = 1 − h².
    #[default]
    Tanh,
    /// f = max(0, ·), f' = 1 where h > 0, else 0.
    Relu,
}

impl Activation {
    /// f(a).
    pub fn f(self, a: f64) -> f64 {
        match self {
            Activation::Tanh => a.tanh(),
            Activation::Relu => relu(a),
        }
    }

    /// f'(a), from the output h = f(a).
    pub fn grad(self, h: f64) -> f64 {
        match self {
            Activation::Tanh => tanh_grad(h),
            Activation::Relu => relu_grad(h),
        }
    }

    /// "tanh" or "relu".
    pub fn name(self) -> &'static str {
        match self {
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
        }
    }
}

/// Vanilla RNN parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Rnn {
    /// H × D: the notes' U.
    pub W_xh: DMatrix<f64>,
    /// H × H: the notes' W.
    pub W_hh: DMatrix<f64>,
    /// H × 1: b_h.
    pub b_h: DMatrix<f64>,
    /// f: tanh or ReLU.
    pub f: Activation,
}

impl Rnn {
    /// The IRNN (Le, Jaitly & Hinton 2015): f = ReLU, W_hh = I, b_h = 0, so that at the start
    /// h_t = max(0, h_{t−1} + W_xh x_t) adds its inputs up and forgets nothing; W_xh from
    /// N(0, 0.001²): small, so that h_t starts near 0 (the paper's point is W_hh = I and
    /// b_h = 0; the input weights' scale is our choice).
    pub fn irnn(D: usize, H: usize, rng: &mut Rng) -> Self {
        Rnn {
            W_xh: shared::init::normal(H, D, 0.0, 1e-3, rng),
            W_hh: DMatrix::identity(H, H),
            b_h: DMatrix::zeros(H, 1),
            f: Activation::Relu,
        }
    }
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

    /// f = tanh, weights uniform in ±1/√H, bias 0 (the IRNN is [`Rnn::irnn`]).
    fn new(D: usize, H: usize, rng: &mut Rng) -> Self {
        Rnn {
            W_xh: shared::init::uniform_inv_sqrt(H, D, H, rng),
            W_hh: shared::init::uniform_inv_sqrt(H, H, H, rng),
            b_h: DMatrix::zeros(H, 1),
            f: Activation::Tanh,
        }
    }

    /// "rnn" (tanh) or "irnn" (ReLU).
    fn label(&self) -> &'static str {
        match self.f {
            Activation::Tanh => Self::NAME,
            Activation::Relu => "irnn",
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
            // h_t = f(W_xh x_t + W_hh h_{t−1} + b_h)                            H × B
            let h_t = self.affine(0, x_t, &h[t]).map(|a| self.f.f(a));
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

    fn backward_states(&self, cache: &Cache, dH: &DMatrix<f64>) -> Bptt {
        let (X, B, H) = (&cache.X, cache.B, self.hidden_size());
        let mut grads = Grads::zeros(self);
        let mut dX = DMatrix::zeros(X.nrows(), X.ncols()); // D × T·B
        let mut dh_all = vec![DMatrix::zeros(H, B); cache.h.len()]; // ∂E/∂h_0 … ∂E/∂h_T
        let mut dh_next = DMatrix::zeros(H, B); // ∂E/∂h_t from step t + 1 (none after T)
        for t in (0..cache.h.len() - 1).rev() {
            let (x_t, h_prev, h_t) = (X.columns(t * B, B), &cache.h[t], &cache.h[t + 1]);
            // h_t feeds the layer above (dH_t) and step t + 1                   H × B
            let dh = dH.columns(t * B, B) + &dh_next;
            // h_t = f(a_t)  ⇒  ∂E/∂a_t = dh ∘ f'(a_t) (tanh: 1 − h_t²; ReLU: [h_t > 0]) H × B
            let da = dh.component_mul(&h_t.map(|h| self.f.grad(h)));
            // a_t = W_xh x_t + W_hh h_{t−1} + b_h  ⇒  summed over t:
            grads.dW_xh += &da * x_t.transpose(); // H × D
            grads.dW_hh += &da * h_prev.transpose(); // H × H
            grads.db_h += da.column_sum(); // H × 1
            let dx_t = self.W_xh.transpose() * &da; // D × B
            dX.columns_mut(t * B, B).copy_from(&dx_t);
            dh_next = self.W_hh.transpose() * &da; // ∂E/∂h_{t−1}: H × B
            dh_all[t + 1] = dh;
        }
        Bptt::ending_at(grads, dX, dh_all, dh_next)
    }
}
