//! `backprop-xor`: notes §2–§4. With no flags it trains trask's 11-line network (figure 12) on
//! XOR with numpy's `np.random.seed(1)` weights and prints the blog's numbers: the mean
//! absolute error 0.4964 → 0.0086 → 0.0058 → 0.0046 → 0.0040 → 0.0035 and outputs near
//! (0.003, 0.997, 0.997, 0.004). `chain-rule` prints §2's worked examples, `simple-nets` fits
//! §3's nets without a hidden layer.

#![allow(non_snake_case)]

use anyhow::{Result, bail};
use backprop_xor::report::{self, mean_abs_error, outputs_table};
use backprop_xor::{Init, XorNet, chain_rule, train, xor_data};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::json;
use shared::Error;
use shared::plot::{Figure, Panel, Series};
use shared::run::{Run, RunArgs};

/// Notes §2 Chain Rule, §3 Deep Neural Net, §4 Back Propagation: trask's 11-line XOR network.
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
    /// §2: the sigmoid chain (figure 3), the example network (figure 4), ∂f/∂A = (∂f/∂Y)Xᵀ.
    ChainRule {
        #[command(flatten)]
        run: RunArgs,
    },
    /// §3 (figure 5): linear, logistic and softmax nets without a hidden layer, fitted to data
    /// drawn from known parameters.
    SimpleNets {
        #[command(flatten)]
        run: RunArgs,
    },
}

#[derive(Args)]
struct TrainArgs {
    /// Layer sizes from input to output: 3,4,1 is the 11-line net; e.g. 3,8,8,1 for two hidden
    /// layers (figures 6, 7, 11). The XOR data need 3 inputs and 1 output.
    #[arg(long, value_delimiter = ',', default_value = "3,4,1")]
    layers: Vec<usize>,
    /// Full-batch training iterations.
    #[arg(long, default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(1..))]
    iterations: u64,
    /// Print the mean absolute error every N iterations.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    report_every: u64,
    /// Learning rate α in W ← W − α dW (the notes' program uses 1: `W += Xᵀ dX`).
    #[arg(long, default_value_t = 1.0)]
    lr: f64,
    /// Generator of the initial weights: `numpy` reproduces np.random.seed(--seed) bit for bit
    /// (trask's printed numbers), `chacha` is the workspace's generator.
    #[arg(long, value_enum, default_value_t = RngKind::Numpy)]
    rng: RngKind,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RngKind {
    Numpy,
    Chacha,
}

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| {
        let cli = Cli::parse();
        match cli.cmd {
            None => train(cli.train),
            Some(Cmd::ChainRule { run }) => chain(run),
            Some(Cmd::SimpleNets { run }) => simple(run),
        }
    })
}

fn train(a: TrainArgs) -> Result<()> {
    let l = &a.layers;
    if l.len() < 2 || l[0] != 3 || l[l.len() - 1] != 1 || l.contains(&0) {
        bail!(Error::flag(
            "--layers",
            "must start with 3 (two bits and a constant 1), end with 1, and have no empty layer, e.g. 3,4,1"
        ));
    }
    if !(a.lr.is_finite() && a.lr > 0.0) {
        bail!(Error::flag("--lr", "must be a positive number"));
    }
    let (mut init, from) = match a.rng {
        RngKind::Numpy => match u32::try_from(a.run.seed) {
            Ok(s) => (Init::numpy(s), format!("np.random.seed({s})")),
            Err(_) => bail!(Error::flag(
                "--seed",
                "numpy seeds are below 2^32 (or use --rng chacha)"
            )),
        },
        RngKind::Chacha => (
            Init::chacha(a.run.seed),
            format!("ChaCha8 seed {}", a.run.seed),
        ),
    };
    let run = Run::start("backprop-xor", &a.run)?;
    let mut net = XorNet::new(&a.layers, a.lr, &mut init);
    let lines = if matches!(net, XorNet::Eleven(_)) {
        "11 lines"
    } else {
        "any depth"
    };
    println!(
        "notes §4.1, a neural network in {lines}: layers {l:?}, {} iterations, α = {}, weights from {from}",
        a.iterations, a.lr
    );
    let title = format!("XOR, layers {l:?}: mean absolute error");
    let figure = |curve: &Series| {
        Figure::single(
            Panel::new(title.as_str(), "iteration", "mean |t − output|")
                .log_y()
                .with(curve.clone()),
        )
    };
    let bar = run.progress(a.iterations, "train");
    let mut curve = Series::new("mean |t − X_L|");
    let mut X2 = [0.0; 4];
    for j in 0..a.iterations {
        X2 = net.iteration(); // the output before this iteration's update, as trask prints it
        let err = mean_abs_error(&X2);
        if let Err(diverged) = shared::error::check_finite(j, err) {
            run.save_loss(&figure(&curve))?; // the curve up to the last finite error
            bail!(diverged);
        }
        if j % 100 == 0 || j + 1 == a.iterations {
            curve.push(j as f64, err);
            bar.set_position(j + 1);
        }
        if j % a.report_every == 0 {
            bar.println(format!("iteration {j:>7}   error {err:.12}"));
        }
    }
    bar.finish();
    let final_error = curve.last().unwrap_or(f64::NAN);
    print!("\n{}", outputs_table(&X2));
    println!(
        "final mean |t − X_L| = {final_error:.6} after {} iterations",
        a.iterations
    );
    run.save_loss(&figure(&curve))?;
    net.save(&run.path("model.safetensors"), l)?;
    let rng = ["numpy", "chacha"][(a.rng == RngKind::Chacha) as usize];
    let t = xor_data().1;
    run.save_summary(a.iterations, json!({"final_error": final_error, "outputs": X2, "targets": t.as_slice(), "layers": l, "lr": a.lr, "rng": rng}))?;
    println!(
        "wrote {}/{{loss.png, loss.csv, summary.json, model.safetensors}}",
        run.out.display()
    );
    Ok(())
}

/// A subcommand's `--out` defaults to a folder of its own under the chapter's.
fn sub_run(mut args: RunArgs, sub: &str) -> Result<Run> {
    args.out = args
        .out
        .or_else(|| Some(format!("runs/backprop-xor/{sub}").into()));
    Ok(Run::start("backprop-xor", &args)?)
}

fn chain(args: RunArgs) -> Result<()> {
    let run = sub_run(args, "chain-rule")?;
    let (text, worst) = chain_rule::report(run.seed);
    println!(
        "{text}\nlargest relative error of any backward value against finite differences: {worst:.1e}"
    );
    run.save_summary(0, json!({"max_rel_error": worst}))?;
    Ok(())
}

fn simple(args: RunArgs) -> Result<()> {
    let run = sub_run(args, "simple-nets")?;
    let fits = train::fit_all(run.seed);
    print!("{}", report::simple_nets(&fits));
    run.save_loss(&report::simple_nets_figure(&fits))?;
    run.save_summary(
        fits.iter().map(|f| f.losses.len() as u64 - 1).sum(),
        report::simple_nets_summary(&fits),
    )?;
    println!(
        "wrote {}/{{loss.png, loss.csv, summary.json}}",
        run.out.display()
    );
    Ok(())
}
