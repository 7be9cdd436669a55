//! Saito's SimpleConvNet (ch. 7, `ch07/simple_convnet.py`), the network of the notes'
//! figure 13:
//!
//! ```text
//! X ─ Conv W1,b1 ─ A1 ─ ReLU ─ Z1 ─ Pool ─ P1 ─ Affine W2,b2 ─ A2 ─ ReLU ─ Z2
//!   ─ Affine W3,b3 ─ S3 ─ Softmax ─ Y3 ─ cross-entropy with t ─ L
//! ```
//!
//! Legend (MNIST sizes): N = 100 examples per batch, X (C·H·W = 1·28·28) × N, FN = 30 filters
//! of 5 × 5 → A1, Z1 (FN·OH·OW = 30·24·24) × N, pool 2 × 2 stride 2 → P1 (FN·PH·PW = 30·12·12
//! = 4320) × N, hidden 100, classes 10. Maps are in (f, y, x) order inside a column, as
//! Saito's (N, FN, OH, OW).

#![allow(non_snake_case)]

use super::im2col::Geometry;
use super::layers::{
    affine_backward, affine_forward, convolution_backward, convolution_forward, pooling_backward,
    pooling_forward, relu, relu_backward, softmax_with_loss, softmax_with_loss_backward,
};
use nalgebra::DMatrix;
use shared::optim::Optimizer;
use shared::rng::Rng;
use shared::{Error, Result, init};

/// How the weights start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// Every weight std·N(0, 1), biases 0: Saito's `weight_init_std = 0.01`.
    Std(f64),
    /// He: N(0, 2/fan_in) per layer (fan_in = C·FH·FW, 4320, 100), biases 0.
    He,
}

impl Init {
    /// A rows × cols weight matrix of a layer with `fan_in` inputs, drawn row by row.
    pub fn draw(self, rows: usize, cols: usize, fan_in: usize, rng: &mut Rng) -> DMatrix<f64> {
        match self {
            Init::Std(s) => init::normal(rows, cols, 0.0, s, rng),
            Init::He => init::he(rows, cols, fan_in, rng),
        }
    }

    /// [W1, b1, W2, b2, W3, b3] of a network of `config`: W1, W2, W3 drawn from `rng` in that
    /// order (fan_in = C·FH·FW, FN·PH·PW, hidden), biases 0; an error if the sizes do not make
    /// a network.
    pub fn weights(self, config: &Config, rng: &mut Rng) -> Result<[DMatrix<f64>; 6]> {
        config.geometries()?;
        let [(FN, K), _, (H, D), _, (C3, _), _] = config.shapes();
        let W1 = self.draw(FN, K, K, rng);
        let W2 = self.draw(H, D, D, rng);
        let W3 = self.draw(C3, H, H, rng);
        let zeros = |rows| DMatrix::zeros(rows, 1);
        Ok([W1, zeros(FN), W2, zeros(H), W3, zeros(C3)])
    }
}

/// The sizes of a SimpleConvNet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Input channels C.
    pub channels: usize,
    /// Input height H.
    pub height: usize,
    /// Input width W.
    pub width: usize,
    /// Number of filters FN (30).
    pub filters: usize,
    /// Filter size FH = FW (5).
    pub filter_size: usize,
    /// Convolution stride (1).
    pub stride: usize,
    /// Convolution zero padding (0).
    pub pad: usize,
    /// Pooling window and stride (2).
    pub pool: usize,
    /// Hidden units of the first affine layer (100).
    pub hidden: usize,
    /// Classes (10).
    pub classes: usize,
}

impl Config {
    /// Saito's sizes for C × H × W inputs: conv 30 × 5 × 5 (stride 1, pad 0), pool 2 × 2,
    /// hidden 100, 10 classes.
    pub fn simple(channels: usize, height: usize, width: usize) -> Self {
        Config {
            channels,
            height,
            width,
            filters: 30,
            filter_size: 5,
            stride: 1,
            pad: 0,
            pool: 2,
            hidden: 100,
            classes: 10,
        }
    }

    /// The convolution's geometry (an error if the filter does not fit the input).
    pub fn conv_geometry(&self) -> Result<Geometry> {
        let f = self.filter_size;
        Geometry::new(
            self.channels,
            self.height,
            self.width,
            f,
            f,
            self.stride,
            self.pad,
        )
    }

    /// The pooling geometry over the FN × OH × OW conv output.
    pub fn pool_geometry(&self) -> Result<Geometry> {
        let c = self.conv_geometry()?;
        let p = self.pool;
        Geometry::new(self.filters, c.oh(), c.ow(), p, p, p, 0)
            .map_err(|e| Error::msg(format!("pooling after the convolution: {e}")))
    }

    /// Both geometries, or an error if the sizes do not make a network (a filter or pooling
    /// window that does not fit, or no filters, hidden units or classes).
    pub fn geometries(&self) -> Result<(Geometry, Geometry)> {
        let (conv, pool) = (self.conv_geometry()?, self.pool_geometry()?);
        if self.filters == 0 || self.hidden == 0 || self.classes == 0 {
            return Err(Error::msg(
                "filters, hidden units and classes must be at least 1",
            ));
        }
        Ok((conv, pool))
    }

    /// The shapes of [W1, b1, W2, b2, W3, b3] (the sizes must be valid, see
    /// [`Config::geometries`]).
    pub fn shapes(&self) -> [(usize, usize); 6] {
        let (conv, pool) = self.geometries().expect("valid sizes");
        let (FN, H, K) = (self.filters, self.hidden, self.classes);
        let D = FN * pool.windows();
        [(FN, conv.taps()), (FN, 1), (H, D), (H, 1), (K, H), (K, 1)]
    }
}

/// conv → ReLU → pool → affine → ReLU → affine → softmax: the parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct SimpleConvNet {
    /// The sizes.
    pub config: Config,
    /// The convolution's window over the input.
    pub conv: Geometry,
    /// The pooling window over the FN × OH × OW conv output.
    pub pool: Geometry,
    /// FN × (C·FH·FW): row f is filter f flattened in (c, fy, fx) order.
    pub W1: DMatrix<f64>,
    /// FN × 1.
    pub b1: DMatrix<f64>,
    /// hidden × (FN·PH·PW): columns in (f, py, px) order (Saito's `W2` transposed).
    pub W2: DMatrix<f64>,
    /// hidden × 1.
    pub b2: DMatrix<f64>,
    /// classes × hidden.
    pub W3: DMatrix<f64>,
    /// classes × 1.
    pub b3: DMatrix<f64>,
}

/// What [`SimpleConvNet::forward`] keeps for [`SimpleConvNet::backward`]: the batch it was
/// computed from and every activation of figure 13.
#[derive(Clone, Debug)]
pub struct Cache {
    /// (C·H·W) × N: the input.
    pub X: DMatrix<f64>,
    /// (N·OH·OW) × (C·FH·FW): im2col(X).
    pub col1: DMatrix<f64>,
    /// (FN·OH·OW) × N: conv output.
    pub A1: DMatrix<f64>,
    /// (FN·OH·OW) × N: relu(A1).
    pub Z1: DMatrix<f64>,
    /// (FN·PH·PW) × N: where each pooling window's maximum is (its tap fy·PW + fx).
    pub arg_max1: DMatrix<usize>,
    /// (FN·PH·PW) × N: pool(Z1).
    pub P1: DMatrix<f64>,
    /// hidden × N: W2 P1 + b2.
    pub A2: DMatrix<f64>,
    /// hidden × N: relu(A2).
    pub Z2: DMatrix<f64>,
    /// classes × N: the scores W3 Z2 + b3.
    pub S3: DMatrix<f64>,
}

/// ∂L/∂θ for every parameter of a [`SimpleConvNet`], same shapes.
#[derive(Clone, Debug, PartialEq)]
pub struct Grads {
    /// ∂L/∂W1.
    pub dW1: DMatrix<f64>,
    /// ∂L/∂b1.
    pub db1: DMatrix<f64>,
    /// ∂L/∂W2.
    pub dW2: DMatrix<f64>,
    /// ∂L/∂b2.
    pub db2: DMatrix<f64>,
    /// ∂L/∂W3.
    pub dW3: DMatrix<f64>,
    /// ∂L/∂b3.
    pub db3: DMatrix<f64>,
}

impl From<[DMatrix<f64>; 6]> for Grads {
    /// From [dW1, db1, dW2, db2, dW3, db3].
    fn from([dW1, db1, dW2, db2, dW3, db3]: [DMatrix<f64>; 6]) -> Self {
        Grads {
            dW1,
            db1,
            dW2,
            db2,
            dW3,
            db3,
        }
    }
}

impl Grads {
    /// [dW1, db1, dW2, db2, dW3, db3].
    pub fn all(&self) -> [&DMatrix<f64>; 6] {
        [
            &self.dW1, &self.db1, &self.dW2, &self.db2, &self.dW3, &self.db3,
        ]
    }
}

impl SimpleConvNet {
    /// A network of `config` with weights drawn by `init` from `rng` ([`Init::weights`]).
    pub fn new(config: Config, init: Init, rng: &mut Rng) -> Result<Self> {
        Self::from_weights(config, init.weights(&config, rng)?)
    }

    /// A network of `config` with the given [W1, b1, W2, b2, W3, b3] (an error if a shape
    /// does not fit `config`).
    pub fn from_weights(config: Config, weights: [DMatrix<f64>; 6]) -> Result<Self> {
        let (conv, pool) = config.geometries()?;
        for ((w, want), name) in weights.iter().zip(config.shapes()).zip(NAMES) {
            if w.shape() != want {
                return Err(Error::msg(format!(
                    "{name} is {}×{}, the network needs {}×{}",
                    w.nrows(),
                    w.ncols(),
                    want.0,
                    want.1
                )));
            }
        }
        let [W1, b1, W2, b2, W3, b3] = weights;
        Ok(SimpleConvNet {
            config,
            conv,
            pool,
            W1,
            b1,
            W2,
            b2,
            W3,
            b3,
        })
    }

    /// [W1, b1, W2, b2, W3, b3].
    pub fn params(&self) -> [&DMatrix<f64>; 6] {
        [&self.W1, &self.b1, &self.W2, &self.b2, &self.W3, &self.b3]
    }

    /// Number of parameters (433,890 for MNIST sizes).
    pub fn parameter_count(&self) -> usize {
        self.params().iter().map(|p| p.len()).sum()
    }

    // ANCHOR: forward
    /// The forward pass (Saito's `predict`) of a batch X ((C·H·W) × N), to the scores S3.
    pub fn forward(&self, X: &DMatrix<f64>) -> Cache {
        // A1 = conv(X) = W1 ⊛ X + b1                              (FN·OH·OW) × N
        let (A1, col1) = convolution_forward(&self.W1, &self.b1, &self.conv, X);
        // Z1 = relu(A1)                                          (FN·OH·OW) × N
        let Z1 = relu(&A1);
        // P1 = pool(Z1)                                          (FN·PH·PW) × N
        let (P1, arg_max1) = pooling_forward(&self.pool, &Z1);
        // A2 = W2 P1 + b2 1ᵀ                                      hidden × N
        let A2 = affine_forward(&self.W2, &self.b2, &P1);
        // Z2 = relu(A2)                                          hidden × N
        let Z2 = relu(&A2);
        // S3 = W3 Z2 + b3 1ᵀ                                      classes × N
        let S3 = affine_forward(&self.W3, &self.b3, &Z2);
        Cache {
            X: X.clone(),
            col1,
            A1,
            Z1,
            arg_max1,
            P1,
            A2,
            Z2,
            S3,
        }
    }
    // ANCHOR_END: forward

    /// The loss L = −(1/N) Σ_n log softmax(S3)[t_n, n] of a batch (Saito's `loss`).
    pub fn loss(&self, X: &DMatrix<f64>, t: &[usize]) -> f64 {
        softmax_with_loss(&self.forward(X).S3, t).1
    }

    // ANCHOR: backward
    /// The loss of a batch and every ∂L/∂θ (Saito's `gradient`): the forward pass, the
    /// softmax-with-loss layer, then the layers' backward passes in reverse order.
    pub fn gradient(&self, X: &DMatrix<f64>, t: &[usize]) -> (f64, Grads) {
        let cache = self.forward(X);
        // Y3 = softmax(S3), L = CE(Y3, t)                          classes × N
        let (Y3, L) = softmax_with_loss(&cache.S3, t);
        // L = CE(softmax(S3), t)  ⇒  dS3 = (Y3 − T)/N             classes × N
        let dS3 = softmax_with_loss_backward(&Y3, t);
        (L, self.backward(&cache, &dS3))
    }

    /// The backward pass from dS3 = ∂L/∂S3 (classes × N) of the forward that made `c`.
    pub fn backward(&self, c: &Cache, dS3: &DMatrix<f64>) -> Grads {
        assert_eq!(
            dS3.shape(),
            c.S3.shape(),
            "dS3 must be of this forward's scores"
        );
        // S3 = W3 Z2 + b3 1ᵀ  ⇒  dW3 = dS3 Z2ᵀ, db3 = dS3 1, dZ2 = W3ᵀ dS3
        let (dW3, db3, dZ2) = affine_backward(&self.W3, &c.Z2, dS3);
        // Z2 = relu(A2)  ⇒  dA2 = dZ2 ∘ [Z2 > 0]                  hidden × N
        let dA2 = relu_backward(&dZ2, &c.Z2);
        // A2 = W2 P1 + b2 1ᵀ  ⇒  dW2 = dA2 P1ᵀ, db2 = dA2 1, dP1 = W2ᵀ dA2
        let (dW2, db2, dP1) = affine_backward(&self.W2, &c.P1, &dA2);
        // P1 = pool(Z1)  ⇒  dZ1 = dP1 at each window's maximum, 0 elsewhere   (FN·OH·OW) × N
        let dZ1 = pooling_backward(&self.pool, &c.arg_max1, &dP1);
        // Z1 = relu(A1)  ⇒  dA1 = dZ1 ∘ [Z1 > 0]                  (FN·OH·OW) × N
        let dA1 = relu_backward(&dZ1, &c.Z1);
        // A1 = conv(X): out = col1 W1ᵀ + 1 b1ᵀ  ⇒  dW1 = doutᵀ col1, db1 = doutᵀ 1, dout being dA1
        // read back as (N·OH·OW) × FN; the input's gradient dX is not needed and is dropped
        let (dW1, db1, _dX) = convolution_backward(&self.W1, &self.conv, &c.col1, &dA1);
        Grads::from([dW1, db1, dW2, db2, dW3, db3])
    }
    // ANCHOR_END: backward

    // ANCHOR: update
    /// One optimizer step with the gradients `g` (parameters numbered 0 … 5 in the order of
    /// [`SimpleConvNet::params`]).
    pub fn update(&mut self, g: &Grads, opt: &mut Optimizer) {
        opt.begin_step();
        opt.update(0, &mut self.W1, &g.dW1);
        opt.update(1, &mut self.b1, &g.db1);
        opt.update(2, &mut self.W2, &g.dW2);
        opt.update(3, &mut self.b2, &g.db2);
        opt.update(4, &mut self.W3, &g.dW3);
        opt.update(5, &mut self.b3, &g.db3);
    }
    // ANCHOR_END: update
}

/// The parameters' names, in the order of [`SimpleConvNet::params`].
pub const NAMES: [&str; 6] = ["W1", "b1", "W2", "b2", "W3", "b3"];
