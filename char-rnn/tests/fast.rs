//! The engine path (`fast`) against the notes layer (`model`): the same loss and all five
//! gradients to ~1e-12 on several sizes, the same probabilities when sampling, and clipping
//! that skips dU's zero columns equal to clipping everything.
#![allow(non_snake_case)]

use char_rnn::CharRnn;
use char_rnn::fast;
use char_rnn::fast::{FastGrads, FastRnn};
use nalgebra::{DMatrix, DVector};
use shared::rng;

/// A model with weights large enough that tanh is non-linear and the softmax far from uniform,
/// and a recurrent matrix W of spectral radius ≈ 1.2 at every N_h (entries N(0, 1.2²/N_h)).
/// A much larger W makes the recurrence chaotic: it then amplifies the last-bit differences of
/// the two tanh implementations step by step (with W's entries N(0, 0.4²) at N_h = 100, s_24
/// differs by 6e-9 and dW by 2e-7), which measures the weights' conditioning, not whether the
/// two paths compute the same thing.
fn lively_model(N_x: usize, N_h: usize, seed: u64) -> CharRnn {
    let mut r = rng::seeded(seed);
    let mut m = CharRnn::new(N_x, N_h, &mut r);
    m.U *= 40.0;
    m.W = shared::init::normal(N_h, N_h, 0.0, 1.2 / (N_h as f64).sqrt(), &mut r);
    m.V *= 40.0;
    m.b_h = shared::init::normal(N_h, 1, 0.0, 0.2, &mut r);
    m.b_y = shared::init::normal(N_x, 1, 0.0, 0.2, &mut r);
    m
}

/// The relative error of `a` as an approximation of the tensor `b`: max |a − b| / max |b|.
fn rel(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    (a - b).amax() / b.amax()
}

#[test]
fn fast_path_equals_the_notes_layer_on_loss_and_all_five_gradients() {
    // (N_x, N_h, T): the reference's sizes, T = 1, N_h not a multiple of 4 (matvec_acc's
    // blocks), N_h = 1, and the gradient check's sizes.
    for (N_x, N_h, T, seed) in [
        (65, 100, 25, 1),
        (6, 9, 25, 2),
        (7, 13, 1, 3),
        (29, 7, 10, 4),
        (3, 1, 5, 5),
        (11, 50, 33, 6),
    ] {
        let model = lively_model(N_x, N_h, seed);
        let mut r = rng::seeded(seed + 100);
        let text: Vec<usize> = (0..T + 1).map(|_| rng::below(&mut r, N_x)).collect();
        let (x, targets) = (&text[..T], &text[1..]);
        let s_prev = DVector::from_fn(N_h, |i, _| ((i + 1) as f64 * 0.7).sin() * 0.8); // N_h × 1
        let notes = model.forward(x, targets, &s_prev);
        let want = model.backward(&notes);
        let fm = FastRnn::<f64>::from_model(&model);
        let mut cache = fast::Cache::new(N_x, N_h, T);
        let mut got = FastGrads::zeros_like(&fm);
        let loss = fast::loss_and_grads(&fm, x, targets, &s_prev, &mut cache, &mut got);
        let got = got.to_model();
        let what = format!("N_x = {N_x}, N_h = {N_h}, T = {T}");
        assert!(notes.loss > 0.1, "{what}: the loss is not trivial");
        assert!(
            (loss - notes.loss).abs() <= 1e-12 * notes.loss,
            "{what}: loss {loss} vs {}",
            notes.loss
        );
        let last = DMatrix::from_column_slice(N_h, 1, cache.last_state().as_slice());
        let want_last = DMatrix::from_column_slice(N_h, 1, notes.last_state().as_slice());
        assert!(rel(&last, &want_last) < 1e-12, "{what}: s_(T-1)");
        for (name, a, b) in [
            ("dU", &got.dU, &want.dU),
            ("dW", &got.dW, &want.dW),
            ("dV", &got.dV, &want.dV),
            ("db_h", &got.db_h, &want.db_h),
            ("db_y", &got.db_y, &want.db_y),
        ] {
            let e = rel(a, b);
            println!("{what}: {name} relative error {e:.1e}");
            assert!(e < 1e-12, "{what}: {name} relative error {e:e}");
            assert!(b.amax() > 1e-3, "{what}: {name} is ~0");
        }
    }
}

#[test]
fn fast_sampling_follows_the_notes_layer() {
    let (N_x, N_h) = (9, 14);
    let m = lively_model(N_x, N_h, 8);
    let fm = FastRnn::<f64>::from_model(&m);
    let (mut s, mut a, mut p) = (
        DVector::zeros(N_h),
        DVector::zeros(N_h),
        DVector::zeros(N_x),
    );
    let mut s_notes = DVector::zeros(N_h);
    for (k, c) in [3, 1, 4, 1, 5, 8, 2, 6].into_iter().enumerate() {
        fast::feed(&fm, &mut s, c, &mut a);
        s_notes = m.step(&s_notes, c);
        assert!((&s - &s_notes).amax() < 1e-12, "state after {k} characters");
        for tau in [1.0, 0.5] {
            fast::probabilities(&fm, &s, tau, &mut p);
            let q = m.probabilities(&s_notes, tau);
            assert!(
                (&p - &q).amax() < 1e-12,
                "probabilities after {k} characters, τ = {tau}"
            );
        }
    }
    // With the same generator both samplers draw the same characters (they could part only
    // where a uniform draw falls within ~1e-15 of a boundary between two characters).
    let drawn = fast::sample(
        &fm,
        &mut DVector::zeros(N_h),
        2,
        100,
        1.0,
        &mut rng::seeded(4),
    );
    let notes = m.sample(&mut DVector::zeros(N_h), 2, 100, 1.0, &mut rng::seeded(4));
    assert_eq!(drawn, notes);
    // τ = 0: both take the largest score, and draw nothing (the generator is not touched).
    let (mut r1, mut r2) = (rng::seeded(4), rng::seeded(5));
    let greedy = fast::sample(&fm, &mut DVector::zeros(N_h), 2, 100, 0.0, &mut r1);
    let notes = m.sample(&mut DVector::zeros(N_h), 2, 100, 0.0, &mut r2);
    assert_eq!(greedy, notes);
    assert_eq!(r1, rng::seeded(4));
    let mut several = greedy.clone();
    several.sort();
    several.dedup();
    assert!(several.len() >= 2, "{greedy:?}");
}

#[test]
fn clipping_only_the_seen_columns_of_dU_equals_clipping_everything() {
    let (N_x, N_h, T) = (12, 10, 30);
    let model = lively_model(N_x, N_h, 9);
    // A chunk that uses only some characters, so dU has zero columns.
    let text: Vec<usize> = (0..T + 1).map(|t| [0, 3, 5, 7][t % 4]).collect();
    let (x, targets) = (&text[..T], &text[1..]);
    let fm = FastRnn::<f64>::from_model(&model);
    let mut g = FastGrads::zeros_like(&fm);
    let mut cache = fast::Cache::new(N_x, N_h, T);
    fast::loss_and_grads(&fm, x, targets, &DVector::zeros(N_h), &mut cache, &mut g);
    assert!(
        g.dU.amax() > 1.0,
        "some entries exceed the limit: {}",
        g.dU.amax()
    );
    let mut all = g.to_model();
    all.clip(1.0);
    fast::clip_seen(&mut g, 1.0, &[0, 3, 5, 7]);
    assert_eq!(g.to_model(), all);
}
