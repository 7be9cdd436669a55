//! Weight initialisers, each drawing from [`crate::rng::Rng`] so a seed fixes the weights.

use crate::rng::{self, Rng};
use nalgebra::DMatrix;

/// rows × cols with entries uniform in [lo, hi) (trask's `2*np.random.random(shape) - 1` is
/// `uniform(r, c, -1.0, 1.0, rng)`), drawn in row-major order like numpy fills its arrays.
pub fn uniform(rows: usize, cols: usize, lo: f64, hi: f64, rng: &mut Rng) -> DMatrix<f64> {
    DMatrix::from_row_iterator(
        rows,
        cols,
        (0..rows * cols).map(|_| rng::uniform(rng, lo, hi)),
    )
}

/// rows × cols with entries from N(mean, std²), drawn in row-major order.
pub fn normal(rows: usize, cols: usize, mean: f64, std: f64, rng: &mut Rng) -> DMatrix<f64> {
    DMatrix::from_row_iterator(
        rows,
        cols,
        (0..rows * cols).map(|_| mean + std * rng::normal(rng)),
    )
}

/// He initialisation for a layer with `fan_in` inputs: N(0, 2 / fan_in) (for ReLU layers).
pub fn he(rows: usize, cols: usize, fan_in: usize, rng: &mut Rng) -> DMatrix<f64> {
    normal(rows, cols, 0.0, (2.0 / fan_in as f64).sqrt(), rng)
}

/// Xavier/Glorot-style uniform ±1/√n (Britz's RNN uses n = the layer's input size).
pub fn uniform_inv_sqrt(rows: usize, cols: usize, n: usize, rng: &mut Rng) -> DMatrix<f64> {
    let a = 1.0 / (n as f64).sqrt();
    uniform(rows, cols, -a, a, rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initialisers_are_seeded_and_have_the_right_moments() {
        let a = uniform(3, 4, -1.0, 1.0, &mut rng::seeded(1));
        let b = uniform(3, 4, -1.0, 1.0, &mut rng::seeded(1));
        assert_eq!(a, b);
        assert!(a.iter().all(|v| (-1.0..1.0).contains(v)));
        let n = normal(200, 200, 0.0, 0.01, &mut rng::seeded(2));
        let mean = n.mean();
        let std = (n.map(|v| (v - mean).powi(2)).mean()).sqrt();
        assert!(
            mean.abs() < 5e-4 && (std - 0.01).abs() < 5e-4,
            "{mean} {std}"
        );
        let h = he(100, 50, 50, &mut rng::seeded(3));
        let std = (h.map(|v| v * v).mean()).sqrt();
        assert!((std - 0.2).abs() < 0.01, "{std}");
        let u = uniform_inv_sqrt(10, 10, 100, &mut rng::seeded(4));
        assert!(u.iter().all(|v| v.abs() < 0.1));
    }

    #[test]
    fn row_major_fill_order() {
        // The first draw lands in (0, 0), the second in (0, 1): as numpy fills a 2-D array.
        let mut r = rng::seeded(5);
        let first = rng::uniform(&mut r, 0.0, 1.0);
        let second = rng::uniform(&mut r, 0.0, 1.0);
        let m = uniform(2, 2, 0.0, 1.0, &mut rng::seeded(5));
        assert_eq!(m[(0, 0)], first);
        assert_eq!(m[(0, 1)], second);
    }
}
