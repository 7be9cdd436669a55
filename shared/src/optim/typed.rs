//! The optimizers of the engine's two float types behind one interface, [`Optimize`]:
//! [`Optimizer`] for f64 (the rules of the module above, unchanged) and [`Optimizer32`], the
//! same rules with parameters, gradients and state in f32, for `train --dtype f32`.
//!
//! [`Optimizer32`] computes each rule's update with the same operations in the same order as
//! [`Optimizer`]; the hyperparameters (α, β, μ, ρ, ε) are rounded to f32 once per update and
//! Adam's bias corrections 1 − βᵗ are computed in f64 and then rounded, so the only difference
//! is the type (a test compares the two to f32 precision on every rule).

use super::{Eps, Optimizer, Rule, State};
use crate::error::Result;
use multiversion::multiversion;
use nalgebra::{DMatrix, Scalar};

/// What a training loop and its checkpoint ask of an optimizer of parameters of type `T`.
pub trait Optimize<T: Scalar>: Clone + std::fmt::Debug + Send + Sized {
    /// A fresh optimizer, t = 0.
    fn create(rule: Rule, lr: f64) -> Result<Self>;
    /// Starts an update step (advances t).
    fn begin_step(&mut self);
    /// Updates parameter number `i` with its gradient `g` (part of the step begun).
    fn update(&mut self, i: usize, w: &mut DMatrix<T>, g: &DMatrix<T>);
    /// [`Optimize::update`] for a gradient that is zero outside the columns `cols` (strictly
    /// increasing): see [`Optimizer::update_columns`].
    fn update_columns(&mut self, i: usize, w: &mut DMatrix<T>, g: &DMatrix<T>, cols: &[usize]);
    /// Steps taken (Adam's t).
    fn steps(&self) -> u64;
    /// The learning rate α.
    fn lr(&self) -> f64;
    /// Sets the learning rate (a schedule between epochs).
    fn set_lr(&mut self, lr: f64);
    /// The state buffers v and s of every parameter, as f64 (exact), for a checkpoint.
    fn moments(&self) -> (Vec<DMatrix<f64>>, Vec<DMatrix<f64>>);
    /// An optimizer at step `t` with the buffers `v`, `s` saved by [`Optimize::moments`].
    fn restore(
        rule: Rule,
        lr: f64,
        t: u64,
        v: Vec<DMatrix<f64>>,
        s: Vec<DMatrix<f64>>,
    ) -> Result<Self>;
}

impl Optimize<f64> for Optimizer {
    fn create(rule: Rule, lr: f64) -> Result<Self> {
        Ok(Optimizer::new(rule, lr))
    }
    fn begin_step(&mut self) {
        Optimizer::begin_step(self);
    }
    fn update(&mut self, i: usize, w: &mut DMatrix<f64>, g: &DMatrix<f64>) {
        Optimizer::update(self, i, w, g);
    }
    fn update_columns(&mut self, i: usize, w: &mut DMatrix<f64>, g: &DMatrix<f64>, cols: &[usize]) {
        Optimizer::update_columns(self, i, w, g, cols);
    }
    fn steps(&self) -> u64 {
        self.state().t
    }
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
    fn moments(&self) -> (Vec<DMatrix<f64>>, Vec<DMatrix<f64>>) {
        (self.state().v.clone(), self.state().s.clone())
    }
    fn restore(
        rule: Rule,
        lr: f64,
        t: u64,
        v: Vec<DMatrix<f64>>,
        s: Vec<DMatrix<f64>>,
    ) -> Result<Self> {
        let mut opt = Optimizer::new(rule, lr);
        opt.set_state(State { t, v, s });
        Ok(opt)
    }
}

/// Every rule of [`Rule`] with parameters, gradients and state in f32.
#[derive(Clone, Debug)]
pub struct Optimizer32 {
    /// The update rule.
    rule: Rule,
    /// The learning rate α.
    lr: f64,
    /// Steps taken.
    t: u64,
    /// Per parameter: velocity / first moment v and cache / second moment s.
    v: Vec<DMatrix<f32>>,
    s: Vec<DMatrix<f32>>,
}

impl Optimizer32 {
    /// The state buffers of parameter `i` (zeros of `shape` the first time).
    fn slot(&mut self, i: usize, shape: (usize, usize)) -> (&mut [f32], &mut [f32]) {
        while self.v.len() <= i {
            self.v.push(DMatrix::zeros(0, 0));
            self.s.push(DMatrix::zeros(0, 0));
        }
        let (v, s) = (&mut self.v[i], &mut self.s[i]);
        if v.shape() != shape {
            *v = DMatrix::zeros(shape.0, shape.1);
            *s = DMatrix::zeros(shape.0, shape.1);
        }
        (v.as_mut_slice(), s.as_mut_slice())
    }
}

impl Optimize<f32> for Optimizer32 {
    fn create(rule: Rule, lr: f64) -> Result<Self> {
        Ok(Optimizer32 {
            rule,
            lr,
            t: 0,
            v: Vec::new(),
            s: Vec::new(),
        })
    }

    fn begin_step(&mut self) {
        self.t += 1;
    }

    fn update(&mut self, i: usize, w: &mut DMatrix<f32>, g: &DMatrix<f32>) {
        assert_eq!(
            w.shape(),
            g.shape(),
            "parameter {i}: gradient shape differs"
        );
        let (rule, lr, t) = (self.rule, self.lr, self.t.max(1) as i32);
        let (v, s) = self.slot(i, w.shape());
        apply32(rule, lr, t, w.as_mut_slice(), g.as_slice(), v, s);
    }

    fn update_columns(&mut self, i: usize, w: &mut DMatrix<f32>, g: &DMatrix<f32>, cols: &[usize]) {
        // Under SGD and Adagrad a zero gradient changes neither the weight nor the state.
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
        let (rule, lr, t) = (self.rule, self.lr, self.t.max(1) as i32);
        let m = w.nrows();
        let (v, s) = self.slot(i, w.shape());
        let (w, g) = (w.as_mut_slice(), g.as_slice());
        for &c in cols {
            let r = c * m..(c + 1) * m; // column c, column-major
            let (w, g) = (&mut w[r.clone()], &g[r.clone()]);
            apply32(rule, lr, t, w, g, &mut v[r.clone()], &mut s[r]);
        }
    }

    fn steps(&self) -> u64 {
        self.t
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn moments(&self) -> (Vec<DMatrix<f64>>, Vec<DMatrix<f64>>) {
        let wide = |m: &Vec<DMatrix<f32>>| m.iter().map(|x| x.map(f64::from)).collect();
        (wide(&self.v), wide(&self.s))
    }

    fn restore(
        rule: Rule,
        lr: f64,
        t: u64,
        v: Vec<DMatrix<f64>>,
        s: Vec<DMatrix<f64>>,
    ) -> Result<Self> {
        let narrow = |m: Vec<DMatrix<f64>>| m.iter().map(|x| x.map(|y| y as f32)).collect();
        Ok(Optimizer32 {
            rule,
            lr,
            t,
            v: narrow(v),
            s: narrow(s),
        })
    }
}

/// One update in f32: the rules of `super::apply_rule`, the same operations in the same order,
/// with every hyperparameter rounded to f32 (Adam's bias corrections computed in f64 first).
/// Compiled for AVX2 besides the baseline, as `super::apply` (the same bits either way).
#[multiversion(targets("x86_64+avx2"))]
fn apply32(rule: Rule, lr: f64, t: i32, w: &mut [f32], g: &[f32], v: &mut [f32], s: &mut [f32]) {
    let denom = |s: f32, eps: f32, at: Eps| match at {
        Eps::InsideSqrt => (s + eps).sqrt(),
        Eps::Outside | Eps::OutsideUncorrected => s.sqrt() + eps,
    };
    let a = lr as f32;
    match rule {
        Rule::Sgd => {
            // W ← W − α g
            for (w, g) in w.iter_mut().zip(g) {
                *w -= a * g;
            }
        }
        Rule::Momentum { beta } => {
            // v ← βv + (1 − β) dW;  W ← W − α v
            let beta = beta as f32;
            for ((w, g), v) in w.iter_mut().zip(g).zip(v.iter_mut()) {
                *v = beta * *v + (1.0 - beta) * g;
                *w -= a * *v;
            }
        }
        Rule::ClassicMomentum { mu } => {
            // Δ ← μΔ + g;  W ← W − α Δ
            let mu = mu as f32;
            for ((w, g), v) in w.iter_mut().zip(g).zip(v.iter_mut()) {
                *v = mu * *v + g;
                *w -= a * *v;
            }
        }
        Rule::Nesterov { mu } => {
            // v_prev = v;  v ← μv − α g;  W ← W − μ v_prev + (1 + μ) v
            let mu = mu as f32;
            for ((w, g), v) in w.iter_mut().zip(g).zip(v.iter_mut()) {
                let v_prev = *v;
                *v = mu * *v - a * g;
                *w += -mu * v_prev + (1.0 + mu) * *v;
            }
        }
        Rule::Adagrad { eps, at } => {
            // G ← G + g²;  W ← W − α g / √(G + ε)
            let eps = eps as f32;
            for ((w, g), s) in w.iter_mut().zip(g).zip(s.iter_mut()) {
                *s += g * g;
                *w -= a * g / denom(*s, eps, at);
            }
        }
        Rule::RmsProp { decay, eps, at } => {
            // s ← ρs + (1 − ρ) g²;  W ← W − α g / √(s + ε)
            let (decay, eps) = (decay as f32, eps as f32);
            for ((w, g), s) in w.iter_mut().zip(g).zip(s.iter_mut()) {
                *s = decay * *s + (1.0 - decay) * g * g;
                *w -= a * g / denom(*s, eps, at);
            }
        }
        Rule::Adam {
            beta1,
            beta2,
            eps,
            at,
        } => {
            // v ← β₁v + (1 − β₁)g;  s ← β₂s + (1 − β₂)g²
            // v̂ = v / (1 − β₁ᵗ);  ŝ = s / (1 − β₂ᵗ);  W ← W − α v̂ / √(ŝ + ε)
            let (bc1, bc2) = (1.0 - beta1.powi(t), 1.0 - beta2.powi(t));
            let (b1, b2, e) = (beta1 as f32, beta2 as f32, eps as f32);
            if at == Eps::OutsideUncorrected {
                // α_t = α √(1 − β₂ᵗ)/(1 − β₁ᵗ);  W ← W − α_t v / (√s + ε)
                let lr_t = (lr * bc2.sqrt() / bc1) as f32;
                for (((w, g), v), s) in w.iter_mut().zip(g).zip(v.iter_mut()).zip(s.iter_mut()) {
                    *v = b1 * *v + (1.0 - b1) * g;
                    *s = b2 * *s + (1.0 - b2) * g * g;
                    *w -= lr_t * *v / (s.sqrt() + e);
                }
                return;
            }
            let (bc1, bc2) = (bc1 as f32, bc2 as f32);
            for (((w, g), v), s) in w.iter_mut().zip(g).zip(v.iter_mut()).zip(s.iter_mut()) {
                *v = b1 * *v + (1.0 - b1) * g;
                *s = b2 * *s + (1.0 - b2) * g * g;
                *w -= a * (*v / bc1) / denom(*s / bc2, e, at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rule, several steps: Optimizer32 follows Optimizer to f32 precision, and its
    /// state round-trips through `moments` / `restore` exactly.
    #[test]
    fn optimizer32_follows_optimizer_on_every_rule() {
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
            Rule::Adam {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                at: Eps::OutsideUncorrected,
            },
        ];
        for rule in rules {
            let mut o64 = Optimizer::new(rule, 0.01);
            let mut o32 = Optimizer32::create(rule, 0.01).unwrap();
            let mut w64 = DMatrix::from_fn(3, 4, |i, j| (i as f64 - j as f64) * 0.25 + 0.125);
            let mut w32 = w64.map(|x| x as f32);
            for step in 0..5 {
                // Gradients exactly representable in f32, so only the arithmetic differs.
                let g64 =
                    DMatrix::from_fn(3, 4, |i, j| ((i + 2 * j + step) % 5) as f64 * 0.5 - 1.0);
                let g32 = g64.map(|x| x as f32);
                o64.begin_step();
                o64.update(0, &mut w64, &g64);
                o32.begin_step();
                o32.update(0, &mut w32, &g32);
            }
            for (a, b) in w64.iter().zip(w32.iter()) {
                // Five steps of a few f32 roundings each on weights of size ~1.
                assert!(
                    (a - f64::from(*b)).abs() < 1e-5,
                    "{}: {a} against {b}",
                    rule.name()
                );
            }
            let (v, s) = o32.moments();
            let back = Optimizer32::restore(rule, 0.01, o32.steps(), v, s).unwrap();
            assert_eq!((back.v, back.s, back.t), (o32.v.clone(), o32.s.clone(), 5));
        }
    }

    #[test]
    fn update_columns_equals_update_under_sgd_and_adagrad() {
        for rule in [
            Rule::Sgd,
            Rule::Adagrad {
                eps: 1e-8,
                at: Eps::InsideSqrt,
            },
        ] {
            let mut w = DMatrix::from_fn(2, 4, |i, j| (i + j) as f32 * 0.1);
            let mut w2 = w.clone();
            let g = DMatrix::from_fn(2, 4, |i, j| {
                if j == 1 || j == 3 {
                    i as f32 + 0.5
                } else {
                    0.0
                }
            });
            let mut a = Optimizer32::create(rule, 0.1).unwrap();
            let mut b = a.clone();
            for _ in 0..3 {
                a.begin_step();
                a.update(0, &mut w, &g);
                b.begin_step();
                b.update_columns(0, &mut w2, &g, &[1, 3]);
            }
            assert_eq!(w, w2);
        }
    }
}
