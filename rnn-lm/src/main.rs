//! `rnn-lm`: notes §6, Denny Britz's word-level RNN language model.
//!
//! With no flags it trains on 5000 sentences of the generated English-like corpus (252 tokens)
//! for 10 epochs: the loss goes from ln 252 = 5.53 to about 2.23 nats per word, against the
//! corpus's own entropy of 2.06, and it ends with ten generated sentences. `--csv FILE
//! --sentences 100` is the tutorial's small run (first 100 sentences, 10 epochs, lr 0.005: 8.987 →
//! 5.71 on its 8000-word vocabulary; `--text tinyshakespeare.txt --vocab 8000` goes 8.987 → 5.66
//! the same way). `generate` samples from the saved model; `gradcheck` is the tutorial's
//! gradient check.

#![allow(non_snake_case)]

use anyhow::Result;
use clap::{Args, Parser, Subcommand, value_parser};
use rnn_lm::corpus::{Prepared, Source, load_model, sample_sentences, save_model};
use rnn_lm::train::{Schedule, train_with_sgd};
use rnn_lm::{Bptt, Buffers, Rnn};
use serde_json::json;
use shared::plot::{Figure, Panel, Series};
use shared::run::{Run, RunArgs};
use shared::{Error, rng};
use std::cell::Cell;
use std::path::PathBuf;
use std::time::Instant;

/// Notes §6 "DENNY BRITZ Language Model": h_i = tanh(U x_i + W h_{i−1}), y_i = softmax(V h_i),
/// trained by SGD one sentence at a time with truncated BPTT.
#[derive(Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    train: TrainArgs,
}

#[derive(Subcommand)]
enum Cmd {
    /// Sample sentences from a saved model (model.safetensors + vocab.txt), never UNKNOWN_TOKEN.
    Generate(GenerateArgs),
    /// The tutorial's gradient check: backward pass vs finite differences, tiny vocabulary.
    Gradcheck(GradcheckArgs),
}

#[derive(Args)]
struct TrainArgs {
    /// Reddit comments CSV of the tutorial (comment text in the `body` column).
    #[arg(long, value_name = "FILE", conflicts_with = "text")]
    csv: Option<PathBuf>,
    /// Any UTF-8 text (sentences end at . ? ! and at blank lines).
    #[arg(long, value_name = "FILE")]
    text: Option<PathBuf>,
    /// Train on the first N sentences (the vocabulary is built from all of them) [default: all;
    /// the generated corpus has 5000].
    #[arg(long, value_parser = value_parser!(u64).range(1..))]
    sentences: Option<u64>,
    /// Vocabulary: the most frequent tokens (SENTENCE_START/END included); the rest UNKNOWN_TOKEN.
    #[arg(long, default_value_t = 8000, value_parser = value_parser!(u64).range(3..))]
    vocab: u64,
    /// Hidden units N_h.
    #[arg(long, default_value_t = 100, value_parser = value_parser!(u64).range(1..))]
    hidden: u64,
    /// Truncated BPTT: each output back-propagates through K earlier steps (the notes' K).
    #[arg(long, default_value_t = 4)]
    bptt: usize,
    /// SGD learning rate (halved whenever an evaluation finds the loss rose).
    #[arg(long, default_value_t = 0.005)]
    lr: f64,
    /// Passes over the training sentences, in file order (no shuffling, as the tutorial).
    #[arg(long, default_value_t = 10, value_parser = value_parser!(u64).range(1..))]
    epochs: u64,
    /// Compute the loss over all training sentences every N epochs.
    #[arg(long, default_value_t = 1, value_parser = value_parser!(u64).range(1..))]
    eval_every: u64,
    /// Sentences to generate after training.
    #[arg(long, default_value_t = 10)]
    samples: usize,
    /// Shortest generated sentence to keep, in words.
    #[arg(long, default_value_t = 7)]
    min_words: usize,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args)]
struct GenerateArgs {
    /// Folder holding model.safetensors and vocab.txt of a training run.
    #[arg(long, value_name = "DIR", default_value = "runs/rnn-lm")]
    model: PathBuf,
    /// Number of sentences.
    #[arg(short, default_value_t = 10)]
    n: usize,
    /// Shortest sentence to keep, in words (the tutorial's senten_min_length).
    #[arg(long, default_value_t = 7)]
    min_words: usize,
    /// Give up on a sentence after this many words without SENTENCE_END.
    #[arg(long, default_value_t = 100, value_parser = value_parser!(u64).range(1..))]
    max_words: u64,
    /// Random seed of the sampling.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Args)]
struct GradcheckArgs {
    /// Vocabulary size N_x (the tutorial: 100).
    #[arg(long, default_value_t = 100, value_parser = value_parser!(u64).range(5..))]
    vocab: u64,
    /// Hidden units N_h (the tutorial: 10).
    #[arg(long, default_value_t = 10, value_parser = value_parser!(u64).range(1..))]
    hidden: u64,
    /// Truncation K; ≥ 3 is full BPTT on the sentence [0,1,2,3] (the tutorial uses 1000).
    #[arg(long, default_value_t = 1000)]
    bptt: usize,
    /// Seed of the weights (the tutorial: np.random.seed(10)).
    #[arg(long, default_value_t = 10)]
    seed: u64,
}

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| {
        let cli = Cli::parse();
        match cli.cmd {
            None => train(cli.train),
            Some(Cmd::Generate(a)) => generate(a),
            Some(Cmd::Gradcheck(a)) => gradcheck(a),
        }
    })
}

fn train(a: TrainArgs) -> Result<()> {
    if !(a.lr.is_finite() && a.lr > 0.0) {
        return Err(Error::flag("--lr", format!("{} is not a positive number", a.lr)).into());
    }
    let run = Run::start("rnn-lm", &a.run)?;
    // Data: sentences → SENTENCE_START … SENTENCE_END → top-N vocabulary → ids.
    let source = match (&a.csv, &a.text) {
        (Some(path), _) => Source::Csv(path),
        (None, Some(path)) => Source::Text(path),
        (None, None) => Source::Generated {
            seed: a.run.seed,
            sentences: a.sentences.unwrap_or(5000),
        },
    };
    let (corpus, floor) = source.load()?;
    let data = Prepared::new(&corpus, a.vocab as usize)?;
    println!("{}\n", data.describe());
    let pairs = data.pairs(a.sentences.map_or(usize::MAX, |n| n as usize));

    // Model: U N_h × N_x, W N_h × N_h, V N_x × N_h, uniform ±1/√n.
    let (N_x, N_h) = (data.vocab.len(), a.hidden as usize);
    let mut model = Rnn::new(N_x, N_h, &mut rng::seeded(run.seed));
    let mut buf = Buffers::new(&model, 64);
    let bptt = Bptt::Truncated(a.bptt);
    let ln_N_x = (N_x as f64).ln();
    let (n, w, K) = (pairs.len(), model.num_params(), a.bptt);
    println!("Training on {n} sentences: N_x = {N_x}, N_h = {N_h} ({w} weights), K = {K}.");
    println!("Untrained, the loss should be ln N_x = {ln_N_x:.6}.");

    // SGD one sentence at a time; every --eval-every epochs the loss, and lr ×= 0.5 if it rose.
    let schedule = Schedule {
        lr: a.lr,
        epochs: a.epochs,
        eval_every: a.eval_every,
        bptt,
    };
    let mut evals = Series::new("loss on all training sentences");
    let mut running = Series::new("training sentences, running average");
    let every = (a.epochs * n as u64 / 2000).max(1);
    let bar = run.progress(a.epochs * n as u64, "train");
    let mut avg = None::<f64>;
    // Time of the SGD steps alone (evaluations left out).
    let (mark, sgd_seconds) = (Cell::new(Instant::now()), Cell::new(0.0));
    let history = train_with_sgd(
        &mut model,
        &pairs,
        &schedule,
        &mut buf,
        |e| {
            let (t, seen, epoch, loss) = (run.elapsed(), e.seen, e.epoch, e.loss);
            bar.println(format!(
                "{t:>8.1} s: Loss after num_examples_seen={seen} epoch={epoch}: {loss:.6}"
            ));
            if e.halved {
                bar.println(format!("Setting learning rate to {:.6}", e.lr));
            }
            evals.push(seen as f64, loss);
            mark.set(Instant::now());
        },
        |seen, loss| {
            sgd_seconds.set(sgd_seconds.get() + mark.get().elapsed().as_secs_f64());
            mark.set(Instant::now());
            let mean = 0.99 * avg.unwrap_or(loss) + 0.01 * loss;
            avg = Some(mean);
            if seen % every == 0 {
                running.push(seen as f64, mean);
                bar.set_message(format!("loss {mean:.3}"));
            }
            bar.inc(1);
        },
    )?;
    bar.finish();
    let seen = a.epochs * n as u64;
    let ms_per_step = 1e3 * sgd_seconds.get() / seen as f64;
    let (initial, last) = (history[0].loss, history[history.len() - 1].loss);
    let lr = history[history.len() - 1].lr;

    // Outputs: model, vocabulary, loss curves, summary; then the tutorial's generated sentences.
    save_model(&run.out, &model, &data.vocab, a.bptt)?;
    let mut panel = Panel::new(
        "Britz's RNN language model (notes §6)",
        "sentences seen",
        "cross-entropy (nats per target word)",
    )
    .with(evals)
    .with(running);
    let flat = |name: &str, y: f64| {
        let mut s = Series::new(name);
        s.push(0.0, y);
        s.push(seen as f64, y);
        s
    };
    panel = panel.with(flat("ln N_x (uniform guess)", ln_N_x));
    if let Some(h) = floor {
        panel = panel.with(flat("entropy of the corpus (floor)", h));
    }
    run.save_loss(&Figure::single(panel))?;
    run.save_summary(
        seen,
        json!({"initial_loss": initial, "final_loss": last, "ln_vocab": ln_N_x,
               "entropy_floor": floor, "vocab_size": N_x, "hidden": N_h, "bptt": a.bptt,
               "sentences": pairs.len(), "final_lr": lr, "ms_per_sgd_step": ms_per_step}),
    )?;
    println!(
        "\nLoss {initial:.6} → {last:.6} (ln N_x = {:.6}{}), {ms_per_step:.3} ms per SGD step.",
        ln_N_x,
        floor.map_or(String::new(), |h| format!(", corpus entropy {h:.6}"))
    );
    println!("Generated sentences (at least {} words):", a.min_words);
    let mut r = rng::stream(run.seed, 2);
    match sample_sentences(&model, &data.vocab, a.samples, a.min_words, 100, &mut r) {
        Ok(sentences) => sentences.iter().for_each(|s| println!("  {s}")),
        Err(e) => println!("  ({e})"),
    }
    println!(
        "Wrote {}: model.safetensors, vocab.txt, loss.png, loss.csv, summary.json",
        run.out.display()
    );
    Ok(())
}

fn generate(a: GenerateArgs) -> Result<()> {
    let (model, vocab) = load_model(&a.model)?;
    let mut r = rng::seeded(a.seed);
    for s in sample_sentences(
        &model,
        &vocab,
        a.n,
        a.min_words,
        a.max_words as usize,
        &mut r,
    )? {
        println!("{s}");
    }
    Ok(())
}

fn gradcheck(a: GradcheckArgs) -> Result<()> {
    // The tutorial: np.random.seed(10); RNNNumpy(100, 10, bptt_truncate=1000); [0,1,2,3] → [1,2,3,4].
    let (N_x, N_h) = (a.vocab as usize, a.hidden as usize);
    let mut model = Rnn::new(N_x, N_h, &mut rng::seeded(a.seed));
    let (x, t) = ([0, 1, 2, 3], [1, 2, 3, 4]);
    let what = if a.bptt + 1 < x.len() {
        "the truncated loss"
    } else {
        "the loss (full BPTT)"
    };
    println!(
        "N_x = {N_x}, N_h = {N_h}, K = {}, {x:?} → {t:?}: finite differences of {what}",
        a.bptt
    );
    let checks = rnn_lm::gradient_check(&mut model, &x, &t, Bptt::Truncated(a.bptt));
    for c in &checks {
        println!("{c}");
    }
    if !checks.iter().all(|c| c.passed()) {
        return Err(Error::msg("gradient check failed").into());
    }
    Ok(())
}
