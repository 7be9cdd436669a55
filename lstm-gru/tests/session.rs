//! The run session through the real binary: the shared contract for `train` (a finished run is
//! kept, a resume continues in its own folder with its own flags, one run per folder, closed
//! and full stdout, Ctrl-C then resume equals an unstopped run, `--version`) and for `adding`
//! (no resume), and lstm-gru's own cases: the default folders, `--steps` is a total and
//! `--groups` may change on resume, `eval`, `sample --temperature 0`, divergence.

use lstm_gru::checkpoint::Trained;
use lstm_gru::fast::charlm::FastLm;
use lstm_gru::model::Lstm;
use shared::session::Checkpointed;
use shared::testing::{self, SessionContract, assert_user_error, ok};
use std::path::Path;
use std::process::Output;

const BIN: &str = env!("CARGO_BIN_EXE_lstm-gru");

/// A 1 × 8 LSTM on the generated corpus, 4 streams of 10 characters.
const TINY: [&str; 9] = [
    "train",
    "--layers",
    "1",
    "--hidden",
    "8",
    "--seq-len",
    "10",
    "--batch",
    "4",
];

fn with(base: &[&str], rest: &[&str]) -> Vec<String> {
    base.iter().chain(rest).map(|s| s.to_string()).collect()
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn the_session_contract_of_train() {
    let dir = tempfile::tempdir().unwrap();
    let short = with(&TINY, &["--steps", "20", "--eval-every", "10"]);
    let long = with(&TINY, &["--steps", "20000", "--eval-every", "5000"]);
    SessionContract {
        bin: BIN,
        short: &strs(&short),
        long: &strs(&long),
        length: ("--steps", "30"),
        resume_cmd: &["train"],
        fixed: ("--lr", "0.5"),
    }
    .check_all(dir.path());
}

#[test]
fn the_session_contract_of_adding() {
    let dir = tempfile::tempdir().unwrap();
    let base = ["adding", "--cell", "lstm", "--length", "6", "--hidden", "4"];
    let short = with(&base, &["--steps", "20"]);
    let long = with(&base, &["--steps", "100000"]);
    SessionContract {
        bin: BIN,
        short: &strs(&short),
        long: &strs(&long),
        length: ("--steps", "30"),
        resume_cmd: &[],
        fixed: ("--lr", "0.5"),
    }
    .check_all_but_resume(dir.path());
}

#[test]
fn default_folders_steps_as_a_total_and_threads_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    // The bare command is the adding problem, in its own folder.
    let o = testing::run_in(
        BIN,
        cwd,
        &[
            "--cell", "gru", "--length", "6", "--hidden", "4", "--steps", "10", "-q",
        ],
    );
    ok(&o, "bare");
    assert!(
        stdout(&o).ends_with("wrote runs/lstm-gru-adding/{loss.png, loss.csv, summary.json}\n"),
        "{}",
        stdout(&o)
    );
    // `train` (or its old name `text`) writes to runs/lstm-gru.
    let first = with(&["text"], &TINY[1..]);
    let first = with(&strs(&first), &["--steps", "6", "--eval-every", "3", "-q"]);
    let o = testing::run_in(BIN, cwd, &strs(&first));
    ok(&o, "train");
    assert!(
        stdout(&o).ends_with(
            "wrote runs/lstm-gru/{model.safetensors, loss.png, loss.csv, summary.json}\n"
        ),
        "{}",
        stdout(&o)
    );
    let model = cwd.join("runs/lstm-gru/model.safetensors");
    let summary = testing::summary_without_timing(&cwd.join("runs/lstm-gru/summary.json"));
    assert_eq!(summary["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(summary["flags"]["hidden"], 8);
    assert_eq!(
        summary["flags"]["lr"], 0.006,
        "the cell's default, made explicit"
    );
    // --steps is the total: 6 asks for nothing more, and says so by name.
    let resume = |extra: &[&str]| {
        let args = with(&["train", "--resume", "runs/lstm-gru", "-q"], extra);
        testing::run_in(BIN, cwd, &strs(&args))
    };
    let before = std::fs::read(&model).unwrap();
    assert_user_error(
        &resume(&["--steps", "6"]),
        "--steps reached",
        &["--steps", "6"],
    );
    assert_eq!(std::fs::read(&model).unwrap(), before);
    // Another group count may continue a run (the same numbers up to rounding).
    let o = resume(&["--steps", "9", "--groups", "2"]);
    ok(&o, "resume on 2 threads");
    assert!(stdout(&o).contains("resuming at step 6"), "{}", stdout(&o));
    let summary = testing::summary_without_timing(&cwd.join("runs/lstm-gru/summary.json"));
    assert_eq!(
        (
            summary["steps"].as_u64(),
            summary["flags"]["groups"].as_u64()
        ),
        (Some(9), Some(2))
    );
    // A changed size is refused by name.
    let o = resume(&["--steps", "12", "--hidden", "9"]);
    assert_user_error(&o, "--hidden changed", &["--hidden", "8", "9"]);
}

/// A trained 1 × 8 LSTM in `dir/model` (60 steps).
fn trained(dir: &Path) -> std::path::PathBuf {
    let model = dir.join("model");
    let args = with(&TINY, &["--steps", "60", "--eval-every", "30", "-q"]);
    ok(
        &testing::run(BIN, &testing::args_with_out(&strs(&args), &model, &[])),
        "train",
    );
    model
}

/// The number after `label` in `line` (e.g. "perplexity 3.123,").
fn number_after(line: &str, label: &str) -> f64 {
    let rest = line
        .split(label)
        .nth(1)
        .unwrap_or_else(|| panic!("{label} in {line}"));
    let word = rest.split_whitespace().next().unwrap();
    word.trim_end_matches(',').parse().unwrap()
}

#[test]
fn eval_reports_nats_bits_and_perplexity_of_a_saved_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = trained(dir.path());
    let new = dir.path().join("new.txt");
    let text = "where is the dog ?\nshe plays in the park .\n";
    std::fs::write(&new, text).unwrap();
    let eval = |path: &Path| {
        let (m, t) = (model.display().to_string(), path.display().to_string());
        testing::run(BIN, &["eval", "--model", &m, "--text", &t])
    };
    let o = eval(&new);
    ok(&o, "eval");
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with(&format!(
            "model: {}/model.safetensors (1 × 8 lstm",
            model.display()
        )),
        "{out}"
    );
    assert!(
        lines[1].contains(&format!("({} characters", text.chars().count())),
        "{out}"
    );
    let nats = number_after(lines[2], "loss: ");
    let ppl = number_after(lines[2], "perplexity ");
    let last = lines[2].rsplit(", ").next().unwrap(); // "B bits per character"
    let bits: f64 = last.split(' ').next().unwrap().parse().unwrap();
    // The library's number for the same model and text.
    let mut ck = shared::checkpoint::load(model.join("model.safetensors"), "lstm-gru").unwrap();
    let m = Trained::<Lstm>::load(&mut ck, ()).unwrap();
    let ids = lstm_gru::data::encode(&m.vocab, text).unwrap();
    let want = FastLm::<Lstm, f64>::from_model(&m.model).cross_entropy(&ids);
    assert!((nats - want).abs() < 5e-5, "{nats} vs {want}");
    assert!((ppl - want.exp()).abs() < 5e-4, "{ppl}");
    assert!(
        (bits - want / std::f64::consts::LN_2).abs() < 5e-5,
        "{bits}"
    );
    // 60 steps on this kind of text already beat the uniform guess over its characters.
    assert!(nats < (m.vocab.vocab_size() as f64).ln(), "{nats}");
    // Characters the model has no output for are refused, by name.
    let other = dir.path().join("other.txt");
    std::fs::write(&other, "Zounds! Quoth he.\n").unwrap();
    assert_user_error(
        &eval(&other),
        "unknown characters",
        &["--text", "other.txt", "'Z'", "'!'", "vocabulary"],
    );
    for (what, path) in testing::bad_files(dir.path()) {
        let o = eval(&path);
        assert_user_error(&o, what, &[&path.file_name().unwrap().to_string_lossy()]);
    }
}

#[test]
fn sample_at_temperature_0_does_not_draw() {
    let dir = tempfile::tempdir().unwrap();
    let model = trained(dir.path()).display().to_string();
    let sample = |temperature: &str, seed: &str| {
        let o = testing::run(
            BIN,
            &[
                "sample",
                "--model",
                &model,
                "--len",
                "60",
                "--prime",
                "the ",
                "--temperature",
                temperature,
                "--seed",
                seed,
            ],
        );
        ok(&o, "sample");
        stdout(&o)
    };
    assert_eq!(
        sample("0", "1"),
        sample("0", "2"),
        "argmax: the seed does not matter"
    );
    assert_ne!(sample("1", "1"), sample("1", "2"));
}

/// Parses N from `error: training diverged at step N ...`.
fn diverged_at(o: &Output) -> u64 {
    assert_user_error(o, "divergence", &["training diverged at step", "--lr"]);
    let err = String::from_utf8_lossy(&o.stderr);
    let n = err.split("at step ").nth(1).unwrap();
    n.split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_learning_rate_that_diverges_is_an_error_or_a_note() {
    let dir = tempfile::tempdir().unwrap();
    // The issue's `lstm-gru --lr 1e6`: the read-out's weights blow up, the MSE with them.
    let out = dir.path().join("adding").display().to_string();
    let o = testing::run(
        BIN,
        &[
            "--length", "6", "--hidden", "4", "--steps", "50", "--lr", "1e6", "--out", &out,
        ],
    );
    assert!(diverged_at(&o) >= 1);
    // The language model at lr 1e6 saturates its softmax: the loss stays finite, far above
    // the uniform guess; the run says it diverged.
    let out = dir.path().join("text");
    let args = with(
        &TINY,
        &["--steps", "20", "--eval-every", "10", "--lr", "1e6", "-q"],
    );
    let o = testing::run(BIN, &testing::args_with_out(&strs(&args), &out, &[]));
    ok(&o, "lr 1e6");
    assert!(
        stdout(&o).contains("the training diverged (try a smaller --lr)"),
        "{}",
        stdout(&o)
    );
}

/// Ctrl-C names the command that continues the run: `train --resume`, since the bare command
/// is the adding problem.
#[test]
fn ctrl_c_says_to_continue_with_train_resume() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stopped");
    let args = with(
        &TINY,
        &["--steps", "1000000", "--eval-every", "100000", "-q"],
    );
    let child = std::process::Command::new(BIN)
        .args(testing::args_with_out(&strs(&args), &out, &[]))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !out.join(".lock").exists() {
        assert!(start.elapsed().as_secs() < 60, "no lock");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status();
    assert!(killed.unwrap().success());
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    let want = format!("continue with: lstm-gru train --resume {}", out.display());
    assert!(stderr.contains(&want), "{stderr}");
}

/// The path of `--text` may change on resume (a moved file), its characters may not.
#[test]
fn a_resume_reads_the_same_text_from_any_path() {
    let dir = tempfile::tempdir().unwrap();
    let text = "the cat sat on the mat . the dog sat on the log .\n".repeat(40);
    let (a, moved, other) = (
        dir.path().join("a.txt"),
        dir.path().join("moved.txt"),
        dir.path().join("other.txt"),
    );
    std::fs::write(&a, &text).unwrap();
    std::fs::write(&moved, &text).unwrap();
    std::fs::write(&other, text.replace("dog", "cat")).unwrap();
    let out = dir.path().join("run");
    let file = |p: &Path| p.display().to_string();
    let args = with(
        &TINY,
        &[
            "--text",
            &file(&a),
            "--steps",
            "4",
            "--eval-every",
            "2",
            "-q",
        ],
    );
    ok(
        &testing::run(BIN, &testing::args_with_out(&strs(&args), &out, &[])),
        "train",
    );
    let resume = |text: &Path| {
        let (o, t) = (file(&out), file(text));
        testing::run(
            BIN,
            &["train", "--resume", &o, "--text", &t, "--steps", "6", "-q"],
        )
    };
    assert_user_error(
        &resume(&other),
        "another text",
        &["--text", "a.txt", "other.txt"],
    );
    ok(&resume(&moved), "the same text, moved");
}
