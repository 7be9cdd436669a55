//! Notes §6, "LSTM (Long Short Term Memory) Networks" and "GRU (Gated Recurrent Unit)
//! Networks", after Christopher Olah's "Understanding LSTM Networks" (2015), with the vanilla
//! RNN and the stacked RNNs of the same section (y₁ = RNN₁(x), y₂ = RNN₂(y₁), …).
//!
//! The notes say a vanilla RNN's gradient vanishes over long time lags and that the LSTM
//! (Hochreiter & Schmidhuber 1997) and the GRU fix it. (The notes date the GRU 2004; it is Cho
//! et al. 2014, arXiv:1406.1078.) This crate shows it with measurements: three cells with
//! hand-written backpropagation through time, gate by gate, stacked any number of layers deep,
//! on two tasks that run the very same code for every cell:
//!
//! - the adding problem (remember two marked numbers across T = 100 steps and output their
//!   sum; [`data::AddingBatch`]): the gated cells solve it, the tanh RNN stays at the trivial
//!   predictor's MSE 1/6 ≈ 0.167;
//! - a character language model (Karpathy's char-rnn setting) with validation loss,
//!   checkpoint, exact resume and sampling.
//!
//! **Sizes**, as in llm.c: **D** inputs, **H** hidden units, **T** time steps, **B** examples
//! in a mini-batch, **L** layers, **V** characters. Columns are examples: a batch of B
//! sequences is one D × T·B matrix whose step t is the column block tB..(t+1)B, so x_t is
//! D × B and every gate and state is H × B.
//!
//! **Expected result** (`cargo run --release -p lstm-gru`): on the adding problem with T = 100
//! the LSTM and the GRU reach held-out MSE < 0.01 (0.00017 and 0.00023 at seed 1), the vanilla
//! RNN stays near 1/6 (0.160). `lstm-gru train`: a 2 × 128 LSTM reaches 0.71 nats per character
//! on the generated corpus in 1000 steps (the text's entropy, the floor: 0.559).
//! `lstm-gru gradients`: at initialisation ‖∂E/∂h_(T−k)‖ falls × 0.60 per step back for the tanh
//! RNN and × 0.9998 for the IRNN ([`gradients`]).
//!
//! # The notes' equations and where they are
//!
//! [`model`] is the notes layer: each equation one line of nalgebra, to read beside the page,
//! and the code the gradient checks verify. [`fast`] is the engine that training runs: the same
//! passes on fused buffers, in f64 (the default) or f32 (`--dtype f32`), held to the notes layer
//! by a test (outputs, loss and every gradient within 1e-12 in f64, 1e-5 in f32).
//!
//! | the notes (§6) | notes layer | engine |
//! |---|---|---|
//! | s_t = f(U x_t + W s_{t−1} + b_h), f = tanh or ReLU (vanilla; here U = W_xh, W = W_hh; the ReLU one starts as the IRNN, [`Rnn::irnn`](model::Rnn::irnn)) | [`Rnn`]: [`forward`](model::Rnn::forward), [`backward`](model::Rnn::backward) | [`fast::rnn`] |
//! | f_t = σ(W^f_xh x_t + W^f_hh h_{t−1} + b^f_h); i_t, o_t likewise; g_t = tanh(…) | [`Lstm`]: [`forward`](model::Lstm::forward), one line per gate | [`fast::lstm`] |
//! | c_t = f_t ∘ c_{t−1} + i_t ∘ g_t, h_t = o_t ∘ tanh(c_t) | the same [`forward`](model::Lstm::forward); [`backward`](model::Lstm::backward): seven derivative lines | [`fast::lstm`] |
//! | z_t = σ(W_z · [h_{t−1}, x_t]), r_t = σ(W_r · [h_{t−1}, x_t]) | [`Gru`]: [`forward`](model::Gru::forward), [`backward`](model::Gru::backward) | [`fast::gru`] |
//! | h̃_t = tanh(W · [r_t ∗ h_{t−1}, x_t]), h_t = (1 − z_t) ∗ h_{t−1} + z_t ∗ h̃_t | the same | [`fast::gru`] |
//! | y₁ = RNN₁(x), y₂ = RNN₂(y₁), …, y = RNN_n(y_{n−1}) | [`Stack::forward`], [`Stack::backward`] | [`FastStack::forward_fast`], [`FastStack::backward_fast`] |
//! | y_t = Softmax(W_hy h_t + b_y), E = −(1/N) Σ_t log y_t[next character] | [`CharLm::forward`], [`CharLm::backward`] | [`FastLm::forward_fast`], [`FastLm::backward_fast`] |
//! | (the adding problem's read-out) y = W_hy h_T + b_y, mean squared error | [`AddingNet::forward`], [`AddingNet::backward`] | [`FastAdding::forward_fast`], [`FastAdding::backward_fast`] |
//!
//! # Modules
//!
//! They import in one direction, each from those above it:
//!
//! | module | what it holds |
//! |---|---|
//! | [`model`] | the notes layer: the three cells, the stack, the two output layers; `Cache` and `Grads` |
//! | [`fast`] | the engine: the trained passes on preallocated buffers, generic over f64 and f32 (`--dtype`), `--groups` ([`fast::parallel`]) |
//! | [`data`] | the adding problem's sequences; the text (a file or the generated corpus) and its streams |
//! | [`lm`] | the language model in use: validation loss, the loss of a text (`eval`), sampling |
//! | [`train`] | the two training loops, the language model's training state |
//! | [`gradients`] | the vanishing gradient measured: ‖∂E/∂h_{T−k}‖ against the lag k, per cell |
//! | [`checkpoint`] | what `model.safetensors` holds: the model (`sample`, `eval`) and a training run (`--resume`) |
//! | [`report`] | tables, curves, summaries, the closing report |
//!
//! The command line (`src/main.rs`, `src/cli.rs`, `src/commands.rs`) sits on top of them, on
//! the run session of `shared::session`.
//!
//! [`CharLm::forward`]: model::CharLm::forward
//! [`CharLm::backward`]: model::CharLm::backward
//! [`FastStack::forward_fast`]: fast::FastStack::forward_fast
//! [`FastStack::backward_fast`]: fast::FastStack::backward_fast
//! [`FastLm::forward_fast`]: fast::charlm::FastLm::forward_fast
//! [`FastLm::backward_fast`]: fast::charlm::FastLm::backward_fast
//! [`AddingNet::forward`]: model::AddingNet::forward
//! [`AddingNet::backward`]: model::AddingNet::backward
//! [`FastAdding::forward_fast`]: fast::adding::FastAdding::forward_fast
//! [`FastAdding::backward_fast`]: fast::adding::FastAdding::backward_fast

#![allow(non_snake_case)]

pub mod checkpoint;
pub mod data;
pub mod fast;
pub mod gradients;
pub mod lm;
pub mod model;
pub mod report;
pub mod train;

pub use model::{Cell, Gru, Lstm, Rnn, Stack};
