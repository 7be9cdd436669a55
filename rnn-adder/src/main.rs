//! `cargo run --release -p rnn-adder`: notes §6, RNN toy model (trask's binary adder).
//!
//! A vanilla RNN with 16 sigmoid hidden units reads two numbers one bit pair per step, least
//! significant first, and outputs the bits of their sum. The default run draws its weights and
//! examples from numpy's `np.random.seed(0)` stream, as trask's post does, and prints his
//! numbers (error 3.45638663 on 9 + 60 = 1 at example 0, … 0.21595037 on 11 + 3 = 14 at 9000).
//! Expect the error to stay near 4 for a few thousand examples, then fall; after 10 000
//! examples all 16 384 sums a + b (a, b < 128) are right, and the same weights, run for more
//! steps, add 10-, 16-, 32- and 64-bit numbers. `rnn-adder example-6-1` prints Example 6.1.

#![allow(non_snake_case)]

use clap::{Parser, Subcommand, ValueEnum, builder::RangedU64ValueParser};
use rnn_adder::report::{self, Summary};
use rnn_adder::train::{Curves, TestSets, accuracy_on, test_wider, thousands};
use rnn_adder::{CHAPTER, Cost, Draws, RngKind, Sequence, checkpoint, example_6_1};
use shared::run::{Run, RunArgs};

/// Notes §6 RNN toy model: a vanilla RNN learns binary addition (trask's adder), trained by
/// BPTT written out by hand. `example-6-1` works through the notes' Example 6.1.
#[derive(Parser, Debug)]
#[command(name = "rnn-adder", version)]
// trask's post seeds numpy with 0: the default run is his.
#[command(mut_arg("seed", |a| a.default_value("0")))]
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
    #[arg(long, value_enum, default_value_t = CostFlag::L2)]
    cost: CostFlag,
    /// Generator of the weights and examples: `numpy` is np.random.seed(--seed) used as trask
    /// uses it (his printed numbers, bit for bit), `chacha` the workspace's generator
    #[arg(long, value_enum, default_value_t = RngKind::Numpy)]
    rng: RngKind,
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

/// `--cost`: the model's [`Cost`] as the flag spells it.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum CostFlag {
    /// L² cost E = ½ Σ (t_i − y_i)² (the notes' and trask's choice).
    L2,
    /// Logistic (cross-entropy) cost E = −Σ [t_i ln y_i + (1 − t_i) ln(1 − y_i)].
    Logistic,
}

impl From<CostFlag> for Cost {
    fn from(c: CostFlag) -> Cost {
        match c {
            CostFlag::L2 => Cost::L2,
            CostFlag::Logistic => Cost::Logistic,
        }
    }
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
    shared::cli::check_positive("--lr", args.lr)?;
    let mut draws = Draws::new(args.rng, args.run.seed)?;
    let run = Run::start(CHAPTER, &args.run)?;
    let (T, N_h, cost, half) = (
        args.bits,
        args.hidden,
        Cost::from(args.cost),
        1u64 << (args.bits - 1),
    );
    let mut model = draws.model(N_h);
    let wider = args.eval_bits.first().copied().unwrap_or(T + 2);
    let tests = TestSets::new(T, wider, run.seed);
    println!("rnn-adder · notes §6 RNN toy model: a vanilla RNN learns a + b, one bit per step");
    println!(
        "  {T}-bit sums (a, b < {half}), N_h = {N_h}, α = {}, {} cost, {} examples, weights and examples from {}\n",
        args.lr,
        cost.label(),
        thousands(args.iterations),
        draws.describe(run.seed)
    );
    let test = if tests.exhaustive() {
        "all pairs"
    } else {
        "sampled"
    };
    println!("{}", report::header(T, test));

    let (mut seq, mut cache, mut grads) = (Sequence::new(T), model.cache(T), model.grads());
    let mut curves = Curves::new(&tests);
    let title = format!(
        "rnn-adder: a vanilla RNN learns binary addition (N_h = {N_h}, {} cost, {})",
        cost.label(),
        draws.describe(run.seed)
    );
    let bar = run.progress(args.iterations, "train");
    // Time spent training only (the accuracy measurements are excluded).
    let (mut train_secs, mut clock) = (0.0, std::time::Instant::now());
    for it in 0..args.iterations {
        let (a, b) = draws.pair(T);
        seq.set(a, b);
        let e = model.train_step(&seq, cost, args.lr, &mut cache, &mut grads);
        if let Err(diverged) = shared::error::check_finite(it, e) {
            // Keep the curves up to the last finite example, then stop.
            run.save_loss(&curves.figure(&title, T))?;
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
    let wide = test_wider(&model, &args.eval_bits, args.eval_pairs, run.seed);
    let (n, pairs) = (args.iterations, args.eval_pairs);
    println!(
        "{}",
        report::after(n, train_secs, &tests, all, pairs, &wide)
    );

    run.save_loss(&curves.figure(&title, T))?;
    checkpoint::save(
        &model,
        &run.path("model.safetensors"),
        &[("bits", T.to_string()), ("cost", cost.name().into())],
    )?;
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
    run.save_summary(args.iterations, summary.json())?;
    let files = "{loss.png, loss.csv, summary.json, model.safetensors}";
    println!("\nwrote {}/{files}", run.out.display());
    Ok(())
}
