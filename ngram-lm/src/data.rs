//! The 4-grams the model trains on, from one of three sources (all read by `shared::data`):
//! the generated English-like corpus (default), a text corpus (`--text`), or Hinton's
//! `data.mat` (`--mat`, the assignment's own split).

use crate::model::Gram;
use shared::data::grammar;
use shared::data::mat::load_hinton_a2;
use shared::data::text::{Corpus, SentenceMode, Vocab, ngrams};
use shared::{Error, Result, rng};
use std::path::PathBuf;

/// Where the 4-grams come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// The generated English-like corpus of `shared::data` (no download): this many sentences.
    Generated(usize),
    /// A text file and the vocabulary size to keep.
    Text(PathBuf, usize),
    /// Hinton's `data.mat`.
    Mat(PathBuf),
}

impl Source {
    /// The source the command line names: `--text FILE` (keeping `vocab` words), else `--mat
    /// FILE`, else `sentences` of the generated corpus.
    pub fn from_flags(
        text: Option<&PathBuf>,
        mat: Option<&PathBuf>,
        vocab: usize,
        sentences: usize,
    ) -> Source {
        match (text, mat) {
            (Some(f), _) => Source::Text(f.clone(), vocab),
            (_, Some(f)) => Source::Mat(f.clone()),
            _ => Source::Generated(sentences),
        }
    }
}

/// A vocabulary and its train / validation / test 4-grams.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// The words (ids are 0-based).
    pub vocab: Vocab,
    /// Training 4-grams (columns of the assignment's trainData), in training order.
    pub train: Vec<Gram>,
    /// Validation 4-grams.
    pub valid: Vec<Gram>,
    /// Test 4-grams.
    pub test: Vec<Gram>,
    /// Where they came from, for the log.
    pub source: String,
    /// For generated data: the exact entropy of the 4th word given the 3 before it, in nats
    /// per word — the cross-entropy floor no model can beat on average.
    pub entropy_floor: Option<f64>,
}

impl Dataset {
    /// Loads or generates the 4-grams of `source` (the split of `--text` and the generated
    /// corpus depend on `seed`).
    pub fn load(source: &Source, seed: u64) -> Result<Dataset> {
        let d = match source {
            Source::Generated(n) => {
                // The English-like corpus of shared::data::grammar, ids in its 250-word
                // vocabulary (grouped by class), 4-grams inside sentences, split as --text.
                let vocab = Vocab::from_words(
                    grammar::vocabulary()
                        .iter()
                        .map(|w| w.to_string())
                        .collect(),
                )?;
                let sentences = grammar::generate_sentences(seed, *n);
                let ids: Vec<Vec<usize>> = sentences
                    .iter()
                    .map(|s| vocab.encode_all(&s.words))
                    .collect::<Result<_>>()?;
                let mut grams = ngrams::<usize, 4>(&ids);
                let (train, valid, test) = split(&mut grams, seed);
                Dataset {
                    vocab,
                    train,
                    valid,
                    test,
                    source: format!(
                        "generated English-like corpus ({n} sentences, seed {seed}, split 80/10/10)"
                    ),
                    // H(w_t | w_1..w_{t−1}) over the targets of these 4-grams (t ≥ 4), exact.
                    entropy_floor: Some(grammar::conditional_entropy_after(&sentences, 3)),
                }
            }
            Source::Text(path, n) => {
                // One sentence per line (raw_sentences.txt), lower-cased, punctuation split off.
                let corpus = Corpus::load(path, SentenceMode::Lines)?;
                let vocab = Vocab::top_n(corpus.tokens(), *n)?;
                let ids: Vec<Vec<usize>> = corpus
                    .sentences
                    .iter()
                    .map(|s| vocab.encode_all(s))
                    .collect::<Result<_>>()?;
                let mut grams = ngrams::<usize, 4>(&ids);
                let source = format!("{} (split 80/10/10 by seed {seed})", path.display());
                let (train, valid, test) = split(&mut grams, seed);
                Dataset {
                    vocab,
                    train,
                    valid,
                    test,
                    source,
                    entropy_floor: None,
                }
            }
            Source::Mat(path) => {
                let a2 = load_hinton_a2(path)?;
                Dataset {
                    vocab: Vocab::from_words(a2.vocab)
                        .map_err(|e| Error::format(path, "field `vocab`", e))?,
                    train: a2.train,
                    valid: a2.valid,
                    test: a2.test,
                    source: format!("{} (the assignment's split)", path.display()),
                    entropy_floor: None,
                }
            }
        };
        d.check()?;
        Ok(d)
    }

    /// At least 2 words, every id below V and every set non-empty.
    fn check(&self) -> Result<()> {
        let v = self.vocab.len();
        if v < 2 {
            return Err(Error::msg(format!(
                "{}: the vocabulary has {v} word(s): a language model needs at least 2",
                self.source
            )));
        }
        for (name, set) in [
            ("training", &self.train),
            ("validation", &self.valid),
            ("test", &self.test),
        ] {
            if set.is_empty() {
                return Err(Error::msg(format!(
                    "{}: the {name} set has no 4-gram (corpus too small?)",
                    self.source
                )));
            }
            if let Some(g) = set.iter().find(|g| g.iter().any(|&w| w >= v)) {
                return Err(Error::msg(format!(
                    "{}: {name} 4-gram {g:?} has a word id outside the vocabulary of {v}",
                    self.source
                )));
            }
        }
        Ok(())
    }

    /// One line for the log: source, vocabulary and set sizes.
    pub fn describe(&self) -> String {
        format!(
            "{}: vocabulary {}, 4-grams train {} / valid {} / test {}",
            self.source,
            self.vocab.len(),
            self.train.len(),
            self.valid.len(),
            self.test.len()
        )
    }

    /// A context for the `predict` example: "john might be" (predict_next_word.m's docstring)
    /// when those words exist, else the first validation 4-gram's context.
    pub fn example_context(&self) -> Vec<String> {
        let ctx = ["john", "might", "be"];
        if ctx.iter().all(|w| self.vocab.id(w).is_some()) {
            return ctx.map(String::from).to_vec();
        }
        self.valid[0][..3]
            .iter()
            .map(|&w| self.vocab.word(w).to_string())
            .collect()
    }

    /// A pair for the `distance` example: "school university" (word_distance.m's docstring)
    /// when both exist, else "could" and "can", else the first two words.
    pub fn example_pair(&self) -> (String, String) {
        for (a, b) in [("school", "university"), ("could", "can")] {
            if self.vocab.id(a).is_some() && self.vocab.id(b).is_some() {
                return (a.into(), b.into());
            }
        }
        (self.vocab.word(0).into(), self.vocab.word(1).into())
    }
}

/// Shuffles `grams` with `seed` and splits them: validation and test get ⌊N/10⌋ each, training
/// the rest (raw_sentences.txt: 372,550 / 46,568 / 46,568, the sizes of the assignment's split).
pub fn split(grams: &mut [Gram], seed: u64) -> (Vec<Gram>, Vec<Gram>, Vec<Gram>) {
    rng::shuffle(&mut rng::stream(seed, 2), grams);
    let tenth = grams.len() / 10;
    let (valid, rest) = grams.split_at(tenth);
    let (test, train) = rest.split_at(tenth);
    (train.to_vec(), valid.to_vec(), test.to_vec())
}
