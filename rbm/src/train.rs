//! Training as Hinton's practical guide (UTML TR 2010-003) prescribes: contrastive divergence
//! CD-k and persistent CD (PCD, Tieleman 2008), mini-batches, momentum 0.5 then 0.9, L2 weight
//! cost on W only, W ~ N(0, 0.01²), visible biases log(p_i / (1 − p_i)), hidden biases 0.
//!
//! The log-likelihood gradient is ∂ log p(v)/∂W = ⟨h vᵀ⟩_data − ⟨h vᵀ⟩_model; CD-k replaces
//! the model expectation by the statistics after k steps of Gibbs sampling started at the data,
//! PCD by those of chains that persist from one update to the next; `Exact` computes it by
//! enumerating the smaller layer ([`crate::fast::model_expectations`]), which is
//! affordable because this chapter's Z is exact. All give an *ascent* direction;
//! `shared::optim` descends, so the optimizer is handed its negative.

use crate::data::Source;
use crate::fast::{self, Cd, EngineFloat, GradParts, Params};
use crate::model::Rbm;
use nalgebra::DMatrix;
use shared::kernels::narrow;
use shared::optim::{Optimize, Rule};
use shared::plot::Series;
use shared::rng::Rng;

/// How the negative (model) statistics are collected (`--method`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// CD-k: k Gibbs steps from the data of the mini-batch.
    Cd,
    /// Persistent CD: k Gibbs steps of chains kept from the previous update.
    Pcd,
    /// The exact model expectations, by enumeration (no sampling, no bias): with the whole
    /// training set as the batch, gradient ascent on the exact log-likelihood.
    Exact,
}

impl Method {
    /// "CD-k", "PCD-k" or "exact gradient".
    pub fn name(self, k: usize) -> String {
        match self {
            Method::Cd => format!("CD-{k}"),
            Method::Pcd => format!("PCD-{k}"),
            Method::Exact => "exact gradient".into(),
        }
    }

    /// Epochs between two evaluations of the exact likelihood: every epoch, except for the
    /// exact method, whose epochs are single updates (about 200 evaluations in all).
    pub fn evaluate_every(self, epochs: usize) -> usize {
        match self {
            Method::Exact => (epochs / 200).max(1),
            Method::Cd | Method::Pcd => 1,
        }
    }
}

/// The training recipe (defaults: the guide's settings, as in the reference sheet's run).
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// CD or PCD.
    pub method: Method,
    /// Gibbs steps per update (CD-1: k = 1).
    pub k: usize,
    /// Learning rate ε.
    pub lr: f64,
    /// Mini-batch size B (and the number of persistent chains).
    pub batch: usize,
    /// Momentum of the first epochs.
    pub momentum_start: f64,
    /// Momentum from epoch `momentum_epochs` + 1 on.
    pub momentum_final: f64,
    /// Epochs trained with `momentum_start` (the guide: about 5).
    pub momentum_epochs: usize,
    /// L2 weight cost λ on W (not on the biases).
    pub weight_cost: f64,
    /// `Some(E)`: ε decays linearly over E epochs, ε_e = ε (E − e + 1) / E in epoch e
    /// (Robbins–Monro annealing: the noise of the updates shrinks to nothing at the end);
    /// `None`: ε stays constant.
    pub anneal_epochs: Option<usize>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            method: Method::Cd,
            k: 1,
            lr: 0.05,
            batch: 10,
            momentum_start: 0.5,
            momentum_final: 0.9,
            momentum_epochs: 5,
            weight_cost: 1e-4,
            anneal_epochs: None,
        }
    }
}

/// The random stream (of the run's seed) of the initial weights.
pub const INIT_STREAM: u64 = 11;
/// The random stream of training: mini-batch order and Gibbs sampling.
pub const TRAIN_STREAM: u64 = 12;
/// The random stream of the Gibbs samples drawn at the end of a run.
pub const SAMPLE_STREAM: u64 = 13;

/// Largest smaller layer training accepts: exact log Z (every epoch) and exact gradients
/// enumerate 2^{min(n_v, n_h)} configurations.
pub const MAX_EXACT_UNITS: usize = 20;

/// Checks a recipe and the sizes before any training time is spent; errors name the flag.
pub fn check(config: &Config, n_v: usize, n_h: usize) -> shared::Result<()> {
    use shared::Error;
    if !(config.lr > 0.0 && config.lr.is_finite()) {
        return Err(Error::flag(
            "--lr",
            format!(
                "the learning rate ε must be a positive number, got {}",
                config.lr
            ),
        ));
    }
    if !(config.weight_cost >= 0.0 && config.weight_cost.is_finite()) {
        return Err(Error::flag(
            "--weight-cost",
            format!("λ must be 0 or positive, got {}", config.weight_cost),
        ));
    }
    if n_v.min(n_h) > MAX_EXACT_UNITS {
        return Err(Error::flag(
            "--hidden",
            format!(
                "{n_h} hidden and {n_v} visible units: the exact log Z sums over the smaller layer, \
             which must have at most {MAX_EXACT_UNITS} units"
            ),
        ));
    }
    Ok(())
}

/// Visible units whose training frequency is 0 or 1 would get an infinite bias; their
/// frequency is clamped to [`P_CLAMP`, 1 − `P_CLAMP`] first.
pub const P_CLAMP: f64 = 1e-3;

/// The guide's initialisation for training data V (n_v × N): W ~ N(0, 0.01²) (n_h × n_v),
/// a_i = log(p_i / (1 − p_i)) with p_i the fraction of examples where unit i is on, b = 0.
pub fn init(n_h: usize, V: &DMatrix<f64>, rng: &mut Rng) -> Rbm {
    let n_v = V.nrows();
    let W = shared::init::normal(n_h, n_v, 0.0, 0.01, rng);
    let N = V.ncols().max(1) as f64;
    let a = DMatrix::from_fn(n_v, 1, |i, _| {
        let p = (V.row(i).sum() / N).clamp(P_CLAMP, 1.0 - P_CLAMP);
        (p / (1.0 - p)).ln()
    });
    Rbm::new(W, a, DMatrix::zeros(n_h, 1))
}

/// A CD-k or PCD trainer in the engine's float type `T` (f64 by default; `--dtype f32`):
/// the recipe, the momentum optimizer, buffers, persistent chains.
#[derive(Clone, Debug)]
pub struct Trainer<T: EngineFloat = f64> {
    /// The recipe.
    pub config: Config,
    /// Ascent direction of the last update: the CD estimate of ∂ log-likelihood / ∂θ
    /// (before weight cost).
    pub grads: T::Grads,
    neg: T::Grads,
    opt: T::Optimizer,
    /// The momentum μ `opt` runs with.
    mu: f64,
    cd: Cd<T>,
    /// PCD's fantasy particles (n_v × B), None for CD.
    chains: Option<DMatrix<T>>,
    /// Updates made so far.
    pub steps: u64,
}

impl<T: EngineFloat> Trainer<T> {
    /// A trainer for `rbm`; PCD chains start from independent draws of σ(a) (the model with
    /// W = 0), from `rng`.
    pub fn new<P: Params<F = T>>(rbm: &P, config: Config, rng: &mut Rng) -> Trainer<T> {
        let a = rbm.parts()[1];
        let (n_v, B) = (a.nrows(), config.batch);
        let chains = (config.method == Method::Pcd).then(|| {
            let P = a.map(|a| shared::activation::sigmoid(a.as_f64()));
            let P = DMatrix::from_fn(n_v, B, |i, _| P[i]);
            narrow(&crate::model::sample_bernoulli(&P, rng))
        });
        Trainer::with_chains(rbm, config, chains)
    }

    /// A trainer that continues where a saved one stopped: its momentum velocities (of W, a,
    /// b, as f64, exact) after `t` optimizer steps, PCD's chains (n_v × B, `None` for CD and
    /// the exact method) and its update count.
    pub fn restore<P: Params<F = T>>(
        rbm: &P,
        config: Config,
        (t, v): (u64, Vec<DMatrix<f64>>),
        chains: Option<DMatrix<T>>,
        steps: u64,
    ) -> shared::Result<Trainer<T>> {
        let mut tr = Trainer::with_chains(rbm, config, chains);
        let s = v
            .iter()
            .map(|m| DMatrix::zeros(m.nrows(), m.ncols()))
            .collect();
        tr.opt = Optimize::restore(tr.rule(), tr.config.lr, t, v, s)?;
        tr.steps = steps;
        Ok(tr)
    }

    fn with_chains<P: Params<F = T>>(
        rbm: &P,
        config: Config,
        chains: Option<DMatrix<T>>,
    ) -> Trainer<T> {
        assert!(
            config.k >= 1 && config.batch >= 1,
            "k and the batch size are ≥ 1"
        );
        let (n_h, n_v) = rbm.parts()[0].shape();
        let B = config.batch;
        let mu = config.momentum_start;
        let rule = Rule::ClassicMomentum { mu };
        Trainer {
            opt: Optimize::create(rule, config.lr).expect("both float types have classic momentum"),
            mu,
            config,
            grads: GradParts::zeros(n_v, n_h),
            neg: GradParts::zeros(n_v, n_h),
            cd: Cd::new(n_v, n_h, B, B),
            chains,
            steps: 0,
        }
    }

    /// The update rule: classic momentum with the current μ.
    fn rule(&self) -> Rule {
        Rule::ClassicMomentum { mu: self.mu }
    }

    /// The momentum state for a checkpoint: the optimizer's step count and the velocities Δ
    /// of W, a, b as f64 (exact; none before the first update).
    pub fn optimizer_state(&self) -> (u64, Vec<DMatrix<f64>>) {
        (self.opt.steps(), self.opt.moments().0)
    }

    /// PCD's persistent chains (n_v × B), for a checkpoint.
    pub fn chains(&self) -> Option<&DMatrix<T>> {
        self.chains.as_ref()
    }

    /// The learning rate of epoch `epoch` (1-based): ε, or ε (E − e + 1) / E when annealed
    /// over E epochs (0 after epoch E).
    pub fn learning_rate(&self, epoch: usize) -> f64 {
        match self.config.anneal_epochs {
            Some(E) if E > 0 => {
                self.config.lr * (E + 1).saturating_sub(epoch.max(1)) as f64 / E as f64
            }
            _ => self.config.lr,
        }
    }

    /// The CD-k / PCD estimate (or, for [`Method::Exact`], the exact value) of the
    /// log-likelihood gradient for the mini-batch of columns `cols` of V, into
    /// [`Trainer::grads`]. Guide §3: the hidden units driven by data are sampled; driven by
    /// reconstructions, their probabilities are used; the last reconstruction is kept as
    /// probabilities (CD) and statistics use probabilities.
    pub fn gradient<P: Params<F = T>>(
        &mut self,
        rbm: &P,
        V: &DMatrix<f64>,
        cols: &[usize],
        rng: &mut Rng,
    ) {
        let (g, k) = (&mut self.grads, self.config.k);
        match (self.config.method, &mut self.chains) {
            (Method::Exact, _) => self.cd.exact(rbm, V, cols, g),
            (_, None) => self.cd.cd(rbm, V, cols, k, rng, g),
            (_, Some(chains)) => self.cd.pcd(rbm, V, cols, chains, k, rng, g),
        }
    }

    /// One update on the mini-batch `cols` of V: Δ ← μΔ + (∇ − λW), θ ← θ + εΔ
    /// ([`crate::model::Rbm::update`]: PA4's momentum with the guide's weight cost), as
    /// `shared::optim`'s classic momentum (Δ ← μΔ + g, θ ← θ − εΔ) fed with the negated
    /// direction g = −(∇ − λW). Counts the update in [`Trainer::steps`].
    pub fn step<P: Params<F = T>>(
        &mut self,
        rbm: &mut P,
        V: &DMatrix<f64>,
        cols: &[usize],
        rng: &mut Rng,
    ) {
        self.steps += 1;
        self.gradient(rbm, V, cols, rng);
        let λ = T::round_from(self.config.weight_cost);
        let [gW, ga, gb] = self.grads.parts();
        let [nW, na, nb] = self.neg.parts_mut();
        let [W, a, b] = rbm.parts_mut();
        // −(∂ log p/∂W − λW): descent gradient of the negative log-likelihood plus ½λ‖W‖²
        nW.zip_zip_apply(gW, W, |n, g, w| *n = -(g - λ * w));
        na.copy_from(ga);
        na.neg_mut();
        nb.copy_from(gb);
        nb.neg_mut();
        self.opt.begin_step();
        self.opt.update(0, W, nW);
        self.opt.update(1, a, na);
        self.opt.update(2, b, nb);
    }

    /// One epoch (1-based number `epoch`, which sets the momentum and the annealed ε) over
    /// all columns of V in shuffled mini-batches; returns the number of updates. Stops with
    /// "training diverged at step N" at the first update that leaves a parameter non-finite
    /// (`rbm` then holds those parameters: keep a copy of the last good ones).
    pub fn epoch<P: Params<F = T>>(
        &mut self,
        rbm: &mut P,
        V: &DMatrix<f64>,
        epoch: usize,
        rng: &mut Rng,
    ) -> shared::Result<usize> {
        let mu = if epoch <= self.config.momentum_epochs {
            self.config.momentum_start
        } else {
            self.config.momentum_final
        };
        if mu != self.mu {
            // The optimizer's rule is fixed when it is made: the same velocities and step
            // count under the new μ (exact: moments are widened, then rounded back).
            self.mu = mu;
            let (v, s) = self.opt.moments();
            self.opt = Optimize::restore(self.rule(), self.opt.lr(), self.opt.steps(), v, s)?;
        }
        self.opt.set_lr(self.learning_rate(epoch));
        let order = shared::data::batch::Epoch::shuffled(
            rng,
            V.ncols(),
            self.config.batch,
            shared::data::batch::LastBatch::Keep,
        )?;
        let mut steps = 0;
        for cols in order.batches() {
            self.step(rbm, V, cols, rng);
            steps += 1;
            // One sum over the parameters (≈ 1 % of an update): any NaN or ±∞ makes it non-finite.
            let [W, a, b] = rbm.parts();
            let total = (W.sum() + a.sum() + b.sum()).as_f64();
            if !total.is_finite() {
                return Err(shared::Error::msg(format!(
                    "training diverged at step {}: the weights became {total} (try a smaller --lr)",
                    self.steps
                )));
            }
        }
        Ok(steps)
    }
}

/// What is reported after each epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    /// Exact log Z.
    pub log_z: f64,
    /// Exact mean log p(v) over the training set (nats per example).
    pub train_ll: f64,
    /// Exact mean log p(v) over the held-out set.
    pub test_ll: f64,
    /// Mean over training examples of Σ_i (v_i − v̂_i)², v̂ = σ(Wᵀσ(Wv + b) + a) (mean field).
    pub recon: f64,
    /// Mean free energy of the held-out set minus that of the training set (the guide's
    /// overfitting monitor; with exact Z it equals train_ll − test_ll).
    pub fe_gap: f64,
}

/// The exact likelihoods, reconstruction error and free-energy gap of `rbm` on the training
/// set (n_v × N) and the held-out set (n_v × M, may be empty).
pub fn evaluate(rbm: &Rbm, train: &DMatrix<f64>, test: &DMatrix<f64>) -> Stats {
    let log_z = fast::log_z(rbm);
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len().max(1) as f64;
    let (f_train, f_test) = (fast::free_energy(rbm, train), fast::free_energy(rbm, test));
    let N = train.ncols();
    let mut H = DMatrix::zeros(rbm.n_h(), N);
    fast::hidden_probs(rbm, train, &mut H, 0..N);
    let mut R = DMatrix::zeros(rbm.n_v(), N);
    fast::visible_probs(rbm, &H, &mut R, 0..N);
    Stats {
        log_z,
        train_ll: -mean(&f_train) - log_z,
        test_ll: -mean(&f_test) - log_z,
        recon: (train - &R).norm_squared() / train.ncols().max(1) as f64,
        fe_gap: mean(&f_test) - mean(&f_train),
    }
}

/// `n` samples from the model: chains started at independent draws of σ(a), run for `steps`
/// Gibbs steps (h ~ p(h | v), v ~ p(v | h)); returns p(v | h) of the last step (n_v × n),
/// which shows a sample without the salt-and-pepper of its final coin flips.
pub fn gibbs_samples(rbm: &Rbm, n: usize, steps: usize, rng: &mut Rng) -> DMatrix<f64> {
    let (n_v, n_h) = (rbm.n_v(), rbm.n_h());
    let mut P = DMatrix::from_fn(n_v, n, |i, _| shared::activation::sigmoid(rbm.a[i]));
    let mut V = DMatrix::zeros(n_v, n);
    let (mut Ph, mut H) = (DMatrix::zeros(n_h, n), DMatrix::zeros(n_h, n));
    fast::sample_into(&P, &mut V, rng);
    for _ in 0..steps {
        fast::hidden_probs(rbm, &V, &mut Ph, 0..n);
        fast::sample_into(&Ph, &mut H, rng);
        fast::visible_probs(rbm, &H, &mut P, 0..n);
        fast::sample_into(&P, &mut V, rng);
    }
    P
}

/// `n` chains of `steps` Gibbs steps at temperature T, i.e. from p(v, h)^{1/T} normalised:
/// T = 1 is [`gibbs_samples`]; any T > 0 is the same sampler on the RBM with W, a, b divided
/// by T (−E/T is its energy); T = 0 (argmax) starts the chains at independent draws of σ(a)
/// as the others do, then sets every unit to its more probable value, h = 1[Wv + b > 0],
/// v = 1[Wᵀh + a > 0], with no random draw: each chain descends to a minimum of the energy.
/// Returns n_v × n (probabilities for T > 0, 0/1 states for T = 0).
pub fn tempered_samples(rbm: &Rbm, n: usize, steps: usize, T: f64, rng: &mut Rng) -> DMatrix<f64> {
    if T == 1.0 {
        return gibbs_samples(rbm, n, steps, rng);
    }
    if T > 0.0 {
        let hot = Rbm::new(&rbm.W / T, &rbm.a / T, &rbm.b / T);
        return gibbs_samples(&hot, n, steps, rng);
    }
    let (n_v, n_h) = (rbm.n_v(), rbm.n_h());
    let P = DMatrix::from_fn(n_v, n, |i, _| shared::activation::sigmoid(rbm.a[i]));
    let mut V = DMatrix::zeros(n_v, n);
    let mut H = DMatrix::zeros(n_h, n);
    fast::sample_into(&P, &mut V, rng);
    let more_probable = |p: &mut f64| *p = if *p > 0.5 { 1.0 } else { 0.0 };
    for _ in 0..steps {
        fast::hidden_probs(rbm, &V, &mut H, 0..n);
        H.apply(more_probable);
        fast::visible_probs(rbm, &H, &mut V, 0..n);
        V.apply(more_probable);
    }
    V
}

/// The exact log-likelihoods, reconstruction error and free-energy gap of every evaluated
/// epoch: the curves of a run (drawn by `report`, kept in the checkpoint).
#[derive(Clone, Debug)]
pub struct History {
    /// Exact mean log p(v), training set.
    pub train: Series,
    /// Exact mean log p(v), held-out set.
    pub test: Series,
    /// Reconstruction error.
    pub recon: Series,
    /// Mean F(held-out) − mean F(train).
    pub fe_gap: Series,
}

impl Default for History {
    fn default() -> Self {
        History {
            train: Series::new("train"),
            test: Series::new("held-out"),
            recon: Series::new("reconstruction error"),
            fe_gap: Series::new("F(held-out) − F(train)"),
        }
    }
}

impl History {
    /// Records the statistics of `epoch` (0 = before training).
    pub fn push(&mut self, epoch: usize, s: &Stats) {
        self.push_row([epoch as f64, s.train_ll, s.test_ll, s.recon, s.fe_gap]);
    }

    /// Records one row (epoch, train, held-out, reconstruction error, free-energy gap).
    pub fn push_row(&mut self, [x, train, test, recon, fe_gap]: [f64; 5]) {
        self.train.push(x, train);
        self.test.push(x, test);
        self.recon.push(x, recon);
        self.fe_gap.push(x, fe_gap);
    }

    /// The rows recorded so far, one per evaluated epoch, as [`History::push_row`] takes them.
    pub fn rows(&self) -> Vec<[f64; 5]> {
        let y = |s: &Series, k: usize| s.points[k].1;
        (0..self.train.points.len())
            .map(|k| {
                let x = self.train.points[k].0;
                let (train, test) = (y(&self.train, k), y(&self.test, k));
                [x, train, test, y(&self.recon, k), y(&self.fe_gap, k)]
            })
            .collect()
    }
}

/// The independent-pixel baseline: mean over the columns of V of
/// Σ_i [v_i ln p_i + (1 − v_i) ln(1 − p_i)], with p_i the (clamped) frequency of unit i in
/// `train`. It is the log-likelihood of the RBM [`init`] makes, less its tiny weights.
pub fn independent_baseline(train: &DMatrix<f64>, V: &DMatrix<f64>) -> f64 {
    let N = train.ncols().max(1) as f64;
    let p: Vec<f64> = (0..train.nrows())
        .map(|i| (train.row(i).sum() / N).clamp(P_CLAMP, 1.0 - P_CLAMP))
        .collect();
    let total: f64 = V
        .column_iter()
        .map(|v| {
            v.iter()
                .zip(&p)
                .map(|(&x, &p)| x * p.ln() + (1.0 - x) * (1.0 - p).ln())
                .sum::<f64>()
        })
        .sum();
    total / V.ncols().max(1) as f64
}

/// The recipe defaults that go with a data set and a training method.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Defaults {
    /// Hidden units.
    pub hidden: usize,
    /// Epochs.
    pub epochs: usize,
    /// Gibbs steps of CD-k / PCD-k.
    pub k: usize,
    /// Learning rate ε.
    pub lr: f64,
    /// Mini-batch size; `None`: the whole training set (one update per epoch).
    pub batch: Option<usize>,
    /// ε annealed linearly to 0 over the epochs (else constant).
    pub anneal: bool,
}

impl Defaults {
    /// The recipe for a data set and `method`: digits 12 hidden, 50 epochs of CD-1, ε 0.05;
    /// MNIST 16 hidden, 20 epochs of CD-1, ε 0.05; bars and stripes 16 hidden, 300 epochs of
    /// CD-20, ε 0.004 annealed to 0; mini-batches of 10. With [`Method::Exact`] instead
    /// full-batch ascent on the exact log-likelihood: 2000 (bars), 1000 (digits) epochs at
    /// ε 0.3, or 50 (MNIST) at ε 0.05, one update each.
    pub fn of(source: Source, method: Method) -> Defaults {
        let (hidden, cd, exact) = match source {
            Source::Digits => (12, (50, 1, 0.05, false), (1000, 0.3)),
            Source::Mnist => (16, (20, 1, 0.05, false), (50, 0.05)),
            Source::Bars => (16, (300, 20, 0.004, true), (2000, 0.3)),
        };
        let (epochs, k, lr, anneal) = cd;
        match method {
            Method::Exact => Defaults {
                hidden,
                epochs: exact.0,
                k,
                lr: exact.1,
                batch: None,
                anneal: false,
            },
            Method::Cd | Method::Pcd => Defaults {
                hidden,
                epochs,
                k,
                lr,
                batch: Some(10),
                anneal,
            },
        }
    }
}
