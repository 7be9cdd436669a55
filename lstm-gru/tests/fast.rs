//! The engine (`lstm_gru::fast`, what training runs) against the notes layer
//! (`lstm_gru::model`, what the gradient checks verify): the same outputs, loss and every
//! gradient for each cell, a stack and both output layers, at several sizes (odd ones
//! included), with batch 1 (the matrix–vector path) and larger, and across a chunk boundary
//! (the engine's carried state against the model's last state).
//!
//! In f64 within 1e-12 of the largest entry. In f32 the notes layer (f64) runs on the very
//! numbers the engine holds (weights and inputs rounded to f32 first), so what differs is f32
//! arithmetic alone: each value is a few dot products of at most 17 terms deep through at most
//! 9 steps and 3 layers and their transposes, some 50 roundings of u = 2⁻²⁴ ≈ 6e-8 each in the
//! worst case, about 3e-6 relative; the bound is 1e-5 of the largest entry.
#![allow(non_snake_case)]

use lstm_gru::data::adding_batch;
use lstm_gru::fast::adding::FastAdding;
use lstm_gru::fast::charlm::FastLm;
use lstm_gru::fast::{Cache, FastCell, FastStack, Float, Grads, Kernels, Layer, narrow, widen};
use lstm_gru::model::rnn::Activation;
use lstm_gru::model::{self, AddingNet, Cell, CharLm, Gru, Lstm, Rnn, Stack};
use nalgebra::{DMatrix, DMatrixView};
use shared::cli::Dtype;
use shared::rng;

/// The bound, relative to the largest entry, for an engine in `F` (see the module doc).
fn tolerance<F: Float>() -> f64 {
    if F::DTYPE == Dtype::F64 { 1e-12 } else { 1e-5 }
}

/// |fast − model| ≤ tolerance · max |model| entrywise, on a tensor that is not ~0.
fn close<F: Kernels>(what: &str, fast: DMatrixView<'_, F>, model: &DMatrix<f64>) {
    assert_eq!(fast.shape(), model.shape(), "{what}: shapes");
    let scale = model.amax();
    assert!(scale > 1e-6, "{what}: ~0 tests nothing ({scale})");
    let diff = (fast.map(F::as_f64) - model).amax();
    let tol = tolerance::<F>();
    assert!(
        diff <= tol * scale,
        "{what} ({}): {diff:e} against {scale:e}",
        F::DTYPE
    );
}

/// Uniform in [−1, 1), rounded to `F` (and back: the numbers an engine in `F` holds).
fn random<F: Kernels>(rows: usize, cols: usize, seed: u64) -> DMatrix<f64> {
    let m = shared::init::uniform(rows, cols, -1.0, 1.0, &mut rng::seeded(seed));
    widen(&narrow::<F>(&m))
}

/// (D, H, T, B): batch 1 and larger; H = 17 leaves remainders in the matrix–vector kernels.
const SIZES: [(usize, usize, usize, usize); 4] =
    [(3, 4, 5, 1), (3, 4, 5, 2), (6, 17, 9, 1), (5, 8, 7, 3)];

fn close_grads<F: Kernels>(what: &str, fast: &Grads<F>, model: &model::Grads) {
    for (name, (f, m)) in ["dW_xh", "dW_hh", "db_h"]
        .iter()
        .zip(fast.list().into_iter().zip(model.list()))
    {
        close(&format!("{what} {name}"), f.columns(0, f.ncols()), m);
    }
}

/// Two chunks: the first from zero states, the second from where the first ended.
fn cell_case<C: FastCell, F: Kernels>() {
    cell_case_with::<C, F>(C::new);
}

/// [`cell_case`] for the cells that `make` builds.
fn cell_case_with<C: FastCell, F: Kernels>(make: fn(usize, usize, &mut rng::Rng) -> C) {
    for (k, (D, H, T, B)) in SIZES.into_iter().enumerate() {
        let seed = 10 * k as u64;
        let mut cell = make(D, H, &mut rng::seeded(seed));
        let what = format!("{} D={D} H={H} T={T} B={B}", cell.label());
        let b = cell.params_mut().pop().expect("bias last");
        *b = random::<F>(b.nrows(), 1, seed + 1) * 0.5;
        let fast = cell.to_layer::<F>();
        let cell = C::from_layer(&fast); // the engine's numbers, in f64
        let (X0, X1, dH) = (
            random::<F>(D, T * B, seed + 2),
            random::<F>(D, T * B, seed + 3),
            random::<F>(H, T * B, seed + 4),
        );
        let (X0f, X1f, dHf) = (narrow::<F>(&X0), narrow::<F>(&X1), narrow::<F>(&dH));

        let mut cache = fast.fast_cache(T, B);
        fast.forward_fast(X0f.columns(0, T * B), &mut cache);
        let first = cell.forward(&X0, B, &cell.zero_state(B));
        close(
            &format!("{what} h, chunk 1"),
            cache.outputs(),
            &C::outputs(&first),
        );
        cache.carry();
        let start = C::last_state(&first);
        for (i, (f, m)) in cache.initial_state().iter().zip(&start).enumerate() {
            close(&format!("{what} carried state {i}"), f.columns(0, B), m);
        }

        fast.forward_fast(X1f.columns(0, T * B), &mut cache);
        let (mut grads, mut dX) = (Grads::zeros(&fast), DMatrix::zeros(D, T * B));
        fast.backward_fast(
            X1f.columns(0, T * B),
            &mut cache,
            dHf.columns(0, T * B),
            &mut grads,
            Some(&mut dX),
        );
        // The model continues from its own state: the engine's carried one up to rounding.
        let second = cell.forward(&X1, B, &start);
        let (want, want_dX) = cell.backward(&second, &dH);
        close(
            &format!("{what} h, chunk 2"),
            cache.outputs(),
            &C::outputs(&second),
        );
        close_grads(&what, &grads, &want);
        close(&format!("{what} dX"), dX.columns(0, T * B), &want_dX);
    }
}

#[test]
fn cells_match_the_notes_layer() {
    cell_case::<Rnn, f64>();
    cell_case::<Lstm, f64>();
    cell_case::<Gru, f64>();
}

#[test]
fn cells_in_f32_match_the_notes_layer_to_f32_precision() {
    cell_case::<Rnn, f32>();
    cell_case::<Lstm, f32>();
    cell_case::<Gru, f32>();
}

fn stack_case<C: FastCell, F: Kernels>() {
    for (D, H, T, B) in [(3, 4, 5, 1), (5, 6, 4, 3)] {
        let what = format!("{} stack D={D} H={H} T={T} B={B}", C::NAME);
        let fast = FastStack::<C, F>::from_model(&Stack::new(D, H, 3, &mut rng::seeded(5)));
        let stack = fast.to_model();
        let (X, dY) = (random::<F>(D, T * B, 6), random::<F>(H, T * B, 7));
        let (Xf, dYf) = (narrow::<F>(&X), narrow::<F>(&dY));
        let mut cache = fast.fast_cache(T, B);
        fast.forward_fast(Xf.columns(0, T * B), &mut cache);
        let mut grads = fast.zero_grads();
        fast.backward_fast(
            Xf.columns(0, T * B),
            &mut cache,
            dYf.columns(0, T * B),
            &mut grads,
        );
        let model = stack.forward(&X, B, &stack.zero_state(B));
        close(
            &format!("{what} y"),
            cache.outputs(),
            &Stack::outputs(&model),
        );
        let (want, _) = stack.backward(&model, &dY);
        for (l, (g, w)) in grads.iter().zip(&want).enumerate() {
            close_grads(&format!("{what} layer {l}"), g, w);
        }
    }
}

/// The ReLU RNN as an IRNN looks after some training: W_hh = I + a random matrix, random
/// W_xh and biases, units on and off (f' = 1 or 0).
fn irnn(D: usize, H: usize, rng: &mut rng::Rng) -> Rnn {
    let rnn = Rnn::new(D, H, rng);
    Rnn {
        W_hh: DMatrix::identity(H, H) + rnn.W_hh * 0.5,
        f: Activation::Relu,
        ..rnn
    }
}

#[test]
fn relu_rnn_matches_the_notes_layer() {
    cell_case_with::<Rnn, f64>(irnn);
    cell_case_with::<Rnn, f32>(irnn);
}

#[test]
fn stacks_match_the_notes_layer() {
    stack_case::<Rnn, f64>();
    stack_case::<Lstm, f64>();
    stack_case::<Gru, f64>();
    stack_case::<Rnn, f32>();
    stack_case::<Lstm, f32>();
    stack_case::<Gru, f32>();
}

/// Loss and every gradient of the language model over two chunks (carried states), B = 1 and 3.
fn charlm_case<C: FastCell, F: Kernels>() {
    let (V, H, L, T) = (7, 6, 2, 4);
    let fast = FastLm::<C, F>::from_model(&CharLm::new(V, H, L, &mut rng::seeded(8)));
    let model = fast.to_model();
    for B in [1, 3] {
        let ids: Vec<usize> = (0..2 * T * B + 1).map(|k| (k * k + 3 * k) % V).collect();
        let mut cache = fast.fast_cache(T, B);
        let mut state = model.rnn.zero_state(B);
        for chunk in 0..2 {
            let what = format!("{} charlm B={B} chunk {chunk}", C::NAME);
            let (inputs, targets) = (
                &ids[chunk * T * B..(chunk + 1) * T * B],
                &ids[chunk * T * B + 1..(chunk + 1) * T * B + 1],
            );
            let mut grads = fast.zero_grads();
            let loss = fast.backward_fast(inputs, targets, &mut cache, &mut grads);
            let (want_loss, mcache) = model.forward(inputs, targets, B, &state);
            let want = model.backward(&mcache);
            assert!(
                (loss - want_loss).abs() <= tolerance::<F>() * want_loss,
                "{what}: loss {loss} vs {want_loss}"
            );
            for (i, (g, w)) in grads.list().into_iter().zip(want.list()).enumerate() {
                close(&format!("{what} gradient {i}"), g.columns(0, g.ncols()), w);
            }
            cache.rnn.carry();
            state = Stack::last_state(&mcache.rnn);
        }
    }
}

#[test]
fn the_language_model_matches_the_notes_layer() {
    charlm_case::<Rnn, f64>();
    charlm_case::<Lstm, f64>();
    charlm_case::<Gru, f64>();
    charlm_case::<Rnn, f32>();
    charlm_case::<Lstm, f32>();
    charlm_case::<Gru, f32>();
}

fn adding_case<F: Kernels>() {
    for B in [1, 4] {
        let fast = FastAdding::<Gru, F>::from_model(&AddingNet::new(5, 2, &mut rng::seeded(9)));
        let net = fast.to_model();
        let mut b = adding_batch(6, B, &mut rng::seeded(10));
        b.X = widen(&narrow::<F>(&b.X));
        let mut cache = fast.fast_cache(6, B);
        let mut grads = fast.zero_grads();
        let Xf = narrow::<F>(&b.X);
        let mse = fast.backward_fast(Xf.columns(0, Xf.ncols()), &b.target, &mut cache, &mut grads);
        let (want_mse, mcache) = net.forward(&b.X, &b.target);
        assert!(
            (mse - want_mse).abs() <= tolerance::<F>() * want_mse,
            "B={B}: {mse} vs {want_mse}"
        );
        for (i, (g, w)) in grads
            .list()
            .into_iter()
            .zip(net.backward(&mcache).list())
            .enumerate()
        {
            close(
                &format!("adding B={B} gradient {i}"),
                g.columns(0, g.ncols()),
                w,
            );
        }
    }
}

#[test]
fn the_adding_net_matches_the_notes_layer() {
    adding_case::<f64>();
    adding_case::<f32>();
}
