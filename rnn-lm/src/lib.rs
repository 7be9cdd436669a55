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
//! | `T` | words of one sentence's input (`SENTENCE_START` + words); differs per sentence | ≈ 20 |
//! | `K` | BPTT truncation: each output reaches back K steps (K + 1 in all) | 4 |
//!
//! `U : N_h × N_x`, `W : N_h × N_h`, `V : N_x × N_h`; `x_i`, `t_i` one-hot `N_x × 1`; the hidden
//! state `h_i : N_h × 1` (Britz's `s_t`) and the output `y_i : N_x × 1` (Britz's `o_t`).
//!
//! ## Two layers
//! - [`model`]: the notes layer. The model, forward, loss, the notes' truncated BPTT (and the
//!   toy model's full BPTT) and the SGD update, one equation per line on nalgebra. The gradient
//!   check ([`gradcheck`]) runs on it.
//! - [`fast`]: the training path. The same numbers computed fast on shared's engine (products
//!   with V over the whole sentence, [`shared::kernels::tall`]; vectorised tanh and softmax;
//!   `--threads`, by default every core), tested against [`model`] to 1e-12. It is generic over
//!   its float type ([`fast::Scalar`]): f64, or f32 for `train --dtype f32` ([`fast::Net<f32>`],
//!   the products with V on the `gemm` crate), tested against [`model`] to f32 precision.
//!
//! The rest imports in one direction: [`model`] ← [`fast`] ← [`corpus`] (data) ← [`train`] ←
//! [`checkpoint`] ← [`report`] ← [`commands`] (on [`cli`]) ← `main`.
//!
//! ## Where each equation is
//! | notes §6 | notes layer | training path |
//! |---|---|---|
//! | U, W, V; init U(±1/√n) as the tutorial | [`Rnn`], [`Rnn::new`] | |
//! | h_i = tanh(U x_i + W h_{i−1}) | [`Rnn::forward`] | [`fast::forward`] |
//! | y_i = softmax(V h_i) | [`Rnn::forward`] | [`fast::forward`] ([`fast::scores_softmax`]) |
//! | L = Σ −ln y_i\[t_i\] (per target word, as the tutorial) | [`Cache::loss`] | [`fast::Cache::loss`], [`fast::loss`] |
//! | dV = Σ (y_i − t_i) h_iᵀ | [`Rnn::backward`] | [`fast::sgd_step`] ([`fast::Scalar::output_backward`]) |
//! | z_i = (Vᵀ (y_i − t_i)) ∘ (1 − h_i²) | [`Rnn::backward`] | [`fast::sgd_step`] |
//! | b_ij = (Wᵀ z_{j+1} or Wᵀ b_i,j+1) ∘ (1 − h_j²), j = i−1 … i−K | [`Rnn::backward`] | [`fast::sgd_step`] |
//! | dW = Σ [z_i h_{i−1}ᵀ + Σ_j b_ij h_{j−1}ᵀ], dU = Σ [z_i x_iᵀ + Σ_j b_ij x_jᵀ] | [`Rnn::backward`] | [`fast::sgd_step`] |
//! | K large enough = the toy model's full BPTT | [`Bptt::Full`] in [`Rnn::backward`] | [`Bptt::Full`] in [`fast::sgd_step`] |
//! | SGD θ ← θ − lr dθ, one sentence at a time | [`Rnn::update`], [`Rnn::sgd_step`] | [`fast::sgd_step`] |
//! | epochs, lr halving, evaluations | | [`train::train_with_sgd`] |
//! | data, vocabulary, x/t pairs | | [`corpus::Source::load`], [`corpus::Prepared`] |
//! | generation until `SENTENCE_END` | | [`fast::generate`], [`corpus::sample_sentences`] |
//! | the tutorial's gradient check | [`gradcheck::gradient_check`] ([`Rnn::truncated_surrogate_loss`] for K < T − 1) | |
//!
//! The run's files: [`checkpoint`] (`model.safetensors`: the model, its vocabulary and the
//! `--resume` state, written at every evaluation and at Ctrl-C on the shared run session),
//! [`report`] (curves, summary); [`commands`] are `train`, `sample`, `eval` and `gradcheck`.
//!
//! ## Expected results
//! - Untrained, every `y_i` is close to uniform: the loss is `ln N_x` (8.987 for 8000) to three
//!   decimals (the tutorial prints 8.987440 against 8.987197; here 8.987325 on tinyshakespeare).
//! - The tutorial's small run (its first 100 sentences, 10 epochs, lr 0.005) goes 8.987 → 5.71;
//!   here tinyshakespeare with `--vocab 8000 --sentences 100` goes 8.987 → 5.57 with the same
//!   plateau-then-drop shape, the reddit sample (N_x = 4386) 8.386 → 5.95.
//! - The default run (generated corpus, 252 words) goes 5.532 → 2.231 against the corpus's
//!   entropy of 2.057.
//! - The gradient check passes the tutorial's criterion (|a − n| / (|a| + |n|) < 0.01) by orders
//!   of magnitude; the tests hold relative errors below 1e-6.

#![allow(non_snake_case)]

pub mod checkpoint;
pub mod cli;
pub mod commands;
pub mod corpus;
pub mod fast;
pub mod gradcheck;
pub mod model;
pub mod report;
pub mod train;

pub use model::{Bptt, Cache, Grads, Rnn};

/// This program, for the run session.
pub const CHAPTER: shared::session::Chapter = shared::chapter!();
