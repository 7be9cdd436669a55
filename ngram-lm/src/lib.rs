//! # ngram-lm — notes §1, Language Model
//!
//! Bengio, Ducharme, Vincent & Jauvin's *neural probabilistic language model* (JMLR 2003) in
//! the miniature form of Geoffrey Hinton's Coursera assignment 2 ("Learning word
//! representations"), which §1 of the notes derives line by line: read 4 consecutive words,
//! predict the 4th from the first 3.
//!
//! Tutorial: Hinton's "Neural Networks for Machine Learning", programming assignment 2
//! (train.m, fprop.m, load_data.m, display_nearest_words.m, predict_next_word.m,
//! word_distance.m), whose code §1 analyses.
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
//! | `K_i` | V × B | one-hot form of row i of `X0` |
//! | `W0` | V × D | word embeddings; row `w_{0i}` (1 × D) is word i's feature vector |
//! | `X1` | 3D × B = 150 × 100 | `[W0ᵀK1; W0ᵀK2; W0ᵀK3]`, eq. (1) |
//! | `W1`, `b1` | 3D × H = 150 × 200, H × 1 | embedding → hidden |
//! | `X2` | H × B = 200 × 100 | `W1ᵀX1 + b1`, then `f` = sigmoid |
//! | `W2`, `b2` | H × V = 200 × 250, V × 1 | hidden → output |
//! | `X3` | V × B = 250 × 100 | `W2ᵀf(X2) + b2`, then `g` = softmax gives `y` |
//! | `t` | V × B | one-hot targets (the 4th word) |
//!
//! ## Two layers
//!
//! [`model`] is the notes' page in code: forward, backward and the update in the notes' symbols
//! on nalgebra, one equation per line, with the K_i built as the one-hot matrices the notes
//! define. [`fast`] is what training runs: the same arithmetic into buffers allocated once,
//! the products W0ᵀK_i as a gather and Σᵢ K_i dX1ᵢᵀ as a scatter-add; `tests/model.rs` checks
//! that it gives the values and gradients of [`model`]. The training path is generic over its
//! float type: f64 by default, f32 with `train --dtype f32` ([`fast::FastModel`]); the notes
//! layer stays f64. Around them: [`data`] (the 4-grams),
//! [`train`] (train.m's loop), [`checkpoint`] (the model file and `--resume`), [`report`],
//! [`words`] and [`picture`].
//!
//! ## The notes' equations in this crate
//!
//! | §1 | notes layer | training path |
//! |---|---|---|
//! | (1) `X1 = [W0ᵀK1; W0ᵀK2; W0ᵀK3]`; K_i the one-hot rows of X0 | [`Model::forward`], [`model::one_hot`] | [`fast::forward`] (a gather) |
//! | `X1 = (I₃ ⊗ W0ᵀ)[K1; K2; K3]`: eq. (1) by matrix operations alone | [`model`] (its docs) | |
//! | `X2 = W1ᵀX1 + b1`, `f` = sigmoid; `X3 = W2ᵀf(X2) + b2`, `g` = softmax | [`Model::forward`] | [`fast::forward`] |
//! | cross-entropy `−Σ t ∘ log(y + tiny)/100` | [`model::Cache::loss`] | [`fast::Cache::loss`], [`fast::cross_entropy`] |
//! | `dX3 = (y − t)/100`; `dW2 = f(X2)(y − t)ᵀ + λW2`; `db2` = sum over rows | [`Model::backward`] | [`fast::backward`] |
//! | `dX2 = (W2(y − t)) ∘ f(X2) ∘ (1 − f(X2))`; `dW1 = X1dX2ᵀ + λW1`; `db1`; `dX1 = W1dX2` | [`Model::backward`] | [`fast::backward`] |
//! | `dW0 = Σᵢ K_i dX1ᵢᵀ` | [`Model::backward`] | [`fast::backward`] (a scatter-add) |
//! | the objective CE + (λ/2)(‖W1‖² + ‖W2‖²) (gradient checks) | [`Model::objective`] | |
//! | train.m's update `Δ ← μΔ + g/100; W ← W − αΔ` | [`Model::update`], [`model::momentum`] | [`Trainer::step`] |
//! | train.m's loop and log | [`train_epoch`], [`report`] | |
//! | display_nearest_words, predict_next_word, word_distance | [`words::nearest`], [`words::predict`], [`words::distance`] | |
//!
//! Where the notes slip: they define `dX3 = (y − t)/100` but write `dW2`, `db2`, `dX2` with the
//! unscaled `(y − t)`. Here `dX3` carries the `/100` into every gradient, so each is that of the
//! *mean* cross-entropy, and Hinton's momentum `Δ ← μΔ + g` is exactly train.m's
//! `delta = momentum·delta + grad/batchsize`.
//!
//! The notes also ask whether X1 can be built by matrix operations alone, not by stacking the
//! three blocks: yes, `X1 = (I₃ ⊗ W0ᵀ)[K1; K2; K3]`; [`model`] derives it and the notes'
//! `dW0` from it, and a test builds X1 both ways.
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

#![allow(non_snake_case)]

pub mod checkpoint;
pub mod cli;
pub mod commands;
pub mod data;
pub mod fast;
pub mod model;
pub mod picture;
pub mod report;
pub mod train;
pub mod words;

pub use fast::gemm_flops_per_batch;
pub use model::{CONTEXT, Cache, Grads, Gram, Model};
pub use train::{Event, Hyper, Trainer, train_epoch};

/// The chapter (checkpoint metadata, `runs/ngram-lm`, `--version`).
pub const CHAPTER: shared::session::Chapter = shared::chapter!();
