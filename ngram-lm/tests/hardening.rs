//! On the real binary: every file flag against bad files, truncated and corrupted
//! `.mat` files and checkpoints, flags out of range, corpora too small, unknown words, an
//! `--out` that cannot be written, divergence, a kill at any moment, two runs at once, and the
//! same seed giving the same outputs. Each bad input must end with exit code 2 and one line
//! `error: ...` naming the file or flag (`shared::testing::assert_user_error`).

use shared::data::text::Vocab;
use shared::testing::{self, assert_user_error, bad_files};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

mod common;
use common::{SMALL, WORDS, train_tiny};

const BIN: &str = env!("CARGO_BIN_EXE_ngram-lm");

/// Runs the binary in `cwd` (where a run without `--out` writes `runs/ngram-lm`).
fn run_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the binary runs")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn name(p: &Path) -> &str {
    p.file_name().unwrap().to_str().unwrap()
}

/// `train` with SMALL's flags, `--out out`, and `extra` flag/value pairs replacing SMALL's.
fn small_args<'a>(out: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args: Vec<&str> = vec!["train"];
    let mut i = 0;
    while i < SMALL.len() {
        if extra.contains(&SMALL[i]) {
            i += 2; // a flag with its value, given again in `extra`
        } else {
            args.push(SMALL[i]);
            i += 1;
        }
    }
    args.extend(["--quiet", "--out", s(out)]);
    args.extend(extra);
    args
}

fn train_small(cwd: &Path, out: &Path, extra: &[&str]) -> Output {
    run_in(cwd, &small_args(out, extra))
}

/// A folder with a tiny trained model (14 words) with its vocabulary.
fn saved_model(dir: &Path) -> PathBuf {
    let m = dir.join("model");
    std::fs::create_dir_all(&m).unwrap();
    let (t, _) = train_tiny(3);
    let vocab = Vocab::from_words(WORDS.map(String::from).to_vec()).unwrap();
    ngram_lm::checkpoint::save_model(&t.model.to_model(), &vocab, m.join("model.safetensors"))
        .unwrap();
    m
}

/// The epoch and the step count a training checkpoint was written at.
fn epoch_of(file: &Path) -> (usize, u64) {
    let ck = shared::checkpoint::load(file, "ngram-lm").unwrap();
    (ck.meta("epoch").unwrap(), ck.meta("steps").unwrap())
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/tests/fixtures")
        .join(name)
}

#[test]
fn every_file_flag_rejects_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out");
    for (what, path) in bad_files(d) {
        for flag in ["--text", "--mat"] {
            let o = run_in(d, &["train", flag, s(&path), "--out", s(&out), "--quiet"]);
            assert_user_error(&o, &format!("{flag} {what}"), &[name(&path)]);
        }
        // --model as the file itself, then as a folder holding it under each expected name.
        let o = run_in(d, &["nearest", "could", "--model", s(&path)]);
        assert_user_error(&o, &format!("--model {what}"), &[name(&path)]);
        if !path.is_file() {
            continue;
        }
        let m = saved_model(&d.join(format!("with-bad-model-{}", name(&path))));
        std::fs::copy(&path, m.join("model.safetensors")).unwrap();
        let o = run_in(d, &["predict", "you", "could", "see", "--model", s(&m)]);
        assert_user_error(
            &o,
            &format!("model.safetensors = {what}"),
            &["model.safetensors"],
        );
    }
    // The model file itself is accepted as --model.
    let m = saved_model(&d.join("direct"));
    let o = run_in(
        d,
        &[
            "distance",
            "can",
            "can",
            "--model",
            s(&m.join("model.safetensors")),
        ],
    );
    assert!(o.status.success(), "{o:?}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.ends_with(".safetensors (V = 14 words, D = 8, H = 16)\ndistance can can: 0.00\n"),
        "{out}"
    );
}

#[test]
fn truncated_or_corrupted_mat_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out");
    let tiny = [
        "--epochs", "1", "--batch", "5", "--embed", "3", "--hidden", "4",
    ];
    // The plain and the compressed fixture in data.mat's layout, cut at many lengths.
    for fix in ["hinton_like.mat", "hinton_like_z.mat"] {
        let bytes = std::fs::read(fixture(fix)).unwrap();
        let cut = d.join(format!("cut-{fix}"));
        let step = bytes.len() / 23;
        for n in (0..bytes.len()).step_by(step).chain([bytes.len() - 1]) {
            std::fs::write(&cut, &bytes[..n]).unwrap();
            let mut args = vec!["train", "--mat", s(&cut), "--out", s(&out), "--quiet"];
            args.push("--overwrite");
            args.extend(tiny);
            assert_user_error(
                &run_in(d, &args),
                &format!("{fix} cut at {n} of {} bytes", bytes.len()),
                &[name(&cut)],
            );
        }
        // Random bytes overwritten: either the file still reads as a valid data set (the format
        // has no checksum) and training runs, or a clear error; never a panic.
        let bad = d.join(format!("flipped-{fix}"));
        let mut r = shared::rng::seeded(17);
        let (mut ok, mut errors) = (0, 0);
        for _ in 0..30 {
            let mut b = bytes.clone();
            for _ in 0..1 + shared::rng::below(&mut r, 3) {
                let at = shared::rng::below(&mut r, b.len());
                b[at] = shared::rng::below(&mut r, 256) as u8;
            }
            std::fs::write(&bad, &b).unwrap();
            let mut args = vec!["train", "--mat", s(&bad), "--out", s(&out), "--quiet"];
            args.push("--overwrite");
            args.extend(tiny);
            let o = run_in(d, &args);
            if o.status.success() {
                ok += 1;
            } else {
                assert_user_error(&o, &format!("{fix} with bytes overwritten"), &[name(&bad)]);
                errors += 1;
            }
        }
        println!("{fix}: 30 corruptions, {ok} still valid, {errors} clear errors");
        assert!(errors > 0);
    }
}

#[test]
fn truncated_corrupted_or_foreign_checkpoints_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let m = saved_model(d);
    let file = m.join("model.safetensors");
    let good = std::fs::read(&file).unwrap();
    let query = ["nearest", "could", "-k", "3", "--model", s(&m)];
    assert!(run_in(d, &query).status.success());
    let header = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    // Truncated anywhere: in the length prefix, the JSON header, the tensors.
    for n in [
        0,
        5,
        8,
        8 + header / 2,
        8 + header,
        good.len() / 2,
        good.len() - 1,
    ] {
        std::fs::write(&file, &good[..n]).unwrap();
        assert_user_error(
            &run_in(d, &query),
            &format!("cut at {n}"),
            &["model.safetensors"],
        );
    }
    // One byte changed in the header or in the weights (the checksum catches the latter).
    for at in [
        3,
        8 + header / 3,
        8 + header + 11,
        good.len() / 2,
        good.len() - 2,
    ] {
        let mut b = good.clone();
        b[at] ^= 0x24;
        std::fs::write(&file, &b).unwrap();
        assert_user_error(
            &run_in(d, &query),
            &format!("byte {at} changed"),
            &["model.safetensors"],
        );
    }
    // Another chapter's checkpoint.
    let w = nalgebra::DMatrix::from_element(3, 3, 0.5);
    shared::checkpoint::save(&file, "char-rnn", &[("W", &w)], &[]).unwrap();
    assert_user_error(
        &run_in(d, &query),
        "char-rnn checkpoint",
        &["model.safetensors", "char-rnn"],
    );
    // An ngram-lm checkpoint whose tensors do not have the sizes its metadata states.
    let (t, _) = train_tiny(0);
    let mm = &t.model;
    let wrong_w1 = nalgebra::DMatrix::from_element(mm.W1.nrows() + 1, mm.W1.ncols(), 0.1);
    shared::checkpoint::save(
        &file,
        "ngram-lm",
        &[
            ("W0", &mm.W0),
            ("W1", &wrong_w1),
            ("b1", &mm.b1),
            ("W2", &mm.W2),
            ("b2", &mm.b2),
        ],
        &[
            ("vocab", "14".into()),
            ("embed", "8".into()),
            ("hidden", "16".into()),
            ("vocabulary", serde_json::to_string(&WORDS).unwrap()),
        ],
    )
    .unwrap();
    assert_user_error(
        &run_in(d, &query),
        "W1 of another size",
        &["model.safetensors", "W1"],
    );
    // A vocabulary that is not a list of words.
    std::fs::write(&file, &good).unwrap();
    edited(&file, &file, |_, m| {
        m.insert("vocabulary".into(), "could would".into());
    });
    assert_user_error(
        &run_in(d, &query),
        "vocabulary not JSON",
        &["model.safetensors", "vocabulary", "not a JSON list"],
    );
}

#[test]
fn flags_out_of_range_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out");
    for (flag, value) in [
        ("--hidden", "0"),
        ("--embed", "0"),
        ("--batch", "0"),
        ("--epochs", "0"),
        ("--vocab", "0"),
        ("--sentences", "0"),
        ("--lr", "-1"),
        ("--lr", "nan"),
        ("--lr", "inf"),
        ("--momentum", "1"),
        ("--momentum", "-0.5"),
        ("--weight-decay", "-1"),
        ("--hidden", "many"),
    ] {
        let o = run_in(d, &["train", flag, value, "--out", s(&out), "--quiet"]);
        assert_user_error(&o, &format!("{flag} {value}"), &[flag, value]);
    }
    let m = saved_model(d);
    let o = run_in(d, &["nearest", "could", "-k", "0", "--model", s(&m)]);
    assert_user_error(&o, "-k 0", &["-k", "0"]);
    // A batch larger than the training set (the analogue of a sequence longer than the data).
    let o = train_small(d, &out, &["--batch", "100000"]);
    assert_user_error(
        &o,
        "--batch 100000",
        &["--batch", "100000", "training 4-grams"],
    );
    // Sizes that cannot fit in memory are refused before anything is allocated.
    let o = train_small(d, &out, &["--hidden", "4000000000"]);
    assert_user_error(&o, "--hidden 4e9", &["--hidden", "would need about", "GB"]);
    // So are generated corpora that cannot fit.
    let o = train_small(d, &out, &["--sentences", "18446744073709551615"]);
    assert_user_error(
        &o,
        "--sentences 2^64 - 1",
        &["--sentences", "would need about"],
    );
}

#[test]
fn corpora_too_small_or_of_one_word_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out");
    let cases = [
        ("three-words.txt", "the cat sat\n".repeat(500), "no 4-gram"),
        (
            "one-word.txt",
            "word word word word word\n".repeat(200),
            "1 word(s)",
        ),
        (
            "one-line.txt",
            "one two three four five six\n".to_string(),
            "no 4-gram",
        ),
    ];
    for (file, text, says) in cases {
        let p = d.join(file);
        std::fs::write(&p, text).unwrap();
        let o = run_in(d, &["train", "--text", s(&p), "--out", s(&out), "--quiet"]);
        assert_user_error(&o, file, &[file, says]);
        // --vocab 1 leaves a single word too, whatever the text.
        let o = run_in(
            d,
            &[
                "train",
                "--text",
                s(&p),
                "--vocab",
                "1",
                "--out",
                s(&out),
                "--quiet",
            ],
        );
        assert_user_error(&o, &format!("{file} --vocab 1"), &[file]);
    }
}

#[test]
fn unknown_words_are_errors_that_suggest_close_words() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let m = saved_model(d);
    let cases: [&[&str]; 4] = [
        &["nearest", "coud"],
        &["predict", "you", "coud", "see"],
        &["predict", "you", "could", "coud"],
        &["distance", "could", "coud"],
    ];
    for args in cases {
        let mut a = args.to_vec();
        a.extend(["--model", s(&m)]);
        let o = run_in(d, &a);
        assert_user_error(
            &o,
            &args.join(" "),
            &[
                "'coud' is not in the vocabulary of 14 words",
                "closest: could",
            ],
        );
        // Only the line saying which model was asked.
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.starts_with("model: ") && out.lines().count() == 1,
            "{out}"
        );
    }
    // Typed in capitals: looked up lower-cased, so it is found.
    let o = run_in(d, &["distance", "COULD", "Can", "--model", s(&m)]);
    assert!(o.status.success(), "{o:?}");
}

#[test]
fn an_out_that_cannot_be_written_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let blocker = d.join("a-regular-file");
    std::fs::write(&blocker, "not a folder").unwrap();
    let o = train_small(d, &blocker.join("run"), &[]);
    assert_user_error(&o, "--out under a file", &["a-regular-file"]);
    let o = train_small(d, &blocker, &[]);
    assert_user_error(&o, "--out is a file", &["--out", "a-regular-file"]);
}

#[test]
fn divergence_stops_keeps_the_curves_and_the_previous_model() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out");
    assert!(train_small(d, &out, &[]).status.success());
    let model = std::fs::read(out.join("model.safetensors")).unwrap();
    assert_eq!(epoch_of(&out.join("model.safetensors")), (2, 2 * 61));
    let _ = std::fs::remove_file(out.join("loss.csv"));
    // A huge weight decay makes W ← W(1 − αλ) − ... grow without bound: NaN in the second
    // epoch (123 batches of 10 per epoch here: one curve point, at batch 100, before it). The
    // step at which the growth overflows depends on the products' last bits (156 or 157 here).
    let o = train_small(
        d,
        &out,
        &[
            "--weight-decay",
            "1000",
            "--epochs",
            "5",
            "--batch",
            "10",
            "--overwrite",
        ],
    );
    assert_user_error(&o, "--weight-decay 1000", &["training diverged at step 15"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let step: String = stderr
        .split("at step ")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let diverged = format!("training diverged at step {step}:");
    let csv = std::fs::read_to_string(out.join("loss.csv")).unwrap();
    assert!(
        csv.lines()
            .any(|l| l.contains(",train (mean of 100 batches),")),
        "{csv}"
    );
    assert!(out.join("loss.png").is_file());
    // The checkpoint is the last good one, that of epoch 1 (123 batches), and still answers.
    let ckpt = out.join("model.safetensors");
    assert_ne!(std::fs::read(&ckpt).unwrap(), model);
    assert_eq!(epoch_of(&ckpt), (1, 123));
    let o = run_in(d, &["nearest", "could", "--model", s(&out)]);
    assert!(o.status.success(), "{o:?}");
    // Resumed (with its stored flags), the same run diverges at the same step: the state it
    // continues from is exact.
    let o = run_in(d, &["train", "--resume", s(&out), "--quiet"]);
    assert_user_error(&o, "resumed", &[&diverged]); // the same step
    assert_eq!(epoch_of(&ckpt), (1, 123));
    // A learning rate so large that the update overflows: NaN within a few steps.
    let o = train_small(d, &out, &["--lr", "1e308", "--overwrite"]);
    assert_user_error(&o, "--lr 1e308", &["training diverged at step", "NaN"]);
    // --lr 1e6 does not reach a non-finite number (the CE's log floor caps it at 30 nats, as
    // train.m's lr-100 run ends at 26.7): the run ends and says it diverged.
    let o = train_small(d, &out, &["--lr", "1e6", "--overwrite"]);
    assert!(o.status.success(), "{o:?}");
    let log = String::from_utf8_lossy(&o.stdout);
    assert!(
        log.contains("note: the validation CE is above ln 250"),
        "{log}"
    );
}

#[test]
fn a_kill_at_any_moment_leaves_loadable_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out");
    assert!(train_small(d, &out, &[]).status.success());
    // Kill runs into the same folder after 0 … 0.4 s: before, during and after their writes (a
    // run takes ≈ 0.4 s here, most of it syncing its six output files).
    for k in 0..12u64 {
        let seed = (k + 2).to_string();
        let args = small_args(&out, &["--seed", &seed, "--overwrite"]);
        let mut child = Command::new(BIN)
            .args(&args)
            .current_dir(d)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(35 * k));
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        // Whatever run's files are there, each is whole: the model loads with its vocabulary.
        let o = run_in(d, &["nearest", "could", "--model", s(&out)]);
        assert!(o.status.success(), "after a kill at {} ms: {o:?}", 35 * k);
        let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
        assert!(serde_json::from_str::<serde_json::Value>(&summary).is_ok());
    }
}

#[test]
fn same_seed_same_outputs_even_with_two_runs_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let files = ["loss.csv", "loss.png", "model.safetensors", "embedding.png"];
    let (a, b, c) = (d.join("a"), d.join("b"), d.join("c"));
    // Two at the same time in the same working folder, then one alone.
    let spawn = |out: &Path| {
        Command::new(BIN)
            .args(small_args(out, &[]))
            .current_dir(d)
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    };
    let (mut pa, mut pb) = (spawn(&a), spawn(&b));
    assert!(pa.wait().unwrap().success() && pb.wait().unwrap().success());
    assert!(train_small(d, &c, &[]).status.success());
    testing::assert_same_outputs(&a, &b, &files);
    testing::assert_same_outputs(&a, &c, &files);
    // Another seed, another model: the comparison above can fail.
    let e = d.join("e");
    assert!(train_small(d, &e, &["--seed", "2"]).status.success());
    let model = |p: &Path| std::fs::read(p.join("model.safetensors")).unwrap();
    assert_ne!(model(&a), model(&e));
}

/// `train` with SMALL's flags and `--epochs epochs` into `out`, then `extra`; must succeed.
fn train_ok(cwd: &Path, out: &Path, epochs: &str, extra: &[&str]) -> String {
    let mut flags = vec!["--epochs", epochs];
    flags.extend(extra);
    let o = train_small(cwd, out, &flags);
    assert!(o.status.success(), "{o:?}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The files a run writes besides summary.json (compared by `assert_same_outputs` too).
const OUTPUTS: [&str; 4] = ["loss.csv", "loss.png", "model.safetensors", "embedding.png"];

#[test]
fn resume_continues_to_the_bytes_of_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (straight, two, one, more) = (d.join("3"), d.join("2+1"), d.join("1"), d.join("1+2"));
    train_ok(d, &straight, "3", &[]);
    // 2 epochs, then --resume the folder into itself up to 3.
    train_ok(d, &two, "2", &[]);
    assert_eq!(epoch_of(&two.join("model.safetensors")), (2, 122));
    let log = train_ok(d, &two, "3", &["--resume", s(&two)]);
    assert!(log.contains(" after epoch 2\nEpoch 3\n"), "{log}");
    assert!(!log.contains("Epoch 2\n"), "{log}");
    testing::assert_same_outputs(&straight, &two, &OUTPUTS);
    // 1 epoch, then --resume its model.safetensors into another folder up to 2, then up to 3.
    train_ok(d, &one, "1", &[]);
    let file = one.join("model.safetensors");
    train_ok(d, &more, "2", &["--resume", s(&file)]);
    train_ok(d, &more, "3", &["--resume", s(&more)]);
    testing::assert_same_outputs(&straight, &more, &OUTPUTS);
    // The comparison can fail: 2 epochs are not 3.
    assert_ne!(
        std::fs::read(one.join("loss.csv")).unwrap(),
        std::fs::read(straight.join("loss.csv")).unwrap()
    );
}

/// A copy of the checkpoint `good` with its tensors and metadata edited by `edit`.
fn edited(
    good: &Path,
    to: &Path,
    edit: impl FnOnce(
        &mut std::collections::HashMap<String, nalgebra::DMatrix<f64>>,
        &mut std::collections::HashMap<String, String>,
    ),
) {
    let mut ck = shared::checkpoint::load(good, "ngram-lm").unwrap();
    edit(&mut ck.tensors, &mut ck.metadata);
    let tensors: Vec<(&str, &nalgebra::DMatrix<f64>)> =
        ck.tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let meta: Vec<(&str, String)> = ck
        .metadata
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    shared::checkpoint::save(to, "ngram-lm", &tensors, &meta).unwrap();
}

#[test]
fn resume_refuses_checkpoints_flags_and_data_that_do_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = d.join("run");
    train_ok(d, &run, "2", &[]);
    let good = run.join("model.safetensors");
    let bytes = std::fs::read(&good).unwrap();
    let out = d.join("out");
    let resume = |from: &Path, extra: &[&str]| {
        let mut flags = vec!["--epochs", "3", "--resume", s(from)];
        flags.extend(extra);
        run_in(d, &small_args(&out, &flags))
    };
    // The checkpoint works as it is.
    assert!(resume(&good, &[]).status.success());
    std::fs::remove_dir_all(&out).unwrap();
    // Files that are not a checkpoint of this run.
    let bad = d.join("bad.safetensors");
    let w = nalgebra::DMatrix::from_element(3, 3, 0.5);
    shared::checkpoint::save(&bad, "char-rnn", &[("W", &w)], &[]).unwrap();
    assert_user_error(
        &resume(&bad, &[]),
        "char-rnn",
        &["bad.safetensors", "char-rnn"],
    );
    let plain = saved_model(d).join("model.safetensors");
    assert_user_error(&resume(&plain, &[]), "no state", &["cannot be resumed"]);
    assert_user_error(&resume(&d.join("nowhere"), &[]), "missing", &["--resume"]);
    for n in [0, 100, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(&bad, &bytes[..n]).unwrap();
        let what = format!("cut at {n}");
        assert_user_error(&resume(&bad, &[]), &what, &["bad.safetensors"]);
    }
    let mut flipped = bytes.clone();
    flipped[bytes.len() - 100] ^= 0x24;
    std::fs::write(&bad, &flipped).unwrap();
    assert_user_error(
        &resume(&bad, &[]),
        "flipped",
        &["bad.safetensors", "checksum"],
    );
    // Tensors of other sizes, a missing velocity, an epoch that does not match its steps.
    type Edit = fn(
        &mut std::collections::HashMap<String, nalgebra::DMatrix<f64>>,
        &mut std::collections::HashMap<String, String>,
    );
    let edits: [(&str, Edit, &str); 5] = [
        (
            "delta.W1 of another size",
            |t, _| {
                t.insert("delta.W1".into(), nalgebra::DMatrix::zeros(2, 2));
            },
            "delta.W1",
        ),
        (
            "W2 of another size",
            |t, _| {
                t.insert("W2".into(), nalgebra::DMatrix::zeros(8, 3));
            },
            "W2",
        ),
        (
            "no delta.b2",
            |t, _| {
                t.remove("delta.b2");
            },
            "delta.b2",
        ),
        (
            "curve of 3 columns",
            |t, _| {
                t.insert("curve.train".into(), nalgebra::DMatrix::zeros(1, 3));
            },
            "curve.train",
        ),
        (
            "epoch 1 of 122 steps",
            |_, m| {
                m.insert("epoch".into(), "1".into());
            },
            "`epoch` 1, `batch_in_epoch` 0 and `steps` 122",
        ),
    ];
    for (what, edit, says) in edits {
        edited(&good, &bad, edit);
        assert_user_error(&resume(&bad, &[]), what, &["bad.safetensors", says]);
    }
    // Flags that contradict the checkpoint, named.
    for (flag, value) in [
        ("--hidden", "9"),
        ("--embed", "5"),
        ("--batch", "10"),
        ("--lr", "0.2"),
        ("--momentum", "0.5"),
        ("--weight-decay", "0.01"),
        ("--seed", "2"),
    ] {
        let o = resume(&good, &[flag, value]);
        assert_user_error(
            &o,
            &format!("{flag} {value}"),
            &[flag, value, "trained with"],
        );
    }
    let o = run_in(
        d,
        &small_args(&out, &["--epochs", "2", "--resume", s(&good)]),
    );
    assert_user_error(&o, "--epochs 2", &["--epochs", "already done 2 epochs"]);
    // Other data: more sentences (a flag a resume keeps), or another text file.
    let o = resume(&good, &["--sentences", "401"]);
    assert_user_error(
        &o,
        "--sentences 401",
        &["--sentences", "401", "trained with"],
    );
    let text = d.join("corpus.txt");
    std::fs::write(&text, "one two three four five six\n".repeat(100)).unwrap();
    let o = resume(&good, &["--text", s(&text)]);
    assert_user_error(&o, "--text", &["--resume", "other data"]);
    // None of these wrote anything.
    assert!(!out.join("model.safetensors").exists());
}

/// The epoch of the checkpoint `file`, `None` while there is none; a checkpoint that does not
/// load (a torn write) fails the test.
fn poll_epoch(file: &Path) -> Option<usize> {
    file.exists().then(|| epoch_of(file).0)
}

#[test]
fn sigkill_mid_training_then_resume_ends_with_the_bytes_of_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // ~330 batches per epoch, 24 epochs: a checkpoint every few ms.
    const EPOCHS: &str = "24";
    let long = |out: &Path, extra: &[&str]| -> Vec<String> {
        let mut a = small_args(out, &["--sentences", "2000", "--epochs", EPOCHS]);
        a.extend(extra);
        a.iter().map(|x| x.to_string()).collect()
    };
    let straight = d.join("straight");
    let whole = Command::new(BIN)
        .args(long(&straight, &[]))
        .current_dir(d)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut resumed_from = Vec::new();
    // Kill once the checkpoint of epoch k is there, plus 0–3 ms: before, during or after the
    // next epoch's write.
    for (i, k) in [1usize, 4, 9, 15].into_iter().enumerate() {
        let killed = d.join(format!("killed-{k}"));
        let mut child = Command::new(BIN)
            .args(long(&killed, &[]))
            .current_dir(d)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let ckpt = killed.join("model.safetensors");
        let t0 = std::time::Instant::now();
        while poll_epoch(&ckpt).is_none_or(|e| e < k) {
            assert!(t0.elapsed() < Duration::from_secs(120), "no checkpoint {k}");
            assert!(child.try_wait().unwrap().is_none(), "the run ended early");
            std::thread::sleep(Duration::from_micros(500));
        }
        std::thread::sleep(Duration::from_millis(i as u64));
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        // The last checkpoint is whole and usable.
        let (epoch, steps) = epoch_of(&ckpt);
        assert!(epoch >= k && steps > 0, "epoch {epoch}");
        let o = run_in(d, &["nearest", "could", "--model", s(&killed)]);
        assert!(o.status.success(), "after the kill at epoch {epoch}: {o:?}");
        if epoch.to_string() == EPOCHS {
            continue; // finished before the kill landed: nothing to resume
        }
        resumed_from.push((k, epoch));
        let o = run_in(
            d,
            &long(&killed, &["--resume", s(&killed)])
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        assert!(o.status.success(), "resume after epoch {epoch}: {o:?}");
        let log = String::from_utf8_lossy(&o.stdout);
        assert!(log.contains(&format!("after epoch {epoch}\n")), "{log}");
    }
    let o = whole.wait_with_output().unwrap();
    assert!(o.status.success(), "{o:?}");
    println!("(kill target, checkpoint epoch) resumed: {resumed_from:?}");
    assert!(resumed_from.len() >= 3, "{resumed_from:?}");
    for (k, _) in &resumed_from {
        testing::assert_same_outputs(&d.join(format!("killed-{k}")), &straight, &OUTPUTS);
    }
}

/// The numbers after the last ": " or space of each line of `out` that holds `what`.
fn numbers_after(out: &Output, what: &str) -> Vec<f64> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(what))
        .map(|l| l.rsplit([' ', ':']).next().unwrap().parse::<f64>().unwrap())
        .collect()
}

#[test]
fn embeddings_blown_up_by_a_huge_lr_still_have_finite_distances() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out");
    // --lr 1e300 leaves W0's entries finite but so large that their squares overflow: the run
    // ends (saying it diverged) and its distances were printed as `inf`.
    let o = train_small(d, &out, &["--sentences", "2000", "--lr", "1e300"]);
    assert!(o.status.success(), "{o:?}");
    let log = String::from_utf8_lossy(&o.stdout);
    assert!(log.contains("the training diverged"), "{log}");
    assert!(!log.contains("inf"), "{log}");
    let o = run_in(d, &["distance", "could", "can", "--model", s(&out)]);
    assert!(o.status.success(), "{o:?}");
    let dist = numbers_after(&o, "distance could can");
    assert!(
        dist.len() == 1 && dist[0].is_finite() && dist[0] > 1e100,
        "{o:?}"
    );
    let o = run_in(d, &["nearest", "could", "-k", "5", "--model", s(&out)]);
    assert!(o.status.success(), "{o:?}");
    let near = String::from_utf8_lossy(&o.stdout);
    let d: Vec<f64> = near
        .lines()
        .skip_while(|l| !l.starts_with("nearest could:"))
        .skip(1)
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(d.len() == 5 && d.iter().all(|x| x.is_finite()), "{near}");
}
