//! What a training run measures around the model: the test pairs, the curves of the figure,
//! the final test on wider sums and the summary. Kept here so that `main.rs` reads as flags,
//! model, train loop, outputs.

#![allow(non_snake_case)]

use crate::report::thousands;
use crate::{Accuracy, Adder, Cost, Sequence, accuracy_on, all_pairs, random_addend, random_pairs};
use serde_json::{Value, json};
use shared::plot::{Figure, Legend, Panel, Series};
use shared::rng;

/// The sums the accuracy curves are measured on, drawn from their own streams of the run's
/// seed (never from the training stream, so measuring more or less often does not change the
/// training).
#[derive(Clone, Debug)]
pub struct TestSets {
    /// Bits of the training sums.
    pub bits: usize,
    /// Every pair of the training width up to `--bits 9` (65 536 pairs), else 16 384 random
    /// pairs (stream 4).
    pub pairs: Vec<(u64, u64)>,
    /// How the report names `pairs`, e.g. `all 16,384 pairs`.
    pub name: String,
    /// The width of the wider probe (the first `--eval-bits`).
    pub wider: usize,
    /// 1000 random pairs of the wider width (stream 2).
    pub probe: Vec<(u64, u64)>,
}

impl TestSets {
    /// The test sets of a run on `bits`-bit sums that probes `wider`-bit sums.
    pub fn new(bits: usize, wider: usize, seed: u64) -> Self {
        let half = 1u64 << (bits - 1);
        let (pairs, name) = if bits <= 9 {
            (
                all_pairs(bits),
                format!("all {} pairs", thousands(half * half)),
            )
        } else {
            let pairs = random_pairs(bits, 16_384, &mut rng::stream(seed, 4));
            (pairs, "16,384 random pairs".into())
        };
        let probe = random_pairs(wider, 1000, &mut rng::stream(seed, 2));
        TestSets {
            bits,
            pairs,
            name,
            wider,
            probe,
        }
    }

    /// Whether `pairs` holds every pair of the width.
    pub fn exhaustive(&self) -> bool {
        self.bits <= 9
    }
}

/// The curves of `loss.png`: trask's error per example and the two accuracies over training.
#[derive(Clone, Debug)]
pub struct Curves {
    /// Σ|t − y| of every example.
    pub error: Series,
    /// The fraction of the test pairs right.
    pub acc_all: Series,
    /// The fraction of the wider probe right.
    pub acc_wide: Series,
    /// The first measurement with every test pair right.
    pub first_perfect: Option<u64>,
}

impl Curves {
    /// Empty curves for `tests`.
    pub fn new(tests: &TestSets) -> Self {
        let (T, half) = (tests.bits, 1u64 << (tests.bits - 1));
        let all = format!("all {} pairs, {T}-bit sums", thousands(half * half));
        let all = if tests.exhaustive() {
            all
        } else {
            format!("16,384 random {T}-bit sums")
        };
        Curves {
            error: Series::new("Σ|t − y| per example"),
            acc_all: Series::new(all),
            acc_wide: Series::new(format!("1,000 random {}-bit sums", tests.wider)),
            first_perfect: None,
        }
    }

    /// Measures both accuracies after example `it`; returns the accuracy on the test pairs.
    pub fn measure(&mut self, it: u64, model: &Adder, tests: &TestSets) -> Accuracy {
        let acc = accuracy_on(model, tests.bits, &tests.pairs);
        self.acc_all.push(it as f64, acc.fraction());
        let wide = accuracy_on(model, tests.wider, &tests.probe);
        self.acc_wide.push(it as f64, wide.fraction());
        if acc.correct == acc.total && self.first_perfect.is_none() {
            self.first_perfect = Some(it);
        }
        acc
    }

    /// The moving average (0.99) of the error at the last example.
    pub fn final_error(&self) -> Option<f64> {
        self.error.smoothed(0.99, "").last()
    }

    /// The figure: left the error's moving average (its raw values are too noisy to read),
    /// right the accuracies. `title` names the run.
    pub fn figure(&self, title: &str, bits: usize) -> Figure {
        let smooth = self.error.smoothed(0.99, "moving average (0.99)");
        // Every 10th point is plenty for an 800-pixel panel (and keeps loss.csv small).
        let smooth = Series {
            points: smooth.points.iter().step_by(10).copied().collect(),
            ..smooth
        };
        Figure {
            title: title.into(),
            panels: vec![
                Panel::new(
                    "training error (trask's Error, smoothed)",
                    "example",
                    format!("Σ|t − y| over the {bits} bits"),
                )
                .with(smooth),
                Panel::new(
                    "accuracy (every bit right)",
                    "example",
                    "fraction of sums right",
                )
                .legend(Legend::LowerRight)
                .with(self.acc_all.clone())
                .with(self.acc_wide.clone()),
            ],
        }
    }
}

/// The trained weights on sums wider than they were trained on.
#[derive(Clone, Debug, PartialEq)]
pub struct Wider {
    /// Bits of the sums (time steps the recurrence runs).
    pub bits: usize,
    /// How many of the random pairs it adds right.
    pub acc: Accuracy,
    /// One more random pair and the network's answer: (a, b, prediction).
    pub example: (u64, u64, u64),
}

/// Tests `model` on `pairs` random pairs of each width in `widths`, drawn from stream 3 of
/// `seed`, and adds one example pair per width.
pub fn test_wider(model: &Adder, widths: &[usize], pairs: usize, seed: u64) -> Vec<Wider> {
    let mut eval = rng::stream(seed, 3);
    widths
        .iter()
        .map(|&bits| {
            let acc = accuracy_on(model, bits, &random_pairs(bits, pairs, &mut eval));
            let (a, b) = (
                random_addend(bits, &mut eval),
                random_addend(bits, &mut eval),
            );
            let pred = model.add(&Sequence::of(a, b, bits), &mut model.buffers(bits));
            Wider {
                bits,
                acc,
                example: (a, b, pred),
            }
        })
        .collect()
}

/// The chapter's metrics for `summary.json`.
pub struct Summary<'a> {
    /// The cost trained with.
    pub cost: Cost,
    /// N_h.
    pub hidden: usize,
    /// Bits of the training sums.
    pub bits: usize,
    /// α.
    pub lr: f64,
    /// `numpy` or `chacha`.
    pub rng: &'a str,
    /// Seconds spent in training steps (not in measuring).
    pub train_seconds: f64,
    /// The final accuracy on the test pairs.
    pub accuracy: Accuracy,
    /// The curves (their last smoothed error and first perfect measurement).
    pub curves: &'a Curves,
    /// The test on wider sums.
    pub wider: &'a [Wider],
}

impl Summary<'_> {
    /// The JSON object [`shared::run::Run::save_summary`] writes beside the common fields.
    pub fn json(&self) -> Value {
        let wide: Vec<Value> = self
            .wider
            .iter()
            .map(|w| {
                json!({"bits": w.bits, "pairs": w.acc.total, "correct": w.acc.correct,
                       "accuracy": w.acc.fraction()})
            })
            .collect();
        json!({
            "cost": self.cost.name(), "hidden": self.hidden, "bits": self.bits, "lr": self.lr,
            "rng": self.rng, "final_error": self.curves.final_error(),
            "train_seconds": self.train_seconds, "accuracy": self.accuracy.fraction(),
            "pairs": self.accuracy.total, "correct": self.accuracy.correct,
            "first_all_correct_at": self.curves.first_perfect, "accuracy_wider": wide,
        })
    }
}
