//! `lstm-gru`: notes §6, LSTM and GRU networks against the vanilla RNN.
//!
//! - no flags: the adding problem with T = 100 for all three cells, one PNG. Expect the LSTM
//!   and the GRU to reach held-out MSE < 0.01 and the vanilla RNN to stay near 1/6 ≈ 0.167.
//! - `text --text FILE`: a character language model (2 × 128 LSTM by default) with validation
//!   loss and a checkpoint; `sample` draws text from the checkpoint.
#![allow(non_snake_case)]

use clap::{Args, Parser, Subcommand, ValueEnum};
use lstm_gru::charlm::{self, CharLm, Vocab};
use lstm_gru::{Cell, CellKind, Gru, Lstm, Rnn, adding};
use serde_json::json;
use shared::plot::{Figure, Panel, Series};
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
    /// Character language model with validation loss and a checkpoint (char-rnn setting).
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
    /// Training text (UTF-8); the last 5 % is the validation set.
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
    /// Stop after this many seconds of training (for equal-time comparisons).
    #[arg(long)]
    seconds: Option<f64>,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 2e-3)]
    lr: f64,
    /// Validate and checkpoint every this many steps.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    eval_every: u64,
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
        } => match a.cell {
            CellKind::Rnn => run_text::<Rnn>(&a),
            CellKind::Lstm => run_text::<Lstm>(&a),
            CellKind::Gru => run_text::<Gru>(&a),
        },
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
    println!(
        "adding problem, T = {}, {} layer(s) of {} units, batch {}, {} steps, Adam {}",
        cfg.T, cfg.layers, cfg.hidden, cfg.batch, cfg.steps, cfg.lr
    );
    let trivial = |name: &str| {
        let mut s = Series::new(name);
        s.push(0.0, adding::TRIVIAL_MSE);
        s.push(cfg.steps as f64, adding::TRIVIAL_MSE);
        s
    };
    let mut train = Panel::new("mini-batch MSE (moving average)", "step", "MSE").log_y();
    let mut test = Panel::new("held-out MSE (256 sequences)", "step", "MSE").log_y();
    let mut metrics = serde_json::Map::new();
    println!(
        "{:<5} {:>7} {:>13} {:>14} {:>8}",
        "cell", "params", "held-out MSE", "MSE<0.01 at", "seconds"
    );
    for kind in cells {
        let bar = run.progress(cfg.steps as u64, kind.name());
        let out = match kind {
            CellKind::Rnn => adding::train::<Rnn>(&cfg, run.seed, &bar)?,
            CellKind::Lstm => adding::train::<Lstm>(&cfg, run.seed, &bar)?,
            CellKind::Gru => adding::train::<Gru>(&cfg, run.seed, &bar)?,
        };
        bar.finish();
        let solved = out
            .solved_at
            .map_or("never".into(), |s| format!("step {s}"));
        println!(
            "{:<5} {:>7} {:>13.5} {:>14} {:>8.1}",
            out.cell, out.params, out.final_test_mse, solved, out.seconds
        );
        train.series.push(out.train_mse.smoothed(0.95, out.cell));
        test.series.push(Series {
            name: out.cell.into(),
            ..out.test_mse.clone()
        });
        metrics.insert(out.cell.into(), json!({"final_test_mse": out.final_test_mse, "solved_at": out.solved_at, "seconds": out.seconds, "params": out.params}));
    }
    train.series.push(trivial("predict the mean (1/6)"));
    test.series.push(trivial("predict the mean (1/6)"));
    let title = format!(
        "Adding problem, T = {}: gated cells remember, the vanilla RNN does not",
        cfg.T
    );
    run.save_loss(&Figure {
        title,
        panels: vec![train, test],
    })?;
    run.save_summary(
        cfg.steps as u64,
        json!({"length": cfg.T, "hidden": cfg.hidden, "layers": cfg.layers, "cells": metrics}),
    )?;
    println!(
        "wrote {} and {}",
        run.path("loss.png").display(),
        run.path("summary.json").display()
    );
    Ok(())
}

fn run_text<C: Cell>(a: &TextArgs) -> anyhow::Result<()> {
    let Some(path) = &a.text else {
        return Err(Error::flag(
            "--text",
            "give a text file (the generated default corpus is not wired in yet)",
        )
        .into());
    };
    let text = shared::files::read_text(path)?;
    let vocab = Vocab::of(&text);
    let ids = vocab.encode(&text)?;
    let split = ids.len() * 95 / 100; // char-rnn's 0.95 / 0.05 split
    let (train_ids, valid_ids) = ids.split_at(split);
    let cfg = charlm::Config {
        layers: a.layers as usize,
        hidden: a.hidden as usize,
        seq_len: a.seq_len as usize,
        batch: a.batch as usize,
        steps: a.steps as usize,
        seconds: a.seconds.map(|s| positive("--seconds", s)).transpose()?,
        lr: positive("--lr", a.lr)?,
        clip: 5.0,
        eval_every: a.eval_every as usize,
    };
    let mut args = a.run.clone();
    args.out
        .get_or_insert_with(|| PathBuf::from("runs/lstm-gru/text"));
    let run = Run::start("lstm-gru", &args)?;
    println!(
        "{}: {} characters, vocabulary {}; {} × {} {}, seq {}, batch {}",
        path.display(),
        ids.len(),
        vocab.len(),
        cfg.layers,
        cfg.hidden,
        C::NAME,
        cfg.seq_len,
        cfg.batch
    );
    let model_path = run.path("model.safetensors");
    let (mut train_s, mut valid_s) = (Series::new("train"), Series::new("validation"));
    let mut last = None;
    let bar = run.progress(cfg.steps as u64, C::NAME);
    let (model, steps) = charlm::train::<C>(
        &cfg,
        vocab.len(),
        train_ids,
        valid_ids,
        run.seed,
        &bar,
        |m: &CharLm<C>, e| {
            bar.println(format!(
                "step {:>5}  {:>6.1} s  train {:.4}  valid {:.4} nats/char",
                e.step, e.seconds, e.train, e.valid
            ));
            train_s.push(e.step as f64, e.train);
            valid_s.push(e.step as f64, e.valid);
            last = Some(*e);
            m.save(&model_path, &vocab, e.step)
        },
    )?;
    bar.finish();
    let e = last.ok_or_else(|| Error::msg("no training step ran"))?;
    let title = format!(
        "{} × {} {} on {}",
        cfg.layers,
        cfg.hidden,
        C::NAME,
        path.display()
    );
    run.save_loss(&Figure::single(
        Panel::new(title, "step", "cross-entropy (nats/char)")
            .with(train_s)
            .with(valid_s),
    ))?;
    run.save_summary(steps as u64, json!({"cell": C::NAME, "layers": cfg.layers, "hidden": cfg.hidden, "params": model.count(), "train_seconds": e.seconds, "final_loss": e.train, "valid_ce": e.valid}))?;
    let sample = model.sample(
        &vocab.encode("\n").unwrap_or(vec![0]),
        300,
        1.0,
        &mut rng::stream(run.seed, 9),
    );
    println!(
        "validation {:.4} nats/char after {steps} steps ({:.0} s of training), {} parameters\n--- sample ---\n{}\n---",
        e.valid,
        e.seconds,
        model.count(),
        vocab.decode(&sample)
    );
    println!("wrote {}", model_path.display());
    Ok(())
}

fn run_sample(a: &SampleArgs) -> anyhow::Result<()> {
    let temperature = positive("--temperature", a.temperature)?;
    let ck = shared::checkpoint::load(&a.model, "lstm-gru")?;
    let cell = charlm::checkpoint_cell(&ck)?;
    let kind = CellKind::from_name(&cell).ok_or_else(|| {
        Error::format(
            &a.model,
            "safetensors metadata",
            format!("unknown cell `{cell}`"),
        )
    })?;
    let (n, mut rng) = (a.len as usize, rng::seeded(a.seed));
    let text = match kind {
        CellKind::Rnn => sample_with::<Rnn>(ck, a.prime.as_deref(), n, temperature, &mut rng),
        CellKind::Lstm => sample_with::<Lstm>(ck, a.prime.as_deref(), n, temperature, &mut rng),
        CellKind::Gru => sample_with::<Gru>(ck, a.prime.as_deref(), n, temperature, &mut rng),
    }?;
    println!("{text}");
    Ok(())
}

fn sample_with<C: Cell>(
    ck: shared::checkpoint::Checkpoint,
    prime: Option<&str>,
    n: usize,
    temperature: f64,
    rng: &mut rng::Rng,
) -> anyhow::Result<String> {
    let (model, vocab): (CharLm<C>, _) = charlm::load(ck)?;
    let prime = match prime {
        Some("") => return Err(Error::flag("--prime", "must not be empty").into()),
        Some(p) => vocab.encode(p).map_err(|e| Error::flag("--prime", e))?,
        None => vocab.encode("\n").unwrap_or(vec![0]),
    };
    let drawn = model.sample(&prime, n, temperature, rng);
    Ok(format!("{}{}", vocab.decode(&prime), vocab.decode(&drawn)))
}
