//! Character language model (work in progress).
