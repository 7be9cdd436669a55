//! One SGD step of the training path (`rnn_lm::fast`) at the tutorial's sizes: vocabulary
//! N_x = 8000, hidden N_h = 100, K = 4, on a sentence of T words (T = 20; the numpy tutorial was
//! timed at T = 45). Run: `cargo bench -p rnn-lm`.
//!
//! Counters: one "item" is one floating-point operation of the products with V, 2·N_x·N_h·T
//! each (three in a step, one in the forward pass), so divan's `item/s` column reads as
//! FLOP/s. `gemm_256` (one 256 × 256 × 256 f64 `DMatrix` product, counted the same way) is
//! the machine's yardstick. `v_products` times each product with V alone at T = 20 through
//! shared's kernels (`shared::kernels::tall`; their comparison with matrixmultiply and with
//! their plain loops is `cargo bench -p shared --bench tall`). The `threads2` units run the same
//! on two threads (`fast::Cache::with_threads`, bit-identical results);
//! `thread_scope_spawn_one` is what starting one scoped thread costs. The `_f32` units are the
//! same work in f32 (`train --dtype f32`: `fast::Net<f32>`, the products with V on the `gemm`
//! crate), counted with the same FLOPs.
#![allow(non_snake_case)]

use divan::Bencher;
use divan::counter::ItemsCount;
use nalgebra::DMatrix;
use rnn_lm::fast::{self, Cache, Net, Scalar};
use rnn_lm::{Bptt, Rnn};
use shared::kernels::tall::{self, LANES};
use shared::rng;

fn main() {
    divan::main();
}

const N_X: usize = 8000;
const N_H: usize = 100;

/// FLOPs of one product with V for a sentence of `T` tokens.
fn flops(T: usize) -> usize {
    2 * N_X * N_H * T
}

/// The model (in float type `F`) and a random sentence of `T` input tokens with its targets.
fn setup_in<F: Scalar>(T: usize) -> (Net<F>, Vec<usize>, Vec<usize>, Cache<F>) {
    let model = Net::from_model(&Rnn::new(N_X, N_H, &mut rng::seeded(10)));
    let mut r = rng::seeded(11);
    let ids: Vec<usize> = (0..=T).map(|_| rng::below(&mut r, N_X)).collect();
    let cache = Cache::new(&model, T);
    (model, ids[..T].to_vec(), ids[1..].to_vec(), cache)
}

/// [`setup_in`] in f64.
fn setup(T: usize) -> (Net<f64>, Vec<usize>, Vec<usize>, Cache) {
    setup_in(T)
}

/// Forward, truncated backward (K = 4) and the update of U, W, V.
#[divan::bench(args = [20, 45])]
fn sgd_step(bencher: Bencher, T: usize) {
    let (mut model, x, t, mut cache) = setup(T);
    // Small lr: the weights barely move over the many iterations, so every one costs the same.
    bencher
        .counter(ItemsCount::new(3 * flops(T)))
        .bench_local(|| fast::sgd_step(&mut model, &x, &t, Bptt::Truncated(4), 1e-9, &mut cache));
}

/// [`sgd_step`] in f32 (`train --dtype f32`): the products with V on the `gemm` crate.
#[divan::bench(args = [20, 45])]
fn sgd_step_f32(bencher: Bencher, T: usize) {
    let (mut model, x, t, mut cache) = setup_in::<f32>(T);
    bencher
        .counter(ItemsCount::new(3 * flops(T)))
        .bench_local(|| fast::sgd_step(&mut model, &x, &t, Bptt::Truncated(4), 1e-9, &mut cache));
}

/// [`sgd_step_f32`] on two threads (the same bytes as one).
#[divan::bench(args = [20, 45])]
fn sgd_step_f32_threads2(bencher: Bencher, T: usize) {
    let (mut model, x, t, cache) = setup_in::<f32>(T);
    let mut cache = cache.with_threads(2).unwrap();
    bencher
        .counter(ItemsCount::new(3 * flops(T)))
        .bench_local(|| fast::sgd_step(&mut model, &x, &t, Bptt::Truncated(4), 1e-9, &mut cache));
}

/// [`forward_loss`] in f32.
#[divan::bench(args = [20, 45])]
fn forward_loss_f32(bencher: Bencher, T: usize) {
    let (model, x, t, mut cache) = setup_in::<f32>(T);
    bencher
        .counter(ItemsCount::new(flops(T)))
        .bench_local(|| fast::sentence_loss(&model, &x, &t, &mut cache));
}

/// [`sgd_step`] with the products with V on two threads (`Cache::with_threads(2)`): the same
/// bytes, a scoped thread started twice per step.
#[divan::bench(args = [20, 45])]
fn sgd_step_threads2(bencher: Bencher, T: usize) {
    let (mut model, x, t, cache) = setup(T);
    let mut cache = cache.with_threads(2).unwrap();
    bencher
        .counter(ItemsCount::new(3 * flops(T)))
        .bench_local(|| fast::sgd_step(&mut model, &x, &t, Bptt::Truncated(4), 1e-9, &mut cache));
}

/// [`forward_loss`] on two threads.
#[divan::bench(args = [20, 45])]
fn forward_loss_threads2(bencher: Bencher, T: usize) {
    let (model, x, t, cache) = setup(T);
    let mut cache = cache.with_threads(2).unwrap();
    bencher
        .counter(ItemsCount::new(flops(T)))
        .bench_local(|| fast::sentence_loss(&model, &x, &t, &mut cache));
}

/// The cost of one `std::thread::scope` that starts one thread doing nothing.
#[divan::bench]
fn thread_scope_spawn_one(bencher: Bencher) {
    bencher.bench_local(|| {
        std::thread::scope(|s| {
            s.spawn(|| divan::black_box(1));
        })
    });
}

/// The forward pass and the loss alone (what an evaluation pass costs per sentence).
#[divan::bench(args = [20, 45])]
fn forward_loss(bencher: Bencher, T: usize) {
    let (model, x, t, mut cache) = setup(T);
    bencher
        .counter(ItemsCount::new(flops(T)))
        .bench_local(|| fast::sentence_loss(&model, &x, &t, &mut cache));
}

/// The yardstick: one 256³ f64 product (`C ← A B`, nalgebra's matrixmultiply kernel).
#[divan::bench]
fn gemm_256(bencher: Bencher) {
    let mut r = rng::seeded(1);
    let a = shared::init::uniform(256, 256, -1.0, 1.0, &mut r);
    let b = shared::init::uniform(256, 256, -1.0, 1.0, &mut r);
    let mut c = DMatrix::zeros(256, 256);
    bencher
        .counter(ItemsCount::new(2 * 256 * 256 * 256usize))
        .bench_local(|| c.gemm(1.0, &a, &b, 0.0));
}

/// Each product with V at T = 20 (the units `bench/compare/rnn-lm.py` times in numpy too).
mod v_products {
    use super::*;

    const T: usize = 20;

    /// The operands of a real step: the tutorial's V, the states h_0 … h_{T−1} and the output
    /// deltas y_i − t_i of a forward pass on a random sentence.
    struct Operands {
        V: DMatrix<f64>,  // N_x × N_h
        H: DMatrix<f64>,  // N_h × T
        Ht: DMatrix<f64>, // T × N_h
        dY: DMatrix<f64>, // N_x × T
        Y: DMatrix<f64>,  // N_x × T
        Z: DMatrix<f64>,  // N_h × T
        P: Vec<[f64; LANES]>,
    }

    fn operands() -> Operands {
        let (model, x, t, mut cache) = setup(T);
        fast::forward(&model, &x, &mut cache);
        let H = cache.H().columns(1, T).into_owned();
        let mut dY = cache.Y().into_owned();
        for (i, &t_i) in t.iter().enumerate() {
            dY[(t_i, i)] -= 1.0;
        }
        Operands {
            Ht: H.transpose(),
            V: model.V,
            H,
            dY,
            Y: DMatrix::zeros(N_X, T),
            Z: DMatrix::zeros(N_H, T),
            P: vec![[0.0; LANES]; N_H * T],
        }
    }

    /// `Y = V H` (`tall::tall_gemm`).
    #[divan::bench]
    fn kernel_V_H(bencher: Bencher) {
        let mut o = operands();
        bencher.counter(ItemsCount::new(flops(T))).bench_local(|| {
            tall::tall_gemm(
                o.V.as_slice(),
                o.Ht.as_slice(),
                o.Y.as_mut_slice(),
                N_X,
                N_H,
                T,
            )
        });
    }

    /// `Y = V H` and the softmax of its columns on `threads` threads (by time steps).
    fn V_H_softmax(bencher: Bencher, threads: usize) {
        let mut o = operands();
        bencher.counter(ItemsCount::new(flops(T))).bench_local(|| {
            fast::scores_softmax(
                o.V.as_slice(),
                o.Ht.as_slice(),
                o.Y.as_mut_slice(),
                N_X,
                N_H,
                T,
                threads,
            )
        });
    }

    /// `Y = V H` and the softmax of its columns on two threads (by time steps).
    #[divan::bench]
    fn threads2_V_H_softmax(bencher: Bencher) {
        V_H_softmax(bencher, 2)
    }

    /// `Y = V H` and the softmax of its columns on one thread (the same code path).
    #[divan::bench]
    fn threads1_V_H_softmax(bencher: Bencher) {
        V_H_softmax(bencher, 1)
    }

    /// `Z = Vᵀ dY` and `V ← V − lr dY Hᵀ` on `threads` threads (by columns of V).
    fn Vt_dY_and_update(bencher: Bencher, threads: usize) {
        let mut o = operands();
        bencher
            .counter(ItemsCount::new(2 * flops(T)))
            .bench_local(|| {
                f64::output_backward(
                    o.V.as_mut_slice(),
                    o.dY.as_slice(),
                    o.H.as_slice(),
                    1e-9,
                    o.Z.as_mut_slice(),
                    &mut o.P,
                    N_X,
                    N_H,
                    T,
                    threads,
                )
            });
    }

    /// `Z = Vᵀ dY` and `V ← V − lr dY Hᵀ` in one pass over V (`tall::tall_backward_sgd`).
    #[divan::bench]
    fn kernel_Vt_dY_and_update(bencher: Bencher) {
        Vt_dY_and_update(bencher, 1)
    }

    /// [`kernel_Vt_dY_and_update`] on two threads (by columns of V).
    #[divan::bench]
    fn threads2_Vt_dY_and_update(bencher: Bencher) {
        Vt_dY_and_update(bencher, 2)
    }
}
