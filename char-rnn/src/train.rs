//! The reference's main loop, one iteration at a time: position in the text, carried hidden
//! state, smoothed loss, clipping and Adagrad. Everything here is saved in a checkpoint, so a
//! resumed run continues bit for bit.

use crate::fast::{self, Cache, FastGrads, FastRnn, Kernels};
use crate::model::CharRnn;
use crate::vocab::Text;
use nalgebra::DVector;
use shared::optim::{Eps, Optimize, Rule};
use shared::plot::{Figure, Panel, Series};
use shared::rng::{self, Rng};
use shared::{Result, error::check_nats};

/// The smoothed loss is recorded for the loss curve every this many iterations.
pub const HISTORY_EVERY: u64 = 10;

/// The loss of iteration `n` on a chunk of `T` characters if the training has not diverged
/// ([`shared::error::check_nats`]: finite, at most T · 744.44 nats).
pub fn check_loss(n: u64, loss: f64, T: usize) -> Result<f64> {
    check_nats(n, loss, T, "characters")
}

/// The hyperparameters (the reference's values are the defaults of the command line).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    /// N_h (reference: 100).
    pub hidden: usize,
    /// T, characters per chunk (reference: 25).
    pub seq_len: usize,
    /// Adagrad learning rate (reference: 0.1).
    pub lr: f64,
    /// Element-wise gradient clip (reference: 5).
    pub clip: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            hidden: 100,
            seq_len: 25,
            lr: 0.1,
            clip: 5.0,
        }
    }
}

/// Adagrad as the reference writes it: mem += d²; W −= lr·d / sqrt(mem + 1e-8).
pub fn adagrad() -> Rule {
    Rule::Adagrad {
        eps: 1e-8,
        at: Eps::InsideSqrt,
    }
}

/// A model being trained in the engine's float type `F` (`--dtype`), and where it is in the
/// text.
#[derive(Clone, Debug)]
pub struct Trainer<F: Kernels = f64> {
    /// The parameters.
    pub model: FastRnn<F>,
    /// Adagrad and its memories (one per parameter, in the order U, W, V, b_h, b_y).
    pub opt: F::Optimizer,
    /// The hyperparameters.
    pub config: Config,
    /// The state carried into the next chunk (the reference's `hprev`): N_h × 1.
    pub s_prev: DVector<F>,
    /// Iterations done (the reference's `n`).
    pub n: u64,
    /// Where the next chunk starts in the text (the reference's `p`, a multiple of T).
    pub p: usize,
    /// 0.999·smooth + 0.001·loss, starting at T·ln N_x (the reference's `smooth_loss`).
    pub smooth_loss: f64,
    /// The generator of the samples printed during training.
    pub rng: Rng,
    /// (iteration, smoothed loss) every [`HISTORY_EVERY`] iterations.
    pub history: Vec<(u64, f64)>,
    grads: FastGrads<F>,
    cache: Cache<F>,
    /// The distinct characters of the current chunk, sorted (the non-zero columns of dU).
    seen: Vec<usize>,
}

impl<F: Kernels> Trainer<F> {
    /// A fresh model for a vocabulary of `N_x` characters: weights from stream 0 of `seed`
    /// (drawn in f64 by the notes layer, then rounded to `F`), samples from stream 1.
    pub fn new(N_x: usize, config: Config, seed: u64) -> Result<Self> {
        let model = CharRnn::new(N_x, config.hidden, &mut rng::stream(seed, 0));
        Ok(Self::from_parts(
            FastRnn::from_model(&model),
            F::Optimizer::create(adagrad(), config.lr)?,
            config,
            rng::stream(seed, 1),
        ))
    }

    /// A trainer at the start of the text around an existing model and optimizer (a
    /// checkpoint then restores the position, the state and the counters).
    pub fn from_parts(model: FastRnn<F>, opt: F::Optimizer, config: Config, rng: Rng) -> Self {
        let (N_x, N_h, T) = (model.n_x(), model.n_h(), config.seq_len);
        Trainer {
            grads: FastGrads::zeros_like(&model),
            cache: Cache::new(N_x, N_h, T),
            seen: Vec::with_capacity(T),
            s_prev: DVector::zeros(N_h),
            n: 0,
            p: 0,
            // smooth_loss = −ln(1/N_x)·T: the loss of the uniform guess.
            smooth_loss: T as f64 * (N_x as f64).ln(),
            history: Vec::new(),
            model,
            opt,
            config,
            rng,
        }
    }

    /// The gradients of the last iteration (after clipping).
    pub fn grads(&self) -> &FastGrads<F> {
        &self.grads
    }

    /// One iteration of the reference's loop on `text`: loss and gradients of the chunk at p,
    /// smoothed loss, clip, Adagrad, then on to the next chunk. Returns the chunk's loss
    /// (summed over its T characters).
    pub fn step(&mut self, text: &Text) -> Result<f64> {
        let T = self.config.seq_len;
        let (x, targets) = self.chunk(text);
        let (m, s, c, g) = (&self.model, &self.s_prev, &mut self.cache, &mut self.grads);
        let loss = fast::loss_and_grads(m, x, targets, s, c, g);
        check_loss(self.n, loss, T)?;
        self.smooth_loss = 0.999 * self.smooth_loss + 0.001 * loss;
        if self.n.is_multiple_of(HISTORY_EVERY) {
            self.history.push((self.n, self.smooth_loss));
        }
        // hprev = hs[T−1]: the state carried into the next chunk.
        self.s_prev.copy_from(&self.cache.last_state());
        // dU = Σ_t dz_t x_tᵀ is zero outside the columns of the characters in this chunk; there
        // clipping and Adagrad change nothing (mem += 0², W −= 0), so they visit only `seen`.
        self.seen.clear();
        self.seen.extend_from_slice(x);
        self.seen.sort_unstable();
        self.seen.dedup();
        fast::clip_seen(&mut self.grads, self.config.clip, &self.seen);
        // mem += d²;  W −= lr·d / sqrt(mem + 1e-8), for U, W, V, b_h, b_y in that order.
        self.opt.set_lr(self.config.lr);
        self.opt.begin_step();
        let g = &self.grads;
        let m = &mut self.model;
        self.opt.update_columns(0, &mut m.U, &g.dU, &self.seen);
        self.opt.update(1, &mut m.W, &g.dW);
        self.opt.update(2, &mut m.V, &g.dV);
        self.opt.update(3, &mut m.b_h, &g.db_h);
        self.opt.update(4, &mut m.b_y, &g.db_y);
        self.n += 1;
        // p += T, back to 0 once p + T + 1 ≥ len(data), where the reference (at the top of its
        // loop) also sets hprev = 0. Doing it right after the move is the same rule, and keeps
        // p valid between iterations and in checkpoints.
        let next = text
            .windows
            .window((self.p / T + 1) % text.windows.per_pass());
        self.p = next.p;
        if next.reset {
            self.s_prev.fill(F::zero());
        }
        Ok(loss)
    }

    /// The chunk at p: (inputs data[p : p+T], targets data[p+1 : p+T+1]).
    fn chunk<'a>(&self, text: &'a Text) -> (&'a [usize], &'a [usize]) {
        let w = text.windows.window(self.p / self.config.seq_len);
        assert_eq!(w.p, self.p, "position {} is not a chunk start", self.p);
        (&text.data[w.inputs], &text.data[w.targets])
    }

    /// The loss of the next chunk under the current weights, without learning from it (only
    /// scratch buffers change): an error if it is not finite. Checked before a checkpoint is
    /// written, so a diverged run never replaces the last good one.
    pub fn check_next(&mut self, text: &Text) -> Result<f64> {
        let (x, targets) = self.chunk(text);
        let loss = fast::forward(&self.model, x, targets, &self.s_prev, &mut self.cache);
        check_loss(self.n, loss, self.config.seq_len)
    }

    /// The reference's progress sample: `len` characters drawn from the carried state and the
    /// next input character, at temperature 1, without changing the training state (only the
    /// sampling generator advances).
    pub fn sample_here(&mut self, text: &Text, len: usize) -> Vec<usize> {
        let mut s = self.s_prev.clone();
        fast::sample(
            &self.model,
            &mut s,
            text.data[self.p],
            len,
            1.0,
            &mut self.rng,
        )
    }

    /// The loss curve: the smoothed loss per chunk of T characters (as the reference prints
    /// it), and the same per character; `floor` adds a line at a known entropy per character.
    pub fn loss_figure(&self, title: String, floor: Option<(&str, f64)>) -> Figure {
        let T = self.config.seq_len as f64;
        let mut per_chunk = Series::new(format!("smoothed loss (sum over T = {T} characters)"));
        let mut per_char = Series::new("smoothed loss / T");
        for &(n, l) in &self.history {
            per_chunk.push(n as f64, l);
            per_char.push(n as f64, l / T);
        }
        let mut right = Panel::new(
            "the same in nats per character",
            "iteration",
            "nats per character",
        )
        .with(per_char);
        if let (Some((name, h)), Some(&(first, _)), Some(&(last, _))) =
            (floor, self.history.first(), self.history.last())
        {
            let mut line = Series::new(name);
            line.push(first as f64, h);
            line.push(last as f64, h);
            right = right.with(line);
        }
        Figure {
            title,
            panels: vec![
                Panel::new(
                    "smoothed loss per chunk",
                    "iteration",
                    "loss (nats per chunk)",
                )
                .with(per_chunk),
                right,
            ],
        }
    }
}

/// The loss of `model` on a whole text (character indices `data`, at least two): every
/// character after the first predicted from all the characters before it, the hidden state
/// carried from the start of the text to its end (as training carries it from chunk to chunk),
/// computed chunk by chunk with the training's forward pass ([`fast::forward`]) on chunks of
/// `T` characters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// Characters predicted: the text's length − 1.
    pub predicted: usize,
    /// Σ −ln y(next character) over them, in nats.
    pub loss: f64,
}

impl Evaluation {
    /// Nats per character.
    pub fn per_char(&self) -> f64 {
        self.loss / self.predicted as f64
    }

    /// Perplexity, e^(nats per character): the number of equally likely characters that
    /// would be as hard to predict.
    pub fn perplexity(&self) -> f64 {
        self.per_char().exp()
    }

    /// Bits per character: nats / ln 2.
    pub fn bits_per_char(&self) -> f64 {
        self.per_char() / std::f64::consts::LN_2
    }
}

/// [`Evaluation`] of `model` on `data` in chunks of `T` characters.
pub fn evaluate<F: Kernels>(model: &FastRnn<F>, data: &[usize], T: usize) -> Evaluation {
    assert!(
        data.len() >= 2 && T >= 1,
        "a text of two characters, chunks of one"
    );
    let (N_x, N_h) = (model.n_x(), model.n_h());
    let predicted = data.len() - 1;
    let mut cache = Cache::new(N_x, N_h, T.min(predicted));
    let mut s = DVector::zeros(N_h); // N_h × 1: the state carried through the text
    let mut loss = 0.0;
    for start in (0..predicted).step_by(T) {
        let len = T.min(predicted - start);
        if cache.seq_len() != len {
            cache = Cache::new(N_x, N_h, len); // the last, shorter chunk
        }
        let (x, targets) = (&data[start..start + len], &data[start + 1..start + len + 1]);
        loss += fast::forward(model, x, targets, &s, &mut cache);
        s.copy_from(&cache.last_state());
    }
    Evaluation { predicted, loss }
}
