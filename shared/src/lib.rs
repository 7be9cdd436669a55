//! `shared`: what two or more chapters of the notes need, and nothing chapter-specific.
//!
//! | module | what it holds |
//! |---|---|
//! | [`error`] | the one place user-facing errors are defined and printed (`error: ...`, exit 2) |
//! | [`files`] | reading files with errors that name them; atomic writes (temp file + rename) |

pub mod error;
pub mod files;

pub use error::{Error, Result};
