//! The tutorial's `gradient_check` (`rnn-lm gradcheck`): the backward pass of [`crate::model`]
//! against finite differences of every entry of U, W and V.

use crate::model::{Bptt, Grads, Rnn};
use nalgebra::DMatrix;
use shared::gradcheck::{self, Report};
use shared::rng;

/// One parameter's finite-difference check (see [`gradient_check`]).
#[derive(Clone, Debug)]
pub struct ParamCheck {
    /// `"U"`, `"W"` or `"V"`.
    pub name: &'static str,
    /// Number of entries.
    pub size: usize,
    /// The tutorial's criterion: max over entries of |a − n| / (|a| + |n|), counting 0 where both
    /// are exactly 0 (the tutorial's 0/0 is NaN, which its `>` test silently passes).
    pub tutorial_error: f64,
    /// The workspace's comparison (relative error with a 1e-6 floor, absolute error, ...).
    pub report: Report,
}

impl ParamCheck {
    /// The tutorial's verdict: every entry within |a − n| / (|a| + |n|) < 0.01.
    pub fn passed(&self) -> bool {
        self.tutorial_error < 0.01
    }
}

impl std::fmt::Display for ParamCheck {
    /// The tutorial's two lines, with the errors it does not print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.report;
        writeln!(
            f,
            "Performing gradient check for parameter {} with size {}.",
            self.name, self.size
        )?;
        write!(
            f,
            "Gradient check for parameter {} {}: max |a−n|/(|a|+|n|) = {:.2e}; max relative \
             error {:.2e} at {:?}, max absolute error {:.2e}, largest entry {:.3}",
            self.name,
            if self.passed() { "passed" } else { "FAILED" },
            self.tutorial_error,
            r.max_rel_error,
            r.worst,
            r.max_abs_error,
            r.max_abs_numeric
        )
    }
}

/// The tutorial's check as `rnn-lm gradcheck` runs it: `np.random.seed(10); RNNNumpy(100, 10,
/// bptt_truncate=1000)` on `[0,1,2,3] → [1,2,3,4]`, with the sizes, K and seed given. Returns
/// the line saying what is compared, and the three checks.
pub fn tutorial_gradient_check(
    N_x: usize,
    N_h: usize,
    K: usize,
    seed: u64,
) -> (String, [ParamCheck; 3]) {
    let mut model = Rnn::new(N_x, N_h, &mut rng::seeded(seed));
    let (x, t) = ([0, 1, 2, 3], [1, 2, 3, 4]);
    let what = if K + 1 < x.len() {
        "the truncated loss"
    } else {
        "the loss (full BPTT)"
    };
    let head =
        format!("N_x = {N_x}, N_h = {N_h}, K = {K}, {x:?} → {t:?}: finite differences of {what}");
    (head, gradient_check(&mut model, &x, &t, Bptt::Truncated(K)))
}

/// The tutorial's `gradient_check`, on `model` itself (its code checks a global `model`):
/// [`Rnn::backward`] for (`x`, `t`) against 4th-order central differences of every entry of
/// U, W and V. With `Bptt::Truncated(K)` and K < T − 1 the finite differences are taken of
/// [`Rnn::truncated_surrogate_loss`], the function truncated BPTT is the exact gradient of;
/// otherwise of the sentence loss.
pub fn gradient_check(model: &mut Rnn, x: &[usize], t: &[usize], bptt: Bptt) -> [ParamCheck; 3] {
    let T = x.len();
    let cache = model.forward(x);
    let mut g = Grads::new(model);
    model.backward(&cache, t, bptt, &mut g);
    let loss = |m: &Rnn| match bptt {
        Bptt::Truncated(K) if K + 1 < T => m.truncated_surrogate_loss(&cache, t, K),
        _ => m.forward(x).loss(t),
    };
    type Pick = fn(&mut Rnn) -> &mut DMatrix<f64>;
    let params: [(&'static str, Pick, &DMatrix<f64>); 3] = [
        ("U", |m| &mut m.U, &g.dU),
        ("W", |m| &mut m.W, &g.dW),
        ("V", |m| &mut m.V, &g.dV),
    ];
    params.map(|(name, pick, analytic)| {
        let numeric = gradcheck::numeric_gradient(model, pick, loss, gradcheck::STEP);
        let tutorial = analytic.zip_map(&numeric, |a, n| {
            if a == n {
                0.0
            } else {
                (a - n).abs() / (a.abs() + n.abs())
            }
        });
        ParamCheck {
            name,
            size: analytic.len(),
            tutorial_error: tutorial.max(),
            report: gradcheck::compare(analytic, &numeric),
        }
    })
}
