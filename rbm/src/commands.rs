//! The commands, on the run session (`shared::session`): `train` (flags → data → model →
//! epochs with the exact likelihood → outputs; Ctrl-C and `--resume`), `sample` (Gibbs chains
//! of a saved RBM) and `partition` (the notes' table).

#![allow(non_snake_case)]

use crate::checkpoint::{Resume, State, load_model};
use crate::cli::{PartitionArgs, SampleArgs, Schedule, TrainArgs};
use crate::data::{self, Data};
use crate::fast::{EngineFloat, Params};
use crate::partition;
use crate::report::{self, Baselines};
use crate::train::{self, Config, Defaults, SAMPLE_STREAM};
use anyhow::Result;
use shared::cli::Dtype;
use shared::error::check_finite;
use shared::rng;
use shared::say;
use shared::session::{
    Chapter, Checkpointed, Given, Session, Start, Started, check_memory, model_file,
};
use shared::{Error, files};

/// `rbm` / `rbm train`: trains (or, with `--resume`, continues) a run and writes its curves,
/// pictures, model and summary.
pub fn train(chapter: Chapter, args: &TrainArgs, given: &Given) -> Result<()> {
    let started = Session::train(
        chapter,
        Start {
            run: &args.run,
            command: None,
            resume: args.resume.as_deref(),
            flags: args,
            given,
            may_change: &["epochs", "checkpoint_every"],
        },
    )?;
    match started.flags.dtype {
        Dtype::F64 => train_in::<f64>(started),
        Dtype::F32 => train_in::<f32>(started),
    }
}

/// `train` with the engine in float type `T` (`--dtype`): the exact likelihoods, the
/// pictures and the report on the parameters widened to f64 (exact).
fn train_in<T: EngineFloat>(started: Started<TrainArgs>) -> Result<()> {
    let (session, a) = (started.session, started.flags);
    let seed = session.seed;
    if a.digits.is_none() && a.mnist.is_none() {
        let n = f64::from(a.train.unwrap_or(3000));
        let bytes = 8.0 * n * (3 * a.side * a.side + 2 * a.hidden.unwrap_or(16)) as f64;
        check_memory("--train", &format!("{n} training examples"), bytes)?;
    }
    let train_size = a.train.map(|n| n as usize);
    let (digits, mnist) = (a.digits.as_deref(), a.mnist.as_deref());
    let data = data::by_flags(digits, mnist, a.side as usize, train_size, seed)?;
    let (config, n_h, epochs) = recipe(&a, &data);
    let n_v = data.train.nrows();
    train::check(&config, n_v, n_h)?;
    let B = config.batch as f64;
    let bytes = 8.0 * B * 3.0 * (n_v + n_h) as f64;
    check_memory("--batch", &format!("mini-batches of {B}"), bytes)?;
    let mut state = match started.resumed {
        None => State::<T>::new(n_h, config, &data, seed),
        Some(mut ck) => {
            let resume = Resume {
                data: &data,
                config,
                seed,
            };
            let state = State::<T>::load(&mut ck, resume)?;
            check_total(&state, epochs, &session)?;
            say!(
                "resuming {} after epoch {} ({} updates)",
                ck.path.display(),
                state.epoch,
                state.trainer.steps
            )?;
            state
        }
    };
    let config = state.trainer.config.clone();
    let baselines = Baselines::of(&data);
    let header = report::header(&data, n_h, &config, &baselines);
    let mut lines: Vec<&str> = header.lines().collect();
    if T::DTYPE == Dtype::F32 {
        // above the table's heading (the last line)
        let at = lines.len().saturating_sub(1);
        lines.insert(
            at,
            "training in f32; log Z, likelihoods and pictures computed in f64 from the f32 weights",
        );
    }
    for line in lines {
        say!("{line}")?;
    }
    let eval_every = config.method.evaluate_every(epochs);
    let every = a.report_every.map_or((epochs / 25).max(1), |e| e as usize);
    let figure = |s: &State<T>| s.history.figure(&data, &config, n_h, &baselines);
    let bar = session.progress(epochs as u64, "epochs");
    bar.set_position(state.epoch as u64);
    let evaluate = |rbm: &T::Rbm| train::evaluate(&rbm.widened(), &data.train, &data.test);
    if state.epoch == 0 {
        let stats = evaluate(&state.rbm);
        state.history.push(0, &stats);
        bar.println(report::row(0, &stats));
    }
    // The state of the last epoch whose likelihood was finite, the epoch of the last
    // checkpoint written, the statistics of the last evaluated epoch.
    let (mut good, mut saved_at, mut last_stats) = (state.clone(), None, None);
    while state.epoch < epochs {
        let epoch = state.epoch + 1;
        let done = state
            .trainer
            .epoch(&mut state.rbm, &data.train, epoch, &mut state.rng);
        state.epoch = epoch;
        bar.inc(1);
        let last = epoch == epochs;
        let (mut diverged, mut stats) = (done.err(), None);
        if diverged.is_none() && (last || epoch % eval_every == 0 || epoch % every == 0) {
            let s = evaluate(&state.rbm);
            diverged = check_finite(state.trainer.steps, s.train_ll).err();
            stats = Some(s);
        }
        if let Some(e) = diverged {
            // Keep what was learnt up to the last good epoch: its curves and its model (unless
            // a later checkpoint, of finite weights, is already written).
            bar.finish();
            session.save_loss(&figure(&good))?;
            if saved_at.is_none_or(|at| at <= good.epoch) {
                session.save_checkpoint(&good)?;
            }
            return Err(e.into());
        }
        if let Some(s) = stats {
            state.history.push(epoch, &s);
            good.clone_from(&state);
            if epoch % every == 0 || last {
                bar.println(report::row(epoch, &s));
            }
            last_stats = Some(s);
        }
        let stop = session.interrupted();
        if !last && (stop || epoch % a.checkpoint_every as usize == 0) {
            session.save_checkpoint(&state)?;
            saved_at = Some(epoch);
        }
        if stop && !last {
            bar.finish();
            session.save_loss(&figure(&state))?;
            return Err(session.stopped(state.trainer.steps));
        }
    }
    bar.finish();
    let stats = last_stats.unwrap_or_else(|| evaluate(&state.rbm));
    session.save_checkpoint(&state)?;
    session.save_loss(&figure(&state))?;
    let mut r = rng::stream(seed, SAMPLE_STREAM);
    let rbm = state.rbm.widened();
    report::save_pictures(&session, &rbm, data.shape, &mut r)?;
    let (text, summary) = report::final_report(&rbm, &data, &config, &stats, &baselines);
    for line in text.lines() {
        say!("{line}")?;
    }
    session.save_summary(state.trainer.steps, summary)?;
    session.finish()?;
    Ok(())
}

/// The recipe of the flags for `data` (each flag not given takes the data set's and the
/// method's default, [`Defaults::of`]): the training configuration, n_h and the epochs in all.
fn recipe(a: &TrainArgs, data: &Data) -> (Config, usize, usize) {
    let d = Defaults::of(data.source, a.method);
    let epochs = a.epochs.map_or(d.epochs, |e| e as usize);
    let anneal = a.schedule.map_or(d.anneal, |s| s == Schedule::Linear);
    let batch = a.batch.map(|b| b as usize).or(d.batch);
    let config = Config {
        method: a.method,
        k: a.k.map_or(d.k, |k| k as usize),
        lr: a.lr.unwrap_or(d.lr),
        batch: batch.unwrap_or(data.train.ncols()),
        weight_cost: a.weight_cost,
        anneal_epochs: anneal.then_some(epochs),
        ..Config::default()
    };
    (config, a.hidden.map_or(d.hidden, |h| h as usize), epochs)
}

/// A resumed run trains on up to `epochs` in all: more than it has done, and, when its ε is
/// annealed to 0 over its first total, not past that.
fn check_total<T: EngineFloat>(
    state: &State<T>,
    epochs: usize,
    session: &Session,
) -> shared::Result<()> {
    let folder = session.out.display();
    if state.epoch >= epochs {
        return Err(Error::flag(
            "--epochs",
            format!(
                "the run in {folder} has trained {} epochs of {epochs}; give a larger total \
                 --epochs to continue it",
                state.epoch
            ),
        ));
    }
    match state.trainer.config.anneal_epochs {
        Some(E) if epochs > E => Err(Error::flag(
            "--epochs",
            format!(
                "the run in {folder} anneals ε linearly to 0 over {E} epochs, so it cannot \
                 train to {epochs}; start a new run (or one with --schedule constant)"
            ),
        )),
        _ => Ok(()),
    }
}

/// `rbm sample`: Gibbs chains of a saved RBM, as samples.png and the first few as text.
pub fn sample(chapter: Chapter, a: &SampleArgs) -> Result<()> {
    let default = chapter.default_out(None);
    let file = model_file(a.model.as_deref().unwrap_or(&default), "--model")?;
    let mut ck = shared::checkpoint::load(&file, chapter.name)?;
    let saved = load_model(&mut ck)?;
    let (n, steps, T) = (a.samples as usize, a.steps as usize, a.temperature);
    let session = Session::outputs(chapter, &a.run, Some("sample"), a)?;
    let (rbm, (rows, cols)) = (&saved.rbm, saved.shape);
    let mut trained = saved
        .epoch
        .map_or(String::new(), |e| format!(", {e} epochs"));
    if ck.dtype()? == Dtype::F32 {
        trained.push_str(", trained in f32, sampled in f64");
    }
    say!(
        "model: {} (n_v = {}, n_h = {}, {rows} × {cols} images{trained})",
        file.display(),
        rbm.n_v(),
        rbm.n_h()
    )?;
    let mut r = rng::stream(session.seed, SAMPLE_STREAM);
    let S = train::tempered_samples(rbm, n, steps, T, &mut r);
    let title = if T == 1.0 {
        format!("Gibbs samples ({steps} steps)")
    } else {
        format!("Gibbs samples ({steps} steps, T = {T})")
    };
    let path = session.output("samples.png");
    report::save_grid(&path, &title, &S, saved.shape, shared::plot::Scale::Unit)?;
    let show = (a.show as usize).min(n);
    let what = if T == 0.0 {
        "every unit at its more probable value, no random draw after the start"
    } else {
        "h ~ p(h | v), v ~ p(v | h)"
    };
    say!(
        "{n} chains from draws of σ(a), {steps} steps at T = {T} ({what}); the first {show}, \
         p(v | h) ≥ 0.5 as '#':"
    )?;
    for line in report::samples_as_text(&S, saved.shape, show).lines() {
        say!("{line}")?;
    }
    session.finish()?;
    Ok(())
}

/// `rbm partition`: the notes' table for the RBM of the flags, printed, and its numbers in
/// partition.json.
pub fn partition(chapter: Chapter, p: &PartitionArgs) -> Result<()> {
    let (n_v, n_h) = (p.visible as usize, p.hidden as usize);
    let (w, a, b) = (
        p.weights.clone(),
        p.visible_bias.clone(),
        p.hidden_bias.clone(),
    );
    let rbm = partition::rbm_from_flags(n_v, n_h, w, a, b, p.run.seed)?;
    let text = partition::report(&rbm, 64)?;
    let numbers = partition::numbers(&rbm)?;
    let session = Session::outputs(chapter, &p.run, Some("partition"), p)?;
    for line in text.lines() {
        say!("{line}")?;
    }
    let json = serde_json::to_string_pretty(&numbers).map_err(Error::msg)?;
    files::write_bytes_atomic(
        session.output("partition.json"),
        format!("{json}\n").as_bytes(),
    )?;
    session.finish()?;
    Ok(())
}
