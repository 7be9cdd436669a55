//! The notebook's `model` loop: the update rules compared ([`Method`], with their
//! hyperparameters [`Hyper`] and the learning-rate [`Decay`]), what every rule of one
//! experiment shares ([`Setup`]) and the training loop itself ([`Trainer`]: mini-batches
//! reshuffled every epoch, one update per batch, the cost summed per batch and divided by N per
//! epoch). The forward and backward passes are [`crate::fast`]'s (the engine path of
//! [`crate::model`]).

use crate::data::{BATCH_SEED, NOTEBOOK_SEED, RngKind, numpy_seed};
use crate::fast;
use crate::model::{Grads, LAYERS, Net};
use nalgebra::DMatrix;
use shared::data::batch::{Epoch, Epochs, LastBatch};
use shared::optim::{Eps, Optimizer, Rule, State};
use shared::rng::{NumpyRandom, Rng};

/// `--rng chacha`: the [`shared::rng::stream`] the initial weights are drawn from (the moons
/// use their own).
pub const INIT_STREAM: u64 = 1;
/// `--rng chacha`: the [`shared::rng::stream`] the mini-batch shuffles are drawn from.
pub const BATCH_STREAM: u64 = 2;

/// The update rules the chapter compares, by the names the command line uses.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
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
    /// Where Adam adds ε: the notes' `√(ŝ + ε)` ([`Eps::InsideSqrt`], the default: the
    /// notebook's printed run (v1b) uses it too) or `√ŝ + ε` ([`Eps::Outside`]: Kingma & Ba,
    /// CS231n, the notebook's later versions). Inside, ε = 1e-8 acts like ε ≈ 1e-4 outside:
    /// entries whose gradients are below ~1e-4 take steps well under α (at t = 1, g = 1e-4
    /// moves by 0.71α instead of ≈ α); for larger gradients the two agree to ~ε/g².
    pub adam_eps: Eps,
    /// RMSProp's decay ρ.
    pub rms_decay: f64,
}

impl Default for Hyper {
    /// The notebook's values: β 0.9, β₁ 0.9, β₂ 0.999, ε 1e-8 inside the root (the notes);
    /// RMSProp ρ 0.9.
    fn default() -> Self {
        Hyper {
            beta: 0.9,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            adam_eps: Eps::InsideSqrt,
            rms_decay: 0.9,
        }
    }
}

/// Where Adam adds ε, as `summary.json` and the output say it: (`inside`/`outside`, the update).
pub fn adam_eps(at: Eps) -> (&'static str, &'static str) {
    match at {
        Eps::InsideSqrt => ("inside", "W ← W − α v̂/√(ŝ + ε)"),
        Eps::Outside => ("outside", "W ← W − α v̂/(√ŝ + ε)"),
        Eps::OutsideUncorrected => ("outside (uncorrected s)", "W ← W − α_t v/(√s + ε)"),
    }
}

/// The mean cost per example after epoch `epoch` if the training has not diverged
/// ([`shared::error::check_nats`] for one example: finite, at most 744.44 nats; the notebook's
/// `-np.log(a3)` is infinite beyond it).
pub fn check_cost(epoch: u64, cost: f64) -> shared::Result<f64> {
    shared::error::check_nats(epoch, cost, 1, "example (the mean cost)")
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
    /// The notebook's `decay(learning_rate0, epoch, decay_rate)`: the learning rate its
    /// `model` sets at the end of epoch `epoch` (counted from 0), used from epoch `epoch + 1` on.
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

/// What every rule of one experiment shares (the notebook's `model` arguments): each rule
/// starts from the same He weights and sees the same mini-batches, so the curves differ only
/// by the update rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Setup {
    /// Where the weights and the batch shuffles come from.
    pub rng: RngKind,
    /// numpy: `np.random.seed(seed)` before the He weights (the mini-batches are seeded as the
    /// notebook seeds them, [`BATCH_SEED`]); ChaCha: the streams [`INIT_STREAM`] and
    /// [`BATCH_STREAM`] of `seed`.
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
    /// The notebook's experiment: numpy's generator seeded with 3, α 0.0007, mini-batches of
    /// 64, β 0.9, Adam 0.9 / 0.999 / 1e-8 (inside the root), no decay.
    fn default() -> Self {
        Setup {
            rng: RngKind::Numpy,
            seed: NOTEBOOK_SEED,
            lr: 0.0007,
            batch_size: 64,
            hyper: Hyper::default(),
            decay: Decay::Off,
        }
    }
}

impl Setup {
    /// A [`Trainer`] of the notebook's network ([`LAYERS`], He init) with `method` for `n`
    /// examples. Error if the batch size is 0, or a numpy seed does not fit in 32 bits.
    pub fn trainer(&self, method: Method, n: usize) -> shared::Result<Trainer> {
        let (net, shuffle) = match self.rng {
            RngKind::Numpy => {
                // initialize_parameters_he: np.random.seed(3); W = np.random.randn(…) · √(2/n)
                let mut np = NumpyRandom::new(numpy_seed(self.seed)?);
                let net = Net::he(LAYERS, || np.gauss());
                (net, Shuffle::Numpy { seed: BATCH_SEED })
            }
            RngKind::Chacha => {
                let mut rng = shared::rng::stream(self.seed, INIT_STREAM);
                let net = Net::he(LAYERS, || shared::rng::normal(&mut rng));
                let batches = shared::rng::stream(self.seed, BATCH_STREAM);
                (net, Shuffle::ChaCha(batches))
            }
        };
        let rule = method.rule(&self.hyper);
        Trainer::new(net, rule, self.lr, self.decay, n, self.batch_size, shuffle)
    }
}

/// How each epoch's order of the examples is drawn.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // one per trainer
pub enum Shuffle {
    /// The notebook's `random_mini_batches(X, Y, size, seed)`, called with `seed` incremented
    /// before each epoch: epoch e is `np.random.seed(seed + e + 1); np.random.permutation(N)`.
    /// (numpy refuses seeds from 2^32 on; here they would wrap, after 4·10⁹ epochs.)
    Numpy {
        /// The notebook's `seed = 10` before the first epoch.
        seed: u32,
    },
    /// One ChaCha8 generator shuffling epoch after epoch ([`shared::data::batch::Epochs`]).
    ChaCha(Rng),
}

/// The order of the examples in the current epoch, and how the next one is drawn.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // one per trainer
enum Order {
    Numpy { seed: u32, order: Vec<usize> },
    ChaCha { epochs: Epochs, epoch: Epoch },
}

impl Order {
    fn new(shuffle: Shuffle, n: usize, batch_size: usize) -> shared::Result<Order> {
        Ok(match shuffle {
            Shuffle::Numpy { seed } => Order::Numpy {
                seed,
                order: (0..n).collect(),
            },
            Shuffle::ChaCha(rng) => {
                let epochs = Epochs::shuffled(rng, n, batch_size, LastBatch::Keep)?;
                let epoch = Epoch::in_order(n, batch_size, LastBatch::Keep)?;
                Order::ChaCha { epochs, epoch }
            }
        })
    }

    /// Draws the next epoch's order in place (allocates nothing).
    fn next(&mut self) {
        match self {
            Order::Numpy { seed, order } => {
                *seed = seed.wrapping_add(1);
                let mut np = NumpyRandom::new(*seed);
                for (i, o) in order.iter_mut().enumerate() {
                    *o = i;
                }
                np.shuffle(order);
            }
            Order::ChaCha { epochs, epoch } => epochs.next_into(epoch),
        }
    }

    /// The examples in this epoch's order (cut into mini-batches by the trainer, the last
    /// smaller one kept).
    fn order(&self) -> &[usize] {
        match self {
            Order::Numpy { order, .. } => order,
            Order::ChaCha { epoch, .. } => epoch.order(),
        }
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
    batch_size: usize,
    order: Order,
    caches: Vec<fast::Cache>,
    grads: Grads,
}

impl Trainer {
    /// A trainer for `n` examples in mini-batches of `batch_size` (the last smaller one kept,
    /// 300 → 4 × 64 + 44), each epoch's order drawn by `shuffle`. Error if `batch_size` is 0.
    pub fn new(
        net: Net,
        rule: Rule,
        lr: f64,
        decay: Decay,
        n: usize,
        batch_size: usize,
        shuffle: Shuffle,
    ) -> shared::Result<Trainer> {
        let order = Order::new(shuffle, n, batch_size)?;
        // One cache per batch size: B, and N mod B when B does not divide N.
        let mut sizes: Vec<usize> = order
            .order()
            .chunks(batch_size)
            .map(<[usize]>::len)
            .collect();
        sizes.sort_unstable();
        sizes.dedup();
        let caches = sizes.iter().map(|&m| fast::Cache::new(&net, m)).collect();
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
        let grads = Grads::zeros(&net);
        Ok(Trainer {
            net,
            opt,
            lr0: lr,
            decay,
            epochs_done: 0,
            batch_size,
            order,
            caches,
            grads,
        })
    }

    // ANCHOR: epoch
    /// One epoch over X (n0 × N), Y (1 × N): a new order of the examples, then for each
    /// mini-batch, forward, cost, backward and one update. Returns the epoch's cost,
    /// Σ_batches cost / N, computed (as the notebook does) from each batch's forward pass
    /// before its update.
    pub fn epoch(&mut self, X: &DMatrix<f64>, Y: &DMatrix<f64>) -> f64 {
        self.order.next();
        let mut cost_total = 0.0;
        for idx in self.order.order().chunks(self.batch_size) {
            let c = self
                .caches
                .iter_mut()
                .find(|c| c.m() == idx.len())
                .expect("a cache for every batch size");
            c.load(X, Y, idx);
            fast::forward(&self.net, c);
            cost_total += fast::cost(c);
            fast::backward(&self.net, c, &mut self.grads);
            self.opt.step(&mut self.net.params_mut(), &self.grads.all());
        }
        // The notebook, after epoch i: learning_rate = decay(learning_rate0, i, decay_rate).
        self.opt.lr = self.decay.lr(self.lr0, self.epochs_done);
        self.epochs_done += 1;
        cost_total / X.ncols() as f64
    }
    // ANCHOR_END: epoch

    /// The gradients of the last mini-batch.
    pub fn grads(&self) -> &Grads {
        &self.grads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_cost_no_probability_can_have_is_divergence() {
        let max = shared::error::MAX_NATS;
        assert_eq!(check_cost(4, 0.7).unwrap(), 0.7);
        assert_eq!(check_cost(4, max).unwrap(), max);
        let e = check_cost(4, 1.2e5).unwrap_err().to_string();
        assert!(
            e.starts_with("training diverged at step 4: the loss became 1.200e5"),
            "{e}"
        );
        let e = check_cost(9, f64::NAN).unwrap_err().to_string();
        assert!(e.starts_with("training diverged at step 9"), "{e}");
    }
}
