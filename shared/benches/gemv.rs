//! The matrix–vector kernels of `shared::kernels::gemv` against their nalgebra references, at
//! the sizes the chapters run: the LSTM's batch-1 step (4H × H, H = 128: W_hh h_{t−1} forward,
//! W_hhᵀ dA_t backward) and a vanilla RNN's W s_{t−1} (100 × 100, char-rnn's hidden size).
//! Items are floating-point operations (2 m n), so divan's item/s column is FLOP/s.
//!
//! Run: `cargo bench -p shared --bench gemv`.

use divan::Bencher;
use divan::counter::ItemsCount;
use nalgebra::{DMatrix, DVector};
use shared::kernels::{gemv, gemv_t, matvec_acc};
use shared::rng;

fn main() {
    divan::main();
}

/// (m, n): the LSTM step at H = 128 and char-rnn's W.
const SHAPES: [(usize, usize); 2] = [(512, 128), (100, 100)];

fn operands(m: usize, n: usize) -> (DMatrix<f64>, DVector<f64>, DVector<f64>) {
    let a = shared::init::uniform(m, n, -1.0, 1.0, &mut rng::seeded(1));
    let x = DVector::from_column_slice(
        shared::init::uniform(n, 1, -1.0, 1.0, &mut rng::seeded(2)).as_slice(),
    );
    (a, x, DVector::zeros(m))
}

#[divan::bench(args = SHAPES)]
fn matvec_acc_kernel(bencher: Bencher, (m, n): (usize, usize)) {
    let (a, x, mut y) = operands(m, n);
    bencher
        .counter(ItemsCount::new(2 * m * n))
        .bench_local(|| matvec_acc(&a, x.as_slice(), y.as_mut_slice()));
}

#[divan::bench(args = SHAPES)]
fn gemv_kernel(bencher: Bencher, (m, n): (usize, usize)) {
    let (a, x, mut y) = operands(m, n);
    let a = a.as_view();
    bencher
        .counter(ItemsCount::new(2 * m * n))
        .bench_local(|| gemv(1.0, &a, x.as_slice(), 1.0, y.as_mut_slice()));
}

/// The reference of both: nalgebra's `y ← α A x + β y`.
#[divan::bench(args = SHAPES)]
fn gemv_nalgebra(bencher: Bencher, (m, n): (usize, usize)) {
    let (a, x, mut y) = operands(m, n);
    bencher
        .counter(ItemsCount::new(2 * m * n))
        .bench_local(|| y.gemv(1.0, &a, &x, 1.0));
}

#[divan::bench(args = SHAPES)]
fn gemv_t_kernel(bencher: Bencher, (m, n): (usize, usize)) {
    let (a, _, x) = operands(m, n);
    let (a, mut y) = (a.as_view(), DVector::zeros(n));
    bencher
        .counter(ItemsCount::new(2 * m * n))
        .bench_local(|| gemv_t(1.0, &a, x.as_slice(), 0.0, y.as_mut_slice()));
}

/// The reference: nalgebra's `y ← α Aᵀ x + β y`.
#[divan::bench(args = SHAPES)]
fn gemv_t_nalgebra(bencher: Bencher, (m, n): (usize, usize)) {
    let (a, _, mut x) = operands(m, n);
    x.fill(0.5);
    let mut y = DVector::zeros(n);
    bencher
        .counter(ItemsCount::new(2 * m * n))
        .bench_local(|| y.gemv_tr(1.0, &a, &x, 0.0));
}
