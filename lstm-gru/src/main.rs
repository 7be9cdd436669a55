//! `lstm-gru`: notes §6, LSTM and GRU networks against the vanilla RNN.
//!
//! - no flags: the adding problem with T = 100 for all three cells, one PNG. Expect the LSTM
//!   and the GRU to reach held-out MSE < 0.01 and the vanilla RNN to stay near 1/6 ≈ 0.167.
//! - `text --text FILE`: a character language model (2 × 128 LSTM by default) with validation
//!   loss and a checkpoint (`--resume` continues it); `sample` draws text from the checkpoint.
#![allow(non_snake_case)]

use clap::{Args, Parser, Subcommand};
use lstm_gru::charlm::{self, CharLm, Corpus, Session};
use lstm_gru::{Cell, CellKind, adding, positive, with_cell};
use shared::data::text::CharStream;
use shared::rng;
use shared::run::{Run, RunArgs};
use std::path::PathBuf;

/// Notes §6 "LSTM Networks" and "GRU Networks" (after Colah's blog) against the vanilla RNN.
/// With no subcommand: the adding problem (T = 100) for all three cells.
#[derive(Parser)]
#[command(name = "lstm-gru", args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    adding: AddingArgs,
}

#[derive(Subcommand)]
enum Command {
    /// The adding problem (Hochreiter & Schmidhuber 1997): remember two marked numbers over T steps.
    Adding(AddingArgs),
    /// Character language model with validation loss and a checkpoint (char-rnn setting);
    /// writes to runs/lstm-gru/text by default.
    Text(TextArgs),
    /// Draw text from a checkpoint written by `text`.
    Sample(SampleArgs),
}

#[derive(Args)]
struct AddingArgs {
    /// Cell to train [default: the three, one after another, on the same sequences].
    #[arg(long, value_enum)]
    cell: Option<CellKind>,
    /// Sequence length T.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(2..))]
    length: u64,
    /// Hidden units per layer.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..))]
    hidden: u64,
    /// Stacked layers.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    layers: u64,
    /// Training steps (a fresh mini-batch each).
    #[arg(long, default_value_t = 2500, value_parser = clap::value_parser!(u64).range(1..))]
    steps: u64,
    /// Sequences per mini-batch.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..))]
    batch: u64,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 0.01)]
    lr: f64,
    /// Threads per mini-batch: its sequences split into N groups run side by side, the
    /// gradients added in a fixed order (1: single-threaded; N > 1 equals it up to rounding).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=8))]
    threads: u64,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args)]
struct TextArgs {
    /// Training text (UTF-8); the last 5 % is the validation set [default: the generated
    /// English-like corpus of shared::data, 10,000 sentences from --seed].
    #[arg(long, value_name = "FILE")]
    text: Option<PathBuf>,
    /// Cell type.
    #[arg(long, value_enum, default_value = "lstm")]
    cell: CellKind,
    /// Stacked layers.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    layers: u64,
    /// Hidden units per layer.
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u64).range(1..))]
    hidden: u64,
    /// Characters per chunk (truncated BPTT length).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    seq_len: u64,
    /// Streams read side by side (mini-batch).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..))]
    batch: u64,
    /// Most training steps (in all, counting those of a resumed checkpoint).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    steps: u64,
    /// Stop after this many seconds of training: CPU seconds on Linux (fair on a shared machine),
    /// evaluation excluded. For equal-time comparisons.
    #[arg(long)]
    seconds: Option<f64>,
    /// Adam's learning rate [default: 6e-3 for lstm and gru, 2e-3 for rnn; on tinyshakespeare
    /// 6e-3 beat 2e-3 for the LSTM and lost to it for the RNN].
    #[arg(long)]
    lr: Option<f64>,
    /// Validate and checkpoint every this many steps.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    eval_every: u64,
    /// Continue the run of this checkpoint (a model.safetensors written by `text`) up to
    /// --steps, exactly as if it had not stopped; give the same flags as that run.
    #[arg(long, value_name = "FILE")]
    resume: Option<PathBuf>,
    /// Threads per mini-batch: its sequences split into N groups run side by side, the
    /// gradients added in a fixed order (1: single-threaded; N > 1 equals it up to rounding).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=8))]
    threads: u64,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args)]
struct SampleArgs {
    /// Checkpoint written by `lstm-gru text`.
    #[arg(long, default_value = "runs/lstm-gru/text/model.safetensors")]
    model: PathBuf,
    /// Characters to draw (at most 10 million).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    len: u64,
    /// Softmax temperature (lower: more conservative).
    #[arg(long, default_value_t = 1.0)]
    temperature: f64,
    /// Text to start from (default: a newline, or the vocabulary's first character).
    #[arg(long)]
    prime: Option<String>,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| {
        let cli = Cli::parse();
        match cli.command {
            None => run_adding(&cli.adding),
            Some(Command::Adding(a)) => run_adding(&a),
            Some(Command::Text(a)) => with_cell!(a.cell, C => run_text::<C>(&a)),
            Some(Command::Sample(a)) => run_sample(&a),
        }
    })
}

fn run_adding(a: &AddingArgs) -> anyhow::Result<()> {
    let cfg = adding::Config {
        T: a.length as usize,
        hidden: a.hidden as usize,
        layers: a.layers as usize,
        batch: a.batch as usize,
        steps: a.steps as usize,
        lr: positive("--lr", a.lr)?,
        clip: 1.0,
        eval_every: 50,
        test_size: 256,
        threads: a.threads as usize,
    };
    cfg.check_memory()?;
    let run = Run::start("lstm-gru", &a.run)?;
    println!("{}", adding::header(&cfg));
    let mut runs = Vec::new();
    for kind in a.cell.map_or(CellKind::ALL.to_vec(), |k| vec![k]) {
        let bar = run.progress(cfg.steps as u64, kind.name());
        let (out, result) = with_cell!(kind, C => adding::train::<C>(&cfg, run.seed, &bar));
        bar.finish();
        runs.push(out);
        if let Err(e) = result {
            // The curves up to the divergence are still worth a look.
            run.save_loss(&adding::figure(&runs, cfg.T, cfg.steps))?;
            return Err(e.into());
        }
        println!("{}", runs[runs.len() - 1].row());
    }
    run.save_loss(&adding::figure(&runs, cfg.T, cfg.steps))?;
    run.save_summary(cfg.steps as u64, adding::summary(&cfg, &runs))?;
    println!("wrote {} and summary.json", run.path("loss.png").display());
    Ok(())
}

fn run_text<C: Cell>(a: &TextArgs) -> anyhow::Result<()> {
    // Data, settings and checkpoint first: bad input leaves no output folder behind.
    let corpus = Corpus::load(a.text.as_deref(), a.run.seed)?;
    let default_lr = if C::NAME == "rnn" { 2e-3 } else { 6e-3 };
    let cfg = charlm::Config {
        layers: a.layers as usize,
        hidden: a.hidden as usize,
        seq_len: a.seq_len as usize,
        batch: a.batch as usize,
        steps: a.steps as usize,
        seconds: a.seconds.map(|s| positive("--seconds", s)).transpose()?,
        lr: positive("--lr", a.lr.unwrap_or(default_lr))?,
        clip: 5.0,
        eval_every: a.eval_every as usize,
        threads: a.threads as usize,
    };
    let V = corpus.stream.vocab_size();
    cfg.check_memory(V)?;
    let mut session = match &a.resume {
        Some(path) => Session::<C>::resume(path, &cfg, &corpus)?,
        None => Session::<C>::new(&cfg, V, a.run.seed),
    };
    let mut args = a.run.clone();
    args.out.get_or_insert_with(|| "runs/lstm-gru/text".into());
    let run = Run::start("lstm-gru", &args)?;
    println!("{}", corpus.describe(&cfg, C::NAME));
    if let Some(path) = &a.resume {
        println!("resuming at step {} of {}", session.step, path.display());
    }
    let model_path = run.path("model.safetensors");
    let bar = run.progress(cfg.steps as u64, C::NAME);
    let (train_ids, valid_ids) = (corpus.train_ids(), corpus.valid_ids());
    let trained = charlm::train(&cfg, &mut session, train_ids, valid_ids, &bar, |s, e| {
        bar.println(e.line());
        s.save(&model_path, &cfg, &corpus) // the checkpoint of every validation
    });
    bar.finish();
    let title = format!(
        "{} × {} {} on {}",
        cfg.layers,
        cfg.hidden,
        C::NAME,
        corpus.source
    );
    // The curves are written even when training stopped on a divergence.
    run.save_loss(&session.figure(title, corpus.floor))?;
    trained?;
    run.save_summary(session.step as u64, session.summary(&cfg, corpus.floor))?;
    let mut rng = rng::stream(run.seed, 9);
    println!("{}", session.report(&corpus, &mut rng, &model_path)?);
    Ok(())
}

fn run_sample(a: &SampleArgs) -> anyhow::Result<()> {
    let temperature = positive("--temperature", a.temperature)?;
    let ck = shared::checkpoint::load(&a.model, "lstm-gru")?;
    let kind = charlm::checkpoint_cell(&ck)?;
    let (n, mut rng) = (a.len as usize, rng::seeded(a.seed));
    let text = with_cell!(kind, C => {
        let (model, vocab): (CharLm<C>, CharStream) = charlm::load(ck)?;
        model.sample_text(&vocab, a.prime.as_deref(), n, temperature, &mut rng)?
    });
    println!("{text}");
    Ok(())
}
