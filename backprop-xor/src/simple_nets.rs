//! §3 Simple nets without a hidden layer (figure 5): `Y = f(XW + b)` with
//!
//! | f | cost E | name |
//! |---|---|---|
//! | f(x) = x | L² (½ mean squared error) | linear regression |
//! | sigmoid | cross-entropy | logistic regression |
//! | softmax | cross-entropy | multinomial classification |
//!
//! Each is fitted by gradient descent to data drawn from known parameters, so the fitted
//! parameters can be read next to the true ones. Rows are examples, as in §2 and §4:
//! `X: N × d`, `W: d × K`, `b: 1 × K`, `Y, T: N × K`.
//!
//! All three pair f with its "matching" cost, so the backward pass starts the same way:
//! ∂E/∂Z = (Y − T)/N, then ∂E/∂W = Xᵀ ∂E/∂Z and ∂E/∂b = the column sums of ∂E/∂Z.

use nalgebra::DMatrix;
use shared::activation::sigmoid;
use shared::rng::{self, Rng};

/// Which of figure 5's nets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// f(x) = x with the L² cost.
    Linear,
    /// sigmoid with cross-entropy.
    Logistic,
    /// softmax with cross-entropy.
    Softmax,
}

impl Kind {
    /// The name used in plots and printouts.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Linear => "linear regression",
            Kind::Logistic => "logistic regression",
            Kind::Softmax => "multinomial (softmax)",
        }
    }
}

/// A net without hidden layer and its data.
#[derive(Clone, Debug)]
pub struct SimpleNet {
    /// Which f and cost.
    pub kind: Kind,
    /// Inputs, N × d.
    pub X: DMatrix<f64>,
    /// Targets, N × K: real values, 0/1, or one-hot rows.
    pub T: DMatrix<f64>,
    /// Weights, d × K.
    pub W: DMatrix<f64>,
    /// Biases, 1 × K.
    pub b: DMatrix<f64>,
}

impl SimpleNet {
    /// Y = f(XW + b), N × K.
    pub fn forward(&self) -> DMatrix<f64> {
        let mut Z = &self.X * &self.W; // Z = XW + b, N×K
        for mut row in Z.row_iter_mut() {
            row += &self.b;
        }
        match self.kind {
            Kind::Linear => Z,
            Kind::Logistic => Z.map(sigmoid),
            Kind::Softmax => {
                // Row-wise softmax (rows are examples here): softmax the columns of Zᵀ.
                let mut Zt = Z.transpose();
                shared::activation::softmax_columns_mut(&mut Zt);
                Zt.transpose()
            }
        }
    }

    /// The cost E of the current parameters (a mean over the N examples).
    pub fn loss(&self) -> f64 {
        let Y = self.forward();
        let n = self.X.nrows() as f64;
        match self.kind {
            Kind::Linear => shared::loss::squared_error(&Y, &self.T) / n,
            Kind::Logistic => shared::loss::binary_cross_entropy(&Y, &self.T),
            Kind::Softmax => {
                shared::loss::cross_entropy_onehot(&Y.transpose(), &self.T.transpose())
            }
        }
    }

    /// (E, ∂E/∂W, ∂E/∂b).
    pub fn grads(&self) -> (f64, DMatrix<f64>, DMatrix<f64>) {
        let Y = self.forward();
        let E = self.loss();
        let n = self.X.nrows() as f64;
        let dZ = (&Y - &self.T) / n; // ∂E/∂Z = (Y − T)/N for each matching pair, N×K
        let dW = self.X.transpose() * &dZ; // ∂E/∂W = Xᵀ ∂E/∂Z, d×K
        let db = DMatrix::from_fn(1, dZ.ncols(), |_, k| dZ.column(k).sum()); // Σ_rows ∂E/∂Z
        (E, dW, db)
    }

    /// Classification accuracy (None for linear regression).
    pub fn accuracy(&self) -> Option<f64> {
        let Y = self.forward();
        match self.kind {
            Kind::Linear => None,
            Kind::Logistic => {
                let right = Y
                    .iter()
                    .zip(self.T.iter())
                    .filter(|(y, t)| (**y > 0.5) == (**t > 0.5))
                    .count();
                Some(right as f64 / Y.len() as f64)
            }
            Kind::Softmax => {
                let right = (0..Y.nrows())
                    .filter(|&i| {
                        Y.row(i).transpose().argmax().0 == self.T.row(i).transpose().argmax().0
                    })
                    .count();
                Some(right as f64 / Y.nrows() as f64)
            }
        }
    }
}

/// The parameters data were drawn from, and the fit.
#[derive(Clone, Debug)]
pub struct Fit {
    /// The net after training (its `W`, `b` are the fitted parameters).
    pub net: SimpleNet,
    /// True weights, d × K.
    pub W_true: DMatrix<f64>,
    /// True biases, 1 × K.
    pub b_true: DMatrix<f64>,
    /// (epoch, E) along training.
    pub losses: Vec<(f64, f64)>,
}

/// Draws a dataset for `kind` from known parameters (seeded) and returns the untrained net
/// (zero weights) with those parameters.
pub fn problem(kind: Kind, rng: &mut Rng) -> (SimpleNet, DMatrix<f64>, DMatrix<f64>) {
    let (n, W_true, b_true) = match kind {
        Kind::Linear => (
            200,
            DMatrix::from_column_slice(2, 1, &[2.0, -3.0]),
            DMatrix::from_row_slice(1, 1, &[0.5]),
        ),
        Kind::Logistic => (
            2000,
            DMatrix::from_column_slice(2, 1, &[1.5, -2.0]),
            DMatrix::from_row_slice(1, 1, &[0.3]),
        ),
        // Softmax is unchanged by adding one constant to every class: centred parameters
        // (rows summing to 0) are the identifiable ones, and gradient descent from zero keeps
        // the fit centred too (each row of Y − T sums to 0).
        Kind::Softmax => (
            3000,
            DMatrix::from_row_slice(2, 3, &[2.0, -1.0, -1.0, 0.0, 2.0, -2.0]),
            DMatrix::from_row_slice(1, 3, &[0.0, 0.5, -0.5]),
        ),
    };
    let X = shared::init::normal(n, 2, 0.0, 1.0, rng);
    let truth = SimpleNet {
        kind,
        X: X.clone(),
        T: DMatrix::zeros(n, W_true.ncols()),
        W: W_true.clone(),
        b: b_true.clone(),
    };
    let P = truth.forward();
    let T = match kind {
        // t = XW + b + noise, noise ~ N(0, 0.1²)
        Kind::Linear => P.map(|y| y + 0.1 * rng::normal(rng)),
        // t ~ Bernoulli(σ(XW + b))
        Kind::Logistic => P.map(|p| {
            if rng::uniform(rng, 0.0, 1.0) < p {
                1.0
            } else {
                0.0
            }
        }),
        // t ~ Categorical(softmax(XW + b)), one-hot
        Kind::Softmax => {
            let mut T = DMatrix::zeros(n, 3);
            for i in 0..n {
                let p: Vec<f64> = P.row(i).iter().copied().collect();
                T[(i, rng::weighted_index(rng, &p))] = 1.0;
            }
            T
        }
    };
    let K = W_true.ncols();
    let net = SimpleNet {
        kind,
        X,
        T,
        W: DMatrix::zeros(2, K),
        b: DMatrix::zeros(1, K),
    };
    (net, W_true, b_true)
}

/// Fits one of figure 5's nets by full-batch gradient descent: `epochs` steps of size `lr`.
pub fn fit(kind: Kind, seed: u64, epochs: usize, lr: f64) -> Fit {
    let mut rng = rng::stream(seed, kind as u64);
    let (mut net, W_true, b_true) = problem(kind, &mut rng);
    let mut losses = Vec::with_capacity(epochs + 1);
    for epoch in 0..epochs {
        let (E, dW, db) = net.grads();
        losses.push((epoch as f64, E));
        net.W.zip_apply(&dW, |w, d| *w -= lr * d); // W ← W − α ∂E/∂W
        net.b.zip_apply(&db, |b, d| *b -= lr * d); // b ← b − α ∂E/∂b
    }
    losses.push((epochs as f64, net.loss()));
    Fit {
        net,
        W_true,
        b_true,
        losses,
    }
}

/// The three fits with the defaults used by `backprop-xor simple-nets`.
pub fn fit_all(seed: u64) -> Vec<Fit> {
    vec![
        fit(Kind::Linear, seed, 300, 0.1),
        fit(Kind::Logistic, seed, 500, 1.0),
        fit(Kind::Softmax, seed, 500, 1.0),
    ]
}

/// A matrix as rows, e.g. `[[2.0000, -1.0000], [0.0000, 2.0000]]`.
fn rows(m: &DMatrix<f64>) -> String {
    let r: Vec<String> = m
        .row_iter()
        .map(|r| {
            let v: Vec<String> = r.iter().map(|v| format!("{v:.4}")).collect();
            format!("[{}]", v.join(", "))
        })
        .collect();
    if r.len() == 1 {
        r[0].clone()
    } else {
        format!("[{}]", r.join(", "))
    }
}

/// The printed report of the fits: true and fitted parameters, final cost, accuracy.
pub fn report(fits: &[Fit]) -> String {
    let mut out = String::new();
    for f in fits {
        let last = f.losses.last().map_or(f64::NAN, |l| l.1);
        out += &format!(
            "§3 {}: {} examples, {} gradient-descent steps\n  true   W = {}  b = {}\n  fitted W = {}  b = {}\n  final cost {last:.5}",
            f.net.kind.name(),
            f.net.X.nrows(),
            f.losses.len() - 1,
            rows(&f.W_true),
            rows(&f.b_true),
            rows(&f.net.W),
            rows(&f.net.b),
        );
        match f.net.accuracy() {
            Some(acc) => out += &format!(", training accuracy {:.1}%\n\n", 100.0 * acc),
            None => out += "\n\n",
        }
    }
    out
}

/// The cost curves, one panel per net.
pub fn figure(fits: &[Fit]) -> shared::plot::Figure {
    use shared::plot::{Panel, Series};
    let panels = fits
        .iter()
        .map(|f| {
            let s = Series {
                name: "cost".into(),
                points: f.losses.clone(),
            };
            Panel::new(f.net.kind.name(), "gradient-descent step", "cost E")
                .log_y()
                .with(s)
        })
        .collect();
    shared::plot::Figure {
        title: "§3 nets without a hidden layer".into(),
        panels,
    }
}

/// The fits as JSON for `summary.json` (parameters as lists of rows).
pub fn summary(fits: &[Fit]) -> serde_json::Value {
    let rows_of = |m: &DMatrix<f64>| -> Vec<Vec<f64>> {
        m.row_iter().map(|r| r.iter().copied().collect()).collect()
    };
    let mut map = serde_json::Map::new();
    for f in fits {
        map.insert(
            f.net.kind.name().into(),
            serde_json::json!({
                "final_cost": f.losses.last().map(|l| l.1),
                "accuracy": f.net.accuracy(),
                "W": rows_of(&f.net.W), "b": rows_of(&f.net.b),
                "W_true": rows_of(&f.W_true), "b_true": rows_of(&f.b_true),
            }),
        );
    }
    map.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::gradcheck;

    #[test]
    fn gradients_of_the_three_nets_match_finite_differences() {
        for kind in [Kind::Linear, Kind::Logistic, Kind::Softmax] {
            let mut rng = rng::seeded(5);
            let (mut net, _, _) = problem(kind, &mut rng);
            net.W = shared::init::normal(2, net.W.ncols(), 0.0, 0.5, &mut rng);
            net.b = shared::init::normal(1, net.b.ncols(), 0.0, 0.5, &mut rng);
            let (_, dW, db) = net.grads();
            let rw = gradcheck::check(&mut net, |n| &mut n.W, &dW, |n| n.loss());
            let rb = gradcheck::check(&mut net, |n| &mut n.b, &db, |n| n.loss());
            assert!(
                rw.max_rel_error < 1e-6 && rb.max_rel_error < 1e-6,
                "{kind:?} {rw:?} {rb:?}"
            );
        }
    }

    #[test]
    fn fits_recover_the_generating_parameters() {
        for f in fit_all(1) {
            let tol = match f.net.kind {
                Kind::Linear => 0.03,
                _ => 0.25,
            };
            let err = (&f.net.W - &f.W_true)
                .abs()
                .max()
                .max((&f.net.b - &f.b_true).abs().max());
            assert!(err < tol, "{:?}: max parameter error {err}", f.net.kind);
            let (first, last) = (f.losses[0].1, f.losses.last().unwrap().1);
            assert!(last < 0.8 * first, "{:?}: {first} -> {last}", f.net.kind);
        }
    }
}
