//! The language model's files: the model alone (what `sample` reads), and a training
//! checkpoint that also holds Adam's moments, the streams' carried states and the history, so
//! that `--resume` continues a run exactly where the checkpoint was written.

use crate::data::Corpus;
use crate::fast::{Cache, FastCell};
use crate::model::{Cell, CharLm, Gru, Lstm, Rnn};
use crate::train::{Eval, Session, TextConfig};
use nalgebra::DMatrix;
use shared::data::text::CharStream;
use shared::rng;
use shared::{Error, Result};
use std::path::Path;

impl<C: Cell> CharLm<C> {
    /// Writes the model (safetensors, chapter `lstm-gru`) with what [`load`] needs to rebuild
    /// it: the cell, layers, hidden size and vocabulary.
    pub fn save(&self, path: &Path, chars: &[char], steps: usize) -> Result<()> {
        self.save_with(path, chars, steps, &[], &[])
    }

    /// [`CharLm::save`] with more tensors and metadata (a training checkpoint's).
    pub fn save_with(
        &self,
        path: &Path,
        chars: &[char],
        steps: usize,
        tensors: &[(&str, &DMatrix<f64>)],
        meta: &[(&str, String)],
    ) -> Result<()> {
        let names = self.params();
        let mut all: Vec<(&str, &DMatrix<f64>)> =
            names.iter().map(|(n, p)| (n.as_str(), *p)).collect();
        all.extend_from_slice(tensors);
        let vocab_json =
            serde_json::to_string(&chars.iter().collect::<String>()).map_err(Error::msg)?;
        let mut metadata = vec![
            ("cell", C::NAME.into()),
            ("layers", self.rnn.layers.len().to_string()),
            ("hidden", self.rnn.hidden_size().to_string()),
            ("vocab", vocab_json),
            ("steps", steps.to_string()),
        ];
        metadata.extend_from_slice(meta);
        shared::checkpoint::save(path, "lstm-gru", &all, &metadata)
    }
}

/// The cell of a checkpoint written by [`CharLm::save`]: "rnn", "lstm" or "gru".
pub fn checkpoint_cell(ck: &shared::checkpoint::Checkpoint) -> Result<&'static str> {
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

/// Rebuilds a [`CharLm`] of cell `C` and its vocabulary (a [`CharStream`] with no text)
/// from a checkpoint.
pub fn load<C: Cell>(mut ck: shared::checkpoint::Checkpoint) -> Result<(CharLm<C>, CharStream)> {
    load_from(&mut ck)
}

/// [`load`] leaving the other tensors (a training checkpoint's) in `ck`.
fn load_from<C: Cell>(ck: &mut shared::checkpoint::Checkpoint) -> Result<(CharLm<C>, CharStream)> {
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
    Ok((model, vocab))
}

/// Metadata keys of a checkpoint that must agree with the flags of a resumed run.
const RESUME_KEYS: [(&str, &str); 4] = [
    ("seq_len", "--seq-len"),
    ("batch", "--batch"),
    ("lr", "--lr"),
    ("text", "--text"),
];

impl<C: FastCell> Session<C> {
    /// Writes the checkpoint: the model as [`CharLm::save`] does (so `sample` reads it), plus
    /// Adam's moments (`adam.v.*`, `adam.s.*`, `adam_t`), the carried states (`state.*`), the
    /// history and the settings a resumed run must share (`seq_len`, `batch`, `lr`, `text`).
    pub fn save(&self, path: &Path, cfg: &TextConfig, corpus: &Corpus) -> Result<()> {
        let names: Vec<String> = self.model.params().into_iter().map(|(n, _)| n).collect();
        let state = self.opt.state();
        let carried: Vec<DMatrix<f64>> = (self.cache.rnn.layers.iter())
            .flat_map(|c| c.initial_state())
            .collect();
        let mut extra: Vec<(String, &DMatrix<f64>)> = Vec::new();
        for (i, n) in names.iter().enumerate() {
            extra.push((format!("adam.v.{n}"), &state.v[i]));
            extra.push((format!("adam.s.{n}"), &state.s[i]));
        }
        for (k, m) in carried.iter().enumerate() {
            extra.push((format!("state.{k}"), m));
        }
        let extra: Vec<(&str, &DMatrix<f64>)> =
            extra.iter().map(|(n, m)| (n.as_str(), *m)).collect();
        let history: Vec<(usize, f64, f64)> = self
            .history
            .iter()
            .map(|e| (e.step, e.train, e.valid))
            .collect();
        let meta = [
            ("seq_len", cfg.seq_len.to_string()),
            ("batch", cfg.batch.to_string()),
            ("lr", cfg.lr.to_string()),
            ("text", fingerprint(corpus)),
            ("adam_t", state.t.to_string()),
            (
                "history",
                serde_json::to_string(&history).map_err(Error::msg)?,
            ),
        ];
        self.model
            .save_with(path, &corpus.stream.chars, self.step, &extra, &meta)
    }

    /// Continues the run of the checkpoint at `path` (written by [`Session::save`]): the same
    /// cell, sizes, settings and text as `cfg` and `corpus`, else an error naming the flag.
    pub fn resume(path: &Path, cfg: &TextConfig, corpus: &Corpus) -> Result<Self> {
        let ck = shared::checkpoint::load(path, "lstm-gru")?;
        let cell = ck.meta_str("cell")?.to_string();
        let flag = |f: &str, given: &dyn std::fmt::Display, stored: &dyn std::fmt::Display| {
            let at = path.display();
            Error::flag(
                f,
                format!(
                    "{given} differs from {stored} in the checkpoint {at}: resume with the flags of its run"
                ),
            )
        };
        if cell != C::NAME {
            return Err(flag("--cell", &C::NAME, &cell));
        }
        for (key, value, f) in [
            ("layers", cfg.layers, "--layers"),
            ("hidden", cfg.hidden, "--hidden"),
        ] {
            let stored: usize = ck.meta(key)?;
            if stored != value {
                return Err(flag(f, &value, &stored));
            }
        }
        let given = [
            cfg.seq_len.to_string(),
            cfg.batch.to_string(),
            cfg.lr.to_string(),
            fingerprint(corpus),
        ];
        for ((key, f), value) in RESUME_KEYS.iter().zip(&given) {
            let stored = ck.meta_str(key)?;
            if stored != value {
                return Err(match *key {
                    "text" => Error::flag(
                        f,
                        format!(
                            "another text than the one the checkpoint {} was trained on",
                            path.display()
                        ),
                    ),
                    _ => flag(f, value, &stored),
                });
            }
        }
        let bad = |msg: String| Error::format(path, "safetensors metadata", msg);
        let step: usize = ck.meta("steps")?;
        let t: u64 = ck.meta("adam_t")?;
        let history: Vec<(usize, f64, f64)> = serde_json::from_str(ck.meta_str("history")?)
            .map_err(|e| {
                bad(format!(
                    "`history` is not a list of (step, train, valid) ({e})"
                ))
            })?;
        let mut ck = ck;
        let (model, _vocab): (CharLm<C>, CharStream) = load_from(&mut ck)?;
        let mut session = Session::new(cfg, model.vocab_size(), 0);
        session.model = model;
        let shapes: Vec<(String, (usize, usize))> = session
            .model
            .params()
            .into_iter()
            .map(|(n, p)| (n, p.shape()))
            .collect();
        let (mut v, mut s) = (Vec::new(), Vec::new());
        for (n, (r, c)) in &shapes {
            v.push(ck.take(&format!("adam.v.{n}"), *r, *c)?);
            s.push(ck.take(&format!("adam.s.{n}"), *r, *c)?);
        }
        session.opt.set_state(shared::optim::State { t, v, s });
        let mut k = 0;
        for cache in session.cache.rnn.layers.iter_mut() {
            let mut state = cache.initial_state();
            for m in state.iter_mut() {
                *m = ck.take(&format!("state.{k}"), m.nrows(), m.ncols())?;
                k += 1;
            }
            cache
                .set_initial_state(&state)
                .map_err(|e| bad(e.to_string()))?;
        }
        session.step = step;
        session.history = history
            .into_iter()
            .map(|(step, train, valid)| Eval {
                step,
                seconds: 0.0,
                wall_seconds: 0.0,
                train,
                valid,
            })
            .collect();
        Ok(session)
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
