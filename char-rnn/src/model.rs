//! The notes layer: notes §6, Karpathy's min-char-rnn, in the notes' symbols, on nalgebra.
//!
//! Sizes: N_x characters (the vocabulary), N_h hidden units, T characters per chunk.
//! U: N_h × N_x, W: N_h × N_h, V: N_x × N_h, b_h: N_h × 1, b_y: N_x × 1; x_t is the one-hot
//! of character `x[t]` (N_x × 1), s_t: N_h × 1, y_t: N_x × 1.
//!
//! ```text
//! s_t = tanh(U x_t + W s_{t−1} + b_h)          (K1)
//! y_t = SoftMax(V s_t + b_y)                   (K2)
//! L   = Σ_t −ln y_t(target_t)
//! ```
//!
//! (the notes do not number the two equations; the comments call them K1 and K2). The forward
//! and backward passes are the reference's `lossFun`, one equation per line. Training runs the
//! engine path [`crate::fast`], which computes the same numbers faster and is tested against
//! this file.

use nalgebra::{DMatrix, DVector};
use shared::activation::{softmax_columns_mut, tanh_grad};
use shared::rng::{self, Rng};

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

/// Gradients of the summed chunk loss L, one per parameter, same shapes.
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

/// What [`CharRnn::forward`] keeps for [`CharRnn::backward`]: the chunk it ran on (inputs and
/// targets), every s_t and y_t, and the loss. The backward pass reads the chunk from here, so
/// it always differentiates the forward pass that made this cache.
#[derive(Clone, Debug, PartialEq)]
pub struct Cache {
    /// The T input characters x[0..T].
    pub x: Vec<usize>,
    /// The T target characters (the inputs shifted by one).
    pub targets: Vec<usize>,
    /// N_h × (T + 1): column 0 is s_{−1} (the carried state), column t + 1 is s_t.
    pub S: DMatrix<f64>,
    /// N_x × T: column t is y_t.
    pub Y: DMatrix<f64>,
    /// L = Σ_t −ln y_t(target_t), summed over the T characters (as the reference prints it).
    pub loss: f64,
}

impl Cache {
    /// s_{T−1}, the last hidden state of the chunk (carried to the next one): N_h × 1.
    pub fn last_state(&self) -> DVector<f64> {
        self.S.column(self.S.ncols() - 1).into_owned()
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

    // ANCHOR: clip
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
    // ANCHOR_END: clip
}

impl CharRnn {
    // ANCHOR: init
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
    // ANCHOR_END: init

    /// N_x, the vocabulary size.
    pub fn n_x(&self) -> usize {
        self.U.ncols()
    }

    /// N_h, the number of hidden units.
    pub fn n_h(&self) -> usize {
        self.W.nrows()
    }

    // ANCHOR: forward
    /// Forward pass over one chunk (the first half of the reference's `lossFun`): inputs `x`
    /// (T characters), `targets` (the next characters), carried state `s_prev` (N_h × 1, the
    /// reference's `hprev`).
    pub fn forward(&self, x: &[usize], targets: &[usize], s_prev: &DVector<f64>) -> Cache {
        assert_eq!(targets.len(), x.len(), "one target per input");
        let (N_x, N_h, T) = (self.n_x(), self.n_h(), x.len());
        let mut S = DMatrix::zeros(N_h, T + 1); // N_h × (T + 1): s_{−1}, s_0, …, s_{T−1}
        let mut Y = DMatrix::zeros(N_x, T); // N_x × T: y_0, …, y_{T−1}
        S.set_column(0, s_prev);
        let mut loss = 0.0;
        for t in 0..T {
            // (K1) s_t = tanh(U x_t + W s_{t−1} + b_h); x_t is one-hot: U x_t is column x[t] of U
            let z_t = self.U.column(x[t]) + &self.W * S.column(t) + self.b_h.column(0); // N_h × 1
            let s_t = z_t.map(f64::tanh); // N_h × 1
            // (K2) y_t = SoftMax(V s_t + b_y), max-subtracted (the reference's is not)
            let mut y_t = &self.V * &s_t + self.b_y.column(0); // N_x × 1
            softmax_columns_mut(&mut y_t);
            // L = Σ_t −ln y_t(target_t)
            loss -= y_t[targets[t]].ln();
            S.set_column(t + 1, &s_t);
            Y.set_column(t, &y_t);
        }
        Cache {
            x: x.to_vec(),
            targets: targets.to_vec(),
            S,
            Y,
            loss,
        }
    }
    // ANCHOR_END: forward

    // ANCHOR: backward
    /// Backward pass through the T steps of `cache`'s chunk (the second half of `lossFun`):
    /// ∂L/∂U, ∂L/∂W, ∂L/∂V, ∂L/∂b_h, ∂L/∂b_y, unclipped.
    pub fn backward(&self, cache: &Cache) -> Grads {
        let Cache {
            x, targets, S, Y, ..
        } = cache;
        let mut g = Grads::zeros_like(self);
        // Wᵀ dz_{t+1}, the part of ∂L/∂s_t that comes through step t + 1 (the reference's
        // dhnext): 0 after the last step.
        let mut ds_next = DVector::zeros(self.n_h()); // N_h × 1
        for t in (0..x.len()).rev() {
            let (s_t, s_prev) = (S.column(t + 1), S.column(t)); // N_h × 1 each
            // (K2) with L: dy_t = ∂L/∂(V s_t + b_y) = y_t − onehot(target_t)
            let mut dy_t = Y.column(t).into_owned(); // N_x × 1
            dy_t[targets[t]] -= 1.0;
            // (K2): dV += dy_t s_tᵀ   (N_x × N_h)
            g.dV.ger(1.0, &dy_t, &s_t, 1.0);
            // (K2): db_y += dy_t   (N_x × 1)
            g.db_y += &dy_t;
            // (K2) and (K1) at t + 1: ds_t = Vᵀ dy_t + Wᵀ dz_{t+1}   (N_h × 1)
            let ds_t = self.V.tr_mul(&dy_t) + &ds_next;
            // (K1), through tanh: dz_t = (1 − s_t²) ∘ ds_t   (N_h × 1)
            let dz_t = ds_t.zip_map(&s_t, |d, s| tanh_grad(s) * d);
            // (K1): db_h += dz_t   (N_h × 1)
            g.db_h += &dz_t;
            // (K1): dU += dz_t x_tᵀ; x_t is one-hot: dz_t is added to column x[t] of dU
            let mut dU_x_t = g.dU.column_mut(x[t]); // N_h × 1
            dU_x_t += &dz_t;
            // (K1): dW += dz_t s_{t−1}ᵀ   (N_h × N_h)
            g.dW.ger(1.0, &dz_t, &s_prev, 1.0);
            // (K1): W s_{t−1} passes Wᵀ dz_t on to ds_{t−1}   (N_h × 1)
            ds_next = self.W.tr_mul(&dz_t);
        }
        g
    }
    // ANCHOR_END: backward

    // ANCHOR: sample
    /// (K1) for one character `c`: s ← tanh(U x + W s + b_h), x the one-hot of `c`.
    pub fn step(&self, s: &DVector<f64>, c: usize) -> DVector<f64> {
        (self.U.column(c) + &self.W * s + self.b_h.column(0)).map(f64::tanh) // N_h × 1
    }

    /// The output scores V s + b_y (N_x × 1), the argument of (K2)'s SoftMax: one per
    /// character, the larger the likelier (figure 17's "output layer").
    pub fn scores(&self, s: &DVector<f64>) -> DVector<f64> {
        &self.V * s + self.b_y.column(0) // N_x × 1
    }

    /// (K2) at temperature τ > 0: SoftMax((V s + b_y)/τ), N_x × 1. τ = 1 is the model's own
    /// distribution; τ → 0 approaches the most likely character.
    pub fn probabilities(&self, s: &DVector<f64>, temperature: f64) -> DVector<f64> {
        let mut p = self.scores(s) / temperature; // N_x × 1
        softmax_columns_mut(&mut p);
        p
    }

    /// The notes' "feed one character, get the next", `n` times (the reference's `sample`):
    /// feeds `first` into state `s` (N_h × 1, carried and updated), draws the next character
    /// from y at temperature τ, feeds it back. τ = 0 takes the most likely character (the
    /// largest score) instead of drawing: the limit τ → 0, with no random draw.
    pub fn sample(
        &self,
        s: &mut DVector<f64>,
        first: usize,
        n: usize,
        temperature: f64,
        rng: &mut Rng,
    ) -> Vec<usize> {
        let mut c = first;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            *s = self.step(s, c);
            c = if temperature == 0.0 {
                self.scores(s).imax()
            } else {
                let p = self.probabilities(s, temperature); // N_x × 1
                rng::weighted_index(rng, p.as_slice())
            };
            out.push(c);
        }
        out
    }
    // ANCHOR_END: sample
}
