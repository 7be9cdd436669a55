//! What a run shows: the adding problem's table, summary and curves; the language model's
//! validation lines, curves, closing report (with a sample) and summary.

use crate::data::{Corpus, TRIVIAL_MSE};
use crate::fast::{FastCell, Kernels};
use crate::train::{AddingConfig, Eval, Outcome, TextConfig, Training};
use shared::cli::Dtype;
use shared::plot::{Figure, Panel, Series};
use shared::rng::Rng;
use shared::{Error, Result};

/// The table's title and header line.
pub fn adding_header(cfg: &AddingConfig) -> String {
    format!(
        "adding problem, T = {}: {} layer(s) of {} units, batch {}, {} steps, Adam {}\n\
         {:<5} {:>7} {:>14} {:>14} {:>14} {:>8}",
        cfg.T,
        cfg.layers,
        cfg.hidden,
        cfg.batch,
        cfg.steps,
        cfg.lr,
        "cell",
        "params",
        "held-out MSE",
        "best held-out",
        "MSE < 0.01 at",
        "seconds"
    )
}

impl Outcome {
    /// The run's line of the table under [`adding_header`].
    pub fn row(&self) -> String {
        let solved = self
            .solved_at
            .map_or("never".into(), |s| format!("step {s}"));
        format!(
            "{:<5} {:>7} {:>14.5} {:>14.5} {:>14} {:>8.1}",
            self.cell, self.params, self.final_test_mse, self.best_test_mse, solved, self.seconds
        )
    }
}

/// summary.json's fields for a comparison of `runs`.
pub fn adding_summary(cfg: &AddingConfig, runs: &[Outcome]) -> serde_json::Value {
    let cells: serde_json::Map<String, serde_json::Value> = runs
        .iter()
        .map(|o| {
            let m = serde_json::json!({"final_test_mse": o.final_test_mse,
                "best_test_mse": o.best_test_mse, "solved_at": o.solved_at,
                "seconds": o.seconds, "params": o.params});
            (o.cell.to_string(), m)
        })
        .collect();
    serde_json::json!({"length": cfg.T, "hidden": cfg.hidden, "layers": cfg.layers, "cells": cells})
}

/// The picture of a comparison: mini-batch MSE (moving average) and held-out MSE per step for
/// each run, with the trivial predictor's 1/6 as a reference line, log scale.
pub fn adding_figure(runs: &[Outcome], T: usize, steps: usize) -> Figure {
    let trivial = || {
        let mut s = Series::new("predict the mean (1/6)");
        s.push(0.0, TRIVIAL_MSE);
        s.push(steps as f64, TRIVIAL_MSE);
        s
    };
    let mut train = Panel::new("mini-batch MSE (moving average)", "step", "MSE").log_y();
    let mut test = Panel::new("held-out MSE (256 sequences)", "step", "MSE").log_y();
    for out in runs {
        train.series.push(out.train_mse.smoothed(0.95, out.cell));
        test.series.push(Series {
            name: out.cell.into(),
            ..out.test_mse.clone()
        });
    }
    train.series.push(trivial());
    test.series.push(trivial());
    Figure {
        title: if runs
            .iter()
            .all(|o| ["rnn", "lstm", "gru"].contains(&o.cell))
        {
            format!("Adding problem, T = {T}: the gated cells remember, the vanilla RNN does not")
        } else {
            let cells: Vec<&str> = runs.iter().map(|o| o.cell).collect();
            format!("Adding problem, T = {T}: {}", cells.join(", "))
        },
        panels: vec![train, test],
    }
}

impl Eval {
    /// The line a run prints at each validation.
    pub fn line(&self) -> String {
        format!(
            "step {:>5}  {:>7.1} s (wall {:>7.1} s)  train {:.4}  valid {:.4} nats/char",
            self.step, self.seconds, self.wall_seconds, self.train, self.valid
        )
    }
}

impl Corpus {
    /// The first line a run prints: the text, its sizes, the model and the settings.
    pub fn describe(&self, cfg: &TextConfig, cell: &str) -> String {
        format!(
            "{}: {} characters ({} for validation), {} distinct; {} × {} {cell}, seq {}, batch {}, Adam {}",
            self.source,
            self.stream.ids.len(),
            self.valid_ids().len(),
            self.stream.vocab_size(),
            cfg.layers,
            cfg.hidden,
            cfg.seq_len,
            cfg.batch,
            cfg.lr
        )
    }
}

impl<C: FastCell, F: Kernels> Training<C, F> {
    /// The loss curves: training and validation loss per step, and the text's entropy as the
    /// floor where it is known.
    pub fn figure(&self, title: String, floor: Option<f64>) -> Figure {
        let (mut train, mut valid) = (Series::new("train"), Series::new("validation"));
        for e in &self.history {
            train.push(e.step as f64, e.train);
            valid.push(e.step as f64, e.valid);
        }
        let mut panel = Panel::new(title, "step", "nats per character");
        if let Some(floor) = floor {
            let mut s = Series::new("entropy of the validation text (floor)");
            s.push(0.0, floor);
            s.push(self.step.max(1) as f64, floor);
            panel = panel.with(s);
        }
        Figure::single(panel.with(train).with(valid))
    }

    /// The run's closing report: validation loss (and the text's entropy), steps, seconds,
    /// parameters, a 300-character sample at temperature 1 drawn with `rng`.
    pub fn report(&self, corpus: &Corpus, rng: &mut Rng) -> Result<String> {
        let e = self.history.last().copied().ok_or_else(|| {
            Error::msg("no training step ran (--steps at or below the checkpoint's)")
        })?;
        let sample = self
            .model
            .sample_text(&corpus.stream, None, 300, 1.0, rng)?;
        let floor = corpus
            .floor
            .map_or(String::new(), |f| format!(" (the text's entropy: {f:.4})"));
        // As ngram-lm: a model worse than the uniform guess has diverged (its loss stays finite
        // because the softmax saturates, so the run ends without an error).
        let V = self.model.vocab_size();
        let uniform = (V as f64).ln();
        let note = if e.valid > uniform {
            format!(
                "\nnote: the validation loss is above ln {V} = {uniform:.3}, the loss of guessing \
                 uniformly: the training diverged (try a smaller --lr)"
            )
        } else {
            String::new()
        };
        Ok(format!(
            "validation {:.4} nats/char{floor} after {} steps ({:.0} s of training), {} parameters\n\
             --- sample ---\n{sample}\n---{note}",
            e.valid,
            self.step,
            e.seconds,
            self.model.count(),
        ))
    }

    /// summary.json's fields.
    pub fn summary(&self, cfg: &TextConfig, floor: Option<f64>) -> serde_json::Value {
        let e = self.history.last();
        let mut summary = serde_json::json!({"cell": C::NAME, "layers": cfg.layers,
            "hidden": cfg.hidden, "lr": cfg.lr, "params": self.model.count(),
            "train_seconds": e.map(|e| e.seconds), "train_wall_seconds": e.map(|e| e.wall_seconds),
            "final_loss": e.map(|e| e.train), "valid_ce": e.map(|e| e.valid),
            "valid_entropy_floor": floor});
        if F::DTYPE != Dtype::F64 {
            summary["dtype"] = F::DTYPE.as_str().into(); // f64 runs write what they always wrote
        }
        summary
    }
}
