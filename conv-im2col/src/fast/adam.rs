//! The optimizers of the engine's two float types behind one interface, [`Optimize`]:
//! `shared::optim::Optimizer` for f64 (the notes' §8 rules, unchanged), and [`Adam32`], Adam
//! with its moments in f32, for `train --dtype f32`.
//!
//! Adam32 computes the same update as `shared::optim`'s Adam in the same order (the bias
//! corrections in f64, then rounded to f32 once per step): the only difference is the type.

#![allow(non_snake_case)]

use nalgebra::DMatrix;
use shared::optim::{self, Eps, Optimizer, Rule};
use shared::{Error, Result};

/// What the training loop and the checkpoint ask of an optimizer of parameters of type `T`.
pub trait Optimize<T: nalgebra::Scalar>: Clone + std::fmt::Debug + Send + Sized {
    /// A fresh optimizer, t = 0 (an error for a rule it does not implement).
    fn create(rule: Rule, lr: f64) -> Result<Self>;
    /// Starts an update step (advances t).
    fn begin_step(&mut self);
    /// Updates parameter number `i` with its gradient `g`.
    fn update(&mut self, i: usize, w: &mut DMatrix<T>, g: &DMatrix<T>);
    /// Steps taken (Adam's t).
    fn steps(&self) -> u64;
    /// The first and second moments, as f64 (exact), for a checkpoint.
    fn moments(&self) -> (Vec<DMatrix<f64>>, Vec<DMatrix<f64>>);
    /// An optimizer at step `t` with moments `v`, `s` saved by [`Optimize::moments`].
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
    fn steps(&self) -> u64 {
        self.state().t
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
        opt.set_state(optim::State { t, v, s });
        Ok(opt)
    }
}

/// Adam with parameters, gradients and moments in f32 (`Rule::Adam` only, any [`Eps`]).
#[derive(Clone, Debug)]
pub struct Adam32 {
    /// β₁, β₂, ε and where ε goes.
    rule: Rule,
    /// The learning rate α.
    lr: f64,
    /// Steps taken.
    t: u64,
    /// Per parameter: the first moment v and the second moment s.
    v: Vec<DMatrix<f32>>,
    s: Vec<DMatrix<f32>>,
}

impl Optimize<f32> for Adam32 {
    fn create(rule: Rule, lr: f64) -> Result<Self> {
        if !matches!(rule, Rule::Adam { .. }) {
            return Err(Error::msg(format!(
                "f32 training has Adam only, not {}",
                rule.name()
            )));
        }
        Ok(Adam32 {
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
        let Rule::Adam {
            beta1,
            beta2,
            eps,
            at,
        } = self.rule
        else {
            unreachable!("Adam32::create accepts Adam only")
        };
        while self.v.len() <= i {
            self.v.push(DMatrix::zeros(0, 0));
            self.s.push(DMatrix::zeros(0, 0));
        }
        let (v, s) = (&mut self.v[i], &mut self.s[i]);
        if v.shape() != w.shape() {
            *v = DMatrix::zeros(w.nrows(), w.ncols());
            *s = DMatrix::zeros(w.nrows(), w.ncols());
        }
        // v̂ = v / (1 − β₁ᵗ);  ŝ = s / (1 − β₂ᵗ), the corrections in f64 as shared::optim
        let t = self.t.max(1) as i32;
        let (bc1, bc2) = (1.0 - beta1.powi(t), 1.0 - beta2.powi(t));
        let (b1, b2, e) = (beta1 as f32, beta2 as f32, eps as f32);
        let lanes = w
            .iter_mut()
            .zip(g.iter())
            .zip(v.iter_mut())
            .zip(s.iter_mut());
        if at == Eps::OutsideUncorrected {
            // α_t = α √(1 − β₂ᵗ)/(1 − β₁ᵗ);  W ← W − α_t v / (√s + ε)
            let lr_t = (self.lr * bc2.sqrt() / bc1) as f32;
            for (((w, &g), v), s) in lanes {
                *v = b1 * *v + (1.0 - b1) * g;
                *s = b2 * *s + (1.0 - b2) * g * g;
                *w -= lr_t * *v / (s.sqrt() + e);
            }
            return;
        }
        let (lr, bc1, bc2) = (self.lr as f32, bc1 as f32, bc2 as f32);
        for (((w, &g), v), s) in lanes {
            // v ← β₁v + (1 − β₁)g;  s ← β₂s + (1 − β₂)g²;  W ← W − α v̂ / (√ŝ + ε) or √(ŝ + ε)
            *v = b1 * *v + (1.0 - b1) * g;
            *s = b2 * *s + (1.0 - b2) * g * g;
            let d = match at {
                Eps::InsideSqrt => (*s / bc2 + e).sqrt(),
                _ => (*s / bc2).sqrt() + e,
            };
            *w -= lr * (*v / bc1) / d;
        }
    }

    fn steps(&self) -> u64 {
        self.t
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
        let mut opt = Adam32::create(rule, lr)?;
        let narrow = |m: Vec<DMatrix<f64>>| m.iter().map(|x| x.map(|y| y as f32)).collect();
        (opt.t, opt.v, opt.s) = (t, narrow(v), narrow(s));
        Ok(opt)
    }
}
