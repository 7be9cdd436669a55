//! The train and test sets of a run: the generated digits (default), MNIST (`--mnist DIR`) or
//! the 8×8 digits CSV (`--digits FILE`), all loaded by `shared::data`.

use shared::data::{ImageSet, digits, idx};
use shared::{Error, Result};
use std::path::Path;

/// A training set, a test set, and one line saying where they came from.
#[derive(Clone, Debug)]
pub struct Split {
    /// Images to train on (one per column).
    pub train: ImageSet,
    /// Held-out images.
    pub test: ImageSet,
    /// E.g. "MNIST t10k images 0..8000 to train, 8000..10000 to test".
    pub description: String,
}

/// Cuts one set in two: its first `train` images to train, the next `test` to test. If the
/// set holds fewer than `train + test` images, all of them are used, 4:1. An error (naming
/// `origin`, the file or folder it came from) if that leaves either part empty.
pub fn split_one(
    set: ImageSet,
    name: &str,
    origin: &Path,
    train: usize,
    test: usize,
) -> Result<Split> {
    let n = set.len();
    let (tr, te) = if train + test <= n {
        (train, test)
    } else {
        (n * 4 / 5, n - n * 4 / 5)
    };
    if tr == 0 || te == 0 {
        return Err(Error::format(
            origin,
            "whole set",
            format!("{name} holds {n} image(s): too few to train on and test (2 or more needed)"),
        ));
    }
    let idx: Vec<usize> = (0..tr + te).collect();
    let mut description = format!("{name} images 0..{tr} to train, {tr}..{} to test", tr + te);
    if (tr, te) != (train, test) {
        description += &format!(" (it holds {n}: split 4:1)");
    }
    Ok(Split {
        train: set.select(&idx[..tr]),
        test: set.select(&idx[tr..]),
        description,
    })
}

/// An error if a label of `set` is not a digit 0–9 (SimpleConvNet has 10 outputs): IDX label
/// files may hold any byte.
fn check_digit_labels(set: &ImageSet, dir: &Path, which: &str) -> Result<()> {
    match set.labels.iter().position(|&l| l > 9) {
        Some(i) => Err(Error::format(
            dir,
            format!("{which} labels, item {i}"),
            format!("label {} is not a digit 0–9", set.labels[i]),
        )),
        None => Ok(()),
    }
}

/// MNIST from a folder: the first `train` images of `train-*` and the first `test` of
/// `t10k-*` if the training files are there; otherwise `t10k-*` split by [`split_one`] (the
/// team's copy holds only t10k: 8000 / 2000 is the reference split).
pub fn mnist(dir: &Path, train: usize, test: usize) -> Result<Split> {
    let t10k = idx::load_mnist_dir(dir, "t10k")?;
    check_digit_labels(&t10k, dir, "t10k")?;
    let has_train = ["train-images-idx3-ubyte", "train-images.idx3-ubyte"]
        .iter()
        .any(|stem| dir.join(stem).is_file() || dir.join(format!("{stem}.gz")).is_file());
    if !has_train {
        return split_one(t10k, "MNIST t10k", dir, train, test);
    }
    let full = idx::load_mnist_dir(dir, "train")?;
    check_digit_labels(&full, dir, "train")?;
    if (full.rows, full.cols) != (t10k.rows, t10k.cols) {
        return Err(Error::format(
            dir,
            "train images",
            format!(
                "they are {}×{}, the t10k images {}×{}: one network cannot read both",
                full.rows, full.cols, t10k.rows, t10k.cols
            ),
        ));
    }
    let (tr, te) = (train.min(full.len()), test.min(t10k.len()));
    if tr == 0 || te == 0 {
        return Err(Error::format(
            dir,
            "whole set",
            format!(
                "{} train and {} t10k images: too few to train on and test",
                full.len(),
                t10k.len()
            ),
        ));
    }
    let first = |n: usize| (0..n).collect::<Vec<_>>();
    Ok(Split {
        train: full.select(&first(tr)),
        test: t10k.select(&first(te)),
        description: format!("MNIST train images 0..{tr} to train, t10k 0..{te} to test"),
    })
}

/// scikit-learn's 8×8 digits CSV, split by [`split_one`].
pub fn digits_csv(file: &Path, train: usize, test: usize) -> Result<Split> {
    split_one(
        digits::load_digits_csv(file)?,
        "digits CSV",
        file,
        train,
        test,
    )
}

/// `train + test` synthetic 28×28 digits of `shared::data::digits` (stroke templates with
/// affine and smooth jitter, deterministic by `seed`): the first `train` to train, the rest to
/// test.
pub fn generated(seed: u64, train: usize, test: usize) -> Split {
    let (train, test) = (train.max(1), test.max(1));
    let set = digits::synthetic_digits(seed, train + test);
    split_one(set, "generated digits", Path::new("generated"), train, test)
        .expect("train, test ≥ 1: both parts are non-empty")
}
