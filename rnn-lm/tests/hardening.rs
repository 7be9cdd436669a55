//! The real binary against bad input, faults and repeated runs (issue 12): every bad file,
//! checkpoint or flag ends with exit code 2 and one `error:` line naming it; a divergence stops
//! with the curves written and the last good checkpoint in place; a SIGKILL leaves a checkpoint
//! that `--resume` continues to the same bits as an uninterrupted run; two runs at once do not
//! interfere; the same seed gives the same bytes.

use nalgebra::DMatrix;
use shared::testing::{self, assert_same_outputs, assert_user_error};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_rnn-lm");

/// A tiny model on the committed fixture (27 sentences): each run takes milliseconds.
const TINY: [&str; 9] = [
    "--vocab",
    "40",
    "--hidden",
    "8",
    "--samples",
    "2",
    "--min-words",
    "1",
    "-q",
];

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/comments.csv")
}

fn run(args: &[&str]) -> Output {
    testing::run(BIN, args)
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// The arguments of a tiny run on the fixture for `epochs` epochs into `out`, with the flag
/// and value pairs of `extra` (replacing the same flag's value in TINY).
fn args(epochs: u64, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["--csv", &s(&fixture()), "--epochs", &epochs.to_string()]
        .iter()
        .chain(&["--out", &s(out)])
        .chain(&TINY)
        .map(|a| a.to_string())
        .collect();
    for pair in extra.chunks(2) {
        match v.iter().position(|x| x == pair[0]) {
            Some(i) => v[i + 1] = pair[1].to_string(),
            None => v.extend(pair.iter().map(|a| a.to_string())),
        }
    }
    v
}

fn train(epochs: u64, out: &Path, extra: &[&str]) -> Output {
    testing::run(BIN, &args(epochs, out, extra))
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

/// The evaluations a checkpoint holds (rows: epoch, seen, loss, lr, halved).
fn evals(dir: &Path) -> DMatrix<f64> {
    let ck = shared::checkpoint::load(dir.join("model.safetensors"), "rnn-lm").unwrap();
    ck.tensors["evals"].clone()
}

#[test]
fn bad_corpus_files_are_one_line_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out");
    let write = |name: &str, text: &[u8]| {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let bad = testing::bad_files(d);
    // Both file flags, every bad file.
    for flag in ["--csv", "--text"] {
        for (what, path) in &bad {
            let o = run(&[flag, &s(path), "--out", &s(&out), "-q"]);
            assert_user_error(&o, &format!("{flag}: {what}"), &[&name(path)]);
        }
    }
    // CSV: no `body` column; only the header; a file cut inside its only record.
    let csv = std::fs::read(fixture()).unwrap();
    let cases = [
        (
            "a CSV without body",
            write("no-body.csv", b"id,text\n1,\"hello there. how are you?\"\n"),
            "body",
        ),
        (
            "a CSV with only the header",
            write("header-only.csv", b"body\n"),
            "header-only.csv",
        ),
        (
            "a CSV cut inside its first record",
            write("cut.csv", &csv[..60]),
            "cut.csv",
        ),
    ];
    for (what, path, mention) in &cases {
        let o = run(&["--csv", &s(path), "--out", &s(&out), "-q"]);
        assert_user_error(&o, what, &[&name(path), mention]);
    }
    // Texts with nothing to learn: one distinct word, punctuation only; a word-level "text
    // cut inside a character" is the non-UTF-8 case of bad_files (the error gives the byte).
    let cases = [
        (
            "a single distinct word",
            write("one-word.txt", b"word word word\n\nword word\n"),
            "one distinct word",
        ),
        (
            "punctuation only",
            write("punctuation.txt", b"... !!! ???\n"),
            "no word",
        ),
        (
            "UTF-8 cut inside a character",
            write("cut-utf8.txt", b"a caf\xc3"),
            "byte 5",
        ),
    ];
    for (what, path, mention) in &cases {
        let o = run(&["--text", &s(path), "--out", &s(&out), "-q"]);
        assert_user_error(&o, what, &[&name(path), mention]);
    }
    // More training sentences than the data holds (the analogue of a sequence longer than
    // the data: a sentence is this model's training sequence).
    let o = train(1, &out, &["--sentences", "28"]);
    assert_user_error(&o, "--sentences 28", &["--sentences", "only 27 sentences"]);
    // A record cut off at the end of a longer file is reported and left out, not an error.
    let truncated = write("truncated.csv", &csv[..csv.len() - 20]);
    let o = ok(run(&[
        "--csv",
        &s(&truncated),
        "--epochs",
        "1",
        "--out",
        &s(&out),
        "--vocab",
        "40",
        "--hidden",
        "4",
        "--samples",
        "0",
        "-q",
    ]));
    assert!(o.contains("truncated.csv: "), "{o}");
}

#[test]
fn flags_out_of_range_are_one_line_errors_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cases: &[(&str, &str)] = &[
        ("--hidden", "0"),
        ("--hidden", "5000"),
        ("--vocab", "0"),
        ("--vocab", "1"),
        ("--vocab", "2"),
        ("--lr", "-1"),
        ("--lr", "0"),
        ("--lr", "NaN"),
        ("--lr", "inf"),
        ("--lr", "fast"),
        ("--epochs", "0"),
        ("--epochs", "-3"),
        ("--epochs", "18446744073709551615"),
        ("--bptt", "0"),
        ("--bptt", "-1"),
        ("--eval-every", "0"),
        ("--sentences", "0"),
        ("--samples", "-1"),
        ("--samples", "1000000000000"),
        ("--seed", "x"),
        ("--threads", "0"),
        ("--threads", "two"),
    ];
    for (flag, value) in cases {
        let arg = format!("{flag}={value}");
        let mut a = vec!["--csv".to_string(), s(&fixture()), arg.clone()];
        a.extend(["--out".into(), s(&out), "-q".into()]);
        let o = testing::run(BIN, &a);
        assert_user_error(&o, &arg, &[flag]);
    }
    // A vocabulary too small for the two sentence markers ("the" outnumbers them).
    let text = dir.path().join("the.txt");
    std::fs::write(&text, "the cat the the the. the dog the the.\n").unwrap();
    let o = run(&["--text", &s(&text), "--vocab", "3", "--out", &s(&out), "-q"]);
    assert_user_error(&o, "--vocab 3", &["--vocab", "SENTENCE_"]);
    // The generated corpus has at most a million sentences.
    let o = run(&["--sentences", "2000000", "--out", &s(&out), "-q"]);
    assert_user_error(&o, "--sentences 2000000", &["--sentences"]);
    // generate and gradcheck.
    let model = dir.path().join("model");
    ok(train(1, &model, &[]));
    for a in [
        ["-n", "-1"],
        ["-n", "1000000000000"],
        ["--max-words", "1000000000000"],
        ["--max-words", "0"],
        ["--min-words", "101"],
        ["--seed", "-1"],
    ] {
        let arg = format!("{}={}", a[0], a[1]);
        let o = run(&["sample", "--model", &s(&model), &arg]);
        assert_user_error(&o, &format!("generate {a:?}"), &[a[0]]);
    }
    for a in [
        ["--vocab", "4"],
        ["--vocab", "100000"],
        ["--hidden", "0"],
        ["--hidden", "1000"],
    ] {
        let o = run(&["gradcheck", a[0], a[1]]);
        assert_user_error(&o, &format!("gradcheck {a:?}"), &[a[0]]);
    }
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
    let mut ck = shared::checkpoint::load(good.join("model.safetensors"), "rnn-lm").unwrap();
    edit(&mut ck);
    let tensors: Vec<(&str, &DMatrix<f64>)> =
        ck.tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let chapter = ck.metadata.remove("chapter").unwrap();
    ck.metadata.remove("checksum");
    let meta: Vec<(&str, String)> = ck
        .metadata
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    let d = folder_with(dir, name, b"");
    shared::checkpoint::save(d.join("model.safetensors"), &chapter, &tensors, &meta).unwrap();
    d
}

#[test]
fn bad_checkpoints_are_one_line_errors_for_sample_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = d.join("good");
    ok(train(2, &good, &[]));
    let bytes = std::fs::read(good.join("model.safetensors")).unwrap();
    let out = d.join("out");
    // (case, folder, what the error names)
    let missing = d.join("no-such-folder");
    let plain_file = d.join("plain-file");
    std::fs::write(&plain_file, "x").unwrap();
    let empty_folder = d.join("empty-folder");
    std::fs::create_dir_all(&empty_folder).unwrap();
    let mut cases: Vec<(String, PathBuf, String)> = vec![
        ("a missing folder".into(), missing.clone(), name(&missing)),
        (
            "a file instead of a folder".into(),
            plain_file.clone(),
            name(&plain_file),
        ),
        (
            "a folder without a model".into(),
            empty_folder.clone(),
            "empty-folder holds no model.safetensors".into(),
        ),
    ];
    // Every bad file as the checkpoint.
    for (i, (what, path)) in testing::bad_files(&d.join("bad")).into_iter().enumerate() {
        let f = d.join(format!("bad-model-{i}"));
        std::fs::create_dir_all(&f).unwrap();
        if path.is_dir() {
            std::fs::create_dir_all(f.join("model.safetensors")).unwrap();
        } else if path.exists() {
            std::fs::copy(&path, f.join("model.safetensors")).unwrap();
        }
        cases.push((format!("checkpoint: {what}"), f.clone(), name(&f)));
    }
    let files: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "a truncated checkpoint",
            "truncated",
            bytes[..bytes.len() / 2].to_vec(),
        ),
        ("a cut header", "cut-header", bytes[..40].to_vec()),
        ("a corrupted tensor", "corrupted", {
            let mut b = bytes.clone();
            let n = b.len();
            b[n - 100] ^= 0x55;
            b
        }),
    ];
    for (what, folder, b) in &files {
        let f = folder_with(d, folder, b);
        let mention = format!("{}/model.safetensors", name(&f));
        cases.push((what.to_string(), f, mention));
    }
    let other = folder_with(d, "other-chapter", b"");
    shared::checkpoint::save(
        other.join("model.safetensors"),
        "char-rnn",
        &[("W", &DMatrix::zeros(8, 8))],
        &[],
    )
    .unwrap();
    cases.push((
        "another chapter's checkpoint".into(),
        other,
        "char-rnn".into(),
    ));
    let sizes = edited(d, "other-sizes", &good, |ck| {
        ck.metadata.insert("hidden".into(), "9".into());
    });
    cases.push(("other sizes".into(), sizes, "expected 9×40".into()));
    let hidden0 = edited(d, "zero-hidden", &good, |ck| {
        ck.metadata.insert("hidden".into(), "0".into());
    });
    cases.push(("hidden 0".into(), hidden0, "hidden".into()));
    let nan = edited(d, "nan-weights", &good, |ck| {
        ck.tensors.get_mut("V").unwrap()[(3, 2)] = f64::NAN;
    });
    cases.push(("a NaN weight".into(), nan, "non-finite".into()));
    // The vocabulary (metadata of the model file): one word more than the model has rows,
    // not a list, a word twice, no sentence markers.
    let vocab = |ck: &shared::checkpoint::Checkpoint| -> Vec<String> {
        serde_json::from_str(&ck.metadata["vocabulary"]).unwrap()
    };
    let longer = edited(d, "longer-vocab", &good, |ck| {
        let mut v = vocab(ck);
        v.push("zebra".into());
        ck.metadata
            .insert("vocabulary".into(), serde_json::to_string(&v).unwrap());
    });
    cases.push(("a longer vocabulary".into(), longer, "expected 8×41".into()));
    let none = edited(d, "no-vocabulary", &good, |ck| {
        ck.metadata.remove("vocabulary");
    });
    cases.push((
        "no vocabulary (an older file)".into(),
        none,
        "train the model again".into(),
    ));
    let not_list = edited(d, "not-a-list", &good, |ck| {
        ck.metadata.insert("vocabulary".into(), "the cat".into());
    });
    cases.push((
        "a vocabulary that is not a list".into(),
        not_list,
        "JSON list".into(),
    ));
    let twice = edited(d, "twice", &good, |ck| {
        let mut v = vocab(ck);
        v[5] = v[4].clone();
        ck.metadata
            .insert("vocabulary".into(), serde_json::to_string(&v).unwrap());
    });
    cases.push(("a word twice".into(), twice, "twice".into()));
    let markers = edited(d, "no-markers", &good, |ck| {
        let v: Vec<String> = vocab(ck)
            .into_iter()
            .map(|w| w.replace("SENTENCE_START", "START"))
            .collect();
        ck.metadata
            .insert("vocabulary".into(), serde_json::to_string(&v).unwrap());
    });
    cases.push((
        "a vocabulary without SENTENCE_START".into(),
        markers,
        "no SENTENCE_START".into(),
    ));
    for (what, folder, mention) in &cases {
        let o = run(&["sample", "--model", &s(folder), "-n", "1"]);
        assert_user_error(&o, &format!("generate --model: {what}"), &[mention]);
        let o = train(3, &out, &["--resume", &s(folder)]);
        assert_user_error(&o, &format!("--resume: {what}"), &[mention]);
    }
    // Resume-only checks: a broken history, and flags that differ from the checkpoint's.
    let history = edited(d, "bad-history", &good, |ck| {
        ck.tensors.get_mut("evals").unwrap()[(1, 1)] = 5.5;
    });
    let o = train(3, &out, &["--resume", &s(&history)]);
    assert_user_error(&o, "a broken history", &["bad-history", "evals"]);
    let no_history = edited(d, "no-history", &good, |ck| {
        ck.tensors.remove("evals");
    });
    let o = train(3, &out, &["--resume", &s(&no_history)]);
    assert_user_error(&o, "no history", &["no-history", "evals"]);
    for (flag, value) in [
        ("--hidden", "9"),
        ("--lr", "0.01"),
        ("--bptt", "2"),
        ("--eval-every", "2"),
        ("--sentences", "20"),
        ("--vocab", "30"),
        ("--epochs", "2"),
    ] {
        let o = train(3, &out, &["--resume", &s(&good), flag, value]);
        assert_user_error(&o, &format!("--resume with {flag} {value}"), &[flag]);
    }
    // Another corpus with the same flags: its vocabulary differs.
    let text = d.join("other.txt");
    std::fs::write(&text, "the cat sat on the mat.\nthe dog ran.\n").unwrap();
    let o = run(&[
        "--text",
        &s(&text),
        "--resume",
        &s(&good),
        "--vocab",
        "40",
        "--hidden",
        "8",
        "--epochs",
        "3",
        "--out",
        &s(&out),
    ]);
    assert_user_error(
        &o,
        "--resume on other data",
        &["--resume", "other sentences"],
    );
    // The same into the checkpoint's own folder, with a vocabulary of the same size (40 of
    // more than 40 distinct words, 27 sentences as the fixture): refused, and the folder's
    // model is left as it was.
    let sentences: Vec<String> = (0..27)
        .map(|i| format!("w{} w{} w{} .", 3 * i, 3 * i + 1, 3 * i + 2))
        .collect();
    std::fs::write(&text, sentences.join("\n")).unwrap();
    let model = std::fs::read(good.join("model.safetensors")).unwrap();
    let o = run(&[
        "--text",
        &s(&text),
        "--resume",
        &s(&good),
        "--vocab",
        "40",
        "--hidden",
        "8",
        "--epochs",
        "3",
        "--out",
        &s(&good),
    ]);
    assert_user_error(
        &o,
        "--resume on other data, same size",
        &["--resume", "other sentences"],
    );
    assert_eq!(
        std::fs::read(good.join("model.safetensors")).unwrap(),
        model
    );
    // The good one still works both ways.
    ok(run(&[
        "sample",
        "--model",
        &s(&good),
        "-n",
        "2",
        "--min-words",
        "1",
    ]));
    ok(train(3, &out, &["--resume", &s(&good)]));
}

#[test]
fn an_out_that_cannot_be_written_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    for out in [file.clone(), file.join("below-a-file")] {
        let o = train(1, &out, &[]);
        assert_user_error(&o, &format!("--out {}", out.display()), &["a-file"]);
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

#[test]
fn a_divergence_stops_with_the_curves_and_the_last_good_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    // lr 1e6: the second sentence's loss is already infinite (a probability underflows to 0).
    let o = train(5, &out, &["--lr", "1e6"]);
    assert_user_error(&o, "--lr 1e6", &["training diverged at step"]);
    let step = diverged_at(&o);
    assert!((1..27).contains(&step), "step {step}");
    // The curves up to there: the evaluation at epoch 0 and the running average of the good
    // steps.
    let csv = std::fs::read_to_string(out.join("loss.csv")).unwrap();
    assert!(csv.contains("loss on all training sentences,0,"), "{csv}");
    let running = csv
        .lines()
        .filter(|l| l.contains("running average"))
        .count();
    assert_eq!(running as u64, step - 1, "{csv}");
    assert!(out.join("loss.png").is_file());
    assert!(!out.join("summary.json").exists());
    // The last good checkpoint is the one of the evaluation at epoch 0 (the untrained model):
    // it loads and generates.
    assert_eq!(evals(&out).nrows(), 1);
    assert_eq!(evals(&out)[(0, 0)], 0.0);
    ok(run(&[
        "sample",
        "--model",
        &s(&out),
        "-n",
        "2",
        "--min-words",
        "1",
    ]));
    // ... byte for byte the weights it started from (the fixture's vocabulary has 40 words,
    // so no sentence of the corpus changes the seed-1 initialisation).
    let mut ck = shared::checkpoint::load(out.join("model.safetensors"), "rnn-lm").unwrap();
    let init = rnn_lm::Rnn::new(40, 8, &mut shared::rng::seeded(1));
    assert_eq!(ck.take("U", 8, 40).unwrap(), init.U);
    assert_eq!(ck.take("W", 8, 8).unwrap(), init.W);
    assert_eq!(ck.take("V", 40, 8).unwrap(), init.V);
    // (With the learning rate halved whenever the loss rises, this model does not diverge
    // after a good epoch: every rate from 5 to 1e6 on the fixture blows up in the first epoch
    // or never; the checkpoint that survives is always epoch 0's.)
}

#[test]
fn sigkill_mid_training_leaves_a_checkpoint_that_resume_continues_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (killed, straight) = (dir.path().join("killed"), dir.path().join("straight"));
    const EPOCHS: u64 = 150;
    // A checkpoint (temporary name, synced, renamed) at every epoch's evaluation.
    let mut child = Command::new(BIN)
        .args(args(EPOCHS, &killed, &[]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Meanwhile, the same run uninterrupted.
    let whole = Command::new(BIN)
        .args(args(EPOCHS, &straight, &[]))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ckpt = killed.join("model.safetensors");
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < Duration::from_secs(60), "no checkpoint");
        if ckpt.exists() && evals(&killed).nrows() >= 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    ok(whole.wait_with_output().unwrap());
    // The checkpoint on disk is whole: it loads, at an epoch before the end.
    let e = evals(&killed);
    let epoch = e[(e.nrows() - 1, 0)] as u64;
    println!("killed after the checkpoint of epoch {epoch}");
    assert!((2..EPOCHS).contains(&epoch), "epoch {epoch}");
    ok(run(&[
        "sample",
        "--model",
        &s(&killed),
        "-n",
        "1",
        "--min-words",
        "1",
    ]));
    // --resume continues from it, into the same folder, to the bits of the uninterrupted run.
    let o = ok(train(EPOCHS, &killed, &["--resume", &s(&killed)]));
    assert!(o.contains(&format!("(epoch {epoch})")), "{o}");
    assert_same_outputs(&killed, &straight, &["model.safetensors", "loss.csv"]);
}

#[test]
fn two_runs_at_once_do_not_interfere_and_the_same_seed_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    let files = ["model.safetensors", "loss.csv", "loss.png"];
    // The default (generated) corpus, small: two at once, then one more alone.
    let flags = |out: &Path| -> Vec<String> {
        [
            "--sentences",
            "60",
            "--hidden",
            "8",
            "--epochs",
            "2",
            "--samples",
            "2",
            "-q",
            "--out",
        ]
        .iter()
        .map(|x| x.to_string())
        .chain([s(out)])
        .collect()
    };
    let spawn = |out: &Path| {
        Command::new(BIN)
            .args(flags(out))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (pa, pb) = (spawn(&a), spawn(&b));
    let (oa, ob) = (
        ok(pa.wait_with_output().unwrap()),
        ok(pb.wait_with_output().unwrap()),
    );
    let oc = ok(testing::run(BIN, &flags(&c)));
    assert_same_outputs(&a, &b, &files);
    assert_same_outputs(&a, &c, &files);
    // Printed output agrees too, apart from times and the folder's name.
    let clean = |o: &str| -> Vec<String> {
        o.lines()
            .filter(|l| !l.contains(" s: Loss") && !l.contains("ms per SGD step"))
            .map(|l| {
                l.replace(&s(&a), "")
                    .replace(&s(&b), "")
                    .replace(&s(&c), "")
            })
            .collect()
    };
    assert_eq!(clean(&oa), clean(&ob));
    assert_eq!(clean(&oa), clean(&oc));
    // Another seed is another corpus and another model.
    let d = dir.path().join("d");
    let mut other = flags(&d);
    other.extend(["--seed".into(), "2".into()]);
    ok(testing::run(BIN, &other));
    assert_ne!(
        std::fs::read(a.join("model.safetensors")).unwrap(),
        std::fs::read(d.join("model.safetensors")).unwrap()
    );
}

#[test]
fn two_threads_write_the_same_bytes_as_one() {
    // A text of 100 sentences of 25 words drawn from 5000 made-up ones: about 2000 distinct
    // words, so that N_x · N_h · T passes the threshold at which the products are split.
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("words.txt");
    let mut r = shared::rng::seeded(3);
    let mut body = String::new();
    for _ in 0..100 {
        for _ in 0..25 {
            body.push_str(&format!("w{} ", shared::rng::below(&mut r, 5000)));
        }
        body.push_str(".\n");
    }
    std::fs::write(&text, body).unwrap();
    let files = ["model.safetensors", "loss.csv"];
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(threads);
        let o = run(&[
            "--text",
            &s(&text),
            "--epochs",
            "1",
            "--samples",
            "0",
            "--threads",
            threads,
            "--out",
            &s(&out),
            "-q",
        ]);
        let o = ok(o);
        // N_x · 100 · 25 ≥ 2 · shared::kernels::threads::MIN_WORK_PER_THREAD: the steps are split.
        let n_x: usize = o
            .split("N_x = ")
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            n_x * 100 * 25 >= 2 * shared::kernels::threads::MIN_WORK_PER_THREAD,
            "{o}"
        );
        outs.push(out);
    }
    assert_same_outputs(&outs[0], &outs[1], &files);
}

#[test]
fn sampling_bounds_no_sentence_meets_give_up_soon() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    ok(train(1, &model, &[]));
    // 100 words then SENTENCE_END: the tiny model never draws it. The 100 n = 10 million
    // draws would take hours; it gives up after 1000 that all failed.
    let o = run(&[
        "sample",
        "--model",
        &s(&model),
        "-n",
        "100000",
        "--min-words",
        "100",
    ]);
    assert_user_error(
        &o,
        "sample -n 100000",
        &["only 0 of 100000", "in 1000 draws"],
    );
    // A few draws that fail are not given up early: the error counts 100 n of them.
    let o = run(&[
        "sample",
        "--model",
        &s(&model),
        "-n",
        "3",
        "--min-words",
        "100",
    ]);
    assert_user_error(&o, "sample -n 3", &["only 0 of 3", "in 300 draws"]);
    // After training, sentences are drawn with at most 100 words: more is refused up front.
    let out = dir.path().join("out");
    let o = train(1, &out, &["--min-words", "101"]);
    assert_user_error(&o, "--min-words 101", &["--min-words", "101", "100 words"]);
    assert!(!out.exists());
}

#[test]
fn a_flipped_bit_in_the_vocabulary_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    ok(train(1, &good, &[]));
    // "the" → "tje" in the vocabulary stored in the metadata: sample printed "tje" for "the".
    let mut raw = std::fs::read(good.join("model.safetensors")).unwrap();
    let at = raw.windows(7).position(|x| x == br#"\"the\""#).unwrap();
    raw[at + 3] ^= 0x02;
    let bad = folder_with(dir.path(), "bad", &raw);
    for o in [
        run(&["sample", "--model", &s(&bad), "-n", "2"]),
        run(&["eval", "--model", &s(&bad), "--csv", &s(&fixture())]),
        run(&["train", "--resume", &s(&bad), "--epochs", "2", "-q"]),
    ] {
        assert_user_error(
            &o,
            "flipped vocabulary",
            &["metadata do not match their checksum"],
        );
    }
}
