//! One SGD step of the tutorial's model: vocabulary N_x = 8000, hidden N_h = 100, K = 4, on a
//! sentence of T tokens (the figure is T = 20; the numpy reference was timed at T = 45,
//! 69–86 ms per step). Run: `cargo bench -p rnn-lm`.
#![allow(non_snake_case)]

use divan::Bencher;
use rnn_lm::{Bptt, Buffers, Rnn};
use shared::rng;

fn main() {
    divan::main();
}

const N_X: usize = 8000;
const N_H: usize = 100;

/// The model and a random sentence of `T` input tokens with its targets.
fn setup(T: usize) -> (Rnn, Vec<usize>, Vec<usize>, Buffers) {
    let model = Rnn::new(N_X, N_H, &mut rng::seeded(10));
    let mut r = rng::seeded(11);
    let ids: Vec<usize> = (0..=T).map(|_| rng::below(&mut r, N_X)).collect();
    let buf = Buffers::new(&model, T);
    (model, ids[..T].to_vec(), ids[1..].to_vec(), buf)
}

/// Forward, truncated backward (K = 4) and the update of U, W, V.
#[divan::bench(args = [20, 45])]
fn sgd_step(bencher: Bencher, T: usize) {
    let (mut model, x, t, mut buf) = setup(T);
    // Small lr: the weights barely move over the many iterations, so every one costs the same.
    bencher.bench_local(|| model.sgd_step(&x, &t, Bptt::Truncated(4), 1e-9, &mut buf));
}

/// The forward pass and the loss alone (what an evaluation pass costs per sentence).
#[divan::bench(args = [20, 45])]
fn forward_loss(bencher: Bencher, T: usize) {
    let (model, x, t, mut buf) = setup(T);
    bencher.bench_local(|| model.sentence_loss(&x, &t, &mut buf));
}
