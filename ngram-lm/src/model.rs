//! Notes §1, the network and its backward pass as the notes write them: the reference the
//! training path ([`crate::fast`]) is tested against, and what the gradient check runs on.
//!
//! Sizes (the notes use the assignment's numbers; cases are columns):
//!
//! | symbol | size | what |
//! |---|---|---|
//! | `B` | 100 | batch size |
//! | `D` | 50 | embedding size |
//! | `V` | 250 | vocabulary size |
//! | `H` | 200 | hidden units |
//! | `X0` | 3 × B | the three context word ids of each case |
//! | `K_i` | V × B | one-hot form of row i of `X0` |
//! | `W0` | V × D | word embeddings, row `w_{0i}` is word i's feature vector |
//! | `X1` | 3D × B | `[W0ᵀK1; W0ᵀK2; W0ᵀK3]`, eq. (1) |
//! | `W1`, `b1` | 3D × H, H × 1 | `X2 = W1ᵀX1 + b1`, `f` = sigmoid |
//! | `W2`, `b2` | H × V, V × 1 | `X3 = W2ᵀf(X2) + b2`, `g` = softmax, `y = g(X3)` |
//! | `t` | V × B | one-hot targets (the 4th word of each case) |
//!
//! Every product here is a plain nalgebra product, and the K_i are built as the one-hot
//! matrices the notes define: slow (each W0ᵀK_i is a 50 × 250 × 100 product of mostly zeros)
//! and written for reading. [`crate::fast`] computes the same numbers as a gather and a
//! scatter-add into preallocated buffers.
//!
//! The notes leave open whether X1 can be built by matrix operations alone, without stacking
//! the three blocks by hand. It can: with `K = [K1; K2; K3]` (3V × B, the K_i stacked) and the
//! Kronecker product `I₃ ⊗ W0ᵀ` (3D × 3V, W0ᵀ three times down the diagonal),
//!
//! ```text
//! X1 = (I₃ ⊗ W0ᵀ) K          (150 × 750)(750 × 100) = 150 × 100
//! ```
//!
//! since block i of the product is W0ᵀK_i. Differentiating it with §2's identity
//! ∂f/∂A = (∂f/∂Y)Xᵀ gives `dX1 Kᵀ`, whose diagonal blocks are `dX1ᵢ K_iᵀ`; W0ᵀ sits in all three,
//! so `dW0ᵀ = Σᵢ dX1ᵢ K_iᵀ`, the notes' `dW0 = Σᵢ K_i dX1ᵢᵀ`. The test
//! `x1_by_matrix_operations_alone` builds X1 both ways.

use nalgebra::{DMatrix, stack};
use shared::activation::{sigmoid, softmax_columns_mut};
use shared::optim::{Optimizer, Rule};
use shared::rng::Rng;

/// Number of context words (rows of `X0`).
pub const CONTEXT: usize = 3;

/// One training case, a column of the assignment's 4 × N `trainData`: the three context word
/// ids (a column of `X0`) and the target id (a column of `t`), 0-based.
pub type Gram = [usize; 4];

/// The parameters, in the notes' names and shapes.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// V × D (250 × 50): row i is the embedding of word i.
    pub W0: DMatrix<f64>,
    /// 3D × H (150 × 200).
    pub W1: DMatrix<f64>,
    /// H × 1 (200 × 1).
    pub b1: DMatrix<f64>,
    /// H × V (200 × 250).
    pub W2: DMatrix<f64>,
    /// V × 1 (250 × 1).
    pub b2: DMatrix<f64>,
}

/// What [`Model::forward`] keeps for [`Model::backward`], with the batch it was computed from.
#[derive(Clone, Debug)]
pub struct Cache {
    /// The batch (columns of X0 with their targets).
    pub batch: Vec<Gram>,
    /// K1, K2, K3: V × B each, the one-hot forms of the rows of X0.
    pub K: [DMatrix<f64>; CONTEXT],
    /// 3D × B (150 × 100): eq. (1).
    pub X1: DMatrix<f64>,
    /// H × B (200 × 100): f(X2).
    pub fX2: DMatrix<f64>,
    /// V × B (250 × 100): y = g(X3).
    pub y: DMatrix<f64>,
    /// V × B (250 × 100): the one-hot targets.
    pub t: DMatrix<f64>,
}

/// Gradients of the mean cross-entropy plus the λ terms, one per parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Grads {
    /// V × D.
    pub dW0: DMatrix<f64>,
    /// 3D × H.
    pub dW1: DMatrix<f64>,
    /// H × 1.
    pub db1: DMatrix<f64>,
    /// H × V.
    pub dW2: DMatrix<f64>,
    /// V × 1.
    pub db2: DMatrix<f64>,
}

// ANCHOR: one_hot
/// V × B: column n is the unit vector of word `ids[n]`. Row i of X0 gives K_i, the targets t.
pub fn one_hot(V: usize, ids: impl ExactSizeIterator<Item = usize>) -> DMatrix<f64> {
    let mut K = DMatrix::zeros(V, ids.len());
    for (n, w) in ids.enumerate() {
        assert!(
            w < V,
            "case {n}: word id {w} is outside the vocabulary of {V}"
        );
        K[(w, n)] = 1.0;
    }
    K
}
// ANCHOR_END: one_hot

/// 1ᵀ (1 × B): `b 1ᵀ` repeats a bias in every column, `dX 1` sums a gradient over the batch.
fn ones(B: usize) -> DMatrix<f64> {
    DMatrix::from_element(1, B, 1.0)
}

impl Model {
    // ANCHOR: init
    /// The assignment's initialisation: every weight N(0, init_wt²), biases 0.
    pub fn new(vocab: usize, embed: usize, hidden: usize, init_wt: f64, rng: &mut Rng) -> Model {
        use shared::init::normal;
        Model {
            W0: normal(vocab, embed, 0.0, init_wt, rng), // V × D
            W1: normal(CONTEXT * embed, hidden, 0.0, init_wt, rng), // 3D × H
            b1: DMatrix::zeros(hidden, 1),               // H × 1
            W2: normal(hidden, vocab, 0.0, init_wt, rng), // H × V
            b2: DMatrix::zeros(vocab, 1),                // V × 1
        }
    }
    // ANCHOR_END: init

    /// Vocabulary size V.
    pub fn vocab(&self) -> usize {
        self.W0.nrows()
    }

    /// Embedding size D.
    pub fn embed(&self) -> usize {
        self.W0.ncols()
    }

    /// Hidden units H.
    pub fn hidden(&self) -> usize {
        self.W1.ncols()
    }

    /// Whether every weight and bias is a finite number.
    pub fn is_finite(&self) -> bool {
        [&self.W0, &self.W1, &self.b1, &self.W2, &self.b2]
            .iter()
            .all(|m| m.iter().all(|x| x.is_finite()))
    }

    /// Zero gradients (or velocities) of this model's shapes.
    pub fn zero_grads(&self) -> Grads {
        let zeros = |m: &DMatrix<f64>| DMatrix::zeros(m.nrows(), m.ncols());
        Grads {
            dW0: zeros(&self.W0),
            dW1: zeros(&self.W1),
            db1: zeros(&self.b1),
            dW2: zeros(&self.W2),
            db2: zeros(&self.b2),
        }
    }

    // ANCHOR: forward
    /// Forward propagation of one batch (`batch.len()` = B columns).
    pub fn forward(&self, batch: &[Gram]) -> Cache {
        let (V, B) = (self.vocab(), batch.len());
        // ANCHOR: x1
        let K = std::array::from_fn(|i| one_hot(V, batch.iter().map(|g| g[i]))); // K_i: V × B
        let W0t = self.W0.transpose(); // D × V
        let [X11, X12, X13] = K.each_ref().map(|K_i| &W0t * K_i); // W0ᵀK_i: D × B each
        #[allow(clippy::toplevel_ref_arg)] // the lint fires inside nalgebra's `stack!`
        let X1 = stack![X11; X12; X13]; // (1) X1 = [W0ᵀK1; W0ᵀK2; W0ᵀK3], 3D × B
        // ANCHOR_END: x1
        let X2 = self.W1.transpose() * &X1 + &self.b1 * ones(B); // H × B
        let fX2 = X2.map(sigmoid); // H × B, f = sigmoid
        let X3 = self.W2.transpose() * &fX2 + &self.b2 * ones(B); // V × B
        let mut y = X3; // V × B
        softmax_columns_mut(&mut y); // y = g(X3), g = softmax of each column
        let t = one_hot(V, batch.iter().map(|g| g[CONTEXT])); // V × B
        Cache {
            batch: batch.to_vec(),
            K,
            X1,
            fX2,
            y,
            t,
        }
    }
    // ANCHOR_END: forward

    // ANCHOR: backward
    /// Backward propagation of the batch `c` was computed from, with weight decay `lambda`: the
    /// gradient of the mean cross-entropy plus (λ/2)(‖W1‖² + ‖W2‖²).
    pub fn backward(&self, c: &Cache, lambda: f64) -> Grads {
        let (D, B) = (self.embed(), c.batch.len());
        // softmax + cross-entropy differentiate to y − t; /B is the mean over the batch. The
        // notes then write (y − t) without the /100 in dW2, db2 and dX2 (a slip): using dX3
        // everywhere makes every gradient that of the mean cross-entropy.
        let dX3 = (&c.y - &c.t) / B as f64; // V × B
        // X3 = W2ᵀf(X2) + b2 1ᵀ  ⇒  dW2 = f(X2) dX3ᵀ + λW2
        let dW2 = &c.fX2 * dX3.transpose() + &self.W2 * lambda; // H × V
        // ⇒ db2 = sum over rows (dX3) = dX3 1
        let db2 = &dX3 * ones(B).transpose(); // V × 1
        // ⇒ dX2 = (W2 dX3) ∘ f(X2) ∘ (1 − f(X2)), f' = f(1 − f)
        let dX2 = (&self.W2 * &dX3).component_mul(&c.fX2.map(|f| f * (1.0 - f))); // H × B
        // X2 = W1ᵀX1 + b1 1ᵀ  ⇒  dW1 = X1 dX2ᵀ + λW1
        let dW1 = &c.X1 * dX2.transpose() + &self.W1 * lambda; // 3D × H
        // ⇒ db1 = sum over rows (dX2) = dX2 1
        let db1 = &dX2 * ones(B).transpose(); // H × 1
        // ⇒ dX1 = W1 dX2
        let dX1 = &self.W1 * &dX2; // 3D × B
        // ANCHOR: dW0
        let [dX11, dX12, dX13] = [0, 1, 2].map(|i| dX1.rows(i * D, D)); // D × B each
        // (1) X1 = [W0ᵀK1; W0ᵀK2; W0ᵀK3]  ⇒  dW0 = Σᵢ K_i dX1ᵢᵀ
        let [K1, K2, K3] = &c.K; // V × B each
        let dW0 = K1 * dX11.transpose() + K2 * dX12.transpose() + K3 * dX13.transpose(); // V × D
        // ANCHOR_END: dW0
        Grads {
            dW0,
            dW1,
            db1,
            dW2,
            db2,
        }
    }
    // ANCHOR_END: backward

    // ANCHOR: objective
    /// The objective [`Model::backward`] differentiates: the mean cross-entropy of `batch`
    /// plus (λ/2)(‖W1‖² + ‖W2‖²). For gradient checks.
    pub fn objective(&self, batch: &[Gram], lambda: f64) -> f64 {
        let c = self.forward(batch);
        c.loss() + 0.5 * lambda * (self.W1.norm_squared() + self.W2.norm_squared())
    }
    // ANCHOR_END: objective
}

impl Cache {
    // ANCHOR: loss
    /// The mean cross-entropy −Σ t ∘ log(y + tiny)/B (nats per predicted word).
    pub fn loss(&self) -> f64 {
        shared::loss::cross_entropy_onehot(&self.y, &self.t)
    }
    // ANCHOR_END: loss
}

// ANCHOR: update
/// train.m's optimizer: Hinton's momentum Δ ← μΔ + g; W ← W − αΔ with learning rate `lr` = α
/// and momentum `mu` = μ (`shared::optim`'s `ClassicMomentum`), for [`Model::update`].
pub fn momentum(lr: f64, mu: f64) -> Optimizer {
    Optimizer::new(Rule::ClassicMomentum { mu }, lr)
}

impl Model {
    /// train.m's update of every parameter, biases included: Δ ← μΔ + g; W ← W − αΔ with `opt`
    /// from [`momentum`] (its velocities are numbered 0–4 in the order W0, W1, b1, W2, b2). Our
    /// g is already the gradient of the *mean* cross-entropy, so this is train.m's
    /// `delta = momentum·delta + grad/batchsize`.
    pub fn update(&mut self, opt: &mut Optimizer, g: &Grads) {
        opt.begin_step();
        opt.update(0, &mut self.W0, &g.dW0); // V × D
        opt.update(1, &mut self.W1, &g.dW1); // 3D × H
        opt.update(2, &mut self.b1, &g.db1); // H × 1
        opt.update(3, &mut self.W2, &g.dW2); // H × V
        opt.update(4, &mut self.b2, &g.db2); // V × 1
    }
}
// ANCHOR_END: update
