//! `model.safetensors`: the model, and everything a resumed run needs to continue exactly, as
//! the run session's [`Checkpointed`] state (the session writes the file atomically, with the
//! program version and the run's flags).
//!
//! Tensors (F64, row-major, loadable by `safetensors` in Python): `U, W, V, b_h, b_y` (the
//! model), `adagrad.U … adagrad.b_y` (Adagrad's memories), `s_prev` (the carried hidden
//! state), `history` (2 × K: iteration, smoothed loss). Metadata: the sizes, the vocabulary (a
//! JSON string of its characters), the learning rate and clip, the iteration, the position in
//! the text, the smoothed loss, the sampling generator's state and the training text's name,
//! length and fingerprint.
//!
//! A `train --dtype f32` run stores its parameters, Adagrad's memories and `s_prev` as F32
//! tensors and records `dtype` = `f32` in the metadata (f64 runs write no `dtype`: their files
//! are as before). `sample` and `eval` read either (widened to f64 exactly, then run in the
//! type the model was trained in); a resume continues in that type.

use crate::fast::{FastRnn, Kernels};
use crate::model::CharRnn;
use crate::train::{Config, Trainer, adagrad};
use crate::vocab::{Text, Vocab};
use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use shared::checkpoint::{self, Checkpoint};
use shared::cli::Dtype;
use shared::kernels::narrow;
use shared::optim::Optimize;
use shared::rng::Rng;
use shared::session::{Checkpointed, Tensors};
use shared::{Error, Result};
use std::path::Path;

const NAMES: [&str; 5] = ["U", "W", "V", "b_h", "b_y"];

/// A training run in float type `F`: the trainer and the text it learns (its vocabulary and
/// fingerprint go into the checkpoint; a resume checks them against the text it is given).
pub struct State<'t, F: Kernels = f64> {
    /// Model, Adagrad, position, carried state, counters, sampling generator, loss history.
    pub trainer: Trainer<F>,
    /// The training text.
    pub text: &'t Text,
}

impl<'t, F: Kernels> Checkpointed for State<'t, F> {
    type Context<'a> = &'t Text;

    fn save(&self, out: &mut Tensors) {
        let (t, m) = (&self.trainer, &self.trainer.model);
        for (name, p) in NAMES.iter().zip([&m.U, &m.W, &m.V, &m.b_h, &m.b_y]) {
            out.matrix(*name, p);
        }
        // Adagrad's memories, in F (they are F values, so narrowing is exact).
        for (name, mem) in NAMES.iter().zip(&t.opt.moments().1) {
            out.matrix(format!("adagrad.{name}"), &narrow::<F>(mem));
        }
        out.matrix(
            "s_prev",
            &DMatrix::from_column_slice(t.s_prev.len(), 1, t.s_prev.as_slice()),
        ); // N_h × 1
        if !t.history.is_empty() {
            let history = DMatrix::from_fn(2, t.history.len(), |i, k| {
                let (n, loss) = t.history[k];
                if i == 0 { n as f64 } else { loss }
            }); // 2 × K
            out.matrix("history", &history);
        }
        let (c, rng, text) = (&t.config, &t.rng, self.text);
        let seed: String = rng.get_seed().iter().map(|b| format!("{b:02x}")).collect();
        // Floats are written with Rust's shortest round-trip formatting: parsing gives the same bits.
        out.meta("hidden", c.hidden);
        out.meta("seq_len", c.seq_len);
        out.meta("vocab_size", text.vocab.len());
        out.meta("vocabulary", text.vocab.to_json());
        out.meta("lr", c.lr);
        out.meta("clip", c.clip);
        out.meta("iteration", t.n);
        out.meta("position", t.p);
        out.meta("smooth_loss", t.smooth_loss);
        out.meta("adagrad_steps", t.opt.steps());
        out.meta("rng_seed", seed);
        out.meta("rng_stream", rng.get_stream());
        out.meta("rng_word_pos", rng.get_word_pos());
        out.meta("text_source", &text.source);
        out.meta("text_chars", text.data.len());
        out.meta("text_hash", format!("{:016x}", text.hash));
        if F::DTYPE == Dtype::F32 {
            out.meta("dtype", F::DTYPE.as_str()); // f64 runs write what they always wrote
        }
    }

    /// The whole training state, checked against `text`: the same characters (fingerprint and
    /// vocabulary) as the run was trained on.
    fn load(ck: &mut Checkpoint, text: &'t Text) -> Result<Self> {
        ck.expect_dtype::<F>()?;
        let (model, vocab) = read_model(ck)?;
        let path = ck.path.clone();
        let bad = |msg: String| Error::format(&path, "safetensors metadata", msg);
        let source = ck.meta_str("text_source")?.to_string();
        let chars: usize = ck.meta("text_chars")?;
        let hash = u64::from_str_radix(ck.meta_str("text_hash")?, 16)
            .map_err(|_| bad("text_hash is not hexadecimal".into()))?;
        if hash != text.hash || vocab != text.vocab {
            return Err(Error::flag(
                "--text",
                format!(
                    "the run in {} was trained on {source} ({chars} characters), not on {} \
                     ({} characters)",
                    folder(&path),
                    text.source,
                    text.data.len()
                ),
            ));
        }
        let config = Config {
            hidden: ck.meta("hidden")?,
            seq_len: ck.meta("seq_len")?,
            lr: ck.meta("lr")?,
            clip: ck.meta("clip")?,
        };
        for (name, v) in [("lr", config.lr), ("clip", config.clip)] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(bad(format!("{name} {v} is not a positive number")));
            }
        }
        let mut s = Vec::with_capacity(5);
        let mut v = Vec::with_capacity(5);
        for (name, p) in NAMES
            .iter()
            .zip([&model.U, &model.W, &model.V, &model.b_h, &model.b_y])
        {
            s.push(ck.take(&format!("adagrad.{name}"), p.nrows(), p.ncols())?);
            v.push(DMatrix::zeros(p.nrows(), p.ncols())); // Adagrad keeps no first moment
        }
        let steps = ck.meta("adagrad_steps")?;
        let opt = F::Optimizer::restore(adagrad(), config.lr, steps, v, s)?;
        let rng = read_rng(ck)?;
        let s_prev = ck.take_as::<F>("s_prev", config.hidden, 1)?;
        let history = match ck.shape("history") {
            Some((2, k)) => {
                let h = ck.take("history", 2, k)?;
                (0..k).map(|j| (h[(0, j)] as u64, h[(1, j)])).collect()
            }
            Some((r, c)) => return Err(bad(format!("history is {r}×{c}, expected 2 rows"))),
            None => Vec::new(),
        };
        // The tensors were written in F: rounding them back to F is exact.
        let mut trainer = Trainer::from_parts(FastRnn::from_model(&model), opt, config, rng);
        trainer.s_prev = DVector::from_column_slice(s_prev.as_slice());
        trainer.n = ck.meta("iteration")?;
        trainer.p = ck.meta("position")?;
        trainer.smooth_loss = ck.meta("smooth_loss")?;
        trainer.history = history;
        let T = config.seq_len;
        if T == 0 || !trainer.p.is_multiple_of(T) || trainer.p + T + 1 >= text.data.len() {
            return Err(bad(format!(
                "position {} does not fit a text of {} characters",
                trainer.p,
                text.data.len()
            )));
        }
        Ok(State { trainer, text })
    }
}

/// The folder of a checkpoint file, for messages.
fn folder(file: &Path) -> String {
    file.parent()
        .map_or(".".into(), |p| p.display().to_string())
}

/// The sampling generator: ChaCha8 seed (64 hex digits), stream and word position.
fn read_rng(ck: &Checkpoint) -> Result<Rng> {
    let seed_hex = ck.meta_str("rng_seed")?;
    let bad = || {
        Error::format(
            &ck.path,
            "safetensors metadata",
            format!("rng_seed {seed_hex:?} is not 64 hex digits"),
        )
    };
    if seed_hex.len() != 64 || !seed_hex.is_ascii() {
        return Err(bad());
    }
    let mut seed = [0u8; 32];
    for (i, b) in seed.iter_mut().enumerate() {
        *b = u8::from_str_radix(&seed_hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    let mut rng = Rng::from_seed(seed);
    rng.set_stream(ck.meta("rng_stream")?);
    rng.set_word_pos(ck.meta("rng_word_pos")?);
    Ok(rng)
}

fn read_model(ck: &mut Checkpoint) -> Result<(CharRnn, Vocab)> {
    let vocab = Vocab::from_json(ck.meta_str("vocabulary")?, &ck.path.display().to_string())?;
    let N_h: usize = ck.meta("hidden")?;
    if N_h == 0 {
        return Err(Error::format(
            &ck.path,
            "safetensors metadata",
            "hidden is 0",
        ));
    }
    let N_x = vocab.len();
    let model = CharRnn {
        U: ck.take("U", N_h, N_x)?,
        W: ck.take("W", N_h, N_h)?,
        V: ck.take("V", N_x, N_h)?,
        b_h: ck.take("b_h", N_h, 1)?,
        b_y: ck.take("b_y", N_x, 1)?,
    };
    Ok((model, vocab))
}

/// A trained model as `sample` and `eval` read it: the model, its vocabulary, and what it was
/// trained on.
pub struct Trained {
    /// The five parameters (widened to f64 if it was trained in f32: exact).
    pub model: CharRnn,
    /// The float type it was trained in (`sample` and `eval` run in it).
    pub dtype: Dtype,
    /// Its characters.
    pub vocab: Vocab,
    /// The chunk length T it was trained with.
    pub seq_len: usize,
    /// Iterations it was trained for.
    pub iterations: u64,
    /// The text it was trained on (a path or `generated:<seed>:<sentences>`).
    pub source: String,
}

impl Trained {
    /// The model in the engine's float type `F` (exact when `F` is the type it was trained in).
    pub fn model_in<F: Kernels>(&self) -> FastRnn<F> {
        FastRnn::from_model(&self.model)
    }

    /// What the `model:` line says after the file's name.
    pub fn describe(&self) -> String {
        let dtype = match self.dtype {
            Dtype::F64 => "",
            Dtype::F32 => ", f32",
        };
        format!(
            "N_h = {}, N_x = {}, T = {}{dtype}, {} iterations on {}",
            self.model.n_h(),
            self.vocab.len(),
            self.seq_len,
            self.iterations,
            self.source
        )
    }
}

/// Loads the model and its vocabulary from `path` (for sampling and evaluation).
pub fn load_model(path: &Path) -> Result<Trained> {
    let mut ck = checkpoint::load(path, crate::CHAPTER.name)?;
    let (model, vocab) = read_model(&mut ck)?;
    Ok(Trained {
        model,
        dtype: ck.dtype()?,
        vocab,
        seq_len: ck.meta("seq_len")?,
        iterations: ck.meta("iteration")?,
        source: ck.meta_str("text_source")?.to_string(),
    })
}
