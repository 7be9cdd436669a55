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
