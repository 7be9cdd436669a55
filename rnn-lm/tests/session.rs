//! The run session through the real binary: the shared contract (a finished run is kept, a
//! resume continues in its own folder with its own flags, one run per folder, closed and full
//! stdout, Ctrl-C then resume equals an unstopped run, `--version`), and rnn-lm's own cases:
//! `train` is the bare command, everything in one model file (no vocab.txt), `--epochs` is a
//! total, `eval`, `sample --temperature 0 / --prime` (and its old name `generate`), sizes that
//! cannot fit, the summary.

use serde_json::Value;
use shared::testing::{self, assert_user_error, ok};
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::{fixture, tiny};

const BIN: &str = env!("CARGO_BIN_EXE_rnn-lm");

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn run(args: &[&str]) -> Output {
    testing::run(BIN, args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn summary(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn the_session_contract() {
    let dir = tempfile::tempdir().unwrap();
    let short = tiny(&["--epochs", "2"]);
    common::contract(&strs(&short), &common::LONG).check_all(dir.path());
}

#[test]
fn train_is_the_bare_command_and_the_model_file_holds_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let explicit = tiny(&["--epochs", "2", "-q", "--out", &s(&a)]);
    let o = run(&strs(&explicit));
    ok(&o, "train");
    let bare: Vec<String> = explicit[1..]
        .iter()
        .map(|x| if *x == s(&a) { s(&b) } else { x.clone() })
        .collect();
    ok(&run(&strs(&bare)), "the bare command");
    testing::assert_same_outputs(&a, &b, &["model.safetensors", "loss.csv"]);
    // One `wrote` line listing every file; nothing else in the folder (no vocab.txt).
    assert!(
        stdout(&o).ends_with(&format!(
            "wrote {}/{{model.safetensors, loss.png, loss.csv, summary.json}}\n",
            s(&a)
        )),
        "{}",
        stdout(&o)
    );
    let mut files: Vec<String> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["loss.csv", "loss.png", "model.safetensors", "summary.json"]
    );
    // The vocabulary is in the model file: 40 words, the sentence markers among them.
    let ck = shared::checkpoint::load(a.join("model.safetensors"), "rnn-lm").unwrap();
    let words: Vec<String> = serde_json::from_str(ck.meta_str("vocabulary").unwrap()).unwrap();
    assert_eq!(words.len(), 40);
    assert!(words.contains(&"SENTENCE_START".into()) && words.contains(&"UNKNOWN_TOKEN".into()));
    // summary.json: the version and the effective flags.
    let sm = summary(&a);
    assert_eq!(sm["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(sm["flags"]["vocab"], 40);
    assert_eq!(sm["flags"]["lr"], 0.005);
    assert_eq!(sm["epochs"], 2);
}

#[test]
fn epochs_is_a_total_and_a_resume_ends_as_the_run_never_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let (two, one) = (dir.path().join("two"), dir.path().join("one"));
    ok(
        &run(&strs(&tiny(&["--epochs", "2", "-q", "--out", &s(&two)]))),
        "2 epochs",
    );
    ok(
        &run(&strs(&tiny(&["--epochs", "1", "-q", "--out", &s(&one)]))),
        "1 epoch",
    );
    let model = std::fs::read(one.join("model.safetensors")).unwrap();
    let o = run(&["train", "--resume", &s(&one), "--epochs", "1", "-q"]);
    assert_user_error(
        &o,
        "a resume to a total already reached",
        &["--epochs", "1"],
    );
    assert_eq!(std::fs::read(one.join("model.safetensors")).unwrap(), model);
    // The data path may be typed again (the same file), --threads is not stored.
    let o = run(&[
        "train",
        "--resume",
        &s(&one),
        "--epochs",
        "2",
        "--csv",
        &fixture(),
        "--threads",
        "2",
        "-q",
    ]);
    ok(&o, "resume to 2");
    assert!(stdout(&o).contains("Resuming"), "{}", stdout(&o));
    testing::assert_same_outputs(&one, &two, &["model.safetensors", "loss.csv"]);
    // Another file is refused by what it holds, not its name.
    let other = dir.path().join("other.txt");
    std::fs::write(&other, "the cat sat on the mat.\nthe dog ran to the cat.\n").unwrap();
    let o = run(&[
        "train",
        "--resume",
        &s(&one),
        "--epochs",
        "3",
        "--text",
        &s(&other),
        "-q",
    ]);
    assert_user_error(
        &o,
        "a resume on other data",
        &["--resume", "other sentences"],
    );
}

#[test]
fn eval_scores_a_saved_model_on_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    ok(
        &run(&strs(&tiny(&["--epochs", "3", "-q", "--out", &s(&out)]))),
        "train",
    );
    // On its own training file: the loss of the run's last evaluation, to the printed digits.
    let o = run(&["eval", "--model", &s(&out), "--csv", &fixture()]);
    ok(&o, "eval");
    let text = stdout(&o);
    let final_loss = summary(&out)["final_loss"].as_f64().unwrap();
    let line = text.lines().find(|l| l.starts_with("loss: ")).unwrap();
    assert!(
        line.starts_with(&format!("loss: {final_loss:.4} nats per word")),
        "{text}"
    );
    let ppl: f64 = line
        .split("perplexity ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((ppl - final_loss.exp()).abs() < 1e-3, "{text}");
    assert!(
        line.contains(&format!("{:.4} bits per word", final_loss / 2f64.ln())),
        "{text}"
    );
    assert!(
        text.starts_with(&format!(
            "model: {}/model.safetensors (N_x = 40, N_h = 8, 3 epochs",
            s(&out)
        )),
        "{text}"
    );
    // On a new text: unseen words count as UNKNOWN_TOKEN, and the loss is higher.
    let new = dir.path().join("new.txt");
    std::fs::write(&new, "I grew basil in the garden. Zebras eat quietly.\n").unwrap();
    let o = run(&["eval", "--model", &s(&out), "--text", &s(&new)]);
    ok(&o, "eval on a new text");
    let text = stdout(&o);
    assert!(text.contains("2 sentences, 13 target words"), "{text}");
    let unknown: usize = text
        .split("words, ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(unknown >= 3, "zebras, eat, quietly: {text}");
    // Bad input: a missing file, a missing model, no file at all.
    let o = run(&["eval", "--model", &s(&out), "--text", "no-such.txt"]);
    assert_user_error(&o, "eval on a missing file", &["no-such.txt"]);
    let o = run(&["eval", "--model", &s(dir.path()), "--text", &s(&new)]);
    assert_user_error(
        &o,
        "eval without a model",
        &["--model", "holds no model.safetensors"],
    );
    assert_eq!(run(&["eval", "--model", &s(&out)]).status.code(), Some(2));
}

#[test]
fn eval_needs_unknown_token_for_unseen_words_when_the_vocabulary_kept_all() {
    let dir = tempfile::tempdir().unwrap();
    let (text, out) = (dir.path().join("t.txt"), dir.path().join("run"));
    std::fs::write(&text, "the cat sat. the dog sat. a cat ran.\n".repeat(3)).unwrap();
    let o = run(&[
        "--text",
        &s(&text),
        "--hidden",
        "4",
        "--epochs",
        "1",
        "--samples",
        "0",
        "-q",
        "--out",
        &s(&out),
    ]);
    ok(&o, "train");
    let new = dir.path().join("new.txt");
    std::fs::write(&new, "the cow sat.\n").unwrap();
    let o = run(&["eval", "--model", &s(&out), "--text", &s(&new)]);
    assert_user_error(
        &o,
        "an unseen word without UNKNOWN_TOKEN",
        &["new.txt", "'cow'", "UNKNOWN_TOKEN"],
    );
}

#[test]
fn sample_at_temperature_zero_is_argmax_and_takes_a_prime() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = run(&[
        "--sentences",
        "300",
        "--hidden",
        "16",
        "--epochs",
        "3",
        "--samples",
        "0",
        "-q",
        "--out",
        &s(&out),
    ]);
    ok(&o, "train");
    let sample = |extra: &[&str]| {
        let model = s(&out);
        let mut a = vec!["sample", "--model", &model];
        a.extend(extra);
        let o = run(&a);
        ok(&o, &format!("sample {extra:?}"));
        stdout(&o)
            .lines()
            .skip(1)
            .map(String::from)
            .collect::<Vec<_>>()
    };
    // τ = 0: no draw, so one sentence, the same for any seed.
    let a = sample(&["--temperature", "0", "--seed", "1"]);
    let b = sample(&["--temperature", "0", "--seed", "2", "-n", "5"]);
    assert_eq!(a.len(), 1);
    assert_eq!(a, b);
    // τ = 1 draws: seeds differ, a seed repeats; `generate` is the old name of `sample`.
    let (c, d) = (sample(&["--seed", "1"]), sample(&["--seed", "2"]));
    assert_eq!(c.len(), 10);
    assert_ne!(c, d);
    let o = run(&["generate", "--model", &s(&out), "--seed", "1"]);
    assert_eq!(stdout(&o).lines().skip(1).collect::<Vec<_>>(), c);
    // A prime starts every sentence.
    for line in sample(&["--prime", "the person", "--min-words", "3", "-n", "4"]) {
        assert!(line.starts_with("the person "), "{line}");
    }
    let primed = sample(&["--prime", "the person", "--temperature", "0"]);
    assert!(
        primed.len() == 1 && primed[0].starts_with("the person"),
        "{primed:?}"
    );
    assert_eq!(
        primed,
        sample(&["--prime", "the person", "--temperature", "0", "--seed", "9"])
    );
    // A prime word the model does not know, or no word at all, is refused by name.
    let o = run(&["sample", "--model", &s(&out), "--prime", "the xylophone"]);
    assert_user_error(&o, "an unknown prime word", &["--prime", "'xylophone'"]);
    let o = run(&["sample", "--model", &s(&out), "--prime", " "]);
    assert_user_error(&o, "an empty prime", &["--prime"]);
    let o = run(&["sample", "--model", &s(&out), "--temperature=-1"]);
    assert_user_error(&o, "a negative temperature", &["--temperature"]);
}

#[test]
fn sizes_that_cannot_fit_are_refused_before_allocating() {
    // 300,000 distinct words: N_x = 300,000 with N_h = 4096 needs some 60 GB.
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("many-words.txt");
    let body: String = (0..300_000)
        .map(|i| format!("w{i}{}", if i % 20 == 19 { ".\n" } else { " " }))
        .collect();
    std::fs::write(&text, body).unwrap();
    let out = dir.path().join("run");
    let o = run(&[
        "--text",
        &s(&text),
        "--vocab",
        "1000000",
        "--hidden",
        "4096",
        "-q",
        "--out",
        &s(&out),
    ]);
    assert_user_error(&o, "a model too big", &["--vocab", "would need about"]);
    assert!(!out.exists(), "a refused run leaves no folder");
}

#[test]
fn a_divergence_names_the_step_and_the_learning_rate() {
    let dir = tempfile::tempdir().unwrap();
    let out: PathBuf = dir.path().join("run");
    let o = run(&strs(&tiny(&[
        "--epochs",
        "3",
        "--lr",
        "1e6",
        "-q",
        "--out",
        &s(&out),
    ])));
    assert_user_error(&o, "--lr 1e6", &["training diverged at step", "--lr"]);
    assert!(out.join("loss.csv").is_file() && !out.join("summary.json").exists());
}
