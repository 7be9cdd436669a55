//! The vocabulary and the assignment's three helpers on a trained model:
//! `display_nearest_words`, `predict_next_word` and `word_distance`.

use crate::{CONTEXT, Model};
use shared::{Error, Result, files};
use std::collections::HashMap;
use std::path::Path;

/// The words of the model, id → word and word → id (0-based; the assignment's id k is k + 1).
#[derive(Clone, Debug, PartialEq)]
pub struct Vocab {
    words: Vec<String>,
    index: HashMap<String, usize>,
}

impl Vocab {
    /// A vocabulary of `words` in id order; empty words, words with whitespace and
    /// duplicates are errors.
    pub fn new(words: Vec<String>) -> Result<Vocab> {
        let mut index = HashMap::with_capacity(words.len());
        for (i, w) in words.iter().enumerate() {
            if w.is_empty() || w.chars().any(char::is_whitespace) {
                return Err(Error::msg(format!(
                    "vocabulary word {} ({w:?}) is empty or contains whitespace",
                    i + 1
                )));
            }
            if let Some(j) = index.insert(w.clone(), i) {
                return Err(Error::msg(format!(
                    "vocabulary word {w:?} appears twice (ids {j} and {i})"
                )));
            }
        }
        Ok(Vocab { words, index })
    }

    /// Number of words V.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True when there is no word.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The word with id `id`.
    pub fn word(&self, id: usize) -> &str {
        &self.words[id]
    }

    /// All words in id order.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The id of `word` (tried as given, then lower-cased); an unknown word is an error that
    /// names the closest vocabulary words by edit distance.
    pub fn id(&self, word: &str) -> Result<usize> {
        if let Some(&i) = self
            .index
            .get(word)
            .or_else(|| self.index.get(&word.to_lowercase()))
        {
            return Ok(i);
        }
        let close = self.closest(word, 5);
        Err(Error::msg(format!(
            "word '{word}' is not in the vocabulary ({} words); closest: {}",
            self.len(),
            close.join(", ")
        )))
    }

    /// The `k` vocabulary words with the smallest edit distance to `word` (ties: lower id).
    pub fn closest(&self, word: &str, k: usize) -> Vec<&str> {
        let lower = word.to_lowercase();
        let mut scored: Vec<(usize, usize)> = self
            .words
            .iter()
            .enumerate()
            .map(|(i, w)| (edit_distance(&lower, w), i))
            .collect();
        scored.sort_unstable();
        scored
            .iter()
            .take(k)
            .map(|&(_, i)| self.words[i].as_str())
            .collect()
    }

    /// Writes the words one per line (line k + 1 = id k), atomically.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let mut text = self.words.join("\n");
        text.push('\n');
        files::write_bytes_atomic(path, text.as_bytes())
    }

    /// Reads a file written by [`Vocab::save`].
    pub fn load(path: impl AsRef<Path>) -> Result<Vocab> {
        let path = path.as_ref();
        let text = files::read_text(path)?;
        let mut words = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.is_empty() || line.chars().any(char::is_whitespace) {
                return Err(Error::format(
                    path,
                    format!("line {}", n + 1),
                    "expected one word (no spaces) per line",
                ));
            }
            words.push(line.to_string());
        }
        Vocab::new(words).map_err(|e| Error::format(path, "vocabulary", e))
    }
}

/// Levenshtein distance between two strings, counted in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Euclidean distance between the embeddings (rows of W0) of words `a` and `b`
/// (word_distance.m).
pub fn distance(model: &Model, a: usize, b: usize) -> f64 {
    (model.W0.row(a) - model.W0.row(b)).norm()
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
/// (predict_next_word.m).
pub fn predict(model: &Model, context: [usize; CONTEXT], k: usize) -> Vec<(usize, f64)> {
    let mut p: Vec<(usize, f64)> = model.next_word(context).into_iter().enumerate().collect();
    p.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    p.truncate(k);
    p
}

/// Loads `model.safetensors` and `vocab.txt` from a training run's folder `dir`.
pub fn load_trained(dir: &Path) -> Result<(Model, Vocab)> {
    let path = dir.join("model.safetensors");
    if !path.is_file() {
        return Err(Error::msg(format!(
            "no trained model at {} (run `ngram-lm train` first, or pass --model DIR)",
            path.display()
        )));
    }
    let model = Model::load(&path)?;
    let vocab_path = dir.join("vocab.txt");
    let vocab = Vocab::load(&vocab_path)?;
    if vocab.len() != model.vocab() {
        return Err(Error::format(
            &vocab_path,
            "vocabulary",
            format!("{} words for a model of {}", vocab.len(), model.vocab()),
        ));
    }
    Ok((model, vocab))
}

/// display_nearest_words(word, model, k) as text: a header, then `word distance` lines.
pub fn show_nearest(model: &Model, vocab: &Vocab, word: &str, k: usize) -> Result<String> {
    let mut s = format!("nearest {word}:\n");
    for (w, d) in nearest(model, vocab.id(word)?, k) {
        s += &format!("{} {d:.2}\n", vocab.word(w));
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
    let ids = [vocab.id(ctx[0])?, vocab.id(ctx[1])?, vocab.id(ctx[2])?];
    let [a, b, c] = ctx;
    let mut s = format!("predict {a} {b} {c}:\n");
    for (w, p) in predict(model, ids, k) {
        s += &format!("{a} {b} {c} {} Prob: {p:.5}\n", vocab.word(w));
    }
    Ok(s)
}

/// word_distance(w1, w2, model) as text.
pub fn show_distance(model: &Model, vocab: &Vocab, a: &str, b: &str) -> Result<String> {
    let d = distance(model, vocab.id(a)?, vocab.id(b)?);
    Ok(format!("distance {a} {b}: {d:.2}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("could", "could"), 0);
        assert_eq!(edit_distance("coud", "could"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("dr.", "dr"), 1);
    }

    #[test]
    fn lookup_and_suggestions() {
        let v = Vocab::new(
            ["could", "would", "should", "the", "."]
                .map(String::from)
                .to_vec(),
        )
        .unwrap();
        assert_eq!(v.id("would").unwrap(), 1);
        assert_eq!(v.id("Could").unwrap(), 0);
        let e = v.id("coud").unwrap_err().to_string();
        assert!(
            e.contains("'coud' is not in the vocabulary (5 words)"),
            "{e}"
        );
        assert!(e.contains("closest: could, would, should"), "{e}");
        assert!(Vocab::new(vec!["a".into(), "a".into()]).is_err());
        assert!(Vocab::new(vec!["a b".into()]).is_err());
    }
}
