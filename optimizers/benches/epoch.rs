//! One epoch of the notebook's experiment (300 moons, mini-batches 4 × 64 + 44, network
//! [2, 5, 2, 1]): numpy's reseeded shuffle, 5 forward + backward passes and 5 updates. The default run does 10 000 of
//! these per optimizer; numpy's notebook needs several seconds for them.

#![allow(non_snake_case)]

use divan::{Bencher, black_box};
use optimizers::data::{Data, RngKind};
use optimizers::{Grads, INIT_STREAM, LAYERS, Method, Net, Setup, fast};

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
    let data = Data::moons(RngKind::Numpy, 3, 300, 0.2).unwrap();
    let mut tr = Setup::default().trainer(method, 300).unwrap();
    b.bench_local(|| black_box(tr.epoch(black_box(&data.X), black_box(&data.Y))));
}

/// Forward and backward of one mini-batch of 64 (no update): the engine path that training
/// runs.
#[divan::bench]
fn forward_backward_64(b: Bencher) {
    let (X, labels) = shared::data::moons::make_moons(1, 64, 0.2);
    let Y = optimizers::labels_row(&labels);
    let net = he();
    let mut c = fast::Cache::new(&net, 64);
    let mut g = Grads::zeros(&net);
    let idx: Vec<usize> = (0..64).collect();
    c.load(&X, &Y, &idx);
    b.bench_local(|| {
        fast::forward(&net, &mut c);
        fast::backward(&net, &mut c, &mut g);
        black_box(&g);
    });
}

/// The same on the notes layer (`model.rs`, nalgebra products, allocating): what the engine
/// path saves.
#[divan::bench]
fn model_forward_backward_64(b: Bencher) {
    let (X, labels) = shared::data::moons::make_moons(1, 64, 0.2);
    let Y = optimizers::labels_row(&labels);
    let net = he();
    b.bench_local(|| {
        let c = net.forward(black_box(&X));
        black_box(net.backward(&c, &Y));
    });
}

/// The default run's initial weights.
fn he() -> Net {
    let mut rng = shared::rng::stream(1, INIT_STREAM);
    Net::he(LAYERS, || shared::rng::normal(&mut rng))
}
