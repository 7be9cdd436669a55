//! The commands, on the run session (`shared::session`): `train` (flags → 4-grams → model →
//! train.m's loop → outputs; a checkpoint after every epoch, Ctrl-C and `--resume`), `eval`
//! and the assignment's three helpers on a saved model.

use crate::checkpoint::{self, Resume, State, Trained};
use crate::cli::{EvalArgs, ModelArg, TrainArgs};
use crate::data::{Dataset, Source};
use crate::fast::FastModel;
use crate::report::{self, Final, MODALS};
use crate::train::{Event, check_sizes, continue_epoch};
use crate::{fast, picture};
use anyhow::Result;
use shared::cli::Dtype;
use shared::data::text::{Corpus, SentenceMode, ngrams};
use shared::kernels::Float;
use shared::session::{
    Chapter, Checkpointed, Given, Session, Start, Started, check_memory, model_file,
};
use shared::{Error, say};

/// Flags a resumed run may change: the run length (a total), and the path of the data (the
/// 4-grams themselves are checked against the run's by fingerprint).
const MAY_CHANGE: &[&str] = &["epochs", "text", "mat"];

/// Memory per generated sentence: its words, their ids and its ≈ 4.1 4-grams (a generous bound).
const BYTES_PER_SENTENCE: f64 = 1000.0;

/// `ngram-lm` / `ngram-lm train`: trains (or, with `--resume`, continues) a run.
pub fn train(chapter: Chapter, args: &TrainArgs, given: &Given) -> Result<()> {
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
        Dtype::F64 => train_in::<f64>(started, given),
        Dtype::F32 => train_in::<f32>(started, given),
    }
}

/// `train` with the engine in float type `F` (`--dtype`).
fn train_in<F: Float>(started: Started<TrainArgs>, given: &Given) -> Result<()> {
    let (mut session, mut a) = (started.session, started.flags);
    // A data flag typed now replaces the stored one of the other kind.
    if given.has("text") {
        a.mat = None;
    } else if given.has("mat") {
        a.text = None;
    }
    let hyper = a.hyper();
    if a.text.is_none() && a.mat.is_none() {
        let what = format!("{} generated sentences", a.sentences);
        check_memory(
            "--sentences",
            &what,
            a.sentences as f64 * BYTES_PER_SENTENCE,
        )?;
    }
    let source = Source::from_flags(a.text.as_ref(), a.mat.as_ref(), a.vocab, a.sentences);
    let data = Dataset::load(&source, session.seed)?;
    check_sizes(&hyper, data.vocab.len(), data.train.len())?;
    say!("{}", data.describe())?;
    let mut state = match started.resumed {
        Some(mut ck) => State::load(&mut ck, Resume { data: &data, hyper })?,
        None => State::<F>::new(&data, &hyper, session.seed)?,
    };
    if state.epoch >= a.epochs {
        let from = a.resume.as_deref().unwrap_or(&session.out);
        return Err(Error::flag(
            "--epochs",
            format!(
                "{}, but the run in {} has already done {} epochs; --epochs is the total: give \
                 more to continue it",
                a.epochs,
                from.display(),
                state.epoch
            ),
        )
        .into());
    }
    if let Some(from) = &a.resume {
        let inside = match state.pos.batch {
            0 => String::new(),
            b => format!(", batch {b}"),
        };
        say!(
            "Resuming {} after epoch {}{inside}",
            from.display(),
            state.epoch
        )?;
    }
    session.resumed_at(state.trainer.steps);
    let batches = data.train.len() / hyper.batch;
    let mut avg = f64::NAN;
    let bar = session.progress((a.epochs * batches) as u64, "train");
    bar.set_position(state.trainer.steps);
    let trained = (|| -> Result<()> {
        while state.epoch < a.epochs {
            let epoch = state.epoch;
            if state.pos.batch == 0 {
                bar.println(format!("Epoch {}", epoch + 1));
            }
            let State {
                trainer,
                curves,
                pos,
                ..
            } = &mut state;
            let report = |e: Event| {
                if let Event::Train { batch, .. } = e {
                    bar.set_position((epoch * batches + batch) as u64);
                }
                bar.println(e.line());
                curves.record(epoch, batches, e);
            };
            let stop = || session.interrupted();
            let (train, valid) = (&data.train, &data.valid);
            if !continue_epoch(trainer, train, valid, hyper.batch, pos, report, stop)? {
                session.save_checkpoint(&state)?;
                return Err(session.stopped(state.trainer.steps));
            }
            avg = pos.sum / batches as f64;
            bar.println(format!("Average Training CE {avg:.3}"));
            (state.epoch, state.pos) = (epoch + 1, Default::default());
            session.save_checkpoint(&state)?;
            if session.interrupted() && state.epoch < a.epochs {
                return Err(session.stopped(state.trainer.steps));
            }
        }
        Ok(())
    })();
    bar.finish();
    let epochs = a.epochs as f64;
    if let Err(e) = trained {
        // A diverged or stopped run keeps its curves up to the last report; a diverged one
        // keeps its last checkpoint (of an epoch's end or a Ctrl-C; or what --out held before).
        session.save_loss(&state.curves.figure(epochs))?;
        return Err(e);
    }
    let last = Final::measure(&state.trainer.model, &data, avg);
    let m = &state.trainer.model.to_model(); // widened to f64 (exact) for the pictures and demo
    state.curves.valid.push(epochs, last.valid);
    say!("{}", last.text().trim_end())?;
    say!("Training took {:.2} seconds", session.elapsed())?;
    session.save_loss(&state.curves.figure(epochs))?;
    let path = session.output("embedding.png");
    picture::save_embedding(path, &m.W0, data.vocab.words(), &MODALS)?;
    // The assignment's three helpers on the model just trained.
    say!("{}", report::demo(&data, m)?.trim_end())?;
    session.save_summary(state.trainer.steps, last.metrics(&data.describe()))?;
    session.finish()?;
    Ok(())
}

/// The model a `--model` flag names (default: the training runs' folder), after the `model:`
/// line saying which one answers.
fn open_model(chapter: Chapter, arg: &ModelArg) -> Result<Trained> {
    let default = chapter.default_out(None);
    let path = model_file(arg.model.as_deref().unwrap_or(&default), "--model")?;
    let trained = checkpoint::load_trained(&path)?;
    say!("model: {} ({})", path.display(), trained.describe())?;
    Ok(trained)
}

/// `ngram-lm nearest` / `predict` / `distance`: `query`'s answer from the model `--model`
/// names, after the line saying which model it is.
pub fn ask(
    chapter: Chapter,
    arg: &ModelArg,
    query: impl FnOnce(&Trained) -> shared::Result<String>,
) -> Result<()> {
    let t = open_model(chapter, arg)?;
    say!("{}", query(&t)?.trim_end())?;
    Ok(())
}

/// `ngram-lm eval FILE`: the cross-entropy of a saved model on the 4-grams inside each line of
/// a text, per predicted word, as perplexity and in bits per word.
pub fn eval(chapter: Chapter, a: &EvalArgs) -> Result<()> {
    let path = match (&a.file, &a.text) {
        (Some(p), _) | (None, Some(p)) => p,
        (None, None) => return Err(Error::flag("FILE", "give the text to evaluate on").into()),
    };
    let t = open_model(chapter, &a.model)?;
    let corpus = Corpus::load(path, SentenceMode::Lines)?;
    let mut ids = Vec::with_capacity(corpus.sentences.len());
    for (i, s) in corpus.sentences.iter().enumerate() {
        let line = t
            .vocab
            .encode_all(s)
            .map_err(|e| Error::format(path, format!("sentence {}", i + 1), e))?;
        ids.push(line);
    }
    let grams = ngrams::<usize, 4>(&ids);
    if grams.is_empty() {
        let msg = "no 4-gram: every sentence (line) is shorter than 4 words";
        return Err(Error::format(path, "text", msg).into());
    }
    let ce = match t.dtype {
        Dtype::F64 => fast::cross_entropy(&FastModel::<f64>::from_model(&t.model), &grams),
        Dtype::F32 => fast::cross_entropy(&FastModel::<f32>::from_model(&t.model), &grams),
    };
    let unknown = match t.vocab.unknown() {
        Some(u) => {
            let n = grams.iter().filter(|g| g[3] == u).count();
            format!("; {n} of them are words outside the model's vocabulary (its unknown token)")
        }
        None => String::new(),
    };
    say!(
        "text: {} ({} sentences, {} 4-grams: the 4th word of each predicted from the 3 before \
         it{unknown})",
        path.display(),
        corpus.sentences.len(),
        grams.len()
    )?;
    say!(
        "cross-entropy: {ce:.4} nats per word, perplexity {:.3}, {:.4} bits per word",
        ce.exp(),
        ce / std::f64::consts::LN_2
    )?;
    Ok(())
}
