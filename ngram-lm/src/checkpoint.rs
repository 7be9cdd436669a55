//! `model.safetensors` as a training checkpoint, rewritten (atomically: temporary name, sync,
//! rename, so the previous one stays whole) at the end of every epoch, and `train --resume`.
//!
//! Beside the parameters `W0, W1, b1, W2, b2` (what `nearest` / `predict` / `distance` read) it
//! holds what continuing exactly needs: the momentum velocities Δ (`delta.W0 … delta.b2`), the
//! curves so far (`curve.train`, `curve.valid`: n × 2, epoch and CE), and in its metadata the
//! epoch reached, the batches trained, the flags that must match (`--batch`, `--lr`,
//! `--momentum`, `--embed`, `--hidden`, `--weight-decay`, `--seed`) and fingerprints of the
//! vocabulary (that of `vocab.txt` beside it) and of the train / validation / test 4-grams.
//! The next epoch's batch order needs nothing more: every epoch visits the training 4-grams in
//! the same fixed order (train.m's), so it is a function of the data alone.
//!
//! Also here: a plain model file ([`save_model`], [`load_model`]), a trained run's model and
//! vocabulary for `nearest` / `predict` / `distance` ([`load_trained`]), and the record of the
//! last run's folder ([`last_run`]).

use crate::CHAPTER;
use crate::data::Dataset;
use crate::model::{CONTEXT, Gram, Model};
use crate::train::{Curves, Hyper, Trainer};
use nalgebra::DMatrix;
use shared::checkpoint::{self, Checkpoint};
use shared::data::text::Vocab;
use shared::optim::State;
use shared::plot::Series;
use shared::rng::Rng;
use shared::{Error, Result, files};
use std::path::{Path, PathBuf};

/// The checkpoint's file name inside a run folder.
pub const FILE: &str = "model.safetensors";
/// The vocabulary's file name beside it.
pub const VOCAB: &str = "vocab.txt";
/// The velocities' tensor names, in the order of the parameters W0, W1, b1, W2, b2 (the
/// optimizer's parameter numbers in [`Model::update`]).
const DELTAS: [&str; 5] = ["delta.W0", "delta.W1", "delta.b1", "delta.W2", "delta.b2"];

/// What a resumed run must share with the run it continues: the hyperparameters, the seed and
/// the data (by fingerprint).
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// `--batch`, `--lr`, `--momentum`, `--embed`, `--hidden`, `--weight-decay`.
    pub hyper: Hyper,
    /// `--seed` (the initial weights, the generated corpus, the 80/10/10 split).
    pub seed: u64,
    /// The data set's description (for error messages).
    pub data: String,
    /// [`vocab_fingerprint`] of the vocabulary.
    pub vocab_hash: String,
    /// Fingerprint of the train, validation and test 4-grams, in order.
    pub data_hash: String,
    /// Vocabulary size V.
    pub vocab: usize,
    /// Batches per epoch, ⌊N/B⌋.
    pub batches: usize,
}

impl Spec {
    /// The spec of a run with `hyper` and `seed` on `data`.
    pub fn new(hyper: Hyper, seed: u64, data: &Dataset) -> Spec {
        let bytes = |set: &[Gram]| -> Vec<u8> {
            set.iter()
                .flatten()
                .flat_map(|&w| (w as u64).to_le_bytes())
                .collect()
        };
        let (train, valid, test) = (bytes(&data.train), bytes(&data.valid), bytes(&data.test));
        Spec {
            hyper,
            seed,
            data: data.describe(),
            vocab_hash: vocab_fingerprint(&data.vocab),
            data_hash: checkpoint::checksum([
                ("train", train.as_slice()),
                ("valid", valid.as_slice()),
                ("test", test.as_slice()),
            ]),
            vocab: data.vocab.len(),
            batches: data.train.len() / hyper.batch.max(1),
        }
    }
}

/// A fingerprint of the vocabulary's words in id order (FNV-1a, as the checkpoint's checksum).
pub fn vocab_fingerprint(vocab: &Vocab) -> String {
    checkpoint::checksum([("vocab", vocab.words().join("\n").as_bytes())])
}

/// Where a run starts: its trainer, its curves so far and the epochs already done.
#[derive(Clone, Debug)]
pub struct Start {
    /// Model, velocities and step count.
    pub trainer: Trainer,
    /// The curves up to the end of epoch `epoch`.
    pub curves: Curves,
    /// Epochs done (0 for a new run).
    pub epoch: usize,
}

/// Writes the training state after `epoch` epochs to `path` (atomically).
pub fn save(path: &Path, t: &Trainer, curves: &Curves, epoch: usize, spec: &Spec) -> Result<()> {
    let m = &t.model;
    let st = t.opt.state();
    if st.v.len() != DELTAS.len() {
        return Err(Error::msg(format!(
            "{}: no checkpoint before the first training step",
            path.display()
        )));
    }
    // n × 2: the epoch (fractional) and the CE of each point.
    let points = |s: &Series| {
        DMatrix::from_row_iterator(
            s.points.len(),
            2,
            s.points.iter().flat_map(|&(x, y)| [x, y]),
        )
    };
    let (train, valid) = (points(&curves.train), points(&curves.valid));
    let mut tensors: Vec<(&str, &DMatrix<f64>)> = vec![
        ("W0", &m.W0),
        ("W1", &m.W1),
        ("b1", &m.b1),
        ("W2", &m.W2),
        ("b2", &m.b2),
        ("curve.train", &train),
        ("curve.valid", &valid),
    ];
    tensors.extend(DELTAS.iter().copied().zip(&st.v));
    let h = &spec.hyper;
    // Floats in Rust's shortest round-trip form: the same f64 always gives the same text.
    let meta = [
        ("vocab", m.vocab().to_string()),
        ("embed", m.embed().to_string()),
        ("hidden", m.hidden().to_string()),
        ("epoch", epoch.to_string()),
        ("steps", t.steps.to_string()),
        ("batch", h.batch.to_string()),
        ("lr", h.lr.to_string()),
        ("momentum", h.momentum.to_string()),
        ("weight_decay", h.weight_decay.to_string()),
        ("seed", spec.seed.to_string()),
        ("data", spec.data.clone()),
        ("data_hash", spec.data_hash.clone()),
        ("vocab_hash", spec.vocab_hash.clone()),
    ];
    checkpoint::save(path, CHAPTER, &tensors, &meta)
}

/// A new run (weights drawn from `rng`) when `resume` is `None`, else [`resume`].
pub fn start(
    resume: Option<&Path>,
    spec: &Spec,
    epochs: usize,
    floor: Option<f64>,
    rng: &mut Rng,
) -> Result<Start> {
    match resume {
        Some(from) => self::resume(from, spec, epochs, floor),
        None => Ok(Start {
            trainer: Trainer::new(spec.vocab, &spec.hyper, rng)?,
            curves: Curves::new(floor),
            epoch: 0,
        }),
    }
}

/// The checkpoint file of `--resume FROM`: FROM itself, or `FROM/model.safetensors`.
fn file_of(from: &Path) -> Result<PathBuf> {
    let file = if from.is_dir() {
        from.join(FILE)
    } else {
        from.to_path_buf()
    };
    if !file.is_file() {
        let what = if file.exists() {
            "is not a file"
        } else {
            "does not exist"
        };
        let msg = format!(
            "{} {what} (expected a run folder or its {FILE})",
            file.display()
        );
        return Err(Error::flag("--resume", msg));
    }
    Ok(file)
}

/// The checkpoint of `--resume FROM` (a run folder or its `model.safetensors`), checked against
/// this run: the same flags and data as `spec`, fewer than `epochs` epochs done. `floor` is the
/// data's entropy floor (drawn in the curves).
pub fn resume(from: &Path, spec: &Spec, epochs: usize, floor: Option<f64>) -> Result<Start> {
    let file = file_of(from)?;
    let mut ck = checkpoint::load(&file, CHAPTER)?;
    let bad = |msg: &str| Error::format(&file, "safetensors", msg);
    if !ck.metadata.contains_key("epoch") {
        return Err(bad(
            "a model without its training state (no `epoch`): it cannot be resumed",
        ));
    }
    let h = &spec.hyper;
    for (flag, key, ours) in [
        ("--embed", "embed", h.embed.to_string()),
        ("--hidden", "hidden", h.hidden.to_string()),
        ("--batch", "batch", h.batch.to_string()),
        ("--lr", "lr", h.lr.to_string()),
        ("--momentum", "momentum", h.momentum.to_string()),
        ("--weight-decay", "weight_decay", h.weight_decay.to_string()),
        ("--seed", "seed", spec.seed.to_string()),
    ] {
        same(&ck, &file, flag, key, &ours)?;
    }
    if ck.meta_str("vocab_hash")? != spec.vocab_hash || ck.meta_str("data_hash")? != spec.data_hash
    {
        let msg = format!(
            "{} was trained on other data ({}), not on this run's ({}): resume with the same \
             --text / --mat, --vocab, --sentences and --seed",
            file.display(),
            ck.meta_str("data")?,
            spec.data
        );
        return Err(Error::flag("--resume", msg));
    }
    let model = take_model(&mut ck)?;
    if model.vocab() != spec.vocab {
        return Err(bad(&format!(
            "a model of {} words for a vocabulary of {}",
            model.vocab(),
            spec.vocab
        )));
    }
    let (epoch, steps): (usize, u64) = (ck.meta("epoch")?, ck.meta("steps")?);
    if epoch == 0 || steps != (epoch as u64).saturating_mul(spec.batches as u64) {
        return Err(bad(&format!(
            "`epoch` {epoch} and `steps` {steps} are not a checkpoint of epochs of {} batches",
            spec.batches
        )));
    }
    if epoch >= epochs {
        let msg = format!(
            "{epochs}, but {} has already done {epoch} epochs: ask for more",
            file.display()
        );
        return Err(Error::flag("--epochs", msg));
    }
    let shapes = [&model.W0, &model.W1, &model.b1, &model.W2, &model.b2].map(|p| p.shape());
    let mut v = Vec::with_capacity(DELTAS.len());
    for (name, (r, c)) in DELTAS.iter().zip(shapes) {
        v.push(ck.take(name, r, c)?);
    }
    let s = shapes.iter().map(|&(r, c)| DMatrix::zeros(r, c)).collect(); // unused by momentum
    let mut curves = Curves::new(floor);
    curves.train.points = take_points(&mut ck, "curve.train")?;
    curves.valid.points = take_points(&mut ck, "curve.valid")?;
    let mut trainer = Trainer::from_model(model, h);
    trainer.opt.set_state(State { t: steps, v, s });
    trainer.steps = steps;
    Ok(Start {
        trainer,
        curves,
        epoch,
    })
}

/// The metadata `key` of `ck` must read `ours`, the value of `flag` in this run.
fn same(ck: &Checkpoint, file: &Path, flag: &str, key: &str, ours: &str) -> Result<()> {
    let theirs = ck.meta_str(key)?;
    if theirs != ours {
        let msg = format!("{ours}, but {} was trained with {theirs}", file.display());
        return Err(Error::flag(flag, msg));
    }
    Ok(())
}

/// The n × 2 tensor `name` as (epoch, CE) points.
fn take_points(ck: &mut Checkpoint, name: &str) -> Result<Vec<(f64, f64)>> {
    let n = ck.shape(name).map_or(0, |s| s.0);
    let m = ck.take(name, n, 2)?;
    Ok(m.row_iter().map(|r| (r[0], r[1])).collect())
}

/// Saves the parameters to `path` (safetensors, F64, row-major; names W0, W1, b1, W2, b2).
pub fn save_model(model: &Model, path: impl AsRef<Path>) -> Result<()> {
    checkpoint::save(
        path,
        CHAPTER,
        &[
            ("W0", &model.W0),
            ("W1", &model.W1),
            ("b1", &model.b1),
            ("W2", &model.W2),
            ("b2", &model.b2),
        ],
        &[
            ("vocab", model.vocab().to_string()),
            ("embed", model.embed().to_string()),
            ("hidden", model.hidden().to_string()),
        ],
    )
}

/// Loads a model saved by [`save_model`] (or a training checkpoint), checking every shape.
pub fn load_model(path: impl AsRef<Path>) -> Result<Model> {
    take_model(&mut checkpoint::load(path, CHAPTER)?)
}

/// Takes the parameters out of a loaded checkpoint, checking them against its sizes.
pub fn take_model(ck: &mut Checkpoint) -> Result<Model> {
    let (v, d, h): (usize, usize, usize) =
        (ck.meta("vocab")?, ck.meta("embed")?, ck.meta("hidden")?);
    Ok(Model {
        W0: ck.take("W0", v, d)?,
        W1: ck.take("W1", CONTEXT * d, h)?,
        b1: ck.take("b1", h, 1)?,
        W2: ck.take("W2", h, v)?,
        b2: ck.take("b2", v, 1)?,
    })
}

/// Loads `model.safetensors` and `vocab.txt` from a training run's folder `dir`, or, when `dir`
/// is a file, that checkpoint and the `vocab.txt` beside it.
pub fn load_trained(dir: &Path) -> Result<(Model, Vocab)> {
    let (path, folder) = if dir.is_file() {
        (dir.to_path_buf(), dir.parent().unwrap_or(Path::new(".")))
    } else {
        (dir.join("model.safetensors"), dir)
    };
    if !path.is_file() {
        return Err(Error::msg(format!(
            "no trained model at {} (run `ngram-lm train` first, or pass --model DIR)",
            path.display()
        )));
    }
    let mut ck = checkpoint::load(&path, CHAPTER)?;
    let model = take_model(&mut ck)?;
    let vocab_path = folder.join(VOCAB);
    let vocab = Vocab::read(&vocab_path)?;
    if vocab.len() != model.vocab() {
        return Err(Error::format(
            &vocab_path,
            "vocabulary",
            format!("{} words for a model of {}", vocab.len(), model.vocab()),
        ));
    }
    // A training checkpoint knows its vocabulary's fingerprint: the same number of other words
    // (an interrupted run of another corpus into the same folder) is an error too.
    if let Some(want) = ck.metadata.get("vocab_hash")
        && *want != vocab_fingerprint(&vocab)
    {
        let msg = format!("not the vocabulary {} was trained with", path.display());
        return Err(Error::format(&vocab_path, "vocabulary", msg));
    }
    Ok((model, vocab))
}

/// The file that records the output folder of the last `train` run.
pub const LAST_RUN_FILE: &str = "runs/ngram-lm.last";

/// Records `out` as the last run's folder (read by [`last_run`]).
pub fn remember_last_run(out: &Path) -> Result<()> {
    let abs = out.canonicalize().map_err(|e| Error::io(out, e))?;
    let file = Path::new(LAST_RUN_FILE);
    if let Some(dir) = file.parent() {
        files::create_dir_all(dir)?;
    }
    files::write_bytes_atomic(file, format!("{}\n", abs.display()).as_bytes())
}

/// The folder of the last `train` run, or `runs/ngram-lm` if none was recorded.
pub fn last_run() -> PathBuf {
    std::fs::read_to_string(LAST_RUN_FILE)
        .ok()
        .map(|s| PathBuf::from(s.trim_end()))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("runs").join(CHAPTER))
}
