//! What the `optimizers` command does around the training loop: the flags of the rules, each
//! rule's outputs (decision boundary, model), the comparison table, the figure and the summary. Kept here so that `main.rs` reads as flags, data, train loop, outputs.

#![allow(non_snake_case)]

use crate::data::{Data, RngKind};
use crate::model::Net;
use crate::train::{Decay, Hyper, Method, Setup};
use clap::ValueEnum;
use serde_json::{Value, json};
use shared::Error;
use shared::Result;
use shared::optim::Eps;
use shared::plot::{Figure, Panel, Series};
use shared::run::Run;

/// The command line's flags for the update rules and the learning-rate schedule (flattened into
/// `optimizers`' flags); [`RuleFlags::setup`] checks them.
#[derive(clap::Args, Clone, Debug, PartialEq)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EpsAt {
    /// √(ŝ + ε) (the notes, the notebook's printed run).
    Inside,
    /// √ŝ + ε (Kingma & Ba, the notebook's later versions).
    Outside,
}

/// `--lr-decay`: the learning-rate schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
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
    /// The rule's JSON entry in `summary.json`.
    pub fn json(&self) -> Value {
        json!({"optimizer": self.method.name(), "final_cost": self.final_cost,
               "accuracy": self.accuracy, "costs_printed": self.printed, "steps": self.steps,
               "train_seconds": self.seconds})
    }
}

/// Writes `boundary-<rule>.png` (the decision regions of `net` over the points) and
/// `model-<rule>.safetensors` into the run's folder.
pub fn save_rule(run: &Run, method: Method, net: &Net, data: &Data, accuracy: f64) -> Result<()> {
    let name = method.name();
    let title = format!(
        "{name}: decision boundary, training accuracy {:.1} %",
        100.0 * accuracy
    );
    let png = run.path(&format!("boundary-{name}.png"));
    crate::boundary::save_png(png, net, &data.X, &data.labels, &title)?;
    let meta = [
        ("layers", "2,5,2,1".to_string()),
        ("optimizer", name.to_string()),
    ];
    let model = run.path(&format!("model-{name}.safetensors"));
    shared::checkpoint::save(model, "optimizers", &net.tensors(), &meta)
}

/// `loss.png`: one cost curve per rule trained so far.
pub fn figure(outcomes: &[Outcome], lr: f64, batch_size: usize) -> Figure {
    let title = format!("Cost per epoch (α = {lr}, mini-batch {batch_size})");
    let panel = outcomes.iter().fold(
        Panel::new(title, "epoch", "cost (cross-entropy)"),
        |p, o| p.with(o.curve.clone()),
    );
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
