//! `ngram-lm`: notes §1, Bengio's neural language model as Hinton's assignment 2.
//!
//! `cargo run --release -p ngram-lm` trains on the generated English-like corpus and prints
//! the assignment's log, then `nearest could`, a prediction and a distance. On the
//! assignment's own corpus (`train --text raw_sentences.txt --epochs 10`) expect train ≈ 2.53,
//! validation ≈ 2.60, test ≈ 2.61 nats per word, and the modals nearest to `could`.

use clap::{Args, Parser, Subcommand};
use ngram_lm::data::{Dataset, Source};
use ngram_lm::{Event, Hyper, Trainer, picture, train_epoch, words};
use shared::plot::{Figure, Panel, Series};
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
    /// Train (the default); saves model.safetensors, vocab.txt, loss.png, embedding.png.
    Train(TrainArgs),
    /// The K words whose embeddings are nearest to WORD (display_nearest_words).
    Nearest {
        word: String,
        /// How many words to list.
        #[arg(short, default_value_t = 10, value_parser = positive)]
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
        #[arg(short, default_value_t = 3, value_parser = positive)]
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
    #[arg(long, default_value_t = 60_000, value_parser = positive)]
    sentences: usize,
    /// Vocabulary size for --text: the most frequent words (if there are more, N−1 of them and an unknown token).
    #[arg(long, default_value_t = 250, value_parser = positive)]
    vocab: usize,
    /// Passes over the training 4-grams.
    #[arg(long, default_value_t = 10, value_parser = positive)]
    epochs: usize,
    /// Batch size B (the notes' 100).
    #[arg(long, default_value_t = 100, value_parser = positive)]
    batch: usize,
    /// Learning rate α.
    #[arg(long, default_value_t = 0.1, value_parser = non_negative, allow_hyphen_values = true)]
    lr: f64,
    /// Momentum μ of Δ ← μΔ + g, W ← W − αΔ.
    #[arg(long, default_value_t = 0.9, value_parser = non_negative, allow_hyphen_values = true)]
    momentum: f64,
    /// Embedding size D (the notes' 50).
    #[arg(long, default_value_t = 50, value_parser = positive)]
    embed: usize,
    /// Hidden units H (the notes' 200).
    #[arg(long, default_value_t = 200, value_parser = positive)]
    hidden: usize,
    /// The notes' weight decay λ on W1 and W2 (0 in the assignment).
    #[arg(long, default_value_t = 0.0, value_parser = non_negative, allow_hyphen_values = true)]
    weight_decay: f64,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args, Clone)]
struct ModelArg {
    /// Folder of a trained model [default: the last `train` run's --out, else runs/ngram-lm]
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
                let (m, v) = words::load_trained(&model_dir(&model))?;
                words::show_nearest(&m, &v, &word, k)?
            }
            Some(Cmd::Predict {
                w1,
                w2,
                w3,
                k,
                model,
            }) => {
                let (m, v) = words::load_trained(&model_dir(&model))?;
                words::show_predict(&m, &v, [&w1, &w2, &w3], k)?
            }
            Some(Cmd::Distance { w1, w2, model }) => {
                let (m, v) = words::load_trained(&model_dir(&model))?;
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
    let source = match (&a.text, &a.mat) {
        (Some(f), _) => Source::Text(f.clone(), a.vocab),
        (_, Some(f)) => Source::Mat(f.clone()),
        _ => Source::Generated(a.sentences),
    };
    let data = Dataset::load(&source, run.seed)?;
    println!("{}", data.describe());
    let mut trainer = Trainer::new(
        data.vocab.len(),
        &hyper,
        &mut shared::rng::stream(run.seed, 1),
    )?;
    let batches = data.train.len() / hyper.batch;
    let mut train_s = Series::new("train (mean of 100 batches)");
    let mut valid_s = Series::new("validation");
    let mut avg = f64::NAN;
    let bar = run.progress((a.epochs * batches) as u64, "train");
    for epoch in 0..a.epochs {
        bar.println(format!("Epoch {}", epoch + 1));
        let at = |batch: usize| epoch as f64 + batch as f64 / batches as f64;
        avg = train_epoch(
            &mut trainer,
            &data.train,
            &data.valid,
            hyper.batch,
            |e| match e {
                Event::Train { batch, ce } => {
                    bar.set_position((epoch * batches + batch) as u64);
                    bar.println(format!("Batch {batch} Train CE {ce:.3}"));
                    train_s.push(at(batch), ce);
                }
                Event::Valid { batch, ce } => {
                    bar.println(format!("Running validation ... Validation CE {ce:.3}"));
                    valid_s.push(at(batch), ce);
                }
            },
        )?;
        bar.println(format!("Average Training CE {avg:.3}"));
    }
    bar.finish();
    let m = &trainer.model;
    let (valid, test) = (m.cross_entropy(&data.valid), m.cross_entropy(&data.test));
    println!("Finished Training.\nFinal Training CE {avg:.3}");
    println!("Final Validation CE {valid:.3}\nFinal Test CE {test:.3}");
    println!("Training took {:.2} seconds", run.elapsed());
    valid_s.push(a.epochs as f64, valid);
    let mut panel = Panel::new(
        "§1 language model: cross-entropy per predicted word",
        "epoch",
        "CE (nats)",
    )
    .with(train_s)
    .with(valid_s);
    if let Some(h) = data.entropy_floor {
        println!("Entropy floor of the generator {h:.3} (no model can do better on average)");
        let mut floor = Series::new("entropy floor of the generator");
        floor.push(0.0, h);
        floor.push(a.epochs as f64, h);
        panel = panel.with(floor);
    }
    run.save_loss(&Figure::single(panel))?;
    m.save(run.path("model.safetensors"))?;
    data.vocab.write(run.path("vocab.txt"))?;
    let modals = [
        "can", "could", "should", "would", "might", "may", "will", "must",
    ];
    picture::save_embedding(
        run.path("embedding.png"),
        &m.W0,
        data.vocab.words(),
        &modals,
    )?;
    ngram_lm::data::remember_last_run(&run.out)?;
    let metrics = serde_json::json!({"train_ce": avg, "valid_ce": valid, "test_ce": test,
        "final_loss": avg, "entropy_floor": data.entropy_floor, "data": data.describe()});
    run.save_summary((a.epochs * batches) as u64, metrics)?;
    println!("wrote {}", run.out.display());
    // The assignment's three helpers on the model just trained.
    print!("{}", data.demo(m)?);
    Ok(())
}

fn model_dir(arg: &ModelArg) -> PathBuf {
    arg.model.clone().unwrap_or_else(ngram_lm::data::last_run)
}

/// clap parser for sizes and counts: a whole number ≥ 1.
fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{s} is not a whole number ≥ 1")),
    }
}

/// clap parser for rates: a finite number ≥ 0.
fn non_negative(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("{s} is not a finite number ≥ 0")),
    }
}
