//! Forward + backward (BPTT) of one layer, hidden 128, input 128, sequence 50, batch 1 and 32,
//! with ∂E/∂x computed as a stacked layer needs it. Throughput is counted in floating-point
//! operations of the matrix products ("items" = FLOP, so divan's item/s column is FLOP/s):
//! 6 · G · T·B · (D + H) for G gate rows (LSTM 4H, GRU 3H, RNN H), elementwise work not
//! counted. `gemm_*` benches give the machine's f64 matrix-product roof for comparison.
//!
//! Run: `cargo bench -p lstm-gru`.
#![allow(non_snake_case)]

use divan::Bencher;
use divan::counter::ItemsCount;
use lstm_gru::{Cell, Gru, Lstm, Rnn};
use nalgebra::DMatrix;
use shared::rng;

const D: usize = 128;
const H: usize = 128;
const T: usize = 50;

fn main() {
    divan::main();
}

fn fwd_bwd<C: Cell>(bencher: Bencher, B: usize, gate_rows: usize) {
    let cell = C::new(D, H, &mut rng::seeded(1));
    let X = shared::init::uniform(D, T * B, -1.0, 1.0, &mut rng::seeded(2));
    let dH = shared::init::uniform(H, T * B, -1.0, 1.0, &mut rng::seeded(3));
    let mut tape = cell.tape(T, B);
    let mut grad = cell.zeros_like();
    let mut dX = DMatrix::zeros(D, T * B);
    let flop = 6 * gate_rows * T * B * (D + H);
    bencher.counter(ItemsCount::new(flop)).bench_local(|| {
        cell.forward(X.columns(0, T * B), &mut tape);
        grad.zero();
        cell.backward(
            X.columns(0, T * B),
            &mut tape,
            dH.columns(0, T * B),
            &mut grad,
            Some(&mut dX),
        );
    });
}

#[divan::bench(args = [1, 32])]
fn lstm(bencher: Bencher, B: usize) {
    fwd_bwd::<Lstm>(bencher, B, 4 * H);
}

#[divan::bench(args = [1, 32])]
fn gru(bencher: Bencher, B: usize) {
    fwd_bwd::<Gru>(bencher, B, 3 * H);
}

#[divan::bench(args = [1, 32])]
fn rnn(bencher: Bencher, B: usize) {
    fwd_bwd::<Rnn>(bencher, B, H);
}

/// The f64 roof: C ← A B for square n × n matrices.
#[divan::bench(args = [256, 512])]
fn gemm_square(bencher: Bencher, n: usize) {
    let a = shared::init::uniform(n, n, -1.0, 1.0, &mut rng::seeded(4));
    let b = shared::init::uniform(n, n, -1.0, 1.0, &mut rng::seeded(5));
    let mut c = DMatrix::zeros(n, n);
    bencher
        .counter(ItemsCount::new(2 * n * n * n))
        .bench_local(|| shared::linalg::gemm(1.0, &a, &b, 0.0, &mut c));
}

/// The LSTM's per-step recurrent product at batch 32: (4H × H)(H × 32).
#[divan::bench]
fn gemm_lstm_step_b32(bencher: Bencher) {
    let w = shared::init::uniform(4 * H, H, -1.0, 1.0, &mut rng::seeded(6));
    let h = shared::init::uniform(H, 32, -1.0, 1.0, &mut rng::seeded(7));
    let mut a = DMatrix::zeros(4 * H, 32);
    bencher
        .counter(ItemsCount::new(2 * 4 * H * H * 32))
        .bench_local(|| shared::linalg::gemm(1.0, &w, &h, 1.0, &mut a));
}
