//! The training path: [`crate::model`]'s forward and backward computed into buffers allocated
//! once, with eq. (1)'s products W0ᵀK_i as a gather (an embedding lookup) and dW0 = Σᵢ K_i dX1ᵢᵀ
//! as a scatter-add, and the products through `shared::kernels`. `tests/model.rs` compares
//! every value and gradient with [`Model::forward`] and [`Model::backward`].

use crate::model::{CONTEXT, Grads, Gram, Model};
use nalgebra::DMatrix;
use shared::activation::{sigmoid_backward_mut, sigmoid_mut, softmax_columns_mut};
use shared::kernels::{gemm, gemm_nt, gemm_tn, sum_columns};

/// What [`forward`] keeps for [`backward`], and backward's deltas: allocated once per batch
/// size and reused (the training loop allocates none of its own per batch; matrixmultiply
/// allocates its packing buffer in each GEMM).
#[derive(Clone, Debug)]
pub struct Cache {
    /// B columns of X0: the context word ids the forward pass read.
    pub X0: Vec<[usize; CONTEXT]>,
    /// B target ids (the 4th row of the batch; `t` is their one-hot form).
    pub t: Vec<usize>,
    /// 3D × B (150 × 100): eq. (1).
    pub X1: DMatrix<f64>,
    /// H × B (200 × 100): f(X2) (X2 = W1ᵀX1 + b1 is overwritten by its sigmoid).
    pub fX2: DMatrix<f64>,
    /// V × B (250 × 100): X3 = W2ᵀf(X2) + b2, then y = g(X3) in place.
    pub y: DMatrix<f64>,
    /// V × B: dX3 = (y − t)/B.
    pub dX3: DMatrix<f64>,
    /// H × B: dX2.
    pub dX2: DMatrix<f64>,
    /// 3D × B: dX1 = [dX11; dX12; dX13].
    pub dX1: DMatrix<f64>,
}

impl Cache {
    /// Zeroed buffers of `model`'s sizes for batches of `batch` cases.
    pub fn new(model: &Model, batch: usize) -> Cache {
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
    /// predicted word.
    pub fn loss(&self) -> f64 {
        shared::loss::cross_entropy(&self.y, &self.t)
    }
}

/// Forward pass of one batch (`grams.len()` = B columns): fills `X0`, `t`, `X1`, `f(X2)` and `y`
/// of `c`. Reallocates `c` only if its batch size differs.
pub fn forward(m: &Model, grams: &[Gram], c: &mut Cache) {
    let (V, D) = (m.vocab(), m.embed());
    let B = grams.len();
    if c.y.ncols() != B {
        *c = Cache::new(m, B);
    }
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
    gemm_tn(1.0, &m.W1, &c.X1, 1.0, &mut c.fX2);
    // f(X2): sigmoid, in place.
    sigmoid_mut(&mut c.fX2);
    // X3 = W2ᵀf(X2) + b2  (250 × 100).
    for mut col in c.y.column_iter_mut() {
        col.copy_from(&m.b2);
    }
    gemm_tn(1.0, &m.W2, &c.fX2, 1.0, &mut c.y);
    // y = g(X3): softmax of each column (max-subtracted; same values, no overflow).
    softmax_columns_mut(&mut c.y);
}

/// Backward pass of the batch `c` holds (after [`forward`]), with weight decay `lambda`: fills
/// `grads` with the gradient of the mean cross-entropy plus (λ/2)(‖W1‖² + ‖W2‖²).
pub fn backward(m: &Model, c: &mut Cache, grads: &mut Grads, lambda: f64) {
    let (V, D) = (m.vocab(), m.embed());
    let B = c.t.len();
    // dX3 = (y − t)/100: softmax + cross-entropy differentiate to y − t; the /B is the mean
    // over the batch (see `Model::backward` for the notes' slip).
    c.dX3.copy_from(&c.y);
    for (n, &t) in c.t.iter().enumerate() {
        c.dX3[(t, n)] -= 1.0;
    }
    c.dX3 /= B as f64;
    // X3 = W2ᵀf(X2) + b2  ⇒  dW2 = f(X2) dX3ᵀ + λW2  (200 × 250)
    gemm_nt(1.0, &c.fX2, &c.dX3, 0.0, &mut grads.dW2);
    if lambda != 0.0 {
        grads.dW2.zip_apply(&m.W2, |g, w| *g += lambda * w);
    }
    // ⇒ db2 = sum over rows (dX3): one entry per output unit, summed over the batch  (250)
    sum_columns(&c.dX3, &mut grads.db2.column_mut(0));
    // ⇒ dX2 = (W2 dX3) ∘ f(X2) ∘ (1 − f(X2))  (200 × 100): back through W2ᵀ, then f' = f(1 − f)
    gemm(1.0, &m.W2, &c.dX3, 0.0, &mut c.dX2);
    sigmoid_backward_mut(&mut c.dX2, &c.fX2);
    // X2 = W1ᵀX1 + b1  ⇒  dW1 = X1 dX2ᵀ + λW1  (150 × 200)
    gemm_nt(1.0, &c.X1, &c.dX2, 0.0, &mut grads.dW1);
    if lambda != 0.0 {
        grads.dW1.zip_apply(&m.W1, |g, w| *g += lambda * w);
    }
    // ⇒ db1 = sum over rows (dX2)  (200)
    sum_columns(&c.dX2, &mut grads.db1.column_mut(0));
    // ⇒ dX1 = W1 dX2  (150 × 100)
    gemm(1.0, &m.W1, &c.dX2, 0.0, &mut c.dX1);
    // (1) X1 = [W0ᵀK1; W0ᵀK2; W0ᵀK3]  ⇒  dW0 = Σᵢ K_i dX1ᵢᵀ  (250 × 50), dX1ᵢ the i-th
    // 50 × 100 block of dX1. Row w of K_i dX1ᵢᵀ is the sum of the columns n of dX1ᵢ whose
    // case has X0[i, n] = w: a scatter-add (a word used twice gets both contributions).
    grads.dW0.fill(0.0);
    let dW0 = grads.dW0.as_mut_slice(); // dW0[w, d] = dW0[d·V + w]
    for (dx1, x0) in c.dX1.as_slice().chunks_exact(CONTEXT * D).zip(&c.X0) {
        for (block, &w) in dx1.chunks_exact(D).zip(x0) {
            for (d, &x) in block.iter().enumerate() {
                dW0[d * V + w] += x;
            }
        }
    }
}

/// Mean cross-entropy (nats per predicted word) over a whole set, in chunks of 1000 cases
/// (the assignment does one forward pass over all 46,568 columns; same number).
pub fn cross_entropy(m: &Model, grams: &[Gram]) -> f64 {
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
pub fn next_word(m: &Model, context: [usize; CONTEXT]) -> Vec<f64> {
    let mut c = Cache::new(m, 1);
    let [a, b, w] = context;
    forward(m, &[[a, b, w, 0]], &mut c);
    c.y.column(0).iter().copied().collect()
}

/// Floating-point operations of the six GEMMs of one batch of `B` cases (a multiply-add counts
/// 2): forward W1ᵀX1 and W2ᵀf(X2), backward dW2, W2·dX3, dW1 and W1·dX2, i.e. 6B(3D·H + H·V)
/// = 48 MFLOP at the notes' sizes. The gathers, the sigmoid and the softmax are not counted.
pub fn gemm_flops_per_batch(model: &Model, B: usize) -> u64 {
    let (V, D, H) = (model.vocab(), model.embed(), model.hidden());
    6 * (B * (CONTEXT * D * H + H * V)) as u64
}
