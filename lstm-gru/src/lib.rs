//! (doc to come)
#![allow(non_snake_case)]

pub mod checkpoint;
pub mod data;
pub mod fast;
pub mod lm;
pub mod model;
pub mod report;
pub mod train;

pub use model::{Cell, Gru, Lstm, Rnn, Stack};
