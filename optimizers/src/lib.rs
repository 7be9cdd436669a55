//! # optimizers — notes §8 Optimization Methods
//!
//! §8 compares how parameters are updated once a backward pass has given dW: (mini-batch)
//! gradient descent, gradient descent with momentum, and Adam. The notes follow Andrew Ng's
//! deeplearning.ai notebook "Optimization Methods" (Course 2, week 2); this crate repeats its
//! experiment: the same small network, trained from the same initial weights on the same
//! mini-batches, once per update rule, on two interleaving half moons.
//!
//! The update rules themselves live in [`shared::optim`] (every chapter uses them); this crate
//! holds the notebook's network ([`Net`]: forward, backward and cost written out by hand as the
//! notebook's `forward_propagation` / `backward_propagation` do), its training loop
//! ([`Trainer`]: mini-batches of 64 reshuffled every epoch, the cost summed per batch and
//! divided by m per epoch), the 2-D loss surfaces of `optimizers paths` ([`paths`]), the
//! decision-boundary picture ([`boundary`]), the `--csv` reader ([`points`]) and the
//! experiment's data, table and summary ([`experiment`]).
//!
//! Size legend (columns are examples, as in the notebook):
//! `m` examples in a mini-batch (64, the last one of an epoch 44), `N = 300` training
//! examples, layers `[n0, n1, n2, n3] = [2, 5, 2, 1]`;
//! `X: n0 × m`, `Y: 1 × m`, `W1: n1 × n0`, `b1: n1 × 1`, `Z1, A1: n1 × m`,
//! `W2: n2 × n1`, `b2: n2 × 1`, `Z2, A2: n2 × m`, `W3: 1 × n2`, `b3: 1 × 1`, `Z3, A3: 1 × m`.
//!
//! Expected result (the notebook, 10 000 epochs, lr 0.0007): training accuracy 79.7 % for
//! gradient descent, 79.7 % for momentum, 94 % for Adam; cost 0.468 / 0.468 / 0.129 at
//! epoch 9000. Our moons and initial weights are drawn by our own seeded generator, so the
//! figures differ by seed; the ordering (Adam far ahead, momentum = GD to the third digit)
//! holds: seed 1 gives 86.7 / 86.7 / 96.7 % (cost 0.327 / 0.327 / 0.064), seeds 1–8 give
//! GD 86–90 % and Adam 91–99 %.
//!
//! The notes' equations in the code (the README gives the line ranges):
//!
//! | notes §8 / notebook | code |
//! |---|---|
//! | mini-batch GD W ← W − α dW; momentum v ← βv + (1 − β)dW, W ← W − αv; Adam | [`shared::optim::Rule`] via [`Method::rule`] |
//! | mini-batches reshuffled every epoch, one update per batch | [`Trainer::epoch`] |
//! | Z1 = W1X + b1, A1 = relu(Z1), …, A3 = σ(Z3) | [`Net::forward`] |
//! | cost Σ −[y ln a3 + (1 − y) ln(1 − a3)] | [`Net::cost`], [`bce_from_logit`] |
//! | dZ3 = (A3 − Y)/m, dW3 = dZ3 A2ᵀ, db3, dA2 = W3ᵀ dZ3, dZ2 = dA2 ∘ (A2 > 0), … | [`Net::backward`] |
//! | He initialisation; `predict` | [`Net::he`]; [`Net::accuracy`] |
//! | learning-rate decay | [`Decay`] |

#![allow(non_snake_case)]

pub mod boundary;
pub mod experiment;
pub mod paths;
pub mod points;

use nalgebra::DMatrix;
use shared::data::batch::{Epoch, Epochs, LastBatch};
use shared::optim::{Eps, Optimizer, Rule, State};
use shared::rng::Rng;

/// The [`shared::rng::stream`] the initial weights are drawn from (the moons use their own).
pub const INIT_STREAM: u64 = 1;
/// The [`shared::rng::stream`] the mini-batch shuffles are drawn from.
pub const BATCH_STREAM: u64 = 2;

/// The notebook's `layers_dims`.
pub const LAYERS: [usize; 4] = [2, 5, 2, 1];

/// The update rules the chapter compares, by the names the command line uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    /// (Mini-batch) gradient descent: W ← W − α dW.
    Gd,
    /// The notes' momentum: v ← βv + (1 − β)dW; W ← W − αv.
    Momentum,
    /// Adam (notes §8), bias-corrected.
    Adam,
    /// Nesterov momentum (CS231n form).
    Nesterov,
    /// Adagrad: G ← G + dW²; W ← W − α dW/(√G + ε).
    Adagrad,
    /// RMSProp: s ← ρs + (1 − ρ)dW²; W ← W − α dW/(√s + ε).
    Rmsprop,
    /// Hinton's velocity form: Δ ← μΔ + dW; W ← W − αΔ.
    ClassicMomentum,
}

impl Method {
    /// The notebook's three, in its order: what `optimizers` runs by default.
    pub const NOTEBOOK: [Method; 3] = [Method::Gd, Method::Momentum, Method::Adam];
    /// Every rule (`--optimizer all`).
    pub const ALL: [Method; 7] = [
        Method::Gd,
        Method::Momentum,
        Method::Adam,
        Method::Nesterov,
        Method::Adagrad,
        Method::Rmsprop,
        Method::ClassicMomentum,
    ];

    /// One `--optimizer` entry: a rule's name, or `all` for every rule.
    pub fn parse_list(s: &str) -> Result<Vec<Method>, String> {
        if s == "all" {
            return Ok(Method::ALL.to_vec());
        }
        <Method as clap::ValueEnum>::from_str(s, false)
            .map(|m| vec![m])
            .map_err(|_| {
                let names: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
                format!("unknown optimizer `{s}`; one of {}, all", names.join(", "))
            })
    }

    /// The name used on the command line and in file names (`boundary-<name>.png`).
    pub fn name(self) -> &'static str {
        match self {
            Method::Gd => "gd",
            Method::Momentum => "momentum",
            Method::Adam => "adam",
            Method::Nesterov => "nesterov",
            Method::Adagrad => "adagrad",
            Method::Rmsprop => "rmsprop",
            Method::ClassicMomentum => "classic-momentum",
        }
    }

    /// The rule of [`shared::optim`] with the hyperparameters `h`.
    pub fn rule(self, h: &Hyper) -> Rule {
        match self {
            Method::Gd => Rule::Sgd,
            Method::Momentum => Rule::Momentum { beta: h.beta },
            Method::Adam => Rule::Adam {
                beta1: h.beta1,
                beta2: h.beta2,
                eps: h.epsilon,
                at: h.adam_eps,
            },
            Method::Nesterov => Rule::Nesterov { mu: h.beta },
            Method::Adagrad => Rule::Adagrad {
                eps: h.epsilon,
                at: Eps::Outside,
            },
            Method::Rmsprop => Rule::RmsProp {
                decay: h.rms_decay,
                eps: h.epsilon,
                at: Eps::Outside,
            },
            Method::ClassicMomentum => Rule::ClassicMomentum { mu: h.beta },
        }
    }
}

/// Hyperparameters of the rules (the learning rate is separate).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hyper {
    /// Momentum β (also μ of Nesterov and of the classic form).
    pub beta: f64,
    /// Adam's β₁.
    pub beta1: f64,
    /// Adam's β₂.
    pub beta2: f64,
    /// ε of Adam, Adagrad and RMSProp.
    pub epsilon: f64,
    /// Where Adam adds ε: the notebook's `√ŝ + ε` ([`Eps::Outside`], default) or the notes'
    /// `√(ŝ + ε)` ([`Eps::InsideSqrt`]). Inside, ε = 1e-8 acts like ε ≈ 1e-4 outside: entries
    /// whose gradients are below ~1e-4 take steps well under α (at t = 1, g = 1e-4 moves by
    /// 0.71α instead of ≈ α); for larger gradients the two agree to ~ε/g².
    pub adam_eps: Eps,
    /// RMSProp's decay ρ.
    pub rms_decay: f64,
}

impl Default for Hyper {
    /// The notebook's values: β 0.9, β₁ 0.9, β₂ 0.999, ε 1e-8 outside; RMSProp ρ 0.9.
    fn default() -> Self {
        Hyper {
            beta: 0.9,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            adam_eps: Eps::Outside,
            rms_decay: 0.9,
        }
    }
}

/// Learning-rate decay between epochs (the notebook's 2021 version).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decay {
    /// Constant α (the notebook's experiment).
    Off,
    /// `update_lr`: α = α₀ / (1 + rate · epoch).
    EveryEpoch { rate: f64 },
    /// `schedule_lr_decay`: α = α₀ / (1 + rate · ⌊epoch / interval⌋).
    Schedule { rate: f64, interval: u64 },
}

impl Decay {
    /// The learning rate after `epoch` epochs (applied from epoch `epoch` on, as the notebook
    /// calls the decay at the end of each epoch).
    pub fn lr(&self, lr0: f64, epoch: u64) -> f64 {
        match *self {
            Decay::Off => lr0,
            Decay::EveryEpoch { rate } => shared::optim::update_lr(lr0, epoch, rate),
            Decay::Schedule { rate, interval } => {
                shared::optim::schedule_lr_decay(lr0, epoch, rate, interval)
            }
        }
    }
}

/// The notebook's network: LINEAR → RELU → LINEAR → RELU → LINEAR → SIGMOID.
#[derive(Clone, Debug, PartialEq)]
pub struct Net {
    /// n1 × n0.
    pub W1: DMatrix<f64>,
    /// n1 × 1.
    pub b1: DMatrix<f64>,
    /// n2 × n1.
    pub W2: DMatrix<f64>,
    /// n2 × 1.
    pub b2: DMatrix<f64>,
    /// 1 × n2.
    pub W3: DMatrix<f64>,
    /// 1 × 1.
    pub b3: DMatrix<f64>,
}

/// The forward values and backward intermediates of one mini-batch of m examples (allocated
/// once per batch size, reused every step).
#[derive(Clone, Debug)]
pub struct Cache {
    /// n0 × m: the batch's inputs.
    pub X: DMatrix<f64>,
    /// 1 × m: its labels (0 or 1).
    pub Y: DMatrix<f64>,
    /// n1 × m.
    pub Z1: DMatrix<f64>,
    /// n1 × m.
    pub A1: DMatrix<f64>,
    /// n2 × m.
    pub Z2: DMatrix<f64>,
    /// n2 × m.
    pub A2: DMatrix<f64>,
    /// 1 × m.
    pub Z3: DMatrix<f64>,
    /// 1 × m: the predicted probabilities of label 1.
    pub A3: DMatrix<f64>,
    /// 1 × m.
    pub dZ3: DMatrix<f64>,
    /// n2 × m.
    pub dA2: DMatrix<f64>,
    /// n2 × m.
    pub dZ2: DMatrix<f64>,
    /// n1 × m.
    pub dA1: DMatrix<f64>,
    /// n1 × m.
    pub dZ1: DMatrix<f64>,
}

/// ∂J/∂ of every parameter, J the mean cross-entropy of a mini-batch (same shapes as [`Net`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Grads {
    pub dW1: DMatrix<f64>,
    pub db1: DMatrix<f64>,
    pub dW2: DMatrix<f64>,
    pub db2: DMatrix<f64>,
    pub dW3: DMatrix<f64>,
    pub db3: DMatrix<f64>,
}

impl Grads {
    /// dW1, db1, dW2, db2, dW3, db3: the order of [`Net::params_mut`].
    pub fn all(&self) -> [&DMatrix<f64>; 6] {
        [
            &self.dW1, &self.db1, &self.dW2, &self.db2, &self.dW3, &self.db3,
        ]
    }
}

/// Z = W A + b (b added to every column): the notebook's `np.dot(W, A) + b`.
/// W: n × k, A: k × m, b: n × 1, Z: n × m. Plain loops: at these sizes (k, n ≤ 5) they beat a
/// GEMM call, and they allocate nothing.
fn linear_forward(W: &DMatrix<f64>, b: &DMatrix<f64>, A: &DMatrix<f64>, Z: &mut DMatrix<f64>) {
    let (n, k) = W.shape();
    assert_eq!(
        (A.nrows(), b.shape(), Z.shape()),
        (k, (n, 1), (n, A.ncols()))
    );
    let (W, b) = (W.as_slice(), b.as_slice());
    for (z, a) in Z
        .as_mut_slice()
        .chunks_exact_mut(n)
        .zip(A.as_slice().chunks_exact(k))
    {
        // z = b + Σ_l W[:, l] a_l    (one column of Z = W A + b)
        z.copy_from_slice(b);
        for (w, &a_l) in W.chunks_exact(n).zip(a) {
            for (z_i, w_il) in z.iter_mut().zip(w) {
                *z_i += w_il * a_l;
            }
        }
    }
}

/// Backward through Z = W A + b for the parameters: dW = dZ Aᵀ, db = Σ_columns dZ
/// (the notebook's `np.dot(dz, a.T)` and `np.sum(dz, axis=1, keepdims=True)`).
fn linear_backward_params(
    dZ: &DMatrix<f64>,
    A: &DMatrix<f64>,
    dW: &mut DMatrix<f64>,
    db: &mut DMatrix<f64>,
) {
    let (n, k) = dW.shape();
    assert_eq!((dZ.nrows(), A.nrows(), dZ.ncols()), (n, k, A.ncols()));
    dW.fill(0.0);
    db.fill(0.0);
    let (dW, db) = (dW.as_mut_slice(), db.as_mut_slice());
    for (dz, a) in dZ
        .as_slice()
        .chunks_exact(n)
        .zip(A.as_slice().chunks_exact(k))
    {
        // dW += dz aᵀ (one example's outer product); db += dz
        for (dw, &a_l) in dW.chunks_exact_mut(n).zip(a) {
            for (dw_il, dz_i) in dw.iter_mut().zip(dz) {
                *dw_il += dz_i * a_l;
            }
        }
        for (db_i, dz_i) in db.iter_mut().zip(dz) {
            *db_i += dz_i;
        }
    }
}

/// Backward through Z = W A + b for the input: dA = Wᵀ dZ (the notebook's `np.dot(W.T, dz)`).
fn linear_backward_input(W: &DMatrix<f64>, dZ: &DMatrix<f64>, dA: &mut DMatrix<f64>) {
    let (n, k) = W.shape();
    assert_eq!((dZ.nrows(), dA.shape()), (n, (k, dZ.ncols())));
    let W = W.as_slice();
    for (da, dz) in dA
        .as_mut_slice()
        .chunks_exact_mut(k)
        .zip(dZ.as_slice().chunks_exact(n))
    {
        // da_l = W[:, l] · dz
        for (da_l, w) in da.iter_mut().zip(W.chunks_exact(n)) {
            *da_l = w.iter().zip(dz).map(|(w, d)| w * d).sum();
        }
    }
}

/// Backward through A = relu(Z): dZ = dA ∘ (A > 0) (the notebook's `np.int64(a > 0)` mask).
fn relu_backward(dA: &DMatrix<f64>, A: &DMatrix<f64>, dZ: &mut DMatrix<f64>) {
    assert_eq!((dA.shape(), A.shape()), (dZ.shape(), dZ.shape()));
    let (dZ, dA, A) = (dZ.as_mut_slice(), dA.as_slice(), A.as_slice());
    for ((dz, &da), &a) in dZ.iter_mut().zip(dA).zip(A) {
        *dz = if a > 0.0 { da } else { 0.0 };
    }
}

/// The binary cross-entropy of one example from its logit z = Z3 and label y:
/// −[y ln a + (1 − y) ln(1 − a)] with a = σ(z), computed as ln(1 + e^{−|z|}) + (1 − y)z for
/// z ≥ 0 and ln(1 + e^{−|z|}) − y z for z < 0 (−ln a = ln(1 + e^{−z}), −ln(1 − a) = z − ln a).
/// The same number, but it keeps its precision when a is within 1e-16 of 0 or 1 (where the
/// notebook's `np.log(1 - a3)` cancels, then gives inf).
pub fn bce_from_logit(z: f64, y: f64) -> f64 {
    let linear = if z >= 0.0 { (1.0 - y) * z } else { -y * z };
    (-z.abs()).exp().ln_1p() + linear
}

impl Net {
    /// He initialisation (the notebook's `initialize_parameters_he`): W_l ~ N(0, 2/n_{l−1}),
    /// n_l × n_{l−1}, drawn layer after layer in row-major order; b_l = 0.
    pub fn he(layers: [usize; 4], rng: &mut Rng) -> Net {
        let [n0, n1, n2, n3] = layers;
        assert!(
            n3 == 1 && layers.iter().all(|&n| n > 0),
            "layers {layers:?}"
        );
        let W1 = shared::init::he(n1, n0, n0, rng); // n1 × n0
        let W2 = shared::init::he(n2, n1, n1, rng); // n2 × n1
        let W3 = shared::init::he(n3, n2, n2, rng); // 1 × n2
        Net {
            W1,
            b1: DMatrix::zeros(n1, 1),
            W2,
            b2: DMatrix::zeros(n2, 1),
            W3,
            b3: DMatrix::zeros(n3, 1),
        }
    }

    /// [n0, n1, n2, n3].
    pub fn layers(&self) -> [usize; 4] {
        [
            self.W1.ncols(),
            self.W1.nrows(),
            self.W2.nrows(),
            self.W3.nrows(),
        ]
    }

    /// W1, b1, W2, b2, W3, b3: the order the optimizer sees them in (with [`Grads::all`]).
    pub fn params_mut(&mut self) -> [&mut DMatrix<f64>; 6] {
        [
            &mut self.W1,
            &mut self.b1,
            &mut self.W2,
            &mut self.b2,
            &mut self.W3,
            &mut self.b3,
        ]
    }

    /// Names and matrices, for a checkpoint.
    pub fn tensors(&self) -> [(&'static str, &DMatrix<f64>); 6] {
        [
            ("W1", &self.W1),
            ("b1", &self.b1),
            ("W2", &self.W2),
            ("b2", &self.b2),
            ("W3", &self.W3),
            ("b3", &self.b3),
        ]
    }

    /// Buffers for mini-batches of `m` examples.
    pub fn cache(&self, m: usize) -> Cache {
        let [n0, n1, n2, n3] = self.layers();
        let z = |n| DMatrix::zeros(n, m);
        Cache {
            X: z(n0),
            Y: z(n3),
            Z1: z(n1),
            A1: z(n1),
            Z2: z(n2),
            A2: z(n2),
            Z3: z(n3),
            A3: z(n3),
            dZ3: z(n3),
            dA2: z(n2),
            dZ2: z(n2),
            dA1: z(n1),
            dZ1: z(n1),
        }
    }

    /// Zero gradients of the right shapes.
    pub fn grads(&self) -> Grads {
        let z = |m: &DMatrix<f64>| DMatrix::zeros(m.nrows(), m.ncols());
        Grads {
            dW1: z(&self.W1),
            db1: z(&self.b1),
            dW2: z(&self.W2),
            db2: z(&self.b2),
            dW3: z(&self.W3),
            db3: z(&self.b3),
        }
    }

    /// The notebook's `forward_propagation` on `c.X`, leaving Z1 … A3 in `c`.
    pub fn forward(&self, c: &mut Cache) {
        // Z1 = W1 X + b1;   A1 = relu(Z1)                 n1 × m
        linear_forward(&self.W1, &self.b1, &c.X, &mut c.Z1);
        c.A1.copy_from(&c.Z1);
        shared::activation::relu_mut(&mut c.A1);
        // Z2 = W2 A1 + b2;  A2 = relu(Z2)                 n2 × m
        linear_forward(&self.W2, &self.b2, &c.A1, &mut c.Z2);
        c.A2.copy_from(&c.Z2);
        shared::activation::relu_mut(&mut c.A2);
        // Z3 = W3 A2 + b3;  A3 = σ(Z3)                    1 × m
        linear_forward(&self.W3, &self.b3, &c.A2, &mut c.Z3);
        c.A3.copy_from(&c.Z3);
        shared::activation::sigmoid_mut(&mut c.A3);
    }

    /// The notebook's `compute_cost` after [`Net::forward`]: the cross-entropy **summed** over
    /// the batch, Σ_j −[y_j ln a3_j + (1 − y_j) ln(1 − a3_j)] (the training loop divides the
    /// epoch's total by N).
    pub fn cost(&self, c: &Cache) -> f64 {
        c.Z3.as_slice()
            .iter()
            .zip(c.Y.as_slice())
            .map(|(&z, &y)| bce_from_logit(z, y))
            .sum()
    }

    /// The notebook's `backward_propagation` after [`Net::forward`]: the gradients of the
    /// batch's **mean** cross-entropy J = cost / m into `g`.
    pub fn backward(&self, c: &mut Cache, g: &mut Grads) {
        let m = c.X.ncols() as f64;
        // dZ3 = (A3 − Y) / m: J = (1/m) Σ bce(σ(Z3), Y) and ∂bce/∂z = a − y      1 × m
        let (dZ3, A3, Y) = (c.dZ3.as_mut_slice(), c.A3.as_slice(), c.Y.as_slice());
        for ((dz, &a), &y) in dZ3.iter_mut().zip(A3).zip(Y) {
            *dz = (a - y) / m;
        }
        // Z3 = W3 A2 + b3  ⇒  dW3 = dZ3 A2ᵀ, db3 = Σ_j dZ3, dA2 = W3ᵀ dZ3
        linear_backward_params(&c.dZ3, &c.A2, &mut g.dW3, &mut g.db3);
        linear_backward_input(&self.W3, &c.dZ3, &mut c.dA2);
        // A2 = relu(Z2)  ⇒  dZ2 = dA2 ∘ (A2 > 0)                                n2 × m
        relu_backward(&c.dA2, &c.A2, &mut c.dZ2);
        // Z2 = W2 A1 + b2  ⇒  dW2 = dZ2 A1ᵀ, db2 = Σ_j dZ2, dA1 = W2ᵀ dZ2
        linear_backward_params(&c.dZ2, &c.A1, &mut g.dW2, &mut g.db2);
        linear_backward_input(&self.W2, &c.dZ2, &mut c.dA1);
        // A1 = relu(Z1)  ⇒  dZ1 = dA1 ∘ (A1 > 0)                                n1 × m
        relu_backward(&c.dA1, &c.A1, &mut c.dZ1);
        // Z1 = W1 X + b1  ⇒  dW1 = dZ1 Xᵀ, db1 = Σ_j dZ1
        linear_backward_params(&c.dZ1, &c.X, &mut g.dW1, &mut g.db1);
    }

    /// The mean cross-entropy J of the examples X (n0 × m) with labels Y (1 × m): what
    /// [`Net::backward`] differentiates. Allocates; for tests and reports.
    pub fn loss(&self, X: &DMatrix<f64>, Y: &DMatrix<f64>) -> f64 {
        let mut c = self.cache(X.ncols());
        c.X.copy_from(X);
        c.Y.copy_from(Y);
        self.forward(&mut c);
        self.cost(&c) / X.ncols() as f64
    }

    /// A3 = P(label 1) for every column of X (n0 × N): 1 × N. Allocates.
    pub fn probabilities(&self, X: &DMatrix<f64>) -> DMatrix<f64> {
        let mut c = self.cache(X.ncols());
        c.X.copy_from(X);
        self.forward(&mut c);
        c.A3
    }

    /// The notebook's `predict`: the fraction of columns with (A3 > 0.5) == label.
    pub fn accuracy(&self, X: &DMatrix<f64>, labels: &[usize]) -> f64 {
        let a3 = self.probabilities(X);
        assert_eq!(a3.ncols(), labels.len());
        let right = a3
            .iter()
            .zip(labels)
            .filter(|&(&a, &l)| (a > 0.5) == (l == 1))
            .count();
        right as f64 / labels.len().max(1) as f64
    }
}

impl Cache {
    /// Copies the columns `idx` of X (n0 × N) and Y (1 × N) into the batch buffers
    /// (`idx.len()` must be this cache's m): the notebook's `shuffled_X[:, k*64:(k+1)*64]`.
    pub fn load(&mut self, X: &DMatrix<f64>, Y: &DMatrix<f64>, idx: &[usize]) {
        assert_eq!(idx.len(), self.X.ncols(), "batch of another size");
        for (j, &col) in idx.iter().enumerate() {
            self.X.set_column(j, &X.column(col));
            self.Y[(0, j)] = Y[(0, col)];
        }
    }

    /// m, the number of examples.
    pub fn m(&self) -> usize {
        self.X.ncols()
    }
}

/// Labels as the notebook's Y: 1 × N of 0.0 / 1.0.
pub fn labels_row(labels: &[usize]) -> DMatrix<f64> {
    DMatrix::from_iterator(1, labels.len(), labels.iter().map(|&l| l as f64))
}

/// What every rule of one experiment shares (the notebook's `model` arguments): each rule
/// starts from the same He weights and sees the same mini-batches, so the curves differ only
/// by the update rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Setup {
    /// Seeds the weights ([`INIT_STREAM`]) and the batch shuffles ([`BATCH_STREAM`]).
    pub seed: u64,
    /// α (α₀ when decayed).
    pub lr: f64,
    /// Examples per mini-batch.
    pub batch_size: usize,
    /// The rules' hyperparameters.
    pub hyper: Hyper,
    /// The decay of α between epochs.
    pub decay: Decay,
}

impl Default for Setup {
    /// The notebook's experiment: α 0.0007, mini-batches of 64, β 0.9, Adam 0.9 / 0.999 / 1e-8,
    /// no decay; seed 1.
    fn default() -> Self {
        Setup {
            seed: 1,
            lr: 0.0007,
            batch_size: 64,
            hyper: Hyper::default(),
            decay: Decay::Off,
        }
    }
}

impl Setup {
    /// A [`Trainer`] of the notebook's network ([`LAYERS`], He init) with `method` for `n`
    /// examples. Error if the batch size is 0.
    pub fn trainer(&self, method: Method, n: usize) -> shared::Result<Trainer> {
        let net = Net::he(LAYERS, &mut shared::rng::stream(self.seed, INIT_STREAM));
        let batches = shared::rng::stream(self.seed, BATCH_STREAM);
        let rule = method.rule(&self.hyper);
        Trainer::new(net, rule, self.lr, self.decay, n, self.batch_size, batches)
    }
}

/// The notebook's `model` loop for one update rule: mini-batches reshuffled every epoch, one
/// optimizer step per mini-batch, the learning rate decayed between epochs. Everything it needs
/// is allocated in [`Trainer::new`]; [`Trainer::epoch`] allocates nothing.
#[derive(Clone, Debug)]
pub struct Trainer {
    /// The network being trained.
    pub net: Net,
    /// The update rule and its state (t counts mini-batch steps).
    pub opt: Optimizer,
    /// α₀.
    pub lr0: f64,
    /// The decay of α between epochs.
    pub decay: Decay,
    /// Epochs completed.
    pub epochs_done: u64,
    epochs: Epochs,
    order: Epoch,
    fresh: bool,
    caches: Vec<Cache>,
    grads: Grads,
}

impl Trainer {
    /// A trainer for `n` examples in mini-batches of `batch_size` (the last smaller one kept,
    /// 300 → 4 × 64 + 44), shuffled by `batch_rng`. Error if `batch_size` is 0.
    pub fn new(
        net: Net,
        rule: Rule,
        lr: f64,
        decay: Decay,
        n: usize,
        batch_size: usize,
        batch_rng: Rng,
    ) -> shared::Result<Trainer> {
        let mut epochs = Epochs::shuffled(batch_rng, n, batch_size, LastBatch::Keep)?;
        let order = epochs
            .next()
            .ok_or_else(|| shared::Error::msg("no epochs"))?;
        // One cache per batch size: B, and N mod B when B does not divide N.
        let mut sizes: Vec<usize> = order.batches().map(<[usize]>::len).collect();
        sizes.sort_unstable();
        sizes.dedup();
        let caches = sizes.iter().map(|&m| net.cache(m)).collect();
        // The optimizer's state, allocated now rather than at its first step.
        let mut opt = Optimizer::new(rule, lr);
        let zeros: Vec<DMatrix<f64>> = net
            .tensors()
            .iter()
            .map(|(_, w)| DMatrix::zeros(w.nrows(), w.ncols()))
            .collect();
        opt.set_state(State {
            t: 0,
            v: zeros.clone(),
            s: zeros,
        });
        let grads = net.grads();
        Ok(Trainer {
            net,
            opt,
            lr0: lr,
            decay,
            epochs_done: 0,
            epochs,
            order,
            fresh: true,
            caches,
            grads,
        })
    }

    /// One epoch over X (n0 × N), Y (1 × N): for each mini-batch, forward, cost, backward and
    /// one update. Returns the epoch's cost, Σ_batches cost / N, computed (as the notebook
    /// does) from each batch's forward pass before its update.
    pub fn epoch(&mut self, X: &DMatrix<f64>, Y: &DMatrix<f64>) -> f64 {
        if !self.fresh {
            self.epochs.next_into(&mut self.order);
        }
        self.fresh = false;
        let mut cost_total = 0.0;
        for idx in self.order.batches() {
            let c = self
                .caches
                .iter_mut()
                .find(|c| c.m() == idx.len())
                .expect("a cache for every batch size");
            c.load(X, Y, idx);
            self.net.forward(c);
            cost_total += self.net.cost(c);
            self.net.backward(c, &mut self.grads);
            self.opt.step(&mut self.net.params_mut(), &self.grads.all());
        }
        self.epochs_done += 1;
        self.opt.lr = self.decay.lr(self.lr0, self.epochs_done);
        cost_total / X.ncols() as f64
    }

    /// The gradients of the last mini-batch.
    pub fn grads(&self) -> &Grads {
        &self.grads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_helpers_match_nalgebra() {
        let W = DMatrix::from_fn(5, 2, |i, j| 0.3 * i as f64 - 0.7 * j as f64 + 0.1);
        let b = DMatrix::from_fn(5, 1, |i, _| i as f64 * 0.05 - 0.1);
        let A = DMatrix::from_fn(2, 7, |i, j| ((i * 3 + j) as f64).sin());
        let mut Z = DMatrix::zeros(5, 7);
        linear_forward(&W, &b, &A, &mut Z);
        let want = &W * &A + &b * DMatrix::from_element(1, 7, 1.0);
        assert!((&Z - &want).amax() < 1e-14);
        let dZ = DMatrix::from_fn(5, 7, |i, j| ((i + 2 * j) as f64).cos());
        let (mut dW, mut db) = (DMatrix::zeros(5, 2), DMatrix::zeros(5, 1));
        linear_backward_params(&dZ, &A, &mut dW, &mut db);
        assert!((&dW - &dZ * A.transpose()).amax() < 1e-14);
        assert!((&db - dZ.column_sum()).amax() < 1e-14);
        let mut dA = DMatrix::zeros(2, 7);
        linear_backward_input(&W, &dZ, &mut dA);
        assert!((&dA - W.transpose() * &dZ).amax() < 1e-14);
    }

    #[test]
    fn bce_from_logit_is_the_notebook_cost() {
        for z in [-5.0, -3.0, -0.2, 0.0, 0.7, 5.0] {
            let a = shared::activation::sigmoid(z);
            for y in [0.0, 1.0] {
                let notebook = -(y * f64::ln(a) + (1.0 - y) * f64::ln(1.0 - a));
                let ours = bce_from_logit(z, y);
                assert!(
                    (ours - notebook).abs() < 1e-12 * notebook.max(1.0),
                    "{z} {y}"
                );
            }
        }
        // Far out the notebook's 1 − a cancels (σ(30) = 1 − 9.4e-14) and σ(40) rounds to 1
        // (ln 0 = −inf); the logit form keeps full precision: −ln(1 − σ(z)) = z + ln(1 + e^{−z}),
        // −ln σ(−z) likewise, and −ln σ(z) = ln(1 + e^{−z}) ≈ e^{−z}.
        assert_eq!(bce_from_logit(40.0, 0.0), 40.0 + (-40f64).exp().ln_1p());
        assert_eq!(bce_from_logit(-40.0, 1.0), 40.0 + (-40f64).exp().ln_1p());
        let tiny = bce_from_logit(30.0, 1.0);
        assert!((tiny / (-30f64).exp() - 1.0).abs() < 1e-12, "{tiny}");
    }

    #[test]
    fn decay_schedules() {
        assert_eq!(Decay::Off.lr(0.1, 500), 0.1);
        let every = Decay::EveryEpoch { rate: 1.0 };
        assert!((every.lr(0.5, 2) - 0.5 / 3.0).abs() < 1e-15);
        let sched = Decay::Schedule {
            rate: 0.3,
            interval: 100,
        };
        assert_eq!(sched.lr(0.5, 99), 0.5);
        assert!((sched.lr(0.5, 100) - 0.5 / 1.3).abs() < 1e-15);
    }
}
