//! Learning: with a fixed seed the network learns every 8-bit sum and generalises to wider
//! ones; the binary's default run prints trask's numbers and saves a model that loads back.

#![allow(non_snake_case)]

use rnn_adder::{
    Adder, Cost, Draws, RngKind, Sequence, accuracy_all_pairs, accuracy_on, checkpoint,
    random_pairs,
};
use shared::rng;
use std::process::Command;

/// The training loop of `main.rs` with the draws of `--rng kind --seed seed`.
fn train_with(kind: RngKind, seed: u64, cost: Cost, iterations: u64) -> Adder {
    let mut draws = Draws::new(kind, seed).unwrap();
    let mut model = draws.model(16);
    let (mut seq, mut cache, mut g) = (Sequence::new(8), model.cache(8), model.grads());
    for _ in 0..iterations {
        let (a, b) = draws.pair(8);
        seq.set(a, b);
        model.train_step(&seq, cost, 0.1, &mut cache, &mut g);
    }
    model
}

/// ChaCha8 streams of `seed` (0 for the weights, 1 for the data).
fn train(seed: u64, cost: Cost, iterations: u64) -> Adder {
    train_with(RngKind::Chacha, seed, cost, iterations)
}

#[test]
fn seed_1_learns_every_8_bit_sum_and_generalises_to_wider_ones() {
    let untrained = Adder::new(16, &mut rng::stream(1, 0));
    assert!(accuracy_all_pairs(&untrained, 8).fraction() < 0.01);
    let model = train(1, Cost::L2, 10_000);
    let all = accuracy_all_pairs(&model, 8);
    assert_eq!((all.correct, all.total), (16_384, 16_384));
    // The notes: trained on 7-bit numbers, the RNN also adds 10-bit ones. Bound: ≥ 99 % of
    // 2,000 random pairs at 10, 16 and 32 bits (seed 1 gets all of them right).
    let mut r = rng::seeded(99);
    for bits in [10, 16, 32] {
        let acc = accuracy_on(&model, bits, &random_pairs(bits, 2000, &mut r));
        assert!(acc.fraction() >= 0.99, "{bits}-bit sums: {acc:?}");
    }
}

#[test]
fn the_logistic_cost_learns_faster() {
    // Without the y(1 − y) factor the output error is not damped: seed 1 gets every sum right
    // after 4,000 examples (the L² cost needs about 7,000 with this seed).
    let logistic = train(1, Cost::Logistic, 4000);
    assert_eq!(accuracy_all_pairs(&logistic, 8).correct, 16_384);
    let l2 = train(1, Cost::L2, 4000);
    assert!(accuracy_all_pairs(&l2, 8).fraction() < 0.5);
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rnn-adder"))
}

/// trask's post, "Runtime Output" (numpy, np.random.seed(0)): every 1000 examples his error
/// `Error:[ 3.45638663]` and `a + b = prediction`.
const BLOG: [(u64, &str, u64, u64, u64); 10] = [
    (0, "3.45638663", 9, 60, 1),
    (1000, "3.63389116", 28, 35, 255),
    (2000, "3.91366595", 116, 44, 72),
    (3000, "3.72191702", 4, 73, 223),
    (4000, "3.5852713", 71, 11, 8),
    (5000, "2.53352328", 81, 113, 162),
    (6000, "0.57691441", 81, 0, 81),
    (7000, "1.42589952", 4, 125, 129),
    (8000, "0.47477457", 39, 17, 56),
    (9000, "0.21595037", 11, 3, 14),
];

#[test]
fn the_default_run_prints_trasks_numbers_reaches_100_percent_and_saves_the_model() {
    let dir = tempfile::tempdir().unwrap();
    // The default training; fewer evaluations (they use their own random streams, so the
    // trained weights are those of the plain `cargo run --release -p rnn-adder`).
    let out = bin()
        .args([
            "--quiet",
            "--eval-every",
            "5000",
            "--eval-bits",
            "10",
            "--eval-pairs",
            "2000",
        ])
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Rows: `example  error  pred  true  a + b = pred ✓/✗  accuracy %`.
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| w.len() == 12 && w[0].parse::<u64>().is_ok() && w[5] == "+")
        .collect();
    assert_eq!(rows.len(), 11, "{stdout}");
    for (row, (it, error, a, b, pred)) in rows.iter().zip(BLOG) {
        let num = |i: usize| row[i].parse::<u64>().unwrap();
        // numpy printed 8 decimals and dropped trailing zeros (3.5852713 is 3.58527130).
        let blog_error = format!("{:.8}", error.parse::<f64>().unwrap());
        assert_eq!(
            (num(0), row[1], num(4), num(6), num(8)),
            (it, blog_error.as_str(), a, b, pred),
            "{stdout}"
        );
    }
    assert!(stdout.contains("16,384 / 16,384 = 100.00 %"), "{stdout}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["accuracy"], 1.0);
    assert_eq!(summary["steps"], 10_000);
    assert_eq!(summary["seed"], 0);
    assert_eq!(summary["rng"], "numpy");
    assert!(summary["accuracy_wider"][0]["accuracy"].as_f64().unwrap() >= 0.99);
    for f in ["loss.png", "loss.csv", "summary.json", "model.safetensors"] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    let saved = checkpoint::load(&dir.path().join("model.safetensors")).unwrap();
    assert_eq!(
        saved.model,
        train_with(RngKind::Numpy, 0, Cost::L2, 10_000),
        "the binary's loop is the library's"
    );
    assert_eq!((saved.bits, saved.cost), (8, Cost::L2));
    assert!(
        stdout.ends_with(&format!(
            "\n\nwrote {}/{{loss.png, loss.csv, summary.json, model.safetensors}}\n",
            dir.path().display()
        )),
        "{stdout}"
    );
}

#[test]
fn trasks_first_weights_and_example() {
    // np.random.seed(0); synapse_0 = 2*np.random.random((2,16)) - 1: its first row is the
    // weights of bit a into the 16 hidden units, W_xh's first column (numpy: 0.09762701,
    // 0.43037873, 0.20552675, …); then synapse_1, synapse_h, and the first example 9 + 60.
    let mut draws = Draws::new(RngKind::Numpy, 0).unwrap();
    let m = draws.model(16);
    for (i, want) in [0.09762701, 0.43037873, 0.20552675].iter().enumerate() {
        assert!((m.W_xh[(i, 0)] - want).abs() < 5e-9, "{}", m.W_xh);
    }
    assert_eq!(draws.pair(8), (9, 60));
    assert!(Draws::new(RngKind::Numpy, 1 << 32).is_err());
}

#[test]
fn a_checkpoint_of_another_chapter_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("other.safetensors");
    let w = nalgebra::DMatrix::<f64>::zeros(2, 2);
    shared::checkpoint::save(&p, "char-rnn", &[("W", &w)], &[]).unwrap();
    let e = checkpoint::load(&p).unwrap_err().to_string();
    assert!(
        e.contains("other.safetensors") && e.contains("char-rnn"),
        "{e}"
    );
}

#[test]
fn bad_flags_are_one_line_errors_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    for (args, says) in [
        (vec!["--hidden", "0"], "--hidden"),
        (
            vec!["--lr", "-1"],
            "error: --lr: -1 is not a positive number",
        ),
        (
            vec!["--lr", "NaN"],
            "error: --lr: NaN is not a positive number",
        ),
        (vec!["--bits", "1"], "--bits"),
        (vec!["--eval-bits", "10,65"], "--eval-bits"),
        (vec!["--cost", "l1"], "--cost"),
        (vec!["--seed", "4294967296"], "--seed"),
    ] {
        let out = bin()
            .args(&args)
            .arg("--out")
            .arg(dir.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let out = bin().arg("--out").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: --out:"));
}

#[test]
fn example_6_1_subcommand_prints_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .arg("example-6-1")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("0.0139341803") && text.contains("0.0139200000"),
        "{text}"
    );
}
