//! `shared::kernels::gemm` (the `gemm` crate) against nalgebra's product (matrixmultiply), one
//! thread, in f64 and f32: one 256 × 256 × 256 product, the machine's yardstick, and the
//! chapters' own shapes, `m x k x n` for m × k times k × n:
//! - 65x100x25: char-rnn's V S, all time steps of one iteration;
//! - 512x128x32: the LSTM's per-step W_hh h at batch 32 (4H × H, H = 128);
//! - 30x25x57600: conv-im2col's forward, 30 filters of 5 × 5 on a batch of 100 images;
//! - 500x784x100: an RBM's W V on MNIST at batch 100 (500 hidden, 784 visible).
//!
//! Items are floating-point operations (2 m n k), so divan's item/s column is FLOP/s.
//!
//! Run: `cargo bench -p shared --bench gemm`; `bench/compare/shared.py` and `shared_torch.py`
//! time the same products in numpy and PyTorch.

use divan::Bencher;
use divan::counter::ItemsCount;
use nalgebra::DMatrix;
use shared::rng;

fn main() {
    divan::main();
}

const SHAPES: [&str; 5] = [
    "256x256x256",
    "65x100x25",
    "512x128x32",
    "30x25x57600",
    "500x784x100",
];

/// "m x k x n" → (m, k, n).
fn dims(shape: &str) -> (usize, usize, usize) {
    let d: Vec<usize> = shape.split('x').map(|s| s.parse().unwrap()).collect();
    (d[0], d[1], d[2])
}

/// a: m × k, b: k × n, uniform in [−1, 1).
fn operands((m, k, n): (usize, usize, usize)) -> (DMatrix<f64>, DMatrix<f64>) {
    let a = shared::init::uniform(m, k, -1.0, 1.0, &mut rng::seeded(4));
    let b = shared::init::uniform(k, n, -1.0, 1.0, &mut rng::seeded(5));
    (a, b)
}

fn flop((m, k, n): (usize, usize, usize)) -> ItemsCount {
    ItemsCount::new(2 * m * k * n)
}

/// Times `product(a, b, c)` on the operands of `shape` in the precision of `cast`.
fn time<T: nalgebra::RealField + Copy>(
    bencher: Bencher,
    shape: &str,
    cast: fn(f64) -> T,
    product: fn(&DMatrix<T>, &DMatrix<T>, &mut DMatrix<T>),
) {
    let shape = dims(shape);
    let (a, b) = operands(shape);
    let (a, b) = (a.map(cast), b.map(cast));
    let mut c = DMatrix::zeros(shape.0, shape.2);
    bencher
        .counter(flop(shape))
        .bench_local(|| product(&a, &b, &mut c));
}

#[divan::bench(args = SHAPES)]
fn f64_kernel(bencher: Bencher, shape: &str) {
    time(
        bencher,
        shape,
        |x| x,
        |a, b, c| shared::kernels::gemm(1.0, a, b, 0.0, c),
    );
}

/// The reference: nalgebra's in-place product, which calls matrixmultiply.
#[divan::bench(args = SHAPES)]
fn f64_nalgebra(bencher: Bencher, shape: &str) {
    time(bencher, shape, |x| x, |a, b, c| a.mul_to(b, c));
}

#[divan::bench(args = SHAPES)]
fn f32_kernel(bencher: Bencher, shape: &str) {
    time(
        bencher,
        shape,
        |x| x as f32,
        |a, b, c| shared::kernels::gemm(1.0, a, b, 0.0, c),
    );
}

#[divan::bench(args = SHAPES)]
fn f32_nalgebra(bencher: Bencher, shape: &str) {
    time(bencher, shape, |x| x as f32, |a, b, c| a.mul_to(b, c));
}
