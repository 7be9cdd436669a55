//! Losses, with the conventions of the notes and their reference programs.
//!
//! Probabilities are K × N with one example per column (as the notes' §1 writes Y, 250 × 100).
//! Cross-entropies are in nats, averaged over the N examples, with Hinton's `tiny` = e^{−30}
//! added inside the log so a probability of exactly 0 costs 30 nats instead of infinity.

use nalgebra::{DMatrix, Dim, Matrix, RawStorage};

/// e^{−30}: the floor the §1 assignment adds inside the log (`log(y + tiny)`).
pub const TINY: f64 = 9.357622968840175e-14;

/// Mean cross-entropy −(1/N) Σ_n log(y[t_n, n] + tiny) of probabilities `y` (K × N, one
/// example per column) against class indices `targets` (N entries, each < K).
pub fn cross_entropy<S: RawStorage<f64, nalgebra::Dyn, nalgebra::Dyn>>(
    y: &Matrix<f64, nalgebra::Dyn, nalgebra::Dyn, S>,
    targets: &[usize],
) -> f64 {
    assert_eq!(y.ncols(), targets.len(), "one target per column");
    let total: f64 = targets
        .iter()
        .enumerate()
        .map(|(n, &t)| -(y[(t, n)] + TINY).ln())
        .sum();
    total / targets.len() as f64
}

/// Mean cross-entropy −(1/N) Σ T ∘ log(Y + tiny) against one-hot (or soft) targets `t`, both
/// K × N: the notes' §1 form.
pub fn cross_entropy_onehot(y: &DMatrix<f64>, t: &DMatrix<f64>) -> f64 {
    assert_eq!(y.shape(), t.shape());
    let total: f64 = y.zip_map(t, |y, t| -t * (y + TINY).ln()).sum();
    total / y.ncols() as f64
}

/// Mean binary cross-entropy −(1/N) Σ [t log y + (1 − t) log(1 − y)] of sigmoid outputs `y`
/// against 0/1 targets `t` (same shape, any layout; N = number of entries).
pub fn binary_cross_entropy<R: Dim, C: Dim, S1, S2>(
    y: &Matrix<f64, R, C, S1>,
    t: &Matrix<f64, R, C, S2>,
) -> f64
where
    S1: RawStorage<f64, R, C>,
    S2: RawStorage<f64, R, C>,
{
    assert_eq!(y.shape(), t.shape());
    let total: f64 = y
        .iter()
        .zip(t.iter())
        .map(|(&y, &t)| -(t * (y + TINY).ln() + (1.0 - t) * (1.0 - y + TINY).ln()))
        .sum();
    total / y.len() as f64
}

/// Squared error E = ½ Σ (t − y)² (the notes' L² cost, summed, not averaged).
pub fn squared_error<R: Dim, C: Dim, S1, S2>(
    y: &Matrix<f64, R, C, S1>,
    t: &Matrix<f64, R, C, S2>,
) -> f64
where
    S1: RawStorage<f64, R, C>,
    S2: RawStorage<f64, R, C>,
{
    assert_eq!(y.shape(), t.shape());
    0.5 * y
        .iter()
        .zip(t.iter())
        .map(|(&y, &t)| (t - y) * (t - y))
        .sum::<f64>()
}

/// Fraction of columns of `scores` (K × N) whose largest entry is at the target class.
pub fn accuracy<S: RawStorage<f64, nalgebra::Dyn, nalgebra::Dyn>>(
    scores: &Matrix<f64, nalgebra::Dyn, nalgebra::Dyn, S>,
    targets: &[usize],
) -> f64 {
    assert_eq!(scores.ncols(), targets.len());
    if targets.is_empty() {
        return 0.0;
    }
    let right = scores
        .column_iter()
        .zip(targets)
        .filter(|(c, t)| c.argmax().0 == **t)
        .count();
    right as f64 / targets.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use nalgebra::DVector;

    #[test]
    fn tiny_is_e_to_minus_30() {
        assert_relative_eq!(TINY, (-30.0f64).exp(), max_relative = 1e-15);
    }

    #[test]
    fn cross_entropy_by_index_equals_onehot_form() {
        let y = DMatrix::from_row_slice(3, 2, &[0.2, 0.1, 0.5, 0.6, 0.3, 0.3]);
        let t = DMatrix::from_row_slice(3, 2, &[0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
        let want = -(0.5f64.ln() + 0.6f64.ln()) / 2.0;
        assert_relative_eq!(cross_entropy(&y, &[1, 1]), want, epsilon = 1e-12);
        assert_relative_eq!(cross_entropy_onehot(&y, &t), want, epsilon = 1e-12);
        // Uniform prediction over K classes costs ln K.
        let u = DMatrix::from_element(250, 4, 1.0 / 250.0);
        assert_relative_eq!(
            cross_entropy(&u, &[0, 1, 2, 3]),
            250f64.ln(),
            epsilon = 1e-9
        );
        // A zero probability costs 30 nats, not infinity.
        let z = DMatrix::from_row_slice(2, 1, &[1.0, 0.0]);
        assert_relative_eq!(cross_entropy(&z, &[1]), 30.0, epsilon = 1e-9);
    }

    #[test]
    fn binary_and_squared_errors() {
        let y = DVector::from_vec(vec![0.9, 0.2]);
        let t = DVector::from_vec(vec![1.0, 0.0]);
        let want = -(0.9f64.ln() + 0.8f64.ln()) / 2.0;
        assert_relative_eq!(binary_cross_entropy(&y, &t), want, epsilon = 1e-12);
        assert_relative_eq!(squared_error(&y, &t), 0.5 * (0.01 + 0.04), epsilon = 1e-15);
    }

    #[test]
    fn accuracy_counts_argmax_hits() {
        let s = DMatrix::from_row_slice(2, 3, &[0.9, 0.1, 0.4, 0.1, 0.9, 0.6]);
        assert_relative_eq!(accuracy(&s, &[0, 1, 0]), 2.0 / 3.0);
    }
}
