//! The run session through the real binary: the shared contract (a finished run is kept, a
//! resume continues in its own folder with its own flags, one run per folder, closed and full
//! stdout, Ctrl-C then resume equals an unstopped run, `--version`), and ngram-lm's own cases:
//! a new run in a finished run's folder leaves that model usable (issue 19, case 2), Ctrl-C in
//! the middle of an epoch, `eval`.

use shared::testing::{self, SessionContract, assert_user_error, ok};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ngram-lm");

mod common;

/// `train` with SMALL's flags: 2 epochs of 61 batches, tiny sizes (without `--quiet`: the
/// contract's checks add it themselves).
fn short() -> Vec<&'static str> {
    [&["train"][..], &common::SMALL].concat()
}

/// A run of several seconds: SMALL's sizes, 40 epochs of ≈ 330 batches.
fn long() -> Vec<&'static str> {
    [
        &["train", "--sentences", "2000", "--epochs", "40"][..],
        &common::SMALL[4..],
    ]
    .concat()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn run_with_out(base: &[&str], out: &Path, extra: &[&str]) -> Output {
    testing::run(BIN, &testing::args_with_out(base, out, extra))
}

#[test]
fn the_session_contract() {
    let dir = tempfile::tempdir().unwrap();
    SessionContract {
        bin: BIN,
        short: &short(),
        long: &long(),
        length: ("--epochs", "3"),
        resume_cmd: &["train"],
        fixed: ("--lr", "0.5"),
    }
    .check_all(dir.path());
}

/// `ngram-lm nearest could --model DIR`.
fn nearest(model: &Path) -> Output {
    testing::run(BIN, &["nearest", "could", "--model", s(model)])
}

#[test]
fn a_new_run_in_a_finished_runs_folder_leaves_its_model_usable() {
    // Issue 19, case 2: the vocabulary used to be written (vocab.txt) before the first
    // checkpoint, so a new run on other data, stopped early in a finished run's folder, left a
    // model with another run's words beside it. Now the words are inside model.safetensors.
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    ok(&run_with_out(&short(), &run, &[]), "the finished run");
    let model = std::fs::read(run.join("model.safetensors")).unwrap();
    let answer = nearest(&run);
    ok(&answer, "nearest on the finished run");
    assert!(!run.join("vocab.txt").exists());
    // A new run on other data there is refused, and touches nothing.
    let text = dir.path().join("other.txt");
    std::fs::write(&text, "the cat sat on the mat today\n".repeat(300)).unwrap();
    let other = ["train", "--text", s(&text), "--batch", "20", "--quiet"];
    let o = run_with_out(&other, &run, &[]);
    assert_user_error(&o, "a new run", &["already holds a run", "--overwrite"]);
    assert_eq!(std::fs::read(run.join("model.safetensors")).unwrap(), model);
    // With --overwrite, killed before its first checkpoint (a large corpus: it is still
    // making its 4-grams): the old model still answers, with the old words.
    let big = ["train", "--sentences", "400000", "--quiet", "--overwrite"];
    let mut child = Command::new(BIN)
        .args(testing::args_with_out(&big, &run, &[]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&run.join(".lock"), &mut child);
    let _ = child.kill(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(std::fs::read(run.join("model.safetensors")).unwrap(), model);
    let again = nearest(&run);
    ok(&again, "nearest after the killed run");
    assert_eq!(stdout(&again), stdout(&answer));
}

/// Waits until `file` exists while `child` runs.
fn wait_for(file: &Path, child: &mut std::process::Child) {
    let t0 = Instant::now();
    while !file.exists() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no {}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn ctrl_c_in_the_middle_of_an_epoch_continues_to_the_same_bytes() {
    // One epoch of ≈ 1,000 batches at the notes' sizes (a second or more): Ctrl-C lands inside
    // it; the checkpoint then holds the position in the epoch and the running sums of train.m's
    // averages.
    let dir = tempfile::tempdir().unwrap();
    let (stopped, whole) = (dir.path().join("stopped"), dir.path().join("whole"));
    let args = ["train", "--sentences", "30000", "--epochs", "1", "--quiet"];
    let mut child = Command::new(BIN)
        .args(testing::args_with_out(&args, &stopped, &[]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once it prints "Epoch 1", training has begun.
    let mut log = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while line != "Epoch 1\n" {
        line.clear();
        assert!(log.read_line(&mut line).unwrap() > 0, "no `Epoch 1` line");
    }
    std::thread::sleep(Duration::from_millis(300));
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(
        err.contains(&format!("--resume {}", stopped.display())),
        "{err}"
    );
    let ck = shared::checkpoint::load(stopped.join("model.safetensors"), "ngram-lm").unwrap();
    let (epoch, batch): (usize, usize) = (
        ck.meta("epoch").unwrap(),
        ck.meta("batch_in_epoch").unwrap(),
    );
    assert_eq!(
        epoch, 0,
        "stopped after the epoch: Ctrl-C came too late for this test"
    );
    assert!(batch > 0, "{batch}");
    let o = testing::run(BIN, &["train", "--resume", s(&stopped), "--quiet"]);
    ok(&o, "resume");
    assert!(
        stdout(&o).contains(&format!("after epoch 0, batch {batch}\n")),
        "{}",
        stdout(&o)
    );
    ok(&run_with_out(&args, &whole, &[]), "the run never stopped");
    let files = ["model.safetensors", "loss.csv", "loss.png", "embedding.png"];
    testing::assert_same_outputs(&stopped, &whole, &files);
}

/// A trained model of the generated corpus in `dir/model`.
fn trained(dir: &Path) -> PathBuf {
    let model = dir.join("model");
    ok(&run_with_out(&short(), &model, &[]), "train");
    model
}

#[test]
fn eval_reports_cross_entropy_perplexity_and_bits_of_a_saved_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = trained(dir.path());
    let file = model.join("model.safetensors");
    let t = ngram_lm::checkpoint::load_trained(&file).unwrap();
    // New sentences of the same generator (another seed): 4-grams inside each line.
    let sentences = shared::data::grammar::generate_sentences(99, 50);
    let lines: Vec<String> = sentences.iter().map(|x| x.words.join(" ")).collect();
    let text = dir.path().join("new.txt");
    std::fs::write(&text, lines.join("\n")).unwrap();
    let o = testing::run(BIN, &["eval", s(&text), "--model", s(&model)]);
    ok(&o, "eval");
    let out = stdout(&o);
    let lines_out: Vec<&str> = out.lines().collect();
    assert!(
        lines_out[0].starts_with(&format!(
            "model: {} (V = 250 words, D = 4, H = 8, 2 epochs on generated",
            file.display()
        )),
        "{out}"
    );
    // The library's number for the same model and 4-grams.
    let ids: Vec<Vec<usize>> = sentences
        .iter()
        .map(|x| t.vocab.encode_all(&x.words).unwrap())
        .collect();
    let grams = shared::data::text::ngrams::<usize, 4>(&ids);
    let ce = ngram_lm::fast::cross_entropy(
        &ngram_lm::fast::FastModel::<f64>::from_model(&t.model),
        &grams,
    );
    assert!(
        lines_out[1].contains(&format!("(50 sentences, {} 4-grams", grams.len())),
        "{out}"
    );
    // "cross-entropy: 2.1234 nats per word, perplexity 8.123, 3.0633 bits per word"
    let numbers: Vec<f64> = lines_out[2]
        .split([' ', ','])
        .filter_map(|w| w.parse().ok())
        .collect();
    let [nats, ppl, bits] = numbers[..] else {
        panic!("{out}")
    };
    assert!((nats - ce).abs() < 5e-5, "{nats} vs {ce}");
    assert!((ppl - ce.exp()).abs() < 5e-3 * ppl, "{ppl}");
    assert!((bits - ce / std::f64::consts::LN_2).abs() < 1e-4, "{bits}");
    // Trained a little, it already beats the uniform guess over 250 words.
    assert!(ppl < 250.0 / 2.0, "{ppl}");
    // `--text FILE` says the same.
    let o2 = testing::run(BIN, &["eval", "--text", s(&text), "--model", s(&file)]);
    assert_eq!(stdout(&o2), out);
    // A word the model has no id for is refused, naming it and where it is.
    let bad = dir.path().join("unknown-word.txt");
    std::fs::write(&bad, "john might be here\nthe dog could xyzzy the cat\n").unwrap();
    let o = testing::run(BIN, &["eval", s(&bad), "--model", s(&model)]);
    assert_user_error(
        &o,
        "unknown word",
        &["unknown-word.txt", "sentence 2", "'xyzzy'"],
    );
    // Lines shorter than 4 words give nothing to predict.
    let short = dir.path().join("short-lines.txt");
    std::fs::write(&short, "john might\nthe dog\n").unwrap();
    let o = testing::run(BIN, &["eval", s(&short), "--model", s(&model)]);
    assert_user_error(&o, "no 4-gram", &["short-lines.txt", "no 4-gram"]);
    for (what, path) in testing::bad_files(dir.path()) {
        let o = testing::run(BIN, &["eval", s(&path), "--model", s(&model)]);
        assert_user_error(&o, what, &[&path.file_name().unwrap().to_string_lossy()]);
    }
}
