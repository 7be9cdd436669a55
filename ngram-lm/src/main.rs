//! `ngram-lm`: notes §1, Bengio's neural language model as Hinton's assignment 2.
//!
//! `cargo run --release -p ngram-lm` trains on the generated English-like corpus and prints
//! the assignment's log, then `nearest could`, a prediction and a distance. On the
//! assignment's own corpus (`train --text raw_sentences.txt --epochs 10`) expect train ≈ 2.53,
//! validation ≈ 2.60, test ≈ 2.61 nats per word, and the modals nearest to `could`.

use clap::builder::{RangedU64ValueParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use ngram_lm::checkpoint::{self, Spec};
use ngram_lm::data::{Dataset, Source};
use ngram_lm::report::{self, Final, MODALS};
use ngram_lm::train::{Event, Hyper, train_epoch};
use ngram_lm::{picture, words};
use shared::run::{Run, RunArgs};
use std::path::PathBuf;

/// Notes §1 (Language Model): Bengio's neural probabilistic language model as Hinton's
/// assignment 2 — learn 4-grams, predict the 4th word from the first 3. With no command:
/// `train` on the generated corpus, then show nearest / predict / distance examples.
#[derive(Parser)]
#[command(name = "ngram-lm", args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    train: TrainArgs,
}

#[derive(Subcommand)]
enum Cmd {
    /// Train (the default): model.safetensors after every epoch (a checkpoint --resume continues), vocab.txt, loss.png, embedding.png.
    Train(TrainArgs),
    /// The K words whose embeddings are nearest to WORD (display_nearest_words).
    Nearest {
        word: String,
        /// How many words to list.
        #[arg(short, default_value_t = 10, value_parser = positive())]
        k: usize,
        #[command(flatten)]
        model: ModelArg,
    },
    /// The K most probable words after W1 W2 W3 (predict_next_word).
    Predict {
        w1: String,
        w2: String,
        w3: String,
        /// How many words to list.
        #[arg(short, default_value_t = 3, value_parser = positive())]
        k: usize,
        #[command(flatten)]
        model: ModelArg,
    },
    /// Euclidean distance between the embeddings of two words (word_distance).
    Distance {
        w1: String,
        w2: String,
        #[command(flatten)]
        model: ModelArg,
    },
}

#[derive(Args, Clone)]
struct TrainArgs {
    /// A text corpus: 4-grams inside each line (sentence), top --vocab words, 80/10/10 split by --seed.
    #[arg(long, value_name = "FILE", conflicts_with = "mat")]
    text: Option<PathBuf>,
    /// Hinton's data.mat (the assignment's own vocabulary and train/valid/test split).
    #[arg(long, value_name = "FILE")]
    mat: Option<PathBuf>,
    /// Sentences of the generated corpus (used without --text / --mat; ≈ 4.1 4-grams each).
    #[arg(long, default_value_t = 60_000, value_parser = positive())]
    sentences: usize,
    /// Vocabulary size for --text: the most frequent words (if there are more, N−1 of them and an unknown token).
    #[arg(long, default_value_t = 250, value_parser = positive())]
    vocab: usize,
    /// Passes over the training 4-grams.
    #[arg(long, default_value_t = 10, value_parser = positive())]
    epochs: usize,
    /// Batch size B (the notes' 100).
    #[arg(long, default_value_t = 100, value_parser = positive())]
    batch: usize,
    /// Learning rate α.
    #[arg(long, default_value_t = 0.1, value_parser = non_negative, allow_hyphen_values = true)]
    lr: f64,
    /// Momentum μ of Δ ← μΔ + g, W ← W − αΔ.
    #[arg(long, default_value_t = 0.9, value_parser = momentum, allow_hyphen_values = true)]
    momentum: f64,
    /// Embedding size D (the notes' 50).
    #[arg(long, default_value_t = 50, value_parser = positive())]
    embed: usize,
    /// Hidden units H (the notes' 200).
    #[arg(long, default_value_t = 200, value_parser = positive())]
    hidden: usize,
    /// The notes' weight decay λ on W1 and W2 (0 in the assignment).
    #[arg(long, default_value_t = 0.0, value_parser = non_negative, allow_hyphen_values = true)]
    weight_decay: f64,
    /// Continue a run from its checkpoint (a run folder or its model.safetensors, written after every epoch) up to --epochs in all; give the same data and flags
    #[arg(long, value_name = "DIR_OR_FILE")]
    resume: Option<PathBuf>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args, Clone)]
struct ModelArg {
    /// Folder of a trained model, or its model.safetensors [default: the last `train` run's --out, else runs/ngram-lm]
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| {
        let cli = Cli::parse();
        let text = match cli.cmd {
            None => return train(&cli.train),
            Some(Cmd::Train(args)) => return train(&args),
            Some(Cmd::Nearest { word, k, model }) => {
                let (m, v) = checkpoint::load_trained(&model_dir(&model))?;
                words::show_nearest(&m, &v, &word, k)?
            }
            Some(Cmd::Predict {
                w1,
                w2,
                w3,
                k,
                model,
            }) => {
                let (m, v) = checkpoint::load_trained(&model_dir(&model))?;
                words::show_predict(&m, &v, [&w1, &w2, &w3], k)?
            }
            Some(Cmd::Distance { w1, w2, model }) => {
                let (m, v) = checkpoint::load_trained(&model_dir(&model))?;
                words::show_distance(&m, &v, &w1, &w2)?
            }
        };
        print!("{text}");
        Ok(())
    })
}

fn train(a: &TrainArgs) -> anyhow::Result<()> {
    let hyper = Hyper {
        batch: a.batch,
        lr: a.lr,
        momentum: a.momentum,
        embed: a.embed,
        hidden: a.hidden,
        weight_decay: a.weight_decay,
        ..Hyper::default()
    };
    let run = Run::start(ngram_lm::CHAPTER, &a.run)?;
    let source = Source::from_flags(a.text.as_ref(), a.mat.as_ref(), a.vocab, a.sentences);
    let data = Dataset::load(&source, run.seed)?;
    ngram_lm::train::check_sizes(&hyper, data.vocab.len(), data.train.len())?;
    println!("{}", data.describe());
    // A new model (weights from stream 1 of the seed), or the --resume checkpoint.
    let spec = Spec::new(hyper, run.seed, &data);
    let rng = &mut shared::rng::stream(run.seed, 1);
    let floor = data.entropy_floor;
    let start = checkpoint::start(a.resume.as_deref(), &spec, a.epochs, floor, rng)?;
    let (mut trainer, mut curves) = (start.trainer, start.curves);
    data.vocab.write(run.path(checkpoint::VOCAB))?;
    if let Some(from) = &a.resume {
        println!("Resuming {} after epoch {}", from.display(), start.epoch);
    }
    let (batches, ckpt) = (spec.batches, run.path(checkpoint::FILE));
    let mut avg = f64::NAN;
    let bar = run.progress((a.epochs * batches) as u64, "train");
    bar.set_position((start.epoch * batches) as u64);
    for epoch in start.epoch..a.epochs {
        bar.println(format!("Epoch {}", epoch + 1));
        let done = train_epoch(&mut trainer, &data.train, &data.valid, hyper.batch, |e| {
            if let Event::Train { batch, .. } = e {
                bar.set_position((epoch * batches + batch) as u64);
            }
            bar.println(e.line());
            curves.record(epoch, batches, e);
        });
        match done {
            Ok(ce) => avg = ce,
            Err(e) => {
                // A diverged run keeps its curves up to the last report and the checkpoint of
                // its last whole epoch (or what --out held before).
                bar.finish();
                run.save_loss(&curves.figure(a.epochs as f64))?;
                return Err(e.into());
            }
        }
        bar.println(format!("Average Training CE {avg:.3}"));
        checkpoint::save(&ckpt, &trainer, &curves, epoch + 1, &spec)?;
    }
    bar.finish();
    let m = &trainer.model;
    let last = Final::measure(m, &data, avg);
    curves.valid.push(a.epochs as f64, last.valid);
    print!("{}", last.text());
    println!("Training took {:.2} seconds", run.elapsed());
    run.save_loss(&curves.figure(a.epochs as f64))?;
    let words = data.vocab.words();
    picture::save_embedding(run.path("embedding.png"), &m.W0, words, &MODALS)?;
    if let Err(e) = checkpoint::remember_last_run(&run.out) {
        eprintln!("warning: `nearest` / `predict` / `distance` will need --model: {e}");
    }
    run.save_summary(trainer.steps, last.metrics(&data.describe()))?;
    println!("wrote {}", run.out.display());
    // The assignment's three helpers on the model just trained.
    print!("{}", report::demo(&data, m)?);
    Ok(())
}

fn model_dir(arg: &ModelArg) -> PathBuf {
    arg.model.clone().unwrap_or_else(checkpoint::last_run)
}

/// clap parser for sizes and counts: a whole number ≥ 1.
fn positive() -> impl TypedValueParser<Value = usize> {
    RangedU64ValueParser::<usize>::new().range(1..)
}

/// clap parser for rates: a finite number ≥ 0.
fn non_negative(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("{s} is not a finite number ≥ 0")),
    }
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
    fn parsers_accept_the_range_and_name_the_value() {
        assert_eq!(non_negative("0"), Ok(0.0));
        assert!(non_negative("-1").is_err() && non_negative("NaN").is_err());
        assert!(non_negative("inf").is_err());
        assert!(non_negative("-1").unwrap_err().contains("-1 is not"));
        assert_eq!(momentum("0.9"), Ok(0.9));
        assert!(momentum("1").is_err() && momentum("-0.1").is_err());
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
