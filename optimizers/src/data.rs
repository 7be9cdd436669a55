//! The training set: the notebook's moons (`load_dataset`) or labelled points from a `--csv`
//! file ([`crate::points`]).

use nalgebra::DMatrix;
use shared::Result;
use shared::rng::NumpyRandom;
use std::path::Path;

/// The notebook's `np.random.seed(3)`, before `make_moons` and again before the He weights:
/// `optimizers`' default `--seed`.
pub const NOTEBOOK_SEED: u64 = 3;

/// `--rng numpy`: the notebook's `model` sets `seed = 10` and increments it before each epoch's
/// `random_mini_batches` (epoch 0 draws from `np.random.seed(11)`).
pub const BATCH_SEED: u32 = 10;

/// Which generator draws the moons, the initial weights and the mini-batches (`--rng`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum RngKind {
    /// numpy's legacy generator as the notebook uses it: `np.random.seed(seed)` before
    /// scikit-learn's `make_moons` and again before the He weights, `np.random.seed(11)`,
    /// `seed(12)`, … before each epoch's mini-batches. With seed 3, the notebook's numbers.
    Numpy,
    /// The workspace's ChaCha8 (`shared::rng`), one stream each for the moons, the weights and
    /// the mini-batches.
    Chacha,
}

impl RngKind {
    /// `numpy` or `chacha`, as the flag and `summary.json` write it.
    pub fn name(self) -> &'static str {
        match self {
            RngKind::Numpy => "numpy",
            RngKind::Chacha => "chacha",
        }
    }
}

/// `seed` as numpy takes it (`np.random.seed` refuses seeds from 2^32 on): an error naming
/// `--seed` otherwise.
pub fn numpy_seed(seed: u64) -> shared::Result<u32> {
    u32::try_from(seed).map_err(|_| {
        shared::Error::flag("--seed", "numpy seeds are below 2^32 (or use --rng chacha)")
    })
}

/// How a run's random numbers are drawn, for its header line.
pub fn describe_rng(rng: RngKind, seed: u64) -> String {
    match rng {
        RngKind::Numpy => format!(
            "numpy's np.random.seed({seed}) for the moons and again for the weights, \
             np.random.seed({}), seed({}), … for the mini-batches of epochs 0, 1, …",
            BATCH_SEED + 1,
            BATCH_SEED + 2
        ),
        RngKind::Chacha => format!("ChaCha8 seed {seed}"),
    }
}

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
    /// The notebook's `load_dataset`: `n` moons with Gaussian noise `noise`, drawn by `rng`
    /// seeded with `seed` (numpy: `np.random.seed(seed)` then scikit-learn's `make_moons`, the
    /// notebook's points for seed 3, bit for bit). Error if a numpy seed does not fit in 32 bits.
    pub fn moons(rng: RngKind, seed: u64, n: usize, noise: f64) -> Result<Self> {
        let (X, labels) = match rng {
            RngKind::Numpy => {
                let mut np = NumpyRandom::new(numpy_seed(seed)?);
                shared::data::moons::make_moons_numpy(&mut np, n, noise)
            }
            RngKind::Chacha => shared::data::moons::make_moons(seed, n, noise),
        };
        let name = format!("moons, {n} points, noise {noise}");
        Ok(Self::new(X, labels, name))
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
