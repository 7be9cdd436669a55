//! Speed of one training example of the binary adder (forward over 8 steps, BPTT, update),
//! N_h = 16: trask's numpy loop takes about 213 µs per example on the team's machine.

#![allow(non_snake_case)]

use rnn_adder::{Adder, Cost, Sequence};

fn main() {
    divan::main();
}

/// One example: forward + backward + update, as in the training loop.
#[divan::bench(args = [Cost::L2, Cost::Logistic])]
fn train_step(bencher: divan::Bencher, cost: Cost) {
    let mut model = Adder::new(16, &mut shared::rng::seeded(1));
    let seq = Sequence::of(9, 60, 8);
    let mut ws = model.buffers(8);
    bencher.bench_local(|| model.train_step(divan::black_box(&seq), cost, 0.1, &mut ws));
}

/// The forward pass only (what evaluating one sum costs).
#[divan::bench]
fn forward(bencher: divan::Bencher) {
    let model = Adder::new(16, &mut shared::rng::seeded(1));
    let seq = Sequence::of(9, 60, 8);
    let mut ws = model.buffers(8);
    bencher.bench_local(|| model.add(divan::black_box(&seq), &mut ws));
}

/// The default training run's examples: 10 000 random pairs, N_h = 16, L² cost (no evaluation).
#[divan::bench(sample_count = 10)]
fn ten_thousand_examples(bencher: divan::Bencher) {
    bencher.bench_local(|| {
        let mut model = Adder::new(16, &mut shared::rng::stream(1, 0));
        let mut data = shared::rng::stream(1, 1);
        let (mut seq, mut ws) = (Sequence::new(8), model.buffers(8));
        for _ in 0..10_000 {
            let (a, b) = (
                rnn_adder::random_addend(8, &mut data),
                rnn_adder::random_addend(8, &mut data),
            );
            seq.set(a, b);
            model.train_step(&seq, Cost::L2, 0.1, &mut ws);
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
    let (mut seq, mut ws) = (Sequence::new(8), model.buffers(8));
    let mut k = 0;
    bencher.bench_local(|| {
        let (a, b) = pairs[k % 1024];
        k += 1;
        seq.set(a, b);
        model.train_step(&seq, Cost::L2, 0.1, &mut ws)
    });
}
