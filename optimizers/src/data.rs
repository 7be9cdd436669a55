//! The training set: the notebook's moons (`load_dataset`) or labelled points from a `--csv`
//! file ([`crate::points`]).

use nalgebra::DMatrix;
use shared::Result;
use std::path::Path;

/// Labels as the notebook's Y: 1 × N of 0.0 / 1.0.
pub fn labels_row(labels: &[usize]) -> DMatrix<f64> {
    DMatrix::from_iterator(1, labels.len(), labels.iter().map(|&l| l as f64))
}

/// The training set: X (2 × N, one point per column), its labels (0/1) and the notebook's
/// Y (1 × N of 0.0 / 1.0).
#[derive(Clone, Debug)]
pub struct Data {
    /// 2 × N.
    pub X: DMatrix<f64>,
    /// 1 × N.
    pub Y: DMatrix<f64>,
    /// N labels, 0 or 1.
    pub labels: Vec<usize>,
    /// How reports name the data, e.g. `moons, 300 points, noise 0.2`.
    pub name: String,
}

impl Data {
    /// The notebook's `load_dataset`: `n` moons with Gaussian noise `noise`, drawn from `seed`.
    pub fn moons(seed: u64, n: usize, noise: f64) -> Self {
        let (X, labels) = shared::data::moons::make_moons(seed, n, noise);
        let name = format!("moons, {n} points, noise {noise}");
        Self::new(X, labels, name)
    }

    /// Points from a CSV file of `x1,x2,label` lines (see [`crate::points`]).
    pub fn csv(path: &Path) -> Result<Self> {
        let (X, labels) = crate::points::load_csv(path)?;
        Ok(Self::new(X, labels, path.display().to_string()))
    }

    fn new(X: DMatrix<f64>, labels: Vec<usize>, name: String) -> Self {
        let Y = labels_row(&labels); // 1 × N
        Data { X, Y, labels, name }
    }
}
