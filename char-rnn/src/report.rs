//! What a training run prints and writes besides the model: the header, the reference's
//! progress lines, the final report, the loss figure's title and `summary.json`'s metrics.

use crate::fast::Kernels;
use crate::train::Trainer;
use crate::vocab::Text;
use shared::cli::Dtype;
use std::path::Path;

/// A number as people write it: plain for everyday magnitudes, in exponent form for the
/// others (a learning rate of 1e300 is not printed with 300 digits).
pub fn num(x: f64) -> String {
    if x == 0.0 || (1e-4..1e7).contains(&x.abs()) || !x.is_finite() {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// A loss with six decimals (the reference's `%f`), or in exponent form when it is huge.
fn loss(x: f64) -> String {
    fixed(x, 6)
}

/// `x` with `digits` decimals, or in exponent form when it is huge.
fn fixed(x: f64, digits: usize) -> String {
    if x.abs() < 1e7 {
        format!("{x:.digits$}")
    } else {
        format!("{x:.digits$e}")
    }
}

/// The two lines a run starts with: the reference's `data has N characters, V unique.` and
/// the sizes and hyperparameters (and `, f32` for an f32 run).
pub fn header<F: Kernels>(trainer: &Trainer<F>, text: &Text) -> String {
    let c = &trainer.config;
    format!(
        "data has {} characters, {} unique ({}).\n\
         N_h = {}, T = {}, Adagrad lr {}, clip ±{}{}; starting at iteration {}",
        text.data.len(),
        text.vocab.len(),
        text.source,
        c.hidden,
        c.seq_len,
        num(c.lr),
        num(c.clip),
        match F::DTYPE {
            Dtype::F64 => "",
            Dtype::F32 => ", f32",
        },
        trainer.n
    )
}

/// The reference's progress line for iteration `n` (printed after that iteration).
pub fn progress<F: Kernels>(n: u64, trainer: &Trainer<F>) -> String {
    format!("iter {n}, loss: {}", loss(trainer.smooth_loss))
}

/// A sample framed as the reference prints it.
pub fn sample(text: &str) -> String {
    format!("----\n {text} \n----")
}

/// The last lines of a run that did `done` iterations in `seconds`: the final smoothed loss
/// per chunk and per character, the corpus's entropy when known, the speed.
pub fn finish<F: Kernels>(trainer: &Trainer<F>, text: &Text, done: u64, seconds: f64) -> String {
    let T = trainer.config.seq_len as f64;
    let l = trainer.smooth_loss;
    let uniform = T * (text.vocab.len() as f64).ln();
    let mut s = format!(
        "iter {}, loss: {} = {} nats per character (uniform guess: {uniform:.4} per chunk)\n",
        trainer.n.saturating_sub(1),
        loss(l),
        fixed(l / T, 4)
    );
    if let Some(h) = text.entropy {
        s += &format!("the corpus's exact entropy: {h:.4} nats per character (the floor)\n");
    }
    s += &format!(
        "{:.1} µs per iteration (wall clock)",
        seconds * 1e6 / done.max(1) as f64
    );
    s
}

/// The loss figure's title: the text's name, the sizes.
pub fn title<F: Kernels>(trainer: &Trainer<F>, text: &Text) -> String {
    let name = match text.entropy {
        Some(_) => "the generated corpus".into(),
        None => Path::new(&text.source)
            .file_name()
            .map_or(text.source.clone(), |n| n.to_string_lossy().into()),
    };
    format!(
        "char-rnn on {name} (N_h = {}, T = {}, N_x = {})",
        trainer.config.hidden,
        trainer.config.seq_len,
        text.vocab.len()
    )
}

/// The chapter's metrics for `summary.json`.
pub fn metrics<F: Kernels>(trainer: &Trainer<F>, text: &Text) -> serde_json::Value {
    let c = &trainer.config;
    let l = trainer.smooth_loss;
    serde_json::json!({
        "final_loss": l, "nats_per_char": l / c.seq_len as f64, "iterations_total": trainer.n,
        "position": trainer.p, "vocab_size": text.vocab.len(), "text_chars": text.data.len(),
        "text": text.source, "hidden": c.hidden, "seq_len": c.seq_len, "lr": c.lr,
        "entropy_per_char": text.entropy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_stay_short() {
        assert_eq!(num(0.1), "0.1");
        assert_eq!(num(5.0), "5");
        assert_eq!(num(1e300), "1e300");
        assert_eq!(num(2.5e-9), "2.5e-9");
        assert_eq!(loss(104.3596817), "104.359682");
        assert_eq!(loss(2.9e299), "2.900000e299");
    }
}
