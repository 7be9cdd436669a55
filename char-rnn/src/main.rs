//! `char-rnn`: notes §6, Karpathy's minimal character-level RNN, as a tool: train on any text,
//! checkpoint, resume exactly, sample.
//!
//! Expect (tinyshakespeare, `char-rnn train --text input.txt --iterations 100000`): the
//! smoothed loss falls from 25·ln 65 = 104.36 to ≈ 57 at 5k, ≈ 54 at 10k and ≈ 48 at 100k
//! iterations, and the samples grow speaker names ("JULIO CLENDO:") and word-like tokens.
#![allow(non_snake_case)]

use anyhow::Context;
use char_rnn::checkpoint::{self, TextInfo};
use char_rnn::trainer::{Config, Trainer};
use char_rnn::vocab::{Text, fnv1a};
use clap::{Args, Parser, Subcommand, value_parser};
use shared::plot::{Figure, Panel, Series};
use shared::run::{Run, RunArgs};
use shared::{Error, files, rng};
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
    #[arg(long, default_value_t = 50_000, value_parser = value_parser!(u64).range(1..))]
    iterations: u64,
    /// Print `iter N, loss: L` and a 200-character sample every N iterations (0: never)
    #[arg(long, default_value_t = 5_000, value_name = "N")]
    sample_every: u64,
    /// Write the checkpoint every N iterations (0: only at the end)
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    checkpoint_every: u64,
    /// Continue exactly from the checkpoint in DIR (its model, Adagrad memories, position,
    /// hidden state and generator)
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
    /// Softmax temperature τ > 0: below 1 more likely characters, above 1 more surprises
    #[arg(long, default_value_t = 1.0)]
    temperature: f64,
    /// Text to feed first [default: a newline, i.e. the start of a line]
    #[arg(long)]
    prime: Option<String>,
    /// Random seed of the draws
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Characters of the generated corpus the default run trains on.
const CORPUS_CHARS: usize = 200_000;

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

/// The training text: a file, or the generated corpus (`generated:<seed>:<chars>`).
fn read_source(source: &str) -> anyhow::Result<String> {
    if let Some(spec) = source.strip_prefix("generated:") {
        let (seed, chars) = spec.split_once(':').context("bad generated-corpus spec")?;
        Ok(generated(seed.parse()?, chars.parse()?))
    } else {
        Ok(files::read_text(source)?)
    }
}

fn train(a: TrainArgs) -> anyhow::Result<()> {
    let run = Run::start("char-rnn", &a.run)?;
    let mut config = Config::default();
    let resumed = match &a.resume {
        Some(dir) => Some(checkpoint::load(&checkpoint::file_in(dir, "--resume")?)?),
        None => None,
    };
    if let Some((t, _, _)) = &resumed {
        for (flag, given, saved) in [
            ("--hidden", a.hidden, t.config.hidden),
            ("--seq-len", a.seq_len, t.config.seq_len),
        ] {
            if given.is_some_and(|g| g as usize != saved) {
                return Err(
                    Error::flag(flag, format!("the checkpoint was trained with {saved}")).into(),
                );
            }
        }
        config = t.config;
    }
    config.hidden = a.hidden.map_or(config.hidden, |h| h as usize);
    config.seq_len = a.seq_len.map_or(config.seq_len, |t| t as usize);
    if let Some(lr) = a.lr {
        if !(lr > 0.0 && lr.is_finite()) {
            return Err(Error::flag("--lr", format!("{lr} is not a positive number")).into());
        }
        config.lr = lr;
    }
    let source = match (&a.text, &resumed) {
        (Some(path), _) => path.display().to_string(),
        (None, Some((_, _, info))) => info.source.clone(),
        (None, None) => format!("generated:{}:{CORPUS_CHARS}", run.seed),
    };
    let raw = read_source(&source)?;
    let text = Text::new(&raw, config.seq_len, &source)?;
    let info = TextInfo {
        source,
        chars: text.data.len(),
        hash: fnv1a(raw.as_bytes()),
    };
    let mut trainer = match resumed {
        Some((mut t, vocab, saved)) => {
            if saved.hash != info.hash || vocab != text.vocab {
                let msg = format!(
                    "the checkpoint was trained on {} ({} characters), not on this text",
                    saved.source, saved.chars
                );
                return Err(Error::flag("--resume", msg).into());
            }
            t.config = config;
            t
        }
        None => Trainer::new(text.vocab.len(), config, run.seed),
    };
    let (T, data, vocab) = (config.seq_len, &text.data, &text.vocab);
    println!(
        "data has {} characters, {} unique ({}).",
        data.len(),
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
        if a.sample_every > 0 && n % a.sample_every == 0 {
            let s = trainer.sample_here(data, 200);
            bar.println(format!("----\n {} \n----", vocab.decode(&s)));
        }
        trainer.step(data)?;
        if a.sample_every > 0 && n % a.sample_every == 0 {
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
    let done = trainer.n - first;
    let s = trainer.sample_here(data, 200);
    println!("----\n {} \n----", vocab.decode(&s));
    let loss = trainer.smooth_loss;
    println!(
        "iter {}, loss: {loss:.6} ({:.4} nats per character); uniform guess {:.4}",
        trainer.n - 1,
        loss / T as f64,
        T as f64 * (vocab.len() as f64).ln()
    );
    println!(
        "{:.1} µs per iteration; wrote {} and loss.png to {}",
        run.elapsed() * 1e6 / done as f64,
        checkpoint::FILE,
        run.out.display()
    );
    let mut per_chunk = Series::new(format!("smoothed loss (sum over T = {T} characters)"));
    let mut per_char = Series::new("smoothed loss / T");
    for &(n, l) in &trainer.history {
        per_chunk.push(n as f64, l);
        per_char.push(n as f64, l / T as f64);
    }
    let figure = Figure {
        title: format!(
            "char-rnn on {} (N_h = {}, T = {T}, N_x = {})",
            info.source,
            config.hidden,
            vocab.len()
        ),
        panels: vec![
            Panel::new(
                "smoothed loss per chunk",
                "iteration",
                "loss (nats per chunk)",
            )
            .with(per_chunk),
            Panel::new(
                "the same in nats per character",
                "iteration",
                "nats per character",
            )
            .with(per_char),
        ],
    };
    run.save_loss(&figure)?;
    run.save_summary(done, serde_json::json!({
        "final_loss": loss, "nats_per_char": loss / T as f64, "iterations_total": trainer.n,
        "position": trainer.p, "vocab_size": vocab.len(), "text_chars": data.len(), "text": info.source,
        "hidden": config.hidden, "seq_len": T, "lr": config.lr,
    }))?;
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

/// TEMPORARY stand-in until `shared::data`'s corpus generator lands on main: a short inline
/// dialogue repeated to `chars` characters (the seed is unused).
fn generated(_seed: u64, chars: usize) -> String {
    const TEXT: &str = "ANNA:\nWhere did you leave the boat, brother?\n\nTOM:\nBy the mill, \
        under the willow, where the river turns.\n\nANNA:\nThen we must walk before the rain \
        comes.\n\n";
    TEXT.chars().cycle().take(chars).collect()
}
