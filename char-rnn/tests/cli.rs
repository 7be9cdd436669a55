//! The command line: train N then resume up to N + M equals N + M in one go; sampling; clear
//! errors.

use std::path::Path;
use std::process::{Command, Output};

const TEXT: &str = "First Citizen:\nBefore we proceed any further, hear me speak.\n\n\
All:\nSpeak, speak.\n\nFirst Citizen:\nYou are all resolved rather to die than to famish?\n\n\
All:\nResolved. resolved.\n\nFirst Citizen:\nFirst, you know Caius Marcius is chief enemy to the people.\n";

fn char_rnn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_char-rnn"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn ok(args: &[&str]) -> String {
    let out = char_rnn(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The one-line error of a failing run (exit code 2).
fn fails(args: &[&str]) -> String {
    let out = char_rnn(args);
    assert_eq!(out.status.code(), Some(2), "{args:?} should fail");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("error: ") || err.starts_with("error:"),
        "{err}"
    );
    err
}

/// (iteration, sample) of every report in a run's output, without the final one.
fn reports(stdout: &str) -> Vec<(String, String)> {
    let parts: Vec<&str> = stdout.split("----\n").collect();
    let mut out = Vec::new();
    for w in parts.windows(2) {
        if let Some(iter) = w[1]
            .lines()
            .next()
            .filter(|l| l.starts_with("iter ") && !l.contains("nats"))
        {
            out.push((iter.to_string(), w[0].to_string()));
        }
    }
    out
}

fn tensors(dir: &Path) -> Vec<(String, Vec<u64>)> {
    let ck = shared::checkpoint::load(dir.join("model.safetensors"), "char-rnn").unwrap();
    let mut v: Vec<(String, Vec<u64>)> = ck
        .tensors
        .iter()
        .map(|(k, m)| (k.clone(), m.iter().map(|x| x.to_bits()).collect()))
        .collect();
    v.sort();
    v
}

#[test]
fn train_n_then_resume_to_n_plus_m_equals_n_plus_m() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("text.txt");
    std::fs::write(&text, TEXT).unwrap();
    let d = |s: &str| dir.path().join(s).display().to_string();
    let common = [
        "train",
        "--text",
        &text.display().to_string(),
        "--hidden",
        "16",
        "--seq-len",
        "10",
        "--sample-every",
        "7",
        "-q",
    ]
    .map(String::from);
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = common.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        ok(&args)
    };
    let whole = run(&["--iterations", "70", "--out", &d("whole")]);
    let first = run(&["--iterations", "30", "--out", &d("first")]);
    // Resume from `first` up to 70 in total, without naming the text again: the checkpoint
    // knows it.
    let second = ok(&[
        "train",
        "--resume",
        &d("first"),
        "--iterations",
        "70",
        "--out",
        &d("second"),
        "--sample-every",
        "7",
        "-q",
    ]);
    assert!(second.contains("starting at iteration 30"), "{second}");
    assert_eq!(
        tensors(&dir.path().join("whole")),
        tensors(&dir.path().join("second"))
    );
    // The printed reports (smoothed loss and samples) continue exactly too.
    let (w, f, s) = (reports(&whole), reports(&first), reports(&second));
    assert_eq!(w.len(), 10);
    assert_eq!([f, s].concat(), w);
    for f in ["loss.png", "loss.csv", "summary.json", "model.safetensors"] {
        assert!(dir.path().join("second").join(f).is_file(), "{f}");
    }
    // A resume must keep the sizes and the text.
    let e = fails(&[
        "train",
        "--resume",
        &d("first"),
        "--hidden",
        "17",
        "--out",
        &d("x"),
    ]);
    assert!(e.contains("--hidden") && e.contains("16"), "{e}");
    let other = dir.path().join("other.txt");
    std::fs::write(&other, TEXT.replace("Citizen", "Soldier")).unwrap();
    let e = fails(&[
        "train",
        "--resume",
        &d("first"),
        "--text",
        &other.display().to_string(),
        "--out",
        &d("x"),
    ]);
    assert!(
        e.starts_with("error: --text:") && e.contains("not on"),
        "{e}"
    );
    let e = fails(&["train", "--resume", &d("nowhere"), "--out", &d("x")]);
    assert!(e.contains("--resume") && e.contains("nowhere"), "{e}");

    // Sampling: seeded, reproducible, only the text's characters.
    let model = d("whole");
    let a = ok(&["sample", "--model", &model, "--len", "120", "--seed", "3"]);
    let b = ok(&["sample", "--model", &model, "--len", "120", "--seed", "3"]);
    let c = ok(&["sample", "--model", &model, "--len", "120", "--seed", "4"]);
    assert_eq!(a, b);
    assert_ne!(a, c);
    // The first line names the model that answered, then the prime and the drawn text.
    let (said, drawn) = a.split_once('\n').unwrap();
    assert!(
        said.starts_with(&format!(
            "model: {model}/model.safetensors (N_h = 16, N_x = "
        )) && said.ends_with(&format!("70 iterations on {})", text.display())),
        "{said}"
    );
    assert_eq!(
        drawn.trim_end_matches('\n').chars().count(),
        121,
        "newline prime + 120"
    );
    assert!(drawn.chars().all(|ch| TEXT.contains(ch)));
    let p = ok(&[
        "sample", "--model", &model, "--prime", "First", "--len", "10",
    ]);
    assert!(p.lines().nth(1).unwrap().starts_with("First"), "{p}");
    let e = fails(&["sample", "--model", &model, "--prime", "Zebra"]);
    assert!(e.contains("--prime") && e.contains("'Z'"), "{e}");
}

#[test]
fn bad_texts_and_flags_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out").display().to_string();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let e = fails(&["train", "--text", &write("empty.txt", ""), "--out", &out]);
    assert!(e.contains("empty.txt") && e.contains("0 characters"), "{e}");
    let e = fails(&["train", "--text", &write("one.txt", "a"), "--out", &out]);
    assert!(e.contains("one.txt") && e.contains("1 characters"), "{e}");
    let e = fails(&[
        "train",
        "--text",
        &write("same.txt", &"x".repeat(500)),
        "--out",
        &out,
    ]);
    assert!(
        e.contains("same.txt") && e.contains("one distinct character"),
        "{e}"
    );
    let e = fails(&[
        "train",
        "--text",
        &write("short.txt", "abcabc"),
        "--out",
        &out,
    ]);
    assert!(
        e.contains("short.txt has 6 characters") && e.contains("27"),
        "{e}"
    );
    let e = fails(&[
        "train",
        "--text",
        &dir.path().join("missing.txt").display().to_string(),
    ]);
    assert!(e.contains("missing.txt"), "{e}");
    let bad = dir.path().join("latin1.txt");
    std::fs::write(&bad, b"caf\xe9 au lait, caf\xe9 au lait, caf\xe9 au lait").unwrap();
    let e = fails(&["train", "--text", &bad.display().to_string(), "--out", &out]);
    assert!(e.contains("byte 3"), "{e}");
    let good = write("good.txt", TEXT);
    let e = fails(&["train", "--text", &good, "--hidden", "0", "--out", &out]);
    assert!(e.contains("--hidden"), "{e}");
    let e = fails(&["train", "--text", &good, "--lr=-1", "--out", &out]);
    assert!(e.contains("--lr"), "{e}");
}

#[test]
fn the_default_run_trains_on_the_generated_corpus_and_resumes_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = |s: &str| dir.path().join(s).display().to_string();
    let out = ok(&[
        "--iterations",
        "20",
        "--sample-every",
        "0",
        "--out",
        &d("a"),
        "-q",
    ]);
    assert!(out.contains("generated:1:30000"), "{out}");
    assert!(out.contains("exact entropy"), "{out}");
    let summary = std::fs::read_to_string(dir.path().join("a/summary.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&summary).unwrap();
    let h = v["entropy_per_char"].as_f64().unwrap();
    assert!(
        h > 0.1 && h < v["nats_per_char"].as_f64().unwrap(),
        "{summary}"
    );
    // Resuming needs no --text: the checkpoint names the corpus and its seed.
    let out = ok(&[
        "train",
        "--resume",
        &d("a"),
        "--iterations",
        "25",
        "--out",
        &d("b"),
        "-q",
    ]);
    assert!(out.contains("starting at iteration 20"), "{out}");
}
