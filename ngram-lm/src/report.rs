//! What a training run shows and keeps: train.m's log lines, the loss curves (`loss.png`,
//! `loss.csv`), the final report and `summary.json`'s metrics; and the command line's value
//! parsers.

use crate::data::Dataset;
use crate::{Event, Model};
use shared::plot::{Figure, Panel, Series};

/// The modal verbs the notes' example puts nearest to `could`, drawn in red in `embedding.png`.
pub const MODALS: [&str; 8] = [
    "can", "could", "should", "would", "might", "may", "will", "must",
];

impl Event {
    /// The line train.m prints for this event.
    pub fn line(&self) -> String {
        match self {
            Event::Train { batch, ce } => format!("Batch {batch} Train CE {ce:.3}"),
            Event::Valid { ce, .. } => format!("Running validation ... Validation CE {ce:.3}"),
        }
    }
}

/// The curves of `loss.png`: the train CE of every 100 batches and the validation CE, against
/// the epoch (fractional), and the generator's entropy floor when there is one.
#[derive(Clone, Debug)]
pub struct Curves {
    /// Mean batch CE of every 100 batches.
    pub train: Series,
    /// Validation CE every 1000 batches, and after training.
    pub valid: Series,
    /// The generated corpus's entropy floor (nats per word), if known.
    pub floor: Option<f64>,
}

impl Curves {
    /// Empty curves.
    pub fn new(floor: Option<f64>) -> Curves {
        Curves {
            train: Series::new("train (mean of 100 batches)"),
            valid: Series::new("validation"),
            floor,
        }
    }

    /// Records `event` of epoch `epoch` (0-based) of `batches` batches.
    pub fn record(&mut self, epoch: usize, batches: usize, event: Event) {
        let at = |batch: usize| epoch as f64 + batch as f64 / batches as f64;
        match event {
            Event::Train { batch, ce } => self.train.push(at(batch), ce),
            Event::Valid { batch, ce } => self.valid.push(at(batch), ce),
        }
    }

    /// The figure of `loss.png` for a run of `epochs` epochs (the floor is drawn across them).
    pub fn figure(&self, epochs: f64) -> Figure {
        let mut panel = Panel::new(
            "§1 language model: cross-entropy per predicted word",
            "epoch",
            "CE (nats)",
        )
        .with(self.train.clone())
        .with(self.valid.clone());
        if let Some(h) = self.floor {
            let mut floor = Series::new("entropy floor of the generator");
            floor.push(0.0, h);
            floor.push(epochs, h);
            panel = panel.with(floor);
        }
        Figure::single(panel)
    }
}

/// The final cross-entropies of a run (nats per predicted word).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Final {
    /// train.m's "Final Training CE": the mean batch CE during the last epoch.
    pub train: f64,
    /// Validation CE with the final weights.
    pub valid: f64,
    /// Test CE with the final weights.
    pub test: f64,
    /// Vocabulary size V (ln V is the CE of guessing uniformly).
    pub vocab: usize,
    /// The generator's entropy floor, if known.
    pub floor: Option<f64>,
}

impl Final {
    /// The final cross-entropies of `model` on `data`'s validation and test sets, with `train`
    /// the mean batch CE of the last epoch.
    pub fn measure(model: &Model, data: &Dataset, train: f64) -> Final {
        Final {
            train,
            valid: model.cross_entropy(&data.valid),
            test: model.cross_entropy(&data.test),
            vocab: data.vocab.len(),
            floor: data.entropy_floor,
        }
    }

    /// train.m's closing lines (without its timing line), the floor when known, and a note when
    /// the model ended worse than guessing uniformly (a diverged run: the CE of the log's floor
    /// is finite, so such a run ends without an error).
    pub fn text(&self) -> String {
        let mut s = format!(
            "Finished Training.\nFinal Training CE {:.3}\nFinal Validation CE {:.3}\nFinal Test CE {:.3}\n",
            self.train, self.valid, self.test
        );
        if let Some(h) = self.floor {
            s += &format!(
                "Entropy floor of the generator {h:.3} (no model can do better on average)\n"
            );
        }
        let uniform = (self.vocab as f64).ln();
        if self.valid > uniform || self.valid.is_nan() {
            s += &format!(
                "note: the validation CE is above ln {} = {uniform:.3}, the CE of guessing uniformly: the training diverged (try a smaller --lr)\n",
                self.vocab
            );
        }
        s
    }

    /// `summary.json`'s metrics (`data` describes the data set).
    pub fn metrics(&self, data: &str) -> serde_json::Value {
        serde_json::json!({
            "train_ce": self.train,
            "valid_ce": self.valid,
            "test_ce": self.test,
            "final_loss": self.train,
            "entropy_floor": self.floor,
            "data": data,
        })
    }
}

/// clap parser for sizes and counts: a whole number ≥ 1.
pub fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{s} is not a whole number ≥ 1")),
    }
}

/// clap parser for rates: a finite number ≥ 0.
pub fn non_negative(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("{s} is not a finite number ≥ 0")),
    }
}

/// clap parser for the momentum μ: a number in [0, 1) (with μ ≥ 1 the velocity Δ ← μΔ + g
/// never forgets a gradient and grows without bound).
pub fn momentum(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.0..1.0).contains(&x) => Ok(x),
        _ => Err(format!("{s} is not a number in [0, 1)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers_accept_the_range_and_name_the_value() {
        assert_eq!(positive("3"), Ok(3));
        assert!(positive("0").unwrap_err().contains("0 is not"));
        assert!(positive("-2").is_err() && positive("1.5").is_err());
        assert_eq!(non_negative("0"), Ok(0.0));
        assert!(non_negative("-1").is_err() && non_negative("NaN").is_err());
        assert!(non_negative("inf").is_err());
        assert_eq!(momentum("0.9"), Ok(0.9));
        assert!(momentum("1").is_err() && momentum("-0.1").is_err());
    }

    #[test]
    fn final_report_notes_a_run_worse_than_uniform() {
        let mut f = Final {
            train: 2.5,
            valid: 2.6,
            test: 2.61,
            vocab: 250,
            floor: None,
        };
        assert!(f.text().contains("Final Validation CE 2.600\n"));
        assert!(!f.text().contains("note:"));
        f.valid = 26.7; // train.m with lr 100
        assert!(
            f.text()
                .contains("note: the validation CE is above ln 250 = 5.521")
        );
    }
}
