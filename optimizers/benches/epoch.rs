//! One epoch of the notebook's experiment (300 moons, mini-batches 4 × 64 + 44, network
//! [2, 5, 2, 1]): 5 forward + backward passes and 5 updates. The default run does 10 000 of
//! these per optimizer; numpy's notebook needs several seconds for them.

#![allow(non_snake_case)]

use divan::{Bencher, black_box};
use optimizers::{INIT_STREAM, LAYERS, Method, Net, Setup};

fn main() {
    divan::main();
}

/// One epoch with each of the notebook's three rules.
#[divan::bench(args = ["gd", "momentum", "adam"])]
fn moons_epoch(b: Bencher, rule: &str) {
    let method = Method::NOTEBOOK
        .into_iter()
        .find(|m| m.name() == rule)
        .unwrap();
    let (X, labels) = shared::data::moons::make_moons(1, 300, 0.2);
    let Y = optimizers::labels_row(&labels);
    let mut tr = Setup::default().trainer(method, 300).unwrap();
    b.bench_local(|| black_box(tr.epoch(black_box(&X), black_box(&Y))));
}

/// Forward and backward of one mini-batch of 64 (no update).
#[divan::bench]
fn forward_backward_64(b: Bencher) {
    let (X, labels) = shared::data::moons::make_moons(1, 64, 0.2);
    let Y = optimizers::labels_row(&labels);
    let net = Net::he(LAYERS, &mut shared::rng::stream(1, INIT_STREAM));
    let mut c = net.cache(64);
    let mut g = net.grads();
    let idx: Vec<usize> = (0..64).collect();
    c.load(&X, &Y, &idx);
    b.bench_local(|| {
        net.forward(&mut c);
        net.backward(&mut c, &mut g);
        black_box(&g);
    });
}
