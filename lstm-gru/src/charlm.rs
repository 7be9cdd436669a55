//! A character language model on top of a [`Stack`] (Karpathy's char-rnn setting, which the
//! notes cite for "multi-layer RNN or LSTM" on Shakespeare): one-hot characters in, the notes'
//! output layer y_t = Softmax(W_hy h_t + b_y) on the top layer, mean cross-entropy per
//! character, truncated BPTT over chunks of T characters.
//!
//! Batching as in char-rnn: the training text is cut into B equal streams read side by side,
//! so column j of every chunk continues column j of the previous chunk and the hidden state is
//! carried across chunks (the gradient stops at the chunk boundary). Validation reads the held
//! out text the same way, without updates, and reports nats per character.

use crate::{Cell, CellKind, Stack, StackTape, clip_global_norm};
use nalgebra::DMatrix;
use shared::activation::softmax_columns_mut;
use shared::data::text::CharStream;
use shared::error::check_finite;
use shared::linalg::{gemm, gemm_nt, gemm_tn};
use shared::optim::{Optimizer, Rule};
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
        let names = self.params();
        let tensors: Vec<(&str, &DMatrix<f64>)> =
            names.iter().map(|(n, p)| (n.as_str(), *p)).collect();
        let vocab_json =
            serde_json::to_string(&chars.iter().collect::<String>()).map_err(Error::msg)?;
        shared::checkpoint::save(
            path,
            "lstm-gru",
            &tensors,
            &[
                ("cell", C::NAME.into()),
                ("layers", self.rnn.layers.len().to_string()),
                ("hidden", self.rnn.hidden_size().to_string()),
                ("vocab", vocab_json),
                ("steps", steps.to_string()),
            ],
        )
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
    let bad = |msg: String| Error::format(&ck.path, "safetensors metadata", msg);
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
    // Build a model of the right shape, then replace every parameter by the stored one.
    let mut model: CharLm<C> = CharLm::new(vocab.vocab_size(), H, L, &mut rng::seeded(0));
    let names: Vec<String> = model.params().into_iter().map(|(n, _)| n).collect();
    for (name, p) in names.iter().zip(model.params_mut()) {
        *p = ck.take(name, p.nrows(), p.ncols())?;
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

/// Trains a [`CharLm`] of cell `C` on `train_ids`, validating on `valid_ids`; `on_eval` is
/// called at every validation (to print, plot, checkpoint). Returns the model and the steps.
pub fn train<C: Cell>(
    cfg: &Config,
    V: usize,
    train_ids: &[usize],
    valid_ids: &[usize],
    seed: u64,
    progress: &Progress,
    mut on_eval: impl FnMut(&CharLm<C>, &Eval) -> Result<()>,
) -> Result<(CharLm<C>, usize)> {
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
    let mut model: CharLm<C> = CharLm::new(V, cfg.hidden, cfg.layers, &mut rng::stream(seed, 1));
    let mut grad = model.zeros_like();
    let mut tape = model.tape(T, B);
    let mut opt = Optimizer::new(Rule::adam(), cfg.lr);
    let (mut inputs, mut targets) = (vec![0; T * B], vec![0; T * B]);
    let (mut seconds, mut wall_seconds, mut sum, mut count) = (0.0, 0.0, 0.0, 0usize);
    let mut step = 0;
    while step < cfg.steps && cfg.seconds.is_none_or(|s| seconds < s) {
        let clock = TrainClock::start();
        let k = step % streams.chunks;
        if k == 0 {
            tape.rnn.reset(); // a new pass over the text starts from zero states
        }
        streams.chunk(train_ids, k, &mut inputs, &mut targets);
        grad.zero();
        let loss = model.backward(&inputs, &targets, &mut tape, &mut grad);
        check_finite(step as u64 + 1, loss)?;
        tape.rnn.carry();
        let mut g = grad.params_mut();
        clip_global_norm(&mut g, cfg.clip);
        let g: Vec<&DMatrix<f64>> = g.into_iter().map(|g| &*g).collect();
        opt.step(&mut model.params_mut(), &g);
        step += 1;
        let (budget, wall) = clock.elapsed();
        (seconds, wall_seconds) = (seconds + budget, wall_seconds + wall);
        (sum, count) = (sum + loss, count + 1);
        progress.inc(1);
        let last = step == cfg.steps || cfg.seconds.is_some_and(|s| seconds >= s);
        if step % cfg.eval_every == 0 || last {
            let valid = model.evaluate(valid_ids, T, B);
            let train = sum / count as f64;
            (sum, count) = (0.0, 0);
            progress.set_message(format!("train {train:.3} valid {valid:.3} nats/char"));
            on_eval(
                &model,
                &Eval {
                    step,
                    seconds,
                    wall_seconds,
                    train,
                    valid,
                },
            )?;
        }
    }
    Ok((model, step))
}
