//! The adding problem's network (the task is Hochreiter & Schmidhuber's, not the notes'): a
//! stack read out from its last state by the notes' output layer without the softmax,
//!
//! ```text
//! y = W_hy h_T + b_y                      one number per sequence
//! E = (1/B) Σ_j (y_j − target_j)²         mean squared error
//! ```
//!
//! Every sequence starts from h_0 = 0 (and c_0 = 0).

use super::stack::{self, Stack};
use super::{Cell, NetGrads};
use nalgebra::DMatrix;
use shared::rng::Rng;

/// A recurrent stack with a linear read-out of its last state.
#[derive(Clone, Debug, PartialEq)]
pub struct AddingNet<C: Cell> {
    /// The recurrent layers (input size 2: a value and a marker per step).
    pub rnn: Stack<C>,
    /// 1 × H.
    pub W_hy: DMatrix<f64>,
    /// 1 × 1.
    pub b_y: DMatrix<f64>,
}

/// What [`AddingNet::forward`] keeps for [`AddingNet::backward`].
#[derive(Clone, Debug)]
pub struct Cache<C: Cell> {
    /// The stack's cache (it holds the input sequences).
    pub rnn: stack::Cache<C>,
    /// H × B: the top layer's last state h_T.
    pub h_T: DMatrix<f64>,
    /// 1 × B: the predictions y.
    pub y: DMatrix<f64>,
    /// 1 × B: the sums to predict.
    pub target: DMatrix<f64>,
}

impl<C: Cell> AddingNet<C> {
    /// L layers of H units; the read-out starts uniform in ±1/√H with b_y = 0.
    pub fn new(H: usize, L: usize, rng: &mut Rng) -> Self {
        let rnn = Stack::new(2, H, L, rng);
        let W_hy = shared::init::uniform_inv_sqrt(1, H, H, rng);
        AddingNet {
            rnn,
            W_hy,
            b_y: DMatrix::zeros(1, 1),
        }
    }

    /// [`AddingNet::new`] with the layers replaced by fresh ones that `make` builds (from the
    /// same `rng`, after the read-out's draw): how the IRNN's start is made.
    pub fn with_layers(
        H: usize,
        L: usize,
        rng: &mut Rng,
        make: impl Fn(usize, usize, &mut Rng) -> C,
    ) -> Self {
        let mut net = Self::new(H, L, rng);
        for (l, layer) in net.rnn.layers.iter_mut().enumerate() {
            *layer = make(if l == 0 { 2 } else { H }, H, rng);
        }
        net
    }

    /// Runs B sequences `X` (2 × T·B: values, markers) from zero states; returns the MSE
    /// against `target` (1 × B) and the cache.
    pub fn forward(&self, X: &DMatrix<f64>, target: &DMatrix<f64>) -> (f64, Cache<C>) {
        let B = target.ncols();
        let T = X.ncols() / B;
        let rnn = self.rnn.forward(X, B, &self.rnn.zero_state(B));
        let h_T = Stack::outputs(&rnn).columns((T - 1) * B, B).into_owned(); //          H × B
        let y = &self.W_hy * &h_T + &self.b_y * DMatrix::from_element(1, B, 1.0); // y = W_hy h_T + b_y  1 × B
        let mse = (&y - target).norm_squared() / B as f64; // E = (1/B) Σ_j (y_j − target_j)²
        let target = target.clone();
        (
            mse,
            Cache {
                rnn,
                h_T,
                y,
                target,
            },
        )
    }

    /// The gradients of the MSE of the forward pass that made `cache`.
    pub fn backward(&self, cache: &Cache<C>) -> NetGrads {
        let (dW_hy, db_y, dH) = self.read_out_backward(cache);
        let (rnn, _) = self.rnn.backward(&cache.rnn, &dH);
        NetGrads { rnn, dW_hy, db_y }
    }

    /// ∂E/∂h_0 … ∂E/∂h_T of the top layer (each H × B), E the MSE of the forward pass that made
    /// `cache`: how far back the error reaches ([`Cell::backward_states`]).
    pub fn state_gradients(&self, cache: &Cache<C>) -> Vec<DMatrix<f64>> {
        let (_, _, dH) = self.read_out_backward(cache);
        let top = self.rnn.layers.last().expect("at least one layer");
        let top_cache = cache.rnn.layers.last().expect("at least one layer");
        top.backward_states(top_cache, &dH).dh
    }

    /// The read-out's backward pass: ∂E/∂W_hy, ∂E/∂b_y and ∂E/∂h_t of the top layer.
    fn read_out_backward(&self, cache: &Cache<C>) -> (DMatrix<f64>, DMatrix<f64>, DMatrix<f64>) {
        let (H, B) = cache.h_T.shape();
        let T = Stack::outputs(&cache.rnn).ncols() / B;
        // E = (1/B) Σ_j (y_j − target_j)²  ⇒  ∂E/∂y = 2(y − target)/B                    1 × B
        let dy = (&cache.y - &cache.target) * (2.0 / B as f64);
        // y = W_hy h_T + b_y  ⇒
        let dW_hy = &dy * cache.h_T.transpose(); //                                      1 × H
        let db_y = &dy * DMatrix::from_element(B, 1, 1.0); // Σ_j dy_j = dy 1           1 × 1
        let mut dH = DMatrix::zeros(H, T * B); // ∂E/∂h_t: zero but at t = T, the step read out
        dH.columns_mut((T - 1) * B, B)
            .copy_from(&(self.W_hy.transpose() * &dy));
        (dW_hy, db_y, dH)
    }

    /// Zero gradients of this net's shapes.
    pub fn zero_grads(&self) -> NetGrads {
        NetGrads::zeros(&self.rnn.layers, &self.W_hy)
    }

    /// All parameters, mutable: the layers' bottom first, then W_hy, b_y.
    pub fn params_mut(&mut self) -> Vec<&mut DMatrix<f64>> {
        let mut p = self.rnn.params_mut();
        p.push(&mut self.W_hy);
        p.push(&mut self.b_y);
        p
    }
}
