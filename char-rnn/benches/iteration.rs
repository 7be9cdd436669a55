//! One iteration of min-char-rnn at the reference's sizes: N_x = 65, N_h = 100, T = 25
//! (forward, backward, clip, Adagrad). The numpy gist takes ≈ 1.0 ms per iteration.
#![allow(non_snake_case, non_upper_case_globals)]

use char_rnn::trainer::{Config, Trainer};
use char_rnn::vocab::Text;
use char_rnn::{Grads, Work};
use nalgebra::DVector;
use shared::rng;

const N_x: usize = 65;

/// A random text over 65 characters (long enough that p rarely wraps in a bench).
fn text() -> Text {
    let alphabet: Vec<char> = (0..N_x as u8).map(|i| (b'!' + i) as char).collect();
    let mut r = rng::seeded(3);
    let raw: String = (0..200_000)
        .map(|_| alphabet[rng::below(&mut r, N_x)])
        .collect();
    Text::new(&raw, 25, "random").unwrap()
}

fn main() {
    divan::main();
}

/// Trainer::step: lossFun + smooth loss + clip + Adagrad + move on.
#[divan::bench]
fn iteration(b: divan::Bencher) {
    let text = text();
    let mut t = Trainer::new(N_x, Config::default(), 1);
    b.bench_local(|| t.step(divan::black_box(&text)).unwrap());
}

/// Forward pass alone (25 steps of (6.k1), one GEMM for (6.k2), softmax, loss).
#[divan::bench]
fn forward(b: divan::Bencher) {
    let text = text();
    let data = &text.data;
    let t = Trainer::new(N_x, Config::default(), 1);
    let mut work = Work::new(N_x, 100, 25);
    let s = DVector::from_fn(100, |i, _| (i as f64 * 0.1).sin() * 0.5);
    b.bench_local(|| t.model.forward(&data[0..25], &data[1..26], &s, &mut work));
}

/// Forward + backward (the reference's lossFun).
#[divan::bench]
fn loss_and_grads(b: divan::Bencher) {
    let text = text();
    let data = &text.data;
    let t = Trainer::new(N_x, Config::default(), 1);
    let mut work = Work::new(N_x, 100, 25);
    let mut grads = Grads::zeros_like(&t.model);
    let s = DVector::from_fn(100, |i, _| (i as f64 * 0.1).sin() * 0.5);
    b.bench_local(|| {
        t.model
            .loss_and_grads(&data[0..25], &data[1..26], &s, &mut work, &mut grads)
    });
}

/// A 200-character sample (the reference needs ≈ 4.2 ms).
#[divan::bench]
fn sample_200(b: divan::Bencher) {
    let t = Trainer::new(N_x, Config::default(), 1);
    let mut r = rng::seeded(5);
    b.bench_local(|| t.model.sample_primed(&[0], 200, 1.0, &mut r));
}
