//! §4.1, figures 9 and 12: trask's "A Neural Network in 11 Lines", line for line in the notes'
//! names, with fixed-size matrices (the sizes are known at compile time, as in the notes).
//!
//! Rows are examples: `X0: 4 × 3` (two bits and a constant 1 that plays the bias),
//! `W0: 3 × 4`, `X1: 4 × 4`, `W1: 4 × 1`, `X2: 4 × 1`, `t: 4 × 1`.

use super::Init;
use nalgebra::SMatrix;
use shared::activation::sigmoid;

// ANCHOR: xor_data
/// Lines 1–2 of figure 12: `X0` (4 × 3; the third column is a constant 1 that plays the bias)
/// and the XOR targets `t` (4 × 1).
pub fn xor_data() -> (SMatrix<f64, 4, 3>, SMatrix<f64, 4, 1>) {
    let X0 = SMatrix::<f64, 4, 3>::from_row_slice(&[
        0.0, 0.0, 1.0, //
        0.0, 1.0, 1.0, //
        1.0, 0.0, 1.0, //
        1.0, 1.0, 1.0,
    ]);
    let t = SMatrix::<f64, 4, 1>::from_column_slice(&[0.0, 1.0, 1.0, 0.0]);
    (X0, t)
}
// ANCHOR_END: xor_data

/// Figure 12's network: `W0` (3 × 4) and `W1` (4 × 1).
#[derive(Clone, Debug, PartialEq)]
pub struct ElevenLines {
    /// Input → hidden weights, 3 × 4.
    pub W0: SMatrix<f64, 3, 4>,
    /// Hidden → output weights, 4 × 1.
    pub W1: SMatrix<f64, 4, 1>,
}

impl ElevenLines {
    // ANCHOR: eleven_new
    /// Lines 3–4: `W0 = 2*np.random.random((3,4)) - 1`, then `W1 = 2*np.random.random((4,1)) - 1`.
    pub fn new(init: &mut Init) -> Self {
        let W0 = SMatrix::<f64, 3, 4>::from_row_iterator((0..12).map(|_| init.weight()));
        let W1 = SMatrix::<f64, 4, 1>::from_row_iterator((0..4).map(|_| init.weight()));
        ElevenLines { W0, W1 }
    }
    // ANCHOR_END: eleven_new

    // ANCHOR: iteration
    /// Lines 6–11, one full-batch iteration; returns `X2` (4 × 1) as computed before the update.
    pub fn iteration(
        &mut self,
        X0: &SMatrix<f64, 4, 3>,
        t: &SMatrix<f64, 4, 1>,
    ) -> SMatrix<f64, 4, 1> {
        // 6.  X1 = 1/(1+np.exp(-(np.dot(X0,W0))))           X1: 4×4
        let X1 = (X0 * self.W0).map(sigmoid);
        // 7.  X2 = 1/(1+np.exp(-(np.dot(X1,W1))))           X2: 4×1
        let X2 = (X1 * self.W1).map(sigmoid);
        // 8.  dX2 = (t - X2)*(X2*(1-X2))      = −dX̄₂ of §4: the program's sign, hence `+=` below
        let dX2 = (t - X2).component_mul(&X2.map(|y| y * (1.0 - y)));
        // 9.  dX1 = dX2.dot(W1.T) * (X1 * (1-X1))          = −dX̄₁, 4×4
        let dX1 = (dX2 * self.W1.transpose()).component_mul(&X1.map(|y| y * (1.0 - y)));
        // 10. W1 += X1.T.dot(dX2)                          = W1 − dW1 with dW1 = X1ᵀ dX̄₂
        self.W1 += X1.transpose() * dX2;
        // 11. W0 += X0.T.dot(dX1)                          = W0 − dW0 with dW0 = X0ᵀ dX̄₁
        self.W0 += X0.transpose() * dX1;
        X2
    }
    // ANCHOR_END: iteration
}
