//! The binary end to end: `partition` prints the notes' numbers, training writes its outputs,
//! bad input ends with exit code 2 and one `error:` line.

#![allow(non_snake_case)]

use std::process::{Command, Output};

fn rbm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rbm"))
        .args(args)
        .output()
        .unwrap()
}

/// `rbm partition <args>`, writing into a temporary folder.
fn partition(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("partition");
    let mut all = vec!["partition", "--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    rbm(&all)
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The number after the last '=' of the first line starting with `prefix`.
fn value(text: &str, prefix: &str) -> f64 {
    let line = text.lines().find(|l| l.starts_with(prefix)).unwrap();
    line.rsplit('=').next().unwrap().trim().parse().unwrap()
}

#[test]
fn partition_prints_the_notes_table_and_z() {
    let text = stdout(&partition(&[]));
    // The H = (0,0) row: 1 + e⁰ = 2 three times, product 8.
    let row = text.lines().find(|l| l.starts_with("(0,0)")).unwrap();
    assert!(row.ends_with(" 8.0000000000"), "{row}");
    assert!(row.contains("2.0000   2.0000   2.0000"), "{row}");
    let closed = value(&text, "Z (notes");
    let brute = value(&text, "Z (brute force");
    assert!((closed - 38.4144736197).abs() < 1e-10, "{closed}");
    assert!((brute - 38.4144736197).abs() < 1e-10, "{brute}");
    assert!((value(&text, "log Z") - 3.6484343058).abs() < 1e-10);
    let p000 = text.lines().find(|l| l.starts_with("000 |")).unwrap();
    assert!(p000.contains("0.1041274193"), "{p000}");
}

#[test]
fn partition_with_biases_reproduces_vector_c() {
    // Reference vector C, W given there as n_v × n_h, here row by row as n_h × n_v.
    let text = stdout(&partition(&[
        "--visible",
        "3",
        "--hidden",
        "2",
        "--weights",
        "1,0.5,-1,-2,0,1.5",
        "--visible-bias",
        "0.1,-0.2,0.3",
        "--hidden-bias",
        "-0.5,0.2",
    ]));
    assert!((value(&text, "Z (notes") - 43.4383521993).abs() < 1e-9);
    assert!((value(&text, "Z (brute force") - 43.4383521993).abs() < 1e-9);
    assert!((value(&text, "log Z") - 3.7713427421).abs() < 1e-9);
}

fn fails_with(args: &[&str], want: &str) {
    let out = rbm(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains(want), "{args:?}: {err}");
}

#[test]
fn bad_input_is_a_one_line_error() {
    fails_with(
        &["partition", "--weights", "1,2"],
        "error: --weights: 2 values given, 6 needed",
    );
    fails_with(
        &["partition", "--visible", "17"],
        "error: --visible: 17 visible units: need 1 to 16",
    );
    fails_with(&["--hidden", "0"], "--hidden");
    fails_with(&["--k", "0"], "--k");
    fails_with(
        &["--lr", "-0.1"],
        "error: invalid value '-0.1' for '--lr <LR>': -0.1 is not a positive number",
    );
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.csv");
    let out = dir.path().join("out");
    let (m, o) = (missing.to_str().unwrap(), out.to_str().unwrap());
    fails_with(&["--digits", m, "--out", o], "nope.csv");
    fails_with(&["--mnist", m, "--out", o], "nope.csv");
    // 5 × 5 bars: 25 visible units, and 30 hidden: neither layer can be enumerated.
    fails_with(
        &["--side", "5", "--hidden", "30", "--out", o],
        "error: --hidden: 30 hidden and 25 visible units: the exact log Z",
    );
}

#[test]
fn a_short_bars_run_writes_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let text = stdout(&rbm(&[
        "--epochs",
        "15",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(text.contains("optimum -3.4012"), "{text}");
    for f in [
        "loss.png",
        "loss.csv",
        "samples.png",
        "filters.png",
        "model.safetensors",
        "summary.json",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let (ll, base) = (
        s["final_train_ll"].as_f64().unwrap(),
        s["baseline_train_ll"].as_f64().unwrap(),
    );
    // CD-20 leaves the saddle at W ≈ 0 after about 6 epochs: −11.09 → −7.91 at epoch 15
    // (ε annealed over these 15 epochs).
    assert!(ll > base + 2.0, "{base} → {ll}");
    assert_eq!(s["n_h"], 16);
    let mut ck = shared::checkpoint::load(out.join("model.safetensors"), "rbm").unwrap();
    let W = ck.take("W", 16, 16).unwrap();
    assert!(W.iter().all(|w| w.is_finite()));
    // loss.csv: a header, then epochs 0..=15 of 6 curves (train, held-out, optimum line,
    // distance to the optimum, reconstruction error, free-energy gap).
    let csv = std::fs::read_to_string(out.join("loss.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 6 * 16, "{csv}");
}

#[test]
fn digits_csv_by_flag() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("digits.csv");
    // 40 made-up 8 × 8 "digits": a vertical stroke whose column depends on the label.
    let mut text = String::new();
    for n in 0..40usize {
        let label = n % 4;
        let px: Vec<String> = (0..64)
            .map(|p| if p % 8 == 2 + label { "16" } else { "0" }.to_string())
            .collect();
        text.push_str(&format!("{},{label}\n", px.join(",")));
    }
    std::fs::write(&csv, text).unwrap();
    let out = dir.path().join("run");
    let (c, o) = (csv.to_str().unwrap(), out.to_str().unwrap());
    let printed = stdout(&rbm(&[
        "--digits", c, "--train", "30", "--epochs", "20", "--hidden", "4", "--quiet", "--out", o,
    ]));
    assert!(printed.contains("n_v = 64, n_h = 4, CD-1"), "{printed}");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let (ll, base) = (
        s["final_test_ll"].as_f64().unwrap(),
        s["baseline_test_ll"].as_f64().unwrap(),
    );
    // Four equally likely strokes: the optimum is −ln 4 = −1.39 nats; independent pixels
    // pay 4 × ln 4 ≈ −5.5.
    assert!(ll > base + 2.0, "{base} → {ll}");
    let o = dir.path().join("all-forty");
    let o = o.to_str().unwrap();
    fails_with(
        &["--digits", c, "--train", "40", "--out", o],
        "error: --train: 40 leaves none",
    );
}
