//! The chapter's data sets as binary matrices (n_v × N, one example per column): bars and
//! stripes from `shared::data::bars` (the default), or loaded images binarised and split into
//! training and held-out columns.

#![allow(non_snake_case)]

use crate::train::Method;
use nalgebra::DMatrix;
use shared::data::{ImageSet, bars};
use shared::rng;
use shared::{Error, Result};

/// Training and held-out data with what the report needs to know about them.
#[derive(Clone, Debug)]
pub struct Data {
    /// n_v × N training examples, entries 0 or 1.
    pub train: DMatrix<f64>,
    /// n_v × M held-out examples.
    pub test: DMatrix<f64>,
    /// Image shape (rows, cols), rows·cols = n_v.
    pub shape: (usize, usize),
    /// One line saying what the data are.
    pub name: String,
    /// The best mean log-likelihood any model can reach, when known (bars and stripes).
    pub optimum: Option<f64>,
}

/// n × n bars and stripes: for training every one of the 2^{n+1} − 2 patterns `copies` times
/// (so the training distribution is exactly the uniform one and the optimum is exactly
/// −ln(2^{n+1} − 2)); held out, `held_out` independent draws for `seed`.
pub fn bars_and_stripes(side: usize, copies: usize, held_out: usize, seed: u64) -> Data {
    let P = bars::all_patterns(side); // n² × (2^{n+1} − 2)
    let copies = copies.max(1);
    let train = DMatrix::from_fn(P.nrows(), P.ncols() * copies, |i, j| P[(i, j % P.ncols())]);
    Data {
        train,
        test: bars::sample(seed, side, held_out),
        shape: (side, side),
        name: format!(
            "bars and stripes {side} × {side}: the {} patterns × {copies}, {held_out} held-out draws",
            P.ncols()
        ),
        optimum: Some(bars::optimal_log_likelihood(side)),
    }
}

/// Images binarised at 0.5 (pixel ≥ 0.5 ↦ 1), shuffled by `seed`, the first `n_train` for
/// training and the rest held out. Error (naming `--train`) unless some are left over.
pub fn binarised_split(set: &ImageSet, n_train: usize, seed: u64, name: String) -> Result<Data> {
    if n_train >= set.len() {
        return Err(Error::flag(
            "--train",
            format!("{n_train} leaves none of the {} images held out", set.len()),
        ));
    }
    let order = rng::permutation(&mut rng::stream(seed, 10), set.len());
    let V = crate::binarise(&set.images, 0.5);
    let (train, test) = order.split_at(n_train);
    Ok(Data {
        train: V.select_columns(train),
        test: V.select_columns(test),
        shape: (set.rows, set.cols),
        name,
        optimum: None,
    })
}

/// The recipe defaults that go with a data set and a training method.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Defaults {
    /// Hidden units.
    pub hidden: usize,
    /// Epochs.
    pub epochs: usize,
    /// Gibbs steps of CD-k / PCD-k.
    pub k: usize,
    /// Learning rate ε.
    pub lr: f64,
    /// Mini-batch size; `None`: the whole training set (one update per epoch).
    pub batch: Option<usize>,
    /// ε annealed linearly to 0 over the epochs (else constant).
    pub anneal: bool,
}

impl Defaults {
    /// The data set's CD / PCD recipe: `hidden` units, `epochs` epochs of CD-`k` at ε = `lr`,
    /// mini-batches of 10; for [`Method::Exact`] instead full-batch ascent on the exact
    /// log-likelihood, `exact.0` epochs (one update each) at ε = `exact.1`.
    fn new(
        method: Method,
        hidden: usize,
        (epochs, k, lr, anneal): (usize, usize, f64, bool),
        exact: (usize, f64),
    ) -> Defaults {
        match method {
            Method::Exact => Defaults {
                hidden,
                epochs: exact.0,
                k,
                lr: exact.1,
                batch: None,
                anneal: false,
            },
            Method::Cd | Method::Pcd => Defaults {
                hidden,
                epochs,
                k,
                lr,
                batch: Some(10),
                anneal,
            },
        }
    }
}

/// The data of a run by its flags, and the recipe that goes with them and `method`:
/// `--digits FILE` (12 hidden, 50 epochs of CD-1, ε 0.05; 1500 training images), else
/// `--mnist DIR` (t10k: 16 hidden, 20 epochs of CD-1, ε 0.05; 8000 training images), else
/// `side` × `side` bars and stripes (16 hidden, 300 epochs of CD-20, ε 0.004 annealed to 0;
/// 3000 training examples: every pattern equally often). With [`Method::Exact`]: 2000 (bars),
/// 1000 (digits) full-batch epochs at ε 0.3, or 50 (MNIST) at ε 0.05. `train` overrides the
/// number of training examples.
pub fn by_flags(
    digits: Option<&std::path::Path>,
    mnist: Option<&std::path::Path>,
    side: usize,
    train: Option<usize>,
    method: Method,
    seed: u64,
) -> Result<(Data, Defaults)> {
    if let Some(f) = digits {
        let name = format!("{} (8 × 8 digits, binarised at 8/16)", f.display());
        let set = shared::data::digits::load_digits_csv(f)?;
        let data = binarised_split(&set, train.unwrap_or(1500), seed, name)?;
        return Ok((
            data,
            Defaults::new(method, 12, (50, 1, 0.05, false), (1000, 0.3)),
        ));
    }
    if let Some(d) = mnist {
        let name = format!("MNIST t10k in {} (binarised at 0.5)", d.display());
        let set = shared::data::idx::load_mnist_dir(d, "t10k")?;
        let data = binarised_split(&set, train.unwrap_or(8000), seed, name)?;
        return Ok((
            data,
            Defaults::new(method, 16, (20, 1, 0.05, false), (50, 0.05)),
        ));
    }
    let copies = train.unwrap_or(3000) / bars::pattern_count(side);
    let defaults = Defaults::new(method, 16, (300, 20, 0.004, true), (2000, 0.3));
    Ok((bars_and_stripes(side, copies, 1000, seed), defaults))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_training_set_is_exactly_uniform() {
        let d = bars_and_stripes(4, 3, 50, 1);
        assert_eq!(d.train.shape(), (16, 90));
        assert_eq!(d.test.shape(), (16, 50));
        // Column j and j + 30 are the same pattern.
        assert_eq!(d.train.column(7), d.train.column(37));
        assert!((d.optimum.unwrap() + 30f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn split_binarises_and_keeps_every_image_once() {
        let set = ImageSet {
            images: DMatrix::from_fn(4, 10, |i, j| (i + j) as f64 / 12.0),
            labels: vec![0; 10],
            rows: 2,
            cols: 2,
            classes: 1,
        };
        let d = binarised_split(&set, 7, 3, "x".into()).unwrap();
        assert_eq!((d.train.ncols(), d.test.ncols()), (7, 3));
        assert!(d.train.iter().all(|&v| v == 0.0 || v == 1.0));
        // The column sums (pixels ≥ 0.5, i.e. i + j ≥ 6) of all ten images are there once.
        let mut sums: Vec<f64> = d
            .train
            .row_sum()
            .iter()
            .chain(d.test.row_sum().iter())
            .copied()
            .collect();
        sums.sort_by(f64::total_cmp);
        let mut want: Vec<f64> = (0..10)
            .map(|j| (0..4).filter(|i| i + j >= 6).count() as f64)
            .collect();
        want.sort_by(f64::total_cmp);
        assert_eq!(sums, want);
        assert!(
            binarised_split(&set, 10, 3, "x".into())
                .unwrap_err()
                .to_string()
                .starts_with("--train")
        );
    }
}
