//! The tutorial's preprocessing: sentences → `SENTENCE_START … SENTENCE_END` → the top-N
//! vocabulary (the rest `UNKNOWN_TOKEN`) → word ids. Input `x` is a sentence without its last
//! id, target `t` without its first (notes §6: "input data는 마지막 단어인 'SENTENCE_END'만 제외하고
//! ..., output data는 시작 단어인 'SENTENCE_START'만을 제외").

use crate::fast;
use crate::model::Rnn;
use shared::data::comments::Comments;
use shared::data::grammar;
use shared::data::text::{Corpus, SENTENCE_END, SENTENCE_START, SentenceMode, Vocab};
use shared::rng::Rng;
use shared::{Error, Result, say};
use std::collections::HashSet;
use std::path::Path;

/// Where the sentences come from.
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    /// The tutorial's reddit comments CSV (`--csv`): each `body` cut into sentences.
    Csv(&'a Path),
    /// Any UTF-8 text (`--text`): sentences end at `.` `?` `!` and blank lines.
    Text(&'a Path),
    /// `sentences` sentences of the generated English-like corpus (the default).
    Generated {
        /// The run's seed.
        seed: u64,
        /// How many sentences (at most 1,000,000).
        sentences: u64,
    },
}

impl<'a> Source<'a> {
    /// The source the flags name: `--csv`, else `--text`, else the generated corpus of
    /// `sentences` sentences (default 5000).
    pub fn from_flags(
        csv: Option<&'a Path>,
        text: Option<&'a Path>,
        seed: u64,
        sentences: Option<u64>,
    ) -> Source<'a> {
        match (csv, text) {
            (Some(path), _) => Source::Csv(path),
            (None, Some(path)) => Source::Text(path),
            (None, None) => Source::Generated {
                seed,
                sentences: sentences.unwrap_or(5000),
            },
        }
    }

    /// The source as the checkpoint and messages name it: the path, or
    /// `generated:<seed>:<sentences>`.
    pub fn name(&self) -> String {
        match self {
            Source::Csv(path) | Source::Text(path) => path.display().to_string(),
            Source::Generated { seed, sentences } => format!("generated:{seed}:{sentences}"),
        }
    }

    /// The corpus, and for the generated one the floor of the loss per target word,
    /// −Σ ln p(sentence) / Σ (words + 1): the grammar's exact log-probabilities, with
    /// `SENTENCE_END` certain after the final `.` or `?`. Prints what it reads, as the tutorial.
    pub fn load(self) -> Result<(Corpus, Option<f64>)> {
        match self {
            Source::Csv(path) => {
                say!("Reading CSV file {} ...", path.display())?;
                let comments = Comments::load(path)?;
                if let Some(cut) = &comments.truncated {
                    say!("{}: {cut}", path.display())?;
                }
                Ok((check(comments.corpus(), path)?, None))
            }
            Source::Text(path) => {
                Ok((check(Corpus::load(path, SentenceMode::Prose)?, path)?, None))
            }
            Source::Generated { seed, sentences } => {
                if sentences > 1_000_000 {
                    let msg = "the generated corpus has at most 1000000 sentences";
                    return Err(Error::flag("--sentences", msg));
                }
                let sentences = grammar::generate_sentences(seed, sentences as usize);
                let nats: f64 = sentences.iter().map(|s| -s.log_prob).sum();
                let targets: usize = sentences.iter().map(|s| s.words.len() + 1).sum();
                let text = grammar::text(&sentences);
                let corpus = Corpus::from_text(&text, SentenceMode::Lines);
                Ok((corpus, Some(nats / targets as f64)))
            }
        }
    }
}

/// `corpus` read from `path` if it has something to learn: at least one sentence and two
/// distinct words (tokens with a letter or digit; punctuation alone does not count).
fn check(corpus: Corpus, path: &Path) -> Result<Corpus> {
    let words: HashSet<&str> = corpus
        .tokens()
        .filter(|t| t.chars().any(char::is_alphanumeric))
        .collect();
    if words.len() < 2 {
        let found = match words.iter().next() {
            Some(w) => format!("only one distinct word ('{w}')"),
            None => "no word".to_string(),
        };
        let msg = format!("{found}: a language model needs at least two");
        return Err(Error::format(path, "whole file", msg));
    }
    Ok(corpus)
}

/// Sentences as word ids, with their vocabulary.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The kept words, most frequent first (`SENTENCE_START`, `SENTENCE_END` among them), and
    /// `UNKNOWN_TOKEN` last when words were left out.
    pub vocab: Vocab,
    /// Every sentence as ids: `SENTENCE_START` w₁ … wₙ `SENTENCE_END`.
    pub sentences: Vec<Vec<usize>>,
    /// Distinct tokens of the marked sentences, before the vocabulary cut (the tutorial's
    /// "Found 65751 unique words tokens").
    pub unique_tokens: usize,
    /// Id of `SENTENCE_START`.
    pub start: usize,
    /// Id of `SENTENCE_END`.
    pub end: usize,
}

impl Prepared {
    /// Marks every sentence of `corpus` and keeps the `vocab_size` most frequent tokens, as the
    /// tutorial's `nltk.FreqDist(...).most_common(vocabulary_size − 1) + [UNKNOWN_TOKEN]`.
    /// Error if the corpus is empty or the markers themselves fall outside the vocabulary.
    pub fn new(corpus: &Corpus, vocab_size: usize) -> Result<Prepared> {
        let marked = corpus.marked_sentences();
        if marked.is_empty() {
            return Err(Error::msg("the corpus holds no sentence"));
        }
        let unique_tokens = marked.iter().flatten().collect::<HashSet<_>>().len();
        let vocab = Vocab::top_n(marked.iter().flatten().copied(), vocab_size)?;
        let marker = |m: &str| {
            vocab.id(m).ok_or_else(|| {
                Error::flag(
                    "--vocab",
                    format!("{vocab_size} words leave out {m}; use a larger vocabulary"),
                )
            })
        };
        let (start, end) = (marker(SENTENCE_START)?, marker(SENTENCE_END)?);
        let sentences = marked
            .iter()
            .map(|s| vocab.encode_all(s))
            .collect::<Result<Vec<_>>>()?;
        Ok(Prepared {
            vocab,
            sentences,
            unique_tokens,
            start,
            end,
        })
    }

    /// The least frequent word kept (the last before `UNKNOWN_TOKEN`) and its count.
    pub fn least_frequent(&self) -> (&str, u64) {
        let last = match self.vocab.unknown() {
            Some(u) if u > 0 => u - 1,
            _ => self.vocab.len() - 1,
        };
        (self.vocab.word(last), self.vocab.count(last))
    }

    /// The first `n` sentences as (input `x`, target `t`) pairs: `x` = ids without the last,
    /// `t` = ids without the first.
    pub fn pairs(&self, n: usize) -> Vec<(&[usize], &[usize])> {
        self.sentences
            .iter()
            .take(n)
            .map(|s| (&s[..s.len() - 1], &s[1..]))
            .collect()
    }

    /// [`Prepared::pairs`] of the first `n` sentences (`--sentences`), all when `n` is `None`;
    /// error if there are fewer than `n`.
    pub fn first(&self, n: Option<u64>) -> Result<Vec<(&[usize], &[usize])>> {
        let have = self.sentences.len();
        match n {
            Some(n) if n > have as u64 => {
                let msg = format!("{n}, but the data has only {have} sentences");
                Err(Error::flag("--sentences", msg))
            }
            _ => Ok(self.pairs(n.map_or(have, |n| n as usize))),
        }
    }

    /// What the tutorial prints after preprocessing, and the first training pair as the notes
    /// show it (`x_train[0]`, `y_train[0]`, words and ids).
    pub fn describe(&self) -> String {
        let (least, count) = self.least_frequent();
        let s = &self.sentences[0];
        let (x, t) = (&s[..s.len() - 1], &s[1..]);
        format!(
            "Parsed {} sentences.\nFound {} unique words tokens.\nUsing vocabulary size {}.\n\
             The least frequent word in our vocabulary is '{least}' and appeared {count} times.\n\n\
             x_train[0]: {}\n{x:?}\ny_train[0]: {}\n{t:?}",
            self.sentences.len(),
            self.unique_tokens,
            self.vocab.len(),
            self.words(x),
            self.words(t),
        )
    }

    /// The words of `ids`, space-separated.
    pub fn words(&self, ids: &[usize]) -> String {
        let words: Vec<&str> = ids.iter().map(|&i| self.vocab.word(i)).collect();
        words.join(" ")
    }
}

/// How [`sample_sentences`] draws: the words every sentence starts with, the length bounds,
/// the temperature.
#[derive(Clone, Debug, PartialEq)]
pub struct Draw {
    /// Word ids every sentence starts with, after `SENTENCE_START` (`--prime`; usually none).
    pub prime: Vec<usize>,
    /// Shortest sentence to keep, in words (the prime included).
    pub min_words: usize,
    /// Longest sentence drawn, in words after the prime, before it is given up.
    pub max_words: usize,
    /// Softmax temperature τ; 0 takes the most likely word (no draw).
    pub temperature: f64,
}

impl Draw {
    /// The tutorial's sampling: no prime, τ = 1, sentences of `min_words` to `max_words` words.
    pub fn tutorial(min_words: usize, max_words: usize) -> Draw {
        Draw {
            prime: Vec::new(),
            min_words,
            max_words,
            temperature: 1.0,
        }
    }
}

/// `n` sentences of at least `min_words` words, as the tutorial's loop
/// `while len(sent) < senten_min_length: sent = generate_sentence(model)`, as text. Never
/// `UNKNOWN_TOKEN` ([`fast::generate`]) and never `SENTENCE_START`. Sentences that reach
/// `max_words` without `SENTENCE_END` are drawn again too; after `100 n` draws in all (the
/// tutorial loops for ever), or after [`HOPELESS`] draws of which none fits, it is an error. At
/// temperature 0 every draw is the same sentence: it is returned once, whatever its length.
pub fn sample_sentences(
    model: &Rnn,
    vocab: &Vocab,
    n: usize,
    draw: &Draw,
    rng: &mut Rng,
) -> Result<Vec<String>> {
    let (start, end) = (vocab.require(SENTENCE_START)?, vocab.require(SENTENCE_END)?);
    // UNKNOWN_TOKEN as the tutorial; SENTENCE_START too (the tutorial can draw it): it is never
    // a target, so whatever probability the model still gives it is left over from the init.
    let never: Vec<usize> = vocab.unknown().into_iter().chain([start]).collect();
    let prefix: Vec<usize> = [start].into_iter().chain(draw.prime.clone()).collect();
    let (min_words, max_words, tau) = (draw.min_words, draw.max_words, draw.temperature);
    let text = |words: &[usize]| {
        let words: Vec<&str> = draw
            .prime
            .iter()
            .chain(words)
            .map(|&i| vocab.word(i))
            .collect();
        words.join(" ")
    };
    if tau == 0.0 {
        let s = fast::generate(model, &prefix, end, &never, max_words, tau, rng);
        return Ok(if n == 0 { vec![] } else { vec![text(&s.words)] });
    }
    let mut out = Vec::with_capacity(n);
    let mut draws = 0;
    while draws < 100 * n {
        if out.len() == n || (draws == HOPELESS && out.is_empty()) {
            break;
        }
        draws += 1;
        let s = fast::generate(model, &prefix, end, &never, max_words, tau, rng);
        if s.ended && draw.prime.len() + s.words.len() >= min_words {
            out.push(text(&s.words));
        }
    }
    if out.len() == n {
        return Ok(out);
    }
    Err(Error::msg(format!(
        "only {} of {n} sentences reached SENTENCE_END with at least {min_words} words in {} \
         draws (at most {max_words} words each)",
        out.len(),
        draws
    )))
}

/// Draws after which [`sample_sentences`] gives up if none of them fitted the bounds: at
/// `-n 100000` its `100 n` draws of up to `--max-words` words each would run for hours on bounds
/// the model never meets (a sentence that fits one draw in 100 almost surely shows up here).
pub const HOPELESS: usize = 1000;
