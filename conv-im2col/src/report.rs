//! What `conv-im2col train` prints and writes besides the model: the lines of its report, the
//! linear baseline run, and `filters.png`. (Kept here so that `main.rs` reads as flags, data,
//! model, train loop, outputs.)

use crate::data::Split;
use crate::fast::{FastConvNet, Float, LinearSoftmax};
use crate::model::Config;
use crate::train::{Curves, EpochReport, Sampling, accuracy, fit};
use nalgebra::DMatrix;
use shared::Result;
use shared::cli::Dtype;
use shared::optim::{Optimizer, Rule};
use shared::plot::{Image, Scale, Series, save_image_grid};
use shared::rng;

/// "data: …; 28×28 images, 10 classes".
pub fn data_line(split: &Split) -> String {
    let t = &split.train;
    format!(
        "data: {}; {}×{} images, {} classes",
        split.description, t.rows, t.cols, t.classes
    )
}

/// "SimpleConvNet: conv 30×5×5 → ReLU → pool 2×2 → …; 433890 parameters; … Adam lr …".
/// An f32 network says so at the end ("…, batch 100, f32").
pub fn network_line<T: Float>(net: &FastConvNet<T>, adam: &str, lr: f64, batch: usize) -> String {
    let c: &Config = &net.config;
    let dtype = if T::DTYPE == Dtype::F64 {
        String::new()
    } else {
        format!(", {}", T::DTYPE)
    };
    format!(
        "SimpleConvNet: conv {}×{f}×{f} → ReLU → pool {p}×{p} → affine {} → ReLU → affine {}; {} parameters; {adam} Adam lr {lr}, batch {batch}{dtype}",
        c.filters,
        c.hidden,
        c.classes,
        net.parameter_count(),
        f = c.filter_size,
        p = c.pool
    )
}

/// "epoch 3: mean loss …, train acc …, test acc … (… s training)".
pub fn epoch_line(r: &EpochReport, train_accuracy: f64) -> String {
    format!(
        "epoch {}: mean loss {:.4}, train acc {train_accuracy:.4}, test acc {:.4} ({:.2} s training)",
        r.epoch, r.mean_loss, r.test_accuracy, r.seconds
    )
}

/// The baseline run: a linear softmax classifier on the raw pixels, trained on the same split
/// with the same rule, rate, epochs, batch size and sampling (its own random streams 3 and 4
/// of `seed`).
#[derive(Clone, Debug)]
pub struct Baseline {
    /// Per epoch, as for SimpleConvNet.
    pub reports: Vec<EpochReport>,
    /// Accuracy on the training set at the end.
    pub train_accuracy: f64,
    /// Accuracy on the test set at the end.
    pub test_accuracy: f64,
}

/// Trains the linear baseline (see [`Baseline`]).
pub fn baseline(
    split: &Split,
    epochs: u64,
    batch: usize,
    sampling: Sampling,
    rule: Rule,
    lr: f64,
    seed: u64,
) -> Result<Baseline> {
    let t = &split.train;
    let mut linear = LinearSoftmax::new(t.images.nrows(), t.classes, &mut rng::stream(seed, 3));
    let mut opt = Optimizer::new(rule, lr);
    let reports = fit(
        &mut linear,
        &mut opt,
        split,
        epochs,
        batch,
        sampling,
        &mut rng::stream(seed, 4),
        |_, _| {},
        |_, _| {},
    )?;
    let test_accuracy = reports.last().map_or(0.0, |r| r.test_accuracy);
    let train_accuracy = accuracy(&mut linear, &t.images, &t.labels, 500);
    Ok(Baseline {
        reports,
        train_accuracy,
        test_accuracy,
    })
}

/// The closing lines: the baseline's accuracies, then SimpleConvNet's against them.
pub fn final_lines(curves: &Curves, base: &Baseline, seconds_per_epoch: f64) -> String {
    let last = |s: &Series| s.last().unwrap_or(0.0);
    let (tr, te) = (last(&curves.train), last(&curves.test));
    format!(
        "linear softmax baseline: train acc {:.4}, test acc {:.4}\n\
         SimpleConvNet: train acc {tr:.4}, test acc {te:.4} ({:+.2} points vs the baseline); {seconds_per_epoch:.2} s per training epoch",
        base.train_accuracy,
        base.test_accuracy,
        100.0 * (te - base.test_accuracy)
    )
}

/// The last line: figure 15's number.
pub fn figure15_line(pixel22_gradient: f64) -> String {
    format!(
        "notes §5 figure 15: im2col of (1, 3, 7, 7) is 9 × 75; pixel 22's gradient from dcol = {pixel22_gradient:.2} (see `conv-im2col example`)"
    )
}

/// Draws the first-channel FH × FW slice of each filter (rows of W) of `before` and `after`
/// in a grid of 10 columns, each stretched to its own grey range: the picture of the first
/// layer's filters in Saito's ch. 7 (random noise before training, edge and blob detectors
/// after).
pub fn save_filters(
    path: impl AsRef<std::path::Path>,
    before: &DMatrix<f64>,
    after: &DMatrix<f64>,
    fh: usize,
    fw: usize,
) -> Result<()> {
    let pixels: Vec<Vec<f64>> = [before, after]
        .iter()
        .flat_map(|w| {
            w.row_iter()
                .map(|r| r.iter().take(fh * fw).copied().collect::<Vec<_>>())
        })
        .collect();
    let images: Vec<Image> = pixels
        .iter()
        .map(|p| Image {
            pixels: p,
            rows: fh,
            cols: fw,
        })
        .collect();
    let rows = before.nrows().div_ceil(10);
    let title = format!(
        "conv1 filters: before (rows 1-{rows}), after (rows {}-{})",
        rows + 1,
        2 * rows
    );
    save_image_grid(path, &title, &images, 10, 12, Scale::PerImage)
}
