//! Two interleaving half circles, the formula of scikit-learn's `make_moons(n_samples, noise)`:
//! the data of the `optimizers` chapter (deeplearning.ai's notebook calls it with 300 samples and
//! noise 0.2).
//!
//! floor(N/2) points on the outer half circle (cos θ, sin θ), label 0, θ = linspace(0, π,
//! floor(N/2)); the other ceil(N/2) on the inner one (1 − cos θ, 1 − sin θ − 0.5), label 1,
//! θ = linspace(0, π, ceil(N/2)); the points shuffled, then N(0, noise²) added to both
//! coordinates. The formula is scikit-learn's; the random numbers are ours (seeded ChaCha8), so
//! the points are not numpy's.

use crate::rng;
use nalgebra::DMatrix;

/// The random stream (of [`rng::stream`]) the generator draws from.
const STREAM: u64 = 0x6d6f_6f6e; // "moon"

/// `n_samples` points of the two moons, deterministic by `seed`: X is 2 × n_samples (one point
/// per column: x then y), and the labels (0 outer moon, 1 inner moon) one per column.
///
/// Panics if `noise` is negative or not finite.
#[allow(non_snake_case)]
pub fn make_moons(seed: u64, n_samples: usize, noise: f64) -> (DMatrix<f64>, Vec<usize>) {
    assert!(
        noise.is_finite() && noise >= 0.0,
        "make_moons: noise = {noise} must be a finite number ≥ 0"
    );
    let n_out = n_samples / 2;
    let n_in = n_samples - n_out;
    // linspace(0, π, m)[i] = π·i/(m − 1), and [0] when m = 1 (numpy's convention).
    let linspace = |i: usize, m: usize| {
        if m > 1 {
            std::f64::consts::PI * i as f64 / (m - 1) as f64
        } else {
            0.0
        }
    };
    let mut points: Vec<(f64, f64, usize)> = Vec::with_capacity(n_samples);
    for i in 0..n_out {
        let t = linspace(i, n_out);
        points.push((t.cos(), t.sin(), 0));
    }
    for i in 0..n_in {
        let t = linspace(i, n_in);
        points.push((1.0 - t.cos(), 1.0 - t.sin() - 0.5, 1));
    }
    let mut rng = rng::stream(seed, STREAM);
    rng::shuffle(&mut rng, &mut points);
    let mut X = DMatrix::zeros(2, n_samples); // 2 × N
    let mut labels = Vec::with_capacity(n_samples);
    for (j, &(x, y, label)) in points.iter().enumerate() {
        X[(0, j)] = x;
        X[(1, j)] = y;
        labels.push(label);
    }
    if noise > 0.0 {
        for v in X.iter_mut() {
            *v += noise * rng::normal(&mut rng);
        }
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
