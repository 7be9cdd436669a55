//! `char-rnn`: notes §6, Karpathy's minimal character-level RNN, as a tool: train on any text,
//! checkpoint, resume exactly, sample.
//!
//! Expect (tinyshakespeare, `char-rnn train --text input.txt --iterations 100000`): the
//! smoothed loss falls from 25·ln 65 = 104.36 to ≈ 57 at 5k, ≈ 54 at 10k and ≈ 48 at 100k
//! iterations, and the samples grow speaker names ("JULIO CLENDO:") and word-like tokens.
#![allow(non_snake_case)]

use char_rnn::checkpoint;
use clap::{Args, Parser, Subcommand, value_parser};
use shared::run::{Run, RunArgs};
use shared::{Error, rng};
use std::path::{Path, PathBuf};

/// Notes §6: Karpathy's minimal character-level vanilla RNN (min-char-rnn).
/// With no subcommand: `train` on the generated corpus.
#[derive(Parser)]
#[command(name = "char-rnn", args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    train: TrainArgs,
}

#[derive(Subcommand)]
enum Cmd {
    /// Train (or resume training) and write model.safetensors, loss.png, summary.json to --out.
    Train(TrainArgs),
    /// Draw text from a trained model.
    Sample(SampleArgs),
}

#[derive(Args)]
struct TrainArgs {
    /// UTF-8 text to learn [default: the generated English-like corpus]
    #[arg(long, value_name = "FILE")]
    text: Option<PathBuf>,
    /// Hidden units N_h [default: 100]
    #[arg(long, value_parser = value_parser!(u64).range(1..=4096))]
    hidden: Option<u64>,
    /// Characters per chunk T (the BPTT length) [default: 25]
    #[arg(long, value_parser = value_parser!(u64).range(1..=10_000))]
    seq_len: Option<u64>,
    /// Adagrad learning rate [default: 0.1]
    #[arg(long)]
    lr: Option<f64>,
    /// Iterations (chunks of T characters) to train in this run
    #[arg(long, default_value_t = 100_000, value_parser = value_parser!(u64).range(1..))]
    iterations: u64,
    /// Print `iter N, loss: L` and a 200-character sample every N iterations (0: never)
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    sample_every: u64,
    /// Write the checkpoint every N iterations (0: only at the end)
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    checkpoint_every: u64,
    /// Continue exactly from the checkpoint in DIR (model, Adagrad memories, position, hidden
    /// state, sampling generator)
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args)]
struct SampleArgs {
    /// Folder holding model.safetensors (a train run's --out)
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// Characters to draw
    #[arg(long, default_value_t = 200)]
    len: usize,
    /// Softmax temperature τ > 0: below 1 safer characters, above 1 more surprises
    #[arg(long, default_value_t = 1.0)]
    temperature: f64,
    /// Text to feed first [default: a newline, i.e. the start of a line]
    #[arg(long)]
    prime: Option<String>,
    /// Random seed of the draws
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| {
        let cli = Cli::parse();
        match cli.cmd {
            Some(Cmd::Sample(a)) => sample(a),
            Some(Cmd::Train(a)) => train(a),
            None => train(cli.train),
        }
    })
}

/// Sentences of the generated corpus the default run trains on.
const CORPUS_SENTENCES: usize = 30_000;

fn train(a: TrainArgs) -> anyhow::Result<()> {
    let run = Run::start("char-rnn", &a.run)?;
    let flags = checkpoint::Flags {
        text: a.text.map(|p| p.display().to_string()),
        hidden: a.hidden.map(|h| h as usize),
        seq_len: a.seq_len.map(|t| t as usize),
        lr: a.lr,
        resume: a.resume,
    };
    let default = format!("generated:{}:{CORPUS_SENTENCES}", run.seed);
    let (mut trainer, text, info) = checkpoint::start(&flags, default, run.seed)?;
    let config = trainer.config;
    let (T, vocab) = (config.seq_len, &text.vocab);
    println!(
        "data has {} characters, {} unique ({}).",
        text.data.len(),
        vocab.len(),
        info.source
    );
    println!(
        "N_h = {}, T = {T}, Adagrad lr {}, clip ±{}; starting at iteration {}",
        config.hidden, config.lr, config.clip, trainer.n
    );
    let ckpt = run.path(checkpoint::FILE);
    let bar = run.progress(a.iterations, "train");
    let first = trainer.n;
    for _ in 0..a.iterations {
        let n = trainer.n;
        let report = a.sample_every > 0 && n % a.sample_every == 0;
        if report {
            let s = trainer.sample_here(&text, 200);
            bar.println(format!("----\n {} \n----", vocab.decode(&s)));
        }
        trainer.step(&text)?;
        if report {
            bar.println(format!("iter {n}, loss: {:.6}", trainer.smooth_loss));
            bar.set_message(format!("loss {:.2}", trainer.smooth_loss));
        }
        if a.checkpoint_every > 0 && trainer.n % a.checkpoint_every == 0 {
            checkpoint::save(&ckpt, &trainer, vocab, &info)?;
        }
        bar.inc(1);
    }
    bar.finish();
    checkpoint::save(&ckpt, &trainer, vocab, &info)?;
    let s = trainer.sample_here(&text, 200);
    println!("----\n {} \n----", vocab.decode(&s));
    let (loss, done) = (trainer.smooth_loss, trainer.n - first);
    let uniform = T as f64 * (vocab.len() as f64).ln();
    println!(
        "iter {}, loss: {loss:.6} = {:.4} nats per character (uniform guess: {uniform:.4} per chunk)",
        trainer.n - 1,
        loss / T as f64
    );
    if let Some(h) = text.entropy {
        println!("the corpus's exact entropy: {h:.4} nats per character (the floor)");
    }
    println!(
        "{:.1} µs per iteration (wall clock); wrote {} and loss.png to {}",
        run.elapsed() * 1e6 / done as f64,
        checkpoint::FILE,
        run.out.display()
    );
    let name = match text.entropy {
        Some(_) => "the generated corpus".into(),
        None => Path::new(&info.source)
            .file_name()
            .map_or(info.source.clone(), |n| n.to_string_lossy().into()),
    };
    let title = format!(
        "char-rnn on {name} (N_h = {}, T = {T}, N_x = {})",
        config.hidden,
        vocab.len()
    );
    let floor = text.entropy.map(|h| ("the corpus's entropy (floor)", h));
    run.save_loss(&trainer.loss_figure(title, floor))?;
    run.save_summary(
        done,
        serde_json::json!({
            "final_loss": loss, "nats_per_char": loss / T as f64, "iterations_total": trainer.n,
            "position": trainer.p, "vocab_size": vocab.len(), "text_chars": text.data.len(),
            "text": info.source, "hidden": config.hidden, "seq_len": T, "lr": config.lr,
            "entropy_per_char": text.entropy,
        }),
    )?;
    Ok(())
}

fn sample(a: SampleArgs) -> anyhow::Result<()> {
    if !(a.temperature > 0.0 && a.temperature.is_finite()) {
        return Err(Error::flag(
            "--temperature",
            format!("{} is not a positive number", a.temperature),
        )
        .into());
    }
    let (model, vocab) = checkpoint::load_model(&checkpoint::file_in(&a.model, "--model")?)?;
    let mut rng = rng::seeded(a.seed);
    let prime = match &a.prime {
        Some(p) if p.is_empty() => return Err(Error::flag("--prime", "is empty").into()),
        Some(p) => vocab.encode(p, "--prime")?,
        // No prime: start a line if the vocabulary has newlines, else a uniformly drawn character.
        None => vec![
            vocab
                .index('\n')
                .unwrap_or_else(|| rng::below(&mut rng, vocab.len())),
        ],
    };
    let out = model.sample_primed(&prime, a.len, a.temperature, &mut rng);
    println!("{}{}", vocab.decode(&prime), vocab.decode(&out));
    Ok(())
}
