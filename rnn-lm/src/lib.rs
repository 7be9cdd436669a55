//! # rnn-lm: notes §6, "DENNY BRITZ Language Model"
//!
//! A word-level recurrent language model, as the notes take it from Denny Britz's WildML RNN
//! tutorial, part 2 (`dennybritz/rnn-tutorial-rnnlm`, `RNNLM.ipynb`): one sentence at a time
//! (batch size 1), no biases, trained by plain SGD with truncated back-propagation through time.
//!
//! ## Sizes
//! | symbol | meaning | tutorial |
//! |---|---|---|
//! | `N_x` | vocabulary size (one-hot input and softmax output) | 8000 |
//! | `N_h` | hidden units | 100 |
//! | `T` | tokens of one sentence's input (`SENTENCE_START` + words); differs per sentence | ≈ 20 |
//! | `K` | BPTT truncation: each output reaches back K steps (K + 1 in all) | 4 |
//!
//! ## The model (notes' names and shapes)
//! ```text
//! U : N_h × N_x    W : N_h × N_h    V : N_x × N_h    x_i, y_i, t_i : N_x × 1 (one-hot x_i, t_i)
//! h_i = tanh(U x_i + W h_{i−1}),  h_{−1} = 0
//! y_i = softmax(V h_i)
//! L   = Σ_i −ln y_i[t_i]            (the tutorial reports L / number of target words)
//! ```
//! Backward, with K the truncation (notes §6; the notes write `b_{j+1}` for `b_{i,j+1}` and
//! leave the bracket of `dU` open: the sum over `i` covers both terms, as in `dW`):
//! ```text
//! dV = Σ_{i=T−1}^{0} (y_i − t_i) h_iᵀ
//! dW = Σ_{i=T−1}^{0} [ z_i h_{i−1}ᵀ + Σ_{j=i−1}^{i−K} b_ij h_{j−1}ᵀ ]
//! dU = Σ_{i=T−1}^{0} [ z_i x_iᵀ     + Σ_{j=i−1}^{i−K} b_ij x_jᵀ ]
//! z_i  = (Vᵀ (y_i − t_i)) ∘ (1 − h_i²)
//! b_ij = (Wᵀ z_{j+1}) ∘ (1 − h_j²)   if j = i − 1
//!        (Wᵀ b_i,j+1) ∘ (1 − h_j²)   if j < i − 1          (j ≥ 0)
//! ```
//! With K ≥ T − 1 this is exactly the full BPTT of the notes' RNN toy model,
//! `dz_i = (Vᵀ (y_i − t_i) + Wᵀ dz_{i+1}) ∘ (1 − h_i²)` ([`Bptt::Full`]).
//!
//! ## How the code departs from the loops (same math, far faster)
//! - `U x_i` with a one-hot `x_i` is column `x_i` of `U` (an embedding lookup), and `dU`'s
//!   `z x_iᵀ` adds to that one column: nothing of size `N_x` is ever multiplied by a one-hot.
//! - `V h_i` for all `i` is one GEMM `Y = V H` (N_x × N_h · N_h × T), and `dV = Σ_i (y_i −
//!   t_i) h_iᵀ` is one GEMM `(Y − T) Hᵀ`; so is `Vᵀ (y_i − t_i)` for all `i`. These three products
//!   are the whole cost at `N_x` = 8000; in the SGD step the `dV` product is written straight
//!   into `V` (`V ← V − lr (Y − T) Hᵀ`), so no `N_x × N_h` gradient buffer is written and read.
//! - The two sums over `i` and `j` are regrouped by `j`: `δ_j = z_j + Σ_i b_ij` collects all
//!   that flows back into step `j`, then `dW = Σ_j δ_j h_{j−1}ᵀ` is one GEMM and `dU` adds `δ_j`
//!   to column `x_j`. The `b_ij` recursion itself is the notes' (`N_h`-sized matrix-vector work).
//! - `softmax` uses its own vectorised exponential ([`softmax`]): 8000 libm calls per step cost
//!   as much as a GEMM.
//! - Optionally on several threads ([`Buffers::with_threads`], `--threads N`, [`parallel`]):
//!   `Y = V H` and the softmax split by time steps, `Vᵀ (Y − T)` and the update of V by columns
//!   of V; each number is still computed by one thread in the same order, so the results are
//!   bit-identical to one thread.
//!
//! ## Where each equation is
//! | notes §6 | code |
//! |---|---|
//! | h_i = tanh(U x_i + W h_{i−1}), y_i = softmax(V h_i) | [`Rnn::forward`] ([`kernels::scores`], [`softmax::softmax_mut`]; threads: [`parallel::scores_softmax`]) |
//! | L = Σ −ln y_i\[t_i\] | [`Buffers::loss`], [`Rnn::loss`] |
//! | y_i − t_i, dV | [`Rnn::backward`], [`Rnn::sgd_step`] ([`kernels::output_backward`]; threads: [`parallel::output_backward`]) |
//! | z_i, b_ij | `Rnn::truncated_deltas` (full BPTT: `Rnn::full_deltas`) |
//! | dW, dU | [`Rnn::backward`], [`Rnn::sgd_step`] |
//! | SGD, lr halving, evaluations | [`train::train_with_sgd`] |
//! | data, vocabulary, x/t pairs | [`corpus::Source::load`], [`corpus::Prepared`] |
//! | generation | [`Rnn::generate`], [`corpus::sample_sentences`] |
//!
//! The run's files: [`checkpoint`] (model + `--resume` state, written at every evaluation),
//! [`report`] (curves, summary). The crate's README gives each with its line range.
//!
//! ## Expected results
//! - Untrained, every `y_i` is close to uniform: the loss is `ln N_x` (8.987 for 8000) to three
//!   decimals (the tutorial prints 8.987440 against 8.987197; here 8.987325 on tinyshakespeare).
//! - The tutorial's small run (its first 100 sentences, 10 epochs, lr 0.005) goes 8.987 → 5.71;
//!   here tinyshakespeare with `--vocab 8000 --sentences 100` goes 8.987 → 5.57 with the same
//!   plateau-then-drop shape, the reddit sample (N_x = 4386) 8.386 → 5.95.
//! - The default run (generated corpus, 252 words) goes 5.532 → 2.231 against the corpus's
//!   entropy of 2.057.
//! - One SGD step at N_x = 8000, N_h = 100 is three products with V of 2·N_x·N_h·T flops:
//!   2.6–2.8 ms at T = 20 (`cargo bench -p rnn-lm`, fastest sample) against 8.0 ms for the same
//!   batched math in numpy and 41 ms for the tutorial's per-step numpy code; on two threads
//!   1.45 ms (fastest sample of `sgd_step_threads2/20`, the machine shared and noisy).

#![allow(non_snake_case)]

pub mod checkpoint;
pub mod corpus;
pub mod kernels;
pub mod parallel;
pub mod report;
pub mod softmax;
pub mod train;

use nalgebra::{DMatrix, DVector};
use shared::activation::tanh_grad;
use shared::gradcheck::{self, Report};
use shared::init;
use shared::kernels::fastmath;
use shared::kernels::{gemm_nt, gemm_tn, matvec_acc};
use shared::rng::{self, Rng};
use softmax::softmax_mut;

/// Which back-propagation through time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bptt {
    /// The notes' truncated BPTT with parameter K: output `i` reaches back to step `i − K`
    /// (Britz's `bptt_truncate`, 4 in the tutorial).
    Truncated(usize),
    /// Full BPTT as in the notes' RNN toy model: `dz_i = (Vᵀ(y_i − t_i) + Wᵀ dz_{i+1}) ∘ (1 −
    /// h_i²)`. Written as its own recursion, so that "K ≥ T − 1 equals full BPTT" is a check of
    /// two different programs.
    Full,
}

/// A generated sentence: the word ids drawn after `SENTENCE_START`, without `SENTENCE_END`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// The words, in order.
    pub words: Vec<usize>,
    /// True when `SENTENCE_END` was drawn, false when the length bound stopped it.
    pub ended: bool,
}

/// The language model: the three weight matrices of the notes, no biases.
#[derive(Clone, Debug, PartialEq)]
pub struct Rnn {
    /// N_h × N_x: column `w` is word `w`'s embedding (`U x_i` = column `x_i`).
    pub U: DMatrix<f64>,
    /// N_h × N_h: hidden to hidden.
    pub W: DMatrix<f64>,
    /// N_x × N_h: hidden to output scores.
    pub V: DMatrix<f64>,
}

/// Gradients of the summed sentence loss `L = Σ_i −ln y_i[t_i]`, shaped like the weights.
/// [`Rnn::backward`] adds into them; [`Grads::zero`] is the separate step that clears them.
#[derive(Clone, Debug, PartialEq)]
pub struct Grads {
    /// N_h × N_x.
    pub dU: DMatrix<f64>,
    /// N_h × N_h.
    pub dW: DMatrix<f64>,
    /// N_x × N_h.
    pub dV: DMatrix<f64>,
}

impl Grads {
    /// Zero gradients for `model`'s shapes.
    pub fn new(model: &Rnn) -> Grads {
        Grads {
            dU: DMatrix::zeros(model.U.nrows(), model.U.ncols()),
            dW: DMatrix::zeros(model.W.nrows(), model.W.ncols()),
            dV: DMatrix::zeros(model.V.nrows(), model.V.ncols()),
        }
    }

    /// Sets every gradient to 0.
    pub fn zero(&mut self) {
        self.dU.fill(0.0);
        self.dW.fill(0.0);
        self.dV.fill(0.0);
    }
}

/// The activations and backward buffers of one sentence, reused from sentence to sentence:
/// they grow (once) to the longest sentence seen, so the training loop allocates nothing.
/// Only the first `T` columns are meaningful after [`Rnn::forward`] on a sentence of length `T`.
#[derive(Clone, Debug)]
pub struct Buffers {
    /// N_h × (T + 1): column 0 is `h_{−1}` = 0, column `i + 1` is `h_i`.
    pub H: DMatrix<f64>,
    /// N_x × T: column `i` is `y_i` after the forward pass, `y_i − t_i` after the backward pass.
    pub Y: DMatrix<f64>,
    /// N_h × T: column `i` is `Vᵀ (y_i − t_i)`, then (truncated BPTT) `z_i`.
    pub Z: DMatrix<f64>,
    /// N_h × T: column `j` is `δ_j`, the gradient of L with respect to step j's pre-activation
    /// `U x_j + W h_{j−1}` (truncated: `z_j + Σ_i b_ij`; full: the toy model's `dz_j`).
    pub D: DMatrix<f64>,
    /// N_h × T: `Wᵀ b_{i,j+1}` for all chains at once, before the `∘ (1 − h_j²)`.
    WtB: DMatrix<f64>,
    /// N_h: `Wᵀ dz_{i+1}` in full BPTT.
    Wtb: DVector<f64>,
    /// T × N_h: `Hᵀ`, the states h_0 … h_{T−1} as rows, for [`kernels::scores`].
    Ht: Vec<f64>,
    /// N_h · T partial sums of `Vᵀ (y_i − t_i)` ([`kernels::output_backward`]).
    P: Vec<[f64; kernels::LANES]>,
    /// Length of the sentence the buffers hold.
    T: usize,
    /// Threads for the products with V ([`parallel`]); 1 unless [`Buffers::with_threads`].
    threads: usize,
}

impl Buffers {
    /// Buffers for `model`'s sizes and sentences of up to `T` tokens (longer ones grow them).
    pub fn new(model: &Rnn, T: usize) -> Buffers {
        let (N_h, N_x) = model.U.shape();
        Buffers {
            H: DMatrix::zeros(N_h, T + 1),
            Y: DMatrix::zeros(N_x, T),
            Z: DMatrix::zeros(N_h, T),
            D: DMatrix::zeros(N_h, T),
            WtB: DMatrix::zeros(N_h, T),
            Wtb: DVector::zeros(N_h),
            Ht: vec![0.0; T * N_h],
            P: vec![[0.0; kernels::LANES]; N_h * T],
            T: 0,
            threads: 1,
        }
    }

    /// The same buffers, with the products with V of [`Rnn::forward`] (hence [`Rnn::loss`]) and
    /// [`Rnn::sgd_step`] on `threads` threads (1 ..= [`parallel::MAX_THREADS`]): `Y = V H` and the
    /// softmax by time steps, the backward over V by hidden units, bit-identical to one thread;
    /// a product too small to repay a thread start stays on one ([`parallel::MIN_WORK_PER_THREAD`]).
    pub fn with_threads(mut self, threads: usize) -> shared::Result<Buffers> {
        self.threads = shared::parallel::check_threads(threads)?;
        Ok(self)
    }

    /// Threads for the products with V (see [`Buffers::with_threads`]).
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Makes room for a sentence of `T` tokens (allocates only when T is a new maximum).
    fn reserve(&mut self, T: usize) {
        let cap = self.Y.ncols();
        if T > cap {
            // Grow to the next power of two so a slowly lengthening stream reallocates rarely.
            let new = T.next_power_of_two();
            let grow = |m: &mut DMatrix<f64>, cols: usize| {
                let old = std::mem::replace(m, DMatrix::zeros(0, 0));
                *m = old.resize_horizontally(cols, 0.0);
            };
            grow(&mut self.H, new + 1);
            grow(&mut self.Y, new);
            grow(&mut self.Z, new);
            grow(&mut self.D, new);
            grow(&mut self.WtB, new);
            self.Ht.resize(new * self.H.nrows(), 0.0);
            self.P.resize(self.H.nrows() * new, [0.0; kernels::LANES]);
        }
    }

    /// Length of the sentence in the buffers.
    pub fn len(&self) -> usize {
        self.T
    }

    /// True before any forward pass (or after one on an empty sentence).
    pub fn is_empty(&self) -> bool {
        self.T == 0
    }

    /// `L = Σ_i −ln y_i[t_i]` of the sentence whose forward pass the buffers hold.
    pub fn loss(&self, t: &[usize]) -> f64 {
        assert_eq!(t.len(), self.T, "one target per input token");
        t.iter()
            .enumerate()
            .map(|(i, &t_i)| -self.Y[(t_i, i)].ln())
            .sum()
    }
}

impl Rnn {
    /// A model for `N_x` words and `N_h` hidden units, initialised as the tutorial does, in its
    /// order: `U ~ U(±1/√N_x)`, `V ~ U(±1/√N_h)`, `W ~ U(±1/√N_h)`.
    pub fn new(N_x: usize, N_h: usize, rng: &mut Rng) -> Rnn {
        let U = init::uniform_inv_sqrt(N_h, N_x, N_x, rng); // N_h × N_x
        let V = init::uniform_inv_sqrt(N_x, N_h, N_h, rng); // N_x × N_h
        let W = init::uniform_inv_sqrt(N_h, N_h, N_h, rng); // N_h × N_h
        Rnn { U, W, V }
    }

    /// Vocabulary size N_x.
    pub fn N_x(&self) -> usize {
        self.U.ncols()
    }

    /// Hidden size N_h.
    pub fn N_h(&self) -> usize {
        self.U.nrows()
    }

    /// Number of weights, `2 N_h N_x + N_h²` (1,610,000 for the tutorial's 8000 × 100).
    pub fn num_params(&self) -> usize {
        self.U.len() + self.W.len() + self.V.len()
    }

    /// Forward pass over one sentence's input ids `x` (`T` tokens): fills `buf.H` with
    /// `h_{−1} … h_{T−1}` and `buf.Y` with `y_0 … y_{T−1}`.
    pub fn forward(&self, x: &[usize], buf: &mut Buffers) {
        let T = x.len();
        buf.reserve(T);
        buf.T = T;
        let (N_x, N_h) = (self.N_x(), self.N_h());
        buf.H.column_mut(0).fill(0.0); // h_{−1} = 0
        for (i, &x_i) in x.iter().enumerate() {
            // h_i = tanh(U x_i + W h_{i−1}); U x_i with one-hot x_i is column x_i of U.
            let (before, after) = buf.H.as_mut_slice().split_at_mut((i + 1) * N_h);
            let (h_prev, h_i) = (&before[i * N_h..], &mut after[..N_h]); // N_h each
            h_i.copy_from_slice(self.U.column(x_i).as_slice());
            matvec_acc(&self.W, h_prev, h_i);
            fastmath::tanh_mut(h_i); // vectorised tanh, within 4 ulp of libm's
        }
        // y_i = softmax(V h_i) for every i at once: Y = V H[:, 1..=T]  (N_x × N_h · N_h × T).
        let Ht = &mut buf.Ht[..T * N_h]; // T × N_h: Ht[l·T + i] = h_i[l]
        for (i, h_i) in buf.H.columns(1, T).column_iter().enumerate() {
            for (l, h) in h_i.iter().enumerate() {
                Ht[l * T + i] = *h;
            }
        }
        let Y = &mut buf.Y.as_mut_slice()[..N_x * T]; // N_x × T
        // Y = V H (kernels::scores), then y_i = softmax(column i) (softmax_mut), on buf.threads
        // threads by time steps.
        parallel::scores_softmax(self.V.as_slice(), Ht, Y, N_x, N_h, T, buf.threads);
    }

    /// `L = Σ_i −ln y_i[t_i]`: the summed loss of one sentence (forward pass into `buf`).
    pub fn sentence_loss(&self, x: &[usize], t: &[usize], buf: &mut Buffers) -> f64 {
        self.forward(x, buf);
        buf.loss(t)
    }

    /// The tutorial's `calculate_loss`: total loss over `sentences` (pairs of input and target
    /// ids) divided by the number of target words.
    pub fn loss<'a>(
        &self,
        sentences: impl IntoIterator<Item = (&'a [usize], &'a [usize])>,
        buf: &mut Buffers,
    ) -> f64 {
        let (mut total, mut words) = (0.0, 0usize);
        for (x, t) in sentences {
            total += self.sentence_loss(x, t, buf);
            words += t.len();
        }
        total / words.max(1) as f64
    }

    /// `Y ← Y − T` after a forward pass over the same sentence: ∂L/∂(V h_i) = `y_i − t_i`
    /// (softmax with cross-entropy, `t_i` one-hot), the output deltas of both BPTTs.
    fn subtract_targets(&self, t: &[usize], buf: &mut Buffers) {
        assert_eq!(t.len(), buf.T, "one target per input token");
        for (i, &t_i) in t.iter().enumerate() {
            buf.Y[(t_i, i)] -= 1.0;
        }
    }

    /// `δ_j` of the notes' truncated BPTT, into `buf.D` (after `Z = Vᵀ (Y − T)`).
    fn truncated_deltas(&self, K: usize, buf: &mut Buffers) {
        let T = buf.T;
        let Buffers { H, Z, D, WtB, .. } = buf;
        // z_i = (Vᵀ (y_i − t_i)) ∘ (1 − h_i²)   (h_i is column i + 1 of H).
        for i in 0..T {
            for (z, h) in Z.column_mut(i).iter_mut().zip(H.column(i + 1).iter()) {
                *z *= tanh_grad(*h);
            }
        }
        // dW, dU: the z_i h_{i−1}ᵀ and z_i x_iᵀ terms.
        D.columns_mut(0, T).copy_from(&Z.columns(0, T));
        // The notes' chains b_{i,i−1}, b_{i,i−2}, … of all outputs i step back together: at
        // distance d = i − j, column i of Z holds b_{i,i−d} (at d = 0, b_{i,i} ≡ z_i), and one
        // product Wᵀ [b_{d,1}, …, b_{T−1,T−d}] advances every chain that reaches that far.
        // j = i − d never goes below step 0 (h_{−1} = 0 ends a chain) or beyond K steps back.
        for d in 1..=K.min(T.saturating_sub(1)) {
            let n = T - d; // outputs i = d … T−1
            let mut WtB = WtB.columns_mut(0, n); // N_h × n
            gemm_tn(1.0, &self.W, &Z.columns(d, n), 0.0, &mut WtB);
            for j in 0..n {
                let i = j + d;
                // b_ij = (Wᵀ b_{i,j+1}) ∘ (1 − h_j²)
                let mut b = Z.column_mut(i);
                for ((b, w), h) in b
                    .iter_mut()
                    .zip(WtB.column(j).iter())
                    .zip(H.column(j + 1).iter())
                {
                    *b = w * tanh_grad(*h);
                }
                // dW, dU: the b_ij h_{j−1}ᵀ and b_ij x_jᵀ terms.
                D.column_mut(j).axpy(1.0, &b, 1.0);
            }
        }
    }

    /// `dz_j` of the notes' RNN toy model (full BPTT), into `buf.D` (after `Z = Vᵀ (Y − T)`).
    fn full_deltas(&self, buf: &mut Buffers) {
        let T = buf.T;
        let Buffers { H, Z, D, Wtb, .. } = buf;
        // dz_i = (Vᵀ (y_i − t_i) + Wᵀ dz_{i+1}) ∘ (1 − h_i²),  dz_T = 0.
        for i in (0..T).rev() {
            if i + 1 < T {
                Wtb.gemv_tr(1.0, &self.W, &D.column(i + 1), 0.0);
            } else {
                Wtb.fill(0.0);
            }
            let mut dz = D.column_mut(i);
            for (((dz, w), z), h) in dz
                .iter_mut()
                .zip(Wtb.iter())
                .zip(Z.column(i).iter())
                .zip(H.column(i + 1).iter())
            {
                *dz = (z + w) * tanh_grad(*h);
            }
        }
    }

    /// Backward pass after [`Rnn::forward`] on `x`: adds the gradients of the sentence loss
    /// `L = Σ_i −ln y_i[t_i]` with respect to U, W, V into `g` (leaves `y_i − t_i` in `buf.Y`).
    pub fn backward(&self, x: &[usize], t: &[usize], bptt: Bptt, buf: &mut Buffers, g: &mut Grads) {
        assert_eq!(
            x.len(),
            buf.T,
            "backward needs the forward pass of the same sentence"
        );
        self.subtract_targets(t, buf);
        let T = buf.T;
        // Vᵀ (y_i − t_i) for all i: (N_x × N_h)ᵀ · N_x × T → N_h × T.
        gemm_tn(
            1.0,
            &self.V,
            &buf.Y.columns(0, T),
            0.0,
            &mut buf.Z.columns_mut(0, T),
        );
        match bptt {
            Bptt::Truncated(K) => self.truncated_deltas(K, buf),
            Bptt::Full => self.full_deltas(buf),
        }
        // dV = Σ_{i=T−1}^{0} (y_i − t_i) h_iᵀ, as one GEMM: (Y − T) H[:, 1..=T]ᵀ.
        gemm_nt(
            1.0,
            &buf.Y.columns(0, T),
            &buf.H.columns(1, T),
            1.0,
            &mut g.dV,
        );
        // dW = Σ_i [z_i h_{i−1}ᵀ + Σ_j b_ij h_{j−1}ᵀ] = Σ_j δ_j h_{j−1}ᵀ = D H[:, 0..T]ᵀ.
        gemm_nt(
            1.0,
            &buf.D.columns(0, T),
            &buf.H.columns(0, T),
            1.0,
            &mut g.dW,
        );
        // dU = Σ_i [z_i x_iᵀ + Σ_j b_ij x_jᵀ] = Σ_j δ_j x_jᵀ: δ_j goes to column x_j.
        for (j, &x_j) in x.iter().enumerate() {
            g.dU.column_mut(x_j).axpy(1.0, &buf.D.column(j), 1.0);
        }
    }

    /// One SGD step on one sentence (the tutorial's `sgd_step`): forward, backward, and
    /// `θ ← θ − lr dθ` for U, W, V. Returns the sentence loss before the step. Allocates nothing
    /// once `buf` has seen a sentence this long; equal to [`Rnn::backward`] followed by the
    /// update (a test checks it), but `dV` goes straight into `V` and only the sentence's
    /// columns of `U` are touched.
    pub fn sgd_step(
        &mut self,
        x: &[usize],
        t: &[usize],
        bptt: Bptt,
        lr: f64,
        buf: &mut Buffers,
    ) -> f64 {
        self.forward(x, buf);
        let loss = buf.loss(t);
        self.subtract_targets(t, buf);
        let (T, N_x, N_h) = (buf.T, self.N_x(), self.N_h());
        // In one pass over V (kernels::output_backward), block by block of rows:
        //   Z = Vᵀ (Y − T)  (Vᵀ (y_i − t_i) for all i, with the old V), then
        //   V ← V − lr dV,  dV = Σ_i (y_i − t_i) h_iᵀ = (Y − T) H[:, 1..=T]ᵀ;
        // on buf.threads threads by columns of V.
        parallel::output_backward(
            self.V.as_mut_slice(),
            &buf.Y.as_slice()[..N_x * T],          // N_x × T: y_i − t_i
            &buf.H.as_slice()[N_h..N_h * (T + 1)], // N_h × T: h_0 … h_{T−1}
            lr,
            &mut buf.Z.as_mut_slice()[..N_h * T], // N_h × T
            &mut buf.P,
            N_x,
            N_h,
            T,
            buf.threads,
        );
        // The deltas use the old W (Z used the old V): compute them before updating W.
        match bptt {
            Bptt::Truncated(K) => self.truncated_deltas(K, buf),
            Bptt::Full => self.full_deltas(buf),
        }
        // W ← W − lr dW,  dW = Σ_j δ_j h_{j−1}ᵀ = D H[:, 0..T]ᵀ.
        gemm_nt(
            -lr,
            &buf.D.columns(0, T),
            &buf.H.columns(0, T),
            1.0,
            &mut self.W,
        );
        // U ← U − lr dU,  dU = Σ_j δ_j x_jᵀ: only the sentence's columns change.
        for (j, &x_j) in x.iter().enumerate() {
            self.U.column_mut(x_j).axpy(-lr, &buf.D.column(j), 1.0);
        }
        loss
    }

    /// The function whose exact gradient truncated BPTT computes, so that finite differences
    /// can check it: `Σ_i −ln y_i[t_i]` where output `i` is recomputed from the state
    /// `h_{i−K−1}` held fixed at the values in `frozen` (N_h × (T + 1), as `Buffers::H` after a
    /// forward pass with the unperturbed weights) and the K + 1 steps `i − K … i` run with the
    /// current weights. At the unperturbed weights its value is the sentence loss; its gradient
    /// there is `Σ_i` of the notes' truncated sums, and only that (the path through `h_{i−K−1}`
    /// is cut).
    pub fn truncated_surrogate_loss(
        &self,
        x: &[usize],
        t: &[usize],
        K: usize,
        frozen: &DMatrix<f64>,
    ) -> f64 {
        let mut total = 0.0;
        let mut y = DMatrix::zeros(self.N_x(), 1); // N_x × 1
        for i in 0..x.len() {
            let start = i.saturating_sub(K);
            let mut h: DVector<f64> = frozen.column(start).into_owned(); // h_{start−1}, N_h
            for &x_j in &x[start..=i] {
                // h_j = tanh(U x_j + W h_{j−1})
                h = (self.U.column(x_j) + &self.W * &h).map(fastmath::tanh);
            }
            // V h_i
            kernels::scores(
                self.V.as_slice(),
                h.as_slice(),
                y.as_mut_slice(),
                self.N_x(),
                self.N_h(),
                1,
            );
            softmax_mut(y.as_mut_slice());
            total -= y[(t[i], 0)].ln();
        }
        total
    }

    /// Samples one sentence as the tutorial's `generate_sentence`: start from `start`
    /// (`SENTENCE_START`), feed each sampled word back, stop when `end` is drawn. Words in
    /// `never` (e.g. `UNKNOWN_TOKEN`) are never emitted: their probability is set to 0 before
    /// sampling, which is the tutorial's "draw again while it is UNKNOWN_TOKEN" without the
    /// loop. The hidden state is carried from word to word, which equals re-running the whole
    /// prefix as the tutorial does. Stops after `max_words` words if `end` never comes (the
    /// tutorial has no such bound; an untrained model may take very long to say `end`).
    pub fn generate(
        &self,
        start: usize,
        end: usize,
        never: &[usize],
        max_words: usize,
        rng: &mut Rng,
    ) -> Sample {
        let mut h = DVector::zeros(self.N_h()); // h_{−1} = 0
        let mut a = DVector::zeros(self.N_h());
        let mut y = DMatrix::zeros(self.N_x(), 1); // N_x × 1
        let mut words = Vec::new();
        let mut x_i = start;
        loop {
            // h_i = tanh(U x_i + W h_{i−1}),  y_i = softmax(V h_i)
            a.copy_from(&self.U.column(x_i));
            matvec_acc(&self.W, h.as_slice(), a.as_mut_slice());
            h.zip_apply(&a, |h, a| *h = fastmath::tanh(a)); // the same tanh as in training
            kernels::scores(
                self.V.as_slice(),
                h.as_slice(),
                y.as_mut_slice(),
                self.N_x(),
                self.N_h(),
                1,
            );
            softmax_mut(y.as_mut_slice());
            for &w in never {
                y[(w, 0)] = 0.0;
            }
            x_i = rng::weighted_index(rng, y.as_slice());
            if x_i == end {
                return Sample { words, ended: true };
            }
            words.push(x_i);
            if words.len() == max_words {
                return Sample {
                    words,
                    ended: false,
                };
            }
        }
    }
}

/// One parameter's finite-difference check (see [`gradient_check`]).
#[derive(Clone, Debug)]
pub struct ParamCheck {
    /// `"U"`, `"W"` or `"V"`.
    pub name: &'static str,
    /// Number of entries.
    pub size: usize,
    /// The tutorial's criterion: max over entries of |a − n| / (|a| + |n|), counting 0 where both
    /// are exactly 0 (the tutorial's 0/0 is NaN, which its `>` test silently passes).
    pub tutorial_error: f64,
    /// The workspace's comparison (relative error with a 1e-6 floor, absolute error, ...).
    pub report: Report,
}

impl ParamCheck {
    /// The tutorial's verdict: every entry within |a − n| / (|a| + |n|) < 0.01.
    pub fn passed(&self) -> bool {
        self.tutorial_error < 0.01
    }
}

impl std::fmt::Display for ParamCheck {
    /// The tutorial's two lines, with the errors it does not print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.report;
        writeln!(
            f,
            "Performing gradient check for parameter {} with size {}.",
            self.name, self.size
        )?;
        write!(
            f,
            "Gradient check for parameter {} {}: max |a−n|/(|a|+|n|) = {:.2e}; max relative \
             error {:.2e} at {:?}, max absolute error {:.2e}, largest entry {:.3}",
            self.name,
            if self.passed() { "passed" } else { "FAILED" },
            self.tutorial_error,
            r.max_rel_error,
            r.worst,
            r.max_abs_error,
            r.max_abs_numeric
        )
    }
}

/// The tutorial's check as `rnn-lm gradcheck` runs it: `np.random.seed(10); RNNNumpy(100, 10,
/// bptt_truncate=1000)` on `[0,1,2,3] → [1,2,3,4]`, with the sizes, K and seed given. Returns
/// the line saying what is compared, and the three checks.
pub fn tutorial_gradient_check(
    N_x: usize,
    N_h: usize,
    K: usize,
    seed: u64,
) -> (String, [ParamCheck; 3]) {
    let mut model = Rnn::new(N_x, N_h, &mut rng::seeded(seed));
    let (x, t) = ([0, 1, 2, 3], [1, 2, 3, 4]);
    let what = if K + 1 < x.len() {
        "the truncated loss"
    } else {
        "the loss (full BPTT)"
    };
    let head =
        format!("N_x = {N_x}, N_h = {N_h}, K = {K}, {x:?} → {t:?}: finite differences of {what}");
    (head, gradient_check(&mut model, &x, &t, Bptt::Truncated(K)))
}

/// The tutorial's `gradient_check`, on `model` itself (its code checks a global `model`):
/// the backward pass for (`x`, `t`) against 4th-order central differences of every entry of
/// U, W and V. With `Bptt::Truncated(K)` and K < T − 1 the finite differences are taken of
/// [`Rnn::truncated_surrogate_loss`], the function truncated BPTT is the exact gradient of;
/// otherwise of the sentence loss.
pub fn gradient_check(model: &mut Rnn, x: &[usize], t: &[usize], bptt: Bptt) -> [ParamCheck; 3] {
    let T = x.len();
    let mut buf = Buffers::new(model, T);
    let mut g = Grads::new(model);
    model.forward(x, &mut buf);
    let frozen = buf.H.clone(); // N_h × (T + 1)
    model.backward(x, t, bptt, &mut buf, &mut g);
    let loss = |m: &Rnn| match bptt {
        Bptt::Truncated(K) if K + 1 < T => m.truncated_surrogate_loss(x, t, K, &frozen),
        _ => m.sentence_loss(x, t, &mut Buffers::new(m, T)),
    };
    type Pick = fn(&mut Rnn) -> &mut DMatrix<f64>;
    let params: [(&'static str, Pick, &DMatrix<f64>); 3] = [
        ("U", |m| &mut m.U, &g.dU),
        ("W", |m| &mut m.W, &g.dW),
        ("V", |m| &mut m.V, &g.dV),
    ];
    params.map(|(name, pick, analytic)| {
        let numeric = gradcheck::numeric_gradient(model, pick, loss, gradcheck::STEP);
        let tutorial = analytic.zip_map(&numeric, |a, n| {
            if a == n {
                0.0
            } else {
                (a - n).abs() / (a.abs() + n.abs())
            }
        });
        ParamCheck {
            name,
            size: analytic.len(),
            tutorial_error: tutorial.max(),
            report: gradcheck::compare(analytic, &numeric),
        }
    })
}
