//! The run session through the real binary: the shared contract's cases that apply to a run
//! without `--resume` (a finished run is kept, one run per folder, closed and full stdout,
//! `--version`; the default run trains in well under a second, so it has no checkpoint to
//! resume from), `train` equal to the bare command, and `example-6-1` with the common flags.

use shared::testing::{self, SessionContract, assert_user_error, ok};

mod common;
use common::SHORT;

const BIN: &str = env!("CARGO_BIN_EXE_rnn-adder");

#[test]
fn the_session_contract_without_resume() {
    let dir = tempfile::tempdir().unwrap();
    // Long: an accuracy measurement on all 16,384 pairs every 10 examples.
    let long = ["--iterations", "100000", "--eval-every", "10"];
    let c = SessionContract {
        bin: BIN,
        short: &SHORT,
        long: &long,
        length: ("--iterations", "400"),
        resume_cmd: &[],
        fixed: ("--lr", "0.5"),
    };
    c.finished_run_is_kept(dir.path());
    c.second_run_is_refused(dir.path());
    c.closed_stdout_still_saves(dir.path());
    c.full_stdout_is_an_error(dir.path());
    c.version();
}

#[test]
fn train_is_the_bare_command() {
    let dir = tempfile::tempdir().unwrap();
    let (bare, train) = (dir.path().join("bare"), dir.path().join("train"));
    let o = testing::run(BIN, &testing::args_with_out(&SHORT, &bare, &["-q"]));
    ok(&o, "bare");
    let args = [&["train"][..], &SHORT].concat();
    let t = testing::run(BIN, &testing::args_with_out(&args, &train, &["-q"]));
    ok(&t, "train");
    testing::assert_same_outputs(&bare, &train, &["loss.csv", "model.safetensors"]);
    // The same seed (trask's 0 by default) and the same printed rows.
    let rows = |o: &std::process::Output| {
        let s = String::from_utf8_lossy(&o.stdout).into_owned();
        s.lines()
            .filter(|l| !l.contains("µs") && !l.starts_with("wrote"))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(rows(&o), rows(&t));
    assert_eq!(
        testing::summary_without_timing(&train.join("summary.json"))["seed"],
        0
    );
}

#[test]
fn example_6_1_takes_the_common_flags_and_writes_its_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(BIN)
        .args(["example-6-1", "--quiet"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    ok(&o, "example-6-1 --quiet");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("answer: ∂E/∂z_1 = 0.0139"), "{text}");
    assert!(
        text.ends_with("\nwrote runs/rnn-adder-example-6-1/{summary.json}\n"),
        "{text}"
    );
    let s = testing::summary_without_timing(
        &dir.path().join("runs/rnn-adder-example-6-1/summary.json"),
    );
    assert!(
        (s["dE_dz1_rounded"].as_f64().unwrap() - 0.01392).abs() < 1e-12,
        "{s}"
    );
    let exact = s["dE_dz1_exact"].as_f64().unwrap();
    assert!((exact - 0.0139341803).abs() < 1e-10, "{s}");
    assert!(
        (s["dE_dz1_finite_difference"].as_f64().unwrap() - exact).abs() < 1e-8,
        "{s}"
    );
    // --out names the folder; a second run there needs --overwrite.
    let out = dir.path().join("six-one");
    let args = testing::args_with_out(&["example-6-1"], &out, &["-q"]);
    ok(&testing::run(BIN, &args), "--out");
    assert!(out.join("summary.json").is_file());
    let again = testing::run(BIN, &args);
    assert_user_error(
        &again,
        "a second example-6-1 in one folder",
        &["already holds a run"],
    );
    let args = testing::args_with_out(&["example-6-1"], &out, &["--overwrite"]);
    ok(&testing::run(BIN, &args), "--overwrite");
}
