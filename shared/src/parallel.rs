//! What the chapters' `--threads N` options share: the accepted range and the split of a
//! mini-batch into contiguous groups, one per thread (data-parallel training: each group's
//! gradient is computed on its own thread, then the groups are added in a fixed order, so a
//! given N always gives the same bits).

use crate::{Error, Result};

/// The most threads `--threads` accepts.
pub const MAX_THREADS: usize = 8;

/// `--threads N` checked: 1 ≤ N ≤ [`MAX_THREADS`], else a flag error naming `--threads`.
pub fn check_threads(n: usize) -> Result<usize> {
    if (1..=MAX_THREADS).contains(&n) {
        Ok(n)
    } else {
        Err(Error::flag(
            "--threads",
            format!("must be 1 to {MAX_THREADS}, not {n}"),
        ))
    }
}

/// A batch of `B` examples (columns) on `threads` threads: min(threads, B) near-equal
/// contiguous groups, each as (first column, width B_g), in order; a batch smaller than the
/// thread count uses fewer threads, and an empty batch is one empty group.
#[allow(non_snake_case)]
pub fn groups(B: usize, threads: usize) -> Vec<(usize, usize)> {
    let n = threads.min(B).max(1);
    (0..n)
        .map(|g| (B * g / n, B * (g + 1) / n - B * g / n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_cover_the_batch_in_order() {
        assert_eq!(groups(32, 1), vec![(0, 32)]);
        assert_eq!(groups(32, 2), vec![(0, 16), (16, 16)]);
        assert_eq!(groups(5, 2), vec![(0, 2), (2, 3)]);
        assert_eq!(groups(2, 8), vec![(0, 1), (1, 1)]);
        assert_eq!(groups(1, 2), vec![(0, 1)]);
        assert_eq!(groups(0, 2), vec![(0, 0)]);
    }

    #[test]
    fn thread_counts_outside_the_range_are_flag_errors() {
        assert!(check_threads(0).is_err() && check_threads(MAX_THREADS + 1).is_err());
        assert_eq!(check_threads(MAX_THREADS).unwrap(), MAX_THREADS);
        let e = check_threads(0).unwrap_err().to_string();
        assert!(e.contains("--threads"), "{e}");
    }
}
