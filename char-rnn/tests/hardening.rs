//! The real binary against bad input, faults and repeated runs: every bad file,
//! checkpoint or flag ends with exit code 2 and one `error:` line naming it; a divergence
//! stops with the curves written and the last good checkpoint untouched; a SIGKILL leaves a
//! loadable checkpoint that `--resume` continues; two runs at once do not interfere; the same
//! seed gives the same bytes.

use nalgebra::DMatrix;
use shared::testing::{self, assert_user_error};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_char-rnn");

const TEXT: &str = "First Citizen:\nBefore we proceed any further, hear me speak.\n\n\
All:\nSpeak, speak.\n\nFirst Citizen:\nYou are all resolved rather to die than to famish?\n\n\
All:\nResolved. resolved.\n";

/// A tiny model, so every run takes milliseconds.
const TINY: [&str; 7] = [
    "--hidden",
    "8",
    "--seq-len",
    "10",
    "--sample-every",
    "0",
    "-q",
];

fn run(args: &[&str]) -> Output {
    testing::run(BIN, args)
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// `train --text <text> <TINY> --iterations n --out out` plus `extra`.
fn train(text: &Path, n: u64, out: &Path, extra: &[&str]) -> Output {
    let (text, n, out) = (s(text), n.to_string(), s(out));
    let mut args = vec!["train", "--text", &text, "--iterations", &n, "--out", &out];
    args.extend_from_slice(&TINY);
    args.extend_from_slice(extra);
    run(&args)
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fixture(dir: &Path) -> PathBuf {
    let p = dir.join("text.txt");
    std::fs::write(&p, TEXT).unwrap();
    p
}

#[test]
fn bad_text_files_are_one_line_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut cases = testing::bad_files(dir.path());
    // UTF-8 cut inside a character (a truncated text file), one distinct character, a text
    // shorter than one chunk of T + 1 characters.
    let cut = dir.path().join("cut-utf8.txt");
    let mut bytes = "naïve café, ".repeat(20).into_bytes();
    bytes.pop();
    bytes.push(0xc3);
    std::fs::write(&cut, bytes).unwrap();
    cases.push(("a text cut inside a character", cut));
    let same = dir.path().join("one-character.txt");
    std::fs::write(&same, "a".repeat(300)).unwrap();
    cases.push(("a single distinct character", same));
    let short = dir.path().join("short.txt");
    std::fs::write(&short, "to be or").unwrap();
    cases.push(("shorter than one chunk", short));
    for (what, path) in &cases {
        let o = train(path, 5, &out, &[]);
        assert_user_error(&o, what, &[&name(path)]);
    }
    // The same text is fine with a shorter chunk, and a chunk longer than the text is an error
    // naming --seq-len.
    let text = fixture(dir.path());
    let o = run(&[
        "train",
        "--text",
        &s(&text),
        "--seq-len",
        "400",
        "--out",
        &s(&out),
    ]);
    assert_user_error(
        &o,
        "--seq-len longer than the text",
        &["text.txt", "--seq-len 400"],
    );
}

#[test]
fn a_text_without_end_is_refused_before_it_fills_the_memory() {
    // /dev/zero never ends: reading it whole used to grow until the memory ran out (the sweep
    // of issue 19 found it hanging). Linux only: elsewhere there may be no such device.
    let zero = Path::new("/dev/zero");
    if !zero.exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = train(zero, 5, &out, &[]);
    assert_user_error(
        &o,
        "an endless device",
        &["/dev/zero", "the most a chapter loads"],
    );
    assert!(!out.exists(), "a refused run leaves no folder");
}

/// A real checkpoint of the tiny model, and its bytes.
fn checkpoint(dir: &Path) -> (PathBuf, Vec<u8>) {
    let text = fixture(dir);
    let model = dir.join("good");
    ok(train(&text, 12, &model, &[]));
    let bytes = std::fs::read(model.join("model.safetensors")).unwrap();
    (model, bytes)
}

/// A folder holding `bytes` as model.safetensors.
fn folder_with(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let d = dir.join(name);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("model.safetensors"), bytes).unwrap();
    d
}

/// The good checkpoint with one change made through the checkpoint library.
fn edited(
    dir: &Path,
    name: &str,
    good: &Path,
    edit: impl Fn(&mut shared::checkpoint::Checkpoint),
) -> PathBuf {
    let mut ck = shared::checkpoint::load(good.join("model.safetensors"), "char-rnn").unwrap();
    edit(&mut ck);
    let d = dir.join(name);
    std::fs::create_dir_all(&d).unwrap();
    let tensors: Vec<(&str, &DMatrix<f64>)> =
        ck.tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let chapter = ck.metadata.remove("chapter").unwrap();
    let meta: Vec<(&str, String)> = ck
        .metadata
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    shared::checkpoint::save(d.join("model.safetensors"), &chapter, &tensors, &meta).unwrap();
    d
}

#[test]
fn bad_checkpoints_are_one_line_errors_for_resume_and_sample() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (good, bytes) = checkpoint(d);
    let out = d.join("out");
    // Folders that do not hold a usable model.safetensors: (case, folder, what the error names).
    let missing = d.join("no-such-folder");
    let plain_file = d.join("plain-file");
    std::fs::write(&plain_file, "x").unwrap();
    let empty_folder = d.join("empty-folder");
    std::fs::create_dir_all(&empty_folder).unwrap();
    let mut cases: Vec<(&str, PathBuf, String)> = vec![
        ("a missing folder", missing.clone(), name(&missing)),
        (
            "a file instead of a folder",
            plain_file.clone(),
            name(&plain_file),
        ),
        (
            "a folder without a checkpoint",
            empty_folder.clone(),
            name(&empty_folder),
        ),
    ];
    let files: Vec<(&str, &str, Vec<u8>)> = vec![
        ("an empty checkpoint", "empty", vec![]),
        ("random bytes", "random", testing_random_bytes()),
        (
            "a truncated checkpoint",
            "truncated",
            bytes[..bytes.len() / 2].to_vec(),
        ),
        ("a cut header", "cut-header", bytes[..40].to_vec()),
        ("a corrupted header", "corrupted", {
            let mut b = bytes.clone();
            for v in &mut b[8..60] {
                *v = b'#';
            }
            b
        }),
        // One bit in the metadata: the vocabulary's last character ('z' → '{', still a sorted
        // set), or the checksum's key. Both loaded silently before the checksum covered the
        // metadata (found by the sweep of issue 19).
        ("a flipped bit in the vocabulary", "flipped-vocabulary", {
            let mut b = bytes.clone();
            let at = header_at(&b, "\"vocabulary\"");
            let end = at + header_of(&b)[at - 8..].find("\\\"\"").unwrap();
            assert_eq!(b[end - 1], b'z', "the fixture's last character");
            b[end - 1] ^= 0x01;
            b
        }),
        ("a flipped bit in the checksum's key", "flipped-key", {
            let mut b = bytes.clone();
            let at = header_at(&b, "\"checksum\"");
            b[at + 1] ^= 0x01;
            b
        }),
    ];
    for (what, folder, b) in &files {
        let f = folder_with(d, folder, b);
        cases.push((what, f.clone(), format!("{}/model.safetensors", name(&f))));
    }
    let other_chapter = d.join("other-chapter");
    std::fs::create_dir_all(&other_chapter).unwrap();
    shared::checkpoint::save(
        other_chapter.join("model.safetensors"),
        "rnn-lm",
        &[("U", &DMatrix::zeros(8, 30))],
        &[],
    )
    .unwrap();
    cases.push((
        "another chapter's checkpoint",
        other_chapter.clone(),
        "rnn-lm".into(),
    ));
    let bigger = edited(d, "other-sizes", &good, |ck| {
        ck.metadata.insert("hidden".into(), "9".into());
    });
    cases.push(("sizes that do not match", bigger, "expected 9×".into()));
    let nan = edited(d, "nan-weights", &good, |ck| {
        ck.tensors.get_mut("W").unwrap()[(2, 3)] = f64::NAN;
    });
    cases.push(("a NaN weight", nan, "nan-weights/model.safetensors".into()));
    let vocab = edited(d, "bad-vocabulary", &good, |ck| {
        ck.metadata.insert("vocabulary".into(), "[1, 2]".into());
    });
    cases.push(("a broken vocabulary", vocab, "vocabulary".into()));
    let hidden0 = edited(d, "zero-hidden", &good, |ck| {
        ck.metadata.insert("hidden".into(), "0".into());
    });
    cases.push(("hidden 0", hidden0, "hidden".into()));
    let lr = edited(d, "bad-lr", &good, |ck| {
        ck.metadata.insert("lr".into(), "NaN".into());
    });
    cases.push(("a NaN learning rate", lr, "lr".into()));
    let position = edited(d, "bad-position", &good, |ck| {
        ck.metadata.insert("position".into(), "1000000".into());
    });
    cases.push(("a position past the text", position, "position".into()));
    for (what, folder, mention) in &cases {
        let o = run(&["train", "--resume", &s(folder), "--out", &s(&out), "-q"]);
        assert_user_error(&o, &format!("--resume: {what}"), &[mention]);
        if !["a NaN learning rate", "a position past the text"].contains(what) {
            // Sampling reads only the model and its vocabulary.
            let o = run(&["sample", "--model", &s(folder)]);
            assert_user_error(&o, &format!("--model: {what}"), &[mention]);
        }
    }
    // The good one still works both ways, and a resume cannot change the sizes or the text.
    ok(run(&["sample", "--model", &s(&good), "--len", "5"]));
    ok(run(&[
        "train",
        "--resume",
        &s(&good),
        "--iterations",
        "14",
        "--out",
        &s(&out),
        "-q",
    ]));
    let o = run(&[
        "train",
        "--resume",
        &s(&good),
        "--seq-len",
        "11",
        "--out",
        &s(&d.join("out-seq-len")),
    ]);
    assert_user_error(&o, "another --seq-len", &["--seq-len", "10"]);
}

/// The JSON header of a safetensors file.
fn header_of(bytes: &[u8]) -> &str {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    std::str::from_utf8(&bytes[8..8 + n]).unwrap()
}

/// The file offset where `what` starts in the header.
fn header_at(bytes: &[u8], what: &str) -> usize {
    8 + header_of(bytes).find(what).unwrap()
}

fn testing_random_bytes() -> Vec<u8> {
    let mut r = shared::rng::seeded(9);
    (0..3000)
        .map(|_| shared::rng::below(&mut r, 256) as u8)
        .collect()
}

#[test]
fn flags_out_of_range_are_one_line_errors_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let text = s(&fixture(dir.path()));
    let out = s(&dir.path().join("out"));
    let train_cases: [(&str, &str); 12] = [
        ("--hidden", "0"),
        ("--hidden", "5000"),
        ("--seq-len", "0"),
        ("--lr", "-1"),
        ("--lr", "0"),
        ("--lr", "NaN"),
        ("--lr", "inf"),
        ("--lr", "fast"),
        ("--iterations", "0"),
        ("--iterations", "-3"),
        ("--checkpoint-every", "-1"),
        ("--seed", "x"),
    ];
    for (flag, value) in train_cases {
        let arg = format!("{flag}={value}");
        let o = run(&["train", "--text", &text, &arg, "--out", &out, "-q"]);
        assert_user_error(&o, &arg, &[flag]);
    }
    let (good, _) = checkpoint(dir.path());
    let model = s(&good);
    for (flag, value) in [
        ("--temperature", "-1"),
        ("--temperature", "NaN"),
        ("--temperature", "inf"),
        ("--len", "-1"),
        ("--len", "100000000000"),
        ("--prime", ""),
    ] {
        let arg = format!("{flag}={value}");
        let o = run(&["sample", "--model", &model, &arg]);
        assert_user_error(&o, &arg, &[flag]);
    }
    // A character the model never saw.
    let o = run(&["sample", "--model", &model, "--prime", "Zebra"]);
    assert_user_error(&o, "unknown character", &["--prime", "'Z'"]);
}

#[test]
fn an_out_that_cannot_be_written_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = fixture(dir.path());
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    for out in [file.clone(), file.join("below-a-file")] {
        let o = train(&text, 3, &out, &[]);
        assert_user_error(&o, &format!("--out {}", out.display()), &["a-file"]);
    }
}

#[test]
fn a_divergence_stops_with_the_curves_and_the_last_good_checkpoint() {
    // Adagrad moves each weight by at most lr per step and the softmax is max-subtracted, so a
    // huge lr does not make the loss NaN: it makes it enormous (1e302 nats at --lr 1e300), a
    // probability of 0 in f64 for the text's characters. That is the divergence the run reports.
    let dir = tempfile::tempdir().unwrap();
    let (good, _) = checkpoint(dir.path());
    // The good run of 12 iterations, as if it had been started with --lr 1e300: its 13th
    // iteration diverges.
    let huge = edited(dir.path(), "huge-lr", &good, |ck| {
        ck.metadata.insert("lr".into(), "1e300".into());
        let mut flags: serde_json::Value = serde_json::from_str(&ck.metadata["flags"]).unwrap();
        flags["lr"] = serde_json::json!(1e300);
        ck.metadata.insert("flags".into(), flags.to_string());
    });
    let bytes = std::fs::read(huge.join("model.safetensors")).unwrap();
    let o = run(&[
        "train",
        "--resume",
        &s(&huge),
        "--iterations",
        "50",
        "--checkpoint-every",
        "1",
        "-q",
    ]);
    assert_user_error(&o, "--lr 1e300", &["training diverged at step", "--lr"]);
    let step = diverged_at(&o);
    assert!((12..15).contains(&step), "step {step}");
    // The checkpoint is the one from before, byte for byte, and still loads.
    assert_eq!(
        std::fs::read(huge.join("model.safetensors")).unwrap(),
        bytes
    );
    ok(run(&["sample", "--model", &s(&huge), "--len", "5"]));
    // The curves were written up to the last good iteration (recorded every 10: 10).
    let csv = std::fs::read_to_string(huge.join("loss.csv")).unwrap();
    let last = csv.lines().last().unwrap();
    assert!(last.contains(",10,"), "{csv}");
    assert!(huge.join("loss.png").is_file());
    // Fresh runs that diverge at once write no checkpoint at all, but the curve.
    let text = fixture(dir.path());
    for lr in ["1e300", "1e6"] {
        let fresh = dir.path().join(format!("fresh-{lr}"));
        let o = train(&text, 50, &fresh, &["--lr", lr, "--checkpoint-every", "1"]);
        assert_user_error(
            &o,
            &format!("fresh --lr {lr}"),
            &["training diverged at step"],
        );
        assert!(diverged_at(&o) <= 2, "{}", diverged_at(&o));
        assert!(!fresh.join("model.safetensors").exists());
        assert!(fresh.join("loss.csv").is_file());
    }
}

/// N in `error: training diverged at step N...`.
fn diverged_at(o: &Output) -> u64 {
    let e = String::from_utf8_lossy(&o.stderr);
    let rest = e.split("diverged at step ").nth(1).unwrap();
    rest.split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// The iteration a checkpoint folder holds.
fn iteration(dir: &Path) -> u64 {
    let ck = shared::checkpoint::load(dir.join("model.safetensors"), "char-rnn").unwrap();
    ck.meta("iteration").unwrap()
}

#[test]
fn sigkill_mid_training_leaves_a_checkpoint_that_resume_continues_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let text = fixture(dir.path());
    let killed = dir.path().join("killed");
    // A checkpoint (written to a temporary name, synced, renamed) every 3 iterations: the kill
    // lands in or near a write.
    let mut child = Command::new(BIN)
        .args(["train", "--text", &s(&text), "--iterations", "100000000"])
        .args(["--checkpoint-every", "3", "--out", &s(&killed)])
        .args(TINY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ckpt = killed.join("model.safetensors");
    let start = Instant::now();
    while !ckpt.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no checkpoint after a minute"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(150));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // The checkpoint on disk is whole: it loads, at a multiple of 3 iterations.
    let n = iteration(&killed);
    println!("killed after the checkpoint of iteration {n}");
    assert!(n >= 3 && n.is_multiple_of(3), "iteration {n}");
    ok(run(&["sample", "--model", &s(&killed), "--len", "10"]));
    // --resume continues from it up to N + 6 iterations: the same bits as one run of N + 6.
    let resumed = dir.path().join("resumed");
    let total = (n + 6).to_string();
    let o = ok(run(&[
        "train",
        "--resume",
        &s(&killed),
        "--iterations",
        &total,
        "--out",
        &s(&resumed),
        "-q",
    ]));
    assert!(o.contains(&format!("starting at iteration {n}")), "{o}");
    let straight = dir.path().join("straight");
    ok(train(&text, n + 6, &straight, &[]));
    let tensors = |d: &Path| {
        let ck = shared::checkpoint::load(d.join("model.safetensors"), "char-rnn").unwrap();
        let mut v: Vec<(String, Vec<u64>)> = ck
            .tensors
            .iter()
            .map(|(k, m)| (k.clone(), m.iter().map(|x| x.to_bits()).collect()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(tensors(&resumed), tensors(&straight));
}

#[test]
fn same_seed_same_bytes_even_two_runs_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let text = s(&fixture(dir.path()));
    let spawn = |out: &Path, seed: &str| {
        Command::new(BIN)
            .args([
                "train",
                "--text",
                &text,
                "--iterations",
                "40",
                "--seed",
                seed,
            ])
            .args(["--out", &s(out)])
            .args(TINY)
            .output()
    };
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    // a and b at the same time, c afterwards.
    let (oa, ob) = std::thread::scope(|sc| {
        let ha = sc.spawn(|| spawn(&a, "5").unwrap());
        let hb = sc.spawn(|| spawn(&b, "5").unwrap());
        (ha.join().unwrap(), hb.join().unwrap())
    });
    ok(oa);
    ok(ob);
    ok(spawn(&c, "5").unwrap());
    let files = ["loss.csv", "model.safetensors"];
    testing::assert_same_outputs(&a, &b, &files);
    testing::assert_same_outputs(&a, &c, &files);
    // And the comparison can fail: another seed gives another model.
    let d = dir.path().join("d");
    ok(spawn(&d, "6").unwrap());
    assert_ne!(
        std::fs::read(a.join("model.safetensors")).unwrap(),
        std::fs::read(d.join("model.safetensors")).unwrap()
    );
    // No temporary file is left behind.
    for f in [&a, &b, &c, &d] {
        for e in std::fs::read_dir(f).unwrap() {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(!n.starts_with('.'), "{n} left in {}", f.display());
        }
    }
}
