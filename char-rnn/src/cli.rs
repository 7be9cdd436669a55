//! The command line: `char-rnn [train]`, `sample`, `eval`, `hello`. Every struct is also
//! serialisable: the run session stores a training run's flags in its checkpoint and
//! `summary.json`, and a resumed run merges the typed flags over the stored ones.

use clap::{Args, Parser, Subcommand, value_parser};
use serde::{Deserialize, Serialize};
use shared::cli::Dtype;
use shared::run::RunArgs;
use std::path::PathBuf;

/// Notes §6: Karpathy's minimal character-level vanilla RNN (min-char-rnn).
/// With no subcommand: `train` on the generated corpus.
#[derive(Parser, Serialize, Deserialize, Debug)]
#[command(name = "char-rnn", args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do (default: train).
    #[command(subcommand)]
    pub cmd: Option<Cmd>,
    /// `train`'s flags, for the bare command.
    #[command(flatten)]
    pub train: TrainArgs,
}

/// The subcommands.
#[derive(Subcommand, Serialize, Deserialize, Debug)]
pub enum Cmd {
    /// Train (or, with --resume, continue) and write model.safetensors, loss.png, loss.csv,
    /// summary.json
    Train(TrainArgs),
    /// Draw text from a trained model
    Sample(SampleArgs),
    /// The loss of a trained model on another text: nats and bits per character, perplexity
    Eval(EvalArgs),
    /// Figure 17: Karpathy's "hello" (vocabulary h, e, l, o; 3 hidden units), its forward pass,
    /// trained until it spells "hello"
    Hello(HelloArgs),
}

/// `train` (and the bare command).
#[derive(Args, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TrainArgs {
    /// UTF-8 text to learn [default: the generated English-like corpus]
    #[arg(long, value_name = "FILE")]
    pub text: Option<PathBuf>,
    /// Hidden units N_h
    #[arg(long, default_value_t = 100, value_parser = value_parser!(u64).range(1..=4096))]
    pub hidden: u64,
    /// Characters per chunk T (the BPTT length)
    #[arg(long, default_value_t = 25, value_parser = value_parser!(u64).range(1..=10_000))]
    pub seq_len: u64,
    /// Adagrad learning rate
    #[arg(long, default_value_t = 0.1, value_parser = shared::cli::positive)]
    pub lr: f64,
    /// Iterations (chunks of T characters) in total: a resumed run continues up to this many
    #[arg(long, default_value_t = 100_000, value_parser = value_parser!(u64).range(1..))]
    pub iterations: u64,
    /// Print `iter N, loss: L` and a 200-character sample every N iterations (0: never)
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub sample_every: u64,
    /// Write the checkpoint every N iterations (0: only at the end)
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub checkpoint_every: u64,
    /// The engine's float type: f64 (as the notes) or f32 (parameters, hidden states,
    /// gradients and Adagrad's memories in f32; the model records it, `sample`, `eval` and
    /// --resume keep it)
    #[arg(long, value_enum, default_value_t = Dtype::F64)]
    #[serde(default)]
    pub dtype: Dtype,
    /// Continue the run in RUN (a run folder or its model.safetensors) exactly where it
    /// stopped, with its flags; it goes on writing there unless --out says otherwise
    #[arg(long, value_name = "RUN")]
    pub resume: Option<PathBuf>,
    /// --seed, --out, --quiet, --overwrite.
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
}

/// `sample`.
#[derive(Args, Serialize, Deserialize, Clone, Debug)]
pub struct SampleArgs {
    /// The trained model: a run folder or its model.safetensors [default: runs/char-rnn]
    #[arg(long, value_name = "RUN")]
    pub model: Option<PathBuf>,
    /// Characters to draw
    #[arg(long, default_value_t = 200, value_parser = value_parser!(u64).range(0..=10_000_000))]
    pub len: u64,
    /// Softmax temperature τ: below 1 safer characters, above 1 more surprises; 0 takes the
    /// most likely character every time (no random draw)
    #[arg(long, default_value_t = 1.0, value_parser = shared::cli::non_negative)]
    pub temperature: f64,
    /// Text to feed first [default: a newline, i.e. the start of a line]
    #[arg(long)]
    pub prime: Option<String>,
    /// Random seed of the draws
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// `eval`.
#[derive(Args, Serialize, Deserialize, Clone, Debug)]
pub struct EvalArgs {
    /// The trained model: a run folder or its model.safetensors [default: runs/char-rnn]
    #[arg(long, value_name = "RUN")]
    pub model: Option<PathBuf>,
    /// UTF-8 text to score; every character must be in the model's vocabulary
    #[arg(long, value_name = "FILE")]
    pub text: PathBuf,
}

/// `hello`.
#[derive(Args, Serialize, Deserialize, Clone, Debug)]
pub struct HelloArgs {
    /// Adagrad learning rate
    #[arg(long, default_value_t = 0.1, value_parser = shared::cli::positive)]
    pub lr: f64,
    /// Give up after this many updates if it does not spell "hello" yet
    #[arg(long, default_value_t = 5_000, value_parser = value_parser!(u64).range(1..=1_000_000))]
    pub iterations: u64,
    /// --seed, --out, --quiet, --overwrite.
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
}
