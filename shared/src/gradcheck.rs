//! Finite-difference gradient checks: every hand-written backward pass in the workspace is
//! compared against these.
//!
//! The numerical derivative is the fourth-order central difference
//! f'(θ) ≈ [−f(θ + 2h) + 8f(θ + h) − 8f(θ − h) + f(θ − 2h)] / 12h,
//! whose truncation error is O(h⁴): with h = 1e-3 in f64 both truncation and rounding error
//! stay near 1e-13, so a correct backward pass shows relative errors far below 1e-6.

use nalgebra::DMatrix;

/// Default step h of [`numeric_gradient`].
pub const STEP: f64 = 1e-3;

/// Denominator floor of the relative error: entries whose true gradient is tinier than this
/// are compared in absolute terms (a finite difference cannot resolve them relatively).
pub const FLOOR: f64 = 1e-6;

/// The gradient of `loss` with respect to the parameter matrix that `param` selects from
/// `model`, by the fourth-order central difference with step `h` (same shape as the parameter).
///
/// ```
/// use nalgebra::DMatrix;
/// use shared::gradcheck::{numeric_gradient, compare, STEP};
/// // f(W) = ½‖W‖², whose gradient is W itself.
/// let mut w = DMatrix::from_row_slice(2, 2, &[1.0, -2.0, 0.5, 3.0]);
/// let num = numeric_gradient(&mut w, |w| w, |w| 0.5 * w.norm_squared(), STEP);
/// assert!(compare(&w, &num).max_rel_error < 1e-9);
/// ```
pub fn numeric_gradient<M>(
    model: &mut M,
    param: impl Fn(&mut M) -> &mut DMatrix<f64>,
    loss: impl Fn(&M) -> f64,
    h: f64,
) -> DMatrix<f64> {
    let (rows, cols) = param(model).shape();
    let mut grad = DMatrix::zeros(rows, cols);
    for j in 0..cols {
        for i in 0..rows {
            let orig = param(model)[(i, j)];
            let at = |x: f64, model: &mut M| {
                param(model)[(i, j)] = x;
                loss(model)
            };
            let f_p2 = at(orig + 2.0 * h, model);
            let f_p1 = at(orig + h, model);
            let f_m1 = at(orig - h, model);
            let f_m2 = at(orig - 2.0 * h, model);
            param(model)[(i, j)] = orig;
            // Differences first: f(θ+h) − f(θ−h) of two close values is exact in floating
            // point (Sterbenz), and a loss that does not depend on θ gives exactly 0. The
            // textbook order (−f₊₂ + 8f₊₁ − 8f₋₁ + f₋₂) rounds 7f and leaves ≈ 8 ulp(f)/12h.
            grad[(i, j)] = (8.0 * (f_p1 - f_m1) - (f_p2 - f_m2)) / (12.0 * h);
        }
    }
    grad
}

/// How far an analytic gradient is from the numerical one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Report {
    /// max over entries of |a − n| / max(|a|, |n|, [`FLOOR`]).
    pub max_rel_error: f64,
    /// max over entries of |a − n|.
    pub max_abs_error: f64,
    /// (row, col) of the entry with the largest relative error.
    pub worst: (usize, usize),
    /// Largest |n|: shows the check did not compare zeros with zeros.
    pub max_abs_numeric: f64,
}

/// Compares an analytic gradient with a numerical one of the same shape.
pub fn compare(analytic: &DMatrix<f64>, numeric: &DMatrix<f64>) -> Report {
    assert_eq!(analytic.shape(), numeric.shape(), "gradient shapes differ");
    let mut r = Report {
        max_rel_error: 0.0,
        max_abs_error: 0.0,
        worst: (0, 0),
        max_abs_numeric: 0.0,
    };
    for j in 0..analytic.ncols() {
        for i in 0..analytic.nrows() {
            let (a, n) = (analytic[(i, j)], numeric[(i, j)]);
            let abs = (a - n).abs();
            let rel = abs / a.abs().max(n.abs()).max(FLOOR);
            // NaN in either gradient must fail the check: a NaN error becomes infinite.
            let rel = if rel.is_nan() { f64::INFINITY } else { rel };
            let abs = if abs.is_nan() { f64::INFINITY } else { abs };
            if rel > r.max_rel_error {
                r.max_rel_error = rel;
                r.worst = (i, j);
            }
            if abs > r.max_abs_error {
                r.max_abs_error = abs;
            }
            r.max_abs_numeric = r.max_abs_numeric.max(n.abs());
        }
    }
    r
}

/// Checks the analytic gradient `analytic` of the parameter `param` selects against
/// finite differences of `loss`; returns the [`Report`].
pub fn check<M>(
    model: &mut M,
    param: impl Fn(&mut M) -> &mut DMatrix<f64>,
    analytic: &DMatrix<f64>,
    loss: impl Fn(&M) -> f64,
) -> Report {
    let numeric = numeric_gradient(model, param, loss, STEP);
    compare(analytic, &numeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Affine {
        a: DMatrix<f64>,
        x: DMatrix<f64>,
    }

    // f = Σ sin(A X): a smooth loss with a known gradient. The §2 matrix identity
    // ∂f/∂A = (∂f/∂Y) Xᵀ with ∂f/∂Y = cos(AX).
    fn f(m: &Affine) -> f64 {
        (&m.a * &m.x).map(f64::sin).sum()
    }

    #[test]
    fn a_right_gradient_passes_and_a_wrong_one_fails() {
        let mut m = Affine {
            a: DMatrix::from_fn(3, 4, |i, j| 0.3 * i as f64 - 0.2 * j as f64 + 0.1),
            x: DMatrix::from_fn(4, 2, |i, j| 0.5 - 0.25 * i as f64 + 0.4 * j as f64),
        };
        let dy = (&m.a * &m.x).map(f64::cos);
        let right = &dy * m.x.transpose();
        let rep = check(&mut m, |m| &mut m.a, &right, f);
        assert!(rep.max_rel_error < 1e-9, "{rep:?}");
        assert!(rep.max_abs_numeric > 0.1);
        let mut wrong = right.clone();
        wrong[(1, 2)] *= 1.001;
        let rep = check(&mut m, |m| &mut m.a, &wrong, f);
        assert!(rep.max_rel_error > 1e-4 && rep.worst == (1, 2), "{rep:?}");
        // The parameters are restored after the check.
        let again = check(&mut m, |m| &mut m.a, &right, f);
        assert!(again.max_rel_error < 1e-9);
    }

    #[test]
    fn a_parameter_the_loss_ignores_has_exactly_zero_gradient() {
        // f(w) = 12.557895801747486 + w₀: w₁ does not enter, so its difference quotient is 0
        // exactly (the textbook order of the four terms leaves −1.5e-13 here).
        let mut w = DMatrix::from_row_slice(1, 2, &[0.3, 0.7]);
        let num = numeric_gradient(&mut w, |w| w, |w| 12.557895801747486 + w[0], STEP);
        assert_eq!(num[1], 0.0);
        assert!((num[0] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn nan_fails() {
        let a = DMatrix::from_element(1, 1, f64::NAN);
        let n = DMatrix::from_element(1, 1, 1.0);
        assert_eq!(compare(&a, &n).max_rel_error, f64::INFINITY);
    }
}
