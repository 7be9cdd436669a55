//! A character language model on top of a [`Stack`] (Karpathy's char-rnn setting, which the
//! notes cite for "multi-layer RNN or LSTM" on Shakespeare): one-hot characters in, the notes'
//! output layer y_t = Softmax(W_hy h_t + b_y) on the top layer, mean cross-entropy per
//! character, truncated BPTT over chunks of T characters.
//!
//! Batching as in char-rnn: the training text is cut into B equal streams read side by side,
//! so column j of every chunk continues column j of the previous chunk and the hidden state is
//! carried across chunks (the gradient stops at the chunk boundary). Validation reads the held
//! out text the same way, without updates, and reports nats per character.

use crate::{Cell, CellKind, Stack, StackTape, Tape, clip_global_norm};
use nalgebra::DMatrix;
use shared::activation::softmax_columns_mut;
use shared::data::{grammar, text::CharStream};
use shared::error::check_finite;
use shared::kernels::{gemm, gemm_nt, gemm_tn};
use shared::optim::{Optimizer, Rule};
use shared::plot::{Figure, Panel, Series};
use shared::rng::{self, Rng};
use shared::run::Progress;
use shared::{Error, Result};
use std::path::Path;
use std::time::Instant;

/// The ids of the characters of `text` in `vocab` (an unknown character is an error).
pub fn encode(vocab: &CharStream, text: &str) -> Result<Vec<usize>> {
    text.chars()
        .map(|c| {
            vocab.id(c).ok_or_else(|| {
                Error::msg(format!(
                    "the character {c:?} is not in the model's vocabulary"
                ))
            })
        })
        .collect()
}

/// Stacked recurrent layers and the softmax output layer.
#[derive(Clone, Debug, PartialEq)]
pub struct CharLm<C: Cell> {
    /// L layers; layer 0 reads one-hot characters (D = V).
    pub rnn: Stack<C>,
    /// V × H.
    pub W_hy: DMatrix<f64>,
    /// V × 1.
    pub b_y: DMatrix<f64>,
}

/// Forward record and buffers of a [`CharLm`] for T steps of B streams.
#[derive(Clone, Debug)]
pub struct LmTape<C: Cell> {
    /// The stack's tapes (states carry from chunk to chunk).
    pub rnn: StackTape<C>,
    /// V × T·B: one-hot inputs x_t.
    X: DMatrix<f64>,
    /// V × T·B: the probabilities y_t, then (backward) ∂E/∂(W_hy h_t + b_y).
    Y: DMatrix<f64>,
    /// H × T·B: ∂E/∂h_t of the top layer.
    dH: DMatrix<f64>,
}

impl<C: Cell> CharLm<C> {
    /// L layers of H units over a vocabulary of V characters; W_hy uniform in ±1/√H, b_y = 0.
    pub fn new(V: usize, H: usize, L: usize, rng: &mut Rng) -> Self {
        CharLm {
            rnn: Stack::new(V, H, L, rng),
            W_hy: shared::init::uniform_inv_sqrt(V, H, H, rng),
            b_y: DMatrix::zeros(V, 1),
        }
    }

    /// V.
    pub fn vocab_size(&self) -> usize {
        self.W_hy.nrows()
    }

    /// Buffers for T steps of B streams, zero initial states.
    pub fn tape(&self, T: usize, B: usize) -> LmTape<C> {
        let V = self.vocab_size();
        LmTape {
            rnn: self.rnn.tape(T, B),
            X: DMatrix::zeros(V, T * B),
            Y: DMatrix::zeros(V, T * B),
            dH: DMatrix::zeros(self.rnn.hidden_size(), T * B),
        }
    }

    /// Reads `inputs` (T·B character indices, step t of stream j at tB + j) from the tape's
    /// current state; leaves y_t = Softmax(W_hy h_t + b_y) in the tape and returns the mean
    /// cross-entropy against `targets` (same layout), in nats per character.
    pub fn forward(&self, inputs: &[usize], targets: &[usize], tape: &mut LmTape<C>) -> f64 {
        let n = tape.X.ncols();
        assert_eq!(inputs.len(), n, "T·B inputs");
        assert_eq!(targets.len(), n, "T·B targets");
        tape.X.fill(0.0);
        for (col, &c) in inputs.iter().enumerate() {
            tape.X[(c, col)] = 1.0; // x_t: one-hot
        }
        self.rnn.forward(tape.X.columns(0, n), &mut tape.rnn);
        // y_t = Softmax(W_hy h_t + b_y) for every t and stream at once.
        gemm(1.0, &self.W_hy, &tape.rnn.outputs(), 0.0, &mut tape.Y);
        for mut col in tape.Y.column_iter_mut() {
            col += &self.b_y.column(0);
        }
        softmax_columns_mut(&mut tape.Y);
        shared::loss::cross_entropy(&tape.Y, targets)
    }

    /// Forward and backward pass; *accumulates* the gradients into `grad`; returns the loss.
    pub fn backward(
        &self,
        inputs: &[usize],
        targets: &[usize],
        tape: &mut LmTape<C>,
        grad: &mut Self,
    ) -> f64 {
        let loss = self.forward(inputs, targets, tape);
        let n = targets.len();
        // E = −(1/N) Σ log y[target]  ⇒  ∂E/∂(W_hy h_t + b_y) = (y_t − onehot(target))/N
        for (col, &t) in targets.iter().enumerate() {
            tape.Y[(t, col)] -= 1.0;
        }
        tape.Y /= n as f64;
        let dY = &tape.Y; // V × T·B
        gemm_nt(1.0, dY, &tape.rnn.outputs(), 1.0, &mut grad.W_hy); // dW_hy = Σ_t dy_t h_tᵀ
        for col in dY.column_iter() {
            grad.b_y += col; // db_y = Σ_t dy_t
        }
        gemm_tn(1.0, &self.W_hy, dY, 0.0, &mut tape.dH); // ∂E/∂h_t = W_hyᵀ dy_t
        self.rnn.backward(
            tape.X.columns(0, n),
            &mut tape.rnn,
            tape.dH.columns(0, n),
            &mut grad.rnn,
        );
        loss
    }

    /// A zero gradient buffer.
    pub fn zeros_like(&self) -> Self {
        CharLm {
            rnn: self.rnn.zeros_like(),
            W_hy: DMatrix::zeros(self.W_hy.nrows(), self.W_hy.ncols()),
            b_y: DMatrix::zeros(self.b_y.nrows(), 1),
        }
    }

    /// Sets every parameter to zero.
    pub fn zero(&mut self) {
        self.params_mut().into_iter().for_each(|p| p.fill(0.0));
    }

    /// All parameters with their names (`l0.W_xh`, …, `W_hy`, `b_y`).
    pub fn params(&self) -> Vec<(String, &DMatrix<f64>)> {
        let mut p = self.rnn.params();
        p.push(("W_hy".into(), &self.W_hy));
        p.push(("b_y".into(), &self.b_y));
        p
    }

    /// The same parameters, mutable, in the same order.
    pub fn params_mut(&mut self) -> Vec<&mut DMatrix<f64>> {
        let mut p = self.rnn.params_mut();
        p.push(&mut self.W_hy);
        p.push(&mut self.b_y);
        p
    }

    /// Number of parameters.
    pub fn count(&self) -> usize {
        self.params().iter().map(|(_, p)| p.len()).sum()
    }

    /// Mean cross-entropy per character of `ids` (predicting ids[k + 1] from ids[..=k]), read
    /// as B streams in chunks of T with carried state; no updates.
    pub fn evaluate(&self, ids: &[usize], T: usize, B: usize) -> f64 {
        let streams = Streams::new(ids.len(), T, B);
        let mut tape = self.tape(T, B);
        let (mut inputs, mut targets) = (vec![0; T * B], vec![0; T * B]);
        let mut total = 0.0;
        for k in 0..streams.chunks {
            streams.chunk(ids, k, &mut inputs, &mut targets);
            total += self.forward(&inputs, &targets, &mut tape);
            tape.rnn.carry();
        }
        total / streams.chunks as f64
    }

    /// Feeds `prime` (at least one character) and then draws `n` characters, each fed back
    /// in, from y_t with temperature τ (probabilities ∝ y^{1/τ}).
    pub fn sample(&self, prime: &[usize], n: usize, temperature: f64, rng: &mut Rng) -> Vec<usize> {
        assert!(!prime.is_empty(), "sampling needs a first character");
        let mut tape = self.tape(1, 1);
        let mut out = Vec::with_capacity(n);
        let mut weights = vec![0.0; self.vocab_size()];
        let mut next = prime[0];
        for k in 0..prime.len() + n - 1 {
            // The target is irrelevant here; only y_t is used.
            self.forward(&[next], &[0], &mut tape);
            tape.rnn.carry();
            if k + 1 < prime.len() {
                next = prime[k + 1];
                continue;
            }
            for (w, y) in weights.iter_mut().zip(tape.Y.iter()) {
                *w = y.powf(1.0 / temperature);
            }
            next = rng::weighted_index(rng, &weights);
            out.push(next);
        }
        out
    }

    /// [`CharLm::sample`] on text: starts from `prime` (default: a newline, or the
    /// vocabulary's first character if the text has none) and returns prime + the drawn text.
    pub fn sample_text(
        &self,
        vocab: &CharStream,
        prime: Option<&str>,
        n: usize,
        temperature: f64,
        rng: &mut Rng,
    ) -> Result<String> {
        let prime = match prime {
            Some("") => return Err(Error::flag("--prime", "must not be empty")),
            Some(p) => encode(vocab, p).map_err(|e| Error::flag("--prime", e))?,
            None => vec![vocab.id('\n').unwrap_or(0)],
        };
        let drawn = self.sample(&prime, n, temperature, rng);
        Ok(vocab.decode(&prime) + &vocab.decode(&drawn))
    }

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

/// The cell type of a checkpoint written by [`CharLm::save`].
pub fn checkpoint_cell(ck: &shared::checkpoint::Checkpoint) -> Result<CellKind> {
    let name = ck.meta_str("cell")?;
    CellKind::from_name(name).ok_or_else(|| {
        Error::format(
            &ck.path,
            "safetensors metadata",
            format!("unknown cell `{name}`"),
        )
    })
}

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

/// A text of `len` characters cut into B side-by-side streams read in chunks of T.
#[derive(Clone, Copy, Debug)]
pub struct Streams {
    /// Characters per stream (the last one has no target, hence len − 1 in all).
    pub per_stream: usize,
    /// Chunks per pass (per_stream / T).
    pub chunks: usize,
    T: usize,
    B: usize,
}

impl Streams {
    /// The streams of a text of `len` characters (must hold at least one chunk:
    /// len − 1 ≥ T·B).
    pub fn new(len: usize, T: usize, B: usize) -> Streams {
        let per_stream = len.saturating_sub(1) / B;
        Streams {
            per_stream,
            chunks: per_stream / T,
            T,
            B,
        }
    }

    /// Chunk k: inputs[tB + j] = ids[j·per_stream + kT + t], targets the next characters.
    pub fn chunk(&self, ids: &[usize], k: usize, inputs: &mut [usize], targets: &mut [usize]) {
        for t in 0..self.T {
            for j in 0..self.B {
                let p = j * self.per_stream + k * self.T + t;
                inputs[t * self.B + j] = ids[p];
                targets[t * self.B + j] = ids[p + 1];
            }
        }
    }
}

/// Settings of a language-model training run.
#[derive(Clone, Debug)]
pub struct Config {
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
    /// Threads for each mini-batch: the B streams split into groups ([`Parallel`]); 1 runs
    /// the single-threaded code.
    pub threads: usize,
}

impl Config {
    /// Refuses sizes whose buffers (the stack over V inputs, its tape, the one-hot inputs,
    /// probabilities and their gradients) would exceed [`crate::MAX_FLOATS`], naming the flags.
    pub fn check_memory(&self, V: usize) -> Result<()> {
        let (T, B) = (self.seq_len, self.batch);
        let floats = crate::stack_floats(V, self.hidden, self.layers, T, B);
        let output = 3.0 * V as f64 * T as f64 * B as f64;
        crate::check_memory(floats + output, "--hidden, --layers, --seq-len, --batch")
    }
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

impl Eval {
    /// The line a run prints at each validation.
    pub fn line(&self) -> String {
        format!(
            "step {:>5}  {:>7.1} s (wall {:>7.1} s)  train {:.4}  valid {:.4} nats/char",
            self.step, self.seconds, self.wall_seconds, self.train, self.valid
        )
    }
}

/// Sentences of the generated corpus `text` trains on by default (≈ 0.3 M characters).
pub const CORPUS_SENTENCES: usize = 10_000;

/// The text a run trains on: its characters, where validation starts, and (generated corpus
/// only) the exact entropy per character of the validation sentences, the floor of the loss.
pub struct Corpus {
    /// Where the text came from (a file name, or the generated corpus and its seed).
    pub source: String,
    /// The whole text as character ids, and its sorted vocabulary.
    pub stream: CharStream,
    /// ids[..split] train, ids[split..] validate.
    pub split: usize,
    /// Entropy of the validation text in nats per character (generated corpus only).
    pub floor: Option<f64>,
}

impl Corpus {
    /// The file at `path` (last 5 % for validation, as char-rnn), or the generated corpus of
    /// `shared::data::grammar` ([`CORPUS_SENTENCES`] sentences drawn from `seed`, the last 5 %
    /// of the sentences for validation). A text needs at least two distinct characters.
    pub fn load(path: Option<&Path>, seed: u64) -> Result<Corpus> {
        let corpus = match path {
            Some(path) => {
                let stream = CharStream::load(path)?;
                if stream.vocab_size() < 2 {
                    return Err(Error::format(
                        path,
                        "text",
                        format!(
                            "only one distinct character ({:?}): nothing to predict",
                            stream.chars.first().copied().unwrap_or(' ')
                        ),
                    ));
                }
                let split = stream.ids.len() * 95 / 100; // char-rnn's 0.95 / 0.05 split
                let source = path.display().to_string();
                Corpus {
                    source,
                    stream,
                    split,
                    floor: None,
                }
            }
            None => {
                let sentences = grammar::generate_sentences(seed, CORPUS_SENTENCES);
                let n_train = CORPUS_SENTENCES * 95 / 100;
                Corpus {
                    source: format!("generated corpus ({CORPUS_SENTENCES} sentences, seed {seed})"),
                    stream: CharStream::from_text(&grammar::text(&sentences)),
                    split: grammar::text(&sentences[..n_train]).chars().count(),
                    floor: Some(grammar::entropy_per_char(&sentences[n_train..])),
                }
            }
        };
        Ok(corpus)
    }

    /// The training ids.
    pub fn train_ids(&self) -> &[usize] {
        &self.stream.ids[..self.split]
    }

    /// The validation ids.
    pub fn valid_ids(&self) -> &[usize] {
        &self.stream.ids[self.split..]
    }

    /// `fnv1a64:…` of the ids and the split: a resumed run checks it reads the same text.
    pub fn fingerprint(&self) -> String {
        let bytes: Vec<u8> = std::iter::once(self.split)
            .chain(self.stream.ids.iter().copied())
            .flat_map(|i| (i as u64).to_le_bytes())
            .collect();
        let chars: String = self.stream.chars.iter().collect();
        shared::checkpoint::checksum([("ids", bytes.as_slice()), ("chars", chars.as_bytes())])
    }

    /// The first line a run prints: the text, its sizes, the model and the settings.
    pub fn describe(&self, cfg: &Config, cell: &str) -> String {
        format!(
            "{}: {} characters ({} for validation), {} distinct; {} × {} {cell}, seq {}, batch {}, Adam {}",
            self.source,
            self.stream.ids.len(),
            self.valid_ids().len(),
            self.stream.vocab_size(),
            cfg.layers,
            cfg.hidden,
            cfg.seq_len,
            cfg.batch,
            cfg.lr
        )
    }
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

/// A training run in progress: the model, Adam's state, the carried states of the B streams,
/// the steps done and the validation history; everything a checkpoint keeps, so that
/// `--resume` continues exactly where the checkpoint was written.
#[derive(Clone, Debug)]
pub struct Session<C: Cell> {
    /// The model being trained.
    pub model: CharLm<C>,
    /// Adam, with its moments.
    pub opt: Optimizer,
    /// The forward record, whose initial states carry from chunk to chunk.
    pub tape: LmTape<C>,
    /// Steps done.
    pub step: usize,
    /// Every validation so far (after a resume, the earlier ones have zero seconds).
    pub history: Vec<Eval>,
}

/// Metadata keys of a checkpoint that must agree with the flags of a resumed run.
const RESUME_KEYS: [(&str, &str); 4] = [
    ("seq_len", "--seq-len"),
    ("batch", "--batch"),
    ("lr", "--lr"),
    ("text", "--text"),
];

impl<C: Cell> Session<C> {
    /// A fresh run: the model drawn from `seed`, zero states, step 0.
    pub fn new(cfg: &Config, V: usize, seed: u64) -> Self {
        let model: CharLm<C> = CharLm::new(V, cfg.hidden, cfg.layers, &mut rng::stream(seed, 1));
        let tape = model.tape(cfg.seq_len, cfg.batch);
        Session {
            model,
            opt: Optimizer::new(Rule::adam(), cfg.lr),
            tape,
            step: 0,
            history: Vec::new(),
        }
    }

    /// Writes the checkpoint: the model as [`CharLm::save`] does (so `sample` reads it), plus
    /// Adam's moments (`adam.v.*`, `adam.s.*`, `adam_t`), the carried states (`state.*`), the
    /// history and the settings a resumed run must share (`seq_len`, `batch`, `lr`, `text`).
    pub fn save(&self, path: &Path, cfg: &Config, corpus: &Corpus) -> Result<()> {
        let names: Vec<String> = self.model.params().into_iter().map(|(n, _)| n).collect();
        let state = self.opt.state();
        let carried: Vec<DMatrix<f64>> = (self.tape.rnn.tapes.iter())
            .flat_map(|t| t.initial_state())
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
            ("text", corpus.fingerprint()),
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
    pub fn resume(path: &Path, cfg: &Config, corpus: &Corpus) -> Result<Self> {
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
            corpus.fingerprint(),
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
        for tape in session.tape.rnn.tapes.iter_mut() {
            let mut state = tape.initial_state();
            for m in state.iter_mut() {
                *m = ck.take(&format!("state.{k}"), m.nrows(), m.ncols())?;
                k += 1;
            }
            tape.set_initial_state(&state)
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

    /// The loss curves: training and validation loss per step, and the text's entropy as the
    /// floor where it is known.
    pub fn figure(&self, title: String, floor: Option<f64>) -> Figure {
        let (mut train, mut valid) = (Series::new("train"), Series::new("validation"));
        for e in &self.history {
            train.push(e.step as f64, e.train);
            valid.push(e.step as f64, e.valid);
        }
        let mut panel = Panel::new(title, "step", "nats per character");
        if let Some(floor) = floor {
            let mut s = Series::new("entropy of the validation text (floor)");
            s.push(0.0, floor);
            s.push(self.step.max(1) as f64, floor);
            panel = panel.with(s);
        }
        Figure::single(panel.with(train).with(valid))
    }

    /// The run's closing report: validation loss (and the text's entropy), steps, seconds,
    /// parameters, a 300-character sample at temperature 1 drawn with `rng`, the checkpoint.
    pub fn report(&self, corpus: &Corpus, rng: &mut Rng, model_path: &Path) -> Result<String> {
        let e = self.history.last().copied().ok_or_else(|| {
            Error::msg("no training step ran (--steps at or below the checkpoint's)")
        })?;
        let sample = self
            .model
            .sample_text(&corpus.stream, None, 300, 1.0, rng)?;
        let floor = corpus
            .floor
            .map_or(String::new(), |f| format!(" (the text's entropy: {f:.4})"));
        Ok(format!(
            "validation {:.4} nats/char{floor} after {} steps ({:.0} s of training), {} parameters\n\
             --- sample ---\n{sample}\n---\nwrote {}",
            e.valid,
            self.step,
            e.seconds,
            self.model.count(),
            model_path.display()
        ))
    }

    /// summary.json's fields.
    pub fn summary(&self, cfg: &Config, floor: Option<f64>) -> serde_json::Value {
        let e = self.history.last();
        serde_json::json!({"cell": C::NAME, "layers": cfg.layers, "hidden": cfg.hidden,
            "lr": cfg.lr, "params": self.model.count(),
            "train_seconds": e.map(|e| e.seconds), "train_wall_seconds": e.map(|e| e.wall_seconds),
            "final_loss": e.map(|e| e.train), "valid_ce": e.map(|e| e.valid),
            "valid_entropy_floor": floor})
    }
}
/// Trains `session` on `train_ids` up to `cfg.steps` steps (or `cfg.seconds`), validating on
/// `valid_ids` every `cfg.eval_every` steps and at the end; `on_eval` is called at every
/// validation (to print and checkpoint) after it is added to `session.history`. A non-finite
/// training or validation loss stops with "training diverged at step N" before the model of
/// that step reaches `on_eval`; `session` keeps the history up to there for the curves.
pub fn train<C: Cell>(
    cfg: &Config,
    session: &mut Session<C>,
    train_ids: &[usize],
    valid_ids: &[usize],
    progress: &Progress,
    mut on_eval: impl FnMut(&Session<C>, &Eval) -> Result<()>,
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
    let mut grad = session.model.zeros_like();
    let threads = crate::parallel::check_threads(cfg.threads)?;
    let mut parallel = (threads > 1).then(|| Parallel::new(session, threads));
    let (mut inputs, mut targets) = (vec![0; T * B], vec![0; T * B]);
    let (mut seconds, mut wall_seconds, mut sum, mut count) = (0.0, 0.0, 0.0, 0usize);
    progress.inc(session.step as u64);
    while session.step < cfg.steps && cfg.seconds.is_none_or(|s| seconds < s) {
        let clock = TrainClock::start();
        let k = session.step % streams.chunks;
        if k == 0 {
            session.tape.rnn.reset(); // a new pass over the text starts from zero states
            (parallel.iter_mut()).for_each(|p| p.reset());
        }
        streams.chunk(train_ids, k, &mut inputs, &mut targets);
        grad.zero();
        let loss = match parallel.as_mut() {
            None => (session.model).backward(&inputs, &targets, &mut session.tape, &mut grad),
            Some(p) => p.backward(&session.model, &inputs, &targets, &mut grad),
        };
        check_finite(session.step as u64 + 1, loss)?;
        session.tape.rnn.carry();
        (parallel.iter_mut()).for_each(|p| p.carry());
        let mut g = grad.params_mut();
        clip_global_norm(&mut g, cfg.clip);
        let g: Vec<&DMatrix<f64>> = g.into_iter().map(|g| &*g).collect();
        session.opt.step(&mut session.model.params_mut(), &g);
        session.step += 1;
        let (budget, wall) = clock.elapsed();
        (seconds, wall_seconds) = (seconds + budget, wall_seconds + wall);
        (sum, count) = (sum + loss, count + 1);
        progress.inc(1);
        let last = session.step == cfg.steps || cfg.seconds.is_some_and(|s| seconds >= s);
        if session.step.is_multiple_of(cfg.eval_every) || last {
            // The updated model is judged before it may be checkpointed: a non-finite
            // validation loss is a divergence too (the training loss was of the model before).
            let valid = check_finite(session.step as u64, session.model.evaluate(valid_ids, T, B))?;
            let train = sum / count as f64;
            (sum, count) = (0.0, 0);
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
                p.store_state(session); // the checkpoint keeps the streams' carried states
            }
            on_eval(session, &e)?;
        }
    }
    if let Some(p) = &parallel {
        p.store_state(session);
    }
    Ok(())
}

/// [`CharLm::backward`] with the B streams split into contiguous groups, one per thread
/// ([`crate::parallel`]). Each group has its own inputs, tape (which carries its streams'
/// states from chunk to chunk) and gradient buffer, made once per run.
#[derive(Clone, Debug)]
pub struct Parallel<C: Cell> {
    parts: Vec<Part<C>>,
}

/// The streams j0 .. j0 + B_g.
#[derive(Clone, Debug)]
struct Part<C: Cell> {
    j0: usize,
    /// w_g = B_g / B.
    w: f64,
    inputs: Vec<usize>,
    targets: Vec<usize>,
    tape: LmTape<C>,
    grad: CharLm<C>,
    loss: f64,
}

impl<C: Cell> Parallel<C> {
    /// Groups for `session`'s T and B on `threads` threads (fewer if B < threads), starting
    /// from the session tape's carried states (those of a resumed checkpoint).
    pub fn new(session: &Session<C>, threads: usize) -> Self {
        let (T, B) = (session.tape.rnn.steps(), session.tape.rnn.batch());
        let parts = crate::parallel::groups(B, threads)
            .into_iter()
            .map(|(j0, b)| {
                let mut tape = session.model.tape(T, b);
                for (mine, all) in tape.rnn.tapes.iter_mut().zip(&session.tape.rnn.tapes) {
                    let state: Vec<DMatrix<f64>> = (all.initial_state().iter())
                        .map(|m| m.columns(j0, b).into_owned())
                        .collect();
                    mine.set_initial_state(&state)
                        .expect("same layers and shapes");
                }
                Part {
                    j0,
                    w: b as f64 / B as f64,
                    inputs: vec![0; T * b],
                    targets: vec![0; T * b],
                    tape,
                    grad: session.model.zeros_like(),
                    loss: 0.0,
                }
            })
            .collect();
        Parallel { parts }
    }

    /// Threads used.
    pub fn threads(&self) -> usize {
        self.parts.len()
    }

    /// Zero states in every group.
    pub fn reset(&mut self) {
        self.parts.iter_mut().for_each(|p| p.tape.rnn.reset());
    }

    /// h_0 ← h_T (and c_0 ← c_T) in every group.
    pub fn carry(&mut self) {
        self.parts.iter_mut().for_each(|p| p.tape.rnn.carry());
    }

    /// Copies the groups' carried states into `session`'s tape (columns j0 .. j0 + B_g).
    pub fn store_state(&self, session: &mut Session<C>) {
        for (l, all) in session.tape.rnn.tapes.iter_mut().enumerate() {
            let mut state = all.initial_state();
            for p in &self.parts {
                let mine = p.tape.rnn.tapes[l].initial_state();
                for (m, g) in state.iter_mut().zip(&mine) {
                    m.columns_mut(p.j0, g.ncols()).copy_from(g);
                }
            }
            all.set_initial_state(&state)
                .expect("same layers and shapes");
        }
    }

    /// Forward and backward pass of the chunk (`inputs`, `targets`: T·B ids, step t of stream
    /// j at tB + j), group g on thread g; *accumulates* ∂E/∂θ = Σ_g w_g ∂E_g/∂θ into `grad`
    /// and returns E = Σ_g w_g E_g (g in order).
    pub fn backward(
        &mut self,
        model: &CharLm<C>,
        inputs: &[usize],
        targets: &[usize],
        grad: &mut CharLm<C>,
    ) -> f64 {
        let T = self.parts[0].tape.rnn.steps();
        let B = inputs.len() / T;
        for p in self.parts.iter_mut() {
            let b = p.inputs.len() / T;
            for t in 0..T {
                let (mine, all) = (t * b..(t + 1) * b, t * B + p.j0..t * B + p.j0 + b);
                p.inputs[mine.clone()].copy_from_slice(&inputs[all.clone()]);
                p.targets[mine].copy_from_slice(&targets[all]);
            }
        }
        crate::parallel::for_each_part(&mut self.parts, |p| {
            p.grad.zero();
            p.loss = model.backward(&p.inputs, &p.targets, &mut p.tape, &mut p.grad);
        });
        let parts: Vec<(f64, Vec<&mut DMatrix<f64>>)> = (self.parts.iter_mut())
            .map(|p| (p.w, p.grad.params_mut()))
            .collect();
        crate::parallel::add_weighted(grad.params_mut(), &parts);
        self.parts.iter().map(|p| p.w * p.loss).sum()
    }
}
