//! The lines the binary prints: trask's report every 1000 examples, as one aligned row, and
//! the final accuracies. Kept here so `main.rs` reads as the training loop.

use crate::training::Wider;
use crate::{Accuracy, Sequence, binary};

/// 16384 → "16,384".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
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
