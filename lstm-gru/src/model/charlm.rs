//! The notes' output layer on a stack, as a character language model (Karpathy's char-rnn
//! setting, which the notes cite for "multi-layer RNN or LSTM"):
//!
//! ```text
//! x_t = onehot(character t)
//! y_t = Softmax(W_hy h_t + b_y)                  h_t: the top layer's state
//! E   = −(1/N) Σ_t log y_t[character t + 1]      nats per character, N = T·B
//! ```

use super::stack::{self, Stack};
use super::{Cell, NetGrads};
use nalgebra::DMatrix;
use shared::activation::softmax_columns_mut;
use shared::rng::Rng;

/// Stacked recurrent layers and the softmax output layer.
#[derive(Clone, Debug, PartialEq)]
pub struct CharLm<C: Cell> {
    /// L layers; layer 0 reads one-hot characters (D = V).
    pub rnn: Stack<C>,
    /// V × H.
    pub W_hy: DMatrix<f64>,
    /// V × 1.
    pub b_y: DMatrix<f64>,
}

/// What [`CharLm::forward`] keeps for [`CharLm::backward`].
#[derive(Clone, Debug)]
pub struct Cache<C: Cell> {
    /// The stack's cache; its bottom layer's input is the one-hot x_t (V × T·B).
    pub rnn: stack::Cache<C>,
    /// H × T·B: the top layer's h_t.
    pub h: DMatrix<f64>,
    /// V × T·B: the probabilities y_t.
    pub Y: DMatrix<f64>,
    /// T·B: the character each y_t should predict.
    pub targets: Vec<usize>,
}

impl<C: Cell> CharLm<C> {
    /// L layers of H units over a vocabulary of V characters; W_hy uniform in ±1/√H, b_y = 0.
    pub fn new(V: usize, H: usize, L: usize, rng: &mut Rng) -> Self {
        let rnn = Stack::new(V, H, L, rng);
        let W_hy = shared::init::uniform_inv_sqrt(V, H, H, rng);
        CharLm {
            rnn,
            W_hy,
            b_y: DMatrix::zeros(V, 1),
        }
    }

    /// V.
    pub fn vocab_size(&self) -> usize {
        self.W_hy.nrows()
    }

    /// Reads `inputs` (T·B character ids, step t of stream j at tB + j) from `state` (one per
    /// layer, as [`Stack::zero_state`]); returns the mean cross-entropy against `targets`
    /// (same layout) and the cache.
    pub fn forward(
        &self,
        inputs: &[usize],
        targets: &[usize],
        B: usize,
        state: &[Vec<DMatrix<f64>>],
    ) -> (f64, Cache<C>) {
        let (V, N) = (self.vocab_size(), inputs.len());
        let X = DMatrix::from_fn(V, N, |v, n| f64::from(u8::from(inputs[n] == v))); // x_t: one-hot  V × T·B
        let rnn = self.rnn.forward(&X, B, state);
        let h = Stack::outputs(&rnn); //                                                 H × T·B
        let ones = DMatrix::from_element(1, N, 1.0); //                                  1 × T·B
        let mut Y = &self.W_hy * &h + &self.b_y * ones; //                               V × T·B
        softmax_columns_mut(&mut Y); // y_t = Softmax(W_hy h_t + b_y)
        let loss = shared::loss::cross_entropy(&Y, targets); // E = −(1/N) Σ_t log y_t[target_t]
        let targets = targets.to_vec();
        (loss, Cache { rnn, h, Y, targets })
    }

    /// The gradients of the loss of the forward pass that made `cache`.
    pub fn backward(&self, cache: &Cache<C>) -> NetGrads {
        let N = cache.targets.len();
        // E = −(1/N) Σ_t log y_t[target_t], y_t = Softmax(a_t)  ⇒  ∂E/∂a_t = (y_t − onehot(target_t))/N
        let mut dY = cache.Y.clone(); //                                                 V × T·B
        for (n, &t) in cache.targets.iter().enumerate() {
            dY[(t, n)] -= 1.0;
        }
        dY /= N as f64;
        // a_t = W_hy h_t + b_y  ⇒  summed over t and streams
        let dW_hy = &dY * cache.h.transpose(); //                                        V × H
        let db_y = &dY * DMatrix::from_element(N, 1, 1.0); // Σ_t dy_t = dY 1          V × 1
        let dh = self.W_hy.transpose() * &dY; // ∂E/∂h_t                                 H × T·B
        let (rnn, _) = self.rnn.backward(&cache.rnn, &dh);
        NetGrads { rnn, dW_hy, db_y }
    }

    /// Zero gradients of this model's shapes.
    pub fn zero_grads(&self) -> NetGrads {
        NetGrads::zeros(&self.rnn.layers, &self.W_hy)
    }

    /// All parameters with their names (`l0.W_xh`, …, `W_hy`, `b_y`).
    pub fn params(&self) -> Vec<(String, &DMatrix<f64>)> {
        let mut p = self.rnn.params();
        p.push(("W_hy".into(), &self.W_hy));
        p.push(("b_y".into(), &self.b_y));
        p
    }

    /// The same parameters, mutable, in the same order.
    pub fn params_mut(&mut self) -> Vec<&mut DMatrix<f64>> {
        let mut p = self.rnn.params_mut();
        p.push(&mut self.W_hy);
        p.push(&mut self.b_y);
        p
    }

    /// Number of parameters.
    pub fn count(&self) -> usize {
        self.params().iter().map(|(_, p)| p.len()).sum()
    }
}
