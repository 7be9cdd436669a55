//! The products with the output weights `V` (N_x × N_h) of one SGD step, written for their thin
//! shapes: `N_x` = 8000 rows, `N_h` = 100 columns, a sentence of `T` ≈ 20 tokens.
//!
//! ```text
//! Y ← V H                  N_x × N_h · N_h × T    the scores V h_i of every step        (forward)
//! Z ← Vᵀ (Y − T)           N_h × N_x · N_x × T    Vᵀ (y_i − t_i) of every step          (backward)
//! V ← V − lr (Y − T) Hᵀ    N_x × T · T × N_h      dV = Σ_i (y_i − t_i) h_iᵀ, into V     (update)
//! ```
//!
//! matrixmultiply (behind `shared::kernels`) copies its left operand into packed panels before
//! multiplying; for `V H` and `Vᵀ (Y − T)` that operand is all of V (6.4 MB), copied for only
//! T = 20 columns of work, and T = 20 fills two and a half of its 8-column tiles. Measured on
//! this machine (fastest of 400, T = 20): `V H` 0.91 ms (35 GFLOP/s), `Vᵀ (Y − T)` 0.97 ms
//! (33 GFLOP/s), the update 0.68 ms (47 GFLOP/s), against 54.5 GFLOP/s for a 256³ product.
//! These kernels read V in place (no packing), cover T exactly (tiles of 1 to 12 columns), and
//! do the backward product and the update in one pass over V, block by block, while a block
//! of V is still in the L2 cache.
//!
//! ## Same numbers on every machine
//! Each kernel body is compiled three times (AVX-512, AVX2 + FMA, and plain x86-64 or any other
//! target) and picked at run time; the tiles differ, the arithmetic does not:
//! - `Y[w, j]` = the fused multiply-add chain `Σ_l V[w, l] H[l, j]` in order l = 0, 1, …;
//! - `Z[l, i]` = eight partial sums, partial q running over the rows w ≡ q (mod 8) in order,
//!   added as ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7));
//! - `V[w, l] ← V[w, l] − lr S` with one rounding, `S` = the chain `Σ_i dY[w, i] H[l, i]`.
//!
//! `f64::mul_add` is exactly rounded on every target (an FMA instruction where the CPU has
//! one, else libm's `fma`), so all three versions give bit-identical results (a test checks it).
//!
//! ## Parts on their own
//! [`scores_columns`] computes some columns of Y (time steps), [`output_backward_columns`] some
//! columns of V (hidden units) with their rows of Z's partial sums, [`add_partial_sums`] adds
//! those up: the chains above do not depend on how Y or V is cut, so the parts computed apart
//! (on several threads, [`crate::parallel`]) are bit-identical to one call (a test checks it).

/// Lanes of the partial sums of `Vᵀ (Y − T)`: fixed, so that the sums do not depend on the CPU.
pub const LANES: usize = 8;

/// Rows of V per block of the backward pass: a 256 × 100 block (200 KB) stays in L2 between
/// the product that reads it and the update that writes it.
const BLOCK: usize = 256;

/// Expands `$body` with `$W` a `const usize` equal to `$w` (1 ..= 12): the tile widths are
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
            11 => { const $W: usize = 11; $body }
            _ => { const $W: usize = 12; $body }
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
// - `Y = V H`: MR rows × up to 12 columns; AVX-512 8 × 12 (12 of its 32 registers of 8 lanes),
//   AVX2 4 × 12 (12 of 16 registers of 4 lanes), portable 2 × 12 (SSE2: 12 of 16 of 2 lanes).
//   T is cut into equal chunks of at most 12 columns (T = 20: 10 + 10).
// - `Vᵀ dY`: A × B accumulators of 8 lanes; AVX-512 4 × 5, AVX2 2 × 2, portable 1 × 2.
// - the update: MR rows × C columns; AVX-512 16 × 10, AVX2 8 × 6, portable 4 × 6.

// ---------------------------------------------------------------------------------------------
// Y ← V H

/// `Y ← V H` for column-major `V` (m × k) and `Y` (m × n), with H given transposed: `Ht` is
/// `Hᵀ` column-major (n × k), so `Ht[l·n + j] = H[l, j]` and the n entries of H used at step l
/// are side by side. `m = N_x`, `k = N_h`, `n = T`.
pub fn scores(V: &[f64], Ht: &[f64], Y: &mut [f64], m: usize, k: usize, n: usize) {
    scores_columns(V, Ht, Y, m, k, n, 0)
}

/// Columns `j0 .. j0 + c` of `Y ← V H` ([`scores`]), `c = Y.len() / m`: `Y` holds just those
/// columns (m × c, contiguous in column-major order), `Ht` is all of `Hᵀ` (n × k). Each entry is
/// the same chain as in [`scores`], so columns computed apart (e.g. on two threads) are
/// bit-identical to one call.
pub fn scores_columns(
    V: &[f64],
    Ht: &[f64],
    Y: &mut [f64],
    m: usize,
    k: usize,
    n: usize,
    j0: usize,
) {
    let c = Y.len().checked_div(m).unwrap_or(0);
    assert!(
        V.len() == m * k && Ht.len() == k * n && Y.len() == m * c && j0 + c <= n,
        "scores: shapes"
    );
    let Ht = &Ht[j0.min(Ht.len())..]; // Ht[l·n + j] = H[l, j0 + j]
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (and with it FMA), checked on the line above.
            return unsafe { scores_avx512(V, Ht, n, Y, m, k, c) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA, checked on the line above.
            return unsafe { scores_avx2(V, Ht, n, Y, m, k, c) };
        }
    }
    scores_body::<2>(V, Ht, n, Y, m, k, c)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
#[allow(clippy::too_many_arguments)]
fn scores_avx512(V: &[f64], Ht: &[f64], ldh: usize, Y: &mut [f64], m: usize, k: usize, n: usize) {
    scores_body::<8>(V, Ht, ldh, Y, m, k, n)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
fn scores_avx2(V: &[f64], Ht: &[f64], ldh: usize, Y: &mut [f64], m: usize, k: usize, n: usize) {
    scores_body::<4>(V, Ht, ldh, Y, m, k, n)
}

/// Columns of Y per tile of [`scores`].
const SCORES_COLS: usize = 12;

/// `n` columns of Y; `Ht[l·ldh + j] = H[l, j]`.
#[inline(always)]
fn scores_body<const MR: usize>(
    V: &[f64],
    Ht: &[f64],
    ldh: usize,
    Y: &mut [f64],
    m: usize,
    k: usize,
    n: usize,
) {
    let chunks = n.div_ceil(SCORES_COLS);
    let rows = m - m % MR;
    for r in (0..rows).step_by(MR) {
        let mut j0 = 0;
        for q in 0..chunks {
            let c = (n - j0) / (chunks - q); // equal chunks: T = 20 is 10 + 10
            const_width!(c, W => scores_tile::<MR, W>(V, Ht, Y, m, k, ldh, r, j0));
            j0 += c;
        }
    }
    for w in rows..m {
        for j in 0..n {
            // (V h_j)[w] = Σ_l V[w, l] h_j[l]
            let mut s = 0.0;
            for l in 0..k {
                s = V[l * m + w].mul_add(Ht[l * ldh + j], s);
            }
            Y[j * m + w] = s;
        }
    }
}

/// Rows `r .. r + MR`, columns `j0 .. j0 + C` of `Y = V H`: `MR × C` accumulators; per step l
/// one column of V (MR values) and C broadcast entries of H (`Ht[l·ldh + j] = H[l, j]`).
#[inline(always)]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
fn scores_tile<const MR: usize, const C: usize>(
    V: &[f64],
    Ht: &[f64],
    Y: &mut [f64],
    m: usize,
    k: usize,
    ldh: usize,
    r: usize,
    j0: usize,
) {
    let mut acc = [[0.0f64; MR]; C];
    for l in 0..k {
        let mut v = [0.0f64; MR];
        v.copy_from_slice(&V[l * m + r..l * m + r + MR]);
        let h = &Ht[l * ldh + j0..l * ldh + j0 + C];
        for c in 0..C {
            for q in 0..MR {
                acc[c][q] = v[q].mul_add(h[c], acc[c][q]);
            }
        }
    }
    for c in 0..C {
        Y[(j0 + c) * m + r..(j0 + c) * m + r + MR].copy_from_slice(&acc[c]);
    }
}

// ---------------------------------------------------------------------------------------------
// Z ← Vᵀ dY, then V ← V − lr dY Hᵀ

/// `Z ← Vᵀ dY`, then `V ← V − lr dY Hᵀ`, for column-major `V` (m × k), `dY` (m × n), `H`
/// (k × n) and `Z` (k × n), in one pass over V: each block of rows is read by the product before
/// the update changes it, so Z is computed with the old V. `P` is scratch for the partial sums,
/// at least k·n long.
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
) {
    assert!(
        Z.len() == k * n && P.len() >= k * n,
        "output_backward: shapes"
    );
    let P = &mut P[..k * n];
    output_backward_columns(V, dY, H, lr, P, m, k, n, 0);
    add_partial_sums(P, Z, k, n, 0);
}

/// [`output_backward`] on columns `l0 .. l0 + c` of V (hidden units), `c = V.len() / m`: `V`
/// holds just those columns (m × c, contiguous in column-major order), `dY` and `H` are whole,
/// and `P` (c·n long) receives the partial sums of rows `l0 .. l0 + c` of `Z = Vᵀ dY`
/// (`P[i·c + l]` for `Z[l0 + l, i]`; [`add_partial_sums`] adds them up). Every entry of Z and
/// of V is computed by the same chain as in one call over all columns, so parts computed apart
/// (e.g. on two threads) give bit-identical results.
#[allow(clippy::too_many_arguments)]
pub fn output_backward_columns(
    V: &mut [f64],
    dY: &[f64],
    H: &[f64],
    lr: f64,
    P: &mut [[f64; LANES]],
    m: usize,
    k: usize,
    n: usize,
    l0: usize,
) {
    let c = V.len().checked_div(m).unwrap_or(0);
    assert!(
        V.len() == m * c
            && l0 + c <= k
            && dY.len() == m * n
            && H.len() == k * n
            && P.len() == c * n,
        "output_backward: shapes"
    );
    let H = &H[l0.min(H.len())..]; // H[i·k + l] = H[l0 + l, i]
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (and with it FMA), checked on the line above.
            return unsafe { backward_avx512(V, dY, H, k, lr, P, m, c, n) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA, checked on the line above.
            return unsafe { backward_avx2(V, dY, H, k, lr, P, m, c, n) };
        }
    }
    backward_body::<4, 6, 1, 2>(V, dY, H, k, lr, P, m, c, n)
}

/// `Z[l0 + l, i] = Σ_q P[i·c + l][q]` for the `c = P.len() / n` rows of Z (k × n) whose partial
/// sums [`output_backward_columns`] left in `P`, added in a fixed order:
/// ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7)).
pub fn add_partial_sums(P: &[[f64; LANES]], Z: &mut [f64], k: usize, n: usize, l0: usize) {
    let c = P.len().checked_div(n).unwrap_or(0);
    assert!(
        Z.len() == k * n && P.len() == c * n && l0 + c <= k,
        "add_partial_sums: shapes"
    );
    for i in 0..n {
        let z = &mut Z[i * k + l0..i * k + l0 + c];
        for (z, p) in z.iter_mut().zip(&P[i * c..(i + 1) * c]) {
            *z = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
#[allow(clippy::too_many_arguments)]
fn backward_avx512(
    V: &mut [f64],
    dY: &[f64],
    H: &[f64],
    ldh: usize,
    lr: f64,
    P: &mut [[f64; LANES]],
    m: usize,
    k: usize,
    n: usize,
) {
    backward_body::<16, 10, 4, 5>(V, dY, H, ldh, lr, P, m, k, n)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
fn backward_avx2(
    V: &mut [f64],
    dY: &[f64],
    H: &[f64],
    ldh: usize,
    lr: f64,
    P: &mut [[f64; LANES]],
    m: usize,
    k: usize,
    n: usize,
) {
    backward_body::<8, 6, 2, 2>(V, dY, H, ldh, lr, P, m, k, n)
}

/// The `k` columns of V that `V` holds (m × k), `H[i·ldh + l]` = row l of those columns' part of
/// H, the partial sums into `P` (k × n).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn backward_body<const MR: usize, const C: usize, const LB: usize, const IB: usize>(
    V: &mut [f64],
    dY: &[f64],
    H: &[f64],
    ldh: usize,
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
        // Z = Vᵀ (Y − T) = Σ_w V[w, :]ᵀ dY[w, :]: this block's rows, 8 at a time.
        let v1 = w1.min(full);
        if v1 > w0 {
            for l0 in (0..k).step_by(LB) {
                let lb = (k - l0).min(LB);
                for i0 in (0..n).step_by(IB) {
                    let ib = (n - i0).min(IB);
                    const_width5!(lb, A => const_width5!(ib, B =>
                        vt_dy_tile::<A, B>(V, dY, P, m, k, w0, v1, l0, i0)));
                }
            }
        }
        for w in v1..w1 {
            // The last rows (fewer than 8) go to the partial sum of their lane.
            for i in 0..n {
                for l in 0..k {
                    let p = &mut P[i * k + l][w % LANES];
                    *p = V[l * m + w].mul_add(dY[i * m + w], *p);
                }
            }
        }
        // V ← V − lr dY Hᵀ on the same rows, now that the product has read them.
        {
            let rows = w0 + (w1 - w0) / MR * MR;
            for r in (w0..rows).step_by(MR) {
                let mut l0 = 0;
                while l0 < k {
                    let c = (k - l0).min(C);
                    const_width!(c, W => update_tile::<MR, W>(V, dY, H, lr, m, ldh, n, r, l0));
                    l0 += c;
                }
            }
            for w in rows..w1 {
                for l in 0..k {
                    // dV[w, l] = Σ_i (y_i − t_i)[w] h_i[l]
                    let mut s = 0.0;
                    for i in 0..n {
                        s = dY[i * m + w].mul_add(H[i * ldh + l], s);
                    }
                    V[l * m + w] = (-lr).mul_add(s, V[l * m + w]);
                }
            }
        }
    }
}

/// Rows `w0 .. w1` (whole groups of 8) of `Z[l, i] += Σ_w V[w, l] dY[w, i]` for `l` in
/// `l0 .. l0 + A`, `i` in `i0 .. i0 + B`: A × B accumulators of 8 lanes, loaded from and stored
/// back to the partial sums `P`.
#[inline(always)]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
fn vt_dy_tile<const A: usize, const B: usize>(
    V: &[f64],
    dY: &[f64],
    P: &mut [[f64; LANES]],
    m: usize,
    k: usize,
    w0: usize,
    w1: usize,
    l0: usize,
    i0: usize,
) {
    let mut acc = [[[0.0f64; LANES]; B]; A];
    for a in 0..A {
        for b in 0..B {
            acc[a][b] = P[(i0 + b) * k + l0 + a];
        }
    }
    for w in (w0..w1).step_by(LANES) {
        let mut v = [[0.0f64; LANES]; A];
        for a in 0..A {
            v[a].copy_from_slice(&V[(l0 + a) * m + w..(l0 + a) * m + w + LANES]);
        }
        let mut d = [[0.0f64; LANES]; B];
        for b in 0..B {
            d[b].copy_from_slice(&dY[(i0 + b) * m + w..(i0 + b) * m + w + LANES]);
        }
        for a in 0..A {
            for b in 0..B {
                for q in 0..LANES {
                    acc[a][b][q] = v[a][q].mul_add(d[b][q], acc[a][b][q]);
                }
            }
        }
    }
    for a in 0..A {
        for b in 0..B {
            P[(i0 + b) * k + l0 + a] = acc[a][b];
        }
    }
}

/// Rows `r .. r + MR`, columns `l0 .. l0 + C` of `V ← V − lr dY Hᵀ`: `MR × C` accumulators of
/// `S = Σ_i dY[w, i] H[l, i]`, then `V[w, l] ← V[w, l] − lr S`.
#[inline(always)]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
fn update_tile<const MR: usize, const C: usize>(
    V: &mut [f64],
    dY: &[f64],
    H: &[f64],
    lr: f64,
    m: usize,
    ldh: usize,
    n: usize,
    r: usize,
    l0: usize,
) {
    let mut acc = [[0.0f64; MR]; C];
    for i in 0..n {
        let mut d = [0.0f64; MR];
        d.copy_from_slice(&dY[i * m + r..i * m + r + MR]);
        let h = &H[i * ldh + l0..i * ldh + l0 + C];
        for c in 0..C {
            for q in 0..MR {
                acc[c][q] = d[q].mul_add(h[c], acc[c][q]);
            }
        }
    }
    for c in 0..C {
        let v = &mut V[(l0 + c) * m + r..(l0 + c) * m + r + MR];
        for q in 0..MR {
            v[q] = (-lr).mul_add(acc[c][q], v[q]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;
    use shared::kernels::{gemm, gemm_nt, gemm_tn};

    fn random(rows: usize, cols: usize, seed: u64) -> DMatrix<f64> {
        let mut r = shared::rng::seeded(seed);
        DMatrix::from_fn(rows, cols, |_, _| shared::rng::uniform(&mut r, -1.0, 1.0))
    }

    /// Every kernel version this CPU can run, by name.
    fn versions() -> Vec<&'static str> {
        let mut v = vec!["portable"];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                v.push("avx2");
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                v.push("avx512");
            }
        }
        v
    }

    fn scores_with(
        version: &str,
        V: &[f64],
        Ht: &[f64],
        Y: &mut [f64],
        m: usize,
        k: usize,
        n: usize,
    ) {
        match version {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `versions` lists only what this CPU supports.
            "avx512" => unsafe { scores_avx512(V, Ht, n, Y, m, k, n) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            "avx2" => unsafe { scores_avx2(V, Ht, n, Y, m, k, n) },
            _ => scores_body::<2>(V, Ht, n, Y, m, k, n),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn backward_with(
        version: &str,
        V: &mut [f64],
        dY: &[f64],
        H: &[f64],
        lr: f64,
        Z: &mut [f64],
        P: &mut [[f64; LANES]],
        m: usize,
        k: usize,
        n: usize,
    ) {
        let P = &mut P[..k * n];
        match version {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `versions` lists only what this CPU supports.
            "avx512" => unsafe { backward_avx512(V, dY, H, k, lr, P, m, k, n) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            "avx2" => unsafe { backward_avx2(V, dY, H, k, lr, P, m, k, n) },
            _ => backward_body::<4, 6, 1, 2>(V, dY, H, k, lr, P, m, k, n),
        }
        add_partial_sums(P, Z, k, n, 0);
    }

    #[test]
    fn kernels_match_matrixmultiply_and_agree_bit_for_bit_across_instruction_sets() {
        // Sizes that leave remainders everywhere: rows past the 16- and 8-row tiles and the
        // 256-row blocks, columns past the 10-, 6- and 2-wide tiles.
        for (m, k, n) in [
            (1, 1, 1),
            (37, 13, 7),
            (600, 23, 21),
            (803, 100, 20),
            (8, 3, 45),
        ] {
            let V = random(m, k, 1);
            let H = random(k, n, 2);
            let dY = random(m, n, 3);
            let lr = 0.37;
            // References: shared::kernels (matrixmultiply).
            let mut Y_ref = DMatrix::zeros(m, n);
            gemm(1.0, &V, &H, 0.0, &mut Y_ref);
            let mut Z_ref = DMatrix::zeros(k, n);
            gemm_tn(1.0, &V, &dY, 0.0, &mut Z_ref);
            let mut V_ref = V.clone();
            gemm_nt(-lr, &dY, &H, 1.0, &mut V_ref);

            let mut first: Option<(Vec<f64>, Vec<f64>, Vec<f64>)> = None;
            for version in versions() {
                let mut Y = vec![f64::NAN; m * n];
                scores_with(
                    version,
                    V.as_slice(),
                    H.transpose().as_slice(),
                    &mut Y,
                    m,
                    k,
                    n,
                );
                let mut P = vec![[f64::NAN; LANES]; k * n + 3];
                let mut Z = vec![f64::NAN; k * n];
                let mut V1 = V.as_slice().to_vec();
                let (dY, H) = (dY.as_slice(), H.as_slice());
                backward_with(version, &mut V1, dY, H, lr, &mut Z, &mut P, m, k, n);
                let close = |a: &[f64], b: &[f64], what: &str| {
                    for (x, y) in a.iter().zip(b) {
                        assert!(
                            (x - y).abs() <= 1e-13 * (1.0 + y.abs()),
                            "{version} {what} {m}×{k}×{n}: {x} vs {y}"
                        );
                    }
                };
                close(&Y, Y_ref.as_slice(), "Y = V H");
                close(&Z, Z_ref.as_slice(), "Z = Vᵀ dY (with the old V)");
                close(&V1, V_ref.as_slice(), "V − lr dY Hᵀ");
                let all = (Y, Z, V1);
                match &first {
                    None => first = Some(all),
                    Some(f) => assert!(*f == all, "{version} differs from portable at {m}×{k}×{n}"),
                }
            }
        }
    }

    #[test]
    fn columns_computed_apart_equal_one_call_bit_for_bit() {
        // What the threads of `parallel` do: Y by columns (time steps), the backward by columns
        // of V (hidden units), each part on its own, in uneven parts, some empty.
        for (m, k, n) in [(803, 100, 20), (600, 23, 21), (37, 3, 2)] {
            let V = random(m, k, 4);
            let Ht = random(n, k, 5);
            let H = Ht.transpose();
            let dY = random(m, n, 6);
            let lr = 0.11;
            let mut Y1 = vec![0.0; m * n];
            scores(V.as_slice(), Ht.as_slice(), &mut Y1, m, k, n);
            let (mut Z1, mut P1) = (vec![0.0; k * n], vec![[0.0; LANES]; k * n]);
            let mut V1 = V.as_slice().to_vec();
            output_backward(
                &mut V1,
                dY.as_slice(),
                H.as_slice(),
                lr,
                &mut Z1,
                &mut P1,
                m,
                k,
                n,
            );
            for cuts in [
                vec![0, n / 3, n],
                vec![0, 0, n, n],
                vec![0, 1, n / 2, n - 1, n],
            ] {
                let mut Y = vec![f64::NAN; m * n];
                let mut rest = &mut Y[..];
                for w in cuts.windows(2) {
                    let (part, tail) = rest.split_at_mut((w[1] - w[0]) * m);
                    scores_columns(V.as_slice(), Ht.as_slice(), part, m, k, n, w[0]);
                    rest = tail;
                }
                assert!(Y == Y1, "Y by columns {cuts:?} at {m}×{k}×{n}");
            }
            for cuts in [vec![0, k / 2, k], vec![0, 0, k, k], vec![0, 1, k / 3, k]] {
                let (mut Z, mut P) = (vec![f64::NAN; k * n], vec![[f64::NAN; LANES]; k * n]);
                let mut V2 = V.as_slice().to_vec();
                let (mut rest_V, mut rest_P) = (&mut V2[..], &mut P[..]);
                for w in cuts.windows(2) {
                    let c = w[1] - w[0];
                    let (v, tail_V) = rest_V.split_at_mut(c * m);
                    let (p, tail_P) = rest_P.split_at_mut(c * n);
                    output_backward_columns(v, dY.as_slice(), H.as_slice(), lr, p, m, k, n, w[0]);
                    add_partial_sums(p, &mut Z, k, n, w[0]);
                    (rest_V, rest_P) = (tail_V, tail_P);
                }
                assert!(
                    Z == Z1 && V2 == V1,
                    "backward by columns {cuts:?} at {m}×{k}×{n}"
                );
            }
        }
    }
}
