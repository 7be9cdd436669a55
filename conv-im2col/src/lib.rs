//! # conv-im2col — notes §5, Convolution Neural Network
//!
//! The notes (§5, figures 13–15) explain how a convolution becomes one matrix product:
//! **im2col** unrolls every FH × FW window of a C-channel image into one row of a matrix
//! `col` of shape (N·OH·OW) × (C·FH·FW), so the convolution with FN filters is `col · Wᵀ`;
//! in the backward pass, the gradient of an input pixel is the sum of the `dcol` entries at
//! every place the pixel was copied to, which is **col2im**, the adjoint of im2col. Figure 15
//! works this out for a (1, 3, 7, 7) input and a 5 × 5 filter: a 9 × 75 matrix, and pixel 22's
//! gradient (−0.53) + 0.77 + 0.05 + 0.03 + 0.29 + (−0.29) = 0.32 ([`example`]).
//!
//! Reference implementation: Saito, *Deep Learning from Scratch*, ch. 7
//! (oreilly-japan/deep-learning-from-scratch: `common/util.py` im2col / col2im,
//! `common/layers.py`, `ch07/simple_convnet.py`). We follow it layer by layer, with one example
//! per column instead of one per row (see [`layers`]).
//!
//! | module | what |
//! |---|---|
//! | [`im2col`](mod@im2col) | `Geometry`, `im2col`, `col2im` (the matrix layout is explained there) |
//! | [`layers`] | `Convolution`, `Pooling`, ReLU, `Affine`, softmax-with-loss: forward and backward |
//! | [`net`] | `SimpleConvNet` (figure 13), `LinearSoftmax` (baseline), epochs, accuracy |
//! | [`example`] | figure 15, computed |
//! | [`data`] | train / test splits of the generated digits, MNIST, the 8×8 digits CSV |
//! | [`report`] | the `train` command's report lines, curves, baseline run |
//! | [`checkpoint`] | `model.safetensors` after every epoch, and `train --resume` (exact) |
//! | [`parallel`] | `train --threads N`: each mini-batch split into N groups on N threads |
//!
//! The notes' equations in the code (line ranges in the crate's README):
//!
//! | notes §5 | code |
//! |---|---|
//! | figure 13: conv (with ReLU) → pool → affine → ReLU → affine → softmax | [`SimpleConvNet::forward`], [`Classifier::gradient`] |
//! | OH = (H + 2·pad − FH)/stride + 1 (the notes' "−" is a typo) | [`Geometry::oh`], [`Geometry::ow`] |
//! | im2col: (N·OH·OW) × (FH·FW·C), one window per row, one tap per column | [`im2col_into`] |
//! | a pixel's gradient = Σ of dcol where it was copied (col2im) | [`col2im_into`] |
//! | figure 15: 9 × 75; pixel 22 → (−0.53) + 0.77 + 0.05 + 0.03 + 0.29 + (−0.29) = 0.32 | [`example::figure15`] |
//! | conv forward out = col·col_W + b; backward db, dW = colᵀ·dout, dx = col2im(dout·col_Wᵀ) | [`Convolution::forward`], [`Convolution::backward`] |
//! | max pooling, ReLU, affine, softmax with loss | [`Pooling`], [`layers::relu_forward`], [`Affine`], [`layers::softmax_with_loss_forward`] |
//! | data-parallel batches: L = Σ_g w_g L_g, ∂L/∂θ = Σ_g w_g ∂L_g/∂θ, w_g = B_g / B | [`parallel::Threaded`] |
//!
//! Size legend: N examples per batch, C × H × W input, FN filters of FH × FW, stride S, pad P,
//! OH × OW conv output, PH × PW pooled output, K = C·FH·FW taps.
//!
//! Expected result (`conv-im2col train`, 8 epochs, Adam 1e-3, batch 100): on the generated
//! digits (8000 / 2000) SimpleConvNet reaches 98.25 % test accuracy where a linear softmax
//! classifier gets 80.0 %. On MNIST t10k split 8000 / 2000 (`--mnist DIR`) it reaches
//! 98.3–98.4 % with `--init he`; with Saito's 0.01·N(0, 1) init 96.1–96.8 % at epoch 8, the
//! spread an independent numpy run of the same recipe also shows (97.0 / 96.7 %; the reference
//! sheet's single numpy run reports 97.4 %; the book 98.96 % on the full 60k training set). An
//! epoch of 8000 images (forward, backward, Adam) takes about 2 s of one core; `train --threads
//! 2` splits each mini-batch over both cores ([`parallel`]), about 1.4 s of wall time.

pub mod checkpoint;
pub mod data;
pub mod example;
pub mod im2col;
pub mod layers;
pub mod net;
pub mod parallel;
pub mod report;

pub use im2col::{Geometry, col2im, col2im_into, im2col, im2col_into};
pub use layers::{Affine, Convolution, Pooling};
pub use net::{Classifier, Config, Init, LinearSoftmax, SimpleConvNet};
