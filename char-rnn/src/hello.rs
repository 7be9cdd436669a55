//! Figure 17: Karpathy's "hello" example at the figure's sizes.
//!
//! The figure (from Karpathy's blog post) shows a character-level RNN with the vocabulary
//! h, e, l, o: 4-dimensional one-hot inputs x_t, a hidden layer s_t of 3 units, 4 output scores
//! per step, unrolled over the 4 steps of "hell" with targets "ello"; at each step the target's
//! score should rise and the others fall. Its numbers are illustrative. This module runs that
//! network with real numbers: the notes layer [`CharRnn`] (weights 0.01·N(0, 1), biases 0), its
//! forward pass printed as the figure draws it, and the reference's training (backward pass,
//! element-wise clip at 5, Adagrad) on the one word until the network spells it: fed "h" and
//! then each most likely character, it answers "ello".

use crate::model::CharRnn;
use crate::train::adagrad;
use nalgebra::DVector;
use shared::optim::Optimizer;
use shared::rng;
use std::fmt::Write;

/// The figure's vocabulary, in its order: x_t is the one-hot of the character's index here.
pub const CHARS: [char; 4] = ['h', 'e', 'l', 'o'];
/// N_x = 4 characters.
pub const N_X: usize = CHARS.len();
/// The figure's hidden layer: N_h = 3 units.
pub const N_H: usize = 3;
/// "hell": the inputs x_0 … x_3 (indices into [`CHARS`]).
pub const INPUTS: [usize; 4] = [0, 1, 2, 2];
/// "ello": the targets, each input's next character.
pub const TARGETS: [usize; 4] = [1, 2, 2, 3];
/// The word the network is to spell.
pub const WORD: &str = "hello";
/// The reference's element-wise gradient clip.
const CLIP: f64 = 5.0;

/// The figure's network and its optimizer.
#[derive(Clone, Debug)]
pub struct Hello {
    /// U: 3 × 4, W: 3 × 3, V: 4 × 3, b_h: 3 × 1, b_y: 4 × 1.
    pub model: CharRnn,
    /// Adagrad, learning rate as given.
    opt: Optimizer,
    /// Updates done.
    pub iteration: u64,
}

impl Hello {
    /// A fresh network (weights from stream 0 of `seed`, as `train` draws them) and Adagrad
    /// with learning rate `lr`.
    pub fn new(seed: u64, lr: f64) -> Self {
        Hello {
            model: CharRnn::new(N_X, N_H, &mut rng::stream(seed, 0)),
            opt: Optimizer::new(adagrad(), lr),
            iteration: 0,
        }
    }

    /// One update on the word: (K1)–(K2) over "hell" from s_{−1} = 0, the loss against
    /// "ello", the backward pass, clip, Adagrad. Returns the loss before the update.
    pub fn step(&mut self) -> f64 {
        let s_prev = DVector::zeros(N_H); // N_h × 1: every pass starts at the word's start
        let cache = self.model.forward(&INPUTS, &TARGETS, &s_prev);
        let mut g = self.model.backward(&cache);
        g.clip(CLIP);
        self.opt.begin_step();
        let m = &mut self.model;
        self.opt.update(0, &mut m.U, &g.dU);
        self.opt.update(1, &mut m.W, &g.dW);
        self.opt.update(2, &mut m.V, &g.dV);
        self.opt.update(3, &mut m.b_h, &g.db_h);
        self.opt.update(4, &mut m.b_y, &g.db_y);
        self.iteration += 1;
        cache.loss
    }

    /// What the network spells from "h": fed 'h', then each most likely next character
    /// (temperature 0), four times.
    pub fn spell(&self) -> String {
        let mut s = DVector::zeros(N_H); // N_h × 1
        let next = self.model.sample(&mut s, 0, 4, 0.0, &mut rng::seeded(0));
        std::iter::once('h')
            .chain(next.iter().map(|&c| CHARS[c]))
            .collect()
    }

    /// The forward pass over "hell" as figure 17 draws it, one column per step: the input
    /// character, its one-hot x_t, the hidden layer s_t, the output scores V s_t + b_y (the
    /// target's in brackets), the target and its probability y_t(target), and the loss.
    pub fn table(&self) -> String {
        let s_prev = DVector::zeros(N_H); // N_h × 1
        let cache = self.model.forward(&INPUTS, &TARGETS, &s_prev);
        let mut out = String::new();
        let row = |out: &mut String, label: &str, cells: &mut dyn Iterator<Item = String>| {
            let _ = write!(out, "  {label:<24}");
            for c in cells {
                let _ = write!(out, "{c:>11}");
            }
            out.push('\n');
        };
        let steps = 0..INPUTS.len();
        row(&mut out, "", &mut steps.clone().map(|t| format!("t = {t}")));
        row(
            &mut out,
            "input character",
            &mut INPUTS.iter().map(|&c| CHARS[c].to_string()),
        );
        for (i, ch) in CHARS.iter().enumerate() {
            let label = if i == 0 { "input layer x_t     " } else { "" };
            let label = format!("{label:<20}{ch}");
            let mut cells = INPUTS.iter().map(|&c| u8::from(c == i).to_string());
            row(&mut out, &label, &mut cells);
        }
        for k in 0..N_H {
            let label = if k == 0 { "hidden layer s_t    " } else { "" };
            let label = format!("{label:<20}s{}", k + 1);
            // column t + 1 of S is s_t
            let mut cells = steps.clone().map(|t| format!("{:.4}", cache.S[(k, t + 1)]));
            row(&mut out, &label, &mut cells);
        }
        let scores: Vec<DVector<f64>> = steps
            .clone()
            .map(|t| self.model.scores(&cache.S.column(t + 1).into_owned()))
            .collect();
        for (i, ch) in CHARS.iter().enumerate() {
            let label = match i {
                0 => "output layer",
                1 => "  V s_t + b_y",
                _ => "",
            };
            let label = format!("{label:<20}{ch}");
            let mut cells = steps.clone().map(|t| {
                let v = format!("{:.4}", scores[t][i]);
                if TARGETS[t] == i {
                    format!("[{v}]")
                } else {
                    format!("{v} ")
                }
            });
            row(&mut out, &label, &mut cells);
        }
        row(
            &mut out,
            "target character",
            &mut TARGETS.iter().map(|&c| CHARS[c].to_string()),
        );
        let mut probs = steps
            .clone()
            .map(|t| format!("{:.4}", cache.Y[(TARGETS[t], t)]));
        row(&mut out, "y_t(target)", &mut probs);
        let _ = write!(
            out,
            "  loss L = Σ_t −ln y_t(target) = {:.4} (the uniform guess: 4 ln 4 = {:.4}); \
             from \"h\" it spells \"{}\"",
            cache.loss,
            4.0 * (N_X as f64).ln(),
            self.spell()
        );
        out
    }
}
