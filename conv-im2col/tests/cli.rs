//! The command line: figure 15's printout, a tiny training run writing every output (the bare
//! command is `train`), and bad input ending with exit code 2 and one `error:` line.

use std::process::Command;

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_conv-im2col"))
}

#[test]
fn example_prints_figure_15() {
    let out = cli().arg("example").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("9 × 75"), "{text}");
    assert!(text.contains("    0   1   2   3   4   7   8   9  10  11  14  15  16"));
    assert!(text.contains("pixel 22 (channel 0, row 3, column 1) appears 6 times"));
    assert!(text.contains("dx[22] = (-0.53) + 0.77 + 0.05 + 0.03 + 0.29 + (-0.29) = 0.32"));
}

#[test]
fn a_tiny_training_run_writes_its_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli()
        .args([
            "train",
            "--train-size",
            "200",
            "--test-size",
            "50",
            "--epochs",
            "1",
        ])
        .args(["--batch", "50", "--quiet", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("epoch 1: mean loss"), "{text}");
    assert!(text.contains("linear softmax baseline"), "{text}");
    // The last line lists every file the run wrote.
    let wrote = format!(
        "wrote {}/{{model.safetensors, loss.png, loss.csv, filters.png, summary.json}}",
        dir.path().display()
    );
    assert_eq!(text.lines().last(), Some(wrote.as_str()), "{text}");
    for f in [
        "loss.png",
        "loss.csv",
        "filters.png",
        "model.safetensors",
        "summary.json",
    ] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["chapter"], "conv-im2col");
    assert_eq!(summary["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(summary["flags"]["train_size"], 200);
    assert_eq!(summary["flags"]["lr"], 1e-3);
    assert_eq!(summary["flags"]["init"], "std");
    assert_eq!(summary["steps"], 4);
    assert!(summary["test_accuracy"].as_f64().unwrap() >= 0.0);
    assert!((summary["figure15_pixel22_gradient"].as_f64().unwrap() - 0.32).abs() < 1e-12);
}

fn fails_with(args: &[&str], needle: &str) {
    let out = cli().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(needle), "{args:?}: {err}");
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    fails_with(&["train", "--epochs", "0"], "--epochs");
    fails_with(
        &["train", "--lr=-1", "--out", out],
        "-1 is not a positive number",
    );
    fails_with(
        &["train", "--mnist", "/nonexistent/mnist", "--out", out],
        "error: ",
    );
    let bad = dir.path().join("digits.csv");
    std::fs::write(&bad, "1,2,3\n").unwrap();
    fails_with(
        &["train", "--digits", bad.to_str().unwrap(), "--out", out],
        "digits.csv",
    );
    fails_with(
        &["train", "--mnist", "a", "--digits", "b"],
        "cannot be used with",
    );
}

#[test]
fn train_is_the_bare_command() {
    let dir = tempfile::tempdir().unwrap();
    let tiny = ["--train-size", "40", "--test-size", "10", "--batch", "20"];
    let (bare, train) = (dir.path().join("bare"), dir.path().join("train"));
    for (out, cmd) in [(&bare, &[][..]), (&train, &["train"][..])] {
        let o = cli()
            .args(cmd)
            .args(tiny)
            .args(["--epochs", "1", "--quiet", "--out"])
            .arg(out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let files = ["loss.csv", "model.safetensors", "filters.png", "loss.png"];
    shared::testing::assert_same_outputs(&bare, &train, &files);
}
