//! Notes §6, "DENNY BRITZ Language Model": the model, its loss, back-propagation through time
//! (the notes' truncated form and the full one) and the SGD update, one equation per line.
//!
//! | symbol | meaning | shape |
//! |---|---|---|
//! | `N_x` | vocabulary size | |
//! | `N_h` | hidden units | |
//! | `T` | tokens of the sentence's input (`SENTENCE_START` + words) | |
//! | `K` | truncation: each output reaches back K steps | |
//! | `U`, `W`, `V` | input, recurrent and output weights (no biases) | N_h × N_x, N_h × N_h, N_x × N_h |
//! | `x_i`, `t_i` | one-hot input word and target word of step i | N_x × 1 |
//! | `h_i` | hidden state (Britz's code: `s[t]`), `h_{−1}` = 0 | N_h × 1 |
//! | `y_i` | next-word probabilities (Britz's code: `o[t]`) | N_x × 1 |
//!
//! ```text
//! h_i  = tanh(U x_i + W h_{i−1})
//! y_i  = softmax(V h_i)
//! L    = Σ_i −ln y_i[t_i]
//! dV   = Σ_{i=T−1}^{0} (y_i − t_i) h_iᵀ
//! dW   = Σ_{i=T−1}^{0} [ z_i h_{i−1}ᵀ + Σ_{j=i−1}^{i−K} b_ij h_{j−1}ᵀ ]
//! dU   = Σ_{i=T−1}^{0} [ z_i x_iᵀ     + Σ_{j=i−1}^{i−K} b_ij x_jᵀ ]
//! z_i  = (Vᵀ (y_i − t_i)) ∘ (1 − h_i²)
//! b_ij = (Wᵀ z_{j+1}) ∘ (1 − h_j²)     if j = i − 1
//!        (Wᵀ b_i,j+1) ∘ (1 − h_j²)     if j < i − 1         (j ≥ 0)
//! ```
//!
//! Everything here is plain nalgebra and libm, written for reading; the training run uses
//! [`crate::fast`], which computes the same numbers (a test holds them to 1e-12).
//! Where the code departs from the page: `U x_i` with a one-hot `x_i` is column `x_i` of `U`,
//! and `z x_iᵀ` adds `z` to column `x_i` of `dU` (nothing is multiplied by a one-hot vector).

use nalgebra::{DMatrix, DVector, DVectorView};
use shared::activation::{softmax_columns_mut, tanh_grad};
use shared::init;
use shared::rng::Rng;

/// Which back-propagation through time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bptt {
    /// The notes' truncated BPTT with parameter K: output `i` reaches back to step `i − K`
    /// (Britz's `bptt_truncate`, 4 in the tutorial).
    Truncated(usize),
    /// Full BPTT as in the notes' RNN toy model: `dz_i = (Vᵀ(y_i − t_i) + Wᵀ dz_{i+1}) ∘ (1 −
    /// h_i²)`. Written as its own recursion, so that "K ≥ T − 1 equals full BPTT" (the notes'
    /// remark) is a check of two different programs.
    Full,
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

/// Gradients of the sentence loss `L = Σ_i −ln y_i[t_i]`, shaped like the weights.
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

    /// The terms of step `j`'s pre-activation `U x_j + W h_{j−1}` for its gradient `delta`:
    /// `dW += delta h_{j−1}ᵀ`, `dU += delta x_jᵀ` (`delta` added to column `x_j`).
    fn add_step(&mut self, delta: &DVector<f64>, h_prev: DVectorView<f64>, x_j: usize) {
        self.dW.ger(1.0, delta, &h_prev, 1.0); // N_h × N_h
        self.dU.column_mut(x_j).axpy(1.0, delta, 1.0); // N_h × 1
    }
}

/// What [`Rnn::forward`] keeps for [`Rnn::backward`]: the sentence it was computed from and its
/// states and outputs. The backward pass reads the input words from here, so it always runs on
/// the sentence of its forward pass.
#[derive(Clone, Debug, PartialEq)]
pub struct Cache {
    /// x_0 … x_{T−1}: the input word ids.
    x: Vec<usize>,
    /// N_h × (T + 1): column 0 is `h_{−1}` = 0, column `i + 1` is `h_i`.
    H: DMatrix<f64>,
    /// N_x × T: column `i` is `y_i`.
    Y: DMatrix<f64>,
}

impl Cache {
    /// The input word ids the cache was computed from.
    pub fn x(&self) -> &[usize] {
        &self.x
    }

    /// N_h × (T + 1): `h_{−1}` = 0, then `h_0 … h_{T−1}`.
    pub fn H(&self) -> &DMatrix<f64> {
        &self.H
    }

    /// N_x × T: `y_0 … y_{T−1}`.
    pub fn Y(&self) -> &DMatrix<f64> {
        &self.Y
    }

    /// T, the number of input words.
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// True for an empty sentence.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    // ANCHOR: loss
    /// `L = Σ_i −ln y_i[t_i]` for the targets `t` (one per input word).
    pub fn loss(&self, t: &[usize]) -> f64 {
        assert_eq!(t.len(), self.len(), "one target per input word");
        t.iter()
            .enumerate()
            .map(|(i, &t_i)| -self.Y[(t_i, i)].ln())
            .sum()
    }
    // ANCHOR_END: loss
}

impl Rnn {
    // ANCHOR: init
    /// A model for `N_x` words and `N_h` hidden units, initialised as the tutorial does, in its
    /// order: `U ~ U(±1/√N_x)`, `V ~ U(±1/√N_h)`, `W ~ U(±1/√N_h)`.
    pub fn new(N_x: usize, N_h: usize, rng: &mut Rng) -> Rnn {
        let U = init::uniform_inv_sqrt(N_h, N_x, N_x, rng); // N_h × N_x
        let V = init::uniform_inv_sqrt(N_x, N_h, N_h, rng); // N_x × N_h
        let W = init::uniform_inv_sqrt(N_h, N_h, N_h, rng); // N_h × N_h
        Rnn { U, W, V }
    }
    // ANCHOR_END: init

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

    // ANCHOR: forward
    /// The forward pass over one sentence's input word ids `x`.
    pub fn forward(&self, x: &[usize]) -> Cache {
        let mut H = DMatrix::zeros(self.N_h(), x.len() + 1); // N_h × (T + 1), h_{−1} = 0
        let mut Y = DMatrix::zeros(self.N_x(), x.len()); // N_x × T
        for (i, &x_i) in x.iter().enumerate() {
            // h_i = tanh(U x_i + W h_{i−1})   (N_h × 1)
            let h_i = (self.U.column(x_i) + &self.W * H.column(i)).map(f64::tanh);
            // y_i = softmax(V h_i)   (N_x × 1)
            let mut y_i = &self.V * &h_i;
            softmax_columns_mut(&mut y_i);
            H.set_column(i + 1, &h_i);
            Y.set_column(i, &y_i);
        }
        Cache {
            x: x.to_vec(),
            H,
            Y,
        }
    }
    // ANCHOR_END: forward

    // ANCHOR: backward
    /// The backward pass for the targets `t` of the sentence `cache` was computed from: adds
    /// dU, dW, dV of `L = Σ_i −ln y_i[t_i]` into `g`.
    pub fn backward(&self, cache: &Cache, t: &[usize], bptt: Bptt, g: &mut Grads) {
        let Cache { x, H, Y } = cache;
        assert_eq!(t.len(), x.len(), "one target per input word");
        let mut dz_next = DVector::zeros(self.N_h()); // full BPTT's dz_{i+1}; dz_T = 0
        for i in (0..x.len()).rev() {
            let h_i = H.column(i + 1); // N_h × 1
            // y_i = softmax(V h_i), L ∋ −ln y_i[t_i]  →  ∂L/∂(V h_i) = y_i − t_i   (N_x × 1)
            let mut dy = Y.column(i).into_owned();
            dy[t[i]] -= 1.0;
            // dV += (y_i − t_i) h_iᵀ   (N_x × N_h)
            g.dV.ger(1.0, &dy, &h_i, 1.0);
            // y_i = softmax(V h_i)  →  Vᵀ (y_i − t_i) flows back into h_i   (N_h × 1)
            let mut dz = DVector::zeros(self.N_h());
            dz.gemv_tr(1.0, &self.V, &dy, 0.0);
            match bptt {
                Bptt::Full => {
                    // h_i also feeds h_{i+1} = tanh(U x_{i+1} + W h_i):
                    // dz_i = (Vᵀ (y_i − t_i) + Wᵀ dz_{i+1}) ∘ (1 − h_i²)   (N_h × 1)
                    dz.gemv_tr(1.0, &self.W, &dz_next, 1.0);
                    dz.zip_apply(&h_i, |d, h| *d *= tanh_grad(h));
                    // h_i = tanh(U x_i + W h_{i−1})  →  dW += dz_i h_{i−1}ᵀ, dU += dz_i x_iᵀ
                    g.add_step(&dz, H.column(i), x[i]);
                    dz_next = dz;
                }
                Bptt::Truncated(K) => {
                    // z_i = (Vᵀ (y_i − t_i)) ∘ (1 − h_i²)   (N_h × 1)
                    dz.zip_apply(&h_i, |d, h| *d *= tanh_grad(h));
                    // h_i = tanh(U x_i + W h_{i−1})  →  dW += z_i h_{i−1}ᵀ, dU += z_i x_iᵀ
                    g.add_step(&dz, H.column(i), x[i]);
                    // b_ij for j = i − 1 down to i − K (and not below step 0); b_ii ≡ z_i.
                    let mut b = dz;
                    for j in (i.saturating_sub(K)..i).rev() {
                        // h_{j+1} = tanh(U x_{j+1} + W h_j)  →
                        // b_ij = (Wᵀ b_i,j+1) ∘ (1 − h_j²)   (N_h × 1; j = i − 1: Wᵀ z_i)
                        let mut b_j = DVector::zeros(self.N_h());
                        b_j.gemv_tr(1.0, &self.W, &b, 0.0);
                        b_j.zip_apply(&H.column(j + 1), |d, h| *d *= tanh_grad(h));
                        // h_j = tanh(U x_j + W h_{j−1})  →  dW += b_ij h_{j−1}ᵀ, dU += b_ij x_jᵀ
                        g.add_step(&b_j, H.column(j), x[j]);
                        b = b_j;
                    }
                }
            }
        }
    }
    // ANCHOR_END: backward

    // ANCHOR: update
    /// The SGD update `θ ← θ − lr dθ` of U, W and V.
    pub fn update(&mut self, g: &Grads, lr: f64) {
        self.U -= lr * &g.dU; // U ← U − lr dU
        self.W -= lr * &g.dW; // W ← W − lr dW
        self.V -= lr * &g.dV; // V ← V − lr dV
    }
    // ANCHOR_END: update

    /// One SGD step on one sentence (the tutorial's `sgd_step`): forward, backward, update.
    /// Returns the sentence loss before the step.
    pub fn sgd_step(&mut self, x: &[usize], t: &[usize], bptt: Bptt, lr: f64) -> f64 {
        let cache = self.forward(x);
        let mut g = Grads::new(self);
        self.backward(&cache, t, bptt, &mut g);
        self.update(&g, lr);
        cache.loss(t)
    }

    /// The function whose exact gradient truncated BPTT computes, so that finite differences
    /// can check it: `Σ_i −ln y_i[t_i]` where output `i` is recomputed from the state
    /// `h_{i−K−1}` held fixed at its value in `frozen` (a forward pass with the unperturbed
    /// weights) and the K + 1 steps `i − K … i` run with the current weights. At the unperturbed
    /// weights its value is the sentence loss; its gradient there is `Σ_i` of the notes'
    /// truncated sums, and only that (the path through `h_{i−K−1}` is cut).
    pub fn truncated_surrogate_loss(&self, frozen: &Cache, t: &[usize], K: usize) -> f64 {
        let x = frozen.x();
        let mut L = 0.0;
        for i in 0..x.len() {
            let start = i.saturating_sub(K);
            let mut h = frozen.H.column(start).into_owned(); // h_{start−1}, N_h × 1
            for &x_j in &x[start..=i] {
                // h_j = tanh(U x_j + W h_{j−1})
                h = (self.U.column(x_j) + &self.W * &h).map(f64::tanh);
            }
            // y_i = softmax(V h_i)
            let mut y = &self.V * &h; // N_x × 1
            softmax_columns_mut(&mut y);
            L -= y[t[i]].ln();
        }
        L
    }
}
