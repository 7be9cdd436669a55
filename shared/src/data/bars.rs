//! Bars and stripes: the classic small dataset for restricted Boltzmann machines (MacKay,
//! *Information Theory, Inference, and Learning Algorithms*, 2003, ch. 43).
//!
//! An n×n binary image is a *stripes* pattern when every row is all on or all off (2^n patterns,
//! one per subset of rows) and a *bars* pattern when every column is (2^n more). The all-off
//! and all-on images are both, so there are 2^(n+1) − 2 distinct patterns, and the data
//! distribution is uniform over them: the best possible mean log-likelihood per image is
//! −ln(2^(n+1) − 2) ([`optimal_log_likelihood`]; n = 4: −ln 30 = −3.401 nats), the number an
//! RBM's exact log-likelihood is compared to.
//!
//! Images are returned as a plain n² × N matrix of 0.0 / 1.0 (one image per column, pixel
//! (r, c) at row n·r + c, as in [`super::ImageSet`]); no labels, since the all-off and all-on
//! images are both bars and stripes.

use crate::rng;
use nalgebra::DMatrix;

/// The random stream (of [`rng::stream`]) the sampler draws from.
const STREAM: u64 = 0x6261_7273; // "bars"

/// Number of distinct n×n bars-and-stripes patterns: 2^(n+1) − 2.
///
/// Panics unless 1 ≤ n ≤ 30.
pub fn pattern_count(n: usize) -> usize {
    assert!(
        (1..=30).contains(&n),
        "bars and stripes: n = {n} must be in 1..=30"
    );
    (1usize << (n + 1)) - 2
}

/// ln of the probability of any one pattern under the data distribution: −ln(2^(n+1) − 2), the
/// highest mean log-likelihood per image any model can reach.
pub fn optimal_log_likelihood(n: usize) -> f64 {
    -(pattern_count(n) as f64).ln()
}

/// Pattern number `k` (0 ≤ k < 2^(n+1) − 2) as n² pixels (row-major): k < 2^n are the stripes,
/// row r on when bit r of k is set (k = 0 all off, k = 2^n − 1 all on); k ≥ 2^n are the bars
/// other than all off and all on, column c on when bit c of k − 2^n + 1 is set.
fn pattern_into(n: usize, k: usize, pixels: &mut [f64]) {
    let stripes = 1usize << n;
    for r in 0..n {
        for c in 0..n {
            let on = if k < stripes {
                k >> r & 1 == 1
            } else {
                (k - stripes + 1) >> c & 1 == 1
            };
            pixels[r * n + c] = if on { 1.0 } else { 0.0 };
        }
    }
}

/// Every distinct n×n pattern once: n² × (2^(n+1) − 2), stripes first (by the bit mask of
/// their rows), then the bars other than all off and all on (by the bit mask of their columns).
///
/// Panics unless 1 ≤ n ≤ 30 (and the matrix must fit in memory: n = 16 is already 268 MB).
pub fn all_patterns(n: usize) -> DMatrix<f64> {
    let count = pattern_count(n);
    let mut images = DMatrix::zeros(n * n, count); // n² × (2^(n+1) − 2)
    for k in 0..count {
        pattern_into(n, k, images.column_mut(k).as_mut_slice());
    }
    images
}

/// `count` patterns drawn independently and uniformly from the 2^(n+1) − 2 distinct ones,
/// deterministic by `seed`: n² × count of 0.0 / 1.0.
///
/// Panics unless 1 ≤ n ≤ 30.
pub fn sample(seed: u64, n: usize, count: usize) -> DMatrix<f64> {
    let distinct = pattern_count(n);
    let mut rng = rng::stream(seed, STREAM);
    let mut images = DMatrix::zeros(n * n, count); // n² × count
    for j in 0..count {
        let k = rng::below(&mut rng, distinct);
        pattern_into(n, k, images.column_mut(j).as_mut_slice());
    }
    images
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    /// An image as a key: its pixels as bits.
    fn key(column: nalgebra::DVectorView<f64>) -> Vec<bool> {
        column.iter().map(|&v| v == 1.0).collect()
    }

    /// Is this n×n image a bars-or-stripes pattern? (checked directly from the pixels)
    fn is_bars_or_stripes(n: usize, px: &[bool]) -> bool {
        let rows_uniform = (0..n).all(|r| (0..n).all(|c| px[r * n + c] == px[r * n]));
        let cols_uniform = (0..n).all(|c| (0..n).all(|r| px[r * n + c] == px[c]));
        rows_uniform || cols_uniform
    }

    #[test]
    fn counts_of_distinct_patterns() {
        for (n, expected) in [(1, 2), (2, 6), (3, 14), (4, 30)] {
            let all = all_patterns(n);
            assert_eq!(all.shape(), (n * n, expected));
            let distinct: HashSet<Vec<bool>> = all.column_iter().map(key).collect();
            assert_eq!(distinct.len(), expected, "n = {n}");
            assert!(all.iter().all(|&v| v == 0.0 || v == 1.0));
            // Each is bars or stripes, and brute force over all 2^(n²) images finds no other.
            assert!(distinct.iter().all(|p| is_bars_or_stripes(n, p)));
            let brute = (0u32..1 << (n * n))
                .filter(|bits| {
                    let px: Vec<bool> = (0..n * n).map(|i| bits >> i & 1 == 1).collect();
                    is_bars_or_stripes(n, &px)
                })
                .count();
            assert_eq!(brute, expected, "n = {n}");
        }
        assert!((optimal_log_likelihood(4) - (-(30f64).ln())).abs() < 1e-15);
        assert!((optimal_log_likelihood(4) + 3.4012).abs() < 1e-4);
    }

    #[test]
    fn samples_are_uniform_over_the_patterns() {
        let n = 3;
        let draws = 28_000;
        let x = sample(7, n, draws);
        assert_eq!(x.shape(), (9, draws));
        let mut counts: HashMap<Vec<bool>, usize> = HashMap::new();
        for c in x.column_iter() {
            *counts.entry(key(c)).or_default() += 1;
        }
        assert_eq!(counts.len(), 14);
        // Chi-square with 13 degrees of freedom: the 99.9 % quantile is 34.5.
        let expected = draws as f64 / 14.0;
        let chi2: f64 = counts
            .values()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum();
        assert!(chi2 < 34.5, "chi2 = {chi2}");
        assert_eq!(sample(7, n, draws), x);
        assert_ne!(sample(8, n, 50), x.columns(0, 50));
    }
}
