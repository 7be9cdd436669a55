//! The engine's SimpleConvNet: the network of [`crate::model::SimpleConvNet`] on the
//! buffered layers of [`crate::fast::layers`], and the linear softmax classifier it is
//! compared with.
//!
//! ```text
//! X (C·H·W) × N ─ Conv W1,b1 ─ A1 ─ ReLU ─ Z1 ─ Pool ─ P1 ─ Affine W2,b2 ─ A2 ─ ReLU ─ Z2
//!   ─ Affine W3,b3 ─ S3 ─ Softmax ─ Y3 ─ cross-entropy with t ─ L
//! ```
//! The code pools A1 first and applies the ReLU to the pooled maxima: max over a window of
//! max(0, a) = max(0, max over the window of a), so P1 = pool(relu(A1)) = relu(pool(A1)), with
//! the same gradient (the window's maximum gets dP1 where it is > 0, every other input 0), on
//! 4× fewer values: two passes over the network's largest array saved.
//! Legend (MNIST sizes): N = 100 examples per batch, C·H·W = 1·28·28, FN = 30 filters of
//! 5 × 5 → A1 (24·24·30) × N, pool 2 × 2 stride 2 → P1 (12·12·30 = 4320) × N, hidden 100,
//! 10 classes. ReLU works in place, so P1 and A2 hold their ReLU outputs after the forward. A1 and
//! P1 are channels-last, (y, x, f) inside a column (see [`crate::fast::layers`]), so W2's
//! columns are in (y, x, f) order where the model's are in (f, y, x) order.

#![allow(non_snake_case)]

use super::Optimize;
use super::layers::{
    Affine, Convolution, Pooling, relu_backward, relu_forward, softmax_with_loss_backward,
    softmax_with_loss_forward,
};
use super::{Float, narrow};
use crate::model::{Config, Init};
use nalgebra::DMatrix;
use shared::optim::Optimizer;
use shared::rng::Rng;
use shared::{Result, init};

/// A model trained on mini-batches of images (one per column) with class labels.
pub trait Classifier {
    /// The float type of its parameters and batches.
    type T: Float;
    /// The class scores (K × N) of the batch `X`.
    fn scores(&mut self, X: &DMatrix<Self::T>) -> &DMatrix<Self::T>;
    /// Forward and backward on a batch: returns the loss and leaves every ∂L/∂θ in place.
    fn gradient(&mut self, X: &DMatrix<Self::T>, t: &[usize]) -> f64;
    /// One optimizer step with the gradients of the last [`Classifier::gradient`].
    fn update(&mut self, opt: &mut <Self::T as Float>::Optimizer);
}

/// conv → ReLU → pool → affine → ReLU → affine → softmax, with its activations.
#[derive(Clone, Debug)]
pub struct FastConvNet<T: Float = f64> {
    /// The sizes.
    pub config: Config,
    /// Conv layer: W1 FN × (C·FH·FW), b1 FN × 1.
    pub conv1: Convolution<T>,
    /// 2 × 2 max pooling.
    pub pool1: Pooling,
    /// W2 hidden × (PH·PW·FN), b2 hidden × 1.
    pub affine2: Affine<T>,
    /// W3 classes × hidden, b3 classes × 1.
    pub affine3: Affine<T>,
    /// (OH·OW·FN) × N: conv output A1 (before the ReLU).
    A1: DMatrix<T>,
    /// (PH·PW·FN) × N: pool(A1), then P1 = relu(pool(A1)) = pool(relu(A1)) in place.
    P1: DMatrix<T>,
    /// hidden × N: A2, then Z2 = relu(A2) in place.
    A2: DMatrix<T>,
    /// classes × N: scores S3, then probabilities Y3 in place.
    S3: DMatrix<T>,
    /// Gradients of the activations, same shapes.
    dS3: DMatrix<T>,
    dA2: DMatrix<T>,
    dP1: DMatrix<T>,
    dA1: DMatrix<T>,
}

impl<T: Float> FastConvNet<T> {
    /// A network of `config` with weights drawn by `init` from `rng` ([`Init::weights`]: the
    /// model's draws, W2's numbers taken in this network's (y, x, f) column order), rounded to
    /// `T`.
    pub fn new(config: Config, init: Init, rng: &mut Rng) -> Result<Self> {
        Ok(Self::from_weights(
            config,
            init.weights(&config, rng)?.map(|w| narrow(&w)),
        ))
    }

    /// A network of `config` (valid sizes, see [`Config::geometries`]) with the given
    /// [W1, b1, W2, b2, W3, b3], W2's columns in (y, x, f) order.
    pub fn from_weights(config: Config, [W1, b1, W2, b2, W3, b3]: [DMatrix<T>; 6]) -> Self {
        let e = || DMatrix::zeros(0, 0);
        FastConvNet {
            config,
            conv1: Convolution::new(config.conv_geometry().expect("checked"), W1, b1),
            pool1: Pooling::new(config.pool_geometry().expect("checked")),
            affine2: Affine::new(W2, b2),
            affine3: Affine::new(W3, b3),
            A1: e(),
            P1: e(),
            A2: e(),
            S3: e(),
            dS3: e(),
            dA2: e(),
            dP1: e(),
            dA1: e(),
        }
    }

    /// About the bytes its buffers take per example of a batch (the input and the batch's
    /// copy of it, `col`, the conv output and its gradient, the pooled maps with their gradient
    /// and argmax, the hidden and output layers), to check a batch size against the memory
    /// before anything is allocated; an error if the sizes do not make a network.
    pub fn bytes_per_example(config: &Config) -> Result<f64> {
        let (conv, pool) = config.geometries()?;
        let (FN, H, K) = (config.filters, config.hidden, config.classes);
        let floats = 2 * conv.input_len()
            + conv.windows() * conv.taps()
            + 2 * FN * conv.windows()
            + 3 * FN * pool.windows()
            + 2 * (H + K);
        Ok((std::mem::size_of::<T>() * floats) as f64)
    }

    /// Number of parameters (433,890 for MNIST sizes).
    pub fn parameter_count(&self) -> usize {
        self.params().iter().map(|p| p.len()).sum()
    }

    /// [W1, b1, W2, b2, W3, b3].
    pub fn params(&self) -> [&DMatrix<T>; 6] {
        [
            &self.conv1.W,
            &self.conv1.b,
            &self.affine2.W,
            &self.affine2.b,
            &self.affine3.W,
            &self.affine3.b,
        ]
    }

    /// [dW1, db1, dW2, db2, dW3, db3] of the last backward.
    pub fn grads(&self) -> [&DMatrix<T>; 6] {
        [
            &self.conv1.dW,
            &self.conv1.db,
            &self.affine2.dW,
            &self.affine2.db,
            &self.affine3.dW,
            &self.affine3.db,
        ]
    }

    /// [dW1, db1, dW2, db2, dW3, db3], to combine the groups' gradients
    /// ([`crate::fast::parallel`]).
    pub(crate) fn grads_mut(&mut self) -> [&mut DMatrix<T>; 6] {
        [
            &mut self.conv1.dW,
            &mut self.conv1.db,
            &mut self.affine2.dW,
            &mut self.affine2.db,
            &mut self.affine3.dW,
            &mut self.affine3.db,
        ]
    }

    /// The scores S3 (classes × N) of the last [`FastConvNet::forward`] (probabilities Y3
    /// after a [`FastConvNet::loss`]).
    pub fn last_scores(&self) -> &DMatrix<T> {
        &self.S3
    }

    /// Forward to the scores S3 (classes × N) of a batch X ((C·H·W) × N).
    pub fn forward(&mut self, X: &DMatrix<T>) -> &DMatrix<T> {
        // A1 = conv(X)                                      (OH·OW·FN) × N
        self.conv1.forward(X, &mut self.A1);
        // P1 = pool(Z1), Z1 = relu(A1), computed as relu(pool(A1)) (same numbers)
        //                                                    (PH·PW·FN) × N
        self.pool1.forward(&self.A1, &mut self.P1);
        relu_forward(&mut self.P1);
        // A2 = W2 P1 + b2; Z2 = relu(A2)                     hidden × N
        self.affine2.forward(&self.P1, &mut self.A2);
        relu_forward(&mut self.A2);
        // S3 = W3 Z2 + b3                                    classes × N
        self.affine3.forward(&self.A2, &mut self.S3);
        &self.S3
    }

    /// The loss L = −(1/N) Σ log softmax(S3)[t_n, n] of a batch.
    pub fn loss(&mut self, X: &DMatrix<T>, t: &[usize]) -> f64 {
        self.forward(X);
        // Y3 = softmax(S3) in place; L = CE(Y3, t)
        softmax_with_loss_forward(&mut self.S3, t)
    }
}

impl<T: Float> Classifier for FastConvNet<T> {
    type T = T;

    fn scores(&mut self, X: &DMatrix<T>) -> &DMatrix<T> {
        self.forward(X)
    }

    fn gradient(&mut self, X: &DMatrix<T>, t: &[usize]) -> f64 {
        let loss = self.loss(X, t);
        // L = CE(softmax(S3), t)  ⇒  dS3 = (Y3 − T)/N
        softmax_with_loss_backward(&self.S3, t, &mut self.dS3);
        // S3 = W3 Z2 + b3  ⇒  dW3 = dS3 Z2ᵀ, db3, dZ2 = W3ᵀ dS3
        self.affine3
            .backward(&self.A2, &self.dS3, Some(&mut self.dA2));
        // Z2 = relu(A2)  ⇒  dA2 = dZ2 ∘ [Z2 > 0]
        relu_backward(&mut self.dA2, &self.A2);
        // A2 = W2 P1 + b2  ⇒  dW2 = dA2 P1ᵀ, db2, dP1 = W2ᵀ dA2
        self.affine2
            .backward(&self.P1, &self.dA2, Some(&mut self.dP1));
        // P1 = relu(pool(A1))  ⇒  dP1 ∘ [P1 > 0] (= Z1 = relu(A1) ⇒ dZ1 ∘ [Z1 > 0] at
        // each window's maximum, the only input pool(Z1) passes a gradient to)
        relu_backward(&mut self.dP1, &self.P1);
        // P1 = pool(·)  ⇒  dA1 = dP1 routed to each window's maximum of A1
        self.pool1.backward(&self.dP1, &mut self.dA1);
        // A1 = conv(X)  ⇒  dW1 = dA1 col, db1 (X needs no gradient)
        self.conv1.backward(&self.dA1, None);
        loss
    }

    fn update(&mut self, opt: &mut T::Optimizer) {
        opt.begin_step();
        opt.update(0, &mut self.conv1.W, &self.conv1.dW);
        opt.update(1, &mut self.conv1.b, &self.conv1.db);
        opt.update(2, &mut self.affine2.W, &self.affine2.dW);
        opt.update(3, &mut self.affine2.b, &self.affine2.db);
        opt.update(4, &mut self.affine3.W, &self.affine3.dW);
        opt.update(5, &mut self.affine3.b, &self.affine3.db);
    }
}

/// The baseline: one affine layer and softmax on the raw pixels (multinomial logistic
/// regression, the notes' §3 "no hidden layer" softmax model).
#[derive(Clone, Debug)]
pub struct LinearSoftmax {
    /// W classes × (C·H·W), b classes × 1.
    pub affine: Affine,
    /// classes × N: scores, then probabilities.
    S: DMatrix<f64>,
    dS: DMatrix<f64>,
}

impl LinearSoftmax {
    /// A classifier of `inputs` values into `classes`, weights 0.01·N(0, 1), biases 0.
    pub fn new(inputs: usize, classes: usize, rng: &mut Rng) -> Self {
        LinearSoftmax {
            affine: Affine::new(
                init::normal(classes, inputs, 0.0, 0.01, rng),
                DMatrix::zeros(classes, 1),
            ),
            S: DMatrix::zeros(0, 0),
            dS: DMatrix::zeros(0, 0),
        }
    }
}

impl Classifier for LinearSoftmax {
    type T = f64;

    fn scores(&mut self, X: &DMatrix<f64>) -> &DMatrix<f64> {
        self.affine.forward(X, &mut self.S);
        &self.S
    }

    fn gradient(&mut self, X: &DMatrix<f64>, t: &[usize]) -> f64 {
        self.affine.forward(X, &mut self.S);
        let loss = softmax_with_loss_forward(&mut self.S, t);
        softmax_with_loss_backward(&self.S, t, &mut self.dS);
        self.affine.backward(X, &self.dS, None);
        loss
    }

    fn update(&mut self, opt: &mut Optimizer) {
        opt.begin_step();
        opt.update(0, &mut self.affine.W, &self.affine.dW);
        opt.update(1, &mut self.affine.b, &self.affine.db);
    }
}
