//! One iteration of min-char-rnn at the reference's sizes: N_x = 65 characters, N_h = 100,
//! T = 25; forward, backward, clip, Adagrad. Its pieces (on the engine path `fast`, which
//! training runs), the notes layer's forward + backward for comparison, a 200-character
//! sample, and the machine's yardstick, one 256 × 256 × 256 f64 GEMM.
//!
//! Throughput columns count floating-point operations of the matrix products as "items"
//! (`Gitem/s` = GFLOP/s): 2,455,000 per iteration (`fast::product_flops`), 2 · 256³ per
//! GEMM. `bench/compare/char-rnn.py` times the same units in numpy under the same names.
//!
//! Each engine unit runs twice: in f64 (the default, the name `bench/compare` matches) and in
//! f32 (`train --dtype f32`, the same name with `_f32`).
//!
//! Run: `cargo bench -p char-rnn` (the machine is shared: read the `fastest` column).
#![allow(non_snake_case, non_upper_case_globals)]

use char_rnn::fast::{self, Cache, FastGrads, Kernels};
use char_rnn::train::{Config, Trainer};
use char_rnn::vocab::Text;
use divan::counter::ItemsCount;
use nalgebra::{DMatrix, DVector};
use shared::rng;

const N_x: usize = 65;
const N_h: usize = 100;
const T: usize = 25;

/// A random text over 65 characters (long enough that p rarely wraps in a bench).
fn text() -> Text {
    let alphabet: Vec<char> = (0..N_x as u8).map(|i| (b'!' + i) as char).collect();
    let mut r = rng::seeded(3);
    let raw: String = (0..200_000)
        .map(|_| alphabet[rng::below(&mut r, N_x)])
        .collect();
    Text::new(&raw, T, "random").unwrap()
}

/// A carried state in tanh's range.
fn state<F: Kernels>() -> DVector<F> {
    DVector::from_fn(N_h, |i, _| F::round_from((i as f64 * 0.1).sin() * 0.5))
}

fn main() {
    divan::main();
}

/// `Trainer::step`: lossFun (forward + backward) + smooth loss + clip + Adagrad + next chunk.
#[divan::bench]
fn iteration(b: divan::Bencher) {
    iteration_in::<f64>(b);
}

/// [`iteration`] in f32.
#[divan::bench]
fn iteration_f32(b: divan::Bencher) {
    iteration_in::<f32>(b);
}

fn iteration_in<F: Kernels>(b: divan::Bencher) {
    let text = text();
    let mut t = Trainer::<F>::new(N_x, Config::default(), 1).unwrap();
    let flops = fast::product_flops(&t.model, T);
    b.counter(ItemsCount::new(flops))
        .bench_local(|| t.step(divan::black_box(&text)).unwrap());
}

/// Forward + backward (the reference's lossFun), no update.
#[divan::bench]
fn loss_and_grads(b: divan::Bencher) {
    loss_and_grads_in::<f64>(b);
}

/// [`loss_and_grads`] in f32.
#[divan::bench]
fn loss_and_grads_f32(b: divan::Bencher) {
    loss_and_grads_in::<f32>(b);
}

fn loss_and_grads_in<F: Kernels>(b: divan::Bencher) {
    let text = text();
    let data = &text.data;
    let t = Trainer::<F>::new(N_x, Config::default(), 1).unwrap();
    let (mut cache, mut grads, s) = (
        Cache::new(N_x, N_h, T),
        FastGrads::zeros_like(&t.model),
        state::<F>(),
    );
    b.counter(ItemsCount::new(fast::product_flops(&t.model, T)))
        .bench_local(|| {
            fast::loss_and_grads(
                &t.model,
                &data[0..T],
                &data[1..T + 1],
                &s,
                &mut cache,
                &mut grads,
            )
        });
}

/// The notes layer's forward + backward (`CharRnn::forward`, `CharRnn::backward`): the same
/// numbers as `loss_and_grads`, written one equation per line on nalgebra.
#[divan::bench]
fn notes_loss_and_grads(b: divan::Bencher) {
    let text = text();
    let data = &text.data;
    let t = Trainer::<f64>::new(N_x, Config::default(), 1).unwrap();
    let (model, s) = (t.model.to_model(), state::<f64>());
    b.counter(ItemsCount::new(fast::product_flops(&t.model, T)))
        .bench_local(|| {
            let cache = model.forward(&data[0..T], &data[1..T + 1], &s);
            model.backward(&cache)
        });
}

/// The forward pass alone: 25 steps of (K1), one GEMM for (K2), softmax and loss.
#[divan::bench]
fn forward(b: divan::Bencher) {
    forward_in::<f64>(b);
}

/// [`forward`] in f32.
#[divan::bench]
fn forward_f32(b: divan::Bencher) {
    forward_in::<f32>(b);
}

fn forward_in<F: Kernels>(b: divan::Bencher) {
    let text = text();
    let data = &text.data;
    let t = Trainer::<F>::new(N_x, Config::default(), 1).unwrap();
    let (mut cache, s) = (Cache::new(N_x, N_h, T), state::<F>());
    // W s_{t−1} for T steps and V S.
    let flops = (2 * N_h * N_h * T + 2 * N_x * N_h * T) as u64;
    b.counter(ItemsCount::new(flops))
        .bench_local(|| fast::forward(&t.model, &data[0..T], &data[1..T + 1], &s, &mut cache));
}

/// A 200-character sample (feed a character, draw the next, 200 times).
#[divan::bench]
fn sample_200(b: divan::Bencher) {
    sample_200_in::<f64>(b);
}

/// [`sample_200`] in f32.
#[divan::bench]
fn sample_200_f32(b: divan::Bencher) {
    sample_200_in::<f32>(b);
}

fn sample_200_in<F: Kernels>(b: divan::Bencher) {
    let t = Trainer::<F>::new(N_x, Config::default(), 1).unwrap();
    let mut r = rng::seeded(5);
    b.bench_local(|| fast::sample_primed(&t.model, &[0], 200, 1.0, &mut r));
}

/// The yardstick: one 256 × 256 × 256 f64 product (`DMatrix` `*`, matrixmultiply's kernel).
#[divan::bench]
fn gemm_256(b: divan::Bencher) {
    let x = DMatrix::from_fn(256, 256, |i, j| ((i * 7 + j * 3) as f64 * 0.01).sin());
    let y = DMatrix::from_fn(256, 256, |i, j| ((i * 5 + j * 11) as f64 * 0.01).cos());
    b.counter(ItemsCount::new(2 * 256u64.pow(3)))
        .bench_local(|| divan::black_box(&x) * divan::black_box(&y));
}
