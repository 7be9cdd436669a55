//! The command line: `ngram-lm [train]`, `eval`, `nearest`, `predict`, `distance`. `train`'s
//! flags are serialisable: the run session stores them in the checkpoint and `summary.json`,
//! and a resumed run merges the typed flags over the stored ones.

use crate::train::Hyper;
use clap::builder::{RangedU64ValueParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use serde::{Deserialize, Serialize};
use shared::cli::Dtype;
use shared::run::RunArgs;
use std::path::PathBuf;

/// Notes §1 (Language Model): Bengio's neural probabilistic language model as Hinton's
/// assignment 2 — learn 4-grams, predict the 4th word from the first 3. With no command:
/// `train` on the generated corpus, then show nearest / predict / distance examples.
#[derive(Parser)]
#[command(name = "ngram-lm", args_conflicts_with_subcommands = true)]
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
    /// Train (or, with --resume, continue) and write model.safetensors (after every epoch),
    /// loss.png, loss.csv, embedding.png, summary.json
    Train(TrainArgs),
    /// Cross-entropy per word, perplexity and bits per word of a trained model on a text
    Eval(EvalArgs),
    /// The K words whose embeddings are nearest to WORD (display_nearest_words)
    Nearest {
        /// The word.
        word: String,
        /// How many words to list.
        #[arg(short, default_value_t = 10, value_parser = positive())]
        k: usize,
        /// The trained model.
        #[command(flatten)]
        model: ModelArg,
    },
    /// The K most probable words after W1 W2 W3 (predict_next_word)
    Predict {
        /// First word of the context.
        w1: String,
        /// Second word.
        w2: String,
        /// Third word.
        w3: String,
        /// How many words to list.
        #[arg(short, default_value_t = 3, value_parser = positive())]
        k: usize,
        /// The trained model.
        #[command(flatten)]
        model: ModelArg,
    },
    /// Euclidean distance between the embeddings of two words (word_distance)
    Distance {
        /// One word.
        w1: String,
        /// The other.
        w2: String,
        /// The trained model.
        #[command(flatten)]
        model: ModelArg,
    },
}

/// `train` (and the bare command).
#[derive(Args, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TrainArgs {
    /// A text corpus: 4-grams inside each line (sentence), top --vocab words, 80/10/10 split by --seed.
    #[arg(long, value_name = "FILE", conflicts_with = "mat")]
    pub text: Option<PathBuf>,
    /// Hinton's data.mat (the assignment's own vocabulary and train/valid/test split).
    #[arg(long, value_name = "FILE")]
    pub mat: Option<PathBuf>,
    /// Sentences of the generated corpus (used without --text / --mat; ≈ 4.1 4-grams each).
    #[arg(long, default_value_t = 60_000, value_parser = positive())]
    pub sentences: usize,
    /// Vocabulary size for --text: the most frequent words (if there are more, N−1 of them and an unknown token).
    #[arg(long, default_value_t = 250, value_parser = positive())]
    pub vocab: usize,
    /// Passes over the training 4-grams in total: a resumed run continues up to this many.
    #[arg(long, default_value_t = 10, value_parser = positive())]
    pub epochs: usize,
    /// Batch size B (the notes' 100).
    #[arg(long, default_value_t = 100, value_parser = positive())]
    pub batch: usize,
    /// Learning rate α.
    #[arg(long, default_value_t = 0.1, value_parser = shared::cli::non_negative, allow_hyphen_values = true)]
    pub lr: f64,
    /// Momentum μ of Δ ← μΔ + g, W ← W − αΔ.
    #[arg(long, default_value_t = 0.9, value_parser = momentum, allow_hyphen_values = true)]
    pub momentum: f64,
    /// Embedding size D (the notes' 50).
    #[arg(long, default_value_t = 50, value_parser = positive())]
    pub embed: usize,
    /// Hidden units H (the notes' 200).
    #[arg(long, default_value_t = 200, value_parser = positive())]
    pub hidden: usize,
    /// The notes' weight decay λ on W1 and W2 (0 in the assignment).
    #[arg(long, default_value_t = 0.0, value_parser = shared::cli::non_negative, allow_hyphen_values = true)]
    pub weight_decay: f64,
    /// The engine's float type: f64 (as the notes) or f32 (parameters, activations, gradients
    /// and the momentum velocities in f32; the model records it, `eval` and --resume keep it).
    #[arg(long, value_enum, default_value_t = Dtype::F64)]
    #[serde(default)]
    pub dtype: Dtype,
    /// Continue the run in RUN (a run folder or its model.safetensors) where it stopped, with
    /// its flags; it goes on writing there unless --out says otherwise
    #[arg(long, value_name = "RUN")]
    pub resume: Option<PathBuf>,
    /// --seed, --out, --quiet, --overwrite.
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
}

impl TrainArgs {
    /// The hyperparameters these flags set (the initial weights' scale is train.m's).
    pub fn hyper(&self) -> Hyper {
        Hyper {
            batch: self.batch,
            lr: self.lr,
            momentum: self.momentum,
            embed: self.embed,
            hidden: self.hidden,
            weight_decay: self.weight_decay,
            ..Hyper::default()
        }
    }
}

/// `eval`.
#[derive(Args, Clone, Debug)]
pub struct EvalArgs {
    /// A text of sentences, one per line (as `train --text` reads it)
    #[arg(value_name = "FILE", required_unless_present = "text")]
    pub file: Option<PathBuf>,
    /// The same as FILE
    #[arg(long, value_name = "FILE", conflicts_with = "file")]
    pub text: Option<PathBuf>,
    /// The trained model.
    #[command(flatten)]
    pub model: ModelArg,
}

/// `--model`, for the commands that read a trained model.
#[derive(Args, Clone, Debug)]
pub struct ModelArg {
    /// The trained model: a run folder or its model.safetensors [default: runs/ngram-lm]
    #[arg(long, value_name = "RUN")]
    pub model: Option<PathBuf>,
}

/// clap parser for sizes and counts: a whole number ≥ 1.
fn positive() -> impl TypedValueParser<Value = usize> {
    RangedU64ValueParser::<usize>::new().range(1..)
}

/// clap parser for the momentum μ: a number in [0, 1) (with μ ≥ 1 the velocity Δ ← μΔ + g
/// never forgets a gradient and grows without bound).
fn momentum(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.0..1.0).contains(&x) => Ok(x),
        _ => Err(format!("{s} is not a number in [0, 1)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn momentum_is_in_zero_one() {
        assert_eq!(momentum("0.9"), Ok(0.9));
        assert_eq!(momentum("0"), Ok(0.0));
        assert!(momentum("1").is_err() && momentum("-0.1").is_err());
        assert!(momentum("nan").unwrap_err().contains("nan is not"));
    }

    #[test]
    fn counts_are_whole_numbers_of_at_least_one() {
        let parse = |s: &str| {
            Cli::try_parse_from(["ngram-lm".to_string(), format!("--epochs={s}")])
                .map(|c| c.train.epochs)
        };
        assert_eq!(parse("3").unwrap(), 3);
        for bad in ["0", "-2", "1.5", "many"] {
            let e = parse(bad).err().unwrap().to_string();
            assert!(e.contains("--epochs") && e.contains(bad), "{bad}: {e}");
        }
    }
}
