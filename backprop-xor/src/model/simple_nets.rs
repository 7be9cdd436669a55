//! §3 Simple nets without a hidden layer (figure 5): `Y = f(XW + b)` with
//!
//! | f | cost E | name |
//! |---|---|---|
//! | f(x) = x | L² (½ mean squared error) | linear regression |
//! | sigmoid | cross-entropy | logistic regression |
//! | softmax | cross-entropy | multinomial classification |
//!
//! Each is fitted by gradient descent ([`crate::train::fit`]) to data drawn from known
//! parameters ([`crate::data::problem`]), so the fitted parameters can be read next to the
//! true ones. Rows are examples, as in §2 and §4:
//! `X: N × d`, `W: d × K`, `b: 1 × K`, `Y, T: N × K`.
//!
//! All three pair f with its "matching" cost, so the backward pass starts the same way:
//! ∂E/∂Z = (Y − T)/N, then ∂E/∂W = Xᵀ ∂E/∂Z and ∂E/∂b = the column sums of ∂E/∂Z.

use nalgebra::DMatrix;
use shared::activation::sigmoid;

/// Which of figure 5's nets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// f(x) = x with the L² cost.
    Linear,
    /// sigmoid with cross-entropy.
    Logistic,
    /// softmax with cross-entropy.
    Softmax,
}

impl Kind {
    /// The name used in plots and printouts.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Linear => "linear regression",
            Kind::Logistic => "logistic regression",
            Kind::Softmax => "multinomial (softmax)",
        }
    }
}

/// A net without hidden layer and its data.
#[derive(Clone, Debug)]
pub struct SimpleNet {
    /// Which f and cost.
    pub kind: Kind,
    /// Inputs, N × d.
    pub X: DMatrix<f64>,
    /// Targets, N × K: real values, 0/1, or one-hot rows.
    pub T: DMatrix<f64>,
    /// Weights, d × K.
    pub W: DMatrix<f64>,
    /// Biases, 1 × K.
    pub b: DMatrix<f64>,
}

impl SimpleNet {
    // ANCHOR: forward
    /// Y = f(XW + b), N × K.
    pub fn forward(&self) -> DMatrix<f64> {
        let mut Z = &self.X * &self.W; // Z = XW + b, N×K
        for mut row in Z.row_iter_mut() {
            row += &self.b;
        }
        match self.kind {
            Kind::Linear => Z,
            Kind::Logistic => Z.map(sigmoid),
            Kind::Softmax => {
                // Row-wise softmax (rows are examples here): softmax the columns of Zᵀ.
                let mut Zt = Z.transpose();
                shared::activation::softmax_columns_mut(&mut Zt);
                Zt.transpose()
            }
        }
    }
    // ANCHOR_END: forward

    // ANCHOR: loss
    /// The cost E of the current parameters (a mean over the N examples).
    pub fn loss(&self) -> f64 {
        let Y = self.forward();
        let n = self.X.nrows() as f64;
        match self.kind {
            Kind::Linear => shared::loss::squared_error(&Y, &self.T) / n,
            Kind::Logistic => shared::loss::binary_cross_entropy(&Y, &self.T),
            Kind::Softmax => {
                shared::loss::cross_entropy_onehot(&Y.transpose(), &self.T.transpose())
            }
        }
    }
    // ANCHOR_END: loss

    // ANCHOR: grads
    /// (E, ∂E/∂W, ∂E/∂b).
    pub fn grads(&self) -> (f64, DMatrix<f64>, DMatrix<f64>) {
        let Y = self.forward();
        let E = self.loss();
        let n = self.X.nrows() as f64;
        let dZ = (&Y - &self.T) / n; // ∂E/∂Z = (Y − T)/N for each matching pair, N×K
        let dW = self.X.transpose() * &dZ; // ∂E/∂W = Xᵀ ∂E/∂Z, d×K
        let db = DMatrix::from_fn(1, dZ.ncols(), |_, k| dZ.column(k).sum()); // Σ_rows ∂E/∂Z
        (E, dW, db)
    }
    // ANCHOR_END: grads

    /// Classification accuracy (None for linear regression).
    pub fn accuracy(&self) -> Option<f64> {
        let Y = self.forward();
        match self.kind {
            Kind::Linear => None,
            Kind::Logistic => {
                let right = Y
                    .iter()
                    .zip(self.T.iter())
                    .filter(|(y, t)| (**y > 0.5) == (**t > 0.5))
                    .count();
                Some(right as f64 / Y.len() as f64)
            }
            Kind::Softmax => {
                let right = (0..Y.nrows())
                    .filter(|&i| {
                        Y.row(i).transpose().argmax().0 == self.T.row(i).transpose().argmax().0
                    })
                    .count();
                Some(right as f64 / Y.nrows() as f64)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::gradcheck;
    use shared::rng;

    #[test]
    fn gradients_of_the_three_nets_match_finite_differences() {
        for kind in [Kind::Linear, Kind::Logistic, Kind::Softmax] {
            let mut rng = rng::seeded(5);
            let (mut net, _, _) = crate::data::problem(kind, &mut rng);
            net.W = shared::init::normal(2, net.W.ncols(), 0.0, 0.5, &mut rng);
            net.b = shared::init::normal(1, net.b.ncols(), 0.0, 0.5, &mut rng);
            let (_, dW, db) = net.grads();
            let rw = gradcheck::check(&mut net, |n| &mut n.W, &dW, |n| n.loss());
            let rb = gradcheck::check(&mut net, |n| &mut n.b, &db, |n| n.loss());
            assert!(
                rw.max_rel_error < 1e-6 && rb.max_rel_error < 1e-6,
                "{kind:?} {rw:?} {rb:?}"
            );
        }
    }
}
