//! # backprop-xor — notes §2 Chain Rule, §3 Deep Neural Net, §4 Back Propagation
//!
//! The notes' first network is trask's "A Neural Network in 11 Lines" (§4.1, figures 9 and 12):
//! a 3–4–1 sigmoid net learning XOR with full-batch backprop. Tutorial: Andrew Trask, "A Neural
//! Network in 11 lines of Python (Part 1)" (iamtrask.github.io, 2015). This crate writes it
//! three ways, and the sections around it:
//!
//! - [`ElevenLines`]: the 11 lines of figure 12, line for line, in the notes' names, with
//!   fixed-size matrices (the sizes are known at compile time, as in the notes).
//! - [`Net`]: the same network at any depth (`--layers 3,8,8,1`, figures 6, 7 and 11), with the
//!   §4 matrix backprop `dX̄_i = dX_i ∘ X_i(1 − X_i)`, `dW_{i−1} = X_{i−1}ᵀ dX̄_i`,
//!   `dX_{i−1} = dX̄_i W_{i−1}ᵀ`, checked against finite differences.
//! - [`chain_rule`]: §2's worked examples; [`SimpleNet`]: §3's nets without a hidden layer
//!   (figure 5); [`OneHidden`]: figure 6's net with one hidden layer as a softmax classifier of
//!   the 8 × 8 digits (`backprop-xor digits`: about 97.5 % on scikit-learn's set's held-out
//!   quarter).
//!
//! The notes layer is [`model`] (one file per model); [`chain_rule`] is §2's worked numbers;
//! [`data`], [`train`], [`report`], [`checkpoint`], [`cli`] and [`commands`] are what a run
//! needs around them. There is no separate training path: the products are small, and the
//! models are what runs.
//!
//! ## Sizes
//!
//! §4, rows are examples as in trask's program: `N = 4` examples, `X0: N × 3` (two bits and a
//! constant 1 that plays the bias), `t: N × 1`, `W0: 3 × 4`, `X1: N × 4`, `W1: 4 × 1`,
//! `X2: N × 1`. At any depth: `X_i: N × n_i`, `W_i: n_i × n_{i+1}`. §3: `X: N × d`,
//! `W: d × K`, `b: 1 × K`, `Y, T: N × K`. §2's example: `X: 1 × 3`, `W: 3 × 2`, `u: 2 × 1`.
//! Figure 6 on the digits: `X0: N × 64`, `W0: 64 × H`, `X1: N × H`, `W1: H × 10`, `X2: N × 10`.
//!
//! ## Expected result
//!
//! With `np.random.seed(1)`'s weights ([`Init::Numpy`], the default) the mean absolute error
//! printed every 10 000 iterations is trask's blog output, 0.4964 → 0.0086 → 0.0058 → 0.0046 →
//! 0.0040 → 0.0035, and the outputs end near (0.003, 0.997, 0.997, 0.004).
//!
//! Sign convention: the notes' equations use the true gradient dX₂ = −(t − X₂) and subtract it;
//! the program (line 8) computes (t − X₂)·X₂(1 − X₂), the *negative* of dX̄₂, and adds. Both are
//! gradient descent with learning rate 1. [`ElevenLines`] keeps the program's form, [`Net`] the
//! equations' form.
//!
//! ## The notes' equations in this crate
//!
//! | notes | code |
//! |---|---|
//! | §2 ∂f/∂A = (∂f/∂Y)Xᵀ, ∂f/∂X = Aᵀ(∂f/∂Y) | [`chain_rule::matrix_identity`] |
//! | §2 figure 3, x → −x → e^{−x} → 1 + e^{−x} → y and back, σ' = y(1 − y) | [`chain_rule::sigmoid_chain`] |
//! | §2 figure 4's network, forward and backward | [`chain_rule::ExampleNet::grads`] |
//! | §3 figure 5, Y = f(XW + b): linear / logistic / softmax | [`SimpleNet::forward`], [`SimpleNet::loss`] |
//! | §3 ∂E/∂Z = (Y − T)/N, ∂E/∂W = Xᵀ ∂E/∂Z, ∂E/∂b = Σ ∂E/∂Z | [`SimpleNet::grads`] |
//! | §4.1 figure 12, lines 1–2 (X0, t) | [`xor_data`] |
//! | §4.1 lines 3–4 (W0, W1 = 2·random − 1) | [`ElevenLines::new`], [`Init::weight`] |
//! | §4.1 lines 6–11 | [`ElevenLines::iteration`] |
//! | §4 X̄_{i+1} = X_i W_i, X_{i+1} = σ(X̄_{i+1}) | [`Net::forward`] |
//! | §4 dX_L = −(t − X_L), dX̄_i, dW_{i−1}, dX_{i−1} | [`Net::backward`] |
//! | W_i ← W_i − α dW_i | [`Net::step`] |
//! | trask's printed error, mean \|t − X_L\| | [`report::mean_abs_error`] |
//! | §3 figure 6: X1 = σ(X0 W0 + 1 b0), X2 = softmax(X1 W1 + 1 b1), cross-entropy | [`OneHidden::forward`], [`OneHidden::loss`] |
//! | dX̄2 = (X2 − T)/N, dW1, db1, dX1, dX̄1 = dX1 ∘ (1 − X1) ∘ X1, dW0, db0 | [`OneHidden::backward`] |

#![allow(non_snake_case)]

pub mod chain_rule;
pub mod checkpoint;
pub mod cli;
pub mod commands;
pub mod data;
pub mod model;
pub mod report;
pub mod train;

pub use model::{Cache, ElevenLines, Init, Kind, Net, OneHidden, SimpleNet, xor_data};
pub use train::XorNet;
