//! The assignment's training loop (train.m): hyperparameters, the size check, one batch
//! ([`Trainer::step`]), one epoch ([`train_epoch`]) and the curves it leaves ([`Curves`]).
//! Training runs on [`crate::fast`] in the float type of `--dtype` and updates as
//! [`Model::update`] does.

use crate::fast::{self, Cache, FastGrads, FastModel};
use crate::model::{Gram, Model};
use shared::kernels::Float;
use shared::optim::{Optimize, Rule};
use shared::plot::{Figure, Panel, Series};
use shared::rng::Rng;
use shared::session::check_memory;
use shared::{Error, Result};

/// Hyperparameters; [`Default`] gives the assignment's (train.m).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hyper {
    /// Batch size B (`batchsize` = 100).
    pub batch: usize,
    /// Learning rate α (`learning_rate` = 0.1).
    pub lr: f64,
    /// Momentum μ (`momentum` = 0.9).
    pub momentum: f64,
    /// Embedding size D (`numhid1` = 50).
    pub embed: usize,
    /// Hidden units H (`numhid2` = 200).
    pub hidden: usize,
    /// Standard deviation of the initial weights (`init_wt` = 0.01).
    pub init_wt: f64,
    /// The notes' weight decay λ on W1 and W2 (0 in the assignment).
    pub weight_decay: f64,
}

impl Default for Hyper {
    fn default() -> Self {
        Hyper {
            batch: 100,
            lr: 0.1,
            momentum: 0.9,
            embed: 50,
            hidden: 200,
            init_wt: 0.01,
            weight_decay: 0.0,
        }
    }
}

/// Checks the sizes before anything is allocated: at least 2 words, a batch no larger than the
/// `n_train` training 4-grams, and a model with its buffers that fits in memory (a typo like
/// `--hidden 2000000` is an error, not an abort).
pub fn check_sizes(hyper: &Hyper, vocab: usize, n_train: usize) -> Result<()> {
    if vocab < 2 {
        return Err(Error::msg(format!(
            "the vocabulary has {vocab} word(s): a language model needs at least 2"
        )));
    }
    if hyper.batch > n_train {
        return Err(Error::flag(
            "--batch",
            format!(
                "{} is larger than the {n_train} training 4-grams",
                hyper.batch
            ),
        ));
    }
    // Parameters, gradients and velocities (3×), and the buffers of a training batch and of a
    // 1000-case evaluation chunk, in f64 entries (in f64 arithmetic: no overflow for any flag).
    let (V, D, H) = (vocab as f64, hyper.embed as f64, hyper.hidden as f64);
    let B = hyper.batch as f64;
    let params = V * D + 3.0 * D * H + H + H * V + V;
    let buffers = (B + 1000.0) * (2.0 * 3.0 * D + 2.0 * H + 2.0 * V);
    let what = format!(
        "a model of {vocab} words, embedding {}, hidden {}, batch {}",
        hyper.embed, hyper.hidden, hyper.batch
    );
    check_memory(
        "--embed/--hidden/--batch",
        &what,
        8.0 * (3.0 * params + buffers),
    )
}

/// A model in float type `F` (`--dtype`) with its optimizer, buffers and gradients: one call
/// of [`Trainer::step`] is one batch of the assignment's training loop.
#[derive(Clone, Debug)]
pub struct Trainer<F: Float = f64> {
    /// The parameters.
    pub model: FastModel<F>,
    /// Hinton's momentum, one velocity Δ per parameter.
    pub opt: F::Optimizer,
    /// What the forward pass of one batch keeps for its backward pass.
    pub cache: Cache<F>,
    /// Gradients of the last batch.
    pub grads: FastGrads<F>,
    /// Weight decay λ.
    pub weight_decay: f64,
    /// Batches trained so far, over all epochs (the step number of a divergence error).
    pub steps: u64,
}

impl<F: Float> Trainer<F> {
    /// A freshly initialised model for vocabulary size `vocab` (drawn in f64 by the notes
    /// layer, then rounded to `F`).
    pub fn new(vocab: usize, hyper: &Hyper, rng: &mut Rng) -> Result<Self> {
        if vocab < 2 {
            return Err(Error::msg(format!(
                "the vocabulary has {vocab} word(s): a language model needs at least 2"
            )));
        }
        let model = Model::new(vocab, hyper.embed, hyper.hidden, hyper.init_wt, rng);
        Trainer::from_model(&model, hyper)
    }

    /// A trainer for `model` (rounded to `F`) with zero velocities and no step taken (a resumed
    /// run then restores both, see [`crate::checkpoint::State`]).
    pub fn from_model(model: &Model, hyper: &Hyper) -> Result<Self> {
        let model = FastModel::from_model(model);
        Ok(Trainer {
            cache: Cache::new(&model, hyper.batch),
            grads: FastGrads::zeros_like(&model),
            opt: F::Optimizer::create(momentum(hyper.momentum), hyper.lr)?,
            weight_decay: hyper.weight_decay,
            steps: 0,
            model,
        })
    }

    /// One batch: forward, cross-entropy, backward, momentum update of every parameter
    /// (biases included, as in the assignment). Returns the batch's CE before the update.
    pub fn step(&mut self, batch: &[Gram]) -> f64 {
        let Trainer {
            model,
            opt,
            cache,
            grads,
            weight_decay,
            steps,
        } = self;
        fast::forward(model, batch, cache);
        let ce = cache.loss();
        fast::backward(model, cache, grads, *weight_decay);
        // [`Model::update`] in type F: Δ ← μΔ + g; W ← W − αΔ for W0, W1, b1, W2, b2.
        opt.begin_step();
        opt.update(0, &mut model.W0, &grads.dW0); // V × D
        opt.update(1, &mut model.W1, &grads.dW1); // 3D × H
        opt.update(2, &mut model.b1, &grads.db1); // H × 1
        opt.update(3, &mut model.W2, &grads.dW2); // H × V
        opt.update(4, &mut model.b2, &grads.db2); // V × 1
        *steps += 1;
        ce
    }
}

/// train.m's rule, Hinton's momentum with μ = `mu` ([`crate::model::momentum`]'s).
pub fn momentum(mu: f64) -> Rule {
    Rule::ClassicMomentum { mu }
}

/// What one epoch of [`train_epoch`] reports to its caller.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Event {
    /// Every `show_train` batches: the batch number in the epoch (1-based) and the mean CE of
    /// the batches since the last report.
    Train { batch: usize, ce: f64 },
    /// Every `show_valid` batches: the batch number and the validation CE.
    Valid { batch: usize, ce: f64 },
}

/// Where a run is inside an epoch: the batches done and the sums behind train.m's averages
/// (all 0 at an epoch's start). A checkpoint written mid-epoch (at Ctrl-C) keeps them, so the
/// epoch goes on to the same numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EpochPos {
    /// Batches of this epoch done.
    pub batch: usize,
    /// Sum of their CEs (train.m's "Average Training CE" is it over ⌊N/B⌋).
    pub sum: f64,
    /// Sum of the CEs since the last `Batch … Train CE` report.
    pub chunk_sum: f64,
    /// How many batches that is.
    pub chunk_n: usize,
}

/// One epoch of the assignment's loop: the training 4-grams in order (no shuffling) in
/// consecutive batches of B (`⌊N/B⌋` batches; the last N mod B cases are never used, as in
/// load_data.m). Calls `report` every 100 batches with the running mean batch CE and every 1000
/// with the validation CE (train.m's `show_training_CE_after` / `show_validation_CE_after`).
/// Returns the mean of the batch CEs during the epoch (train.m's "Average Training CE").
///
/// Divergence: a non-finite batch CE stops the epoch with `training diverged at step N` (N
/// counts batches over all epochs), and so do non-finite weights, looked at every 100 batches
/// and at the end of the epoch. (The CE itself stays finite far into divergence: the log's
/// floor e^−30 caps it at 30 nats per word, where train.m's lr-100 run ends, at 26.7.)
///
/// One departure from train.m: its chunk counter is not reset at the start of an epoch, so the
/// first printed chunk of every epoch after the first is divided by 125, not 100 (≈ 0.8× the
/// true value). Here every printed value is the true mean of its chunk.
pub fn train_epoch<F: Float>(
    trainer: &mut Trainer<F>,
    train: &[Gram],
    valid: &[Gram],
    batch: usize,
    report: impl FnMut(Event),
) -> Result<f64> {
    let mut pos = EpochPos::default();
    continue_epoch(trainer, train, valid, batch, &mut pos, report, || false)?;
    Ok(pos.sum / (train.len() / batch) as f64)
}

/// [`train_epoch`] from `pos` on, asking `stop` after every batch but the last: returns `true`
/// when the epoch is done, `false` when `stop` said so (then `pos` says where it stopped).
pub fn continue_epoch<F: Float>(
    trainer: &mut Trainer<F>,
    train: &[Gram],
    valid: &[Gram],
    batch: usize,
    pos: &mut EpochPos,
    mut report: impl FnMut(Event),
    mut stop: impl FnMut() -> bool,
) -> Result<bool> {
    const SHOW_TRAIN: usize = 100;
    const SHOW_VALID: usize = 1000;
    let batches = train.len() / batch;
    if batches == 0 {
        return Err(Error::flag(
            "--batch",
            format!(
                "{batch} is larger than the {} training 4-grams",
                train.len()
            ),
        ));
    }
    for m in pos.batch..batches {
        // Batch m = columns m·B .. (m + 1)·B (load_data.m's column-major reshape).
        let ce = trainer.step(&train[m * batch..(m + 1) * batch]);
        shared::error::check_finite(trainer.steps, ce)?;
        if ((m + 1) % SHOW_TRAIN == 0 || m + 1 == batches) && !trainer.model.is_finite() {
            return Err(Error::msg(format!(
                "training diverged at step {}: the weights are no longer finite numbers (try a smaller --lr)",
                trainer.steps
            )));
        }
        pos.sum += ce;
        pos.chunk_sum += ce;
        pos.chunk_n += 1;
        if (m + 1) % SHOW_TRAIN == 0 {
            report(Event::Train {
                batch: m + 1,
                ce: pos.chunk_sum / pos.chunk_n as f64,
            });
            (pos.chunk_sum, pos.chunk_n) = (0.0, 0);
        }
        if (m + 1) % SHOW_VALID == 0 && !valid.is_empty() {
            report(Event::Valid {
                batch: m + 1,
                ce: fast::cross_entropy(&trainer.model, valid),
            });
        }
        pos.batch = m + 1;
        if m + 1 < batches && stop() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The curves of `loss.png`: the train CE of every 100 batches and the validation CE, against
/// the epoch (fractional), and the generator's entropy floor when there is one.
#[derive(Clone, Debug)]
pub struct Curves {
    /// Mean batch CE of every 100 batches.
    pub train: Series,
    /// Validation CE every 1000 batches, and after training.
    pub valid: Series,
    /// The generated corpus's entropy floor (nats per word), if known.
    pub floor: Option<f64>,
}

impl Curves {
    /// Empty curves.
    pub fn new(floor: Option<f64>) -> Curves {
        Curves {
            train: Series::new("train (mean of 100 batches)"),
            valid: Series::new("validation"),
            floor,
        }
    }

    /// Records `event` of epoch `epoch` (0-based) of `batches` batches.
    pub fn record(&mut self, epoch: usize, batches: usize, event: Event) {
        let at = |batch: usize| epoch as f64 + batch as f64 / batches as f64;
        match event {
            Event::Train { batch, ce } => self.train.push(at(batch), ce),
            Event::Valid { batch, ce } => self.valid.push(at(batch), ce),
        }
    }

    /// The figure of `loss.png` for a run of `epochs` epochs (the floor is drawn across them).
    pub fn figure(&self, epochs: f64) -> Figure {
        let mut panel = Panel::new(
            "§1 language model: cross-entropy per predicted word",
            "epoch",
            "CE (nats)",
        )
        .with(self.train.clone())
        .with(self.valid.clone());
        if let Some(h) = self.floor {
            let mut floor = Series::new("entropy floor of the generator");
            floor.push(0.0, h);
            floor.push(epochs, h);
            panel = panel.with(floor);
        }
        Figure::single(panel)
    }
}
