//! The engine layer: the forward and backward passes training runs, on preallocated buffers.
//!
//! They compute what [`crate::model`] computes (`tests/fast.rs` holds them to it: loss, outputs
//! and every gradient within 1e-12 relative in f64 and 1e-5 in f32, several sizes, batch 1 and
//! larger), arranged for speed rather than for reading:
//!
//! - the input part of every gate for all T steps is one GEMM, W_xh X + b_h 1ᵀ
//!   (`input_part`), and so are the weight gradients after the BPTT loop (dW = Σ_t dA_t x_tᵀ
//!   = dA Xᵀ, `input_part_backward`); only the recurrent product W_hh h_{t−1} goes step by
//!   step (`step_product`), as a matrix–vector product at batch 1;
//! - a gate's pre-activations, activations and gradients live in one 4H × T·B (or 3H × T·B)
//!   buffer, each example's column holding all gates, and the elementwise gate loops run over
//!   slices, compiled for AVX-512 and AVX2 and picked once per process (σ and tanh from
//!   `shared::kernels::fastmath`, in f32 from `shared::kernels::fastmath32`: no libm call);
//! - every buffer is allocated once, in a cache made before the loop: a forward + backward pass
//!   allocates nothing but the GEMM kernels' packing buffers (`tests/alloc.rs`);
//! - a cache keeps its initial state between chunks ([`Cache::carry`]), so a text is read as
//!   B long streams; [`parallel`] splits a batch's sequences over threads.
//!
//! The backward passes *accumulate* into the gradients (zero them first, as llm.c does).
//!
//! **Precision.** The engine is generic over its float type `F` ([`Kernels`], a
//! `shared::kernels::Float`): `f64` (every default run, the numbers of the notes layer to
//! rounding) or `f32` (`train --dtype f32`, `adding --dtype f32`: parameters, activations,
//! gradients and Adam's moments in f32). Each cell has its engine twin holding its parameters in
//! `F` ([`FastCell::Layer`]: [`lstm::FastLstm`], [`gru::FastGru`], [`rnn::FastRnn`]), made
//! from the model by [`FastCell::to_layer`] and turned back by [`FastCell::from_layer`]
//! (exact for f64); the nets are [`stack::FastStack`], [`charlm::FastLm`] and
//! [`adding::FastAdding`]. The notes layer stays f64. What differs between the two types
//! besides the type (the kernels of [`kernels`]): f32 has its own σ and tanh, and its
//! transposed products run on a transposed copy of the weights.

pub mod adding;
pub mod charlm;
pub mod gru;
pub mod kernels;
pub mod lstm;
pub mod parallel;
pub mod rnn;
pub mod stack;

pub use kernels::{Float, Kernels, narrow, widen};
pub use stack::{FastStack, StackCache};

use crate::model::Cell;
use nalgebra::{DMatrix, DMatrixView, DMatrixViewMut};
use shared::kernels::{gemm, gemm_nt};

/// A [`Cell`] of the notes layer with its engine twin.
pub trait FastCell: Cell {
    /// The cell's parameters in float type `F`, with the engine's passes.
    type Layer<F: Kernels>: Layer<F>;

    /// The engine twin of this cell (its parameters rounded to `F`: a copy for f64).
    fn to_layer<F: Kernels>(&self) -> Self::Layer<F>;
    /// The notes-layer cell of an engine twin (its parameters as f64: exact).
    fn from_layer<F: Kernels>(layer: &Self::Layer<F>) -> Self;
}

/// One recurrent layer in the engine: parameters W_xh, W_hh, b_h in `F` and the two passes.
pub trait Layer<F: Kernels>: Clone + std::fmt::Debug + Send + Sync {
    /// The buffers of a pass over T steps of B examples, with the carried initial state.
    type Cache: Cache<F>;

    /// W_xh (G × D), W_hh (G × H) and b_h (G × 1), as [`Cell::weights`].
    fn weights(&self) -> [&DMatrix<F>; 3];
    /// The same, mutable.
    fn weights_mut(&mut self) -> [&mut DMatrix<F>; 3];
    /// The buffers for T steps of B examples, with h_0 (and c_0) = 0.
    fn fast_cache(&self, T: usize, B: usize) -> Self::Cache;
    /// Runs the cell over `X` (D × T·B) from the cache's initial state and records every gate
    /// and state in it; the outputs are `cache.outputs()`.
    fn forward_fast(&self, X: DMatrixView<'_, F>, cache: &mut Self::Cache);
    /// BPTT through the last [`Layer::forward_fast`] (same `X` and cache): `dH` (H × T·B) is
    /// ∂E/∂h_t from above. *Accumulates* the gradients into `grads` and, if asked, writes
    /// ∂E/∂x_t into `dX` (D × T·B).
    fn backward_fast(
        &self,
        X: DMatrixView<'_, F>,
        cache: &mut Self::Cache,
        dH: DMatrixView<'_, F>,
        grads: &mut Grads<F>,
        dX: Option<&mut DMatrix<F>>,
    );

    /// D.
    fn input_size(&self) -> usize {
        self.weights()[0].ncols()
    }
    /// H.
    fn hidden_size(&self) -> usize {
        self.weights()[1].ncols()
    }
}

/// ∂E/∂θ of one layer in the engine (the model's [`crate::model::Grads`] in `F`).
#[derive(Clone, Debug, PartialEq)]
pub struct Grads<F: Kernels> {
    /// ∂E/∂W_xh.
    pub dW_xh: DMatrix<F>,
    /// ∂E/∂W_hh.
    pub dW_hh: DMatrix<F>,
    /// ∂E/∂b_h.
    pub db_h: DMatrix<F>,
}

impl<F: Kernels> Grads<F> {
    /// Zeros of the shapes of `layer`'s parameters.
    pub fn zeros(layer: &impl Layer<F>) -> Self {
        let [dW_xh, dW_hh, db_h] = layer
            .weights()
            .map(|w| DMatrix::zeros(w.nrows(), w.ncols()));
        Grads { dW_xh, dW_hh, db_h }
    }
    /// dW_xh, dW_hh, db_h: the order of [`Layer::weights`].
    pub fn list(&self) -> [&DMatrix<F>; 3] {
        [&self.dW_xh, &self.dW_hh, &self.db_h]
    }
    /// The same, mutable.
    pub fn list_mut(&mut self) -> [&mut DMatrix<F>; 3] {
        [&mut self.dW_xh, &mut self.dW_hh, &mut self.db_h]
    }
    /// As the model's gradients (f64, exact).
    pub fn widen(&self) -> crate::model::Grads {
        let [dW_xh, dW_hh, db_h] = self.list().map(kernels::widen);
        crate::model::Grads { dW_xh, dW_hh, db_h }
    }
}

/// ∂E/∂θ of an engine network of stacked layers and a linear output W_hy h + b_y.
#[derive(Clone, Debug, PartialEq)]
pub struct NetGrads<F: Kernels> {
    /// One [`Grads`] per layer, bottom first.
    pub rnn: Vec<Grads<F>>,
    /// ∂E/∂W_hy.
    pub dW_hy: DMatrix<F>,
    /// ∂E/∂b_y.
    pub db_y: DMatrix<F>,
}

impl<F: Kernels> NetGrads<F> {
    /// Zeros for `layers` and an output layer `W_hy` (its b_y has W_hy's rows).
    pub fn zeros<L: Layer<F>>(layers: &[L], W_hy: &DMatrix<F>) -> Self {
        NetGrads {
            rnn: layers.iter().map(Grads::zeros).collect(),
            dW_hy: DMatrix::zeros(W_hy.nrows(), W_hy.ncols()),
            db_y: DMatrix::zeros(W_hy.nrows(), 1),
        }
    }
    /// Every gradient in the order of the network's parameters: the layers' bottom first,
    /// then dW_hy, db_y.
    pub fn list(&self) -> Vec<&DMatrix<F>> {
        let mut g: Vec<&DMatrix<F>> = self.rnn.iter().flat_map(Grads::list).collect();
        g.extend([&self.dW_hy, &self.db_y]);
        g
    }
    /// The same, mutable.
    pub fn list_mut(&mut self) -> Vec<&mut DMatrix<F>> {
        let mut g: Vec<&mut DMatrix<F>> = self.rnn.iter_mut().flat_map(Grads::list_mut).collect();
        g.extend([&mut self.dW_hy, &mut self.db_y]);
        g
    }
    /// Sets every gradient to zero (before a backward pass that accumulates).
    pub fn zero(&mut self) {
        self.list_mut().into_iter().for_each(|g| g.fill(F::zero()));
    }
    /// As the model's gradients (f64, exact).
    pub fn widen(&self) -> crate::model::NetGrads {
        crate::model::NetGrads {
            rnn: self.rnn.iter().map(Grads::widen).collect(),
            dW_hy: kernels::widen(&self.dW_hy),
            db_y: kernels::widen(&self.db_y),
        }
    }
}

/// The recorded forward pass of one layer over T steps of B examples, with its carried state.
///
/// A cell's cache stores each state it carries (h; the LSTM also c) as one sequence s_0 … s_T,
/// H × (T+1)·B with step t in columns tB..(t+1)B, s_0 the state the pass starts from; the rest
/// is written once, here, on [`Cache::sequences`].
pub trait Cache<F: Kernels>: Clone + std::fmt::Debug + Send {
    /// T, B and the state sequences: `[h]` (LSTM: `[h, c]`).
    fn sequences(&self) -> (usize, usize, &[DMatrix<F>]);
    /// The same, mutable.
    fn sequences_mut(&mut self) -> (usize, usize, &mut [DMatrix<F>]);

    /// T.
    fn steps(&self) -> usize {
        self.sequences().0
    }
    /// B.
    fn batch(&self) -> usize {
        self.sequences().1
    }
    /// H × T·B: h_1 … h_T (step t in columns tB..(t+1)B), the layer's output y = RNN(x).
    fn outputs(&self) -> DMatrixView<'_, F> {
        let (T, B, s) = self.sequences();
        s[0].columns(B, T * B)
    }
    /// H × B: the state h_t of step t (t = 0 is the initial state, t = T the last).
    fn h(&self, t: usize) -> DMatrixView<'_, F> {
        let (_, B, s) = self.sequences();
        s[0].columns(t * B, B)
    }
    /// Starts the next chunk where this one ended: h_0 ← h_T (and c_0 ← c_T), so a text is
    /// read as one long sequence while gradients stop at the chunk boundary.
    fn carry(&mut self) {
        let (T, B, s) = self.sequences_mut();
        for seq in s {
            let n = B * seq.nrows();
            seq.as_mut_slice().copy_within(T * n..(T + 1) * n, 0);
        }
    }
    /// h_0 = 0 (and c_0 = 0): independent sequences.
    fn reset(&mut self) {
        let (_, B, s) = self.sequences_mut();
        s.iter_mut()
            .for_each(|seq| seq.columns_mut(0, B).fill(F::zero()));
    }
    /// The initial state: `[h_0]` (LSTM: `[h_0, c_0]`), each H × B, as the model's
    /// [`Cell::zero_state`]; a checkpoint keeps it so `--resume` continues the streams exactly.
    fn initial_state(&self) -> Vec<DMatrix<F>> {
        let (_, B, s) = self.sequences();
        s.iter().map(|seq| seq.columns(0, B).into_owned()).collect()
    }
    /// Restores a state from [`Cache::initial_state`] (same count and shapes, else an error).
    fn set_initial_state(&mut self, state: &[DMatrix<F>]) -> shared::Result<()> {
        let (_, B, s) = self.sequences_mut();
        let same = state.len() == s.len()
            && state
                .iter()
                .zip(&*s)
                .all(|(m, seq)| m.shape() == (seq.nrows(), B));
        if !same {
            return Err(shared::Error::msg(format!(
                "a carried state of {} matrices of another size (expected {} of {} × {B})",
                state.len(),
                s.len(),
                s[0].nrows()
            )));
        }
        for (m, seq) in state.iter().zip(s) {
            seq.columns_mut(0, B).copy_from(m);
        }
        Ok(())
    }
}

/// The input part of every gate for all T steps in one product (the notes add W_xh x_t per
/// step; one GEMM over the T·B columns computes the same sums faster):
/// `A ← W_xh X + b_h 1ᵀ`. `W_xh` is G × D, `b_h` G × 1, `X` D × T·B, `A` G × T·B.
pub(crate) fn input_part<F: Kernels>(
    W_xh: &DMatrix<F>,
    b_h: &DMatrix<F>,
    X: &DMatrixView<'_, F>,
    mut A: DMatrixViewMut<'_, F>,
) {
    assert_eq!(X.nrows(), W_xh.ncols(), "input size");
    assert_eq!(A.ncols(), X.ncols(), "T·B");
    gemm(F::one(), W_xh, X, F::zero(), &mut A);
    let b = b_h.as_slice();
    for j in 0..A.ncols() {
        // On the column's slice: the element iterator of a view's column ran 1.2 ns an entry.
        let mut col = A.column_mut(j);
        for (a, b) in col.as_mut_slice().iter_mut().zip(b) {
            *a += *b;
        }
    }
}

/// The gradients of [`input_part`], for all steps at once after the BPTT loop:
/// dW_xh += Σ_t dA_t x_tᵀ = dA Xᵀ, db_h += Σ_t dA_t 1 (summed into `db`, G × 1, first), and
/// dX = W_xhᵀ dA if asked (`Wt_xh`: W_xhᵀ as [`Kernels::transpose_into`] left it).
pub(crate) fn input_part_backward<F: Kernels>(
    W_xh: &DMatrix<F>,
    Wt_xh: DMatrixView<'_, F>,
    dA: &DMatrix<F>,
    X: &DMatrixView<'_, F>,
    grads: &mut Grads<F>,
    db: &mut DMatrix<F>,
    dX: Option<&mut DMatrix<F>>,
) {
    gemm_nt(F::one(), dA, X, F::one(), &mut grads.dW_xh);
    F::sum_columns(dA, db);
    grads.db_h += &*db;
    if let Some(dX) = dX {
        assert_eq!(dX.shape(), X.shape(), "dX has the shape of X");
        let (W_xh, dA) = (W_xh.as_view(), dA.as_view());
        F::product_tn(F::one(), W_xh, Wt_xh, dA, F::zero(), dX.as_view_mut());
    }
}

/// σ'(a) from the output y = σ(a): y(1 − y) (as `shared::activation::sigmoid_grad`).
#[inline(always)]
pub(crate) fn sigmoid_grad<F: Kernels>(y: F) -> F {
    y * (F::one() - y)
}

/// tanh'(a) from the output y = tanh(a): 1 − y² (as `shared::activation::tanh_grad`).
#[inline(always)]
pub(crate) fn tanh_grad<F: Kernels>(y: F) -> F {
    F::one() - y * y
}

/// f64 values an L-layer stack of the widest cell (LSTM, 4H gate rows) holds with D inputs and
/// H units over T steps of B examples: weights, gradients and Adam's two moments (4 · 4H(D + H)
/// per layer) and the cache (gates, their gradients and the states: about 11 H per column).
/// For the command line's check before allocating (bytes: this times the float's size).
pub fn stack_floats(D: usize, H: usize, L: usize, T: usize, B: usize) -> f64 {
    let (D, H, L, T, B) = (D as f64, H as f64, L as f64, T as f64, B as f64);
    let weights = 4.0 * 4.0 * H * (D + H + 1.0) + (L - 1.0) * 4.0 * 4.0 * H * (2.0 * H + 1.0);
    weights + L * 11.0 * H * T * B + D * T * B
}
