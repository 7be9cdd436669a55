//! Data: generated default datasets (no download) and loaders for the real public ones.
//!
//! Every chapter runs with no flags on data generated here, deterministically from `--seed`,
//! and on the public dataset when given a flag. The table of datasets, their flags, sizes and
//! where to download them are below.
//!
//! # Generated datasets (the defaults)
//!
//! Each generator is deterministic by its seed (same seed, same data on every machine), draws
//! from its own [`crate::rng::stream`] of that seed (so a chapter may seed its weights with the
//! same `--seed` without reusing the data's random numbers), produces any size, and the first
//! `n` items for a seed do not depend on how many are asked for (except for the moons, which
//! spread N points over the half circles, and which can also be drawn by numpy's generator, as
//! the notebook that uses them draws them).
//!
//! | dataset | generator | real data instead (flag) | size | what it is for |
//! |---|---|---|---|---|
//! | English-like corpus | [`grammar::generate_sentences`], [`grammar::corpus_text`] (views: [`grammar::word_stream`], [`grammar::char_stream`]) | `--text FILE` (Hinton's `raw_sentences.txt`, Shakespeare), `--csv FILE` (reddit comments), `--mat FILE` (Hinton's 4-grams) | 250 words incl. `.` `,` `?`; any number of sentences, 7.1 words each on average; exact entropy 2.344 nats/word ([`grammar::Grammar::entropy_per_word`]), 1.85 nats/word after the first three words of a sentence ([`grammar::conditional_entropy_after`]) | word and character language models: `ngram-lm`, `rnn-lm`, `char-rnn`, `lstm-gru`; the cross-entropy floor to compare a model with |
//! | synthetic digits | [`digits::synthetic_digits`] | `--mnist DIR` (MNIST IDX files) | 28×28 grey, 10 balanced classes, 784 × N; ~0.15 s of CPU per 10,000 | image classification (`conv-im2col`: a linear softmax gets ≈ 82–85 %, a small MLP ≈ 98 %) and RBMs on images (`rbm`) |
//! | bars and stripes | [`bars::sample`], [`bars::all_patterns`] | none (a classic toy distribution) | n² × N binary, 2^(n+1) − 2 equally likely patterns (30 for n = 4) | RBM with a known optimum: mean log-likelihood −ln(2^(n+1) − 2) ([`bars::optimal_log_likelihood`]) and a partition function small enough to compute exactly (`rbm`) |
//! | moons | [`moons::make_moons_numpy`] (scikit-learn's `make_moons` drawn by numpy's legacy generator, bit for bit), [`moons::make_moons`] (the same formula on our ChaCha8 draws) | none (scikit-learn's formula) | 2 × N points, 2 balanced classes, Gaussian noise | a small nonlinear decision boundary to compare optimisers on (`optimizers`: 300 points, noise 0.2, numpy's draw after `np.random.seed(3)`: the notebook's points) |
//!
//! # Public datasets and their loaders
//!
//! Nothing is downloaded at run time: get the file, then pass it by flag. Tests never read
//! these files; they use small fixtures in `shared/tests/fixtures/` or data made in the test.
//!
//! | dataset | flag | loader | size | where to get it |
//! |---|---|---|---|---|
//! | Hinton NNML assignment 2 corpus `raw_sentences.txt` | `--text FILE` | [`text::Corpus::load`] with [`text::SentenceMode::Lines`] | 2,955,731 B: 97,162 sentences, 757,172 tokens, 250 words (lower-cased), 465,686 within-sentence 4-grams | `assignment2/raw_sentences.txt` of the Coursera course files, e.g. <https://github.com/tkornuta/coursera_neural_nets> |
//! | Hinton NNML assignment 2 `data.mat` | `--mat FILE` | [`mat::load_hinton_a2`] (on [`mat::read_mat`]) | 7,468,024 B: struct `data`, int32 `trainData` 4×372,550, `validData` and `testData` 4×46,568 (1-based ids), `vocab` 1×250 cell | `assignment2/data.mat`, same place |
//! | tinyshakespeare (min-char-rnn's `input.txt`) | `--text FILE` | [`text::CharStream::load`] (characters) or [`text::Corpus::load`] with [`text::SentenceMode::Prose`] (words) | 1,115,394 characters, 65 distinct | <https://github.com/karpathy/char-rnn>, `data/tinyshakespeare/input.txt` |
//! | Britz's reddit comments `reddit-comments-2015-08.csv` | `--csv FILE` | [`comments::Comments::load`], then [`comments::Comments::corpus`] | 7,610,868 B; Britz reports 79,170 sentences, 65,751 distinct tokens | <https://github.com/dennybritz/rnn-tutorial-rnnlm>, `data/` (stored with Git LFS) |
//! | MNIST (IDX, plain or `.gz`) | `--mnist DIR` | [`idx::load_mnist_dir`] (`"train"` or `"t10k"`) | 60,000 train + 10,000 test images 28×28, 10 classes; 9.9 MB + 1.6 MB gzipped images | <http://yann.lecun.com/exdb/mnist/> (mirrors: e.g. <https://github.com/kelas/mnist>) |
//! | scikit-learn 8×8 digits `digits.csv` | `--digits FILE` | [`digits::load_digits_csv`] | 1,797 images 8×8, pixels 0..16, 10 classes; 264,712 B | gunzip `sklearn/datasets/data/digits.csv.gz` of a scikit-learn install (`load_digits()`); original: UCI "Optical Recognition of Handwritten Digits" |
//!
//! Batching for all of them: [`batch`] (shuffled mini-batches of columns, sequence windows).

use nalgebra::DMatrix;

pub mod bars;
pub mod batch;
pub mod comments;
pub mod digits;
pub mod grammar;
pub mod idx;
pub mod mat;
pub mod moons;
pub mod text;

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
