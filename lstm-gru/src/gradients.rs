//! Notes §6, why the vanilla RNN forgets, measured directly: the norm of ∂E/∂h_{T−k}, the
//! error of the adding problem's read-out at step T carried back k steps, against the lag k.
//!
//! In the vanilla cell ∂h_t/∂h_{t−1} = diag(f'(a_t)) W_hh, so ∂E/∂h_{T−k} is ∂E/∂h_T times k
//! such factors: with tanh and W_hh's spectral radius below 1 the norm falls geometrically and
//! the weights of the early steps get no signal. The notes' remedies each change that factor:
//! ReLU with W_hh = I (the IRNN) makes it the identity on the units that are on; the LSTM's
//! cell state carries ∂E/∂c_t back through f_t alone; the GRU's through 1 − z_t. `lstm-gru
//! gradients` measures the curve for each cell at initialisation and after a short training on
//! the adding problem, and fits the decay rate per step.
//!
//! The norms come from the notes layer ([`Cell::backward_states`] through
//! [`AddingNet::state_gradients`]): the same BPTT the gradient checks verify.

use crate::data::{AddingBatch, adding_batch};
use crate::fast::FastCell;
use crate::model::{AddingNet, Cell, Gru, Lstm, Rnn, rnn::Activation};
use crate::train::{self, AddingConfig, Outcome};
use nalgebra::DMatrix;
use shared::plot::{Figure, Panel, Series};
use shared::rng;
use shared::run::Progress;
use shared::{Error, Result};

/// ‖∂E/∂h_{T−k}‖ for k = 0 … T (index k), E the mean squared error of `net` on `batch`, the
/// norm the Frobenius norm of the H × B matrix (all the batch's sequences at once).
pub fn lag_norms<C: Cell>(net: &AddingNet<C>, batch: &AddingBatch) -> Vec<f64> {
    let (_, cache) = net.forward(&batch.X, &batch.target);
    let dh = net.state_gradients(&cache); // ∂E/∂h_0 … ∂E/∂h_T
    dh.iter().rev().map(|d| d.norm()).collect()
}

/// The decay per step of a lag profile: e^slope of the least-squares line through
/// (k, ln ‖∂E/∂h_{T−k}‖) over the lags with a nonzero norm (NaN with fewer than two). Below 1 the
/// gradient vanishes geometrically (0.5: halves at every step back), 1 keeps it.
pub fn decay_per_step(norms: &[f64]) -> f64 {
    let points: Vec<(f64, f64)> = (norms.iter().enumerate())
        .filter(|(_, n)| **n > 0.0 && n.is_finite())
        .map(|(k, n)| (k as f64, n.ln()))
        .collect();
    if points.len() < 2 {
        return f64::NAN;
    }
    let m = points.len() as f64;
    let (kx, ly) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (k, l)| (a + k / m, b + l / m));
    let (cov, var) = points.iter().fold((0.0, 0.0), |(c, v), (k, l)| {
        (c + (k - kx) * (l - ly), v + (k - kx) * (k - kx))
    });
    (cov / var).exp()
}

/// Settings of `lstm-gru gradients`.
#[derive(Clone, Debug)]
pub struct GradientsConfig {
    /// Training on the adding problem (its T is the measured sequence length).
    pub train: AddingConfig,
    /// Sequences the norms are measured on (drawn once from the seed).
    pub sequences: usize,
}

/// One cell's measurement.
#[derive(Clone, Debug)]
pub struct Profile {
    /// The cell and how it started ("rnn", "irnn", …).
    pub name: String,
    /// ‖∂E/∂h_{T−k}‖, k = 0 … T, at initialisation.
    pub init: Vec<f64>,
    /// The same after training.
    pub trained: Vec<f64>,
    /// The training run.
    pub outcome: Outcome,
}

/// The cells compared, in order: the tanh RNN; the notes' remedies one at a time, a good
/// initial W (tanh with W_hh = I) and ReLU (from the tanh RNN's uniform weights); both (the
/// IRNN); the gates (LSTM, GRU).
pub const CELLS: [&str; 6] = [
    "rnn",
    "tanh, W_hh = I",
    "relu, uniform W_hh",
    "irnn",
    "lstm",
    "gru",
];

/// Every cell of [`CELLS`] measured, trained on the adding problem, measured again. `bar`
/// makes each training run's progress bar.
pub fn measure_all(
    cfg: &GradientsConfig,
    seed: u64,
    bar: &dyn Fn(&str) -> Progress,
) -> Result<Vec<Profile>> {
    let (H, L) = (cfg.train.hidden, cfg.train.layers);
    let batch = adding_batch(cfg.train.T, cfg.sequences, &mut rng::stream(seed, 5));
    let mut out = Vec::new();
    for name in CELLS {
        let rng = &mut rng::stream(seed, 1); // the weights of the adding run's cells
        let p = match name {
            "rnn" => profile(
                cfg,
                seed,
                name,
                AddingNet::<Rnn>::new(H, L, rng),
                &batch,
                bar,
            ),
            "lstm" => profile(
                cfg,
                seed,
                name,
                AddingNet::<Lstm>::new(H, L, rng),
                &batch,
                bar,
            ),
            "gru" => profile(
                cfg,
                seed,
                name,
                AddingNet::<Gru>::new(H, L, rng),
                &batch,
                bar,
            ),
            _ => {
                let net = AddingNet::with_layers(H, L, rng, vanilla(name));
                profile(cfg, seed, name, net, &batch, bar)
            }
        }?;
        out.push(p);
    }
    Ok(out)
}

/// How the vanilla variants of [`CELLS`] start.
fn vanilla(name: &str) -> fn(usize, usize, &mut rng::Rng) -> Rnn {
    match name {
        "tanh, W_hh = I" => |D, H, rng| Rnn {
            W_hh: DMatrix::identity(H, H),
            ..Rnn::new(D, H, rng)
        },
        "relu, uniform W_hh" => |D, H, rng| Rnn {
            f: Activation::Relu,
            ..Rnn::new(D, H, rng)
        },
        _ => Rnn::irnn,
    }
}

/// Measures `net`, trains it on the adding problem, measures it again.
fn profile<C: FastCell>(
    cfg: &GradientsConfig,
    seed: u64,
    name: &str,
    mut net: AddingNet<C>,
    batch: &AddingBatch,
    bar: &dyn Fn(&str) -> Progress,
) -> Result<Profile> {
    let init = lag_norms(&net, batch);
    let progress = bar(name);
    let (mut outcome, result) =
        train::train_adding_net::<C, f64>(&cfg.train, seed, &mut net, &progress);
    progress.finish();
    result.map_err(|e| Error::msg(format!("{name}: {e}")))?;
    outcome.cell = CELLS.into_iter().find(|c| *c == name).unwrap_or("?");
    Ok(Profile {
        name: name.to_string(),
        init,
        trained: lag_norms(&net, batch),
        outcome,
    })
}

/// The lags the table shows: 0, 1, 5, 10, T/4, T/2, 3T/4, T (each once, in order).
fn shown_lags(T: usize) -> Vec<usize> {
    let mut k = vec![0, 1, 5, 10, T / 4, T / 2, 3 * T / 4, T];
    k.retain(|&k| k <= T);
    k.sort_unstable();
    k.dedup();
    k
}

/// The table: ‖∂E/∂h_{T−k}‖ at a few lags, before and after training, and the fitted decay
/// per step.
pub fn table(cfg: &GradientsConfig, profiles: &[Profile]) -> String {
    let T = cfg.train.T;
    let lags = shown_lags(T);
    let mut s = format!(
        "‖∂E/∂h_(T−k)‖ on {} adding sequences of T = {T}, {} units; trained {} steps, Adam {}\n",
        cfg.sequences, cfg.train.hidden, cfg.train.steps, cfg.train.lr
    );
    s += &format!("{:<19} {:<8}", "cell", "");
    for k in &lags {
        s += &format!(" {:>9}", format!("k={k}"));
    }
    s += &format!(" {:>9} {:>12}\n", "per step", "held-out MSE");
    for p in profiles {
        for (stage, norms) in [("init", &p.init), ("trained", &p.trained)] {
            s += &format!("{:<19} {:<8}", p.name, stage);
            for &k in &lags {
                s += &format!(" {:>9.2e}", norms[k]);
            }
            s += &format!(" {:>9.4}", decay_per_step(norms));
            if stage == "trained" {
                s += &format!(" {:>12.5}", p.outcome.final_test_mse);
            }
            s += "\n";
        }
    }
    s.pop();
    s
}

/// The measured curves, one panel at initialisation, one after training, a curve per cell:
/// ‖∂E/∂h_(T−k)‖ itself (`log10` false: gradients.csv's numbers), or its log₁₀ (`log10` true:
/// gradients.png, whose curves span over a hundred decades, more than a log axis labels well).
pub fn figure(cfg: &GradientsConfig, profiles: &[Profile], log10: bool) -> Figure {
    let y_label = if log10 {
        "log₁₀ ‖∂E/∂h_(T−k)‖"
    } else {
        "‖∂E/∂h_(T−k)‖"
    };
    let panel = |title: String, pick: fn(&Profile) -> &Vec<f64>| {
        let mut panel = Panel::new(title, "lag k (steps back from T)", y_label);
        for p in profiles {
            let norms = pick(p);
            let mut s = Series::new(if log10 {
                format!("{} (×{:.3}/step)", p.name, decay_per_step(norms))
            } else {
                p.name.clone() // the CSV's series column: the cell alone
            });
            for (k, n) in norms.iter().enumerate() {
                s.push(k as f64, if log10 { n.log10() } else { *n });
            }
            panel.series.push(s);
        }
        panel
    };
    Figure {
        title: format!(
            "vanishing gradient on the adding problem, T = {}, {} units",
            cfg.train.T, cfg.train.hidden
        ),
        panels: vec![
            panel("at initialisation".into(), |p| &p.init),
            panel(format!("after {} training steps", cfg.train.steps), |p| {
                &p.trained
            }),
        ],
    }
}

/// summary.json's fields: per cell the decay per step, the norms at k = 0 and k = T, and the
/// held-out MSE training reached.
pub fn summary(cfg: &GradientsConfig, profiles: &[Profile]) -> serde_json::Value {
    let T = cfg.train.T;
    let cells: serde_json::Map<String, serde_json::Value> = profiles
        .iter()
        .map(|p| {
            let m = serde_json::json!({
                "decay_per_step_init": decay_per_step(&p.init),
                "decay_per_step_trained": decay_per_step(&p.trained),
                "norm_k0_init": p.init[0], "norm_kT_init": p.init[T],
                "norm_k0_trained": p.trained[0], "norm_kT_trained": p.trained[T],
                "final_test_mse": p.outcome.final_test_mse,
            });
            (p.name.clone(), m)
        })
        .collect();
    serde_json::json!({
        "length": T, "hidden": cfg.train.hidden, "train_steps": cfg.train.steps,
        "lr": cfg.train.lr, "sequences": cfg.sequences, "cells": cells,
    })
}
