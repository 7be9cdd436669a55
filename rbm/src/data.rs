//! The chapter's data sets as binary matrices (n_v × N, one example per column): bars and
//! stripes from `shared::data::bars` (the default), or loaded images binarised and split into
//! training and held-out columns.

#![allow(non_snake_case)]

use nalgebra::DMatrix;
use shared::data::{ImageSet, bars, idx};
use shared::rng;
use shared::{Error, Result};
use std::path::Path;

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
    /// MNIST, from `--mnist DIR`: train-* to train and t10k-* held out, or t10k-* split.
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

/// Training examples the MNIST recipe takes when the folder holds only t10k-* (the rest of
/// its 10,000 images are held out).
pub const MNIST_T10K_TRAIN: usize = 8000;

/// MNIST from `dir`, binarised at 0.5. With the training files (`train-images-idx3-ubyte`,
/// `train-labels-idx1-ubyte`, optionally `.gz`) beside t10k-*: train on train-* (all 60,000,
/// or `train` of them drawn by `seed`) and hold out all of t10k-*. With t10k-* only: split it,
/// `train` (default [`MNIST_T10K_TRAIN`]) to train and the rest held out. The data's name says
/// which split it is.
pub fn mnist(dir: &Path, train: Option<usize>, seed: u64) -> Result<Data> {
    let (full, t10k) = idx::load_mnist_parts(dir)?;
    let Some(mut full) = full else {
        let n = train.unwrap_or(MNIST_T10K_TRAIN);
        let name = format!(
            "MNIST t10k in {} (no train-* files there: {n} of its {} images to train, the rest \
             held out; binarised at 0.5)",
            dir.display(),
            t10k.len()
        );
        return binarised_split(&t10k, n, seed, name, Source::Mnist);
    };
    let available = full.len();
    let n = train.unwrap_or(available);
    if n > available {
        return Err(Error::flag(
            "--train",
            format!(
                "{n} training images, but train-* in {} holds {available}",
                dir.display()
            ),
        ));
    }
    // In place: the 60,000 images are 376 MB as f64, and a copy would double that.
    full.images
        .apply(|p| *p = if *p >= 0.5 { 1.0 } else { 0.0 });
    let train = if n == available {
        full.images
    } else {
        let order = rng::permutation(&mut rng::stream(seed, 10), available);
        full.images.select_columns(&order[..n])
    };
    Ok(Data {
        name: format!(
            "MNIST in {}: {n} train-* images to train, the {} t10k-* images held out \
             (binarised at 0.5)",
            dir.display(),
            t10k.len()
        ),
        train,
        test: binarise(&t10k.images, 0.5),
        shape: (t10k.rows, t10k.cols),
        optimum: None,
        source: Source::Mnist,
    })
}

/// The data of a run by its flags: `--digits FILE` (1500 training images), else `--mnist DIR`
/// ([`mnist`]), else `side` × `side` bars and stripes (3000 training examples: every pattern
/// equally often). `train` overrides the number of training examples.
pub fn by_flags(
    digits: Option<&Path>,
    mnist_dir: Option<&Path>,
    side: usize,
    train: Option<usize>,
    seed: u64,
) -> Result<Data> {
    if let Some(f) = digits {
        let name = format!("{} (8 × 8 digits, binarised at 8/16)", f.display());
        let set = shared::data::digits::load_digits_csv(f)?;
        return binarised_split(&set, train.unwrap_or(1500), seed, name, Source::Digits);
    }
    if let Some(d) = mnist_dir {
        return mnist(d, train, seed);
    }
    let copies = train.unwrap_or(3000) / bars::pattern_count(side);
    Ok(bars_and_stripes(side, copies, 1000, seed))
}

impl Data {
    /// A fingerprint of the examples (FNV-1a over the sizes and every pixel's bit, training
    /// then held-out): a resumed run checks it is given the data it was trained on.
    pub fn fingerprint(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |byte: u8| {
            h ^= u64::from(byte);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        };
        for M in [&self.train, &self.test] {
            for n in [M.nrows(), M.ncols()] {
                (n as u64).to_le_bytes().into_iter().for_each(&mut eat);
            }
            for pixels in M.as_slice().chunks(8) {
                let bits = pixels.iter().enumerate();
                eat(bits.fold(0u8, |b, (i, &x)| b | (u8::from(x != 0.0) << i)));
            }
        }
        format!("fnv1a64:{h:016x}")
    }
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
