//! Speed of the two hot paths: one CD-1 mini-batch update (positive phase, one Gibbs step,
//! statistics by GEMM into preallocated buffers, momentum update) and the exact log Z by the
//! notes' sum over the hidden configurations (n_v = 64, the binarised 8 × 8 digits).

#![allow(non_snake_case)]

use divan::{Bencher, black_box};
use nalgebra::DMatrix;
use rbm::partition::log_z;
use rbm::train::{self, Config, Trainer};
use shared::rng;

fn main() {
    divan::main();
}

/// Binary data with about 30 % of the pixels on, n_v × N.
fn data(n_v: usize, N: usize) -> DMatrix<f64> {
    let mut r = rng::seeded(1);
    DMatrix::from_fn(n_v, N, |_, _| {
        (rng::uniform(&mut r, 0.0, 1.0) < 0.3) as u8 as f64
    })
}

/// One CD-1 update of a batch: (n_v, n_h, B) = digits (64, 12, 10), bars (16, 16, 10),
/// MNIST-sized (784, 500, 100).
#[divan::bench(args = [(64, 12, 10), (16, 16, 10), (784, 500, 100)])]
fn cd1_batch(b: Bencher, (n_v, n_h, B): (usize, usize, usize)) {
    let V = data(n_v, B);
    let mut r = rng::seeded(2);
    let mut m = train::init(n_h, &V, &mut r);
    let cfg = Config {
        batch: B,
        ..Config::default()
    };
    let mut t = Trainer::new(&m, cfg, &mut r);
    let cols: Vec<usize> = (0..B).collect();
    b.bench_local(|| t.step(&mut m, black_box(&V), &cols, &mut r));
}

/// Exact log Z summed over 2^{n_h} hidden configurations, n_v = 64.
#[divan::bench(args = [12, 14, 16, 18, 20], sample_count = 5, sample_size = 1)]
fn exact_log_z(b: Bencher, n_h: usize) {
    let V = data(64, 100);
    let mut m = train::init(n_h, &V, &mut rng::seeded(3));
    m.W.apply(|w| *w *= 50.0); // weights of a trained model's size (σ ≈ 0.5)
    b.bench_local(|| black_box(log_z(black_box(&m))));
}
