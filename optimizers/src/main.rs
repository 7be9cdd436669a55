//! `optimizers`: notes §8. With no flags it repeats Ng's "Optimization Methods" experiment
//! digit for digit: the [2, 5, 2, 1] ReLU/sigmoid network, He-initialised, trained on 300
//! noisy moons for 10 000 epochs of mini-batches of 64 at α = 0.0007, once with gradient
//! descent, once with momentum (β 0.9) and once with Adam (ε inside the root, as the notes),
//! from the same weights on the same batches, all drawn by numpy's generator as the notebook
//! draws them. Expect the notebook's printed costs (gd epoch 0: 0.702405) and accuracies:
//! gd 0.796667, momentum 0.796667, adam 0.94. `paths` draws every rule's walk on two 2-D
//! surfaces; `batch-size` compares batch sizes 300, 64 and 1; `momentum` sweeps β.

use clap::{Parser, Subcommand};
use optimizers::experiment::{self, TrainArgs};
use optimizers::{batch_size, momentum, paths};
use serde::{Deserialize, Serialize};
use shared::run::RunArgs;
use shared::session::Chapter;

const CHAPTER: Chapter = shared::chapter!();

/// Notes §8 Optimization Methods: mini-batch gradient descent, momentum and Adam side by side
/// (Ng's moons experiment), their paths on 2-D loss surfaces (`paths`), batch sizes
/// (`batch-size`) and momentum's β (`momentum`).
#[derive(Parser, Serialize, Deserialize)]
#[command(name = "optimizers", args_conflicts_with_subcommands = true)]
// The notebook seeds numpy with 3 (NOTEBOOK_SEED): the default run is its run.
#[command(mut_arg("seed", |a| a.default_value("3")))]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    train: TrainArgs,
}

#[derive(Subcommand, Serialize, Deserialize)]
enum Cmd {
    /// Ng's experiment, as the bare command: every rule of --optimizer from the same weights on
    /// the same mini-batches (loss.png, boundary-<rule>.png, model-<rule>.safetensors).
    #[command(mut_arg("seed", |a| a.default_value("3")))]
    Train(TrainArgs),
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

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| {
        // No command resumes (each run takes seconds), so which flags were typed is not needed.
        let (cli, _typed) = shared::cli::parse::<Cli>(&CHAPTER);
        match cli.cmd {
            None => experiment::command(CHAPTER, &cli.train)?,
            Some(Cmd::Train(a)) => experiment::command(CHAPTER, &a)?,
            Some(Cmd::Paths { run }) => paths::command(CHAPTER, &run)?,
            Some(Cmd::BatchSize(a)) => batch_size::command(CHAPTER, &a)?,
            Some(Cmd::Momentum(a)) => momentum::command(CHAPTER, &a)?,
        }
        Ok(())
    })
}
