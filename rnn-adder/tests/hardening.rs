//! The real binary against bad input, divergence, concurrent runs and repeated runs:
//! every failure is one `error:` line naming the flag or path, exit code 2, and never a panic.

use shared::testing::{self, assert_same_outputs, assert_user_error};
use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_rnn-adder");

mod common;

/// A short, cheap training run (few evaluations) writing to `out`, plus `extra` flags.
fn short<'a>(out: &'a Path, extra: &[&'a str]) -> Vec<String> {
    let quiet = [&["--quiet"][..], &common::SHORT].concat();
    testing::args_with_out(&quiet, out, extra)
}

#[test]
fn flag_values_out_of_range_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for (flag, value) in [
        ("--hidden", "0"),
        ("--hidden", "-3"),
        ("--bits", "1"),
        ("--bits", "65"),
        ("--iterations", "0"),
        ("--lr", "-1"),
        ("--lr", "0"),
        ("--lr", "NaN"),
        ("--lr", "inf"),
        ("--lr", "fast"),
        ("--eval-bits", "10,1"),
        ("--eval-bits", "65"),
        ("--eval-pairs", "0"),
        ("--report-every", "0"),
        ("--eval-every", "0"),
        ("--cost", "l1"),
        ("--rng", "mersenne"),
        // numpy's seeds are 32-bit; ChaCha takes any u64, but not a negative one.
        ("--seed", "4294967296"),
        ("--seed", "-1"),
    ] {
        // `--flag=value`: a separate `-3` would be read as an unknown flag by clap.
        let what = format!("{flag}={value}");
        let o = testing::run(BIN, &short(&out, &[&what]));
        assert_user_error(&o, &what, &[flag]);
    }
}

#[test]
fn an_out_that_cannot_be_written_is_refused_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-regular-file");
    std::fs::write(&file, b"x").unwrap();
    let o = testing::run(BIN, &short(&file, &[]));
    assert_user_error(&o, "--out is a file", &["--out", "a-regular-file"]);
    let under = file.join("runs");
    let o = testing::run(BIN, &short(&under, &[]));
    assert_user_error(&o, "--out under a file", &["a-regular-file"]);
}

#[test]
fn divergence_stops_with_the_step_and_keeps_the_curves() {
    // A huge α saturates every sigmoid in one step: the outputs are exactly 0 or 1, the L²
    // cost's δ = (t − y)·y(1 − y) is 0 from then on (the error would stay finite forever) and
    // the logistic cost is infinite. Either way the run stops at step 1.
    let dir = tempfile::tempdir().unwrap();
    for (cost, lr) in [("l2", "1e300"), ("l2", "1e6"), ("logistic", "1e308")] {
        let out = dir.path().join(format!("{cost}-{lr}"));
        let o = testing::run(BIN, &short(&out, &["--cost", cost, "--lr", lr]));
        let what = format!("--cost {cost} --lr {lr}");
        assert_user_error(
            &o,
            &what,
            &["training diverged at step 1:", "saturated", "--lr"],
        );
        let csv = std::fs::read_to_string(out.join("loss.csv")).unwrap();
        assert!(
            csv.lines().count() > 1,
            "the curve up to the divergence: {csv}"
        );
        assert!(!csv.contains("NaN") && !csv.contains("inf"), "{csv}");
        assert!(out.join("loss.png").is_file());
        assert!(
            !out.join("model.safetensors").exists(),
            "no model of diverged weights"
        );
    }
    // α = 10 is too large for trask's net but it does not saturate it: the run goes on.
    let out = dir.path().join("lr-10");
    let o = testing::run(BIN, &short(&out, &["--lr", "10"]));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn the_same_seed_gives_the_same_outputs_and_concurrent_runs_do_not_interfere() {
    let dir = tempfile::tempdir().unwrap();
    for rng in ["numpy", "chacha"] {
        let (a, b) = (
            dir.path().join(format!("{rng}-a")),
            dir.path().join(format!("{rng}-b")),
        );
        // Both at once, in different folders.
        let mut ca = Command::new(BIN)
            .args(short(&a, &["--rng", rng, "--seed", "7"]))
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut cb = Command::new(BIN)
            .args(short(&b, &["--rng", rng, "--seed", "7"]))
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        assert!(ca.wait().unwrap().success() && cb.wait().unwrap().success());
        assert_same_outputs(&a, &b, &["loss.csv", "loss.png", "model.safetensors"]);
    }
    // The generators differ, and another seed gives other weights.
    let c = dir.path().join("other-seed");
    let o = testing::run(BIN, &short(&c, &["--rng", "numpy", "--seed", "8"]));
    assert!(o.status.success());
    let model = |d: &str| std::fs::read(dir.path().join(d).join("model.safetensors")).unwrap();
    assert_ne!(model("numpy-a"), model("chacha-a"));
    assert_ne!(model("numpy-a"), model("other-seed"));
}
