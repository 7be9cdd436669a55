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
//! | the notes' equations | forward | backward |
//! |---|---|---|
//! | vanilla: s_t = tanh(U x_t + W s_{t−1} + b_h) (here W_xh = U, W_hh = W) | [`Rnn`]'s `Cell::forward` | `Cell::backward` |
//! | LSTM: f, i, o = σ(W_xh x_t + W_hh h_{t−1} + b_h), g = tanh(…), c_t = f∘c_{t−1} + i∘g, h_t = o∘tanh(c_t) | [`Lstm`]: `input_part` (all t) + `step_product` (per t) + the gate loop | [`Lstm`]'s `Cell::backward`, gate by gate |
//! | GRU: z, r = σ(W·[h_{t−1}, x_t]), h̃ = tanh(W·[r∗h_{t−1}, x_t]), h_t = (1 − z)∗h_{t−1} + z∗h̃ | [`Gru`]'s `Cell::forward` | [`Gru`]'s `Cell::backward` |
//! | stacked: y₁ = RNN₁(x), …, y = RNN_n(y_{n−1}) | [`Stack::forward`] | [`Stack::backward`] |
//! | y_t = Softmax(W_hy h_t + b_y) | [`charlm::CharLm::forward`] | [`charlm::CharLm::backward`] |
//!
//! The README maps every equation to file and line range.
//!
//! Size legend (as in llm.c): **D** input size, **H** hidden size, **T** time steps, **B**
//! examples in a mini-batch, **L** layers, **V** vocabulary size. Columns are examples: a
//! sequence batch is one D × T·B matrix whose step t is the column block tB..(t+1)B, so a
//! batch of 32 runs as matrix products, and the input part of every gate is one GEMM over all
//! T steps at once (only the recurrent part W_hh h_{t−1} must go step by step).
//!
//! Expected result (`cargo run --release -p lstm-gru`, ≈ 50 s): on the adding problem with
//! T = 100 the LSTM and GRU reach held-out MSE < 0.01 (0.00017 and 0.00023 at seed 1), the
//! vanilla RNN stays near 1/6 ≈ 0.167. `lstm-gru text`: a 2 × 128 LSTM reaches ≈ 0.71 nats per
//! character on the generated corpus in 1000 steps (the text's entropy: 0.559). `--resume`
//! continues a `text` checkpoint exactly ([`charlm::Session`]).
//!
//! Speed (`cargo bench -p lstm-gru`; one LSTM layer, H = D = 128, T = 50, forward + backward):
//! ≈ 1.8 ms at batch 1, ≈ 37 ms at batch 32 (GEMM-bound: 1.26 GFLOP against a 54 GFLOP/s
//! `gemm_256` yardstick); numpy 1.2–2.7× slower, PyTorch 1.5–12× (README, "Speed").
//! `--threads N` ([`parallel`]) splits each mini-batch's sequences over N threads, equal to one
//! thread up to rounding: `lstm_threads2/32` ≈ 24 ms, a `text` run's training ≈ 1.9× faster.

#![allow(non_snake_case)]

pub mod adding;
pub mod charlm;
pub mod gru;
pub mod lstm;
pub mod parallel;
pub mod rnn;
pub mod stack;

pub use gru::Gru;
pub use lstm::Lstm;
pub use rnn::Rnn;
pub use stack::{Stack, StackTape};

use nalgebra::{DMatrix, DMatrixView, DMatrixViewMut};
use shared::kernels::{gemm, gemm_nt, gemm_tn};
use shared::rng::Rng;

/// One recurrent layer: parameters, a forward pass over a whole sequence batch that records
/// what the backward pass needs on a [`Tape`], and the backward pass (BPTT) itself.
///
/// The gradient of a cell has the cell's own type (as llm.c keeps `ParameterTensors` for both
/// weights and gradients): `grad.W_hh` is ∂E/∂W_hh.
pub trait Cell: Clone + Sized + Send + Sync {
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
pub trait Tape: Clone + std::fmt::Debug + Send {
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
    /// The initial state carried into the next chunk: `[h_0]` (LSTM: `[h_0, c_0]`), each H × B;
    /// a checkpoint keeps it so `--resume` continues the streams exactly.
    fn initial_state(&self) -> Vec<DMatrix<f64>>;
    /// Restores a state from [`Tape::initial_state`] (same count and shapes, else an error).
    fn set_initial_state(&mut self, state: &[DMatrix<f64>]) -> shared::Result<()>;
}

/// For [`Tape::carry`]: in a sequence of states stored as T + 1 blocks of H × B (s_0 … s_T,
/// block t in columns tB..(t+1)B), s_0 ← s_T.
pub(crate) fn carry_last_block(seq: &mut DMatrix<f64>, T: usize, B: usize) {
    let n = B * seq.nrows();
    let end = T * n;
    seq.as_mut_slice().copy_within(end..end + n, 0);
}

/// Copies `state` into the H × B blocks `dst` (for [`Tape::set_initial_state`]).
pub(crate) fn copy_state(
    state: &[DMatrix<f64>],
    dst: Vec<DMatrixViewMut<'_, f64>>,
) -> shared::Result<()> {
    if state.len() != dst.len() || state.iter().zip(&dst).any(|(s, d)| s.shape() != d.shape()) {
        return Err(shared::Error::msg(format!(
            "a carried state of {} matrices of another size (expected {} of {:?})",
            state.len(),
            dst.len(),
            dst.first().map(|d| d.shape())
        )));
    }
    for (s, mut d) in state.iter().zip(dst) {
        d.copy_from(s);
    }
    Ok(())
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
/// goes to the GEMM kernel; a single column (B = 1) is a matrix–vector product ([`gemv`]):
/// the GEMM kernel would repack all of `a` (the 4H × H weights) at every step.
pub(crate) fn step_product(
    alpha: f64,
    a: DMatrixView<'_, f64>,
    b: DMatrixView<'_, f64>,
    beta: f64,
    mut c: DMatrixViewMut<'_, f64>,
) {
    if b.ncols() == 1 {
        gemv(
            alpha,
            &a,
            b.column(0).as_slice(),
            beta,
            c.column_mut(0).as_mut_slice(),
        );
    } else {
        gemm(alpha, &a, &b, beta, &mut c);
    }
}

/// `c ← α aᵀ b + β c` for one time step (the backward pass's ∂E/∂h_{t−1} = W_hhᵀ dA_t), with
/// the same batch-1 shortcut as [`step_product`] ([`gemv_t`]).
pub(crate) fn step_product_tn(
    alpha: f64,
    a: DMatrixView<'_, f64>,
    b: DMatrixView<'_, f64>,
    beta: f64,
    mut c: DMatrixViewMut<'_, f64>,
) {
    if b.ncols() == 1 {
        gemv_t(
            alpha,
            &a,
            b.column(0).as_slice(),
            beta,
            c.column_mut(0).as_mut_slice(),
        );
    } else {
        gemm_tn(alpha, &a, &b, beta, &mut c);
    }
}

/// `y ← α A x + β y` for a column-major A (m × n, each column contiguous): four columns per
/// pass over y, so y is loaded and stored n/4 times instead of n (nalgebra's gemv streams y
/// once per column and ran at a third of this speed). Products and sums in a fixed order,
/// without fused multiply–adds: the same bits with or without AVX2.
pub fn gemv(alpha: f64, a: &DMatrixView<'_, f64>, x: &[f64], beta: f64, y: &mut [f64]) {
    assert_eq!((a.nrows(), a.ncols()), (y.len(), x.len()), "gemv: shapes");
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        unsafe { gemv_avx2(alpha, a, x, beta, y) };
        return;
    }
    gemv_body(alpha, a, x, beta, y);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn gemv_avx2(alpha: f64, a: &DMatrixView<'_, f64>, x: &[f64], beta: f64, y: &mut [f64]) {
    gemv_body(alpha, a, x, beta, y);
}

#[inline(always)]
fn gemv_body(alpha: f64, a: &DMatrixView<'_, f64>, x: &[f64], beta: f64, y: &mut [f64]) {
    if beta != 1.0 {
        y.iter_mut().for_each(|v| *v *= beta);
    }
    let n = x.len();
    let mut j = 0;
    while j + 4 <= n {
        let (c0, c1) = (a.column(j), a.column(j + 1));
        let (c2, c3) = (a.column(j + 2), a.column(j + 3));
        let (c0, c1, c2, c3) = (c0.as_slice(), c1.as_slice(), c2.as_slice(), c3.as_slice());
        let (x0, x1, x2, x3) = (
            alpha * x[j],
            alpha * x[j + 1],
            alpha * x[j + 2],
            alpha * x[j + 3],
        );
        for (i, v) in y.iter_mut().enumerate() {
            *v += (c0[i] * x0 + c1[i] * x1) + (c2[i] * x2 + c3[i] * x3);
        }
        j += 4;
    }
    for (j, &xj) in x.iter().enumerate().skip(j) {
        let (c, xj) = (a.column(j), alpha * xj);
        for (v, c) in y.iter_mut().zip(c.as_slice()) {
            *v += c * xj;
        }
    }
}

/// `y ← α Aᵀ x + β y` for a column-major A (m × n, each column contiguous): y_j is the dot
/// product of column j with x, summed in 16 partial sums (entry i into sum i mod 16, i.e. four
/// AVX2 registers of four lanes: four independent addition chains) that are added in a fixed
/// order, the rest of m after them. No fused multiply–adds: the same bits with or without
/// AVX2 (nalgebra's gemv_tr ran one addition chain, at a third of this speed).
pub fn gemv_t(alpha: f64, a: &DMatrixView<'_, f64>, x: &[f64], beta: f64, y: &mut [f64]) {
    assert_eq!((a.nrows(), a.ncols()), (x.len(), y.len()), "gemv_t: shapes");
    let whole = x.len() - x.len() % 16;
    for (j, v) in y.iter_mut().enumerate() {
        let col = a.column(j);
        let c = col.as_slice();
        let mut acc = [0.0; 16];
        partial_dots(&c[..whole], &x[..whole], &mut acc);
        let quads = [0, 4, 8, 12].map(|k| (acc[k] + acc[k + 2]) + (acc[k + 1] + acc[k + 3]));
        let mut d = (quads[0] + quads[2]) + (quads[1] + quads[3]);
        for (c, x) in c[whole..].iter().zip(&x[whole..]) {
            d += c * x;
        }
        *v = if beta == 0.0 {
            alpha * d
        } else {
            alpha * d + beta * *v
        };
    }
}

/// acc[k] += Σ_{i ≡ k mod 16} c_i x_i (len a multiple of 16).
fn partial_dots(c: &[f64], x: &[f64], acc: &mut [f64; 16]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        unsafe { partial_dots_avx2(c, x, acc) };
        return;
    }
    partial_dots_plain(c, x, acc);
}

/// [`partial_dots`] without AVX2.
fn partial_dots_plain(c: &[f64], x: &[f64], acc: &mut [f64; 16]) {
    for (c, x) in c.chunks_exact(16).zip(x.chunks_exact(16)) {
        for k in 0..16 {
            acc[k] += c[k] * x[k];
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn partial_dots_avx2(c: &[f64], x: &[f64], acc: &mut [f64; 16]) {
    use std::arch::x86_64::*;
    assert!(c.len() == x.len() && c.len().is_multiple_of(16));
    // SAFETY: every load reads 4 f64 inside c or x (i + 16 ≤ len); acc holds 16.
    unsafe {
        let p = acc.as_mut_ptr();
        let mut s = [0, 4, 8, 12].map(|k| _mm256_loadu_pd(p.add(k)));
        for i in (0..c.len()).step_by(16) {
            for (k, s) in s.iter_mut().enumerate() {
                let cv = _mm256_loadu_pd(c.as_ptr().add(i + 4 * k));
                let xv = _mm256_loadu_pd(x.as_ptr().add(i + 4 * k));
                *s = _mm256_add_pd(*s, _mm256_mul_pd(cv, xv));
            }
        }
        for (k, s) in s.into_iter().enumerate() {
            _mm256_storeu_pd(p.add(4 * k), s);
        }
    }
}

/// Runs `f` compiled for AVX2 where the CPU has it (the closure is inlined into a function
/// with that target feature), else as is: for the gates' elementwise loops, which vectorise
/// with [`sigmoid`] and [`tanh`]. No fused multiply–adds either way: the same bits.
#[inline(always)]
pub(crate) fn with_avx2(f: impl FnOnce()) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        unsafe { call_avx2(f) };
        return;
    }
    f();
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn call_avx2(f: impl FnOnce()) {
    f();
}

/// σ(x) = 1/(1 + e^{−x}) through `shared::kernels::fastmath` (no libm call, no branch the compiler
/// cannot turn into a select, so the gate loops vectorise): with e = e^{−|x|} ≤ 1,
/// σ(x) = 1/(1 + e) for x ≥ 0 and e/(1 + e) for x < 0 (the same value, never overflowing).
#[inline(always)]
pub fn sigmoid(x: f64) -> f64 {
    let e = shared::kernels::fastmath::exp_nonpositive(-x.abs());
    let num = if x >= 0.0 { 1.0 } else { e };
    num / (1.0 + e)
}

/// tanh x through `shared::kernels::fastmath` (see [`sigmoid`]).
#[inline(always)]
pub fn tanh(x: f64) -> f64 {
    shared::kernels::fastmath::tanh(x)
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

/// Runs `$body` with the type `$C` set to the cell that `$kind` (a [`CellKind`]) names: the
/// command line picks a cell at run time, the code is generic over it.
#[macro_export]
macro_rules! with_cell {
    ($kind:expr, $C:ident => $body:expr) => {
        match $kind {
            $crate::CellKind::Rnn => {
                type $C = $crate::Rnn;
                $body
            }
            $crate::CellKind::Lstm => {
                type $C = $crate::Lstm;
                $body
            }
            $crate::CellKind::Gru => {
                type $C = $crate::Gru;
                $body
            }
        }
    };
}

/// `v` if it is a positive finite number, else an error naming `flag` (for `--lr` and the like).
pub fn positive(flag: &str, v: f64) -> shared::Result<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(shared::Error::flag(flag, "must be a positive number"))
    }
}

/// The most f64 values a run may hold in its buffers: 2^30, 8 GiB.
pub const MAX_FLOATS: f64 = (1u64 << 30) as f64;

/// Refuses sizes whose buffers would not fit in [`MAX_FLOATS`]: `floats` is the estimate of
/// the f64 values the run would allocate, `flags` names the flags that set it.
pub fn check_memory(floats: f64, flags: &str) -> shared::Result<()> {
    if floats <= MAX_FLOATS {
        return Ok(());
    }
    Err(shared::Error::msg(format!(
        "{flags}: these sizes need about {:.0} GiB of buffers (at most {} GiB)",
        floats * 8.0 / (1u64 << 30) as f64,
        (MAX_FLOATS as u64 * 8) >> 30
    )))
}

/// f64 values of an L-layer stack of the widest cell (LSTM, G = 4H gate rows) with D inputs and
/// H units over T steps of B examples: weights, gradients and Adam's two moments (4 · 4H(D + H)
/// per layer) and the tape (gates, their gradients and the states: about 11 H per column).
pub fn stack_floats(D: usize, H: usize, L: usize, T: usize, B: usize) -> f64 {
    let (D, H, L, T, B) = (D as f64, H as f64, L as f64, T as f64, B as f64);
    let weights = 4.0 * 4.0 * H * (D + H + 1.0) + (L - 1.0) * 4.0 * 4.0 * H * (2.0 * H + 1.0);
    weights + L * 11.0 * H * T * B + D * T * B
}

/// Which cell to run (a command-line choice).
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

    /// All three, in the order a comparison runs them.
    pub const ALL: [CellKind; 3] = [CellKind::Rnn, CellKind::Lstm, CellKind::Gru];

    /// The kind named `name`, if any.
    pub fn from_name(name: &str) -> Option<CellKind> {
        [CellKind::Rnn, CellKind::Lstm, CellKind::Gru]
            .into_iter()
            .find(|k| k.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The batch-1 kernels against nalgebra's products, odd sizes included (remainders).
    #[test]
    fn gemv_kernels_match_nalgebra() {
        let mut rng = shared::rng::seeded(3);
        for (m, n) in [(512, 128), (37, 13), (16, 4), (3, 1)] {
            let a = shared::init::uniform(m + 2, n, -1.0, 1.0, &mut rng);
            let a = a.rows(1, m); // a view with column stride m + 2
            let x = shared::init::uniform(n, 1, -1.0, 1.0, &mut rng);
            let xt = shared::init::uniform(m, 1, -1.0, 1.0, &mut rng);
            let y0 = shared::init::uniform(m, 1, -1.0, 1.0, &mut rng);
            let yt0 = shared::init::uniform(n, 1, -1.0, 1.0, &mut rng);
            for beta in [0.0, 1.0, 0.5] {
                let mut y = y0.clone();
                gemv(0.7, &a, x.as_slice(), beta, y.as_mut_slice());
                let want = 0.7 * a * &x + beta * &y0;
                assert!((y - want).amax() < 1e-12, "gemv {m}×{n}");
                let mut y = yt0.clone();
                gemv_t(0.7, &a, xt.as_slice(), beta, y.as_mut_slice());
                let want = 0.7 * a.transpose() * &xt + beta * &yt0;
                assert!((y - want).amax() < 1e-12, "gemv_t {m}×{n}");
            }
        }
    }

    /// The AVX2 partial sums are bit for bit those of the plain loop.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn partial_dots_same_bits_with_and_without_avx2() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let mut rng = shared::rng::seeded(4);
        let c = shared::init::uniform(96, 1, -1.0, 1.0, &mut rng);
        let x = shared::init::uniform(96, 1, -1.0, 1.0, &mut rng);
        let (mut a, mut b) = ([0.25; 16], [0.25; 16]);
        partial_dots_plain(c.as_slice(), x.as_slice(), &mut a);
        // SAFETY: AVX2 is present (checked above).
        unsafe { partial_dots_avx2(c.as_slice(), x.as_slice(), &mut b) };
        assert_eq!(a.map(f64::to_bits), b.map(f64::to_bits));
    }
}
