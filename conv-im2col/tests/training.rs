//! Learning happens: a short SimpleConvNet run on the generated digits beats chance by a wide
//! margin and beats the linear baseline; checkpoints round-trip; the MNIST folder loader and
//! the t10k split work on IDX files made here.

#![allow(non_snake_case)]

use conv_im2col::checkpoint::{State, load_net, save_net};
use conv_im2col::data::{self, Split};
use conv_im2col::fast::{Classifier, FastConvNet, Float, LinearSoftmax};
use conv_im2col::train::{Sampling, accuracy, fit, train_epoch};
use conv_im2col::{Config, Init};
use shared::optim::{Optimizer, Rule};
use shared::rng;
use std::io::Write;

/// Trains `model` for `epochs` on `split` with Adam 1e-3, batch 50; returns the test accuracy.
fn train<M: Classifier<T = f64>>(model: &mut M, split: &Split, epochs: u64, seed: u64) -> f64 {
    let mut opt = Optimizer::new(Rule::adam(), 1e-3);
    let reports = fit(
        model,
        &mut opt,
        split,
        epochs,
        50,
        Sampling::Shuffled,
        &mut rng::seeded(seed),
        |_, _| {},
        |_, _| {},
    )
    .unwrap();
    let first = reports.first().unwrap().mean_loss;
    let last = reports.last().unwrap().mean_loss;
    assert!(last < first, "the mean loss fell: {first} → {last}");
    reports.last().unwrap().test_accuracy
}

#[test]
fn a_short_run_learns_the_generated_digits() {
    // 1000 training images, 4 epochs (80 steps), He init for a quick start.
    let split = data::generated(5, 1000, 300);
    let mut net =
        FastConvNet::<f64>::new(Config::simple(1, 28, 28), Init::He, &mut rng::seeded(1)).unwrap();
    let cnn = train(&mut net, &split, 4, 2);
    let mut linear = LinearSoftmax::new(784, 10, &mut rng::seeded(3));
    let lin = train(&mut linear, &split, 4, 2);
    println!("test accuracy: SimpleConvNet {cnn:.3}, linear softmax {lin:.3} (chance 0.1)");
    // Chance is 10 %: ask for 60 points above it (seed 5 gives 0.85), and for 10 points over
    // the linear model (0.58).
    assert!(cnn > 0.7, "SimpleConvNet test accuracy {cnn}");
    assert!(cnn > lin + 0.1, "CNN {cnn} vs linear {lin}");
    let train_acc = accuracy(&mut net, &split.train.images, &split.train.labels, 100);
    assert!(train_acc > 0.6, "train accuracy {train_acc}");
}

#[test]
fn a_checkpoint_gives_back_the_same_network() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        hidden: 7,
        filters: 4,
        ..Config::simple(1, 12, 10)
    };
    let mut net = FastConvNet::<f64>::new(config, Init::Std(0.3), &mut rng::seeded(4)).unwrap();
    let path = dir.path().join("model.safetensors");
    save_net(&net, &path).unwrap();
    let mut back = load_net::<f64>(&path).unwrap();
    assert_eq!(back.config, net.config);
    let split = data::generated(1, 3, 1);
    let X = split
        .train
        .images
        .select_rows(&(0..120).collect::<Vec<_>>());
    assert_eq!(net.forward(&X), back.forward(&X));
    // Another chapter's file is refused with a clear error.
    shared::checkpoint::save(&path, "rbm", &[("W", &net.conv1.W)], &[]).unwrap();
    let e = load_net::<f64>(&path).unwrap_err().to_string();
    assert!(e.contains("rbm"), "{e}");
    // A checkpoint whose sizes say one thing and tensors another: a clear error.
    save_net(&net, &path).unwrap();
    let ck = shared::checkpoint::load(&path, "conv-im2col").unwrap();
    let meta: Vec<(&str, String)> = ck
        .metadata
        .iter()
        .filter(|(k, _)| *k != "chapter")
        .map(|(k, v)| {
            (
                k.as_str(),
                if k == "hidden" { "8".into() } else { v.clone() },
            )
        })
        .collect();
    let tensors: Vec<(&str, &nalgebra::DMatrix<f64>)> = ["W1", "b1", "W2", "b2", "W3", "b3"]
        .into_iter()
        .zip(net.params())
        .collect();
    shared::checkpoint::save(&path, "conv-im2col", &tensors, &meta).unwrap();
    let e = load_net::<f64>(&path).unwrap_err().to_string();
    assert!(e.contains("W2") && e.contains("expected 8×"), "{e}");
    // A truncated file names itself.
    save_net(&net, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let e = load_net::<f64>(&path).unwrap_err().to_string();
    assert!(e.contains("model.safetensors"), "{e}");
}

/// Writes an IDX image file (magic 0x803) and a label file (0x801), gzipped when `gz`.
fn write_idx(dir: &std::path::Path, which: &str, n: usize, gz: bool) {
    let mut img = Vec::new();
    for v in [0x803u32, n as u32, 28, 28] {
        img.extend_from_slice(&v.to_be_bytes());
    }
    // image k: pixel i = (k + i) mod 256
    img.extend((0..n * 784).map(|i| ((i / 784 + i % 784) % 256) as u8));
    let mut lab = Vec::new();
    for v in [0x801u32, n as u32] {
        lab.extend_from_slice(&v.to_be_bytes());
    }
    lab.extend((0..n).map(|k| (k % 10) as u8));
    for (name, bytes) in [("images-idx3-ubyte", img), ("labels-idx1-ubyte", lab)] {
        let path = dir.join(format!("{which}-{name}{}", if gz { ".gz" } else { "" }));
        let mut f = std::fs::File::create(path).unwrap();
        if gz {
            let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
            e.write_all(&bytes).unwrap();
            e.finish().unwrap();
        } else {
            f.write_all(&bytes).unwrap();
        }
    }
}

#[test]
fn mnist_folder_with_t10k_only_is_split_in_two() {
    let dir = tempfile::tempdir().unwrap();
    write_idx(dir.path(), "t10k", 25, true);
    let s = data::mnist(dir.path(), Some(20), Some(5)).unwrap();
    assert_eq!((s.train.len(), s.test.len()), (20, 5));
    assert_eq!(
        s.description,
        "MNIST t10k images 0..20 to train, 20..25 to test; no train-* images in the folder, \
         so t10k is split in two"
    );
    assert_eq!((s.train.rows, s.train.cols, s.train.classes), (28, 28, 10));
    // Test image 0 is file image 20: its pixel 3 is (20 + 3)/255; its label 20 mod 10 = 0.
    assert_eq!(s.test.images[(3, 0)], 23.0 / 255.0);
    assert_eq!(s.test.labels[0], 0);
    assert_eq!(s.train.labels[..3], [0, 1, 2]);
    // The default 8000 / 2000, or more than the file holds, even sizes whose sum overflows:
    // all of it, 4:1.
    for (tr, te) in [(None, None), (Some(usize::MAX), Some(usize::MAX))] {
        let s = data::mnist(dir.path(), tr, te).unwrap();
        assert_eq!((s.train.len(), s.test.len()), (20, 5));
        assert!(s.description.contains("holds 25"), "{}", s.description);
    }
}

#[test]
fn mnist_folder_with_train_files_trains_on_all_of_them_and_tests_on_all_of_t10k() {
    let dir = tempfile::tempdir().unwrap();
    write_idx(dir.path(), "t10k", 12, false);
    write_idx(dir.path(), "train", 30, false);
    let s = data::mnist(dir.path(), None, None).unwrap();
    assert_eq!((s.train.len(), s.test.len()), (30, 12));
    assert_eq!(
        s.description,
        "MNIST train images 0..30 to train, t10k images 0..12 to test (of 30 and 12)"
    );
    // Test image 5 is t10k image 5, training image 7 train image 7.
    assert_eq!(s.test.images[(3, 5)], 8.0 / 255.0);
    assert_eq!(s.train.labels[7], 7);
    // Fewer on request; more than there are is all of them.
    let s = data::mnist(dir.path(), Some(25), Some(100)).unwrap();
    assert_eq!((s.train.len(), s.test.len()), (25, 12));
    assert!(s.description.starts_with("MNIST train images 0..25"));
    // A corrupted training file is an error, not a silent fallback to the t10k split.
    std::fs::write(dir.path().join("train-images-idx3-ubyte"), b"\0\0\x08\x03").unwrap();
    assert!(data::mnist(dir.path(), Some(25), Some(10)).is_err());
    // No MNIST files at all: the error names the folder.
    let empty = tempfile::tempdir().unwrap();
    let e = data::mnist(empty.path(), Some(1), Some(1))
        .unwrap_err()
        .to_string();
    assert!(e.contains(&empty.path().display().to_string()), "{e}");
}

#[test]
fn both_samplings_take_ceil_n_over_b_steps_and_are_seeded() {
    // 30 examples, batch 8: ⌈30/8⌉ = 4 steps either way; with replacement every batch is full.
    let split = data::generated(3, 30, 5);
    let (X, t) = (&split.train.images, &split.train.labels);
    let epoch = |sampling: Sampling, seed: u64| {
        let mut net = LinearSoftmax::new(784, 10, &mut rng::seeded(1));
        let mut opt = Optimizer::new(Rule::adam(), 1e-3);
        let (mut step, mut losses) = (0, Vec::new());
        let mean = train_epoch(
            &mut net,
            &mut opt,
            X,
            t,
            8,
            sampling,
            &mut step,
            &mut rng::seeded(seed),
            |_, l| losses.push(l),
        )
        .unwrap();
        (step, mean, losses)
    };
    for sampling in [Sampling::Shuffled, Sampling::Replacement] {
        let (steps, mean, losses) = epoch(sampling, 2);
        assert_eq!(steps, 4);
        assert_eq!(epoch(sampling, 2).2, losses, "same seed, same batches");
        assert_ne!(epoch(sampling, 3).2, losses, "another seed, other batches");
        assert!(mean.is_finite());
    }
    assert_ne!(
        epoch(Sampling::Shuffled, 2).2,
        epoch(Sampling::Replacement, 2).2
    );
}

#[test]
fn an_epoch_stopped_after_any_step_continues_with_the_same_bits() {
    stopped_epochs_continue_with_the_same_bits::<f64>();
}

#[test]
fn an_f32_epoch_stopped_after_any_step_continues_with_the_same_bits() {
    stopped_epochs_continue_with_the_same_bits::<f32>();
}

/// A run of 2 epochs stopped after each of its 10 steps and continued ends with the bits of
/// the run never stopped, with the engine in `T`.
fn stopped_epochs_continue_with_the_same_bits<T: Float>() {
    // 30 examples in batches of 7: 5 steps per epoch (the last one of 2 examples), 2 epochs.
    let split = data::generated(4, 30, 6);
    let config = Config {
        filters: 3,
        hidden: 6,
        ..Config::simple(1, 28, 28)
    };
    let state = || {
        let net = FastConvNet::<T>::new(config, Init::He, &mut rng::seeded(1)).unwrap();
        State::new(net, Rule::adam(), 3e-3, 9, &split).unwrap()
    };
    let mut whole = state();
    let mut want = Vec::new();
    for _ in 0..2 {
        let r = whole.run_epoch(&split, 7, Sampling::Shuffled, |_, _| false);
        want.push(r.unwrap().expect("not stopped"));
    }
    for stop_at in 1..=10 {
        let mut s = state();
        let (mut got, mut stops) = (Vec::new(), 0);
        while s.epoch < 2 {
            match s.run_epoch(&split, 7, Sampling::Shuffled, |step, _| step == stop_at) {
                Ok(Some(r)) => got.push(r),
                Ok(None) => stops += 1,
                Err(e) => panic!("{e}"),
            }
        }
        // A stop at an epoch's last step lets the epoch finish.
        assert_eq!(stops, usize::from(stop_at % 5 != 0), "stop at {stop_at}");
        assert_eq!(got.len(), 2);
        for ((r, tr), (w, wtr)) in got.iter().zip(&want) {
            let seen = (r.epoch, r.mean_loss.to_bits(), r.test_accuracy, tr);
            assert_eq!(seen, (w.epoch, w.mean_loss.to_bits(), w.test_accuracy, wtr));
        }
        assert_eq!(s.curves.loss.points, whole.curves.loss.points);
        assert_eq!(s.net.params(), whole.net.params(), "stop at {stop_at}");
        assert_eq!(s.steps(), 10);
    }
}
