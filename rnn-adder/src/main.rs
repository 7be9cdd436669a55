//! `cargo run --release -p rnn-adder`: notes §6, RNN toy model (trask's binary adder).
//!
//! A vanilla RNN with 16 sigmoid hidden units reads two numbers one bit pair per step, least
//! significant first, and outputs the bits of their sum. Expect, with the defaults: the error
//! stays near 4 for a few thousand examples, then falls; after 10 000 examples all 16 384
//! sums a + b (a, b < 128) are right, and the same weights, run for more steps, add 10-, 16-,
//! 32- and 64-bit numbers. `rnn-adder example-6-1` prints the notes' Example 6.1.

#![allow(non_snake_case)]

use clap::{Parser, Subcommand, builder::RangedU64ValueParser};
use rnn_adder::report::{self, thousands};
use rnn_adder::{
    Adder, CHAPTER, Cost, Sequence, accuracy_on, all_pairs, example_6_1, random_addend,
    random_pairs,
};
use serde_json::json;
use shared::plot::{Figure, Legend, Panel, Series};
use shared::run::{Run, RunArgs};
use shared::{Error, rng};

/// Notes §6 RNN toy model: a vanilla RNN learns binary addition (trask's adder), trained by
/// BPTT written out by hand. `example-6-1` works through the notes' Example 6.1.
#[derive(Parser, Debug)]
#[command(name = "rnn-adder", version)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Bits of the training sums = time steps; the addends have one bit less (8: a, b < 128)
    #[arg(long, default_value_t = 8, value_parser = RangedU64ValueParser::<usize>::new().range(2..=64))]
    bits: usize,
    /// Hidden units N_h
    #[arg(long, default_value_t = 16, value_parser = RangedU64ValueParser::<usize>::new().range(1..=4096))]
    hidden: usize,
    /// Learning rate α (the update is W ← W + α dW, dW = −∂E/∂W as the notes write it)
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    lr: f64,
    /// Training examples, one random pair each (batch size 1)
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    iterations: u64,
    /// Cost: the notes' L² cost or the logistic (cross-entropy) cost
    #[arg(long, value_enum, default_value_t = Cost::L2)]
    cost: Cost,
    /// Widths (bits) of the sums to test generalisation on, comma-separated
    #[arg(long, value_delimiter = ',', default_values_t = [10, 16, 32, 64],
          value_parser = RangedU64ValueParser::<usize>::new().range(2..=64))]
    eval_bits: Vec<usize>,
    /// Random pairs tested at each --eval-bits width
    #[arg(long, default_value_t = 20_000, value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
    eval_pairs: usize,
    /// Print trask's report every N examples
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    report_every: u64,
    /// Measure the accuracy curves (all pairs of --bits; 1000 wider sums) every N examples
    #[arg(long, default_value_t = 250, value_parser = clap::value_parser!(u64).range(1..))]
    eval_every: u64,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The notes' Example 6.1: ∂E/∂z_1 in a three-step RNN, from the rounded and the exact
    /// hidden values, checked by finite differences
    #[command(name = "example-6-1")]
    Example61,
}

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| {
        let args = Args::parse();
        match args.command {
            Some(Command::Example61) => {
                println!("{}", example_6_1::report());
                Ok(())
            }
            None => train(&args),
        }
    })
}

fn train(args: &Args) -> anyhow::Result<()> {
    if !(args.lr.is_finite() && args.lr > 0.0) {
        Err(Error::flag(
            "--lr",
            format!("must be positive, got {}", args.lr),
        ))?;
    }
    let run = Run::start(CHAPTER, &args.run)?;
    let (T, N_h, cost, half) = (args.bits, args.hidden, args.cost, 1u64 << (args.bits - 1));
    // One stream per purpose: the weights do not change when the data draws more numbers.
    let mut model = Adder::new(N_h, &mut rng::stream(run.seed, 0));
    let mut data = rng::stream(run.seed, 1);
    let wider = args.eval_bits.first().copied().unwrap_or(T + 2);
    let probe = random_pairs(wider, 1000, &mut rng::stream(run.seed, 2));
    // The test pairs of the training width: all of them up to 65,536 (--bits 9), else a sample.
    let (test, test_name) = if T <= 9 {
        (
            all_pairs(T),
            format!("all {} pairs", thousands(half * half)),
        )
    } else {
        (
            random_pairs(T, 16_384, &mut rng::stream(run.seed, 4)),
            "16,384 random pairs".into(),
        )
    };
    println!("rnn-adder · notes §6 RNN toy model: a vanilla RNN learns a + b, one bit per step");
    println!(
        "  {T}-bit sums (a, b < {half}), N_h = {N_h}, α = {}, {} cost, {} examples, seed {}\n",
        args.lr,
        cost.label(),
        thousands(args.iterations),
        run.seed
    );
    println!(
        "{}",
        report::header(T, if T <= 9 { "all pairs" } else { "sampled" })
    );

    let (mut seq, mut ws) = (Sequence::new(T), model.buffers(T));
    let mut error = Series::new("Σ|t − y| per example");
    let mut acc_all = Series::new(format!(
        "all {} pairs, {T}-bit sums",
        thousands(half * half)
    ));
    let mut acc_wide = Series::new(format!("1,000 random {wider}-bit sums"));
    let mut first_perfect = None;
    let bar = run.progress(args.iterations, "train");
    // Time spent training only (the accuracy measurements are excluded).
    let (mut train_secs, mut clock) = (0.0, std::time::Instant::now());
    for it in 0..args.iterations {
        seq.set(random_addend(T, &mut data), random_addend(T, &mut data));
        let e = model.train_step(&seq, cost, args.lr, &mut ws);
        error.push(it as f64, shared::error::check_finite(it, e)?);
        bar.inc(1);
        let last = it + 1 == args.iterations;
        if !it.is_multiple_of(args.eval_every) && !it.is_multiple_of(args.report_every) && !last {
            continue;
        }
        train_secs += clock.elapsed().as_secs_f64();
        let acc = accuracy_on(&model, T, &test);
        acc_all.push(it as f64, acc.fraction());
        acc_wide.push(it as f64, accuracy_on(&model, wider, &probe).fraction());
        if acc.correct == acc.total && first_perfect.is_none() {
            first_perfect = Some(it);
        }
        if it.is_multiple_of(args.report_every) || last {
            // ws.y still holds this example's forward pass: the prediction before the update.
            bar.println(report::row(it, e, &seq, ws.sum(), acc.fraction()));
        }
        bar.set_message(format!("error {e:.3}"));
        clock = std::time::Instant::now();
    }
    bar.finish();

    // The final figures: every pair of the trained width, then wider sums with the same weights.
    let all = accuracy_on(&model, T, &test);
    let per_example = 1e6 * train_secs / args.iterations as f64;
    println!(
        "\nafter {} examples ({train_secs:.2} s, {per_example:.1} µs each):",
        thousands(args.iterations)
    );
    println!(
        "  {test_name} a, b < {half} ({T}-bit sums): {}",
        report::accuracy(all)
    );
    println!(
        "  wider sums, the same weights run for more steps ({} random pairs each):",
        thousands(args.eval_pairs as u64)
    );
    let mut eval = rng::stream(run.seed, 3);
    let mut wide = Vec::new();
    for &bits in &args.eval_bits {
        let acc = accuracy_on(
            &model,
            bits,
            &random_pairs(bits, args.eval_pairs, &mut eval),
        );
        let (a, b) = (
            random_addend(bits, &mut eval),
            random_addend(bits, &mut eval),
        );
        let pred = model.add(&Sequence::of(a, b, bits), &mut model.buffers(bits));
        let example = format!("{a} + {b} = {pred} {}", report::mark(pred == a + b));
        println!(
            "    {bits:>2}-bit sums: {}   e.g. {example}",
            report::accuracy(acc)
        );
        wide.push(
            json!({"bits": bits, "pairs": acc.total, "correct": acc.correct,
                         "accuracy": acc.fraction()}),
        );
    }

    // The per-example error is too noisy to read: the figure shows its moving average.
    let smooth = error.smoothed(0.99, "moving average (0.99)");
    let final_error = smooth.last();
    // Every 10th point is plenty for an 800-pixel panel (and keeps loss.csv small).
    let smooth = Series {
        points: smooth.points.iter().step_by(10).copied().collect(),
        ..smooth
    };
    let title = format!(
        "rnn-adder: a vanilla RNN learns binary addition (N_h = {N_h}, {} cost, seed {})",
        cost.label(),
        run.seed
    );
    let figure = Figure {
        title,
        panels: vec![
            Panel::new(
                "training error (trask's Error, smoothed)",
                "example",
                format!("Σ|t − y| over the {T} bits"),
            )
            .with(smooth),
            Panel::new(
                "accuracy (every bit right)",
                "example",
                "fraction of sums right",
            )
            .legend(Legend::LowerRight)
            .with(acc_all)
            .with(acc_wide),
        ],
    };
    run.save_loss(&figure)?;
    model.save(
        &run.path("model.safetensors"),
        &[("bits", T.to_string()), ("cost", cost.name().into())],
    )?;
    run.save_summary(
        args.iterations,
        json!({
            "cost": cost.name(), "hidden": N_h, "bits": T, "lr": args.lr,
            "final_error": final_error, "train_seconds": train_secs,
            "accuracy": all.fraction(), "pairs": all.total, "correct": all.correct,
            "first_all_correct_at": first_perfect,
            "accuracy_wider": wide,
        }),
    )?;
    let files = "{loss.png, loss.csv, summary.json, model.safetensors}";
    println!("\nwrote {}/{files}", run.out.display());
    Ok(())
}
