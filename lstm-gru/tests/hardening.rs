//! Issue 12 on the real binary: bad checkpoints for `--resume` and `--model` (truncated,
//! corrupted, another chapter, other sizes), degenerate texts, flags out of range, an `--out`
//! that cannot be written, divergence (curves and the last good checkpoint survive), SIGKILL
//! during training then `--resume`, an exact resume, two runs at once.
//! (`tests/cli.rs` already covers bad `--text`/`--model` files, a too-short text, some flags and
//! same-seed determinism.)

use shared::testing;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_lstm-gru");

fn run(args: &[&str]) -> Output {
    testing::run(BIN, args)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Tiny `train` flags: 1 × 8 LSTM on the generated corpus, checkpoint every 2 steps.
const TINY: [&str; 8] = [
    "--layers",
    "1",
    "--hidden",
    "8",
    "--eval-every",
    "2",
    "--seq-len",
    "20",
];

/// Runs `train` with [`TINY`], where a flag of `extra` replaces the tiny setting of that flag.
fn text(out: &Path, steps: &str, extra: &[&str]) -> Output {
    let mut args = vec!["train", "--steps", steps, "--out", s(out), "-q"];
    for pair in TINY.chunks(2) {
        if !extra.contains(&pair[0]) {
            args.extend_from_slice(pair);
        }
    }
    args.extend_from_slice(extra);
    run(&args)
}

/// A real checkpoint of a tiny run, in `dir/ck`.
fn checkpoint(dir: &Path) -> PathBuf {
    let out = dir.join("ck");
    ok(&text(&out, "2", &[]));
    out.join("model.safetensors")
}

fn steps_of(model: &Path) -> usize {
    let ck = shared::checkpoint::load(model, "lstm-gru").unwrap();
    ck.meta("steps").unwrap()
}

#[test]
fn bad_resume_files_and_bad_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for (what, path) in testing::bad_files(dir.path()) {
        let name = path.file_name().unwrap().to_str().unwrap();
        let o = text(&out, "4", &["--resume", s(&path)]);
        testing::assert_user_error(&o, &format!("--resume: {what}"), &[name]);
    }
    let good = checkpoint(dir.path());
    let bytes = std::fs::read(&good).unwrap();
    // Truncated: half the file.
    let truncated = dir.path().join("truncated.safetensors");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    // Corrupted: one byte of the last tensor's data flipped (the checksum catches it).
    let corrupted = dir.path().join("corrupted.safetensors");
    let mut bad = bytes.clone();
    let n = bad.len();
    bad[n - 3] ^= 0x40;
    std::fs::write(&corrupted, &bad).unwrap();
    // Another chapter's checkpoint.
    let other = dir.path().join("other-chapter.safetensors");
    let w = nalgebra::DMatrix::<f64>::zeros(2, 2);
    shared::checkpoint::save(&other, "char-rnn", &[("W_xh", &w)], &[]).unwrap();
    // Metadata saying 1 × 8 LSTM over "ab", tensors of another size.
    let sizes = dir.path().join("other-sizes.safetensors");
    shared::checkpoint::save(
        &sizes,
        "lstm-gru",
        &[("l0.W_xh", &w), ("l0.W_hh", &w), ("l0.b_h", &w)],
        &[
            ("cell", "lstm".into()),
            ("layers", "1".into()),
            ("hidden", "8".into()),
            ("vocab", "\"ab\"".into()),
        ],
    )
    .unwrap();
    // Metadata claiming 10⁸ hidden units (a model of 10¹⁷ weights) over small tensors: refused
    // before anything of that size is allocated.
    let forged = dir.path().join("forged-sizes.safetensors");
    shared::checkpoint::save(
        &forged,
        "lstm-gru",
        &[("W_hy", &w), ("l0.W_hh", &w)],
        &[
            ("cell", "lstm".into()),
            ("layers", "1".into()),
            ("hidden", "100000000".into()),
            ("vocab", "\"ab\"".into()),
        ],
    )
    .unwrap();
    for path in [&truncated, &corrupted, &other, &sizes, &forged] {
        let name = path.file_name().unwrap().to_str().unwrap();
        let o = run(&["sample", "--model", s(path)]);
        testing::assert_user_error(&o, &format!("sample {name}"), &[name]);
        let o = text(&out, "4", &["--resume", s(path)]);
        testing::assert_user_error(&o, &format!("--resume {name}"), &[name]);
    }
    // A checkpoint that does not fit the flags of the resumed run.
    for (flags, mention) in [
        (&["--hidden", "16"][..], "--hidden"),
        (&["--layers", "2"], "--layers"),
        (&["--cell", "gru"], "--cell"),
        (&["--batch", "4"], "--batch"),
        (&["--lr", "0.1"], "--lr"),
        (&["--seed", "2"], "--seed"), // another generated corpus
    ] {
        let mut args = vec!["--resume", s(&good)];
        args.extend_from_slice(flags);
        let o = text(&out, "4", &args);
        testing::assert_user_error(&o, &format!("{flags:?}"), &[mention]);
    }
}

#[test]
fn degenerate_texts_and_flags_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let one = dir.path().join("one-char.txt");
    std::fs::write(&one, "a".repeat(5000)).unwrap();
    let o = text(&out, "2", &["--text", s(&one)]);
    testing::assert_user_error(
        &o,
        "one distinct character",
        &["one-char.txt", "one distinct"],
    );
    assert!(!out.exists(), "a rejected run leaves no output folder");
    // Nor does a flag value checked after parsing (it once left an empty folder behind).
    for flag in [&["--lr=-1"][..], &["--seconds", "0"]] {
        let o = text(&out, "2", flag);
        testing::assert_user_error(
            &o,
            &format!("{flag:?}"),
            &[flag[0].split('=').next().unwrap()],
        );
        assert!(!out.exists(), "{flag:?} left an output folder");
    }
    // A text that holds --batch streams but not of --seq-len 500.
    let small = dir.path().join("small.txt");
    std::fs::write(&small, "the cat sat on the mat. ".repeat(100)).unwrap();
    let o = text(&out, "2", &["--text", s(&small), "--seq-len", "500"]);
    testing::assert_user_error(
        &o,
        "--seq-len longer than the data",
        &["--seq-len", "too few"],
    );
    for (args, mention) in [
        (&["train", "--hidden", "0"][..], "--hidden"),
        (&["train", "--batch", "0"], "--batch"),
        (&["adding", "--batch", "0"], "--batch"),
        (&["train", "--steps", "0"], "--steps"),
        (&["adding", "--steps", "0"], "--steps"),
        (&["adding", "--layers", "0"], "--layers"),
        (&["train", "--seq-len", "0"], "--seq-len"),
        (&["train", "--eval-every", "0"], "--eval-every"),
        (&["adding", "--groups", "0"], "--groups"),
        (&["adding", "--groups", "9"], "--groups"),
        (&["train", "--groups", "0"], "--groups"),
        (&["train", "--threads", "0"], "--threads"),
        (&["train", "--lr=-1"], "--lr"),
        (&["train", "--lr", "NaN"], "--lr"),
        (&["adding", "--lr", "inf"], "--lr"),
        (&["train", "--seconds=-5"], "--seconds"),
        (&["sample", "--len", "0"], "--len"),
        (&["sample", "--temperature", "inf"], "--temperature"),
        (&["sample", "--len", "100000000000000"], "--len"),
        // Sizes whose buffers would not fit in memory: an error, not an allocation failure.
        (&["adding", "--length", "100000000000"], "--length"),
        (
            &["adding", "--hidden", "20000", "--layers", "3"],
            "--hidden",
        ),
        (&["train", "--hidden", "100000000"], "--hidden"),
        (&["train", "--batch", "100000000"], "--batch"),
    ] {
        let o = run(args);
        testing::assert_user_error(&o, &format!("{args:?}"), &[mention]);
    }
    // --prime: empty, or a character the model never saw.
    let model = checkpoint(dir.path());
    for prime in ["", "the €"] {
        let o = run(&["sample", "--model", s(&model), "--prime", prime]);
        testing::assert_user_error(&o, &format!("--prime {prime:?}"), &["--prime"]);
    }
}

#[test]
fn unwritable_out_is_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let under = file.join("out");
    let o = text(&under, "2", &[]);
    testing::assert_user_error(&o, "text --out under a file", &["a-file"]);
    let o = run(&[
        "adding",
        "--length",
        "4",
        "--steps",
        "2",
        "--out",
        s(&under),
    ]);
    testing::assert_user_error(&o, "adding --out under a file", &["a-file"]);
}

/// Parses N from `error: training diverged at step N ...`.
fn diverged_at(o: &Output) -> usize {
    testing::assert_user_error(o, "divergence", &["training diverged at step"]);
    let err = String::from_utf8_lossy(&o.stderr);
    let n = err.split("at step ").nth(1).unwrap();
    n.split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn divergence_keeps_curves_and_the_last_good_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    // The adding problem: the squared error of a read-out pushed by lr 1e200 overflows.
    let out = dir.path().join("adding");
    let o = run(&[
        "adding",
        "--cell",
        "lstm",
        "--length",
        "6",
        "--hidden",
        "4",
        "--steps",
        "50",
        "--lr",
        "1e200",
        "--out",
        s(&out),
        "-q",
    ]);
    let n = diverged_at(&o);
    assert!(n >= 1, "{n}");
    assert!(
        out.join("loss.png").is_file(),
        "the curves so far are drawn"
    );
    let csv = std::fs::read_to_string(out.join("loss.csv")).unwrap();
    assert!(csv.contains("lstm"), "{csv}");
    assert!(
        !csv.to_lowercase().contains("nan") && !csv.contains("inf"),
        "{csv}"
    );
    // The language model: its loss is bounded (floored probabilities) until the weights
    // overflow; at lr 1e307 they do after a few steps, with checkpoints every step before.
    let out = dir.path().join("text");
    let o = text(&out, "50", &["--lr", "1e307", "--eval-every", "1"]);
    let n = diverged_at(&o);
    assert!(n >= 2, "diverged at step {n}: no good checkpoint to keep");
    let model = out.join("model.safetensors");
    assert_eq!(
        steps_of(&model),
        n - 1,
        "the checkpoint of the last good step"
    );
    ok(&run(&["sample", "--model", s(&model), "--len", "10"]));
    let csv = std::fs::read_to_string(out.join("loss.csv")).unwrap();
    let valid_rows = csv.lines().filter(|l| l.contains(",validation,")).count();
    assert_eq!(valid_rows, n - 1, "{csv}");
    assert!(out.join("loss.png").is_file());
}

#[test]
fn resume_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let (full, part) = (dir.path().join("full"), dir.path().join("part"));
    ok(&text(&full, "6", &["--layers", "2"]));
    ok(&text(&part, "4", &["--layers", "2"]));
    let ck = part.join("model.safetensors");
    ok(&text(&part, "6", &["--layers", "2", "--resume", s(&ck)]));
    testing::assert_same_outputs(&full, &part, &["model.safetensors", "loss.csv"]);
}

#[test]
fn sigkill_during_training_then_resume() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("killed");
    let mut args = vec!["train", "--steps", "100000", "--eval-every", "1"];
    args.extend_from_slice(&TINY[..4]);
    args.extend_from_slice(&["--out", s(&out), "-q"]);
    let mut child = Command::new(BIN)
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let model = out.join("model.safetensors");
    let start = Instant::now();
    // Kill it once a few checkpoints have been written (it writes one per step).
    while !(model.exists() && steps_of(&model) >= 3) {
        assert!(start.elapsed() < Duration::from_secs(120), "no checkpoint");
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL, possibly in the middle of writing a checkpoint
    child.wait().unwrap();
    let done = steps_of(&model); // the file is whole: the last atomic write
    assert!(done >= 3);
    ok(&run(&["sample", "--model", s(&model), "--len", "10"]));
    let target = (done + 2).to_string();
    let mut args = vec!["train", "--steps", &target, "--eval-every", "1"];
    args.extend_from_slice(&TINY[..4]);
    args.extend_from_slice(&["--out", s(&out), "-q", "--resume", s(&model)]);
    ok(&run(&args));
    assert_eq!(steps_of(&model), done + 2);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert!(summary.to_string().contains("valid_ce"), "{summary}");
}

#[test]
fn two_runs_at_once_do_not_interfere() {
    let dir = tempfile::tempdir().unwrap();
    let outs = [dir.path().join("a"), dir.path().join("b")];
    let children: Vec<_> = outs
        .iter()
        .map(|out| {
            let mut args = vec!["train", "--steps", "6", "--out", s(out), "-q"];
            args.extend_from_slice(&TINY);
            Command::new(BIN)
                .args(&args)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        ok(&c.wait_with_output().unwrap());
    }
    testing::assert_same_outputs(&outs[0], &outs[1], &["model.safetensors", "loss.csv"]);
}

/// `model` with the byte `skip` bytes into the first `what` of its metadata XORed with `bit`.
fn flip_in_metadata(model: &Path, what: &[u8], skip: usize, bit: u8, to: &Path) {
    let mut raw = std::fs::read(model).unwrap();
    let at = raw.windows(what.len()).position(|x| x == what).unwrap();
    raw[at + skip] ^= bit;
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::write(to, raw).unwrap();
}

#[test]
fn a_flipped_bit_in_the_vocabulary_or_the_step_count_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let model = checkpoint(dir.path());
    // 'a' → 'A' in the stored vocabulary: every 'a' drawn would print as 'A'.
    let vocab = dir.path().join("vocab/model.safetensors");
    flip_in_metadata(&model, b"abcdefgh", 0, 0x20, &vocab);
    // "steps":"2" → "steps":"3": a resume from a wrong position.
    let steps = dir.path().join("steps/model.safetensors");
    flip_in_metadata(&model, b"\"steps\":\"2\"", 9, 0x01, &steps);
    for bad in [&vocab, &steps] {
        let text = dir.path().join("t.txt");
        std::fs::write(&text, "a cat sat on a mat.\n").unwrap();
        for o in [
            run(&["sample", "--model", s(bad), "--len", "20"]),
            run(&["eval", "--model", s(bad), "--text", s(&text)]),
            run(&["train", "--resume", s(bad), "--steps", "4", "-q"]),
        ] {
            testing::assert_user_error(
                &o,
                "flipped metadata",
                &["metadata do not match their checksum"],
            );
        }
    }
}
