//! The benchmark's numbers in CPU time instead of wall time: on a machine shared with other
//! jobs, divan's wall-clock samples include the time the process waits for a core, while the
//! process's CPU time (`/proc/self/stat`, via `train::TrainClock`) does not.
//!
//! Same work as `benches/cells.rs`: forward + backward of one layer, D = H = 128, T = 50,
//! batch 1 and 32, ∂E/∂x included; FLOP = 6 · G · T·B · (D + H) (matrix products only); the
//! engine in f64 and in f32.
//!
//! Run: `cargo run --release -p lstm-gru --example speed` (all rows), or with a filter such as
//! `-- lstm 32 f32` (only the rows whose name, batch and type match, e.g. under `perf record`).
#![allow(non_snake_case)]

use lstm_gru::fast::{FastCell, Grads, Kernels, Layer, narrow};
use lstm_gru::model::{Gru, Lstm, Rnn};
use lstm_gru::train::TrainClock;
use nalgebra::DMatrix;
use shared::rng;

const D: usize = 128;
const H: usize = 128;
const T: usize = 50;
/// CPU seconds to spend on each measurement.
const BUDGET: f64 = 4.0;

/// Runs `f` until it has used BUDGET CPU seconds; returns CPU seconds per call.
fn cpu_per_call(mut f: impl FnMut()) -> f64 {
    f(); // warm-up
    let clock = TrainClock::start();
    let mut calls = 0;
    loop {
        f();
        calls += 1;
        let (cpu, _) = clock.elapsed();
        if cpu >= BUDGET {
            return cpu / calls as f64;
        }
    }
}

fn measure<C: FastCell, F: Kernels>(B: usize, gate_rows: usize) {
    let filter: Vec<String> = std::env::args().skip(1).collect();
    let named = |f: &String| f == C::NAME || *f == B.to_string() || f == F::DTYPE.as_str();
    if !filter.is_empty() && !filter.iter().all(named) {
        return;
    }
    let cell = C::new(D, H, &mut rng::seeded(1)).to_layer::<F>();
    let X: DMatrix<F> = narrow(&shared::init::uniform(
        D,
        T * B,
        -1.0,
        1.0,
        &mut rng::seeded(2),
    ));
    let dH: DMatrix<F> = narrow(&shared::init::uniform(
        H,
        T * B,
        -1.0,
        1.0,
        &mut rng::seeded(3),
    ));
    let mut cache = cell.fast_cache(T, B);
    let mut grads = Grads::zeros(&cell);
    let mut dX = DMatrix::zeros(D, T * B);
    let s = cpu_per_call(|| {
        cell.forward_fast(X.columns(0, T * B), &mut cache);
        grads.list_mut().into_iter().for_each(|g| g.fill(F::zero()));
        let (x, dh) = (X.columns(0, T * B), dH.columns(0, T * B));
        cell.backward_fast(x, &mut cache, dh, &mut grads, Some(&mut dX));
    });
    let flop = (6 * gate_rows * T * B * (D + H)) as f64;
    println!(
        "{:<5} {} B = {B:>2}: {:>9.0} µs per forward+backward, {:>7.1} µs per time step, {:>5.1} GFLOP/s",
        C::NAME,
        F::DTYPE,
        s * 1e6,
        s * 1e6 / T as f64,
        flop / s * 1e-9
    );
}

fn main() {
    if std::env::args().len() == 1 || std::env::args().any(|a| a == "gemm") {
        gemm_256();
    }
    for B in [1, 32] {
        measure::<Lstm, f64>(B, 4 * H);
        measure::<Lstm, f32>(B, 4 * H);
        measure::<Gru, f64>(B, 3 * H);
        measure::<Gru, f32>(B, 3 * H);
        measure::<Rnn, f64>(B, H);
        measure::<Rnn, f32>(B, H);
    }
}

/// The roof: one 256 × 256 × 256 f64 product.
fn gemm_256() {
    let n = 256;
    let a = shared::init::uniform(n, n, -1.0, 1.0, &mut rng::seeded(4));
    let b = shared::init::uniform(n, n, -1.0, 1.0, &mut rng::seeded(5));
    let mut c = DMatrix::zeros(n, n);
    let s = cpu_per_call(|| shared::kernels::gemm(1.0, &a, &b, 0.0, &mut c));
    println!(
        "f64 GEMM 256³: {:.0} µs, {:.1} GFLOP/s (the roof)",
        s * 1e6,
        2.0 * (n * n * n) as f64 / s * 1e-9
    );
}
