//! Update rules (notes §8), each applied to parameter matrices with per-parameter state.
//!
//! Sign convention: `grad` is ∂E/∂W (the true gradient) and every rule *descends*.
//!
//! | rule | update (g = ∂E/∂W, α = learning rate) |
//! |---|---|
//! | [`Rule::Sgd`] | W ← W − α g (batch, mini-batch and stochastic GD differ only in the batch) |
//! | [`Rule::Momentum`] | v ← βv + (1 − β) g; W ← W − α v (the notes / Ng's EWMA form) |
//! | [`Rule::ClassicMomentum`] | Δ ← μΔ + g; W ← W − α Δ (Hinton's assignments) |
//! | [`Rule::Nesterov`] | v' ← μv − α g; W ← W − μv + (1 + μ)v'; v ← v' (CS231n form) |
//! | [`Rule::Adagrad`] | G ← G + g²; W ← W − α g / √(G + ε) or / (√G + ε) |
//! | [`Rule::RmsProp`] | s ← ρs + (1 − ρ) g²; W ← W − α g / √(s + ε) or / (√s + ε) |
//! | [`Rule::Adam`] | v ← β₁v + (1 − β₁)g, s ← β₂s + (1 − β₂)g², v̂ = v/(1 − β₁ᵗ), ŝ = s/(1 − β₂ᵗ); W ← W − α v̂ / √(ŝ + ε) or / (√ŝ + ε), or Saito's W ← W − α_t v / (√s + ε) |
//!
//! Learning-rate decay between epochs (Ng's 2021 notebook): [`update_lr`] α₀/(1 + r·epoch) and
//! [`schedule_lr_decay`] α₀/(1 + r·⌊epoch/interval⌋); set [`Optimizer::lr`] to their value.
//!
//! Where ε goes ([`Eps`]) matters: the notes put it inside the square root; Ng's notebook,
//! CS231n, Kingma & Ba and Saito put it outside. Inside, ε = 1e-8 acts like ε = 1e-4 outside
//! and damps steps of small gradients (at t = 1 a gradient of 1e-4 moves W by 0.71α instead of
//! ≈ α). min-char-rnn's Adagrad uses `sqrt(mem + 1e-8)`: inside.

use multiversion::multiversion;
use nalgebra::DMatrix;

mod typed;
pub use typed::{Optimize, Optimizer32};

/// Where ε is added in the denominator of the adaptive rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eps {
    /// g / √(s + ε): the notes' Adam, min-char-rnn's Adagrad.
    InsideSqrt,
    /// g / (√s + ε): Ng's notebook, CS231n, Kingma & Ba.
    Outside,
    /// Adam as Kingma & Ba's "more efficient" ordering (end of their §2) and Saito's
    /// `common/optimizer.py` write it: W ← W − α_t v / (√s + ε) with α_t = α √(1 − β₂ᵗ)/(1 − β₁ᵗ),
    /// i.e. ε added to the root of the *uncorrected* second moment. The same as [`Eps::Outside`]
    /// with ε replaced by ε/√(1 − β₂ᵗ) (31.6 ε at t = 1, → ε as t grows). For the rules without
    /// bias correction it is [`Eps::Outside`].
    OutsideUncorrected,
}

/// One update rule with its hyperparameters (the learning rate is kept by [`Optimizer`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rule {
    /// W ← W − α g.
    Sgd,
    /// The notes' momentum: v ← βv + (1 − β) g; W ← W − α v. No bias correction (as Ng).
    Momentum {
        /// β, the weight of the old velocity (Ng: 0.9).
        beta: f64,
    },
    /// Velocity form: Δ ← μΔ + g; W ← W − α Δ (Hinton's assignment 2).
    ClassicMomentum {
        /// μ, the momentum coefficient (Hinton: 0.9).
        mu: f64,
    },
    /// Nesterov momentum, CS231n's implementation form:
    /// v_prev = v; v ← μv − α g; W ← W − μ v_prev + (1 + μ) v.
    Nesterov {
        /// μ, the momentum coefficient.
        mu: f64,
    },
    /// G ← G + g²; W ← W − α g / √(G + ε) (or (√G + ε)).
    Adagrad {
        /// ε, the guard against division by zero.
        eps: f64,
        /// Whether ε goes inside or outside the square root.
        at: Eps,
    },
    /// s ← ρs + (1 − ρ)g²; W ← W − α g / √(s + ε) (or (√s + ε)).
    RmsProp {
        /// ρ, the decay of the running mean of g².
        decay: f64,
        /// ε, the guard against division by zero.
        eps: f64,
        /// Whether ε goes inside or outside the square root.
        at: Eps,
    },
    /// Adam with bias correction (t counts update steps, starting at 1).
    Adam {
        /// β₁, the decay of the first moment m (0.9).
        beta1: f64,
        /// β₂, the decay of the second moment v (0.999).
        beta2: f64,
        /// ε, the guard against division by zero (1e-8).
        eps: f64,
        /// Where ε goes: inside the root (as the notes), outside (as Ng), or outside without correcting v.
        at: Eps,
    },
}

impl Rule {
    /// Adam with the usual β₁ = 0.9, β₂ = 0.999, ε = 1e-8 outside the root (Ng, Kingma & Ba).
    pub fn adam() -> Rule {
        Rule::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            at: Eps::Outside,
        }
    }

    /// A short name for logs and plots.
    pub fn name(&self) -> &'static str {
        match self {
            Rule::Sgd => "sgd",
            Rule::Momentum { .. } => "momentum",
            Rule::ClassicMomentum { .. } => "classic-momentum",
            Rule::Nesterov { .. } => "nesterov",
            Rule::Adagrad { .. } => "adagrad",
            Rule::RmsProp { .. } => "rmsprop",
            Rule::Adam { .. } => "adam",
        }
    }
}

/// The state of an optimizer: the step count and, per parameter, the first-moment / velocity
/// buffer `v` and the second-moment / cache buffer `s` (zero matrices where a rule has none).
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    /// Number of update steps taken (Adam's t).
    pub t: u64,
    /// Per parameter: velocity (momentum rules) or first moment (Adam).
    pub v: Vec<DMatrix<f64>>,
    /// Per parameter: squared-gradient cache (Adagrad, RMSProp) or second moment (Adam).
    pub s: Vec<DMatrix<f64>>,
}

/// An update rule, a learning rate and the state of each parameter it updates.
///
/// Parameters are identified by their position: pass them in the same order every step.
#[derive(Clone, Debug)]
pub struct Optimizer {
    /// The update rule.
    pub rule: Rule,
    /// The learning rate α (may be changed between steps, e.g. halved by a schedule).
    pub lr: f64,
    state: State,
}

impl Optimizer {
    /// A fresh optimizer: zero state, t = 0.
    pub fn new(rule: Rule, lr: f64) -> Self {
        Optimizer {
            rule,
            lr,
            state: State {
                t: 0,
                v: Vec::new(),
                s: Vec::new(),
            },
        }
    }

    /// One update of every parameter: `params[i] ← update(params[i], grads[i])`.
    pub fn step(&mut self, params: &mut [&mut DMatrix<f64>], grads: &[&DMatrix<f64>]) {
        assert_eq!(params.len(), grads.len(), "one gradient per parameter");
        self.begin_step();
        for (i, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            self.update(i, p, g);
        }
    }

    /// Starts an update step (advances t). Call [`Optimizer::update`] for each parameter after.
    pub fn begin_step(&mut self) {
        self.state.t += 1;
    }

    /// Updates parameter number `i` with its gradient; part of the step begun by
    /// [`Optimizer::begin_step`]. Allocates only the first time it sees parameter `i`.
    pub fn update(&mut self, i: usize, w: &mut DMatrix<f64>, g: &DMatrix<f64>) {
        assert_eq!(
            w.shape(),
            g.shape(),
            "parameter {i}: gradient shape differs"
        );
        let (rule, lr, t) = (self.rule, self.lr, self.state.t.max(1) as i32);
        let (v, s) = self.slot(i, w.shape());
        apply(rule, lr, t, w.as_mut_slice(), g.as_slice(), v, s);
    }

    /// [`Optimizer::update`] for a parameter whose gradient is zero outside the columns `cols`
    /// (strictly increasing): e.g. an input matrix U whose gradient Σ_t δ_t x_tᵀ with one-hot
    /// x_t only has the columns of the characters or words seen. Under SGD and Adagrad a zero
    /// gradient changes neither the weight nor the state, so only those columns are visited:
    /// the same bits as `update`, in a fraction of the time. The other rules move on a zero
    /// gradient too (a velocity, decaying averages): for them this is `update`.
    pub fn update_columns(
        &mut self,
        i: usize,
        w: &mut DMatrix<f64>,
        g: &DMatrix<f64>,
        cols: &[usize],
    ) {
        if !matches!(self.rule, Rule::Sgd | Rule::Adagrad { .. }) {
            return self.update(i, w, g);
        }
        assert_eq!(
            w.shape(),
            g.shape(),
            "parameter {i}: gradient shape differs"
        );
        assert!(
            cols.windows(2).all(|c| c[0] < c[1]) && cols.last().is_none_or(|&c| c < w.ncols()),
            "update_columns: columns must be strictly increasing and below {}",
            w.ncols()
        );
        debug_assert!(
            (0..g.ncols())
                .filter(|c| cols.binary_search(c).is_err())
                .all(|c| g.column(c).iter().all(|&x| x == 0.0)),
            "update_columns: a column outside `cols` has a non-zero gradient"
        );
        let (rule, lr, t) = (self.rule, self.lr, self.state.t.max(1) as i32);
        let m = w.nrows();
        let (v, s) = self.slot(i, w.shape());
        let (w, g) = (w.as_mut_slice(), g.as_slice());
        for &c in cols {
            let r = c * m..(c + 1) * m; // column c, column-major
            let (w, g) = (&mut w[r.clone()], &g[r.clone()]);
            apply(rule, lr, t, w, g, &mut v[r.clone()], &mut s[r]);
        }
    }

    /// The state buffers of parameter `i` (zeros of `shape` the first time).
    fn slot(&mut self, i: usize, shape: (usize, usize)) -> (&mut [f64], &mut [f64]) {
        while self.state.v.len() <= i {
            self.state.v.push(DMatrix::zeros(0, 0));
            self.state.s.push(DMatrix::zeros(0, 0));
        }
        let (v, s) = (&mut self.state.v[i], &mut self.state.s[i]);
        if v.shape() != shape {
            *v = DMatrix::zeros(shape.0, shape.1);
            *s = DMatrix::zeros(shape.0, shape.1);
        }
        (v.as_mut_slice(), s.as_mut_slice())
    }

    /// The optimizer's state, for a checkpoint.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Restores a state saved by [`Optimizer::state`] (for an exact `--resume`).
    pub fn set_state(&mut self, state: State) {
        self.state = state;
    }
}

/// [`apply_rule`] compiled for the widest instructions this CPU has: with AVX2 the divisions and
/// square roots (the bottleneck of the adaptive rules) run twice as wide. Same operations, same
/// order, correctly rounded either way: bit-identical results on every machine.
#[multiversion(targets("x86_64+avx2"))]
fn apply(rule: Rule, lr: f64, t: i32, w: &mut [f64], g: &[f64], v: &mut [f64], s: &mut [f64]) {
    apply_rule(rule, lr, t, w, g, v, s);
}

/// One update of the parameter `w` with gradient `g` and state `v`, `s` (all the same length):
/// the body of [`Optimizer::update`], inlined into each instruction-set variant.
#[inline(always)]
fn apply_rule(rule: Rule, lr: f64, t: i32, w: &mut [f64], g: &[f64], v: &mut [f64], s: &mut [f64]) {
    // ANCHOR: denom
    let denom = |s: f64, eps: f64, at: Eps| match at {
        Eps::InsideSqrt => (s + eps).sqrt(),
        Eps::Outside | Eps::OutsideUncorrected => s.sqrt() + eps,
    };
    // ANCHOR_END: denom
    match rule {
        // ANCHOR: sgd
        Rule::Sgd => {
            // W ← W − α g
            for (w, g) in w.iter_mut().zip(g) {
                *w -= lr * g;
            }
        }
        // ANCHOR_END: sgd
        // ANCHOR: momentum
        Rule::Momentum { beta } => {
            // v ← βv + (1 − β) dW;  W ← W − α v
            for ((w, g), v) in w.iter_mut().zip(g).zip(v.iter_mut()) {
                *v = beta * *v + (1.0 - beta) * g;
                *w -= lr * *v;
            }
        }
        // ANCHOR_END: momentum
        Rule::ClassicMomentum { mu } => {
            // Δ ← μΔ + g;  W ← W − α Δ
            for ((w, g), v) in w.iter_mut().zip(g).zip(v.iter_mut()) {
                *v = mu * *v + g;
                *w -= lr * *v;
            }
        }
        Rule::Nesterov { mu } => {
            // v_prev = v;  v ← μv − α g;  W ← W − μ v_prev + (1 + μ) v
            for ((w, g), v) in w.iter_mut().zip(g).zip(v.iter_mut()) {
                let v_prev = *v;
                *v = mu * *v - lr * g;
                *w += -mu * v_prev + (1.0 + mu) * *v;
            }
        }
        Rule::Adagrad { eps, at } => {
            // G ← G + g²;  W ← W − α g / √(G + ε)
            for ((w, g), s) in w.iter_mut().zip(g).zip(s.iter_mut()) {
                *s += g * g;
                *w -= lr * g / denom(*s, eps, at);
            }
        }
        Rule::RmsProp { decay, eps, at } => {
            // s ← ρs + (1 − ρ) g²;  W ← W − α g / √(s + ε)
            for ((w, g), s) in w.iter_mut().zip(g).zip(s.iter_mut()) {
                *s = decay * *s + (1.0 - decay) * g * g;
                *w -= lr * g / denom(*s, eps, at);
            }
        }
        Rule::Adam {
            beta1,
            beta2,
            eps,
            at,
        } => {
            // ANCHOR: adam
            // v ← β₁v + (1 − β₁)g;  s ← β₂s + (1 − β₂)g²
            // v̂ = v / (1 − β₁ᵗ);  ŝ = s / (1 − β₂ᵗ);  W ← W − α v̂ / √(ŝ + ε)
            let bc1 = 1.0 - beta1.powi(t);
            let bc2 = 1.0 - beta2.powi(t);
            if at == Eps::OutsideUncorrected {
                // α_t = α √(1 − β₂ᵗ)/(1 − β₁ᵗ);  W ← W − α_t v / (√s + ε)
                let lr_t = lr * bc2.sqrt() / bc1;
                for (((w, g), v), s) in w.iter_mut().zip(g).zip(v.iter_mut()).zip(s.iter_mut()) {
                    *v = beta1 * *v + (1.0 - beta1) * g;
                    *s = beta2 * *s + (1.0 - beta2) * g * g;
                    *w -= lr_t * *v / (s.sqrt() + eps);
                }
                return;
            }
            for (((w, g), v), s) in w.iter_mut().zip(g).zip(v.iter_mut()).zip(s.iter_mut()) {
                *v = beta1 * *v + (1.0 - beta1) * g;
                *s = beta2 * *s + (1.0 - beta2) * g * g;
                *w -= lr * (*v / bc1) / denom(*s / bc2, eps, at);
            }
            // ANCHOR_END: adam
        }
    }
}

/// Learning-rate decay after every epoch (Ng's `update_lr`, the 2021 notebook):
/// α = α₀ / (1 + decay_rate · epoch).
pub fn update_lr(lr0: f64, epoch: u64, decay_rate: f64) -> f64 {
    lr0 / (1.0 + decay_rate * epoch as f64)
}

/// Learning-rate decay in steps of `time_interval` epochs (Ng's `schedule_lr_decay`):
/// α = α₀ / (1 + decay_rate · ⌊epoch / time_interval⌋). `time_interval` must be at least 1.
pub fn schedule_lr_decay(lr0: f64, epoch: u64, decay_rate: f64, time_interval: u64) -> f64 {
    assert!(
        time_interval > 0,
        "schedule_lr_decay: time_interval must be ≥ 1"
    );
    lr0 / (1.0 + decay_rate * (epoch / time_interval) as f64)
}

/// Clips every entry of `g` to [−limit, limit] in place (min-char-rnn's `np.clip(d, -5, 5)`),
/// in f64 or in the engine's f32.
pub fn clip<T: crate::kernels::Float>(g: &mut DMatrix<T>, limit: f64) {
    assert!(limit >= 0.0, "clip: the limit {limit} is not ≥ 0");
    let limit = T::round_from(limit);
    // v.clamp(−limit, limit), written as comparisons so it vectorises (NaN stays NaN).
    for v in g.as_mut_slice() {
        *v = if *v < -limit {
            -limit
        } else if *v > limit {
            limit
        } else {
            *v
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    fn run(rule: Rule, lr: f64, w0: f64, grads: &[f64]) -> Vec<f64> {
        let mut opt = Optimizer::new(rule, lr);
        let mut w = DMatrix::from_element(1, 1, w0);
        grads
            .iter()
            .map(|&g| {
                opt.step(&mut [&mut w], &[&DMatrix::from_element(1, 1, g)]);
                w[(0, 0)]
            })
            .collect()
    }

    #[test]
    fn adam_two_steps_match_the_reference_sheet() {
        // optimizers reference, section 5: W0 = 1, g = (0.5, −0.2), α 0.01, β 0.9/0.999.
        let out = run(Rule::adam(), 0.01, 1.0, &[0.5, -0.2]);
        assert_relative_eq!(out[0], 0.9900000002, epsilon = 1e-10);
        assert_relative_eq!(out[1], 0.98654394181, epsilon = 1e-10);
        let inside = Rule::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            at: Eps::InsideSqrt,
        };
        let out = run(inside, 0.01, 1.0, &[0.5, -0.2]);
        assert_relative_eq!(out[0], 0.9900000002, epsilon = 1e-10);
        assert_relative_eq!(out[1], 0.98654394184, epsilon = 1e-10);
    }

    #[test]
    fn adam_uncorrected_eps_is_saitos_form() {
        // Saito: lr_t = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ); m += (1 − β₁)(g − m); v += (1 − β₂)(g² − v);
        // p −= lr_t·m/(√v + 1e-7). Replayed by hand for g = (0.5, −0.2, 1e-6), α 0.01.
        let saito = Rule::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-7,
            at: Eps::OutsideUncorrected,
        };
        let grads = [0.5, -0.2, 1e-6];
        let out = run(saito, 0.01, 1.0, &grads);
        let (mut p, mut m, mut v) = (1.0f64, 0.0f64, 0.0f64);
        for (i, &g) in grads.iter().enumerate() {
            let t = i as i32 + 1;
            let lr_t = 0.01 * (1.0 - 0.999f64.powi(t)).sqrt() / (1.0 - 0.9f64.powi(t));
            m += (1.0 - 0.9) * (g - m);
            v += (1.0 - 0.999) * (g * g - v);
            p -= lr_t * m / (v.sqrt() + 1e-7);
            assert_relative_eq!(out[i], p, epsilon = 1e-15);
        }
        // It is the Outside form with ε/√(1 − β₂ᵗ): at t = 1, ε = 1e-7/√0.001.
        let outside = Rule::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-7 / 0.001f64.sqrt(),
            at: Eps::Outside,
        };
        let a = run(saito, 0.01, 1.0, &[1e-5])[0];
        let b = run(outside, 0.01, 1.0, &[1e-5])[0];
        assert_relative_eq!(a, b, epsilon = 1e-15);
        assert!((a - run(Rule::adam(), 0.01, 1.0, &[1e-5])[0]).abs() > 1e-4);
    }

    #[test]
    fn adam_eps_placement_ratio_table() {
        // |ΔW|/α at t = 1 for g = 1e-4: 0.99990 outside, 0.707107 inside (g/√(g² + ε) with
        // ε = g², i.e. 1/√2 by coincidence of the numbers).
        for (at, want) in [
            (Eps::Outside, 0.99990),
            (Eps::InsideSqrt, std::f64::consts::FRAC_1_SQRT_2),
        ] {
            let r = Rule::Adam {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                at,
            };
            let w = run(r, 1.0, 0.0, &[1e-4])[0];
            assert_relative_eq!(-w, want, epsilon = 1e-5);
        }
    }

    #[test]
    fn momentum_forms_by_hand() {
        // Notes' form, β = 0.9, α = 0.1: v1 = 0.1·2 = 0.2, W1 = 1 − 0.02 = 0.98;
        // v2 = 0.9·0.2 + 0.1·(−1) = 0.08, W2 = 0.98 − 0.008 = 0.972.
        let out = run(Rule::Momentum { beta: 0.9 }, 0.1, 1.0, &[2.0, -1.0]);
        assert_relative_eq!(out[0], 0.98, epsilon = 1e-15);
        assert_relative_eq!(out[1], 0.972, epsilon = 1e-15);
        // Classic form, μ = 0.9, α = 0.1: Δ1 = 2, W1 = 0.8; Δ2 = 1.8 − 1 = 0.8, W2 = 0.72.
        let out = run(Rule::ClassicMomentum { mu: 0.9 }, 0.1, 1.0, &[2.0, -1.0]);
        assert_relative_eq!(out[0], 0.8, epsilon = 1e-15);
        assert_relative_eq!(out[1], 0.72, epsilon = 1e-15);
        // Nesterov, μ = 0.9, α = 0.1: v1 = −0.2, W1 = 1 + 1.9·(−0.2) = 0.62;
        // v2 = −0.18 + 0.1 = −0.08, W2 = 0.62 + 0.18 + 1.9·(−0.08) = 0.648.
        let out = run(Rule::Nesterov { mu: 0.9 }, 0.1, 1.0, &[2.0, -1.0]);
        assert_relative_eq!(out[0], 0.62, epsilon = 1e-15);
        assert_relative_eq!(out[1], 0.648, epsilon = 1e-14);
        // Ng's EWMA momentum equals CS231n's with η = α(1 − β) (reference sheet, section 5).
        let ewma = run(
            Rule::Momentum { beta: 0.9 },
            0.5,
            1.0,
            &[1.0, 0.3, -2.0, 0.7],
        );
        let classic_cs231n = {
            let (mut w, mut v) = (1.0, 0.0);
            [1.0, 0.3, -2.0, 0.7]
                .iter()
                .map(|g| {
                    v = 0.9 * v - 0.5 * 0.1 * g;
                    w += v;
                    w
                })
                .collect::<Vec<f64>>()
        };
        for (a, b) in ewma.iter().zip(&classic_cs231n) {
            assert_relative_eq!(a, b, epsilon = 1e-14);
        }
    }

    #[test]
    fn adagrad_rmsprop_sgd_by_hand() {
        // Adagrad, ε inside, α = 0.1: G1 = 4, W1 = 1 − 0.1·2/√(4 + ε); G2 = 5, W2 = W1 + 0.1/√5.
        let r = Rule::Adagrad {
            eps: 1e-8,
            at: Eps::InsideSqrt,
        };
        let out = run(r, 0.1, 1.0, &[2.0, -1.0]);
        let w1 = 1.0 - 0.2 / (4.0f64 + 1e-8).sqrt();
        assert_relative_eq!(out[0], w1, epsilon = 1e-15);
        assert_relative_eq!(out[1], w1 + 0.1 / (5.0f64 + 1e-8).sqrt(), epsilon = 1e-15);
        // RMSProp ρ = 0.9, ε outside: s1 = 0.4, W1 = 1 − 0.1·2/(√0.4 + ε).
        let r = Rule::RmsProp {
            decay: 0.9,
            eps: 1e-8,
            at: Eps::Outside,
        };
        let out = run(r, 0.1, 1.0, &[2.0, -1.0]);
        let w1 = 1.0 - 0.2 / (0.4f64.sqrt() + 1e-8);
        assert_relative_eq!(out[0], w1, epsilon = 1e-15);
        let s2: f64 = 0.9 * 0.4 + 0.1;
        assert_relative_eq!(out[1], w1 + 0.1 / (s2.sqrt() + 1e-8), epsilon = 1e-15);
        let out = run(Rule::Sgd, 0.1, 1.0, &[2.0, -1.0]);
        assert_relative_eq!(out[1], 0.9, epsilon = 1e-15);
    }

    #[test]
    fn state_round_trip_continues_identically() {
        let rule = Rule::adam();
        let grads = [0.3, -0.1, 0.7, 0.2];
        let all = run(rule, 0.05, 1.0, &grads);
        let mut opt = Optimizer::new(rule, 0.05);
        let mut w = DMatrix::from_element(1, 1, 1.0);
        for &g in &grads[..2] {
            opt.step(&mut [&mut w], &[&DMatrix::from_element(1, 1, g)]);
        }
        let saved = opt.state().clone();
        let mut resumed = Optimizer::new(rule, 0.05);
        resumed.set_state(saved);
        for &g in &grads[2..] {
            resumed.step(&mut [&mut w], &[&DMatrix::from_element(1, 1, g)]);
        }
        assert_eq!(w[(0, 0)], all[3]);
    }

    #[test]
    fn learning_rate_decay_matches_the_notebook() {
        // optimizers reference, section 5: the 2021 notebook's test cases.
        assert_relative_eq!(update_lr(0.5, 2, 1.0), 0.5 / 3.0, epsilon = 1e-15);
        assert_eq!(update_lr(0.5, 0, 1.0), 0.5);
        assert_eq!(schedule_lr_decay(0.5, 10, 0.3, 100), 0.5);
        assert_eq!(schedule_lr_decay(0.5, 99, 0.3, 100), 0.5);
        assert_relative_eq!(
            schedule_lr_decay(0.5, 100, 0.3, 100),
            0.384615384615,
            epsilon = 1e-12
        );
        // ⌊250/100⌋ = 2: α = 0.5 / 1.6.
        assert_relative_eq!(
            schedule_lr_decay(0.5, 250, 0.3, 100),
            0.3125,
            epsilon = 1e-15
        );
    }

    #[test]
    fn adam_bias_correction_on_a_matrix_three_steps() {
        // A 2 × 2 parameter, α = 0.1, β₁ 0.9, β₂ 0.999, ε outside, g constant per entry:
        // with a constant g, v̂ = g and ŝ = g² at every t, so each step moves each entry by
        // α·g/(|g| + ε) ≈ ±α, the bias correction's purpose. Without it the first step would
        // be α·0.1g/√(0.001g²) = 3.16α.
        let mut opt = Optimizer::new(Rule::adam(), 0.1);
        let mut w = DMatrix::from_row_slice(2, 2, &[1.0, -1.0, 0.5, 0.0]);
        let g = DMatrix::from_row_slice(2, 2, &[2.0, -0.5, 1e-3, 4.0]);
        for t in 1..=3 {
            opt.step(&mut [&mut w], &[&g]);
            for (k, (&w0, &gk)) in [1.0, -1.0, 0.5, 0.0]
                .iter()
                .zip(g.transpose().as_slice())
                .enumerate()
            {
                let want = w0 - t as f64 * 0.1 * gk / (gk.abs() + 1e-8);
                let got = w.transpose().as_slice()[k];
                assert_relative_eq!(got, want, epsilon = 1e-12);
            }
        }
        assert_eq!(opt.state().t, 3);
    }

    #[test]
    fn clip_limits_entries() {
        let mut g = DMatrix::from_row_slice(1, 4, &[-7.0, 0.5, 9.0, f64::NAN]);
        clip(&mut g, 5.0);
        assert_eq!(&g.as_slice()[..3], &[-5.0, 0.5, 5.0]);
        assert!(g[(0, 3)].is_nan(), "a NaN gradient stays visible");
    }

    #[test]
    fn update_columns_is_update_when_the_other_columns_have_no_gradient() {
        let adagrad = Rule::Adagrad {
            eps: 1e-8,
            at: Eps::InsideSqrt,
        };
        for rule in [
            Rule::Sgd,
            adagrad,
            Rule::adam(),
            Rule::Momentum { beta: 0.9 },
        ] {
            let w0 = DMatrix::from_fn(5, 7, |i, j| ((i * 7 + j) as f64 * 0.3).sin());
            let (mut full, mut cols) = (Optimizer::new(rule, 0.1), Optimizer::new(rule, 0.1));
            let (mut wf, mut wc) = (w0.clone(), w0.clone());
            let mut col6_after_step1 = nalgebra::DVector::zeros(5);
            for step in 0..3 {
                // A one-hot input's gradient: columns 1, 4 (and 6 at step 1) only.
                let seen: &[usize] = if step == 1 { &[1, 4, 6] } else { &[1, 4] };
                let g = DMatrix::from_fn(5, 7, |i, j| {
                    if seen.contains(&j) {
                        ((i + j + step) as f64 * 0.7).cos()
                    } else {
                        0.0
                    }
                });
                full.begin_step();
                full.update(0, &mut wf, &g);
                cols.begin_step();
                cols.update_columns(0, &mut wc, &g, seen);
                if step == 1 {
                    col6_after_step1 = wc.column(6).into_owned();
                }
            }
            assert_eq!(wf, wc, "{rule:?}");
            assert_eq!(full.state(), cols.state(), "{rule:?}");
            // Column 6 had a gradient at step 1 only: SGD and Adagrad leave it alone at step 2,
            // momentum and Adam keep moving it (so they cannot skip it).
            let sparse = matches!(rule, Rule::Sgd | Rule::Adagrad { .. });
            assert_eq!(wc.column(6) == col6_after_step1, sparse, "{rule:?}");
            assert_eq!(wc.column(0), w0.column(0), "never seen, never moved");
        }
    }

    #[test]
    fn dispatched_update_is_bit_identical_to_the_baseline_build() {
        let rules = [
            Rule::Sgd,
            Rule::Momentum { beta: 0.9 },
            Rule::ClassicMomentum { mu: 0.9 },
            Rule::Nesterov { mu: 0.9 },
            Rule::Adagrad {
                eps: 1e-8,
                at: Eps::InsideSqrt,
            },
            Rule::RmsProp {
                decay: 0.9,
                eps: 1e-8,
                at: Eps::Outside,
            },
            Rule::adam(),
        ];
        for rule in rules {
            let mut opt = Optimizer::new(rule, 0.05);
            let mut w = DMatrix::from_fn(37, 11, |i, j| ((i * 11 + j) as f64 * 0.37).sin());
            let (mut wb, mut vb, mut sb) = (w.clone(), vec![0.0; w.len()], vec![0.0; w.len()]);
            for step in 0..3 {
                let g = DMatrix::from_fn(37, 11, |i, j| ((i + 3 * j + step) as f64 * 0.21).cos());
                opt.step(&mut [&mut w], &[&g]);
                let t = opt.state().t as i32;
                apply_rule(
                    rule,
                    0.05,
                    t,
                    wb.as_mut_slice(),
                    g.as_slice(),
                    &mut vb,
                    &mut sb,
                );
            }
            let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(w.as_slice()), bits(wb.as_slice()), "{}", rule.name());
            assert_eq!(
                bits(opt.state().s[0].as_slice()),
                bits(&sb),
                "{}",
                rule.name()
            );
        }
    }
}
