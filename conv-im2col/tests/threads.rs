//! `--groups N`: the mini-batch's examples split over N threads give the run of one group up
//! to rounding (1e-9 relative on every loss of the curve and every accuracy), the same bits on
//! a repeat, and a checkpoint of a run on two threads continues exactly (on two threads).
#![allow(non_snake_case)]

use conv_im2col::checkpoint::State;
use conv_im2col::data::{self, Split};
use conv_im2col::fast::parallel::groups;
use conv_im2col::fast::{Classifier, FastConvNet, Parallel};
use conv_im2col::train::Sampling;
use conv_im2col::{Config, Init};
use shared::optim::Rule;
use shared::rng;
use std::path::Path;

/// |a − b| ≤ 1e-9 · max(|a|, |b|), for two curves of the same length.
fn close(what: &str, a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    assert!(!a.is_empty(), "{what}: empty");
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        let tol = 1e-9 * x.abs().max(y.abs());
        assert!((x - y).abs() <= tol, "{what} point {k}: {x} vs {y}");
    }
}

/// A small FastConvNet on the generated digits (28 × 28): 4 filters 5 × 5, 8 hidden.
fn net(split: &Split) -> FastConvNet {
    let config = Config {
        filters: 4,
        hidden: 8,
        ..Config::simple(1, split.train.rows, split.train.cols)
    };
    FastConvNet::new(config, Init::He, &mut rng::seeded(3)).unwrap()
}

/// The loss of every step, then the train and test accuracies of every epoch, of 2 epochs
/// of batch `batch` on `threads` threads; and the final weights' bits.
fn curves(split: &Split, batch: usize, threads: usize) -> (Vec<f64>, Vec<u64>) {
    let mut s = State::new(net(split), Rule::adam(), 3e-3, 5, split)
        .unwrap()
        .with_threads(threads)
        .unwrap();
    assert_eq!(s.threads(), threads);
    for _ in 0..2 {
        let done = s.run_epoch(split, batch, Sampling::Shuffled, |_, _| false);
        assert!(done.unwrap().is_some());
    }
    let c = &s.curves;
    let mut v: Vec<f64> = c.loss.points.iter().map(|p| p.1).collect();
    assert!(v.len() > 4, "steps");
    v.extend(c.train.points.iter().chain(&c.test.points).map(|p| p.1));
    let bits = (s.net.params().iter())
        .flat_map(|p| p.iter().map(|x| x.to_bits()))
        .collect();
    (v, bits)
}

#[test]
fn two_threads_match_one() {
    let split = data::generated(7, 47, 23);
    // Batches of 7 (groups of 3 and 4: unequal weights w_g = B_g / B); the last batch of 5.
    let (one, _) = curves(&split, 7, 1);
    let (two, bits2) = curves(&split, 7, 2);
    close("2 threads", &one, &two);
    let (again, bits2b) = curves(&split, 7, 2);
    assert_eq!(bits2, bits2b, "two runs on 2 threads: the same weights");
    assert_eq!(
        two.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        again.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        "two runs on 2 threads: the same curves"
    );
    // More threads than examples in a batch: one per example.
    close("8 threads", &one, &curves(&split, 7, 8).0);
    close(
        "3 threads, batch 2",
        &curves(&split, 2, 1).0,
        &curves(&split, 2, 3).0,
    );
    // A batch of 1 stays on one thread: the same bits.
    let split = data::generated(7, 9, 5);
    assert_eq!(curves(&split, 1, 1), curves(&split, 1, 2));
}

/// One mini-batch: the split gradient and loss equal the whole ones up to rounding.
#[test]
fn split_gradient_matches_whole() {
    let split = data::generated(8, 11, 1);
    let (X, t) = (&split.train.images, &split.train.labels);
    let mut whole = net(&split);
    let mut parted = whole.clone();
    let e1 = whole.gradient(X, t);
    let mut par = Parallel::new(&parted, 3).unwrap();
    let e2 = par.on(&mut parted).gradient(X, t);
    close("loss", &[e1], &[e2]);
    for (g1, g2) in whole.grads().iter().zip(parted.grads()) {
        let scale = g1.amax();
        assert!(scale > 1e-8, "a gradient that is ~0 tests nothing");
        let diff = (*g1 - g2).amax();
        assert!(diff <= 1e-12 * scale, "{diff} against {scale}");
    }
    // The scores of the split forward are those of the whole, column by column.
    let s1 = whole.forward(X).clone();
    let s2 = par.on(&mut parted).scores(X).clone();
    assert!((&s1 - &s2).amax() <= 1e-12 * s1.amax());
    assert_eq!(groups(11, 3), vec![(0, 3), (3, 4), (7, 4)]);
    assert_eq!(groups(2, 8), vec![(0, 1), (1, 1)]);
    assert!(Parallel::new(&parted, 0).is_err() && Parallel::new(&parted, 9).is_err());
}

const BIN: &str = env!("CARGO_BIN_EXE_conv-im2col");

fn run_ok(args: &[&str], out: &Path) {
    let mut all = vec![
        "train",
        "--train-size",
        "40",
        "--test-size",
        "10",
        "--batch",
        "20",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let o = shared::testing::run(BIN, &all);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

const OUTPUTS: [&str; 4] = ["loss.csv", "model.safetensors", "filters.png", "loss.png"];

/// The binary with `--groups 2`, twice: the same bytes; stopped after 1 epoch and resumed
/// (with the 2 groups it was trained with): the same bytes again; a resume asking for 1 group
/// is refused (N groups round differently from one), and a run with 1 group gives the same
/// losses up to rounding. `--threads` (the products' threads) changes no byte.
#[test]
fn binary_on_two_threads_is_deterministic_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n);
    let two = ["--epochs", "2", "--groups", "2"];
    run_ok(&two, &d("a"));
    run_ok(&two, &d("b"));
    shared::testing::assert_same_outputs(&d("a"), &d("b"), &OUTPUTS);
    run_ok(
        &["--epochs", "1", "--groups", "2", "--threads", "1"],
        &d("part"),
    );
    let part = d("part");
    let part = part.to_str().unwrap();
    run_ok(&["--epochs", "2", "--resume", part], &d("resumed"));
    shared::testing::assert_same_outputs(&d("a"), &d("resumed"), &OUTPUTS);
    let o = shared::testing::run(
        BIN,
        &["train", "--epochs", "2", "--groups", "1", "--resume", part],
    );
    shared::testing::assert_user_error(&o, "--groups 1 on a 2-group run", &["--groups", "2"]);
    run_ok(&["--epochs", "2", "--threads", "1"], &d("one"));
    run_ok(&["--epochs", "2", "--threads", "2"], &d("one-two-threads"));
    shared::testing::assert_same_outputs(&d("one"), &d("one-two-threads"), &OUTPUTS);
    let losses = |n: &str| -> Vec<f64> {
        let text = std::fs::read_to_string(d(n).join("loss.csv")).unwrap();
        text.lines()
            .filter_map(|l| l.rsplit(',').next()?.parse().ok())
            .collect()
    };
    close("1 thread", &losses("a"), &losses("one"));
}
