//! Notes §6, "LSTM (Long Short Term Memory) Networks" and "GRU (Gated Recurrent Unit)
//! Networks" (after Colah's blog, "Understanding LSTM Networks", 2015), with the stacked RNNs
//! of the same section (y₁ = RNN₁(x), y₂ = RNN₂(y₁), …, y = RNN_n(y_{n−1})).
//!
//! The notes say a vanilla RNN's gradient vanishes over long time lags and that LSTM (1997) and
//! GRU fix it. This crate shows it with measurements: three cells behind one trait ([`Cell`]),
//! each with a forward and a hand-written backward pass per gate (BPTT), stacked any number of
//! layers deep ([`Stack`]), on two tasks that run the very same code for every cell:
//!
//! - [`adding`]: the adding problem (remember two marked numbers across T = 100 steps and
//!   output their sum). The gated cells solve it (MSE < 0.01); the tanh RNN stays at the
//!   trivial predictor's MSE 1/6 ≈ 0.167.
//! - [`charlm`]: a character language model (Karpathy's char-rnn setting) with validation loss,
//!   checkpoint and sampling.
//!
//! | cell | the notes' equations | module |
//! |---|---|---|
//! | vanilla | s_t = tanh(U x_t + W s_{t−1} + b_h) (here W_xh = U, W_hh = W) | [`rnn`] |
//! | LSTM | f, i, o = σ(W_xh x_t + W_hh h_{t−1} + b_h), g = tanh(…), c_t = f∘c_{t−1} + i∘g, h_t = o∘tanh(c_t) | [`lstm`] |
//! | GRU | z, r = σ(W·[h_{t−1}, x_t]), h̃ = tanh(W·[r∗h_{t−1}, x_t]), h_t = (1 − z)∗h_{t−1} + z∗h̃ | [`gru`] |
//!
//! Size legend (as in llm.c): **D** input size, **H** hidden size, **T** time steps, **B**
//! examples in a mini-batch, **L** layers, **V** vocabulary size. Columns are examples: a
//! sequence batch is one D × T·B matrix whose step t is the column block tB..(t+1)B, so a
//! batch of 32 runs as matrix products, and the input part of every gate is one GEMM over all
//! T steps at once (only the recurrent part W_hh h_{t−1} must go step by step).
//!
//! Expected result (`cargo run --release -p lstm-gru`): on the adding problem with T = 100 the
//! LSTM and GRU reach held-out MSE < 0.01, the vanilla RNN stays near 0.167.

#![allow(non_snake_case)]

pub mod adding;
pub mod charlm;
pub mod gru;
pub mod lstm;
pub mod rnn;
pub mod stack;

pub use gru::Gru;
pub use lstm::Lstm;
pub use rnn::Rnn;
pub use stack::{Stack, StackTape};

use nalgebra::{DMatrix, DMatrixView, DMatrixViewMut};
use shared::linalg::{gemm, gemm_nt, gemm_tn};
use shared::rng::Rng;

/// One recurrent layer: parameters, a forward pass over a whole sequence batch that records
/// what the backward pass needs on a [`Tape`], and the backward pass (BPTT) itself.
///
/// The gradient of a cell has the cell's own type (as llm.c keeps `ParameterTensors` for both
/// weights and gradients): `grad.W_hh` is ∂E/∂W_hh.
pub trait Cell: Clone + Sized {
    /// "rnn", "lstm" or "gru".
    const NAME: &'static str;
    /// What the forward pass keeps for the backward pass.
    type Tape: Tape;

    /// A fresh cell with D inputs and H hidden units, weights uniform in ±1/√H (PyTorch's
    /// default); each cell documents its biases.
    fn new(D: usize, H: usize, rng: &mut Rng) -> Self;
    /// D.
    fn input_size(&self) -> usize;
    /// H.
    fn hidden_size(&self) -> usize;
    /// The buffers for T steps of B examples, with h_0 (and c_0) = 0.
    fn tape(&self, T: usize, B: usize) -> Self::Tape;
    /// Runs the cell over `X` (D × T·B), starting from the tape's h_0 (and c_0), and records
    /// every gate and state on the tape; the outputs are `tape.outputs()`.
    fn forward(&self, X: DMatrixView<'_, f64>, tape: &mut Self::Tape);
    /// BPTT through the last [`Cell::forward`] (same `X` and tape): `dH` (H × T·B) is ∂E/∂h_t
    /// arriving from above (a head or the next layer) for t = 1..T. *Accumulates* the
    /// parameter gradients into `grad` and, if asked, writes ∂E/∂x_t into `dX` (D × T·B).
    /// The initial state is a constant (truncated BPTT across chunks).
    fn backward(
        &self,
        X: DMatrixView<'_, f64>,
        tape: &mut Self::Tape,
        dH: DMatrixView<'_, f64>,
        grad: &mut Self,
        dX: Option<&mut DMatrix<f64>>,
    );
    /// The parameters with their names, in a fixed order.
    fn params(&self) -> Vec<(&'static str, &DMatrix<f64>)>;
    /// The same parameters, mutable, in the same order.
    fn params_mut(&mut self) -> Vec<&mut DMatrix<f64>>;

    /// A cell of the same shape with every parameter zero: a gradient buffer.
    fn zeros_like(&self) -> Self {
        let mut z = self.clone();
        z.zero();
        z
    }
    /// Sets every parameter to zero (clears a gradient buffer before a backward pass).
    fn zero(&mut self) {
        for p in self.params_mut() {
            p.fill(0.0);
        }
    }
}

/// The recorded forward pass of one layer over T steps of B examples.
pub trait Tape: Clone + std::fmt::Debug {
    /// T.
    fn steps(&self) -> usize;
    /// B.
    fn batch(&self) -> usize;
    /// H × T·B: h_1 … h_T (step t in columns tB..(t+1)B): the layer's output y = RNN(x).
    fn outputs(&self) -> DMatrixView<'_, f64>;
    /// H × B: the state h_t of step t (t = 0 is the initial state, t = T the last).
    fn h(&self, t: usize) -> DMatrixView<'_, f64>;
    /// Starts the next chunk where this one ended: h_0 ← h_T (and c_0 ← c_T), so a text is
    /// read as one long sequence while gradients stop at the chunk boundary.
    fn carry(&mut self);
    /// h_0 = 0 (and c_0 = 0): independent sequences.
    fn reset(&mut self);
}

/// The input part of every gate for all T steps in one product (the notes add W_xh x_t per
/// step; one GEMM over the T·B columns computes the same sums faster):
/// `A ← W_xh X + b_h 1ᵀ`. `W_xh` is G × D, `b_h` G × 1, `X` D × T·B, `A` G × T·B.
pub(crate) fn input_part(
    W_xh: &DMatrix<f64>,
    b_h: &DMatrix<f64>,
    X: &DMatrixView<'_, f64>,
    mut A: DMatrixViewMut<'_, f64>,
) {
    assert_eq!(X.nrows(), W_xh.ncols(), "input size");
    assert_eq!(A.ncols(), X.ncols(), "T·B");
    gemm(1.0, W_xh, X, 0.0, &mut A);
    let b = b_h.as_slice();
    for mut col in A.column_iter_mut() {
        for (a, b) in col.iter_mut().zip(b) {
            *a += b;
        }
    }
}

/// The gradients of [`input_part`], for all steps at once after the BPTT loop:
/// dW_xh += Σ_t dA_t x_tᵀ = dA Xᵀ, db_h += Σ_t dA_t 1, and dX = W_xhᵀ dA if asked.
pub(crate) fn input_part_backward(
    W_xh: &DMatrix<f64>,
    dA: &DMatrix<f64>,
    X: &DMatrixView<'_, f64>,
    dW_xh: &mut DMatrix<f64>,
    db_h: &mut DMatrix<f64>,
    dX: Option<&mut DMatrix<f64>>,
) {
    gemm_nt(1.0, dA, X, 1.0, dW_xh);
    let db = db_h.as_mut_slice();
    for col in dA.as_slice().chunks_exact(db.len()) {
        for (d, a) in db.iter_mut().zip(col) {
            *d += a;
        }
    }
    if let Some(dX) = dX {
        assert_eq!(dX.shape(), X.shape(), "dX has the shape of X");
        gemm_tn(1.0, W_xh, dA, 0.0, dX);
    }
}

/// `c ← α a b + β c` for one time step (`b`, `c`: the B columns of one step). A mini-batch
/// goes to the GEMM kernel; a single column (B = 1) is a matrix–vector product, which
/// nalgebra's gemv does faster: the GEMM kernel would repack all of `a` (the 4H × H weights)
/// at every step.
pub(crate) fn step_product(
    alpha: f64,
    a: DMatrixView<'_, f64>,
    b: DMatrixView<'_, f64>,
    beta: f64,
    mut c: DMatrixViewMut<'_, f64>,
) {
    if b.ncols() == 1 {
        c.column_mut(0).gemv(alpha, &a, &b.column(0), beta);
    } else {
        gemm(alpha, &a, &b, beta, &mut c);
    }
}

/// `c ← α aᵀ b + β c` for one time step (the backward pass's ∂E/∂h_{t−1} = W_hhᵀ dA_t), with
/// the same batch-1 shortcut as [`step_product`].
pub(crate) fn step_product_tn(
    alpha: f64,
    a: DMatrixView<'_, f64>,
    b: DMatrixView<'_, f64>,
    beta: f64,
    mut c: DMatrixViewMut<'_, f64>,
) {
    if b.ncols() == 1 {
        c.column_mut(0).gemv_tr(alpha, &a, &b.column(0), beta);
    } else {
        gemm_tn(alpha, &a, &b, beta, &mut c);
    }
}

/// Scales all gradients down together so their joint L2 norm is at most `max_norm` (Pascanu
/// et al. 2013's remedy for exploding RNN gradients); returns the norm before clipping.
pub fn clip_global_norm(grads: &mut [&mut DMatrix<f64>], max_norm: f64) -> f64 {
    let norm = grads.iter().map(|g| g.norm_squared()).sum::<f64>().sqrt();
    if norm > max_norm {
        let s = max_norm / norm;
        for g in grads.iter_mut() {
            **g *= s;
        }
    }
    norm
}

/// Which cell to run (a command-line choice; `All` runs the three one after another).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CellKind {
    /// Vanilla tanh RNN.
    Rnn,
    /// Long short-term memory.
    Lstm,
    /// Gated recurrent unit (the notes' z convention).
    Gru,
}

impl CellKind {
    /// The cell's short name ("rnn", "lstm", "gru").
    pub fn name(self) -> &'static str {
        match self {
            CellKind::Rnn => Rnn::NAME,
            CellKind::Lstm => Lstm::NAME,
            CellKind::Gru => Gru::NAME,
        }
    }

    /// The kind named `name`, if any.
    pub fn from_name(name: &str) -> Option<CellKind> {
        [CellKind::Rnn, CellKind::Lstm, CellKind::Gru]
            .into_iter()
            .find(|k| k.name() == name)
    }
}
