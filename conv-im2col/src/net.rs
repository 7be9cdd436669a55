//! Saito's SimpleConvNet (ch. 7, `ch07/simple_convnet.py`), the network of the notes'
//! figure 13, and the linear softmax classifier it is compared with.
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
//! P1 are channels-last, (y, x, f) inside a column (see [`crate::layers`]).

#![allow(non_snake_case)]

use crate::data::Split;
use crate::im2col::{Geometry, ensure_shape};
use crate::layers::{
    Affine, Convolution, Pooling, relu_backward, relu_forward, softmax_with_loss_backward,
    softmax_with_loss_forward,
};
use nalgebra::DMatrix;
use shared::optim::{Eps, Optimizer, Rule};
use shared::plot::{Image, Scale, save_image_grid};
use shared::rng::{self, Rng};
use shared::{Error, Result, checkpoint, init};
use std::time::Instant;

/// The chapter name recorded in checkpoints.
pub const CHAPTER: &str = "conv-im2col";

/// How the weights start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// Every weight std·N(0, 1), biases 0: Saito's `weight_init_std = 0.01`.
    Std(f64),
    /// He: N(0, 2/fan_in) per layer (fan_in = C·FH·FW, 4320, 100), biases 0.
    He,
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

    /// The metadata stored in a checkpoint.
    pub fn metadata(&self) -> Vec<(&'static str, String)> {
        vec![
            ("channels", self.channels.to_string()),
            ("height", self.height.to_string()),
            ("width", self.width.to_string()),
            ("filters", self.filters.to_string()),
            ("filter_size", self.filter_size.to_string()),
            ("stride", self.stride.to_string()),
            ("pad", self.pad.to_string()),
            ("pool", self.pool.to_string()),
            ("hidden", self.hidden.to_string()),
            ("classes", self.classes.to_string()),
        ]
    }
}

/// A model trained on mini-batches of images (one per column) with class labels.
pub trait Classifier {
    /// The class scores (K × N) of the batch `X`.
    fn scores(&mut self, X: &DMatrix<f64>) -> &DMatrix<f64>;
    /// Forward and backward on a batch: returns the loss and leaves every ∂L/∂θ in place.
    fn gradient(&mut self, X: &DMatrix<f64>, t: &[usize]) -> f64;
    /// One optimizer step with the gradients of the last [`Classifier::gradient`].
    fn update(&mut self, opt: &mut Optimizer);
}

/// conv → ReLU → pool → affine → ReLU → affine → softmax, with its activations.
#[derive(Clone, Debug)]
pub struct SimpleConvNet {
    /// The sizes.
    pub config: Config,
    /// Conv layer: W1 FN × (C·FH·FW), b1 FN × 1.
    pub conv1: Convolution,
    /// 2 × 2 max pooling.
    pub pool1: Pooling,
    /// W2 hidden × (PH·PW·FN), b2 hidden × 1.
    pub affine2: Affine,
    /// W3 classes × hidden, b3 classes × 1.
    pub affine3: Affine,
    /// (OH·OW·FN) × N: conv output A1 (before the ReLU).
    A1: DMatrix<f64>,
    /// (PH·PW·FN) × N: pool(A1), then P1 = relu(pool(A1)) = pool(relu(A1)) in place.
    P1: DMatrix<f64>,
    /// hidden × N: A2, then Z2 = relu(A2) in place.
    A2: DMatrix<f64>,
    /// classes × N: scores S3, then probabilities Y3 in place.
    S3: DMatrix<f64>,
    /// Gradients of the activations, same shapes.
    dS3: DMatrix<f64>,
    dA2: DMatrix<f64>,
    dP1: DMatrix<f64>,
    dA1: DMatrix<f64>,
}

impl SimpleConvNet {
    /// A network of `config` with weights drawn by `init` from `rng` (W1, W2, W3 in that
    /// order, each filled row by row); biases 0.
    pub fn new(config: Config, init: Init, rng: &mut Rng) -> Result<Self> {
        let cg = config.conv_geometry()?;
        let pg = config.pool_geometry()?;
        if config.filters == 0 || config.hidden == 0 || config.classes == 0 {
            return Err(Error::msg(
                "filters, hidden units and classes must be at least 1",
            ));
        }
        let D = config.filters * pg.windows();
        let draw = |rows: usize, cols: usize, fan_in: usize, rng: &mut Rng| match init {
            Init::Std(s) => init::normal(rows, cols, 0.0, s, rng),
            Init::He => init::he(rows, cols, fan_in, rng),
        };
        let W1 = draw(config.filters, cg.taps(), cg.taps(), rng);
        let W2 = draw(config.hidden, D, D, rng);
        let W3 = draw(config.classes, config.hidden, config.hidden, rng);
        Ok(Self::from_weights(
            config,
            [
                W1,
                DMatrix::zeros(config.filters, 1),
                W2,
                DMatrix::zeros(config.hidden, 1),
                W3,
                DMatrix::zeros(config.classes, 1),
            ],
        ))
    }

    /// A network of `config` with the given [W1, b1, W2, b2, W3, b3].
    fn from_weights(config: Config, [W1, b1, W2, b2, W3, b3]: [DMatrix<f64>; 6]) -> Self {
        let e = || DMatrix::zeros(0, 0);
        SimpleConvNet {
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

    /// Number of parameters (433,890 for MNIST sizes).
    pub fn parameter_count(&self) -> usize {
        self.params().iter().map(|p| p.len()).sum()
    }

    /// [W1, b1, W2, b2, W3, b3].
    pub fn params(&self) -> [&DMatrix<f64>; 6] {
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
    pub fn grads(&self) -> [&DMatrix<f64>; 6] {
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
    /// ([`crate::parallel`]).
    pub(crate) fn grads_mut(&mut self) -> [&mut DMatrix<f64>; 6] {
        [
            &mut self.conv1.dW,
            &mut self.conv1.db,
            &mut self.affine2.dW,
            &mut self.affine2.db,
            &mut self.affine3.dW,
            &mut self.affine3.db,
        ]
    }

    /// The scores S3 (classes × N) of the last [`SimpleConvNet::forward`] (probabilities Y3
    /// after a [`SimpleConvNet::loss`]).
    pub fn last_scores(&self) -> &DMatrix<f64> {
        &self.S3
    }

    /// Forward to the scores S3 (classes × N) of a batch X ((C·H·W) × N).
    pub fn forward(&mut self, X: &DMatrix<f64>) -> &DMatrix<f64> {
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
    pub fn loss(&mut self, X: &DMatrix<f64>, t: &[usize]) -> f64 {
        self.forward(X);
        // Y3 = softmax(S3) in place; L = CE(Y3, t)
        softmax_with_loss_forward(&mut self.S3, t)
    }

    /// Saves the weights (row-major F64, as `shared::checkpoint` stores them) and the sizes.
    /// W1 is FN × (C·FH·FW): reshaped row-major to (FN, C, FH, FW) it is Saito's `W1`; W2 and
    /// W3 are the transposes of Saito's (we compute W·X, he computes x·W), and W2's columns
    /// are in (py, px, f) order (channels last) where Saito's rows are in (f, py, px) order.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        let names = ["W1", "b1", "W2", "b2", "W3", "b3"];
        let tensors: Vec<(&str, &DMatrix<f64>)> = names.into_iter().zip(self.params()).collect();
        checkpoint::save(path, CHAPTER, &tensors, &self.config.metadata())
    }

    /// Loads a network saved by [`SimpleConvNet::save`] (or a training checkpoint,
    /// [`crate::checkpoint`], which holds the same tensors and sizes).
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Self> {
        Self::from_checkpoint(&mut checkpoint::load(path, CHAPTER)?)
    }

    /// Takes the sizes and W1 … b3 out of a loaded checkpoint, checking every shape.
    pub fn from_checkpoint(ck: &mut checkpoint::Checkpoint) -> Result<Self> {
        let config = Config {
            channels: ck.meta("channels")?,
            height: ck.meta("height")?,
            width: ck.meta("width")?,
            filters: ck.meta("filters")?,
            filter_size: ck.meta("filter_size")?,
            stride: ck.meta("stride")?,
            pad: ck.meta("pad")?,
            pool: ck.meta("pool")?,
            hidden: ck.meta("hidden")?,
            classes: ck.meta("classes")?,
        };
        let (cg, pg) = (config.conv_geometry()?, config.pool_geometry()?);
        let (FN, H, K) = (config.filters, config.hidden, config.classes);
        let weights = [
            ck.take("W1", FN, cg.taps())?,
            ck.take("b1", FN, 1)?,
            ck.take("W2", H, FN * pg.windows())?,
            ck.take("b2", H, 1)?,
            ck.take("W3", K, H)?,
            ck.take("b3", K, 1)?,
        ];
        Ok(Self::from_weights(config, weights))
    }
}

impl Classifier for SimpleConvNet {
    fn scores(&mut self, X: &DMatrix<f64>) -> &DMatrix<f64> {
        self.forward(X)
    }

    fn gradient(&mut self, X: &DMatrix<f64>, t: &[usize]) -> f64 {
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

    fn update(&mut self, opt: &mut Optimizer) {
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

/// A reusable mini-batch: the images of some columns of a set, and their labels.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    /// (C·H·W) × B.
    pub X: DMatrix<f64>,
    /// B labels.
    pub t: Vec<usize>,
}

impl Batch {
    /// Copies the columns `idx` of `images` and their `labels` into the batch.
    pub fn gather(&mut self, images: &DMatrix<f64>, labels: &[usize], idx: &[usize]) {
        let len = images.nrows();
        ensure_shape(&mut self.X, len, idx.len());
        let (src, dst) = (images.as_slice(), self.X.as_mut_slice());
        for (j, &i) in idx.iter().enumerate() {
            dst[j * len..][..len].copy_from_slice(&src[i * len..][..len]);
        }
        self.t.clear();
        self.t.extend(idx.iter().map(|&i| labels[i]));
    }
}

/// How an epoch draws its mini-batches (also the `--sampling` flag's values).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Sampling {
    /// Every example once, in a fresh random order (the last batch may be smaller).
    #[default]
    Shuffled,
    /// ⌈n / batch⌉ batches of `batch` examples each drawn uniformly *with replacement*, as
    /// Saito's `common/trainer.py` does (`np.random.choice(train_size, batch_size)`).
    Replacement,
}

/// One epoch of mini-batches of `batch` drawn by `sampling`; after each step
/// `on_step(step, loss)`. A non-finite loss is an error ("training diverged at step N").
/// Returns the mean loss per example.
#[allow(clippy::too_many_arguments)]
pub fn train_epoch<M: Classifier>(
    model: &mut M,
    opt: &mut Optimizer,
    images: &DMatrix<f64>,
    labels: &[usize],
    batch: usize,
    sampling: Sampling,
    step: &mut u64,
    rng: &mut Rng,
    mut on_step: impl FnMut(u64, f64),
) -> Result<f64> {
    let n = labels.len();
    if batch == 0 {
        return Err(Error::msg("the batch size must be at least 1"));
    }
    let order: Vec<usize> = match sampling {
        // the same permutation as shared::data::batch::Epoch::shuffled draws
        Sampling::Shuffled => rng::permutation(rng, n),
        // ⌈n/B⌉·B indices uniform in 0..n, drawn up front from the same stream
        Sampling::Replacement => (0..n.div_ceil(batch) * batch)
            .map(|_| rng::below(rng, n))
            .collect(),
    };
    let mut b = Batch::default();
    let mut total = 0.0;
    let mut seen = 0;
    for idx in order.chunks(batch) {
        b.gather(images, labels, idx);
        let loss = model.gradient(&b.X, &b.t);
        model.update(opt);
        *step += 1;
        shared::error::check_finite(*step, loss)?;
        total += loss * idx.len() as f64;
        seen += idx.len();
        on_step(*step, loss);
    }
    Ok(total / seen.max(1) as f64)
}

/// Fraction of `images` (one per column) classified as `labels`, in chunks of `batch`.
pub fn accuracy<M: Classifier>(
    model: &mut M,
    images: &DMatrix<f64>,
    labels: &[usize],
    batch: usize,
) -> f64 {
    let mut b = Batch::default();
    let mut right = 0usize;
    let all: Vec<usize> = (0..labels.len()).collect();
    for idx in all.chunks(batch.max(1)) {
        b.gather(images, labels, idx);
        let s = model.scores(&b.X);
        right += s
            .column_iter()
            .zip(&b.t)
            .filter(|(c, t)| c.argmax().0 == **t)
            .count();
    }
    right as f64 / labels.len().max(1) as f64
}

/// Adam as Saito's `common/optimizer.py` writes it: α_t = α √(1 − β₂ᵗ)/(1 − β₁ᵗ),
/// W ← W − α_t m / (√v + 1e-7), i.e. ε added to the root of the *uncorrected* second moment
/// (Kingma & Ba's "efficient" ordering). [`Rule::adam`] adds ε = 1e-8 to the corrected root:
/// the two differ only for parameters whose gradients are below ~1e-6.
pub fn saito_adam() -> Rule {
    Rule::Adam {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-7,
        at: Eps::OutsideUncorrected,
    }
}

/// What one epoch of [`fit`] did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochReport {
    /// 1, 2, …
    pub epoch: u64,
    /// Mean training loss over the epoch's steps.
    pub mean_loss: f64,
    /// Accuracy on the test set after the epoch.
    pub test_accuracy: f64,
    /// Seconds spent training (not evaluating) in the epoch.
    pub seconds: f64,
}

/// Trains `model` on `split.train` for `epochs` epochs of mini-batches of `batch` drawn by
/// `sampling`, calling `on_step(step, loss)` after every step and `on_epoch(model, report)`
/// after every epoch.
#[allow(clippy::too_many_arguments)]
pub fn fit<M: Classifier>(
    model: &mut M,
    opt: &mut Optimizer,
    split: &Split,
    epochs: u64,
    batch: usize,
    sampling: Sampling,
    rng: &mut Rng,
    mut on_step: impl FnMut(u64, f64),
    mut on_epoch: impl FnMut(&mut M, &EpochReport),
) -> Result<Vec<EpochReport>> {
    let mut step = 0;
    let mut reports = Vec::new();
    for epoch in 1..=epochs {
        let r = train_and_test(
            model,
            opt,
            split,
            epoch,
            batch,
            sampling,
            &mut step,
            rng,
            &mut on_step,
        )?;
        on_epoch(model, &r);
        reports.push(r);
    }
    Ok(reports)
}

/// Epoch number `epoch` of [`fit`]: [`train_epoch`] on `split.train` (steps counted on from
/// `step`), then the accuracy on `split.test`.
#[allow(clippy::too_many_arguments)]
pub fn train_and_test<M: Classifier>(
    model: &mut M,
    opt: &mut Optimizer,
    split: &Split,
    epoch: u64,
    batch: usize,
    sampling: Sampling,
    step: &mut u64,
    rng: &mut Rng,
    on_step: impl FnMut(u64, f64),
) -> Result<EpochReport> {
    let (train, test) = (&split.train, &split.test);
    let t0 = Instant::now();
    let mean_loss = train_epoch(
        model,
        opt,
        &train.images,
        &train.labels,
        batch,
        sampling,
        step,
        rng,
        on_step,
    )?;
    let seconds = t0.elapsed().as_secs_f64();
    Ok(EpochReport {
        epoch,
        mean_loss,
        test_accuracy: accuracy(model, &test.images, &test.labels, 500),
        seconds,
    })
}

/// Draws the first-channel FH × FW slice of each filter (rows of W) of `before` and `after`
/// in a grid of 10 columns, each stretched to its own grey range: the picture of the first
/// layer's filters in Saito's ch. 7 (random noise before training, edge and blob detectors
/// after).
pub fn save_filters(
    path: impl AsRef<std::path::Path>,
    before: &DMatrix<f64>,
    after: &DMatrix<f64>,
    fh: usize,
    fw: usize,
) -> Result<()> {
    let pixels: Vec<Vec<f64>> = [before, after]
        .iter()
        .flat_map(|w| {
            w.row_iter()
                .map(|r| r.iter().take(fh * fw).copied().collect::<Vec<_>>())
        })
        .collect();
    let images: Vec<Image> = pixels
        .iter()
        .map(|p| Image {
            pixels: p,
            rows: fh,
            cols: fw,
        })
        .collect();
    let rows = before.nrows().div_ceil(10);
    let title = format!(
        "conv1 filters: before (rows 1-{rows}), after (rows {}-{})",
        rows + 1,
        2 * rows
    );
    save_image_grid(path, &title, &images, 10, 12, Scale::PerImage)
}
