//! What a training run shows besides the model: the figure of its loss curves (evaluations and
//! a running average of the sentence losses, built by [`crate::train`]), the tutorial's
//! evaluation line, the summary.

use crate::train::{Curves, Evaluation, Spec};
use serde_json::{Value, json};
use shared::plot::{Figure, Panel, Series};
use std::time::Instant;

impl Curves {
    /// The figure: both curves, with ln N_x (the uniform guess) and, when known, the corpus's
    /// entropy (the floor) as flat lines up to `steps` sentences.
    pub fn figure(&self, ln_N_x: f64, floor: Option<f64>, steps: u64) -> Figure {
        let flat = |name: &str, y: f64| {
            let mut s = Series::new(name);
            s.push(0.0, y);
            s.push(steps as f64, y);
            s
        };
        let mut panel = Panel::new(
            "Britz's RNN language model (notes §6)",
            "sentences seen",
            "cross-entropy (nats per target word)",
        )
        .with(self.evals.clone())
        .with(self.running.clone())
        .with(flat("ln N_x (uniform guess)", ln_N_x));
        if let Some(h) = floor {
            panel = panel.with(flat("entropy of the corpus (floor)", h));
        }
        Figure::single(panel)
    }
}

/// The curves of a run and the time of its SGD steps alone (evaluations and checkpoints left
/// out), fed by the two callbacks of [`crate::train::train_with_sgd`].
#[derive(Clone, Debug)]
pub struct Tracker {
    /// The curves so far.
    pub curves: Curves,
    mark: Instant,
    sgd_seconds: f64,
    steps: u64,
}

impl Tracker {
    /// Starts the clock with `curves` (empty, or those of a resumed run).
    pub fn new(curves: Curves) -> Tracker {
        Tracker {
            curves,
            mark: Instant::now(),
            sgd_seconds: 0.0,
            steps: 0,
        }
    }

    /// An SGD step just ended: its time, and its loss into the running average (returned).
    pub fn step(&mut self, seen: u64, loss: f64) -> f64 {
        self.sgd_seconds += self.mark.elapsed().as_secs_f64();
        self.steps += 1;
        self.mark = Instant::now();
        self.curves.step(seen, loss)
    }

    /// The next step starts now (after an evaluation and its checkpoint).
    pub fn restart_clock(&mut self) {
        self.mark = Instant::now();
    }

    /// Milliseconds per SGD step so far in this process.
    pub fn ms_per_step(&self) -> f64 {
        1e3 * self.sgd_seconds / self.steps.max(1) as f64
    }
}

/// The tutorial's line for an evaluation (with the time since the start), and its
/// "Setting learning rate to …" line when the rate halved.
pub fn eval_lines(e: &Evaluation, seconds: f64) -> Vec<String> {
    let (seen, epoch, loss) = (e.seen, e.epoch, e.loss);
    let mut lines = vec![format!(
        "{seconds:>8.1} s: Loss after num_examples_seen={seen} epoch={epoch}: {loss:.6}"
    )];
    if e.halved {
        lines.push(format!("Setting learning rate to {:.6}", e.lr));
    }
    lines
}

/// Facts of a finished run for `summary.json` and the closing line.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Vocabulary size N_x.
    pub N_x: usize,
    /// The run's settings (N_h, K, lr, sentences).
    pub spec: Spec,
    /// `ln N_x`, the untrained loss.
    pub ln_N_x: f64,
    /// The corpus's entropy per target word, when known (the generated corpus).
    pub floor: Option<f64>,
    /// Every evaluation of the run (of the resumed run too, when it was resumed).
    pub history: Vec<Evaluation>,
    /// Milliseconds per SGD step (evaluations left out), in this process.
    pub sgd_step_ms: f64,
}

impl Outcome {
    /// The outcome of a run with `N_x` words (`history` must not be empty).
    pub fn new(
        N_x: usize,
        spec: Spec,
        floor: Option<f64>,
        history: Vec<Evaluation>,
        sgd_step_ms: f64,
    ) -> Outcome {
        assert!(!history.is_empty(), "a run evaluates at least once");
        let ln_N_x = (N_x as f64).ln();
        Outcome {
            N_x,
            spec,
            ln_N_x,
            floor,
            history,
            sgd_step_ms,
        }
    }

    /// The metrics of `summary.json`.
    pub fn summary(&self) -> Value {
        let (first, last) = (&self.history[0], &self.history[self.history.len() - 1]);
        json!({"initial_loss": first.loss, "final_loss": last.loss, "ln_vocab": self.ln_N_x,
               "entropy_floor": self.floor, "vocab_size": self.N_x, "hidden": self.spec.hidden,
               "bptt": self.spec.bptt, "sentences": self.spec.sentences, "epochs": last.epoch,
               "final_lr": last.lr, "sgd_step_ms": self.sgd_step_ms})
    }

    /// `Loss 8.987 → 5.71 (ln N_x = …, corpus entropy …), 2.1 ms per SGD step.`
    pub fn line(&self) -> String {
        let (first, last) = (&self.history[0], &self.history[self.history.len() - 1]);
        format!(
            "Loss {:.6} → {:.6} (ln N_x = {:.6}{}), {:.3} ms per SGD step.",
            first.loss,
            last.loss,
            self.ln_N_x,
            self.floor
                .map_or(String::new(), |h| format!(", corpus entropy {h:.6}")),
            self.sgd_step_ms
        )
    }
}
