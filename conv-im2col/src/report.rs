//! What `conv-im2col train` prints and writes besides the model: the lines of its report, the
//! curves of `loss.png` / `loss.csv`, the linear baseline run, and `summary.json`'s metrics.
//! (Kept here so that `main.rs` reads as flags, data, model, train loop, outputs.)

use crate::data::Split;
use crate::net::{EpochReport, LinearSoftmax, Sampling, accuracy, fit};
use crate::{Config, SimpleConvNet};
use shared::Result;
use shared::optim::{Optimizer, Rule};
use shared::plot::{Figure, Legend, Panel, Series};
use shared::rng;
use shared::run::Run;

/// The curves of a run: the loss of every step, and the accuracies after every epoch.
#[derive(Clone, Debug)]
pub struct Curves {
    /// SimpleConvNet's training loss, one point per step.
    pub loss: Series,
    /// SimpleConvNet's accuracy on the training set, per epoch.
    pub train: Series,
    /// SimpleConvNet's accuracy on the test set, per epoch.
    pub test: Series,
    /// The linear softmax baseline's test accuracy, per epoch.
    pub linear: Series,
}

impl Default for Curves {
    fn default() -> Self {
        Curves {
            loss: Series::new("loss per step"),
            train: Series::new("CNN train"),
            test: Series::new("CNN test"),
            linear: Series::new("linear softmax test"),
        }
    }
}

impl Curves {
    /// `loss.png`: the loss per step (and its smoothed curve) on a log scale, and the
    /// accuracies per epoch.
    pub fn figure(&self) -> Figure {
        let smooth = self.loss.smoothed(0.95, "smoothed");
        let loss_panel = Panel::new("training loss", "step", "cross-entropy").log_y();
        let acc_panel = Panel::new("accuracy", "epoch", "accuracy").legend(Legend::LowerRight);
        Figure {
            title: "SimpleConvNet (notes §5, Saito ch. 7)".into(),
            panels: vec![
                loss_panel.with(self.loss.clone()).with(smooth),
                acc_panel
                    .with(self.train.clone())
                    .with(self.test.clone())
                    .with(self.linear.clone()),
            ],
        }
    }

    /// Passes `result` through; on an error (a diverged training), first writes the curves
    /// up to that point to `loss.png` and `loss.csv`, so the run leaves what it saw.
    pub fn save_on_error<T>(&self, run: &Run, result: Result<T>) -> anyhow::Result<T> {
        match result {
            Ok(v) => Ok(v),
            Err(e) => {
                run.save_loss(&self.figure())?;
                Err(e.into())
            }
        }
    }
}

/// "data: …; 28×28 images, 10 classes".
pub fn data_line(split: &Split) -> String {
    let t = &split.train;
    format!(
        "data: {}; {}×{} images, {} classes",
        split.description, t.rows, t.cols, t.classes
    )
}

/// "SimpleConvNet: conv 30×5×5 → ReLU → pool 2×2 → …; 433890 parameters; … Adam lr …".
pub fn network_line(net: &SimpleConvNet, adam: &str, lr: f64, batch: usize) -> String {
    let c: &Config = &net.config;
    format!(
        "SimpleConvNet: conv {}×{f}×{f} → ReLU → pool {p}×{p} → affine {} → ReLU → affine {}; {} parameters; {adam} Adam lr {lr}, batch {batch}",
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

/// The last two lines: where the outputs went, and figure 15's number.
pub fn closing_lines(out: &std::path::Path, pixel22_gradient: f64) -> String {
    format!(
        "wrote loss.png, loss.csv, filters.png, model.safetensors, summary.json to {}\n\
         notes §5 figure 15: im2col of (1, 3, 7, 7) is 9 × 75; pixel 22's gradient from dcol = {pixel22_gradient:.2} (see `conv-im2col example`)",
        out.display()
    )
}
