//! The layers of figure 13, each a forward and a backward written as Saito's
//! `common/layers.py` writes them, one equation per line.
//!
//! Every batch is a `DMatrix` with **one example per column** (Saito has one per row): images
//! are (C·H·W) × N with pixels in (c, y, x) order inside a column, feature vectors D × N. So
//! Saito's `x·W + b` is `W·X + b 1ᵀ` here, and his weights are the transposes of ours; the
//! convolution's filters are FN × (C·FH·FW), one flattened filter per row, as his
//! `W.reshape(FN, -1)`. The convolution's output is in (f, y, x) order inside a column, his
//! (N, FN, OH, OW) after the transpose, and so is the pooling's: the affine layer after it
//! reads the pooled maps flattened in (f, y, x) order, as his `x.reshape(N, -1)` does.
//!
//! Forward functions return what the backward needs beside their output (`col`, `arg_max`);
//! backward functions return the gradients. Nothing is kept between calls.

#![allow(non_snake_case)]

use super::im2col::{Geometry, col2im, im2col};
use nalgebra::DMatrix;
use shared::activation;

/// 1ᵀ, a row of N ones: the bias broadcast b 1ᵀ and the sum over examples dY 1.
fn ones(N: usize) -> DMatrix<f64> {
    DMatrix::from_element(1, N, 1.0)
}

// ANCHOR: convolution_forward
/// Convolution forward (Saito's `Convolution.forward`): filters W (FN × C·FH·FW), biases
/// b (FN × 1), input X ((C·H·W) × N) → Y ((FN·OH·OW) × N) and col = im2col(X).
pub fn convolution_forward(
    W: &DMatrix<f64>,
    b: &DMatrix<f64>,
    g: &Geometry,
    X: &DMatrix<f64>,
) -> (DMatrix<f64>, DMatrix<f64>) {
    let (N, P, FN) = (X.ncols(), g.windows(), W.nrows());
    // col = im2col(x)                                          (N·OH·OW) × (C·FH·FW)
    let col = im2col(X, g);
    // out = col·col_W + b, col_W = Wᵀ                           (N·OH·OW) × FN
    let out = &col * W.transpose() + ones(N * P).transpose() * b.transpose();
    // Y[(f, oy, ox), n] = out[(n, oy, ox), f]: out.reshape(N, OH, OW, FN).transpose(0, 3, 1, 2)
    let Y = DMatrix::from_fn(FN * P, N, |i, n| out[(n * P + i % P, i / P)]); // (FN·OH·OW) × N
    (Y, col)
}
// ANCHOR_END: convolution_forward

// ANCHOR: convolution_backward
/// Convolution backward (Saito's `Convolution.backward`): from dY ((FN·OH·OW) × N) and the
/// forward's `col`, returns dW (FN × C·FH·FW), db (FN × 1) and dX ((C·H·W) × N).
pub fn convolution_backward(
    W: &DMatrix<f64>,
    g: &Geometry,
    col: &DMatrix<f64>,
    dY: &DMatrix<f64>,
) -> (DMatrix<f64>, DMatrix<f64>, DMatrix<f64>) {
    let (N, P, FN) = (dY.ncols(), g.windows(), W.nrows());
    assert_eq!(col.nrows(), N * P, "backward needs the forward's col");
    // dout[(n, oy, ox), f] = dY[(f, oy, ox), n]: the transpose undone   (N·OH·OW) × FN
    let dout = DMatrix::from_fn(N * P, FN, |r, f| dY[(f * P + r % P, r / P)]);
    // out = col Wᵀ + 1 bᵀ  ⇒  db = doutᵀ 1 (Saito: np.sum(dout, axis=0))      FN × 1
    let db = dout.transpose() * ones(N * P).transpose();
    // out = col Wᵀ  ⇒  dW = doutᵀ col (Saito: colᵀ·dout, transposed as our W is)   FN × (C·FH·FW)
    let dW = dout.transpose() * col;
    // out = col Wᵀ  ⇒  dcol = dout W (Saito: dout·col_Wᵀ)       (N·OH·OW) × (C·FH·FW)
    let dcol = &dout * W;
    // col = im2col(x)  ⇒  dX = col2im(dcol)                    (C·H·W) × N
    let dX = col2im(&dcol, g);
    (dW, db, dX)
}
// ANCHOR_END: convolution_backward

/// The index of the first maximum of `v`, as numpy's `argmax` (ties go to the first).
fn first_argmax(v: impl Iterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (j, x) in v.enumerate() {
        if j == 0 || x > best.1 {
            best = (j, x);
        }
    }
    best.0
}

// ANCHOR: pooling_forward
/// Max pooling forward (Saito's `Pooling.forward`): X ((C·H·W) × N) → Y ((C·OH·OW) × N) and,
/// for each output, `arg_max`: the tap (fy·PW + fx) of its window's first maximum.
pub fn pooling_forward(g: &Geometry, X: &DMatrix<f64>) -> (DMatrix<f64>, DMatrix<usize>) {
    let (N, P, PP) = (X.ncols(), g.windows(), g.fh * g.fw);
    // col = im2col(x) with the pooling window                  (N·OH·OW) × (C·PH·PW)
    let col = im2col(X, g);
    // window (c, oy, ox) of example n: the PH·PW taps of channel c in row (n, oy, ox) of col
    let window = |i: usize, n: usize| col.view((n * P + i % P, i / P * PP), (1, PP));
    // arg_max = np.argmax(col, axis=1), per channel                (C·OH·OW) × N
    let arg_max = DMatrix::from_fn(g.c * P, N, |i, n| {
        first_argmax(window(i, n).iter().copied())
    });
    // Y = np.max(col, axis=1), per channel                          (C·OH·OW) × N
    let Y = DMatrix::from_fn(g.c * P, N, |i, n| window(i, n)[arg_max[(i, n)]]);
    (Y, arg_max)
}
// ANCHOR_END: pooling_forward

// ANCHOR: pooling_backward
/// Max pooling backward (Saito's `Pooling.backward`): each dY entry goes to its window's
/// maximum, every other input gets 0; returns dX ((C·H·W) × N).
pub fn pooling_backward(g: &Geometry, arg_max: &DMatrix<usize>, dY: &DMatrix<f64>) -> DMatrix<f64> {
    let (N, P, PP) = (dY.ncols(), g.windows(), g.fh * g.fw);
    assert_eq!(
        arg_max.shape(),
        dY.shape(),
        "backward needs the forward's arg_max"
    );
    // dmax[(n, oy, ox), (c, arg_max)] = dY[(c, oy, ox), n], 0 elsewhere   (N·OH·OW) × (C·PH·PW)
    let mut dcol = DMatrix::zeros(N * P, g.taps());
    for n in 0..N {
        for i in 0..g.c * P {
            dcol[(n * P + i % P, i / P * PP + arg_max[(i, n)])] = dY[(i, n)];
        }
    }
    // col = im2col(x)  ⇒  dX = col2im(dcol) (overlapping windows add up)   (C·H·W) × N
    col2im(&dcol, g)
}
// ANCHOR_END: pooling_backward

// ANCHOR: relu
/// ReLU forward: Z = max(0, A) (the notes' figure 13 puts it inside the conv layer).
pub fn relu(A: &DMatrix<f64>) -> DMatrix<f64> {
    A.map(activation::relu)
}

/// ReLU backward, from the forward's output Z: dA = dZ ∘ \[Z > 0\]
/// (Saito keeps the mask A ≤ 0; Z > 0 is its complement).
pub fn relu_backward(dZ: &DMatrix<f64>, Z: &DMatrix<f64>) -> DMatrix<f64> {
    dZ.zip_map(Z, |d, z| d * activation::relu_grad(z))
}
// ANCHOR_END: relu

// ANCHOR: affine
/// Affine forward: Y = W X + b 1ᵀ, W (out × D), b (out × 1), X (D × N) → Y (out × N).
pub fn affine_forward(W: &DMatrix<f64>, b: &DMatrix<f64>, X: &DMatrix<f64>) -> DMatrix<f64> {
    // Y = W X + b 1ᵀ (Saito: x·W + b, one example per row)       out × N
    W * X + b * ones(X.ncols())
}

/// Affine backward: from dY (out × N) and the forward's input X, returns dW (out × D),
/// db (out × 1) and dX (D × N).
pub fn affine_backward(
    W: &DMatrix<f64>,
    X: &DMatrix<f64>,
    dY: &DMatrix<f64>,
) -> (DMatrix<f64>, DMatrix<f64>, DMatrix<f64>) {
    // Y = W X + b 1ᵀ  ⇒  dW = dY Xᵀ                              out × D
    let dW = dY * X.transpose();
    // Y = W X + b 1ᵀ  ⇒  db = dY 1                                out × 1
    let db = dY * ones(dY.ncols()).transpose();
    // Y = W X + b 1ᵀ  ⇒  dX = Wᵀ dY                               D × N
    let dX = W.transpose() * dY;
    (dW, db, dX)
}
// ANCHOR_END: affine

// ANCHOR: softmax_with_loss
/// Softmax with cross-entropy loss, forward (Saito's `SoftmaxWithLoss.forward`): scores
/// S (K × N) → probabilities Y (max-subtracted softmax per column) and
/// L = −(1/N) Σ_n log Y[t_n, n]. (Saito adds 1e-7 inside the log; `shared::loss` adds e^−30.)
pub fn softmax_with_loss(S: &DMatrix<f64>, t: &[usize]) -> (DMatrix<f64>, f64) {
    // Y = softmax(S), column by column                          K × N
    let mut Y = S.clone();
    activation::softmax_columns_mut(&mut Y);
    // L = CE(Y, t)
    let L = shared::loss::cross_entropy(&Y, t);
    (Y, L)
}

/// Softmax with cross-entropy loss, backward: dS = (Y − T)/N, T one-hot of `t` (K × N).
pub fn softmax_with_loss_backward(Y: &DMatrix<f64>, t: &[usize]) -> DMatrix<f64> {
    // T[k, n] = 1 where k = t_n                                  K × N
    let T = DMatrix::from_fn(Y.nrows(), Y.ncols(), |k, n| f64::from(k == t[n]));
    // L = −(1/N) Σ_n log Y[t_n, n], Y = softmax(S)  ⇒  dS = (Y − T)/N   K × N
    (Y - T) / Y.ncols() as f64
}
// ANCHOR_END: softmax_with_loss
