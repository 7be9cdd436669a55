//! The commands, on the run session (`shared::session`): `adding` (the three cells on the
//! adding problem), `train` (the language model; checkpoints at every validation, Ctrl-C and
//! `--resume`), `sample` and `eval` (a saved model).

use crate::cli::{
    ActivationKind, AddingArgs, CellKind, EvalArgs, GradientsArgs, SampleArgs, TrainArgs, with_cell,
};
use anyhow::Result;
use lstm_gru::checkpoint::{TextRun, Trained, checkpoint_cell};
use lstm_gru::data::Corpus;
use lstm_gru::fast::charlm::FastLm;
use lstm_gru::fast::{FastCell, Kernels, stack_floats};
use lstm_gru::gradients::{self, GradientsConfig};
use lstm_gru::model::{AddingNet, Rnn};
use lstm_gru::report;
use lstm_gru::train::{self, AddingConfig, TextConfig, Training};
use shared::checkpoint::Checkpoint;
use shared::cli::Dtype;
use shared::data::text::CharStream;
use shared::session::{Chapter, Checkpointed, Given, Session, Start, check_memory, model_file};
use shared::{Error, rng, say};
use std::borrow::Cow;
use std::path::Path;

/// Flags a resumed run may change: the run length (a total), the CPU-time budget of this
/// invocation, the threads (the same numbers up to rounding), how often to validate and
/// checkpoint, and the path of the text (its characters are checked against the run's).
const MAY_CHANGE: &[&str] = &["steps", "seconds", "groups", "eval_every", "text"];

/// `lstm-gru` / `lstm-gru adding`: the cells on the adding problem, one after another.
pub fn adding(chapter: Chapter, a: &AddingArgs) -> Result<()> {
    if a.activation == ActivationKind::Relu
        && matches!(a.cell, Some(CellKind::Lstm | CellKind::Gru))
    {
        let why = "relu is the vanilla cell's f (--cell rnn, or no --cell)";
        return Err(Error::flag("--activation", why).into());
    }
    let cfg = AddingConfig {
        T: a.length as usize,
        hidden: a.hidden as usize,
        layers: a.layers as usize,
        batch: a.batch as usize,
        steps: a.steps as usize,
        lr: a.lr,
        clip: 1.0,
        eval_every: 50,
        test_size: 256,
        threads: a.groups as usize,
    };
    // Each group's thread runs its own products: the cores are shared out between them.
    shared::kernels::threads::share_product_threads(cfg.threads);
    // The training caches (twice with --groups: the groups' beside the run's), the held-out
    // caches, weights and Adam.
    let copies = if cfg.threads > 1 { 2 } else { 1 };
    let columns = copies * cfg.batch + cfg.test_size;
    let floats = stack_floats(2, cfg.hidden, cfg.layers, cfg.T, columns);
    let sizes = [
        (a.hidden, 32),
        (a.layers, 1),
        (a.length, 100),
        (a.batch, 32),
    ];
    let flag = largest(&["--hidden", "--layers", "--length", "--batch"], &sizes);
    let what = format!(
        "{} layer(s) of {} units over T = {} steps, batch {}",
        a.layers, a.hidden, a.length, a.batch
    );
    check_memory(flag, &what, bytes(a.dtype) * floats)?;
    let session = Session::outputs(chapter, &a.run, Some("adding"), a)?;
    if a.dtype == Dtype::F32 {
        say!("the engine in f32 (--dtype f32)")?; // f64 runs print what they always printed
    }
    say!("{}", report::adding_header(&cfg))?;
    let mut runs = Vec::new();
    for kind in a.cell.map_or(CellKind::ALL.to_vec(), |k| vec![k]) {
        let bar = session.progress(cfg.steps as u64, kind.name());
        let seed = session.seed;
        let (out, result) = match (kind, a.activation) {
            (CellKind::Rnn, ActivationKind::Relu) => {
                let rng = &mut rng::stream(seed, 1);
                let mut net = AddingNet::with_layers(cfg.hidden, cfg.layers, rng, Rnn::irnn);
                match a.dtype {
                    Dtype::F64 => train::train_adding_net::<_, f64>(&cfg, seed, &mut net, &bar),
                    Dtype::F32 => train::train_adding_net::<_, f32>(&cfg, seed, &mut net, &bar),
                }
            }
            _ => with_cell!(kind, C => match a.dtype {
                Dtype::F64 => train::train_adding::<C, f64>(&cfg, seed, &bar),
                Dtype::F32 => train::train_adding::<C, f32>(&cfg, seed, &bar),
            }),
        };
        bar.finish();
        runs.push(out);
        if let Err(e) = result {
            // The curves up to the divergence are still worth a look.
            session.save_loss(&report::adding_figure(&runs, cfg.T, cfg.steps))?;
            return Err(e.into());
        }
        say!("{}", runs[runs.len() - 1].row())?;
    }
    session.save_loss(&report::adding_figure(&runs, cfg.T, cfg.steps))?;
    session.save_summary(cfg.steps as u64, report::adding_summary(&cfg, &runs))?;
    session.finish()?;
    Ok(())
}

/// Bytes of one value of the engine's float type.
fn bytes(dtype: Dtype) -> f64 {
    match dtype {
        Dtype::F64 => 8.0,
        Dtype::F32 => 4.0,
    }
}

/// The flag whose value is the most times its default: the one to name when sizes do not fit.
fn largest<'f>(flags: &[&'f str], sizes: &[(u64, u64)]) -> &'f str {
    let ratio = |k: usize| sizes[k].0 as f64 / sizes[k].1 as f64;
    let k = (0..flags.len())
        .max_by(|&i, &j| ratio(i).total_cmp(&ratio(j)))
        .unwrap_or(0);
    flags[k]
}

/// `lstm-gru train` (alias `text`): trains (or, with `--resume`, continues) a language model.
pub fn train(chapter: Chapter, args: &TrainArgs, given: &Given) -> Result<()> {
    // The cell's default learning rate is made explicit: the checkpoint records the one used.
    let mut args = args.clone();
    args.lr = Some(args.lr());
    let started = Session::train(
        chapter,
        Start {
            run: &args.run,
            command: None,
            resume: args.resume.as_deref(),
            flags: &args,
            given,
            may_change: MAY_CHANGE,
        },
    )?;
    let a = &started.flags;
    let (session, resumed) = (started.session, started.resumed);
    with_cell!(a.cell, C => match a.dtype {
        Dtype::F64 => train_cell::<C, f64>(session, resumed, a),
        Dtype::F32 => train_cell::<C, f32>(session, resumed, a),
    })
}

/// `train` of cell `C` with the engine in float type `F` (`--dtype`).
fn train_cell<C: FastCell, F: Kernels>(
    mut session: Session,
    resumed: Option<Checkpoint>,
    a: &TrainArgs,
) -> Result<()> {
    let corpus = Corpus::load(a.text.as_deref(), a.run.seed)?;
    let cfg = a.config();
    shared::kernels::threads::share_product_threads(cfg.threads); // as in `adding`
    check_sizes(&cfg, a, corpus.stream.vocab_size())?;
    let mut training = match resumed {
        Some(mut ck) => TextRun::<C, F>::load(&mut ck, (&corpus, &cfg))?
            .training
            .into_owned(),
        None => Training::new(&cfg, corpus.stream.vocab_size(), a.run.seed)?,
    };
    let first = training.step;
    session.resumed_at(first as u64);
    let session = session; // borrowed from here on, by the checkpoint of every validation
    let checkpoint = |t: &Training<C, F>| {
        let run = TextRun {
            training: Cow::Borrowed(t),
            corpus: &corpus,
        };
        session.save_checkpoint(&run).map(|_| ())
    };
    if first >= cfg.steps {
        return Err(Error::flag(
            "--steps",
            format!(
                "the run in {} has done {first} steps already; --steps is the total, give more \
                 than {first} to continue it",
                session.out.display()
            ),
        )
        .into());
    }
    say!("{}", corpus.describe(&cfg, C::NAME))?;
    if F::DTYPE == Dtype::F32 {
        say!("the engine in f32 (--dtype f32)")?; // f64 runs print what they always printed
    }
    if first > 0 {
        say!("resuming at step {first}")?;
    }
    let bar = session.progress(cfg.steps as u64, C::NAME);
    let (train_ids, valid_ids) = (corpus.train_ids(), corpus.valid_ids());
    let stop = || session.interrupted();
    let trained = train::train_text_until(
        &cfg,
        &mut training,
        train_ids,
        valid_ids,
        &bar,
        stop,
        |t, e| {
            bar.println(e.line());
            checkpoint(t) // the checkpoint of every validation
        },
    );
    bar.finish();
    let title = format!(
        "{} × {} {} on {}",
        cfg.layers,
        cfg.hidden,
        C::NAME,
        corpus.source
    );
    // The curves are written even when training stopped on a divergence or Ctrl-C.
    session.save_loss(&training.figure(title, corpus.floor))?;
    trained?;
    checkpoint(&training)?;
    let t = &training;
    if session.interrupted() && t.step < cfg.steps {
        // As `Session::stopped`, with `train`: the bare command is the adding problem.
        let resume = format!(
            "{} train --resume {}",
            session.chapter.name,
            session.out.display()
        );
        let step = t.step as u64;
        return Err(Error::Interrupted { step, resume }.into());
    }
    session.save_summary(t.step as u64, t.summary(&cfg, corpus.floor))?;
    let mut rng = rng::stream(session.seed, 9);
    say!("{}", t.report(&corpus, &mut rng)?)?;
    session.finish()?;
    Ok(())
}

/// Refuses sizes whose buffers would not fit in memory: the stack over V inputs and its caches
/// (twice with `--groups`: the groups' tapes beside the session's), the one-hot inputs,
/// probabilities and gradients.
fn check_sizes(cfg: &TextConfig, a: &TrainArgs, V: usize) -> shared::Result<()> {
    let (T, B) = (cfg.seq_len, cfg.batch);
    let copies = if cfg.threads > 1 { 2.0 } else { 1.0 };
    let floats = copies * stack_floats(V, cfg.hidden, cfg.layers, T, B)
        + 3.0 * (V as f64 * T as f64 * B as f64);
    let sizes = [
        (a.hidden, 128),
        (a.layers, 2),
        (a.seq_len, 50),
        (a.batch, 32),
    ];
    let flag = largest(&["--hidden", "--layers", "--seq-len", "--batch"], &sizes);
    let what = format!(
        "{} × {} over {V} characters, chunks of {T} × {B}",
        cfg.layers, cfg.hidden
    );
    check_memory(flag, &what, bytes(a.dtype) * floats)
}

/// The checkpoint a `--model` flag names (default: the training runs' folder).
fn open_model(chapter: Chapter, model: Option<&Path>) -> Result<Checkpoint> {
    let default = chapter.default_out(None);
    let path = model_file(model.unwrap_or(&default), "--model")?;
    Ok(shared::checkpoint::load(&path, chapter.name)?)
}

/// `lstm-gru sample`: text drawn from a saved model.
pub fn sample(chapter: Chapter, a: &SampleArgs) -> Result<()> {
    let mut ck = open_model(chapter, a.model.as_deref())?;
    let kind = CellKind::from_name(checkpoint_cell(&ck)?);
    let (n, mut rng) = (a.len as usize, rng::seeded(a.seed));
    let text = with_cell!(kind, C => {
        let m = Trained::<C>::load(&mut ck, ())?;
        say!("model: {} ({})", ck.path.display(), m.describe())?;
        let prime = a.prime.as_deref();
        // In the float type it was trained in.
        if m.dtype == Dtype::F32 {
            let fast = FastLm::<C, f32>::from_model(&m.model);
            fast.sample_text(&m.vocab, prime, n, a.temperature, &mut rng)?
        } else {
            let fast = FastLm::<C, f64>::from_model(&m.model);
            fast.sample_text(&m.vocab, prime, n, a.temperature, &mut rng)?
        }
    });
    say!("{text}")?;
    Ok(())
}

/// `lstm-gru eval`: the loss of a saved model on a text, per character, in bits and as
/// perplexity.
pub fn eval(chapter: Chapter, a: &EvalArgs) -> Result<()> {
    let mut ck = open_model(chapter, a.model.as_deref())?;
    let kind = CellKind::from_name(checkpoint_cell(&ck)?);
    let stream = CharStream::load(&a.text)?;
    let name = a.text.display().to_string();
    let nats = with_cell!(kind, C => {
        let m = Trained::<C>::load(&mut ck, ())?;
        say!("model: {} ({})", ck.path.display(), m.describe())?;
        let ids = in_vocabulary(&stream, &m.vocab, &name)?;
        if ids.len() < 2 {
            return Err(Error::flag("--text", format!("{name}: one character, nothing to predict")).into());
        }
        say!("text: {name} ({} characters; each after the first predicted from all before it)", ids.len())?;
        if m.dtype == Dtype::F32 {
            FastLm::<C, f32>::from_model(&m.model).cross_entropy(&ids)
        } else {
            FastLm::<C, f64>::from_model(&m.model).cross_entropy(&ids)
        }
    });
    say!(
        "loss: {nats:.4} nats per character, perplexity {:.3}, {:.4} bits per character",
        nats.exp(),
        nats / std::f64::consts::LN_2
    )?;
    Ok(())
}

/// The ids in `vocab` of the characters of `text` (from file `name`); characters the model has
/// no output for are an error that names them.
fn in_vocabulary(text: &CharStream, vocab: &CharStream, name: &str) -> shared::Result<Vec<usize>> {
    let map: Vec<Option<usize>> = text.chars.iter().map(|&c| vocab.id(c)).collect();
    let missing: Vec<String> = (text.chars.iter().zip(&map))
        .filter(|(_, id)| id.is_none())
        .map(|(c, _)| format!("{c:?}"))
        .collect();
    if !missing.is_empty() {
        let shown = missing
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        let more = missing.len().saturating_sub(10);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        return Err(Error::flag(
            "--text",
            format!("{name}: {shown}{more} are not in the model's vocabulary"),
        ));
    }
    Ok(text.ids.iter().filter_map(|&i| map[i]).collect())
}

/// `lstm-gru gradients`: the vanishing gradient measured, ‖∂E/∂h_(T−k)‖ against the lag k per
/// cell, at initialisation and after a short training on the adding problem.
pub fn gradients(chapter: Chapter, a: &GradientsArgs) -> Result<()> {
    let (T, H) = (a.length as usize, a.hidden as usize);
    let cfg = GradientsConfig {
        train: AddingConfig {
            T,
            hidden: H,
            layers: 1,
            batch: 32,
            steps: a.steps as usize,
            lr: a.lr,
            clip: 1.0,
            eval_every: 50,
            test_size: 256,
            threads: 1,
        },
        sequences: a.sequences as usize,
    };
    // The engine's and the notes layer's caches over the training, held-out and measured
    // sequences.
    let floats = stack_floats(2, H, 1, T, 256 + cfg.sequences) * 2.0;
    let sizes = [(a.hidden, 32), (a.length, 100), (a.sequences, 100)];
    let flag = largest(&["--hidden", "--length", "--sequences"], &sizes);
    let what = format!("{H} units over T = {T} steps, {} sequences", a.sequences);
    check_memory(flag, &what, 8.0 * floats)?;
    let session = Session::outputs(chapter, &a.run, Some("gradients"), a)?;
    let steps = cfg.train.steps as u64;
    let profiles =
        gradients::measure_all(&cfg, session.seed, &|name| session.progress(steps, name))?;
    say!("{}", gradients::table(&cfg, &profiles))?;
    gradients::figure(&cfg, &profiles, true).save_png(session.output("gradients.png"))?;
    gradients::figure(&cfg, &profiles, false).save_csv(session.output("gradients.csv"))?;
    let runs: Vec<_> = profiles.iter().map(|p| p.outcome.clone()).collect();
    session.save_loss(&report::adding_figure(&runs, T, cfg.train.steps))?;
    session.save_summary(steps, gradients::summary(&cfg, &profiles))?;
    session.finish()?;
    Ok(())
}
