//! A tiny made-up language and a model trained on it, shared by the integration tests.

#![allow(dead_code)]

use ngram_lm::{Gram, Hyper, Trainer, train_epoch};
use shared::rng;

/// A tiny language: "S M V O ." with 4 subjects, 3 interchangeable modals, 3 verbs each with its
/// own object. Every sentence gives two 4-grams: (S, M, V → O) and (M, V, O → .).
pub const WORDS: [&str; 14] = [
    "i", "you", "we", "they", "can", "could", "will", "go", "see", "eat", "home", "it", "food", ".",
];

/// A short training run's flags: a small generated corpus, 2 epochs of 61 batches of 20, tiny
/// sizes.
pub const SMALL: [&str; 10] = [
    "--sentences",
    "400",
    "--epochs",
    "2",
    "--batch",
    "20",
    "--embed",
    "4",
    "--hidden",
    "8",
];

pub fn tiny_corpus(sentences: usize, seed: u64) -> Vec<Gram> {
    let mut r = rng::seeded(seed);
    let mut grams = Vec::new();
    for _ in 0..sentences {
        let s = rng::below(&mut r, 4);
        let m = 4 + rng::below(&mut r, 3);
        let v = rng::below(&mut r, 3);
        let (verb, object) = (7 + v, 10 + v);
        grams.push([s, m, verb, object]);
        grams.push([m, verb, object, 13]);
    }
    grams
}

pub fn train_tiny(epochs: usize) -> (Trainer, Vec<f64>) {
    let data = tiny_corpus(2000, 7);
    let hyper = Hyper {
        embed: 8,
        hidden: 16,
        batch: 20,
        ..Hyper::default()
    };
    let mut t = Trainer::new(WORDS.len(), &hyper, &mut rng::seeded(11)).unwrap();
    let ces = (0..epochs)
        .map(|_| train_epoch(&mut t, &data, &[], hyper.batch, |_| {}).unwrap())
        .collect();
    (t, ces)
}
