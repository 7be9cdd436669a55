//! The commands, on the run session (`shared::session`): `train` (the default: flags → weights
//! → trask's loop → outputs), `chain-rule` (§2's worked numbers) and `simple-nets` (§3's fits).
//! Every run trains in well under a second, so none has a checkpoint to resume from.

#![allow(non_snake_case)]

use crate::checkpoint::Trained;
use crate::cli::{CommonArgs, RngKind, TrainArgs};
use crate::report::{self, mean_abs_error, outputs_table};
use crate::{Init, XorNet, chain_rule, train, xor_data};
use anyhow::Result;
use serde_json::json;
use shared::Error;
use shared::plot::{Figure, Panel, Series};
use shared::say;
use shared::session::{Chapter, Session};

/// `backprop-xor` / `backprop-xor train`: trask's run (or a deeper net), its curve, the model.
pub fn train(chapter: Chapter, a: &TrainArgs) -> Result<()> {
    let l = &a.layers;
    if l.len() < 2 || l[0] != 3 || l[l.len() - 1] != 1 || l.contains(&0) {
        Err(Error::flag(
            "--layers",
            "must start with 3 (two bits and a constant 1), end with 1, and have no empty layer, e.g. 3,4,1",
        ))?;
    }
    // A layer of n units holds a few N × n matrices and an n × n' weight matrix.
    let weights: f64 = l.windows(2).map(|w| (w[0] * w[1]) as f64).sum();
    let bytes = 8.0 * (8.0 * l.iter().sum::<usize>() as f64 + 2.0 * weights);
    shared::session::check_memory("--layers", &format!("layers {l:?}"), bytes)?;
    shared::cli::check_positive("--lr", a.lr)?;
    let (mut init, from) = match a.rng {
        RngKind::Numpy => match u32::try_from(a.run.seed) {
            Ok(s) => (Init::numpy(s), format!("np.random.seed({s})")),
            Err(_) => Err(Error::flag(
                "--seed",
                "numpy seeds are below 2^32 (or use --rng chacha)",
            ))?,
        },
        RngKind::Chacha => (
            Init::chacha(a.run.seed),
            format!("ChaCha8 seed {}", a.run.seed),
        ),
    };
    let session = Session::outputs(chapter, &a.run, None, a)?;
    let mut net = XorNet::new(l, a.lr, &mut init);
    let lines = if matches!(net, XorNet::Eleven(_)) {
        "11 lines"
    } else {
        "any depth"
    };
    say!(
        "notes §4.1, a neural network in {lines}: layers {l:?}, {} iterations, α = {}, weights from {from}",
        a.iterations,
        a.lr
    )?;
    let title = format!("XOR, layers {l:?}: mean absolute error");
    let figure = |curve: &Series| {
        Figure::single(
            Panel::new(title.as_str(), "iteration", "mean |t − output|")
                .log_y()
                .with(curve.clone()),
        )
    };
    let bar = session.progress(a.iterations, "train");
    let mut curve = Series::new("mean |t − X_L|");
    let mut X2 = [0.0; 4];
    for j in 0..a.iterations {
        X2 = net.iteration(); // the output before this iteration's update, as trask prints it
        let err = mean_abs_error(&X2);
        if let Err(diverged) = shared::error::check_finite(j, err) {
            session.save_loss(&figure(&curve))?; // the curve up to the last finite error
            Err(diverged)?;
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
    say!("")?;
    for line in outputs_table(&X2).lines() {
        say!("{line}")?;
    }
    say!(
        "final mean |t − X_L| = {final_error:.6} after {} iterations",
        a.iterations
    )?;
    session.save_loss(&figure(&curve))?;
    let rng = ["numpy", "chacha"][(a.rng == RngKind::Chacha) as usize];
    let t = xor_data().1;
    session.save_summary(
        a.iterations,
        json!({"final_error": final_error, "outputs": X2, "targets": t.as_slice(), "layers": l, "lr": a.lr, "rng": rng}),
    )?;
    session.save_checkpoint(&Trained {
        layers: l.clone(),
        W: net.weights(),
    })?;
    session.finish()?;
    Ok(())
}

/// `backprop-xor chain-rule`: §2's worked examples, printed, and the largest error in
/// summary.json.
pub fn chain_rule(chapter: Chapter, a: &CommonArgs) -> Result<()> {
    let session = Session::outputs(chapter, &a.run, Some("chain-rule"), a)?;
    let (text, worst) = chain_rule::report(session.seed);
    say!(
        "{text}\nlargest relative error of any backward value against finite differences: {worst:.1e}"
    )?;
    session.save_summary(0, json!({"max_rel_error": worst}))?;
    session.finish()?;
    Ok(())
}

/// `backprop-xor simple-nets`: §3's three fits, printed, with their cost curves.
pub fn simple_nets(chapter: Chapter, a: &CommonArgs) -> Result<()> {
    let session = Session::outputs(chapter, &a.run, Some("simple-nets"), a)?;
    let fits = train::fit_all(session.seed);
    for line in report::simple_nets(&fits).lines() {
        say!("{line}")?;
    }
    session.save_loss(&report::simple_nets_figure(&fits))?;
    session.save_summary(
        fits.iter().map(|f| f.losses.len() as u64 - 1).sum(),
        report::simple_nets_summary(&fits),
    )?;
    session.finish()?;
    Ok(())
}
