//! What the binary prints and writes besides the model: trask's report every 1000 examples,
//! as one aligned row, the final accuracies and `summary.json`'s metrics. Kept here so
//! `main.rs` reads as the training loop.

use crate::model::{Cost, Sequence};
use crate::train::{Accuracy, Curves, TestSets, Wider, thousands};
use serde_json::{Value, json};

/// `v` in `bits` binary digits, most significant first (as trask prints them).
pub fn binary(v: u64, bits: usize) -> String {
    (0..bits)
        .rev()
        .map(|i| if (v >> i) & 1 == 1 { '1' } else { '0' })
        .collect()
}

/// ✓ or ✗.
pub fn mark(right: bool) -> &'static str {
    if right { "✓" } else { "✗" }
}

/// `correct / total = percent %`, e.g. `16,384 / 16,384 = 100.00 %`.
pub fn accuracy(acc: Accuracy) -> String {
    format!(
        "{:>6} / {:<6} = {:>6.2} %",
        thousands(acc.correct),
        thousands(acc.total),
        100.0 * acc.fraction()
    )
}

/// `a + b = c ✓` with each number right-aligned to the width of the largest sum of `bits` bits.
pub fn sum(a: u64, b: u64, pred: u64, bits: usize) -> String {
    let w = widest(bits);
    format!("{a:>w$} + {b:>w$} = {pred:>w$} {}", mark(pred == a + b))
}

/// Decimal digits of the largest sum of `bits` bits with addends of `bits − 1` bits.
fn widest(bits: usize) -> usize {
    let max_addend = (1u128 << (bits - 1)) - 1;
    (2 * max_addend).to_string().len()
}

/// Characters of the `a + b = pred ✓` column (at least its title's).
fn sum_width(bits: usize) -> usize {
    (3 * widest(bits) + 8).max("a + b = pred".len())
}

/// The header of the training table for `bits`-bit sums; `test` names the last column.
pub fn header(bits: usize, test: &str) -> String {
    let (b, w) = (bits.max(4), sum_width(bits));
    format!(
        "{:>9}  {:>10}  {:<b$}  {:<b$}  {:>w$}  {:>9}",
        "example", "error", "pred", "true", "a + b = pred", test
    )
}

/// trask's report for example `it` as one row: his error Σ|t − y| (to 8 decimals, as numpy
/// printed his `Error:[ 3.45638663]`), the predicted and true bits
/// (most significant first), `a + b = pred` marked right or wrong, and the accuracy on the test
/// pairs (all pairs of the width).
pub fn row(it: u64, error: f64, seq: &Sequence, pred: u64, test: f64) -> String {
    let bits = seq.len();
    let (b, w) = (bits.max(4), sum_width(bits));
    format!(
        "{it:>9}  {error:>10.8}  {:<b$}  {:<b$}  {:>w$}  {:>7.2} %",
        binary(pred, bits),
        binary(seq.c(), bits),
        sum(seq.a, seq.b, pred, bits),
        100.0 * test
    )
}

/// One line of the test on wider sums: `16-bit sums: 20,000 / 20,000 = 100.00 %   e.g. …`.
pub fn wider(w: &Wider) -> String {
    let (a, b, pred) = w.example;
    format!(
        "    {:>2}-bit sums: {}   e.g. {a} + {b} = {pred} {}",
        w.bits,
        accuracy(w.acc),
        mark(pred == a + b)
    )
}

/// The lines after `examples` training examples that took `train_secs`: the accuracy on the
/// test pairs, then on the wider sums (`pairs` random pairs each).
pub fn after(
    examples: u64,
    train_secs: f64,
    tests: &TestSets,
    all: Accuracy,
    pairs: usize,
    wide: &[Wider],
) -> String {
    let per_example = 1e6 * train_secs / examples as f64;
    let (T, half) = (tests.bits, 1u64 << (tests.bits - 1));
    let mut s = format!(
        "\nafter {} examples ({train_secs:.2} s, {per_example:.1} µs each):\n",
        thousands(examples)
    );
    s += &format!(
        "  {} a, b < {half} ({T}-bit sums): {}\n",
        tests.name,
        accuracy(all)
    );
    s += &format!(
        "  wider sums, the same weights run for more steps ({} random pairs each):",
        thousands(pairs as u64)
    );
    for w in wide {
        s += &format!("\n{}", wider(w));
    }
    s
}

/// The chapter's metrics for `summary.json`.
pub struct Summary<'a> {
    /// The cost trained with.
    pub cost: Cost,
    /// N_h.
    pub hidden: usize,
    /// Bits of the training sums.
    pub bits: usize,
    /// α.
    pub lr: f64,
    /// `numpy` or `chacha`.
    pub rng: &'a str,
    /// Seconds spent in training steps (not in measuring).
    pub train_seconds: f64,
    /// The final accuracy on the test pairs.
    pub accuracy: Accuracy,
    /// The curves (their last smoothed error and first perfect measurement).
    pub curves: &'a Curves,
    /// The test on wider sums.
    pub wider: &'a [Wider],
}

impl Summary<'_> {
    /// The JSON object [`shared::run::Run::save_summary`] writes beside the common fields.
    pub fn json(&self) -> Value {
        let wide: Vec<Value> = self
            .wider
            .iter()
            .map(|w| {
                json!({"bits": w.bits, "pairs": w.acc.total, "correct": w.acc.correct,
                       "accuracy": w.acc.fraction()})
            })
            .collect();
        json!({
            "cost": self.cost.name(), "hidden": self.hidden, "bits": self.bits, "lr": self.lr,
            "rng": self.rng, "final_error": self.curves.final_error(),
            "train_seconds": self.train_seconds, "accuracy": self.accuracy.fraction(),
            "pairs": self.accuracy.total, "correct": self.accuracy.correct,
            "first_all_correct_at": self.curves.first_perfect, "accuracy_wider": wide,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_line_up_with_the_header() {
        assert_eq!(thousands(16384), "16,384");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
        let seq = Sequence::of(9, 60, 8);
        let r = row(0, 3.45638663, &seq, 1, 0.0);
        assert_eq!(
            r,
            "        0  3.45638663  00000001  01000101    9 +  60 =   1 ✗     0.00 %"
        );
        assert_eq!(header(8, "all pairs").chars().count(), r.chars().count());
        // Narrow sums: the columns are as wide as their titles.
        let r = row(5, 0.5, &Sequence::of(1, 1, 2), 2, 1.0);
        assert_eq!(header(2, "all pairs").chars().count(), r.chars().count());
        assert_eq!(widest(64), 20);
    }
}
