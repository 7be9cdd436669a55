//! The binary end to end: trask's printed numbers, the run outputs, and bad flags.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_backprop-xor"))
}

#[test]
fn default_run_prints_trasks_numbers_and_writes_the_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["--quiet", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // trask's blog, Part 2 (np.random.seed(1)), printed every 10 000 iterations.
    let blog = [
        0.496410031903,
        0.00858452565325,
        0.00578945986251,
        0.00462917677677,
        0.00395876528027,
        0.00351012256786,
    ];
    let printed: Vec<f64> = text
        .lines()
        .filter(|l| l.starts_with("iteration"))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(printed.len(), blog.len(), "{text}");
    for (p, b) in printed.iter().zip(blog) {
        assert!((p - b).abs() < 1e-11, "printed {p}, blog {b}");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap())
            .unwrap();
    let err = summary["final_error"].as_f64().unwrap();
    assert!(err < 0.01, "{err}");
    // The final outputs of the reference run: [0.00260572, 0.99672209, 0.99701711, 0.00386759].
    let outs: Vec<f64> = summary["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    for (o, r) in outs
        .iter()
        .zip([0.00260572, 0.99672209, 0.99701711, 0.00386759])
    {
        assert!((o - r).abs() < 1e-8, "{outs:?}");
    }
    // The PNG decodes to the plot's size (IHDR width and height).
    let png = std::fs::read(dir.path().join("loss.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((w, h), (800, 520));
    let csv = std::fs::read_to_string(dir.path().join("loss.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 601);
    assert!(dir.path().join("model.safetensors").is_file());
}

#[test]
fn deeper_nets_learn_xor_too() {
    let dir = tempfile::tempdir().unwrap();
    for (layers, rng) in [("3,8,8,1", "numpy"), ("3,5,1", "chacha")] {
        let out = bin()
            .args(["--quiet", "--layers", layers, "--rng", rng, "--out"])
            .arg(dir.path().join(layers))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let s: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(layers).join("summary.json")).unwrap(),
        )
        .unwrap();
        assert!(s["final_error"].as_f64().unwrap() < 0.01, "{layers}: {s}");
    }
}

#[test]
fn bad_flags_are_one_line_errors_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--layers", "2,4,1"],
        vec!["--layers", "3,0,1"],
        vec!["--lr", "-1"],
        vec!["--iterations", "0"],
        vec!["--seed", "99999999999"],
    ] {
        let out = bin()
            .args(&args)
            .arg("--out")
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let out = bin().arg("--out").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .starts_with("error: --out")
    );
}

#[test]
fn chain_rule_and_simple_nets_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["chain-rule", "--out"])
        .arg(dir.path().join("chain-rule"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("E = 0.4288038705"), "{text}");
    let out = bin()
        .args(["simple-nets", "--quiet", "--out"])
        .arg(dir.path().join("simple-nets"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("simple-nets/loss.png").is_file());
}
