//! The chapter's data sets as binary matrices (n_v × N, one example per column): bars and
//! stripes from `shared::data::bars` (the default), or loaded images binarised and split into
//! training and held-out columns.

#![allow(non_snake_case)]

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
    /// Which data set it is (the training recipe's defaults depend on it).
    pub source: Source,
}

/// The chapter's data sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// n × n bars and stripes, generated.
    Bars,
    /// scikit-learn's 8 × 8 digits, from `--digits FILE`.
    Digits,
    /// MNIST t10k, from `--mnist DIR`.
    Mnist,
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
        source: Source::Bars,
    }
}

/// Images binarised at 0.5 (pixel ≥ 0.5 ↦ 1), shuffled by `seed`, the first `n_train` for
/// training and the rest held out. Error (naming `--train`) unless some are left over.
pub fn binarised_split(
    set: &ImageSet,
    n_train: usize,
    seed: u64,
    name: String,
    source: Source,
) -> Result<Data> {
    if n_train >= set.len() {
        return Err(Error::flag(
            "--train",
            format!("{n_train} leaves none of the {} images held out", set.len()),
        ));
    }
    let order = rng::permutation(&mut rng::stream(seed, 10), set.len());
    let V = binarise(&set.images, 0.5);
    let (train, test) = order.split_at(n_train);
    Ok(Data {
        train: V.select_columns(train),
        test: V.select_columns(test),
        shape: (set.rows, set.cols),
        name,
        optimum: None,
        source,
    })
}

/// Binarises images in [0, 1]: pixel ≥ `threshold` ↦ 1, else 0 (digits: counts ≥ 8 of 16 is
/// `threshold` = 0.5).
pub fn binarise(images: &DMatrix<f64>, threshold: f64) -> DMatrix<f64> {
    images.map(|p| if p >= threshold { 1.0 } else { 0.0 })
}

/// The data of a run by its flags: `--digits FILE` (1500 training images), else `--mnist DIR`
/// (t10k, 8000 training images), else `side` × `side` bars and stripes (3000 training
/// examples: every pattern equally often). `train` overrides the number of training examples.
pub fn by_flags(
    digits: Option<&std::path::Path>,
    mnist: Option<&std::path::Path>,
    side: usize,
    train: Option<usize>,
    seed: u64,
) -> Result<Data> {
    if let Some(f) = digits {
        let name = format!("{} (8 × 8 digits, binarised at 8/16)", f.display());
        let set = shared::data::digits::load_digits_csv(f)?;
        return binarised_split(&set, train.unwrap_or(1500), seed, name, Source::Digits);
    }
    if let Some(d) = mnist {
        let name = format!("MNIST t10k in {} (binarised at 0.5)", d.display());
        let set = shared::data::idx::load_mnist_dir(d, "t10k")?;
        return binarised_split(&set, train.unwrap_or(8000), seed, name, Source::Mnist);
    }
    let copies = train.unwrap_or(3000) / bars::pattern_count(side);
    Ok(bars_and_stripes(side, copies, 1000, seed))
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
        let d = binarised_split(&set, 7, 3, "x".into(), Source::Digits).unwrap();
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
            binarised_split(&set, 10, 3, "x".into(), Source::Digits)
                .unwrap_err()
                .to_string()
                .starts_with("--train")
        );
    }
}
