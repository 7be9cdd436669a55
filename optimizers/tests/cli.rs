//! The binary end to end: the experiment's outputs, `paths`, `--csv`, and bad input.

#![allow(non_snake_case)]

use std::path::Path;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_optimizers"))
}

fn run(args: &[&str], out: &Path) -> Output {
    bin()
        .args(args)
        .args(["--quiet", "--out"])
        .arg(out)
        .output()
        .unwrap()
}

/// The stdout of a run that must have succeeded (its stderr in the failure message).
fn success(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The run's `summary.json`.
fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

fn png_size(path: &Path) -> (u32, u32) {
    let png = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
    (w, h)
}

#[test]
fn short_run_prints_costs_and_writes_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let text = success(run(
        &["--epochs", "1500", "--print-every", "500"],
        dir.path(),
    ));
    // The notebook's lines, three times (epochs 0, 500, 1000), one block per rule.
    assert_eq!(text.matches("Cost after epoch 0:").count(), 3, "{text}");
    assert_eq!(text.matches("Cost after epoch 1000:").count(), 3, "{text}");
    assert_eq!(text.matches("Accuracy: ").count(), 3, "{text}");
    for f in [
        "loss.png",
        "loss.csv",
        "summary.json",
        "boundary-gd.png",
        "boundary-momentum.png",
        "boundary-adam.png",
        "model-gd.safetensors",
        "model-momentum.safetensors",
        "model-adam.safetensors",
    ] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    assert_eq!(png_size(&dir.path().join("loss.png")), (800, 520));
    assert_eq!(png_size(&dir.path().join("boundary-adam.png")), (900, 680));
    let s = summary(dir.path());
    assert_eq!(s["chapter"], "optimizers");
    assert_eq!(s["steps"], 3 * 1500 * 5, "5 mini-batches per epoch");
    let acc = |k: &str| s["accuracy"][k].as_f64().unwrap();
    let cost = |k: &str| s["final_cost"][k].as_f64().unwrap();
    assert!(acc("adam") > acc("gd") + 0.1, "{s}");
    assert!(cost("adam") < cost("gd") - 0.2, "{s}");
    // loss.csv: every 100 epochs and the last, per rule.
    let csv = std::fs::read_to_string(dir.path().join("loss.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 3 * 16);
    // The checkpoint reads back with the chapter's shapes.
    let mut ck =
        shared::checkpoint::load(dir.path().join("model-adam.safetensors"), "optimizers").unwrap();
    assert_eq!(ck.take("W1", 5, 2).unwrap().shape(), (5, 2));
    assert_eq!(ck.meta_str("optimizer").unwrap(), "adam");
}

#[test]
fn the_default_run_says_where_adams_epsilon_goes() {
    let dir = tempfile::tempdir().unwrap();
    let text = success(run(&["--epochs", "3", "--optimizer", "adam"], dir.path()));
    assert!(
        text.contains("Adam: W ← W − α v̂/√(ŝ + ε), ε = 1e-8 inside the square root"),
        "{text}"
    );
    assert!(text.contains("np.random.seed(3)"), "{text}");
    // The notebook's first printed Adam cost.
    assert!(text.contains("Cost after epoch 0: 0.702166"), "{text}");
    let s = summary(dir.path());
    assert_eq!(
        (&s["adam_eps"], &s["rng"], &s["seed"]),
        (&"inside".into(), &"numpy".into(), &3.into())
    );
    assert_eq!(s["adam_update"], "W ← W − α v̂/√(ŝ + ε)");
}

#[test]
fn all_rules_and_the_notebooks_later_epsilon() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &[
            "--optimizer",
            "all",
            "--epochs",
            "50",
            "--adam-eps",
            "outside",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = summary(dir.path());
    assert_eq!(s["adam_eps"], "outside");
    assert_eq!(s["adam_update"], "W ← W − α v̂/(√ŝ + ε)");
    for name in [
        "gd",
        "momentum",
        "adam",
        "nesterov",
        "adagrad",
        "rmsprop",
        "classic-momentum",
    ] {
        assert!(s["accuracy"][name].is_number(), "{name}");
        assert!(dir.path().join(format!("boundary-{name}.png")).is_file());
    }
}

#[test]
fn paths_draws_both_surfaces() {
    let dir = tempfile::tempdir().unwrap();
    let text = success(run(&["paths"], dir.path()));
    assert!(
        text.contains("x²/20 + y²") && text.contains("Rosenbrock"),
        "{text}"
    );
    assert_eq!(png_size(&dir.path().join("paths.png")), (1800, 640));
    let csv = std::fs::read_to_string(dir.path().join("paths.csv")).unwrap();
    // 7 rules × (51 + 1001) points, none diverged.
    assert_eq!(csv.lines().count(), 1 + 7 * (51 + 1001));
}

#[test]
fn csv_points_train_and_bad_csv_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (X, labels) = shared::data::moons::make_moons(9, 120, 0.1);
    let mut text = String::from("x1,x2,label\n");
    for (j, l) in labels.iter().enumerate() {
        text += &format!("{},{},{l}\n", X[(0, j)], X[(1, j)]);
    }
    let good = dir.path().join("points.csv");
    std::fs::write(&good, &text).unwrap();
    let out_dir = dir.path().join("out");
    let out = run(
        &[
            "--csv",
            good.to_str().unwrap(),
            "--epochs",
            "20",
            "--optimizer",
            "adam",
        ],
        &out_dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("points.csv"), "{stdout}");

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "x1,x2,label\n0.1,0.2,1\n0.3,0.4,7\n").unwrap();
    let out = run(&["--csv", bad.to_str().unwrap()], &out_dir);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("bad.csv: line 3: label"),
        "{err}"
    );

    let out = run(&["--csv", "/nonexistent/p.csv"], &out_dir);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("error: /nonexistent/p.csv"), "{err}");
}

#[test]
fn bad_flags_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for (args, want) in [
        (vec!["--beta", "1"], "--beta"),
        (vec!["--noise=-0.1"], "--noise"),
    ] {
        let out = run(&args, dir.path());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.starts_with("error: ") && err.contains(want) && err.lines().count() == 1,
            "{args:?}: {err}"
        );
    }
    // clap's own checks (shared::cli::positive for --lr and --epsilon) also exit with 2, their
    // `error:` line naming the flag and the value.
    for (args, want) in [
        (vec!["--lr", "0"], "--lr"),
        (vec!["--lr", "nan"], "--lr"),
        (vec!["--epsilon=-1"], "--epsilon"),
    ] {
        let out = run(&args, dir.path());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        let first = err.lines().next().unwrap_or("");
        assert!(
            first.starts_with("error: ")
                && first.contains(want)
                && first.contains("not a positive number"),
            "{args:?}: {err}"
        );
    }
    for args in [
        vec!["--optimizer", "sgdd"],
        vec!["--epochs", "0"],
        vec!["--batch-size", "0"],
        vec!["--samples", "1"],
    ] {
        let out = run(&args, dir.path());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.starts_with("error: "), "{args:?}: {err}");
    }
    let out = run(&["--optimizer", "sgdd"], dir.path());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("unknown optimizer `sgdd`"), "{err}");
}

#[test]
fn batch_size_writes_two_panels_a_table_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let text = success(run(&["batch-size", "--epochs", "20"], dir.path()));
    for row in ["batch 300 (all)", "batch 64", "batch 1 (SGD)"] {
        assert!(text.contains(row), "{text}");
    }
    assert_eq!(png_size(&dir.path().join("loss.png")), (1600, 520));
    let csv = std::fs::read_to_string(dir.path().join("loss.csv")).unwrap();
    // Two panels × three batch sizes × 21 points (before training and after each epoch).
    assert_eq!(csv.lines().count(), 1 + 2 * 3 * 21);
    let s = summary(dir.path());
    let sizes: Vec<u64> = s["batch_sizes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["batch_size"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, [300, 64, 1]);
    assert_eq!(s["steps"], 20 * (1 + 5 + 300));
    // One α per batch size or one for all.
    let out = run(&["batch-size", "--lr", "0.1,0.2"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("error: --lr: 2 values for 3 batch sizes"),
        "{err}"
    );
}

#[test]
fn momentum_draws_the_beta_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let text = success(run(&["momentum", "--steps", "30"], dir.path()));
    for b in ["β=0 ", "β=0.5", "β=0.9 ", "β=0.99 ", "β=0.999"] {
        assert!(text.contains(&format!("momentum {b}")), "{b}: {text}");
    }
    assert_eq!(png_size(&dir.path().join("momentum.png")), (900, 640));
    assert_eq!(png_size(&dir.path().join("loss.png")), (800, 520));
    let csv = std::fs::read_to_string(dir.path().join("momentum.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 5 * 31);
    let s = summary(dir.path());
    assert_eq!(s["momentum"].as_array().unwrap().len(), 5);
    assert_eq!(s["momentum"][2]["beta"], 0.9);
}
