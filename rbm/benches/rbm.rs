//! Speed of the chapter's hot paths (the engine path, [`rbm::fast`], as training runs it).
//!
//! - `cd1_batch/*`: one CD-1 mini-batch update (positive phase, one Gibbs step, statistics by
//!   GEMM into preallocated buffers, momentum update) at (n_v, n_h, B) = MNIST-sized
//!   (784, 500, 100) as in Hinton's assignment 4 (PA4 uses 256 × 300, batch 100), the
//!   `--mnist` run's (784, 16, 10) (16 hidden units: its log Z is exact), the
//!   binarised 8 × 8 digits (64, 12, 10) and 4 × 4 bars and stripes (16, 16, 10). Throughput is
//!   counted in floating-point operations of its five products (each 2·n_h·n_v·B): "item/s" is
//!   FLOP/s. `cd1_batch_f32/*`: the same updates in f32 (`train --dtype f32`), from the same
//!   data and initial weights rounded.
//! - `gemm_256`: one 256 × 256 × 256 f64 product, the machine's yardstick for those GFLOP/s.
//! - `exact_log_z/*`: log Z by the notes' sum over the 2^{n_h} hidden configurations, n_v = 64.
//! - `exact_gradient/*`: log Z and the model expectations ⟨v⟩, ⟨h⟩, ⟨h vᵀ⟩ by enumeration
//!   (one update of `--method exact`): bars (16, 16) and digits (64, 12).

#![allow(non_snake_case)]

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use nalgebra::DMatrix;
use rbm::fast::{EngineFloat, Params, log_z, model_expectations};
use rbm::train::{self, Config, Trainer};
use shared::rng;

fn main() {
    divan::main();
}

/// Binary data with about 30 % of the pixels on, n_v × N.
fn data(n_v: usize, N: usize) -> DMatrix<f64> {
    let mut r = rng::seeded(1);
    DMatrix::from_fn(n_v, N, |_, _| {
        (rng::uniform(&mut r, 0.0, 1.0) < 0.3) as u8 as f64
    })
}

/// Floating-point operations of one CD-1 update: H0 = σ(W V0 + b), Vk = σ(Wᵀ Hs + a),
/// Hk = σ(W Vk + b), H0 V0ᵀ and Hk Vkᵀ: five products of 2·n_h·n_v·B each.
pub fn cd1_flops(n_v: usize, n_h: usize, B: usize) -> usize {
    5 * 2 * n_h * n_v * B
}

/// One CD-1 update in float type T of a batch of B examples, n_v visible and n_h hidden units.
fn cd1_in<T: EngineFloat>(b: Bencher, (n_v, n_h, B): (usize, usize, usize)) {
    let V = data(n_v, B);
    let mut r = rng::seeded(2);
    let mut m = T::Rbm::narrowed(&train::init(n_h, &V, &mut r));
    let cfg = Config {
        batch: B,
        ..Config::default()
    };
    let mut t = Trainer::<T>::new(&m, cfg, &mut r);
    let cols: Vec<usize> = (0..B).collect();
    b.counter(ItemsCount::new(cd1_flops(n_v, n_h, B)))
        .bench_local(|| t.step(&mut m, black_box(&V), &cols, &mut r));
}

/// One CD-1 update in f64 (the default).
fn cd1(b: Bencher, sizes: (usize, usize, usize)) {
    cd1_in::<f64>(b, sizes);
}

mod cd1_batch {
    use super::*;

    /// MNIST-sized: 784 visible, 500 hidden, batch 100.
    #[divan::bench]
    fn mnist_784_500_100(b: Bencher) {
        cd1(b, (784, 500, 100));
    }

    /// The MNIST run of `--mnist` (exact log Z: 16 hidden units), batch 10.
    #[divan::bench]
    fn mnist_784_16_10(b: Bencher) {
        cd1(b, (784, 16, 10));
    }

    /// Hinton's assignment 4: 256 visible (16 × 16 digits), 300 hidden, batch 100.
    #[divan::bench]
    fn pa4_256_300_100(b: Bencher) {
        cd1(b, (256, 300, 100));
    }

    /// The binarised 8 × 8 digits run: 64 visible, 12 hidden, batch 10.
    #[divan::bench]
    fn digits_64_12_10(b: Bencher) {
        cd1(b, (64, 12, 10));
    }

    /// The default bars-and-stripes run: 16 visible, 16 hidden, batch 10.
    #[divan::bench]
    fn bars_16_16_10(b: Bencher) {
        cd1(b, (16, 16, 10));
    }
}

mod cd1_batch_f32 {
    use super::*;

    /// MNIST-sized in f32.
    #[divan::bench]
    fn mnist_784_500_100(b: Bencher) {
        cd1_in::<f32>(b, (784, 500, 100));
    }

    /// The `--mnist` run's size in f32.
    #[divan::bench]
    fn mnist_784_16_10(b: Bencher) {
        cd1_in::<f32>(b, (784, 16, 10));
    }

    /// Hinton's assignment 4 in f32.
    #[divan::bench]
    fn pa4_256_300_100(b: Bencher) {
        cd1_in::<f32>(b, (256, 300, 100));
    }

    /// The binarised 8 × 8 digits run in f32.
    #[divan::bench]
    fn digits_64_12_10(b: Bencher) {
        cd1_in::<f32>(b, (64, 12, 10));
    }

    /// The default bars-and-stripes run in f32.
    #[divan::bench]
    fn bars_16_16_10(b: Bencher) {
        cd1_in::<f32>(b, (16, 16, 10));
    }
}

/// One 256 × 256 × 256 f64 product C = A B (2·256³ FLOP) into a preallocated C.
#[divan::bench]
fn gemm_256(b: Bencher) {
    let mut r = rng::seeded(4);
    let A = shared::init::normal(256, 256, 0.0, 1.0, &mut r);
    let B = shared::init::normal(256, 256, 0.0, 1.0, &mut r);
    let mut C = DMatrix::zeros(256, 256);
    b.counter(ItemsCount::new(2 * 256usize.pow(3)))
        .bench_local(|| shared::kernels::gemm(1.0, black_box(&A), black_box(&B), 0.0, &mut C));
}

/// Exact log Z summed over 2^{n_h} hidden configurations, n_v = 64; counted in
/// (configuration, visible unit) pairs.
#[divan::bench(args = [12, 14, 16, 18, 20], sample_count = 5, sample_size = 1)]
fn exact_log_z(b: Bencher, n_h: usize) {
    let V = data(64, 100);
    let mut m = train::init(n_h, &V, &mut rng::seeded(3));
    m.W.apply(|w| *w *= 50.0); // weights of a trained model's size (σ ≈ 0.5)
    b.counter(ItemsCount::new(64usize << n_h))
        .bench_local(|| black_box(log_z(black_box(&m))));
}

mod exact_gradient {
    use super::*;

    fn expectations(b: Bencher, n_v: usize, n_h: usize) {
        let V = data(n_v, 100);
        let mut m = train::init(n_h, &V, &mut rng::seeded(3));
        m.W.apply(|w| *w *= 50.0);
        b.counter(ItemsCount::new(n_v.max(n_h) << n_v.min(n_h)))
            .bench_local(|| black_box(model_expectations(black_box(&m))));
    }

    /// Bars and stripes: 16 visible, 16 hidden (2^16 configurations of 16 units).
    #[divan::bench(sample_count = 20, sample_size = 1)]
    fn bars_16_16(b: Bencher) {
        expectations(b, 16, 16);
    }

    /// Binarised digits: 64 visible, 12 hidden.
    #[divan::bench(sample_count = 20, sample_size = 1)]
    fn digits_64_12(b: Bencher) {
        expectations(b, 64, 12);
    }
}
