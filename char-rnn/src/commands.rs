//! The commands, on the run session (`shared::session`): `train` (flags → text → model → the
//! reference's loop → outputs; periodic checkpoints, Ctrl-C and `--resume`), `sample` and
//! `eval` (a saved model), `hello` (figure 17).

use crate::checkpoint::{self, State};
use crate::cli::{EvalArgs, HelloArgs, SampleArgs, TrainArgs};
use crate::fast::Kernels;
use crate::hello::{self, Hello};
use crate::report;
use crate::train::{self, Config, Trainer};
use crate::vocab::Text;
use anyhow::Result;
use serde_json::json;
use shared::cli::Dtype;
use shared::data::text::CharStream;
use shared::plot::{Figure, Panel, Series};
use shared::session::{
    Chapter, Checkpointed, Given, Session, Start, Started, check_memory, model_file,
};
use shared::{Error, rng, say};
use std::path::Path;

/// Sentences of the generated corpus the default run trains on.
pub const CORPUS_SENTENCES: usize = 30_000;

/// Flags a resumed run may change: the run length (a total), and flags that change nothing the
/// model learns: how often to print samples (they come from their own generator) and to write
/// checkpoints, and the path of the text (its characters are checked against the run's).
const MAY_CHANGE: &[&str] = &["iterations", "sample_every", "checkpoint_every", "text"];

/// `char-rnn` / `char-rnn train`: trains (or, with `--resume`, continues) a run.
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
        Dtype::F64 => train_in::<f64>(started),
        Dtype::F32 => train_in::<f32>(started),
    }
}

/// `train` with the engine in float type `F` (`--dtype`).
fn train_in<F: Kernels>(started: Started<TrainArgs>) -> Result<()> {
    let (mut session, a) = (started.session, started.flags);
    let source = match &a.text {
        Some(path) => path.display().to_string(),
        None => format!("generated:{}:{CORPUS_SENTENCES}", a.run.seed),
    };
    let text = Text::from_source(&source, a.seq_len as usize)?;
    check_sizes(text.vocab.len(), a.hidden as usize, a.seq_len as usize)?;
    let mut state = match started.resumed {
        Some(mut ck) => State::load(&mut ck, &text)?,
        None => {
            let config = Config {
                hidden: a.hidden as usize,
                seq_len: a.seq_len as usize,
                lr: a.lr,
                ..Config::default()
            };
            let trainer = Trainer::<F>::new(text.vocab.len(), config, a.run.seed)?;
            State {
                trainer,
                text: &text,
            }
        }
    };
    let first = state.trainer.n;
    session.resumed_at(first);
    if first >= a.iterations {
        return Err(Error::flag(
            "--iterations",
            format!(
                "the run in {} has done {first} iterations already; --iterations is the total, \
                 give more than {first} to continue it",
                session.out.display()
            ),
        )
        .into());
    }
    say!("{}", report::header(&state.trainer, &text))?;
    let bar = session.progress(a.iterations - first, "train");
    // The reference's loop; the checkpoint is rewritten (atomically) every --checkpoint-every
    // iterations, at the end and at Ctrl-C, each time only once the next chunk's loss under
    // the weights is finite: a diverged run keeps its last good checkpoint.
    let save = |state: &mut State<F>| -> shared::Result<()> {
        state.trainer.check_next(&text)?;
        session.save_checkpoint(state).map(|_| ())
    };
    let trained = (|| -> Result<()> {
        while state.trainer.n < a.iterations {
            let t = &mut state.trainer;
            let n = t.n;
            let show = a.sample_every > 0 && n % a.sample_every == 0;
            if show {
                let s = t.sample_here(&text, 200);
                bar.println(report::sample(&text.vocab.decode(&s)));
            }
            t.step(&text)?;
            if show {
                bar.println(report::progress(n, t));
                bar.set_message(format!("loss {:.2}", t.smooth_loss));
            }
            bar.inc(1);
            let periodic = a.checkpoint_every > 0 && t.n % a.checkpoint_every == 0;
            if session.interrupted() {
                save(&mut state)?;
                return Err(session.stopped(state.trainer.n));
            }
            if periodic {
                save(&mut state)?;
            }
        }
        save(&mut state)?;
        Ok(())
    })();
    bar.finish();
    // The curves up to the last good iteration, also after a divergence or Ctrl-C.
    let floor = text.entropy.map(|h| ("the corpus's entropy (floor)", h));
    let t = &mut state.trainer;
    session.save_loss(&t.loss_figure(report::title(t, &text), floor))?;
    trained?;
    let s = t.sample_here(&text, 200);
    say!("{}", report::sample(&text.vocab.decode(&s)))?;
    let done = t.n - first;
    say!("{}", report::finish(t, &text, done, session.elapsed()))?;
    session.save_summary(t.n, report::metrics(t, &text))?;
    session.finish()?;
    Ok(())
}

/// Refuses sizes whose model and chunk buffers would not fit in memory.
fn check_sizes(N_x: usize, N_h: usize, T: usize) -> shared::Result<()> {
    let (x, h, t) = (N_x as f64, N_h as f64, T as f64);
    // Parameters, gradients and Adagrad's two moments, plus the copy of Wᵀ; S, Y and dZ.
    let model = 8.0 * (4.0 * (2.0 * h * x + h * h + h + x) + h * h);
    let chunk = 8.0 * (x * t + h * (2.0 * t + 1.0));
    let flag = if chunk > model {
        "--seq-len"
    } else {
        "--hidden"
    };
    let what = format!("N_h = {N_h} hidden units for {N_x} characters in chunks of T = {T}");
    check_memory(flag, &what, model + chunk)
}

/// The model a `--model` flag names (default: the training runs' folder), and the `model:`
/// line saying which one answers.
fn open_model(chapter: Chapter, model: Option<&Path>) -> Result<checkpoint::Trained> {
    let default = chapter.default_out(None);
    let path = model_file(model.unwrap_or(&default), "--model")?;
    let trained = checkpoint::load_model(&path)?;
    say!("model: {} ({})", path.display(), trained.describe())?;
    Ok(trained)
}

/// `char-rnn sample`: text drawn from a saved model.
pub fn sample(chapter: Chapter, a: &SampleArgs) -> Result<()> {
    if a.prime.as_deref() == Some("") {
        return Err(Error::flag("--prime", "is empty").into());
    }
    let m = open_model(chapter, a.model.as_deref())?;
    let mut r = rng::seeded(a.seed);
    let prime = match &a.prime {
        Some(p) => m.vocab.encode(p, "--prime")?,
        // No prime: start a line if the vocabulary has newlines, else a uniformly drawn character.
        None => vec![
            m.vocab
                .index('\n')
                .unwrap_or_else(|| rng::below(&mut r, m.vocab.len())),
        ],
    };
    let (n, tau) = (a.len as usize, a.temperature);
    let out = match m.dtype {
        Dtype::F64 => crate::fast::sample_primed(&m.model_in::<f64>(), &prime, n, tau, &mut r),
        Dtype::F32 => crate::fast::sample_primed(&m.model_in::<f32>(), &prime, n, tau, &mut r),
    };
    say!("{}{}", m.vocab.decode(&prime), m.vocab.decode(&out))?;
    Ok(())
}

/// `char-rnn eval`: the loss of a saved model on a text, per character, as perplexity and in
/// bits per character.
pub fn eval(chapter: Chapter, a: &EvalArgs) -> Result<()> {
    let m = open_model(chapter, a.model.as_deref())?;
    let stream = CharStream::load(&a.text)?;
    let name = a.text.display().to_string();
    let ids = m.vocab.encode_stream(&stream, &format!("--text: {name}"))?;
    let e = match m.dtype {
        Dtype::F64 => train::evaluate(&m.model_in::<f64>(), &ids, m.seq_len),
        Dtype::F32 => train::evaluate(&m.model_in::<f32>(), &ids, m.seq_len),
    };
    say!(
        "text: {name} ({} characters; each after the first predicted from all before it)",
        ids.len()
    )?;
    say!(
        "loss: {:.4} nats per character ({:.2} per chunk of T = {}), perplexity {:.3}, \
         {:.4} bits per character",
        e.per_char(),
        e.per_char() * m.seq_len as f64,
        m.seq_len,
        e.perplexity(),
        e.bits_per_char()
    )?;
    Ok(())
}

/// `char-rnn hello`: figure 17's network, its forward pass before and after training, trained
/// until it spells "hello".
pub fn hello(chapter: Chapter, a: &HelloArgs) -> Result<()> {
    let session = Session::outputs(chapter, &a.run, Some("hello"), a)?;
    let mut net = Hello::new(a.run.seed, a.lr);
    say!(
        "figure 17: vocabulary h, e, l, o (one-hot, N_x = 4), N_h = 3 hidden units, T = 4: \
         inputs \"hell\", targets \"ello\""
    )?;
    say!(
        "before training (weights 0.01·N(0, 1), seed {}):",
        a.run.seed
    )?;
    say!("{}", net.table())?;
    let mut curve = Series::new("loss on \"hell\" → \"ello\" (nats per word)");
    let mut spelled = net.spell();
    say!("\nbefore any update it spells \"{spelled}\"")?;
    while spelled != hello::WORD && net.iteration < a.iterations {
        let n = net.iteration;
        let loss = train::check_loss(n, net.step(), hello::INPUTS.len())?;
        curve.push(n as f64, loss);
        let now = net.spell();
        if now != spelled || net.iteration.is_multiple_of(100) {
            say!(
                "update {:>4}: loss {loss:.4}, then it spells \"{now}\"",
                net.iteration
            )?;
        }
        spelled = now;
    }
    let uniform = 4.0 * (hello::N_X as f64).ln();
    let mut line = Series::new("the uniform guess, 4 ln 4");
    line.push(0.0, uniform);
    line.push(net.iteration as f64, uniform);
    let panel = Panel::new(
        "figure 17's network learns \"hello\" (N_x = 4, N_h = 3, Adagrad)",
        "iteration",
        "loss L = Σ_t −ln y_t(target)",
    );
    session.save_loss(&Figure::single(panel.with(curve.clone()).with(line)))?;
    if spelled != hello::WORD {
        return Err(Error::flag(
            "--iterations",
            format!(
                "after {} updates it spells \"{spelled}\", not \"hello\"; give it more",
                net.iteration
            ),
        )
        .into());
    }
    say!("\nafter {} updates it spells \"hello\":", net.iteration)?;
    say!("{}", net.table())?;
    let metrics = json!({
        "spelled_at": net.iteration, "final_loss": curve.last(), "lr": a.lr,
        "hidden": hello::N_H, "vocabulary": "helo",
    });
    session.save_summary(net.iteration, metrics)?;
    session.finish()?;
    Ok(())
}
