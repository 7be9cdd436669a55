//! What a run keeps in `model.safetensors` and reads back. The RBM as before (W, a, b and the
//! metadata `n_v`, `n_h`, `rows`, `cols`: all that `rbm sample` needs), and for `--resume` the
//! rest of the training state: the momentum velocities, PCD's chains, the position of the
//! training random stream, the epoch and update counts, the horizon of the annealed learning
//! rate, a fingerprint of the data, and the curves so far (tensor `curves`, one row per
//! evaluated epoch: epoch, train, held-out, reconstruction error, free-energy gap).
//!
//! A `--dtype f32` run records `dtype` = `f32` in the metadata and stores W, a, b, the
//! velocities and PCD's chains as F32 tensors (the curves stay F64); `--resume` reads them back
//! as the very same f32 numbers and refuses a file of the other type. An f64 run writes no
//! `dtype` key (its files are as before). [`load_model`] (`rbm sample`) reads either, an f32
//! model widened to f64 exactly.

#![allow(non_snake_case)]

use crate::data::Data;
use crate::fast::{EngineFloat, Params};
use crate::model::Rbm;
use crate::train::{Config, History, INIT_STREAM, Method, TRAIN_STREAM, Trainer};
use nalgebra::DMatrix;
use shared::checkpoint::Checkpoint;
use shared::cli::Dtype;
use shared::kernels::narrow;
use shared::rng::{self, Rng};
use shared::session::{Checkpointed, Tensors};
use shared::{Error, Result};

/// A saved RBM as `rbm sample` reads it.
#[derive(Clone, Debug)]
pub struct Saved {
    /// W (n_h × n_v), a, b.
    pub rbm: Rbm,
    /// The image shape (rows, cols), rows · cols = n_v.
    pub shape: (usize, usize),
    /// Epochs trained, when the file says (files written before resume existed do not).
    pub epoch: Option<u64>,
}

/// Reads the RBM of a checkpoint: W, a, b and the image shape, every shape checked; an f32
/// model (`dtype` = f32) is widened to f64 exactly.
pub fn load_model(ck: &mut Checkpoint) -> Result<Saved> {
    let (rbm, shape) = load_params(ck)?;
    Ok(Saved {
        rbm,
        shape,
        epoch: ck.meta("epoch").ok(),
    })
}

/// W, a, b in the float type `T` (F64 tensors, or an f32 model's F32 ones, as stored) and
/// the image shape, every shape checked.
fn load_params<P: Params>(ck: &mut Checkpoint) -> Result<(P, (usize, usize))> {
    let (n_v, n_h): (usize, usize) = (ck.meta("n_v")?, ck.meta("n_h")?);
    let shape: (usize, usize) = (ck.meta("rows")?, ck.meta("cols")?);
    if shape.0.checked_mul(shape.1) != Some(n_v) {
        return Err(Error::format(
            &ck.path,
            "safetensors metadata",
            format!(
                "images of {} × {} are not {n_v} visible units",
                shape.0, shape.1
            ),
        ));
    }
    let W = ck.take_as::<P::F>("W", n_h, n_v)?;
    let a = ck.take_as::<P::F>("a", n_v, 1)?;
    let b = ck.take_as::<P::F>("b", n_h, 1)?;
    Ok((P::from_parts(W, a, b), shape))
}

/// Everything a training run in float type `T` needs to continue exactly where it stopped.
#[derive(Clone, Debug)]
pub struct State<T: EngineFloat = f64> {
    /// The model.
    pub rbm: T::Rbm,
    /// The recipe, the momentum state, PCD's chains, the update count.
    pub trainer: Trainer<T>,
    /// The training random stream (mini-batch order, Gibbs sampling).
    pub rng: Rng,
    /// Epochs done.
    pub epoch: usize,
    /// The curves so far.
    pub history: History,
    /// The image shape.
    pub shape: (usize, usize),
    /// [`Data::fingerprint`] of the data it trains on.
    pub data: String,
}

impl<T: EngineFloat> State<T> {
    /// A new run: the guide's initialisation of an RBM with `n_h` hidden units for `data`
    /// (stream [`INIT_STREAM`] of `seed`, drawn in f64 and rounded to `T`), a trainer with
    /// `config`, no epoch done.
    pub fn new(n_h: usize, config: Config, data: &Data, seed: u64) -> State<T> {
        let rbm = crate::train::init(n_h, &data.train, &mut rng::stream(seed, INIT_STREAM));
        let rbm = T::Rbm::narrowed(&rbm);
        let mut rng = rng::stream(seed, TRAIN_STREAM);
        let trainer = Trainer::new(&rbm, config, &mut rng);
        State {
            rbm,
            trainer,
            rng,
            epoch: 0,
            history: History::default(),
            shape: data.shape,
            data: data.fingerprint(),
        }
    }
}

/// What a checkpoint is checked against when a run resumes: the data (loaded again from the
/// stored flags), the recipe of those flags, and the run's seed.
pub struct Resume<'a> {
    /// The data.
    pub data: &'a Data,
    /// The recipe from the flags; the horizon of an annealed ε comes from the checkpoint.
    pub config: Config,
    /// The seed (the training stream is stream [`TRAIN_STREAM`] of it).
    pub seed: u64,
}

/// The tensor names of the parameters, in the order the optimizer updates them.
const PARAMETERS: [&str; 3] = ["W", "a", "b"];

impl<T: EngineFloat> Checkpointed for State<T> {
    type Context<'a> = Resume<'a>;

    fn save(&self, out: &mut Tensors) {
        let [W, a, b] = self.rbm.parts();
        out.matrix("W", W);
        out.matrix("a", a);
        out.matrix("b", b);
        out.meta("n_v", W.ncols());
        out.meta("n_h", W.nrows());
        if T::DTYPE != Dtype::F64 {
            out.meta("dtype", T::DTYPE.as_str()); // f64 files stay as they always were
        }
        out.meta("rows", self.shape.0);
        out.meta("cols", self.shape.1);
        // Classic momentum keeps one velocity per parameter (zero before the first update)
        // and no second moment.
        // Stored in T (the velocities of an f32 run are f32 numbers, widened exactly).
        let (t, velocities) = self.trainer.optimizer_state();
        for (i, (name, p)) in PARAMETERS.iter().zip([W, a, b]).enumerate() {
            let v = velocities.get(i).filter(|v| v.shape() == p.shape());
            let v = v.map_or_else(|| DMatrix::zeros(p.nrows(), p.ncols()), narrow::<T>);
            out.matrix(format!("velocity.{name}"), &v);
        }
        out.meta("optimizer_t", t);
        if let Some(chains) = self.trainer.chains() {
            out.matrix("chains", chains);
        }
        let rows = self.history.rows();
        let curves = DMatrix::from_fn(rows.len(), 5, |k, j| rows[k][j]);
        out.matrix("curves", &curves);
        out.meta("epoch", self.epoch);
        out.meta("steps", self.trainer.steps);
        out.meta("rng_word_pos", self.rng.get_word_pos());
        let horizon = self.trainer.config.anneal_epochs;
        out.meta(
            "anneal_epochs",
            horizon.map_or("none".into(), |e| e.to_string()),
        );
        out.meta("data", &self.data);
    }

    fn load(ck: &mut Checkpoint, cx: Resume<'_>) -> Result<State<T>> {
        ck.expect_dtype::<T>()?;
        let (rbm, shape) = load_params::<T::Rbm>(ck)?;
        let data = ck.meta_str("data")?.to_string();
        if shape != cx.data.shape || data != cx.data.fingerprint() {
            return Err(Error::format(
                &ck.path,
                "metadata `data`",
                format!(
                    "the run was trained on other data than {} ({} × {} images, data {data}); \
                     resume it with the data it was trained on",
                    cx.data.name, shape.0, shape.1
                ),
            ));
        }
        let (n_h, n_v) = rbm.parts()[0].shape();
        let v: Vec<DMatrix<f64>> = [(n_h, n_v), (n_v, 1), (n_h, 1)]
            .iter()
            .zip(PARAMETERS)
            .map(|(&(r, c), name)| ck.take(&format!("velocity.{name}"), r, c))
            .collect::<Result<_>>()?;
        let opt = (ck.meta("optimizer_t")?, v);
        let chains = match cx.config.method {
            Method::Pcd => Some(ck.take_as::<T>("chains", n_v, cx.config.batch)?),
            Method::Cd | Method::Exact => None,
        };
        let config = Config {
            anneal_epochs: match ck.meta_str("anneal_epochs")? {
                "none" => None,
                _ => Some(ck.meta("anneal_epochs")?),
            },
            ..cx.config
        };
        let k = ck.shape("curves").map_or(0, |s| s.0);
        let mut history = History::default();
        let curves = ck.take("curves", k, 5)?;
        for row in curves.row_iter() {
            history.push_row([row[0], row[1], row[2], row[3], row[4]]);
        }
        let mut rng = rng::stream(cx.seed, TRAIN_STREAM);
        rng.set_word_pos(ck.meta("rng_word_pos")?);
        let trainer = Trainer::restore(&rbm, config, opt, chains, ck.meta("steps")?)?;
        Ok(State {
            rbm,
            trainer,
            rng,
            epoch: ck.meta("epoch")?,
            history,
            shape,
            data,
        })
    }
}
