//! The real binary against bad flags, an unwritable `--out`, a huge learning rate, concurrent
//! and repeated runs (issue 12). The chapter reads no files: its data are XOR's four rows.

use shared::testing::{self, assert_same_outputs, assert_user_error};
use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_backprop-xor");

/// A short training run writing to `out`, plus `extra` flags.
fn short(out: &Path, extra: &[&str]) -> Vec<String> {
    testing::args_with_out(&["--quiet", "--iterations", "2000"], out, extra)
}

#[test]
fn flag_values_out_of_range_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for (flag, value) in [
        ("--layers", "3,0,1"),
        ("--layers", "3,4,0"),
        ("--layers", "0"),
        ("--layers", "3"),
        ("--layers", "2,4,1"),
        ("--layers", "3,4,2"),
        ("--layers", "3,,1"),
        ("--layers", "3,-4,1"),
        ("--iterations", "0"),
        ("--report-every", "0"),
        ("--lr", "-1"),
        ("--lr", "0"),
        ("--lr", "NaN"),
        ("--lr", "inf"),
        ("--rng", "mersenne"),
        ("--seed", "4294967296"),
        ("--seed", "-1"),
    ] {
        let what = format!("{flag}={value}");
        let o = testing::run(BIN, &short(&out, &[&what]));
        assert_user_error(&o, &what, &[flag]);
    }
    assert!(!out.exists(), "a bad flag is refused before --out is made");
}

#[test]
fn an_out_that_cannot_be_written_is_refused_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-regular-file");
    std::fs::write(&file, b"x").unwrap();
    for cmd in [
        None,
        Some("chain-rule"),
        Some("simple-nets"),
        Some("digits"),
    ] {
        for (what, out) in [
            ("--out is a file", file.clone()),
            ("--out under a file", file.join("runs")),
        ] {
            let mut args: Vec<String> = cmd.iter().map(|c| c.to_string()).collect();
            args.extend(["--quiet".into(), "--out".into(), out.display().to_string()]);
            let o = testing::run(BIN, &args);
            assert_user_error(&o, &format!("{cmd:?}: {what}"), &["a-regular-file"]);
        }
    }
}

#[test]
fn a_huge_learning_rate_saturates_instead_of_diverging() {
    // The error is a mean of |t − σ(…)| ∈ [0, 1]: a step of α = 1e308 drives every sigmoid to 0
    // or 1, where X(1 − X) = 0 stops the gradient, so the weights stay finite and the run ends
    // normally at the useless error 0.5 (no false "diverged" report, no NaN in the outputs).
    let dir = tempfile::tempdir().unwrap();
    for layers in ["3,4,1", "3,8,8,1"] {
        let out = dir.path().join(layers);
        let o = testing::run(BIN, &short(&out, &["--lr", "1e308", "--layers", layers]));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let s = testing::summary_without_timing(&out.join("summary.json"));
        let err = s["final_error"].as_f64().unwrap();
        assert!(err.is_finite() && err > 0.25, "{layers}: {err}");
        let csv = std::fs::read_to_string(out.join("loss.csv")).unwrap();
        assert!(!csv.contains("NaN") && !csv.contains("inf"), "{csv}");
    }
}

#[test]
fn the_same_seed_gives_the_same_outputs_and_concurrent_runs_do_not_interfere() {
    let dir = tempfile::tempdir().unwrap();
    for (rng, layers) in [("numpy", "3,4,1"), ("chacha", "3,6,5,1")] {
        let flags = ["--rng", rng, "--layers", layers, "--seed", "5"];
        let (a, b) = (
            dir.path().join(format!("{rng}-a")),
            dir.path().join(format!("{rng}-b")),
        );
        let mut ca = Command::new(BIN)
            .args(short(&a, &flags))
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut cb = Command::new(BIN)
            .args(short(&b, &flags))
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        assert!(ca.wait().unwrap().success() && cb.wait().unwrap().success());
        assert_same_outputs(&a, &b, &["loss.csv", "loss.png", "model.safetensors"]);
    }
    for cmd in ["chain-rule", "simple-nets"] {
        let (a, b) = (
            dir.path().join(format!("{cmd}-a")),
            dir.path().join(format!("{cmd}-b")),
        );
        for out in [&a, &b] {
            let o = testing::run(BIN, &[cmd, "--quiet", "--out", out.to_str().unwrap()]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        let files: &[&str] = if cmd == "simple-nets" {
            &["loss.csv", "loss.png"]
        } else {
            &[]
        };
        assert_same_outputs(&a, &b, files);
    }
}
