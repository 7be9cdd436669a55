//! §3 figure 6, a neural network with one hidden layer, as a softmax classifier: §4's
//! back propagation (figure 8) with §3's softmax output and cross-entropy cost (figure 5's
//! multinomial classification) on top of a sigmoid hidden layer.
//!
//! Sizes (rows are examples, as in §2–§4): `N` examples, `D` inputs (64 pixels of an 8 × 8
//! digit), `H` hidden units, `K` classes (10). `X0: N × D`, `W0: D × H`, `b0: 1 × H`,
//! `X̄1, X1: N × H`, `W1: H × K`, `b1: 1 × K`, `X̄2, X2, T: N × K` (T one-hot).
//!
//! Forward:
//! ```text
//! X̄1 = X0 W0 + 1 b0      X1 = σ(X̄1)
//! X̄2 = X1 W1 + 1 b1      X2 = softmax(X̄2)   (row by row)
//! E = −(1/N) Σ T ∘ log X2
//! ```
//! Backward (softmax with cross-entropy is a matching pair, so the output delta is §3's
//! ∂E/∂Z = (Y − T)/N; below it, §4's lines with the bias rows of figure 5):
//! ```text
//! dX̄2 = (X2 − T)/N
//! dW1 = X1ᵀ dX̄2          db1 = 1ᵀ dX̄2
//! dX1 = dX̄2 W1ᵀ
//! dX̄1 = dX1 ∘ (1 − X1) ∘ X1
//! dW0 = X0ᵀ dX̄1          db0 = 1ᵀ dX̄1
//! ```
//! The update is gradient descent, `W ← W − α dW`, `b ← b − α db`, on mini-batches
//! (`train::digits_epoch`).

use nalgebra::DMatrix;
use shared::rng::Rng;

/// Figure 6's network: D inputs → H sigmoid units → K softmax outputs.
#[derive(Clone, Debug, PartialEq)]
pub struct OneHidden {
    /// D × H.
    pub W0: DMatrix<f64>,
    /// 1 × H.
    pub b0: DMatrix<f64>,
    /// H × K.
    pub W1: DMatrix<f64>,
    /// 1 × K.
    pub b1: DMatrix<f64>,
}

/// What [`OneHidden::forward`] keeps for [`OneHidden::backward`]: the input and both layers'
/// outputs.
#[derive(Clone, Debug)]
pub struct Forward {
    /// X0, N × D (the input the pass was made on, so backward cannot be handed another).
    pub X0: DMatrix<f64>,
    /// X1 = σ(X̄1), N × H.
    pub X1: DMatrix<f64>,
    /// log X2 = X̄2 − log Σ_k e^{X̄2}, row by row, N × K (from the scores: finite where X2
    /// underflows to 0).
    pub logX2: DMatrix<f64>,
    /// X2 = softmax(X̄2), N × K: the class probabilities.
    pub X2: DMatrix<f64>,
}

/// ∂E/∂W0, ∂E/∂b0, ∂E/∂W1, ∂E/∂b1, shaped as the parameters.
#[derive(Clone, Debug)]
pub struct Grads {
    /// D × H.
    pub dW0: DMatrix<f64>,
    /// 1 × H.
    pub db0: DMatrix<f64>,
    /// H × K.
    pub dW1: DMatrix<f64>,
    /// 1 × K.
    pub db1: DMatrix<f64>,
}

/// `X W + 1 b`: adds the bias row b (1 × n) to every row of X W (N × n).
fn affine(X: &DMatrix<f64>, W: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
    let mut Z = X * W;
    for mut row in Z.row_iter_mut() {
        row += b;
    }
    Z
}

/// `1ᵀ dZ`: the column sums of dZ (N × n) as a 1 × n row.
fn column_sums(dZ: &DMatrix<f64>) -> DMatrix<f64> {
    DMatrix::from_fn(1, dZ.ncols(), |_, j| dZ.column(j).sum())
}

impl OneHidden {
    /// Weights uniform in ±1/√(fan-in) (Glorot's range for a sigmoid layer), biases 0.
    pub fn new(D: usize, H: usize, K: usize, rng: &mut Rng) -> Self {
        OneHidden {
            W0: shared::init::uniform_inv_sqrt(D, H, D, rng),
            b0: DMatrix::zeros(1, H),
            W1: shared::init::uniform_inv_sqrt(H, K, H, rng),
            b1: DMatrix::zeros(1, K),
        }
    }

    /// Hidden units H.
    pub fn hidden(&self) -> usize {
        self.W0.ncols()
    }

    /// The forward pass on the rows of `X0` (N × D).
    pub fn forward(&self, X0: &DMatrix<f64>) -> Forward {
        let Xbar1 = affine(X0, &self.W0, &self.b0); // X̄1 = X0 W0 + 1 b0, N×H
        let X1 = Xbar1.map(shared::activation::sigmoid); // X1 = σ(X̄1), N×H
        let Xbar2 = affine(&X1, &self.W1, &self.b1); // X̄2 = X1 W1 + 1 b1, N×K
        // Row by row, with the row's maximum m subtracted first (the same values, no overflow):
        // log X2 = X̄2 − m − log Σ_k e^{X̄2 − m}, and X2 = e^{log X2} = softmax(X̄2).
        let mut logX2 = Xbar2;
        for mut row in logX2.row_iter_mut() {
            let m = row.max();
            let lse = m + row.iter().map(|z| (z - m).exp()).sum::<f64>().ln();
            row.add_scalar_mut(-lse);
        }
        let X2 = logX2.map(f64::exp); // X2 = softmax(X̄2), N×K
        Forward {
            X0: X0.clone(),
            X1,
            logX2,
            X2,
        }
    }

    /// E = −(1/N) Σ T ∘ log X2, in nats per example (log X2 from the scores, so a
    /// probability that underflows to 0 gives a large finite E, not +∞).
    pub fn loss(f: &Forward, T: &DMatrix<f64>) -> f64 {
        -T.component_mul(&f.logX2).sum() / f.X0.nrows() as f64
    }

    /// The backward pass after [`OneHidden::forward`], against the one-hot targets `T` (N × K).
    pub fn backward(&self, f: &Forward, T: &DMatrix<f64>) -> Grads {
        let N = f.X0.nrows() as f64;
        let dXbar2 = (&f.X2 - T) / N; // dX̄2 = (X2 − T)/N, from E and X2 = softmax(X̄2), N×K
        let dW1 = f.X1.transpose() * &dXbar2; // dW1 = X1ᵀ dX̄2, from X̄2 = X1 W1 + 1 b1, H×K
        let db1 = column_sums(&dXbar2); // db1 = 1ᵀ dX̄2, 1×K
        let dX1 = &dXbar2 * self.W1.transpose(); // dX1 = dX̄2 W1ᵀ, N×H
        let dXbar1 = dX1.component_mul(&f.X1.map(|x| (1.0 - x) * x)); // dX̄1 = dX1 ∘ (1 − X1) ∘ X1, from X1 = σ(X̄1), N×H
        let dW0 = f.X0.transpose() * &dXbar1; // dW0 = X0ᵀ dX̄1, from X̄1 = X0 W0 + 1 b0, D×H
        let db0 = column_sums(&dXbar1); // db0 = 1ᵀ dX̄1, 1×H
        Grads { dW0, db0, dW1, db1 }
    }

    /// One gradient-descent step of size α.
    pub fn step(&mut self, g: &Grads, alpha: f64) {
        self.W0.zip_apply(&g.dW0, |w, d| *w -= alpha * d); // W0 ← W0 − α dW0
        self.b0.zip_apply(&g.db0, |b, d| *b -= alpha * d); // b0 ← b0 − α db0
        self.W1.zip_apply(&g.dW1, |w, d| *w -= alpha * d); // W1 ← W1 − α dW1
        self.b1.zip_apply(&g.db1, |b, d| *b -= alpha * d); // b1 ← b1 − α db1
    }

    /// The predicted class of each row of X0: the argmax of its row of X2.
    pub fn predict(&self, X0: &DMatrix<f64>) -> Vec<usize> {
        let X2 = self.forward(X0).X2;
        (0..X2.nrows())
            .map(|n| X2.row(n).transpose().argmax().0)
            .collect()
    }
}

/// The one-hot rows T (N × K) of `labels`.
pub fn one_hot(labels: &[usize], K: usize) -> DMatrix<f64> {
    DMatrix::from_fn(labels.len(), K, |n, k| f64::from(u8::from(labels[n] == k)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::gradcheck;

    #[test]
    fn backward_matches_finite_differences() {
        // 7 examples, D = 5, H = 4, K = 3; inputs and weights large enough that no gradient
        // is tiny.
        let mut rng = shared::rng::seeded(11);
        let X0 = shared::init::normal(7, 5, 0.0, 1.0, &mut rng);
        let T = one_hot(&[0, 2, 1, 1, 0, 2, 2], 3);
        let mut net = OneHidden::new(5, 4, 3, &mut rng);
        net.W0 = shared::init::normal(5, 4, 0.0, 1.0, &mut rng);
        net.W1 = shared::init::normal(4, 3, 0.0, 1.0, &mut rng);
        net.b0 = shared::init::normal(1, 4, 0.0, 0.5, &mut rng);
        net.b1 = shared::init::normal(1, 3, 0.0, 0.5, &mut rng);
        let g = net.backward(&net.forward(&X0), &T);
        let E = |n: &OneHidden| OneHidden::loss(&n.forward(&X0), &T);
        let reports = [
            ("W0", gradcheck::check(&mut net, |n| &mut n.W0, &g.dW0, E)),
            ("b0", gradcheck::check(&mut net, |n| &mut n.b0, &g.db0, E)),
            ("W1", gradcheck::check(&mut net, |n| &mut n.W1, &g.dW1, E)),
            ("b1", gradcheck::check(&mut net, |n| &mut n.b1, &g.db1, E)),
        ];
        for (name, r) in reports {
            assert!(r.max_rel_error < 1e-6, "{name}: {r:?}");
            assert!(r.max_abs_numeric > 1e-3, "{name}: {r:?}");
        }
    }

    #[test]
    fn softmax_rows_are_probabilities_even_for_huge_scores() {
        let mut rng = shared::rng::seeded(2);
        let mut net = OneHidden::new(3, 2, 4, &mut rng);
        net.b1 = DMatrix::from_row_slice(1, 4, &[1000.0, 0.0, -1000.0, 999.0]);
        let X0 = shared::init::normal(5, 3, 0.0, 1.0, &mut rng);
        let f = net.forward(&X0);
        for n in 0..5 {
            let row = f.X2.row(n);
            assert!((row.sum() - 1.0).abs() < 1e-12 && row.iter().all(|p| p.is_finite()));
        }
        assert_eq!(net.predict(&X0), [0; 5]);
    }
}
