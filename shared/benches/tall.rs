//! `shared::kernels::tall` and `shared::kernels::softmax` against their plain references and
//! matrixmultiply, at rnn-lm's sizes: `A` = V, 8000 × 100, operands of T = 20 columns. Run:
//! `cargo bench -p shared --bench tall`.
//!
//! One "item" is one floating-point operation of a product (2·m·k·n), so divan's `item/s`
//! column reads as FLOP/s (`cargo bench -p rnn-lm` has the machine's yardstick, `gemm_256`).
#![allow(non_snake_case)]

use divan::Bencher;
use divan::counter::ItemsCount;
use nalgebra::DMatrix;
use shared::kernels::tall::{self, LANES};
use shared::kernels::{gemm, gemm_nt, gemm_tn};
use shared::rng;

fn main() {
    divan::main();
}

const M: usize = 8000;
const K: usize = 100;
const N: usize = 20;
const FLOPS: usize = 2 * M * K * N;

struct Operands {
    A: DMatrix<f64>,  // m × k
    B: DMatrix<f64>,  // k × n
    Bt: DMatrix<f64>, // n × k
    dC: DMatrix<f64>, // m × n
    C: DMatrix<f64>,  // m × n
    dB: DMatrix<f64>, // k × n
    P: Vec<[f64; LANES]>,
}

fn operands() -> Operands {
    let mut r = rng::seeded(3);
    let A = shared::init::uniform_inv_sqrt(M, K, K, &mut r);
    let B = shared::init::uniform(K, N, -1.0, 1.0, &mut r);
    let dC = shared::init::uniform(M, N, -1e-3, 1e-3, &mut r);
    Operands {
        Bt: B.transpose(),
        A,
        B,
        dC,
        C: DMatrix::zeros(M, N),
        dB: DMatrix::zeros(K, N),
        P: vec![[0.0; LANES]; K * N],
    }
}

/// `C = A B` through matrixmultiply (packs all of A, pads n = 20 to 24 columns).
#[divan::bench]
fn matrixmultiply_A_B(bencher: Bencher) {
    let mut o = operands();
    bencher
        .counter(ItemsCount::new(FLOPS))
        .bench_local(|| gemm(1.0, &o.A, &o.B, 0.0, &mut o.C));
}

/// `C = A B` through `tall_gemm`.
#[divan::bench]
fn tall_gemm(bencher: Bencher) {
    let mut o = operands();
    bencher.counter(ItemsCount::new(FLOPS)).bench_local(|| {
        tall::tall_gemm(o.A.as_slice(), o.Bt.as_slice(), o.C.as_mut_slice(), M, K, N)
    });
}

/// `C = A B` through the plain loops `tall_gemm_ref`.
#[divan::bench]
fn tall_gemm_ref(bencher: Bencher) {
    let mut o = operands();
    bencher.counter(ItemsCount::new(FLOPS)).bench_local(|| {
        tall::tall_gemm_ref(o.A.as_slice(), o.Bt.as_slice(), o.C.as_mut_slice(), M, K, N)
    });
}

/// `dB = Aᵀ dC` through matrixmultiply (packs Aᵀ: a transposing copy of all of A).
#[divan::bench]
fn matrixmultiply_At_dC(bencher: Bencher) {
    let mut o = operands();
    bencher
        .counter(ItemsCount::new(FLOPS))
        .bench_local(|| gemm_tn(1.0, &o.A, &o.dC, 0.0, &mut o.dB));
}

/// `A ← A − lr dC Bᵀ` through matrixmultiply (A is its output: not packed).
#[divan::bench]
fn matrixmultiply_update(bencher: Bencher) {
    let mut o = operands();
    bencher
        .counter(ItemsCount::new(FLOPS))
        .bench_local(|| gemm_nt(-1e-9, &o.dC, &o.B, 1.0, &mut o.A));
}

/// `dB = Aᵀ dC` then `A ← A − lr dC Bᵀ`, two matrixmultiply calls.
#[divan::bench]
fn matrixmultiply_At_dC_then_update(bencher: Bencher) {
    let mut o = operands();
    bencher.counter(ItemsCount::new(2 * FLOPS)).bench_local(|| {
        gemm_tn(1.0, &o.A, &o.dC, 0.0, &mut o.dB);
        gemm_nt(-1e-9, &o.dC, &o.B, 1.0, &mut o.A);
    });
}

/// The same two products in one pass over A (`tall_backward_sgd`). Small lr: A barely moves
/// over the iterations, so every one costs the same.
#[divan::bench]
fn tall_backward_sgd(bencher: Bencher) {
    let mut o = operands();
    bencher.counter(ItemsCount::new(2 * FLOPS)).bench_local(|| {
        tall::tall_backward_sgd(
            o.A.as_mut_slice(),
            o.dC.as_slice(),
            o.B.as_slice(),
            1e-9,
            o.dB.as_mut_slice(),
            &mut o.P,
            M,
            K,
            N,
        )
    });
}

/// The same through the plain loops `tall_backward_sgd_ref`.
#[divan::bench]
fn tall_backward_sgd_ref(bencher: Bencher) {
    let mut o = operands();
    bencher.counter(ItemsCount::new(2 * FLOPS)).bench_local(|| {
        tall::tall_backward_sgd_ref(
            o.A.as_mut_slice(),
            o.dC.as_slice(),
            o.B.as_slice(),
            1e-9,
            o.dB.as_mut_slice(),
            M,
            K,
            N,
        )
    });
}

/// Softmax of one 8000-word column: the kernel and its plain reference (libm's `exp`).
mod softmax {
    use super::*;

    fn column() -> Vec<f64> {
        let mut r = rng::seeded(4);
        (0..M).map(|_| rng::uniform(&mut r, -5.0, 5.0)).collect()
    }

    #[divan::bench]
    fn softmax_mut(bencher: Bencher) {
        let s = column();
        let mut y = s.clone();
        bencher.bench_local(|| {
            y.copy_from_slice(&s);
            shared::kernels::softmax::softmax_mut(&mut y)
        });
    }

    #[divan::bench]
    fn softmax_columns_mut(bencher: Bencher) {
        let s = DMatrix::from_column_slice(M, 1, &column());
        let mut y = s.clone();
        bencher.bench_local(|| {
            y.copy_from(&s);
            shared::activation::softmax_columns_mut(&mut y)
        });
    }
}
