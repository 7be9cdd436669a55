//! The notes' figure 15: im2col of a (1, 3, 7, 7) input holding 0…146 with a 5 × 5 window
//! (stride 1, pad 0), and the gradient of pixel 22 from dcol.
//!
//! The notes give dcol only as a partial table whose signs were lost in extraction; the
//! sentence under the figure gives the six dcol values that meet at pixel 22, with signs:
//! (−0.53) + 0.77 + 0.05 + 0.03 + 0.29 + (−0.29) = 0.32. We place exactly those six values
//! where im2col copied pixel 22 (every other dcol entry 0) and let col2im add them up.

use crate::model::{Geometry, col2im, im2col};
use nalgebra::DMatrix;
use std::fmt::Write;

/// The pixel the notes follow (0-based flat index c·49 + y·7 + x: channel 0, row 3, column 1).
pub const PIXEL: usize = 22;

/// The six dcol values of the notes' sum, in the order pixel 22 appears in im2col (row by row).
pub const NOTES_DCOL: [f64; 6] = [-0.53, 0.77, 0.05, 0.03, 0.29, -0.29];

/// Everything figure 15 shows, computed.
#[derive(Clone, Debug)]
pub struct Figure15 {
    /// (C, H, W, FH, FW, S, P) = (3, 7, 7, 5, 5, 1, 0).
    pub g: Geometry,
    /// 147 × 1: the input, pixel i holding the value i.
    pub x: DMatrix<f64>,
    /// 9 × 75: im2col(x).
    pub col: DMatrix<f64>,
    /// The (row, column) of col where pixel 22 was copied, row by row.
    pub positions: Vec<(usize, usize)>,
    /// 9 × 75: the notes' six dcol values at `positions`, 0 elsewhere.
    pub dcol: DMatrix<f64>,
    /// 147 × 1: col2im(dcol).
    pub dx: DMatrix<f64>,
    /// 147 × 1: col2im(ones): how many windows see each pixel.
    pub multiplicity: DMatrix<f64>,
}

/// Computes figure 15.
pub fn figure15() -> Figure15 {
    let g = Geometry::new(3, 7, 7, 5, 5, 1, 0).expect("figure 15's geometry is valid");
    // x: (1, 3, 7, 7) holding 0, 1, …, 146                    147 × 1
    let x = DMatrix::from_fn(g.input_len(), 1, |i, _| i as f64);
    // col = im2col(x)                                          9 × 75
    let col = im2col(&x, &g);
    let mut positions = Vec::new();
    for r in 0..col.nrows() {
        for k in 0..col.ncols() {
            if col[(r, k)] == PIXEL as f64 {
                positions.push((r, k));
            }
        }
    }
    let mut dcol = DMatrix::zeros(col.nrows(), col.ncols());
    for (&(r, k), &v) in positions.iter().zip(&NOTES_DCOL) {
        dcol[(r, k)] = v;
    }
    // dx = col2im(dcol): each pixel's gradient is the sum of dcol wherever it was copied
    let dx = col2im(&dcol, &g);
    let multiplicity = col2im(&DMatrix::from_element(col.nrows(), col.ncols(), 1.0), &g);
    Figure15 {
        g,
        x,
        col,
        positions,
        dcol,
        dx,
        multiplicity,
    }
}

impl Figure15 {
    /// The printout of `conv-im2col example`.
    pub fn report(&self) -> String {
        let g = &self.g;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "figure 15: x of shape (N, C, H, W) = (1, {}, {}, {}) holding 0..{}, filter {}×{}, stride {}, pad {}",
            g.c,
            g.h,
            g.w,
            g.input_len() - 1,
            g.fh,
            g.fw,
            g.stride,
            g.pad
        );
        let _ = writeln!(
            s,
            "OH = (H + 2·pad − FH)/stride + 1 = {}, OW = {}; col = im2col(x) is (N·OH·OW) × (C·FH·FW) = {} × {}",
            g.oh(),
            g.ow(),
            self.col.nrows(),
            self.col.ncols()
        );
        let per = g.fh * g.fw;
        for c in 0..g.c {
            let _ = writeln!(
                s,
                "\ncol, columns {}..{} (channel {c}):",
                c * per,
                (c + 1) * per - 1
            );
            for r in 0..self.col.nrows() {
                let row: Vec<String> = (c * per..(c + 1) * per)
                    .map(|k| format!("{:3}", self.col[(r, k)]))
                    .collect();
                let _ = writeln!(s, "  {}", row.join(" "));
            }
        }
        let _ = writeln!(
            s,
            "\npixel {PIXEL} (channel 0, row 3, column 1) appears {} times in col, at 0-based (row, column):",
            self.positions.len()
        );
        let terms: Vec<String> = self
            .positions
            .iter()
            .map(|&(r, k)| {
                let v = self.dcol[(r, k)];
                let _ = writeln!(s, "  ({r}, {k:2})  dcol = {v:+.2}");
                if v < 0.0 {
                    format!("({v:.2})")
                } else {
                    format!("{v:.2}")
                }
            })
            .collect();
        let _ = writeln!(
            s,
            "dx = col2im(dcol): dx[{PIXEL}] = {} = {:.2}",
            terms.join(" + "),
            self.dx[PIXEL]
        );
        let _ = writeln!(
            s,
            "\ncol2im adds, it does not invert: col2im(im2col(x)) = x ∘ multiplicity, with the multiplicity of a 7×7 channel:"
        );
        for y in 0..g.h {
            let row: Vec<String> = (0..g.w)
                .map(|x| format!("{}", self.multiplicity[y * g.w + x]))
                .collect();
            let _ = writeln!(s, "  {}", row.join(" "));
        }
        s
    }
}
