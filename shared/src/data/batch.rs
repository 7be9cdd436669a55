//! Batching: mini-batches of columns for the feed-forward chapters, and contiguous sequence
//! windows for the RNN chapters.
//!
//! **Mini-batches.** An [`Epoch`] is an order of the N column indices (shuffled with
//! `shared::rng`, or in order) cut into batches of B: ⌊N/B⌋ full batches and, when B does not
//! divide N, one smaller last batch of N mod B, kept by default as Ng's
//! `random_mini_batches` does (300 examples, B = 64 → 4 × 64 + 44), or dropped
//! ([`LastBatch::Drop`]) as Hinton's assignment 2 does (372,550 4-grams, B = 100 → 3,725 batches,
//! the last 50 never used). [`Epochs`] hands out one epoch after another from one generator.
//!
//! **Sequence windows.** For a stream of L tokens and a sequence length T, [`SeqWindows`] walks
//! the stream as Karpathy's min-char-rnn does: window k starts at p = k·T, its inputs are
//! `stream[p .. p+T]` and its targets `stream[p+1 .. p+T+1]` (the next token of each input).
//! A window is used only while p + T + 1 < L, the gist's condition
//! (`if p+seq_length+1 >= len(data): p = 0`), so one pass has ⌊(L − T − 2)/T⌋ + 1 windows
//! (tinyshakespeare, L = 1,115,394, T = 25: 44,615) and the text's last few tokens are never a
//! target. Then the walk starts again at p = 0, and the window says so (`reset`), which is when
//! min-char-rnn zeroes its hidden state.

use crate::error::{Error, Result};
use crate::rng::{self, Rng};
use std::ops::Range;

/// What to do with a last batch smaller than the batch size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LastBatch {
    /// Keep it (Ng's notebook): ⌈N/B⌉ batches.
    #[default]
    Keep,
    /// Drop it (Hinton's assignment 2): ⌊N/B⌋ batches.
    Drop,
}

/// One pass over N columns: an order of `0..N` cut into batches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Epoch {
    order: Vec<usize>,
    size: usize,
    last: LastBatch,
}

fn check_size(batch_size: usize) -> Result<()> {
    if batch_size == 0 {
        return Err(Error::msg("the batch size must be at least 1"));
    }
    Ok(())
}

impl Epoch {
    /// Columns `0..n` in a random order from `rng`, in batches of `batch_size`.
    /// Error if `batch_size` is 0.
    pub fn shuffled(rng: &mut Rng, n: usize, batch_size: usize, last: LastBatch) -> Result<Epoch> {
        check_size(batch_size)?;
        Ok(Epoch {
            order: rng::permutation(rng, n),
            size: batch_size,
            last,
        })
    }

    /// Columns `0..n` in order, in batches of `batch_size` (batch m is columns
    /// m·B .. (m+1)·B, as Hinton's `load_data.m` reshapes them). Error if `batch_size` is 0.
    pub fn in_order(n: usize, batch_size: usize, last: LastBatch) -> Result<Epoch> {
        check_size(batch_size)?;
        Ok(Epoch {
            order: (0..n).collect(),
            size: batch_size,
            last,
        })
    }

    /// The batches, each a slice of column indices (length B, the last one possibly shorter).
    pub fn batches(&self) -> impl ExactSizeIterator<Item = &[usize]> {
        let used = match self.last {
            LastBatch::Keep => self.order.len(),
            LastBatch::Drop => self.order.len() - self.order.len() % self.size,
        };
        self.order[..used].chunks(self.size)
    }

    /// Number of batches.
    pub fn len(&self) -> usize {
        self.batches().len()
    }

    /// True when there is no batch (N = 0, or N < B with [`LastBatch::Drop`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The whole order of the columns this epoch visits them in (length N).
    pub fn order(&self) -> &[usize] {
        &self.order
    }
}

/// Endless epochs over N columns, each shuffled anew by one generator (or all in order).
///
/// ```
/// use shared::data::batch::{Epochs, LastBatch};
/// let mut epochs = Epochs::shuffled(shared::rng::stream(7, 1), 300, 64, LastBatch::Keep).unwrap();
/// let first = epochs.next().unwrap();
/// let sizes: Vec<usize> = first.batches().map(|b| b.len()).collect();
/// assert_eq!(sizes, [64, 64, 64, 64, 44]);
/// ```
#[derive(Clone, Debug)]
pub struct Epochs {
    rng: Option<Rng>,
    n: usize,
    size: usize,
    last: LastBatch,
}

impl Epochs {
    /// Shuffled epochs drawn from `rng` (same generator state, same epochs).
    pub fn shuffled(rng: Rng, n: usize, batch_size: usize, last: LastBatch) -> Result<Epochs> {
        check_size(batch_size)?;
        Ok(Epochs {
            rng: Some(rng),
            n,
            size: batch_size,
            last,
        })
    }

    /// Epochs that all visit the columns in order.
    pub fn in_order(n: usize, batch_size: usize, last: LastBatch) -> Result<Epochs> {
        check_size(batch_size)?;
        Ok(Epochs {
            rng: None,
            n,
            size: batch_size,
            last,
        })
    }
}

impl Epochs {
    /// Overwrites `epoch` with the next epoch in place, without allocating: the same order
    /// [`Iterator::next`] would hand out (the same random numbers are drawn). `epoch` must come
    /// from these epochs (same N, batch size and last-batch rule), e.g. the first `next()`.
    pub fn next_into(&mut self, epoch: &mut Epoch) {
        assert_eq!(
            epoch.order.len(),
            self.n,
            "next_into: an epoch of another size"
        );
        for (i, o) in epoch.order.iter_mut().enumerate() {
            *o = i;
        }
        if let Some(rng) = &mut self.rng {
            // rng::permutation(rng, n) is exactly this: 0..n, then a Fisher–Yates shuffle.
            rng::shuffle(rng, &mut epoch.order);
        }
        epoch.size = self.size;
        epoch.last = self.last;
    }
}

impl Iterator for Epochs {
    type Item = Epoch;

    /// The next epoch (never `None`).
    fn next(&mut self) -> Option<Epoch> {
        let order = match &mut self.rng {
            Some(rng) => rng::permutation(rng, self.n),
            None => (0..self.n).collect(),
        };
        Some(Epoch {
            order,
            size: self.size,
            last: self.last,
        })
    }
}

/// One training window of a token stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    /// Where the window starts: p.
    pub p: usize,
    /// Index range of the inputs, `p .. p+T`.
    pub inputs: Range<usize>,
    /// Index range of the targets, `p+1 .. p+T+1`.
    pub targets: Range<usize>,
    /// True for the first window of a pass (p = 0): reset the hidden state here.
    pub reset: bool,
}

/// Contiguous windows of T tokens over a stream of L (rules in the [module docs](self)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeqWindows {
    len: usize,
    seq: usize,
    next: usize,
}

impl SeqWindows {
    /// Windows of `seq_len` (T ≥ 1) over a stream of `stream_len` (L ≥ T + 2) tokens.
    pub fn new(stream_len: usize, seq_len: usize) -> Result<SeqWindows> {
        if seq_len == 0 {
            return Err(Error::msg("the sequence length must be at least 1"));
        }
        if stream_len < seq_len + 2 {
            return Err(Error::msg(format!(
                "a stream of {stream_len} tokens is too short for sequences of {seq_len}: it needs at least {}",
                seq_len + 2
            )));
        }
        Ok(SeqWindows {
            len: stream_len,
            seq: seq_len,
            next: 0,
        })
    }

    /// Windows per pass: the number of k with k·T + T + 1 < L, i.e. ⌊(L − T − 2)/T⌋ + 1.
    pub fn per_pass(&self) -> usize {
        (self.len - self.seq - 2) / self.seq + 1
    }

    /// Window k of a pass (k < [`SeqWindows::per_pass`]).
    pub fn window(&self, k: usize) -> Window {
        let p = k * self.seq;
        Window {
            p,
            inputs: p..p + self.seq,
            targets: p + 1..p + self.seq + 1,
            reset: k == 0,
        }
    }

    /// The windows of one pass, in order.
    pub fn pass(&self) -> impl ExactSizeIterator<Item = Window> + '_ {
        (0..self.per_pass()).map(|k| self.window(k))
    }
}

impl Iterator for SeqWindows {
    type Item = Window;

    /// The next window of an endless walk: p advances by T and returns to 0 after the last
    /// window of a pass (never `None`).
    fn next(&mut self) -> Option<Window> {
        let w = self.window(self.next);
        self.next = (self.next + 1) % self.per_pass();
        Some(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ng_batches_keep_the_small_last_one() {
        let e = Epoch::shuffled(&mut rng::seeded(1), 300, 64, LastBatch::Keep).unwrap();
        let sizes: Vec<usize> = e.batches().map(<[usize]>::len).collect();
        assert_eq!(sizes, [64, 64, 64, 64, 44]);
        // Every column exactly once.
        let mut seen: Vec<usize> = e.batches().flatten().copied().collect();
        seen.sort();
        assert_eq!(seen, (0..300).collect::<Vec<_>>());
        assert_ne!(e.order()[..10], (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn hinton_batches_drop_the_last_50() {
        let e = Epoch::in_order(372_550, 100, LastBatch::Drop).unwrap();
        assert_eq!(e.len(), 3725);
        let last = e.batches().last().unwrap();
        assert_eq!(last, (372_400..372_500).collect::<Vec<_>>());
        assert!(Epoch::in_order(5, 10, LastBatch::Drop).unwrap().is_empty());
        assert_eq!(Epoch::in_order(5, 10, LastBatch::Keep).unwrap().len(), 1);
        assert!(Epoch::in_order(0, 10, LastBatch::Keep).unwrap().is_empty());
        assert!(Epoch::in_order(5, 0, LastBatch::Keep).is_err());
    }

    #[test]
    fn epochs_are_reproducible_and_differ_from_each_other() {
        let a: Vec<Epoch> = Epochs::shuffled(rng::seeded(3), 20, 6, LastBatch::Keep)
            .unwrap()
            .take(3)
            .collect();
        let b: Vec<Epoch> = Epochs::shuffled(rng::seeded(3), 20, 6, LastBatch::Keep)
            .unwrap()
            .take(3)
            .collect();
        assert_eq!(a, b);
        assert_ne!(a[0].order(), a[1].order());
        let c = Epochs::shuffled(rng::seeded(4), 20, 6, LastBatch::Keep)
            .unwrap()
            .next()
            .unwrap();
        assert_ne!(a[0].order(), c.order());
        let ordered = Epochs::in_order(7, 3, LastBatch::Keep)
            .unwrap()
            .next()
            .unwrap();
        assert_eq!(
            ordered.batches().collect::<Vec<_>>(),
            [&[0, 1, 2][..], &[3, 4, 5], &[6]]
        );
    }

    #[test]
    fn next_into_hands_out_the_same_epochs_as_next() {
        let mut a = Epochs::shuffled(rng::seeded(8), 300, 64, LastBatch::Keep).unwrap();
        let mut b = a.clone();
        let mut reused = b.next().unwrap();
        assert_eq!(a.next().unwrap(), reused);
        let ptr = reused.order().as_ptr();
        for _ in 0..5 {
            b.next_into(&mut reused);
            assert_eq!(a.next().unwrap(), reused);
        }
        assert_eq!(reused.order().as_ptr(), ptr, "the buffer was reused");
    }

    #[test]
    fn min_char_rnn_windows() {
        // tinyshakespeare: 1,115,394 characters, T = 25 → 44,615 iterations per pass.
        let w = SeqWindows::new(1_115_394, 25).unwrap();
        assert_eq!(w.per_pass(), 44_615);
        let last = w.window(44_614);
        assert_eq!(last.p, 1_115_350);
        assert!(last.p + 25 + 1 < 1_115_394);
        assert!(last.p + 25 + 25 + 1 >= 1_115_394);

        // Brute force the gist's loop on small streams: p += T, reset when p+T+1 >= L.
        for len in 3..40 {
            for t in 1..len - 1 {
                let mut windows = SeqWindows::new(len, t).unwrap();
                let mut p = 0;
                for n in 0..3 * len {
                    if p + t + 1 >= len || n == 0 {
                        p = 0;
                    }
                    let w = windows.next().unwrap();
                    assert_eq!((w.p, w.reset), (p, p == 0), "L {len} T {t} step {n}");
                    assert_eq!(w.inputs, p..p + t);
                    assert_eq!(w.targets, p + 1..p + t + 1);
                    assert!(w.targets.end <= len);
                    p += t;
                }
            }
        }
        let chunk: Vec<Window> = SeqWindows::new(10, 3).unwrap().pass().collect();
        assert_eq!(chunk.iter().map(|w| w.p).collect::<Vec<_>>(), [0, 3]);
        assert!(SeqWindows::new(26, 25).is_err());
        assert!(SeqWindows::new(27, 25).is_ok());
        assert!(SeqWindows::new(10, 0).is_err());
    }
}
