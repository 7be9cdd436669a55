//! `optimizers`: notes §8. With no flags it repeats Ng's "Optimization Methods" experiment
//! digit for digit: the [2, 5, 2, 1] ReLU/sigmoid network, He-initialised, trained on 300
//! noisy moons for 10 000 epochs of mini-batches of 64 at α = 0.0007, once with gradient
//! descent, once with momentum (β 0.9) and once with Adam (ε inside the root, as the notes),
//! from the same weights on the same batches, all drawn by numpy's generator as the notebook
//! draws them. Expect the notebook's printed costs (gd epoch 0: 0.702405) and accuracies:
//! gd 0.796667, momentum 0.796667, adam 0.94. `paths` draws every rule's walk on two 2-D
//! surfaces; `batch-size` compares batch sizes 300, 64 and 1; `momentum` sweeps β.

#![allow(non_snake_case)]

use anyhow::{Result, bail};
use clap::{Args, Parser, Subcommand};
use optimizers::data::{BATCH_SEED, Data, RngKind, describe_rng};
use optimizers::experiment::{self, Outcome, RuleFlags};
use optimizers::train::adam_eps;
use optimizers::{Decay, LAYERS, Method, batch_size, fast, momentum, paths};
use serde_json::json;
use shared::Error;
use shared::plot::Series;
use shared::run::{Run, RunArgs};
use std::path::PathBuf;

/// Notes §8 Optimization Methods: mini-batch gradient descent, momentum and Adam side by side
/// (Ng's moons experiment), their paths on 2-D loss surfaces (`paths`), batch sizes
/// (`batch-size`) and momentum's β (`momentum`).
#[derive(Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
// The notebook seeds numpy with 3 (NOTEBOOK_SEED): the default run is its run.
#[command(mut_arg("seed", |a| a.default_value("3")))]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    train: TrainArgs,
}

#[derive(Subcommand)]
enum Cmd {
    /// Every update rule from the same start on x²/20 + y² and on Rosenbrock's function, drawn
    /// over their contour lines (paths.png).
    Paths {
        #[command(flatten)]
        run: RunArgs,
    },
    /// Gradient descent with batches of 300 (all), 64 and 1 (SGD) on the notebook's moons and
    /// weights: the cost against epochs and against seconds (loss.png), and a table.
    #[command(mut_arg("seed", |a| a.default_value("3")))]
    BatchSize(batch_size::Args),
    /// The notes' momentum with β = 0, 0.5, 0.9, 0.99, 0.999 on x²/20 + y²: the paths
    /// (momentum.png), f per step (loss.png) and a table.
    Momentum(momentum::Args),
}

#[derive(Args)]
struct TrainArgs {
    /// Update rules to compare, comma-separated: gd, momentum, adam, nesterov, adagrad,
    /// rmsprop, classic-momentum, or all.
    #[arg(long, value_delimiter = ',', default_value = "gd,momentum,adam", value_parser = Method::parse_list)]
    optimizer: Vec<Vec<Method>>,
    /// Passes over the training set.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    epochs: u64,
    /// The rules' hyperparameters and the learning-rate schedule.
    #[command(flatten)]
    rules: RuleFlags,
    /// Number of moons points.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(2..))]
    samples: u64,
    /// Standard deviation of the moons' Gaussian noise.
    #[arg(long, default_value_t = 0.2)]
    noise: f64,
    /// Train on these points instead: CSV lines x1,x2,label (label 0 or 1; optional header).
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Generator of the moons, the weights and the mini-batches: `numpy` is the notebook's
    /// (np.random.seed(--seed), its numbers bit for bit with seed 3), `chacha` the workspace's.
    #[arg(long, value_enum, default_value_t = RngKind::Numpy)]
    rng: RngKind,
    /// Print the cost every N epochs.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    print_every: u64,
    #[command(flatten)]
    run: RunArgs,
}

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| {
        let cli = Cli::parse();
        match cli.cmd {
            None => train(cli.train),
            Some(Cmd::Paths { mut run }) => {
                run.out = run.out.or_else(|| Some("runs/optimizers/paths".into()));
                Ok(paths::command(run)?)
            }
            Some(Cmd::BatchSize(mut a)) => {
                a.run.out = a
                    .run
                    .out
                    .or_else(|| Some("runs/optimizers/batch-size".into()));
                Ok(batch_size::command(a)?)
            }
            Some(Cmd::Momentum(mut a)) => {
                a.run.out = a
                    .run
                    .out
                    .or_else(|| Some("runs/optimizers/momentum".into()));
                Ok(momentum::command(a)?)
            }
        }
    })
}

fn train(a: TrainArgs) -> Result<()> {
    if !(a.noise.is_finite() && a.noise >= 0.0) {
        bail!(Error::flag("--noise", "must be a number ≥ 0"));
    }
    let mut methods: Vec<Method> = Vec::new();
    for &m in a.optimizer.iter().flatten() {
        if !methods.contains(&m) {
            methods.push(m);
        }
    }
    let setup = a.rules.setup(a.rng, a.run.seed)?;
    if a.rng == RngKind::Numpy && a.epochs > u64::from(u32::MAX - BATCH_SEED) {
        bail!(Error::flag(
            "--epochs",
            "numpy seeds epoch e's mini-batches with 11 + e, below 2^32 (or use --rng chacha)"
        ));
    }
    let run = Run::start("optimizers", &a.run)?;
    let data = match &a.csv {
        Some(p) => Data::csv(p)?,
        None => Data::moons(a.rng, run.seed, a.samples as usize, a.noise)?,
    };
    let (eps_at, update) = adam_eps(setup.hyper.adam_eps);
    println!(
        "notes §8: network {LAYERS:?} (ReLU, ReLU, sigmoid), He init, {}; {} epochs, mini-batch {}, α = {}\n\
         random numbers: {}\nAdam: {update}, ε = {:e} {eps_at} the square root",
        data.name,
        a.epochs,
        setup.batch_size,
        setup.lr,
        describe_rng(a.rng, run.seed),
        setup.hyper.epsilon
    );
    let bar = run.progress(a.epochs * methods.len() as u64, "train");
    let mut done: Vec<Outcome> = Vec::new();
    for (k, &method) in methods.iter().enumerate() {
        let mut tr = setup.trainer(method, data.labels.len())?;
        bar.println(format!("── {} ──", method.name()));
        let (mut curve, mut printed, mut cost) = (Series::new(method.name()), Vec::new(), f64::NAN);
        let clock = std::time::Instant::now();
        for i in 0..a.epochs {
            cost = tr.epoch(&data.X, &data.Y);
            if let Err(diverged) = shared::error::check_finite(i, cost) {
                // Keep the curves so far (this rule's up to its last finite epoch); the models of
                // the rules already trained stay as written.
                let partial = Outcome {
                    method,
                    curve,
                    printed,
                    final_cost: cost,
                    accuracy: f64::NAN,
                    steps: 0,
                    seconds: 0.0,
                };
                done.push(partial);
                run.save_loss(&experiment::figure(&done, setup.lr, setup.batch_size))?;
                bail!(diverged);
            }
            if i % 100 == 0 || i + 1 == a.epochs {
                curve.push(i as f64, cost);
                bar.set_position(k as u64 * a.epochs + i + 1);
            }
            if i % a.print_every == 0 {
                bar.println(format!("Cost after epoch {i}: {cost:.6}"));
                printed.push(cost);
            }
        }
        let (seconds, steps) = (clock.elapsed().as_secs_f64(), tr.opt.state().t);
        let accuracy = fast::accuracy(&tr.net, &data.X, &data.labels);
        bar.println(format!(
            "Accuracy: {accuracy:.6}   ({steps} steps in {seconds:.3} s)"
        ));
        experiment::save_rule(&run, method, &tr.net, &data, accuracy)?;
        done.push(Outcome {
            method,
            curve,
            printed,
            final_cost: cost,
            accuracy,
            steps,
            seconds,
        });
    }
    bar.finish();
    print!("\n{}", experiment::table(&done));
    if a.csv.is_none() && setup.decay == Decay::Off {
        println!("(the notebook, 10 000 epochs: gd 0.796667, momentum 0.796667, adam 0.94)");
    }
    run.save_loss(&experiment::figure(&done, setup.lr, setup.batch_size))?;
    let steps: u64 = done.iter().map(|o| o.steps).sum();
    let settings = json!({"epochs": a.epochs, "lr": setup.lr, "batch_size": setup.batch_size,
        "rng": a.rng.name(), "adam_eps": eps_at, "adam_update": update});
    run.save_summary(steps, experiment::summary(&done, &data, settings))?;
    println!(
        "wrote {}/{{loss.png, loss.csv, boundary-*.png, model-*.safetensors, summary.json}}",
        run.out.display()
    );
    Ok(())
}
