//! The command line of `lstm-gru`: `[adding]` (the bare default), `train` (alias `text`),
//! `sample`, `eval`; the cell a flag names. Every struct is also serialisable: the run session
//! stores a run's flags in `summary.json` and a training run's in its checkpoint, and a
//! resumed run merges the typed flags over the stored ones.

use clap::{Args, Parser, Subcommand, ValueEnum};
use lstm_gru::train::TextConfig;
use serde::{Deserialize, Serialize};
use shared::cli::{Dtype, non_negative, positive};
use shared::run::RunArgs;
use std::path::PathBuf;

/// Notes §6 "LSTM Networks" and "GRU Networks" (after Colah's blog) against the vanilla RNN.
/// With no subcommand: the adding problem (T = 100) for all three cells.
#[derive(Parser)]
#[command(name = "lstm-gru", args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub adding: AddingArgs,
}

#[derive(Subcommand)]
pub enum Command {
    /// The adding problem (Hochreiter & Schmidhuber 1997): remember two marked numbers over T
    /// steps; writes to runs/lstm-gru-adding by default.
    Adding(AddingArgs),
    /// Train (or, with --resume, continue) a character language model with validation loss;
    /// writes model.safetensors, loss.png, loss.csv, summary.json.
    #[command(visible_alias = "text")]
    Train(TrainArgs),
    /// Draw text from a trained model.
    Sample(SampleArgs),
    /// The loss of a trained model on another text: nats and bits per character, perplexity.
    Eval(EvalArgs),
    /// Notes §6, why the vanilla RNN forgets: ‖∂E/∂h_(T−k)‖ against the lag k for the tanh
    /// RNN, the IRNN, the LSTM and the GRU, at initialisation and after a short training on
    /// the adding problem; writes gradients.png, gradients.csv, loss.png, loss.csv and
    /// summary.json to runs/lstm-gru-gradients by default.
    Gradients(GradientsArgs),
}

#[derive(Args, Serialize)]
pub struct GradientsArgs {
    /// Sequence length T (the lags measured are 0 … T).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(2..=10_000))]
    pub length: u64,
    /// Hidden units.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub hidden: u64,
    /// Training steps per cell on the adding problem (Adam, batch 32, clip 1), between the two
    /// measurements.
    #[arg(long, default_value_t = 1500, value_parser = clap::value_parser!(u64).range(1..))]
    pub steps: u64,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 0.01, value_parser = positive)]
    pub lr: f64,
    /// Sequences the norms are measured on.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub sequences: u64,
    /// --seed, --out, --quiet, --overwrite.
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
}

#[derive(Args, Serialize)]
pub struct AddingArgs {
    /// Cell to train [default: the three, one after another, on the same sequences].
    #[arg(long, value_enum)]
    pub cell: Option<CellKind>,
    /// Sequence length T.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(2..))]
    pub length: u64,
    /// Hidden units per layer.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..))]
    pub hidden: u64,
    /// Stacked layers.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub layers: u64,
    /// Training steps (a fresh mini-batch each).
    #[arg(long, default_value_t = 2500, value_parser = clap::value_parser!(u64).range(1..))]
    pub steps: u64,
    /// Sequences per mini-batch.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch: u64,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 0.01, value_parser = positive)]
    pub lr: f64,
    /// Groups per mini-batch: its sequences split into G groups, each on its own thread, the
    /// gradients added in a fixed order (1: the whole batch at once; G > 1 equals it up to
    /// rounding, so a resumed run keeps its G).
    #[arg(long, value_name = "G", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=8))]
    #[serde(default = "one_group")]
    pub groups: u64,
    /// The vanilla cell's f (notes §6: tanh or ReLU). relu starts as the IRNN of Le, Jaitly &
    /// Hinton 2015: W_hh = I, b_h = 0, W_xh from N(0, 0.001²).
    #[arg(long, value_enum, default_value = "tanh")]
    pub activation: ActivationKind,
    /// The engine's float type: f64 (as the notes layer) or f32 (parameters, activations,
    /// gradients and Adam's moments in f32, about twice the speed).
    #[arg(long, value_enum, default_value_t = Dtype::F64)]
    #[serde(default)]
    pub dtype: Dtype,
    /// --seed, --out, --quiet, --overwrite.
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
}

/// The vanilla cell's f, as a flag names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivationKind {
    /// h_t = tanh(W_xh x_t + W_hh h_{t−1} + b_h), weights uniform in ±1/√H.
    Tanh,
    /// h_t = max(0, W_xh x_t + W_hh h_{t−1} + b_h) from the IRNN's start.
    Relu,
}

#[derive(Args, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TrainArgs {
    /// Training text (UTF-8); the last 5 % is the validation set [default: the generated
    /// English-like corpus of shared::data, 10,000 sentences from --seed].
    #[arg(long, value_name = "FILE")]
    pub text: Option<PathBuf>,
    /// Cell type.
    #[arg(long, value_enum, default_value = "lstm")]
    pub cell: CellKind,
    /// Stacked layers.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    pub layers: u64,
    /// Hidden units per layer.
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u64).range(1..))]
    pub hidden: u64,
    /// Characters per chunk (truncated BPTT length).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    pub seq_len: u64,
    /// Streams read side by side (mini-batch).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch: u64,
    /// Training steps in total: a resumed run continues up to this many.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub steps: u64,
    /// Stop after this many seconds of training in this invocation: CPU seconds on Linux (fair
    /// on a shared machine), evaluation excluded. For equal-time comparisons.
    #[arg(long, value_parser = positive)]
    pub seconds: Option<f64>,
    /// Adam's learning rate [default: 6e-3 for lstm and gru, 2e-3 for rnn; on tinyshakespeare
    /// 6e-3 beat 2e-3 for the LSTM and lost to it for the RNN].
    #[arg(long, value_parser = positive)]
    pub lr: Option<f64>,
    /// Validate and checkpoint every this many steps.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub eval_every: u64,
    /// Continue the run in RUN (a run folder or its model.safetensors) exactly where it
    /// stopped, with its flags; it goes on writing there unless --out says otherwise.
    #[arg(long, value_name = "RUN")]
    pub resume: Option<PathBuf>,
    /// Groups per mini-batch: its sequences split into G groups, each on its own thread, the
    /// gradients added in a fixed order (1: the whole batch at once; G > 1 equals it up to
    /// rounding, so a resumed run keeps its G).
    #[arg(long, value_name = "G", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=8))]
    #[serde(default = "one_group")]
    pub groups: u64,
    /// The engine's float type: f64 (as the notes layer) or f32 (parameters, activations,
    /// gradients and Adam's moments in f32, about twice the speed); the model records
    /// it, `sample`, `eval` and `--resume` keep it.
    #[arg(long, value_enum, default_value_t = Dtype::F64)]
    #[serde(default)]
    pub dtype: Dtype,
    /// --seed, --out, --quiet, --overwrite.
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
}

impl TrainArgs {
    /// Adam's learning rate: `--lr`, else the cell's default.
    pub fn lr(&self) -> f64 {
        self.lr.unwrap_or(if self.cell == CellKind::Rnn {
            2e-3
        } else {
            6e-3
        })
    }

    /// The training loop's settings.
    pub fn config(&self) -> TextConfig {
        TextConfig {
            layers: self.layers as usize,
            hidden: self.hidden as usize,
            seq_len: self.seq_len as usize,
            batch: self.batch as usize,
            steps: self.steps as usize,
            seconds: self.seconds,
            lr: self.lr(),
            clip: 5.0,
            eval_every: self.eval_every as usize,
            threads: self.groups as usize,
        }
    }
}

#[derive(Args)]
pub struct SampleArgs {
    /// The trained model: a run folder or its model.safetensors [default: runs/lstm-gru].
    #[arg(long, value_name = "RUN")]
    pub model: Option<PathBuf>,
    /// Characters to draw (at most 10 million).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub len: u64,
    /// Softmax temperature τ (lower: more conservative); 0 takes the most likely character
    /// every time (no random draw).
    #[arg(long, default_value_t = 1.0, value_parser = non_negative)]
    pub temperature: f64,
    /// Text to start from [default: a newline, or the vocabulary's first character].
    #[arg(long)]
    pub prime: Option<String>,
    /// Random seed of the draws.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Args)]
pub struct EvalArgs {
    /// The trained model: a run folder or its model.safetensors [default: runs/lstm-gru].
    #[arg(long, value_name = "RUN")]
    pub model: Option<PathBuf>,
    /// UTF-8 text to score; every character must be in the model's vocabulary.
    #[arg(long, value_name = "FILE")]
    pub text: PathBuf,
}

/// Which cell to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CellKind {
    /// Vanilla RNN (tanh; ReLU from the IRNN's start with `--activation relu`).
    Rnn,
    /// Long short-term memory.
    Lstm,
    /// Gated recurrent unit (the notes' z convention).
    Gru,
}

impl CellKind {
    /// All three, in the order a comparison runs them.
    pub const ALL: [CellKind; 3] = [CellKind::Rnn, CellKind::Lstm, CellKind::Gru];

    /// "rnn", "lstm" or "gru".
    pub fn name(self) -> &'static str {
        with_cell!(self, C => <C as lstm_gru::model::Cell>::NAME)
    }

    /// The kind named `name` (one of `lstm_gru::checkpoint::checkpoint_cell`'s names).
    pub fn from_name(name: &str) -> CellKind {
        (CellKind::ALL.into_iter().find(|k| k.name() == name)).expect("a known cell")
    }
}

/// Runs `$body` with the type `$C` set to the cell that `$kind` names: the command line picks
/// a cell at run time, the code is generic over it.
macro_rules! with_cell {
    ($kind:expr, $C:ident => $body:expr) => {
        match $kind {
            $crate::cli::CellKind::Rnn => {
                type $C = lstm_gru::model::Rnn;
                $body
            }
            $crate::cli::CellKind::Lstm => {
                type $C = lstm_gru::model::Lstm;
                $body
            }
            $crate::cli::CellKind::Gru => {
                type $C = lstm_gru::model::Gru;
                $body
            }
        }
    };
}
pub(crate) use with_cell;

/// `--groups`' default, also for a run saved before the flag existed (its `--threads N` was
/// this split).
fn one_group() -> u64 {
    1
}
