//! `rnn-lm`: notes §6, Denny Britz's word-level RNN language model. No flags: 5000 sentences of
//! the generated English-like corpus, 10 epochs (ln 252 = 5.53 → 2.23 nats per word, corpus
//! entropy 2.06), then ten generated sentences. `--csv FILE --sentences 100` is the tutorial's
//! small run; `generate` samples from a saved model; `gradcheck` is the tutorial's check.

#![allow(non_snake_case)]

use anyhow::Result;
use clap::{Args, Parser, Subcommand, value_parser};
use rnn_lm::checkpoint::{self, load_model};
use rnn_lm::corpus::{Prepared, Source, sample_sentences};
use rnn_lm::fast::Cache;
use rnn_lm::gradcheck::tutorial_gradient_check;
use rnn_lm::report::{self, Outcome, Tracker};
use rnn_lm::train::{Spec, train_with_sgd};
use shared::cli::positive;
use shared::parallel::MAX_THREADS;
use shared::run::{Run, RunArgs};
use shared::{Error, rng};
use std::cell::RefCell;
use std::path::PathBuf;

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
    /// Hidden units N_h (at most 4096).
    #[arg(long, default_value_t = 100, value_parser = value_parser!(u64).range(1..=4096))]
    hidden: u64,
    /// Truncated BPTT: each output back-propagates through K ≥ 1 earlier steps (the notes' K).
    #[arg(long, default_value_t = 4, value_parser = value_parser!(u64).range(1..))]
    bptt: u64,
    /// SGD learning rate (halved whenever an evaluation finds the loss rose).
    #[arg(long, default_value_t = 0.005, value_parser = positive)]
    lr: f64,
    /// Passes over the training sentences, in file order (no shuffling, as the tutorial).
    #[arg(long, default_value_t = 10, value_parser = value_parser!(u64).range(1..))]
    epochs: u64,
    /// Compute the loss over all training sentences every N epochs.
    #[arg(long, default_value_t = 1, value_parser = value_parser!(u64).range(1..))]
    eval_every: u64,
    /// Sentences to generate after training (at most 100000).
    #[arg(long, default_value_t = 10, value_parser = value_parser!(u64).range(0..=100_000))]
    samples: u64,
    /// Shortest generated sentence to keep, in words.
    #[arg(long, default_value_t = 7)]
    min_words: usize,
    /// Threads for the products with V (1 to 8; results are bit-identical for any number).
    #[arg(long, default_value_t = 1, value_parser = value_parser!(u64).range(1..=MAX_THREADS as u64))]
    threads: u64,
    /// Continue the run whose checkpoint is in DIR (same data and flags; --epochs the total).
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args)]
struct GenerateArgs {
    /// Folder holding model.safetensors and vocab.txt of a training run.
    #[arg(long, value_name = "DIR", default_value = "runs/rnn-lm")]
    model: PathBuf,
    /// Number of sentences (at most 100000).
    #[arg(short, default_value_t = 10, value_parser = value_parser!(u64).range(0..=100_000))]
    n: u64,
    /// Shortest sentence to keep, in words (the tutorial's senten_min_length).
    #[arg(long, default_value_t = 7)]
    min_words: usize,
    /// Give up on a sentence after this many words without SENTENCE_END (at most 100000).
    #[arg(long, default_value_t = 100, value_parser = value_parser!(u64).range(1..=100_000))]
    max_words: u64,
    /// Random seed of the sampling.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Args)]
struct GradcheckArgs {
    /// Vocabulary size N_x (the tutorial: 100; at most 1000).
    #[arg(long, default_value_t = 100, value_parser = value_parser!(u64).range(5..=1000))]
    vocab: u64,
    /// Hidden units N_h (the tutorial: 10; at most 100).
    #[arg(long, default_value_t = 10, value_parser = value_parser!(u64).range(1..=100))]
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
    let run = Run::start("rnn-lm", &a.run)?;
    // Data: sentences → SENTENCE_START … SENTENCE_END → top-N vocabulary → ids.
    let source = Source::from_flags(a.csv.as_deref(), a.text.as_deref(), run.seed, a.sentences);
    let (corpus, floor) = source.load()?;
    let data = Prepared::new(&corpus, a.vocab as usize)?;
    println!("{}\n", data.describe());
    let pairs = data.first(a.sentences)?;

    // Model: U N_h × N_x, W N_h × N_h, V N_x × N_h, uniform ±1/√n; or the checkpoint resumed.
    let (N_x, n) = (data.vocab.len(), pairs.len());
    let (N_h, K) = (a.hidden as usize, a.bptt as usize);
    let steps = a.epochs * n as u64;
    let spec = Spec {
        hidden: N_h,
        bptt: K,
        lr: a.lr,
        eval_every: a.eval_every,
        sentences: n,
    };
    let start = checkpoint::start(a.resume.as_deref(), &data.vocab, &spec, a.epochs, run.seed)?;
    let (mut model, history) = (start.model, start.history);
    data.vocab.write(run.path(checkpoint::VOCAB))?; // after --resume compared it with its own
    if let (Some(dir), Some(e)) = (&a.resume, history.last()) {
        let (dir, epoch, lr) = (dir.display(), e.epoch, e.lr);
        println!("Resuming {dir} at epoch {epoch}, lr {lr}.");
    }
    let (ln_N_x, w) = ((N_x as f64).ln(), model.num_params());
    let on = match a.threads {
        1 => String::new(),
        t => format!(" on {t} threads"),
    };
    println!("Training on {n} sentences{on}: N_x = {N_x}, N_h = {N_h} ({w} weights), K = {K}.");
    println!("Untrained, the loss should be ln N_x = {ln_N_x:.6}.");

    // SGD one sentence at a time; every --eval-every epochs the loss, and lr ×= 0.5 if it rose;
    // a checkpoint at each evaluation.
    let schedule = spec.schedule(a.epochs);
    let bar = run.progress(steps, "train");
    bar.inc(history.last().map_or(0, |e| e.seen));
    let tracker = RefCell::new(Tracker::new(start.curves));
    let mut cache = Cache::new(&model, 64).with_threads(a.threads as usize)?;
    let result = train_with_sgd(
        &mut model,
        &pairs,
        &schedule,
        history,
        &mut cache,
        |h, model| {
            let (e, mut t) = (&h[h.len() - 1], tracker.borrow_mut());
            let lines = report::eval_lines(e, run.elapsed());
            lines.iter().for_each(|l| bar.println(l));
            t.curves.eval(e);
            checkpoint::save(&run.out, model, &spec, h, &t.curves)?;
            t.restart_clock();
            Ok(())
        },
        |seen, loss| {
            let mean = tracker.borrow_mut().step(seen, loss);
            if seen % 100 == 0 {
                bar.set_message(format!("loss {mean:.3}"));
            }
            bar.inc(1);
        },
    );
    bar.finish();
    // Outputs: the curves up to the last good step (also when training diverged), the summary,
    // then the tutorial's generated sentences.
    let t = tracker.into_inner();
    run.save_loss(&t.curves.figure(ln_N_x, floor, steps))?;
    let (history, ms) = (result?, t.ms_per_step());
    let outcome = Outcome::new(N_x, spec, floor, history, ms);
    run.save_summary(steps, outcome.summary())?;
    println!("\n{}", outcome.line());
    println!("Generated sentences (at least {} words):", a.min_words);
    let mut r = rng::stream(run.seed, 2);
    let (n, min) = (a.samples as usize, a.min_words);
    match sample_sentences(&model, &data.vocab, n, min, 100, &mut r) {
        Ok(sentences) => sentences.iter().for_each(|s| println!("  {s}")),
        Err(e) => println!("  ({e})"),
    }
    let files = "model.safetensors, vocab.txt, loss.png, loss.csv, summary.json";
    println!("Wrote {}: {files}", run.out.display());
    Ok(())
}

fn generate(a: GenerateArgs) -> Result<()> {
    if a.min_words as u64 > a.max_words {
        let msg = format!("{} is more than --max-words {}", a.min_words, a.max_words);
        return Err(Error::flag("--min-words", msg).into());
    }
    let (model, vocab) = load_model(&a.model)?;
    let mut r = rng::seeded(a.seed);
    let max = a.max_words as usize;
    for s in sample_sentences(&model, &vocab, a.n as usize, a.min_words, max, &mut r)? {
        println!("{s}");
    }
    Ok(())
}

fn gradcheck(a: GradcheckArgs) -> Result<()> {
    let (N_x, N_h) = (a.vocab as usize, a.hidden as usize);
    let (head, checks) = tutorial_gradient_check(N_x, N_h, a.bptt, a.seed);
    println!("{head}");
    checks.iter().for_each(|c| println!("{c}"));
    if !checks.iter().all(|c| c.passed()) {
        return Err(Error::msg("gradient check failed").into());
    }
    Ok(())
}
