//! `model.safetensors`: the network, and everything `train --resume` needs to continue a run
//! exactly. `train` rewrites it at the end of every epoch through `shared::checkpoint` (a
//! temporary file, synced, then renamed), so a run killed at any moment leaves the previous
//! epoch's checkpoint whole.
//!
//! Tensors (F64, row-major): `W1 b1 W2 b2 W3 b3` (as [`save_net`] writes them, so
//! [`load_net`] reads a checkpoint), `adam.m.W1 … adam.m.b3` and `adam.v.W1 …
//! adam.v.b3` (Adam's first and second moments), `W1_start` (the initial filters, for
//! `filters.png`), `curve.loss` (S × 2: step, loss), `curve.accuracy` (E × 3: epoch, train,
//! test). Metadata: the network's sizes, `epoch` (epochs done), `adam_t` (Adam's step count),
//! `rng_word_pos` (the position of the mini-batch generator, `shared::rng::stream(seed, 2)`,
//! so the next epoch draws the same batches as an uninterrupted run), and the flags a resumed
//! run must repeat ([`Spec`]), the data named by its description and a fingerprint of its
//! pixels and labels.

#![allow(non_snake_case)]

use crate::data::Split;
use crate::fast::{FastConvNet, Parallel};
use crate::model::{Config, NAMES};
use crate::train::{Curves, EpochReport, Sampling, accuracy, train_and_test};
use nalgebra::DMatrix;
use shared::checkpoint::{self, Checkpoint};
use shared::optim::{Optimizer, Rule, State};
use shared::rng::{self, Rng};
use shared::{Error, Result};
use std::path::{Path, PathBuf};

/// The checkpoint's file name inside a run folder.
pub const FILE: &str = "model.safetensors";
/// The chapter name recorded in checkpoints.
pub const CHAPTER: &str = "conv-im2col";
/// The random stream (of `--seed`) the mini-batches are drawn from.
const BATCH_STREAM: u64 = 2;

/// The flags a resumed run must share with the run it continues (the network's sizes are
/// checked apart, through [`Config`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// `--seed`.
    pub seed: u64,
    /// The split's description (e.g. "generated digits images 0..8000 to train, …").
    pub data: String,
    /// [`fingerprint`] of the split.
    pub fingerprint: String,
    /// Training examples (after the split).
    pub train_examples: usize,
    /// `--batch`.
    pub batch: usize,
    /// `--lr`.
    pub lr: f64,
    /// `--init`, `--adam`, `--sampling`, as their names.
    pub init: String,
    /// See `init`.
    pub adam: String,
    /// See `init`.
    pub sampling: String,
}

impl Spec {
    /// The spec of a run on `split` with these flags (`names`: `--init`, `--adam`,
    /// `--sampling` as they are written in summary.json).
    pub fn new(split: &Split, seed: u64, batch: usize, lr: f64, names: [String; 3]) -> Self {
        let [init, adam, sampling] = names;
        Spec {
            seed,
            data: split.description.clone(),
            fingerprint: fingerprint(split),
            train_examples: split.train.len(),
            batch,
            lr,
            init,
            adam,
            sampling,
        }
    }

    /// (flag, metadata key, value), in the order they are checked.
    fn entries(&self) -> [(&'static str, &'static str, String); 9] {
        [
            ("--seed", "seed", self.seed.to_string()),
            (
                "--mnist/--digits/--train-size/--test-size",
                "data",
                self.data.clone(),
            ),
            (
                "--mnist/--digits/--train-size/--test-size",
                "data_fingerprint",
                self.fingerprint.clone(),
            ),
            (
                "--train-size",
                "train_examples",
                self.train_examples.to_string(),
            ),
            ("--batch", "batch", self.batch.to_string()),
            // Rust's shortest round-trip formatting: the same bits give the same text.
            ("--lr", "lr", self.lr.to_string()),
            ("--init", "init", self.init.clone()),
            ("--adam", "adam", self.adam.clone()),
            ("--sampling", "sampling", self.sampling.clone()),
        ]
    }
}

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

/// A FastConvNet training run between epochs: all that decides what comes next.
#[derive(Clone, Debug)]
pub struct Session {
    /// The network.
    pub net: FastConvNet,
    /// Adam, with its moments and step count.
    pub opt: Optimizer,
    /// The mini-batch generator (stream 2 of the seed), where the next epoch starts drawing.
    pub rng: Rng,
    /// Epochs done.
    pub epoch: u64,
    /// The loss of every step and the accuracies of every epoch so far (no baseline yet).
    pub curves: Curves,
    /// W1 before training, FN × (C·FH·FW).
    pub W1_start: DMatrix<f64>,
    /// The replicas and buffers of `--threads N` for N > 1 (not in the checkpoint: a
    /// resumed run may use another N, see [`crate::fast::parallel`]).
    par: Option<Parallel>,
}

impl Session {
    /// A new run of `net` (just initialised) with Adam `rule` at rate `lr`.
    pub fn new(net: FastConvNet, rule: Rule, lr: f64, seed: u64) -> Self {
        Session {
            W1_start: net.conv1.W.clone(),
            net,
            opt: Optimizer::new(rule, lr),
            rng: rng::stream(seed, BATCH_STREAM),
            epoch: 0,
            curves: Curves::default(),
            par: None,
        }
    }

    /// The session on `threads` threads (1 to [`crate::fast::parallel::MAX_THREADS`]): each
    /// mini-batch split into that many groups ([`crate::fast::parallel`]); 1 is the single-threaded
    /// code. The replicas and their buffers are made here, once.
    pub fn with_threads(mut self, threads: usize) -> Result<Self> {
        let par = Parallel::new(&self.net, threads)?;
        self.par = (threads > 1).then_some(par);
        Ok(self)
    }

    /// N of `--threads N`.
    pub fn threads(&self) -> usize {
        self.par.as_ref().map_or(1, Parallel::threads)
    }

    /// A new run (`resume` = `None`), or the checkpoint `resume` (a run folder or its
    /// `model.safetensors`) checked against this run's `spec`, network `config` and `epochs`
    /// ([`Session::resume`]).
    pub fn start(
        resume: Option<&Path>,
        net: FastConvNet,
        rule: Rule,
        spec: &Spec,
        epochs: u64,
    ) -> Result<Self> {
        match resume {
            None => Ok(Session::new(net, rule, spec.lr, spec.seed)),
            Some(path) => Session::resume(path, rule, spec, &net.config, epochs),
        }
    }

    /// One more epoch: trains, tests, and adds the epoch to the curves. Returns the epoch's
    /// report and the accuracy on the training set. A non-finite loss is an error (the curves
    /// keep the steps before it).
    pub fn run_epoch(
        &mut self,
        split: &Split,
        batch: usize,
        sampling: Sampling,
        mut on_step: impl FnMut(u64, f64),
    ) -> Result<(EpochReport, f64)> {
        let mut step = self.opt.state().t;
        let loss = &mut self.curves.loss;
        let on_step = |s, l| {
            loss.push(s as f64, l);
            on_step(s, l);
        };
        let (net, opt, rng, epoch) = (&mut self.net, &mut self.opt, &mut self.rng, self.epoch + 1);
        let train = &split.train;
        let (r, tr) = match &mut self.par {
            None => {
                let r = train_and_test(
                    net, opt, split, epoch, batch, sampling, &mut step, rng, on_step,
                )?;
                (r, accuracy(net, &train.images, &train.labels, 500))
            }
            Some(par) => {
                let mut m = par.on(net);
                let r = train_and_test(
                    &mut m, opt, split, epoch, batch, sampling, &mut step, rng, on_step,
                )?;
                (r, accuracy(&mut m, &train.images, &train.labels, 500))
            }
        };
        self.curves.train.push(r.epoch as f64, tr);
        self.curves.test.push(r.epoch as f64, r.test_accuracy);
        self.epoch = r.epoch;
        Ok((r, tr))
    }

    /// Writes the checkpoint (atomically) to `path`. Weights that are no longer finite are
    /// an error and leave the file at `path` as it was (the last good checkpoint).
    pub fn save(&self, path: &Path, spec: &Spec) -> Result<()> {
        if self
            .net
            .params()
            .iter()
            .any(|p| p.iter().any(|v| !v.is_finite()))
        {
            return Err(Error::msg(format!(
                "training diverged in epoch {}: the weights are no longer finite (try a smaller \
                 --lr); {} was left as it was",
                self.epoch,
                path.display()
            )));
        }
        let st = self.opt.state();
        let moments: Vec<(String, &DMatrix<f64>)> = NAMES
            .iter()
            .zip(&st.v)
            .map(|(n, m)| (format!("adam.m.{n}"), m))
            .chain(
                NAMES
                    .iter()
                    .zip(&st.s)
                    .map(|(n, v)| (format!("adam.v.{n}"), v)),
            )
            .collect();
        let points = |p: &[(f64, f64)]| {
            DMatrix::from_row_iterator(p.len(), 2, p.iter().flat_map(|&(x, y)| [x, y]))
        };
        let c = &self.curves;
        let loss = points(&c.loss.points); // S × 2: step, loss
        let acc = DMatrix::from_row_iterator(
            c.test.points.len(),
            3,
            c.train
                .points
                .iter()
                .zip(&c.test.points)
                .flat_map(|(&(e, tr), &(_, te))| [e, tr, te]),
        ); // E × 3: epoch, train accuracy, test accuracy
        let mut tensors: Vec<(&str, &DMatrix<f64>)> =
            NAMES.iter().copied().zip(self.net.params()).collect();
        tensors.extend(moments.iter().map(|(n, m)| (n.as_str(), *m)));
        tensors.extend([
            ("W1_start", &self.W1_start),
            ("curve.loss", &loss),
            ("curve.accuracy", &acc),
        ]);
        let mut meta = metadata(&self.net.config);
        meta.extend(spec.entries().into_iter().map(|(_, k, v)| (k, v)));
        meta.extend([
            ("epoch", self.epoch.to_string()),
            ("adam_t", st.t.to_string()),
            ("rng_word_pos", self.rng.get_word_pos().to_string()),
        ]);
        checkpoint::save(path, CHAPTER, &tensors, &meta)
    }

    /// The checkpoint at `path` (a run folder, or the file itself), if it continues this run:
    /// the same [`Spec`] (seed, data, batch, lr, init, Adam, sampling), the same network
    /// `config` (so the same `--filter-size`), fewer than `epochs` epochs done, and whole
    /// (another chapter, other sizes, a corrupted file or inconsistent counts are errors).
    pub fn resume(
        path: &Path,
        rule: Rule,
        spec: &Spec,
        config: &Config,
        epochs: u64,
    ) -> Result<Self> {
        let file = file_in(path)?;
        let mut ck = checkpoint::load(&file, CHAPTER)?;
        for (flag, key, ours) in spec.entries() {
            let theirs = ck.meta_str(key)?;
            if theirs != ours {
                let what = if key == "data_fingerprint" {
                    "data with fingerprint "
                } else {
                    ""
                };
                return Err(Error::flag(
                    flag,
                    format!(
                        "this run has {what}{ours}, but the checkpoint {} has {theirs}",
                        file.display()
                    ),
                ));
            }
        }
        let net = net_from_checkpoint(&mut ck)?;
        if net.config != *config {
            let (theirs, ours) = (net.config, config);
            let (flag, msg) = if theirs.filter_size != ours.filter_size {
                ("--filter-size", ours.filter_size.to_string())
            } else {
                ("--resume", format!("this run's network is {}", sizes(ours)))
            };
            return Err(Error::flag(
                flag,
                format!(
                    "{msg}, but the checkpoint {} has {}",
                    file.display(),
                    sizes(&theirs)
                ),
            ));
        }
        let bad = |what: String| Error::format(&file, "safetensors", what);
        let epoch: u64 = ck.meta("epoch")?;
        let t: u64 = ck.meta("adam_t")?;
        let per_epoch = spec.train_examples.div_ceil(spec.batch.max(1)) as u64;
        if epoch == 0 || Some(t) != epoch.checked_mul(per_epoch) {
            return Err(bad(format!(
                "`epoch` = {epoch} and `adam_t` = {t} do not fit {per_epoch} steps per epoch"
            )));
        }
        if epoch >= epochs {
            return Err(Error::flag(
                "--epochs",
                format!(
                    "{epochs}, but the checkpoint {} has already done {epoch} epochs: ask for more",
                    file.display()
                ),
            ));
        }
        let shapes: Vec<(usize, usize)> = net.params().iter().map(|p| p.shape()).collect();
        let moment = |kind: &str, ck: &mut Checkpoint| -> Result<Vec<DMatrix<f64>>> {
            NAMES
                .iter()
                .zip(&shapes)
                .map(|(n, &(r, c))| ck.take(&format!("adam.{kind}.{n}"), r, c))
                .collect()
        };
        let v = moment("m", &mut ck)?;
        let s = moment("v", &mut ck)?;
        let mut opt = Optimizer::new(rule, spec.lr);
        opt.set_state(State { t, v, s });
        let mut rng = rng::stream(spec.seed, BATCH_STREAM);
        rng.set_word_pos(ck.meta("rng_word_pos")?);
        let W1_start = ck.take("W1_start", shapes[0].0, shapes[0].1)?;
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
        Ok(Session {
            net,
            opt,
            rng,
            epoch,
            curves,
            W1_start,
            par: None,
        })
    }
}

/// "1×28×28 images, 30 filters 5×5 (stride 1, pad 0), pool 2, 100 hidden, 10 classes".
fn sizes(c: &Config) -> String {
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

/// `path/model.safetensors` if `path` is a folder, else `path`; an error naming `--resume` if
/// neither exists.
pub fn file_in(path: &Path) -> Result<PathBuf> {
    let file = if path.is_dir() {
        path.join(FILE)
    } else {
        path.to_path_buf()
    };
    if !file.is_file() {
        return Err(Error::flag(
            "--resume",
            format!(
                "{} does not exist (expected a run folder or its {FILE})",
                file.display()
            ),
        ));
    }
    Ok(file)
}

/// The network's sizes as checkpoint metadata.
pub fn metadata(c: &Config) -> Vec<(&'static str, String)> {
    vec![
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
    ]
}

/// Saves the network's weights (row-major F64, as `shared::checkpoint` stores them) and sizes.
/// W1 is FN × (C·FH·FW): reshaped row-major to (FN, C, FH, FW) it is Saito's `W1`; W2 and
/// W3 are the transposes of Saito's (we compute W·X, he computes x·W), and W2's columns
/// are in (py, px, f) order (channels last) where Saito's rows are in (f, py, px) order.
pub fn save_net(net: &FastConvNet, path: impl AsRef<Path>) -> Result<()> {
    let tensors: Vec<(&str, &DMatrix<f64>)> = NAMES.into_iter().zip(net.params()).collect();
    checkpoint::save(path, CHAPTER, &tensors, &metadata(&net.config))
}

/// Loads a network saved by [`save_net`] (or a training checkpoint, which holds the same
/// tensors and sizes).
pub fn load_net(path: impl AsRef<Path>) -> Result<FastConvNet> {
    net_from_checkpoint(&mut checkpoint::load(path, CHAPTER)?)
}

/// Takes the sizes and W1 … b3 out of a loaded checkpoint, checking every shape.
pub fn net_from_checkpoint(ck: &mut Checkpoint) -> Result<FastConvNet> {
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
        ck.take("W1", FN, cg.taps())?,
        ck.take("b1", FN, 1)?,
        ck.take("W2", H, FN * pg.windows())?,
        ck.take("b2", H, 1)?,
        ck.take("W3", K, H)?,
        ck.take("b3", K, 1)?,
    ];
    Ok(FastConvNet::from_weights(config, weights))
}
