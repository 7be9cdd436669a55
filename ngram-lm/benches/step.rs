//! Speed of §1's training step at the assignment's sizes (V 250, D 50, H 200, B 100):
//! one batch (forward, backward, momentum update: ≈ 48 MFLOP of GEMM) and one epoch of the
//! assignment's 372,550 training 4-grams (3725 batches, ≈ 180 GFLOP). Target: ≤ 10 s/epoch.
//! Word ids are random: the cost does not depend on them.

use ngram_lm::{Gram, Hyper, Trainer, train_epoch};
use shared::rng;

fn main() {
    divan::main();
}

fn grams(n: usize) -> Vec<Gram> {
    let mut r = rng::seeded(3);
    (0..n)
        .map(|_| std::array::from_fn(|_| rng::below(&mut r, 250)))
        .collect()
}

#[divan::bench]
fn one_batch(bencher: divan::Bencher) {
    let data = grams(100);
    let mut t = Trainer::new(250, &Hyper::default(), &mut rng::seeded(1)).unwrap();
    bencher.bench_local(|| t.step(divan::black_box(&data)));
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn one_epoch_372550(bencher: divan::Bencher) {
    let data = grams(372_550);
    let mut t = Trainer::new(250, &Hyper::default(), &mut rng::seeded(1)).unwrap();
    bencher.bench_local(|| train_epoch(&mut t, divan::black_box(&data), &[], 100, |_| {}).unwrap());
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn validation_pass_46568(bencher: divan::Bencher) {
    let data = grams(46_568);
    let t = Trainer::new(250, &Hyper::default(), &mut rng::seeded(1)).unwrap();
    bencher.bench_local(|| t.model.cross_entropy(divan::black_box(&data)));
}
