//! `model.safetensors`: the model, and everything a resumed run needs to continue exactly.
//!
//! One file, written atomically (temp file + rename), so a crash mid-save leaves the previous
//! checkpoint whole. Tensors (F64, row-major, loadable by `safetensors` in Python):
//! `U, W, V, b_h, b_y` (the model), `adagrad.U … adagrad.b_y` (Adagrad's memories), `s_prev`
//! (the carried hidden state), `history` (2 × K: iteration, smoothed loss). Metadata: the
//! sizes, the vocabulary (a JSON string of its characters), the learning rate and clip, the
//! iteration, the position in the text, the smoothed loss, the sampling generator's state and a
//! fingerprint of the training text.

use crate::model::CharRnn;
use crate::train::{Config, Trainer, adagrad};
use crate::vocab::{Text, Vocab};
use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use shared::checkpoint::{self, Checkpoint};
use shared::optim::{Optimizer, State};
use shared::rng::Rng;
use shared::{Error, Result};
use std::path::Path;

/// The chapter name recorded in (and required of) every checkpoint.
pub const CHAPTER: &str = "char-rnn";
/// The checkpoint's file name inside `--out` / `--resume` / `--model` folders.
pub const FILE: &str = "model.safetensors";
const NAMES: [&str; 5] = ["U", "W", "V", "b_h", "b_y"];

/// Where the training text came from, and its fingerprint (checked on `--resume`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextInfo {
    /// A file path, or a description of the generated corpus.
    pub source: String,
    /// Number of characters.
    pub chars: usize,
    /// FNV-1a of its bytes.
    pub hash: u64,
}

/// Saves `trainer` (trained on a text with vocabulary `vocab`, described by `text`) to `path`.
/// Weights that are no longer finite are not saved (the training diverged; the checkpoint
/// already on disk stays the last good one): that is an error.
pub fn save(path: &Path, trainer: &Trainer, vocab: &Vocab, text: &TextInfo) -> Result<()> {
    let m = &trainer.model;
    if [&m.U, &m.W, &m.V, &m.b_h, &m.b_y]
        .iter()
        .any(|p| p.iter().any(|v| !v.is_finite()))
    {
        return Err(Error::msg(format!(
            "training diverged at step {}: the weights are no longer finite (try a smaller --lr); \
             {} was left as it was",
            trainer.n.saturating_sub(1),
            path.display()
        )));
    }
    let st = trainer.opt.state();
    let mut tensors: Vec<(String, &DMatrix<f64>)> = vec![
        ("U".into(), &m.U),
        ("W".into(), &m.W),
        ("V".into(), &m.V),
        ("b_h".into(), &m.b_h),
        ("b_y".into(), &m.b_y),
    ];
    for (name, mem) in NAMES.iter().zip(&st.s) {
        tensors.push((format!("adagrad.{name}"), mem));
    }
    let s_prev = DMatrix::from_column_slice(m.n_h(), 1, trainer.s_prev.as_slice()); // N_h × 1
    tensors.push(("s_prev".into(), &s_prev));
    let history = DMatrix::from_fn(2, trainer.history.len(), |i, k| {
        let (n, loss) = trainer.history[k];
        if i == 0 { n as f64 } else { loss }
    }); // 2 × K
    if !trainer.history.is_empty() {
        tensors.push(("history".into(), &history));
    }
    let c = &trainer.config;
    let rng = &trainer.rng;
    let seed: String = rng.get_seed().iter().map(|b| format!("{b:02x}")).collect();
    // Floats are written with Rust's shortest round-trip formatting: parsing gives the same bits.
    let meta: Vec<(&str, String)> = vec![
        ("hidden", c.hidden.to_string()),
        ("seq_len", c.seq_len.to_string()),
        ("vocab_size", vocab.len().to_string()),
        ("vocabulary", vocab.to_json()),
        ("lr", c.lr.to_string()),
        ("clip", c.clip.to_string()),
        ("iteration", trainer.n.to_string()),
        ("position", trainer.p.to_string()),
        ("smooth_loss", trainer.smooth_loss.to_string()),
        ("adagrad_steps", st.t.to_string()),
        ("rng_seed", seed),
        ("rng_stream", rng.get_stream().to_string()),
        ("rng_word_pos", rng.get_word_pos().to_string()),
        ("text_source", text.source.clone()),
        ("text_chars", text.chars.to_string()),
        ("text_hash", format!("{:016x}", text.hash)),
    ];
    let refs: Vec<(&str, &DMatrix<f64>)> = tensors.iter().map(|(n, m)| (n.as_str(), *m)).collect();
    checkpoint::save(path, CHAPTER, &refs, &meta)
}

/// [`save`] once the training is known not to have diverged: the loss of the next chunk
/// under the current weights is finite ([`Trainer::check_next`]). Otherwise that is the error,
/// and the checkpoint already at `path` stays the last good one.
pub fn save_checked(
    path: &Path,
    trainer: &mut Trainer,
    text: &Text,
    info: &TextInfo,
) -> Result<()> {
    trainer.check_next(text)?;
    save(path, trainer, &text.vocab, info)
}

/// The folder's checkpoint file, with a clear error when it is missing.
pub fn file_in(dir: &Path, flag: &str) -> Result<std::path::PathBuf> {
    let path = dir.join(FILE);
    if !path.is_file() {
        return Err(Error::flag(
            flag,
            format!(
                "{} holds no {FILE} (train a model there first)",
                dir.display()
            ),
        ));
    }
    Ok(path)
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

/// Loads only the model and its vocabulary (for sampling).
pub fn load_model(path: &Path) -> Result<(CharRnn, Vocab)> {
    read_model(&mut checkpoint::load(path, CHAPTER)?)
}

/// Loads a whole training state: the trainer (model, Adagrad, position, carried state,
/// counters, sampling generator, loss history), its vocabulary and the text's fingerprint.
pub fn load(path: &Path) -> Result<(Trainer, Vocab, TextInfo)> {
    let mut ck = checkpoint::load(path, CHAPTER)?;
    let (model, vocab) = read_model(&mut ck)?;
    let config = Config {
        hidden: ck.meta("hidden")?,
        seq_len: ck.meta("seq_len")?,
        lr: ck.meta("lr")?,
        clip: ck.meta("clip")?,
    };
    let bad = |msg: String| Error::format(path, "safetensors metadata", msg);
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
    let mut opt = Optimizer::new(adagrad(), config.lr);
    opt.set_state(State {
        t: ck.meta("adagrad_steps")?,
        v,
        s,
    });
    let seed_hex = ck.meta_str("rng_seed")?;
    let mut seed = [0u8; 32];
    if seed_hex.len() != 64 || !seed_hex.is_ascii() {
        return Err(bad(format!("rng_seed {seed_hex:?} is not 64 hex digits")));
    }
    for (i, b) in seed.iter_mut().enumerate() {
        *b = u8::from_str_radix(&seed_hex[2 * i..2 * i + 2], 16)
            .map_err(|_| bad(format!("rng_seed {seed_hex:?} is not 64 hex digits")))?;
    }
    let mut rng = Rng::from_seed(seed);
    rng.set_stream(ck.meta("rng_stream")?);
    rng.set_word_pos(ck.meta("rng_word_pos")?);
    let N_h = config.hidden;
    let s_prev = ck.take("s_prev", N_h, 1)?;
    let history = match ck.shape("history") {
        Some((2, k)) => {
            let h = ck.take("history", 2, k)?;
            (0..k).map(|j| (h[(0, j)] as u64, h[(1, j)])).collect()
        }
        Some((r, c)) => return Err(bad(format!("history is {r}×{c}, expected 2 rows"))),
        None => Vec::new(),
    };
    let text = TextInfo {
        source: ck.meta_str("text_source")?.to_string(),
        chars: ck.meta("text_chars")?,
        hash: u64::from_str_radix(ck.meta_str("text_hash")?, 16)
            .map_err(|_| bad("text_hash is not hexadecimal".into()))?,
    };
    let mut trainer = Trainer::from_parts(model, opt, config, rng);
    trainer.s_prev = DVector::from_column_slice(s_prev.as_slice());
    trainer.n = ck.meta("iteration")?;
    trainer.p = ck.meta("position")?;
    trainer.smooth_loss = ck.meta("smooth_loss")?;
    trainer.history = history;
    if config.seq_len == 0
        || !trainer.p.is_multiple_of(config.seq_len)
        || trainer.p + config.seq_len + 1 >= text.chars
    {
        return Err(bad(format!(
            "position {} does not fit a text of {} characters",
            trainer.p, text.chars
        )));
    }
    Ok((trainer, vocab, text))
}

/// What the command line asks of a training run (`None`: the checkpoint's value when
/// resuming, else the reference's).
#[derive(Clone, Debug, Default)]
pub struct Flags {
    /// `--text`
    pub text: Option<String>,
    /// `--hidden`
    pub hidden: Option<usize>,
    /// `--seq-len`
    pub seq_len: Option<usize>,
    /// `--lr`
    pub lr: Option<f64>,
    /// `--resume`: the folder of the checkpoint to continue
    pub resume: Option<std::path::PathBuf>,
}

/// Where a training run starts: a fresh model (weights from `seed`) on `--text` or on
/// `default_source`, or the `--resume` checkpoint, checked against the flags (a different
/// `--hidden` or `--seq-len` is an error; `--lr` may change) and against the text (it must be
/// the one the checkpoint was trained on; by default it is).
pub fn start(
    flags: &Flags,
    default_source: String,
    seed: u64,
) -> Result<(Trainer, Text, TextInfo)> {
    let resumed = match &flags.resume {
        Some(dir) => Some(load(&file_in(dir, "--resume")?)?),
        None => None,
    };
    let mut config = resumed
        .as_ref()
        .map_or(Config::default(), |(t, _, _)| t.config);
    for (flag, given, have) in [
        ("--hidden", flags.hidden, &mut config.hidden),
        ("--seq-len", flags.seq_len, &mut config.seq_len),
    ] {
        match (given, &resumed) {
            (Some(g), Some(_)) if g != *have => {
                let msg = format!("the checkpoint was trained with {have}, not {g}");
                return Err(Error::flag(flag, msg));
            }
            (Some(g), _) => *have = g,
            (None, _) => {}
        }
    }
    if let Some(lr) = flags.lr {
        config.lr = shared::cli::check_positive("--lr", lr)?;
    }
    let source = match (&flags.text, &resumed) {
        (Some(path), _) => path.clone(),
        (None, Some((_, _, saved))) => saved.source.clone(),
        (None, None) => default_source,
    };
    let text = Text::from_source(&source, config.seq_len)?;
    let info = TextInfo {
        source,
        chars: text.data.len(),
        hash: text.hash,
    };
    let trainer = match resumed {
        Some((mut t, vocab, saved)) => {
            if saved.hash != info.hash || vocab != text.vocab {
                let msg = format!(
                    "the checkpoint was trained on {} ({} characters), not on {} ({} characters)",
                    saved.source, saved.chars, info.source, info.chars
                );
                return Err(Error::flag("--resume", msg));
            }
            t.config = config;
            t
        }
        None => Trainer::new(text.vocab.len(), config, seed),
    };
    Ok((trainer, text, info))
}
