//! The command line: `rbm` (or `rbm train`) trains, `rbm sample` draws from a saved RBM,
//! `rbm partition` prints the notes' table. Parsed by `shared::cli::parse`, which adds
//! `--version` and each command's real `--out` default.

use crate::train::Method;
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};
use shared::cli::Dtype;
use shared::run::RunArgs;
use std::path::PathBuf;

/// Notes §7 Restricted Boltzmann Machine: the partition function, exact likelihoods, CD-k.
#[derive(Parser)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do (default: train, with the flags below).
    #[command(subcommand)]
    pub cmd: Option<Cmd>,
    /// The flags of `train`, for the bare command.
    #[command(flatten)]
    pub train: TrainArgs,
}

/// The commands.
#[derive(Subcommand)]
pub enum Cmd {
    /// Train an RBM (what the bare command does): CD-k, PCD-k or the exact gradient, the exact
    /// log-likelihood every epoch; continue a stopped run with --resume.
    Train(TrainArgs),
    /// Gibbs samples from a saved RBM: a PNG grid, and the first few printed.
    Sample(SampleArgs),
    /// §7 Partition Function: the notes' table (rows HᵀW → 1 + e^{·} → row-wise product → sum),
    /// Z by brute force, log Z, p(v) and F(v) for every v.
    Partition(PartitionArgs),
}

/// The flags of `train`.
#[derive(Args, Clone, Debug, Serialize, Deserialize)]
pub struct TrainArgs {
    /// Train on the 8 × 8 digits CSV (scikit-learn's digits.csv), binarised at 8/16.
    #[arg(long, value_name = "FILE", conflicts_with = "mnist")]
    pub digits: Option<PathBuf>,
    /// Train on MNIST from this folder (IDX files), binarised at 0.5: train-* (60,000) to train
    /// and t10k-* (10,000) held out; a folder with t10k-* only is split 8000 / 2000.
    #[arg(long, value_name = "DIR")]
    pub mnist: Option<PathBuf>,
    /// Side n of the n × n bars-and-stripes images (default data).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(2..=5))]
    pub side: u32,
    /// Training examples [default: bars 3000 (each pattern 100 times), digits 1500, MNIST all
    /// of train-* (t10k only: 8000)]; bars hold out 1000 fresh draws, digits and a t10k-only
    /// folder the rest of their images.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub train: Option<u32>,
    /// Hidden units [default: bars 16, digits 12, MNIST 16]; exact log Z needs n_h ≤ 20 or n_v ≤ 20.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub hidden: Option<u32>,
    /// cd: contrastive divergence from the data; pcd: persistent chains; exact: the exact
    /// gradient (model term by enumerating the smaller layer), full batch.
    #[arg(long, value_enum, default_value_t = Method::Cd)]
    pub method: Method,
    /// Gibbs steps per update [default: 1; bars 20, as CD-1 cannot fit them].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub k: Option<u32>,
    /// Epochs in all (a resumed run continues up to this total) [default: bars 300, digits 50,
    /// MNIST 20; exact: 2000, 1000, 50].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub epochs: Option<u32>,
    /// Learning rate ε [default: bars 0.004, else 0.05; exact: 0.3, MNIST 0.05].
    #[arg(long, allow_negative_numbers = true, value_parser = shared::cli::positive)]
    pub lr: Option<f64>,
    /// ε over the epochs: constant, or linear (annealed to 0) [default: bars linear, else constant].
    #[arg(long, value_enum)]
    pub schedule: Option<Schedule>,
    /// Mini-batch size (and number of persistent chains) [default: 10; exact: all examples].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch: Option<u32>,
    /// L2 weight cost λ on W.
    #[arg(long, default_value_t = 1e-4, allow_negative_numbers = true)]
    pub weight_cost: f64,
    /// Print a line every N epochs [default: about 25 lines].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub report_every: Option<u32>,
    /// Save the checkpoint (model.safetensors) every N epochs, besides at the end and on Ctrl-C.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub checkpoint_every: u32,
    /// Float type of training: f64, or f32 (parameters, probabilities, Gibbs samples,
    /// statistics and momentum in f32, the random draws as in f64; the exact log Z, the
    /// likelihoods and the pictures in f64 on the f32 weights widened). The model records it;
    /// `sample` reads either.
    #[arg(long, value_enum, default_value_t = Dtype::F64)]
    #[serde(default)]
    pub dtype: Dtype,
    /// Continue the run in this folder (or this model.safetensors) up to --epochs, with its
    /// flags; it writes to its own folder unless --out says otherwise.
    #[arg(long, value_name = "RUN")]
    pub resume: Option<PathBuf>,
    /// --seed, --out, --quiet, --overwrite.
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
}

/// ε over the epochs (`--schedule`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// ε throughout.
    Constant,
    /// ε annealed linearly to 0 over the epochs.
    Linear,
}

/// The flags of `sample`.
#[derive(Args, Clone, Debug, Serialize, Deserialize)]
pub struct SampleArgs {
    /// The RBM: a run folder or the model.safetensors in it [default: runs/rbm].
    #[arg(long, value_name = "RUN")]
    pub model: Option<PathBuf>,
    /// Chains to run (one sample each), drawn 8 to a row in samples.png.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub samples: u32,
    /// Gibbs steps per chain (each h ~ p(h | v), then v ~ p(v | h)).
    #[arg(long, default_value_t = 1000)]
    pub steps: u32,
    /// Temperature T: p(v, h)^{1/T}; 1 is the model, 0 sets every unit to its more probable
    /// value (no random draw after the chains' random start).
    #[arg(long, default_value_t = 1.0, value_parser = non_negative)]
    pub temperature: f64,
    /// How many samples to print as text (p(v | h) ≥ 0.5 as '#').
    #[arg(long, default_value_t = 8)]
    pub show: u32,
    /// --seed, --out, --quiet, --overwrite.
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
}

/// The flags of `partition`.
#[derive(Args, Clone, Debug, Serialize, Deserialize)]
pub struct PartitionArgs {
    /// Visible units n_v, 1 to 16 (the notes: 3).
    #[arg(long, default_value_t = 3)]
    pub visible: u32,
    /// Hidden units n_h, 1 to 16 (the notes: 2).
    #[arg(long, default_value_t = 2)]
    pub hidden: u32,
    /// W row by row (n_h × n_v: w11,w12,…,w21,…). Default: the reference sheet's
    /// [[1, −2, 0.5], [0.3, 0.7, −1]] for 3 × 2, else N(0, 1) draws from --seed.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub weights: Option<Vec<f64>>,
    /// Visible biases a (n_v values; default 0 as in the notes).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub visible_bias: Option<Vec<f64>>,
    /// Hidden biases b (n_h values; default 0).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub hidden_bias: Option<Vec<f64>>,
    /// --seed (of the random weights when --weights is not given), --out, --quiet, --overwrite.
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
}

/// clap value parser for a finite number ≥ 0 (`--temperature`).
fn non_negative(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v >= 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!("{s} is not a number ≥ 0")),
    }
}
