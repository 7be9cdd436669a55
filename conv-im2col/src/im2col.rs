//! im2col and col2im, exactly as the notes define them (§5, figures 14 and 15).
//!
//! **The matrix.** `im2col` turns a batch of N images of C × H × W into the matrix
//! `col` of shape (N·OH·OW) × (C·FH·FW): row r = (n·OH + oy)·OW + ox is one window position,
//! column k = (c·FH + fy)·FW + fx one filter tap, and
//!
//! ```text
//! col[r, k] = x_padded[n, c, S·oy + fy, S·ox + fx]      OH = (H + 2P − FH)/S + 1
//! ```
//!
//! (the notes print `H − 2·pad − FH`: a typo, the padding adds rows). `col[(r, k)]` in this
//! code is the number the notes print at row r, column k.
//!
//! **Memory layout.** nalgebra is column-major, so the same matrix is stored column by
//! column: the N·OH·OW values of one tap (c, fy, fx) are contiguous. numpy's row-major `col`
//! holds the same numbers transposed in memory. We keep the notes' orientation and let the
//! storage be column-major because then (a) im2col copies whole runs of an image row (OW
//! contiguous pixels when S = 1) into contiguous memory, and (b) every product the layer needs
//! reads `col` in place through matrixmultiply's strides: `col·Wᵀ` (forward), `doutᵀ·col` (dW),
//! `dout·W` (dcol), via `shared::kernels::{gemm_nt, gemm_tn, gemm}`. No transposed copy.
//!
//! **Images.** A batch is a `DMatrix` (C·H·W) × N with one example per column, pixels in
//! (c, y, x) row-major order inside the column: the memory of numpy's (N, C, H, W) array.
//!
//! `col2im` is the adjoint of `im2col`: it *adds* every entry of a (N·OH·OW) × (C·FH·FW)
//! matrix back onto the pixel it was copied from (entries of the zero padding are dropped).
//! So col2im(im2col(x)) = x ∘ multiplicity, not x, and ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩.

use nalgebra::DMatrix;
use shared::{Error, Result};

/// A sliding window over C × H × W inputs: FH × FW, stride S, zero padding P on H and W.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Channels C.
    pub c: usize,
    /// Input height H.
    pub h: usize,
    /// Input width W.
    pub w: usize,
    /// Window height FH.
    pub fh: usize,
    /// Window width FW.
    pub fw: usize,
    /// Stride S.
    pub stride: usize,
    /// Zero padding P (rows above and below, columns left and right).
    pub pad: usize,
}

impl Geometry {
    /// A window geometry; an error if a size is zero or the window does not fit the padded
    /// input.
    pub fn new(
        c: usize,
        h: usize,
        w: usize,
        fh: usize,
        fw: usize,
        stride: usize,
        pad: usize,
    ) -> Result<Self> {
        if c == 0 || h == 0 || w == 0 || fh == 0 || fw == 0 || stride == 0 {
            return Err(Error::msg(format!(
                "window geometry: sizes must be at least 1 (C {c}, H {h}, W {w}, FH {fh}, FW {fw}, stride {stride})"
            )));
        }
        if fh > h + 2 * pad || fw > w + 2 * pad {
            return Err(Error::msg(format!(
                "window geometry: a {fh}×{fw} window does not fit a {h}×{w} input padded by {pad}"
            )));
        }
        Ok(Geometry {
            c,
            h,
            w,
            fh,
            fw,
            stride,
            pad,
        })
    }

    /// OH = (H + 2P − FH)/S + 1 (floor division, as Saito's `//`).
    pub fn oh(&self) -> usize {
        (self.h + 2 * self.pad - self.fh) / self.stride + 1
    }

    /// OW = (W + 2P − FW)/S + 1.
    pub fn ow(&self) -> usize {
        (self.w + 2 * self.pad - self.fw) / self.stride + 1
    }

    /// Window positions per image, OH·OW (rows of `col` per example).
    pub fn windows(&self) -> usize {
        self.oh() * self.ow()
    }

    /// Taps per window, C·FH·FW (columns of `col`).
    pub fn taps(&self) -> usize {
        self.c * self.fh * self.fw
    }

    /// Values per input image, C·H·W (rows of an input batch).
    pub fn input_len(&self) -> usize {
        self.c * self.h * self.w
    }

    /// The (c, fy, fx) of column k of `col`: k = (c·FH + fy)·FW + fx.
    pub fn tap(&self, k: usize) -> (usize, usize, usize) {
        (
            k / (self.fh * self.fw),
            (k / self.fw) % self.fh,
            k % self.fw,
        )
    }

    /// For tap column fx: the range of ox whose input column S·ox + fx − P lies inside
    /// [0, W); outside it the window reads the zero padding.
    fn ox_range(&self, fx: usize) -> (usize, usize) {
        let (s, p, ow) = (self.stride, self.pad, self.ow());
        let lo = if fx >= p { 0 } else { (p - fx).div_ceil(s) }.min(ow);
        let hi = if self.w + p > fx {
            ((self.w - 1 + p - fx) / s + 1).min(ow)
        } else {
            0
        };
        (lo, hi.max(lo))
    }
}

/// Resizes `m` to rows × cols if its shape differs (allocating only then).
pub(crate) fn ensure_shape(m: &mut DMatrix<f64>, rows: usize, cols: usize) {
    if m.shape() != (rows, cols) {
        *m = DMatrix::zeros(rows, cols);
    }
}

/// im2col of a batch `x` ((C·H·W) × N) into `col` ((N·OH·OW) × (C·FH·FW)), resized if needed.
pub fn im2col_into(x: &DMatrix<f64>, g: &Geometry, col: &mut DMatrix<f64>) {
    assert_eq!(x.nrows(), g.input_len(), "im2col: x must be (C·H·W) × N");
    let (n_img, oh, ow) = (x.ncols(), g.oh(), g.ow());
    let (s, p, hw) = (g.stride, g.pad, g.h * g.w);
    let rows = n_img * oh * ow;
    ensure_shape(col, rows, g.taps());
    let x = x.as_slice();
    // Column k of col (contiguous in memory) gathers tap (c, fy, fx) of every window.
    for (k, col_k) in col.as_mut_slice().chunks_exact_mut(rows).enumerate() {
        let (c, fy, fx) = g.tap(k);
        let (lo, hi) = g.ox_range(fx);
        for n in 0..n_img {
            let image = &x[n * g.input_len() + c * hw..][..hw];
            for oy in 0..oh {
                // col[(n, oy, ox), (c, fy, fx)] = x_padded[n, c, S·oy + fy, S·ox + fx]
                let dst = &mut col_k[(n * oh + oy) * ow..][..ow];
                let y = s * oy + fy;
                if y < p || y - p >= g.h {
                    dst.fill(0.0);
                    continue;
                }
                let row = &image[(y - p) * g.w..][..g.w];
                dst[..lo].fill(0.0);
                dst[hi..].fill(0.0);
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

/// im2col of a batch `x` ((C·H·W) × N): a new (N·OH·OW) × (C·FH·FW) matrix.
pub fn im2col(x: &DMatrix<f64>, g: &Geometry) -> DMatrix<f64> {
    let mut col = DMatrix::zeros(0, 0);
    im2col_into(x, g, &mut col);
    col
}

/// col2im: the adjoint of im2col. Every entry of `col` ((N·OH·OW) × (C·FH·FW)) is *added* to
/// the pixel it was copied from; `dx` becomes (C·H·W) × N (resized if needed, overwritten).
/// In backprop: dx = col2im(dcol), the notes' "sum of the dcol values wherever the pixel
/// appears".
pub fn col2im_into(col: &DMatrix<f64>, g: &Geometry, dx: &mut DMatrix<f64>) {
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
    dx.fill(0.0);
    let dx = dx.as_mut_slice();
    for (k, col_k) in col.as_slice().chunks_exact(rows).enumerate() {
        let (c, fy, fx) = g.tap(k);
        let (lo, hi) = g.ox_range(fx);
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
                        *d += v;
                    }
                } else {
                    for (ox, v) in src.iter().enumerate().take(hi).skip(lo) {
                        row[s * ox + fx - p] += v;
                    }
                }
            }
        }
    }
}

/// col2im of `col` ((N·OH·OW) × (C·FH·FW)): a new (C·H·W) × N matrix.
pub fn col2im(col: &DMatrix<f64>, g: &Geometry) -> DMatrix<f64> {
    let mut dx = DMatrix::zeros(0, 0);
    col2im_into(col, g, &mut dx);
    dx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_sizes_and_errors() {
        let g = Geometry::new(3, 7, 7, 5, 5, 1, 0).unwrap();
        assert_eq!((g.oh(), g.ow(), g.windows(), g.taps()), (3, 3, 9, 75));
        // Saito's floor: (28 + 2 − 5)/2 + 1 = 13.
        let g = Geometry::new(1, 28, 28, 5, 5, 2, 1).unwrap();
        assert_eq!(g.oh(), 13);
        assert!(Geometry::new(1, 4, 4, 5, 5, 1, 0).is_err());
        assert!(Geometry::new(1, 4, 4, 2, 2, 0, 0).is_err());
        assert_eq!(
            Geometry::new(3, 7, 7, 5, 5, 1, 0).unwrap().tap(37),
            (1, 2, 2)
        );
    }

    #[test]
    fn padded_taps_read_zero() {
        // 1×2×2 input 1 2 / 3 4, 2×2 window, pad 1, stride 1: 3×3 windows; the centre one
        // sees the whole image, the corner one only the pixel 1 at its bottom-right tap.
        let g = Geometry::new(1, 2, 2, 2, 2, 1, 1).unwrap();
        let x = DMatrix::from_column_slice(4, 1, &[1.0, 2.0, 3.0, 4.0]);
        let col = im2col(&x, &g);
        assert_eq!(col.shape(), (9, 4));
        assert_eq!(
            col.row(4).iter().copied().collect::<Vec<_>>(),
            [1., 2., 3., 4.]
        );
        assert_eq!(
            col.row(0).iter().copied().collect::<Vec<_>>(),
            [0., 0., 0., 1.]
        );
        assert_eq!(
            col.row(8).iter().copied().collect::<Vec<_>>(),
            [4., 0., 0., 0.]
        );
        // Each pixel appears in 4 windows: col2im(im2col(x)) = 4x.
        assert_eq!(col2im(&col, &g), &x * 4.0);
    }
}
