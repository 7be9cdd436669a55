//! What a training run shows: the header and per-epoch lines it prints, the curves as
//! `loss.png` / `loss.csv`, matrices whose columns are images (Gibbs samples, each hidden
//! unit's weights) as image grids or text, and the final report and `summary.json`.

#![allow(non_snake_case)]

use crate::data::{Data, Source};
use crate::fast::log_probs;
use crate::model::Rbm;
use crate::train::{self, Config, History, Stats};
use nalgebra::DMatrix;
use serde_json::{Value, json};
use shared::Result;
use shared::plot::{Figure, Image, Panel, Scale, Series, save_image_grid};
use shared::session::Session;
use std::fmt::Write;
use std::path::Path;

/// The independent-pixel model's mean log-likelihood on the training and held-out data
/// ([`train::independent_baseline`]): where training starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Baselines {
    /// On the training set.
    pub train: f64,
    /// On the held-out set.
    pub test: f64,
}

impl Baselines {
    /// The baselines of a data set (pixel frequencies from its training part).
    pub fn of(data: &Data) -> Baselines {
        Baselines {
            train: train::independent_baseline(&data.train, &data.train),
            test: train::independent_baseline(&data.train, &data.test),
        }
    }
}

/// The run's name for titles: "CD-20, n_h = 16".
fn run_name(config: &Config, n_h: usize) -> String {
    format!("{}, n_h = {n_h}", config.method.name(config.k))
}

/// The lines printed before training: the data, the recipe, the baselines, the table header.
pub fn header(data: &Data, n_h: usize, config: &Config, base: &Baselines) -> String {
    let mut s = String::new();
    let (n_v, N) = data.train.shape();
    let _ = writeln!(s, "notes §7 RBM: {}", data.name);
    let anneal = if config.anneal_epochs.is_some() {
        " annealed linearly to 0"
    } else {
        ""
    };
    let batch = if config.batch >= N {
        "full batch".to_string()
    } else {
        format!("batch {}", config.batch)
    };
    let _ = writeln!(
        s,
        "n_v = {n_v}, n_h = {n_h}, {}, ε = {}{anneal}, {batch}, momentum {} → {} after epoch {}, weight cost {}",
        config.method.name(config.k),
        config.lr,
        config.momentum_start,
        config.momentum_final,
        config.momentum_epochs,
        config.weight_cost
    );
    let optimum = data
        .optimum
        .map_or(String::new(), |o| format!("; optimum {o:.4}"));
    let _ = writeln!(
        s,
        "independent-pixel baseline: {:.4} train, {:.4} held-out nats per image{optimum}",
        base.train, base.test
    );
    let _ = writeln!(
        s,
        "epoch | exact log p(v) train  held-out |   log Z   | recon error | F gap"
    );
    s
}

/// One line of the per-epoch table (numbers of 10⁶ and more, as after a divergence, in
/// scientific notation so the columns stay readable).
pub fn row(epoch: usize, s: &Stats) -> String {
    let cell = |x: f64, w: usize| {
        if x.abs() < 1e6 || !x.is_finite() {
            format!("{x:w$.4}")
        } else {
            format!("{x:w$.3e}")
        }
    };
    format!(
        "{epoch:5} | {} {} | {} | {} | {}",
        cell(s.train_ll, 20),
        cell(s.test_ll, 9),
        cell(s.log_z, 9),
        cell(s.recon, 11),
        cell(s.fe_gap, 7)
    )
}

/// The final lines (log-likelihoods, distance to the optimum and the mass on the training
/// patterns when the data are bars and stripes) and the chapter's metrics for `summary.json`.
pub fn final_report(
    rbm: &Rbm,
    data: &Data,
    config: &Config,
    stats: &Stats,
    base: &Baselines,
) -> (String, Value) {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "final exact mean log p(v): {:.4} train, {:.4} held-out ({:+.4} nats over the baseline)",
        stats.train_ll,
        stats.test_ll,
        stats.train_ll - base.train
    );
    let mut summary = json!({"final_train_ll": stats.train_ll, "final_test_ll": stats.test_ll,
        "baseline_train_ll": base.train, "baseline_test_ll": base.test, "log_z": stats.log_z,
        "recon_error": stats.recon, "fe_gap": stats.fe_gap, "n_v": rbm.n_v(), "n_h": rbm.n_h(),
        "k": config.k, "method": config.method.name(config.k), "lr": config.lr,
        "annealed": config.anneal_epochs.is_some(), "batch": config.batch});
    if data.source != Source::Bars {
        // Which images trained and which were held out (MNIST: train-* / t10k-*, or t10k split).
        summary["data"] = json!(data.name);
        summary["train_examples"] = json!(data.train.ncols());
        summary["held_out_examples"] = json!(data.test.ncols());
    }
    if let Some(o) = data.optimum {
        let P = shared::data::bars::all_patterns(data.shape.0); // n_v × (2^{n+1} − 2)
        let mass: f64 = log_probs(rbm, &P, stats.log_z)
            .iter()
            .map(|l| l.exp())
            .sum();
        let _ = writeln!(
            s,
            "optimum {o:.4}: {:.4} nats short; the model puts {:.2} % of its mass on the {} patterns",
            o - stats.train_ll,
            100.0 * mass,
            P.ncols()
        );
        summary["optimum"] = json!(o);
        summary["pattern_mass"] = json!(mass);
    }
    (s, summary)
}

impl History {
    /// The figure: log-likelihoods with the optimum (if known, as for bars and stripes) or
    /// else the independent-pixel baseline as a flat line; the distance to the optimum (log
    /// scale, if known); the reconstruction error (log scale); the free-energy gap.
    pub fn figure(&self, data: &Data, config: &Config, n_h: usize, base: &Baselines) -> Figure {
        let title = format!("RBM, {}", run_name(config, n_h));
        let (optimum, baseline) = (data.optimum, base.train);
        let flat = |y: f64, name: &str| Series {
            name: name.into(),
            points: self.train.points.iter().map(|p| (p.0, y)).collect(),
        };
        let reference = match optimum {
            Some(o) => flat(o, "optimum −ln(2^(n+1) − 2)"),
            None => flat(baseline, "independent pixels (train)"),
        };
        let mut panels = vec![
            Panel::new("exact mean log p(v)", "epoch", "nats per image")
                .with(self.train.clone())
                .with(self.test.clone())
                .with(reference),
        ];
        if let Some(o) = optimum {
            let short = Series {
                name: "optimum − train".into(),
                points: self.train.points.iter().map(|p| (p.0, o - p.1)).collect(),
            };
            panels.push(
                Panel::new("distance to the optimum", "epoch", "nats per image")
                    .log_y()
                    .with(short),
            );
        }
        panels.push(
            Panel::new(
                "reconstruction error",
                "epoch",
                "Σ_i (v_i − v̂_i)² per image",
            )
            .log_y()
            .with(self.recon.clone()),
        );
        panels.push(Panel::new("free-energy gap", "epoch", "nats").with(self.fe_gap.clone()));
        Figure { title, panels }
    }
}

/// Each column of M (rows·cols × K) drawn as a rows × cols image, 8 to a row, to a PNG.
pub fn save_grid(
    path: &Path,
    title: &str,
    M: &DMatrix<f64>,
    (rows, cols): (usize, usize),
    scale: Scale,
) -> Result<()> {
    let zoom = (96 / rows.max(cols)).max(2) as u32;
    // Column-major storage: each column (one image, row-major pixels) is contiguous.
    let images: Vec<Image<'_>> = M
        .as_slice()
        .chunks(M.nrows())
        .map(|pixels| Image { pixels, rows, cols })
        .collect();
    save_image_grid(path, title, &images, 8, zoom, scale)
}

/// The pictures of a finished run, through `session` (so the `wrote …` line lists them):
/// samples.png (64 chains, 1000 Gibbs steps from `rng`, as `rbm sample` draws them by default)
/// and filters.png (row j of W as an image).
pub fn save_pictures(
    session: &Session,
    rbm: &Rbm,
    shape: (usize, usize),
    rng: &mut shared::rng::Rng,
) -> Result<()> {
    let S = crate::train::gibbs_samples(rbm, 64, 1000, rng);
    let samples = "Gibbs samples (1000 steps)";
    save_grid(
        &session.output("samples.png"),
        samples,
        &S,
        shape,
        Scale::Unit,
    )?;
    let filters = "hidden units' weights";
    let W_t = rbm.W.transpose();
    let path = session.output("filters.png");
    save_grid(&path, filters, &W_t, shape, Scale::PerImage)
}

/// The first `count` columns of S (n_v × n, values in [0, 1]) as text, each a rows × cols
/// image with '#' where the value is at least 0.5, side by side as many as fit in 80 columns.
pub fn samples_as_text(S: &DMatrix<f64>, (rows, cols): (usize, usize), count: usize) -> String {
    let per_row = (80 / (cols + 2)).clamp(1, 8);
    let count = count.min(S.ncols());
    let mut out = String::new();
    for first in (0..count).step_by(per_row) {
        let shown = first..(first + per_row).min(count);
        for r in 0..rows {
            let line: Vec<String> = shown
                .clone()
                .map(|k| {
                    let pixel = |c: usize| {
                        if S[(r * cols + c, k)] >= 0.5 {
                            '#'
                        } else {
                            '.'
                        }
                    };
                    (0..cols).map(pixel).collect()
                })
                .collect();
            let _ = writeln!(out, "{}", line.join("  "));
        }
        let _ = writeln!(out);
    }
    out
}
