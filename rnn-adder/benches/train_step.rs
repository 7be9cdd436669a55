//! Speed of one training example of the binary adder (forward over 8 steps, BPTT, update),
//! N_h = 16: trask's numpy loop takes about 213 µs per example on the team's machine (our
//! numpy script `bench/compare/rnn-adder.py` times the same unit).
//!
//! `example` counts floating-point operations as divan "items": one example is
//! T(2N² + 6N) forward (W_hh h, W_xh x, W_hy h), T(2N² + 10N) + (T − 1)·2N² backward (W_hhᵀ dz,
//! W_hyᵀ δ, dW_hy, dW_xh; dW_hh), 2(N² + 3N) update: 14 432 for T = 8, N = 16, so its
//! "items/s" reads as FLOP/s. `gemm_256` is the machine's yardstick (one 256³ product).

#![allow(non_snake_case)]

use divan::counter::ItemsCount;
use rnn_adder::{Adder, Cost, Sequence};

fn main() {
    divan::main();
}

/// Floating-point operations of one training example (see the file's doc).
fn flops(T: usize, N: usize) -> usize {
    T * (2 * N * N + 6 * N) + T * (2 * N * N + 10 * N) + (T - 1) * 2 * N * N + 2 * (N * N + 3 * N)
}

/// One example: forward + backward + update, as in the training loop.
#[divan::bench(args = [Cost::L2, Cost::Logistic])]
fn example(bencher: divan::Bencher, cost: Cost) {
    let mut model = Adder::new(16, &mut shared::rng::seeded(1));
    let seq = Sequence::of(9, 60, 8);
    let (mut cache, mut g) = (model.cache(8), model.grads());
    bencher
        .counter(ItemsCount::new(flops(8, 16)))
        .bench_local(|| model.train_step(divan::black_box(&seq), cost, 0.1, &mut cache, &mut g));
}

/// The machine's f64 GEMM speed: one 256 × 256 × 256 product (2·256³ FLOPs) with
/// `shared::kernels::gemm` (matrixmultiply's kernel, one thread).
#[divan::bench]
fn gemm_256(bencher: divan::Bencher) {
    let n = 256;
    let a = nalgebra::DMatrix::<f64>::from_fn(n, n, |i, j| ((i * 7 + j * 3) % 11) as f64 - 5.0);
    let b = nalgebra::DMatrix::<f64>::from_fn(n, n, |i, j| ((i * 5 + j) % 13) as f64 - 6.0);
    let mut c = nalgebra::DMatrix::<f64>::zeros(n, n);
    bencher
        .counter(ItemsCount::new(2 * n * n * n))
        .bench_local(|| shared::kernels::gemm(1.0, &a, &b, 0.0, &mut c));
}

/// The forward pass only (what evaluating one sum costs).
#[divan::bench]
fn forward(bencher: divan::Bencher) {
    let model = Adder::new(16, &mut shared::rng::seeded(1));
    let seq = Sequence::of(9, 60, 8);
    let mut cache = model.cache(8);
    bencher.bench_local(|| model.add(divan::black_box(&seq), &mut cache));
}

/// The default training run's examples: 10 000 random pairs, N_h = 16, L² cost (no evaluation).
#[divan::bench(sample_count = 10)]
fn ten_thousand_examples(bencher: divan::Bencher) {
    bencher.bench_local(|| {
        let mut model = Adder::new(16, &mut shared::rng::stream(1, 0));
        let mut data = shared::rng::stream(1, 1);
        let (mut seq, mut cache, mut g) = (Sequence::new(8), model.cache(8), model.grads());
        for _ in 0..10_000 {
            let (a, b) = (
                rnn_adder::random_addend(8, &mut data),
                rnn_adder::random_addend(8, &mut data),
            );
            seq.set(a, b);
            model.train_step(&seq, Cost::L2, 0.1, &mut cache, &mut g);
        }
        model
    });
}

/// Adding all 16 384 pairs a, b < 128 (one point of the accuracy curve).
#[divan::bench(sample_count = 10)]
fn all_pairs_accuracy(bencher: divan::Bencher) {
    let model = Adder::new(16, &mut shared::rng::seeded(1));
    bencher.bench_local(|| rnn_adder::accuracy_all_pairs(&model, 8));
}

/// One example, cycling through 1024 different random pairs (as in training).
#[divan::bench]
fn train_step_random_pairs(bencher: divan::Bencher) {
    let mut model = Adder::new(16, &mut shared::rng::seeded(1));
    let pairs = rnn_adder::random_pairs(8, 1024, &mut shared::rng::seeded(2));
    let (mut seq, mut cache, mut g) = (Sequence::new(8), model.cache(8), model.grads());
    let mut k = 0;
    bencher.bench_local(|| {
        let (a, b) = pairs[k % 1024];
        k += 1;
        seq.set(a, b);
        model.train_step(&seq, Cost::L2, 0.1, &mut cache, &mut g)
    });
}
