//! The tutorial's `train_with_sgd`: plain SGD, one sentence at a time in file order; every
//! `eval_every` epochs the loss over all sentences, and the learning rate halves when that loss
//! is higher than at the previous evaluation.

use crate::{Bptt, Buffers, Rnn};
use shared::Result;
use shared::error::check_finite;

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

/// Trains `model` on `pairs` (input, target) by `schedule`. Evaluates before training, every
/// `eval_every` epochs, and once more after the last epoch; `on_eval` sees the evaluations so
/// far (the new one last) and the model as it is then (to write a checkpoint), `on_step` each SGD step (sentences seen,
/// that sentence's loss per target word). `history` is empty for a fresh start; to resume, it
/// holds the evaluations of the interrupted run, and training continues after the last one
/// (its epoch, sentences seen and learning rate), so the result is the one of an uninterrupted
/// run. Error if a loss becomes NaN or infinite, or if `on_eval` fails.
pub fn train_with_sgd(
    model: &mut Rnn,
    pairs: &[(&[usize], &[usize])],
    schedule: &Schedule,
    history: Vec<Evaluation>,
    buf: &mut Buffers,
    mut on_eval: impl FnMut(&[Evaluation], &Rnn) -> Result<()>,
    mut on_step: impl FnMut(u64, f64),
) -> Result<Vec<Evaluation>> {
    let resumed = !history.is_empty();
    let (start, mut seen, mut lr) = history
        .last()
        .map_or((0, 0, schedule.lr), |e| (e.epoch, e.seen, e.lr));
    let mut evals = history;
    let mut evaluate = |epoch: u64, seen: u64, model: &Rnn, buf: &mut Buffers, lr: &mut f64| {
        let loss = check_finite(seen, model.loss(pairs.iter().copied(), buf))?;
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
            evaluate(epoch, seen, model, buf, &mut lr)?;
        }
        for &(x, t) in pairs {
            let loss = model.sgd_step(x, t, schedule.bptt, lr, buf) / t.len() as f64;
            seen += 1;
            on_step(seen, check_finite(seen, loss)?);
        }
    }
    if start < schedule.epochs || !resumed {
        evaluate(schedule.epochs, seen, model, buf, &mut lr)?;
    }
    Ok(evals)
}
