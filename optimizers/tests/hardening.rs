//! The real binary against bad `--csv` files, flags out of range, an unwritable `--out`,
//! divergence, concurrent and repeated runs (issue 12): every failure is one `error:` line
//! naming the file or flag, exit code 2, and never a panic.

use shared::testing::{self, assert_same_outputs, assert_user_error};
use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_optimizers");

/// A short run (a few epochs) writing to `out`, plus `extra` flags.
fn short(out: &Path, extra: &[&str]) -> Vec<String> {
    testing::args_with_out(
        &["--quiet", "--epochs", "150", "--print-every", "50"],
        out,
        extra,
    )
}

#[test]
fn bad_csv_files_are_one_line_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut cases = testing::bad_files(dir.path());
    let write = |name: &str, text: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    // A file cut in the middle of a line, a label other than 0/1, a single class, a value that
    // is not a number, a header alone.
    cases.push((
        "a truncated CSV",
        write("truncated.csv", b"x1,x2,label\n0.1,0.2,1\n0.3,0."),
    ));
    cases.push((
        "a label of 7",
        write("label-seven.csv", b"0.1,0.2,1\n0.3,0.4,7\n"),
    ));
    cases.push((
        "one class",
        write("one-class.csv", b"x1,x2,label\n0.1,0.2,1\n0.3,0.4,1\n"),
    ));
    cases.push(("not a number", write("nan.csv", b"0.1,0.2,1\n0.3,NaN,0\n")));
    cases.push(("a header alone", write("header-only.csv", b"x1,x2,label\n")));
    for (what, path) in cases {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let o = testing::run(BIN, &short(&out, &["--csv", path.to_str().unwrap()]));
        assert_user_error(&o, what, &[&name]);
    }
}

#[test]
fn flag_values_out_of_range_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for (flag, value) in [
        ("--lr", "-1"),
        ("--lr", "0"),
        ("--lr", "NaN"),
        ("--epochs", "0"),
        ("--batch-size", "0"),
        ("--samples", "1"),
        ("--beta", "1"),
        ("--beta1", "-0.1"),
        ("--beta2", "1.5"),
        ("--epsilon", "0"),
        ("--noise", "-1"),
        ("--decay-rate", "-1"),
        ("--time-interval", "0"),
        ("--print-every", "0"),
        ("--optimizer", "sgdd"),
        ("--optimizer", "gd,,adam"),
        ("--adam-eps", "between"),
        ("--lr-decay", "sometimes"),
        ("--rng", "mersenne"),
        ("--seed", "4294967296"),
    ] {
        let what = format!("{flag}={value}");
        let o = testing::run(BIN, &short(&out, &[&what]));
        assert_user_error(&o, &what, &[flag]);
    }
    // A negative value after a space is the flag's value, refused by name (clap alone said
    // "unexpected argument '-0' found" for `--beta -0.5`; the sweep of issue 19).
    for (flag, value, says) in [
        ("--beta", "-0.5", "must be in [0, 1)"),
        ("--decay-rate", "-1", "≥ 0"),
        ("--noise", "-1", "≥ 0"),
        ("--time-interval", "-1", "invalid value '-1'"),
        ("--lr", "-0.001", "not a positive number"),
    ] {
        let o = testing::run(BIN, &short(&out, &[flag, value]));
        assert_user_error(&o, &format!("{flag} {value}"), &[flag, says]);
    }
}

#[test]
fn the_experiments_flags_out_of_range_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    for (cmd, flag, value) in [
        ("batch-size", "--batch-sizes", "0"),
        ("batch-size", "--batch-sizes", "64,x"),
        ("batch-size", "--lr", "0"),
        ("batch-size", "--lr", "0.1,0.2"),
        ("batch-size", "--tol", "-1"),
        ("batch-size", "--epochs", "0"),
        ("batch-size", "--seed", "4294967296"),
        ("momentum", "--betas", "1"),
        ("momentum", "--betas", "-0.5"),
        ("momentum", "--lr", "nan"),
        ("momentum", "--steps", "0"),
    ] {
        let what = format!("{cmd} {flag}={value}");
        let arg = format!("{flag}={value}");
        let o = testing::run(BIN, &[cmd, &arg, "--quiet", "--out", out]);
        assert_user_error(&o, &what, &[flag]);
    }
}

#[test]
fn an_out_that_cannot_be_written_is_refused_for_both_commands() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-regular-file");
    std::fs::write(&file, b"x").unwrap();
    for out in [file.clone(), file.join("runs")] {
        let o = testing::run(BIN, &short(&out, &[]));
        assert_user_error(&o, "train --out", &["a-regular-file"]);
        let o = testing::run(BIN, &["paths", "--out", out.to_str().unwrap()]);
        assert_user_error(&o, "paths --out", &["a-regular-file"]);
    }
}

#[test]
fn divergence_stops_with_the_step_keeps_the_curves_and_the_models_before_it() {
    // α = 100: gradient descent's ReLUs die and its cost stays at a number a probability can
    // have (11–14 per example), so its model is written; Adam's first steps of size ≈ α drive
    // Z3 to ±1e5, a cost of 1e5 per example (beyond −ln of the smallest f64, 744.44) in epoch 0.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = testing::run(
        BIN,
        &short(&out, &["--optimizer", "gd,adam", "--lr", "100"]),
    );
    assert_user_error(&o, "--lr 100", &["training diverged at step 0", "744.44"]);
    let csv = std::fs::read_to_string(out.join("loss.csv")).unwrap();
    assert!(csv.lines().count() > 1, "gd's curve is kept: {csv}");
    assert!(!csv.contains("NaN"), "{csv}");
    assert!(out.join("loss.png").is_file());
    let mut ck = shared::checkpoint::load(out.join("model-gd.safetensors"), "optimizers").unwrap();
    assert!(ck.take("W1", 5, 2).unwrap().iter().all(|w| w.is_finite()));
    assert!(!out.join("model-adam.safetensors").exists());
    assert!(!out.join("summary.json").exists());
}

#[test]
fn the_same_seed_gives_the_same_outputs_and_concurrent_runs_do_not_interfere() {
    let dir = tempfile::tempdir().unwrap();
    let flags = ["--seed", "4", "--optimizer", "gd,adam,rmsprop"];
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
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
    let mut files = vec!["loss.csv".to_string(), "loss.png".to_string()];
    for rule in ["gd", "adam", "rmsprop"] {
        files.push(format!("model-{rule}.safetensors"));
        files.push(format!("boundary-{rule}.png"));
    }
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    assert_same_outputs(&a, &b, &files);
    // `paths` twice.
    let (p, q) = (dir.path().join("p"), dir.path().join("q"));
    for out in [&p, &q] {
        let o = testing::run(BIN, &["paths", "--out", out.to_str().unwrap()]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_same_outputs(&p, &q, &["paths.csv", "paths.png"]);
}
