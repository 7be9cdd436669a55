//! The products with V on several threads (issue 13: "use both cores where the work allows
//! it"), with `std::thread::scope`: the calling thread takes the last part, `threads − 1`
//! scoped threads the others, and the scope joins them before returning. Products too small to
//! repay starting a thread stay on the calling thread ([`MIN_WORK_PER_THREAD`]).
//!
//! V is column-major (`N_x × N_h`, one column per hidden unit), so the parts are contiguous
//! slices, no `unsafe` needed, and every entry is computed by the same chain of operations
//! as on one thread: **the results are bit-identical for every number of threads**.
//! - forward: `Y = V H` and `y_i = softmax(V h_i)` split by time steps `i` (columns of Y); each
//!   thread reads all of V (6.4 MB, from the shared L3) for its columns;
//! - backward: `Z = Vᵀ (Y − T)` and `V ← V − lr (Y − T) Hᵀ` split by hidden units `l` (columns
//!   of V): each thread updates its columns of V and owns the rows `l` of Z, whose partial
//!   sums over the words `w` run over all of V's rows in the same order as on one thread.
//!
//! Row blocks of V (the other split) would need strided writes into V and Y (raw pointers) and
//! would change how the sums over `w` of `Z` are grouped; the column split needs neither.

use crate::kernels::{self, LANES};
use crate::softmax::softmax_mut;

/// The most threads [`crate::Buffers::with_threads`] accepts (the workspace's `--threads` range).
pub use shared::parallel::MAX_THREADS;

/// Multiply-adds a thread must get for a product with V to be split: starting a scoped thread
/// costs 20–90 µs on this machine (`thread_scope_spawn_one` in the bench), about what 2 M
/// multiply-adds take. At N_x = 8000, N_h = 100 sentences of T ≥ 5 tokens are split in two;
/// the generated corpus's N_x = 252 never is. The split does not change the results, so
/// neither does this threshold.
pub const MIN_WORK_PER_THREAD: usize = 2_000_000;

/// How many parts of at least [`MIN_WORK_PER_THREAD`] an `m × k × n` product with V is cut into
/// on `threads` threads, with no more parts than `units` (time steps or hidden units).
fn parts(threads: usize, m: usize, k: usize, n: usize, units: usize) -> usize {
    let work = m.saturating_mul(k).saturating_mul(n);
    threads.min(work / MIN_WORK_PER_THREAD).min(units).max(1)
}

/// Start of part `t` of `len` items cut into `parts` near-equal contiguous parts.
fn start(len: usize, parts: usize, t: usize) -> usize {
    len * t / parts
}

/// `Y ← V H`, then `y_i ← softmax(y_i)` for each of the `n` columns (the forward pass's
/// `y_i = softmax(V h_i)` for all i): [`kernels::scores`] and [`softmax_mut`], the columns split
/// over `threads` threads. Shapes as [`kernels::scores`].
pub fn scores_softmax(
    V: &[f64],
    Ht: &[f64],
    Y: &mut [f64],
    m: usize,
    k: usize,
    n: usize,
    threads: usize,
) {
    let parts = parts(threads, m, k, n, n);
    // y_i = softmax(V h_i) for the time steps j0 .. j0 + Y.len() / m.
    let job = |Y: &mut [f64], j0: usize| {
        kernels::scores_columns(V, Ht, Y, m, k, n, j0);
        for y_i in Y.chunks_exact_mut(m) {
            softmax_mut(y_i);
        }
    };
    if parts == 1 {
        return job(Y, 0);
    }
    std::thread::scope(|s| {
        let mut rest = Y;
        for t in 0..parts {
            let (j0, j1) = (start(n, parts, t), start(n, parts, t + 1));
            let (mine, tail) = std::mem::take(&mut rest).split_at_mut((j1 - j0) * m);
            rest = tail;
            if t + 1 < parts {
                s.spawn(move || job(mine, j0));
            } else {
                job(mine, j0);
            }
        }
    });
}

/// `Z ← Vᵀ dY`, then `V ← V − lr dY Hᵀ` ([`kernels::output_backward`]), V's `k` columns split
/// over `threads` threads; the partial sums of Z are added up after the threads are joined.
#[allow(clippy::too_many_arguments)]
pub fn output_backward(
    V: &mut [f64],
    dY: &[f64],
    H: &[f64],
    lr: f64,
    Z: &mut [f64],
    P: &mut [[f64; LANES]],
    m: usize,
    k: usize,
    n: usize,
    threads: usize,
) {
    let parts = parts(threads, m, k, n, k);
    if parts == 1 {
        return kernels::output_backward(V, dY, H, lr, Z, P, m, k, n);
    }
    assert!(P.len() >= k * n, "output_backward: shapes");
    let P = &mut P[..k * n];
    std::thread::scope(|s| {
        let (mut rest_V, mut rest_P) = (V, &mut P[..]);
        for t in 0..parts {
            let (l0, l1) = (start(k, parts, t), start(k, parts, t + 1));
            // Columns l0 .. l1 of V (m × (l1 − l0)) and their partial sums ((l1 − l0) × n).
            let (v, tail_V) = std::mem::take(&mut rest_V).split_at_mut((l1 - l0) * m);
            let (p, tail_P) = std::mem::take(&mut rest_P).split_at_mut((l1 - l0) * n);
            (rest_V, rest_P) = (tail_V, tail_P);
            let mut job = move || kernels::output_backward_columns(v, dY, H, lr, p, m, k, n, l0);
            if t + 1 < parts {
                s.spawn(job);
            } else {
                job();
            }
        }
    });
    // Z = Vᵀ (Y − T): rows l0 .. l1 from part t's partial sums.
    for t in 0..parts {
        let (l0, l1) = (start(k, parts, t), start(k, parts, t + 1));
        kernels::add_partial_sums(&P[l0 * n..l1 * n], Z, k, n, l0);
    }
}
