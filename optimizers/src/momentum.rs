//! `optimizers momentum`: the notes' momentum, v ← βv + (1 − β)dW, W ← W − αv, for β from 0
//! (gradient descent) across the notes' usual range 0.8–0.999, all at the same α on the
//! ill-conditioned bowl f = x²/20 + y² of `optimizers paths`. The notes: momentum "smooths out
//! the steps" of gradient descent, which "oscillates" toward the minimum; β is tuned, 0.9 a
//! reasonable default.
//!
//! In this averaged form the step is α times a moving average of the gradients, so momentum
//! does not lengthen the steps where the gradient is steady (along the valley): it damps the
//! alternating ones (across it). A larger β averages over ≈ 1/(1 − β) steps: the zig-zag fades,
//! but the average lags, so the walk overshoots the minimum and swings back (and, without bias
//! correction, starts slowly: v₁ = (1 − β)g).

use crate::paths::{self, Surface, Trajectory, sign_changes, trajectory};
use crate::train::{Hyper, Method};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::run::RunArgs;
use shared::say;
use shared::session::{Chapter, Session};

/// The β of `optimizers momentum`: none (gradient descent), and across the notes' usual range
/// 0.8–0.999.
pub const BETAS: [f64; 5] = [0.0, 0.5, 0.9, 0.99, 0.999];

/// The notes' momentum v ← βv + (1 − β)g, W ← W − αv with each β of `betas`, all at the same
/// α = `lr`, `steps` steps on `s` from its start (named `momentum β=…`).
pub fn momentum_sweep(s: Surface, betas: &[f64], lr: f64, steps: usize) -> Vec<Trajectory> {
    betas
        .iter()
        .map(|&beta| {
            let h = Hyper {
                beta,
                ..Hyper::default()
            };
            let mut t = trajectory(s, Method::Momentum, &h, lr, steps);
            t.name = format!("momentum β={beta}");
            t
        })
        .collect()
}

/// The printed table: per β, the last point, f there, the first step with f < [`Surface::tol`],
/// and the sign changes of y (zig-zags across the valley) and of x (overshoots along it).
pub fn table(s: Surface, ts: &[Trajectory]) -> String {
    let mut out = format!(
        "{:<17} {:<6} {:>10} {:>17} {:>14} {:>14}\n",
        "rule",
        "α",
        "f(last)",
        format!("steps to f < {:e}", s.tol()),
        "y sign changes",
        "x sign changes"
    );
    for t in ts {
        let (x_flips, y_flips) = sign_changes(t);
        out += &format!(
            "{:<17} {:<6} {:>10.3e} {:>17} {:>14} {:>14}\n",
            t.name,
            t.lr,
            t.final_f(s),
            t.reached(s),
            y_flips,
            x_flips
        );
    }
    out
}

/// The `momentum` entry of `summary.json`: per β, α, steps, f at the last point, the first
/// step below [`Surface::tol`] and the sign changes.
pub fn summary(s: Surface, betas: &[f64], ts: &[Trajectory]) -> Vec<Value> {
    ts.iter()
        .zip(betas)
        .map(|(t, &beta)| {
            let (x_flips, y_flips) = sign_changes(t);
            json!({"beta": beta, "lr": t.lr, "steps": t.points.len() - 1,
                "final_f": t.final_f(s), "tol": s.tol(), "steps_to_tol": t.steps_to(s, s.tol()),
                "y_sign_changes": y_flips, "x_sign_changes": x_flips})
        })
        .collect()
}

/// `loss.png`: f after every step for each β (log scale).
pub fn figure(s: Surface, lr: f64, ts: &[Trajectory]) -> shared::plot::Figure {
    let title = format!("{}: f per step, momentum at α = {lr}", s.title());
    let panel = paths::f_curves(s, ts).into_iter().fold(
        shared::plot::Panel::new(title, "step", "f(x, y)").log_y(),
        |p, c| p.with(c),
    );
    shared::plot::Figure::single(panel)
}

/// `optimizers momentum`'s flags.
#[derive(clap::Args, Clone, Debug, Serialize, Deserialize)]
pub struct Args {
    /// The β to compare, comma-separated, each in [0, 1).
    #[arg(long, value_delimiter = ',', default_values_t = BETAS, value_parser = unit)]
    pub betas: Vec<f64>,
    /// Learning rate α, the same for every β (0.95: gradient descent's y ← −0.9y zig-zag).
    #[arg(long, default_value_t = 0.95, value_parser = shared::cli::positive)]
    pub lr: f64,
    /// Steps of each walk.
    #[arg(long, default_value_t = 100, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub steps: usize,
    /// --seed, --out, --quiet, --overwrite.
    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,
}

/// clap value parser for a β in [0, 1).
fn unit(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (0.0..1.0).contains(&v) => Ok(v),
        _ => Err(format!("{s} is not a number in [0, 1)")),
    }
}

/// Runs `optimizers momentum`: prints the table, writes `momentum.png` (the paths),
/// `momentum.csv` (their points), `loss.png` / `loss.csv` (f per step) and `summary.json`
/// (default folder `runs/optimizers-momentum`).
pub fn command(chapter: Chapter, a: &Args) -> shared::Result<()> {
    let session = Session::outputs(chapter, &a.run, Some("momentum"), a)?;
    let s = Surface::Quadratic;
    let ts = momentum_sweep(s, &a.betas, a.lr, a.steps);
    say!(
        "{} from {:?}: the notes' momentum v ← βv + (1 − β)g, W ← W − αv, α = {}, {} steps each",
        s.title(),
        s.start(),
        a.lr,
        a.steps
    )?;
    say!("{}", table(s, &ts).trim_end_matches('\n'))?;
    let panels = [(s, ts)];
    let title = "Notes §8: momentum's β on an ill-conditioned bowl";
    paths::save_png(session.output("momentum.png"), title, &panels)?;
    paths::save_csv(session.output("momentum.csv"), &panels)?;
    let [(_, ts)] = panels;
    session.save_loss(&figure(s, a.lr, &ts))?;
    let steps = ts.iter().map(|t| t.points.len() as u64 - 1).sum();
    session.save_summary(steps, json!({"momentum": summary(s, &a.betas, &ts)}))?;
    session.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_momentum_sweep_on_the_bowl() {
        let s = Surface::Quadratic;
        let ts = momentum_sweep(s, &BETAS, 0.95, 100);
        // β = 0 is gradient descent, bit for bit (v = 0·v + 1·g = g).
        assert_eq!(
            ts[0].points,
            trajectory(s, Method::Gd, &Hyper::default(), 0.95, 100).points
        );
        // The zig-zag across the valley (y changes sign) fades as β grows: every step at β = 0.
        let y_flips: Vec<usize> = ts.iter().map(|t| sign_changes(t).1).collect();
        assert_eq!(y_flips[0], 100);
        assert!(y_flips.windows(2).all(|w| w[1] < w[0]), "{y_flips:?}");
        // β = 0.5 and 0.9 arrive (f < 1e-3) within the 100 steps; at the top of the notes' range
        // the average remembers too much for this budget: β = 0.99 swings slowly along the
        // valley, β = 0.999 has barely started (no bias correction: v₁ = 0.001 g).
        let arrived: Vec<bool> = ts.iter().map(|t| t.steps_to(s, 1e-3).is_some()).collect();
        assert_eq!(arrived, [true, true, true, false, false]);
        assert!(ts[3].final_f(s) > 0.1 && ts[4].final_f(s) > 0.1);
        assert_eq!(ts[2].name, "momentum β=0.9");
        // Each coordinate follows the linear recurrence v' = βv + (1 − β)λw, w' = w − αv'
        // (λ = 0.1 along x, 2 across): replayed by hand for β = 0.9.
        let (mut w, mut v) = ([-7.0f64, 2.0], [0.0f64; 2]);
        for (k, p) in ts[2].points.iter().enumerate().skip(1) {
            for (i, lambda) in [0.1, 2.0].into_iter().enumerate() {
                v[i] = 0.9 * v[i] + (1.0 - 0.9) * (lambda * w[i]);
                w[i] -= 0.95 * v[i];
            }
            assert!(
                (p.0 - w[0]).abs() < 1e-12 && (p.1 - w[1]).abs() < 1e-12,
                "step {k}"
            );
        }
    }

    #[test]
    fn a_walk_that_diverges_says_so() {
        // α = 1.5: gradient descent multiplies y by 1 − 2α = −2 each step, y_k = 2·(−2)^k, out
        // of the bounds (1e6) at step 19; β = 0.5 averages that away and arrives.
        let s = Surface::Quadratic;
        let ts = momentum_sweep(s, &[0.0, 0.5], 1.5, 100);
        assert_eq!(ts[0].diverged, Some(19));
        assert_eq!(ts[0].points.len(), 19, "steps 0 to 18 are kept");
        assert_eq!(ts[0].reached(s), "diverged at 19");
        assert_eq!(ts[1].diverged, None);
        assert!(ts[1].steps_to(s, s.tol()).is_some());
        // A rate no walk survives: each one leaves at its first step, and the table says so.
        let ts = momentum_sweep(s, &BETAS, 1e300, 100);
        assert!(
            ts.iter()
                .all(|t| t.diverged == Some(1) && t.points.len() == 1)
        );
        assert_eq!(table(s, &ts).matches("diverged at 1").count(), BETAS.len());
    }
}
