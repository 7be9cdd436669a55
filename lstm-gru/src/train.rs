//! The training loops: the adding problem (fresh sequences every step, a held-out set) and the
//! language model (side-by-side streams, validation, a session that a checkpoint can hold),
//! both on the engine's passes with Adam and global gradient-norm clipping.

use crate::data::{AddingBatch, Streams, adding_batch};
use crate::fast::adding::{AddingCache, FastAdding};
use crate::fast::charlm::{FastLm, LmCache};
use crate::fast::parallel::{AddingParallel, LmParallel};
use crate::fast::{FastCell, Kernels};
use crate::model::{AddingNet, CharLm};
use nalgebra::DMatrix;
use shared::error::{check_finite, check_nats};
use shared::optim::{Optimize, Rule};
use shared::plot::Series;
use shared::rng;
use shared::run::Progress;
use shared::{Error, Result};
use std::time::Instant;

/// Scales all gradients down together so their joint L2 norm is at most `max_norm` (Pascanu
/// et al. 2013's remedy for exploding RNN gradients); returns the norm before clipping. Each
/// matrix's squared norm is summed in `F`, the total and the scale in f64 (the scale rounded to
/// `F` once).
pub fn clip_global_norm<F: Kernels>(grads: &mut [&mut DMatrix<F>], max_norm: f64) -> f64 {
    let norm = (grads.iter().map(|g| g.norm_squared().as_f64()))
        .sum::<f64>()
        .sqrt();
    if norm > max_norm {
        let s = F::round_from(max_norm / norm);
        for g in grads.iter_mut() {
            **g *= s;
        }
    }
    norm
}

/// One optimizer step: every parameter updated with its gradient, in order.
fn optimizer_step<F: Kernels>(
    opt: &mut F::Optimizer,
    params: Vec<&mut DMatrix<F>>,
    grads: Vec<&mut DMatrix<F>>,
) {
    assert_eq!(params.len(), grads.len(), "one gradient per parameter");
    opt.begin_step();
    for (i, (w, g)) in params.into_iter().zip(grads).enumerate() {
        opt.update(i, w, g);
    }
}

/// `dst` ← `src` with every entry rounded to `F` (a copy for f64), into a buffer made once.
fn narrow_into<F: Kernels>(src: &DMatrix<f64>, dst: &mut DMatrix<F>) {
    assert_eq!(src.shape(), dst.shape(), "narrow_into: shapes");
    dst.iter_mut()
        .zip(src.iter())
        .for_each(|(d, s)| *d = F::round_from(*s));
}

/// Settings of one adding-problem training run.
#[derive(Clone, Debug)]
pub struct AddingConfig {
    /// Sequence length T.
    pub T: usize,
    /// Hidden units per layer.
    pub hidden: usize,
    /// Layers.
    pub layers: usize,
    /// Sequences per mini-batch.
    pub batch: usize,
    /// Training steps (one mini-batch each, fresh sequences every step).
    pub steps: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Largest global gradient norm (larger gradients are scaled down).
    pub clip: f64,
    /// Evaluate on the held-out sequences every this many steps.
    pub eval_every: usize,
    /// Held-out sequences (drawn once from the seed).
    pub test_size: usize,
    /// Threads for each mini-batch (1: the single-threaded code; see [`crate::fast::parallel`]).
    pub threads: usize,
}

/// What a training run measured.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// "rnn", "lstm", "gru".
    pub cell: &'static str,
    /// Mini-batch MSE at every step.
    pub train_mse: Series,
    /// Held-out MSE at every evaluation.
    pub test_mse: Series,
    /// Held-out MSE after the last step.
    pub final_test_mse: f64,
    /// Lowest held-out MSE of the run.
    pub best_test_mse: f64,
    /// First evaluation step with held-out MSE < 0.01, if any.
    pub solved_at: Option<usize>,
    /// Training wall time in seconds.
    pub seconds: f64,
    /// Number of parameters.
    pub params: usize,
}

/// Trains an [`AddingNet`] of cell `C` on the adding problem, the engine in float type `F`. The data stream and the held-out set depend only on
/// `seed`, so every cell sees the same sequences. Returns what was measured up to the end, or
/// up to the step where the loss stopped being finite together with that error (so the curves
/// so far can still be drawn).
pub fn train_adding<C: FastCell, F: Kernels>(
    cfg: &AddingConfig,
    seed: u64,
    progress: &Progress,
) -> (Outcome, Result<()>) {
    let mut net = AddingNet::new(cfg.hidden, cfg.layers, &mut rng::stream(seed, 1));
    train_adding_net::<C, F>(cfg, seed, &mut net, progress)
}

/// [`train_adding`] from a given start `net` (e.g. the IRNN of [`AddingNet::with_layers`] and
/// [`crate::model::Rnn::irnn`]), trained in place (in `F`, then widened back to f64).
pub fn train_adding_net<C: FastCell, F: Kernels>(
    cfg: &AddingConfig,
    seed: u64,
    net: &mut AddingNet<C>,
    progress: &Progress,
) -> (Outcome, Result<()>) {
    let name = net.rnn.layers[0].label();
    let mut out = Outcome {
        cell: name,
        train_mse: Series::new(format!("{name} (mini-batch)")),
        test_mse: Series::new(format!("{name} (held out)")),
        final_test_mse: f64::NAN,
        best_test_mse: f64::INFINITY,
        solved_at: None,
        seconds: 0.0,
        params: 0,
    };
    let mut fast = FastAdding::<C, F>::from_model(net);
    let result = run_adding(cfg, seed, &mut fast, progress, &mut out);
    *net = fast.to_model();
    (out, result)
}

/// [`train_adding`]'s loop, filling `out` as it goes.
fn run_adding<C: FastCell, F: Kernels>(
    cfg: &AddingConfig,
    seed: u64,
    net: &mut FastAdding<C, F>,
    progress: &Progress,
    out: &mut Outcome,
) -> Result<()> {
    if cfg.T < 2 {
        return Err(Error::flag("--length", "must be at least 2"));
    }
    let start = Instant::now();
    let mut grads = net.zero_grads();
    let mut data = rng::stream(seed, 2);
    let test = adding_batch(cfg.T, cfg.test_size, &mut rng::stream(seed, 3));
    let test_X: DMatrix<F> = crate::fast::narrow(&test.X);
    let mut cache = net.fast_cache(cfg.T, cfg.batch);
    let threads = shared::parallel::check_threads(cfg.threads)?;
    let mut parallel = (threads > 1).then(|| AddingParallel::new(net, cfg.T, cfg.batch, threads));
    let mut test_cache = net.fast_cache(cfg.T, cfg.test_size);
    let mut opt = F::Optimizer::create(Rule::adam(), cfg.lr)?;
    out.params = net.params_mut().iter().map(|p| p.len()).sum();
    let evaluate =
        |net: &FastAdding<C, F>, step: usize, out: &mut Outcome, cache: &mut AddingCache<C, F>| {
            let mse = net.forward_fast(test_X.columns(0, test_X.ncols()), &test.target, cache);
            let mse = check_finite(step as u64, mse)?;
            out.test_mse.push(step as f64, mse);
            if mse < 0.01 && out.solved_at.is_none() {
                out.solved_at = Some(step);
            }
            out.final_test_mse = mse;
            out.best_test_mse = out.best_test_mse.min(mse);
            Ok::<f64, Error>(mse)
        };
    evaluate(net, 0, out, &mut test_cache)?;
    let mut b = AddingBatch::new(cfg.T, cfg.batch);
    let mut X = DMatrix::<F>::zeros(b.X.nrows(), b.X.ncols());
    let mut above = Above::default();
    for step in 1..=cfg.steps {
        b.draw(&mut data);
        narrow_into(&b.X, &mut X);
        grads.zero();
        let mse = match parallel.as_mut() {
            None => net.backward_fast(X.columns(0, X.ncols()), &b.target, &mut cache, &mut grads),
            Some(p) => p.backward(net, &X, &b.target, &mut grads),
        };
        out.seconds = start.elapsed().as_secs_f64();
        above.check(step, check_finite(step as u64, mse)?)?;
        out.train_mse.push(step as f64, mse);
        let mut g = grads.list_mut();
        clip_global_norm(&mut g, cfg.clip);
        optimizer_step::<F>(&mut opt, net.params_mut(), g);
        if step % cfg.eval_every == 0 || step == cfg.steps {
            let test_mse = evaluate(net, step, out, &mut test_cache)?;
            progress.set_message(format!("{}: held-out MSE {test_mse:.4}", out.cell));
        }
        progress.inc(1);
    }
    above.at_end()?;
    out.seconds = start.elapsed().as_secs_f64();
    Ok(())
}

/// The largest mini-batch MSE of a run that has not diverged. The targets lie in [0, 2), so a
/// prediction in that range errs by at most 2 (squared: 4); the untrained net's MSE is about
/// 1.2. An MSE of 10⁴ means predictions off by about 100: the weights have blown up.
pub const MAX_MSE: f64 = 1e4;

/// Steps the mini-batch MSE may stay above the bound before the run counts as diverged: a
/// ReLU RNN started at W_hh = I explodes in its first Adam steps at rate 0.01 (an MSE of 1e9 at
/// step 2) and comes back to the plateau within a few hundred steps.
pub const MAX_MSE_STEPS: usize = 1000;

/// Tells a divergence from a spike: the mini-batch MSE above the bound for
/// [`MAX_MSE_STEPS`] steps in a row, or still above it when the run ends.
#[derive(Default)]
struct Above {
    /// The first step of the current stretch above the bound.
    since: Option<usize>,
    /// The last MSE seen above the bound.
    last: f64,
}

impl Above {
    fn check(&mut self, step: usize, mse: f64) -> Result<()> {
        if mse <= MAX_MSE {
            self.since = None;
            return Ok(());
        }
        self.last = mse;
        let since = *self.since.get_or_insert(step);
        if step + 1 - since >= MAX_MSE_STEPS {
            return Err(self.diverged(since));
        }
        Ok(())
    }

    fn at_end(&self) -> Result<()> {
        match self.since {
            Some(since) => Err(self.diverged(since)),
            None => Ok(()),
        }
    }

    fn diverged(&self, since: usize) -> Error {
        Error::msg(format!(
            "training diverged at step {since}: the mini-batch MSE went beyond {MAX_MSE:e} on \
             targets in [0, 2) and stayed there ({:.3e} at the last step); try a smaller --lr",
            self.last
        ))
    }
}

/// Settings of a language-model training run.
#[derive(Clone, Debug)]
pub struct TextConfig {
    /// Layers L.
    pub layers: usize,
    /// Hidden units per layer H.
    pub hidden: usize,
    /// Characters per chunk T (truncated BPTT length).
    pub seq_len: usize,
    /// Streams B.
    pub batch: usize,
    /// Most training steps.
    pub steps: usize,
    /// Stop after this many seconds of training, if set ([`TrainClock`] time: CPU seconds on
    /// Linux, evaluation excluded).
    pub seconds: Option<f64>,
    /// Adam's learning rate.
    pub lr: f64,
    /// Largest global gradient norm.
    pub clip: f64,
    /// Validate every this many steps.
    pub eval_every: usize,
    /// Threads for each mini-batch: the B streams split into groups ([`LmParallel`]); 1 runs
    /// the single-threaded code.
    pub threads: usize,
}

/// One validation point.
#[derive(Clone, Copy, Debug)]
pub struct Eval {
    /// Steps done.
    pub step: usize,
    /// Training seconds so far ([`TrainClock`], evaluation excluded).
    pub seconds: f64,
    /// Wall-clock seconds of training so far (evaluation excluded).
    pub wall_seconds: f64,
    /// Mean training loss since the last evaluation (nats per character).
    pub train: f64,
    /// Validation loss (nats per character).
    pub valid: f64,
}

/// The clock of training budgets: this process's CPU time where Linux reports it
/// (`/proc/self/stat`, utime + stime in USER_HZ = 100 ticks per second), else wall-clock time.
/// On a machine shared with other jobs, CPU time keeps equal-time comparisons fair: a run does
/// not spend its budget waiting for a core.
#[derive(Clone, Copy, Debug)]
pub struct TrainClock {
    cpu: Option<f64>,
    wall: Instant,
}

impl TrainClock {
    /// Starts the clock.
    pub fn start() -> Self {
        TrainClock {
            cpu: cpu_seconds(),
            wall: Instant::now(),
        }
    }
    /// (budget seconds, wall seconds) since the start.
    pub fn elapsed(&self) -> (f64, f64) {
        let wall = self.wall.elapsed().as_secs_f64();
        match (self.cpu, cpu_seconds()) {
            (Some(a), Some(b)) => (b - a, wall),
            _ => (wall, wall),
        }
    }
}

/// utime + stime of this process in seconds, from `/proc/self/stat` (Linux only).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name in parentheses: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// A training run in progress (the engine in float type `F`): the model, Adam's state, the carried states of the B streams,
/// the steps done and the validation history; everything a checkpoint keeps, so that
/// `--resume` continues exactly where the checkpoint was written.
#[derive(Clone, Debug)]
pub struct Training<C: FastCell, F: Kernels> {
    /// The model being trained.
    pub model: FastLm<C, F>,
    /// Adam, with its moments.
    pub opt: F::Optimizer,
    /// The engine's buffers, whose initial states carry from chunk to chunk.
    pub cache: LmCache<C, F>,
    /// Steps done.
    pub step: usize,
    /// Every validation so far (after a resume, the earlier ones have zero seconds).
    pub history: Vec<Eval>,
    /// The training losses since the last validation: their sum and count (a run stopped
    /// between validations keeps them, so that its next point is the one of a run never
    /// stopped).
    pub since_eval: (f64, usize),
}

impl<C: FastCell, F: Kernels> Training<C, F> {
    /// A fresh run: the model drawn from `seed` (in f64, then rounded to `F`), zero states,
    /// step 0.
    pub fn new(cfg: &TextConfig, V: usize, seed: u64) -> Result<Self> {
        let model: CharLm<C> = CharLm::new(V, cfg.hidden, cfg.layers, &mut rng::stream(seed, 1));
        let model = FastLm::from_model(&model);
        let cache = model.fast_cache(cfg.seq_len, cfg.batch);
        Ok(Training {
            model,
            opt: F::Optimizer::create(Rule::adam(), cfg.lr)?,
            cache,
            step: 0,
            history: Vec::new(),
            since_eval: (0.0, 0),
        })
    }
}

/// Trains `session` on `train_ids` up to `cfg.steps` steps (or `cfg.seconds`), validating on
/// `valid_ids` every `cfg.eval_every` steps and at the end; `on_eval` is called at every
/// validation (to print and checkpoint) after it is added to `session.history`. A non-finite
/// or exploding ([`check_nats`]) training loss, or a non-finite validation loss, stops with
/// "training diverged at step N" before the model of that step reaches `on_eval`; `session`
/// keeps the history up to there for the curves.
pub fn train_text<C: FastCell, F: Kernels>(
    cfg: &TextConfig,
    session: &mut Training<C, F>,
    train_ids: &[usize],
    valid_ids: &[usize],
    progress: &Progress,
    on_eval: impl FnMut(&Training<C, F>, &Eval) -> Result<()>,
) -> Result<()> {
    let never = || false;
    train_text_until(cfg, session, train_ids, valid_ids, progress, never, on_eval)
}

/// [`train_text`] that also stops after the first step at which `stop()` is true (Ctrl-C):
/// `session` then holds everything a checkpoint needs to continue exactly.
pub fn train_text_until<C: FastCell, F: Kernels>(
    cfg: &TextConfig,
    session: &mut Training<C, F>,
    train_ids: &[usize],
    valid_ids: &[usize],
    progress: &Progress,
    stop: impl Fn() -> bool,
    mut on_eval: impl FnMut(&Training<C, F>, &Eval) -> Result<()>,
) -> Result<()> {
    let (T, B) = (cfg.seq_len, cfg.batch);
    let streams = Streams::new(train_ids.len(), T, B);
    if streams.chunks == 0 {
        return Err(Error::msg(format!(
            "the training text has {} characters: too few for --batch {B} streams of --seq-len {T}",
            train_ids.len()
        )));
    }
    if Streams::new(valid_ids.len(), T, B).chunks == 0 {
        return Err(Error::msg(format!(
            "the validation text has {} characters: too few for --batch {B} streams of --seq-len {T}",
            valid_ids.len()
        )));
    }
    let mut grads = session.model.zero_grads();
    let threads = shared::parallel::check_threads(cfg.threads)?;
    let mut parallel =
        (threads > 1).then(|| LmParallel::new(&session.model, &session.cache, threads));
    let (mut inputs, mut targets) = (vec![0; T * B], vec![0; T * B]);
    let (mut seconds, mut wall_seconds) = (0.0, 0.0);
    progress.inc(session.step as u64);
    while session.step < cfg.steps && cfg.seconds.is_none_or(|s| seconds < s) {
        let clock = TrainClock::start();
        let k = session.step % streams.chunks;
        if k == 0 {
            session.cache.rnn.reset(); // a new pass over the text starts from zero states
            (parallel.iter_mut()).for_each(|p| p.reset());
        }
        streams.chunk(train_ids, k, &mut inputs, &mut targets);
        grads.zero();
        let loss = match parallel.as_mut() {
            None => {
                (session.model).backward_fast(&inputs, &targets, &mut session.cache, &mut grads)
            }
            Some(p) => p.backward(&session.model, &inputs, &targets, &mut grads),
        };
        check_nats(
            session.step as u64 + 1,
            loss * (T * B) as f64,
            T * B,
            "characters",
        )?;
        session.cache.rnn.carry();
        (parallel.iter_mut()).for_each(|p| p.carry());
        let mut g = grads.list_mut();
        clip_global_norm(&mut g, cfg.clip);
        optimizer_step::<F>(&mut session.opt, session.model.params_mut(), g);
        session.step += 1;
        let (budget, wall) = clock.elapsed();
        (seconds, wall_seconds) = (seconds + budget, wall_seconds + wall);
        let (sum, count) = session.since_eval;
        session.since_eval = (sum + loss, count + 1);
        progress.inc(1);
        let last = session.step == cfg.steps || cfg.seconds.is_some_and(|s| seconds >= s);
        if session.step.is_multiple_of(cfg.eval_every) || last {
            // The updated model is judged before it may be checkpointed: a non-finite
            // validation loss is a divergence too (the training loss was of the model before).
            let valid = check_finite(session.step as u64, session.model.evaluate(valid_ids, T, B))?;
            let (sum, count) = std::mem::take(&mut session.since_eval);
            let train = sum / count as f64;
            progress.set_message(format!("train {train:.3} valid {valid:.3} nats/char"));
            let e = Eval {
                step: session.step,
                seconds,
                wall_seconds,
                train,
                valid,
            };
            session.history.push(e);
            if let Some(p) = &parallel {
                p.store_state(&mut session.cache); // the checkpoint keeps the streams' carried states
            }
            on_eval(session, &e)?;
        }
        if stop() {
            break;
        }
    }
    if let Some(p) = &parallel {
        p.store_state(&mut session.cache);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Above, MAX_MSE, MAX_MSE_STEPS};

    /// A spike above the bound that comes back within MAX_MSE_STEPS is not a divergence; a
    /// stretch of MAX_MSE_STEPS steps, or one still running at the end, is, named by its start.
    #[test]
    fn a_spike_is_not_a_divergence_a_lasting_explosion_is() {
        let mut a = Above::default();
        for step in 1..MAX_MSE_STEPS {
            a.check(step, 1e9).unwrap();
        }
        a.check(MAX_MSE_STEPS, 0.2).unwrap();
        a.at_end().unwrap();
        let mut a = Above::default();
        a.check(1, 0.2).unwrap();
        for step in 2..MAX_MSE_STEPS + 1 {
            a.check(step, 2.0 * MAX_MSE).unwrap();
        }
        let e = a.check(MAX_MSE_STEPS + 1, 2.0 * MAX_MSE).unwrap_err();
        assert!(e.to_string().contains("diverged at step 2:"), "{e}");
        let mut a = Above::default();
        a.check(7, 1e9).unwrap();
        let e = a.at_end().unwrap_err();
        assert!(e.to_string().contains("diverged at step 7:"), "{e}");
    }
}
