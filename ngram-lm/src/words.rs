//! The assignment's three helpers on a trained model, `display_nearest_words`,
//! `predict_next_word` and `word_distance`, and the lookup of the words the user typed.

use crate::fast::{self, FastModel};
use crate::model::{CONTEXT, Model};
use shared::Result;
use shared::data::text::Vocab;

/// The id of a word the user typed: as given, else lower-cased (the corpora are lower-cased);
/// an unknown word is an error naming the closest vocabulary words by edit distance.
pub fn lookup(vocab: &Vocab, word: &str) -> Result<usize> {
    match vocab.id(word).or_else(|| vocab.id(&word.to_lowercase())) {
        Some(id) => Ok(id),
        None => vocab.require(&word.to_lowercase()),
    }
}

/// Euclidean distance between the embeddings (rows of W0) of words `a` and `b`
/// (word_distance.m).
pub fn distance(model: &Model, a: usize, b: usize) -> f64 {
    let d = (model.W0.row(a) - model.W0.row(b)).norm();
    if d.is_finite() {
        return d;
    }
    // Embeddings blown up by a huge --lr (finite, near f64's largest) overflow the squares:
    // the same distance computed on the rows scaled down by their largest entry.
    let s = model.W0.row(a).amax().max(model.W0.row(b).amax());
    (model.W0.row(a) / s - model.W0.row(b) / s).norm() * s
}

/// The `k` words whose embeddings are closest to word `id`'s, nearest first, without the word
/// itself (display_nearest_words.m).
pub fn nearest(model: &Model, id: usize, k: usize) -> Vec<(usize, f64)> {
    let mut d: Vec<(usize, f64)> = (0..model.vocab())
        .filter(|&j| j != id)
        .map(|j| (j, distance(model, id, j)))
        .collect();
    d.sort_by(|x, y| x.1.total_cmp(&y.1).then(x.0.cmp(&y.0)));
    d.truncate(k);
    d
}

/// The `k` most probable next words after `context`, most probable first
/// (predict_next_word.m), computed in f64 (on an f32 model's weights widened, exactly).
pub fn predict(model: &Model, context: [usize; CONTEXT], k: usize) -> Vec<(usize, f64)> {
    let mut p: Vec<(usize, f64)> = fast::next_word(&FastModel::<f64>::from_model(model), context)
        .into_iter()
        .enumerate()
        .collect();
    p.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    p.truncate(k);
    p
}

/// display_nearest_words(word, model, k) as text: a header, then `word distance` lines.
pub fn show_nearest(model: &Model, vocab: &Vocab, word: &str, k: usize) -> Result<String> {
    let mut s = format!("nearest {word}:\n");
    for (w, d) in nearest(model, lookup(vocab, word)?, k) {
        s += &format!("{} {}\n", vocab.word(w), show(d));
    }
    Ok(s)
}

/// predict_next_word(w1, w2, w3, model, k) as text: `w1 w2 w3 w4 Prob: p` lines.
pub fn show_predict(
    model: &Model,
    vocab: &Vocab,
    ctx: [&str; CONTEXT],
    k: usize,
) -> Result<String> {
    let ids = [
        lookup(vocab, ctx[0])?,
        lookup(vocab, ctx[1])?,
        lookup(vocab, ctx[2])?,
    ];
    let [a, b, c] = ctx;
    let mut s = format!("predict {a} {b} {c}:\n");
    for (w, p) in predict(model, ids, k) {
        s += &format!("{a} {b} {c} {} Prob: {p:.5}\n", vocab.word(w));
    }
    Ok(s)
}

/// word_distance(w1, w2, model) as text.
pub fn show_distance(model: &Model, vocab: &Vocab, a: &str, b: &str) -> Result<String> {
    let d = distance(model, lookup(vocab, a)?, lookup(vocab, b)?);
    Ok(format!("distance {a} {b}: {}\n", show(d)))
}

/// A distance with two decimals; one of a blown-up model (≥ 1e6) in scientific notation.
fn show(d: f64) -> String {
    if d < 1e6 {
        format!("{d:.2}")
    } else {
        format!("{d:.3e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_lower_cases_and_suggests() {
        let words = ["could", "would", "should", "the", "."];
        let v = Vocab::from_words(words.map(String::from).to_vec()).unwrap();
        assert_eq!(lookup(&v, "would").unwrap(), 1);
        assert_eq!(lookup(&v, "Could").unwrap(), 0);
        let e = lookup(&v, "coud").unwrap_err().to_string();
        assert!(
            e.contains("'coud' is not in the vocabulary of 5 words"),
            "{e}"
        );
        assert!(e.contains("(closest: could, would, should"), "{e}");
    }
}
