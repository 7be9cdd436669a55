//! `model.safetensors`: the model, its vocabulary and everything a resumed run needs, as the
//! run session's [`Checkpointed`] state (the session writes the file atomically, with the
//! program version and the run's flags, after every epoch and at Ctrl-C).
//!
//! Tensors (F64, row-major): `W0, W1, b1, W2, b2` (all that `nearest` / `predict` /
//! `distance` / `eval` read), the momentum velocities `delta.W0 … delta.b2`, the curves so far
//! (`curve.train`, `curve.valid`: n × 2, epoch and CE). Metadata: the sizes, the vocabulary (a
//! JSON list of its words, in id order), the epochs done and the position inside the next one
//! (batches done and the sums of train.m's averages, all 0 at an epoch's end), the steps, and
//! the data's description and fingerprint (of the train / validation / test 4-grams). The next
//! batch needs nothing more: every epoch visits the training 4-grams in the same fixed order
//! (train.m's), a function of the data alone.
//!
//! A `train --dtype f32` run stores its parameters and velocities as F32 tensors and records
//! `dtype` = `f32` (f64 runs write no `dtype`: their files are as before). `eval` runs such a
//! model in f32; `nearest`, `predict` and `distance` read its weights widened to f64 (exact).

use crate::CHAPTER;
use crate::data::Dataset;
use crate::model::{CONTEXT, Gram, Model};
use crate::train::{Curves, EpochPos, Hyper, Trainer, momentum};
use nalgebra::DMatrix;
use shared::checkpoint::{self, Checkpoint};
use shared::cli::Dtype;
use shared::data::text::Vocab;
use shared::kernels::{Float, narrow};
use shared::optim::Optimize;
use shared::session::{Checkpointed, Tensors};
use shared::{Error, Result};
use std::path::Path;

/// The velocities' tensor names, in the order of the parameters W0, W1, b1, W2, b2 (the
/// optimizer's parameter numbers in [`Model::update`]).
const DELTAS: [&str; 5] = ["delta.W0", "delta.W1", "delta.b1", "delta.W2", "delta.b2"];

/// A training run in float type `F`: trainer, curves, where it is, and the data it learns (its
/// vocabulary and fingerprint go into the checkpoint; a resume checks them against the data it
/// is given).
pub struct State<'d, F: Float = f64> {
    /// Model, velocities and step count.
    pub trainer: Trainer<F>,
    /// The curves so far.
    pub curves: Curves,
    /// Epochs done.
    pub epoch: usize,
    /// Where the run is inside epoch `epoch + 1`.
    pub pos: EpochPos,
    /// The 4-grams and the vocabulary.
    pub data: &'d Dataset,
    /// [`fingerprint`] of `data`.
    pub data_hash: String,
}

impl<'d, F: Float> State<'d, F> {
    /// A new run on `data`: weights from stream 1 of `seed`, no epoch done.
    pub fn new(data: &'d Dataset, hyper: &Hyper, seed: u64) -> Result<Self> {
        let rng = &mut shared::rng::stream(seed, 1);
        Ok(State {
            trainer: Trainer::new(data.vocab.len(), hyper, rng)?,
            curves: Curves::new(data.entropy_floor),
            epoch: 0,
            pos: EpochPos::default(),
            data,
            data_hash: fingerprint(data),
        })
    }
}

/// A fingerprint of the train, validation and test 4-grams, in order.
pub fn fingerprint(data: &Dataset) -> String {
    let bytes = |set: &[Gram]| -> Vec<u8> {
        set.iter()
            .flatten()
            .flat_map(|&w| (w as u64).to_le_bytes())
            .collect()
    };
    let (train, valid, test) = (bytes(&data.train), bytes(&data.valid), bytes(&data.test));
    checkpoint::checksum([
        ("train", train.as_slice()),
        ("valid", valid.as_slice()),
        ("test", test.as_slice()),
    ])
}

/// What loading a training state needs: the data to continue on and the run's flags.
pub struct Resume<'d> {
    /// The data (checked against the checkpoint's vocabulary and fingerprint).
    pub data: &'d Dataset,
    /// The hyperparameters (the session has already checked them against the stored flags).
    pub hyper: Hyper,
}

impl<'d, F: Float> Checkpointed for State<'d, F> {
    type Context<'a> = Resume<'d>;

    fn save(&self, out: &mut Tensors) {
        let m = &self.trainer.model;
        for (name, p) in PARAMS.iter().zip(m.params()) {
            out.matrix(*name, p);
        }
        // n × 2: the epoch (fractional) and the CE of each point.
        for (name, s) in [
            ("curve.train", &self.curves.train),
            ("curve.valid", &self.curves.valid),
        ] {
            let xy = s.points.iter().flat_map(|&(x, y)| [x, y]);
            out.matrix(name, &DMatrix::from_row_iterator(s.points.len(), 2, xy));
        }
        // The velocities, in F (they are F values, so narrowing is exact).
        for (name, v) in DELTAS.iter().zip(&self.trainer.opt.moments().0) {
            out.matrix(*name, &narrow::<F>(v));
        }
        // Floats in Rust's shortest round-trip form: parsing gives the same bits.
        out.meta("vocab", m.vocab());
        out.meta("embed", m.embed());
        out.meta("hidden", m.hidden());
        out.json("vocabulary", &self.data.vocab.words());
        let p = &self.pos;
        out.meta("epoch", self.epoch);
        out.meta("batch_in_epoch", p.batch);
        out.meta("epoch_sum", p.sum);
        out.meta("chunk_sum", p.chunk_sum);
        out.meta("chunk_n", p.chunk_n);
        out.meta("steps", self.trainer.steps);
        out.meta("data", &self.data.source);
        out.meta("data_hash", &self.data_hash);
        if F::DTYPE == Dtype::F32 {
            out.meta("dtype", F::DTYPE.as_str()); // f64 runs write what they always wrote
        }
    }

    /// The whole training state, checked against `cx.data`: the same vocabulary and 4-grams.
    fn load(ck: &mut Checkpoint, cx: Resume<'d>) -> Result<Self> {
        let path = ck.path.clone();
        let bad = |msg: String| Error::format(&path, "safetensors", msg);
        if !ck.metadata.contains_key("epoch") {
            return Err(bad(
                "a model without its training state (no `epoch`): it cannot be resumed".into(),
            ));
        }
        ck.expect_dtype::<F>()?;
        let trained = read(ck)?;
        let data = cx.data;
        let data_hash = fingerprint(data);
        if trained.vocab.words() != data.vocab.words() || ck.meta_str("data_hash")? != data_hash {
            return Err(Error::flag(
                "--resume",
                format!(
                    "{} was trained on other data ({}), not on this run's ({}): resume with the \
                     same --text / --mat, --vocab, --sentences and --seed",
                    path.display(),
                    trained.data,
                    data.describe()
                ),
            ));
        }
        let model = trained.model;
        let batches = data.train.len() / cx.hyper.batch.max(1);
        let pos = EpochPos {
            batch: ck.meta("batch_in_epoch")?,
            sum: ck.meta("epoch_sum")?,
            chunk_sum: ck.meta("chunk_sum")?,
            chunk_n: ck.meta("chunk_n")?,
        };
        let (epoch, steps): (usize, u64) = (ck.meta("epoch")?, ck.meta("steps")?);
        let at = (epoch as u64)
            .saturating_mul(batches as u64)
            .saturating_add(pos.batch as u64);
        if steps == 0 || steps != at || pos.batch >= batches {
            return Err(bad(format!(
                "`epoch` {epoch}, `batch_in_epoch` {} and `steps` {steps} are not a checkpoint \
                 of epochs of {batches} batches",
                pos.batch
            )));
        }
        let mut v = Vec::with_capacity(DELTAS.len());
        for (name, p) in DELTAS.iter().zip(params(&model)) {
            v.push(ck.take(name, p.nrows(), p.ncols())?);
        }
        // Momentum keeps no second moment.
        let s = params(&model)
            .iter()
            .map(|p| DMatrix::zeros(p.nrows(), p.ncols()))
            .collect();
        let mut curves = Curves::new(data.entropy_floor);
        curves.train.points = take_points(ck, "curve.train")?;
        curves.valid.points = take_points(ck, "curve.valid")?;
        // The tensors were written in F: rounding them back to F is exact.
        let mut trainer = Trainer::from_model(&model, &cx.hyper)?;
        let rule = momentum(cx.hyper.momentum);
        trainer.opt = F::Optimizer::restore(rule, cx.hyper.lr, steps, v, s)?;
        trainer.steps = steps;
        Ok(State {
            trainer,
            curves,
            epoch,
            pos,
            data,
            data_hash,
        })
    }
}

const PARAMS: [&str; 5] = ["W0", "W1", "b1", "W2", "b2"];

fn params(m: &Model) -> [&DMatrix<f64>; 5] {
    [&m.W0, &m.W1, &m.b1, &m.W2, &m.b2]
}

/// The n × 2 tensor `name` as (epoch, CE) points.
fn take_points(ck: &mut Checkpoint, name: &str) -> Result<Vec<(f64, f64)>> {
    let n = ck.shape(name).map_or(0, |s| s.0);
    let m = ck.take(name, n, 2)?;
    Ok(m.row_iter().map(|r| (r[0], r[1])).collect())
}

/// A trained model as `nearest`, `predict`, `distance` and `eval` read it.
#[derive(Clone, Debug)]
pub struct Trained {
    /// The parameters (widened to f64 if it was trained in f32: exact).
    pub model: Model,
    /// The float type it was trained in (`eval` runs in it).
    pub dtype: Dtype,
    /// Its words, in id order.
    pub vocab: Vocab,
    /// Epochs it was trained for (`None` for a plain model file).
    pub epochs: Option<usize>,
    /// What it was trained on.
    pub data: String,
}

impl Trained {
    /// What the `model:` line says after the file's name.
    pub fn describe(&self) -> String {
        let m = &self.model;
        let mut s = format!(
            "V = {} words, D = {}, H = {}",
            m.vocab(),
            m.embed(),
            m.hidden()
        );
        if self.dtype == Dtype::F32 {
            s += ", f32";
        }
        if let Some(e) = self.epochs {
            s += &format!(", {e} epochs");
        }
        if !self.data.is_empty() {
            s += &format!(" on {}", self.data);
        }
        s
    }
}

/// The model and vocabulary of a loaded checkpoint, every shape checked against its sizes.
fn read(ck: &mut Checkpoint) -> Result<Trained> {
    let (v, d, h): (usize, usize, usize) =
        (ck.meta("vocab")?, ck.meta("embed")?, ck.meta("hidden")?);
    let words: Vec<String> = serde_json::from_str(ck.meta_str("vocabulary")?).map_err(|e| {
        Error::format(
            &ck.path,
            "metadata `vocabulary`",
            format!("not a JSON list of words ({e})"),
        )
    })?;
    let bad = |msg: String| Error::format(&ck.path, "metadata `vocabulary`", msg);
    if words.len() != v {
        return Err(bad(format!("{} words for a model of {v}", words.len())));
    }
    let vocab = Vocab::from_words(words).map_err(|e| bad(e.to_string()))?;
    let model = Model {
        W0: ck.take("W0", v, d)?,
        W1: ck.take("W1", CONTEXT * d, h)?,
        b1: ck.take("b1", h, 1)?,
        W2: ck.take("W2", h, v)?,
        b2: ck.take("b2", v, 1)?,
    };
    Ok(Trained {
        model,
        dtype: ck.dtype()?,
        vocab,
        epochs: ck.meta("epoch").ok(),
        data: ck.meta_str("data").unwrap_or_default().to_string(),
    })
}

/// Loads the model and its vocabulary from the model file `path`.
pub fn load_trained(path: &Path) -> Result<Trained> {
    read(&mut checkpoint::load(path, CHAPTER.name)?)
}

/// Saves a plain model with its vocabulary to `path` (no training state: it answers queries
/// but cannot be resumed).
pub fn save_model(model: &Model, vocab: &Vocab, path: impl AsRef<Path>) -> Result<()> {
    let tensors: Vec<(&str, &DMatrix<f64>)> = PARAMS.into_iter().zip(params(model)).collect();
    let words = serde_json::to_string(vocab.words()).map_err(Error::msg)?;
    let meta = [
        ("vocab", model.vocab().to_string()),
        ("embed", model.embed().to_string()),
        ("hidden", model.hidden().to_string()),
        ("vocabulary", words),
    ];
    checkpoint::save(path, CHAPTER.name, &tensors, &meta)
}
