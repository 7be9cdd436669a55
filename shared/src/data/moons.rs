//! Two interleaving half circles, scikit-learn's `make_moons(n_samples, noise)`: the data of the
//! `optimizers` chapter (deeplearning.ai's notebook calls it with 300 samples and noise 0.2,
//! after `np.random.seed(3)`).
//!
//! floor(N/2) points on the outer half circle (cos θ, sin θ), label 0, θ = linspace(0, π,
//! floor(N/2)); the other ceil(N/2) on the inner one (1 − cos θ, 1 − sin θ − 0.5), label 1,
//! θ = linspace(0, π, ceil(N/2)); the points shuffled, then N(0, noise²) added to both
//! coordinates. Two sources of the random numbers:
//! - [`make_moons_numpy`]: numpy's legacy generator, in scikit-learn's order (shuffle, then the
//!   noise): the notebook's points, bit for bit;
//! - [`make_moons`]: the workspace's seeded ChaCha8 (other points, the same distribution).

use crate::rng::{self, NumpyRandom};
use nalgebra::DMatrix;

/// The random stream (of [`rng::stream`]) [`make_moons`] draws from.
const STREAM: u64 = 0x6d6f_6f6e; // "moon"

/// The points before shuffling: outer moon then inner moon, (x, y, label), with θ_i of a moon of
/// m points given by `theta(i, m)`.
fn half_circles(n_samples: usize, theta: impl Fn(usize, usize) -> f64) -> Vec<(f64, f64, usize)> {
    let n_out = n_samples / 2;
    let n_in = n_samples - n_out;
    let mut points = Vec::with_capacity(n_samples);
    for i in 0..n_out {
        let t = theta(i, n_out);
        points.push((t.cos(), t.sin(), 0));
    }
    for i in 0..n_in {
        let t = theta(i, n_in);
        points.push((1.0 - t.cos(), 1.0 - t.sin() - 0.5, 1));
    }
    points
}

/// X (2 × N, one point per column: x then y) and the labels of shuffled points.
#[allow(non_snake_case)]
fn columns(points: &[(f64, f64, usize)]) -> (DMatrix<f64>, Vec<usize>) {
    let X = DMatrix::from_iterator(2, points.len(), points.iter().flat_map(|p| [p.0, p.1]));
    (X, points.iter().map(|p| p.2).collect())
}

fn check_noise(noise: f64) {
    assert!(
        noise.is_finite() && noise >= 0.0,
        "make_moons: noise = {noise} must be a finite number ≥ 0"
    );
}

/// `n_samples` points of the two moons, deterministic by `seed` (ChaCha8): X is 2 × n_samples
/// (one point per column: x then y), and the labels (0 outer moon, 1 inner moon) one per column.
///
/// Panics if `noise` is negative or not finite.
#[allow(non_snake_case)]
pub fn make_moons(seed: u64, n_samples: usize, noise: f64) -> (DMatrix<f64>, Vec<usize>) {
    check_noise(noise);
    // θ_i = π·i/(m − 1), and 0 when m = 1.
    let mut points = half_circles(n_samples, |i, m| {
        if m > 1 {
            std::f64::consts::PI * i as f64 / (m - 1) as f64
        } else {
            0.0
        }
    });
    let mut rng = rng::stream(seed, STREAM);
    rng::shuffle(&mut rng, &mut points);
    let (mut X, labels) = columns(&points);
    if noise > 0.0 {
        for v in X.iter_mut() {
            *v += noise * rng::normal(&mut rng);
        }
    }
    (X, labels)
}

/// scikit-learn's `make_moons(n_samples, noise=noise)` drawing from numpy's global generator
/// `rng` (the notebook's `np.random.seed(3)` first): θ = `np.linspace(0, π, m)`, i.e.
/// i·(π/(m − 1)) with the last one exactly π; `util_shuffle` (numpy's legacy shuffle of the
/// point indices, [`NumpyRandom::shuffle`]); then `rng.normal(scale=noise, size=(N, 2))`, x then
/// y of each point in turn, added to the points. Same numbers as scikit-learn, bit for bit.
///
/// Panics if `noise` is negative or not finite.
#[allow(non_snake_case)]
pub fn make_moons_numpy(
    rng: &mut NumpyRandom,
    n_samples: usize,
    noise: f64,
) -> (DMatrix<f64>, Vec<usize>) {
    check_noise(noise);
    let mut points = half_circles(n_samples, |i, m| {
        let pi = std::f64::consts::PI;
        match m {
            1 => 0.0,
            _ if i == m - 1 => pi,
            _ => i as f64 * (pi / (m - 1) as f64) + 0.0,
        }
    });
    rng.shuffle(&mut points);
    let (mut X, labels) = columns(&points);
    // Column-major 2 × N: point 0's x, its y, point 1's x, … (numpy's C order of N × 2).
    for v in X.iter_mut() {
        *v += rng.normal(0.0, noise);
    }
    (X, labels)
}

#[cfg(test)]
#[allow(non_snake_case)]
mod tests {
    use super::*;

    #[test]
    fn shape_balance_and_determinism() {
        for n in [0, 1, 2, 7, 300] {
            let (X, y) = make_moons(3, n, 0.2);
            assert_eq!(X.shape(), (2, n));
            assert_eq!(y.len(), n);
            assert_eq!(y.iter().filter(|&&l| l == 0).count(), n / 2);
            assert_eq!(y.iter().filter(|&&l| l == 1).count(), n - n / 2);
        }
        let (a, ya) = make_moons(3, 300, 0.2);
        let (b, yb) = make_moons(3, 300, 0.2);
        assert_eq!((a.clone(), ya.clone()), (b, yb));
        let (c, yc) = make_moons(4, 300, 0.2);
        assert!(a != c && ya != yc);
        // Shuffled: not all outer points first.
        assert!(ya[..150].contains(&1));
    }

    #[test]
    fn without_noise_points_lie_on_the_half_circles() {
        let (X, y) = make_moons(5, 301, 0.0);
        let mut thetas = [Vec::new(), Vec::new()];
        for j in 0..301 {
            let (px, py) = (X[(0, j)], X[(1, j)]);
            // outer: centre (0, 0), radius 1, y ≥ 0; inner: centre (1, 0.5), radius 1, y ≤ 0.5
            let (cx, cy) = if y[j] == 0 { (0.0, 0.0) } else { (1.0, 0.5) };
            let r = ((px - cx).powi(2) + (py - cy).powi(2)).sqrt();
            assert!((r - 1.0).abs() < 1e-12, "point {j}: radius {r}");
            let theta = if y[j] == 0 {
                py.atan2(px)
            } else {
                (cy - py).atan2(cx - px)
            };
            thetas[y[j]].push(theta);
        }
        // θ runs over linspace(0, π, m): equally spaced, both ends included.
        for (t, m) in thetas.iter_mut().zip([150usize, 151]) {
            t.sort_by(f64::total_cmp);
            assert_eq!(t.len(), m);
            for (i, v) in t.iter().enumerate() {
                let expected = std::f64::consts::PI * i as f64 / (m - 1) as f64;
                assert!((v - expected).abs() < 1e-9, "{v} vs {expected}");
            }
        }
    }

    #[test]
    fn numpy_moons_are_scikit_learns() {
        // Printed by numpy 2.4.6 and scikit-learn 1.9.1: `np.random.seed(3);
        // X, Y = sklearn.datasets.make_moons(n_samples=300, noise=.2)` (the notebook's
        // load_dataset), points 0, 1, 2, 150, 298, 299 with their labels, the first 20 labels,
        // and the sums of X and Y.
        let (X, y) = make_moons_numpy(&mut NumpyRandom::new(3), 300, 0.2);
        for (j, px, py, label) in [
            (0, -0.21687013460912397, 1.0154493742029873, 0),
            (1, 0.8050501531955674, -0.5579733951321297, 1),
            (2, 0.7112745129750352, -0.4100602407591063, 1),
            (150, -0.3045107337814129, 1.2595456425067024, 0),
            (298, 1.6087991457771322, -0.6658235507219985, 1),
            (299, 0.547725598273234, 0.3481746137071188, 1),
        ] {
            assert_eq!((X[(0, j)], X[(1, j)], y[j]), (px, py, label), "point {j}");
        }
        let first: [usize; 20] = [0, 1, 1, 1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0];
        assert_eq!(y[..20], first);
        assert_eq!(y.iter().sum::<usize>(), 150);
        // numpy's X.sum() adds pairwise; to its last digits only.
        assert!((X.sum() - 229.31214774688254).abs() < 1e-11, "{}", X.sum());
        // An odd count: np.random.seed(7); make_moons(n_samples=7, noise=0.1).
        let (X, y) = make_moons_numpy(&mut NumpyRandom::new(7), 7, 0.1);
        let want = [
            (-0.9906833939020249, 0.32009147091177137),
            (1.4843011340436587, -0.39503854207735517),
            (1.2025771524137034, -0.00013280504761581637),
            (1.952306830045474, 0.6216732348781969),
            (-0.016313207477419957, 0.46657624100230466),
            (-0.0014968207048865175, 1.002139067491965),
            (0.5748781075623189, -0.3743389870207268),
        ];
        for (j, &(px, py)) in want.iter().enumerate() {
            assert_eq!((X[(0, j)], X[(1, j)]), (px, py), "point {j}");
        }
        assert_eq!(y, [0, 1, 0, 1, 1, 0, 1]);
    }

    #[test]
    fn noise_has_the_requested_standard_deviation() {
        let (clean, _) = make_moons(6, 20_000, 0.0);
        let (noisy, _) = make_moons(6, 20_000, 0.2);
        // Same seed: same shuffle, so the difference is the noise alone.
        let diff = &noisy - &clean;
        let n = diff.len() as f64;
        let mean = diff.sum() / n;
        let sd = (diff.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert!(
            mean.abs() < 0.005 && (sd - 0.2).abs() < 0.004,
            "mean {mean} sd {sd}"
        );
    }
}
