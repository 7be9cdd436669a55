//! `rbm`: notes §7. With no flags it trains a 16-hidden-unit RBM by CD-20 on 4 × 4 bars and
//! stripes and prints the exact mean log-likelihood per epoch: it climbs from −11.09 (uniform
//! pixels) towards the optimum −ln 30 = −3.401 (−3.52 after 300 epochs; `--method exact`,
//! the exact gradient: −3.43). `--digits FILE` (12 hidden, CD-1, 50 epochs) goes from the
//! independent-pixel baseline ≈ −25.1 to about −19.5. `rbm partition` prints the notes'
//! table: rows Hᵀ W, 1 + e^{·}, row-wise product, then sum.

#![allow(non_snake_case)]

use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};
use rbm::data;
use rbm::partition;
use rbm::report::{self, History};
use rbm::train::{self, Config, Defaults, Method, Trainer};
use shared::error::check_finite;
use shared::rng;
use shared::run::{Run, RunArgs};

/// Notes §7 Restricted Boltzmann Machine: the partition function, exact likelihoods, CD-k.
#[derive(Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    train: TrainArgs,
}

#[derive(Subcommand)]
enum Cmd {
    /// §7 Partition Function: the notes' table (rows HᵀW → 1 + e^{·} → row-wise product → sum),
    /// Z by brute force, log Z, p(v) and F(v) for every v.
    Partition(PartitionArgs),
}

#[derive(Args)]
struct PartitionArgs {
    /// Visible units n_v, 1 to 16 (the notes: 3).
    #[arg(long, default_value_t = 3)]
    visible: u32,
    /// Hidden units n_h, 1 to 16 (the notes: 2).
    #[arg(long, default_value_t = 2)]
    hidden: u32,
    /// W row by row (n_h × n_v: w11,w12,…,w21,…). Default: the reference sheet's
    /// [[1, −2, 0.5], [0.3, 0.7, −1]] for 3 × 2, else N(0, 1) draws from --seed.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    weights: Option<Vec<f64>>,
    /// Visible biases a (n_v values; default 0 as in the notes).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    visible_bias: Option<Vec<f64>>,
    /// Hidden biases b (n_h values; default 0).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    hidden_bias: Option<Vec<f64>>,
    /// Seed of the random weights when --weights is not given.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Args)]
struct TrainArgs {
    /// Train on the 8 × 8 digits CSV (scikit-learn's digits.csv), binarised at 8/16.
    #[arg(long, value_name = "FILE", conflicts_with = "mnist")]
    digits: Option<std::path::PathBuf>,
    /// Train on MNIST t10k from this folder (IDX files), binarised at 0.5.
    #[arg(long, value_name = "DIR")]
    mnist: Option<std::path::PathBuf>,
    /// Side n of the n × n bars-and-stripes images (default data).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(2..=5))]
    side: u32,
    /// Training examples [default: bars 3000 (each pattern 100 times), digits 1500, MNIST 8000];
    /// the rest of the images are held out (bars: 1000 fresh draws).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    train: Option<u32>,
    /// Hidden units [default: bars 16, digits 12, MNIST 16]; exact log Z needs n_h ≤ 20 or n_v ≤ 20.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    hidden: Option<u32>,
    /// cd: contrastive divergence from the data; pcd: persistent chains; exact: the exact
    /// gradient (model term by enumerating the smaller layer), full batch.
    #[arg(long, value_enum, default_value_t = Method::Cd)]
    method: Method,
    /// Gibbs steps per update [default: 1; bars 20, as CD-1 cannot fit them].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    k: Option<u32>,
    /// Epochs [default: bars 300, digits 50, MNIST 20; exact: 2000, 1000, 50].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    epochs: Option<u32>,
    /// Learning rate ε [default: bars 0.004, else 0.05; exact: 0.3, MNIST 0.05].
    #[arg(long, allow_negative_numbers = true)]
    lr: Option<f64>,
    /// ε over the epochs: constant, or linear (annealed to 0) [default: bars linear, else constant].
    #[arg(long, value_enum)]
    schedule: Option<Schedule>,
    /// Mini-batch size (and number of persistent chains) [default: 10; exact: all examples].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    batch: Option<u32>,
    /// L2 weight cost λ on W.
    #[arg(long, default_value_t = 1e-4, allow_negative_numbers = true)]
    weight_cost: f64,
    /// Print a line every N epochs [default: about 25 lines].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    report_every: Option<u32>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Schedule {
    Constant,
    Linear,
}

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| {
        let cli = Cli::parse();
        match cli.cmd {
            Some(Cmd::Partition(p)) => partition_cmd(p),
            None => train_cmd(cli.train),
        }
    })
}

fn partition_cmd(p: PartitionArgs) -> Result<()> {
    let (n_v, n_h) = (p.visible as usize, p.hidden as usize);
    let rbm =
        partition::rbm_from_flags(n_v, n_h, p.weights, p.visible_bias, p.hidden_bias, p.seed)?;
    print!("{}", partition::report(&rbm, 64));
    Ok(())
}

fn train_cmd(a: TrainArgs) -> Result<()> {
    let run = Run::start("rbm", &a.run)?;
    let (method, digits, mnist) = (a.method, a.digits.as_deref(), a.mnist.as_deref());
    let train = a.train.map(|n| n as usize);
    let data = data::by_flags(digits, mnist, a.side as usize, train, run.seed)?;
    let d = Defaults::of(data.source, method);
    let epochs = a.epochs.map_or(d.epochs, |e| e as usize);
    let anneal = a.schedule.map_or(d.anneal, |s| s == Schedule::Linear);
    let config = Config {
        method,
        k: a.k.map_or(d.k, |k| k as usize),
        lr: a.lr.unwrap_or(d.lr),
        batch: a
            .batch
            .map(|b| b as usize)
            .or(d.batch)
            .unwrap_or(data.train.ncols()),
        weight_cost: a.weight_cost,
        anneal_epochs: anneal.then_some(epochs),
        ..Config::default()
    };
    let n_h = a.hidden.map_or(d.hidden, |h| h as usize);
    train::check(&config, data.train.nrows(), n_h)?;
    let mut rbm = train::init(n_h, &data.train, &mut rng::stream(run.seed, 11));
    let mut r = rng::stream(run.seed, 12);
    let mut trainer = Trainer::new(&rbm, config.clone(), &mut r);
    let baselines = report::Baselines::of(&data);
    print!("{}", report::header(&data, n_h, &config, &baselines));
    let eval_every = method.evaluate_every(epochs);
    let every = a.report_every.map_or((epochs / 25).max(1), |e| e as usize);
    let (bar, mut history) = (run.progress(epochs as u64, "epochs"), History::default());
    let mut stats = train::evaluate(&rbm, &data.train, &data.test);
    let mut good = rbm.clone(); // the parameters of the last epoch with a finite likelihood
    for epoch in 0..=epochs {
        if epoch > 0 {
            let done = trainer.epoch(&mut rbm, &data.train, epoch, &mut r);
            bar.inc(1);
            let last = epoch == epochs;
            if done.is_ok() && !(last || epoch % eval_every == 0 || epoch % every == 0) {
                continue;
            }
            let diverged = done.err().or_else(|| {
                stats = train::evaluate(&rbm, &data.train, &data.test);
                check_finite(trainer.steps, stats.train_ll).err()
            });
            if let Some(e) = diverged {
                // Keep what was learnt up to the last good epoch: its curves and its model.
                bar.finish();
                run.save_loss(&history.figure(&data, &config, n_h, &baselines))?;
                report::save_model(&run.out, &good, data.shape)?;
                return Err(e.into());
            }
            good.clone_from(&rbm);
        }
        history.push(epoch, &stats);
        if epoch % every == 0 || epoch == epochs {
            bar.println(report::row(epoch, &stats));
        }
    }
    bar.finish();
    // Outputs: curves, Gibbs samples, each hidden unit's weights as an image, the model.
    run.save_loss(&history.figure(&data, &config, n_h, &baselines))?;
    report::save_outputs(&run.out, &rbm, data.shape, &mut rng::stream(run.seed, 13))?;
    let (text, summary) = report::final_report(&rbm, &data, &config, &stats, &baselines);
    print!("{text}");
    println!(
        "wrote {}, loss.csv, samples.png, filters.png, model.safetensors, summary.json",
        run.path("loss.png").display()
    );
    run.save_summary(trainer.steps, summary)?;
    Ok(())
}
