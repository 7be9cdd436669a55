//! `char-rnn`: notes §6, Karpathy's minimal character-level RNN, as a tool: train on any text,
//! checkpoint, resume exactly, sample.
//!
//! Expect (tinyshakespeare, `char-rnn train --text input.txt --iterations 100000`): the
//! smoothed loss falls from 25·ln 65 = 104.36 to ≈ 57 at 5k, ≈ 54 at 10k and ≈ 48 at 100k
//! iterations, and the samples grow speaker names ("JULIO CLENDO:") and word-like tokens.
#![allow(non_snake_case)]

use char_rnn::{checkpoint, fast, report};
use clap::{Args, Parser, Subcommand, value_parser};
use shared::run::{Run, RunArgs};
use shared::{Error, rng};
use std::path::PathBuf;

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
    #[arg(long, default_value_t = 200, value_parser = value_parser!(u64).range(0..=10_000_000))]
    len: u64,
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
    let vocab = &text.vocab;
    println!("{}", report::header(&trainer, &text, &info));
    let ckpt = run.path(checkpoint::FILE);
    let bar = run.progress(a.iterations, "train");
    let first = trainer.n;
    // The reference's loop; the checkpoint is rewritten (atomically) every --checkpoint-every
    // iterations and at the end. A divergence stops it with the last good checkpoint in place.
    let trained = (|| -> shared::Result<()> {
        for _ in 0..a.iterations {
            let n = trainer.n;
            let show = a.sample_every > 0 && n % a.sample_every == 0;
            if show {
                let s = trainer.sample_here(&text, 200);
                bar.println(report::sample(&vocab.decode(&s)));
            }
            trainer.step(&text)?;
            if show {
                bar.println(report::progress(n, &trainer));
                bar.set_message(format!("loss {:.2}", trainer.smooth_loss));
            }
            if a.checkpoint_every > 0 && trainer.n % a.checkpoint_every == 0 {
                checkpoint::save_checked(&ckpt, &mut trainer, &text, &info)?;
            }
            bar.inc(1);
        }
        checkpoint::save_checked(&ckpt, &mut trainer, &text, &info)
    })();
    bar.finish();
    // The curves up to the last good iteration, also after a divergence.
    let floor = text.entropy.map(|h| ("the corpus's entropy (floor)", h));
    let title = report::title(&trainer, &text, &info);
    run.save_loss(&trainer.loss_figure(title, floor))?;
    trained?;
    let s = trainer.sample_here(&text, 200);
    println!("{}", report::sample(&vocab.decode(&s)));
    let done = trainer.n - first;
    println!(
        "{}",
        report::finish(&trainer, &text, done, run.elapsed(), &run.out)
    );
    run.save_summary(done, report::metrics(&trainer, &text, &info))?;
    Ok(())
}

fn sample(a: SampleArgs) -> anyhow::Result<()> {
    shared::cli::check_positive("--temperature", a.temperature)?;
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
    let out = fast::sample_primed(&model, &prime, a.len as usize, a.temperature, &mut rng);
    println!("{}{}", vocab.decode(&prime), vocab.decode(&out));
    Ok(())
}
