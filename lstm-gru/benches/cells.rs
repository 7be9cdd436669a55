//! Forward + backward (BPTT) of one layer, hidden 128, input 128, sequence 50, batch 1 and 32,
//! with ∂E/∂x computed as a stacked layer needs it. Throughput is counted in floating-point
//! operations of the matrix products ("items" = FLOP, so divan's item/s column is FLOP/s):
//! 6 · G · T·B · (D + H) for G gate rows (LSTM 4H, GRU 3H, RNN H), elementwise work not
//! counted. `gemm_256` is the machine's f64 yardstick; `gemm_lstm_step_b32` the LSTM's
//! per-step recurrent product alone. The unit names match `bench/compare/lstm-gru.py` (numpy)
//! and `lstm-gru_torch.py` (PyTorch): `cells/lstm/32` etc.
//!
//! `lstm_f32`, `gru_f32`, `rnn_f32`: the same units with the engine in f32 (`--dtype f32`),
//! against PyTorch's f32 column (`COMPARE_DTYPE=f32`); `gemm_256_f32` the f32 yardstick.
//!
//! `lstm_threads2/32`, `gru_threads2/32`: the same unit with the 32 sequences split into two
//! groups of 16 on two threads (`--threads 2`, `lstm_gru::fast::parallel`): the groups' columns
//! gathered, forward + backward per group on its own thread, the gradients added in order.
//!
//! Run: `cargo bench -p lstm-gru`.
#![allow(non_snake_case)]

use divan::Bencher;
use divan::counter::ItemsCount;
use lstm_gru::fast::{FastCell, Grads, Kernels, Layer, narrow};
use lstm_gru::model::{Gru, Lstm, Rnn};
use nalgebra::DMatrix;
use shared::rng;

const D: usize = 128;
const H: usize = 128;
const T: usize = 50;

fn main() {
    divan::main();
}

/// The bench's inputs in `F`: X (D × T·B) and ∂E/∂h (H × T·B), uniform in [−1, 1).
fn inputs<F: Kernels>(B: usize) -> (DMatrix<F>, DMatrix<F>) {
    let X = shared::init::uniform(D, T * B, -1.0, 1.0, &mut rng::seeded(2));
    let dH = shared::init::uniform(H, T * B, -1.0, 1.0, &mut rng::seeded(3));
    (narrow(&X), narrow(&dH))
}

fn fwd_bwd<C: FastCell, F: Kernels>(bencher: Bencher, B: usize, gate_rows: usize) {
    let cell = C::new(D, H, &mut rng::seeded(1)).to_layer::<F>();
    let (X, dH) = inputs::<F>(B);
    let mut cache = cell.fast_cache(T, B);
    let mut grads = Grads::zeros(&cell);
    let mut dX = DMatrix::zeros(D, T * B);
    let flop = 6 * gate_rows * T * B * (D + H);
    bencher.counter(ItemsCount::new(flop)).bench_local(|| {
        cell.forward_fast(X.columns(0, T * B), &mut cache);
        zero(&mut grads);
        cell.backward_fast(
            X.columns(0, T * B),
            &mut cache,
            dH.columns(0, T * B),
            &mut grads,
            Some(&mut dX),
        );
    });
}

fn zero<F: Kernels>(grads: &mut Grads<F>) {
    grads.list_mut().into_iter().for_each(|g| g.fill(F::zero()));
}

#[divan::bench(args = [1, 32])]
fn lstm(bencher: Bencher, B: usize) {
    fwd_bwd::<Lstm, f64>(bencher, B, 4 * H);
}

#[divan::bench(args = [1, 32])]
fn lstm_f32(bencher: Bencher, B: usize) {
    fwd_bwd::<Lstm, f32>(bencher, B, 4 * H);
}

/// [`fwd_bwd`] with the B sequences split over `threads` threads.
fn fwd_bwd_split<C: FastCell>(bencher: Bencher, B: usize, gate_rows: usize, threads: usize) {
    use lstm_gru::fast::parallel::{add_weighted, for_each_part, gather_columns};
    use shared::parallel::groups;
    let cell = C::new(D, H, &mut rng::seeded(1)).to_layer::<f64>();
    let (X, dH) = inputs::<f64>(B);
    let mut grads = Grads::zeros(&cell);
    // Per group: (j0, its X, its dH, cache, gradients, ∂E/∂x), made once.
    let mut parts: Vec<_> = groups(B, threads)
        .into_iter()
        .map(|(j0, b)| {
            let x = DMatrix::zeros(D, T * b);
            let dh = DMatrix::zeros(H, T * b);
            (
                j0,
                x,
                dh,
                cell.fast_cache(T, b),
                Grads::zeros(&cell),
                DMatrix::zeros(D, T * b),
            )
        })
        .collect();
    let flop = 6 * gate_rows * T * B * (D + H);
    bencher.counter(ItemsCount::new(flop)).bench_local(|| {
        for (j0, x, dh, ..) in parts.iter_mut() {
            gather_columns(X.columns(0, T * B), B, *j0, x);
            gather_columns(dH.columns(0, T * B), B, *j0, dh);
        }
        for_each_part(&mut parts, |(_, x, dh, cache, g, dx)| {
            let n = x.ncols();
            cell.forward_fast(x.columns(0, n), cache);
            zero(g);
            cell.backward_fast(x.columns(0, n), cache, dh.columns(0, n), g, Some(dx));
        });
        zero(&mut grads);
        // dE/dθ = Σ_g dE_g/dθ (dH is the raw ∂E/∂h, not a mean: weights 1).
        let sums: Vec<(f64, Vec<&mut DMatrix<f64>>)> = parts
            .iter_mut()
            .map(|p| (1.0, p.4.list_mut().into()))
            .collect();
        add_weighted(grads.list_mut().into(), &sums);
    });
}

#[divan::bench(args = [32])]
fn lstm_threads2(bencher: Bencher, B: usize) {
    fwd_bwd_split::<Lstm>(bencher, B, 4 * H, 2);
}

#[divan::bench(args = [32])]
fn gru_threads2(bencher: Bencher, B: usize) {
    fwd_bwd_split::<Gru>(bencher, B, 3 * H, 2);
}

#[divan::bench(args = [1, 32])]
fn gru(bencher: Bencher, B: usize) {
    fwd_bwd::<Gru, f64>(bencher, B, 3 * H);
}

#[divan::bench(args = [1, 32])]
fn gru_f32(bencher: Bencher, B: usize) {
    fwd_bwd::<Gru, f32>(bencher, B, 3 * H);
}

#[divan::bench(args = [1, 32])]
fn rnn(bencher: Bencher, B: usize) {
    fwd_bwd::<Rnn, f64>(bencher, B, H);
}

#[divan::bench(args = [1, 32])]
fn rnn_f32(bencher: Bencher, B: usize) {
    fwd_bwd::<Rnn, f32>(bencher, B, H);
}

/// The machine's yardstick: one 256 × 256 × 256 f64 `DMatrix` product, C ← A B.
#[divan::bench]
fn gemm_256(bencher: Bencher) {
    let n = 256;
    let a = shared::init::uniform(n, n, -1.0, 1.0, &mut rng::seeded(4));
    let b = shared::init::uniform(n, n, -1.0, 1.0, &mut rng::seeded(5));
    let mut c = DMatrix::zeros(n, n);
    bencher
        .counter(ItemsCount::new(2 * n * n * n))
        .bench_local(|| shared::kernels::gemm(1.0, &a, &b, 0.0, &mut c));
}

/// The same product in f32: the f32 roof.
#[divan::bench]
fn gemm_256_f32(bencher: Bencher) {
    let n = 256;
    let a: DMatrix<f32> = narrow(&shared::init::uniform(n, n, -1.0, 1.0, &mut rng::seeded(4)));
    let b: DMatrix<f32> = narrow(&shared::init::uniform(n, n, -1.0, 1.0, &mut rng::seeded(5)));
    let mut c = DMatrix::zeros(n, n);
    bencher
        .counter(ItemsCount::new(2 * n * n * n))
        .bench_local(|| shared::kernels::gemm(1.0, &a, &b, 0.0, &mut c));
}

/// The LSTM's per-step recurrent product at batch 32: (4H × H)(H × 32).
#[divan::bench]
fn gemm_lstm_step_b32(bencher: Bencher) {
    let w = shared::init::uniform(4 * H, H, -1.0, 1.0, &mut rng::seeded(6));
    let h = shared::init::uniform(H, 32, -1.0, 1.0, &mut rng::seeded(7));
    let mut a = DMatrix::zeros(4 * H, 32);
    bencher
        .counter(ItemsCount::new(2 * 4 * H * H * 32))
        .bench_local(|| shared::kernels::gemm(1.0, &w, &h, 1.0, &mut a));
}
