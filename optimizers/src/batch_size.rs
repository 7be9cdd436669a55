//! `optimizers batch-size`: notes §8's comparison of batch, mini-batch and stochastic gradient
//! descent. They differ only in how many examples one update sees: all N (one exact, costly
//! update per epoch), a mini-batch, or one (N cheap, noisy updates per epoch). The same network,
//! data and initial weights (the notebook's) for each batch size, each with its own tuned α
//! ([`TUNED_LR`]; the notes: α must be tuned); after every epoch, the cost J of the whole
//! training set, against epochs and against the wall seconds spent training.
use crate::data::{Data, RngKind, describe_rng};
use crate::model::LAYERS;
use crate::train::{Method, Setup};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::plot::{Figure, Legend, Panel, Series};
use shared::run::RunArgs;
use shared::say;
use shared::session::{Chapter, Session, check_memory};
use std::time::Instant;

/// The batch sizes compared by default: the whole training set, the notebook's 64, one example.
pub const SIZES: [usize; 3] = [300, 64, 1];
/// The learning rate of each of [`SIZES`] by default: the one of α ∈ {0.005, 0.01, 0.02, 0.05,
/// 0.1, 0.2, 0.5, 1, 2, 5} with the lowest cost after 1000 epochs, for that batch size.
pub const TUNED_LR: [f64; 3] = [1.0, 0.5, 0.01];

/// One batch size's run.
#[derive(Clone, Debug)]
pub struct Curve {
    /// Examples per update (the last batch of an epoch keeps the remainder).
    pub batch_size: usize,
    /// Its learning rate α.
    pub lr: f64,
    /// Updates per epoch, ⌈N / batch⌉.
    pub updates_per_epoch: usize,
    /// J(W) on all N examples before training and after every epoch (epochs + 1 values).
    pub cost: Vec<f64>,
    /// Training seconds spent by the end of each of those (0 first); the cost evaluations are
    /// not counted.
    pub seconds: Vec<f64>,
    /// Training accuracy at the end.
    pub accuracy: f64,
}

impl Curve {
    /// The first epoch after which J fell below `tol`, if any.
    pub fn epochs_to(&self, tol: f64) -> Option<usize> {
        self.cost.iter().position(|&j| j < tol)
    }

    /// The training seconds spent when J first fell below `tol`.
    pub fn seconds_to(&self, tol: f64) -> Option<f64> {
        self.epochs_to(tol).map(|e| self.seconds[e])
    }

    /// Epochs after which J went up (the noise of small batches: an update that helps its batch
    /// can hurt the whole set).
    pub fn rises(&self) -> usize {
        self.cost.windows(2).filter(|w| w[1] > w[0]).count()
    }

    /// Microseconds per update, over the whole run.
    pub fn us_per_update(&self) -> f64 {
        let updates = (self.updates_per_epoch * (self.cost.len() - 1)).max(1);
        1e6 * self.seconds.last().copied().unwrap_or(0.0) / updates as f64
    }
}

/// Trains gradient descent on `data` with each batch size of `sizes` and its learning rate in
/// `lrs` (one per size) for `epochs` epochs, from `setup`'s weights. `tick` is called after
/// every epoch (a progress bar). If a cost says the training diverged
/// ([`crate::train::check_cost`]: a learning rate far too large for its batch size), the error
/// comes with the curves so far, the diverged one up to its last good epoch (accuracy NaN).
pub fn run(
    setup: &Setup,
    data: &Data,
    sizes: &[usize],
    lrs: &[f64],
    epochs: u64,
    mut tick: impl FnMut(),
) -> Result<Vec<Curve>, (Vec<Curve>, shared::Error)> {
    assert_eq!(sizes.len(), lrs.len(), "one learning rate per batch size");
    let n = data.labels.len();
    let mut curves = Vec::new();
    for (&batch_size, &lr) in sizes.iter().zip(lrs) {
        let one = Setup {
            batch_size,
            lr,
            ..*setup
        };
        let mut tr = match one.trainer(Method::Gd, n) {
            Ok(tr) => tr,
            Err(e) => return Err((curves, e)),
        };
        let mut c = Curve {
            batch_size,
            lr,
            updates_per_epoch: n.div_ceil(batch_size),
            cost: vec![tr.net.loss(&data.X, &data.Y)],
            seconds: vec![0.0],
            accuracy: f64::NAN,
        };
        let mut spent = 0.0;
        for epoch in 0..epochs {
            let clock = Instant::now();
            tr.epoch(&data.X, &data.Y);
            spent += clock.elapsed().as_secs_f64();
            match crate::train::check_cost(epoch, tr.net.loss(&data.X, &data.Y)) {
                Ok(j) => c.cost.push(j),
                Err(e) => {
                    curves.push(c);
                    return Err((curves, e));
                }
            }
            c.seconds.push(spent);
            tick();
        }
        c.accuracy = crate::fast::accuracy(&tr.net, &data.X, &data.labels);
        curves.push(c);
    }
    Ok(curves)
}

/// The name of a batch size in tables and legends: `batch 300 (all)`, `batch 64`, `batch 1 (SGD)`.
pub fn name(batch_size: usize, n: usize) -> String {
    match batch_size {
        1 => "batch 1 (SGD)".to_string(),
        b if b >= n => format!("batch {b} (all)"),
        b => format!("batch {b}"),
    }
}

/// The printed table: per batch size, α, updates per epoch, µs per update, J after the last
/// epoch, epochs and seconds until J < `tol`, epochs where J rose, training accuracy.
pub fn table(curves: &[Curve], n: usize, tol: f64) -> String {
    let row = |cells: [&str; 9]| {
        format!(
            "{:<15} {:>6} {:>8} {:>9} {:>10} {:>11} {:>11} {:>6} {:>9}\n",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            cells[5],
            cells[6],
            cells[7],
            cells[8]
        )
    };
    let to = format!("J < {tol}");
    let mut s = row([
        "",
        "",
        "updates",
        "µs per",
        "final",
        "epochs to",
        "seconds to",
        "J",
        "training",
    ]);
    s += &row([
        "", "α", "/ epoch", "update", "cost J", &to, &to, "rises", "accuracy",
    ]);
    let never = || "never".to_string();
    for c in curves {
        s += &row([
            &name(c.batch_size, n),
            &c.lr.to_string(),
            &c.updates_per_epoch.to_string(),
            &format!("{:.2}", c.us_per_update()),
            &format!("{:.6}", c.cost.last().copied().unwrap_or(f64::NAN)),
            &c.epochs_to(tol).map_or_else(never, |e| e.to_string()),
            &c.seconds_to(tol).map_or_else(never, |t| format!("{t:.4}")),
            &c.rises().to_string(),
            &format!("{:.1} %", 100.0 * c.accuracy),
        ]);
    }
    s
}

/// `loss.png`: J against epochs (left) and against wall seconds of training (right), log scale.
pub fn figure(curves: &[Curve], n: usize) -> Figure {
    let mut by_epoch = Panel::new(
        format!("Cost of all {n} points per epoch (gradient descent)"),
        "epoch",
        "cost J (cross-entropy)",
    )
    .log_y();
    let mut by_time = Panel::new(
        "The same against training time",
        "wall seconds of training",
        "cost J (cross-entropy)",
    )
    .log_y()
    .legend(Legend::UpperRight);
    for c in curves {
        let label = format!("{}, α = {}", name(c.batch_size, n), c.lr);
        let mut e = Series::new(label.clone());
        let mut t = Series::new(label);
        for (k, (&j, &sec)) in c.cost.iter().zip(&c.seconds).enumerate() {
            e.push(k as f64, j);
            t.push(sec, j);
        }
        by_epoch = by_epoch.with(e);
        by_time = by_time.with(t);
    }
    Figure {
        title: "Notes §8: batch, mini-batch and stochastic gradient descent".into(),
        panels: vec![by_epoch, by_time],
    }
}

/// The `batch_sizes` entry of `summary.json`, one object per batch size.
pub fn summary(curves: &[Curve], tol: f64) -> Vec<Value> {
    curves
        .iter()
        .map(|c| {
            json!({"batch_size": c.batch_size, "lr": c.lr, "updates_per_epoch": c.updates_per_epoch,
                "final_cost": c.cost.last(), "accuracy": c.accuracy, "tol": tol,
                "epochs_to_tol": c.epochs_to(tol), "train_seconds_to_tol": c.seconds_to(tol),
                "rises": c.rises(), "train_seconds": c.seconds.last(),
                "microseconds_per_update": c.us_per_update()})
        })
        .collect()
}

/// `optimizers batch-size`'s flags.
#[derive(clap::Args, Clone, Debug, Serialize, Deserialize)]
pub struct Args {
    /// Batch sizes to compare, comma-separated (a size ≥ the number of points is the whole set).
    #[arg(long, value_delimiter = ',', default_values_t = SIZES,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub batch_sizes: Vec<usize>,
    /// Passes over the training set, for every batch size.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..100_000_000))]
    pub epochs: u64,
    /// Learning rate α: one for every batch size, or one per batch size (comma-separated). The
    /// defaults are each size's best of α ∈ {0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5}
    /// (lowest cost after 1000 epochs), as the notes say α must be tuned.
    #[arg(long, value_delimiter = ',', default_values_t = TUNED_LR, value_parser = shared::cli::positive)]
    pub lr: Vec<f64>,
    /// The cost J the table counts epochs and seconds to.
    #[arg(long, default_value_t = 0.15, value_parser = shared::cli::positive)]
    pub tol: f64,
    /// Generator of the moons, the weights and the mini-batches: `numpy` is the notebook's
    /// (np.random.seed(--seed)), `chacha` the workspace's.
    #[arg(long, value_enum, default_value_t = RngKind::Numpy)]
    pub rng: RngKind,
    /// --seed (3: the notebook's), --out, --quiet, --overwrite.
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
}

/// Memory per epoch and batch size: J and the seconds (16 B), and both again in the figure's
/// two curves (32 B), rounded up.
const BYTES_PER_EPOCH: f64 = 64.0;

/// Runs `optimizers batch-size`: trains, prints the table, writes `loss.png`, `loss.csv` and
/// `summary.json` (default folder `runs/optimizers-batch-size`). A cost no probability can
/// have ([`crate::train::check_cost`]) stops the run.
pub fn command(chapter: Chapter, a: &Args) -> shared::Result<()> {
    let lrs = match a.lr.len() {
        1 => vec![a.lr[0]; a.batch_sizes.len()],
        k if k == a.batch_sizes.len() => a.lr.clone(),
        k => {
            let msg = format!("{k} values for {} batch sizes", a.batch_sizes.len());
            return Err(shared::Error::flag("--lr", msg));
        }
    };
    let curves = (a.epochs + 1) as f64 * a.batch_sizes.len() as f64;
    let what = format!(
        "the curves of {} epochs for {} batch sizes",
        a.epochs,
        a.batch_sizes.len()
    );
    check_memory("--epochs", &what, curves * BYTES_PER_EPOCH)?;
    let setup = Setup {
        rng: a.rng,
        seed: a.run.seed,
        ..Setup::default()
    };
    let data = Data::moons(a.rng, a.run.seed, 300, 0.2)?;
    let session = Session::outputs(chapter, &a.run, Some("batch-size"), a)?;
    let n = data.labels.len();
    say!(
        "notes §8: gradient descent on {}, network {LAYERS:?}, α = {lrs:?} for batch sizes {:?}, {} epochs each, {}",
        data.name,
        a.batch_sizes,
        a.epochs,
        describe_rng(a.rng, session.seed)
    )?;
    let bar = session.progress(a.epochs * a.batch_sizes.len() as u64, "train");
    let curves = match self::run(&setup, &data, &a.batch_sizes, &lrs, a.epochs, || bar.inc(1)) {
        Ok(curves) => curves,
        Err((so_far, diverged)) => {
            bar.finish();
            session.save_loss(&figure(&so_far, n))?;
            return Err(diverged);
        }
    };
    bar.finish();
    say!("\n{}", table(&curves, n, a.tol).trim_end_matches('\n'))?;
    session.save_loss(&figure(&curves, n))?;
    let updates: usize = curves
        .iter()
        .map(|c| c.updates_per_epoch * a.epochs as usize)
        .sum();
    let settings = json!({"epochs": a.epochs, "rng": a.rng.name(),
        "data": data.name, "batch_sizes": summary(&curves, a.tol)});
    session.save_summary(updates as u64, settings)?;
    session.finish()
}
