//! The notes layer of §8: the notebook's network, LINEAR → RELU → LINEAR → RELU → LINEAR →
//! SIGMOID, its cost and its backward pass, one equation per line on nalgebra. This is the page
//! to read beside the notebook's `forward_propagation`, `compute_cost` and
//! `backward_propagation`; the training loop runs the same equations as plain loops over
//! preallocated buffers ([`crate::fast`]), tested against these to 1e-12.
//!
//! Size legend (columns are examples, as in the notebook): `m` examples,
//! layers `[n0, n1, n2, n3] = [2, 5, 2, 1]`;
//! `X: n0 × m`, `Y: 1 × m`, `W1: n1 × n0`, `b1: n1 × 1`, `Z1, A1: n1 × m`,
//! `W2: n2 × n1`, `b2: n2 × 1`, `Z2, A2: n2 × m`, `W3: 1 × n2`, `b3: 1 × 1`, `Z3, A3: 1 × m`.
//! `1ᵀ` is a 1 × m row of ones: `b 1ᵀ` is numpy's broadcast of b over the columns, and
//! `dZ 1` (m × 1 ones) its backward, `np.sum(dZ, axis=1, keepdims=True)`.
//!
//! The update W ← W − α dW (and momentum, Adam) is [`shared::optim`]'s, applied to
//! [`Net::params_mut`] with [`Grads::all`].

use nalgebra::DMatrix;
use shared::activation::{relu, relu_grad, sigmoid};

/// The notebook's `layers_dims`.
pub const LAYERS: [usize; 4] = [2, 5, 2, 1];

/// The notebook's parameters: W1, b1, W2, b2, W3, b3.
#[derive(Clone, Debug, PartialEq)]
pub struct Net {
    /// n1 × n0.
    pub W1: DMatrix<f64>,
    /// n1 × 1.
    pub b1: DMatrix<f64>,
    /// n2 × n1.
    pub W2: DMatrix<f64>,
    /// n2 × 1.
    pub b2: DMatrix<f64>,
    /// 1 × n2.
    pub W3: DMatrix<f64>,
    /// 1 × 1.
    pub b3: DMatrix<f64>,
}

/// What [`Net::forward`] keeps for [`Net::backward`]: the input it was computed from and every
/// layer's Z and A (the notebook's `cache`).
#[derive(Clone, Debug, PartialEq)]
pub struct Cache {
    /// n0 × m: the input.
    pub X: DMatrix<f64>,
    /// n1 × m.
    pub Z1: DMatrix<f64>,
    /// n1 × m.
    pub A1: DMatrix<f64>,
    /// n2 × m.
    pub Z2: DMatrix<f64>,
    /// n2 × m.
    pub A2: DMatrix<f64>,
    /// 1 × m.
    pub Z3: DMatrix<f64>,
    /// 1 × m: P(label 1) for every example.
    pub A3: DMatrix<f64>,
}

/// ∂J/∂ of every parameter, J the mean cross-entropy of the batch (the shapes of [`Net`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Grads {
    /// n1 × n0.
    pub dW1: DMatrix<f64>,
    /// n1 × 1.
    pub db1: DMatrix<f64>,
    /// n2 × n1.
    pub dW2: DMatrix<f64>,
    /// n2 × 1.
    pub db2: DMatrix<f64>,
    /// 1 × n2.
    pub dW3: DMatrix<f64>,
    /// 1 × 1.
    pub db3: DMatrix<f64>,
}

impl Grads {
    /// Zero gradients of the shapes of `net`'s parameters.
    pub fn zeros(net: &Net) -> Grads {
        let z = |w: &DMatrix<f64>| DMatrix::zeros(w.nrows(), w.ncols());
        Grads {
            dW1: z(&net.W1),
            db1: z(&net.b1),
            dW2: z(&net.W2),
            db2: z(&net.b2),
            dW3: z(&net.W3),
            db3: z(&net.b3),
        }
    }

    /// dW1, db1, dW2, db2, dW3, db3: the order of [`Net::params_mut`].
    pub fn all(&self) -> [&DMatrix<f64>; 6] {
        [
            &self.dW1, &self.db1, &self.dW2, &self.db2, &self.dW3, &self.db3,
        ]
    }
}

// ANCHOR: bce_from_logit
/// The binary cross-entropy of one example from its logit z = Z3 and label y:
/// −[y ln a + (1 − y) ln(1 − a)] with a = σ(z), computed as ln(1 + e^{−|z|}) + (1 − y)z for
/// z ≥ 0 and ln(1 + e^{−|z|}) − y z for z < 0 (−ln a = ln(1 + e^{−z}), −ln(1 − a) = z − ln a).
/// The same number, but it keeps its precision when a is within 1e-16 of 0 or 1 (where the
/// notebook's `np.log(1 - a3)` cancels, then gives inf).
pub fn bce_from_logit(z: f64, y: f64) -> f64 {
    let linear = if z >= 0.0 { (1.0 - y) * z } else { -y * z };
    (-z.abs()).exp().ln_1p() + linear
}
// ANCHOR_END: bce_from_logit

impl Net {
    // ANCHOR: he
    /// The notebook's `initialize_parameters_he`: W_l = randn(n_l, n_{l−1}) · √(2/n_{l−1}),
    /// drawn layer after layer in row-major order (numpy's order), b_l = 0. `randn` gives
    /// N(0, 1) draws.
    pub fn he(layers: [usize; 4], mut randn: impl FnMut() -> f64) -> Net {
        let [n0, n1, n2, n3] = layers;
        assert!(
            n3 == 1 && layers.iter().all(|&n| n > 0),
            "layers {layers:?}"
        );
        let mut he = |rows: usize, cols: usize| {
            let scale = (2.0 / cols as f64).sqrt();
            DMatrix::from_row_iterator(rows, cols, (0..rows * cols).map(|_| randn() * scale))
        };
        let W1 = he(n1, n0); // n1 × n0
        let W2 = he(n2, n1); // n2 × n1
        let W3 = he(n3, n2); // 1 × n2
        Net {
            W1,
            b1: DMatrix::zeros(n1, 1),
            W2,
            b2: DMatrix::zeros(n2, 1),
            W3,
            b3: DMatrix::zeros(n3, 1),
        }
    }
    // ANCHOR_END: he

    /// [n0, n1, n2, n3].
    pub fn layers(&self) -> [usize; 4] {
        [
            self.W1.ncols(),
            self.W1.nrows(),
            self.W2.nrows(),
            self.W3.nrows(),
        ]
    }

    /// W1, b1, W2, b2, W3, b3: the order the optimizer sees them in (with [`Grads::all`]).
    pub fn params_mut(&mut self) -> [&mut DMatrix<f64>; 6] {
        [
            &mut self.W1,
            &mut self.b1,
            &mut self.W2,
            &mut self.b2,
            &mut self.W3,
            &mut self.b3,
        ]
    }

    /// Names and matrices, for a checkpoint.
    pub fn tensors(&self) -> [(&'static str, &DMatrix<f64>); 6] {
        [
            ("W1", &self.W1),
            ("b1", &self.b1),
            ("W2", &self.W2),
            ("b2", &self.b2),
            ("W3", &self.W3),
            ("b3", &self.b3),
        ]
    }

    // ANCHOR: forward
    /// The notebook's `forward_propagation` of the examples X (n0 × m).
    pub fn forward(&self, X: &DMatrix<f64>) -> Cache {
        let ones = DMatrix::from_element(1, X.ncols(), 1.0); // 1 × m: 1ᵀ
        let Z1 = &self.W1 * X + &self.b1 * &ones; // n1 × m   (f1) Z1 = W1 X + b1 1ᵀ
        let A1 = Z1.map(relu); //                    n1 × m   (f2) A1 = relu(Z1)
        let Z2 = &self.W2 * &A1 + &self.b2 * &ones; // n2 × m (f3) Z2 = W2 A1 + b2 1ᵀ
        let A2 = Z2.map(relu); //                    n2 × m   (f4) A2 = relu(Z2)
        let Z3 = &self.W3 * &A2 + &self.b3 * &ones; // 1 × m  (f5) Z3 = W3 A2 + b3 1ᵀ
        let A3 = Z3.map(sigmoid); //                 1 × m    (f6) A3 = σ(Z3)
        let X = X.clone();
        Cache {
            X,
            Z1,
            A1,
            Z2,
            A2,
            Z3,
            A3,
        }
    }
    // ANCHOR_END: forward

    // ANCHOR: cost
    /// The notebook's `compute_cost`: the cross-entropy **summed** over the batch,
    /// Σ_j −[y_j ln a3_j + (1 − y_j) ln(1 − a3_j)], with Y the 1 × m labels (0.0 / 1.0); the
    /// training loop divides an epoch's total by N. Computed from Z3 by [`bce_from_logit`].
    pub fn cost(&self, c: &Cache, Y: &DMatrix<f64>) -> f64 {
        c.Z3.zip_map(Y, bce_from_logit).sum()
    }
    // ANCHOR_END: cost

    // ANCHOR: backward
    /// The notebook's `backward_propagation`: the gradients of the batch's **mean**
    /// cross-entropy J = cost / m, from the forward record `c` and the labels Y (1 × m).
    pub fn backward(&self, c: &Cache, Y: &DMatrix<f64>) -> Grads {
        let m = c.X.ncols() as f64;
        let ones = DMatrix::from_element(c.X.ncols(), 1, 1.0); // m × 1: 1
        // (f6) and J = (1/m) Σ bce(σ(Z3), Y): ∂bce/∂z = σ(z) − y
        let dZ3 = (&c.A3 - Y) / m; //                         1 × m
        // (f5) Z3 = W3 A2 + b3 1ᵀ
        let dW3 = &dZ3 * c.A2.transpose(); //                 1 × n2
        let db3 = &dZ3 * &ones; //                            1 × 1
        let dA2 = self.W3.transpose() * &dZ3; //              n2 × m
        // (f4) A2 = relu(Z2): relu' = 1 where A2 > 0 (the notebook's np.int64(a2 > 0))
        let dZ2 = dA2.component_mul(&c.A2.map(relu_grad)); // n2 × m
        // (f3) Z2 = W2 A1 + b2 1ᵀ
        let dW2 = &dZ2 * c.A1.transpose(); //                 n2 × n1
        let db2 = &dZ2 * &ones; //                            n2 × 1
        let dA1 = self.W2.transpose() * &dZ2; //              n1 × m
        // (f2) A1 = relu(Z1)
        let dZ1 = dA1.component_mul(&c.A1.map(relu_grad)); // n1 × m
        // (f1) Z1 = W1 X + b1 1ᵀ
        let dW1 = &dZ1 * c.X.transpose(); //                  n1 × n0
        let db1 = &dZ1 * &ones; //                            n1 × 1
        Grads {
            dW1,
            db1,
            dW2,
            db2,
            dW3,
            db3,
        }
    }
    // ANCHOR_END: backward

    /// The mean cross-entropy J of the examples X (n0 × m) with labels Y (1 × m): what
    /// [`Net::backward`] differentiates.
    pub fn loss(&self, X: &DMatrix<f64>, Y: &DMatrix<f64>) -> f64 {
        self.cost(&self.forward(X), Y) / X.ncols() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bce_from_logit_is_the_notebook_cost() {
        for z in [-5.0, -3.0, -0.2, 0.0, 0.7, 5.0] {
            let a = sigmoid(z);
            for y in [0.0, 1.0] {
                let notebook = -(y * f64::ln(a) + (1.0 - y) * f64::ln(1.0 - a));
                let ours = bce_from_logit(z, y);
                assert!(
                    (ours - notebook).abs() < 1e-12 * notebook.max(1.0),
                    "{z} {y}"
                );
            }
        }
        // Far out the notebook's 1 − a cancels (σ(30) = 1 − 9.4e-14) and σ(40) rounds to 1
        // (ln 0 = −inf); the logit form keeps full precision: −ln(1 − σ(z)) = z + ln(1 + e^{−z}),
        // −ln σ(−z) likewise, and −ln σ(z) = ln(1 + e^{−z}) ≈ e^{−z}.
        assert_eq!(bce_from_logit(40.0, 0.0), 40.0 + (-40f64).exp().ln_1p());
        assert_eq!(bce_from_logit(-40.0, 1.0), 40.0 + (-40f64).exp().ln_1p());
        let tiny = bce_from_logit(30.0, 1.0);
        assert!((tiny / (-30f64).exp() - 1.0).abs() < 1e-12, "{tiny}");
    }

    #[test]
    fn a_hand_computed_forward_and_backward() {
        // [1, 1, 1, 1] net, one example x = 2, y = 1: every line by hand.
        let one = |v: f64| DMatrix::from_element(1, 1, v);
        let net = Net {
            W1: one(0.5),
            b1: one(-0.25),
            W2: one(-2.0),
            b2: one(1.0),
            W3: one(3.0),
            b3: one(-1.0),
        };
        let (X, Y) = (one(2.0), one(1.0));
        let c = net.forward(&X);
        // Z1 = 0.5·2 − 0.25 = 0.75 = A1; Z2 = −2·0.75 + 1 = −0.5, A2 = 0; Z3 = −1, A3 = σ(−1).
        assert_eq!(
            (c.Z1[0], c.A1[0], c.Z2[0], c.A2[0], c.Z3[0]),
            (0.75, 0.75, -0.5, 0.0, -1.0)
        );
        assert_eq!(c.A3[0], sigmoid(-1.0));
        assert_eq!(net.cost(&c, &Y), bce_from_logit(-1.0, 1.0));
        let g = net.backward(&c, &Y);
        // dZ3 = σ(−1) − 1; dW3 = dZ3·A2 = 0; db3 = dZ3; the dead ReLU (A2 = 0) stops the rest.
        assert_eq!((g.dW3[0], g.db3[0]), (0.0, sigmoid(-1.0) - 1.0));
        for d in [&g.dW2, &g.db2, &g.dW1, &g.db1] {
            assert_eq!(d[0], 0.0);
        }
    }
}
