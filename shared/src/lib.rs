//! `shared`: what two or more chapters of the notes need, and nothing chapter-specific.
//!
//! | module | what it holds |
//! |---|---|
//! | [`data`] | generated datasets and loaders for the public ones |
//! | [`error`] | the one place user-facing errors are defined and printed (`error: ...`, exit 2) |
//! | [`files`] | reading files with errors that name them; atomic writes (temp file + rename) |
//! | [`rng`] | the seeded generator (ChaCha8) and the few sampling helpers every chapter needs |

pub mod data;
pub mod error;
pub mod files;
pub mod rng;

pub use error::{Error, Result};
