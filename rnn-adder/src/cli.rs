//! The command line: `rnn-adder [train]` and `example-6-1`. The structs are serialisable: the
//! run session stores the flags in `summary.json` and the model file.

use crate::data::RngKind;
use crate::model::Cost;
use clap::{Args, Parser, Subcommand, ValueEnum, builder::RangedU64ValueParser};
use serde::{Deserialize, Serialize};
use shared::run::RunArgs;

/// Notes §6 RNN toy model: a vanilla RNN learns binary addition (trask's adder), trained by
/// BPTT written out by hand. `example-6-1` works through the notes' Example 6.1.
#[derive(Parser, Serialize, Deserialize, Debug)]
#[command(name = "rnn-adder", args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do (default: train).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// `train`'s flags, for the bare command.
    #[command(flatten)]
    pub train: TrainArgs,
}

/// The subcommands.
#[derive(Subcommand, Serialize, Deserialize, Debug)]
pub enum Command {
    /// Train (the default) and write loss.png, loss.csv, summary.json, model.safetensors
    Train(TrainArgs),
    /// The notes' Example 6.1: ∂E/∂z_1 in a three-step RNN, from the rounded and the exact
    /// hidden values, checked by finite differences
    #[command(name = "example-6-1")]
    Example61(ExampleArgs),
}

/// `train` (and the bare command).
#[derive(Args, Serialize, Deserialize, Clone, Debug)]
// trask's post seeds numpy with 0: the default run is his.
#[command(mut_arg("seed", |a| a.default_value("0")))]
pub struct TrainArgs {
    /// Bits of the training sums = time steps; the addends have one bit less (8: a, b < 128)
    #[arg(long, default_value_t = 8, value_parser = RangedU64ValueParser::<usize>::new().range(2..=64))]
    pub bits: usize,
    /// Hidden units N_h
    #[arg(long, default_value_t = 16, value_parser = RangedU64ValueParser::<usize>::new().range(1..=4096))]
    pub hidden: usize,
    /// Learning rate α (the update is W ← W + α dW, dW = −∂E/∂W as the notes write it)
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub lr: f64,
    /// Training examples, one random pair each (batch size 1)
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub iterations: u64,
    /// Cost: the notes' L² cost or the logistic (cross-entropy) cost
    #[arg(long, value_enum, default_value_t = CostFlag::L2)]
    pub cost: CostFlag,
    /// Generator of the weights and examples: `numpy` is np.random.seed(--seed) used as trask
    /// uses it (his printed numbers, bit for bit), `chacha` the workspace's generator
    #[arg(long, value_enum, default_value_t = RngKind::Numpy)]
    pub rng: RngKind,
    /// Widths (bits) of the sums to test generalisation on, comma-separated
    #[arg(long, value_delimiter = ',', default_values_t = [10, 16, 32, 64],
          value_parser = RangedU64ValueParser::<usize>::new().range(2..=64))]
    pub eval_bits: Vec<usize>,
    /// Random pairs tested at each --eval-bits width
    #[arg(long, default_value_t = 20_000, value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
    pub eval_pairs: usize,
    /// Print trask's report every N examples
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub report_every: u64,
    /// Measure the accuracy curves (all pairs of --bits; 1000 wider sums) every N examples
    #[arg(long, default_value_t = 250, value_parser = clap::value_parser!(u64).range(1..))]
    pub eval_every: u64,
    /// --seed, --out, --quiet, --overwrite.
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
}

/// `example-6-1`: only the common flags (it writes its numbers to summary.json).
#[derive(Args, Serialize, Deserialize, Clone, Debug)]
pub struct ExampleArgs {
    /// --seed, --out, --quiet, --overwrite.
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
}

/// `--cost`: the model's [`Cost`] as the flag spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CostFlag {
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
