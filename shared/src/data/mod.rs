//! Data: generated default datasets (no download) and loaders for the real public ones.
//!
//! Every chapter runs with no flags on data generated here, deterministically from `--seed`,
//! and on the public dataset when given a flag. The table of datasets, their flags, sizes and
//! where to download them is kept below as the modules land.
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

pub mod batch;
pub mod comments;
pub mod digits;
pub mod idx;
pub mod mat;
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
