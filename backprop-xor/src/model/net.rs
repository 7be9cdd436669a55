//! §4 Back propagation (figure 8; figures 6, 7 and 11 for deeper nets): a sigmoid network of
//! any depth, rows are examples, with the matrix backprop
//! `dX̄_i = dX_i ∘ X_i(1 − X_i)`, `dW_{i−1} = X_{i−1}ᵀ dX̄_i`, `dX_{i−1} = dX̄_i W_{i−1}ᵀ`.
//!
//! Sizes: `N` examples, layer sizes `n_0, …, n_L`; `X_i: N × n_i`, `W_i: n_i × n_{i+1}`.
//! Sign: the equations' form, `dX_L = −(t − X_L)` (the true gradient) and `W ← W − α dW`
//! (figure 12's program uses the negative and adds; see [`super::ElevenLines`]).

use super::Init;
use nalgebra::DMatrix;

// ANCHOR: net
/// A sigmoid network of any depth, rows are examples: `X_{i+1} = σ(X_i W_i)`, `W_i: n_i × n_{i+1}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Net {
    /// Layer sizes n_0, …, n_L.
    pub layers: Vec<usize>,
    /// W_0, …, W_{L−1}; W_i is n_i × n_{i+1}.
    pub W: Vec<DMatrix<f64>>,
}
// ANCHOR_END: net

/// What [`Net::forward`] keeps for [`Net::backward`] (X_0, the input, and every layer's output)
/// and backward's deltas and gradients: allocated once, reused across iterations (no
/// allocation in the training loop).
#[derive(Clone, Debug)]
pub struct Cache {
    /// X_0 … X_L, X_i is N × n_i.
    pub X: Vec<DMatrix<f64>>,
    /// dX̄_1 … dX̄_L (index i holds dX̄_i; index 0 unused), N × n_i.
    pub dXbar: Vec<DMatrix<f64>>,
    /// dX_i before the sigmoid's derivative, N × n_i (index 0 unused).
    pub dX: Vec<DMatrix<f64>>,
    /// dW_0 … dW_{L−1}, same shapes as W.
    pub dW: Vec<DMatrix<f64>>,
}

impl Net {
    /// Weights uniform in [−1, 1), drawn layer after layer as trask's program draws them.
    pub fn new(layers: &[usize], init: &mut Init) -> Self {
        assert!(layers.len() >= 2 && layers.iter().all(|&n| n > 0));
        let W = layers
            .windows(2)
            .map(|w| init.weights(w[0], w[1]))
            .collect();
        Net {
            layers: layers.to_vec(),
            W,
        }
    }

    /// A cache for `n` examples.
    pub fn cache(&self, n: usize) -> Cache {
        let z = |k: usize| DMatrix::zeros(n, k);
        Cache {
            X: self.layers.iter().map(|&k| z(k)).collect(),
            dXbar: self.layers.iter().map(|&k| z(k)).collect(),
            dX: self.layers.iter().map(|&k| z(k)).collect(),
            dW: self
                .W
                .iter()
                .map(|w| DMatrix::zeros(w.nrows(), w.ncols()))
                .collect(),
        }
    }

    // ANCHOR: forward
    /// Forward pass: `X_{i+1} = σ(X_i W_i)`, leaving X_0 … X_L in `b.X`; returns E = ½Σ(t − X_L)².
    pub fn forward(&self, X0: &DMatrix<f64>, t: &DMatrix<f64>, b: &mut Cache) -> f64 {
        b.X[0].copy_from(X0);
        for i in 0..self.W.len() {
            let (done, next) = b.X.split_at_mut(i + 1);
            // X̄_{i+1} = X_i W_i;  X_{i+1} = σ(X̄_{i+1})
            done[i].mul_to(&self.W[i], &mut next[0]);
            shared::activation::sigmoid_mut(&mut next[0]);
        }
        shared::loss::squared_error(&b.X[self.W.len()], t)
    }
    // ANCHOR_END: forward

    // ANCHOR: backward
    /// Backward pass of §4 after [`Net::forward`], leaving ∂E/∂W_i in `b.dW`:
    /// `dX_L = −(t − X_L)`; for i = L … 1: `dX̄_i = dX_i ∘ (1 − X_i) ∘ X_i`,
    /// `dW_{i−1} = X_{i−1}ᵀ dX̄_i`, `dX_{i−1} = dX̄_i W_{i−1}ᵀ`.
    pub fn backward(&self, t: &DMatrix<f64>, b: &mut Cache) {
        let L = self.W.len();
        // dX_L = −(t − X_L)
        b.dX[L].copy_from(&b.X[L]);
        b.dX[L] -= t;
        for i in (1..=L).rev() {
            // dX̄_i = dX_i ∘ (1 − X_i) ∘ X_i
            b.dXbar[i].copy_from(&b.dX[i]);
            shared::activation::sigmoid_backward_mut(&mut b.dXbar[i], &b.X[i]);
            // dW_{i−1} = X_{i−1}ᵀ dX̄_i
            shared::kernels::gemm_tn(1.0, &b.X[i - 1], &b.dXbar[i], 0.0, &mut b.dW[i - 1]);
            // dX_{i−1} = dX̄_i W_{i−1}ᵀ   (not needed for the input layer)
            if i > 1 {
                shared::kernels::gemm_nt(1.0, &b.dXbar[i], &self.W[i - 1], 0.0, &mut b.dX[i - 1]);
            }
        }
    }
    // ANCHOR_END: backward

    // ANCHOR: step
    /// One full-batch gradient-descent step `W_i ← W_i − α dW_i`; returns E before the step.
    pub fn step(&mut self, X0: &DMatrix<f64>, t: &DMatrix<f64>, lr: f64, b: &mut Cache) -> f64 {
        let E = self.forward(X0, t, b);
        self.backward(t, b);
        for (W, dW) in self.W.iter_mut().zip(&b.dW) {
            W.zip_apply(dW, |w, d| *w -= lr * d); // W_i ← W_i − α dW_i
        }
        E
    }
    // ANCHOR_END: step

    /// The output X_L of the last [`Net::forward`] (N × n_L).
    pub fn output<'a>(&self, b: &'a Cache) -> &'a DMatrix<f64> {
        &b.X[self.W.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ElevenLines, xor_data};
    use shared::gradcheck;

    fn dyn_data() -> (DMatrix<f64>, DMatrix<f64>) {
        let (X0, t) = xor_data();
        (
            DMatrix::from_column_slice(4, 3, X0.as_slice()),
            DMatrix::from_column_slice(4, 1, t.as_slice()),
        )
    }

    #[test]
    fn backprop_matches_finite_differences_at_any_depth() {
        let (X0, t) = dyn_data();
        for layers in [vec![3, 4, 1], vec![3, 8, 8, 1], vec![3, 5, 2, 6, 1]] {
            let mut net = Net::new(&layers, &mut Init::chacha(4));
            let mut b = net.cache(4);
            net.forward(&X0, &t, &mut b);
            net.backward(&t, &mut b);
            for i in 0..net.W.len() {
                let loss = |n: &Net| {
                    let mut bb = n.cache(4);
                    n.forward(&X0, &t, &mut bb)
                };
                let rep = gradcheck::check(&mut net, |n| &mut n.W[i], &b.dW[i], loss);
                assert!(rep.max_rel_error < 1e-6, "{layers:?} W{i}: {rep:?}");
                assert!(rep.max_abs_numeric > 1e-4, "{layers:?} W{i}: {rep:?}");
            }
        }
    }

    #[test]
    fn any_depth_net_is_the_eleven_lines_at_3_4_1() {
        let (X0s, ts) = xor_data();
        let (X0, t) = dyn_data();
        let mut eleven = ElevenLines::new(&mut Init::numpy(1));
        let mut net = Net::new(&[3, 4, 1], &mut Init::numpy(1));
        assert_eq!(net.W[0].as_slice(), eleven.W0.as_slice());
        assert_eq!(net.W[1].as_slice(), eleven.W1.as_slice());
        let mut b = net.cache(4);
        for _ in 0..2000 {
            eleven.iteration(&X0s, &ts);
            net.step(&X0, &t, 1.0, &mut b);
        }
        for (a, b) in net.W[0].iter().zip(eleven.W0.iter()) {
            assert!((a - b).abs() < 1e-10, "{a} {b}");
        }
    }
}
