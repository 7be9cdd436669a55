//! The data: XOR's four rows are figure 12's lines 1–2 ([`crate::model::xor_data`]); §3's nets
//! are fitted to data drawn from known parameters, made here.

use crate::model::{Kind, SimpleNet};
use nalgebra::DMatrix;
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
