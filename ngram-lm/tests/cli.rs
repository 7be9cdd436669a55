//! The command line: nearest / predict / distance on a saved tiny model, and the errors
//! (unknown word with suggestions, missing model, bad flags) that end with exit code 2.

use shared::data::text::Vocab;
use shared::testing::assert_user_error;
use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::{SMALL, WORDS, train_tiny};

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

/// A folder holding a tiny trained model with its vocabulary.
fn saved_model() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (t, _) = train_tiny(10);
    let vocab = Vocab::from_words(WORDS.map(String::from).to_vec()).unwrap();
    ngram_lm::checkpoint::save_model(
        &t.model.to_model(),
        &vocab,
        dir.path().join("model.safetensors"),
    )
    .unwrap();
    dir
}

/// The `model:` line the commands print first.
fn model_line(dir: &Path) -> String {
    format!(
        "model: {}/model.safetensors (V = 14 words, D = 8, H = 16)",
        dir.display()
    )
}

#[test]
fn nearest_predict_distance_commands() {
    let dir = saved_model();
    let d = dir.path().to_str().unwrap();
    let o = ngram_lm(&["nearest", "could", "-k", "3", "--model", d], dir.path());
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], model_line(dir.path()), "which model answers");
    assert_eq!(lines[1], "nearest could:");
    assert_eq!(lines.len(), 5, "{out}");
    // `word distance` lines, the other two modals first.
    let first_two: Vec<&str> = lines[2..4]
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
            .nth(2)
            .unwrap()
            .starts_with("you could see it Prob: 0.9"),
        "{out}"
    );
    assert_eq!(out.lines().count(), 5);
    // The model file itself is accepted as --model too.
    let file = dir.path().join("model.safetensors");
    let o = ngram_lm(
        &[
            "distance",
            "could",
            "could",
            "--model",
            file.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(
        text(&o).0,
        format!("{}\ndistance could could: 0.00\n", model_line(dir.path()))
    );
}

#[test]
fn unknown_word_suggests_close_words() {
    let dir = saved_model();
    let d = dir.path().to_str().unwrap();
    let o = ngram_lm(&["nearest", "coud", "--model", d], dir.path());
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(out, format!("{}\n", model_line(dir.path())));
    // Edit distances from "coud": could 1, you 2, food 2, can 3, go 3 (ties by id).
    assert_eq!(
        err.trim_end(),
        "error: 'coud' is not in the vocabulary of 14 words (closest: could, you, food, can, go)"
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
    // No --model: runs/ngram-lm is looked at, and there is none.
    let o = ngram_lm(&["nearest", "could"], dir.path());
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        err.trim_end(),
        "error: --model: runs/ngram-lm does not exist",
        "{err}"
    );
    std::fs::create_dir_all(dir.path().join("runs/ngram-lm")).unwrap();
    let err = text(&ngram_lm(&["nearest", "could"], dir.path())).1;
    assert!(
        err.contains("runs/ngram-lm holds no model.safetensors"),
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
    let file = model.path().join("model.safetensors");
    let (t, _) = train_tiny(0);
    let mut meta: Vec<(&str, String)> = vec![("vocabulary", "[\"a\",\"b\"]".into())];
    meta.extend([("vocab", "14"), ("embed", "8"), ("hidden", "16")].map(|(k, v)| (k, v.into())));
    let m = &t.model;
    let params = [
        ("W0", &m.W0),
        ("W1", &m.W1),
        ("b1", &m.b1),
        ("W2", &m.W2),
        ("b2", &m.b2),
    ];
    shared::checkpoint::save(&file, "ngram-lm", &params, &meta).unwrap();
    let o = ngram_lm(
        &["nearest", "a", "--model", file.to_str().unwrap()],
        dir.path(),
    );
    assert_user_error(
        &o,
        "2 words for 14",
        &[
            "model.safetensors",
            "vocabulary",
            "2 words for a model of 14",
        ],
    );
}

/// The number after `label` on its line of the log.
fn figure(log: &str, label: &str) -> f64 {
    let line = log
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no `{label}` in\n{log}"));
    let number = line[label.len()..].split_whitespace().next().unwrap();
    number.parse().unwrap()
}

#[test]
fn train_on_a_text_file_then_query_the_default_folder() {
    // The tiny language of tests/common as a text file, one sentence per line.
    let dir = tempfile::tempdir().unwrap();
    let mut r = shared::rng::seeded(4);
    let lines: Vec<String> = (0..1500)
        .map(|_| {
            let pick =
                |r: &mut shared::rng::Rng, lo: usize, n: usize| lo + shared::rng::below(r, n);
            let (s, m, v) = (pick(&mut r, 0, 4), pick(&mut r, 4, 3), pick(&mut r, 0, 3));
            format!(
                "{} {} {} {} .",
                WORDS[s],
                WORDS[m],
                WORDS[7 + v],
                WORDS[10 + v]
            )
        })
        .collect();
    std::fs::write(dir.path().join("corpus.txt"), lines.join("\n")).unwrap();
    let args = [
        "train",
        "--text",
        "corpus.txt",
        "--epochs",
        "8",
        "--batch",
        "20",
        "--embed",
        "8",
        "--hidden",
        "16",
        "--quiet",
    ];
    let o = ngram_lm(&args, dir.path());
    let (log, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        log.contains("vocabulary 14, 4-grams train 2400 / valid 300 / test 300"),
        "{log}"
    );
    assert!(
        log.contains("\nEpoch 8\n") && log.contains("Batch 100 Train CE"),
        "{log}"
    );
    // Every target is determined by its context: the floor is 0 (ln 14 = 2.64 untrained).
    let valid = figure(&log, "Final Validation CE");
    assert!(valid < 0.02, "{log}");
    assert!(figure(&log, "Final Test CE") < 0.02, "{log}");
    for f in [
        "model.safetensors",
        "loss.png",
        "loss.csv",
        "embedding.png",
        "summary.json",
    ] {
        assert!(dir.path().join("runs/ngram-lm").join(f).is_file(), "{f}");
    }
    assert!(!dir.path().join("runs/ngram-lm/vocab.txt").exists());
    // The demo after training, then one line listing every file written.
    assert!(log.contains("nearest could:\n"), "{log}");
    assert!(
        log.ends_with(
            "\nwrote runs/ngram-lm/{model.safetensors, loss.png, loss.csv, embedding.png, \
             summary.json}\n"
        ),
        "{log}"
    );
    // The commands without --model read runs/ngram-lm, and say so.
    let o = ngram_lm(&["predict", "they", "will", "eat"], dir.path());
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.starts_with("model: runs/ngram-lm/model.safetensors (V = 14 words, D = 8, H = 16, 8 epochs on corpus.txt"),
        "{out}"
    );
    assert!(out.contains("they will eat food Prob: 0.9"), "{out}");
}

#[test]
fn train_on_the_mat_fixture_end_to_end() {
    // shared's fixture in the layout of Hinton's data.mat (made by
    // shared/tests/fixtures/make_mat_fixture.py): its own vocabulary and split.
    let mat =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tests/fixtures/hinton_like.mat");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mat-run");
    let args = [
        "train",
        "--mat",
        mat.to_str().unwrap(),
        "--epochs",
        "200",
        "--batch",
        "5",
        "--embed",
        "6",
        "--hidden",
        "10",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    let o = ngram_lm(&args, dir.path());
    let (log, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(log.contains("(the assignment's split)"), "{log}");
    // 57 training 4-grams over 63 words: the net memorises them (ln 63 = 4.14 untrained).
    // Held-out 4-grams of such a tiny corpus are mostly unseen: their CE only has to be finite.
    let first = figure(&log, "Average Training CE");
    let last = figure(&log, "Final Training CE");
    assert!(
        first > 3.5 && last < 0.5,
        "training CE {first} -> {last}\n{log}"
    );
    assert!(figure(&log, "Final Validation CE").is_finite());
    // The vocabulary saved in the model is the file's, and the model answers queries in it.
    let trained = ngram_lm::checkpoint::load_trained(&out.join("model.safetensors")).unwrap();
    let a2 = shared::data::mat::load_hinton_a2(&mat).unwrap();
    assert_eq!(trained.vocab.words(), a2.vocab.as_slice());
    let o = ngram_lm(
        &[
            "distance",
            "could",
            "might",
            "--model",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.lines()
            .nth(1)
            .unwrap()
            .starts_with("distance could might: "),
        "{out}"
    );
    // A .mat that is not Hinton's layout is a clear error naming the file.
    let bad = dir.path().join("bad.mat");
    std::fs::write(&bad, b"MATLAB 5.0 MAT-file, but truncated").unwrap();
    let o = ngram_lm(
        &["train", "--mat", bad.to_str().unwrap(), "--quiet"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.starts_with("error: ") && text(&o).1.contains("bad.mat"));
}

#[test]
fn default_run_on_the_generated_corpus_small() {
    // The default command (no subcommand) on a small generated corpus: the log, the floor, the
    // demo of the three helpers.
    let dir = tempfile::tempdir().unwrap();
    let mut args = SMALL.to_vec();
    args.push("--quiet");
    let o = ngram_lm(&args, dir.path());
    let (log, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        log.starts_with("generated English-like corpus (400 sentences, seed 1"),
        "{log}"
    );
    let floor = figure(&log, "Entropy floor of the generator");
    assert!((1.5..2.2).contains(&floor), "{log}");
    for header in [
        "nearest could:\n",
        "predict john might be:\n",
        "distance could can: ",
    ] {
        assert!(log.contains(header), "{header} missing in\n{log}");
    }
    // Same seed, same numbers (in another folder: the finished run is kept).
    let mut other = args.to_vec();
    other.extend(["--out", "again"]);
    let again = text(&ngram_lm(&other, dir.path())).0;
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("Training took") && !l.starts_with("wrote "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&log), strip(&again));
    assert!(
        again.ends_with(
            "wrote again/{model.safetensors, loss.png, loss.csv, embedding.png, summary.json}\n"
        ),
        "{again}"
    );
}
