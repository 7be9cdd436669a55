//! im2col and col2im, as the notes define them (§5, figures 14 and 15).
//!
//! `im2col` turns a batch of N images of C × H × W into the matrix `col` of shape
//! (N·OH·OW) × (C·FH·FW): row r = (n·OH + oy)·OW + ox is one window position, column
//! k = (c·FH + fy)·FW + fx one filter tap, and
//!
//! ```text
//! col[r, k] = x_padded[n, c, S·oy + fy, S·ox + fx]      OH = (H + 2P − FH)/S + 1
//! ```
//!
//! (the notes print `H − 2·pad − FH`: a typo, the padding adds rows). `col[(r, k)]` is the
//! number the notes print at row r, column k.
//!
//! `col2im` is the adjoint of `im2col`: it *adds* every entry of a (N·OH·OW) × (C·FH·FW)
//! matrix back onto the pixel it was copied from (entries of the zero padding are dropped).
//! So col2im(im2col(x)) = x ∘ multiplicity, not x, and ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩.
//!
//! **Images.** A batch is a `DMatrix` (C·H·W) × N with one example per column, pixels in
//! (c, y, x) row-major order inside the column: the memory of numpy's (N, C, H, W) array.
//!
//! Both functions here are the definitions, entry by entry; the engine's copies that move
//! whole image rows at a time are in [`crate::fast`].

#![allow(non_snake_case)]

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

    // ANCHOR: output_size
    /// OH = (H + 2P − FH)/S + 1 (floor division, as Saito's `//`).
    pub fn oh(&self) -> usize {
        (self.h + 2 * self.pad - self.fh) / self.stride + 1
    }

    /// OW = (W + 2P − FW)/S + 1.
    pub fn ow(&self) -> usize {
        (self.w + 2 * self.pad - self.fw) / self.stride + 1
    }
    // ANCHOR_END: output_size

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

    /// The (n, oy, ox) of row r of `col`: r = (n·OH + oy)·OW + ox.
    pub fn window(&self, r: usize) -> (usize, usize, usize) {
        let (oh, ow) = (self.oh(), self.ow());
        (r / (oh * ow), (r / ow) % oh, r % ow)
    }

    // ANCHOR: source
    /// Where entry (r, k) of `col` is copied from: (row of the input batch, example n), or
    /// `None` where the window reads the zero padding.
    pub fn source(&self, r: usize, k: usize) -> Option<(usize, usize)> {
        let ((n, oy, ox), (c, fy, fx)) = (self.window(r), self.tap(k));
        // (y, x) = (S·oy + fy − P, S·ox + fx − P) in the unpadded image
        let y = (self.stride * oy + fy).checked_sub(self.pad)?;
        let x = (self.stride * ox + fx).checked_sub(self.pad)?;
        (y < self.h && x < self.w).then_some(((c * self.h + y) * self.w + x, n))
    }
    // ANCHOR_END: source
}

// ANCHOR: im2col
/// im2col of a batch X ((C·H·W) × N): col ((N·OH·OW) × (C·FH·FW)).
pub fn im2col(X: &DMatrix<f64>, g: &Geometry) -> DMatrix<f64> {
    assert_eq!(X.nrows(), g.input_len(), "im2col: X must be (C·H·W) × N");
    let rows = X.ncols() * g.windows();
    // col[(n, oy, ox), (c, fy, fx)] = x_padded[n, c, S·oy + fy, S·ox + fx]   (N·OH·OW) × (C·FH·FW)
    DMatrix::from_fn(rows, g.taps(), |r, k| {
        g.source(r, k).map_or(0.0, |(i, n)| X[(i, n)])
    })
}
// ANCHOR_END: im2col

// ANCHOR: col2im
/// col2im, the adjoint of im2col: every entry of `col` ((N·OH·OW) × (C·FH·FW)) is *added* to
/// the pixel it was copied from; returns (C·H·W) × N. In backprop dX = col2im(dcol), the
/// notes' "sum of the dcol values wherever the pixel appears".
pub fn col2im(col: &DMatrix<f64>, g: &Geometry) -> DMatrix<f64> {
    assert_eq!(
        col.ncols(),
        g.taps(),
        "col2im: col must have C·FH·FW columns"
    );
    assert_eq!(col.nrows() % g.windows(), 0, "col2im: rows must be N·OH·OW");
    let mut dX = DMatrix::zeros(g.input_len(), col.nrows() / g.windows());
    for k in 0..col.ncols() {
        for r in 0..col.nrows() {
            // dx[n, c, S·oy + fy − P, S·ox + fx − P] += dcol[(n, oy, ox), (c, fy, fx)]
            if let Some((i, n)) = g.source(r, k) {
                dX[(i, n)] += col[(r, k)];
            }
        }
    }
    dX
}
// ANCHOR_END: col2im

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
        let g = Geometry::new(3, 7, 7, 5, 5, 1, 0).unwrap();
        assert_eq!(g.tap(37), (1, 2, 2));
        assert_eq!(g.window(13), (1, 1, 1));
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
