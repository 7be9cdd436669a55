//! Data: generated default datasets (no download) and loaders for the real public ones.
//!
//! Every chapter runs with no flags on data generated here, deterministically from `--seed`,
//! and on the public dataset when given a flag. The table of datasets, their flags, sizes and
//! where to download them is kept below as the modules land.

pub mod grammar;

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
