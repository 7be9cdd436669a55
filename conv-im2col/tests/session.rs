//! The run session through the real binary: the workspace's contract (a finished run is kept,
//! a resume continues in its own folder with its own flags, one run per folder, closed and
//! full stdout, Ctrl-C then resume gives the bytes of a run never stopped, `--version`), and
//! conv-im2col's own: Ctrl-C within an epoch, `eval` of a saved network on an MNIST folder or
//! a digits CSV, MNIST with both parts trained and tested on all of them, size flags checked
//! against the memory before anything is allocated.

#![allow(non_snake_case)]

use conv_im2col::checkpoint::{load_net, save_net};
use conv_im2col::data;
use shared::testing::{self, SessionContract, assert_same_outputs, assert_user_error, ok};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_conv-im2col");

/// 200 generated digits, one epoch of 4 steps: about a second.
const SHORT: &[&str] = &[
    "train",
    "--train-size",
    "200",
    "--test-size",
    "50",
    "--batch",
    "50",
    "--epochs",
    "1",
];

/// 3000 generated digits, one epoch of 150 steps: several seconds, so that a Ctrl-C lands
/// within the epoch.
const LONG: &[&str] = &[
    "train",
    "--train-size",
    "3000",
    "--test-size",
    "500",
    "--batch",
    "20",
    "--epochs",
    "1",
];

const OUTPUTS: [&str; 4] = ["loss.csv", "model.safetensors", "filters.png", "loss.png"];

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `base`, then `--out out --quiet`, then `extra`.
fn run_in(base: &[&str], out: &Path, extra: &[&str]) -> Output {
    let mut args = testing::args_with_out(base, out, &["--quiet"]);
    args.extend(extra.iter().map(|a| a.to_string()));
    testing::run(BIN, &args)
}

fn stdout(o: &Output, what: &str) -> String {
    ok(o, what);
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// `conv-im2col eval --model model` with `flags`.
fn eval(model: &Path, flags: &[&str]) -> Output {
    let mut args = vec!["eval", "--model", s(model)];
    args.extend_from_slice(flags);
    testing::run(BIN, &args)
}

fn summary(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_session_contract() {
    let dir = tempfile::tempdir().unwrap();
    SessionContract {
        bin: BIN,
        short: SHORT,
        long: LONG,
        length: ("--epochs", "2"),
        resume_cmd: &["train"],
        fixed: ("--lr", "0.002"),
    }
    .check_all(dir.path());
}

/// Steps done (`adam_t`) and epochs done of a checkpoint.
fn progress(file: &Path) -> (u64, u64) {
    let ck = shared::checkpoint::load(file, "conv-im2col").unwrap();
    (ck.meta("adam_t").unwrap(), ck.meta("epoch").unwrap())
}

#[test]
fn ctrl_c_within_an_epoch_saves_it_and_the_resumed_run_ends_as_one_never_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let (stopped, whole) = (dir.path().join("stopped"), dir.path().join("whole"));
    let child = Command::new(BIN)
        .args(testing::args_with_out(LONG, &stopped, &["--quiet"]))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first step (the loss curve is written at the end only: watch the lock,
    // then give the data and the first steps time).
    let start = std::time::Instant::now();
    while !stopped.join(".lock").exists() {
        assert!(start.elapsed().as_secs() < 30, "the run did not start");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::thread::sleep(std::time::Duration::from_millis(800));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("--resume"), "{stderr}");
    // Stopped within the only epoch: steps done, no epoch finished.
    let (steps, epochs) = progress(&stopped.join("model.safetensors"));
    assert!((1..150).contains(&steps) && epochs == 0, "{steps} steps");
    let text = std::fs::read_to_string(stopped.join("loss.csv")).unwrap();
    let points = text.lines().filter(|l| l.contains(",loss per step,"));
    assert_eq!(points.count() as u64, steps);
    // `train --resume DIR` continues in DIR, with the stored flags.
    let o = testing::run(BIN, &["train", "--resume", s(&stopped), "--quiet"]);
    let text = stdout(&o, "resume");
    assert!(
        text.starts_with(&format!("resumed from {}", stopped.display())),
        "{text}"
    );
    ok(&run_in(LONG, &whole, &[]), "the run never stopped");
    assert_same_outputs(&stopped, &whole, &OUTPUTS);
}

#[test]
fn a_resumed_run_keeps_its_seed_and_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let (part, whole) = (dir.path().join("part"), dir.path().join("whole"));
    // Seed 2 draws other generated digits, another init and other batches than the default 1:
    // the resume, not told --seed, must take the stored one for all three.
    ok(&run_in(SHORT, &part, &["--seed", "2"]), "1 epoch, seed 2");
    let o = testing::run(
        BIN,
        &["train", "--resume", s(&part), "--epochs", "2", "--quiet"],
    );
    ok(&o, "resumed without --seed");
    let two = [&SHORT[..7], &["--epochs", "2", "--seed", "2"]].concat();
    ok(&run_in(&two, &whole, &[]), "2 epochs, seed 2");
    assert_same_outputs(&part, &whole, &OUTPUTS);
    assert_eq!(summary(&part)["seed"], 2);
}

/// IDX bytes of `images` (784 × N in [0, 1], written as round(255 v)) and their labels.
fn idx(images: &nalgebra::DMatrix<f64>, labels: &[usize]) -> (Vec<u8>, Vec<u8>) {
    let be = |v: &[u32]| -> Vec<u8> { v.iter().flat_map(|x| x.to_be_bytes()).collect() };
    let n = labels.len() as u32;
    let mut img = be(&[0x803, n, 28, 28]);
    img.extend(images.iter().map(|v| (v * 255.0).round() as u8));
    let mut lab = be(&[0x801, n]);
    lab.extend(labels.iter().map(|&l| l as u8));
    (img, lab)
}

/// A folder `dir/name` with `part`-images and labels (plain IDX) of generated digits
/// `from..to` of seed 3.
fn mnist_part(dir: &Path, name: &str, part: &str, from: usize, to: usize) -> PathBuf {
    let set = data::generated(3, to, 1).train;
    let idx_of: Vec<usize> = (from..to).collect();
    let some = set.select(&idx_of);
    let (img, lab) = idx(&some.images, &some.labels);
    let d = dir.join(name);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join(format!("{part}-images-idx3-ubyte")), img).unwrap();
    std::fs::write(d.join(format!("{part}-labels-idx1-ubyte")), lab).unwrap();
    d
}

#[test]
fn eval_gives_a_saved_networks_test_accuracy_and_loss() {
    let dir = tempfile::tempdir().unwrap();
    // Train on t10k images 0..60 of a t10k-only folder, test on 60..80 ...
    let mnist = mnist_part(dir.path(), "mnist", "t10k", 0, 80);
    let run = dir.path().join("run");
    let flags = ["--train-size", "60", "--test-size", "20", "--batch", "10"];
    let args = [
        &["train", "--mnist", s(&mnist)][..],
        &flags,
        &["--epochs", "3"],
    ]
    .concat();
    ok(&run_in(&args, &run, &[]), "train");
    let test_accuracy = summary(&run)["test_accuracy"].as_f64().unwrap();
    // ... then eval on a folder holding just those 20 test images: the run's test accuracy.
    let test = mnist_part(dir.path(), "test", "t10k", 60, 80);
    let o = eval(&run, &["--mnist", s(&test)]);
    let text = stdout(&o, "eval");
    let lines: Vec<&str> = text.lines().collect();
    let model = run.join("model.safetensors");
    assert!(
        lines[0].starts_with(&format!("model: {} (SimpleConvNet", model.display()))
            && lines[0].contains("3 epochs (18 steps) on MNIST t10k images 0..60 to train"),
        "{text}"
    );
    assert_eq!(
        lines[1],
        format!("data: all 20 t10k images of {}", test.display())
    );
    let right = (test_accuracy * 20.0).round();
    let want = format!("test accuracy {test_accuracy:.4} ({right} of 20 right), loss ");
    assert!(lines[2].starts_with(&want), "{text}\nwant {want}");
    // The loss is the notes layer's softmax-with-loss on those images.
    let set = data::mnist_test(&test).unwrap();
    let net = load_net(&model).unwrap().to_model().unwrap();
    let loss = net.loss(&set.images, &set.labels);
    assert!(
        lines[2].ends_with(&format!("loss {loss:.4} nats per image")),
        "{text}"
    );
    assert!(loss.is_finite() && loss > 0.0);
    // The model file itself, and a network saved without a training record.
    let o = eval(&model, &["--mnist", s(&test)]);
    assert_eq!(stdout(&o, "eval FILE"), text);
    let bare = dir.path().join("bare.safetensors");
    save_net(&load_net::<f64>(&model).unwrap(), &bare).unwrap();
    let o = eval(&bare, &["--mnist", s(&test)]);
    let bare_text = stdout(&o, "eval of a bare network");
    assert!(
        bare_text
            .lines()
            .next()
            .unwrap()
            .ends_with("; no training record)")
    );
    assert_eq!(bare_text.lines().nth(2), Some(lines[2]));
}

#[test]
fn eval_takes_a_digits_csv_and_refuses_what_the_network_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("digits.csv");
    let line = |k: usize| {
        let mut f: Vec<String> = (0..64)
            .map(|i| ((i * 7 + k * 3) % 17).to_string())
            .collect();
        f.push((k % 10).to_string());
        f.join(",")
    };
    std::fs::write(&csv, (0..30).map(|k| line(k) + "\n").collect::<String>()).unwrap();
    let run = dir.path().join("digits-run");
    let args = [
        "train",
        "--digits",
        s(&csv),
        "--filter-size",
        "3",
        "--epochs",
        "1",
    ];
    ok(&run_in(&args, &run, &[]), "train on the CSV");
    let o = eval(&run, &["--digits", s(&csv)]);
    let text = stdout(&o, "eval --digits");
    assert!(
        text.contains(&format!("data: all 30 images of {}", csv.display())),
        "{text}"
    );
    assert!(text.contains(" of 30 right), loss "), "{text}");
    // A 28×28 network on 8×8 images, and 8×8 on 28×28: one error line naming the flag.
    let big = dir.path().join("big-run");
    ok(&run_in(SHORT, &big, &[]), "a 28×28 network");
    let o = eval(&big, &["--digits", s(&csv)]);
    assert_user_error(&o, "8×8 images", &["--digits", "8×8", "1×28×28"]);
    let mnist = mnist_part(dir.path(), "mnist", "t10k", 0, 5);
    let o = eval(&run, &["--mnist", s(&mnist)]);
    assert_user_error(&o, "28×28 images", &["--mnist", "28×28", "1×8×8"]);
    // No model there; no images given; a folder without t10k files.
    let none = dir.path().join("no-run");
    let o = eval(&none, &["--digits", s(&csv)]);
    assert_user_error(&o, "a missing model", &["--model", "no-run"]);
    let o = eval(&run, &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("<--mnist <DIR>|--digits <FILE>>"),
        "{stderr}"
    );
    let o = eval(&run, &["--mnist", s(&run)]);
    assert_user_error(&o, "no t10k files", &["t10k-images"]);
}

#[test]
fn mnist_with_both_parts_trains_on_all_of_train_and_tests_on_all_of_t10k() {
    let dir = tempfile::tempdir().unwrap();
    let mnist = mnist_part(dir.path(), "full", "train", 0, 50);
    mnist_part(dir.path(), "full", "t10k", 50, 70);
    let run = dir.path().join("run");
    let args = [
        "train",
        "--mnist",
        s(&mnist),
        "--batch",
        "25",
        "--epochs",
        "1",
    ];
    let text = stdout(&run_in(&args, &run, &[]), "train on both parts");
    let split = "MNIST train images 0..50 to train, t10k images 0..20 to test (of 50 and 20)";
    assert!(
        text.starts_with(&format!("data: {split}; 28×28 images")),
        "{text}"
    );
    let v = summary(&run);
    assert_eq!(v["data"], split);
    assert_eq!(v["steps"], 2);
    // A folder with t10k only keeps the 8000 / 2000 split (here: 4:1 of what it holds) and
    // says so.
    let t10k = mnist_part(dir.path(), "t10k-only", "t10k", 0, 20);
    let run = dir.path().join("t10k-run");
    let args = [
        "train",
        "--mnist",
        s(&t10k),
        "--batch",
        "25",
        "--epochs",
        "1",
    ];
    let text = stdout(&run_in(&args, &run, &[]), "train on t10k only");
    let split = "MNIST t10k images 0..16 to train, 16..20 to test (it holds 20: split 4:1); \
                 no train-* images in the folder, so t10k is split in two";
    assert!(text.starts_with(&format!("data: {split};")), "{text}");
    assert_eq!(summary(&run)["data"], split);
}

#[test]
fn size_flags_are_checked_against_the_memory_before_anything_is_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let huge = "1000000000000000000";
    let cases: [(&[&str], &str); 4] = [
        (&["--train-size", "20000000"], "--train-size"),
        (&["--train-size", huge], "--train-size"),
        (&["--test-size", huge], "--test-size"),
        (&["--batch", huge, "--sampling", "replacement"], "--batch"),
    ];
    for (flags, flag) in cases {
        let o = run_in(&[&["train"][..], flags].concat(), &out, &[]);
        assert_user_error(&o, &format!("{flags:?}"), &[flag, "would need about"]);
        let left = std::fs::read_dir(&out).map_or(0, |d| d.count());
        assert_eq!(left, 0, "{flags:?} wrote into --out");
    }
    // A batch larger than the training set, shuffled, is the whole set: it trains.
    let args = [&SHORT[..5], &["--batch", huge, "--epochs", "1"]].concat();
    let text = stdout(&run_in(&args, &out, &[]), "a batch of the whole set");
    assert!(text.contains("epoch 1: mean loss"), "{text}");
    assert_eq!(summary(&out)["steps"], 1);
    // Sizes beyond a t10k-only folder (their sum overflows): all of it, split 4:1.
    let t10k = mnist_part(dir.path(), "t10k", "t10k", 0, 10);
    let max = u64::MAX.to_string();
    let args = [
        "train",
        "--mnist",
        s(&t10k),
        "--train-size",
        &max,
        "--test-size",
        &max,
    ];
    let text = stdout(&run_in(&args, &dir.path().join("max"), &[]), "u64::MAX");
    assert!(
        text.contains("images 0..8 to train, 8..10 to test"),
        "{text}"
    );
}

#[test]
fn an_f32_run_resumes_in_f32_to_the_bit_and_evaluates_in_f32() {
    let dir = tempfile::tempdir().unwrap();
    let mnist = mnist_part(dir.path(), "mnist", "t10k", 0, 80);
    let (part, whole) = (dir.path().join("part"), dir.path().join("whole"));
    let flags = ["--train-size", "60", "--test-size", "20", "--batch", "10"];
    let args = |epochs| {
        let head = [
            "train",
            "--mnist",
            s(&mnist),
            "--dtype",
            "f32",
            "--epochs",
            epochs,
        ];
        [&head[..], &flags].concat()
    };
    ok(&run_in(&args("1"), &part, &[]), "1 epoch in f32");
    let o = testing::run(
        BIN,
        &["train", "--resume", s(&part), "--epochs", "2", "--quiet"],
    );
    ok(&o, "resumed in f32");
    ok(&run_in(&args("2"), &whole, &[]), "2 epochs in f32");
    assert_same_outputs(&part, &whole, &["loss.csv", "model.safetensors"]);
    let model = whole.join("model.safetensors");
    let ck = shared::checkpoint::load(&model, "conv-im2col").unwrap();
    assert_eq!(ck.meta_str("dtype").unwrap(), "f32");
    // Its dtype is a flag of the run: a resume may not change it.
    let o = testing::run(
        BIN,
        &[
            "train",
            "--resume",
            s(&part),
            "--epochs",
            "3",
            "--dtype",
            "f64",
        ],
    );
    assert_user_error(&o, "resume an f32 run in f64", &["--dtype", "f32"]);
    // eval reads the f32 network and scores the run's test images as the run did.
    let test = mnist_part(dir.path(), "test", "t10k", 60, 80);
    let text = stdout(
        &eval(&whole, &["--mnist", s(&test)]),
        "eval of an f32 model",
    );
    assert!(
        text.lines().next().unwrap().contains("parameters, f32;"),
        "{text}"
    );
    let test_accuracy = summary(&whole)["test_accuracy"].as_f64().unwrap();
    let right = (test_accuracy * 20.0).round();
    let want = format!("test accuracy {test_accuracy:.4} ({right} of 20 right)");
    assert!(text.contains(&want), "{text}\nwant {want}");
}
