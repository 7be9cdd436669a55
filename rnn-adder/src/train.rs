//! What a training run measures around the model: the accuracy on a set of sums, the test
//! pairs, the curves of the figure and the final test on wider sums.

#![allow(non_snake_case)]

use crate::data::{all_pairs, random_addend, random_pairs};
use crate::model::{Adder, Cache, Sequence};
use shared::plot::{Figure, Legend, Panel, Series};
use shared::rng;
use shared::{Error, Result, error::check_finite};

/// 16384 → "16,384" (how counts of pairs are named in the labels and the report).
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Checks the training step `it` whose forward pass is in `cache` (`error` = Σ|t_i − y_i|,
/// `model` the weights after the step): an error if the training has diverged. Besides a
/// non-finite error, that is every output being exactly 0 or 1 with some bit wrong: the
/// sigmoids have saturated (σ(z) is exactly 0 only for z < −745, beyond any weights a sane α
/// reaches), so y_i(1 − y_i) = 0 makes every gradient of the L² cost exactly 0 and the
/// logistic cost is infinite: no later step can learn. A huge `--lr` does that in one step.
pub fn check_step(it: u64, error: f64, cache: &Cache, model: &Adder) -> Result<f64> {
    let e = check_finite(it, error)?;
    if e > 0.0 && cache.y.iter().all(|&y| y == 0.0 || y == 1.0) {
        let largest = [&model.W_xh, &model.W_hh, &model.W_hy]
            .iter()
            .map(|w| w.amax())
            .fold(0.0, f64::max);
        return Err(Error::msg(format!(
            "training diverged at step {it}: every output is exactly 0 or 1 and {e} of the \
             {} bits are wrong (weights up to {largest:.1e}): the sigmoids have saturated, no \
             gradient is left to learn from; try a smaller --lr",
            cache.y.len()
        )));
    }
    Ok(e)
}

/// The counts behind an accuracy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accuracy {
    /// Sums the network got exactly right (every bit).
    pub correct: u64,
    /// Sums asked.
    pub total: u64,
}

impl Accuracy {
    /// correct / total.
    pub fn fraction(&self) -> f64 {
        self.correct as f64 / self.total.max(1) as f64
    }
}

/// Accuracy on the given pairs, run as sums of `bits` bits.
pub fn accuracy_on(model: &Adder, bits: usize, pairs: &[(u64, u64)]) -> Accuracy {
    let mut seq = Sequence::new(bits);
    let mut cache = model.cache(bits);
    let mut correct = 0;
    for &(a, b) in pairs {
        seq.set(a, b);
        correct += u64::from(model.add(&seq, &mut cache) == a + b);
    }
    Accuracy {
        correct,
        total: pairs.len() as u64,
    }
}

/// Accuracy on every pair a, b < 2^(bits−1) (see [`all_pairs`]).
pub fn accuracy_all_pairs(model: &Adder, bits: usize) -> Accuracy {
    accuracy_on(model, bits, &all_pairs(bits))
}

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
            let pred = model.add(&Sequence::of(a, b, bits), &mut model.cache(bits));
            Wider {
                bits,
                acc,
                example: (a, b, pred),
            }
        })
        .collect()
}
