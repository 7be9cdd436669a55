//! The training loop: mini-batches in, optimizer steps, curves out. Generic over
//! [`Classifier`], so the same loop trains [`crate::fast::FastConvNet`] on one thread, on N
//! threads ([`crate::fast::Threaded`]) and the linear baseline.

#![allow(non_snake_case)]

use crate::data::Split;
use crate::fast::layers::softmax_with_loss_forward;
use crate::fast::{Classifier, FastConvNet, Float, ensure_shape};
use nalgebra::DMatrix;
use shared::optim::{Eps, Rule};
use shared::plot::{Figure, Legend, Panel, Series};
use shared::rng::{self, Rng};
use shared::{Error, Result};
use std::time::Instant;

/// A reusable mini-batch: the images of some columns of a set, and their labels.
#[derive(Clone, Debug)]
pub struct Batch<T: Float = f64> {
    /// (C·H·W) × B, in the engine's float type.
    pub X: DMatrix<T>,
    /// B labels.
    pub t: Vec<usize>,
}

impl<T: Float> Default for Batch<T> {
    fn default() -> Self {
        Batch {
            X: DMatrix::zeros(0, 0),
            t: Vec::new(),
        }
    }
}

impl<T: Float> Batch<T> {
    /// Copies the columns `idx` of `images` and their `labels` into the batch (the pixels
    /// rounded to `T`: exact for f64).
    pub fn gather(&mut self, images: &DMatrix<f64>, labels: &[usize], idx: &[usize]) {
        let len = images.nrows();
        ensure_shape(&mut self.X, len, idx.len());
        let (src, dst) = (images.as_slice(), self.X.as_mut_slice());
        for (j, &i) in idx.iter().enumerate() {
            for (d, &v) in dst[j * len..][..len].iter_mut().zip(&src[i * len..][..len]) {
                *d = T::round_from(v);
            }
        }
        self.t.clear();
        self.t.extend(idx.iter().map(|&i| labels[i]));
    }
}

/// How an epoch draws its mini-batches (also the `--sampling` flag's values).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Sampling {
    /// Every example once, in a fresh random order (the last batch may be smaller).
    #[default]
    Shuffled,
    /// ⌈n / batch⌉ batches of `batch` examples each drawn uniformly *with replacement*, as
    /// Saito's `common/trainer.py` does (`np.random.choice(train_size, batch_size)`).
    Replacement,
}

/// A mini-batch loss above this many nats per example means the training has diverged: half
/// the floor −ln(tiny) = 30 that the cross-entropy reaches where the right class gets
/// probability 0 (`shared::loss::TINY`), so most of the batch is predicted wrong with
/// certainty. A uniform guess scores ln 10 ≈ 2.30; Adam at `--lr 1e6` jumps to about 26 at its
/// second step and stays there, every weight finite.
pub const DIVERGED_LOSS: f64 = 15.0;

/// The loss of step `step` if the training has not diverged: finite and at most
/// [`DIVERGED_LOSS`]; otherwise the error that says so.
pub fn check_loss(step: u64, loss: f64) -> Result<f64> {
    let loss = shared::error::check_finite(step, loss)?;
    if loss > DIVERGED_LOSS {
        return Err(Error::msg(format!(
            "training diverged at step {step}: the loss became {loss:.2} nats per example, above \
             {DIVERGED_LOSS} (half the 30 of a right class given probability 0; a uniform guess \
             scores ln 10 = 2.30); try a smaller --lr"
        )));
    }
    Ok(loss)
}

/// One epoch's mini-batches: the order drawn at its start, and how far the epoch has got.
#[derive(Clone, Debug)]
pub struct Epoch<T: Float = f64> {
    /// The examples in the order they are visited, `batch` at a time.
    order: Vec<usize>,
    batch: usize,
    /// Mini-batches done.
    done: usize,
    /// Σ loss · examples over the mini-batches done, and the examples.
    total: f64,
    seen: usize,
    b: Batch<T>,
}

impl<T: Float> Epoch<T> {
    /// Draws the order of an epoch over `n` examples in mini-batches of `batch` by `sampling`.
    pub fn draw(n: usize, batch: usize, sampling: Sampling, rng: &mut Rng) -> Result<Self> {
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
        Ok(Epoch {
            order,
            batch,
            done: 0,
            total: 0.0,
            seen: 0,
            b: Batch::default(),
        })
    }

    /// Mini-batches in the epoch, ⌈n / batch⌉.
    pub fn len(&self) -> usize {
        self.order.len().div_ceil(self.batch)
    }

    /// True for an epoch over no example.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Mini-batches done.
    pub fn done(&self) -> usize {
        self.done
    }

    /// Have all its mini-batches been done?
    pub fn is_over(&self) -> bool {
        self.done == self.len()
    }

    /// Continues an epoch stopped after its first `losses.len()` mini-batches, whose losses
    /// these were (all full mini-batches: only the last one of an epoch can be short).
    pub fn skip(&mut self, losses: &[f64]) {
        for &loss in losses {
            self.total += loss * self.batch as f64;
            self.seen += self.batch;
            self.done += 1;
        }
    }

    /// The next mini-batch of `images` / `labels`: gradient, update, `step` + 1. Returns its
    /// loss, or the error of a diverged training ([`check_loss`]).
    pub fn step<M: Classifier<T = T>>(
        &mut self,
        model: &mut M,
        opt: &mut T::Optimizer,
        images: &DMatrix<f64>,
        labels: &[usize],
        step: &mut u64,
    ) -> Result<f64> {
        let start = self.done * self.batch;
        let idx = &self.order[start..(start + self.batch).min(self.order.len())];
        self.b.gather(images, labels, idx);
        let loss = model.gradient(&self.b.X, &self.b.t);
        model.update(opt);
        *step += 1;
        check_loss(*step, loss)?;
        self.total += loss * idx.len() as f64;
        self.seen += idx.len();
        self.done += 1;
        Ok(loss)
    }

    /// The mean loss per example over the mini-batches done.
    pub fn mean_loss(&self) -> f64 {
        self.total / self.seen.max(1) as f64
    }
}

/// One epoch of mini-batches of `batch` drawn by `sampling`; after each step
/// `on_step(step, loss)`. A diverged training is an error ([`check_loss`]: "training diverged
/// at step N"). Returns the mean loss per example.
#[allow(clippy::too_many_arguments)]
pub fn train_epoch<M: Classifier>(
    model: &mut M,
    opt: &mut <M::T as Float>::Optimizer,
    images: &DMatrix<f64>,
    labels: &[usize],
    batch: usize,
    sampling: Sampling,
    step: &mut u64,
    rng: &mut Rng,
    mut on_step: impl FnMut(u64, f64),
) -> Result<f64> {
    let mut epoch = Epoch::<M::T>::draw(labels.len(), batch, sampling, rng)?;
    while !epoch.is_over() {
        let loss = epoch.step(model, opt, images, labels, step)?;
        on_step(*step, loss);
    }
    Ok(epoch.mean_loss())
}

/// Fraction of `images` (one per column) classified as `labels`, in chunks of `batch`.
pub fn accuracy<M: Classifier>(
    model: &mut M,
    images: &DMatrix<f64>,
    labels: &[usize],
    batch: usize,
) -> f64 {
    let mut b = Batch::<M::T>::default();
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

/// The mean loss per example of `net` on `images` (one per column) against `labels`, and how
/// many it classifies right, in chunks of `batch`: what `eval` reports. Right means the largest
/// score, as [`accuracy`] counts it; the loss is softmax with loss on the same scores.
pub fn evaluate<T: Float>(
    net: &mut FastConvNet<T>,
    images: &DMatrix<f64>,
    labels: &[usize],
    batch: usize,
) -> (f64, usize) {
    let mut b = Batch::<T>::default();
    let (mut total, mut right) = (0.0, 0usize);
    let all: Vec<usize> = (0..labels.len()).collect();
    for idx in all.chunks(batch.max(1)) {
        b.gather(images, labels, idx);
        let mut S = net.forward(&b.X).clone(); // K × B scores
        right += S
            .column_iter()
            .zip(&b.t)
            .filter(|(c, t)| c.argmax().0 == **t)
            .count();
        total += softmax_with_loss_forward(&mut S, &b.t) * idx.len() as f64;
    }
    (total / labels.len().max(1) as f64, right)
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
    opt: &mut <M::T as Float>::Optimizer,
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
    opt: &mut <M::T as Float>::Optimizer,
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

/// The curves of a run: the loss of every step, and the accuracies after every epoch.
#[derive(Clone, Debug)]
pub struct Curves {
    /// SimpleConvNet's training loss, one point per step.
    pub loss: Series,
    /// SimpleConvNet's accuracy on the training set, per epoch.
    pub train: Series,
    /// SimpleConvNet's accuracy on the test set, per epoch.
    pub test: Series,
    /// The linear softmax baseline's test accuracy, per epoch.
    pub linear: Series,
}

impl Default for Curves {
    fn default() -> Self {
        Curves {
            loss: Series::new("loss per step"),
            train: Series::new("CNN train"),
            test: Series::new("CNN test"),
            linear: Series::new("linear softmax test"),
        }
    }
}

impl Curves {
    /// `loss.png`: the loss per step (and its smoothed curve) on a log scale, and the
    /// accuracies per epoch.
    pub fn figure(&self) -> Figure {
        let smooth = self.loss.smoothed(0.95, "smoothed");
        let loss_panel = Panel::new("training loss", "step", "cross-entropy").log_y();
        let acc_panel = Panel::new("accuracy", "epoch", "accuracy").legend(Legend::LowerRight);
        Figure {
            title: "SimpleConvNet (notes §5, Saito ch. 7)".into(),
            panels: vec![
                loss_panel.with(self.loss.clone()).with(smooth),
                acc_panel
                    .with(self.train.clone())
                    .with(self.test.clone())
                    .with(self.linear.clone()),
            ],
        }
    }
}
