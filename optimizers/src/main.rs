//! `optimizers`: notes §8. With no flags it repeats Ng's "Optimization Methods" experiment:
//! the [2, 5, 2, 1] ReLU/sigmoid network, He-initialised, trained on 300 noisy moons for
//! 10 000 epochs of mini-batches of 64 at α = 0.0007, once with gradient descent, once with
//! momentum (β 0.9) and once with Adam, from the same weights on the same batches. Expect
//! momentum ≈ gradient descent at 75–85 % training accuracy (cost still ≈ 0.45) and Adam near
//! 93–95 % (cost ≈ 0.13); the notebook reports 79.7 / 79.7 / 94 %. `paths` draws every rule's
//! walk on two 2-D surfaces.

#![allow(non_snake_case)]

use anyhow::{Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use optimizers::paths::{self, Surface};
use optimizers::{BATCH_STREAM, Decay, Hyper, INIT_STREAM, LAYERS, Method, Net, Trainer};
use serde_json::json;
use shared::Error;
use shared::optim::Eps;
use shared::plot::{Figure, Panel, Series};
use shared::run::{Run, RunArgs};
use std::path::PathBuf;

/// Notes §8 Optimization Methods: mini-batch gradient descent, momentum and Adam side by side
/// (Ng's moons experiment), and their paths on 2-D loss surfaces (`paths`).
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
    /// Every update rule from the same start on x²/20 + y² and on Rosenbrock's function, drawn
    /// over their contour lines (paths.png).
    Paths {
        #[command(flatten)]
        run: RunArgs,
    },
}

#[derive(Args)]
struct TrainArgs {
    /// Update rules to compare, comma-separated: gd, momentum, adam, nesterov, adagrad,
    /// rmsprop, classic-momentum, or all.
    #[arg(long, value_delimiter = ',', default_value = "gd,momentum,adam", value_parser = parse_optimizer)]
    optimizer: Vec<Vec<Method>>,
    /// Passes over the training set.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    epochs: u64,
    /// Learning rate α (α₀ when --lr-decay is on).
    #[arg(long, default_value_t = 0.0007)]
    lr: f64,
    /// Examples per mini-batch (the last batch of an epoch keeps the remainder: 300 → 4×64 + 44).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    batch_size: u64,
    /// Momentum β (also μ of nesterov and classic-momentum).
    #[arg(long, default_value_t = 0.9)]
    beta: f64,
    /// Adam's β₁.
    #[arg(long, default_value_t = 0.9)]
    beta1: f64,
    /// Adam's β₂.
    #[arg(long, default_value_t = 0.999)]
    beta2: f64,
    /// ε of Adam, Adagrad and RMSProp.
    #[arg(long, default_value_t = 1e-8)]
    epsilon: f64,
    /// Where Adam adds ε: outside the root, √ŝ + ε (the notebook, Kingma & Ba), or inside,
    /// √(ŝ + ε) (the notes), which damps steps of gradients below ~√ε = 1e-4.
    #[arg(long, value_enum, default_value_t = EpsAt::Outside)]
    adam_eps: EpsAt,
    /// Learning-rate decay after each epoch: every-epoch α₀/(1 + r·epoch) (update_lr) or
    /// schedule α₀/(1 + r·⌊epoch/interval⌋) (schedule_lr_decay).
    #[arg(long, value_enum, default_value_t = DecayArg::Off)]
    lr_decay: DecayArg,
    /// The decay rate r.
    #[arg(long, default_value_t = 1.0)]
    decay_rate: f64,
    /// The schedule's interval in epochs.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    time_interval: u64,
    /// Number of moons points.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(2..))]
    samples: u64,
    /// Standard deviation of the moons' Gaussian noise.
    #[arg(long, default_value_t = 0.2)]
    noise: f64,
    /// Train on these points instead: CSV lines x1,x2,label (label 0 or 1; optional header).
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Print the cost every N epochs.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    print_every: u64,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EpsAt {
    Outside,
    Inside,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DecayArg {
    Off,
    EveryEpoch,
    Schedule,
}

fn parse_optimizer(s: &str) -> std::result::Result<Vec<Method>, String> {
    if s == "all" {
        return Ok(Method::ALL.to_vec());
    }
    Method::from_str(s, false).map(|m| vec![m]).map_err(|_| {
        let names: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
        format!("unknown optimizer `{s}`; one of {}, all", names.join(", "))
    })
}

fn main() -> std::process::ExitCode {
    shared::error::run_main(|| {
        let cli = Cli::parse();
        match cli.cmd {
            None => train(cli.train),
            Some(Cmd::Paths { mut run }) => {
                run.out = run.out.or_else(|| Some("runs/optimizers/paths".into()));
                draw_paths(run)
            }
        }
    })
}

fn check(flag: &str, ok: bool, msg: &str) -> Result<()> {
    if !ok {
        bail!(Error::flag(flag, msg));
    }
    Ok(())
}

fn train(a: TrainArgs) -> Result<()> {
    check(
        "--lr",
        a.lr.is_finite() && a.lr > 0.0,
        "must be a positive number",
    )?;
    for (flag, v) in [
        ("--beta", a.beta),
        ("--beta1", a.beta1),
        ("--beta2", a.beta2),
    ] {
        check(flag, (0.0..1.0).contains(&v), "must be in [0, 1)")?;
    }
    check(
        "--epsilon",
        a.epsilon.is_finite() && a.epsilon > 0.0,
        "must be a positive number",
    )?;
    check(
        "--noise",
        a.noise.is_finite() && a.noise >= 0.0,
        "must be a number ≥ 0",
    )?;
    check(
        "--decay-rate",
        a.decay_rate.is_finite() && a.decay_rate >= 0.0,
        "must be a number ≥ 0",
    )?;
    let mut methods: Vec<Method> = Vec::new();
    for m in a.optimizer.iter().flatten() {
        if !methods.contains(m) {
            methods.push(*m);
        }
    }
    let h = Hyper {
        beta: a.beta,
        beta1: a.beta1,
        beta2: a.beta2,
        epsilon: a.epsilon,
        adam_eps: if a.adam_eps == EpsAt::Inside {
            Eps::InsideSqrt
        } else {
            Eps::Outside
        },
        ..Hyper::default()
    };
    let decay = match a.lr_decay {
        DecayArg::Off => Decay::Off,
        DecayArg::EveryEpoch => Decay::EveryEpoch { rate: a.decay_rate },
        DecayArg::Schedule => Decay::Schedule {
            rate: a.decay_rate,
            interval: a.time_interval,
        },
    };
    let run = Run::start("optimizers", &a.run)?;
    let (X, labels, data) = match &a.csv {
        Some(p) => {
            let (X, l) = optimizers::points::load_csv(p)?;
            (X, l, p.display().to_string())
        }
        None => {
            let (X, l) = shared::data::moons::make_moons(run.seed, a.samples as usize, a.noise);
            (
                X,
                l,
                format!("moons, {} points, noise {}", a.samples, a.noise),
            )
        }
    };
    let Y = optimizers::labels_row(&labels); // 1 × N
    let N = labels.len();
    println!(
        "notes §8: network {LAYERS:?} (ReLU, ReLU, sigmoid), He init, {data}; {} epochs, mini-batch {}, α = {}, seed {}",
        a.epochs, a.batch_size, a.lr, run.seed
    );
    let bar = run.progress(a.epochs * methods.len() as u64, "train");
    let mut panel = Panel::new(
        format!("Cost per epoch (α = {}, mini-batch {})", a.lr, a.batch_size),
        "epoch",
        "cost (cross-entropy)",
    );
    let mut results = Vec::new();
    for (k, &method) in methods.iter().enumerate() {
        let net = Net::he(LAYERS, &mut shared::rng::stream(run.seed, INIT_STREAM));
        let batches = shared::rng::stream(run.seed, BATCH_STREAM);
        let mut tr = Trainer::new(
            net,
            method.rule(&h),
            a.lr,
            decay,
            N,
            a.batch_size as usize,
            batches,
        )?;
        bar.println(format!("── {} ──", method.name()));
        let mut curve = Series::new(method.name());
        let mut printed = Vec::new();
        let clock = std::time::Instant::now();
        let mut cost = f64::NAN;
        for i in 0..a.epochs {
            cost = shared::error::check_finite(i, tr.epoch(&X, &Y))?;
            if i % 100 == 0 || i + 1 == a.epochs {
                curve.push(i as f64, cost);
                bar.set_position(k as u64 * a.epochs + i + 1);
            }
            if i % a.print_every == 0 {
                bar.println(format!("Cost after epoch {i}: {cost:.6}"));
                printed.push(cost);
            }
        }
        let seconds = clock.elapsed().as_secs_f64();
        let acc = tr.net.accuracy(&X, &labels);
        bar.println(format!(
            "Accuracy: {acc:.6}   ({} steps in {seconds:.3} s)",
            tr.opt.state().t
        ));
        let title = format!(
            "{}: decision boundary, training accuracy {:.1} %",
            method.name(),
            100.0 * acc
        );
        optimizers::boundary::save_png(
            run.path(&format!("boundary-{}.png", method.name())),
            &tr.net,
            &X,
            &labels,
            &title,
        )?;
        let layers = LAYERS.map(|n| n.to_string()).join(",");
        let meta = [("layers", layers), ("optimizer", method.name().to_string())];
        shared::checkpoint::save(
            run.path(&format!("model-{}.safetensors", method.name())),
            "optimizers",
            &tr.net.tensors(),
            &meta,
        )?;
        results.push(
            json!({"optimizer": method.name(), "final_cost": cost, "accuracy": acc,
            "costs_printed": printed, "steps": tr.opt.state().t, "train_seconds": seconds}),
        );
        panel = panel.with(curve);
    }
    bar.finish();
    println!("\noptimizer         final cost   training accuracy   train time");
    for r in &results {
        println!(
            "{:<17} {:>10.6}   {:>17.1} %   {:>8.3} s",
            r["optimizer"].as_str().unwrap_or("?"),
            r["final_cost"].as_f64().unwrap_or(f64::NAN),
            100.0 * r["accuracy"].as_f64().unwrap_or(f64::NAN),
            r["train_seconds"].as_f64().unwrap_or(f64::NAN)
        );
    }
    println!("(the notebook, its own moons and weights: gd 79.7 %, momentum 79.7 %, adam 94 %)");
    run.save_loss(&Figure::single(panel))?;
    let steps: u64 = results.iter().filter_map(|r| r["steps"].as_u64()).sum();
    let pick = |key: &str| -> serde_json::Map<String, serde_json::Value> {
        results
            .iter()
            .map(|r| {
                (
                    r["optimizer"].as_str().unwrap_or("?").to_string(),
                    r[key].clone(),
                )
            })
            .collect()
    };
    run.save_summary(
        steps,
        json!({"accuracy": pick("accuracy"), "final_cost": pick("final_cost"),
        "runs": results, "data": data, "epochs": a.epochs, "lr": a.lr, "batch_size": a.batch_size,
        "adam_eps": if h.adam_eps == Eps::Outside { "outside" } else { "inside" }}),
    )?;
    println!(
        "wrote {}/{{loss.png, loss.csv, boundary-*.png, model-*.safetensors, summary.json}}",
        run.out.display()
    );
    Ok(())
}

fn draw_paths(args: RunArgs) -> Result<()> {
    let run = Run::start("optimizers", &args)?;
    let h = Hyper::default();
    let mut panels = Vec::new();
    let mut summary = Vec::new();
    for s in Surface::ALL {
        let ts = paths::trajectories(s, &Method::ALL, &h);
        println!(
            "\n{} from {:?}, {} steps each",
            s.title(),
            s.start(),
            s.steps()
        );
        println!(
            "rule               α         last (x, y)             f(last)     steps to f < 1e-3"
        );
        for t in &ts {
            let (x, y) = *t.points.last().unwrap_or(&(f64::NAN, f64::NAN));
            let reached = t
                .steps_to(s, 1e-3)
                .map_or("never".to_string(), |k| k.to_string());
            println!(
                "{:<17} {:<9} ({x:>9.5}, {y:>9.5})   {:>10.3e}   {reached}",
                t.method.name(),
                t.lr,
                t.final_f(s)
            );
            summary.push(json!({"surface": s.title(), "optimizer": t.method.name(), "lr": t.lr,
                "steps": t.points.len() - 1, "final_f": t.final_f(s), "steps_to_1e-3": t.steps_to(s, 1e-3)}));
        }
        panels.push((s, ts));
    }
    paths::save_png(run.path("paths.png"), &panels)?;
    shared::files::write_atomic(run.path("paths.csv"), |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(["surface", "optimizer", "step", "x", "y"])?;
        for (s, ts) in &panels {
            let name = format!("{s:?}").to_lowercase();
            for t in ts {
                for (k, (x, y)) in t.points.iter().enumerate() {
                    out.write_record([
                        name.as_str(),
                        t.method.name(),
                        &k.to_string(),
                        &x.to_string(),
                        &y.to_string(),
                    ])?;
                }
            }
        }
        out.flush()
    })?;
    let steps = summary.iter().filter_map(|r| r["steps"].as_u64()).sum();
    run.save_summary(steps, json!({"paths": summary}))?;
    println!(
        "\nwrote {}/{{paths.png, paths.csv, summary.json}}",
        run.out.display()
    );
    Ok(())
}
