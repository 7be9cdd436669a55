//! The commands, on the run session (`shared::session`): `train` (flags → data → model → the
//! tutorial's `train_with_sgd` → outputs; a checkpoint at every evaluation and at Ctrl-C,
//! `--resume`), `sample` and `eval` (a saved model), `gradcheck` (the tutorial's check).

#![allow(non_snake_case)]

use crate::checkpoint::{self, Resume, State, Trained};
use crate::cli::{EvalArgs, GradcheckArgs, SampleArgs, TrainArgs};
use crate::corpus::{Draw, Prepared, Source, sample_sentences};
use crate::fast::{self, Cache, Net, Scalar};
use crate::gradcheck::tutorial_gradient_check;
use crate::model::Rnn;
use crate::report::{self, Outcome, Tracker};
use crate::train::{Curves, Position, Spec, train_with_sgd};
use anyhow::Result;
use shared::cli::Dtype;
use shared::data::text::{Corpus, Vocab, tokenize};
use shared::parallel::MAX_THREADS;
use shared::session::{
    Chapter, Checkpointed, Given, Session, Start, Started, check_memory, model_file,
};
use shared::{Error, rng, say};
use std::cell::RefCell;
use std::path::Path;

/// Flags a resumed run may change: the run length (a total), what is printed after training,
/// and the data's path (its sentences are checked by fingerprint). `--threads` is not stored
/// (any number gives the same bits): the one given now (default: every core) is used.
const MAY_CHANGE: &[&str] = &["epochs", "samples", "min_words", "text", "csv"];

/// The longest sentence drawn after training, in words (`sample`'s default `--max-words`).
const TRAIN_MAX_WORDS: usize = 100;

/// `rnn-lm` / `rnn-lm train`: trains (or, with `--resume`, continues) a run.
pub fn train(chapter: Chapter, args: &TrainArgs, given: &Given) -> Result<()> {
    if args.min_words > TRAIN_MAX_WORDS {
        let msg = format!(
            "{} is more than the {TRAIN_MAX_WORDS} words a sentence drawn after training may \
             have",
            args.min_words
        );
        return Err(Error::flag("--min-words", msg).into());
    }
    let started = Session::train(
        chapter,
        Start {
            run: &args.run,
            command: None,
            resume: args.resume.as_deref(),
            flags: args,
            given,
            may_change: MAY_CHANGE,
        },
    )?;
    match started.flags.dtype {
        Dtype::F64 => train_in::<f64>(started, args, given),
        Dtype::F32 => train_in::<f32>(started, args, given),
    }
}

/// `train` with the engine in float type `F` (`--dtype`): the data, the model (new, or the
/// checkpoint's), SGD, the outputs.
fn train_in<F: Scalar>(started: Started<TrainArgs>, args: &TrainArgs, given: &Given) -> Result<()> {
    let (mut session, mut a) = (started.session, started.flags);
    // `--threads` (shared's, every core by default): the products with V split by columns.
    let threads = shared::kernels::threads::product_threads().min(MAX_THREADS);
    // A resume given another data file reads that one (checked by fingerprint), not the stored.
    if given.has("text") != given.has("csv") {
        (a.text, a.csv) = (args.text.clone(), args.csv.clone());
    }
    // Data: sentences → SENTENCE_START … SENTENCE_END → top-N vocabulary → ids.
    let source = Source::from_flags(
        a.csv.as_deref(),
        a.text.as_deref(),
        session.seed,
        a.sentences,
    );
    let (corpus, floor) = source.load()?;
    let data = Prepared::new(&corpus, a.vocab as usize)?;
    say!("{}\n", data.describe())?;
    let pairs = data.first(a.sentences)?;

    // Model: U N_h × N_x, W N_h × N_h, V N_x × N_h, uniform ±1/√n; or the checkpoint resumed.
    let (N_x, n) = (data.vocab.len(), pairs.len());
    let (N_h, K) = (a.hidden as usize, a.bptt as usize);
    let T = pairs.iter().map(|(x, _)| x.len()).max().unwrap_or(1);
    check_sizes(N_x, N_h, T)?;
    let steps = a.epochs.checked_mul(n as u64).ok_or_else(|| {
        let msg = format!(
            "{} epochs of {n} sentences are more steps than can be counted",
            a.epochs
        );
        Error::flag("--epochs", msg)
    })?;
    let spec = Spec {
        hidden: N_h,
        bptt: K,
        lr: a.lr,
        eval_every: a.eval_every,
        sentences: n,
    };
    let name = source.name();
    let state = match started.resumed {
        None => State {
            model: Rnn::new(N_x, N_h, &mut rng::seeded(session.seed)),
            dtype: F::DTYPE,
            vocab: data.vocab.clone(),
            at: Position::default(),
            curves: Curves::new(steps),
            sentences: n,
            source: name.clone(),
            data: checkpoint::fingerprint(&data, n),
        },
        Some(mut ck) => {
            let r = Resume {
                dtype: F::DTYPE,
                data: &data,
                sentences: n,
                hidden: N_h,
                source: &name,
                steps,
            };
            let state = State::load(&mut ck, r)?;
            resuming(&state, steps, &session)?;
            state
        }
    };
    let State { at, curves, .. } = state.clone();
    let mut model = Net::<F>::from_model(&state.model);
    session.resumed_at(at.seen);
    let (ln_N_x, w) = ((N_x as f64).ln(), state.model.num_params());
    // The threads change no number, so the output does not name them (summary.json does).
    let on = match F::DTYPE {
        Dtype::F64 => String::new(),
        d => format!(" in {}", d.as_str()),
    };
    say!("Training on {n} sentences{on}: N_x = {N_x}, N_h = {N_h} ({w} weights), K = {K}.")?;
    say!("Untrained, the loss should be ln N_x = {ln_N_x:.6}.")?;

    // SGD one sentence at a time; every --eval-every epochs the loss, and lr ×= 0.5 if it rose;
    // a checkpoint at each evaluation and at Ctrl-C.
    let snapshot = |model: &Net<F>, at: Position, curves: &Curves| State {
        model: model.to_model(),
        at,
        curves: curves.clone(),
        ..state.clone()
    };
    let schedule = spec.schedule(a.epochs);
    let bar = session.progress(steps, "train");
    bar.inc(at.seen);
    let tracker = RefCell::new(Tracker::new(curves));
    let mut cache = Cache::new(&model, 64).with_threads(threads)?;
    let result = train_with_sgd(
        &mut model,
        &pairs,
        &schedule,
        at,
        &mut cache,
        |h, model| {
            let (e, mut t) = (&h[h.len() - 1], tracker.borrow_mut());
            let lines = report::eval_lines(e, session.elapsed());
            lines.iter().for_each(|l| bar.println(l));
            t.curves.eval(e);
            let at = Position {
                history: h.to_vec(),
                seen: e.seen,
            };
            session.save_checkpoint(&snapshot(model, at, &t.curves))?;
            t.restart_clock();
            Ok(())
        },
        |seen, loss| {
            let mean = tracker.borrow_mut().step(seen, loss);
            if seen % 100 == 0 {
                bar.set_message(format!("loss {mean:.3}"));
            }
            bar.inc(1);
            !session.interrupted()
        },
    );
    bar.finish();
    // Outputs: the curves up to the last good step (also when training diverged or stopped),
    // the summary, then the tutorial's generated sentences.
    let t = tracker.into_inner();
    session.save_loss(&t.curves.figure(ln_N_x, floor, steps))?;
    let trained = result?;
    if trained.stopped {
        let seen = trained.seen;
        let at = Position {
            history: trained.history,
            seen,
        };
        session.save_checkpoint(&snapshot(&model, at, &t.curves))?;
        return Err(session.stopped(seen));
    }
    let outcome = Outcome::new(N_x, spec, floor, trained.history, t.ms_per_step());
    session.save_summary(steps, outcome.summary())?;
    say!("\n{}", outcome.line())?;
    say!("Generated sentences (at least {} words):", a.min_words)?;
    let mut r = rng::stream(session.seed, 2);
    let draw = Draw::tutorial(a.min_words, TRAIN_MAX_WORDS);
    // Drawn in f64 from the trained weights (exact in f64 also when trained in f32).
    let model = model.to_model();
    match sample_sentences(&model, &data.vocab, a.samples as usize, &draw, &mut r) {
        Ok(sentences) => sentences.iter().try_for_each(|s| say!("  {s}"))?,
        Err(e) => say!("  ({e})")?,
    }
    session.finish()?;
    Ok(())
}

/// A resumed run: says where it continues, and refuses a total it has already reached.
fn resuming(state: &State, steps: u64, session: &Session) -> shared::Result<()> {
    let (seen, n) = (state.at.seen, state.sentences as u64);
    let epochs = seen as f64 / n as f64;
    if seen >= steps {
        return Err(Error::flag(
            "--epochs",
            format!(
                "the run in {} has trained {epochs} epochs already; --epochs is the total, \
                 give more than {epochs} to continue it",
                session.out.display()
            ),
        ));
    }
    let lr = state.at.history.last().map_or(0.0, |e| e.lr);
    say!(
        "Resuming {} after {seen} sentences (epoch {epochs}), lr {lr}.",
        session.out.display()
    )
}

/// Refuses sizes whose model, checkpoint copies and sentence buffers would not fit in memory.
fn check_sizes(N_x: usize, N_h: usize, T: usize) -> shared::Result<()> {
    let (x, h, t) = (N_x as f64, N_h as f64, T.next_power_of_two() as f64);
    // U, W, V in the model, the checkpoint's copy and its tensors; the cache's Y (N_x × T) and
    // its N_h × T buffers.
    let model = 8.0 * 3.0 * (2.0 * h * x + h * h);
    let cache = 8.0 * (x * t + 8.0 * h * t);
    let flag = if h * h > x * h { "--hidden" } else { "--vocab" };
    let what = format!("N_h = {N_h} hidden units for N_x = {N_x} words");
    check_memory(flag, &what, model + cache)
}

/// The model a `--model` flag names (default: the training runs' folder), and the `model:`
/// line saying which one answers.
fn open_model(chapter: Chapter, model: Option<&Path>) -> Result<Trained> {
    let default = chapter.default_out(None);
    let path = model_file(model.unwrap_or(&default), "--model")?;
    let trained = checkpoint::load_model(&path)?;
    say!("model: {} ({})", path.display(), trained.describe())?;
    Ok(trained)
}

/// `rnn-lm sample`: sentences drawn from a saved model.
pub fn sample(chapter: Chapter, a: &SampleArgs) -> Result<()> {
    if a.min_words as u64 > a.max_words {
        let msg = format!("{} is more than --max-words {}", a.min_words, a.max_words);
        return Err(Error::flag("--min-words", msg).into());
    }
    let prime = match &a.prime {
        Some(p) if tokenize(p).is_empty() => {
            return Err(Error::flag("--prime", "has no word").into());
        }
        Some(p) => tokenize(p),
        None => Vec::new(),
    };
    let m = open_model(chapter, a.model.as_deref())?;
    let prime = prime
        .iter()
        .map(|w| m.vocab.require(w))
        .collect::<shared::Result<Vec<_>>>()
        .map_err(|e| Error::flag("--prime", e))?;
    let draw = Draw {
        prime,
        min_words: a.min_words,
        max_words: a.max_words as usize,
        temperature: a.temperature,
    };
    let mut r = rng::seeded(a.seed);
    for s in sample_sentences(&m.model, &m.vocab, a.n as usize, &draw, &mut r)? {
        say!("{s}")?;
    }
    Ok(())
}

/// `rnn-lm eval`: the loss of a saved model on a file's sentences, per target word (each word
/// and SENTENCE_END predicted from the words before it in its sentence), as perplexity and in
/// bits per word. Words outside the model's vocabulary count as UNKNOWN_TOKEN.
pub fn eval(chapter: Chapter, a: &EvalArgs) -> Result<()> {
    let m = open_model(chapter, a.model.as_deref())?;
    let source = Source::from_flags(a.csv.as_deref(), a.text.as_deref(), 0, None);
    let (corpus, _) = source.load()?;
    let name = source.name();
    let sentences = encode(&corpus, &m.vocab, &name)?;
    let pairs: Vec<(&[usize], &[usize])> = sentences
        .iter()
        .map(|s| (&s[..s.len() - 1], &s[1..]))
        .collect();
    let targets: usize = pairs.iter().map(|(_, t)| t.len()).sum();
    let unknown = m.vocab.unknown().map_or(0, |u| {
        pairs
            .iter()
            .flat_map(|(_, t)| t.iter())
            .filter(|&&w| w == u)
            .count()
    });
    // In f64, on the model's weights as saved (an f32 model's widened exactly).
    let net = Net::from(m.model);
    let mut cache = Cache::new(&net, 64);
    let loss = fast::loss(&net, pairs.iter().copied(), &mut cache);
    say!(
        "text: {name} ({} sentences, {targets} target words, {unknown} of them UNKNOWN_TOKEN)",
        pairs.len()
    )?;
    say!(
        "loss: {loss:.4} nats per word, perplexity {:.3}, {:.4} bits per word",
        loss.exp(),
        loss / std::f64::consts::LN_2
    )?;
    Ok(())
}

/// The marked sentences of `corpus` as ids of `vocab` (words it lacks become UNKNOWN_TOKEN;
/// without one, such a word is an error naming it).
fn encode(corpus: &Corpus, vocab: &Vocab, name: &str) -> shared::Result<Vec<Vec<usize>>> {
    let marked = corpus.marked_sentences();
    if marked.is_empty() {
        return Err(Error::msg(format!("{name}: holds no sentence")));
    }
    marked
        .iter()
        .map(|s| vocab.encode_all(s))
        .collect::<shared::Result<Vec<_>>>()
        .map_err(|e| Error::msg(format!("{name}: {e} (and the model has no UNKNOWN_TOKEN)")))
}

/// `rnn-lm gradcheck`: the tutorial's gradient check.
pub fn gradcheck(a: &GradcheckArgs) -> Result<()> {
    let (N_x, N_h) = (a.vocab as usize, a.hidden as usize);
    let (head, checks) = tutorial_gradient_check(N_x, N_h, a.bptt, a.seed);
    say!("{head}")?;
    checks.iter().try_for_each(|c| say!("{c}"))?;
    if !checks.iter().all(|c| c.passed()) {
        return Err(Error::msg("gradient check failed").into());
    }
    Ok(())
}
