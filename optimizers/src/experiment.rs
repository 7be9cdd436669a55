//! The `optimizers` command (the bare command and `train`): Ng's experiment, every rule from
//! the same weights on the same mini-batches. Its flags ([`TrainArgs`], [`RuleFlags`]), the
//! loop over the rules ([`command`]), each rule's outputs (decision boundary, model), the
//! comparison table, the figure and the summary, all written through the run session
//! ([`shared::session::Session`]).

#![allow(non_snake_case)]

use crate::data::{BATCH_SEED, Data, RngKind, describe_rng};
use crate::model::{LAYERS, Net};
use crate::train::{Decay, Hyper, Method, Setup, Trainer, adam_eps, check_cost};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::optim::Eps;
use shared::plot::{Figure, Panel, Series};
use shared::run::{Progress, RunArgs};
use shared::session::{Chapter, Session, check_memory};
use shared::{Error, Result, say};
use std::path::PathBuf;
use std::time::Instant;

/// The flags of `optimizers` (the bare command) and `optimizers train`.
#[derive(clap::Args, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainArgs {
    /// Update rules to compare, comma-separated: gd, momentum, adam, nesterov, adagrad,
    /// rmsprop, classic-momentum, or all.
    #[arg(long, value_delimiter = ',', default_value = "gd,momentum,adam", value_parser = Method::parse_list)]
    pub optimizer: Vec<Vec<Method>>,
    /// Passes over the training set.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub epochs: u64,
    /// The rules' hyperparameters and the learning-rate schedule.
    #[command(flatten)]
    #[serde(flatten)]
    pub rules: RuleFlags,
    /// Number of moons points.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(2..))]
    pub samples: u64,
    /// Standard deviation of the moons' Gaussian noise.
    #[arg(long, default_value_t = 0.2)]
    pub noise: f64,
    /// Train on these points instead: CSV lines x1,x2,label (label 0 or 1; optional header).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Generator of the moons, the weights and the mini-batches: `numpy` is the notebook's
    /// (np.random.seed(--seed), its numbers bit for bit with seed 3), `chacha` the workspace's.
    #[arg(long, value_enum, default_value_t = RngKind::Numpy)]
    pub rng: RngKind,
    /// Print the cost every N epochs.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub print_every: u64,
    /// --seed (3: the notebook's), --out, --quiet, --overwrite.
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
}

/// The most memory one moons point can take in a run: the point and its label (X, Y, labels:
/// 32 B), the shuffled order (up to 16 B), a trainer's buffers for a mini-batch as large as the
/// data (34 values: 272 B) and the forward pass over all points for the accuracy (272 B).
pub const BYTES_PER_POINT: f64 = 640.0;

impl TrainArgs {
    /// The rules of `--optimizer` in order, each once.
    pub fn methods(&self) -> Vec<Method> {
        let mut methods: Vec<Method> = Vec::new();
        for &m in self.optimizer.iter().flatten() {
            if !methods.contains(&m) {
                methods.push(m);
            }
        }
        methods
    }

    /// Checks the flags that clap cannot, and that the run fits in memory, before anything is
    /// allocated or written: an error names the flag.
    pub fn check(&self) -> Result<Setup> {
        if !(self.noise.is_finite() && self.noise >= 0.0) {
            return Err(Error::flag("--noise", "must be a number ≥ 0"));
        }
        let setup = self.rules.setup(self.rng, self.run.seed)?;
        if self.rng == RngKind::Numpy && self.epochs > u64::from(u32::MAX - BATCH_SEED) {
            return Err(Error::flag(
                "--epochs",
                "numpy seeds epoch e's mini-batches with 11 + e, below 2^32 (or use --rng chacha)",
            ));
        }
        if self.csv.is_none() {
            let n = self.samples as f64;
            let what = format!("{} moons points", self.samples);
            check_memory("--samples", &what, n * BYTES_PER_POINT)?;
        }
        // Per rule: a curve point every 100 epochs and a printed cost every --print-every
        // epochs, kept until the end and copied once for the figure.
        let (e, rules) = (self.epochs as f64, self.methods().len() as f64);
        let per_rule = 16.0 * (e / 100.0 + 2.0) + 8.0 * (e / self.print_every as f64 + 1.0);
        let what = format!("the cost curves of {} epochs", self.epochs);
        check_memory("--epochs", &what, 2.0 * rules * per_rule)?;
        Ok(setup)
    }
}

/// Runs `optimizers` (and `optimizers train`): each rule of `--optimizer` trained from the same
/// weights on the same mini-batches; prints the notebook's lines and the comparison table,
/// writes `boundary-<rule>.png` and `model-<rule>.safetensors` per rule, `loss.png`,
/// `loss.csv` and `summary.json`. A cost no probability can have ([`check_cost`]) stops the
/// run with the curves so far and the models of the rules already trained.
pub fn command(chapter: Chapter, a: &TrainArgs) -> Result<()> {
    let setup = a.check()?;
    let methods = a.methods();
    let data = match &a.csv {
        Some(p) => Data::csv(p)?,
        None => Data::moons(a.rng, a.run.seed, a.samples as usize, a.noise)?,
    };
    let session = Session::outputs(chapter, &a.run, None, a)?;
    let (eps_at, update) = adam_eps(setup.hyper.adam_eps);
    say!(
        "notes §8: network {LAYERS:?} (ReLU, ReLU, sigmoid), He init, {}; {} epochs, mini-batch {}, α = {}\n\
         random numbers: {}\nAdam: {update}, ε = {:e} {eps_at} the square root",
        data.name,
        a.epochs,
        setup.batch_size,
        setup.lr,
        describe_rng(a.rng, session.seed),
        setup.hyper.epsilon
    )?;
    let bar = session.progress(a.epochs * methods.len() as u64, "train");
    let mut done: Vec<Outcome> = Vec::new();
    for (k, &method) in methods.iter().enumerate() {
        let mut tr = setup.trainer(method, data.labels.len())?;
        bar.println(format!("── {} ──", method.name()));
        let mut o = Outcome::new(method);
        let clock = Instant::now();
        let first = k as u64 * a.epochs;
        if let Err(diverged) = train_rule(&mut tr, &mut o, &data, a, &bar, first) {
            // The curves so far (this rule's up to its last good epoch); the models of the rules
            // already trained stay as written.
            bar.finish();
            done.push(o);
            session.save_loss(&figure(&done, setup.lr, setup.batch_size))?;
            return Err(diverged);
        }
        (o.seconds, o.steps) = (clock.elapsed().as_secs_f64(), tr.opt.state().t);
        o.accuracy = crate::fast::accuracy(&tr.net, &data.X, &data.labels);
        bar.println(format!(
            "Accuracy: {:.6}   ({} steps in {:.3} s)",
            o.accuracy, o.steps, o.seconds
        ));
        save_rule(&session, method, &tr.net, &data, o.accuracy)?;
        done.push(o);
    }
    bar.finish();
    say!("\n{}", table(&done).trim_end_matches('\n'))?;
    // The notebook's accuracies, beside the run that repeats its setting.
    if a.csv.is_none() && setup == Setup::default() && a.epochs == 10_000 {
        say!("(the notebook, 10 000 epochs: gd 0.796667, momentum 0.796667, adam 0.94)")?;
    }
    session.save_loss(&figure(&done, setup.lr, setup.batch_size))?;
    let steps: u64 = done.iter().map(|o| o.steps).sum();
    let settings = json!({"epochs": a.epochs, "lr": setup.lr, "batch_size": setup.batch_size,
        "rng": a.rng.name(), "adam_eps": eps_at, "adam_update": update});
    session.save_summary(steps, summary(&done, &data, settings))?;
    session.finish()
}

/// The epochs of one rule: its curve (every 100 epochs and the last) and the costs printed
/// every `--print-every` epochs go into `o`, the bar's position starts at `first`. Stops at the
/// first cost that says the training diverged, or at the end if a weight is no longer finite.
fn train_rule(
    tr: &mut Trainer,
    o: &mut Outcome,
    data: &Data,
    a: &TrainArgs,
    bar: &Progress,
    first: u64,
) -> Result<()> {
    for i in 0..a.epochs {
        let cost = check_cost(i, tr.epoch(&data.X, &data.Y))?;
        o.final_cost = cost;
        if i % 100 == 0 || i + 1 == a.epochs {
            o.curve.push(i as f64, cost);
            bar.set_position(first + i + 1);
        }
        if i % a.print_every == 0 {
            bar.println(format!("Cost after epoch {i}: {cost:.6}"));
            o.printed.push(cost);
        }
    }
    // The last update comes after the last cost: its weights are checked too.
    for (name, w) in tr.net.tensors() {
        if w.iter().any(|v| !v.is_finite()) {
            return Err(Error::msg(format!(
                "training diverged at step {}: {name} is no longer finite; try a smaller --lr",
                a.epochs - 1
            )));
        }
    }
    Ok(())
}

/// The command line's flags for the update rules and the learning-rate schedule (flattened into
/// `optimizers`' flags); [`RuleFlags::setup`] checks them.
#[derive(clap::Args, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleFlags {
    /// Learning rate α (α₀ when --lr-decay is on).
    #[arg(long, default_value_t = 0.0007, value_parser = shared::cli::positive)]
    pub lr: f64,
    /// Examples per mini-batch (the last batch of an epoch keeps the remainder: 300 → 4×64 + 44).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_size: u64,
    /// Momentum β (also μ of nesterov and classic-momentum).
    #[arg(long, default_value_t = 0.9)]
    pub beta: f64,
    /// Adam's β₁.
    #[arg(long, default_value_t = 0.9)]
    pub beta1: f64,
    /// Adam's β₂.
    #[arg(long, default_value_t = 0.999)]
    pub beta2: f64,
    /// ε of Adam, Adagrad and RMSProp.
    #[arg(long, default_value_t = 1e-8, value_parser = shared::cli::positive)]
    pub epsilon: f64,
    /// Where Adam adds ε: inside the root, √(ŝ + ε) (the notes, and the notebook's printed
    /// run), which damps steps of gradients below ~√ε = 1e-4, or outside, √ŝ + ε (Kingma & Ba,
    /// the notebook's later versions).
    #[arg(long, value_enum, default_value_t = EpsAt::Inside)]
    pub adam_eps: EpsAt,
    /// Learning-rate decay after each epoch: every-epoch α₀/(1 + r·epoch) (update_lr) or
    /// schedule α₀/(1 + r·⌊epoch/interval⌋) (schedule_lr_decay).
    #[arg(long, value_enum, default_value_t = DecayArg::Off)]
    pub lr_decay: DecayArg,
    /// The decay rate r.
    #[arg(long, default_value_t = 1.0)]
    pub decay_rate: f64,
    /// The schedule's interval in epochs.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub time_interval: u64,
}

/// `--adam-eps`: where Adam adds ε.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EpsAt {
    /// √(ŝ + ε) (the notes, the notebook's printed run).
    Inside,
    /// √ŝ + ε (Kingma & Ba, the notebook's later versions).
    Outside,
}

/// `--lr-decay`: the learning-rate schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecayArg {
    /// Constant α.
    Off,
    /// α₀/(1 + r·epoch).
    EveryEpoch,
    /// α₀/(1 + r·⌊epoch/interval⌋).
    Schedule,
}

impl RuleFlags {
    /// The experiment's [`Setup`] for the generator `rng` seeded with `seed`; a value out of
    /// range is an error naming its flag.
    pub fn setup(&self, rng: RngKind, seed: u64) -> Result<Setup> {
        shared::cli::check_positive("--lr", self.lr)?;
        shared::cli::check_positive("--epsilon", self.epsilon)?;
        let unit = |v: f64| (0.0..1.0).contains(&v);
        for (flag, ok, msg) in [
            (
                "--decay-rate",
                self.decay_rate.is_finite() && self.decay_rate >= 0.0,
                "must be a number ≥ 0",
            ),
            ("--beta", unit(self.beta), "must be in [0, 1)"),
            ("--beta1", unit(self.beta1), "must be in [0, 1)"),
            ("--beta2", unit(self.beta2), "must be in [0, 1)"),
        ] {
            if !ok {
                return Err(Error::flag(flag, msg));
            }
        }
        let adam_eps = match self.adam_eps {
            EpsAt::Outside => Eps::Outside,
            EpsAt::Inside => Eps::InsideSqrt,
        };
        let (rate, interval) = (self.decay_rate, self.time_interval);
        let decay = match self.lr_decay {
            DecayArg::Off => Decay::Off,
            DecayArg::EveryEpoch => Decay::EveryEpoch { rate },
            DecayArg::Schedule => Decay::Schedule { rate, interval },
        };
        let hyper = Hyper {
            beta: self.beta,
            beta1: self.beta1,
            beta2: self.beta2,
            epsilon: self.epsilon,
            adam_eps,
            ..Hyper::default()
        };
        Ok(Setup {
            rng,
            seed,
            lr: self.lr,
            batch_size: self.batch_size as usize,
            hyper,
            decay,
        })
    }
}

/// One rule's training run: its cost curve and final figures.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The rule.
    pub method: Method,
    /// The cost every 100 epochs and at the last one.
    pub curve: Series,
    /// The costs printed every `--print-every` epochs.
    pub printed: Vec<f64>,
    /// The cost of the last epoch.
    pub final_cost: f64,
    /// Training accuracy after the last epoch.
    pub accuracy: f64,
    /// Optimizer steps (mini-batches) taken.
    pub steps: u64,
    /// Seconds of training.
    pub seconds: f64,
}

impl Outcome {
    /// A rule about to be trained: no curve yet, NaN figures.
    pub fn new(method: Method) -> Outcome {
        Outcome {
            method,
            curve: Series::new(method.name()),
            printed: Vec::new(),
            final_cost: f64::NAN,
            accuracy: f64::NAN,
            steps: 0,
            seconds: 0.0,
        }
    }

    /// The rule's JSON entry in `summary.json`.
    pub fn json(&self) -> Value {
        json!({"optimizer": self.method.name(), "final_cost": self.final_cost,
               "accuracy": self.accuracy, "costs_printed": self.printed, "steps": self.steps,
               "train_seconds": self.seconds})
    }
}

/// Writes `boundary-<rule>.png` (the decision regions of `net` over the points) and
/// `model-<rule>.safetensors` (its weights, the layers and the rule) into the session's folder.
pub fn save_rule(
    session: &Session,
    method: Method,
    net: &Net,
    data: &Data,
    accuracy: f64,
) -> Result<()> {
    let name = method.name();
    let title = format!(
        "{name}: decision boundary, training accuracy {:.1} %",
        100.0 * accuracy
    );
    let png = session.output(&format!("boundary-{name}.png"));
    crate::boundary::save_png(png, net, &data.X, &data.labels, &title)?;
    let meta = [
        ("layers", "2,5,2,1".to_string()),
        ("optimizer", name.to_string()),
    ];
    let model = session.output(&format!("model-{name}.safetensors"));
    shared::checkpoint::save(model, session.chapter.name, &net.tensors(), &meta)
}

/// `loss.png`: one cost curve per rule trained so far.
pub fn figure(outcomes: &[Outcome], lr: f64, batch_size: usize) -> Figure {
    let title = format!("Cost per epoch (α = {lr}, mini-batch {batch_size})");
    let mut panel = outcomes.iter().fold(
        Panel::new(title, "epoch", "cost (cross-entropy)"),
        |p, o| p.with(o.curve.clone()),
    );
    // At the notebook's α, momentum's curve lies on gd's (within 0.1 %): say so on the picture,
    // where the later curve is drawn dashed over the earlier.
    let curve = |name: &str| outcomes.iter().find(|o| o.method.name() == name);
    if let (Some(gd), Some(m)) = (curve("gd"), curve("momentum"))
        && gd.curve.points.len() == m.curve.points.len()
        && gd
            .curve
            .points
            .iter()
            .zip(&m.curve.points)
            .all(|(a, b)| (a.1 - b.1).abs() <= 1e-3 * a.1.abs())
    {
        panel = panel.note("gd and momentum coincide (momentum dashed)");
    }
    Figure::single(panel)
}

/// The comparison table printed at the end: final cost, training accuracy and time per rule.
pub fn table(outcomes: &[Outcome]) -> String {
    let mut s = String::from("optimizer         final cost   training accuracy   train time\n");
    for o in outcomes {
        s += &format!(
            "{:<17} {:>10.6}   {:>17.1} %   {:>8.3} s\n",
            o.method.name(),
            o.final_cost,
            100.0 * o.accuracy,
            o.seconds
        );
    }
    s
}

/// The chapter's metrics for `summary.json`: accuracy and final cost by rule, each rule's run,
/// and the settings (`extra`, e.g. epochs and α).
pub fn summary(outcomes: &[Outcome], data: &Data, extra: Value) -> Value {
    let by_name = |f: fn(&Outcome) -> f64| -> serde_json::Map<String, Value> {
        outcomes
            .iter()
            .map(|o| (o.method.name().to_string(), json!(f(o))))
            .collect()
    };
    let mut m = json!({
        "accuracy": by_name(|o| o.accuracy), "final_cost": by_name(|o| o.final_cost),
        "runs": outcomes.iter().map(Outcome::json).collect::<Vec<_>>(), "data": data.name,
    });
    if let (Value::Object(m), Value::Object(extra)) = (&mut m, extra) {
        m.extend(extra);
    }
    m
}
