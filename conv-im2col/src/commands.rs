//! The commands, on the run session (`shared::session`): `train` (flags → data → network →
//! epochs → linear baseline → outputs; Ctrl-C and `--resume`), `eval` (a saved network on new
//! images) and `example` (figure 15).

use crate::checkpoint::{Resume, State, net_from_checkpoint, sizes};
use crate::cli::{Dtype, EvalArgs, TrainArgs};
use crate::data::{self, Split};
use crate::example;
use crate::fast::{FastConvNet, Float, widen};
use crate::model::Config;
use crate::report::{self, save_filters};
use crate::train::{Sampling, evaluate};
use anyhow::{Context, Result};
use shared::checkpoint::Checkpoint;
use shared::data::digits;
use shared::plot::Series;
use shared::run::Progress;
use shared::session::{
    Chapter, Checkpointed, Given, Session, Start, Started, check_memory, model_file,
};
use shared::{Error, rng, say};
use std::path::Path;

/// `conv-im2col` / `conv-im2col train`: trains (or, with `--resume`, continues) SimpleConvNet,
/// then the linear baseline, and writes the curves, filters, model and summary.
pub fn train(chapter: Chapter, args: &TrainArgs, given: &Given) -> Result<()> {
    let started = Session::train(
        chapter,
        Start {
            run: &args.run,
            command: None,
            resume: args.resume.as_deref(),
            flags: args,
            given,
            may_change: &["epochs"],
        },
    )?;
    match started.flags.dtype {
        Dtype::F64 => train_in::<f64>(started),
        Dtype::F32 => train_in::<f32>(started),
    }
}

/// `train` with the engine in float type `T` (`--dtype`).
fn train_in<T: Float>(started: Started<TrainArgs>) -> Result<()> {
    let (mut session, a) = (started.session, started.flags);
    let (seed, batch, lr, rule) = (a.run.seed, a.batch as usize, a.lr, a.adam.rule());
    let size = |n: Option<u64>| n.map(|n| n as usize);
    let (mnist, digits) = (a.mnist.as_deref(), a.digits.as_deref());
    let split = data::by_flags(mnist, digits, size(a.train_size), size(a.test_size), seed)?;
    let train = &split.train;
    let config = Config {
        filter_size: a.filter_size as usize,
        ..Config::simple(1, train.rows, train.cols)
    };
    check_batch::<T>(&config, batch, a.sampling, &split)?;
    let state = match started.resumed {
        None => {
            let net = FastConvNet::<T>::new(config, a.init.init(), &mut rng::stream(seed, 1))?;
            State::new(net, rule, lr, seed, &split)?
        }
        Some(mut ck) => {
            let cx = Resume {
                split: &split,
                config,
                batch,
                rule,
                lr,
                seed,
            };
            resume(&mut ck, cx, a.epochs, &session)?
        }
    };
    session.resumed_at(state.steps());
    let mut s = state.with_threads(a.groups as usize)?;
    // Each group's thread runs its own products: the cores are shared out between them.
    shared::kernels::threads::share_product_threads(a.groups as usize);
    say!("{}", report::data_line(&split))?;
    let adam = format!("{:?}", a.adam);
    say!("{}", report::network_line(&s.net, &adam, lr, batch))?;
    if a.groups > 1 {
        say!(
            "each mini-batch split into {} groups on as many threads",
            s.threads()
        )?;
    }

    // Train: one progress step per mini-batch, one report line and one checkpoint per epoch;
    // Ctrl-C stops after a step with the checkpoint and the curves saved.
    let per_epoch = train.len().div_ceil(batch) as u64;
    let steps = a.epochs.saturating_mul(per_epoch);
    let bar = session.progress(steps, "train");
    bar.set_position(s.steps());
    let (mut seconds, mut timed) = (0.0, 0);
    while s.epoch < a.epochs {
        let done = s.run_epoch(&split, batch, a.sampling, |_, l| {
            bar.inc(1);
            bar.set_message(format!("loss {l:.4}"));
            session.interrupted()
        });
        // A diverged run stops here, with its curves up to the last good step written and
        // the checkpoint of the last whole epoch left in place.
        let done = match done {
            Ok(done) => done,
            Err(e) => return Err(stop(&session, &bar, &s, e.into())),
        };
        let Some((r, tr)) = done else {
            session.save_checkpoint(&s)?;
            return Err(stop(&session, &bar, &s, session.stopped(s.steps())));
        };
        bar.println(report::epoch_line(&r, tr));
        (seconds, timed) = (seconds + r.seconds, timed + 1);
        if let Err(e) = session.save_checkpoint(&s) {
            return Err(stop(&session, &bar, &s, e.into()));
        }
        if session.interrupted() && s.epoch < a.epochs {
            return Err(stop(&session, &bar, &s, session.stopped(s.steps())));
        }
    }
    bar.finish();
    let base = report::baseline(&split, a.epochs, batch, a.sampling, rule, lr, seed)
        .context("linear softmax baseline");
    let base = base.map_err(|e| stop(&session, &bar, &s, e))?;
    let curves = &mut s.curves;
    base.reports
        .iter()
        .for_each(|r| curves.linear.push(r.epoch as f64, r.test_accuracy));
    let epoch_secs = seconds / f64::from(timed.max(1));
    say!("{}", report::final_lines(curves, &base, epoch_secs))?;

    // Outputs: loss.png / loss.csv, filters.png, summary.json (model.safetensors is the
    // last epoch's checkpoint).
    session.save_loss(&curves.figure())?;
    let fs = config.filter_size;
    let filters = session.output("filters.png");
    save_filters(filters, &widen(&s.W1_start), &widen(&s.net.conv1.W), fs, fs)?;
    let dx22 = example::figure15().dx[example::PIXEL];
    let last = |s: &Series| s.last().unwrap_or(0.0);
    let curves = &s.curves;
    session.save_summary(
        steps,
        serde_json::json!({
            "data": split.description, "epochs": a.epochs, "batch": a.batch, "lr": a.lr,
            "init": format!("{:?}", a.init), "adam": adam, "sampling": format!("{:?}", a.sampling),
            "groups": a.groups, "dtype": T::DTYPE,
            "parameters": s.net.parameter_count(),
            "train_accuracy": last(&curves.train), "test_accuracy": last(&curves.test),
            "linear_train_accuracy": base.train_accuracy, "linear_test_accuracy": base.test_accuracy,
            "seconds_per_training_epoch": epoch_secs, "figure15_pixel22_gradient": dx22,
        }),
    )?;
    say!("{}", report::figure15_line(dx22))?;
    session.finish()?;
    Ok(())
}

/// Refuses a `--batch` whose buffers would not fit in memory: the largest batch the run
/// computes is a mini-batch (at most the training set when shuffled) or a 500-image accuracy
/// pass. An error names `--filter-size` if the sizes do not make a network.
fn check_batch<T: Float>(
    config: &Config,
    batch: usize,
    sampling: Sampling,
    split: &Split,
) -> Result<()> {
    let per_example =
        FastConvNet::<T>::bytes_per_example(config).map_err(|e| Error::flag("--filter-size", e))?;
    let n = split.train.len();
    let b = match sampling {
        Sampling::Shuffled => batch.min(n),
        Sampling::Replacement => batch,
    };
    let widest = b.max(500.min(n.max(split.test.len())));
    let what = format!("mini-batches of {batch} images");
    Ok(check_memory("--batch", &what, per_example * widest as f64)?)
}

/// The state a checkpoint continues (checked against `cx`), if it has not yet done `epochs`.
fn resume<T: Float>(
    ck: &mut Checkpoint,
    cx: Resume<'_>,
    epochs: u64,
    session: &Session,
) -> Result<State<T>> {
    let s = State::load(ck, cx)?;
    if s.epoch >= epochs {
        let (n, plural) = (s.epoch, if s.epoch == 1 { "" } else { "s" });
        let msg = format!(
            "{epochs} in all, but the run in {} has already done {n} epoch{plural}: give a \
             larger total to continue it",
            session.out.display()
        );
        return Err(Error::flag("--epochs", msg).into());
    }
    let (from, epoch, step) = (ck.path.display(), s.epoch, s.steps());
    say!("resumed from {from} after epoch {epoch} (step {step})")?;
    Ok(s)
}

/// Ends a run that cannot go on (Ctrl-C, a diverged training): hides the progress bar, writes
/// the curves so far, and returns `e` (or the error of writing them).
fn stop<T: Float>(
    session: &Session,
    bar: &Progress,
    s: &State<T>,
    e: anyhow::Error,
) -> anyhow::Error {
    bar.finish();
    match session.save_loss(&s.curves.figure()) {
        Ok(()) => e,
        Err(saving) => anyhow::Error::new(saving).context(e.to_string()),
    }
}

/// `conv-im2col eval`: the accuracy and loss of a saved network on an MNIST folder's t10k
/// images or on every image of a digits CSV.
pub fn eval(chapter: Chapter, a: &EvalArgs) -> Result<()> {
    let default = chapter.default_out(None);
    let file = model_file(a.model.as_deref().unwrap_or(&default), "--model")?;
    let mut ck = shared::checkpoint::load(&file, chapter.name)?;
    if ck.dtype()? == Dtype::F32 {
        let net = net_from_checkpoint::<f32>(&mut ck)?;
        return eval_in(a, &file, &ck, net);
    }
    let net = net_from_checkpoint::<f64>(&mut ck)?;
    eval_in(a, &file, &ck, net)
}

/// `eval` of a network `net` (in its float type) loaded from `ck`, read from `file`.
fn eval_in<T: Float>(
    a: &EvalArgs,
    file: &Path,
    ck: &Checkpoint,
    mut net: FastConvNet<T>,
) -> Result<()> {
    let (flag, name, set) = match (&a.mnist, &a.digits) {
        (Some(dir), _) => ("--mnist", dir, data::mnist_test(dir)?),
        (_, Some(csv)) => ("--digits", csv, digits::load_digits_csv(csv)?),
        _ => return Err(Error::msg("give the images: --mnist DIR or --digits FILE").into()),
    };
    let c = net.config;
    if (set.rows, set.cols) != (c.height, c.width) || c.channels != 1 {
        return Err(Error::flag(
            flag,
            format!(
                "{} holds {}×{} images, but the network in {} takes {}",
                name.display(),
                set.rows,
                set.cols,
                file.display(),
                sizes(&c)
            ),
        )
        .into());
    }
    if let Some(i) = set.labels.iter().position(|&l| l >= c.classes) {
        let msg = format!(
            "{}: image {i} is labelled {}, but the network has {} classes",
            name.display(),
            set.labels[i],
            c.classes
        );
        return Err(Error::flag(flag, msg).into());
    }
    let trained = match (ck.meta::<u64>("epoch"), ck.meta::<u64>("adam_t")) {
        (Ok(e), Ok(t)) => format!("{e} epochs ({t} steps) on {}", ck.meta_str("data")?),
        _ => "no training record".into(),
    };
    let dtype = if T::DTYPE == Dtype::F64 {
        String::new()
    } else {
        format!(", {}", T::DTYPE)
    };
    say!(
        "model: {} (SimpleConvNet, {}; {} parameters{dtype}; {trained})",
        file.display(),
        sizes(&c),
        net.parameter_count()
    )?;
    let what = if flag == "--mnist" {
        "t10k images of"
    } else {
        "images of"
    };
    say!("data: all {} {what} {}", set.len(), name.display())?;
    let (loss, right) = evaluate(&mut net, &set.images, &set.labels, 500);
    let n = set.len();
    let accuracy = right as f64 / n as f64;
    say!("test accuracy {accuracy:.4} ({right} of {n} right), loss {loss:.4} nats per image")?;
    Ok(())
}

/// `conv-im2col example`: figure 15 of the notes, computed.
pub fn example() -> Result<()> {
    let report = example::figure15().report();
    say!("{}", report.strip_suffix('\n').unwrap_or(&report))?;
    Ok(())
}
