//! The command line: `conv-im2col` (or `conv-im2col train`) trains SimpleConvNet,
//! `conv-im2col eval` measures a saved one on new images, `conv-im2col example` prints
//! figure 15. Parsed by `shared::cli::parse`, which adds `--version` and each command's real
//! `--out` default; the flags are stored with the model, so a resumed run keeps them.

use crate::model::Init;
use crate::train::{Sampling, saito_adam};
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};
pub use shared::cli::Dtype;
use shared::optim::Rule;
use shared::run::RunArgs;
use std::path::PathBuf;

/// Notes §5 (Convolution Neural Network): im2col, col2im, and a small CNN (Saito ch. 7).
#[derive(Parser, Debug)]
#[command(name = "conv-im2col", args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do (default: train, with the flags below).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// With no subcommand: `train` with these flags.
    #[command(flatten)]
    pub train: TrainArgs,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Figure 15 of §5: im2col of a (1, 3, 7, 7) input, and pixel 22's gradient from dcol.
    Example,
    /// Train SimpleConvNet (figure 13) and a linear softmax baseline on the same split; continue
    /// a stopped run with --resume.
    Train(TrainArgs),
    /// The test accuracy and loss of a saved SimpleConvNet on an MNIST folder's t10k images or
    /// on every image of a digits CSV.
    Eval(EvalArgs),
}

/// The flags of `train`.
#[derive(Args, Clone, Debug, Serialize, Deserialize)]
pub struct TrainArgs {
    /// MNIST folder (IDX, plain or .gz). With train-* and t10k-*: train on train-*, test on
    /// t10k-* (all of each unless --train-size / --test-size say fewer); with t10k-* only:
    /// its first --train-size images to train, the next --test-size to test.
    #[arg(long, value_name = "DIR", conflicts_with = "digits")]
    pub mnist: Option<PathBuf>,
    /// scikit-learn's 8×8 digits CSV (64 pixels 0..16, then the label), split like t10k.
    #[arg(long, value_name = "FILE")]
    pub digits: Option<PathBuf>,
    /// Passes over the training set, in all (a resumed run continues up to this total).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..))]
    pub epochs: u64,
    /// Examples per mini-batch.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch: u64,
    /// Training examples [default: 8000; an MNIST folder with train-*: all of them].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub train_size: Option<u64>,
    /// Test examples [default: 2000; an MNIST folder with train-*: all of t10k-*].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub test_size: Option<u64>,
    /// Side of the first layer's square filters (5 as Saito; 3 suits the 8×8 digits).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub filter_size: u64,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3, value_parser = shared::cli::positive)]
    pub lr: f64,
    /// Weight initialisation: Saito's 0.01·N(0, 1), or He's N(0, 2/fan_in).
    #[arg(long, value_enum, default_value_t = InitArg::Std)]
    pub init: InitArg,
    /// Adam's form: `standard` (Kingma & Ba's Algorithm 1, ε = 1e-8 added to the bias-corrected
    /// root) or `saito` (ε = 1e-7 added to the uncorrected root, Saito's `common/optimizer.py`).
    #[arg(long, value_enum, default_value_t = AdamArg::Standard)]
    pub adam: AdamArg,
    /// Mini-batches: `shuffled` (each epoch visits every example once) or `replacement`
    /// (each batch drawn with replacement, as Saito's `common/trainer.py`).
    #[arg(long, value_enum, default_value_t = Sampling::Shuffled)]
    pub sampling: Sampling,
    /// Groups per mini-batch: its examples split into G groups, each on its own thread with a
    /// replica of the network, the gradients added in a fixed order (1: the whole batch at
    /// once; G > 1 equals it up to rounding, so a resumed run keeps the G it was trained with).
    #[arg(long, value_name = "G", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=8))]
    #[serde(default = "one_group")]
    pub groups: u64,
    /// The engine's float type: `f64` (as the notes) or `f32` (parameters, activations,
    /// gradients and Adam's moments in f32; the model records it, `eval` and `--resume` keep it).
    #[arg(long, value_enum, default_value_t = Dtype::F64)]
    #[serde(default)]
    pub dtype: Dtype,
    /// Continue the run in this folder (or this model.safetensors) up to --epochs, with its
    /// flags, exactly as if it had not stopped; it writes to its own folder unless --out says
    /// otherwise.
    #[arg(long, value_name = "RUN")]
    pub resume: Option<PathBuf>,
    /// --seed, --out, --quiet, --overwrite.
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
}

/// `--init`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InitArg {
    /// Saito's 0.01·N(0, 1).
    Std,
    /// He's N(0, 2/fan_in).
    He,
}

impl InitArg {
    /// The initialisation it names.
    pub fn init(self) -> Init {
        match self {
            InitArg::Std => Init::Std(0.01),
            InitArg::He => Init::He,
        }
    }
}

/// `--adam`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AdamArg {
    /// Kingma & Ba's Algorithm 1.
    Standard,
    /// Saito's `common/optimizer.py`.
    Saito,
}

impl AdamArg {
    /// The update rule it names.
    pub fn rule(self) -> Rule {
        match self {
            AdamArg::Standard => Rule::adam(),
            AdamArg::Saito => saito_adam(),
        }
    }
}

/// The flags of `eval`.
#[derive(Args, Clone, Debug, Serialize, Deserialize)]
#[command(group(ArgGroup::new("images").required(true).args(["mnist", "digits"])))]
pub struct EvalArgs {
    /// The network: a run folder or the model.safetensors in it [default: runs/conv-im2col].
    #[arg(long, value_name = "RUN")]
    pub model: Option<PathBuf>,
    /// Evaluate on the t10k-* images of this MNIST folder (IDX, plain or .gz).
    #[arg(long, value_name = "DIR")]
    pub mnist: Option<PathBuf>,
    /// Evaluate on every image of this 8×8 digits CSV.
    #[arg(long, value_name = "FILE")]
    pub digits: Option<PathBuf>,
}

/// `--groups`' default, also for a run saved before the flag existed (its `--threads N` was
/// this split).
fn one_group() -> u64 {
    1
}
