//! The run session through the real binary: the shared contract (a finished run is kept, one run
//! per folder, closed and full stdout, `--version`), each command's own default folder, the
//! `wrote …` line naming every file a run leaves, the flags in `summary.json`, size flags checked
//! against memory before anything is allocated, and divergence. No command resumes: the longest
//! default run (the notebook's three rules) takes a few seconds.

use shared::testing::{self, SessionContract, assert_user_error, ok};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

const BIN: &str = env!("CARGO_BIN_EXE_optimizers");

#[test]
fn the_session_contract_for_the_experiment() {
    let dir = tempfile::tempdir().unwrap();
    SessionContract {
        bin: BIN,
        // ≈ 0.1 s: 3 rules × 300 epochs.
        short: &["--epochs", "300", "--print-every", "100"],
        // Minutes: killed as soon as it holds its folder.
        long: &["--epochs", "1000000"],
        // Not used: the experiment does not resume.
        length: ("--epochs", "600"),
        resume_cmd: &[],
        fixed: ("--lr", "0.1"),
    }
    .check_all_but_resume(dir.path());
}

/// Runs the binary in `cwd` with `args` (no `--out`: the default folder).
fn run_in(cwd: &Path, args: &[&str]) -> Output {
    testing::run_in(BIN, cwd, args)
}

/// The folder and the files of the run's last stdout line, `wrote DIR/{a, b, c}`.
fn wrote(o: &Output) -> (String, BTreeSet<String>) {
    let stdout = String::from_utf8_lossy(&o.stdout);
    let last = stdout.lines().last().unwrap_or("");
    let rest = last
        .strip_prefix("wrote ")
        .unwrap_or_else(|| panic!("no wrote line: {stdout}"));
    let (folder, files) = rest.split_once("/{").expect("wrote DIR/{…}");
    let files = files.strip_suffix('}').expect("wrote DIR/{…}");
    let names = files.split(", ").map(str::to_string).collect();
    (folder.to_string(), names)
}

/// The names of the files in `dir`.
fn files_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn every_command_writes_its_own_default_folder_and_names_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    for (args, folder) in [
        (&["--epochs", "3", "--quiet"][..], "runs/optimizers"),
        (&["paths", "--quiet"][..], "runs/optimizers-paths"),
        (
            &["batch-size", "--epochs", "2", "--quiet"][..],
            "runs/optimizers-batch-size",
        ),
        (
            &["momentum", "--steps", "5", "--quiet"][..],
            "runs/optimizers-momentum",
        ),
    ] {
        let o = run_in(cwd, args);
        ok(&o, &format!("{args:?}"));
        let (said, names) = wrote(&o);
        assert_eq!(said, folder, "{args:?}");
        // Every file in the folder is named, and nothing else (the lock is gone).
        assert_eq!(names, files_in(&cwd.join(folder)), "{args:?}");
    }
    // The models of the experiment are among them, one per rule.
    let (_, names) = wrote(&run_in(
        cwd,
        &["train", "--epochs", "3", "--quiet", "--overwrite"],
    ));
    for rule in ["gd", "momentum", "adam"] {
        assert!(
            names.contains(&format!("model-{rule}.safetensors")),
            "{names:?}"
        );
        assert!(names.contains(&format!("boundary-{rule}.png")), "{names:?}");
    }
    // `train` is the bare command: the same folder, refused now that it holds a finished run.
    let o = run_in(cwd, &["train", "--epochs", "3", "--quiet"]);
    assert_user_error(
        &o,
        "train again",
        &["runs/optimizers", "already holds a run"],
    );
    // --help shows each command's folder.
    for (cmd, folder) in [
        ("paths", "optimizers-paths"),
        ("momentum", "optimizers-momentum"),
    ] {
        let o = run_in(cwd, &[cmd, "--help"]);
        let help = String::from_utf8_lossy(&o.stdout);
        let words: Vec<&str> = help.split_whitespace().collect();
        let text = words.join(" ");
        assert!(
            text.contains(&format!("[default: runs/{folder}]")),
            "{help}"
        );
    }
}

#[test]
fn summary_json_records_the_version_and_the_effective_flags() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = testing::run(
        BIN,
        &testing::args_with_out(
            &["--epochs", "4", "--optimizer", "adam,gd", "--lr", "0.01"],
            &out,
            &["--quiet"],
        ),
    );
    ok(&o, "a short run");
    let text = std::fs::read_to_string(out.join("summary.json")).unwrap();
    let s: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(s["version"], env!("CARGO_PKG_VERSION"));
    let f = &s["flags"];
    assert_eq!(f["epochs"], 4);
    assert_eq!(f["lr"], 0.01);
    assert_eq!(f["optimizer"], serde_json::json!([["adam"], ["gd"]]));
    // Defaults too, with the names the command line uses.
    assert_eq!((&f["seed"], &f["rng"]), (&3.into(), &"numpy".into()));
    assert_eq!(f["adam_eps"], "inside");
    assert_eq!(f["lr_decay"], "off");
    assert_eq!(f["batch_size"], 64);
}

#[test]
fn size_flags_beyond_memory_are_refused_before_anything_is_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for (args, flag) in [
        (vec!["--samples", "1000000000"], "--samples"),
        (vec!["--samples", "18446744073709551615"], "--samples"),
        (
            vec!["--epochs", "1000000000000000", "--rng", "chacha"],
            "--epochs",
        ),
        (
            vec!["batch-size", "--epochs", "99999999", "--lr", "0.1"],
            "--epochs",
        ),
    ] {
        // batch-size's curves: 10⁸ epochs for each of 1000 batch sizes.
        let mut args: Vec<String> = args.into_iter().map(str::to_string).collect();
        if args[0] == "batch-size" {
            let sizes: Vec<String> = (1..=1000).map(|b| b.to_string()).collect();
            args.extend(["--batch-sizes".to_string(), sizes.join(",")]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = testing::run(BIN, &testing::args_with_out(&args, &out, &["--quiet"]));
        assert_user_error(&o, &format!("{args:?}"), &[flag, "of memory"]);
        assert!(!out.exists(), "{args:?}: a refused run made its folder");
    }
}

#[test]
fn a_learning_rate_that_diverges_is_an_error_with_the_curves_so_far() {
    let dir = tempfile::tempdir().unwrap();
    for lr in ["1e300", "1e6"] {
        let out = dir.path().join(format!("lr{lr}"));
        let o = testing::run(
            BIN,
            &testing::args_with_out(&["--lr", lr, "--epochs", "200"], &out, &["--quiet"]),
        );
        assert_user_error(&o, lr, &["training diverged at step 0", "--lr"]);
        // Gradient descent, the first rule, diverged in its first epoch: no curve point yet,
        // no model, and nothing claimed to be trained.
        for f in ["loss.csv", "loss.png"] {
            assert!(out.join(f).is_file(), "{lr}: {f}");
        }
        assert!(!out.join("model-gd.safetensors").exists(), "{lr}");
        assert!(!out.join("summary.json").exists(), "{lr}");
        // batch-size too: the full batch's curve up to its last good epoch (its start).
        let out = dir.path().join(format!("batch-lr{lr}"));
        let o = testing::run(
            BIN,
            &testing::args_with_out(
                &["batch-size", "--lr", lr, "--epochs", "5"],
                &out,
                &["--quiet"],
            ),
        );
        assert_user_error(&o, lr, &["training diverged at step 0"]);
        let csv = std::fs::read_to_string(out.join("loss.csv")).unwrap();
        assert_eq!(
            csv.lines().count(),
            1 + 2,
            "two panels, one point each: {csv}"
        );
        assert!(!out.join("summary.json").exists(), "{lr}");
    }
}
