//! The engine's layers: the forwards and backwards of [`crate::model::layers`], computed
//! into buffers that live in the layer and are reused from batch to batch (reallocated only
//! when N changes). Backward passes *overwrite* the parameter gradients (`dW`, `db`) of their
//! layer, as Saito's layers do. Every batch is a `DMatrix` with one example per column.
//!
//! **Layouts.** The convolution's input is in (c, y, x) order inside a column (the memory of
//! numpy's (N, C, H, W), what im2col reads); its output is in (y, x, f) order, "channels
//! last" (numpy's (N, OH, OW, FN)), where the model's is in (f, y, x) order. Saito computes
//! `out = col · col_W`, an (N·OH·OW) × FN row-major array, and transposes it to
//! (N, FN, OH, OW). We compute the transpose of his product, A = W · colᵀ, FN × (N·OH·OW)
//! column-major: the same numbers in the same memory order as his `out`, and keep it that
//! way. That saves two passes over the largest array of the network (the transpose and its
//! inverse in the backward), pooling works on it directly, and the affine layer after the
//! pooling sees its inputs in (y, x, f) order instead of (f, y, x): a fixed permutation of
//! W2's columns ([`crate::fast::w2_to_model`]). The two orders coincide only when there is a
//! single filter (FN = 1); the number of input channels C plays no part.

#![allow(non_snake_case)]

use super::Float;
use super::im2col::{col2im_into, ensure_shape, im2col_into};
use crate::model::Geometry;
use nalgebra::{DMatrix, DMatrixView, DMatrixViewMut};
use shared::kernels::{gemm, gemm_nt, gemm_tn};
use shared::loss::TINY;

/// Convolution layer: FN filters of C × FH × FW, stride S, pad P. Forward is im2col and one
/// GEMM; backward is two GEMMs and col2im.
///
/// Legend: N examples, P = OH·OW window positions, K = C·FH·FW taps, FN filters.
#[derive(Clone, Debug)]
pub struct Convolution<T: Float = f64> {
    /// Input and window geometry.
    pub g: Geometry,
    /// FN × K: row f is filter f flattened in (c, fy, fx) order (Saito's `W.reshape(FN, -1)`).
    pub W: DMatrix<T>,
    /// FN × 1.
    pub b: DMatrix<T>,
    /// FN × K, ∂L/∂W of the last backward.
    pub dW: DMatrix<T>,
    /// FN × 1, ∂L/∂b of the last backward.
    pub db: DMatrix<T>,
    /// (N·P) × K: im2col(X) of the last forward, kept for dW.
    col: DMatrix<T>,
    /// (N·P) × K: dcol = dAᵀ·W.
    dcol: DMatrix<T>,
}

impl<T: Float> Convolution<T> {
    /// A layer with filters `W` (FN × C·FH·FW) and biases `b` (FN × 1).
    pub fn new(g: Geometry, W: DMatrix<T>, b: DMatrix<T>) -> Self {
        assert_eq!(W.ncols(), g.taps(), "W must be FN × C·FH·FW");
        assert_eq!(b.shape(), (W.nrows(), 1), "b must be FN × 1");
        let (dW, db) = (
            DMatrix::zeros(W.nrows(), W.ncols()),
            DMatrix::zeros(W.nrows(), 1),
        );
        Convolution {
            g,
            W,
            b,
            dW,
            db,
            col: DMatrix::zeros(0, 0),
            dcol: DMatrix::zeros(0, 0),
        }
    }

    /// Number of filters FN.
    pub fn filters(&self) -> usize {
        self.W.nrows()
    }

    /// Rows of the output, OH·OW·FN.
    pub fn output_len(&self) -> usize {
        self.filters() * self.g.windows()
    }

    /// Y = conv(X): X (C·H·W) × N in (c, y, x) order → Y (OH·OW·FN) × N in (y, x, f) order
    /// (resized if needed).
    pub fn forward(&mut self, X: &DMatrix<T>, Y: &mut DMatrix<T>) {
        let (N, P, FN) = (X.ncols(), self.g.windows(), self.filters());
        // col = im2col(x)                                   (N·P) × K
        im2col_into(X, &self.g, &mut self.col);
        // A = W colᵀ + b 1ᵀ, the transpose of Saito's out = col·col_W + b.  FN × (N·P),
        // stored in Y's memory: column (n, oy, ox) of A is Y[(oy, ox, ·), n].
        ensure_shape(Y, P * FN, N);
        let b = self.b.as_slice();
        for a in Y.as_mut_slice().chunks_exact_mut(FN) {
            a.copy_from_slice(b); // column (n, oy, ox) of A starts as b
        }
        let mut A = DMatrixViewMut::from_slice(Y.as_mut_slice(), FN, N * P);
        gemm_nt(T::one(), &self.W, &self.col, T::one(), &mut A);
    }

    /// Backward of [`Convolution::forward`]: sets `dW`, `db` from dY ((OH·OW·FN) × N) and,
    /// if asked, dX ((C·H·W) × N). The first layer of a network does not need dX.
    pub fn backward(&mut self, dY: &DMatrix<T>, dX: Option<&mut DMatrix<T>>) {
        let (P, FN) = (self.g.windows(), self.filters());
        let N = dY.ncols();
        assert_eq!(dY.nrows(), P * FN, "dY must be (OH·OW·FN) × N");
        assert_eq!(
            self.col.nrows(),
            N * P,
            "backward needs the forward of the same batch"
        );
        // dA: dY seen as FN × (N·P), the layout of A (no copy)
        let dA = DMatrixView::from_slice(dY.as_slice(), FN, N * P);
        // A = W colᵀ + b 1ᵀ  ⇒  db = dA 1 (Saito: db = np.sum(dout, axis=0))   FN × 1
        let db = self.db.as_mut_slice();
        db.fill(T::zero());
        for a in dY.as_slice().chunks_exact(FN) {
            for (d, v) in db.iter_mut().zip(a) {
                *d += *v; // a = column (n, oy, ox) of dA
            }
        }
        // A = W colᵀ  ⇒  dW = dA col (Saito: dW = colᵀ·dout, transposed as our W is)   FN × K
        gemm(T::one(), &dA, &self.col, T::zero(), &mut self.dW);
        if let Some(dX) = dX {
            // A = W colᵀ  ⇒  dcol = dAᵀ W (Saito: dcol = dout·col_Wᵀ)   (N·P) × K
            ensure_shape(&mut self.dcol, N * P, self.g.taps());
            gemm_tn(T::one(), &dA, &self.W, T::zero(), &mut self.dcol);
            // col = im2col(x)  ⇒  dx = col2im(dcol)           (C·H·W) × N
            col2im_into(&self.dcol, &self.g, dX);
        }
    }
}

/// Max pooling over PH × PW windows with stride S (no padding), on channels-last input
/// (the convolution's output). The forward keeps, for each output, the position of its
/// maximum; the backward routes the gradient there.
#[derive(Clone, Debug)]
pub struct Pooling {
    /// Input and window geometry (pad 0); `g.fh × g.fw` is the window PH × PW.
    pub g: Geometry,
    /// For output row o of example n (o = (oy·OW + ox)·C + c): the input row of the maximum.
    arg_max: Vec<usize>,
}

impl Pooling {
    /// Pooling with window geometry `g` (whose `pad` must be 0).
    pub fn new(g: Geometry) -> Self {
        assert_eq!(g.pad, 0, "pooling has no padding here");
        Pooling {
            g,
            arg_max: Vec::new(),
        }
    }

    /// Rows of the output, OH·OW·C.
    pub fn output_len(&self) -> usize {
        self.g.c * self.g.windows()
    }

    /// Y = maxpool(X): X (H·W·C) × N → Y (OH·OW·C) × N, both in (y, x, c) order. Ties go to
    /// the first maximum in (fy, fx) order, as numpy's `argmax` over Saito's im2col rows.
    pub fn forward<T: Float>(&mut self, X: &DMatrix<T>, Y: &mut DMatrix<T>) {
        let g = self.g;
        let (N, C, oh, ow, s) = (X.ncols(), g.c, g.oh(), g.ow(), g.stride);
        assert_eq!(X.nrows(), g.input_len(), "X must be (H·W·C) × N");
        let out_len = self.output_len();
        ensure_shape(Y, out_len, N);
        self.arg_max.resize(out_len * N, 0);
        let (X, Y) = (X.as_slice(), Y.as_mut_slice());
        for n in 0..N {
            let x = &X[n * g.input_len()..][..g.input_len()];
            for oy in 0..oh {
                for ox in 0..ow {
                    // y[oy, ox, c] = max over the window of x[S·oy + fy, S·ox + fx, c] and
                    // arg[oy, ox, c] = where it is. The C channels of a pixel are contiguous,
                    // so one window position updates C maxima at once; selects, not branches.
                    let o = n * out_len + (oy * ow + ox) * C;
                    let (y, arg) = (&mut Y[o..o + C], &mut self.arg_max[o..o + C]);
                    let first = (s * oy * g.w + s * ox) * C;
                    y.copy_from_slice(&x[first..first + C]);
                    for (c, a) in arg.iter_mut().enumerate() {
                        *a = first + c;
                    }
                    for fy in 0..g.fh {
                        for fx in 0..g.fw {
                            let at = ((s * oy + fy) * g.w + s * ox + fx) * C;
                            let v = &x[at..at + C];
                            let lanes = y.iter_mut().zip(arg.iter_mut()).zip(v);
                            for (c, ((y, a), &v)) in lanes.enumerate() {
                                // if v > y { y = v; arg = at + c }, as masks (no branch)
                                let take = ((v > *y) as usize).wrapping_neg();
                                *a ^= (*a ^ (at + c)) & take;
                                *y = y.max(v);
                            }
                        }
                    }
                }
            }
        }
    }

    /// dX from dY ((OH·OW·C) × N): each dY entry is added at its window's maximum; every other
    /// input gets 0. `dX` becomes (H·W·C) × N.
    pub fn backward<T: Float>(&self, dY: &DMatrix<T>, dX: &mut DMatrix<T>) {
        let (N, out_len, in_len) = (dY.ncols(), self.output_len(), self.g.input_len());
        assert_eq!(dY.nrows(), out_len, "dY must be (OH·OW·C) × N");
        assert_eq!(
            self.arg_max.len(),
            out_len * N,
            "backward needs the forward's batch"
        );
        ensure_shape(dX, in_len, N);
        dX.as_mut_slice().fill(T::zero());
        for ((dx, dy), arg) in dX
            .as_mut_slice()
            .chunks_exact_mut(in_len)
            .zip(dY.as_slice().chunks_exact(out_len))
            .zip(self.arg_max.chunks_exact(out_len))
        {
            // y[o] = x[arg[o]]  ⇒  dx[arg[o]] += dy[o] (+= for overlapping windows, S < PH)
            for (&i, &d) in arg.iter().zip(dy) {
                dx[i] += d;
            }
        }
    }
}

/// ReLU forward in place: z = max(0, a) (the notes' figure 13 puts it inside the conv layer).
/// `shared::activation::relu_mut`'s formula, for both float types.
pub fn relu_forward<T: Float>(A: &mut DMatrix<T>) {
    A.apply(|a| *a = if *a > T::zero() { *a } else { T::zero() });
}

/// ReLU backward in place, from the forward's output Z: dA = dZ ∘ \[Z > 0\]
/// (Saito keeps the mask x ≤ 0; Z > 0 is the same set). `shared::activation::relu_backward_mut`'s
/// formula, for both float types.
pub fn relu_backward<T: Float>(dZ: &mut DMatrix<T>, Z: &DMatrix<T>) {
    dZ.zip_apply(Z, |d, z| {
        *d *= if z > T::zero() { T::one() } else { T::zero() }
    });
}

/// Affine layer Y = W·X + b 1ᵀ on one example per column (Saito writes x·W + b with one
/// example per row: the same product, transposed).
#[derive(Clone, Debug)]
pub struct Affine<T: Float = f64> {
    /// out × D.
    pub W: DMatrix<T>,
    /// out × 1.
    pub b: DMatrix<T>,
    /// out × D, ∂L/∂W of the last backward.
    pub dW: DMatrix<T>,
    /// out × 1, ∂L/∂b of the last backward.
    pub db: DMatrix<T>,
}

impl<T: Float> Affine<T> {
    /// A layer with weights `W` (out × D) and biases `b` (out × 1).
    pub fn new(W: DMatrix<T>, b: DMatrix<T>) -> Self {
        assert_eq!(b.shape(), (W.nrows(), 1), "b must be out × 1");
        let (dW, db) = (
            DMatrix::zeros(W.nrows(), W.ncols()),
            DMatrix::zeros(W.nrows(), 1),
        );
        Affine { W, b, dW, db }
    }

    /// Y = W·X + b: X (D × N) → Y (out × N) (resized if needed).
    pub fn forward(&self, X: &DMatrix<T>, Y: &mut DMatrix<T>) {
        ensure_shape(Y, self.W.nrows(), X.ncols());
        // Y = W X                                              out × N
        gemm(T::one(), &self.W, X, T::zero(), Y);
        // Y += b 1ᵀ
        for mut y in Y.column_iter_mut() {
            y += &self.b;
        }
    }

    /// Backward of [`Affine::forward`] given its input X: sets dW, db and, if asked, dX.
    pub fn backward(&mut self, X: &DMatrix<T>, dY: &DMatrix<T>, dX: Option<&mut DMatrix<T>>) {
        // Y = W X + b 1ᵀ  ⇒  dW = dY Xᵀ                        out × D
        gemm_nt(T::one(), dY, X, T::zero(), &mut self.dW);
        // Y = W X + b 1ᵀ  ⇒  db = dY 1 (row sums)              out × 1
        self.db.copy_from(&dY.column_sum());
        if let Some(dX) = dX {
            // Y = W X + b 1ᵀ  ⇒  dX = Wᵀ dY                    D × N
            ensure_shape(dX, self.W.ncols(), dY.ncols());
            gemm_tn(T::one(), &self.W, dY, T::zero(), dX);
        }
    }
}

/// Softmax with cross-entropy loss, forward: scores S (K × N) become probabilities Y in
/// place (max-subtracted softmax per column); returns L = −(1/N) Σ_n log Y[t_n, n].
/// (Saito adds 1e-7 inside the log; `shared::loss` adds e^−30, negligible for the gradient.)
pub fn softmax_with_loss_forward<T: Float>(S: &mut DMatrix<T>, t: &[usize]) -> f64 {
    // Y = softmax(S) column by column, the column's maximum subtracted first
    // (`shared::activation::softmax_columns_mut`'s formula, for both float types)
    for mut col in S.column_iter_mut() {
        let max = col
            .iter()
            .fold(T::round_from(f64::NEG_INFINITY), |m, &v| m.max(v));
        let mut sum = T::zero();
        for v in col.iter_mut() {
            *v = (*v - max).exp();
            sum += *v;
        }
        col /= sum;
    }
    // L = −(1/N) Σ_n log(Y[t_n, n] + tiny), in f64 (`shared::loss::cross_entropy`)
    assert_eq!(S.ncols(), t.len(), "one target per column");
    let total: f64 = t
        .iter()
        .enumerate()
        .map(|(n, &k)| -(S[(k, n)].as_f64() + TINY).ln())
        .sum();
    total / t.len() as f64
}

/// Softmax with cross-entropy loss, backward: dS = (Y − T)/N, T one-hot of `t`.
pub fn softmax_with_loss_backward<T: Float>(Y: &DMatrix<T>, t: &[usize], dS: &mut DMatrix<T>) {
    let N = T::round_from(Y.ncols() as f64);
    ensure_shape(dS, Y.nrows(), Y.ncols());
    dS.copy_from(Y);
    for (n, &k) in t.iter().enumerate() {
        dS[(k, n)] -= T::one();
    }
    *dS /= N;
}
