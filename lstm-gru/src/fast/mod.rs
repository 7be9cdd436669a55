//! The engine layer: the forward and backward passes training runs, on preallocated buffers.
//!
//! They compute what [`crate::model`] computes (`tests/fast.rs` holds them to it: loss, outputs
//! and every gradient within 1e-12 relative, several sizes, batch 1 and larger), arranged for
//! speed rather than for reading:
//!
//! - the input part of every gate for all T steps is one GEMM, W_xh X + b_h 1ᵀ
//!   (`input_part`), and so are the weight gradients after the BPTT loop (dW = Σ_t dA_t x_tᵀ
//!   = dA Xᵀ, `input_part_backward`); only the recurrent product W_hh h_{t−1} goes step by
//!   step (`step_product`), as a matrix–vector product at batch 1;
//! - a gate's pre-activations, activations and gradients live in one 4H × T·B (or 3H × T·B)
//!   buffer, each example's column holding all gates, and the elementwise gate loops run over
//!   slices, compiled for AVX-512 and AVX2 and picked once per process (σ and tanh from
//!   `shared::kernels::fastmath`: no libm call);
//! - every buffer is allocated once, in a cache made before the loop: a forward + backward pass
//!   allocates nothing but matrixmultiply's packing buffers (`tests/alloc.rs`);
//! - a cache keeps its initial state between chunks ([`Cache::carry`]), so a text is read as
//!   B long streams; [`parallel`] splits a batch's sequences over threads.
//!
//! The backward passes *accumulate* into the gradients (zero them first, as llm.c does).

pub mod adding;
pub mod charlm;
pub mod gru;
pub mod lstm;
pub mod parallel;
pub mod rnn;
pub mod stack;

pub use stack::StackCache;

use crate::model::{Cell, Grads};
use nalgebra::{DMatrix, DMatrixView, DMatrixViewMut};
use shared::kernels::{gemm, gemm_nt, gemm_tn, gemv, gemv_t, sum_columns};

/// A [`Cell`] with the engine's passes.
pub trait FastCell: Cell {
    /// The buffers of a pass over T steps of B examples, with the carried initial state.
    type FastCache: Cache;

    /// The buffers for T steps of B examples, with h_0 (and c_0) = 0.
    fn fast_cache(&self, T: usize, B: usize) -> Self::FastCache;
    /// Runs the cell over `X` (D × T·B) from the cache's initial state and records every gate
    /// and state in it; the outputs are `cache.outputs()`.
    fn forward_fast(&self, X: DMatrixView<'_, f64>, cache: &mut Self::FastCache);
    /// BPTT through the last [`FastCell::forward_fast`] (same `X` and cache): `dH` (H × T·B) is
    /// ∂E/∂h_t from above. *Accumulates* the gradients into `grads` and, if asked, writes
    /// ∂E/∂x_t into `dX` (D × T·B).
    fn backward_fast(
        &self,
        X: DMatrixView<'_, f64>,
        cache: &mut Self::FastCache,
        dH: DMatrixView<'_, f64>,
        grads: &mut Grads,
        dX: Option<&mut DMatrix<f64>>,
    );
}

/// The recorded forward pass of one layer over T steps of B examples, with its carried state.
///
/// A cell's cache stores each state it carries (h; the LSTM also c) as one sequence s_0 … s_T,
/// H × (T+1)·B with step t in columns tB..(t+1)B, s_0 the state the pass starts from; the rest
/// is written once, here, on [`Cache::sequences`].
pub trait Cache: Clone + std::fmt::Debug + Send {
    /// T, B and the state sequences: `[h]` (LSTM: `[h, c]`).
    fn sequences(&self) -> (usize, usize, &[DMatrix<f64>]);
    /// The same, mutable.
    fn sequences_mut(&mut self) -> (usize, usize, &mut [DMatrix<f64>]);

    /// T.
    fn steps(&self) -> usize {
        self.sequences().0
    }
    /// B.
    fn batch(&self) -> usize {
        self.sequences().1
    }
    /// H × T·B: h_1 … h_T (step t in columns tB..(t+1)B), the layer's output y = RNN(x).
    fn outputs(&self) -> DMatrixView<'_, f64> {
        let (T, B, s) = self.sequences();
        s[0].columns(B, T * B)
    }
    /// H × B: the state h_t of step t (t = 0 is the initial state, t = T the last).
    fn h(&self, t: usize) -> DMatrixView<'_, f64> {
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
        s.iter_mut().for_each(|seq| seq.columns_mut(0, B).fill(0.0));
    }
    /// The initial state: `[h_0]` (LSTM: `[h_0, c_0]`), each H × B, as the model's
    /// [`Cell::zero_state`]; a checkpoint keeps it so `--resume` continues the streams exactly.
    fn initial_state(&self) -> Vec<DMatrix<f64>> {
        let (_, B, s) = self.sequences();
        s.iter().map(|seq| seq.columns(0, B).into_owned()).collect()
    }
    /// Restores a state from [`Cache::initial_state`] (same count and shapes, else an error).
    fn set_initial_state(&mut self, state: &[DMatrix<f64>]) -> shared::Result<()> {
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
/// dW_xh += Σ_t dA_t x_tᵀ = dA Xᵀ, db_h += Σ_t dA_t 1 (summed into `db`, G × 1, first), and
/// dX = W_xhᵀ dA if asked.
pub(crate) fn input_part_backward(
    W_xh: &DMatrix<f64>,
    dA: &DMatrix<f64>,
    X: &DMatrixView<'_, f64>,
    grads: &mut Grads,
    db: &mut DMatrix<f64>,
    dX: Option<&mut DMatrix<f64>>,
) {
    gemm_nt(1.0, dA, X, 1.0, &mut grads.dW_xh);
    sum_columns(dA, &mut db.column_mut(0));
    grads.db_h += &*db;
    if let Some(dX) = dX {
        assert_eq!(dX.shape(), X.shape(), "dX has the shape of X");
        gemm_tn(1.0, W_xh, dA, 0.0, dX);
    }
}

/// `c ← α a b + β c` for one time step (`b`, `c`: the B columns of one step). A mini-batch
/// goes to the GEMM kernel; a single column (B = 1) is a matrix–vector product
/// (`shared::kernels::gemv`): the GEMM kernel would repack all of `a` (the 4H × H weights) at
/// every step.
pub(crate) fn step_product(
    alpha: f64,
    a: DMatrixView<'_, f64>,
    b: DMatrixView<'_, f64>,
    beta: f64,
    mut c: DMatrixViewMut<'_, f64>,
) {
    if b.ncols() == 1 {
        let x = b.column(0);
        gemv(
            alpha,
            &a,
            x.as_slice(),
            beta,
            c.column_mut(0).as_mut_slice(),
        );
    } else {
        gemm(alpha, &a, &b, beta, &mut c);
    }
}

/// `c ← α aᵀ b + β c` for one time step (the backward pass's ∂E/∂h_{t−1} = W_hhᵀ dA_t), with
/// the same batch-1 shortcut as [`step_product`] (`shared::kernels::gemv_t`).
pub(crate) fn step_product_tn(
    alpha: f64,
    a: DMatrixView<'_, f64>,
    b: DMatrixView<'_, f64>,
    beta: f64,
    mut c: DMatrixViewMut<'_, f64>,
) {
    if b.ncols() == 1 {
        let x = b.column(0);
        gemv_t(
            alpha,
            &a,
            x.as_slice(),
            beta,
            c.column_mut(0).as_mut_slice(),
        );
    } else {
        gemm_tn(alpha, &a, &b, beta, &mut c);
    }
}

/// f64 values an L-layer stack of the widest cell (LSTM, 4H gate rows) holds with D inputs and
/// H units over T steps of B examples: weights, gradients and Adam's two moments (4 · 4H(D + H)
/// per layer) and the cache (gates, their gradients and the states: about 11 H per column).
/// For the command line's check before allocating.
pub fn stack_floats(D: usize, H: usize, L: usize, T: usize, B: usize) -> f64 {
    let (D, H, L, T, B) = (D as f64, H as f64, L as f64, T as f64, B as f64);
    let weights = 4.0 * 4.0 * H * (D + H + 1.0) + (L - 1.0) * 4.0 * 4.0 * H * (2.0 * H + 1.0);
    weights + L * 11.0 * H * T * B + D * T * B
}
