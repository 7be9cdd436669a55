//! The data path (CSV → sentences → vocabulary → ids), the training schedule, and the binary.
#![allow(non_snake_case)]

use rnn_lm::checkpoint::{self, State, load_model};
use rnn_lm::corpus::{Draw, Prepared, sample_sentences};
use rnn_lm::fast::{Cache, Net};
use rnn_lm::train::{Curves, Position, Schedule, train_with_sgd};
use rnn_lm::{Bptt, Rnn};
use shared::data::comments::Comments;
use shared::data::text::{Corpus, SENTENCE_END, SENTENCE_START, SentenceMode, UNKNOWN_TOKEN};
use shared::rng;
use shared::run::RunArgs;
use shared::session::{Given, Session, Start};
use std::path::{Path, PathBuf};
use std::process::Command;

/// 16 complete gardening comments written for this test, and an 18th cut off mid-quote.
fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/comments.csv")
}

#[test]
fn the_csv_fixture_becomes_marked_id_sentences() {
    let comments = Comments::load(fixture()).unwrap();
    assert_eq!(comments.bodies.len(), 16);
    assert!(
        comments.truncated.is_some(),
        "the cut-off last record is reported"
    );
    let data = Prepared::new(&comments.corpus(), 40).unwrap();
    assert_eq!(data.vocab.len(), 40);
    assert_eq!(data.vocab.unknown(), Some(39));
    assert_eq!(data.vocab.word(39), UNKNOWN_TOKEN);
    assert_eq!(data.vocab.word(data.start), SENTENCE_START);
    assert_eq!(data.vocab.word(data.end), SENTENCE_END);
    for s in &data.sentences {
        assert_eq!((s[0], s[s.len() - 1]), (data.start, data.end));
        assert!(s.len() >= 3);
    }
    // The notes: input without SENTENCE_END, target without SENTENCE_START.
    let pairs = data.pairs(usize::MAX);
    assert_eq!(pairs.len(), data.sentences.len());
    for ((x, t), s) in pairs.iter().zip(&data.sentences) {
        assert_eq!((*x, *t), (&s[..s.len() - 1], &s[1..]));
    }
    // Words seen once (planted, spring, finally, red) did not make the 39 kept words.
    assert_eq!(
        data.words(&data.sentences[0]),
        "SENTENCE_START i UNKNOWN_TOKEN a small garden this UNKNOWN_TOKEN and the tomatoes are \
         UNKNOWN_TOKEN UNKNOWN_TOKEN . SENTENCE_END"
    );
    let (least, count) = data.least_frequent();
    assert!(count >= 1 && data.vocab.id(least) == Some(38));
    let text = data.describe();
    let line = format!("Parsed {} sentences.", data.sentences.len());
    assert!(text.starts_with(&line), "{text}");
    // A vocabulary too small to keep both markers is an error, not a crash: here "the" (5)
    // and SENTENCE_START (2, seen first) fill the 2 places left by UNKNOWN_TOKEN.
    let corpus = Corpus::from_text("the the the .\nthe the .\n", SentenceMode::Lines);
    let e = Prepared::new(&corpus, 3).unwrap_err().to_string();
    assert!(e.starts_with("--vocab:") && e.contains(SENTENCE_END), "{e}");
    assert!(Prepared::new(&corpus, 4).is_ok());
}

#[test]
fn training_on_the_fixture_lowers_the_loss_and_the_model_round_trips() {
    let data = Prepared::new(&Comments::load(fixture()).unwrap().corpus(), 40).unwrap();
    let pairs = data.pairs(usize::MAX);
    let mut model = Net::from(Rnn::new(40, 16, &mut rng::seeded(1)));
    let mut cache = Cache::new(&model, 8);
    let schedule = Schedule {
        lr: 0.05,
        epochs: 30,
        eval_every: 10,
        bptt: Bptt::Truncated(4),
    };
    let history = train_with_sgd(
        &mut model,
        &pairs,
        &schedule,
        Position::default(),
        &mut cache,
        |_, _| Ok(()),
        |_, _| true,
    )
    .unwrap()
    .history;
    let epochs: Vec<u64> = history.iter().map(|e| e.epoch).collect();
    assert_eq!(epochs, [0, 10, 20, 30]);
    let (first, last) = (history[0].loss, history[3].loss);
    eprintln!("fixture: loss {first} → {last}");
    assert!((first - 40f64.ln()).abs() < 0.05, "{first}");
    assert!(last < first - 1.0, "loss {first} → {last}");
    // Saved by the run session and loaded, the model and its vocabulary are the same, and it
    // still generates (never UNKNOWN_TOKEN).
    let dir = tempfile::tempdir().unwrap();
    let run = RunArgs {
        out: Some(dir.path().join("run")),
        quiet: true,
        ..RunArgs::default()
    };
    let started = Session::train(
        rnn_lm::CHAPTER,
        Start {
            run: &run,
            command: None,
            resume: None,
            flags: &serde_json::json!({}),
            given: &Given::default(),
            may_change: &[],
        },
    )
    .unwrap();
    let n = pairs.len();
    let state = State {
        model: model.to_model(),
        dtype: shared::cli::Dtype::F64,
        vocab: data.vocab.clone(),
        at: Position {
            seen: history[3].seen,
            history,
        },
        curves: Curves::new(1),
        sentences: n,
        source: "fixture".into(),
        data: checkpoint::fingerprint(&data, n),
    };
    let file = started.session.save_checkpoint(&state).unwrap();
    let back = load_model(&file).unwrap();
    assert_eq!(back.model, model.to_model());
    assert_eq!(back.vocab.words(), data.vocab.words());
    assert_eq!(
        back.describe(),
        format!("N_x = 40, N_h = 16, 30 epochs of {n} sentences of fixture")
    );
    let (back, vocab) = (back.model, back.vocab);
    let mut r = rng::seeded(3);
    for s in sample_sentences(&back, &vocab, 20, &Draw::tutorial(1, 60), &mut r).unwrap() {
        assert!(
            !s.contains(UNKNOWN_TOKEN) && !s.contains("SENTENCE_"),
            "{s}"
        );
    }
}

#[test]
fn the_learning_rate_halves_when_the_loss_rises() {
    let data = Prepared::new(&Comments::load(fixture()).unwrap().corpus(), 40).unwrap();
    let pairs = data.pairs(usize::MAX);
    let mut model = Net::from(Rnn::new(40, 16, &mut rng::seeded(1)));
    let mut cache = Cache::new(&model, 8);
    // Far too large a step: the loss goes up (3.7 → 70.6 at the first evaluation), and each
    // rise halves the rate.
    let schedule = Schedule {
        lr: 4.0,
        epochs: 8,
        eval_every: 1,
        bptt: Bptt::Truncated(4),
    };
    let mut seen = Vec::new();
    let history = train_with_sgd(
        &mut model,
        &pairs,
        &schedule,
        Position::default(),
        &mut cache,
        |h, _| {
            seen.push(h[h.len() - 1]);
            Ok(())
        },
        |_, _| true,
    );
    let history = history.unwrap().history;
    assert_eq!(history, seen);
    assert!(history.iter().any(|e| e.halved), "{history:?}");
    for w in history.windows(2) {
        let rose = w[1].loss > w[0].loss;
        assert_eq!(w[1].halved, rose);
        assert_eq!(w[1].lr, if rose { 0.5 * w[0].lr } else { w[0].lr });
    }
    assert!(history.iter().filter(|e| e.halved).count() >= 2);
    // A step so large that a probability underflows to 0 is reported, not trained through.
    let mut model = Net::from(Rnn::new(40, 16, &mut rng::seeded(1)));
    let schedule = Schedule {
        lr: 1000.0,
        ..schedule
    };
    let e = train_with_sgd(
        &mut model,
        &pairs,
        &schedule,
        Position::default(),
        &mut cache,
        |_, _| Ok(()),
        |_, _| true,
    );
    assert!(e.unwrap_err().to_string().contains("diverged"));
}

fn bin(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rnn-lm"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_binary_trains_on_a_csv_then_generates_and_reports_bad_input_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let (csv, out_s) = (fixture(), out.to_str().unwrap().to_string());
    let o = bin(&[
        "--csv",
        csv.to_str().unwrap(),
        "--vocab",
        "40",
        "--hidden",
        "8",
        "--epochs",
        "2",
        "--samples",
        "2",
        "--min-words",
        "1",
        "--out",
        &out_s,
        "--quiet",
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("Loss after num_examples_seen=0 epoch=0:"),
        "{stdout}"
    );
    for f in ["model.safetensors", "loss.png", "loss.csv", "summary.json"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    assert!(
        !out.join("vocab.txt").exists(),
        "the vocabulary is in the model file"
    );
    // `generate` is `sample`'s old name; the first line names the model that answers.
    let o = bin(&["generate", "--model", &out_s, "-n", "3", "--min-words", "1"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(
        text.starts_with(&format!(
            "model: {out_s}/model.safetensors (N_x = 40, N_h = 8, 2 epochs"
        )),
        "{text}"
    );
    assert!(!text.contains(UNKNOWN_TOKEN));
    let o = bin(&["gradcheck", "--vocab", "12", "--hidden", "4"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    // Bad input: exit code 2 and one line `error: ...`.
    let missing = dir.path().join("missing.csv");
    for args in [
        vec!["--hidden", "0"],
        vec!["--csv", missing.to_str().unwrap(), "--out", &out_s],
        vec!["--lr", "-1", "--out", &out_s],
        vec!["generate", "--model", dir.path().to_str().unwrap()],
    ] {
        let o = bin(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with("error:"), "{args:?}: {err}");
    }
}

#[test]
fn a_short_run_on_the_generated_corpus_learns() {
    // The default data: the English-like grammar's sentences (250 words + the two markers).
    let sentences = shared::data::grammar::generate_sentences(1, 400);
    let text = shared::data::grammar::text(&sentences);
    let corpus = Corpus::from_text(&text, SentenceMode::Lines);
    let data = Prepared::new(&corpus, 8000).unwrap();
    assert!(data.vocab.unknown().is_none() && data.vocab.len() <= 252);
    let pairs = data.pairs(usize::MAX);
    let mut model = Net::from(Rnn::new(data.vocab.len(), 32, &mut rng::seeded(1)));
    let mut cache = Cache::new(&model, 16);
    let schedule = Schedule {
        lr: 0.01,
        epochs: 4,
        eval_every: 4,
        bptt: Bptt::Truncated(4),
    };
    let h = train_with_sgd(
        &mut model,
        &pairs,
        &schedule,
        Position::default(),
        &mut cache,
        |_, _| Ok(()),
        |_, _| true,
    )
    .unwrap()
    .history;
    let (first, last) = (h[0].loss, h[h.len() - 1].loss);
    eprintln!("generated corpus: loss {first} → {last}");
    assert!(
        (first - (data.vocab.len() as f64).ln()).abs() < 0.01,
        "{first}"
    );
    assert!(last < first - 1.5, "loss {first} → {last}");
}

#[test]
fn a_run_stopped_mid_epoch_continues_to_the_bits_of_one_never_stopped() {
    let data = Prepared::new(&Comments::load(fixture()).unwrap().corpus(), 40).unwrap();
    let pairs = data.pairs(usize::MAX);
    let schedule = Schedule {
        lr: 0.05,
        epochs: 5,
        eval_every: 2,
        bptt: Bptt::Truncated(3),
    };
    let train = |model: &mut Net<f64>, from: Position, stop_at: u64, losses: &mut Vec<f64>| {
        let mut cache = Cache::new(model, 8);
        train_with_sgd(
            model,
            &pairs,
            &schedule,
            from,
            &mut cache,
            |_, _| Ok(()),
            |seen, l| {
                losses.push(l);
                seen != stop_at
            },
        )
        .unwrap()
    };
    let (mut whole, mut whole_losses) =
        (Net::from(Rnn::new(40, 12, &mut rng::seeded(2))), Vec::new());
    let all = train(&mut whole, Position::default(), 0, &mut whole_losses);
    assert!(!all.stopped);
    let n = pairs.len() as u64;
    // Stopped in the middle of epoch 2 (after the evaluation at epoch 2), then continued; and
    // stopped exactly at the end of epoch 3 (an epoch without evaluation), then continued.
    for stop_at in [2 * n + 5, 4 * n] {
        let (mut model, mut losses) =
            (Net::from(Rnn::new(40, 12, &mut rng::seeded(2))), Vec::new());
        let part = train(&mut model, Position::default(), stop_at, &mut losses);
        assert!(part.stopped && part.seen == stop_at, "{part:?}");
        let from = Position {
            history: part.history,
            seen: part.seen,
        };
        let rest = train(&mut model, from, 0, &mut losses);
        assert!(!rest.stopped);
        assert_eq!(rest, all, "stopped at {stop_at}");
        assert_eq!(losses, whole_losses, "stopped at {stop_at}");
        assert_eq!(model, whole, "stopped at {stop_at}");
    }
    // Asked to stop at the very last step, it does not (there is nothing left to resume).
    let (mut model, mut losses) = (Net::from(Rnn::new(40, 12, &mut rng::seeded(2))), Vec::new());
    let last = train(&mut model, Position::default(), 5 * n, &mut losses);
    assert_eq!(last, all);
}
