//! The run session through the real binary: the workspace's contract (a finished run is kept,
//! a resume continues in its own folder with its own flags, one run per folder, closed and
//! full stdout, Ctrl-C then resume gives the bytes of a run never stopped, `--version`), and
//! rbm's own: `train` is the bare command, a resumed run's total and its state (momentum, PCD
//! chains, random stream), `sample` from a saved run, `partition` on the session, size flags
//! checked against memory.

#![allow(non_snake_case)]

use shared::testing::{self, SessionContract, assert_same_outputs, assert_user_error, ok};
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_rbm");

/// 3 × 3 bars and stripes, 4 hidden units, CD-2, 20 epochs at a constant ε: about 0.1 s.
const SHORT: &[&str] = &[
    "train",
    "--side",
    "3",
    "--hidden",
    "4",
    "--k",
    "2",
    "--epochs",
    "20",
    "--schedule",
    "constant",
];

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn rbm(args: &[&str]) -> Output {
    testing::run(BIN, args)
}

fn stdout(o: &Output) -> String {
    ok(o, "rbm");
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// `base`, then `--out out --quiet`, then `extra`.
fn run_in(base: &[&str], out: &Path, extra: &[&str]) -> Output {
    let mut args = testing::args_with_out(base, out, &["--quiet"]);
    args.extend(extra.iter().map(|a| a.to_string()));
    testing::run(BIN, &args)
}

#[test]
fn the_session_contract() {
    let dir = tempfile::tempdir().unwrap();
    SessionContract {
        bin: BIN,
        short: SHORT,
        // The default 4 × 4 bars, CD-20, ε annealed over 100 epochs: several seconds.
        long: &["train", "--epochs", "100"],
        length: ("--epochs", "30"),
        resume_cmd: &["train"],
        fixed: ("--lr", "0.5"),
    }
    .check_all(dir.path());
}

#[test]
fn train_is_the_bare_command() {
    let dir = tempfile::tempdir().unwrap();
    let (bare, train) = (dir.path().join("bare"), dir.path().join("train"));
    ok(&run_in(&SHORT[1..], &bare, &[]), "rbm --epochs 20 …");
    ok(&run_in(SHORT, &train, &[]), "rbm train --epochs 20 …");
    let files = [
        "loss.csv",
        "model.safetensors",
        "samples.png",
        "filters.png",
    ];
    assert_same_outputs(&bare, &train, &files);
}

/// `rbm <flags> --epochs 3`, resumed with `--epochs 6`, gives the outputs of a run of 6 epochs:
/// the momentum velocities, PCD's chains, the random stream and the curves all come back.
fn resumed_equals_whole(dir: &Path, name: &str, flags: &[&str]) {
    let (part, whole) = (dir.join(format!("{name}-part")), dir.join(name));
    let mut three = flags.to_vec();
    three.extend(["--epochs", "3"]);
    ok(&run_in(&three, &part, &[]), "3 epochs");
    let o = rbm(&["train", "--resume", s(&part), "--epochs", "6", "--quiet"]);
    let text = stdout(&o);
    assert!(
        text.starts_with(&format!(
            "resuming {}",
            part.join("model.safetensors").display()
        )),
        "{text}"
    );
    let mut six = flags.to_vec();
    six.extend(["--epochs", "6"]);
    ok(&run_in(&six, &whole, &[]), "6 epochs");
    assert_same_outputs(&part, &whole, &["model.safetensors", "loss.csv"]);
}

#[test]
fn a_resumed_run_continues_exactly_for_every_method() {
    let dir = tempfile::tempdir().unwrap();
    let bars = ["--side", "3", "--hidden", "4", "--schedule", "constant"];
    for (name, method) in [
        ("cd", &["--k", "2"][..]),
        ("pcd", &["--method", "pcd"][..]),
        ("exact", &["--method", "exact"][..]),
    ] {
        let mut flags = bars.to_vec();
        flags.extend_from_slice(method);
        resumed_equals_whole(dir.path(), name, &flags);
    }
}

#[test]
fn a_resume_needs_a_larger_total_within_an_annealed_horizon() {
    let dir = tempfile::tempdir().unwrap();
    let done = dir.path().join("done");
    ok(&run_in(SHORT, &done, &[]), "a finished run");
    let model = std::fs::read(done.join("model.safetensors")).unwrap();
    for extra in [&[][..], &["--epochs", "20"], &["--epochs", "5"]] {
        let mut args = vec!["train", "--resume", s(&done)];
        args.extend_from_slice(extra);
        assert_user_error(
            &rbm(&args),
            "no epochs left",
            &["--epochs", "trained 20 epochs"],
        );
    }
    // The default bars schedule anneals ε to 0 over the run's epochs: no training past them.
    let annealed = dir.path().join("annealed");
    let flags = ["--side", "3", "--hidden", "4", "--epochs", "4"];
    ok(&run_in(&flags, &annealed, &[]), "an annealed run");
    let o = rbm(&["--resume", s(&annealed), "--epochs", "8"]);
    assert_user_error(&o, "past the annealing", &["--epochs", "over 4 epochs"]);
    assert_eq!(
        std::fs::read(done.join("model.safetensors")).unwrap(),
        model
    );
}

#[test]
fn sample_draws_from_a_saved_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    ok(&run_in(SHORT, &run, &[]), "training");
    // The default draw (64 chains, 1000 steps, stream of seed 1) is the run's own samples.png.
    let out = dir.path().join("samples");
    let text = stdout(&run_in(&["sample", "--model", s(&run)], &out, &[]));
    let first = text.lines().next().unwrap();
    let file = run.join("model.safetensors");
    assert_eq!(
        first,
        format!(
            "model: {} (n_v = 9, n_h = 4, 3 × 3 images, 20 epochs)",
            file.display()
        )
    );
    let png = |d: &Path| std::fs::read(d.join("samples.png")).unwrap();
    assert!(
        png(&run) == png(&out),
        "sample's default draw is not the run's samples.png"
    );
    assert!(
        text.ends_with(&format!("wrote {}/{{samples.png}}\n", out.display())),
        "{text}"
    );
    // The text: the first --show samples, 3 × 3, '#' and '.'.
    let art: Vec<&str> = text.lines().filter(|l| l.starts_with(['#', '.'])).collect();
    assert_eq!(art.len(), 3, "{text}");
    assert!(art.iter().all(|l| l.split("  ").count() == 8), "{text}");
    // The model file works as well as its folder; --temperature 0 is deterministic chains
    // from the same random start (another seed, another start).
    let cold = |seed: &str, out: &str| {
        let out = dir.path().join(out);
        let args = [
            "sample",
            "--model",
            s(&file),
            "--temperature",
            "0",
            "--seed",
            seed,
        ];
        stdout(&run_in(&args, &out, &[]));
        std::fs::read(out.join("samples.png")).unwrap()
    };
    assert_eq!(cold("3", "cold-a"), cold("3", "cold-b"));
    assert_ne!(cold("3", "cold-c"), cold("4", "cold-d"));
    // No model: the default folder runs/rbm, relative to where it runs.
    let o = Command::new(BIN)
        .args(["sample", "--quiet"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_user_error(
        &o,
        "no trained run",
        &["--model", "runs/rbm", "does not exist"],
    );
    let o = rbm(&["sample", "--model", s(dir.path()), "--out", s(&out)]);
    assert_user_error(
        &o,
        "a folder without a model",
        &["--model", "holds no model.safetensors"],
    );
    let o = rbm(&["sample", "--samples", "5000"]);
    assert_user_error(&o, "too many samples", &["--samples", "5000"]);
}

#[test]
fn partition_writes_its_numbers_and_refuses_a_non_finite_log_z() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p");
    let text = stdout(&rbm(&["partition", "--quiet", "--out", s(&out)]));
    assert!(
        text.contains("log Z (logsumexp over the hidden layer)  = 3.6484343058"),
        "{text}"
    );
    assert!(text.ends_with(&format!("wrote {}/{{partition.json}}\n", out.display())));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("partition.json")).unwrap())
            .unwrap();
    assert!(
        (v["log_z"].as_f64().unwrap() - 3.6484343058).abs() < 1e-10,
        "{v}"
    );
    assert!(
        (v["z"].as_f64().unwrap() - 38.4144736197).abs() < 1e-9,
        "{v}"
    );
    assert_eq!(v["p_v"].as_array().unwrap().len(), 8);
    // Energies beyond f64: an error that says so, not a table of NaN.
    for (flag, values) in [
        ("--weights", "1e308,1e308,1,1,1,1"),
        ("--visible-bias", "1e308,1e308,1"),
        ("--hidden-bias", "1.7e308,1.7e308"),
    ] {
        let bad = dir.path().join("bad");
        let o = rbm(&["partition", flag, values, "--out", s(&bad)]);
        assert_user_error(&o, flag, &["log Z is", "beyond f64's largest number", flag]);
        assert!(!bad.exists(), "{flag}: a folder for a refused partition");
    }
    // Energies far below f64's range leave log Z finite but F(v) infinite: an error too, not
    // F(v) = inf with exit 0 (the sweep of issue 19 found it).
    let bad = dir.path().join("bad");
    let o = rbm(&[
        "partition",
        "--visible-bias",
        "-1e308,-1e308,-1e308",
        "--out",
        s(&bad),
    ]);
    assert_user_error(
        &o,
        "F(v) beyond f64",
        &["F(v) of v = 011 is inf", "beyond f64's largest number"],
    );
    assert!(!bad.exists());
    // Large values that do fit are printed as typed (1e300, not inf) and in cells of the
    // table's width (no 300-digit numbers); plain-space Z may overflow, as the report says.
    let text = stdout(&rbm(&[
        "partition",
        "--visible-bias",
        "0,0,-1e300",
        "--weights",
        "800,800,800,1,1,1",
        "--out",
        s(&bad),
    ]));
    assert!(text.contains("a = [[0, 0, -1e300]]"), "{text}");
    assert!(
        text.contains("(the plain-space product overflows f64"),
        "{text}"
    );
    assert!(text.lines().all(|l| l.chars().count() < 120), "{text}");
    // A full stdout is an error, as for training.
    if let Ok(full) = std::fs::File::create("/dev/full") {
        let o = Command::new(BIN)
            .args(["partition", "--overwrite", "--out", s(&out)])
            .stdout(Stdio::from(full))
            .output()
            .unwrap();
        assert_user_error(&o, "partition > /dev/full", &["stdout"]);
    }
}

#[test]
fn size_flags_are_checked_against_memory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("big");
    // 4·10⁹ bars examples of 16 pixels: tens of gigabytes before anything is allocated.
    let o = rbm(&["--train", "4000000000", "--out", s(&out)]);
    assert_user_error(
        &o,
        "--train 4e9",
        &["--train", "would need about", "available"],
    );
    let o = rbm(&["--batch", "4000000000", "--out", s(&out)]);
    assert_user_error(
        &o,
        "--batch 4e9",
        &["--batch", "would need about", "available"],
    );
    let o = rbm(&["--train", "1e18", "--out", s(&out)]);
    assert_user_error(&o, "--train 1e18", &["--train"]);
}
