//! The adding problem (Hochreiter & Schmidhuber 1997, experiment 4), the long-range memory
//! test of this chapter: a network reads T steps of pairs (value, marker); exactly two
//! markers are 1; after the last step it must output the sum of the two marked values.
//!
//! Variant: the "modern" one of the IRNN and uRNN papers (Le et al. 2015; Arjovsky et al.
//! 2016), not the 1997 original: values uniform in [0, 1], markers 0/1, one marked step in
//! the first half and one in the second, fixed length T, target = the plain sum, loss = mean
//! squared error. Predicting the mean 1 for every sequence gives MSE = Var(X₁ + X₂) =
//! 2/12 ≈ 0.167: a net that cannot carry a value across ≈ T/2 steps stays there.
//!
//! Model: a [`Stack`] of cells, then a linear read-out of the last hidden state,
//! y = W_hy h_T + b_y (one number per sequence).

use crate::{Cell, Stack, StackTape, clip_global_norm};
use nalgebra::DMatrix;
use shared::error::check_finite;
use shared::optim::{Optimizer, Rule};
use shared::plot::{Figure, Panel, Series};
use shared::rng::{self, Rng};
use shared::run::Progress;
use shared::{Error, Result};
use std::time::Instant;

/// The trivial predictor's MSE, Var(X₁ + X₂) = 2 · 1/12.
pub const TRIVIAL_MSE: f64 = 1.0 / 6.0;

/// B sequences of the adding problem.
#[derive(Clone, Debug)]
pub struct Batch {
    /// 2 × T·B: row 0 the values, row 1 the markers; step t of sequence j is column tB + j.
    pub X: DMatrix<f64>,
    /// 1 × B: the sums of the two marked values.
    pub target: DMatrix<f64>,
}

impl Batch {
    /// Room for B sequences of length T (T ≥ 2).
    pub fn new(T: usize, B: usize) -> Batch {
        assert!(T >= 2, "the adding problem needs T ≥ 2");
        Batch {
            X: DMatrix::zeros(2, T * B),
            target: DMatrix::zeros(1, B),
        }
    }

    /// Draws new sequences in place: values uniform in [0, 1), one marker uniformly in steps
    /// 0..T/2, the other in T/2..T.
    pub fn draw(&mut self, rng: &mut Rng) {
        let B = self.target.ncols();
        let T = self.X.ncols() / B;
        let (X, target) = (&mut self.X, &mut self.target);
        X.row_mut(1).fill(0.0);
        target.fill(0.0);
        for j in 0..B {
            for t in 0..T {
                X[(0, t * B + j)] = rng::uniform(rng, 0.0, 1.0);
            }
            let first = rng::below(rng, T / 2);
            let second = T / 2 + rng::below(rng, T - T / 2);
            for t in [first, second] {
                X[(1, t * B + j)] = 1.0;
                target[(0, j)] += X[(0, t * B + j)];
            }
        }
    }
}

/// B fresh sequences of length T (T ≥ 2).
pub fn batch(T: usize, B: usize, rng: &mut Rng) -> Batch {
    let mut b = Batch::new(T, B);
    b.draw(rng);
    b
}

/// A recurrent stack with a linear read-out of its last state.
#[derive(Clone, Debug, PartialEq)]
pub struct AddingNet<C: Cell> {
    /// The recurrent layers (input size 2).
    pub rnn: Stack<C>,
    /// 1 × H.
    pub W_hy: DMatrix<f64>,
    /// 1 × 1.
    pub b_y: DMatrix<f64>,
}

/// Forward record and gradient buffers of an [`AddingNet`] for T steps of B sequences.
#[derive(Clone, Debug)]
pub struct AddingTape<C: Cell> {
    /// The stack's tapes.
    pub rnn: StackTape<C>,
    /// 1 × B: the predictions y.
    pub y: DMatrix<f64>,
    /// H × T·B: ∂E/∂h_t of the top layer (zero except at t = T, the only step read out).
    dY: DMatrix<f64>,
    /// 1 × B: ∂E/∂y.
    dy: DMatrix<f64>,
}

impl<C: Cell> AddingNet<C> {
    /// L layers of H units; the read-out starts uniform in ±1/√H with b_y = 0.
    pub fn new(H: usize, L: usize, rng: &mut Rng) -> Self {
        let rnn = Stack::new(2, H, L, rng);
        let W_hy = shared::init::uniform_inv_sqrt(1, H, H, rng);
        AddingNet {
            rnn,
            W_hy,
            b_y: DMatrix::zeros(1, 1),
        }
    }

    /// Buffers for T steps of B sequences.
    pub fn tape(&self, T: usize, B: usize) -> AddingTape<C> {
        AddingTape {
            rnn: self.rnn.tape(T, B),
            y: DMatrix::zeros(1, B),
            dY: DMatrix::zeros(self.rnn.hidden_size(), T * B),
            dy: DMatrix::zeros(1, B),
        }
    }

    /// Runs the batch; returns the MSE (1/B) Σ_j (y_j − target_j)².
    pub fn forward(&self, batch: &Batch, tape: &mut AddingTape<C>) -> f64 {
        let (T, B) = (tape.rnn.steps(), tape.rnn.batch());
        tape.rnn.reset(); // every sequence starts from h_0 = c_0 = 0
        self.rnn.forward(batch.X.columns(0, T * B), &mut tape.rnn);
        let h_T = tape.rnn.h(T); // H × B
        // y = W_hy h_T + b_y
        shared::kernels::gemm(1.0, &self.W_hy, &h_T, 0.0, &mut tape.y);
        tape.y.add_scalar_mut(self.b_y[(0, 0)]);
        tape.y
            .iter()
            .zip(batch.target.iter())
            .map(|(y, t)| (y - t) * (y - t))
            .sum::<f64>()
            / B as f64
    }

    /// Forward and backward pass; *accumulates* ∂MSE/∂θ into `grad`, returns the MSE.
    pub fn backward(&self, batch: &Batch, tape: &mut AddingTape<C>, grad: &mut Self) -> f64 {
        let mse = self.forward(batch, tape);
        let (T, B) = (tape.rnn.steps(), tape.rnn.batch());
        // E = (1/B) Σ (y − t)²  ⇒  ∂E/∂y = 2(y − t)/B
        tape.dy
            .iter_mut()
            .zip(tape.y.iter().zip(batch.target.iter()))
            .for_each(|(d, (y, t))| *d = 2.0 * (y - t) / B as f64);
        let h_T = tape.rnn.h(T);
        // y = W_hy h_T + b_y  ⇒  dW_hy += dy h_Tᵀ, db_y += Σ dy, ∂E/∂h_T = W_hyᵀ dy
        shared::kernels::gemm_nt(1.0, &tape.dy, &h_T, 1.0, &mut grad.W_hy);
        grad.b_y[(0, 0)] += tape.dy.sum();
        let mut dh_T = tape.dY.columns_mut((T - 1) * B, B);
        shared::kernels::gemm_tn(1.0, &self.W_hy, &tape.dy, 0.0, &mut dh_T);
        self.rnn.backward(
            batch.X.columns(0, T * B),
            &mut tape.rnn,
            tape.dY.columns(0, T * B),
            &mut grad.rnn,
        );
        mse
    }

    /// A zero gradient buffer.
    pub fn zeros_like(&self) -> Self {
        AddingNet {
            rnn: self.rnn.zeros_like(),
            W_hy: DMatrix::zeros(1, self.W_hy.ncols()),
            b_y: DMatrix::zeros(1, 1),
        }
    }

    /// All parameters, mutable, in a fixed order.
    pub fn params_mut(&mut self) -> Vec<&mut DMatrix<f64>> {
        let mut p = self.rnn.params_mut();
        p.push(&mut self.W_hy);
        p.push(&mut self.b_y);
        p
    }

    /// The buffers of [`Parallel::backward`] for T steps of B sequences on `threads` threads.
    pub fn parallel(&self, T: usize, B: usize, threads: usize) -> Parallel<C> {
        let parts = crate::parallel::groups(B, threads)
            .into_iter()
            .map(|(j0, b)| Part {
                j0,
                w: b as f64 / B as f64,
                batch: Batch::new(T, b),
                tape: self.tape(T, b),
                grad: self.zeros_like(),
                mse: 0.0,
            })
            .collect();
        Parallel { parts }
    }
}

/// [`AddingNet::backward`] with the batch's sequences split over threads
/// ([`crate::parallel`]): each group's own batch copy, tape and gradient buffer.
#[derive(Clone, Debug)]
pub struct Parallel<C: Cell> {
    parts: Vec<Part<C>>,
}

/// One group of sequences j0 .. j0 + B_g.
#[derive(Clone, Debug)]
struct Part<C: Cell> {
    j0: usize,
    /// w_g = B_g / B.
    w: f64,
    batch: Batch,
    tape: AddingTape<C>,
    grad: AddingNet<C>,
    mse: f64,
}

impl<C: Cell> Parallel<C> {
    /// Threads used (min(N, B)).
    pub fn threads(&self) -> usize {
        self.parts.len()
    }

    /// Forward and backward pass of `batch`, group g on thread g; *accumulates*
    /// ∂MSE/∂θ = Σ_g w_g ∂MSE_g/∂θ into `grad` and returns MSE = Σ_g w_g MSE_g (g in order).
    pub fn backward(&mut self, net: &AddingNet<C>, batch: &Batch, grad: &mut AddingNet<C>) -> f64 {
        let B = batch.target.ncols();
        for p in self.parts.iter_mut() {
            let b = p.batch.target.ncols();
            crate::parallel::gather_columns(
                batch.X.columns(0, batch.X.ncols()),
                B,
                p.j0,
                &mut p.batch.X,
            );
            p.batch.target.copy_from(&batch.target.columns(p.j0, b));
        }
        crate::parallel::for_each_part(&mut self.parts, |p| {
            p.grad.params_mut().into_iter().for_each(|g| g.fill(0.0));
            p.mse = net.backward(&p.batch, &mut p.tape, &mut p.grad);
        });
        let parts: Vec<(f64, Vec<&mut DMatrix<f64>>)> = (self.parts.iter_mut())
            .map(|p| (p.w, p.grad.params_mut()))
            .collect();
        crate::parallel::add_weighted(grad.params_mut(), &parts);
        self.parts.iter().map(|p| p.w * p.mse).sum()
    }
}

/// Settings of one adding-problem training run.
#[derive(Clone, Debug)]
pub struct Config {
    /// Sequence length T.
    pub T: usize,
    /// Hidden units per layer.
    pub hidden: usize,
    /// Layers.
    pub layers: usize,
    /// Sequences per mini-batch.
    pub batch: usize,
    /// Training steps (one mini-batch each, fresh sequences every step).
    pub steps: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Largest global gradient norm (larger gradients are scaled down).
    pub clip: f64,
    /// Evaluate on the held-out sequences every this many steps.
    pub eval_every: usize,
    /// Held-out sequences (drawn once from the seed).
    pub test_size: usize,
    /// Threads for each mini-batch (1: the single-threaded code; see [`crate::parallel`]).
    pub threads: usize,
}

impl Config {
    /// Refuses sizes whose buffers (training and held-out tapes, weights, Adam) would exceed
    /// [`crate::MAX_FLOATS`], naming the flags.
    pub fn check_memory(&self) -> Result<()> {
        let columns = self.batch + self.test_size;
        let floats = crate::stack_floats(2, self.hidden, self.layers, self.T, columns);
        crate::check_memory(floats, "--hidden, --layers, --length, --batch")
    }
}

/// What a training run measured.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// "rnn", "lstm", "gru".
    pub cell: &'static str,
    /// Mini-batch MSE at every step.
    pub train_mse: Series,
    /// Held-out MSE at every evaluation.
    pub test_mse: Series,
    /// Held-out MSE after the last step.
    pub final_test_mse: f64,
    /// Lowest held-out MSE of the run.
    pub best_test_mse: f64,
    /// First evaluation step with held-out MSE < 0.01, if any.
    pub solved_at: Option<usize>,
    /// Training wall time in seconds.
    pub seconds: f64,
    /// Number of parameters.
    pub params: usize,
}

/// Trains an [`AddingNet`] of cell `C`. The data stream and the held-out set depend only on
/// `seed`, so every cell sees the same sequences. Returns what was measured up to the end, or
/// up to the step where the loss stopped being finite together with that error (so the curves
/// so far can still be drawn).
pub fn train<C: Cell>(cfg: &Config, seed: u64, progress: &Progress) -> (Outcome, Result<()>) {
    let mut out = Outcome {
        cell: C::NAME,
        train_mse: Series::new(format!("{} (mini-batch)", C::NAME)),
        test_mse: Series::new(format!("{} (held out)", C::NAME)),
        final_test_mse: f64::NAN,
        best_test_mse: f64::INFINITY,
        solved_at: None,
        seconds: 0.0,
        params: 0,
    };
    let result = run::<C>(cfg, seed, progress, &mut out);
    (out, result)
}

/// [`train`]'s loop, filling `out` as it goes.
fn run<C: Cell>(cfg: &Config, seed: u64, progress: &Progress, out: &mut Outcome) -> Result<()> {
    if cfg.T < 2 {
        return Err(Error::flag("--length", "must be at least 2"));
    }
    let start = Instant::now();
    let mut net: AddingNet<C> = AddingNet::new(cfg.hidden, cfg.layers, &mut rng::stream(seed, 1));
    let mut grad = net.zeros_like();
    let mut data = rng::stream(seed, 2);
    let test = batch(cfg.T, cfg.test_size, &mut rng::stream(seed, 3));
    let mut tape = net.tape(cfg.T, cfg.batch);
    let threads = crate::parallel::check_threads(cfg.threads)?;
    let mut parallel = (threads > 1).then(|| net.parallel(cfg.T, cfg.batch, threads));
    let mut test_tape = net.tape(cfg.T, cfg.test_size);
    let mut opt = Optimizer::new(Rule::adam(), cfg.lr);
    out.params = net.params_mut().iter().map(|p| p.len()).sum();
    let evaluate =
        |net: &AddingNet<C>, step: usize, out: &mut Outcome, tape: &mut AddingTape<C>| {
            let mse = check_finite(step as u64, net.forward(&test, tape))?;
            out.test_mse.push(step as f64, mse);
            if mse < 0.01 && out.solved_at.is_none() {
                out.solved_at = Some(step);
            }
            out.final_test_mse = mse;
            out.best_test_mse = out.best_test_mse.min(mse);
            Ok::<f64, Error>(mse)
        };
    evaluate(&net, 0, out, &mut test_tape)?;
    let mut b = Batch::new(cfg.T, cfg.batch);
    for step in 1..=cfg.steps {
        b.draw(&mut data);
        grad.params_mut().into_iter().for_each(|g| g.fill(0.0));
        let mse = match parallel.as_mut() {
            None => net.backward(&b, &mut tape, &mut grad),
            Some(p) => p.backward(&net, &b, &mut grad),
        };
        out.seconds = start.elapsed().as_secs_f64();
        check_finite(step as u64, mse)?;
        out.train_mse.push(step as f64, mse);
        let mut g = grad.params_mut();
        clip_global_norm(&mut g, cfg.clip);
        let g: Vec<&DMatrix<f64>> = g.into_iter().map(|g| &*g).collect();
        opt.step(&mut net.params_mut(), &g);
        if step % cfg.eval_every == 0 || step == cfg.steps {
            let test_mse = evaluate(&net, step, out, &mut test_tape)?;
            progress.set_message(format!("{}: held-out MSE {test_mse:.4}", C::NAME));
        }
        progress.inc(1);
    }
    out.seconds = start.elapsed().as_secs_f64();
    Ok(())
}

/// The table's title and header line.
pub fn header(cfg: &Config) -> String {
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
    /// The run's line of the table under [`header`].
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
pub fn summary(cfg: &Config, runs: &[Outcome]) -> serde_json::Value {
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
pub fn figure(runs: &[Outcome], T: usize, steps: usize) -> Figure {
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
        title: format!(
            "Adding problem, T = {T}: the gated cells remember, the vanilla RNN does not"
        ),
        panels: vec![train, test],
    }
}
