//! The engine (`lstm_gru::fast`, what training runs) against the notes layer
//! (`lstm_gru::model`, what the gradient checks verify): the same outputs, loss and every
//! gradient, within 1e-12 of the largest entry, for each cell, a stack and both output layers,
//! at several sizes (odd ones included), with batch 1 (the matrix–vector path) and larger, and
//! across a chunk boundary (the engine's carried state against the model's last state).
#![allow(non_snake_case)]

use lstm_gru::data::adding_batch;
use lstm_gru::fast::{Cache, FastCell};
use lstm_gru::model::rnn::Activation;
use lstm_gru::model::{AddingNet, Cell, CharLm, Grads, Gru, Lstm, Rnn, Stack};
use nalgebra::{DMatrix, DMatrixView};
use shared::rng;

/// |fast − model| ≤ 1e-12 · max |model| entrywise, on a tensor that is not ~0.
fn close(what: &str, fast: DMatrixView<'_, f64>, model: &DMatrix<f64>) {
    assert_eq!(fast.shape(), model.shape(), "{what}: shapes");
    let scale = model.amax();
    assert!(scale > 1e-6, "{what}: ~0 tests nothing ({scale})");
    let diff = (fast - model).amax();
    assert!(diff <= 1e-12 * scale, "{what}: {diff:e} against {scale:e}");
}

fn random(rows: usize, cols: usize, seed: u64) -> DMatrix<f64> {
    shared::init::uniform(rows, cols, -1.0, 1.0, &mut rng::seeded(seed))
}

/// (D, H, T, B): batch 1 and larger; H = 17 leaves remainders in the matrix–vector kernels.
const SIZES: [(usize, usize, usize, usize); 4] =
    [(3, 4, 5, 1), (3, 4, 5, 2), (6, 17, 9, 1), (5, 8, 7, 3)];

fn close_grads(what: &str, fast: &Grads, model: &Grads) {
    for (name, (f, m)) in ["dW_xh", "dW_hh", "db_h"]
        .iter()
        .zip(fast.list().into_iter().zip(model.list()))
    {
        close(&format!("{what} {name}"), f.columns(0, f.ncols()), m);
    }
}

/// Two chunks: the first from zero states, the second from where the first ended.
fn cell_case<C: FastCell>() {
    cell_case_with(C::new);
}

/// [`cell_case`] for the cells that `make` builds.
fn cell_case_with<C: FastCell>(make: fn(usize, usize, &mut rng::Rng) -> C) {
    for (k, (D, H, T, B)) in SIZES.into_iter().enumerate() {
        let seed = 10 * k as u64;
        let mut cell = make(D, H, &mut rng::seeded(seed));
        let what = format!("{} D={D} H={H} T={T} B={B}", cell.label());
        let b = cell.params_mut().pop().expect("bias last");
        *b = random(b.nrows(), 1, seed + 1) * 0.5;
        let (X0, X1, dH) = (
            random(D, T * B, seed + 2),
            random(D, T * B, seed + 3),
            random(H, T * B, seed + 4),
        );

        let mut cache = cell.fast_cache(T, B);
        cell.forward_fast(X0.columns(0, T * B), &mut cache);
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

        cell.forward_fast(X1.columns(0, T * B), &mut cache);
        let (mut grads, mut dX) = (Grads::zeros(&cell), DMatrix::zeros(D, T * B));
        cell.backward_fast(
            X1.columns(0, T * B),
            &mut cache,
            dH.columns(0, T * B),
            &mut grads,
            Some(&mut dX),
        );
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
    cell_case::<Rnn>();
    cell_case::<Lstm>();
    cell_case::<Gru>();
}

fn stack_case<C: FastCell>() {
    for (D, H, T, B) in [(3, 4, 5, 1), (5, 6, 4, 3)] {
        let what = format!("{} stack D={D} H={H} T={T} B={B}", C::NAME);
        let stack: Stack<C> = Stack::new(D, H, 3, &mut rng::seeded(5));
        let (X, dY) = (random(D, T * B, 6), random(H, T * B, 7));
        let mut cache = stack.fast_cache(T, B);
        stack.forward_fast(X.columns(0, T * B), &mut cache);
        let mut grads: Vec<Grads> = stack.layers.iter().map(Grads::zeros).collect();
        stack.backward_fast(
            X.columns(0, T * B),
            &mut cache,
            dY.columns(0, T * B),
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
#[test]
fn relu_rnn_matches_the_notes_layer() {
    cell_case_with(|D, H, rng| {
        let rnn = Rnn::new(D, H, rng);
        Rnn {
            W_hh: DMatrix::identity(H, H) + rnn.W_hh * 0.5,
            f: Activation::Relu,
            ..rnn
        }
    });
}

#[test]
fn stacks_match_the_notes_layer() {
    stack_case::<Rnn>();
    stack_case::<Lstm>();
    stack_case::<Gru>();
}

/// Loss and every gradient of the language model over two chunks (carried states), B = 1 and 3.
fn charlm_case<C: FastCell>() {
    let (V, H, L, T) = (7, 6, 2, 4);
    let model: CharLm<C> = CharLm::new(V, H, L, &mut rng::seeded(8));
    for B in [1, 3] {
        let ids: Vec<usize> = (0..2 * T * B + 1).map(|k| (k * k + 3 * k) % V).collect();
        let mut cache = model.fast_cache(T, B);
        let mut state = model.rnn.zero_state(B);
        for chunk in 0..2 {
            let what = format!("{} charlm B={B} chunk {chunk}", C::NAME);
            let (inputs, targets) = (
                &ids[chunk * T * B..(chunk + 1) * T * B],
                &ids[chunk * T * B + 1..(chunk + 1) * T * B + 1],
            );
            let mut grads = model.zero_grads();
            let loss = model.backward_fast(inputs, targets, &mut cache, &mut grads);
            let (want_loss, mcache) = model.forward(inputs, targets, B, &state);
            let want = model.backward(&mcache);
            assert!(
                (loss - want_loss).abs() <= 1e-12 * want_loss,
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
    charlm_case::<Rnn>();
    charlm_case::<Lstm>();
    charlm_case::<Gru>();
}

#[test]
fn the_adding_net_matches_the_notes_layer() {
    for B in [1, 4] {
        let net: AddingNet<Gru> = AddingNet::new(5, 2, &mut rng::seeded(9));
        let b = adding_batch(6, B, &mut rng::seeded(10));
        let mut cache = net.fast_cache(6, B);
        let mut grads = net.zero_grads();
        let mse = net.backward_fast(
            b.X.columns(0, b.X.ncols()),
            &b.target,
            &mut cache,
            &mut grads,
        );
        let (want_mse, mcache) = net.forward(&b.X, &b.target);
        assert!(
            (mse - want_mse).abs() <= 1e-12 * want_mse,
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
