//! The engine's im2col and col2im: the same matrices as [`crate::model::im2col()`] and
//! [`crate::model::col2im`] (a test checks they are equal, bit for bit), written into
//! buffers that are reused from batch to batch.
//!
//! **Memory layout.** nalgebra is column-major, so `col`, (N·OH·OW) × (C·FH·FW), is stored
//! column by column: the N·OH·OW values of one tap (c, fy, fx) are contiguous. numpy's
//! row-major `col` holds the same numbers transposed in memory. We keep the notes' orientation
//! and let the storage be column-major because then (a) im2col copies whole runs of an image
//! row (OW contiguous pixels when S = 1) into contiguous memory, and (b) every product the
//! layer needs reads `col` in place through the kernels' strides: `W·colᵀ` (forward),
//! `dA·col` (dW), `dAᵀ·W` (dcol), via `shared::kernels::{gemm_nt, gemm, gemm_tn}`. No
//! transposed copy.

use super::Float;
use crate::model::Geometry;
use nalgebra::DMatrix;

/// For tap column fx: the range of ox whose input column S·ox + fx − P lies inside
/// [0, W); outside it the window reads the zero padding.
fn ox_range(g: &Geometry, fx: usize) -> (usize, usize) {
    let (s, p, ow) = (g.stride, g.pad, g.ow());
    let lo = if fx >= p { 0 } else { (p - fx).div_ceil(s) }.min(ow);
    let hi = if g.w + p > fx {
        ((g.w - 1 + p - fx) / s + 1).min(ow)
    } else {
        0
    };
    (lo, hi.max(lo))
}

/// Resizes `m` to rows × cols if its shape differs (allocating only then).
pub fn ensure_shape<T: Float>(m: &mut DMatrix<T>, rows: usize, cols: usize) {
    if m.shape() != (rows, cols) {
        *m = DMatrix::zeros(rows, cols);
    }
}

/// im2col of a batch `x` ((C·H·W) × N) into `col` ((N·OH·OW) × (C·FH·FW)), resized if needed.
pub fn im2col_into<T: Float>(x: &DMatrix<T>, g: &Geometry, col: &mut DMatrix<T>) {
    assert_eq!(x.nrows(), g.input_len(), "im2col: x must be (C·H·W) × N");
    let (n_img, oh, ow) = (x.ncols(), g.oh(), g.ow());
    let (s, p, hw) = (g.stride, g.pad, g.h * g.w);
    let rows = n_img * oh * ow;
    ensure_shape(col, rows, g.taps());
    let x = x.as_slice();
    // Column k of col (contiguous in memory) gathers tap (c, fy, fx) of every window.
    for (k, col_k) in col.as_mut_slice().chunks_exact_mut(rows).enumerate() {
        let (c, fy, fx) = g.tap(k);
        let (lo, hi) = ox_range(g, fx);
        for n in 0..n_img {
            let image = &x[n * g.input_len() + c * hw..][..hw];
            for oy in 0..oh {
                // col[(n, oy, ox), (c, fy, fx)] = x_padded[n, c, S·oy + fy, S·ox + fx]
                let dst = &mut col_k[(n * oh + oy) * ow..][..ow];
                let y = s * oy + fy;
                if y < p || y - p >= g.h {
                    dst.fill(T::zero());
                    continue;
                }
                let row = &image[(y - p) * g.w..][..g.w];
                dst[..lo].fill(T::zero());
                dst[hi..].fill(T::zero());
                if s == 1 {
                    let x0 = lo + fx - p;
                    dst[lo..hi].copy_from_slice(&row[x0..x0 + (hi - lo)]);
                } else {
                    for (ox, d) in dst.iter_mut().enumerate().take(hi).skip(lo) {
                        *d = row[s * ox + fx - p];
                    }
                }
            }
        }
    }
}

/// col2im: the adjoint of im2col. Every entry of `col` ((N·OH·OW) × (C·FH·FW)) is *added* to
/// the pixel it was copied from; `dx` becomes (C·H·W) × N (resized if needed, overwritten).
/// In backprop: dx = col2im(dcol), the notes' "sum of the dcol values wherever the pixel
/// appears".
pub fn col2im_into<T: Float>(col: &DMatrix<T>, g: &Geometry, dx: &mut DMatrix<T>) {
    let (oh, ow) = (g.oh(), g.ow());
    assert_eq!(
        col.ncols(),
        g.taps(),
        "col2im: col must have C·FH·FW columns"
    );
    assert_eq!(col.nrows() % (oh * ow), 0, "col2im: rows must be N·OH·OW");
    let rows = col.nrows();
    let n_img = rows / (oh * ow);
    let (s, p, hw) = (g.stride, g.pad, g.h * g.w);
    ensure_shape(dx, g.input_len(), n_img);
    dx.fill(T::zero());
    let dx = dx.as_mut_slice();
    for (k, col_k) in col.as_slice().chunks_exact(rows).enumerate() {
        let (c, fy, fx) = g.tap(k);
        let (lo, hi) = ox_range(g, fx);
        for n in 0..n_img {
            let image = &mut dx[n * g.input_len() + c * hw..][..hw];
            for oy in 0..oh {
                let y = s * oy + fy;
                if y < p || y - p >= g.h {
                    continue; // read from the padding: nothing to give back
                }
                // dx[n, c, S·oy + fy − P, S·ox + fx − P] += dcol[(n, oy, ox), (c, fy, fx)]
                let src = &col_k[(n * oh + oy) * ow..][..ow];
                let row = &mut image[(y - p) * g.w..][..g.w];
                if s == 1 {
                    let x0 = lo + fx - p;
                    for (d, v) in row[x0..x0 + (hi - lo)].iter_mut().zip(&src[lo..hi]) {
                        *d += *v;
                    }
                } else {
                    for (ox, v) in src.iter().enumerate().take(hi).skip(lo) {
                        row[s * ox + fx - p] += *v;
                    }
                }
            }
        }
    }
}
