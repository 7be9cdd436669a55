//! # backprop-xor — notes §2 Chain Rule, §3 Deep Neural Net, §4 Back Propagation
//!
//! The notes' first network is trask's "A Neural Network in 11 Lines" (§4.1, figures 9 and 12):
//! a 3–4–1 sigmoid net learning XOR with full-batch backprop. This crate writes it three ways:
//!
//! - [`ElevenLines`]: the 11 lines of figure 12, line for line, in the notes' names, with
//!   fixed-size matrices (the sizes are known at compile time, as in the notes).
//! - [`Net`]: the same network at any depth (`--layers 3,8,8,1`, figures 6, 7 and 11), with the
//!   §4 matrix backprop `dX̄_i = dX_i ∘ X_i(1 − X_i)`, `dW_{i−1} = X_{i−1}ᵀ dX̄_i`,
//!   `dX_{i−1} = dX̄_i W_{i−1}ᵀ`, checked against finite differences.
//! - [`chain_rule`] and [`simple_nets`]: the worked examples of §2 and the nets of §3 (figure 5).
//!
//! Size legend (§4, rows are examples as in trask's program):
//! `N = 4` examples, `X0: N × 3` (two bits and a constant 1), `t: N × 1`, `W0: 3 × 4`,
//! `X1: N × 4`, `W1: 4 × 1`, `X2: N × 1`.
//!
//! Expected result: with `np.random.seed(1)`'s weights ([`Init::Numpy`], the default) the mean
//! absolute error printed every 10 000 iterations is trask's blog output, 0.4964 → 0.0086 →
//! 0.0058 → 0.0046 → 0.0040 → 0.0035, and the outputs end near (0.003, 0.997, 0.997, 0.004).
//!
//! Sign convention: the notes' equations use the true gradient dX₂ = −(t − X₂) and subtract it;
//! the program (line 8) computes (t − X₂)·X₂(1 − X₂), the *negative* of dX̄₂, and adds. Both are
//! gradient descent with learning rate 1. [`ElevenLines`] keeps the program's form, [`Net`] the
//! equations' form.
//!
//! The notes' equations in the code (the README gives the line ranges):
//!
//! | notes | code |
//! |---|---|
//! | §2 ∂f/∂A = (∂f/∂Y)Xᵀ, ∂f/∂X = Aᵀ(∂f/∂Y) | [`chain_rule::matrix_identity`] |
//! | §2 figure 3, σ' = y(1 − y); figure 4's network and its backward pass | [`chain_rule::sigmoid_chain`], [`chain_rule::ExampleNet::grads`] |
//! | §3 figure 5, linear / logistic / softmax nets | [`simple_nets::SimpleNet`] |
//! | §4.1 figure 12, lines 1–4 | [`xor_data`], [`ElevenLines::new`] |
//! | §4.1 lines 6–11 | [`ElevenLines::iteration`] |
//! | §4 X_{i+1} = σ(X_i W_i) | [`Net::forward`] |
//! | §4 dX_L, dX̄_i, dW_{i−1}, dX_{i−1} | [`Net::backward`], [`Net::step`] |

#![allow(non_snake_case)]

pub mod chain_rule;
pub mod simple_nets;

use nalgebra::{DMatrix, SMatrix};
use shared::activation::sigmoid;
use shared::rng::{NumpyRandom, Rng};

/// Where the initial weights come from.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // made once per run; its size does not matter
pub enum Init {
    /// numpy's legacy MT19937 after `np.random.seed(seed)`: reproduces trask's printed numbers.
    Numpy(NumpyRandom),
    /// The workspace's ChaCha8 generator.
    ChaCha(Rng),
}

impl Init {
    /// The state after `np.random.seed(seed)`.
    pub fn numpy(seed: u32) -> Self {
        Init::Numpy(NumpyRandom::new(seed))
    }

    /// ChaCha8 seeded with `seed`.
    pub fn chacha(seed: u64) -> Self {
        Init::ChaCha(shared::rng::seeded(seed))
    }

    /// `2*np.random.random() - 1`: one weight uniform in [−1, 1).
    pub fn weight(&mut self) -> f64 {
        match self {
            Init::Numpy(r) => 2.0 * r.random_sample() - 1.0,
            Init::ChaCha(r) => shared::rng::uniform(r, -1.0, 1.0),
        }
    }

    /// `2*np.random.random((rows, cols)) - 1`, filled row by row as numpy does.
    pub fn weights(&mut self, rows: usize, cols: usize) -> DMatrix<f64> {
        DMatrix::from_row_iterator(rows, cols, (0..rows * cols).map(|_| self.weight()))
    }
}

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

/// Figure 12's network: `W0` (3 × 4) and `W1` (4 × 1).
#[derive(Clone, Debug, PartialEq)]
pub struct ElevenLines {
    /// Input → hidden weights, 3 × 4.
    pub W0: SMatrix<f64, 3, 4>,
    /// Hidden → output weights, 4 × 1.
    pub W1: SMatrix<f64, 4, 1>,
}

impl ElevenLines {
    /// Lines 3–4: `W0 = 2*np.random.random((3,4)) - 1`, then `W1 = 2*np.random.random((4,1)) - 1`.
    pub fn new(init: &mut Init) -> Self {
        let W0 = SMatrix::<f64, 3, 4>::from_row_iterator((0..12).map(|_| init.weight()));
        let W1 = SMatrix::<f64, 4, 1>::from_row_iterator((0..4).map(|_| init.weight()));
        ElevenLines { W0, W1 }
    }

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
}

/// A sigmoid network of any depth, rows are examples: `X_{i+1} = σ(X_i W_i)`, `W_i: n_i × n_{i+1}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Net {
    /// Layer sizes n_0, …, n_L.
    pub layers: Vec<usize>,
    /// W_0, …, W_{L−1}; W_i is n_i × n_{i+1}.
    pub W: Vec<DMatrix<f64>>,
}

/// Buffers for one forward and backward pass, reused across iterations (no allocation in the
/// training loop).
#[derive(Clone, Debug)]
pub struct Buffers {
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

    /// Buffers for `n` examples.
    pub fn buffers(&self, n: usize) -> Buffers {
        let z = |k: usize| DMatrix::zeros(n, k);
        Buffers {
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

    /// Forward pass: `X_{i+1} = σ(X_i W_i)`, leaving X_0 … X_L in `b.X`; returns E = ½Σ(t − X_L)².
    pub fn forward(&self, X0: &DMatrix<f64>, t: &DMatrix<f64>, b: &mut Buffers) -> f64 {
        b.X[0].copy_from(X0);
        for i in 0..self.W.len() {
            let (done, next) = b.X.split_at_mut(i + 1);
            // X̄_{i+1} = X_i W_i;  X_{i+1} = σ(X̄_{i+1})
            done[i].mul_to(&self.W[i], &mut next[0]);
            shared::activation::sigmoid_mut(&mut next[0]);
        }
        shared::loss::squared_error(&b.X[self.W.len()], t)
    }

    /// Backward pass of §4 after [`Net::forward`], leaving ∂E/∂W_i in `b.dW`:
    /// `dX_L = −(t − X_L)`; for i = L … 1: `dX̄_i = dX_i ∘ (1 − X_i) ∘ X_i`,
    /// `dW_{i−1} = X_{i−1}ᵀ dX̄_i`, `dX_{i−1} = dX̄_i W_{i−1}ᵀ`.
    pub fn backward(&self, t: &DMatrix<f64>, b: &mut Buffers) {
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

    /// One full-batch gradient-descent step `W_i ← W_i − α dW_i`; returns E before the step.
    pub fn step(&mut self, X0: &DMatrix<f64>, t: &DMatrix<f64>, lr: f64, b: &mut Buffers) -> f64 {
        let E = self.forward(X0, t, b);
        self.backward(t, b);
        for (W, dW) in self.W.iter_mut().zip(&b.dW) {
            W.zip_apply(dW, |w, d| *w -= lr * d); // W_i ← W_i − α dW_i
        }
        E
    }

    /// The output X_L of the last [`Net::forward`] (N × n_L).
    pub fn output<'a>(&self, b: &'a Buffers) -> &'a DMatrix<f64> {
        &b.X[self.W.len()]
    }
}

/// The network a default run trains: figure 12's 11 lines when the sizes and step are theirs
/// (3,4,1 and α = 1), the any-depth [`Net`] otherwise. The two agree to rounding (tested).
#[derive(Clone, Debug)]
pub enum XorNet {
    /// [`ElevenLines`], fixed-size.
    Eleven(ElevenLines),
    /// [`Net`] with its buffers and learning rate.
    Deep(Net, Buffers, f64),
}

impl XorNet {
    /// Draws the weights for `layers` (first 3, last 1) with step size `lr`.
    pub fn new(layers: &[usize], lr: f64, init: &mut Init) -> Self {
        if layers == [3, 4, 1] && lr == 1.0 {
            XorNet::Eleven(ElevenLines::new(init))
        } else {
            let net = Net::new(layers, init);
            let buf = net.buffers(4);
            XorNet::Deep(net, buf, lr)
        }
    }

    /// One full-batch iteration on the XOR data; returns the outputs X_L (4 values) computed
    /// before the update, as trask's loop sees them.
    pub fn iteration(&mut self) -> [f64; 4] {
        let (X0, t) = xor_data();
        match self {
            XorNet::Eleven(m) => m.iteration(&X0, &t).into(),
            XorNet::Deep(net, buf, lr) => {
                let X0 = DMatrix::from_column_slice(4, 3, X0.as_slice());
                let t = DMatrix::from_column_slice(4, 1, t.as_slice());
                net.step(&X0, &t, *lr, buf);
                let y = net.output(buf);
                [y[0], y[1], y[2], y[3]]
            }
        }
    }

    /// Saves W_0 … W_{L−1} as `W0`, `W1`, … (row-major F64) with the layer sizes in the
    /// metadata (see `shared::checkpoint`).
    pub fn save(&self, path: &std::path::Path, layers: &[usize]) -> shared::Result<()> {
        let W = self.weights();
        let names: Vec<String> = (0..W.len()).map(|i| format!("W{i}")).collect();
        let tensors: Vec<(&str, &DMatrix<f64>)> =
            names.iter().map(String::as_str).zip(&W).collect();
        let layers: Vec<String> = layers.iter().map(usize::to_string).collect();
        shared::checkpoint::save(
            path,
            "backprop-xor",
            &tensors,
            &[("layers", layers.join(","))],
        )
    }

    /// The weights W_0 … W_{L−1} (n_i × n_{i+1}).
    pub fn weights(&self) -> Vec<DMatrix<f64>> {
        match self {
            XorNet::Eleven(m) => vec![
                DMatrix::from_column_slice(3, 4, m.W0.as_slice()),
                DMatrix::from_column_slice(4, 1, m.W1.as_slice()),
            ],
            XorNet::Deep(net, _, _) => net.W.clone(),
        }
    }
}

/// The mean absolute error trask prints, mean |t − X_L| over the four examples.
pub fn mean_abs_error(X_L: &[f64; 4]) -> f64 {
    let (_, t) = xor_data();
    X_L.iter()
        .zip(t.iter())
        .map(|(y, t)| (t - y).abs())
        .sum::<f64>()
        / 4.0
}

/// The table of the four examples after training: inputs, target, output X_L.
pub fn outputs_table(X_L: &[f64; 4]) -> String {
    let (X0, t) = xor_data();
    let mut s = String::from("  x1 x2 | target | output\n");
    for i in 0..4 {
        s += &format!(
            "   {}  {} |   {}    | {:.8}\n",
            X0[(i, 0)],
            X0[(i, 1)],
            t[i],
            X_L[i]
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
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
            let mut b = net.buffers(4);
            net.forward(&X0, &t, &mut b);
            net.backward(&t, &mut b);
            for i in 0..net.W.len() {
                let loss = |n: &Net| {
                    let mut bb = n.buffers(4);
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
        let mut b = net.buffers(4);
        for _ in 0..2000 {
            eleven.iteration(&X0s, &ts);
            net.step(&X0, &t, 1.0, &mut b);
        }
        for (a, b) in net.W[0].iter().zip(eleven.W0.iter()) {
            assert!((a - b).abs() < 1e-10, "{a} {b}");
        }
    }
}
