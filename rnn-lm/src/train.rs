//! The tutorial's `train_with_sgd`: plain SGD, one sentence at a time in file order; every
//! `eval_every` epochs the loss over all sentences, and the learning rate halves when that loss
//! is higher than at the previous evaluation. Also what a run is (its settings, its
//! evaluations, its curves), which the checkpoint stores and the report shows.

use crate::fast::{self, Cache};
use crate::model::{Bptt, Rnn};
use shared::Result;
use shared::error::check_finite;
use shared::plot::Series;

/// Points of the running average kept over a whole run (at most about this many).
const POINTS: u64 = 2000;

/// The schedule of [`train_with_sgd`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    /// Initial learning rate (the tutorial: 0.005).
    pub lr: f64,
    /// Passes over the sentences.
    pub epochs: u64,
    /// Evaluate every this many epochs (the tutorial: 5; its small run: 1).
    pub eval_every: u64,
    /// Back-propagation through time (the tutorial: truncated, K = 4).
    pub bptt: Bptt,
}

/// The settings a resumed run must share with the run it continues.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spec {
    /// Hidden units N_h (`--hidden`).
    pub hidden: usize,
    /// Truncation K (`--bptt`).
    pub bptt: usize,
    /// The initial learning rate (`--lr`).
    pub lr: f64,
    /// `--eval-every`.
    pub eval_every: u64,
    /// Training sentences (`--sentences`, or all of the data).
    pub sentences: usize,
}

impl Spec {
    /// The tutorial's schedule for these settings and `epochs` epochs in all.
    pub fn schedule(&self, epochs: u64) -> Schedule {
        Schedule {
            lr: self.lr,
            epochs,
            eval_every: self.eval_every,
            bptt: Bptt::Truncated(self.bptt),
        }
    }
}

/// One evaluation: the tutorial's line `Loss after num_examples_seen=… epoch=…: …`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// Epochs completed.
    pub epoch: u64,
    /// Sentences trained on so far.
    pub seen: u64,
    /// Mean loss per target word over all sentences.
    pub loss: f64,
    /// The learning rate from here on.
    pub lr: f64,
    /// True when this evaluation halved the learning rate (the loss rose).
    pub halved: bool,
}

/// The two curves of `loss.png`, built while training.
#[derive(Clone, Debug, PartialEq)]
pub struct Curves {
    /// The loss over all training sentences at each evaluation, by sentences seen.
    pub evals: Series,
    /// The running average `a ← 0.99 a + 0.01 L` of the sentence losses, by sentences seen.
    pub running: Series,
    /// The running average now (`None` before the first step).
    pub average: Option<f64>,
    /// A point of `running` every this many steps.
    every: u64,
}

impl Curves {
    /// Empty curves for a run of `steps` SGD steps in all.
    pub fn new(steps: u64) -> Curves {
        Curves {
            evals: Series::new("loss on all training sentences"),
            running: Series::new("training sentences, running average"),
            average: None,
            every: (steps / POINTS).max(1),
        }
    }

    /// Adds an evaluation.
    pub fn eval(&mut self, e: &Evaluation) {
        self.evals.push(e.seen as f64, e.loss);
    }

    /// Adds step `seen`'s sentence loss (per target word) to the running average; returns it.
    pub fn step(&mut self, seen: u64, loss: f64) -> f64 {
        let mean = 0.99 * self.average.unwrap_or(loss) + 0.01 * loss;
        self.average = Some(mean);
        if seen.is_multiple_of(self.every) {
            self.running.push(seen as f64, mean);
        }
        mean
    }
}

/// Trains `model` on `pairs` (input, target) by `schedule`. Evaluates before training, every
/// `eval_every` epochs, and once more after the last epoch; `on_eval` sees the evaluations so
/// far (the new one last) and the model as it is then (to write a checkpoint), `on_step` each
/// SGD step (sentences seen, that sentence's loss per target word). `history` is empty for a
/// fresh start; to resume, it holds the evaluations of the interrupted run, and training
/// continues after the last one (its epoch, sentences seen and learning rate), so the result is
/// the one of an uninterrupted run. Error if a loss becomes NaN or infinite, or if `on_eval` fails.
pub fn train_with_sgd(
    model: &mut Rnn,
    pairs: &[(&[usize], &[usize])],
    schedule: &Schedule,
    history: Vec<Evaluation>,
    cache: &mut Cache,
    mut on_eval: impl FnMut(&[Evaluation], &Rnn) -> Result<()>,
    mut on_step: impl FnMut(u64, f64),
) -> Result<Vec<Evaluation>> {
    let resumed = !history.is_empty();
    let (start, mut seen, mut lr) = history
        .last()
        .map_or((0, 0, schedule.lr), |e| (e.epoch, e.seen, e.lr));
    let mut evals = history;
    let mut evaluate = |epoch: u64, seen: u64, model: &Rnn, cache: &mut Cache, lr: &mut f64| {
        let loss = check_finite(seen, fast::loss(model, pairs.iter().copied(), cache))?;
        // Adjust the learning rate if the loss increases.
        let halved = evals.last().is_some_and(|prev| loss > prev.loss);
        if halved {
            *lr *= 0.5;
        }
        let e = Evaluation {
            epoch,
            seen,
            loss,
            lr: *lr,
            halved,
        };
        evals.push(e);
        on_eval(&evals, model)
    };
    for epoch in start..schedule.epochs {
        // A resumed run has already evaluated at `start`.
        if epoch % schedule.eval_every == 0 && (epoch > start || !resumed) {
            evaluate(epoch, seen, model, cache, &mut lr)?;
        }
        for &(x, t) in pairs {
            let loss = fast::sgd_step(model, x, t, schedule.bptt, lr, cache) / t.len() as f64;
            seen += 1;
            on_step(seen, check_finite(seen, loss)?);
        }
    }
    if start < schedule.epochs || !resumed {
        evaluate(schedule.epochs, seen, model, cache, &mut lr)?;
    }
    Ok(evals)
}
