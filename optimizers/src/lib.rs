//! # optimizers — notes §8 Optimization Methods
//!
//! §8 compares how parameters are updated once a backward pass has given dW: (mini-batch)
//! gradient descent, gradient descent with momentum, and Adam. The notes follow Andrew Ng's
//! deeplearning.ai notebook "Optimization Methods" (Course 2, week 2); this crate repeats its
//! experiment: the same small network, trained from the same initial weights on the same
//! mini-batches, once per update rule, on two interleaving half moons.
//!
//! The layers, as the folder shows them:
//! - [`model`]: the notes layer, the notebook's network ([`Net`]) with its forward, cost and
//!   backward on nalgebra, one equation per line;
//! - [`fast`]: the same passes as the plain loops over preallocated buffers that training runs
//!   (tested against [`model`]);
//! - the update rules themselves live in [`shared::optim`] (every chapter uses them);
//! - [`data`] (the moons or a `--csv` file, read by [`points`], and which generator draws
//!   them), [`train`] (the rules compared, the notebook's `model` loop, [`Trainer`], and when a
//!   cost means the training diverged, [`train::check_cost`]), [`experiment`] (the `optimizers`
//!   command: flags, the loop over the rules, table, figure, summary), [`boundary`] (the
//!   decision-boundary picture), [`paths`] (the rules' walks on 2-D loss surfaces,
//!   `optimizers paths`), [`batch_size`] and [`momentum`] (the notes' claims about batch size
//!   and β). Every command writes through the workspace's run session
//!   ([`shared::session::Session`]: its own folder, locked while it runs, one `wrote …` line);
//!   none resumes, the longest default run taking seconds.
//!
//! Size legend (columns are examples, as in the notebook):
//! `m` examples in a mini-batch (64, the last one of an epoch 44), `N = 300` training
//! examples, layers `[n0, n1, n2, n3] = [2, 5, 2, 1]`;
//! `X: n0 × m`, `Y: 1 × m`, `W1: n1 × n0`, `b1: n1 × 1`, `Z1, A1: n1 × m`,
//! `W2: n2 × n1`, `b2: n2 × 1`, `Z2, A2: n2 × m`, `W3: 1 × n2`, `b3: 1 × 1`, `Z3, A3: 1 × m`.
//!
//! Expected result: the notebook's, digit for digit. Its random numbers come from numpy's
//! legacy generator, reimplemented in [`shared::rng::NumpyRandom`] (with scikit-learn's
//! `make_moons` in [`shared::data::moons::make_moons_numpy`]), so the default run draws the
//! notebook's moons, weights and mini-batches and prints its costs (gradient descent:
//! 0.702405 at epoch 0, 0.468014 at epoch 9000) and training accuracies: 0.796667 for
//! gradient descent, 0.796667 for momentum, 0.94 for Adam (whose printed run puts ε inside the
//! square root, as the notes do). `--rng chacha` draws them from the workspace's ChaCha8.
//!
//! Beside the notebook, the notes' two claims: batch sizes ([`batch_size`]: 300, 64 and 1,
//! against epochs and wall seconds) and momentum's β ([`momentum`]: 0 to 0.999 on an
//! ill-conditioned bowl).
//!
//! The notes' equations in the code:
//!
//! | notes §8 / notebook | code |
//! |---|---|
//! | mini-batch GD W ← W − α dW; momentum v ← βv + (1 − β)dW, W ← W − αv; Adam | [`shared::optim::Rule`] via [`Method::rule`] |
//! | mini-batches reshuffled every epoch, one update per batch | [`Trainer::epoch`] |
//! | Z1 = W1X + b1, A1 = relu(Z1), …, A3 = σ(Z3) | [`Net::forward`] ([`fast::forward`]) |
//! | cost Σ −[y ln a3 + (1 − y) ln(1 − a3)] | [`Net::cost`], [`bce_from_logit`] ([`fast::cost`]) |
//! | dZ3 = (A3 − Y)/m, dW3 = dZ3 A2ᵀ, db3, dA2 = W3ᵀ dZ3, dZ2 = dA2 ∘ (A2 > 0), … | [`Net::backward`] ([`fast::backward`]) |
//! | He initialisation (`np.random.seed(3)`, `randn`) | [`Net::he`], [`Setup::trainer`] |
//! | `random_mini_batches`, reseeded with 10 + 1, 10 + 2, … each epoch | [`train::Shuffle`] |
//! | `load_dataset` (`make_moons` after `np.random.seed(3)`) | [`data::Data::moons`] |
//! | `predict` | [`fast::accuracy`] |
//! | learning-rate decay (`update_lr`, `schedule_lr_decay`) | [`Decay`] |
//! | Adam's ε inside (the notes) or outside the root | [`Hyper::adam_eps`] |
//! | batch, mini-batch and stochastic gradient descent | [`batch_size::run`] |
//! | momentum's β, usually 0.8–0.999 | [`momentum::momentum_sweep`] |

#![allow(non_snake_case)]

pub mod model;

pub mod fast;

pub mod data;
pub mod points;

pub mod train;

pub mod batch_size;
pub mod boundary;
pub mod experiment;
pub mod momentum;
pub mod paths;

pub use data::labels_row;
pub use model::{Cache, Grads, LAYERS, Net, bce_from_logit};
pub use train::{BATCH_STREAM, Decay, Hyper, INIT_STREAM, Method, Setup, Trainer};
