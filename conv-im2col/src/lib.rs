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
//! per column instead of one per row.
//!
//! Size legend: N examples per batch, C × H × W input, FN filters of FH × FW, stride S, pad P,
//! OH × OW conv output, PH × PW pooled output, K = C·FH·FW taps; SimpleConvNet on MNIST sizes:
//! 1 × 28 × 28 → conv 30 × 5 × 5 → 30 × 24 × 24 → pool 2 × 2 → 30 × 12 × 12 = 4320 → affine 100
//! → affine 10, 433,890 parameters.
//!
//! Expected result (`conv-im2col train`, 8 epochs, Adam 1e-3, batch 100): on the generated
//! digits (8000 / 2000) SimpleConvNet reaches 98.25 % test accuracy where a linear softmax
//! classifier gets 80.0 %. On MNIST t10k split 8000 / 2000 (`--mnist DIR`) it reaches
//! 98.3–98.4 % with `--init he`; with Saito's 0.01·N(0, 1) init 96.1–96.8 % at epoch 8, the
//! spread an independent numpy run of the same recipe also shows (97.0 / 96.7 %; the reference
//! sheet's single numpy run reports 97.4 %; the book 98.96 % on the full 60k training set).
//! On the full set (`--mnist DIR` with both parts: 60,000 to train, 10,000 to test) with
//! Saito's recipe (`--adam saito --sampling replacement`) it reaches 98.94 % at epoch 10 and
//! 98.69 % at epoch 12.
//!
//! ## Two layers
//!
//! | module | what |
//! |---|---|
//! | [`model`] | **the notes layer**: im2col / col2im, the layers' forward and backward, [`SimpleConvNet`] with its [`Cache`] and [`Grads`]; plain nalgebra, one equation per line |
//! | [`fast`] | **the engine layer**: the same network with reused buffers, no transposes, branch-free pooling, `--threads N`; tested against [`model`] |
//! | [`example`] | figure 15, computed (on the model's im2col / col2im) |
//! | [`data`] | train / test splits of the generated digits, MNIST, the 8×8 digits CSV |
//! | [`train`] | the training loop: mini-batches (an [`train::Epoch`] can stop after any step and go on), epochs, accuracy, the curves |
//! | [`checkpoint`] | the training [`checkpoint::State`] that `shared::session` saves in `model.safetensors` (every epoch, at Ctrl-C) and `train --resume` continues exactly |
//! | [`report`] | the `train` command's report lines, the linear baseline run, `filters.png` |
//! | [`cli`] | the flags of `train`, `eval`, `example` (stored with the model) |
//! | [`commands`] | the commands on the run session: `train`, `eval` (a saved network on new images), `example` |
//!
//! Modules import in one direction: model ← fast ← train (← data) ← checkpoint ← report ← cli
//! ← commands ← main.
//!
//! ## The notes' equations in the code
//!
//! | notes §5 / Saito ch. 7 | notes layer | engine |
//! |---|---|---|
//! | figure 13: conv (with ReLU) → pool → affine → ReLU → affine → softmax | [`SimpleConvNet::forward`], [`SimpleConvNet::loss`] | [`fast::FastConvNet::forward`] |
//! | its backward, layer by layer in reverse | [`SimpleConvNet::gradient`], [`SimpleConvNet::backward`] | [`fast::Classifier::gradient`] |
//! | OH = (H + 2·pad − FH)/stride + 1 (the notes' "−" is a typo) | [`Geometry::oh`], [`Geometry::ow`] | |
//! | im2col: (N·OH·OW) × (FH·FW·C), one window per row, one tap per column | [`im2col()`] | [`fast::im2col_into`] |
//! | a pixel's gradient = Σ of dcol where it was copied (col2im) | [`col2im`] | [`fast::col2im_into`] |
//! | figure 15: 9 × 75; pixel 22 → (−0.53) + 0.77 + 0.05 + 0.03 + 0.29 + (−0.29) = 0.32 | [`example::figure15`] | |
//! | conv forward: out = col·col_W + b | [`model::layers::convolution_forward`] | [`fast::Convolution::forward`] |
//! | conv backward: db = Σ dout, dW = colᵀ·dout, dcol = dout·col_Wᵀ, dx = col2im(dcol) | [`model::layers::convolution_backward`] | [`fast::Convolution::backward`] |
//! | max pooling, backward to each window's (first) maximum | [`model::layers::pooling_forward`], [`model::layers::pooling_backward`] | [`fast::Pooling`] |
//! | ReLU z = max(0, a), dA = dZ ∘ \[Z > 0\] | [`model::layers::relu`], [`model::layers::relu_backward`] | [`fast::layers::relu_forward`] |
//! | affine Y = W·X + b; dW = dY·Xᵀ, db = dY·1, dX = Wᵀ·dY | [`model::layers::affine_forward`], [`model::layers::affine_backward`] | [`fast::Affine`] |
//! | softmax with loss: L = −(1/N) Σ log y_t; dS = (Y − T)/N | [`model::layers::softmax_with_loss`], [`model::layers::softmax_with_loss_backward`] | [`fast::layers::softmax_with_loss_forward`] |
//! | the update (Adam; Saito's ε outside the uncorrected root) | [`SimpleConvNet::update`] | [`train::saito_adam`] |
//! | mini-batches: shuffled epochs, or Saito's trainer (with replacement) | | [`train::train_epoch`] |
//! | data-parallel batches: L = Σ_g w_g L_g, ∂L/∂θ = Σ_g w_g ∂L_g/∂θ, w_g = B_g / B | | [`fast::Threaded`] |
//! | the baseline: §3's softmax without a hidden layer | | [`fast::LinearSoftmax`] |

pub mod checkpoint;
pub mod cli;
pub mod commands;
pub mod data;
pub mod example;
pub mod fast;
pub mod model;
pub mod report;
pub mod train;

pub use model::{Cache, Config, Geometry, Grads, Init, SimpleConvNet, col2im, im2col};
