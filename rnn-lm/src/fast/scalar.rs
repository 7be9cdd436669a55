//! The engine's float types, `f64` (every default run) and `f32` (`train --dtype f32`), and the
//! few kernels that differ between them: the matrix–vector product of the recurrence, tanh, and
//! the three products with the N_x × N_h output matrix V with the softmax.
//!
//! - **f64** calls shared's kernels as before ([`shared::kernels::tall`], `softmax`, `fastmath`,
//!   `matvec_acc`): the same bits as the f64 engine always had.
//! - **f32** runs the products with V on the `gemm` crate ([`shared::kernels::gemm()`], reading
//!   `(Y − T)ᵀ` and `Hᵀ` in place through strides, inner dimensions in chunks of at most 512 so
//!   that the bits do not depend on the CPU's cache sizes; in f32 it does twice the multiply-adds
//!   per instruction), the softmax's exponential in f32 (`shared::kernels::fastmath32::exp_nonpositive`, sixteen lanes;
//!   its sum in f64), tanh in f64 ([`fastmath`]) rounded once to f32.
//!   Each product is cut into [`BLOCKS`] near-equal blocks of columns (time steps forward,
//!   columns of V backward) whatever the thread count, and threads take whole blocks: every
//!   block is the same call on one thread or on several, so `--threads` gives the same bits in
//!   f32 too.

use nalgebra::{
    DMatrix, DMatrixView, DMatrixViewMut, DVectorView, DVectorViewMut, Dyn, Matrix, RawStorage,
    RawStorageMut,
};
pub use shared::kernels::Float;
use shared::kernels::tall::{self, LANES};
use shared::kernels::{fastmath, gemm, matvec_acc, threads};

/// Blocks of columns of each product with V in f32 (time steps of `Y = V H`, columns of V in
/// `Vᵀ (Y − T)` and the update of V): the same blocks on any number of threads, so at most this
/// many threads share a product.
pub const BLOCKS: usize = 2;

/// The longest inner dimension of one f32 product: up to 512 the `gemm` crate sums it in one
/// chain, the same on every machine with the same instruction set ([`gemm32`]).
const INNER: usize = 512;

/// The kernels of [`crate::fast`] in one float type ([`Float`]: shared's f64 or f32).
pub trait Scalar: Float {
    /// `y ← y + W x` (W N_h × N_h).
    fn matvec_acc(W: &DMatrix<Self>, x: &[Self], y: &mut [Self]);

    /// `v ← tanh(v)` entrywise.
    fn tanh_mut(v: &mut [Self]);

    /// `Y ← V H`, then `y_i ← softmax(y_i)` for each column: `V` m × k, `H` k × n (the states
    /// h_0 … h_{n−1}), `Ht` scratch for `Hᵀ` (n × k), `Y` m × n, all column-major.
    #[allow(clippy::too_many_arguments)]
    fn scores_softmax(
        V: &[Self],
        H: &[Self],
        Ht: &mut [Self],
        Y: &mut [Self],
        m: usize,
        k: usize,
        n: usize,
        threads: usize,
    );

    /// `Z ← Vᵀ dY` with the old V, then `V ← V − lr dY Hᵀ`: `V` m × k, `dY` m × n, `H` k × n,
    /// `Z` k × n; `P` scratch (at least k·n).
    #[allow(clippy::too_many_arguments)]
    fn output_backward(
        V: &mut [Self],
        dY: &[Self],
        H: &[Self],
        lr: Self,
        Z: &mut [Self],
        P: &mut [[Self; LANES]],
        m: usize,
        k: usize,
        n: usize,
        threads: usize,
    );
}

impl Scalar for f64 {
    fn matvec_acc(W: &DMatrix<f64>, x: &[f64], y: &mut [f64]) {
        matvec_acc(W, x, y);
    }

    fn tanh_mut(v: &mut [f64]) {
        fastmath::tanh_mut(v);
    }

    fn scores_softmax(
        V: &[f64],
        H: &[f64],
        Ht: &mut [f64],
        Y: &mut [f64],
        m: usize,
        k: usize,
        n: usize,
        threads: usize,
    ) {
        // Ht[l·n + i] = h_i[l]: the tall kernel reads the n entries of step l side by side.
        for (i, h_i) in H.chunks_exact(k).enumerate() {
            for (l, h) in h_i.iter().enumerate() {
                Ht[l * n + i] = *h;
            }
        }
        super::scores_softmax(V, Ht, Y, m, k, n, threads);
    }

    fn output_backward(
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
        // One pass over V, its k columns split over the threads: Z = Vᵀ dY as partial sums,
        // then V ← V − lr dY Hᵀ ([`tall::tall_backward_sgd`]); the partial sums of Z are added
        // up after the threads are joined.
        let parts = threads::parts(threads, m.saturating_mul(k).saturating_mul(n), k);
        assert!(P.len() >= k * n, "output_backward: shapes");
        // Columns l0 .. l0 + c of V (m × c) and their partial sums (c × n).
        threads::for_column_parts2(V, m, P, n, parts, |v, p, l0| {
            tall::tall_backward_sgd_columns(v, dY, H, lr, p, m, k, n, l0)
        });
        // Z = Vᵀ dY: rows l0 .. l0 + c from each part's partial sums.
        for (l0, c) in threads::ranges(k, parts) {
            tall::add_partial_sums(&P[l0 * n..(l0 + c) * n], Z, k, n, l0);
        }
    }
}

impl Scalar for f32 {
    fn matvec_acc(W: &DMatrix<f32>, x: &[f32], y: &mut [f32]) {
        let x = DVectorView::from_slice(x, x.len());
        DVectorViewMut::from_slice(y, W.nrows()).gemv(1.0, W, &x, 1.0);
    }

    fn tanh_mut(v: &mut [f32]) {
        for x in v {
            *x = fastmath::tanh(f64::from(*x)) as f32;
        }
    }

    fn scores_softmax(
        V: &[f32],
        H: &[f32],
        _Ht: &mut [f32],
        Y: &mut [f32],
        m: usize,
        k: usize,
        n: usize,
        threads: usize,
    ) {
        if n == 0 {
            return; // an empty sentence has no scores
        }
        let V = DMatrixView::from_slice(V, m, k);
        let parts = f32_parts(threads, m, k, n, n);
        // y_i = softmax(V h_i), block by block of time steps j0 .. j0 + c.
        for_blocks(Y, m, parts, |Y, j0| {
            let c = Y.len() / m;
            let H = DMatrixView::from_slice(&H[j0 * k..(j0 + c) * k], k, c);
            let mut Yb = DMatrixViewMut::from_slice(Y, m, c);
            gemm32(1.0, &V, &H, 0.0, &mut Yb);
            for y_i in Y.chunks_exact_mut(m) {
                shared::kernels::softmax::softmax32_mut(y_i);
            }
        });
    }

    fn output_backward(
        V: &mut [f32],
        dY: &[f32],
        H: &[f32],
        lr: f32,
        Z: &mut [f32],
        P: &mut [[f32; LANES]],
        m: usize,
        k: usize,
        n: usize,
        threads: usize,
    ) {
        if n == 0 {
            return; // an empty sentence: Z is empty and V does not change
        }
        let parts = f32_parts(threads, m, k, n, k);
        // dYᵀ (n × m) read in place: entry (i, w) is dY[w, i] = dY[i·m + w].
        let dYt = DMatrixView::from_slice_with_strides(dY, n, m, m, 1);
        let dY = DMatrixView::from_slice(dY, m, n);
        // Zᵀ (n × k) in P's first k·n numbers: the rows of Z of a block of V's columns are
        // columns of Zᵀ, contiguous, so each block writes its own slice.
        let Zt = &mut P.as_flattened_mut()[..k * n];
        // Per block of V's columns l0 .. l0 + c (m × c): Zᵀ[:, l0..] = dYᵀ V[:, l0..] with the
        // old V, then V[:, l0..] ← V[:, l0..] − lr dY H[l0.., :]ᵀ.
        for_blocks2(V, m, Zt, n, parts, |V, Zt, l0| {
            let c = V.len() / m;
            let mut Vb = DMatrixViewMut::from_slice(V, m, c);
            let mut Ztb = DMatrixViewMut::from_slice(Zt, n, c);
            gemm32(1.0, &dYt, &Vb, 0.0, &mut Ztb);
            // H[l0.., :]ᵀ (n × c) read in place: entry (i, l) is H[l0 + l, i] = H[i·k + l0 + l].
            let Ht = DMatrixView::from_slice_with_strides(&H[l0..], n, c, k, 1);
            gemm32(-lr, &dY, &Ht, 1.0, &mut Vb);
        });
        // Z = (Zᵀ)ᵀ.
        for (i, z_i) in Z[..k * n].chunks_exact_mut(k).enumerate() {
            for (l, z) in z_i.iter_mut().enumerate() {
                *z = Zt[l * n + i];
            }
        }
    }
}

/// `c ← α a b + β c` in f32 on the `gemm` crate, the inner dimension summed in fixed chunks of
/// at most [`INNER`] (over a longer one the crate cuts the sum where the CPU's cache sizes say,
/// so the last bits would depend on the machine).
fn gemm32<S1, S2, S3>(
    alpha: f32,
    a: &Matrix<f32, Dyn, Dyn, S1>,
    b: &Matrix<f32, Dyn, Dyn, S2>,
    beta: f32,
    c: &mut Matrix<f32, Dyn, Dyn, S3>,
) where
    S1: RawStorage<f32, Dyn, Dyn>,
    S2: RawStorage<f32, Dyn, Dyn>,
    S3: RawStorageMut<f32, Dyn, Dyn>,
{
    let k = a.ncols();
    for (p0, r) in threads::ranges(k, k.div_ceil(INNER)) {
        let beta = if p0 == 0 { beta } else { 1.0 };
        gemm(alpha, &a.columns(p0, r), &b.rows(p0, r), beta, c);
    }
}

/// Threads for a product of `m · k · n` multiply-adds in f32 (`units`: columns to share out):
/// [`threads::parts`] counting each as half of one, since f32 does twice as many per instruction
/// and a thread start is worth as much time as in f64.
fn f32_parts(threads: usize, m: usize, k: usize, n: usize, units: usize) -> usize {
    threads::parts(threads, m.saturating_mul(k).saturating_mul(n) / 2, units)
}

/// Runs `job(columns, j0)` on each of [`BLOCKS`] near-equal blocks of columns of the
/// column-major `data` (`rows` entries a column; `columns` starts at column `j0`), the blocks
/// shared out in `parts` contiguous runs over scoped threads ([`threads::for_column_parts`]):
/// which thread runs a block does not change what it computes.
fn for_blocks<T: Send>(
    data: &mut [T],
    rows: usize,
    parts: usize,
    job: impl Fn(&mut [T], usize) + Sync,
) {
    let cols = data.len().checked_div(rows).unwrap_or(0);
    let mut blocks = Vec::with_capacity(BLOCKS);
    let mut rest = data;
    for (j0, c) in threads::ranges(cols, BLOCKS) {
        let (block, tail) = std::mem::take(&mut rest).split_at_mut(c * rows);
        rest = tail;
        blocks.push((block, j0));
    }
    threads::for_column_parts(&mut blocks, 1, parts, |run, _| {
        for (block, j0) in run.iter_mut() {
            job(block, *j0);
        }
    });
}

/// [`for_blocks`] over two column-major matrices with the same number of columns (`a_rows` and
/// `b_rows` entries a column), cut at the same columns.
fn for_blocks2<A: Send, B: Send>(
    a: &mut [A],
    a_rows: usize,
    b: &mut [B],
    b_rows: usize,
    parts: usize,
    job: impl Fn(&mut [A], &mut [B], usize) + Sync,
) {
    let cols = a.len().checked_div(a_rows).unwrap_or(0);
    let mut blocks = Vec::with_capacity(BLOCKS);
    let (mut rest_a, mut rest_b) = (a, b);
    for (j0, c) in threads::ranges(cols, BLOCKS) {
        let (block_a, tail_a) = std::mem::take(&mut rest_a).split_at_mut(c * a_rows);
        let (block_b, tail_b) = std::mem::take(&mut rest_b).split_at_mut(c * b_rows);
        (rest_a, rest_b) = (tail_a, tail_b);
        blocks.push((block_a, block_b, j0));
    }
    threads::for_column_parts(&mut blocks, 1, parts, |run, _| {
        for (a, b, j0) in run.iter_mut() {
            job(a, b, *j0);
        }
    });
}
