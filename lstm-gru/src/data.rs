//! The chapter's data: the adding problem's sequences, and the text the language model reads
//! (a file or the generated corpus) cut into side-by-side streams.

use nalgebra::DMatrix;
use shared::data::{grammar, text::CharStream};
use shared::rng::{self, Rng};
use shared::{Error, Result};
use std::path::Path;

/// The adding problem's trivial predictor's MSE, Var(X₁ + X₂) = 2 · 1/12.
pub const TRIVIAL_MSE: f64 = 1.0 / 6.0;

/// B sequences of the adding problem (Hochreiter & Schmidhuber 1997, experiment 4), the
/// long-range memory test of this chapter: a network reads T steps of pairs (value, marker);
/// exactly two markers are 1; after the last step it must output the sum of the two marked
/// values.
///
/// Variant: the "modern" one of the IRNN and uRNN papers (Le et al. 2015; Arjovsky et al.
/// 2016), not the 1997 original: values uniform in [0, 1], markers 0/1, one marked step in the
/// first half and one in the second, fixed length T, target = the plain sum, loss = mean
/// squared error. Predicting the mean 1 for every sequence gives MSE = Var(X₁ + X₂) = 2/12 ≈
/// 0.167: a net that cannot carry a value across ≈ T/2 steps stays there.
#[derive(Clone, Debug)]
pub struct AddingBatch {
    /// 2 × T·B: row 0 the values, row 1 the markers; step t of sequence j is column tB + j.
    pub X: DMatrix<f64>,
    /// 1 × B: the sums of the two marked values.
    pub target: DMatrix<f64>,
}

impl AddingBatch {
    /// Room for B sequences of length T (T ≥ 2).
    pub fn new(T: usize, B: usize) -> AddingBatch {
        assert!(T >= 2, "the adding problem needs T ≥ 2");
        AddingBatch {
            X: DMatrix::zeros(2, T * B),
            target: DMatrix::zeros(1, B),
        }
    }

    /// Draws new sequences in place: values uniform in [0, 1), one marker uniformly in steps
    /// 0..T/2, the other in T/2..T.
    pub fn draw(&mut self, rng: &mut Rng) {
        let B = self.target.ncols();
        let T = self.X.ncols() / B;
        let (X, target) = (&mut self.X, &mut self.target);
        X.row_mut(1).fill(0.0);
        target.fill(0.0);
        for j in 0..B {
            for t in 0..T {
                X[(0, t * B + j)] = rng::uniform(rng, 0.0, 1.0);
            }
            let first = rng::below(rng, T / 2);
            let second = T / 2 + rng::below(rng, T - T / 2);
            for t in [first, second] {
                X[(1, t * B + j)] = 1.0;
                target[(0, j)] += X[(0, t * B + j)];
            }
        }
    }
}

/// B fresh sequences of the adding problem, of length T (T ≥ 2).
pub fn adding_batch(T: usize, B: usize, rng: &mut Rng) -> AddingBatch {
    let mut b = AddingBatch::new(T, B);
    b.draw(rng);
    b
}

/// The ids of the characters of `text` in `vocab` (an unknown character is an error).
pub fn encode(vocab: &CharStream, text: &str) -> Result<Vec<usize>> {
    text.chars()
        .map(|c| {
            vocab.id(c).ok_or_else(|| {
                Error::msg(format!(
                    "the character {c:?} is not in the model's vocabulary"
                ))
            })
        })
        .collect()
}

/// A text of `len` characters cut into B side-by-side streams read in chunks of T.
#[derive(Clone, Copy, Debug)]
pub struct Streams {
    /// Characters per stream (the last one has no target, hence len − 1 in all).
    pub per_stream: usize,
    /// Chunks per pass (per_stream / T).
    pub chunks: usize,
    T: usize,
    B: usize,
}

impl Streams {
    /// The streams of a text of `len` characters (must hold at least one chunk:
    /// len − 1 ≥ T·B).
    pub fn new(len: usize, T: usize, B: usize) -> Streams {
        let per_stream = len.saturating_sub(1) / B;
        Streams {
            per_stream,
            chunks: per_stream / T,
            T,
            B,
        }
    }

    /// Chunk k: inputs[tB + j] = ids[j·per_stream + kT + t], targets the next characters.
    pub fn chunk(&self, ids: &[usize], k: usize, inputs: &mut [usize], targets: &mut [usize]) {
        for t in 0..self.T {
            for j in 0..self.B {
                let p = j * self.per_stream + k * self.T + t;
                inputs[t * self.B + j] = ids[p];
                targets[t * self.B + j] = ids[p + 1];
            }
        }
    }
}

/// Sentences of the generated corpus `text` trains on by default (≈ 0.3 M characters).
pub const CORPUS_SENTENCES: usize = 10_000;

/// The text a run trains on: its characters, where validation starts, and (generated corpus
/// only) the exact entropy per character of the validation sentences, the floor of the loss.
pub struct Corpus {
    /// Where the text came from (a file name, or the generated corpus and its seed).
    pub source: String,
    /// The whole text as character ids, and its sorted vocabulary.
    pub stream: CharStream,
    /// ids[..split] train, ids[split..] validate.
    pub split: usize,
    /// Entropy of the validation text in nats per character (generated corpus only).
    pub floor: Option<f64>,
}

impl Corpus {
    /// The file at `path` (last 5 % for validation, as char-rnn), or the generated corpus of
    /// `shared::data::grammar` ([`CORPUS_SENTENCES`] sentences drawn from `seed`, the last 5 %
    /// of the sentences for validation). A text needs at least two distinct characters.
    pub fn load(path: Option<&Path>, seed: u64) -> Result<Corpus> {
        let corpus = match path {
            Some(path) => {
                let stream = CharStream::load(path)?;
                if stream.vocab_size() < 2 {
                    return Err(Error::format(
                        path,
                        "text",
                        format!(
                            "only one distinct character ({:?}): nothing to predict",
                            stream.chars.first().copied().unwrap_or(' ')
                        ),
                    ));
                }
                let split = stream.ids.len() * 95 / 100; // char-rnn's 0.95 / 0.05 split
                let source = path.display().to_string();
                Corpus {
                    source,
                    stream,
                    split,
                    floor: None,
                }
            }
            None => {
                let sentences = grammar::generate_sentences(seed, CORPUS_SENTENCES);
                let n_train = CORPUS_SENTENCES * 95 / 100;
                Corpus {
                    source: format!("generated corpus ({CORPUS_SENTENCES} sentences, seed {seed})"),
                    stream: CharStream::from_text(&grammar::text(&sentences)),
                    split: grammar::text(&sentences[..n_train]).chars().count(),
                    floor: Some(grammar::entropy_per_char(&sentences[n_train..])),
                }
            }
        };
        Ok(corpus)
    }

    /// The training ids.
    pub fn train_ids(&self) -> &[usize] {
        &self.stream.ids[..self.split]
    }

    /// The validation ids.
    pub fn valid_ids(&self) -> &[usize] {
        &self.stream.ids[self.split..]
    }
}
