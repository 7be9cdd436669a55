//! `shared`: what two or more chapters of the notes need, and nothing chapter-specific.
//!
//! | module | what it holds |
//! |---|---|
//! | [`activation`] | sigmoid, tanh, relu, column-wise softmax; derivatives from the output |
//! | [`loss`] | cross-entropy (with the notes' `tiny`), binary cross-entropy, squared error, accuracy |
//! | [`init`] | seeded uniform, normal, He and ±1/√n initialisers |
//! | [`gradcheck`] | finite-difference gradients and their comparison with a backward pass |
//! | [`kernels`] | the engine layer's fast paths (products, e^x, tanh, σ), each beside its plain reference |
//! | [`optim`] | the update rules of §8: SGD, momentum (two forms), Nesterov, Adagrad, RMSProp, Adam |
//! | [`parallel`] | `--threads N`: its range and the split of a mini-batch into per-thread groups |
//! | [`plot`] | loss curves (one or more panels, log axis, legend) and image grids to PNG; CSV of the same numbers |
//! | [`data`] | generated datasets and loaders for the public ones |
//! | [`cli`] | the command line every chapter shares: parsing (`--version`, `--out`'s real default, typed flags) and value checks |
//! | [`error`] | the one place user-facing errors are defined and printed (`error: ...`, exit 2) |
//! | [`files`] | reading files with errors that name them; atomic writes (temp file + rename) |
//! | [`rng`] | the seeded generator (ChaCha8) and the few sampling helpers every chapter needs |
//! | [`run`] | the run contract: `--seed`, `--out`, `--quiet`; loss.png, loss.csv, summary.json; progress bars |
//! | [`session`] | the one run session: the folder and its lock, checkpoints, resume with the same flags, Ctrl-C, `say`, the `wrote …` line |
//! | [`checkpoint`] | safetensors checkpoints (row-major F64, chapter recorded, shapes checked) |
//! | [`testing`] | support for the chapters' integration tests: the bad-input contract, bad files, same-seed comparisons |

#![warn(missing_docs)]

pub mod activation;
pub mod checkpoint;
pub mod cli;
pub mod data;
pub mod error;
pub mod files;
pub mod gradcheck;
pub mod init;
pub mod kernels;
pub mod loss;
pub mod optim;
pub mod parallel;
pub mod plot;
pub mod rng;
pub mod run;
pub mod session;
pub mod testing;

pub use error::{Error, Result};
