//! Speed of the convolution layer and of SimpleConvNet on MNIST sizes (N = 100, 1 × 28 × 28,
//! 30 filters 5 × 5). Throughput is shown as items/s with one item = one floating-point
//! operation of the GEMMs (a multiply-add counts 2), so "40 Gitem/s" reads as 40 GFLOP/s.
//! `gemm_256` is the machine's f64 GEMM speed for comparison; `epoch_8000` one epoch of the
//! default run (forward + backward + Adam over 8000 images).

#![allow(non_snake_case)]

use conv_im2col::fast::{
    Classifier, Convolution, FastConvNet, Float, Optimize, Parallel, im2col_into, narrow,
};
use conv_im2col::train::{Sampling, train_epoch};
use conv_im2col::{Config, Geometry, Init};
use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use nalgebra::DMatrix;
use shared::optim::{Optimizer, Rule};
use shared::rng;

const N: usize = 100;
const FN: usize = 30;

fn main() {
    divan::main();
}

fn images(n: usize, seed: u64) -> DMatrix<f64> {
    let mut r = rng::seeded(seed);
    DMatrix::from_fn(784, n, |_, _| rng::uniform(&mut r, 0.0, 1.0))
}

fn mnist_conv() -> (Geometry, Convolution) {
    let g = Geometry::new(1, 28, 28, 5, 5, 1, 0).unwrap();
    let W = shared::init::normal(FN, g.taps(), 0.0, 0.01, &mut rng::seeded(1));
    (g, Convolution::new(g, W, DMatrix::zeros(FN, 1)))
}

/// The machine's f64 GEMM: 256³ through the same matrixmultiply kernel.
#[divan::bench]
fn gemm_256(b: Bencher) {
    let a = images(256 * 256 / 784 + 1, 1).as_slice()[..256 * 256].to_vec();
    let a = DMatrix::from_column_slice(256, 256, &a);
    let mut c = DMatrix::zeros(256, 256);
    b.counter(ItemsCount::new(2 * 256usize.pow(3)))
        .bench_local(|| shared::kernels::gemm(1.0, black_box(&a), &a, 0.0, &mut c));
}

/// The conv forward GEMM alone: out = col·Wᵀ, (57600 × 25)·(25 × 30).
#[divan::bench]
fn conv_gemm_forward(b: Bencher) {
    let (g, layer) = mnist_conv();
    let mut col = DMatrix::zeros(0, 0);
    im2col_into(&images(N, 2), &g, &mut col);
    let mut out = DMatrix::zeros(col.nrows(), FN);
    b.counter(ItemsCount::new(2 * col.nrows() * g.taps() * FN))
        .bench_local(|| shared::kernels::gemm_nt(1.0, black_box(&col), &layer.W, 0.0, &mut out));
}

/// im2col of a batch of 100 MNIST images (no arithmetic: counted in images).
#[divan::bench]
fn im2col_batch(b: Bencher) {
    let (g, _) = mnist_conv();
    let x = images(N, 3);
    let mut col = DMatrix::zeros(0, 0);
    b.counter(ItemsCount::new(N))
        .bench_local(|| im2col_into(black_box(&x), &g, &mut col));
}

/// One conv layer forward + backward with dX (3 GEMMs of 2·57600·25·30 flops each).
#[divan::bench]
fn conv_forward_backward(b: Bencher) {
    let (g, mut layer) = mnist_conv();
    let x = images(N, 4);
    let (mut y, mut dx) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
    layer.forward(&x, &mut y);
    let dy = y.map(|v| v * 0.5 + 0.1);
    b.counter(ItemsCount::new(3 * 2 * N * g.windows() * g.taps() * FN))
        .bench_local(|| {
            layer.forward(black_box(&x), &mut y);
            layer.backward(&dy, Some(&mut dx));
        });
}

/// GEMM flops of one SimpleConvNet step on a batch of N: conv forward and dW (no dX for the
/// input layer), affine2 and affine3 forward, dW and dX.
fn net_flops(n: usize) -> usize {
    let conv = 2 * 2 * n * 576 * 25 * FN;
    let affine2 = 3 * 2 * n * 4320 * 100;
    let affine3 = 3 * 2 * n * 100 * 10;
    conv + affine2 + affine3
}

/// One SimpleConvNet training step: forward, backward and Adam on a batch of 100.
#[divan::bench]
fn simple_convnet_batch(b: Bencher) {
    convnet_step::<f64>(b);
}

/// The same step in f32 (`train --dtype f32`): parameters, activations, gradients and Adam's
/// moments in f32.
#[divan::bench]
fn simple_convnet_batch_f32(b: Bencher) {
    convnet_step::<f32>(b);
}

/// One training step of SimpleConvNet in float type `T` on a batch of N = 100.
fn convnet_step<T: Float>(b: Bencher) {
    let mut net = FastConvNet::<T>::new(
        Config::simple(1, 28, 28),
        Init::Std(0.01),
        &mut rng::seeded(1),
    )
    .unwrap();
    let mut opt = T::Optimizer::create(Rule::adam(), 1e-3).unwrap();
    let x = narrow::<T>(&images(N, 5));
    let t: Vec<usize> = (0..N).map(|i| i % 10).collect();
    b.counter(ItemsCount::new(net_flops(N))).bench_local(|| {
        let loss = net.gradient(black_box(&x), &t);
        net.update(&mut opt);
        loss
    });
}

/// The same step with `--threads 2`: the batch split into two groups of 50, forward +
/// backward of each on its own thread, the gradients combined, then Adam.
#[divan::bench]
fn simple_convnet_batch_threads2(b: Bencher) {
    let mut net = FastConvNet::new(
        Config::simple(1, 28, 28),
        Init::Std(0.01),
        &mut rng::seeded(1),
    )
    .unwrap();
    let mut par = Parallel::new(&net, 2).unwrap();
    let mut opt = Optimizer::new(Rule::adam(), 1e-3);
    let x = images(N, 5);
    let t: Vec<usize> = (0..N).map(|i| i % 10).collect();
    b.counter(ItemsCount::new(net_flops(N))).bench_local(|| {
        let mut m = par.on(&mut net);
        let loss = m.gradient(black_box(&x), &t);
        m.update(&mut opt);
        loss
    });
}

/// One epoch over 8000 images: 80 steps of forward + backward + Adam.
#[divan::bench(sample_count = 3, sample_size = 1)]
fn epoch_8000(b: Bencher) {
    let mut net = FastConvNet::<f64>::new(
        Config::simple(1, 28, 28),
        Init::Std(0.01),
        &mut rng::seeded(1),
    )
    .unwrap();
    let mut opt = Optimizer::new(Rule::adam(), 1e-3);
    let x = images(8000, 6);
    let t: Vec<usize> = (0..8000).map(|i| i % 10).collect();
    let mut r = rng::seeded(7);
    let mut step = 0;
    b.counter(ItemsCount::new(80 * net_flops(N)))
        .bench_local(|| {
            train_epoch(
                &mut net,
                &mut opt,
                &x,
                &t,
                N,
                Sampling::Shuffled,
                &mut step,
                &mut r,
                |_, _| {},
            )
            .unwrap()
        });
}
