//! `model.safetensors`: the model, its vocabulary and what `--resume` needs to continue exactly,
//! as the run session's [`Checkpointed`] state (the session writes the file atomically, with
//! the program version and the run's flags). It is rewritten at every evaluation, as the
//! tutorial's Theano version saves its parameters after each loss evaluation, and at Ctrl-C.
//!
//! Tensors (F64, row-major): `U, W, V` (the model; F32 for a `--dtype f32` run, which also
//! writes the metadata `dtype` = `f32`), `evals` (n × 5: epoch, sentences seen,
//! loss, learning rate, halved), `running` (m × 2: sentences seen, running mean). Metadata: the
//! vocabulary (a JSON list of its words, id order), `hidden`, `seen` (sentences trained on, also
//! in the middle of an epoch), `sentences` per epoch, `average` (the running mean now), the
//! training data's name and fingerprint.

use crate::corpus::Prepared;
use crate::model::Rnn;
use crate::train::{Curves, Evaluation, Position};
use nalgebra::DMatrix;
use shared::checkpoint::{self, Checkpoint};
use shared::cli::Dtype;
use shared::data::text::{SENTENCE_END, SENTENCE_START, Vocab};
use shared::kernels::narrow;
use shared::session::{Checkpointed, Tensors};
use shared::{Error, Result};
use std::path::Path;

/// A training run as the checkpoint holds it.
#[derive(Clone, Debug)]
pub struct State {
    /// U, W, V (as f64: exact also for an f32 run's weights).
    pub model: Rnn,
    /// The float type the run trains in: f32 weights are stored as F32.
    pub dtype: Dtype,
    /// The words, id order.
    pub vocab: Vocab,
    /// Where training is: the evaluations so far and the sentences trained on.
    pub at: Position,
    /// The curves so far.
    pub curves: Curves,
    /// Sentences per epoch.
    pub sentences: usize,
    /// The training data: a path or `generated:<seed>:<sentences>`.
    pub source: String,
    /// [`fingerprint`] of the training sentences.
    pub data: String,
}

/// What a resume checks the checkpoint against: the data it is given and the run's total.
pub struct Resume<'a> {
    /// The float type the run trains in (`--dtype`): the checkpoint's must be the same.
    pub dtype: Dtype,
    /// The prepared data (vocabulary and sentences).
    pub data: &'a Prepared,
    /// Training sentences per epoch (`--sentences`).
    pub sentences: usize,
    /// Hidden units N_h (`--hidden`).
    pub hidden: usize,
    /// Where the data comes from, for messages.
    pub source: &'a str,
    /// SGD steps in all (`--epochs` × sentences), for the curves' spacing.
    pub steps: u64,
}

/// `fnv1a64:…` of the first `n` sentences' word ids: a resume checks it trains on the same data.
pub fn fingerprint(data: &Prepared, n: usize) -> String {
    let bytes: Vec<u8> = data.sentences[..n]
        .iter()
        .flat_map(|s| s.iter().map(|&id| id as u32).chain([u32::MAX]))
        .flat_map(u32::to_le_bytes)
        .collect();
    checkpoint::checksum([("sentences", bytes.as_slice())])
}

impl Checkpointed for State {
    type Context<'a> = Resume<'a>;

    fn save(&self, out: &mut Tensors) {
        let m = &self.model;
        for (name, w) in [("U", &m.U), ("W", &m.W), ("V", &m.V)] {
            match self.dtype {
                Dtype::F64 => out.matrix(name, w),
                Dtype::F32 => out.matrix(name, &narrow::<f32>(w)), // exact: f32 values
            }
        }
        if self.dtype != Dtype::F64 {
            out.meta("dtype", self.dtype.as_str()); // f64 runs write what they always wrote
        }
        // n × 5: epoch, seen, loss, lr, halved (counts are exact in f64 below 2^53).
        let h = &self.at.history;
        let evals = DMatrix::from_row_iterator(
            h.len(),
            5,
            h.iter().flat_map(|e| {
                let halved = if e.halved { 1.0 } else { 0.0 };
                [e.epoch as f64, e.seen as f64, e.loss, e.lr, halved]
            }),
        );
        out.matrix("evals", &evals);
        let points = &self.curves.running.points;
        let running =
            DMatrix::from_row_iterator(points.len(), 2, points.iter().flat_map(|&(x, y)| [x, y])); // m × 2: seen, running mean
        out.matrix("running", &running);
        out.json("vocabulary", &self.vocab.words());
        out.meta("hidden", m.N_h());
        out.meta("seen", self.at.seen);
        out.meta("sentences", self.sentences);
        let average = self.curves.average;
        out.meta("average", average.map_or("none".into(), |a| a.to_string()));
        out.meta("source", &self.source);
        out.meta("data", &self.data);
    }

    /// The whole training state, checked against the data it is given: the same vocabulary and
    /// sentences, and evaluations that belong to a run of this many sentences per epoch.
    fn load(ck: &mut Checkpoint, r: Resume<'_>) -> Result<Self> {
        let (model, vocab) = read_model(ck)?;
        let dtype = ck.dtype()?;
        if dtype != r.dtype {
            let msg = format!(
                "{} holds a model trained in {}, not {}",
                ck.path.display(),
                dtype.as_str(),
                r.dtype.as_str()
            );
            return Err(Error::flag("--dtype", msg));
        }
        let folder = ck.path.parent().unwrap_or(Path::new(".")).display();
        let (source, data) = (ck.meta_str("source")?.to_string(), ck.meta_str("data")?);
        if vocab.words() != r.data.vocab.words() || data != fingerprint(r.data, r.sentences) {
            return Err(Error::flag(
                "--resume",
                format!(
                    "the run in {folder} was trained on other sentences ({source}, {} words) \
                     than {} ({} words): resume with the same --csv/--text, --sentences and \
                     --vocab",
                    vocab.len(),
                    r.source,
                    r.data.vocab.len()
                ),
            ));
        }
        let data = data.to_string();
        if model.N_h() != r.hidden {
            let msg = format!("{}, but the checkpoint has {}", r.hidden, model.N_h());
            return Err(Error::flag("--hidden", msg));
        }
        let file = ck.path.clone();
        let bad = |what: &str| Error::format(&file, "safetensors", what);
        let n = r.sentences as u64;
        let (seen, stored_n): (u64, u64) = (ck.meta("seen")?, ck.meta("sentences")?);
        let average = match ck.meta_str("average")? {
            "none" => None,
            a => Some(
                a.parse::<f64>()
                    .ok()
                    .filter(|a| a.is_finite())
                    .ok_or_else(|| bad(&format!("`average` = {a:?} is not a finite number")))?,
            ),
        };
        let rows = ck.shape("evals").map_or(0, |s| s.0);
        let evals = ck.take("evals", rows, 5)?;
        let history: Vec<Evaluation> = evals
            .row_iter()
            .map(|r| Evaluation {
                epoch: r[0] as u64,
                seen: r[1] as u64,
                loss: r[2],
                lr: r[3],
                halved: r[4] != 0.0,
            })
            .collect();
        let last = *history
            .last()
            .ok_or_else(|| bad("no evaluation in `evals`"))?;
        let counts_ok = evals
            .row_iter()
            .all(|r| r[0] >= 0.0 && r[1] >= 0.0 && r[0].fract() == 0.0 && r[1].fract() == 0.0);
        let in_order = history
            .windows(2)
            .all(|w| w[0].epoch < w[1].epoch && w[0].seen <= w[1].seen);
        if stored_n != n
            || !counts_ok
            || !in_order
            || last.lr <= 0.0
            || last.seen != last.epoch * n
            || seen < last.seen
        {
            return Err(bad("`evals` is not a sequence of evaluations of this run"));
        }
        let rows = ck.shape("running").map_or(0, |s| s.0);
        let running = ck.take("running", rows, 2)?;
        let mut curves = Curves::new(r.steps);
        for e in &history {
            curves.eval(e);
        }
        for p in running.row_iter() {
            curves.running.push(p[0], p[1]);
        }
        curves.average = average;
        Ok(State {
            model,
            dtype,
            vocab,
            at: Position { history, seen },
            curves,
            sentences: r.sentences,
            source,
            data,
        })
    }
}

/// The model and its vocabulary, every shape checked against the vocabulary.
fn read_model(ck: &mut Checkpoint) -> Result<(Rnn, Vocab)> {
    let bad = |msg: String| Error::format(&ck.path, "safetensors metadata", msg);
    let text = ck.meta_str("vocabulary").map_err(|_| {
        bad(
            "has no `vocabulary` (a file of an rnn-lm older than the run session, which kept it \
             in vocab.txt: train the model again)"
                .into(),
        )
    })?;
    let words: Vec<String> = serde_json::from_str(text)
        .map_err(|e| bad(format!("`vocabulary` is not a JSON list of words ({e})")))?;
    let vocab = Vocab::from_words(words).map_err(|e| bad(format!("`vocabulary`: {e}")))?;
    for marker in [SENTENCE_START, SENTENCE_END] {
        if vocab.id(marker).is_none() {
            return Err(bad(format!(
                "`vocabulary` has no {marker}: not the vocabulary of an rnn-lm run"
            )));
        }
    }
    let N_h = ck.meta::<usize>("hidden")?;
    if N_h == 0 {
        return Err(bad(
            "`hidden` = 0: a model needs at least one hidden unit".into()
        ));
    }
    let N_x = vocab.len();
    let model = Rnn {
        U: ck.take("U", N_h, N_x)?,
        W: ck.take("W", N_h, N_h)?,
        V: ck.take("V", N_x, N_h)?,
    };
    Ok((model, vocab))
}

/// A trained model as `sample` and `eval` read it.
#[derive(Clone, Debug)]
pub struct Trained {
    /// U, W, V.
    pub model: Rnn,
    /// Its words.
    pub vocab: Vocab,
    /// Sentences it was trained on (SGD steps).
    pub seen: u64,
    /// Sentences per epoch.
    pub sentences: u64,
    /// The data it was trained on.
    pub source: String,
    /// The float type it was trained in (its weights are read as f64, exactly).
    pub dtype: Dtype,
}

impl Trained {
    /// What the `model:` line says after the file's name.
    pub fn describe(&self) -> String {
        let epochs = self.seen as f64 / self.sentences.max(1) as f64;
        let dtype = match self.dtype {
            Dtype::F64 => String::new(),
            d => format!(", trained in {d}"),
        };
        format!(
            "N_x = {}, N_h = {}, {epochs} epochs of {} sentences of {}{dtype}",
            self.vocab.len(),
            self.model.N_h(),
            self.sentences,
            self.source
        )
    }
}

/// Loads the model and its vocabulary from `path` (for `sample` and `eval`).
pub fn load_model(path: &Path) -> Result<Trained> {
    let mut ck = checkpoint::load(path, crate::CHAPTER.name)?;
    let (model, vocab) = read_model(&mut ck)?;
    Ok(Trained {
        model,
        vocab,
        seen: ck.meta("seen")?,
        sentences: ck.meta("sentences")?,
        source: ck.meta_str("source")?.to_string(),
        dtype: ck.dtype()?,
    })
}
