//! The commands, on the run session (`shared::session`): `train` (the default: flags → draws →
//! model → trask's loop with the accuracy curves → the wider test → outputs) and
//! `example-6-1`.

#![allow(non_snake_case)]

use crate::checkpoint::Trained;
use crate::cli::{ExampleArgs, TrainArgs};
use crate::report::{self, Summary};
use crate::train::{Curves, TestSets, accuracy_on, check_step, test_wider, thousands};
use crate::{Cost, Draws, RngKind, Sequence, example_6_1};
use anyhow::Result;
use shared::say;
use shared::session::{Chapter, Session, check_memory};

/// `rnn-adder` / `rnn-adder train`: trask's run, its curves, the wider test, the model.
pub fn train(chapter: Chapter, args: &TrainArgs) -> Result<()> {
    shared::cli::check_positive("--lr", args.lr)?;
    let mut draws = Draws::new(args.rng, args.run.seed)?;
    // The error curve keeps a point (16 bytes) per example; the wider test 16 per pair and width.
    let n = args.iterations as f64;
    check_memory("--iterations", &format!("{n} examples"), 16.0 * n)?;
    let pairs = (args.eval_pairs * args.eval_bits.len()) as f64;
    check_memory("--eval-pairs", &format!("{pairs} pairs"), 16.0 * pairs)?;
    let session = Session::outputs(chapter, &args.run, None, args)?;
    let seed = session.seed;
    let (T, N_h, cost, half) = (
        args.bits,
        args.hidden,
        Cost::from(args.cost),
        1u64 << (args.bits - 1),
    );
    let mut model = draws.model(N_h);
    let wider = args.eval_bits.first().copied().unwrap_or(T + 2);
    let tests = TestSets::new(T, wider, seed);
    say!("rnn-adder · notes §6 RNN toy model: a vanilla RNN learns a + b, one bit per step")?;
    say!(
        "  {T}-bit sums (a, b < {half}), N_h = {N_h}, α = {}, {} cost, {} examples, weights and examples from {}\n",
        args.lr,
        cost.label(),
        thousands(args.iterations),
        draws.describe(seed)
    )?;
    let test = if tests.exhaustive() {
        "all pairs"
    } else {
        "sampled"
    };
    say!("{}", report::header(T, test))?;

    let (mut seq, mut cache, mut grads) = (Sequence::new(T), model.cache(T), model.grads());
    let mut curves = Curves::new(&tests);
    let title = format!(
        "rnn-adder: a vanilla RNN learns binary addition (N_h = {N_h}, {} cost, {})",
        cost.label(),
        draws.describe(seed)
    );
    let bar = session.progress(args.iterations, "train");
    // Time spent training only (the accuracy measurements are excluded).
    let (mut train_secs, mut clock) = (0.0, std::time::Instant::now());
    for it in 0..args.iterations {
        let (a, b) = draws.pair(T);
        seq.set(a, b);
        let e = model.train_step(&seq, cost, args.lr, &mut cache, &mut grads);
        if let Err(diverged) = check_step(it, e, &cache, &model) {
            // Keep the curves up to the last good example, then stop (no model is saved).
            session.save_loss(&curves.figure(&title, T))?;
            Err(diverged)?;
        }
        curves.error.push(it as f64, e);
        bar.inc(1);
        let last = it + 1 == args.iterations;
        if !it.is_multiple_of(args.eval_every) && !it.is_multiple_of(args.report_every) && !last {
            continue;
        }
        train_secs += clock.elapsed().as_secs_f64();
        let acc = curves.measure(it, &model, &tests);
        if it.is_multiple_of(args.report_every) || last {
            // The cache still holds this example's forward pass: the prediction before the update.
            bar.println(report::row(it, e, &seq, cache.sum(), acc.fraction()));
        }
        bar.set_message(format!("error {e:.3}"));
        clock = std::time::Instant::now();
    }
    bar.finish();

    // The final figures: every pair of the trained width, then wider sums with the same weights.
    let all = accuracy_on(&model, T, &tests.pairs);
    let wide = test_wider(&model, &args.eval_bits, args.eval_pairs, seed);
    let (n, pairs) = (args.iterations, args.eval_pairs);
    say!(
        "{}",
        report::after(n, train_secs, &tests, all, pairs, &wide)
    )?;

    session.save_loss(&curves.figure(&title, T))?;
    let rng = ["numpy", "chacha"][(args.rng == RngKind::Chacha) as usize];
    let summary = Summary {
        cost,
        hidden: N_h,
        bits: T,
        lr: args.lr,
        rng,
        train_seconds: train_secs,
        accuracy: all,
        curves: &curves,
        wider: &wide,
    };
    session.save_summary(args.iterations, summary.json())?;
    session.save_checkpoint(&Trained {
        model,
        bits: T,
        cost,
    })?;
    say!("")?;
    session.finish()?;
    Ok(())
}

/// `rnn-adder example-6-1`: the notes' Example 6.1, printed, and its numbers in summary.json.
pub fn example_6_1(chapter: Chapter, args: &ExampleArgs) -> Result<()> {
    let session = Session::outputs(chapter, &args.run, Some("example-6-1"), args)?;
    say!("{}", example_6_1::report())?;
    session.save_summary(0, example_6_1::summary())?;
    session.finish()?;
    Ok(())
}
