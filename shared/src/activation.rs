//! Activations and their derivatives, written as the notes write them: in terms of the
//! activation's *output* y (σ' = y(1 − y), tanh' = 1 − y², relu' = 1 where y > 0, else 0), because that is
//! what the backward pass has at hand.
//!
//! The matrix forms work on any nalgebra matrix or vector (owned, view, fixed or dynamic) in
//! place, so hot loops allocate nothing.

use nalgebra::{Dim, Matrix, RawStorageMut};

/// σ(x) = 1 / (1 + e^{−x}), literally as the notes and numpy write it. For very negative x,
/// e^{−x} overflows to +∞ and the quotient is exactly 0, the right limit: no special case.
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// σ'(x) from the output y = σ(x): y(1 − y) (notes §2, figure 3).
#[inline]
pub fn sigmoid_grad(y: f64) -> f64 {
    y * (1.0 - y)
}

/// tanh'(x) from the output y = tanh(x): 1 − y².
#[inline]
pub fn tanh_grad(y: f64) -> f64 {
    1.0 - y * y
}

/// relu(x) = max(0, x).
#[inline]
pub fn relu(x: f64) -> f64 {
    if x > 0.0 { x } else { 0.0 }
}

/// relu'(x) from the output y = relu(x): 1 where y > 0, else 0.
#[inline]
pub fn relu_grad(y: f64) -> f64 {
    if y > 0.0 { 1.0 } else { 0.0 }
}

/// Applies σ to every entry in place.
pub fn sigmoid_mut<R: Dim, C: Dim, S: RawStorageMut<f64, R, C>>(m: &mut Matrix<f64, R, C, S>) {
    m.apply(|v| *v = sigmoid(*v));
}

/// Applies tanh to every entry in place.
pub fn tanh_mut<R: Dim, C: Dim, S: RawStorageMut<f64, R, C>>(m: &mut Matrix<f64, R, C, S>) {
    m.apply(|v| *v = v.tanh());
}

/// Applies relu to every entry in place.
pub fn relu_mut<R: Dim, C: Dim, S: RawStorageMut<f64, R, C>>(m: &mut Matrix<f64, R, C, S>) {
    m.apply(|v| *v = relu(*v));
}

/// Column-wise softmax in place: each column (one example) becomes a probability vector.
/// The column's maximum is subtracted before exponentiating, which changes nothing
/// mathematically (softmax(x) = softmax(x − c)) but keeps e^x from overflowing.
pub fn softmax_columns_mut<R: Dim, C: Dim, S: RawStorageMut<f64, R, C>>(
    m: &mut Matrix<f64, R, C, S>,
) {
    for mut col in m.column_iter_mut() {
        let max = col.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut sum = 0.0;
        for v in col.iter_mut() {
            *v = (*v - max).exp();
            sum += *v;
        }
        col /= sum;
    }
}

/// Multiplies `grad` in place by σ'(x) = y(1 − y), given the outputs `y` (same shape):
/// the backward step through a sigmoid layer, dX̄ = dX ∘ y ∘ (1 − y).
pub fn sigmoid_backward_mut<R: Dim, C: Dim, S, S2>(
    grad: &mut Matrix<f64, R, C, S>,
    y: &Matrix<f64, R, C, S2>,
) where
    S: RawStorageMut<f64, R, C>,
    S2: nalgebra::RawStorage<f64, R, C>,
{
    grad.zip_apply(y, |g, y| *g *= sigmoid_grad(y));
}

/// Multiplies `grad` in place by tanh'(x) = 1 − y², given the outputs `y`.
pub fn tanh_backward_mut<R: Dim, C: Dim, S, S2>(
    grad: &mut Matrix<f64, R, C, S>,
    y: &Matrix<f64, R, C, S2>,
) where
    S: RawStorageMut<f64, R, C>,
    S2: nalgebra::RawStorage<f64, R, C>,
{
    grad.zip_apply(y, |g, y| *g *= tanh_grad(y));
}

/// Multiplies `grad` in place by relu'(x) (1 where y > 0, else 0), given the outputs `y`.
pub fn relu_backward_mut<R: Dim, C: Dim, S, S2>(
    grad: &mut Matrix<f64, R, C, S>,
    y: &Matrix<f64, R, C, S2>,
) where
    S: RawStorageMut<f64, R, C>,
    S2: nalgebra::RawStorage<f64, R, C>,
{
    grad.zip_apply(y, |g, y| *g *= relu_grad(y));
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use nalgebra::{DMatrix, DVector};

    #[test]
    fn sigmoid_worked_numbers() {
        // backprop-xor reference sheet, section 3.
        assert_eq!(sigmoid(0.0), 0.5);
        assert_eq!(sigmoid_grad(sigmoid(0.0)), 0.25);
        assert_relative_eq!(sigmoid(1.0), 0.7310585786, epsilon = 1e-10);
        assert_relative_eq!(sigmoid_grad(sigmoid(1.0)), 0.1966119332, epsilon = 1e-10);
        // Figure 3's backward product y² e^{−x} equals y(1 − y).
        let y = sigmoid(1.0);
        assert_relative_eq!(y * y * (-1.0f64).exp(), sigmoid_grad(y), epsilon = 1e-15);
        // No overflow far out.
        assert_eq!(sigmoid(-800.0), 0.0);
        assert_eq!(sigmoid(800.0), 1.0);
    }

    #[test]
    fn derivatives_from_output_match_finite_differences() {
        let h = 1e-6;
        for &x in &[-3.0, -0.7, 0.2, 1.9] {
            let fd = (sigmoid(x + h) - sigmoid(x - h)) / (2.0 * h);
            assert_relative_eq!(sigmoid_grad(sigmoid(x)), fd, epsilon = 1e-9);
            let fd = ((x + h).tanh() - (x - h).tanh()) / (2.0 * h);
            assert_relative_eq!(tanh_grad(x.tanh()), fd, epsilon = 1e-9);
            let fd = (relu(x + h) - relu(x - h)) / (2.0 * h);
            assert_relative_eq!(relu_grad(relu(x)), fd, epsilon = 1e-9);
        }
    }

    #[test]
    fn softmax_columns_sum_to_one_and_survive_large_logits() {
        let mut m = DMatrix::from_row_slice(3, 2, &[1.0, 500.0, 2.0, -500.0, 3.0, 499.0]);
        softmax_columns_mut(&mut m);
        for c in m.column_iter() {
            assert_relative_eq!(c.sum(), 1.0, epsilon = 1e-12);
            assert!(c.iter().all(|v| v.is_finite()));
        }
        // softmax(1, 2, 3) from its definition.
        let e: Vec<f64> = [1.0f64, 2.0, 3.0].iter().map(|v| v.exp()).collect();
        let s: f64 = e.iter().sum();
        assert_relative_eq!(m[(2, 0)], e[2] / s, epsilon = 1e-15);
        assert_relative_eq!(m[(0, 1)], 1.0 / (1.0 + (-1.0f64).exp()), epsilon = 1e-12);
    }

    #[test]
    fn matrix_forms_agree_with_scalar_forms() {
        let x = DVector::from_vec(vec![-2.0, -0.1, 0.3, 4.0]);
        let mut y = x.clone();
        sigmoid_mut(&mut y);
        let mut g = DVector::from_element(4, 2.0);
        sigmoid_backward_mut(&mut g, &y);
        for i in 0..4 {
            assert_eq!(y[i], sigmoid(x[i]));
            assert_eq!(g[i], 2.0 * sigmoid_grad(y[i]));
        }
        let mut t = x.clone();
        tanh_mut(&mut t);
        let mut g = DVector::from_element(4, 1.0);
        tanh_backward_mut(&mut g, &t);
        assert_eq!(g[3], 1.0 - 4.0f64.tanh().powi(2));
        let mut r = x.clone();
        relu_mut(&mut r);
        let mut g = DVector::from_element(4, 3.0);
        relu_backward_mut(&mut g, &r);
        assert_eq!(r.as_slice(), &[0.0, 0.0, 0.3, 4.0]);
        assert_eq!(g.as_slice(), &[0.0, 0.0, 3.0, 3.0]);
    }
}
