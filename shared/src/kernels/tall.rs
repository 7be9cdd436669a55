//! Products with a tall, thin matrix: `A` is `m × k` with `m ≫ k` (an output layer's weights,
//! e.g. rnn-lm's `V`, 8000 × 100), the other operands have a few columns (`n` ≈ 20 time steps).
//! The forward product of a linear layer `C = A B`, and its backward pass fused with the SGD
//! update of `A`:
//!
//! ```text
//! C  ← A B                 m × k · k × n     forward          (rnn-lm: Y = V H, all V h_i)
//! dB ← Aᵀ dC               k × m · m × n     backward         (rnn-lm: Vᵀ (y_i − t_i), all i)
//! A  ← A − lr dC Bᵀ        m × n · n × k     SGD on dA        (rnn-lm: V ← V − lr dV)
//! ```
//!
//! matrixmultiply (behind [`crate::kernels::gemm()`]) copies its left operand into packed panels
//! before multiplying; here that operand is all of `A` (6.4 MB at 8000 × 100), copied for only
//! `n` columns of work, and `n` = 20 fills two and a half of its 8-column tiles. These kernels
//! read `A` in place (no packing), cover `n` exactly (tiles of 1 to 11 columns), and do the
//! backward product and the update in one pass over `A`, block by block of rows, while a block
//! is still in the L2 cache.
//!
//! ## The same numbers on every machine
//! Each body is compiled for AVX-512, AVX2 (both with FMA) and the baseline through
//! `multiversion`, with tiles sized for each; the tiles differ, the arithmetic does not:
//! - `C[w, j]` is the fused multiply-add chain `Σ_l A[w, l] B[l, j]` in order l = 0, 1, …;
//! - `dB[l, i]` is eight partial sums, partial q running over the rows w ≡ q (mod 8) in order,
//!   added as ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7));
//! - `A[w, l] ← A[w, l] − lr S` with one rounding, `S` the chain `Σ_i dC[w, i] B[l, i]`.
//!
//! `f64::mul_add` is exactly rounded on every target (an FMA instruction where the CPU has one,
//! else libm's `fma`), so every version equals the plain loops [`tall_gemm_ref`] and
//! [`tall_backward_sgd_ref`] bit for bit (the tests check each tile shape against them).
//!
//! ## Parts on their own
//! [`tall_gemm_columns`] computes some columns of `C`, [`tall_backward_sgd_columns`] some
//! columns of `A` with their rows of `dB`'s partial sums, [`add_partial_sums`] adds those up: the
//! chains above do not depend on how `C` or `A` is cut, so parts computed apart (on several
//! threads, [`crate::kernels::threads`]) are bit-identical to one call.

#![allow(non_snake_case)] // the matrices' names: A, B, C, dB, dC

use multiversion::multiversion;
use multiversion::target::match_target;

/// Lanes of the partial sums of `Aᵀ dC`: fixed, so that the sums do not depend on the CPU.
pub const LANES: usize = 8;

/// Rows of `A` per block of the backward pass: a 256 × 100 block (200 KB) stays in L2 between
/// the product that reads it and the update that writes it.
const BLOCK: usize = 256;

/// Columns of `C` per tile of [`tall_gemm`]. Not 12: with 12 columns (96 accumulators at
/// AVX-512's 8 rows) the compiler gave up on the wide registers (4-lane FMAs and masked
/// gathers), and a 12-column tile of rnn-lm's Y = V H took 7.4 ms against 0.32 ms for 11; its
/// SGD step at 45 words went from 13.6 to 6.5 ms with 11 (the same bits: each entry's chain
/// does not depend on the tiles).
const GEMM_COLS: usize = 11;

/// Expands `$body` with `$W` a `const usize` equal to `$w` (1 ..= 11): the tile widths are
/// compile-time constants, so that the accumulators can live in registers.
#[rustfmt::skip]
macro_rules! const_width {
    ($w:expr, $W:ident => $body:expr) => {
        match $w {
            1 => { const $W: usize = 1; $body }
            2 => { const $W: usize = 2; $body }
            3 => { const $W: usize = 3; $body }
            4 => { const $W: usize = 4; $body }
            5 => { const $W: usize = 5; $body }
            6 => { const $W: usize = 6; $body }
            7 => { const $W: usize = 7; $body }
            8 => { const $W: usize = 8; $body }
            9 => { const $W: usize = 9; $body }
            10 => { const $W: usize = 10; $body }
            _ => { const $W: usize = 11; $body }
        }
    };
}

/// Expands `$body` with `$W` a `const usize` equal to `$w` (1 ..= 5).
#[rustfmt::skip]
macro_rules! const_width5 {
    ($w:expr, $W:ident => $body:expr) => {
        match $w {
            1 => { const $W: usize = 1; $body }
            2 => { const $W: usize = 2; $body }
            3 => { const $W: usize = 3; $body }
            4 => { const $W: usize = 4; $body }
            _ => { const $W: usize = 5; $body }
        }
    };
}

// Tile sizes per instruction set, chosen so that the accumulators stay in registers (and the
// loops are short enough for the compiler to unroll them):
// - `C = A B`: MR rows × up to 11 columns; AVX-512 8 × 11 (11 of its 32 registers of 8 lanes),
//   AVX2 4 × 11 (11 of 16 registers of 4 lanes), baseline 2 × 11 (SSE2: 11 of 16 of 2 lanes).
//   n is cut into equal chunks of at most 11 columns (n = 20: 10 + 10; n = 45: 5 × 9).
// - `Aᵀ dC`: LB × IB accumulators of 8 lanes; AVX-512 4 × 5, AVX2 2 × 2, baseline 1 × 2.
// - the update: MR rows × C columns; AVX-512 16 × 10, AVX2 8 × 6, baseline 4 × 6.

// ---------------------------------------------------------------------------------------------
// C ← A B

/// `C ← A B` for column-major `A` (m × k) and `C` (m × n), with `B` given transposed: `Bt` is
/// `Bᵀ` column-major (n × k), so `Bt[l·n + j] = B[l, j]` and the n entries of B used at step l
/// are side by side.
pub fn tall_gemm(A: &[f64], Bt: &[f64], C: &mut [f64], m: usize, k: usize, n: usize) {
    tall_gemm_columns(A, Bt, C, m, k, n, 0)
}

/// Columns `j0 .. j0 + c` of `C ← A B` ([`tall_gemm`]), `c = C.len() / m`: `C` holds just those
/// columns (m × c, contiguous in column-major order), `Bt` is all of `Bᵀ` (n × k).
pub fn tall_gemm_columns(
    A: &[f64],
    Bt: &[f64],
    C: &mut [f64],
    m: usize,
    k: usize,
    n: usize,
    j0: usize,
) {
    let c = C.len().checked_div(m).unwrap_or(0);
    assert!(
        A.len() == m * k && Bt.len() == k * n && C.len() == m * c && j0 + c <= n,
        "tall_gemm: shapes"
    );
    let Bt = &Bt[j0.min(Bt.len())..]; // Bt[l·n + j] = B[l, j0 + j]
    gemm_dispatch(A, Bt, n, C, m, k, c);
}

/// [`gemm_body`] with the row tile of the instruction set this CPU runs.
#[multiversion(targets("x86_64+avx512f+fma", "x86_64+avx2+fma"))]
fn gemm_dispatch(A: &[f64], Bt: &[f64], ldb: usize, C: &mut [f64], m: usize, k: usize, n: usize) {
    match_target! {
        "x86_64+avx512f" => gemm_body::<8>(A, Bt, ldb, C, m, k, n),
        "x86_64+avx2" => gemm_body::<4>(A, Bt, ldb, C, m, k, n),
        _ => gemm_body::<2>(A, Bt, ldb, C, m, k, n),
    }
}

/// `n` columns of `C = A B`, `Bt[l·ldb + j] = B[l, j]`, in tiles of `MR` rows.
#[inline(always)]
fn gemm_body<const MR: usize>(
    A: &[f64],
    Bt: &[f64],
    ldb: usize,
    C: &mut [f64],
    m: usize,
    k: usize,
    n: usize,
) {
    let chunks = n.div_ceil(GEMM_COLS);
    let rows = m - m % MR;
    for r in (0..rows).step_by(MR) {
        let mut j0 = 0;
        for q in 0..chunks {
            let c = (n - j0) / (chunks - q); // equal chunks: n = 20 is 10 + 10
            const_width!(c, W => gemm_tile::<MR, W>(A, Bt, C, m, k, ldb, r, j0));
            j0 += c;
        }
    }
    for w in rows..m {
        for j in 0..n {
            // C[w, j] = Σ_l A[w, l] B[l, j]
            let mut s = 0.0;
            for l in 0..k {
                s = A[l * m + w].mul_add(Bt[l * ldb + j], s);
            }
            C[j * m + w] = s;
        }
    }
}

/// Rows `r .. r + MR`, columns `j0 .. j0 + W` of `C = A B`: `MR × W` accumulators; per step l
/// one column of A (MR values) and W broadcast entries of B (`Bt[l·ldb + j] = B[l, j]`).
#[inline(always)]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
fn gemm_tile<const MR: usize, const W: usize>(
    A: &[f64],
    Bt: &[f64],
    C: &mut [f64],
    m: usize,
    k: usize,
    ldb: usize,
    r: usize,
    j0: usize,
) {
    let mut acc = [[0.0f64; MR]; W];
    for l in 0..k {
        let mut a = [0.0f64; MR];
        a.copy_from_slice(&A[l * m + r..l * m + r + MR]);
        let b = &Bt[l * ldb + j0..l * ldb + j0 + W];
        for c in 0..W {
            for q in 0..MR {
                acc[c][q] = a[q].mul_add(b[c], acc[c][q]);
            }
        }
    }
    for c in 0..W {
        C[(j0 + c) * m + r..(j0 + c) * m + r + MR].copy_from_slice(&acc[c]);
    }
}

/// The plain loops of [`tall_gemm`]: the same chain for every entry, so the same bits.
pub fn tall_gemm_ref(A: &[f64], Bt: &[f64], C: &mut [f64], m: usize, k: usize, n: usize) {
    for j in 0..n {
        for w in 0..m {
            // C[w, j] = Σ_l A[w, l] B[l, j], l = 0, 1, …
            let mut s = 0.0;
            for l in 0..k {
                s = A[l * m + w].mul_add(Bt[l * n + j], s);
            }
            C[j * m + w] = s;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// dB ← Aᵀ dC, then A ← A − lr dC Bᵀ

/// `dB ← Aᵀ dC`, then `A ← A − lr dC Bᵀ`, for column-major `A` (m × k), `dC` (m × n), `B`
/// (k × n) and `dB` (k × n), in one pass over `A`: each block of rows is read by the product
/// before the update changes it, so `dB` is computed with the old `A`. `P` is scratch for the
/// partial sums, at least k·n long.
#[allow(clippy::too_many_arguments)]
pub fn tall_backward_sgd(
    A: &mut [f64],
    dC: &[f64],
    B: &[f64],
    lr: f64,
    dB: &mut [f64],
    P: &mut [[f64; LANES]],
    m: usize,
    k: usize,
    n: usize,
) {
    assert!(
        dB.len() == k * n && P.len() >= k * n,
        "tall_backward_sgd: shapes"
    );
    let P = &mut P[..k * n];
    tall_backward_sgd_columns(A, dC, B, lr, P, m, k, n, 0);
    add_partial_sums(P, dB, k, n, 0);
}

/// [`tall_backward_sgd`] on columns `l0 .. l0 + c` of `A`, `c = A.len() / m`: `A` holds just
/// those columns (m × c, contiguous in column-major order), `dC` and `B` are whole, and `P`
/// (c·n long) receives the partial sums of rows `l0 .. l0 + c` of `dB = Aᵀ dC` (`P[i·c + l]` for
/// `dB[l0 + l, i]`; [`add_partial_sums`] adds them up).
#[allow(clippy::too_many_arguments)]
pub fn tall_backward_sgd_columns(
    A: &mut [f64],
    dC: &[f64],
    B: &[f64],
    lr: f64,
    P: &mut [[f64; LANES]],
    m: usize,
    k: usize,
    n: usize,
    l0: usize,
) {
    let c = A.len().checked_div(m).unwrap_or(0);
    assert!(
        A.len() == m * c
            && l0 + c <= k
            && dC.len() == m * n
            && B.len() == k * n
            && P.len() == c * n,
        "tall_backward_sgd: shapes"
    );
    let B = &B[l0.min(B.len())..]; // B[i·k + l] = B[l0 + l, i]
    backward_dispatch(A, dC, B, k, lr, P, m, c, n);
}

/// `dB[l0 + l, i] = Σ_q P[i·c + l][q]` for the `c = P.len() / n` rows of `dB` (k × n) whose
/// partial sums [`tall_backward_sgd_columns`] left in `P`, added in a fixed order:
/// ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7)).
pub fn add_partial_sums(P: &[[f64; LANES]], dB: &mut [f64], k: usize, n: usize, l0: usize) {
    let c = P.len().checked_div(n).unwrap_or(0);
    assert!(
        dB.len() == k * n && P.len() == c * n && l0 + c <= k,
        "add_partial_sums: shapes"
    );
    for i in 0..n {
        let z = &mut dB[i * k + l0..i * k + l0 + c];
        for (z, p) in z.iter_mut().zip(&P[i * c..(i + 1) * c]) {
            *z = lanes_sum(p);
        }
    }
}

/// The fixed order in which the eight partial sums of a `dB` entry are added.
#[inline(always)]
fn lanes_sum(p: &[f64; LANES]) -> f64 {
    ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]))
}

/// [`backward_body`] with the tiles of the instruction set this CPU runs.
#[multiversion(targets("x86_64+avx512f+fma", "x86_64+avx2+fma"))]
#[allow(clippy::too_many_arguments)]
fn backward_dispatch(
    A: &mut [f64],
    dC: &[f64],
    B: &[f64],
    ldb: usize,
    lr: f64,
    P: &mut [[f64; LANES]],
    m: usize,
    k: usize,
    n: usize,
) {
    match_target! {
        "x86_64+avx512f" => backward_body::<16, 10, 4, 5>(A, dC, B, ldb, lr, P, m, k, n),
        "x86_64+avx2" => backward_body::<8, 6, 2, 2>(A, dC, B, ldb, lr, P, m, k, n),
        _ => backward_body::<4, 6, 1, 2>(A, dC, B, ldb, lr, P, m, k, n),
    }
}

/// The `k` columns of `A` that `A` holds (m × k), `B[i·ldb + l]` = row l of those columns' part
/// of B, the partial sums into `P` (k × n). Tiles: `MR × C` for the update, `LB × IB` for `Aᵀ dC`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn backward_body<const MR: usize, const C: usize, const LB: usize, const IB: usize>(
    A: &mut [f64],
    dC: &[f64],
    B: &[f64],
    ldb: usize,
    lr: f64,
    P: &mut [[f64; LANES]],
    m: usize,
    k: usize,
    n: usize,
) {
    let P = &mut P[..k * n];
    P.fill([0.0; LANES]);
    let full = m - m % LANES; // rows in whole groups of 8
    for w0 in (0..m).step_by(BLOCK) {
        let w1 = (w0 + BLOCK).min(m);
        // dB = Aᵀ dC = Σ_w A[w, :]ᵀ dC[w, :]: this block's rows, 8 at a time.
        let v1 = w1.min(full);
        if v1 > w0 {
            for l0 in (0..k).step_by(LB) {
                let lb = (k - l0).min(LB);
                for i0 in (0..n).step_by(IB) {
                    let ib = (n - i0).min(IB);
                    const_width5!(lb, LW => const_width5!(ib, IW =>
                        at_dc_tile::<LW, IW>(A, dC, P, m, k, w0, v1, l0, i0)));
                }
            }
        }
        for w in v1..w1 {
            // The last rows (fewer than 8) go to the partial sum of their lane.
            for i in 0..n {
                for l in 0..k {
                    let p = &mut P[i * k + l][w % LANES];
                    *p = A[l * m + w].mul_add(dC[i * m + w], *p);
                }
            }
        }
        // A ← A − lr dC Bᵀ on the same rows, now that the product has read them.
        let rows = w0 + (w1 - w0) / MR * MR;
        for r in (w0..rows).step_by(MR) {
            let mut l0 = 0;
            while l0 < k {
                let c = (k - l0).min(C);
                const_width!(c, W => update_tile::<MR, W>(A, dC, B, lr, m, ldb, n, r, l0));
                l0 += c;
            }
        }
        for w in rows..w1 {
            for l in 0..k {
                // dA[w, l] = Σ_i dC[w, i] B[l, i]
                let mut s = 0.0;
                for i in 0..n {
                    s = dC[i * m + w].mul_add(B[i * ldb + l], s);
                }
                A[l * m + w] = (-lr).mul_add(s, A[l * m + w]);
            }
        }
    }
}

/// Rows `w0 .. w1` (whole groups of 8) of `dB[l, i] += Σ_w A[w, l] dC[w, i]` for `l` in
/// `l0 .. l0 + LW`, `i` in `i0 .. i0 + IW`: LW × IW accumulators of 8 lanes, loaded from and
/// stored back to the partial sums `P`.
#[inline(always)]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
fn at_dc_tile<const LW: usize, const IW: usize>(
    A: &[f64],
    dC: &[f64],
    P: &mut [[f64; LANES]],
    m: usize,
    k: usize,
    w0: usize,
    w1: usize,
    l0: usize,
    i0: usize,
) {
    let mut acc = [[[0.0f64; LANES]; IW]; LW];
    for a in 0..LW {
        for b in 0..IW {
            acc[a][b] = P[(i0 + b) * k + l0 + a];
        }
    }
    for w in (w0..w1).step_by(LANES) {
        let mut v = [[0.0f64; LANES]; LW];
        for a in 0..LW {
            v[a].copy_from_slice(&A[(l0 + a) * m + w..(l0 + a) * m + w + LANES]);
        }
        let mut d = [[0.0f64; LANES]; IW];
        for b in 0..IW {
            d[b].copy_from_slice(&dC[(i0 + b) * m + w..(i0 + b) * m + w + LANES]);
        }
        for a in 0..LW {
            for b in 0..IW {
                for q in 0..LANES {
                    acc[a][b][q] = v[a][q].mul_add(d[b][q], acc[a][b][q]);
                }
            }
        }
    }
    for a in 0..LW {
        for b in 0..IW {
            P[(i0 + b) * k + l0 + a] = acc[a][b];
        }
    }
}

/// Rows `r .. r + MR`, columns `l0 .. l0 + W` of `A ← A − lr dC Bᵀ`: `MR × W` accumulators of
/// `S = Σ_i dC[w, i] B[l, i]`, then `A[w, l] ← A[w, l] − lr S`.
#[inline(always)]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
fn update_tile<const MR: usize, const W: usize>(
    A: &mut [f64],
    dC: &[f64],
    B: &[f64],
    lr: f64,
    m: usize,
    ldb: usize,
    n: usize,
    r: usize,
    l0: usize,
) {
    let mut acc = [[0.0f64; MR]; W];
    for i in 0..n {
        let mut d = [0.0f64; MR];
        d.copy_from_slice(&dC[i * m + r..i * m + r + MR]);
        let b = &B[i * ldb + l0..i * ldb + l0 + W];
        for c in 0..W {
            for q in 0..MR {
                acc[c][q] = d[q].mul_add(b[c], acc[c][q]);
            }
        }
    }
    for c in 0..W {
        let a = &mut A[(l0 + c) * m + r..(l0 + c) * m + r + MR];
        for q in 0..MR {
            a[q] = (-lr).mul_add(acc[c][q], a[q]);
        }
    }
}

/// The plain loops of [`tall_backward_sgd`]: `dB` with the old `A`, each entry in the eight
/// lanes of the kernel, then the update; the same chains, so the same bits.
#[allow(clippy::too_many_arguments)]
pub fn tall_backward_sgd_ref(
    A: &mut [f64],
    dC: &[f64],
    B: &[f64],
    lr: f64,
    dB: &mut [f64],
    m: usize,
    k: usize,
    n: usize,
) {
    for i in 0..n {
        for l in 0..k {
            // dB[l, i] = Σ_w A[w, l] dC[w, i], row w into lane w mod 8
            let mut p = [0.0; LANES];
            for w in 0..m {
                p[w % LANES] = A[l * m + w].mul_add(dC[i * m + w], p[w % LANES]);
            }
            dB[i * k + l] = lanes_sum(&p);
        }
    }
    for l in 0..k {
        for w in 0..m {
            // A[w, l] ← A[w, l] − lr Σ_i dC[w, i] B[l, i]
            let mut s = 0.0;
            for i in 0..n {
                s = dC[i * m + w].mul_add(B[i * k + l], s);
            }
            A[l * m + w] = (-lr).mul_add(s, A[l * m + w]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{gemm, gemm_nt, gemm_tn};
    use nalgebra::DMatrix;

    fn random(rows: usize, cols: usize, seed: u64) -> DMatrix<f64> {
        let mut r = crate::rng::seeded(seed);
        DMatrix::from_fn(rows, cols, |_, _| crate::rng::uniform(&mut r, -1.0, 1.0))
    }

    /// Sizes that leave remainders everywhere: rows past the 16-, 8- and 2-row tiles and the
    /// 256-row blocks, columns past the 11-, 10-, 6- and 2-wide tiles.
    const SIZES: [(usize, usize, usize); 6] = [
        (1, 1, 1),
        (37, 13, 7),
        (600, 23, 21),
        (803, 100, 20),
        (8, 3, 45),
        (259, 11, 13),
    ];

    /// Every tile shape, called directly (no target features needed: `mul_add` is exact
    /// everywhere), so that the AVX-512 tiles are checked on a CPU without AVX-512 too.
    type GemmBody = fn(&[f64], &[f64], usize, &mut [f64], usize, usize, usize);
    type BackwardBody =
        fn(&mut [f64], &[f64], &[f64], usize, f64, &mut [[f64; LANES]], usize, usize, usize);
    const TILES: [(&str, GemmBody, BackwardBody); 3] = [
        ("baseline", gemm_body::<2>, backward_body::<4, 6, 1, 2>),
        ("avx2", gemm_body::<4>, backward_body::<8, 6, 2, 2>),
        ("avx512", gemm_body::<8>, backward_body::<16, 10, 4, 5>),
    ];

    #[test]
    fn every_tile_shape_equals_the_plain_loops_bit_for_bit() {
        for (m, k, n) in SIZES {
            let (A, H, dC) = (random(m, k, 1), random(k, n, 2), random(m, n, 3));
            let (Ht, lr) = (H.transpose(), 0.37);
            let mut C_ref = vec![0.0; m * n];
            tall_gemm_ref(A.as_slice(), Ht.as_slice(), &mut C_ref, m, k, n);
            let (mut A_ref, mut dB_ref) = (A.as_slice().to_vec(), vec![0.0; k * n]);
            tall_backward_sgd_ref(
                &mut A_ref,
                dC.as_slice(),
                H.as_slice(),
                lr,
                &mut dB_ref,
                m,
                k,
                n,
            );
            for (name, gemm_tiles, backward_tiles) in TILES {
                let mut C = vec![f64::NAN; m * n];
                gemm_tiles(A.as_slice(), Ht.as_slice(), n, &mut C, m, k, n);
                assert!(C == C_ref, "{name} C = A B at {m}×{k}×{n}");
                let (mut A1, mut dB) = (A.as_slice().to_vec(), vec![f64::NAN; k * n]);
                let mut P = vec![[f64::NAN; LANES]; k * n];
                backward_tiles(&mut A1, dC.as_slice(), H.as_slice(), k, lr, &mut P, m, k, n);
                add_partial_sums(&P, &mut dB, k, n, 0);
                assert!(dB == dB_ref, "{name} dB = Aᵀ dC at {m}×{k}×{n}");
                assert!(A1 == A_ref, "{name} A − lr dC Bᵀ at {m}×{k}×{n}");
            }
            // And the dispatched versions (whichever this CPU runs).
            let mut C = vec![f64::NAN; m * n];
            tall_gemm(A.as_slice(), Ht.as_slice(), &mut C, m, k, n);
            let (mut A1, mut dB) = (A.as_slice().to_vec(), vec![f64::NAN; k * n]);
            let mut P = vec![[f64::NAN; LANES]; k * n + 3];
            tall_backward_sgd(
                &mut A1,
                dC.as_slice(),
                H.as_slice(),
                lr,
                &mut dB,
                &mut P,
                m,
                k,
                n,
            );
            assert!(
                C == C_ref && dB == dB_ref && A1 == A_ref,
                "dispatched, {m}×{k}×{n}"
            );
        }
    }

    #[test]
    fn the_kernels_compute_the_products() {
        // Against matrixmultiply (another summation order): equal to rounding.
        for (m, k, n) in SIZES {
            let (A, H, dC) = (random(m, k, 4), random(k, n, 5), random(m, n, 6));
            let lr = 0.37;
            let mut C_mm = DMatrix::zeros(m, n);
            gemm(1.0, &A, &H, 0.0, &mut C_mm);
            let mut dB_mm = DMatrix::zeros(k, n);
            gemm_tn(1.0, &A, &dC, 0.0, &mut dB_mm);
            let mut A_mm = A.clone();
            gemm_nt(-lr, &dC, &H, 1.0, &mut A_mm);
            let mut C = vec![0.0; m * n];
            tall_gemm(A.as_slice(), H.transpose().as_slice(), &mut C, m, k, n);
            let (mut A1, mut dB) = (A.as_slice().to_vec(), vec![0.0; k * n]);
            let mut P = vec![[0.0; LANES]; k * n];
            tall_backward_sgd(
                &mut A1,
                dC.as_slice(),
                H.as_slice(),
                lr,
                &mut dB,
                &mut P,
                m,
                k,
                n,
            );
            for (ours, theirs, what) in [
                (&C, &C_mm, "C = A B"),
                (&dB, &dB_mm, "dB = Aᵀ dC"),
                (&A1, &A_mm, "A − lr dC Bᵀ"),
            ] {
                for (x, y) in ours.iter().zip(theirs.iter()) {
                    assert!(
                        (x - y).abs() <= 1e-13 * (1.0 + y.abs()),
                        "{what} {m}×{k}×{n}: {x} vs {y}"
                    );
                }
            }
        }
    }

    #[test]
    fn columns_computed_apart_equal_one_call_bit_for_bit() {
        // What the threads do: C by columns, the backward by columns of A, each part on its
        // own, in uneven parts, some empty.
        for (m, k, n) in [(803, 100, 20), (600, 23, 21), (37, 3, 2)] {
            let (A, Ht, dC) = (random(m, k, 4), random(n, k, 5), random(m, n, 6));
            let (H, lr) = (Ht.transpose(), 0.11);
            let mut C1 = vec![0.0; m * n];
            tall_gemm(A.as_slice(), Ht.as_slice(), &mut C1, m, k, n);
            let (mut dB1, mut P1) = (vec![0.0; k * n], vec![[0.0; LANES]; k * n]);
            let mut A1 = A.as_slice().to_vec();
            let (dC, H) = (dC.as_slice(), H.as_slice());
            tall_backward_sgd(&mut A1, dC, H, lr, &mut dB1, &mut P1, m, k, n);
            for cuts in [
                vec![0, n / 3, n],
                vec![0, 0, n, n],
                vec![0, 1, n / 2, n - 1, n],
            ] {
                let mut C = vec![f64::NAN; m * n];
                let mut rest = &mut C[..];
                for w in cuts.windows(2) {
                    let (part, tail) = rest.split_at_mut((w[1] - w[0]) * m);
                    tall_gemm_columns(A.as_slice(), Ht.as_slice(), part, m, k, n, w[0]);
                    rest = tail;
                }
                assert!(C == C1, "C by columns {cuts:?} at {m}×{k}×{n}");
            }
            for cuts in [vec![0, k / 2, k], vec![0, 0, k, k], vec![0, 1, k / 3, k]] {
                let (mut dB, mut P) = (vec![f64::NAN; k * n], vec![[f64::NAN; LANES]; k * n]);
                let mut A2 = A.as_slice().to_vec();
                let (mut rest_A, mut rest_P) = (&mut A2[..], &mut P[..]);
                for w in cuts.windows(2) {
                    let c = w[1] - w[0];
                    let (a, tail_A) = rest_A.split_at_mut(c * m);
                    let (p, tail_P) = rest_P.split_at_mut(c * n);
                    tall_backward_sgd_columns(a, dC, H, lr, p, m, k, n, w[0]);
                    add_partial_sums(p, &mut dB, k, n, w[0]);
                    (rest_A, rest_P) = (tail_A, tail_P);
                }
                assert!(
                    dB == dB1 && A2 == A1,
                    "backward by columns {cuts:?} at {m}×{k}×{n}"
                );
            }
        }
    }
}
