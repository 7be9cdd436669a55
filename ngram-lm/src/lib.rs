//! # ngram-lm — notes §1, Language Model
//!
//! Bengio, Ducharme, Vincent & Jauvin's *neural probabilistic language model* (JMLR 2003) in
//! the miniature form of Geoffrey Hinton's Coursera assignment 2 ("Learning word
//! representations"), which §1 of the notes derives line by line: read 4 consecutive words,
//! predict the 4th from the first 3.
//!
//! ## Sizes (the notes use the assignment's numbers throughout; so do the names here)
//!
//! | symbol | size | what |
//! |---|---|---|
//! | `B` | 100 | batch size (cases are columns) |
//! | `D` | 50 | embedding size ("dimensionality of embedding space") |
//! | `V` | 250 | vocabulary size |
//! | `H` | 200 | hidden units |
//! | `X0` | 3 × B | the three context word ids of each case |
//! | `K_i` | V × B | one-hot form of row i of `X0` (never built: a gather, see [`Model::forward`]) |
//! | `W0` | V × D | word embeddings; row `w_{0i}` (1 × D) is word i's feature vector |
//! | `X1` | 3D × B = 150 × 100 | `[W0ᵀK1; W0ᵀK2; W0ᵀK3]`, eq. (1) |
//! | `W1`, `b1` | 3D × H = 150 × 200, H × 1 | embedding → hidden |
//! | `X2` | H × B = 200 × 100 | `W1ᵀX1 + b1`, then `f` = sigmoid |
//! | `W2`, `b2` | H × V = 200 × 250, V × 1 | hidden → output |
//! | `X3` | V × B = 250 × 100 | `W2ᵀf(X2) + b2`, then `g` = softmax gives `y` |
//! | `t` | V × B | one-hot targets (the 4th word) |
//!
//! ## The notes' equations in this crate
//!
//! | §1 | function |
//! |---|---|
//! | (1) `X1 = [W0ᵀK1; W0ᵀK2; W0ᵀK3]` (a gather) | [`Model::forward`] |
//! | `X2 = W1ᵀX1 + b1`, `f` = sigmoid; `X3 = W2ᵀf(X2) + b2`, `g` = softmax | [`Model::forward`] |
//! | cross-entropy `−Σ t ∘ log(y + tiny)/100` | [`Model::batch_ce`], [`Model::cross_entropy`] |
//! | `dX3 = (y − t)/100`; `dW2 = f(X2)(y − t)ᵀ + λW2`; `db2` | [`Model::backward`] |
//! | `dX2 = (W2(y − t)) ∘ f(X2) ∘ (1 − f(X2))`; `dW1 = X1dX2ᵀ + λW1`; `db1`; `dX1 = W1dX2` | [`Model::backward`] |
//! | `dW0 = Σᵢ K_i dX1ᵢᵀ` (a scatter-add) | [`Model::backward`] |
//! | train.m's update `Δ ← μΔ + g/100; W ← W − αΔ` | [`Trainer::step`] |
//! | train.m's loop and log; display_nearest_words, predict_next_word, word_distance | [`train_epoch`], [`report`]; [`words`] |
//!
//! Where the notes slip: they define `dX3 = (y − t)/100` but write `dW2`, `db2`, `dX2` with the
//! unscaled `(y − t)`. Here `dX3` carries the `/100` into every gradient, so each is that of the
//! *mean* cross-entropy, and Hinton's momentum `Δ ← μΔ + g` is exactly train.m's
//! `delta = momentum·delta + grad/batchsize`. The README maps each equation to its lines.
//!
//! Reference tutorial: Hinton's Coursera "Neural Networks for Machine Learning", programming
//! assignment 2 (train.m, fprop.m, load_data.m), whose code §1 analyses.
//!
//! ## Checkpoints
//! `train` rewrites `model.safetensors` atomically after every epoch with what continuing
//! needs (velocities, epoch, curves, flags, data fingerprints; [`checkpoint`]), and
//! `train --resume DIR` continues it to the same bytes as a run that was never interrupted.
//!
//! ## Expected result
//! On the assignment's corpus (`raw_sentences.txt`, 372,550 training 4-grams), 10 epochs with
//! the defaults give train ≈ 2.53, validation ≈ 2.60, test ≈ 2.61 nats per word (after 1
//! epoch ≈ 3.3), and the nearest words to `could` are the other modals (this program, seed 1,
//! on a re-split: 2.536 / 2.613 / 2.620). On the default generated corpus: test ≈ 2.10 against
//! the generator's entropy floor of 1.85, and the seven other modals nearest to `could`.
//! Speed (`cargo bench -p ngram-lm`): one batch of 100 in 1.3 ms (37 GFLOP/s), one epoch of
//! 372,550 4-grams in ≈ 5.5 s of CPU time (target ≤ 10 s), ≈ 1.8–2× numpy.

#![allow(non_snake_case)]

pub mod checkpoint;
pub mod data;
pub mod picture;
pub mod report;
pub mod words;

use nalgebra::DMatrix;
use shared::activation::{sigmoid_backward_mut, sigmoid_mut, softmax_columns_mut};
use shared::kernels::{gemm, gemm_nt, gemm_tn};
use shared::optim::{Optimizer, Rule};
use shared::rng::Rng;
use shared::{Error, Result};
use std::path::Path;

/// Number of context words (rows of `X0`).
pub const CONTEXT: usize = 3;

/// One training case, a column of the assignment's 4 × N `trainData`: the three context word
/// ids (a column of `X0`) and the target id (a column of `t`), 0-based.
pub type Gram = [usize; 4];

/// The chapter name (checkpoint metadata, `runs/ngram-lm`).
pub const CHAPTER: &str = "ngram-lm";

/// Hyperparameters; [`Default`] gives the assignment's (train.m).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hyper {
    /// Batch size B (`batchsize` = 100).
    pub batch: usize,
    /// Learning rate α (`learning_rate` = 0.1).
    pub lr: f64,
    /// Momentum μ (`momentum` = 0.9).
    pub momentum: f64,
    /// Embedding size D (`numhid1` = 50).
    pub embed: usize,
    /// Hidden units H (`numhid2` = 200).
    pub hidden: usize,
    /// Standard deviation of the initial weights (`init_wt` = 0.01).
    pub init_wt: f64,
    /// The notes' weight decay λ on W1 and W2 (0 in the assignment).
    pub weight_decay: f64,
}

impl Default for Hyper {
    fn default() -> Self {
        Hyper {
            batch: 100,
            lr: 0.1,
            momentum: 0.9,
            embed: 50,
            hidden: 200,
            init_wt: 0.01,
            weight_decay: 0.0,
        }
    }
}

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

/// The forward activations and backward deltas of one batch, allocated once and reused
/// (the training loop allocates none of its own per batch; matrixmultiply allocates its
/// packing buffer in each GEMM).
#[derive(Clone, Debug)]
pub struct Buffers {
    /// 3D × B (150 × 100): eq. (1).
    pub X1: DMatrix<f64>,
    /// H × B (200 × 100): f(X2) (X2 = W1ᵀX1 + b1 is overwritten by its sigmoid).
    pub fX2: DMatrix<f64>,
    /// V × B (250 × 100): X3 = W2ᵀf(X2) + b2, then y = g(X3) in place.
    pub y: DMatrix<f64>,
    /// B target ids (the 4th row of the batch; `t` is their one-hot form).
    pub t: Vec<usize>,
    /// V × B: dX3 = (y − t)/B.
    pub dX3: DMatrix<f64>,
    /// H × B: dX2.
    pub dX2: DMatrix<f64>,
    /// 3D × B: dX1 = [dX11; dX12; dX13].
    pub dX1: DMatrix<f64>,
}

/// Gradients of the mean cross-entropy (plus the λ terms), one per parameter.
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

impl Model {
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

    /// Zeroed buffers for batches of `batch` cases.
    pub fn buffers(&self, batch: usize) -> Buffers {
        let (v, d, h) = (self.vocab(), self.embed(), self.hidden());
        Buffers {
            X1: DMatrix::zeros(CONTEXT * d, batch),
            fX2: DMatrix::zeros(h, batch),
            y: DMatrix::zeros(v, batch),
            t: vec![0; batch],
            dX3: DMatrix::zeros(v, batch),
            dX2: DMatrix::zeros(h, batch),
            dX1: DMatrix::zeros(CONTEXT * d, batch),
        }
    }

    /// Zero gradients of this model's shapes.
    pub fn zero_grads(&self) -> Grads {
        Grads {
            dW0: DMatrix::zeros(self.W0.nrows(), self.W0.ncols()),
            dW1: DMatrix::zeros(self.W1.nrows(), self.W1.ncols()),
            db1: DMatrix::zeros(self.b1.nrows(), 1),
            dW2: DMatrix::zeros(self.W2.nrows(), self.W2.ncols()),
            db2: DMatrix::zeros(self.b2.nrows(), 1),
        }
    }

    /// Forward pass of one batch (`grams.len()` = B columns): fills `X1`, `f(X2)`, `y`, `t`.
    /// Reallocates `buf` only if its batch size differs.
    pub fn forward(&self, grams: &[Gram], buf: &mut Buffers) {
        let (V, D) = (self.vocab(), self.embed());
        let B = grams.len();
        if buf.y.ncols() != B {
            *buf = self.buffers(B);
        }
        // (1) X1 = [W0ᵀK1; W0ᵀK2; W0ᵀK3]  (3D × B).
        // K_i (V × B) is the one-hot form of row i of X0: its column n has a single 1, in row
        // X0[i, n]. So column n of W0ᵀK_i is W0ᵀ·e_{X0[i,n]} = (row X0[i,n] of W0)ᵀ, and the
        // product is a gather (an embedding lookup) into rows iD..(i+1)D of X1.
        let W0 = self.W0.as_slice(); // column-major: W0[w, d] = W0[d·V + w]
        for (n, (x1, g)) in buf
            .X1
            .as_mut_slice()
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
            }
            buf.t[n] = g[CONTEXT];
            assert!(
                buf.t[n] < V,
                "case {n}: target id is outside the vocabulary"
            );
        }
        // X2 = W1ᵀX1 + b1  (200 × 100): start every column at b1, then add W1ᵀX1.
        for mut col in buf.fX2.column_iter_mut() {
            col.copy_from(&self.b1);
        }
        gemm_tn(1.0, &self.W1, &buf.X1, 1.0, &mut buf.fX2);
        // f(X2): sigmoid, in place.
        sigmoid_mut(&mut buf.fX2);
        // X3 = W2ᵀf(X2) + b2  (250 × 100).
        for mut col in buf.y.column_iter_mut() {
            col.copy_from(&self.b2);
        }
        gemm_tn(1.0, &self.W2, &buf.fX2, 1.0, &mut buf.y);
        // y = g(X3): softmax of each column (max-subtracted; same values, no overflow).
        softmax_columns_mut(&mut buf.y);
    }

    /// Mean cross-entropy −(1/B) Σ t ∘ log(y + tiny) of the batch in `buf` (after
    /// [`Model::forward`]): nats per predicted word.
    pub fn batch_ce(buf: &Buffers) -> f64 {
        shared::loss::cross_entropy(&buf.y, &buf.t)
    }

    /// Backward pass of the batch in `buf` (after [`Model::forward`] on the same `grams`),
    /// with weight decay `lambda`: fills `grads` with the gradient of the mean cross-entropy
    /// plus (λ/2)(‖W1‖² + ‖W2‖²), the notes' λ terms.
    pub fn backward(&self, grams: &[Gram], buf: &mut Buffers, grads: &mut Grads, lambda: f64) {
        let (V, D) = (self.vocab(), self.embed());
        let B = grams.len();
        assert_eq!(
            buf.y.ncols(),
            B,
            "backward needs the forward of the same batch"
        );
        // dX3 = (y − t)/100: softmax + cross-entropy differentiate to y − t; the /B is the
        // mean over the batch. The notes then write (y − t) without the /100 in dW2, db2 and
        // dX2 (a slip; the assignment divides by the batch size in the update instead). Using
        // dX3 everywhere below makes every gradient that of the mean cross-entropy.
        buf.dX3.copy_from(&buf.y);
        for (n, &t) in buf.t.iter().enumerate() {
            buf.dX3[(t, n)] -= 1.0;
        }
        buf.dX3 /= B as f64;
        // X3 = W2ᵀf(X2) + b2  ⇒  dW2 = f(X2) dX3ᵀ + λW2  (200 × 250)
        gemm_nt(1.0, &buf.fX2, &buf.dX3, 0.0, &mut grads.dW2);
        if lambda != 0.0 {
            grads.dW2.zip_apply(&self.W2, |g, w| *g += lambda * w);
        }
        // ⇒ db2 = sum over rows (dX3): one entry per output unit, summed over the batch  (250)
        row_sums(&buf.dX3, &mut grads.db2);
        // ⇒ dX2 = (W2 dX3) ∘ f(X2) ∘ (1 − f(X2))  (200 × 100): back through W2ᵀ, then f' = f(1 − f)
        gemm(1.0, &self.W2, &buf.dX3, 0.0, &mut buf.dX2);
        sigmoid_backward_mut(&mut buf.dX2, &buf.fX2);
        // X2 = W1ᵀX1 + b1  ⇒  dW1 = X1 dX2ᵀ + λW1  (150 × 200)
        gemm_nt(1.0, &buf.X1, &buf.dX2, 0.0, &mut grads.dW1);
        if lambda != 0.0 {
            grads.dW1.zip_apply(&self.W1, |g, w| *g += lambda * w);
        }
        // ⇒ db1 = sum over rows (dX2)  (200)
        row_sums(&buf.dX2, &mut grads.db1);
        // ⇒ dX1 = W1 dX2  (150 × 100)
        gemm(1.0, &self.W1, &buf.dX2, 0.0, &mut buf.dX1);
        // (1) X1 = [W0ᵀK1; W0ᵀK2; W0ᵀK3]  ⇒  dW0 = Σᵢ K_i dX1ᵢᵀ  (250 × 50), dX1ᵢ the i-th
        // 50 × 100 block of dX1. Row w of K_i dX1ᵢᵀ is the sum of the columns n of dX1ᵢ whose
        // case has X0[i, n] = w: a scatter-add (a word used twice gets both contributions).
        grads.dW0.fill(0.0);
        let dW0 = grads.dW0.as_mut_slice(); // dW0[w, d] = dW0[d·V + w]
        for (dx1, g) in buf.dX1.as_slice().chunks_exact(CONTEXT * D).zip(grams) {
            for (i, block) in dx1.chunks_exact(D).enumerate() {
                let w = g[i]; // X0[i, n]
                for (d, &x) in block.iter().enumerate() {
                    dW0[d * V + w] += x;
                }
            }
        }
    }

    /// The objective the gradients of [`Model::backward`] belong to: mean cross-entropy of
    /// `grams` plus (λ/2)(‖W1‖² + ‖W2‖²). For gradient checks.
    pub fn objective(&self, grams: &[Gram], lambda: f64) -> f64 {
        let mut buf = self.buffers(grams.len());
        self.forward(grams, &mut buf);
        Self::batch_ce(&buf) + 0.5 * lambda * (self.W1.norm_squared() + self.W2.norm_squared())
    }

    /// Mean cross-entropy (nats per predicted word) over a whole set, in chunks of 1000 cases
    /// (the assignment does one forward pass over all 46,568 columns; same number).
    pub fn cross_entropy(&self, grams: &[Gram]) -> f64 {
        const CHUNK: usize = 1000;
        if grams.is_empty() {
            return f64::NAN;
        }
        let mut buf = self.buffers(CHUNK.min(grams.len()));
        let mut total = 0.0;
        for chunk in grams.chunks(CHUNK) {
            self.forward(chunk, &mut buf);
            total += Self::batch_ce(&buf) * chunk.len() as f64;
        }
        total / grams.len() as f64
    }

    /// The distribution of the next word after `context` (V probabilities summing to 1).
    pub fn next_word(&self, context: [usize; CONTEXT]) -> Vec<f64> {
        let mut buf = self.buffers(1);
        let [a, b, c] = context;
        self.forward(&[[a, b, c, 0]], &mut buf);
        buf.y.column(0).iter().copied().collect()
    }

    /// Saves the parameters to `path` (safetensors, F64, row-major; names W0, W1, b1, W2, b2).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        shared::checkpoint::save(
            path,
            CHAPTER,
            &[
                ("W0", &self.W0),
                ("W1", &self.W1),
                ("b1", &self.b1),
                ("W2", &self.W2),
                ("b2", &self.b2),
            ],
            &[
                ("vocab", self.vocab().to_string()),
                ("embed", self.embed().to_string()),
                ("hidden", self.hidden().to_string()),
            ],
        )
    }

    /// Loads a model saved by [`Model::save`] (or a training checkpoint), checking every shape.
    pub fn load(path: impl AsRef<Path>) -> Result<Model> {
        Model::from_checkpoint(&mut shared::checkpoint::load(path, CHAPTER)?)
    }

    /// Takes the parameters out of a loaded checkpoint, checking them against its sizes.
    pub fn from_checkpoint(ck: &mut shared::checkpoint::Checkpoint) -> Result<Model> {
        let (v, d, h): (usize, usize, usize) =
            (ck.meta("vocab")?, ck.meta("embed")?, ck.meta("hidden")?);
        Ok(Model {
            W0: ck.take("W0", v, d)?,
            W1: ck.take("W1", CONTEXT * d, h)?,
            b1: ck.take("b1", h, 1)?,
            W2: ck.take("W2", h, v)?,
            b2: ck.take("b2", v, 1)?,
        })
    }
}

/// out[r] = Σ_n m[r, n]: the notes' "sum over rows" (one value per unit, summed over cases).
fn row_sums(m: &DMatrix<f64>, out: &mut DMatrix<f64>) {
    out.fill(0.0);
    let out = out.as_mut_slice();
    for col in m.as_slice().chunks_exact(m.nrows()) {
        for (o, v) in out.iter_mut().zip(col) {
            *o += v;
        }
    }
}

/// Floating-point operations of the six GEMMs of one batch of `B` cases (a multiply-add counts
/// 2): forward W1ᵀX1 and W2ᵀf(X2), backward dW2, W2·dX3, dW1 and W1·dX2, i.e. 6B(3D·H + H·V)
/// = 48 MFLOP at the notes' sizes. The gathers, the sigmoid and the softmax are not counted.
pub fn gemm_flops_per_batch(model: &Model, B: usize) -> u64 {
    let (V, D, H) = (model.vocab(), model.embed(), model.hidden());
    6 * (B * (CONTEXT * D * H + H * V)) as u64
}

/// Checks the sizes before anything is allocated: at least 2 words, a batch no larger than the
/// `n_train` training 4-grams, and a model with its buffers that fits in memory (a typo like
/// `--hidden 2000000` is an error, not an abort).
pub fn check_sizes(hyper: &Hyper, vocab: usize, n_train: usize) -> Result<()> {
    if vocab < 2 {
        return Err(Error::msg(format!(
            "the vocabulary has {vocab} word(s): a language model needs at least 2"
        )));
    }
    if hyper.batch > n_train {
        return Err(Error::flag(
            "--batch",
            format!(
                "{} is larger than the {n_train} training 4-grams",
                hyper.batch
            ),
        ));
    }
    // Parameters, gradients and velocities (3×), and the buffers of a training batch and of a
    // 1000-case evaluation chunk, in f64 entries (in f64 arithmetic: no overflow for any flag).
    let (V, D, H) = (vocab as f64, hyper.embed as f64, hyper.hidden as f64);
    let B = hyper.batch as f64;
    let params = V * D + 3.0 * D * H + H + H * V + V;
    let buffers = (B + 1000.0) * (2.0 * 3.0 * D + 2.0 * H + 2.0 * V);
    let gib = 8.0 * (3.0 * params + buffers) / (1u64 << 30) as f64;
    const LIMIT_GIB: f64 = 16.0;
    if gib > LIMIT_GIB {
        return Err(Error::flag(
            "--embed/--hidden/--batch/--vocab",
            format!(
                "a model of {vocab} words, embedding {}, hidden {}, batch {} would need {gib:.0} GiB (more than {LIMIT_GIB})",
                hyper.embed, hyper.hidden, hyper.batch
            ),
        ));
    }
    Ok(())
}

/// A model with its optimizer, buffers and gradients: one call of [`Trainer::step`] is one
/// batch of the assignment's training loop.
#[derive(Clone, Debug)]
pub struct Trainer {
    /// The parameters.
    pub model: Model,
    /// Hinton's momentum, one velocity Δ per parameter.
    pub opt: Optimizer,
    /// Forward/backward buffers of one batch.
    pub buf: Buffers,
    /// Gradients of the last batch.
    pub grads: Grads,
    /// Weight decay λ.
    pub weight_decay: f64,
    /// Batches trained so far, over all epochs (the step number of a divergence error).
    pub steps: u64,
}

impl Trainer {
    /// A freshly initialised model for vocabulary size `vocab`.
    pub fn new(vocab: usize, hyper: &Hyper, rng: &mut Rng) -> Result<Trainer> {
        if vocab < 2 {
            return Err(Error::msg(format!(
                "the vocabulary has {vocab} word(s): a language model needs at least 2"
            )));
        }
        let model = Model::new(vocab, hyper.embed, hyper.hidden, hyper.init_wt, rng);
        Ok(Trainer::from_model(model, hyper))
    }

    /// A trainer for `model` with zero velocities and no step taken (a resumed run then
    /// restores both, see [`checkpoint::resume`]).
    pub fn from_model(model: Model, hyper: &Hyper) -> Trainer {
        Trainer {
            buf: model.buffers(hyper.batch),
            grads: model.zero_grads(),
            // Δ ← μΔ + g;  W ← W − αΔ  (train.m: delta = momentum·delta + grad/batchsize;
            // our g already is grad/batchsize, see `backward`).
            opt: Optimizer::new(Rule::ClassicMomentum { mu: hyper.momentum }, hyper.lr),
            weight_decay: hyper.weight_decay,
            steps: 0,
            model,
        }
    }

    /// One batch: forward, cross-entropy, backward, momentum update of every parameter
    /// (biases included, as in the assignment). Returns the batch's CE before the update.
    pub fn step(&mut self, batch: &[Gram]) -> f64 {
        let Trainer {
            model,
            opt,
            buf,
            grads,
            weight_decay,
            steps,
        } = self;
        model.forward(batch, buf);
        let ce = Model::batch_ce(buf);
        model.backward(batch, buf, grads, *weight_decay);
        opt.begin_step();
        opt.update(0, &mut model.W0, &grads.dW0);
        opt.update(1, &mut model.W1, &grads.dW1);
        opt.update(2, &mut model.b1, &grads.db1);
        opt.update(3, &mut model.W2, &grads.dW2);
        opt.update(4, &mut model.b2, &grads.db2);
        *steps += 1;
        ce
    }
}

/// What one epoch of [`train_epoch`] reports to its caller.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Event {
    /// Every `show_train` batches: the batch number in the epoch (1-based) and the mean CE of
    /// the batches since the last report.
    Train { batch: usize, ce: f64 },
    /// Every `show_valid` batches: the batch number and the validation CE.
    Valid { batch: usize, ce: f64 },
}

/// One epoch of the assignment's loop: the training 4-grams in order (no shuffling) in
/// consecutive batches of B (`⌊N/B⌋` batches; the last N mod B cases are never used, as in
/// load_data.m). Calls `report` every 100 batches with the running mean batch CE and every 1000
/// with the validation CE (train.m's `show_training_CE_after` / `show_validation_CE_after`).
/// Returns the mean of the batch CEs during the epoch (train.m's "Average Training CE").
///
/// Divergence: a non-finite batch CE stops the epoch with `training diverged at step N` (N
/// counts batches over all epochs), and so do non-finite weights, looked at every 100 batches
/// and at the end of the epoch. (The CE itself stays finite far into divergence: the log's
/// floor e^−30 caps it at 30 nats per word, where train.m's lr-100 run ends, at 26.7.)
///
/// One departure from train.m: its chunk counter is not reset at the start of an epoch, so the
/// first printed chunk of every epoch after the first is divided by 125, not 100 (≈ 0.8× the
/// true value). Here every printed value is the true mean of its chunk.
pub fn train_epoch(
    trainer: &mut Trainer,
    train: &[Gram],
    valid: &[Gram],
    batch: usize,
    mut report: impl FnMut(Event),
) -> Result<f64> {
    const SHOW_TRAIN: usize = 100;
    const SHOW_VALID: usize = 1000;
    let batches = train.len() / batch;
    if batches == 0 {
        return Err(Error::flag(
            "--batch",
            format!(
                "{batch} is larger than the {} training 4-grams",
                train.len()
            ),
        ));
    }
    let (mut epoch_sum, mut chunk_sum, mut chunk_n) = (0.0, 0.0, 0usize);
    for m in 0..batches {
        // Batch m = columns m·B .. (m + 1)·B (load_data.m's column-major reshape).
        let ce = trainer.step(&train[m * batch..(m + 1) * batch]);
        shared::error::check_finite(trainer.steps, ce)?;
        if ((m + 1) % SHOW_TRAIN == 0 || m + 1 == batches) && !trainer.model.is_finite() {
            return Err(Error::msg(format!(
                "training diverged at step {}: the weights are no longer finite numbers (try a smaller --lr)",
                trainer.steps
            )));
        }
        epoch_sum += ce;
        chunk_sum += ce;
        chunk_n += 1;
        if (m + 1) % SHOW_TRAIN == 0 {
            report(Event::Train {
                batch: m + 1,
                ce: chunk_sum / chunk_n as f64,
            });
            (chunk_sum, chunk_n) = (0.0, 0);
        }
        if (m + 1) % SHOW_VALID == 0 && !valid.is_empty() {
            report(Event::Valid {
                batch: m + 1,
                ce: trainer.model.cross_entropy(valid),
            });
        }
    }
    Ok(epoch_sum / batches as f64)
}
