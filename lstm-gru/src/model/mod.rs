//! The notes layer: the three cells of §6, their stack and the two output layers, written as
//! the notes write them, on nalgebra, one equation per line. This is the code to read beside
//! the page, and the reference the engine ([`crate::fast`]) is tested against; the gradient
//! checks run here.
//!
//! Sizes, as in llm.c: **D** inputs, **H** hidden units, **T** time steps, **B** examples,
//! **L** layers, **V** characters. Columns are examples (the notes' layout): a batch of B
//! sequences is one D × T·B matrix whose step t is the column block tB..(t+1)B, so x_t is D × B
//! and every state h_t, c_t is H × B.
//!
//! Every cell has the same three parameters, the notes' W_xh, W_hh and b_h, with the gates'
//! blocks stacked as rows (the LSTM's W_xh is [W^f_xh; W^i_xh; W^o_xh; W^g_xh]), and the same
//! two passes: [`Cell::forward`] runs T steps from a carried state and returns the [`Cache`]
//! of every gate and state (with the input it was computed from), [`Cell::backward`] takes that
//! cache and ∂E/∂h_t from above and returns the [`Grads`] and ∂E/∂x_t (BPTT; the carried state
//! is a constant, as in truncated BPTT).
//!
//! [`Cache`]: lstm::Cache

pub mod adding;
pub mod charlm;
pub mod gru;
pub mod lstm;
pub mod rnn;
pub mod stack;

pub use adding::AddingNet;
pub use charlm::CharLm;
pub use gru::Gru;
pub use lstm::Lstm;
pub use rnn::Rnn;
pub use stack::Stack;

use nalgebra::{DMatrix, DMatrixView};
use shared::rng::Rng;

/// One recurrent layer of the notes: its parameters and its two passes.
pub trait Cell: Clone + std::fmt::Debug + PartialEq + Send + Sync {
    /// "rnn", "lstm" or "gru".
    const NAME: &'static str;
    /// What [`Cell::forward`] keeps for [`Cell::backward`].
    type Cache: Clone + std::fmt::Debug;

    /// A fresh cell with D inputs and H hidden units: weights uniform in ±1/√H (PyTorch's
    /// default); each cell documents its biases.
    fn new(D: usize, H: usize, rng: &mut Rng) -> Self;
    /// W_xh (G × D), W_hh (G × H) and b_h (G × 1), G = H times the number of gate blocks.
    fn weights(&self) -> [&DMatrix<f64>; 3];
    /// The same, mutable.
    fn weights_mut(&mut self) -> [&mut DMatrix<f64>; 3];
    /// Runs the cell over `X` (D × T·B) from `state` (as [`Cell::zero_state`]).
    fn forward(&self, X: &DMatrix<f64>, B: usize, state: &[DMatrix<f64>]) -> Self::Cache;
    /// H × T·B: the outputs h_1 … h_T of a forward pass, y = RNN(x).
    fn outputs(cache: &Self::Cache) -> DMatrix<f64>;
    /// The state the pass ended in, `[h_T]` (the LSTM: `[h_T, c_T]`): where the next chunk of
    /// a long sequence starts (its gradient stops there, as in truncated BPTT).
    fn last_state(cache: &Self::Cache) -> Vec<DMatrix<f64>>;
    /// BPTT through the forward pass that made `cache`: `dH` (H × T·B) is ∂E/∂h_t from above
    /// (a head or the next layer); returns ∂E/∂θ, ∂E/∂X and every ∂E/∂h_t on the way
    /// (see [`Bptt`]).
    fn backward_states(&self, cache: &Self::Cache, dH: &DMatrix<f64>) -> Bptt;

    /// [`Cell::backward_states`] without the states: ∂E/∂θ and ∂E/∂X (D × T·B).
    fn backward(&self, cache: &Self::Cache, dH: &DMatrix<f64>) -> (Grads, DMatrix<f64>) {
        let Bptt { grads, dX, .. } = self.backward_states(cache, dH);
        (grads, dX)
    }

    /// The name a run shows: [`Cell::NAME`], or a variant's (the ReLU RNN is "irnn").
    fn label(&self) -> &'static str {
        Self::NAME
    }

    /// D.
    fn input_size(&self) -> usize {
        self.weights()[0].ncols()
    }
    /// H.
    fn hidden_size(&self) -> usize {
        self.weights()[1].ncols()
    }
    /// The zero state of B examples: `[h_0]` (the LSTM: `[h_0, c_0]`), each H × B.
    fn zero_state(&self, B: usize) -> Vec<DMatrix<f64>> {
        vec![DMatrix::zeros(self.hidden_size(), B)]
    }
    /// The parameters with their names, in a fixed order: `W_xh`, `W_hh`, `b_h`.
    fn params(&self) -> Vec<(&'static str, &DMatrix<f64>)> {
        NAMES.into_iter().zip(self.weights()).collect()
    }
    /// The same parameters, mutable, in the same order.
    fn params_mut(&mut self) -> Vec<&mut DMatrix<f64>> {
        self.weights_mut().into()
    }
    /// The pre-activation of gate block k (rows kH..(k+1)H of the weights) for inputs x_t
    /// (D × B) and state h (H × B): W^k_xh x_t + W^k_hh h + b^k_h 1ᵀ, H × B (the notes add b_h
    /// to each example's column).
    fn affine(&self, k: usize, x_t: DMatrixView<'_, f64>, h: &DMatrix<f64>) -> DMatrix<f64> {
        let H = self.hidden_size();
        let [W_xh, W_hh, b_h] = self.weights().map(|w| w.rows(k * H, H));
        let ones = DMatrix::from_element(1, x_t.ncols(), 1.0); // 1 × B
        W_xh * x_t + W_hh * h + b_h * ones
    }
}

/// The names of [`Cell::weights`].
const NAMES: [&str; 3] = ["W_xh", "W_hh", "b_h"];

/// ∂E/∂θ of one layer, named after its parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Grads {
    /// ∂E/∂W_xh.
    pub dW_xh: DMatrix<f64>,
    /// ∂E/∂W_hh.
    pub dW_hh: DMatrix<f64>,
    /// ∂E/∂b_h.
    pub db_h: DMatrix<f64>,
}

impl Grads {
    /// Zeros of the shapes of `cell`'s parameters.
    pub fn zeros<C: Cell>(cell: &C) -> Self {
        let [W_xh, W_hh, b_h] = cell.weights().map(|w| DMatrix::zeros(w.nrows(), w.ncols()));
        Grads {
            dW_xh: W_xh,
            dW_hh: W_hh,
            db_h: b_h,
        }
    }
    /// dW_xh, dW_hh, db_h: the order of [`Cell::params`].
    pub fn list(&self) -> [&DMatrix<f64>; 3] {
        [&self.dW_xh, &self.dW_hh, &self.db_h]
    }
    /// The same, mutable.
    pub fn list_mut(&mut self) -> [&mut DMatrix<f64>; 3] {
        [&mut self.dW_xh, &mut self.dW_hh, &mut self.db_h]
    }
}

/// What one layer's BPTT returns ([`Cell::backward_states`]).
#[derive(Clone, Debug)]
pub struct Bptt {
    /// ∂E/∂θ.
    pub grads: Grads,
    /// D × T·B: ∂E/∂x_t, what the layer below receives.
    pub dX: DMatrix<f64>,
    /// ∂E/∂h_0 … ∂E/∂h_T, each H × B: the total derivative of E by the state h_t, through
    /// every later step (h_0 is the carried state). How fast ‖∂E/∂h_{T−k}‖ falls with the lag
    /// k is the vanishing gradient (`lstm-gru gradients`).
    pub dh: Vec<DMatrix<f64>>,
}

impl Bptt {
    /// The result of a backward pass that filled ∂E/∂h_1 … ∂E/∂h_T into `dh` and ended at
    /// ∂E/∂h_0 = `dh_0`, what step 1 sends back to the carried state.
    pub fn ending_at(
        grads: Grads,
        dX: DMatrix<f64>,
        mut dh: Vec<DMatrix<f64>>,
        dh_0: DMatrix<f64>,
    ) -> Self {
        dh[0] = dh_0;
        Bptt { grads, dX, dh }
    }
}

/// ∂E/∂θ of a network of stacked layers and a linear output W_hy h + b_y (both tasks' nets).
#[derive(Clone, Debug, PartialEq)]
pub struct NetGrads {
    /// One [`Grads`] per layer, bottom first.
    pub rnn: Vec<Grads>,
    /// ∂E/∂W_hy.
    pub dW_hy: DMatrix<f64>,
    /// ∂E/∂b_y.
    pub db_y: DMatrix<f64>,
}

impl NetGrads {
    /// Zeros for `layers` and an output layer `W_hy` (its b_y has W_hy's rows).
    pub fn zeros<C: Cell>(layers: &[C], W_hy: &DMatrix<f64>) -> Self {
        NetGrads {
            rnn: layers.iter().map(Grads::zeros).collect(),
            dW_hy: DMatrix::zeros(W_hy.nrows(), W_hy.ncols()),
            db_y: DMatrix::zeros(W_hy.nrows(), 1),
        }
    }
    /// Every gradient in the order of the network's `params`: the layers' bottom first, then
    /// dW_hy, db_y.
    pub fn list(&self) -> Vec<&DMatrix<f64>> {
        let mut g: Vec<&DMatrix<f64>> = self.rnn.iter().flat_map(Grads::list).collect();
        g.extend([&self.dW_hy, &self.db_y]);
        g
    }
    /// The same, mutable.
    pub fn list_mut(&mut self) -> Vec<&mut DMatrix<f64>> {
        let mut g: Vec<&mut DMatrix<f64>> = self.rnn.iter_mut().flat_map(Grads::list_mut).collect();
        g.extend([&mut self.dW_hy, &mut self.db_y]);
        g
    }
    /// Sets every gradient to zero (before a backward pass that accumulates).
    pub fn zero(&mut self) {
        self.list_mut().into_iter().for_each(|g| g.fill(0.0));
    }
}

/// [h_1 … h_T] side by side, H × T·B, from the states h_1 … h_T (each H × B).
pub(crate) fn side_by_side(states: &[DMatrix<f64>]) -> DMatrix<f64> {
    let (H, B) = states.first().map_or((0, 0), |h| h.shape());
    DMatrix::from_fn(H, states.len() * B, |i, col| states[col / B][(i, col % B)])
}

/// The gate blocks' row vectors stacked into one matrix ([da^f; da^i; da^o; da^g] …).
pub(crate) fn stack_rows(blocks: &[DMatrix<f64>]) -> DMatrix<f64> {
    let rows: Vec<_> = blocks.iter().flat_map(|b| b.row_iter()).collect();
    DMatrix::from_rows(&rows)
}
