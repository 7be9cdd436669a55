//! `lstm-gru`: notes §6, LSTM and GRU networks against the vanilla RNN.
//!
//! - no flags: the adding problem with T = 100 for all three cells, one PNG. Expect the LSTM
//!   and the GRU to reach held-out MSE < 0.01 and the vanilla RNN to stay near 1/6 ≈ 0.167.
//! - `text --text FILE`: a character language model (2 × 128 LSTM by default) with validation
//!   loss and a checkpoint; `sample` draws text from the checkpoint.
#![allow(non_snake_case)]

use clap::{Args, Parser, Subcommand, ValueEnum};
use lstm_gru::charlm::{self, CharLm, Corpus, Session};
use lstm_gru::{Cell, CellKind, Gru, Lstm, Rnn, adding};
use shared::data::text::CharStream;
use shared::run::{Run, RunArgs};
use shared::{Error, rng};
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

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    Rnn,
    Lstm,
    Gru,
    All,
}

#[derive(Args)]
struct AddingArgs {
    /// Cell to train (`all`: the three, on the same sequences).
    #[arg(long, value_enum, default_value = "all")]
    cell: Which,
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
    /// Most training steps.
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
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args)]
struct SampleArgs {
    /// Checkpoint written by `lstm-gru text`.
    #[arg(long, default_value = "runs/lstm-gru/text/model.safetensors")]
    model: PathBuf,
    /// Characters to draw.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
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

/// Runs `$body` with the type `$C` set to the cell that `$kind` names.
macro_rules! with_cell {
    ($kind:expr, $C:ident => $body:expr) => {
        match $kind {
            CellKind::Rnn => {
                type $C = Rnn;
                $body
            }
            CellKind::Lstm => {
                type $C = Lstm;
                $body
            }
            CellKind::Gru => {
                type $C = Gru;
                $body
            }
        }
    };
}

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| match Cli::parse() {
        Cli {
            command: None,
            adding,
        }
        | Cli {
            command: Some(Command::Adding(adding)),
            ..
        } => run_adding(&adding),
        Cli {
            command: Some(Command::Text(a)),
            ..
        } => with_cell!(a.cell, C => run_text::<C>(&a)),
        Cli {
            command: Some(Command::Sample(a)),
            ..
        } => run_sample(&a),
    })
}

fn positive(flag: &str, v: f64) -> anyhow::Result<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(Error::flag(flag, "must be a positive number").into())
    }
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
    };
    let run = Run::start("lstm-gru", &a.run)?;
    let cells = match a.cell {
        Which::All => vec![CellKind::Rnn, CellKind::Lstm, CellKind::Gru],
        Which::Rnn => vec![CellKind::Rnn],
        Which::Lstm => vec![CellKind::Lstm],
        Which::Gru => vec![CellKind::Gru],
    };
    println!("{}", adding::header(&cfg));
    let mut runs = Vec::new();
    for kind in cells {
        let bar = run.progress(cfg.steps as u64, kind.name());
        let (out, result) = with_cell!(kind, C => adding::train::<C>(&cfg, run.seed, &bar));
        bar.finish();
        runs.push(out);
        if let Err(e) = result {
            // The curves up to the divergence are still worth a look.
            run.save_loss(&adding::figure(&runs, cfg.T, cfg.steps))?;
            return Err(e.into());
        }
        println!(
            "{}",
            runs.last().map(adding::Outcome::row).unwrap_or_default()
        );
    }
    run.save_loss(&adding::figure(&runs, cfg.T, cfg.steps))?;
    run.save_summary(cfg.steps as u64, adding::summary(&cfg, &runs))?;
    println!("wrote {} and summary.json", run.path("loss.png").display());
    Ok(())
}

fn run_text<C: Cell>(a: &TextArgs) -> anyhow::Result<()> {
    // Data and settings first: a bad --text or flag leaves no output folder behind.
    let corpus = Corpus::load(a.text.as_deref(), a.run.seed)?;
    let cfg = charlm::Config {
        layers: a.layers as usize,
        hidden: a.hidden as usize,
        seq_len: a.seq_len as usize,
        batch: a.batch as usize,
        steps: a.steps as usize,
        seconds: a.seconds.map(|s| positive("--seconds", s)).transpose()?,
        lr: positive(
            "--lr",
            a.lr.unwrap_or(if C::NAME == "rnn" { 2e-3 } else { 6e-3 }),
        )?,
        clip: 5.0,
        eval_every: a.eval_every as usize,
    };
    let V = corpus.stream.vocab_size();
    let mut session = match &a.resume {
        Some(path) => Session::<C>::resume(path, &cfg, &corpus)?,
        None => Session::<C>::new(&cfg, V, a.run.seed),
    };
    let mut args = a.run.clone();
    args.out
        .get_or_insert_with(|| PathBuf::from("runs/lstm-gru/text"));
    let run = Run::start("lstm-gru", &args)?;
    println!("{}", corpus.describe(&cfg, C::NAME));
    if session.step > 0 {
        println!("resuming at step {}", session.step);
    }
    let model_path = run.path("model.safetensors");
    let bar = run.progress(cfg.steps as u64, C::NAME);
    let (train_ids, valid_ids) = (corpus.train_ids(), corpus.valid_ids());
    let trained = charlm::train(&cfg, &mut session, train_ids, valid_ids, &bar, |s, e| {
        bar.println(format!(
            "step {:>5}  {:>7.1} s (wall {:>7.1} s)  train {:.4}  valid {:.4} nats/char",
            e.step, e.seconds, e.wall_seconds, e.train, e.valid
        ));
        s.save(&model_path, &cfg, &corpus)
    });
    bar.finish();
    let what = format!("{} × {} {}", cfg.layers, cfg.hidden, C::NAME);
    let title = format!("{what} on {}", corpus.source);
    // The curves are written even when training stopped on a divergence.
    run.save_loss(&session.figure(title, corpus.floor))?;
    trained?;
    let e = session.history.last().copied();
    let e =
        e.ok_or_else(|| Error::msg("no training step ran (--steps at or below the checkpoint's)"))?;
    run.save_summary(session.step as u64, session.summary(&cfg, corpus.floor))?;
    let (model, mut rng) = (&session.model, rng::stream(run.seed, 9));
    let sample = model.sample_text(&corpus.stream, None, 300, 1.0, &mut rng)?;
    let floor = corpus
        .floor
        .map_or(String::new(), |f| format!(" (the text's entropy: {f:.4})"));
    println!(
        "validation {:.4} nats/char{floor} after {} steps ({:.0} s of training), {} parameters\n\
         --- sample ---\n{sample}\n---\nwrote {}",
        e.valid,
        session.step,
        e.seconds,
        model.count(),
        model_path.display()
    );
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
