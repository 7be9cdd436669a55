//! `lstm-gru`: notes §6, LSTM and GRU networks against the vanilla RNN.
//!
//! - no flags: the adding problem with T = 100 for all three cells, one PNG. Expect the LSTM
//!   and the GRU to reach held-out MSE < 0.01 and the vanilla RNN to stay near 1/6 ≈ 0.167.
//! - `text --text FILE`: a character language model (2 × 128 LSTM by default) with validation
//!   loss and a checkpoint; `sample` draws text from the checkpoint.
#![allow(non_snake_case)]

use clap::{Args, Parser, Subcommand, ValueEnum};
use lstm_gru::charlm::{self, CharLm};
use lstm_gru::{Cell, CellKind, Gru, Lstm, Rnn, adding};
use serde_json::json;
use shared::data::{grammar, text::CharStream};
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
    println!(
        "adding problem, T = {}: {} layer(s) of {} units, batch {}, {} steps, Adam {}\n\
         {:<5} {:>7} {:>14} {:>14} {:>14} {:>8}",
        cfg.T,
        cfg.layers,
        cfg.hidden,
        cfg.batch,
        cfg.steps,
        cfg.lr,
        "cell",
        "params",
        "held-out MSE",
        "best held-out",
        "MSE < 0.01 at",
        "seconds"
    );
    let mut runs = Vec::new();
    for kind in cells {
        let bar = run.progress(cfg.steps as u64, kind.name());
        let out = with_cell!(kind, C => adding::train::<C>(&cfg, run.seed, &bar)?);
        bar.finish();
        let solved = out
            .solved_at
            .map_or("never".into(), |s| format!("step {s}"));
        println!(
            "{:<5} {:>7} {:>14.5} {:>14.5} {:>14} {:>8.1}",
            out.cell, out.params, out.final_test_mse, out.best_test_mse, solved, out.seconds
        );
        runs.push(out);
    }
    run.save_loss(&adding::figure(&runs, cfg.T, cfg.steps))?;
    let cells: serde_json::Map<String, serde_json::Value> = runs
        .iter()
        .map(|o| {
            let m = json!({"final_test_mse": o.final_test_mse, "best_test_mse": o.best_test_mse,
                "solved_at": o.solved_at, "seconds": o.seconds, "params": o.params});
            (o.cell.to_string(), m)
        })
        .collect();
    let summary =
        json!({"length": cfg.T, "hidden": cfg.hidden, "layers": cfg.layers, "cells": cells});
    run.save_summary(cfg.steps as u64, summary)?;
    println!("wrote {} and summary.json", run.path("loss.png").display());
    Ok(())
}

/// Sentences of the generated corpus `text` trains on by default (≈ 0.3 M characters).
const CORPUS_SENTENCES: usize = 10_000;

fn run_text<C: Cell>(a: &TextArgs) -> anyhow::Result<()> {
    let mut args = a.run.clone();
    args.out
        .get_or_insert_with(|| PathBuf::from("runs/lstm-gru/text"));
    let run = Run::start("lstm-gru", &args)?;
    // The text, where validation starts, and (generated corpus only) the exact entropy floor.
    let (source, stream, split, floor) = match &a.text {
        Some(path) => {
            let stream = CharStream::load(path)?;
            let split = stream.ids.len() * 95 / 100; // char-rnn's 0.95 / 0.05 split
            (path.display().to_string(), stream, split, None)
        }
        None => {
            let sentences = grammar::generate_sentences(run.seed, CORPUS_SENTENCES);
            let n_train = CORPUS_SENTENCES * 95 / 100;
            let split = grammar::text(&sentences[..n_train]).chars().count();
            let floor = grammar::entropy_per_char(&sentences[n_train..]);
            let source = format!(
                "generated corpus ({CORPUS_SENTENCES} sentences, seed {})",
                run.seed
            );
            (
                source,
                CharStream::from_text(&grammar::text(&sentences)),
                split,
                Some(floor),
            )
        }
    };
    let (train_ids, valid_ids) = stream.ids.split_at(split);
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
    let what = format!("{} × {} {}", cfg.layers, cfg.hidden, C::NAME);
    let (V, chars) = (stream.vocab_size(), &stream.chars);
    println!(
        "{source}: {} characters ({} for validation), {V} distinct; {what}, seq {}, batch {}, Adam {}",
        stream.ids.len(),
        valid_ids.len(),
        cfg.seq_len,
        cfg.batch,
        cfg.lr
    );
    let model_path = run.path("model.safetensors");
    let (mut train_s, mut valid_s) = (Series::new("train"), Series::new("validation"));
    let mut last = None;
    let bar = run.progress(cfg.steps as u64, C::NAME);
    let (model, steps) = charlm::train::<C>(
        &cfg,
        V,
        train_ids,
        valid_ids,
        run.seed,
        &bar,
        |m: &CharLm<C>, e| {
            bar.println(format!(
                "step {:>5}  {:>7.1} s (wall {:>7.1} s)  train {:.4}  valid {:.4} nats/char",
                e.step, e.seconds, e.wall_seconds, e.train, e.valid
            ));
            train_s.push(e.step as f64, e.train);
            valid_s.push(e.step as f64, e.valid);
            last = Some(*e);
            m.save(&model_path, chars, e.step)
        },
    )?;
    bar.finish();
    let e = last.ok_or_else(|| Error::msg("no training step ran"))?;
    let mut panel = Panel::new(format!("{what} on {source}"), "step", "nats per character");
    if let Some(floor) = floor {
        let mut s = Series::new("entropy of the validation text (floor)");
        s.push(0.0, floor);
        s.push(steps as f64, floor);
        panel = panel.with(s);
    }
    run.save_loss(&Figure::single(panel.with(train_s).with(valid_s)))?;
    run.save_summary(
        steps as u64,
        json!({"cell": C::NAME, "layers": cfg.layers, "hidden": cfg.hidden,
        "lr": cfg.lr, "params": model.count(), "train_seconds": e.seconds, "train_wall_seconds": e.wall_seconds,
        "final_loss": e.train, "valid_ce": e.valid, "valid_entropy_floor": floor}),
    )?;
    let sample = model.sample_text(&stream, None, 300, 1.0, &mut rng::stream(run.seed, 9))?;
    let floor = floor.map_or(String::new(), |f| format!(" (the text's entropy: {f:.4})"));
    println!(
        "validation {:.4} nats/char{floor} after {steps} steps ({:.0} s of training), {} parameters\n\
         --- sample ---\n{sample}\n---\nwrote {}",
        e.valid,
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
