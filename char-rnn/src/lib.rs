//! # char-rnn — notes §6, "Minimal Character-Level Vanilla RNN Model by Andrej Karpathy"
//!
//! The notes take this model from Karpathy's blog post "The Unreasonable Effectiveness of
//! Recurrent Neural Networks" (<http://karpathy.github.io/2015/05/21/rnn-effectiveness/>) and its
//! 112-line numpy program `min-char-rnn.py` (gist `karpathy/d4dee566867f8291f086`):
//!
//! ```text
//! s_t = tanh(U x_t + W s_{t−1} + b_h)          (K1)
//! y_t = SoftMax(V s_t + b_y)                   (K2)
//! ```
//!
//! (the notes do not number these two equations; the comments below call them K1 and K2),
//! trained on a text cut into consecutive chunks of T characters (x = chunk, target = the
//! chunk shifted by one character), by truncated back-propagation through those T steps, with
//! the hidden state carried from one chunk to the next.
//!
//! ## Sizes (the notes' legend)
//! - `N_x`: number of distinct characters (the vocabulary; 65 for Shakespeare)
//! - `N_h`: hidden units (100)
//! - `T`: characters per chunk (25; the notes write T = 24 but their examples have 25)
//! - `U: N_h × N_x`, `W: N_h × N_h`, `V: N_x × N_h`, `b_h: N_h × 1`, `b_y: N_x × 1`
//!
//! ## What the reference does, and we do too
//! weights 0.01·N(0, 1), biases 0; loss = Σ_t −ln y_t(target_t) summed over the T characters;
//! every gradient clipped element-wise to [−5, 5]; Adagrad with learning rate 0.1 and
//! `sqrt(mem + 1e-8)`; the hidden state reset to 0 only at the start of each pass over the text.
//! Departures: the vocabulary is sorted (the reference's `list(set(data))` order changes from
//! run to run), every random draw is seeded, and the softmax subtracts the column maximum.
//!
//! ## Where the notes live in the code
//! | notes | code |
//! |---|---|
//! | (K1) s_t = tanh(U x_t + W s_{t−1} + b_h), U x_t = column x_t of U | [`CharRnn::forward`] (the loop over t), [`CharRnn::feed`] |
//! | (K2) y_t = SoftMax(V s_t + b_y), all t in one GEMM | [`CharRnn::forward`], [`CharRnn::probabilities`] (with a temperature) |
//! | loss Σ_t −ln y_t(target_t), gradients by back-propagation through the T steps | [`CharRnn::forward`], [`CharRnn::backward`] |
//! | `x_train[k]` / `y_train[k]`: chunks of T characters and the same shifted by one | [`Trainer::step`] on [`vocab::Text`] |
//! | N_x = 65 characters (the sorted set of the text's characters) | [`Vocab`] |
//! | "feed one character, get the next, 200 times; the hidden state carries over" | [`CharRnn::sample`], [`CharRnn::sample_primed`] |
//! | clip to [−5, 5], Adagrad (the reference's loop) | [`Grads::clip`], [`Trainer::step`] |
//!
//! ## Expected result
//! On tinyshakespeare the smoothed loss starts at 25·ln 65 = 104.36 and reaches ≈ 57 after 5k
//! iterations, ≈ 54 after 10k and ≈ 48 after 100k (≈ 1.9 nats per character); samples then
//! show speaker names and word-like tokens. The default run (100,000 iterations on the
//! generated corpus, 29 characters) ends near 24 nats per chunk, 0.96 nats per character,
//! against the corpus's exact entropy of 0.56.
//!
//! ## Speed
//! One iteration (N_x = 65, N_h = 100, T = 25: forward, backward, clip, Adagrad) takes
//! ≈ 111 µs on one core of the reference machine, ≈ 16× the numpy program; its floor is set by
//! the 49 sequential 100 × 100 matrix–vector products, which stream W (80 KB, more than the
//! 32 KB L1 cache) from L2 at each step (see the README's "Speed").
#![allow(non_snake_case)]

pub mod checkpoint;
pub mod corpus;
pub mod report;
pub mod trainer;
pub mod vocab;

use nalgebra::{DMatrix, DVector};
use shared::kernels::fastmath;
use shared::kernels::{gemm, gemm_nt, gemm_tn, matvec_acc};
use shared::rng::{self, Rng};

pub use trainer::Trainer;
pub use vocab::Vocab;

/// The five parameters of (K1)–(K2), in the notes' names.
#[derive(Clone, Debug, PartialEq)]
pub struct CharRnn {
    /// N_h × N_x: input to hidden; column `c` is the embedding of character `c`.
    pub U: DMatrix<f64>,
    /// N_h × N_h: hidden to hidden (the recurrent connection).
    pub W: DMatrix<f64>,
    /// N_x × N_h: hidden to output.
    pub V: DMatrix<f64>,
    /// N_h × 1: hidden bias.
    pub b_h: DMatrix<f64>,
    /// N_x × 1: output bias.
    pub b_y: DMatrix<f64>,
}

/// Gradients of the summed chunk loss, one per parameter, same shapes.
#[derive(Clone, Debug, PartialEq)]
pub struct Grads {
    /// N_h × N_x
    pub dU: DMatrix<f64>,
    /// N_h × N_h
    pub dW: DMatrix<f64>,
    /// N_x × N_h
    pub dV: DMatrix<f64>,
    /// N_h × 1
    pub db_h: DMatrix<f64>,
    /// N_x × 1
    pub db_y: DMatrix<f64>,
}

/// Preallocated buffers of one chunk: the forward pass fills them, the backward pass reads
/// and overwrites them, so an iteration allocates nothing.
#[derive(Clone, Debug)]
pub struct Work {
    /// N_h × (T + 1): column 0 is s_{−1} (the carried state), column t + 1 is s_t.
    pub S: DMatrix<f64>,
    /// N_x × T: column t is y_t; the backward pass turns it into y_t − t_t in place.
    pub Y: DMatrix<f64>,
    /// N_h × T: Vᵀ(y_t − t_t), then ∂L/∂s_t, then dz_t = ∂L/∂(U x_t + W s_{t−1} + b_h), in place.
    pub dZ: DMatrix<f64>,
    /// N_h × N_h: a copy of Wᵀ for the backward pass.
    pub Wt: DMatrix<f64>,
}

impl Work {
    /// Buffers for chunks of `T` characters.
    pub fn new(N_x: usize, N_h: usize, T: usize) -> Self {
        Work {
            S: DMatrix::zeros(N_h, T + 1),
            Y: DMatrix::zeros(N_x, T),
            dZ: DMatrix::zeros(N_h, T),
            Wt: DMatrix::zeros(N_h, N_h),
        }
    }

    /// The chunk length T these buffers hold.
    pub fn seq_len(&self) -> usize {
        self.Y.ncols()
    }

    /// s_{T−1}, the last hidden state of the chunk (carried to the next one): N_h × 1.
    pub fn last_state(&self) -> nalgebra::DVectorView<'_, f64> {
        self.S.column(self.S.ncols() - 1)
    }
}

impl Grads {
    /// Zero gradients shaped like `model`.
    pub fn zeros_like(model: &CharRnn) -> Self {
        let z = |m: &DMatrix<f64>| DMatrix::zeros(m.nrows(), m.ncols());
        Grads {
            dU: z(&model.U),
            dW: z(&model.W),
            dV: z(&model.V),
            db_h: z(&model.b_h),
            db_y: z(&model.b_y),
        }
    }

    /// Clips every entry of every gradient to [−limit, limit] (the reference's
    /// `np.clip(dparam, -5, 5, out=dparam)`: element-wise, not by norm).
    pub fn clip(&mut self, limit: f64) {
        for g in [
            &mut self.dU,
            &mut self.dW,
            &mut self.dV,
            &mut self.db_h,
            &mut self.db_y,
        ] {
            shared::optim::clip(g, limit);
        }
    }

    /// [`Grads::clip`] when dU is zero outside the columns `seen` (the chunk's characters):
    /// the other columns of dU are left alone (clipping 0 gives 0).
    pub fn clip_seen(&mut self, limit: f64, seen: &[usize]) {
        for g in [&mut self.dW, &mut self.dV, &mut self.db_h, &mut self.db_y] {
            shared::optim::clip(g, limit);
        }
        let N_h = self.dU.nrows();
        let dU = self.dU.as_mut_slice();
        for &c in seen {
            for v in &mut dU[c * N_h..(c + 1) * N_h] {
                *v = v.clamp(-limit, limit);
            }
        }
    }
}

impl CharRnn {
    /// Karpathy's initialisation: U, W, V drawn (in that order) from 0.01·N(0, 1), biases 0.
    pub fn new(N_x: usize, N_h: usize, rng: &mut Rng) -> Self {
        let U = shared::init::normal(N_h, N_x, 0.0, 0.01, rng); // N_h × N_x
        let W = shared::init::normal(N_h, N_h, 0.0, 0.01, rng); // N_h × N_h
        let V = shared::init::normal(N_x, N_h, 0.0, 0.01, rng); // N_x × N_h
        CharRnn {
            U,
            W,
            V,
            b_h: DMatrix::zeros(N_h, 1),
            b_y: DMatrix::zeros(N_x, 1),
        }
    }

    /// N_x, the vocabulary size.
    pub fn n_x(&self) -> usize {
        self.U.ncols()
    }

    /// N_h, the number of hidden units.
    pub fn n_h(&self) -> usize {
        self.W.nrows()
    }

    /// Floating-point operations of the matrix products in one chunk of `T` characters,
    /// forward and backward (2 per multiply-add): W s_{t−1} for T steps and Wᵀ dz_t for T − 1,
    /// 2 N_h² each; the GEMMs V S, dY Sᵀ and Vᵀ dY, 2 N_x N_h T each; dZ Sᵀ, 2 N_h² T. For
    /// N_x = 65, N_h = 100, T = 25: 2,455,000. (The one-hot products U x_t and dU are copies
    /// and additions, and tanh, exp and Adagrad are not counted.)
    pub fn product_flops(&self, T: usize) -> u64 {
        let (N_x, N_h, T) = (self.n_x() as u64, self.n_h() as u64, T as u64);
        2 * N_h * N_h * (2 * T - 1) + 6 * N_x * N_h * T + 2 * N_h * N_h * T
    }

    /// The parameters in a fixed order (U, W, V, b_h, b_y), for the optimizer and checkpoints.
    pub fn params_mut(&mut self) -> [&mut DMatrix<f64>; 5] {
        [
            &mut self.U,
            &mut self.W,
            &mut self.V,
            &mut self.b_h,
            &mut self.b_y,
        ]
    }

    /// Forward pass over one chunk: inputs `x` (T character indices), `targets` (the next
    /// characters), carried state `s_prev` (N_h × 1, the reference's `hprev`). Fills `work`
    /// and returns the loss Σ_t −ln y_t(target_t) (summed over the T characters, as printed).
    pub fn forward(
        &self,
        x: &[usize],
        targets: &[usize],
        s_prev: &DVector<f64>,
        work: &mut Work,
    ) -> f64 {
        let T = x.len();
        assert_eq!(targets.len(), T, "one target per input");
        assert_eq!(work.seq_len(), T, "buffers are sized for another T");
        let (N_x, N_h) = (self.n_x(), self.n_h());
        work.S.column_mut(0).copy_from(s_prev);
        for (t, &x_t) in x.iter().enumerate() {
            let (s_prev, mut s_t) = work.S.columns_range_pair_mut(t, t + 1); // N_h × 1 each
            let s_t = s_t.as_mut_slice();
            // s_t = tanh(U x_t + W s_{t−1} + b_h)   (K1)
            // x_t is one-hot, so U x_t is column x_t of U: a copy, not a product.
            let U_x_t = &self.U.as_slice()[x_t * N_h..(x_t + 1) * N_h];
            for ((a, u), b) in s_t.iter_mut().zip(U_x_t).zip(self.b_h.as_slice()) {
                *a = u + b;
            }
            matvec_acc(&self.W, s_prev.as_slice(), s_t); // += W s_{t−1}
            fastmath::tanh_mut(s_t); // vectorised tanh, within 4 ulp of libm's
        }
        // All T logits at once: [V s_0 + b_y, …, V s_{T−1} + b_y] = V S[:, 1..] + b_y   (K2)
        // as Y ← [b_y … b_y], then one GEMM Y += V S[:, 1..].
        for y_t in work.Y.as_mut_slice().chunks_exact_mut(N_x) {
            y_t.copy_from_slice(self.b_y.as_slice());
        }
        gemm(1.0, &self.V, &work.S.columns(1, T), 1.0, &mut work.Y); // N_x × T
        let mut loss = 0.0;
        for (y_t, &target) in work.Y.as_mut_slice().chunks_exact_mut(N_x).zip(targets) {
            let z_target = y_t[target];
            // y_t = SoftMax(V s_t + b_y). The maximum is subtracted first so exp cannot
            // overflow; the reference's `np.exp(ys[t]) / np.sum(np.exp(ys[t]))` does not (its
            // logits stay small enough that this never matters there).
            let max = y_t.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
            let sum = fastmath::exp_shifted_mut(y_t, max); // y_t ← exp(z − max), Σ
            let inv = 1.0 / sum;
            for y in y_t.iter_mut() {
                *y *= inv;
            }
            // −ln y_t(target) = ln Σ exp(z − max) − (z_target − max): finite even where the
            // probability itself underflows to 0.
            loss += sum.ln() - (z_target - max);
        }
        loss
    }

    /// Backward pass over the chunk `forward` just filled `work` with: writes ∂L/∂U, ∂L/∂W,
    /// ∂L/∂V, ∂L/∂b_h, ∂L/∂b_y into `grads` (overwriting them), unclipped.
    pub fn backward(&self, x: &[usize], targets: &[usize], work: &mut Work, grads: &mut Grads) {
        let T = x.len();
        assert_eq!(work.seq_len(), T, "buffers are sized for another T");
        // Softmax + cross-entropy: ∂L/∂(V s_t + b_y) = y_t − t_t (t_t one-hot): subtract 1 at
        // each target, in place, so Y becomes dY = [y_0 − t_0, …, y_{T−1} − t_{T−1}].
        for (t, &c) in targets.iter().enumerate() {
            work.Y[(c, t)] -= 1.0;
        }
        let N_h = self.n_h();
        let dY = &work.Y; // N_x × T
        // dV = Σ_t (y_t − t_t) s_tᵀ, written as one GEMM over the chunk: dY S[:, 1..]ᵀ.
        gemm_nt(1.0, dY, &work.S.columns(1, T), 0.0, &mut grads.dV); // N_x × N_h
        // db_y = Σ_t (y_t − t_t)
        sum_columns(dY.as_slice(), grads.db_y.as_mut_slice());
        // From (K2): the part of ∂L/∂s_t that comes from y_t is Vᵀ(y_t − t_t), all t at once.
        gemm_tn(1.0, &self.V, dY, 0.0, &mut work.dZ); // N_h × T
        // Back through time, t = T−1 … 0, from (K1):
        //   ∂L/∂s_t = Vᵀ(y_t − t_t) + Wᵀ dz_{t+1}        (the second term is 0 at t = T−1)
        //   dz_t    = (1 − s_t²) ∘ ∂L/∂s_t               (tanh' from the output s_t)
        // Column t of dZ holds Vᵀ(y_t − t_t); Wᵀ dz_{t+1} (the reference's dhnext) is added into
        // it in place, so it becomes ∂L/∂s_t, then dz_t.
        // Wᵀ is copied once per chunk so that each Wᵀ dz_t below is a fast column-wise product.
        self.W.transpose_to(&mut work.Wt); // N_h × N_h
        let dZ = work.dZ.as_mut_slice();
        let S = work.S.as_slice();
        for t in (0..T).rev() {
            let (before, from_t) = dZ.split_at_mut(t * N_h);
            let dz_t = &mut from_t[..N_h]; // ∂L/∂s_t, complete: step t + 1 added Wᵀ dz_{t+1}
            let s_t = &S[(t + 1) * N_h..(t + 2) * N_h]; // column t + 1 of S is s_t
            for (d, s) in dz_t.iter_mut().zip(s_t) {
                *d *= 1.0 - s * s; // dz_t = (1 − s_t²) ∘ ∂L/∂s_t
            }
            if t > 0 {
                // ∂L/∂s_{t−1} += Wᵀ dz_t, through W s_{t−1} in (K1).
                let ds_prev = &mut before[(t - 1) * N_h..];
                matvec_acc(&work.Wt, dz_t, ds_prev);
            }
        }
        let dZ = &work.dZ; // N_h × T
        // dW = Σ_t dz_t s_{t−1}ᵀ as one GEMM: dZ S[:, ..T]ᵀ (s_{−1} is the carried state).
        gemm_nt(1.0, dZ, &work.S.columns(0, T), 0.0, &mut grads.dW); // N_h × N_h
        // db_h = Σ_t dz_t
        sum_columns(dZ.as_slice(), grads.db_h.as_mut_slice());
        // dU = Σ_t dz_t x_tᵀ: x_t is one-hot, so dz_t is added to column x_t (a scatter-add).
        let dU = grads.dU.as_mut_slice();
        dU.fill(0.0);
        for (dz_t, &c) in dZ.as_slice().chunks_exact(N_h).zip(x) {
            for (u, d) in dU[c * N_h..(c + 1) * N_h].iter_mut().zip(dz_t) {
                *u += d;
            }
        }
    }

    /// The reference's `lossFun`: forward, then backward. Returns the summed loss; the
    /// gradients (unclipped) are in `grads` and s_{T−1} is `work.last_state()`.
    pub fn loss_and_grads(
        &self,
        x: &[usize],
        targets: &[usize],
        s_prev: &DVector<f64>,
        work: &mut Work,
        grads: &mut Grads,
    ) -> f64 {
        let loss = self.forward(x, targets, s_prev, work);
        self.backward(x, targets, work, grads);
        loss
    }

    /// Draws `n` characters: feeds `first` with state `s` (N_h × 1, updated in place), samples
    /// the next character from y_t, feeds it back, and so on (the reference's `sample`; the
    /// notes' "T = 1 RNN"). With `temperature` τ the distribution is SoftMax((V s_t + b_y)/τ):
    /// τ = 1 is the model's own, τ → 0 approaches the most likely character.
    pub fn sample(
        &self,
        s: &mut DVector<f64>,
        first: usize,
        n: usize,
        temperature: f64,
        rng: &mut Rng,
    ) -> Vec<usize> {
        assert!(temperature > 0.0, "temperature must be positive");
        let mut out = Vec::with_capacity(n);
        let mut z = DVector::zeros(self.n_x()); // N_x × 1
        let mut a = DVector::zeros(self.n_h()); // N_h × 1
        let mut c = first;
        for _ in 0..n {
            self.feed(s, c, &mut a);
            self.probabilities(s, temperature, &mut z);
            c = rng::weighted_index(rng, z.as_slice());
            out.push(c);
        }
        out
    }

    /// Primed sampling (the notes' "feed one character, get the next", repeated): starts from
    /// s = 0, feeds the characters of `prime` (at least one), then draws `n` more.
    pub fn sample_primed(
        &self,
        prime: &[usize],
        n: usize,
        temperature: f64,
        rng: &mut Rng,
    ) -> Vec<usize> {
        let (last, head) = prime
            .split_last()
            .expect("a prime of at least one character");
        let mut s = DVector::zeros(self.n_h()); // N_h × 1
        let mut a = DVector::zeros(self.n_h()); // N_h × 1
        for &c in head {
            self.feed(&mut s, c, &mut a);
        }
        self.sample(&mut s, *last, n, temperature, rng)
    }

    /// One step of (K1) for character `c`: s ← tanh(U x + W s + b_h). `a` is scratch (N_h × 1).
    pub fn feed(&self, s: &mut DVector<f64>, c: usize, a: &mut DVector<f64>) {
        a.copy_from(&self.U.column(c));
        *a += &self.b_h;
        matvec_acc(&self.W, s.as_slice(), a.as_mut_slice()); // += W s
        fastmath::tanh_mut(a.as_mut_slice()); // the same tanh as in training
        s.copy_from(a);
    }

    /// (K2) at temperature τ: p = SoftMax((V s + b_y)/τ), max-subtracted, into `p` (N_x × 1).
    pub fn probabilities(&self, s: &DVector<f64>, temperature: f64, p: &mut DVector<f64>) {
        p.copy_from(&self.b_y);
        matvec_acc(&self.V, s.as_slice(), p.as_mut_slice()); // += V s
        let max = p.max();
        p.apply(|v| *v = (*v - max) / temperature); // ≤ 0
        let sum = fastmath::exp_shifted_mut(p.as_mut_slice(), 0.0); // p ← exp(p), Σ
        *p /= sum;
    }
}

/// out = Σ_t (column t of the column-major matrix `m`), `out` as long as a column: the bias
/// gradients db_y = Σ_t (y_t − t_t) and db_h = Σ_t dz_t.
fn sum_columns(m: &[f64], out: &mut [f64]) {
    out.fill(0.0);
    for col in m.chunks_exact(out.len()) {
        for (o, v) in out.iter_mut().zip(col) {
            *o += v;
        }
    }
}
