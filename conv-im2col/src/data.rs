//! The train and test sets of a run: the generated digits (default), MNIST (`--mnist DIR`) or
//! the 8×8 digits CSV (`--digits FILE`), all loaded by `shared::data`.

use shared::Result;
use shared::data::{ImageSet, digits, idx};
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
/// set holds fewer than `train + test` images, all of them are used, 4:1.
pub fn split_one(set: ImageSet, name: &str, train: usize, test: usize) -> Split {
    let n = set.len();
    let (tr, te) = if train + test <= n {
        (train, test)
    } else {
        (n * 4 / 5, n - n * 4 / 5)
    };
    let idx: Vec<usize> = (0..tr + te).collect();
    let mut description = format!("{name} images 0..{tr} to train, {tr}..{} to test", tr + te);
    if (tr, te) != (train, test) {
        description += &format!(" (it holds {n}: split 4:1)");
    }
    Split {
        train: set.select(&idx[..tr]),
        test: set.select(&idx[tr..]),
        description,
    }
}

/// MNIST from a folder: the first `train` images of `train-*` and the first `test` of
/// `t10k-*` if the training files are there; otherwise `t10k-*` split by [`split_one`] (the
/// team's copy holds only t10k: 8000 / 2000 is the reference split).
pub fn mnist(dir: &Path, train: usize, test: usize) -> Result<Split> {
    let t10k = idx::load_mnist_dir(dir, "t10k")?;
    let has_train = ["train-images-idx3-ubyte", "train-images.idx3-ubyte"]
        .iter()
        .any(|stem| dir.join(stem).is_file() || dir.join(format!("{stem}.gz")).is_file());
    if !has_train {
        return Ok(split_one(t10k, "MNIST t10k", train, test));
    }
    let full = idx::load_mnist_dir(dir, "train")?;
    let (tr, te) = (train.min(full.len()), test.min(t10k.len()));
    let first = |n: usize| (0..n).collect::<Vec<_>>();
    Ok(Split {
        train: full.select(&first(tr)),
        test: t10k.select(&first(te)),
        description: format!("MNIST train images 0..{tr} to train, t10k 0..{te} to test"),
    })
}

/// scikit-learn's 8×8 digits CSV, split by [`split_one`].
pub fn digits_csv(file: &Path, train: usize, test: usize) -> Result<Split> {
    Ok(split_one(
        digits::load_digits_csv(file)?,
        "digits CSV",
        train,
        test,
    ))
}

/// `train + test` synthetic 28×28 digits of `shared::data::digits` (stroke templates with
/// affine and smooth jitter, deterministic by `seed`): the first `train` to train, the rest to
/// test.
pub fn generated(seed: u64, train: usize, test: usize) -> Split {
    let set = digits::synthetic_digits(seed, train + test);
    split_one(set, "generated digits", train, test)
}
