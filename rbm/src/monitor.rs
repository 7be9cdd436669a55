//! What a training run shows: the per-epoch curves as `loss.png` / `loss.csv`, and matrices
//! whose columns are images (Gibbs samples, each hidden unit's weights) as image grids.

#![allow(non_snake_case)]

use crate::train::Stats;
use nalgebra::DMatrix;
use shared::Result;
use shared::plot::{Figure, Image, Panel, Scale, Series, save_image_grid};
use std::path::Path;

/// The exact log-likelihoods, reconstruction error and free-energy gap of every epoch.
#[derive(Clone, Debug)]
pub struct History {
    /// Exact mean log p(v), training set.
    pub train: Series,
    /// Exact mean log p(v), held-out set.
    pub test: Series,
    /// Reconstruction error.
    pub recon: Series,
    /// Mean F(held-out) − mean F(train).
    pub fe_gap: Series,
}

impl Default for History {
    fn default() -> Self {
        History {
            train: Series::new("train"),
            test: Series::new("held-out"),
            recon: Series::new("reconstruction error"),
            fe_gap: Series::new("F(held-out) − F(train)"),
        }
    }
}

impl History {
    /// Records the statistics of `epoch` (0 = before training).
    pub fn push(&mut self, epoch: usize, s: &Stats) {
        let x = epoch as f64;
        self.train.push(x, s.train_ll);
        self.test.push(x, s.test_ll);
        self.recon.push(x, s.recon);
        self.fe_gap.push(x, s.fe_gap);
    }

    /// The figure: log-likelihoods with the optimum (if known) or else the independent-pixel
    /// `baseline` as a flat line; the distance to the optimum (log scale, if known); the
    /// reconstruction error (log scale); the free-energy gap.
    pub fn figure(&self, title: String, optimum: Option<f64>, baseline: f64) -> Figure {
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

/// The pictures and the model of a finished run, in `out`: samples.png (64 chains, 1000 Gibbs
/// steps from `rng`), filters.png (row j of W as an image) and model.safetensors (W, a, b).
pub fn save_outputs(
    out: &Path,
    rbm: &crate::Rbm,
    shape: (usize, usize),
    rng: &mut shared::rng::Rng,
) -> Result<()> {
    let S = crate::train::gibbs_samples(rbm, 64, 1000, rng);
    let samples = "Gibbs samples (1000 steps)";
    save_grid(&out.join("samples.png"), samples, &S, shape, Scale::Unit)?;
    let filters = "hidden units' weights";
    let W_t = rbm.W.transpose();
    save_grid(
        &out.join("filters.png"),
        filters,
        &W_t,
        shape,
        Scale::PerImage,
    )?;
    let meta = [
        ("n_v", rbm.n_v().to_string()),
        ("n_h", rbm.n_h().to_string()),
        ("rows", shape.0.to_string()),
        ("cols", shape.1.to_string()),
    ];
    let tensors = [("W", &rbm.W), ("a", &rbm.a), ("b", &rbm.b)];
    shared::checkpoint::save(out.join("model.safetensors"), "rbm", &tensors, &meta)
}
