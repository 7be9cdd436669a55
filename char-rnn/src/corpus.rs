//! The default training text: the English-like corpus of `shared::data::grammar`.

use shared::data::grammar;

/// The text of `sentences` sentences of the built-in grammar drawn with `seed` (one sentence
/// per line, words separated by spaces), and its exact entropy in nats per character: the
/// floor no model's cross-entropy on it can go below.
pub fn generated(seed: u64, sentences: usize) -> (String, f64) {
    let s = grammar::generate_sentences(seed, sentences);
    (grammar::text(&s), grammar::entropy_per_char(&s))
}
