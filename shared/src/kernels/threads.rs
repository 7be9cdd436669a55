//! One product on several threads, with the same bits as on one: cut a column-major matrix into
//! contiguous ranges of columns and let each thread compute its own columns with the same chain
//! of operations (e.g. the kernels of [`crate::kernels::tall`], whose parts are bit-identical to
//! one call). `std::thread::scope`: the calling thread takes the last part, `parts − 1` scoped
//! threads the others, and the scope joins them before returning. No `unsafe`: the parts are
//! disjoint slices.
//!
//! Starting a scoped thread costs 20–90 µs (a few million multiply-adds), so a product is split
//! only into parts of at least [`MIN_WORK_PER_THREAD`] ([`parts`]). The split does not change
//! the results, so neither does the threshold.
//!
//! The engine's products ([`crate::kernels::gemm()`]) take their threads from
//! [`set_product_threads`] instead: the gemm crate's own split, also bit-identical.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Multiply-adds a thread must get for a product to be split.
pub const MIN_WORK_PER_THREAD: usize = 2_000_000;

/// The threads the engine's products ([`crate::kernels::gemm()`], [`crate::kernels::gemm_nt`])
/// may use: 1 until a program sets it ([`set_product_threads`]).
static PRODUCT_THREADS: AtomicUsize = AtomicUsize::new(1);

/// Multiply-adds from which a product runs on several threads (the gemm crate's pool, whose
/// threads wait between products). Below it two threads measured no faster, or slower: on the
/// 2-core Zen 4, 512 × 128 × 32 (the LSTM's step at batch 32, 2.1 M) took 0.79× the speed of one
/// thread and 100 × 8000 × 45 (36 M) 0.85×, while 256³ (16.8 M) ran 1.75× faster, the RBM's
/// 500 × 784 × 100 1.59× and the convolution's dcol 57600 × 30 × 25 1.68× (a loaded machine:
/// ±20 %). The gemm crate decides how to cut the output; for some shapes it gains nothing.
pub const MIN_PRODUCT_WORK: usize = 8_000_000;

/// Lets the engine's products use `n` threads (at least 1) from now on, in this process. The
/// results do not depend on it (see [`crate::kernels::gemm`](mod@crate::kernels::gemm)).
pub fn set_product_threads(n: usize) {
    PRODUCT_THREADS.store(n.max(1), Ordering::Relaxed);
}

/// Shares the products' threads out between `groups` threads that each run their own products
/// (a chapter's `--groups`): each group's products get `product_threads() / groups` (at least
/// one), so the groups do not ask for more threads than there are.
pub fn share_product_threads(groups: usize) {
    set_product_threads(product_threads() / groups.max(1));
}

/// The threads the engine's products may use ([`set_product_threads`]).
pub fn product_threads() -> usize {
    PRODUCT_THREADS.load(Ordering::Relaxed)
}

/// How the gemm crate runs an `m × k` times `k × n` product: on [`product_threads`] threads
/// from [`MIN_PRODUCT_WORK`] multiply-adds, else on the calling thread.
pub(crate) fn product_parallelism(m: usize, n: usize, k: usize) -> gemm::Parallelism {
    let t = product_threads();
    let work = m.saturating_mul(n).saturating_mul(k);
    if t > 1 && work >= MIN_PRODUCT_WORK {
        gemm::Parallelism::Rayon(t)
    } else {
        gemm::Parallelism::None
    }
}

/// The cores this machine offers (`std::thread::available_parallelism`, 1 if unknown): the
/// default of the chapters' `--threads`.
pub fn available() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// How many parts of at least [`MIN_WORK_PER_THREAD`] multiply-adds a product of `work`
/// multiply-adds is cut into on `threads` threads, with no more parts than `units` (the columns
/// to share out), and at least one.
pub fn parts(threads: usize, work: usize, units: usize) -> usize {
    threads.min(work / MIN_WORK_PER_THREAD).min(units).max(1)
}

/// `cols` columns cut into `parts` near-equal contiguous ranges, each as (first column, width),
/// in order: the split of [`crate::parallel::groups`] (no more ranges than columns, at least
/// one), without allocating.
pub fn ranges(cols: usize, parts: usize) -> impl ExactSizeIterator<Item = (usize, usize)> {
    let n = parts.min(cols).max(1);
    (0..n).map(move |g| (cols * g / n, cols * (g + 1) / n - cols * g / n))
}

/// Runs `job(columns, j0)` on `parts` near-equal contiguous ranges of the columns of the
/// column-major `data` (`rows` entries per column): `columns` is columns `j0 ..` of `data`, each
/// range on its own thread (the last on the calling one). One part runs on the calling thread
/// with no thread started.
pub fn for_column_parts<T: Send>(
    data: &mut [T],
    rows: usize,
    parts: usize,
    job: impl Fn(&mut [T], usize) + Sync,
) {
    let cols = data.len().checked_div(rows).unwrap_or(0);
    let ranges = ranges(cols, parts);
    let n = ranges.len();
    if n == 1 {
        return job(data, 0);
    }
    std::thread::scope(|s| {
        let mut rest = data;
        for (g, (j0, width)) in ranges.enumerate() {
            let (mine, tail) = std::mem::take(&mut rest).split_at_mut(width * rows);
            rest = tail;
            if g + 1 < n {
                let job = &job;
                s.spawn(move || job(mine, j0));
            } else {
                job(mine, j0);
            }
        }
    });
}

/// [`for_column_parts`] over two matrices with the same number of columns, cut at the same
/// columns: `job(a_columns, b_columns, j0)`, with `a_rows` and `b_rows` entries per column.
pub fn for_column_parts2<A: Send, B: Send>(
    a: &mut [A],
    a_rows: usize,
    b: &mut [B],
    b_rows: usize,
    parts: usize,
    job: impl Fn(&mut [A], &mut [B], usize) + Sync,
) {
    let cols = a.len().checked_div(a_rows).unwrap_or(0);
    assert!(
        b.len() >= cols * b_rows,
        "for_column_parts2: b is too short"
    );
    let ranges = ranges(cols, parts);
    let n = ranges.len();
    if n == 1 {
        return job(a, &mut b[..cols * b_rows], 0);
    }
    std::thread::scope(|s| {
        let (mut rest_a, mut rest_b) = (a, b);
        for (g, (j0, width)) in ranges.enumerate() {
            let (mine_a, tail_a) = std::mem::take(&mut rest_a).split_at_mut(width * a_rows);
            let (mine_b, tail_b) = std::mem::take(&mut rest_b).split_at_mut(width * b_rows);
            (rest_a, rest_b) = (tail_a, tail_b);
            if g + 1 < n {
                let job = &job;
                s.spawn(move || job(mine_a, mine_b, j0));
            } else {
                job(mine_a, mine_b, j0);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_products_stay_on_one_thread() {
        assert_eq!(parts(2, 8000 * 100 * 20, 20), 2);
        assert_eq!(parts(8, 8000 * 100 * 20, 20), 8);
        assert_eq!(parts(8, 8000 * 100 * 100, 3), 3); // no more parts than columns
        assert_eq!(parts(2, 252 * 100 * 20, 20), 1); // too little work
        assert_eq!(parts(1, usize::MAX, 20), 1);
        assert_eq!(parts(4, 0, 0), 1);
    }

    #[test]
    fn ranges_are_the_batch_groups_split() {
        for (cols, p) in [(32, 1), (32, 2), (5, 2), (2, 8), (100, 3), (0, 2), (7, 7)] {
            let r: Vec<_> = ranges(cols, p).collect();
            assert_eq!(r, crate::parallel::groups(cols, p), "{cols} in {p}");
        }
    }

    #[test]
    fn every_column_is_visited_once_with_its_index() {
        for (cols, p) in [(10, 1), (10, 3), (7, 7), (2, 2), (0, 1)] {
            let rows = 3;
            let mut data = vec![usize::MAX; rows * cols];
            for_column_parts(&mut data, rows, p, |part, j0| {
                for (j, col) in part.chunks_exact_mut(rows).enumerate() {
                    col.fill(j0 + j);
                }
            });
            let want: Vec<usize> = (0..cols).flat_map(|j| [j; 3]).collect();
            assert_eq!(data, want, "{cols} columns in {p} parts");
            let (mut a, mut b) = (vec![0usize; rows * cols], vec![0u8; 2 * cols + 5]);
            for_column_parts2(&mut a, rows, &mut b, 2, p, |a, b, j0| {
                assert_eq!(a.len() / rows, b.len() / 2);
                for (j, col) in a.chunks_exact_mut(rows).enumerate() {
                    col.fill(j0 + j);
                }
                b.fill(1);
            });
            assert_eq!(a, want);
            assert!(b[..2 * cols].iter().all(|&x| x == 1) && b[2 * cols..].iter().all(|&x| x == 0));
        }
    }
}
