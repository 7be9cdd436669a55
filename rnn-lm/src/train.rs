//! The tutorial's `train_with_sgd`: plain SGD, one sentence at a time in file order; every
//! `eval_every` epochs the loss over all sentences, and the learning rate halves when that loss
//! is higher than at the previous evaluation. Also what a run is (its settings, its
//! evaluations, its curves), which the checkpoint stores and the report shows.

use crate::fast::{self, Cache, Net, Scalar};
use crate::model::Bptt;
use shared::Result;
use shared::error::check_nats;
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

/// Where [`train_with_sgd`] starts: nothing done (the default), or where a stopped run was.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Position {
    /// The evaluations so far, in order.
    pub history: Vec<Evaluation>,
    /// Sentences trained on so far (SGD steps), possibly in the middle of an epoch.
    pub seen: u64,
}

/// How [`train_with_sgd`] ended: every evaluation, and the sentences trained on.
#[derive(Clone, Debug, PartialEq)]
pub struct Trained {
    /// Every evaluation, those of the run it resumed included.
    pub history: Vec<Evaluation>,
    /// Sentences trained on (SGD steps), in all.
    pub seen: u64,
    /// True when `on_step` asked it to stop before the last step.
    pub stopped: bool,
}

/// Trains `model` (in the engine's float type `F`) on `pairs` (input, target) by `schedule`. Evaluates before training, every
/// `eval_every` epochs, and once more after the last epoch; `on_eval` sees the evaluations so
/// far (the new one last) and the model as it is then (to write a checkpoint), `on_step` each
/// SGD step (sentences seen, that sentence's loss per target word) and answers whether to go
/// on: `false` stops after that step (unless it was the last), for a checkpoint. `from` is
/// where a stopped run was (its evaluations and the sentences it had trained on); training
/// continues there, also in the middle of an epoch, with the learning rate of its last
/// evaluation, so the result is the one of an uninterrupted run. Error if a loss becomes NaN,
/// infinite or too large for f64's probabilities (a divergence), or if `on_eval` fails.
pub fn train_with_sgd<F: Scalar>(
    model: &mut Net<F>,
    pairs: &[(&[usize], &[usize])],
    schedule: &Schedule,
    from: Position,
    cache: &mut Cache<F>,
    mut on_eval: impl FnMut(&[Evaluation], &Net<F>) -> Result<()>,
    mut on_step: impl FnMut(u64, f64) -> bool,
) -> Result<Trained> {
    let n = pairs.len() as u64;
    let (mut evals, mut seen) = (from.history, from.seen);
    let mut lr = evals.last().map_or(schedule.lr, |e| e.lr);
    let mut evaluate = |evals: &mut Vec<Evaluation>,
                        epoch: u64,
                        seen: u64,
                        model: &Net<F>,
                        cache: &mut Cache<F>,
                        lr: &mut f64| {
        let loss = fast::loss(model, pairs.iter().copied(), cache);
        let loss = check_nats(seen, loss, 1, "target word on average")?;
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
        on_eval(evals, model)
    };
    // Not evaluated at `seen` yet (a resumed run has evaluated where it stopped, if it was due).
    let due = |evals: &[Evaluation], seen: u64| evals.last().is_none_or(|e| e.seen < seen);
    for epoch in seen / n.max(1)..schedule.epochs {
        let skip = (seen - epoch * n) as usize; // > 0 only where a stopped run resumes
        if skip == 0 && epoch % schedule.eval_every == 0 && due(&evals, seen) {
            evaluate(&mut evals, epoch, seen, model, cache, &mut lr)?;
        }
        for &(x, t) in &pairs[skip..] {
            let L = fast::sgd_step(model, x, t, schedule.bptt, lr, cache);
            seen += 1;
            let loss = check_nats(seen, L, t.len(), "target words")? / t.len() as f64;
            if !on_step(seen, loss) && seen < schedule.epochs * n {
                return Ok(Trained {
                    history: evals,
                    seen,
                    stopped: true,
                });
            }
        }
    }
    if due(&evals, seen) {
        evaluate(&mut evals, schedule.epochs, seen, model, cache, &mut lr)?;
    }
    Ok(Trained {
        history: evals,
        seen,
        stopped: false,
    })
}
