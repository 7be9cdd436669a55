//! # rnn-adder — notes §6, "RNN Toy Model: i am trask blog", and Example 6.1
//!
//! A vanilla RNN learns to add two binary numbers, one bit per time step, least significant
//! bit first, trained by back-propagation through time (BPTT) written out line by line as the
//! notes write it. The notes' Example 6.1 (a hand computation of ∂E/∂z₁ in a three-step RNN) is
//! in [`example_6_1`].
//!
//! Reference tutorial: Andrew Trask, "Anyone Can Learn To Code an LSTM-RNN in Python (Part 1:
//! RNN)", iamtrask.github.io, 2015 (numpy; 16 hidden units, α = 0.1, 10 000 examples).
//!
//! ## Sizes, in the notes' names
//! - `T = n + 1` time steps `i = 0, …, n`: the bits of the sum (8 for two 7-bit numbers);
//! - `x_i`: 2 × 1, (bit i of a, bit i of b); `t_i`: bit i of a + b; `y_i`: 1 × 1;
//! - `h_i`: N_h × 1 (N_h = 16), with `h_{−1} = 0`;
//! - `W_xh`: N_h × 2, `W_hh`: N_h × N_h, `W_hy`: 1 × N_h; no biases (as in the notes and trask).
//!
//! ## The model
//! Forward: `z_i = W_xh x_i + W_hh h_{i−1}`, `h_i = σ(z_i)`, `y_i = σ(W_hy h_i)`.
//!
//! Backward, as the notes write it: their `dW` is the *negative* gradient −∂E/∂W (they write
//! `t_i − y_i`, as trask's code does), so the update is `W ← W + α dW`:
//! - `δ_i = (t_i − y_i) ∘ y_i(1 − y_i)` for the L² cost E = ½ Σ (t_i − y_i)²,
//!   `δ_i = t_i − y_i` for the logistic cost E = −Σ [t_i ln y_i + (1 − t_i) ln(1 − y_i)];
//! - `dW_hy = Σ_i δ_i h_iᵀ`;
//! - `dz_i = (W_hyᵀ δ_i + W_hhᵀ dz_{i+1}) ∘ h_i(1 − h_i)`, with `dz_{n+1} = 0`, for i = n, …, 0;
//! - `dW_hh = Σ_i dz_i h_{i−1}ᵀ` (the i = 0 term is zero: h_{−1} = 0), `dW_xh = Σ_i dz_i x_iᵀ`.
//!
//! ## Expected result
//! After 10 000 random examples (a, b < 128) the network adds all 16 384 pairs exactly, and
//! since the same weights act at every step it keeps adding 10-, 16-, even 64-bit numbers when
//! simply run for more steps: the notes' reading of h_i as the carry. With trask's random
//! numbers ([`Draws::Numpy`], numpy's `np.random.seed(0)`: the binary's default) the run prints
//! his post's output to the last digit: error 3.45638663 on 9 + 60 = 1 at example 0, …,
//! 0.21595037 on 11 + 3 = 14 at example 9000.
//!
//! ## Where the notes live in the code
//!
//! | notes §6 | code |
//! |---|---|
//! | x_i, t_i: bit i of a, b, a + b | [`Sequence::set`] |
//! | z_i = W_xh x_i + W_hh h_{i−1}, h_i = σ(z_i), y_i = σ(W_hy h_i) | [`Adder::forward`] (kept in a [`Cache`]) |
//! | (t_i − y_i) ∘ y_i(1 − y_i) (L²), t_i − y_i (logistic); E | [`Cost::delta`], [`Cost::value`] |
//! | dW_hy, dz_i, dW_hh, dW_xh | [`Adder::backward`] (into [`Grads`]) |
//! | W ← W + α dW | [`Adder::update`], [`Adder::train_step`] |
//! | trask's init `2*np.random.random(shape) - 1`, his examples `np.random.randint` | [`Adder::from_numpy`], [`Draws::model`], [`Draws::pair`] |
//! | trained on 7 bits, works on 10 bits | [`accuracy_on`], [`train::test_wider`] |
//! | Example 6.1 | [`example_6_1`] |
//!
//! ## Modules
//! [`model`] (the notes layer: forward, backward, update) ← [`data`] (examples, generators) ←
//! [`train`] (accuracies, curves, the divergence check, the wider test) ← [`checkpoint`]
//! (`model.safetensors` as the run session's checkpoint) ← [`report`] (printed rows,
//! `summary.json`) ← [`cli`] (the flags) ← [`commands`] (`train` and `example-6-1` on
//! `shared::session`) ← `main.rs`.

#![allow(non_snake_case)]

pub mod checkpoint;
pub mod cli;
pub mod commands;
pub mod data;
pub mod example_6_1;
pub mod model;
pub mod report;
pub mod train;

pub use data::{Draws, RngKind, all_pairs, random_addend, random_pairs};
pub use model::{Adder, Cache, Cost, Grads, Sequence};
pub use report::binary;
pub use train::{Accuracy, accuracy_all_pairs, accuracy_on};

/// The chapter name (output folder, checkpoint metadata).
pub const CHAPTER: &str = "rnn-adder";
