//! The training path: [`crate::model`]'s forward and backward computed into buffers allocated
//! once, with eq. (1)'s products W0ᵀK_i as a gather (an embedding lookup) and dW0 = Σᵢ K_i dX1ᵢᵀ
//! as a scatter-add, and the products through `shared::kernels`. `tests/model.rs` compares
//! every value and gradient with [`Model::forward`] and [`Model::backward`].
//!
//! **Precision.** The engine is generic over its float type `F` (`shared::kernels::Float`):
//! `f64` (every default run, the same numbers as before) or `f32` (`train --dtype f32`:
//! parameters, activations, gradients and the momentum velocities in f32). Its parameters are a
//! [`FastModel`] (the notes layer's [`Model`] in type `F`), its gradients a [`FastGrads`]; the
//! cross-entropy leaves it as f64 (−ln of each probability, widened, summed in f64). The notes
//! layer stays f64; `tests/f32.rs` compares the f32 engine with it to f32 precision.

use crate::model::{CONTEXT, Grads, Gram, Model};
use nalgebra::DMatrix;
use shared::kernels::{Float, gemm, gemm_nt, gemm_tn, narrow, widen};

/// The parameters of [`Model`] in the engine's float type `F` (the same names and shapes).
#[derive(Clone, Debug, PartialEq)]
pub struct FastModel<F: Float> {
    /// V × D: row i is the embedding of word i.
    pub W0: DMatrix<F>,
    /// 3D × H.
    pub W1: DMatrix<F>,
    /// H × 1.
    pub b1: DMatrix<F>,
    /// H × V.
    pub W2: DMatrix<F>,
    /// V × 1.
    pub b2: DMatrix<F>,
}

impl<F: Float> FastModel<F> {
    /// `model`'s parameters rounded to `F` (a copy, exact for f64).
    pub fn from_model(model: &Model) -> Self {
        FastModel {
            W0: narrow(&model.W0),
            W1: narrow(&model.W1),
            b1: narrow(&model.b1),
            W2: narrow(&model.W2),
            b2: narrow(&model.b2),
        }
    }

    /// The notes layer's model with these parameters (widened to f64, exact).
    pub fn to_model(&self) -> Model {
        Model {
            W0: widen(&self.W0),
            W1: widen(&self.W1),
            b1: widen(&self.b1),
            W2: widen(&self.W2),
            b2: widen(&self.b2),
        }
    }

    /// The parameters in the order W0, W1, b1, W2, b2 (the optimizer's numbers 0–4).
    pub fn params(&self) -> [&DMatrix<F>; 5] {
        [&self.W0, &self.W1, &self.b1, &self.W2, &self.b2]
    }

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
        self.params()
            .iter()
            .all(|m| m.iter().all(|x| x.is_finite()))
    }
}

/// The gradients of [`Grads`] in the engine's float type `F`.
#[derive(Clone, Debug, PartialEq)]
pub struct FastGrads<F: Float> {
    /// V × D.
    pub dW0: DMatrix<F>,
    /// 3D × H.
    pub dW1: DMatrix<F>,
    /// H × 1.
    pub db1: DMatrix<F>,
    /// H × V.
    pub dW2: DMatrix<F>,
    /// V × 1.
    pub db2: DMatrix<F>,
}

impl<F: Float> FastGrads<F> {
    /// Zero gradients of `model`'s shapes.
    pub fn zeros_like(model: &FastModel<F>) -> Self {
        let zeros = |m: &DMatrix<F>| DMatrix::zeros(m.nrows(), m.ncols());
        FastGrads {
            dW0: zeros(&model.W0),
            dW1: zeros(&model.W1),
            db1: zeros(&model.b1),
            dW2: zeros(&model.W2),
            db2: zeros(&model.b2),
        }
    }

    /// The notes layer's [`Grads`] with these values (widened to f64, exact).
    pub fn to_model(&self) -> Grads {
        Grads {
            dW0: widen(&self.dW0),
            dW1: widen(&self.dW1),
            db1: widen(&self.db1),
            dW2: widen(&self.dW2),
            db2: widen(&self.db2),
        }
    }
}

/// What [`forward`] keeps for [`backward`], and backward's deltas: allocated once per batch
/// size and reused (the training loop allocates none of its own per batch; the GEMMs allocate
/// their packing buffers).
#[derive(Clone, Debug)]
pub struct Cache<F: Float = f64> {
    /// B columns of X0: the context word ids the forward pass read.
    pub X0: Vec<[usize; CONTEXT]>,
    /// B target ids (the 4th row of the batch; `t` is their one-hot form).
    pub t: Vec<usize>,
    /// 3D × B (150 × 100): eq. (1).
    pub X1: DMatrix<F>,
    /// H × B (200 × 100): f(X2) (X2 = W1ᵀX1 + b1 is overwritten by its sigmoid).
    pub fX2: DMatrix<F>,
    /// V × B (250 × 100): X3 = W2ᵀf(X2) + b2, then y = g(X3) in place.
    pub y: DMatrix<F>,
    /// V × B: dX3 = (y − t)/B.
    pub dX3: DMatrix<F>,
    /// H × B: dX2.
    pub dX2: DMatrix<F>,
    /// 3D × B: dX1 = [dX11; dX12; dX13].
    pub dX1: DMatrix<F>,
}

impl<F: Float> Cache<F> {
    /// Zeroed buffers of `model`'s sizes for batches of `batch` cases.
    pub fn new(model: &FastModel<F>, batch: usize) -> Self {
        let (v, d, h) = (model.vocab(), model.embed(), model.hidden());
        Cache {
            X0: vec![[0; CONTEXT]; batch],
            t: vec![0; batch],
            X1: DMatrix::zeros(CONTEXT * d, batch),
            fX2: DMatrix::zeros(h, batch),
            y: DMatrix::zeros(v, batch),
            dX3: DMatrix::zeros(v, batch),
            dX2: DMatrix::zeros(h, batch),
            dX1: DMatrix::zeros(CONTEXT * d, batch),
        }
    }

    /// Mean cross-entropy −(1/B) Σ t ∘ log(y + tiny) of the batch (after [`forward`]): nats per
    /// predicted word (`shared::loss::cross_entropy` on y widened to f64).
    pub fn loss(&self) -> f64 {
        let total: f64 = self
            .t
            .iter()
            .enumerate()
            .map(|(n, &t)| -(self.y[(t, n)].as_f64() + shared::loss::TINY).ln())
            .sum();
        total / self.t.len() as f64
    }
}

/// Forward pass of one batch (`grams.len()` = B columns): fills `X0`, `t`, `X1`, `f(X2)` and `y`
/// of `c`. Reallocates `c` only if its batch size differs.
pub fn forward<F: Float>(m: &FastModel<F>, grams: &[Gram], c: &mut Cache<F>) {
    let (V, D) = (m.vocab(), m.embed());
    let B = grams.len();
    if c.y.ncols() != B {
        *c = Cache::new(m, B);
    }
    let one = F::one();
    // (1) X1 = [W0ᵀK1; W0ᵀK2; W0ᵀK3]  (3D × B).
    // K_i (V × B) is the one-hot form of row i of X0: its column n has a single 1, in row
    // X0[i, n]. So column n of W0ᵀK_i is W0ᵀ·e_{X0[i,n]} = (row X0[i,n] of W0)ᵀ, and the
    // product is a gather (an embedding lookup) into rows iD..(i+1)D of X1.
    let W0 = m.W0.as_slice(); // column-major: W0[w, d] = W0[d·V + w]
    for (n, (x1, g)) in
        c.X1.as_mut_slice()
            .chunks_exact_mut(CONTEXT * D)
            .zip(grams)
            .enumerate()
    {
        for (i, block) in x1.chunks_exact_mut(D).enumerate() {
            let w = g[i]; // X0[i, n]
            assert!(
                w < V,
                "case {n}: word id {w} is outside the vocabulary of {V}"
            );
            for (d, x) in block.iter_mut().enumerate() {
                *x = W0[d * V + w];
            }
            c.X0[n][i] = w;
        }
        c.t[n] = g[CONTEXT];
        assert!(c.t[n] < V, "case {n}: target id is outside the vocabulary");
    }
    // X2 = W1ᵀX1 + b1  (200 × 100): start every column at b1, then add W1ᵀX1.
    for mut col in c.fX2.column_iter_mut() {
        col.copy_from(&m.b1);
    }
    gemm_tn(one, &m.W1, &c.X1, one, &mut c.fX2);
    // f(X2): sigmoid 1/(1 + e^{−x}), in place (`shared::activation::sigmoid_mut` in type F).
    c.fX2.apply(|v| *v = one / (one + (-*v).exp()));
    // X3 = W2ᵀf(X2) + b2  (250 × 100).
    for mut col in c.y.column_iter_mut() {
        col.copy_from(&m.b2);
    }
    gemm_tn(one, &m.W2, &c.fX2, one, &mut c.y);
    // y = g(X3): softmax of each column (max-subtracted; same values, no overflow), as
    // `shared::activation::softmax_columns_mut` in type F.
    let neg_inf = F::round_from(f64::NEG_INFINITY);
    for mut col in c.y.column_iter_mut() {
        let max = col.iter().copied().fold(neg_inf, |a, b| a.max(b));
        let mut sum = F::zero();
        for v in col.iter_mut() {
            *v = (*v - max).exp();
            sum += *v;
        }
        col /= sum;
    }
}

/// Backward pass of the batch `c` holds (after [`forward`]), with weight decay `lambda`: fills
/// `grads` with the gradient of the mean cross-entropy plus (λ/2)(‖W1‖² + ‖W2‖²).
pub fn backward<F: Float>(
    m: &FastModel<F>,
    c: &mut Cache<F>,
    grads: &mut FastGrads<F>,
    lambda: f64,
) {
    let (V, D) = (m.vocab(), m.embed());
    let B = c.t.len();
    let (zero, one, lambda) = (F::zero(), F::one(), F::round_from(lambda));
    // dX3 = (y − t)/100: softmax + cross-entropy differentiate to y − t; the /B is the mean
    // over the batch (see `Model::backward` for the notes' slip).
    c.dX3.copy_from(&c.y);
    for (n, &t) in c.t.iter().enumerate() {
        c.dX3[(t, n)] -= one;
    }
    c.dX3 /= F::round_from(B as f64);
    // X3 = W2ᵀf(X2) + b2  ⇒  dW2 = f(X2) dX3ᵀ + λW2  (200 × 250)
    gemm_nt(one, &c.fX2, &c.dX3, zero, &mut grads.dW2);
    if lambda != zero {
        grads.dW2.zip_apply(&m.W2, |g, w| *g += lambda * w);
    }
    // ⇒ db2 = sum over rows (dX3): one entry per output unit, summed over the batch  (250)
    sum_columns(&c.dX3, &mut grads.db2);
    // ⇒ dX2 = (W2 dX3) ∘ f(X2) ∘ (1 − f(X2))  (200 × 100): back through W2ᵀ, then f' = f(1 − f)
    gemm(one, &m.W2, &c.dX3, zero, &mut c.dX2);
    c.dX2.zip_apply(&c.fX2, |g, f| *g *= f * (one - f));
    // X2 = W1ᵀX1 + b1  ⇒  dW1 = X1 dX2ᵀ + λW1  (150 × 200)
    gemm_nt(one, &c.X1, &c.dX2, zero, &mut grads.dW1);
    if lambda != zero {
        grads.dW1.zip_apply(&m.W1, |g, w| *g += lambda * w);
    }
    // ⇒ db1 = sum over rows (dX2)  (200)
    sum_columns(&c.dX2, &mut grads.db1);
    // ⇒ dX1 = W1 dX2  (150 × 100)
    gemm(one, &m.W1, &c.dX2, zero, &mut c.dX1);
    // (1) X1 = [W0ᵀK1; W0ᵀK2; W0ᵀK3]  ⇒  dW0 = Σᵢ K_i dX1ᵢᵀ  (250 × 50), dX1ᵢ the i-th
    // 50 × 100 block of dX1. Row w of K_i dX1ᵢᵀ is the sum of the columns n of dX1ᵢ whose
    // case has X0[i, n] = w: a scatter-add (a word used twice gets both contributions).
    grads.dW0.fill(zero);
    let dW0 = grads.dW0.as_mut_slice(); // dW0[w, d] = dW0[d·V + w]
    for (dx1, x0) in c.dX1.as_slice().chunks_exact(CONTEXT * D).zip(&c.X0) {
        for (block, &w) in dx1.chunks_exact(D).zip(x0) {
            for (d, &x) in block.iter().enumerate() {
                dW0[d * V + w] += x;
            }
        }
    }
}

/// `out ← Σ_j column j of m` (out: n × 1), the columns added one after another from zero:
/// `shared::kernels::sum_columns` (f64 only) in type F, the same order.
fn sum_columns<F: Float>(m: &DMatrix<F>, out: &mut DMatrix<F>) {
    assert_eq!(
        out.shape(),
        (m.nrows(), 1),
        "sum_columns: out has the wrong shape"
    );
    out.fill(F::zero());
    for j in 0..m.ncols() {
        *out += m.column(j);
    }
}

/// Mean cross-entropy (nats per predicted word) over a whole set, in chunks of 1000 cases
/// (the assignment does one forward pass over all 46,568 columns; same number).
pub fn cross_entropy<F: Float>(m: &FastModel<F>, grams: &[Gram]) -> f64 {
    const CHUNK: usize = 1000;
    if grams.is_empty() {
        return f64::NAN;
    }
    let mut c = Cache::new(m, CHUNK.min(grams.len()));
    let mut total = 0.0;
    for chunk in grams.chunks(CHUNK) {
        forward(m, chunk, &mut c);
        total += c.loss() * chunk.len() as f64;
    }
    total / grams.len() as f64
}

/// The distribution of the next word after `context` (V probabilities summing to 1).
pub fn next_word<F: Float>(m: &FastModel<F>, context: [usize; CONTEXT]) -> Vec<f64> {
    let mut c = Cache::new(m, 1);
    let [a, b, w] = context;
    forward(m, &[[a, b, w, 0]], &mut c);
    c.y.column(0).iter().map(|v| v.as_f64()).collect()
}

/// Floating-point operations of the six GEMMs of one batch of `B` cases (a multiply-add counts
/// 2): forward W1ᵀX1 and W2ᵀf(X2), backward dW2, W2·dX3, dW1 and W1·dX2, i.e. 6B(3D·H + H·V)
/// = 48 MFLOP at the notes' sizes. The gathers, the sigmoid and the softmax are not counted.
pub fn gemm_flops_per_batch<F: Float>(model: &FastModel<F>, B: usize) -> u64 {
    let (V, D, H) = (model.vocab(), model.embed(), model.hidden());
    6 * (B * (CONTEXT * D * H + H * V)) as u64
}
