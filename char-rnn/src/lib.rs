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
//! (the notes do not number these two equations; the code calls them K1 and K2), trained on a
//! text cut into consecutive chunks of T characters (x = chunk, target = the chunk shifted by
//! one character), by truncated back-propagation through those T steps, with the hidden state
//! carried from one chunk to the next.
//!
//! ## Sizes (the notes' legend)
//! - `N_x`: number of distinct characters (the vocabulary; 65 for Shakespeare)
//! - `N_h`: hidden units (100)
//! - `T`: characters per chunk (25, the reference's `seq_length`; the notes write T = 24, but
//!   their own example chunks have 25 characters)
//! - `U: N_h × N_x`, `W: N_h × N_h`, `V: N_x × N_h`, `b_h: N_h × 1`, `b_y: N_x × 1`
//!
//! ## What the reference does, and we do too
//! weights 0.01·N(0, 1), biases 0; loss = Σ_t −ln y_t(target_t) summed over the T characters;
//! every gradient clipped element-wise to [−5, 5]; Adagrad with learning rate 0.1 and
//! `sqrt(mem + 1e-8)`; the hidden state reset to 0 only at the start of each pass over the text.
//! Departures: the vocabulary is sorted (the reference's `list(set(data))` order changes from
//! run to run), every random draw is seeded, and the softmax subtracts the column maximum.
//!
//! ## Two layers
//! [`model`] is the notes layer: forward, backward and sampling in the notes' symbols, one
//! equation per line on nalgebra, and the reference for everything else. [`fast`] computes the
//! same on preallocated buffers with `shared::kernels` (one GEMM per chunk where the notes sum
//! T outer products, fast tanh and exp); training and sampling run it, and its tests compare
//! it with [`model`] on loss and all five gradients. The engine is generic over its float type:
//! f64 by default, f32 with `train --dtype f32` ([`fast::FastRnn`], [`fast::Kernels`]); the
//! notes layer stays f64.
//!
//! ## Where the notes live in the code
//! | notes | notes layer | engine path |
//! |---|---|---|
//! | (K1) s_t = tanh(U x_t + W s_{t−1} + b_h), U x_t = column x_t of U | [`CharRnn::forward`], [`CharRnn::step`] | [`fast::forward`], [`fast::feed`] |
//! | (K2) y_t = SoftMax(V s_t + b_y) | [`CharRnn::forward`], [`CharRnn::probabilities`] (with a temperature) | [`fast::forward`] (all t in one GEMM), [`fast::probabilities`] |
//! | loss Σ_t −ln y_t(target_t), kept with the chunk in a [`Cache`] | [`CharRnn::forward`] | [`fast::forward`] |
//! | gradients by back-propagation through the T steps | [`CharRnn::backward`] | [`fast::backward`] |
//! | "feed one character, get the next, 200 times; the hidden state carries over" (τ = 0: the largest score, no draw) | [`CharRnn::sample`] | [`fast::sample`], [`fast::sample_primed`] |
//! | figure 17: vocabulary h, e, l, o, N_h = 3, "hell" → "ello", the output scores per step | [`hello::Hello`] ([`CharRnn::forward`], [`CharRnn::scores`]) | |
//! | the loss per character of a text (perplexity, bits per character) | | [`train::evaluate`] |
//! | clip to [−5, 5] | [`Grads::clip`] | [`fast::clip_seen`] |
//! | Adagrad, the reference's loop (p, hprev, smooth_loss) | | [`Trainer::step`] |
//! | `x_train[k]` / `y_train[k]`: chunks of T characters and the same shifted by one | | [`Trainer::step`] on [`vocab::Text`] |
//! | N_x = 65 characters (the sorted set of the text's characters) | | [`Vocab`] |
//!
//! ## Expected result
//! On tinyshakespeare the smoothed loss starts at 25·ln 65 = 104.36 and reaches ≈ 57 after 5k
//! iterations, ≈ 54 after 10k and ≈ 48 after 100k (≈ 1.9 nats per character); samples then
//! show speaker names and word-like tokens. The default run (100,000 iterations on the
//! generated corpus, 29 characters) ends near 24 nats per chunk, 0.96 nats per character,
//! against the corpus's exact entropy of 0.56.
//!
//! ## Modules
//! [`model`] ← [`fast`] ← [`vocab`], [`corpus`] (the data) ← [`train`] (the reference's loop,
//! evaluation) ← [`hello`] (figure 17) ← [`checkpoint`] (`model.safetensors` as the run
//! session's checkpoint) ← [`report`] (printed lines, `summary.json`) ← [`cli`] (the flags) ←
//! [`commands`] (`train`, `sample`, `eval`, `hello` on `shared::session`) ← `main.rs`.
#![allow(non_snake_case)]

pub mod checkpoint;
pub mod cli;
pub mod commands;
pub mod corpus;
pub mod fast;
pub mod hello;
pub mod model;
pub mod report;
pub mod train;
pub mod vocab;

/// The chapter (checkpoints record it; `runs/char-rnn` is its default folder).
pub const CHAPTER: shared::session::Chapter = shared::chapter!();

pub use model::{Cache, CharRnn, Grads};
pub use train::Trainer;
pub use vocab::Vocab;
