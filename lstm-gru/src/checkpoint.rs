//! `model.safetensors`: the language model and everything a resumed run needs, as the run
//! session's [`Checkpointed`] states (the session writes the file atomically, with the program
//! version and the run's flags).
//!
//! Tensors (row-major; F64, or F32 for a `--dtype f32` run): the model's parameters under
//! [`CharLm::params`]' names, `adam.v.<name>` and `adam.s.<name>` (Adam's moments), `state.<k>`
//! (the B streams' carried states, layer by layer), `history` (F64, 3 × K: step, training loss,
//! validation loss). Metadata: the cell, layers, hidden size, the vocabulary (a JSON string of
//! its characters), the steps done, the text's name and fingerprint, Adam's step count and the
//! training losses since the last validation, and `dtype` = `f32` for an f32 run (an f64 run
//! writes no `dtype`: its file is what it always was).

use crate::data::Corpus;
use crate::fast::charlm::FastLm;
use crate::fast::{Cache, FastCell, Kernels, narrow};
use crate::model::{Cell, CharLm, Gru, Lstm, Rnn};
use crate::train::{Eval, TextConfig, Training};
use nalgebra::DMatrix;
use shared::checkpoint::Checkpoint;
use shared::cli::Dtype;
use shared::data::text::CharStream;
use shared::optim::Optimize;
use shared::rng;
use shared::session::{Checkpointed, Tensors};
use shared::{Error, Result};
use std::borrow::Cow;

/// A trained model as `sample` and `eval` read it.
#[derive(Clone, Debug)]
pub struct Trained<C: Cell> {
    /// The model (an f32 model's parameters widened to f64, exactly).
    pub model: CharLm<C>,
    /// The float type it was trained in.
    pub dtype: Dtype,
    /// Its characters (a [`CharStream`] with no text).
    pub vocab: CharStream,
    /// Training steps done.
    pub steps: usize,
    /// The text it was trained on.
    pub source: String,
}

impl<C: Cell> Trained<C> {
    /// What a `model:` line says about it.
    pub fn describe(&self) -> String {
        let dtype = match self.dtype {
            Dtype::F64 => String::new(),
            d => format!(", {d}"),
        };
        format!(
            "{} × {} {} over {} characters, {} steps on {}{dtype}",
            self.model.rnn.layers.len(),
            self.model.rnn.hidden_size(),
            C::NAME,
            self.vocab.vocab_size(),
            self.steps,
            self.source
        )
    }
}

impl<C: FastCell> Checkpointed for Trained<C> {
    type Context<'a> = ();

    fn save(&self, out: &mut Tensors) {
        let (L, H) = (self.model.rnn.layers.len(), self.model.rnn.hidden_size());
        let info = ModelInfo {
            cell: C::NAME,
            dtype: self.dtype,
            layers: L,
            hidden: H,
            chars: &self.vocab.chars,
            steps: self.steps,
            source: &self.source,
        };
        match self.dtype {
            Dtype::F64 => put_model(self.model.params(), &info, out),
            Dtype::F32 => {
                let model = FastLm::<C, f32>::from_model(&self.model);
                put_model(model.params(), &info, out);
            }
        }
    }

    fn load(ck: &mut Checkpoint, _: ()) -> Result<Self> {
        read_model(ck)
    }
}

/// What the metadata says about a model besides its tensors.
struct ModelInfo<'a> {
    cell: &'static str,
    dtype: Dtype,
    layers: usize,
    hidden: usize,
    chars: &'a [char],
    steps: usize,
    source: &'a str,
}

/// The model's tensors (`params`, stored in their float type) and what [`read_model`] needs
/// to rebuild it.
fn put_model<F: Kernels>(params: Vec<(String, &DMatrix<F>)>, info: &ModelInfo, out: &mut Tensors) {
    for (name, p) in params {
        out.matrix(name, p);
    }
    out.meta("cell", info.cell);
    out.meta("layers", info.layers);
    out.meta("hidden", info.hidden);
    out.json("vocab", &info.chars.iter().collect::<String>());
    out.meta("steps", info.steps);
    out.meta("text_source", info.source);
    if info.dtype != Dtype::F64 {
        out.meta("dtype", info.dtype); // f64 runs write what they always wrote
    }
}

/// The cell of a checkpoint: "rnn", "lstm" or "gru".
pub fn checkpoint_cell(ck: &Checkpoint) -> Result<&'static str> {
    let name = ck.meta_str("cell")?;
    (CELLS.into_iter().find(|c| *c == name)).ok_or_else(|| {
        Error::format(
            &ck.path,
            "safetensors metadata",
            format!("unknown cell `{name}`"),
        )
    })
}

/// The cells a checkpoint may hold.
const CELLS: [&str; 3] = [Rnn::NAME, Lstm::NAME, Gru::NAME];

/// Rebuilds the model of cell `C` and its vocabulary, leaving the other tensors (a training
/// checkpoint's) in `ck`.
fn read_model<C: Cell>(ck: &mut Checkpoint) -> Result<Trained<C>> {
    let path = ck.path.clone();
    let bad = |msg: String| Error::format(&path, "safetensors metadata", msg);
    if ck.meta_str("cell")? != C::NAME {
        return Err(bad(format!(
            "holds a {} model, not {}",
            ck.meta_str("cell")?,
            C::NAME
        )));
    }
    let L: usize = ck.meta("layers")?;
    let H: usize = ck.meta("hidden")?;
    let chars: String = serde_json::from_str(ck.meta_str("vocab")?)
        .map_err(|e| bad(format!("`vocab` is not a JSON string ({e})")))?;
    let vocab = CharStream {
        chars: chars.chars().collect(),
        ids: Vec::new(),
    };
    if L == 0 || H == 0 || vocab.chars.is_empty() || !vocab.chars.windows(2).all(|w| w[0] < w[1]) {
        return Err(bad(
            "layers, hidden and a sorted vocabulary must be non-empty".into(),
        ));
    }
    // The sizes in the metadata must be those of the stored tensors (which the file holds, so
    // a forged `hidden` cannot make the model below allocate more than the file's size).
    let one: C = C::new(1, 1, &mut rng::seeded(0));
    let G = one
        .params()
        .iter()
        .find(|(n, _)| *n == "W_hh")
        .map_or(1, |(_, w)| w.nrows());
    let V = vocab.chars.len();
    let want = std::iter::once(("W_hy".to_string(), (V, H)))
        .chain((0..L).map(|l| (format!("l{l}.W_hh"), (G * H, H))));
    for (name, shape) in want {
        if ck.shape(&name) != Some(shape) {
            return Err(bad(format!(
                "{L} layers of {H} units over {V} characters need a tensor `{name}` of shape {shape:?}"
            )));
        }
    }
    // Build a model of the right shape, then replace every parameter by the stored one.
    let mut model: CharLm<C> = CharLm::new(vocab.vocab_size(), H, L, &mut rng::seeded(0));
    let names: Vec<String> = model.params().into_iter().map(|(n, _)| n).collect();
    for (name, p) in names.iter().zip(model.params_mut()) {
        *p = ck.take(name, p.nrows(), p.ncols())?;
        if p.iter().any(|x| !x.is_finite()) {
            return Err(Error::format(&path, name, "a parameter is not finite"));
        }
    }
    Ok(Trained {
        model,
        dtype: ck.dtype()?,
        vocab,
        steps: ck.meta("steps")?,
        source: ck.meta_str("text_source")?.to_string(),
    })
}

/// A training run of the language model: the training state and the text it learns (whose
/// vocabulary and fingerprint go into the checkpoint; a resume checks them against its text).
pub struct TextRun<'c, C: FastCell, F: Kernels> {
    /// Model, Adam, carried states, steps, the losses since the last validation, history
    /// (borrowed while it trains, owned when loaded).
    pub training: Cow<'c, Training<C, F>>,
    /// The text.
    pub corpus: &'c Corpus,
}

impl<'c, C: FastCell, F: Kernels> Checkpointed for TextRun<'c, C, F> {
    type Context<'a> = (&'c Corpus, &'a TextConfig);

    fn save(&self, out: &mut Tensors) {
        let (t, corpus) = (&*self.training, self.corpus);
        let info = ModelInfo {
            cell: C::NAME,
            dtype: F::DTYPE,
            layers: t.model.rnn.layers.len(),
            hidden: t.model.rnn.hidden_size(),
            chars: &corpus.stream.chars,
            steps: t.step,
            source: &corpus.source,
        };
        put_model(t.model.params(), &info, out);
        // Adam's moments: f32 values for an f32 run, so stored as F32 exactly.
        let (v, s) = t.opt.moments();
        for (i, (name, _)) in t.model.params().iter().enumerate() {
            out.matrix(format!("adam.v.{name}"), &narrow::<F>(&v[i]));
            out.matrix(format!("adam.s.{name}"), &narrow::<F>(&s[i]));
        }
        let carried = t.cache.rnn.layers.iter().flat_map(|c| c.initial_state());
        for (k, m) in carried.enumerate() {
            out.matrix(format!("state.{k}"), &m);
        }
        if !t.history.is_empty() {
            let h = &t.history;
            let history = DMatrix::from_fn(3, h.len(), |i, k| match i {
                0 => h[k].step as f64,
                1 => h[k].train,
                _ => h[k].valid,
            }); // 3 × K
            out.matrix("history", &history);
        }
        // Floats in Rust's shortest round-trip formatting: parsing gives the same bits.
        out.meta("adam_t", t.opt.steps());
        out.meta("since_eval_sum", t.since_eval.0);
        out.meta("since_eval_count", t.since_eval.1);
        out.meta("text", fingerprint(corpus));
    }

    /// The whole training state, checked against `corpus` (the same characters as the run was
    /// trained on) and sized by `cfg` (the run's merged flags).
    fn load(ck: &mut Checkpoint, (corpus, cfg): (&'c Corpus, &TextConfig)) -> Result<Self> {
        let path = ck.path.clone();
        if ck.meta_str("text")? != fingerprint(corpus) {
            return Err(Error::flag(
                "--text",
                format!(
                    "the run in {} was trained on {}, not on {}",
                    path.parent().unwrap_or(&path).display(),
                    ck.meta_str("text_source")?,
                    corpus.source
                ),
            ));
        }
        let bad = |msg: String| Error::format(&path, "safetensors metadata", msg);
        ck.expect_dtype::<F>()?;
        let trained: Trained<C> = read_model(ck)?;
        let mut t = Training::new(cfg, trained.model.vocab_size(), 0)?;
        t.model = FastLm::from_model(&trained.model);
        let shapes: Vec<(String, (usize, usize))> = (t.model.params().into_iter())
            .map(|(n, p)| (n, p.shape()))
            .collect();
        let (mut v, mut s) = (Vec::new(), Vec::new());
        for (n, (r, c)) in &shapes {
            v.push(ck.take(&format!("adam.v.{n}"), *r, *c)?);
            s.push(ck.take(&format!("adam.s.{n}"), *r, *c)?);
        }
        let adam_t = ck.meta("adam_t")?;
        t.opt = F::Optimizer::restore(shared::optim::Rule::adam(), cfg.lr, adam_t, v, s)?;
        let mut k = 0;
        for cache in t.cache.rnn.layers.iter_mut() {
            let mut state = cache.initial_state();
            for m in state.iter_mut() {
                *m = ck.take_as(&format!("state.{k}"), m.nrows(), m.ncols())?;
                k += 1;
            }
            cache
                .set_initial_state(&state)
                .map_err(|e| bad(e.to_string()))?;
        }
        t.step = trained.steps;
        t.since_eval = (ck.meta("since_eval_sum")?, ck.meta("since_eval_count")?);
        t.history = match ck.shape("history") {
            Some((3, K)) => {
                let h = ck.take("history", 3, K)?;
                (0..K)
                    .map(|k| Eval {
                        step: h[(0, k)] as usize,
                        seconds: 0.0,
                        wall_seconds: 0.0,
                        train: h[(1, k)],
                        valid: h[(2, k)],
                    })
                    .collect()
            }
            Some((r, c)) => return Err(bad(format!("history is {r}×{c}, expected 3 rows"))),
            None => Vec::new(),
        };
        Ok(TextRun {
            training: Cow::Owned(t),
            corpus,
        })
    }
}

/// `fnv1a64:…` of the corpus's ids and split: a resumed run checks it reads the same text.
fn fingerprint(corpus: &Corpus) -> String {
    let bytes: Vec<u8> = std::iter::once(corpus.split)
        .chain(corpus.stream.ids.iter().copied())
        .flat_map(|i| (i as u64).to_le_bytes())
        .collect();
    let chars: String = corpus.stream.chars.iter().collect();
    shared::checkpoint::checksum([("ids", bytes.as_slice()), ("chars", chars.as_bytes())])
}
