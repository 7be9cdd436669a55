//! The data: XOR's four rows are figure 12's lines 1–2 ([`crate::model::xor_data`]); §3's nets
//! are fitted to data drawn from known parameters, made here; `digits` trains on the 8 × 8
//! digits (scikit-learn's CSV by `--digits FILE`, else generated ones, [`generated_8x8`]),
//! split into a training and a test set ([`split`]).

use crate::model::{Kind, SimpleNet, one_hot};
use nalgebra::DMatrix;
use shared::data::ImageSet;
use shared::data::digits::{SYNTHETIC_SIDE, synthetic_digits};
use shared::rng::{self, Rng};

/// Draws a dataset for `kind` from known parameters (seeded) and returns the untrained net
/// (zero weights) with those parameters.
pub fn problem(kind: Kind, rng: &mut Rng) -> (SimpleNet, DMatrix<f64>, DMatrix<f64>) {
    let (n, W_true, b_true) = match kind {
        Kind::Linear => (
            200,
            DMatrix::from_column_slice(2, 1, &[2.0, -3.0]),
            DMatrix::from_row_slice(1, 1, &[0.5]),
        ),
        Kind::Logistic => (
            2000,
            DMatrix::from_column_slice(2, 1, &[1.5, -2.0]),
            DMatrix::from_row_slice(1, 1, &[0.3]),
        ),
        // Softmax is unchanged by adding one constant to every class: centred parameters
        // (rows summing to 0) are the identifiable ones, and gradient descent from zero keeps
        // the fit centred too (each row of Y − T sums to 0).
        Kind::Softmax => (
            3000,
            DMatrix::from_row_slice(2, 3, &[2.0, -1.0, -1.0, 0.0, 2.0, -2.0]),
            DMatrix::from_row_slice(1, 3, &[0.0, 0.5, -0.5]),
        ),
    };
    let X = shared::init::normal(n, 2, 0.0, 1.0, rng);
    let truth = SimpleNet {
        kind,
        X: X.clone(),
        T: DMatrix::zeros(n, W_true.ncols()),
        W: W_true.clone(),
        b: b_true.clone(),
    };
    let P = truth.forward();
    let T = match kind {
        // t = XW + b + noise, noise ~ N(0, 0.1²)
        Kind::Linear => P.map(|y| y + 0.1 * rng::normal(rng)),
        // t ~ Bernoulli(σ(XW + b))
        Kind::Logistic => P.map(|p| {
            if rng::uniform(rng, 0.0, 1.0) < p {
                1.0
            } else {
                0.0
            }
        }),
        // t ~ Categorical(softmax(XW + b)), one-hot
        Kind::Softmax => {
            let mut T = DMatrix::zeros(n, 3);
            for i in 0..n {
                let p: Vec<f64> = P.row(i).iter().copied().collect();
                T[(i, rng::weighted_index(rng, &p))] = 1.0;
            }
            T
        }
    };
    let K = W_true.ncols();
    let net = SimpleNet {
        kind,
        X,
        T,
        W: DMatrix::zeros(2, K),
        b: DMatrix::zeros(1, K),
    };
    (net, W_true, b_true)
}

/// The random stream (of `--seed`) that orders the digits before the split.
const SPLIT_STREAM: u64 = 20;

/// `n` generated 8 × 8 digits, made the way the UCI set made its images from 32 × 32 bitmaps:
/// each of `shared`'s generated 28 × 28 digits is centred in a 32 × 32 frame (2 blank pixels
/// around), made a bitmap (ink above 1/2 is on), and each 4 × 4 block becomes one pixel, the
/// count of its on pixels, 0..=16, divided by 16 as the CSV loader divides the UCI counts.
/// Values in [0, 1], 64 × n.
pub fn generated_8x8(seed: u64, n: usize) -> ImageSet {
    let big = synthetic_digits(seed, n);
    let (side, pad) = (SYNTHETIC_SIDE, (32 - SYNTHETIC_SIDE) / 2);
    let images = DMatrix::from_fn(64, n, |p, k| {
        let (R, C) = (p / 8, p % 8); // the block's row and column in the 8 × 8 image
        let mut ink = 0.0;
        for r in 4 * R..4 * R + 4 {
            for c in 4 * C..4 * C + 4 {
                let (r, c) = (r.wrapping_sub(pad), c.wrapping_sub(pad));
                if r < side && c < side && big.images[(r * side + c, k)] > 0.5 {
                    ink += 1.0;
                }
            }
        }
        ink / 16.0
    });
    ImageSet {
        images,
        labels: big.labels,
        rows: 8,
        cols: 8,
        classes: 10,
    }
}

/// A training and a test set as §3–§4 write data: one example per row.
#[derive(Clone, Debug)]
pub struct Split {
    /// Training inputs X0, N × 64.
    pub X_train: DMatrix<f64>,
    /// Their one-hot targets T, N × 10.
    pub T_train: DMatrix<f64>,
    /// Their labels.
    pub labels_train: Vec<usize>,
    /// Test inputs, M × 64.
    pub X_test: DMatrix<f64>,
    /// Their one-hot targets, M × 10.
    pub T_test: DMatrix<f64>,
    /// Their labels.
    pub labels_test: Vec<usize>,
}

/// Shuffles `set` with `seed` and holds out its last `test` images.
pub fn split(set: &ImageSet, test: usize, seed: u64) -> Split {
    let order = rng::permutation(&mut rng::stream(seed, SPLIT_STREAM), set.len());
    let (train, held) = order.split_at(set.len() - test);
    let rows = |idx: &[usize]| {
        let part = set.select(idx);
        let T = one_hot(&part.labels, set.classes);
        (part.images.transpose(), T, part.labels)
    };
    let (X_train, T_train, labels_train) = rows(train);
    let (X_test, T_test, labels_test) = rows(held);
    Split {
        X_train,
        T_train,
        labels_train,
        X_test,
        T_test,
        labels_test,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_8x8_digits_count_the_on_pixels_and_keep_the_labels() {
        let (big, small) = (synthetic_digits(3, 40), generated_8x8(3, 40));
        assert_eq!(small.images.shape(), (64, 40));
        assert_eq!(small.labels, big.labels);
        for k in 0..40 {
            // Every 28 × 28 pixel lies in exactly one block: the on pixels are all counted.
            let on = big.images.column(k).iter().filter(|&&v| v > 0.5).count() as f64;
            let counts = small.images.column(k).map(|v| 16.0 * v);
            assert!((counts.sum() - on).abs() < 1e-9, "{on} {}", counts.sum());
            assert!(counts.iter().all(|c| c.fract() == 0.0 && *c <= 16.0));
            // The frame's 2 blank pixels: the corner blocks see 2 × 2 of the image only.
            assert!(counts[0] <= 4.0 && counts[63] <= 4.0);
        }
    }

    #[test]
    fn the_split_is_a_partition_of_the_images() {
        let set = generated_8x8(1, 50);
        let s = split(&set, 12, 7);
        assert_eq!((s.X_train.nrows(), s.X_test.nrows()), (38, 12));
        let mut all: Vec<usize> = s
            .labels_train
            .iter()
            .chain(&s.labels_test)
            .copied()
            .collect();
        let mut want = set.labels.clone();
        all.sort_unstable();
        want.sort_unstable();
        assert_eq!(all, want);
        assert_eq!(s.T_test.row(3).transpose().argmax().0, s.labels_test[3]);
        let ink = s.X_train.sum() + s.X_test.sum() - set.images.sum();
        assert!(ink.abs() < 1e-9, "{ink}");
    }
}
