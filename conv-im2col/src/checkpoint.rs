//! What a run keeps in `model.safetensors` and reads back (`shared::session` writes it,
//! atomically, after every epoch and when Ctrl-C stops the run, with the program version and
//! the run's flags).
//!
//! Tensors (F64, row-major): `W1 b1 W2 b2 W3 b3` (all that `eval` needs, with the sizes in the
//! metadata: [`net_from_checkpoint`]), `adam.m.W1 … adam.m.b3` and `adam.v.W1 … adam.v.b3`
//! (Adam's first and second moments), `W1_start` (the initial filters, for `filters.png`),
//! `curve.loss` (S × 2: step, loss), `curve.accuracy` (E × 3: epoch, train, test). Metadata:
//! the network's sizes, `epoch` (epochs done), `adam_t` (steps done, Adam's step count),
//! `rng_word_pos` (the mini-batch generator, `shared::rng::stream(seed, 2)`, where the epoch
//! under way drew its order), the data's description and a fingerprint of its pixels and
//! labels. A run stopped within an epoch continues with that epoch's order after its first
//! `adam_t − epoch·⌈n / batch⌉` mini-batches, so it ends with the bytes of a run never stopped.
//!
//! A `--dtype f32` run records `dtype` = `f32` in the metadata and stores its weights and
//! moments as F32 tensors, so `eval` and `--resume` read back the very same f32 numbers; a
//! checkpoint without `dtype` is f64.

#![allow(non_snake_case)]

use crate::data::Split;
use crate::fast::{FastConvNet, Float, Optimize, Parallel, narrow, widen};
use crate::model::{Config, NAMES};
use crate::train::{Curves, Epoch, EpochReport, Sampling, accuracy};
use nalgebra::DMatrix;
use shared::checkpoint::{self, Checkpoint};
use shared::cli::Dtype;
use shared::optim::Rule;
use shared::rng::{self, Rng};
use shared::session::{Checkpointed, Tensors};
use shared::{Error, Result};
use std::path::Path;
use std::time::Instant;

/// The chapter name recorded in checkpoints.
pub const CHAPTER: &str = "conv-im2col";
/// The random stream (of `--seed`) the mini-batches are drawn from.
const BATCH_STREAM: u64 = 2;

/// `fnv1a64:<hex>` of the split's pixels (their f64 bits) and labels, train then test: a
/// resumed run must train on the very same numbers.
pub fn fingerprint(split: &Split) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |word: u64| {
        h ^= word;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    };
    for set in [&split.train, &split.test] {
        eat(set.images.nrows() as u64);
        eat(set.images.ncols() as u64);
        set.images.iter().for_each(|v| eat(v.to_bits()));
        set.labels.iter().for_each(|&l| eat(l as u64));
    }
    format!("fnv1a64:{h:016x}")
}

/// A SimpleConvNet training run between two steps: all that decides what comes next.
#[derive(Clone, Debug)]
pub struct State<T: Float = f64> {
    /// The network.
    pub net: FastConvNet<T>,
    /// Adam, with its moments and step count (the steps done).
    pub opt: T::Optimizer,
    /// The mini-batch generator (stream 2 of the seed) where the epoch under way (or the next)
    /// draws its order.
    pub rng: Rng,
    /// Epochs done.
    pub epoch: u64,
    /// The loss of every step and the accuracies of every epoch so far (no baseline yet).
    pub curves: Curves,
    /// W1 before training, FN × (C·FH·FW).
    pub W1_start: DMatrix<T>,
    /// The split's description and [`fingerprint`].
    data: (String, String),
    /// The replicas and buffers of `--threads N` for N > 1 (not in the checkpoint).
    par: Option<Parallel<T>>,
}

impl<T: Float> State<T> {
    /// A new run of `net` (just initialised) on `split` with Adam `rule` at rate `lr` (an
    /// error for a rule the f32 optimizer does not have).
    pub fn new(net: FastConvNet<T>, rule: Rule, lr: f64, seed: u64, split: &Split) -> Result<Self> {
        Ok(State {
            W1_start: net.conv1.W.clone(),
            net,
            opt: T::Optimizer::create(rule, lr)?,
            rng: rng::stream(seed, BATCH_STREAM),
            epoch: 0,
            curves: Curves::default(),
            data: (split.description.clone(), fingerprint(split)),
            par: None,
        })
    }

    /// The run on `threads` threads (1 to [`crate::fast::parallel::MAX_THREADS`]): each
    /// mini-batch split into that many groups ([`crate::fast::parallel`]); 1 is the
    /// single-threaded code. The replicas and their buffers are made here, once.
    pub fn with_threads(mut self, threads: usize) -> Result<Self> {
        let par = Parallel::new(&self.net, threads)?;
        self.par = (threads > 1).then_some(par);
        Ok(self)
    }

    /// N of `--threads N`.
    pub fn threads(&self) -> usize {
        self.par.as_ref().map_or(1, Parallel::threads)
    }

    /// Steps done.
    pub fn steps(&self) -> u64 {
        self.opt.steps()
    }

    /// The epoch under way (or the next): its order drawn from the generator as it stood at
    /// the epoch's start, the mini-batches already done skipped (their losses are the last
    /// ones of the curve). Returns the epoch and the generator after the draw.
    fn epoch_under_way(
        &self,
        split: &Split,
        batch: usize,
        sampling: Sampling,
    ) -> Result<(Epoch<T>, Rng)> {
        let mut rng = self.rng.clone();
        let mut ep = Epoch::draw(split.train.len(), batch, sampling, &mut rng)?;
        let done = (self.steps() - self.epoch * ep.len() as u64) as usize;
        let losses = &self.curves.loss.points[self.curves.loss.points.len() - done..];
        ep.skip(&losses.iter().map(|p| p.1).collect::<Vec<_>>());
        Ok((ep, rng))
    }

    /// Trains on until the epoch under way is over, then tests, and adds the epoch to the
    /// curves: returns the epoch's report and the accuracy on the training set. After each
    /// step `on_step(step, loss)`; when it returns true the run stops there and this returns
    /// `None` (the state can then be saved and continued). A diverged training is an error
    /// (the curves keep the steps before it).
    pub fn run_epoch(
        &mut self,
        split: &Split,
        batch: usize,
        sampling: Sampling,
        mut on_step: impl FnMut(u64, f64) -> bool,
    ) -> Result<Option<(EpochReport, f64)>> {
        let (mut ep, rng_after) = self.epoch_under_way(split, batch, sampling)?;
        let t0 = Instant::now();
        let (train, test) = (&split.train, &split.test);
        while !ep.is_over() {
            let mut step = self.steps();
            let loss = match &mut self.par {
                None => ep.step(
                    &mut self.net,
                    &mut self.opt,
                    &train.images,
                    &train.labels,
                    &mut step,
                ),
                Some(par) => ep.step(
                    &mut par.on(&mut self.net),
                    &mut self.opt,
                    &train.images,
                    &train.labels,
                    &mut step,
                ),
            }?;
            self.curves.loss.push(step as f64, loss);
            if on_step(step, loss) && !ep.is_over() {
                return Ok(None);
            }
        }
        let seconds = t0.elapsed().as_secs_f64();
        let (test_accuracy, train_accuracy) = match &mut self.par {
            None => (
                accuracy(&mut self.net, &test.images, &test.labels, 500),
                accuracy(&mut self.net, &train.images, &train.labels, 500),
            ),
            Some(par) => {
                let mut m = par.on(&mut self.net);
                (
                    accuracy(&mut m, &test.images, &test.labels, 500),
                    accuracy(&mut m, &train.images, &train.labels, 500),
                )
            }
        };
        self.epoch += 1;
        self.rng = rng_after;
        let e = self.epoch as f64;
        self.curves.train.push(e, train_accuracy);
        self.curves.test.push(e, test_accuracy);
        let report = EpochReport {
            epoch: self.epoch,
            mean_loss: ep.mean_loss(),
            test_accuracy,
            seconds,
        };
        Ok(Some((report, train_accuracy)))
    }
}

/// What a checkpoint is checked against when a run resumes: the data (loaded again from the
/// stored flags) and what the flags make of it.
pub struct Resume<'a> {
    /// The split.
    pub split: &'a Split,
    /// The network's sizes from the flags and the images.
    pub config: Config,
    /// `--batch`.
    pub batch: usize,
    /// `--adam` and `--lr`.
    pub rule: Rule,
    /// See `rule`.
    pub lr: f64,
    /// `--seed`.
    pub seed: u64,
}

impl<T: Float> Checkpointed for State<T> {
    type Context<'a> = Resume<'a>;

    fn save(&self, out: &mut Tensors) {
        for (name, p) in NAMES.iter().zip(self.net.params()) {
            out.matrix(*name, p);
        }
        let (v, s) = self.opt.moments();
        for (kind, moments) in [("m", &v), ("v", &s)] {
            for (name, m) in NAMES.iter().zip(moments) {
                out.matrix(format!("adam.{kind}.{name}"), &narrow::<T>(m)); // exact
            }
        }
        out.matrix("W1_start", &self.W1_start);
        let c = &self.curves;
        let loss = &c.loss.points; // S × 2: step, loss
        out.matrix(
            "curve.loss",
            &DMatrix::from_fn(loss.len(), 2, |i, j| [loss[i].0, loss[i].1][j]),
        );
        let (tr, te) = (&c.train.points, &c.test.points); // E × 3: epoch, train, test
        out.matrix(
            "curve.accuracy",
            &DMatrix::from_fn(te.len(), 3, |i, j| [tr[i].0, tr[i].1, te[i].1][j]),
        );
        for (key, value) in metadata::<T>(&self.net.config) {
            out.meta(key, value);
        }
        out.meta("data", &self.data.0);
        out.meta("data_fingerprint", &self.data.1);
        out.meta("epoch", self.epoch);
        out.meta("adam_t", self.opt.steps());
        out.meta("rng_word_pos", self.rng.get_word_pos());
    }

    fn load(ck: &mut Checkpoint, cx: Resume<'_>) -> Result<State<T>> {
        let data = (cx.split.description.clone(), fingerprint(cx.split));
        let stored = ck.meta_str("data_fingerprint")?;
        if stored != data.1 {
            return Err(Error::format(
                &ck.path,
                "metadata `data_fingerprint`",
                format!(
                    "the run was trained on {} (fingerprint {stored}), not on these images ({}, \
                     {}); resume it with the data it was trained on",
                    ck.meta_str("data")?,
                    data.0,
                    data.1
                ),
            ));
        }
        let net = net_from_checkpoint::<T>(ck)?;
        if net.config != cx.config {
            return Err(Error::format(
                &ck.path,
                "metadata",
                format!(
                    "the network is {}, but its flags and data make {}",
                    sizes(&net.config),
                    sizes(&cx.config)
                ),
            ));
        }
        let path = ck.path.clone();
        let bad = |what: String| Error::format(&path, "safetensors", what);
        let epoch: u64 = ck.meta("epoch")?;
        let t: u64 = ck.meta("adam_t")?;
        let per_epoch = cx.split.train.len().div_ceil(cx.batch.max(1)) as u64;
        let first = epoch.checked_mul(per_epoch);
        if t == 0 || first.is_none_or(|f| t < f || t - f >= per_epoch) {
            return Err(bad(format!(
                "`epoch` = {epoch} and `adam_t` = {t} do not fit {per_epoch} steps per epoch"
            )));
        }
        let shapes: Vec<(usize, usize)> = net.params().iter().map(|p| p.shape()).collect();
        let mut moment = |kind: &str| -> Result<Vec<DMatrix<f64>>> {
            NAMES
                .iter()
                .zip(&shapes)
                .map(|(n, &(r, c))| ck.take(&format!("adam.{kind}.{n}"), r, c))
                .collect()
        };
        let (v, s) = (moment("m")?, moment("v")?);
        let opt = T::Optimizer::restore(cx.rule, cx.lr, t, v, s)?;
        let mut rng = rng::stream(cx.seed, BATCH_STREAM);
        rng.set_word_pos(ck.meta("rng_word_pos")?);
        let W1_start = narrow(&ck.take("W1_start", shapes[0].0, shapes[0].1)?);
        let loss = ck.take("curve.loss", t as usize, 2)?;
        let acc = ck.take("curve.accuracy", epoch as usize, 3)?;
        let counts = |m: &DMatrix<f64>| {
            m.column(0)
                .iter()
                .enumerate()
                .all(|(i, &x)| x == (i + 1) as f64)
        };
        if !counts(&loss) || !counts(&acc) {
            return Err(bad(
                "`curve.loss` / `curve.accuracy` do not count steps / epochs 1, 2, …".into(),
            ));
        }
        let mut curves = Curves::default();
        loss.row_iter().for_each(|r| curves.loss.push(r[0], r[1]));
        for r in acc.row_iter() {
            curves.train.push(r[0], r[1]);
            curves.test.push(r[0], r[2]);
        }
        Ok(State {
            net,
            opt,
            rng,
            epoch,
            curves,
            W1_start,
            data,
            par: None,
        })
    }
}

/// "1×28×28 images, 30 filters 5×5 (stride 1, pad 0), pool 2, 100 hidden, 10 classes".
pub fn sizes(c: &Config) -> String {
    format!(
        "{}×{}×{} images, {} filters {f}×{f} (stride {}, pad {}), pool {}, {} hidden, {} classes",
        c.channels,
        c.height,
        c.width,
        c.filters,
        c.stride,
        c.pad,
        c.pool,
        c.hidden,
        c.classes,
        f = c.filter_size
    )
}

/// The network's sizes as checkpoint metadata.
pub fn metadata<T: Float>(c: &Config) -> Vec<(&'static str, String)> {
    let mut meta = vec![
        ("channels", c.channels.to_string()),
        ("height", c.height.to_string()),
        ("width", c.width.to_string()),
        ("filters", c.filters.to_string()),
        ("filter_size", c.filter_size.to_string()),
        ("stride", c.stride.to_string()),
        ("pad", c.pad.to_string()),
        ("pool", c.pool.to_string()),
        ("hidden", c.hidden.to_string()),
        ("classes", c.classes.to_string()),
    ];
    if T::DTYPE != Dtype::F64 {
        meta.push((checkpoint::DTYPE_KEY, T::DTYPE.to_string())); // f64 runs write what they always wrote
    }
    meta
}

/// Saves the network's weights (row-major F64, as `shared::checkpoint` stores them) and sizes.
/// W1 is FN × (C·FH·FW): reshaped row-major to (FN, C, FH, FW) it is Saito's `W1`; W2 and
/// W3 are the transposes of Saito's (we compute W·X, he computes x·W), and W2's columns
/// are in (py, px, f) order (channels last) where Saito's rows are in (f, py, px) order.
pub fn save_net<T: Float>(net: &FastConvNet<T>, path: impl AsRef<Path>) -> Result<()> {
    let wide = net.params().map(widen);
    let tensors: Vec<(&str, &DMatrix<f64>, Dtype)> = NAMES
        .into_iter()
        .zip(&wide)
        .map(|(n, m)| (n, m, T::DTYPE))
        .collect();
    checkpoint::save_typed(path, CHAPTER, &tensors, &metadata::<T>(&net.config))
}

/// Loads a network saved by [`save_net`] (or a training checkpoint, which holds the same
/// tensors and sizes).
pub fn load_net<T: Float>(path: impl AsRef<Path>) -> Result<FastConvNet<T>> {
    net_from_checkpoint(&mut checkpoint::load(path, CHAPTER)?)
}

/// Takes the sizes and W1 … b3 out of a loaded checkpoint, checking every shape and that it
/// was trained in `T` (`Checkpoint::expect_dtype`).
pub fn net_from_checkpoint<T: Float>(ck: &mut Checkpoint) -> Result<FastConvNet<T>> {
    ck.expect_dtype::<T>()?;
    let config = Config {
        channels: ck.meta("channels")?,
        height: ck.meta("height")?,
        width: ck.meta("width")?,
        filters: ck.meta("filters")?,
        filter_size: ck.meta("filter_size")?,
        stride: ck.meta("stride")?,
        pad: ck.meta("pad")?,
        pool: ck.meta("pool")?,
        hidden: ck.meta("hidden")?,
        classes: ck.meta("classes")?,
    };
    let (cg, pg) = (config.conv_geometry()?, config.pool_geometry()?);
    let (FN, H, K) = (config.filters, config.hidden, config.classes);
    let weights = [
        narrow(&ck.take("W1", FN, cg.taps())?),
        narrow(&ck.take("b1", FN, 1)?),
        narrow(&ck.take("W2", H, FN * pg.windows())?),
        narrow(&ck.take("b2", H, 1)?),
        narrow(&ck.take("W3", K, H)?),
        narrow(&ck.take("b3", K, 1)?),
    ];
    Ok(FastConvNet::from_weights(config, weights))
}
