//! The train and test sets of a run: the generated digits (default), MNIST (`--mnist DIR`) or
//! the 8×8 digits CSV (`--digits FILE`), all loaded by `shared::data`.

use shared::data::{ImageSet, digits, idx};
use shared::session::check_memory;
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

/// Training and test examples when `--train-size` / `--test-size` are not given (and the
/// data is not an MNIST folder with both parts, which then trains and tests on all of them).
pub const DEFAULT_SIZES: (usize, usize) = (8000, 2000);

/// The split the data flags ask for: an MNIST folder (`mnist`), a digits CSV (`digits`) or
/// the generated digits of `seed`, with `train` / `test` examples (`None`: the default of the
/// data). The generated digits are checked against the memory first.
pub fn by_flags(
    mnist: Option<&Path>,
    digits: Option<&Path>,
    train: Option<usize>,
    test: Option<usize>,
    seed: u64,
) -> Result<Split> {
    let (tr, te) = (
        train.unwrap_or(DEFAULT_SIZES.0),
        test.unwrap_or(DEFAULT_SIZES.1),
    );
    match (mnist, digits) {
        (Some(dir), _) => self::mnist(dir, train, test),
        (_, Some(file)) => digits_csv(file, tr, te),
        _ => {
            // 28 × 28 pixels of 8 bytes, twice: the generated set and the split's copies.
            let flag = if test.is_some() && te > tr {
                "--test-size"
            } else {
                "--train-size"
            };
            let bytes = (tr as f64 + te as f64) * 784.0 * 8.0 * 2.0;
            check_memory(flag, &format!("{tr} + {te} generated images"), bytes)?;
            Ok(generated(seed, tr, te))
        }
    }
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
    let (tr, te) = if train.saturating_add(test) <= n {
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

/// MNIST from a folder. With both parts (`train-*` and `t10k-*`): the first `train` images
/// of `train-*` to train and the first `test` of `t10k-*` to test (`None`: all of them, the
/// standard 60,000 / 10,000). With `t10k-*` only: split by [`split_one`] (`None`: 8000 /
/// 2000).
pub fn mnist(dir: &Path, train: Option<usize>, test: Option<usize>) -> Result<Split> {
    let (full, t10k) = idx::load_mnist_parts(dir)?;
    check_digit_labels(&t10k, dir, "t10k")?;
    let Some(full) = full else {
        let (tr, te) = (
            train.unwrap_or(DEFAULT_SIZES.0),
            test.unwrap_or(DEFAULT_SIZES.1),
        );
        let mut split = split_one(t10k, "MNIST t10k", dir, tr, te)?;
        split.description += "; no train-* images in the folder, so t10k is split in two";
        return Ok(split);
    };
    check_digit_labels(&full, dir, "train")?;
    let tr = train.unwrap_or(full.len()).min(full.len());
    let te = test.unwrap_or(t10k.len()).min(t10k.len());
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
        description: format!(
            "MNIST train images 0..{tr} to train, t10k images 0..{te} to test (of {} and {})",
            full.len(),
            t10k.len()
        ),
    })
}

/// Every image of the folder's `t10k-*` files (what `eval --mnist DIR` measures), labels
/// checked to be digits.
pub fn mnist_test(dir: &Path) -> Result<ImageSet> {
    let set = idx::load_mnist_dir(dir, "t10k")?;
    check_digit_labels(&set, dir, "t10k")?;
    Ok(set)
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
