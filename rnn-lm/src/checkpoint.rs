//! The run's files besides the curves: `vocab.txt` (written once, before training) and
//! `model.safetensors`, rewritten atomically at every evaluation (as the tutorial's Theano
//! version saves its parameters after each loss evaluation). The checkpoint holds U, W, V and
//! what `--resume` needs to continue exactly: the evaluations so far (epoch, sentences seen,
//! loss, learning rate) and the running-average curve.

use crate::model::Rnn;
use crate::train::{Curves, Evaluation, Spec};
use nalgebra::DMatrix;
use shared::data::text::{SENTENCE_END, SENTENCE_START, Vocab};
use shared::{Error, Result, checkpoint, rng};
use std::path::{Path, PathBuf};

/// The checkpoint's file name inside a run folder.
pub const FILE: &str = "model.safetensors";
/// The vocabulary's file name inside a run folder.
pub const VOCAB: &str = "vocab.txt";

/// Where a resumed run starts: the evaluations so far and the curves up to the last one.
#[derive(Clone, Debug)]
pub struct Resumed {
    /// The model at the last evaluation.
    pub model: Rnn,
    /// Every evaluation of the interrupted run, in order.
    pub history: Vec<Evaluation>,
    /// Its curves (evaluations and the running average) up to the last evaluation.
    pub curves: Curves,
}

/// Writes `model` with the run's state into `dir/model.safetensors` (atomically).
pub fn save(
    dir: &Path,
    model: &Rnn,
    spec: &Spec,
    history: &[Evaluation],
    curves: &Curves,
) -> Result<()> {
    // n × 5: epoch, seen, loss, lr, halved (counts are exact in f64 below 2^53).
    let evals = DMatrix::from_row_iterator(
        history.len(),
        5,
        history.iter().flat_map(|e| {
            let halved = if e.halved { 1.0 } else { 0.0 };
            [e.epoch as f64, e.seen as f64, e.loss, e.lr, halved]
        }),
    );
    let points = &curves.running.points;
    let running =
        DMatrix::from_row_iterator(points.len(), 2, points.iter().flat_map(|&(x, y)| [x, y])); // m × 2: seen, running mean
    checkpoint::save(
        dir.join(FILE),
        "rnn-lm",
        &[
            ("U", &model.U),
            ("W", &model.W),
            ("V", &model.V),
            ("evals", &evals),
            ("running", &running),
        ],
        &[
            ("hidden", model.N_h().to_string()),
            ("vocab", model.N_x().to_string()),
            ("bptt", spec.bptt.to_string()),
            ("lr", spec.lr.to_string()),
            ("eval_every", spec.eval_every.to_string()),
            ("sentences", spec.sentences.to_string()),
            (
                "average",
                curves.average.map_or("none".into(), |a| a.to_string()),
            ),
        ],
    )
}

/// `dir/model.safetensors`, or an error naming `flag` when `dir` is not a folder.
fn file_in(dir: &Path, flag: &str) -> Result<PathBuf> {
    if !dir.is_dir() {
        let what = if dir.exists() {
            "is not a folder"
        } else {
            "does not exist"
        };
        return Err(Error::flag(
            flag,
            format!("{} {what} (expected a run folder)", dir.display()),
        ));
    }
    Ok(dir.join(FILE))
}

/// The model and vocabulary of a run folder (`generate --model DIR`), checking the shapes
/// against the vocabulary.
pub fn load_model(dir: &Path) -> Result<(Rnn, Vocab)> {
    let file = file_in(dir, "--model")?;
    let vocab = read_vocab(dir)?;
    let mut ck = checkpoint::load(&file, "rnn-lm")?;
    Ok((take_model(&mut ck, vocab.len())?, vocab))
}

/// `dir/vocab.txt`, which must hold both sentence markers.
fn read_vocab(dir: &Path) -> Result<Vocab> {
    let path = dir.join(VOCAB);
    let vocab = Vocab::read(&path)?;
    for marker in [SENTENCE_START, SENTENCE_END] {
        if vocab.id(marker).is_none() {
            let msg = format!("no {marker}: not the vocabulary of an rnn-lm run");
            return Err(Error::format(&path, "whole file", msg));
        }
    }
    Ok(vocab)
}

fn take_model(ck: &mut checkpoint::Checkpoint, N_x: usize) -> Result<Rnn> {
    let N_h = ck.meta::<usize>("hidden")?;
    if N_h == 0 {
        let msg = "`hidden` = 0: a model needs at least one hidden unit";
        return Err(Error::format(&ck.path, "safetensors metadata", msg));
    }
    Ok(Rnn {
        U: ck.take("U", N_h, N_x)?,
        W: ck.take("W", N_h, N_h)?,
        V: ck.take("V", N_x, N_h)?,
    })
}

/// Where training starts: a new model (the tutorial's initialisation with `seed`) when `resume`
/// is `None`, else [`resume`]'s checkpoint.
pub fn start(
    resume: Option<&Path>,
    vocab: &Vocab,
    spec: &Spec,
    epochs: u64,
    seed: u64,
) -> Result<Resumed> {
    match resume {
        Some(dir) => self::resume(dir, vocab, spec, epochs),
        None => Ok(Resumed {
            model: Rnn::new(vocab.len(), spec.hidden, &mut rng::seeded(seed)),
            history: Vec::new(),
            curves: Curves::new(epochs * spec.sentences as u64),
        }),
    }
}

/// The checkpoint in `dir` (`--resume DIR`), checked against this run: the same vocabulary
/// (so the same data and `--vocab`), the same `spec`, and fewer than `epochs` epochs done.
pub fn resume(dir: &Path, vocab: &Vocab, spec: &Spec, epochs: u64) -> Result<Resumed> {
    let file = file_in(dir, "--resume")?;
    let saved = read_vocab(dir)?;
    if saved.words() != vocab.words() {
        return Err(Error::flag(
            "--resume",
            format!(
                "{} ({} words) is not the vocabulary of this data ({} words): resume with the \
                 same --csv/--text, --sentences and --vocab",
                dir.join(VOCAB).display(),
                saved.len(),
                vocab.len()
            ),
        ));
    }
    let mut ck = checkpoint::load(&file, "rnn-lm")?;
    let model = take_model(&mut ck, vocab.len())?;
    let bad = |what: &str| Error::format(&file, "safetensors", what);
    let same = |flag: &str, key: &str, ours: String| -> Result<()> {
        let theirs = ck.meta_str(key)?;
        if theirs != ours {
            let msg = format!(
                "{ours}, but the checkpoint in {} has {theirs}",
                dir.display()
            );
            return Err(Error::flag(flag, msg));
        }
        Ok(())
    };
    same("--bptt", "bptt", spec.bptt.to_string())?;
    same("--lr", "lr", spec.lr.to_string())?;
    same("--eval-every", "eval_every", spec.eval_every.to_string())?;
    same("--sentences", "sentences", spec.sentences.to_string())?;
    if model.N_h() != spec.hidden {
        let msg = format!("{}, but the checkpoint has {}", spec.hidden, model.N_h());
        return Err(Error::flag("--hidden", msg));
    }
    let average = match ck.meta_str("average")? {
        "none" => None,
        a => Some(
            ck.meta::<f64>("average")
                .ok()
                .filter(|a| a.is_finite())
                .ok_or_else(|| bad(&format!("`average` = {a:?} is not a finite number")))?,
        ),
    };
    let n = ck.shape("evals").map_or(0, |s| s.0);
    let evals = ck.take("evals", n, 5)?;
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
    if !counts_ok || !in_order || last.lr <= 0.0 || last.seen != last.epoch * spec.sentences as u64
    {
        return Err(bad("`evals` is not a sequence of evaluations of this run"));
    }
    if last.epoch >= epochs {
        let msg = format!(
            "the checkpoint in {} has already done {} epochs: ask for more",
            dir.display(),
            last.epoch
        );
        return Err(Error::flag("--epochs", msg));
    }
    let m = ck.shape("running").map_or(0, |s| s.0);
    let running = ck.take("running", m, 2)?;
    let mut curves = Curves::new(epochs * spec.sentences as u64);
    for e in &history {
        curves.eval(e);
    }
    for r in running.row_iter() {
        curves.running.push(r[0], r[1]);
    }
    curves.average = average;
    Ok(Resumed {
        model,
        history,
        curves,
    })
}
