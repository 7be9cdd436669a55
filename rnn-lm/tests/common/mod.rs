//! What several test files share: the committed CSV fixture, a tiny training command on it, and
//! a tiny language to learn.
#![allow(dead_code)] // each test file uses some of these

use shared::rng;
use shared::testing::SessionContract;
use std::path::Path;

/// The committed reddit-style CSV fixture (27 sentences).
pub fn fixture() -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/comments.csv");
    p.display().to_string()
}

/// `train` on [`fixture`] with a tiny model, then `rest`.
pub fn tiny(rest: &[&str]) -> Vec<String> {
    let base = [
        "train",
        "--csv",
        &fixture(),
        "--vocab",
        "40",
        "--hidden",
        "8",
        "--samples",
        "2",
        "--min-words",
        "1",
    ]
    .map(String::from);
    base.into_iter()
        .chain(rest.iter().map(|s| s.to_string()))
        .collect()
}

/// The generated corpus, long enough to be stopped by Ctrl-C in the middle of an epoch.
pub const LONG: [&str; 9] = [
    "train",
    "--sentences",
    "300",
    "--hidden",
    "16",
    "--epochs",
    "60",
    "--samples",
    "2",
];

/// The run session's contract for `short` and `long` training commands of the binary.
pub fn contract<'a>(short: &'a [&'a str], long: &'a [&'a str]) -> SessionContract<'a> {
    SessionContract {
        bin: env!("CARGO_BIN_EXE_rnn-lm"),
        short,
        long,
        length: ("--epochs", "3"),
        resume_cmd: &["train"],
        fixed: ("--lr", "0.5"),
    }
}

/// A tiny language: "START the|a <noun> <verb> . END" with nouns and verbs that agree.
pub fn tiny_corpus(n: usize, seed: u64) -> Vec<Vec<usize>> {
    // 0 START, 1 END, 2 ".", 3 the, 4 a, 5..8 nouns, 9..12 verbs (noun k takes verb k).
    let mut r = rng::seeded(seed);
    (0..n)
        .map(|_| {
            let noun = rng::below(&mut r, 4);
            vec![0, 3 + rng::below(&mut r, 2), 5 + noun, 9 + noun, 2, 1]
        })
        .collect()
}
