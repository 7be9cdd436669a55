//! Speed of §1's training step at the assignment's sizes (V 250, D 50, H 200, B 100):
//! `one_batch` (forward, cross-entropy, backward, momentum update of 100 cases) and
//! `one_epoch_372550` (the 3,725 batches of the assignment's 372,550 training 4-grams).
//! Throughput is shown as items/s with one item = one floating-point operation of the six GEMMs
//! (a multiply-add counts 2: 48 MFLOP per batch), so "37 Gitem/s" reads as 37 GFLOP/s;
//! `gemm_256` is the machine's f64 GEMM speed to compare with. `validation_pass_46568` is one forward pass over a validation set (train.m runs three
//! per epoch). Word ids are random: the cost does not depend on them.
//! `bench/compare/ngram-lm.py` times the same units in numpy. `one_batch_f32`,
//! `one_epoch_372550_f32` and `validation_pass_46568_f32` are the same units in f32
//! (`train --dtype f32`).

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use nalgebra::DMatrix;
use ngram_lm::{Gram, Hyper, Trainer, gemm_flops_per_batch, train_epoch};
use shared::kernels::Float;
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

fn trainer<F: Float>() -> Trainer<F> {
    Trainer::new(250, &Hyper::default(), &mut rng::seeded(1)).unwrap()
}

/// One batch of 100: forward, CE, backward, update (48 MFLOP of GEMM).
#[divan::bench]
fn one_batch(b: Bencher) {
    one_batch_in::<f64>(b);
}

/// [`one_batch`] in f32.
#[divan::bench]
fn one_batch_f32(b: Bencher) {
    one_batch_in::<f32>(b);
}

fn one_batch_in<F: Float>(b: Bencher) {
    let data = grams(100);
    let mut t = trainer::<F>();
    b.counter(ItemsCount::new(gemm_flops_per_batch(&t.model, 100)))
        .bench_local(|| t.step(black_box(&data)));
}

/// One epoch: 3,725 batches of 100 over 372,550 4-grams (≈ 179 GFLOP of GEMM).
#[divan::bench(sample_count = 3, sample_size = 1)]
fn one_epoch_372550(b: Bencher) {
    one_epoch_in::<f64>(b);
}

/// [`one_epoch_372550`] in f32.
#[divan::bench(sample_count = 3, sample_size = 1)]
fn one_epoch_372550_f32(b: Bencher) {
    one_epoch_in::<f32>(b);
}

fn one_epoch_in<F: Float>(b: Bencher) {
    let data = grams(372_550);
    let mut t = trainer::<F>();
    let flops = (372_550 / 100) as u64 * gemm_flops_per_batch(&t.model, 100);
    b.counter(ItemsCount::new(flops))
        .bench_local(|| train_epoch(&mut t, black_box(&data), &[], 100, |_| {}).unwrap());
}

/// One forward pass over 46,568 4-grams, in chunks of 1000 (≈ 15 GFLOP).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn validation_pass_46568(b: Bencher) {
    validation_pass_in::<f64>(b);
}

/// [`validation_pass_46568`] in f32.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn validation_pass_46568_f32(b: Bencher) {
    validation_pass_in::<f32>(b);
}

fn validation_pass_in<F: Float>(b: Bencher) {
    let data = grams(46_568);
    let t = trainer::<F>();
    let (v, d, h) = (250u64, 50u64, 200u64);
    let flops = 2 * 46_568 * (3 * d * h + h * v);
    b.counter(ItemsCount::new(flops))
        .bench_local(|| ngram_lm::fast::cross_entropy(&t.model, black_box(&data)));
}

/// The machine's yardstick: one 256 × 256 × 256 f64 `DMatrix` product (matrixmultiply's
/// kernel, as in the step's GEMMs), into a preallocated result.
#[divan::bench]
fn gemm_256(b: Bencher) {
    let mut r = rng::seeded(5);
    let a = DMatrix::from_fn(256, 256, |_, _| rng::uniform(&mut r, -1.0, 1.0));
    let c = DMatrix::from_fn(256, 256, |_, _| rng::uniform(&mut r, -1.0, 1.0));
    let mut out = DMatrix::zeros(256, 256);
    b.counter(ItemsCount::new(2 * 256u64.pow(3)))
        .bench_local(|| black_box(&a).mul_to(&c, &mut out));
}
