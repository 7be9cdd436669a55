//! The command line: nearest / predict / distance on a saved tiny model, and the errors
//! (unknown word with suggestions, missing model, bad flags) that end with exit code 2.

use ngram_lm::words::Vocab;
use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::{WORDS, train_tiny};

fn ngram_lm(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ngram-lm"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the binary runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A folder holding a tiny trained model and its vocabulary, as `train` writes them.
fn saved_model() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (t, _) = train_tiny(10);
    t.model.save(dir.path().join("model.safetensors")).unwrap();
    Vocab::new(WORDS.map(String::from).to_vec())
        .unwrap()
        .save(dir.path().join("vocab.txt"))
        .unwrap();
    dir
}

#[test]
fn nearest_predict_distance_commands() {
    let dir = saved_model();
    let d = dir.path().to_str().unwrap();
    let o = ngram_lm(&["nearest", "could", "-k", "3", "--model", d], dir.path());
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "nearest could:");
    assert_eq!(lines.len(), 4, "{out}");
    // `word distance` lines, the other two modals first.
    let first_two: Vec<&str> = lines[1..3]
        .iter()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert!(
        first_two.contains(&"can") && first_two.contains(&"will"),
        "{out}"
    );
    let o = ngram_lm(
        &["predict", "you", "could", "see", "--model", d],
        dir.path(),
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.lines()
            .nth(1)
            .unwrap()
            .starts_with("you could see it Prob: 0.9"),
        "{out}"
    );
    assert_eq!(out.lines().count(), 4);
    let o = ngram_lm(&["distance", "could", "could", "--model", d], dir.path());
    assert_eq!(text(&o).0, "distance could could: 0.00\n");
}

#[test]
fn unknown_word_suggests_close_words() {
    let dir = saved_model();
    let d = dir.path().to_str().unwrap();
    let o = ngram_lm(&["nearest", "coud", "--model", d], dir.path());
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(out.is_empty());
    // Edit distances from "coud": could 1, you 2, food 2, can 3, go 3 (ties by id).
    assert_eq!(
        err.trim_end(),
        "error: word 'coud' is not in the vocabulary (14 words); closest: could, you, food, can, go"
    );
    let o = ngram_lm(
        &["predict", "you", "xyzzy", "see", "--model", d],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("'xyzzy' is not in the vocabulary"));
}

#[test]
fn missing_model_and_bad_flags_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    // No --model and no previous run in this folder: runs/ngram-lm is looked at.
    let o = ngram_lm(&["nearest", "could"], dir.path());
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.starts_with("error: no trained model at runs/ngram-lm/model.safetensors"),
        "{err}"
    );
    for (flag, value) in [
        ("--hidden", "0"),
        ("--lr", "-1"),
        ("--epochs", "x"),
        ("--momentum", "nan"),
    ] {
        let o = ngram_lm(&[flag, value], dir.path());
        assert_eq!(o.status.code(), Some(2), "{flag} {value}");
        let err = text(&o).1;
        assert!(err.contains(flag) && err.contains(value), "{err}");
    }
    // A vocabulary that does not fit the model.
    let model = saved_model();
    std::fs::write(model.path().join("vocab.txt"), "a\nb\n").unwrap();
    let o = ngram_lm(
        &["nearest", "a", "--model", model.path().to_str().unwrap()],
        dir.path(),
    );
    let err = text(&o).1;
    assert!(err.contains("2 words for a model of 14"), "{err}");
}
