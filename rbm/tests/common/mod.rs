//! What the engine tests (`fast.rs`, `f32.rs`) share: a model a few updates into training and
//! binary data.

#![allow(non_snake_case, dead_code)]

use nalgebra::DMatrix;
use rbm::model::Rbm;
use shared::rng::{self, Rng};

/// A model a few updates into training: weights of about ±0.7, biases of about ±0.3.
pub fn random_rbm(n_v: usize, n_h: usize, rng: &mut Rng) -> Rbm {
    Rbm::new(
        shared::init::normal(n_h, n_v, 0.0, 0.7, rng),
        shared::init::normal(n_v, 1, 0.0, 0.3, rng),
        shared::init::normal(n_h, 1, 0.0, 0.3, rng),
    )
}

/// Binary data, n_v × N, about 40 % on.
pub fn binary(n_v: usize, N: usize, rng: &mut Rng) -> DMatrix<f64> {
    DMatrix::from_fn(n_v, N, |_, _| {
        (rng::uniform(rng, 0.0, 1.0) < 0.4) as u8 as f64
    })
}
