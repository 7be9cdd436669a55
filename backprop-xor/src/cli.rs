//! The command line: `backprop-xor [train]`, `chain-rule`, `simple-nets`, `digits`,
//! `eval`. Parsed by
//! `shared::cli::parse`, which adds `--version` and each command's real `--out` default; the
//! structs are serialisable, as the run session stores the flags in `summary.json` and the
//! model file.

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};
use shared::run::RunArgs;
use std::path::PathBuf;

/// Notes §2 Chain Rule, §3 Deep Neural Net, §4 Back Propagation: trask's 11-line XOR network.
#[derive(Parser)]
#[command(name = "backprop-xor", args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do (default: train).
    #[command(subcommand)]
    pub cmd: Option<Cmd>,
    /// `train`'s flags, for the bare command.
    #[command(flatten)]
    pub train: TrainArgs,
}

/// The subcommands.
#[derive(Subcommand)]
pub enum Cmd {
    /// §4.1: train the XOR network (the default) and write loss.png, loss.csv, summary.json,
    /// model.safetensors.
    Train(TrainArgs),
    /// §2: the sigmoid chain (figure 3), the example network (figure 4), ∂f/∂A = (∂f/∂Y)Xᵀ.
    ChainRule(CommonArgs),
    /// §3 (figure 5): linear, logistic and softmax nets without a hidden layer, fitted to data
    /// drawn from known parameters.
    SimpleNets(CommonArgs),
    /// §3 figure 6: one sigmoid hidden layer and a softmax output, trained by hand-written
    /// backprop on the 8 × 8 digits (--digits FILE, else generated ones); test accuracy.
    Digits(DigitsArgs),
    /// The cross-entropy and accuracy of a classifier saved by `digits` on a digits CSV.
    Eval(EvalArgs),
}

/// `train` (and the bare command).
#[derive(Args, Clone, Debug, Serialize, Deserialize)]
pub struct TrainArgs {
    /// Layer sizes from input to output: 3,4,1 is the 11-line net; e.g. 3,8,8,1 for two hidden
    /// layers (figures 6, 7, 11). The XOR data need 3 inputs and 1 output.
    #[arg(long, value_delimiter = ',', default_value = "3,4,1")]
    pub layers: Vec<usize>,
    /// Full-batch training iterations.
    #[arg(long, default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub iterations: u64,
    /// Print the mean absolute error every N iterations.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub report_every: u64,
    /// Learning rate α in W ← W − α dW (the notes' program uses 1: `W += Xᵀ dX`).
    #[arg(long, default_value_t = 1.0)]
    pub lr: f64,
    /// Generator of the initial weights: `numpy` reproduces np.random.seed(--seed) bit for bit
    /// (trask's printed numbers), `chacha` is the workspace's generator.
    #[arg(long, value_enum, default_value_t = RngKind::Numpy)]
    pub rng: RngKind,
    /// --seed, --out, --quiet, --overwrite.
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
}

/// `digits`.
#[derive(Args, Clone, Debug, Serialize, Deserialize)]
pub struct DigitsArgs {
    /// scikit-learn's 8 × 8 digits CSV (1,797 images, 64 pixel counts 0..16 and the label per
    /// line) [default: generated 8 × 8 digits].
    #[arg(long, value_name = "FILE")]
    pub digits: Option<PathBuf>,
    /// How many generated digits to make (without --digits): as many as the CSV holds.
    #[arg(long, default_value_t = 1797, value_parser = clap::value_parser!(u64).range(20..))]
    pub examples: u64,
    /// Fraction of the images held out as the test set (scikit-learn's default split).
    #[arg(long, default_value_t = 0.25)]
    pub test_fraction: f64,
    /// Hidden units H.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..))]
    pub hidden: u64,
    /// Epochs (passes over the training set).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub epochs: u64,
    /// Mini-batch size B.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch: u64,
    /// Learning rate α in W ← W − α dW.
    #[arg(long, default_value_t = 0.5)]
    pub lr: f64,
    /// Print the costs and accuracies every N epochs.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub report_every: u64,
    /// --seed, --out, --quiet, --overwrite.
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
}

/// `eval`.
#[derive(Args, Clone, Debug, Serialize, Deserialize)]
pub struct EvalArgs {
    /// The classifier: a `digits` run folder or the model.safetensors in it
    /// [default: runs/backprop-xor-digits].
    #[arg(long, value_name = "RUN")]
    pub model: Option<PathBuf>,
    /// Evaluate on every image of this 8 × 8 digits CSV.
    #[arg(long, value_name = "FILE", required = true)]
    pub digits: PathBuf,
}

/// `chain-rule` and `simple-nets`: only the common flags.
#[derive(Args, Clone, Debug, Serialize, Deserialize)]
pub struct CommonArgs {
    /// --seed, --out, --quiet, --overwrite.
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
}

/// `--rng`: where the initial weights come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RngKind {
    /// numpy's legacy MT19937 after `np.random.seed(--seed)`.
    Numpy,
    /// The workspace's ChaCha8.
    Chacha,
}
