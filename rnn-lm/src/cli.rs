//! The command line: `rnn-lm [train]`, `sample` (alias `generate`), `eval`, `gradcheck`. The
//! structs are serialisable: the run session stores a training run's flags in its checkpoint
//! and `summary.json`, and a resumed run merges the typed flags over the stored ones.

use clap::{Args, Parser, Subcommand, value_parser};
use serde::{Deserialize, Serialize};
use shared::cli::{Dtype, non_negative, positive};
use shared::run::RunArgs;
use std::path::PathBuf;

/// Notes §6 "DENNY BRITZ Language Model": h_i = tanh(U x_i + W h_{i−1}), y_i = softmax(V h_i),
/// trained by SGD one sentence at a time with truncated BPTT. With no subcommand: `train`.
#[derive(Parser, Debug)]
#[command(name = "rnn-lm", args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do (default: train).
    #[command(subcommand)]
    pub cmd: Option<Cmd>,
    /// `train`'s flags, for the bare command.
    #[command(flatten)]
    pub train: TrainArgs,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Train (or, with --resume, continue) and write model.safetensors, loss.png, loss.csv,
    /// summary.json
    Train(TrainArgs),
    /// Sentences drawn from a trained model (never UNKNOWN_TOKEN)
    #[command(alias = "generate")]
    Sample(SampleArgs),
    /// The loss of a trained model on another file: nats and bits per word, perplexity
    Eval(EvalArgs),
    /// The tutorial's gradient check: backward pass vs finite differences, tiny vocabulary
    Gradcheck(GradcheckArgs),
}

/// `train` (and the bare command).
#[derive(Args, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TrainArgs {
    /// Reddit comments CSV of the tutorial (comment text in the `body` column)
    #[arg(long, value_name = "FILE", conflicts_with = "text")]
    pub csv: Option<PathBuf>,
    /// Any UTF-8 text (sentences end at . ? ! and at blank lines)
    #[arg(long, value_name = "FILE")]
    pub text: Option<PathBuf>,
    /// Train on the first N sentences (the vocabulary is built from all of them) [default: all;
    /// the generated corpus has 5000]
    #[arg(long, value_parser = value_parser!(u64).range(1..))]
    pub sentences: Option<u64>,
    /// Vocabulary: the most frequent tokens (SENTENCE_START/END included); the rest UNKNOWN_TOKEN
    #[arg(long, default_value_t = 8000, value_parser = value_parser!(u64).range(3..))]
    pub vocab: u64,
    /// Hidden units N_h (at most 4096)
    #[arg(long, default_value_t = 100, value_parser = value_parser!(u64).range(1..=4096))]
    pub hidden: u64,
    /// Truncated BPTT: each output back-propagates through K ≥ 1 earlier steps (the notes' K)
    #[arg(long, default_value_t = 4, value_parser = value_parser!(u64).range(1..))]
    pub bptt: u64,
    /// SGD learning rate (halved whenever an evaluation finds the loss rose)
    #[arg(long, default_value_t = 0.005, value_parser = positive)]
    pub lr: f64,
    /// Passes over the training sentences in total, in file order (no shuffling, as the
    /// tutorial): a resumed run continues up to this many
    #[arg(long, default_value_t = 10, value_parser = value_parser!(u64).range(1..))]
    pub epochs: u64,
    /// Compute the loss over all training sentences (and write the checkpoint) every N epochs
    #[arg(long, default_value_t = 1, value_parser = value_parser!(u64).range(1..))]
    pub eval_every: u64,
    /// Sentences to generate after training (at most 100000)
    #[arg(long, default_value_t = 10, value_parser = value_parser!(u64).range(0..=100_000))]
    pub samples: u64,
    /// Shortest generated sentence to keep, in words
    #[arg(long, default_value_t = 7)]
    pub min_words: usize,
    /// The engine's float type: f64, or f32 (weights, states, outputs and gradients in f32, the
    /// products with V twice as wide; the notes layer and sample/eval stay f64). Stored with the
    /// run: a resume continues in it
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

/// `sample` (alias `generate`).
#[derive(Args, Serialize, Deserialize, Clone, Debug)]
pub struct SampleArgs {
    /// The trained model: a run folder or its model.safetensors [default: runs/rnn-lm]
    #[arg(long, value_name = "RUN")]
    pub model: Option<PathBuf>,
    /// Number of sentences (at most 100000)
    #[arg(short, default_value_t = 10, value_parser = value_parser!(u64).range(0..=100_000))]
    pub n: u64,
    /// Shortest sentence to keep, in words, the prime included (the tutorial's
    /// senten_min_length)
    #[arg(long, default_value_t = 7)]
    pub min_words: usize,
    /// Give up on a sentence after this many words without SENTENCE_END (at most 100000)
    #[arg(long, default_value_t = 100, value_parser = value_parser!(u64).range(1..=100_000))]
    pub max_words: u64,
    /// Softmax temperature τ: below 1 safer words, above 1 more surprises; 0 takes the most
    /// likely word every time (no random draw: one sentence, printed once)
    #[arg(long, default_value_t = 1.0, value_parser = non_negative)]
    pub temperature: f64,
    /// Words every sentence starts with (after SENTENCE_START), e.g. "the man" [default: none]
    #[arg(long)]
    pub prime: Option<String>,
    /// Random seed of the sampling
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// `eval`.
#[derive(Args, Serialize, Deserialize, Clone, Debug)]
pub struct EvalArgs {
    /// The trained model: a run folder or its model.safetensors [default: runs/rnn-lm]
    #[arg(long, value_name = "RUN")]
    pub model: Option<PathBuf>,
    /// UTF-8 text to score (sentences end at . ? ! and at blank lines)
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "csv",
        conflicts_with = "csv"
    )]
    pub text: Option<PathBuf>,
    /// A reddit comments CSV to score (the `body` column)
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}

/// `gradcheck`.
#[derive(Args, Serialize, Deserialize, Clone, Debug)]
pub struct GradcheckArgs {
    /// Vocabulary size N_x (the tutorial: 100; at most 1000)
    #[arg(long, default_value_t = 100, value_parser = value_parser!(u64).range(5..=1000))]
    pub vocab: u64,
    /// Hidden units N_h (the tutorial: 10; at most 100)
    #[arg(long, default_value_t = 10, value_parser = value_parser!(u64).range(1..=100))]
    pub hidden: u64,
    /// Truncation K; ≥ 3 is full BPTT on the sentence (0, 1, 2, 3) (the tutorial uses 1000)
    #[arg(long, default_value_t = 1000)]
    pub bptt: usize,
    /// Seed of the weights (the tutorial: np.random.seed(10))
    #[arg(long, default_value_t = 10)]
    pub seed: u64,
}
