//! `train --dtype f32`: the engine in f32 against the f64 notes layer (loss and every gradient
//! to f32 precision), an f32 run learns as the f64 one does, and the model records its dtype (a
//! stopped f32 epoch continuing to the bit: `tests/training.rs`; `eval` and `--resume` of an f32
//! run through the binary: `tests/session.rs`).

#![allow(non_snake_case)]

use conv_im2col::checkpoint::{load_net, save_net};
use conv_im2col::data;
use conv_im2col::fast::{
    Classifier, FastConvNet, Float, Optimize, narrow, w2_from_model, w2_to_model, widen,
};
use conv_im2col::train::{Sampling, fit};
use conv_im2col::{Config, Init, SimpleConvNet};
use nalgebra::DMatrix;
use shared::optim::Rule;
use shared::rng;

/// ‖a − b‖ / ‖b‖ (Frobenius), with ‖b‖ > 0.
fn relative(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    assert!(b.norm() > 0.0, "compared zeros");
    (a - b).norm() / b.norm()
}

#[test]
fn the_f32_engine_gives_the_notes_layers_loss_and_gradients_to_f32_precision() {
    let small = Config {
        filters: 4,
        filter_size: 3,
        pad: 1,
        hidden: 7,
        classes: 4,
        ..Config::simple(2, 9, 9)
    };
    for (i, config) in [Config::simple(1, 28, 28), small].into_iter().enumerate() {
        let drawn = SimpleConvNet::new(config, Init::He, &mut rng::seeded(i as u64)).unwrap();
        // The f32 network, and the notes layer at the same (f32-rounded) weights and images:
        // what differs is the arithmetic only.
        let weights = drawn.params().map(narrow::<f32>);
        let [W1, b1, W2, b2, W3, b3] = weights.clone();
        let W2 = w2_from_model(&widen(&W2), &config).map(|v| v as f32);
        let mut fast = FastConvNet::<f32>::from_weights(config, [W1, b1, W2, b2, W3, b3]);
        let model = SimpleConvNet::from_weights(config, weights.map(|w| widen(&w))).unwrap();
        let N = 20;
        let mut r = rng::seeded(40 + i as u64);
        let len = config.channels * config.height * config.width;
        let X32 = DMatrix::from_fn(len, N, |_, _| rng::normal(&mut r) as f32);
        let t: Vec<usize> = (0..N).map(|n| (n * 7 + i) % config.classes).collect();
        let (L, grads) = model.gradient(&widen(&X32), &t);
        let L32 = fast.gradient(&X32, &t);
        println!("config {i}: loss {L32} (f32) vs {L} (f64)");
        assert!((L32 - L).abs() <= 1e-6 * L, "config {i}: loss {L32} vs {L}");
        let [dW1, db1, dW2, db2, dW3, db3] = fast.grads().map(widen);
        let dW2 = w2_to_model(&dW2, &config);
        let names = ["dW1", "db1", "dW2", "db2", "dW3", "db3"];
        let ours = [&dW1, &db1, &dW2, &db2, &dW3, &db3];
        for ((name, a), b) in names.iter().zip(ours).zip(grads.all()) {
            let e = relative(a, b);
            println!("config {i} {name}: relative error {e:.1e}");
            // f32 rounds at 6e-8; sums over up to N·OH·OW = 11520 terms stay far below 1e-5
            assert!(e < 1e-5, "config {i} {name}: relative error {e:.1e}");
        }
    }
}

/// Mean training loss of each of 4 epochs on 1000 generated digits (batch 50, Adam 1e-3), and
/// the last test accuracy, with the engine in `T`.
fn short_run<T: Float>() -> (Vec<f64>, f64) {
    let split = data::generated(5, 1000, 300);
    let mut net =
        FastConvNet::<T>::new(Config::simple(1, 28, 28), Init::He, &mut rng::seeded(1)).unwrap();
    let mut opt = T::Optimizer::create(Rule::adam(), 1e-3).unwrap();
    let reports = fit(
        &mut net,
        &mut opt,
        &split,
        4,
        50,
        Sampling::Shuffled,
        &mut rng::seeded(2),
        |_, _| {},
        |_, _| {},
    )
    .unwrap();
    let losses = reports.iter().map(|r| r.mean_loss).collect();
    (losses, reports.last().unwrap().test_accuracy)
}

#[test]
fn an_f32_run_learns_as_the_f64_run_does() {
    let (l64, acc64) = short_run::<f64>();
    let (l32, acc32) = short_run::<f32>();
    println!("mean loss per epoch: f64 {l64:?}, f32 {l32:?}; test accuracy {acc64} / {acc32}");
    assert!(l32[3] < 0.5 * l32[0], "the f32 loss fell: {l32:?}");
    assert!(acc32 > 0.7, "f32 test accuracy {acc32}");
    // The same curve: the two runs start from the same (rounded) weights and batches, and
    // rounding differences grow only slowly over 80 steps.
    for (e, (a, b)) in l32.iter().zip(&l64).enumerate() {
        assert!(
            (a - b).abs() < 0.01 * b,
            "epoch {}: {a} (f32) vs {b} (f64)",
            e + 1
        );
    }
    assert!((acc32 - acc64).abs() <= 0.02, "accuracy {acc32} vs {acc64}");
}

#[test]
fn an_f32_model_is_saved_as_f32_and_loaded_only_as_f32() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        hidden: 7,
        filters: 4,
        ..Config::simple(1, 12, 10)
    };
    let mut net = FastConvNet::<f32>::new(config, Init::Std(0.3), &mut rng::seeded(4)).unwrap();
    let path = dir.path().join("model.safetensors");
    save_net(&net, &path).unwrap();
    let ck = shared::checkpoint::load(&path, "conv-im2col").unwrap();
    assert_eq!(ck.meta_str("dtype").unwrap(), "f32");
    // The weights are stored as F32 tensors: 4 bytes a value after the header.
    let bytes = std::fs::read(&path).unwrap();
    let header = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let values: usize = net.params().iter().map(|p| p.len()).sum();
    assert_eq!(bytes.len() - 8 - header, 4 * values);
    let mut back = load_net::<f32>(&path).unwrap();
    let X = DMatrix::from_fn(120, 3, |i, j| ((i * 7 + j) % 11) as f32 / 11.0);
    assert_eq!(net.forward(&X), back.forward(&X));
    let e = load_net::<f64>(&path).unwrap_err().to_string();
    assert!(e.contains("f32"), "{e}");
}
