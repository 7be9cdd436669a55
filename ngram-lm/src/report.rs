//! What a training run shows: train.m's log lines, the final report, `summary.json`'s metrics
//! and the assignment's three helpers on the model just trained. (The curves of `loss.png` /
//! `loss.csv` are [`crate::train::Curves`].)

use crate::data::Dataset;
use crate::fast::FastModel;
use crate::model::Model;
use crate::train::Event;
use crate::{fast, words};
use shared::Result;
use shared::kernels::Float;

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
    pub fn measure<F: Float>(model: &FastModel<F>, data: &Dataset, train: f64) -> Final {
        Final {
            train,
            valid: fast::cross_entropy(model, &data.valid),
            test: fast::cross_entropy(model, &data.test),
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

/// The assignment's three helpers on `model`, as the default run shows them: the 10 words
/// nearest to `could` (when it is a word), a prediction ([`Dataset::example_context`]) and
/// a distance ([`Dataset::example_pair`]).
pub fn demo(data: &Dataset, model: &Model) -> Result<String> {
    let mut s = String::new();
    if data.vocab.id("could").is_some() {
        s += &words::show_nearest(model, &data.vocab, "could", 10)?;
    }
    let ctx = data.example_context();
    s += &words::show_predict(model, &data.vocab, [&ctx[0], &ctx[1], &ctx[2]], 3)?;
    let (a, b) = data.example_pair();
    s += &words::show_distance(model, &data.vocab, &a, &b)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

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
