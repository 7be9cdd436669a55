//! Data: generated default datasets (no download) and loaders for the real public ones.
//!
//! Every chapter runs with no flags on data generated here, deterministically from `--seed`,
//! and on the public dataset when given a flag. The table of datasets, their flags, sizes and
//! where to download them is kept below as the modules land.
//!
//! ## Generated datasets
//!
//! Each generator is deterministic by its seed (same seed, same data on every machine), draws
//! from its own [`crate::rng::stream`] of that seed (so a chapter may seed its weights with the
//! same `--seed` without reusing the data's random numbers), produces any size, and the first
//! `n` items for a seed do not depend on how many are asked for.
//!
//! | dataset | generator | real data instead (flag) | size | what it is for |
//! |---|---|---|---|---|
//! | English-like corpus | [`grammar::generate_sentences`], [`grammar::corpus_text`] (views: [`grammar::word_stream`], [`grammar::char_stream`]) | `--text FILE` (Hinton's `raw_sentences.txt`, Shakespeare), `--csv FILE` (reddit comments), `--mat FILE` (Hinton's 4-grams) | 250 words incl. `.` `,` `?`; any number of sentences, 7.1 words each on average; exact entropy 2.344 nats/word ([`grammar::Grammar::entropy_per_word`]), 1.85 nats/word after the first three words of a sentence ([`grammar::conditional_entropy_after`]) | word and character language models: `ngram-lm`, `rnn-lm`, `char-rnn`, `lstm-gru`; the cross-entropy floor to compare a model with |
//! | synthetic digits | [`digits::synthetic_digits`] | `--mnist DIR` (MNIST IDX files) | 28×28 grey, 10 balanced classes, 784 × N; ~0.15 s of CPU per 10,000 | image classification (`conv-im2col`: a linear softmax gets ≈ 82–85 %, a small MLP ≈ 98 %) and RBMs on images (`rbm`) |
//! | bars and stripes | [`bars::sample`], [`bars::all_patterns`] | none (a classic toy distribution) | n² × N binary, 2^(n+1) − 2 equally likely patterns (30 for n = 4) | RBM with a known optimum: mean log-likelihood −ln(2^(n+1) − 2) ([`bars::optimal_log_likelihood`]) and a partition function small enough to compute exactly (`rbm`) |
//! | moons | [`moons::make_moons`] | none (scikit-learn's formula with our seeded draws) | 2 × N points, 2 balanced classes, Gaussian noise | a small nonlinear decision boundary to compare optimisers on (`optimizers`: 300 points, noise 0.2) |

pub mod bars;
pub mod digits;
pub mod grammar;
pub mod moons;

use nalgebra::DMatrix;

/// A labelled set of grey images, one image per column.
///
/// `images` is (rows·cols) × N with pixel (r, c) of image n at row `r * cols + c` (row-major
/// inside a column, as MNIST and the digits CSV store them), values in [0, 1];
/// `labels[n]` is the class of column n.
#[derive(Clone, Debug)]
pub struct ImageSet {
    /// (rows·cols) × N, one image per column, values in [0, 1].
    pub images: DMatrix<f64>,
    /// N class labels.
    pub labels: Vec<usize>,
    /// Image height in pixels.
    pub rows: usize,
    /// Image width in pixels.
    pub cols: usize,
    /// Number of classes (labels are below it).
    pub classes: usize,
}

impl ImageSet {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the set holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The images at `indices`, in that order (e.g. a train/test split or a shuffled batch).
    pub fn select(&self, indices: &[usize]) -> ImageSet {
        ImageSet {
            images: self.images.select_columns(indices),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            rows: self.rows,
            cols: self.cols,
            classes: self.classes,
        }
    }
}
