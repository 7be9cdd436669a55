//! The training path (`fast.rs`) against the notes layer (`model.rs`): the same states,
//! outputs and loss, and after one SGD step the same weights and hence the same gradients, on
//! several sizes, for truncated and full BPTT.
#![allow(non_snake_case)]

use nalgebra::{DMatrix, DMatrixView};
use rnn_lm::fast::{self, Cache as FastCache, Net};
use rnn_lm::{Bptt, Grads, Rnn};
use shared::rng;

/// max |a − b| / max |b|: the error relative to the scale of the reference.
fn rel(a: DMatrixView<f64>, b: &DMatrix<f64>) -> f64 {
    (a - b).abs().max() / b.abs().max()
}

/// A model and a random sentence (inputs and targets) of `T` words.
fn setup(N_x: usize, N_h: usize, T: usize, seed: u64) -> (Rnn, Vec<usize>, Vec<usize>) {
    let model = Rnn::new(N_x, N_h, &mut rng::seeded(seed));
    let mut r = rng::seeded(seed + 100);
    let ids: Vec<usize> = (0..=T).map(|_| rng::below(&mut r, N_x)).collect();
    (model, ids[..T].to_vec(), ids[1..].to_vec())
}

/// (N_x, N_h, T, BPTT, threads): tiny; past the kernels' tiles and blocks; the tutorial's size
/// (8000 × 100, where --threads 2 really splits the products).
const CASES: [(usize, usize, usize, Bptt, usize); 7] = [
    (7, 3, 4, Bptt::Truncated(0), 1),
    (13, 5, 6, Bptt::Truncated(2), 1),
    (40, 7, 9, Bptt::Full, 1),
    (300, 16, 25, Bptt::Truncated(4), 1),
    (803, 37, 13, Bptt::Truncated(20), 1),
    (8000, 100, 20, Bptt::Truncated(4), 1),
    (8000, 100, 20, Bptt::Full, 2),
];

#[test]
fn the_forward_pass_equals_the_notes_layer() {
    for (seed, (N_x, N_h, T, _, threads)) in CASES.into_iter().enumerate() {
        let (model, x, t) = setup(N_x, N_h, T, seed as u64);
        let want = model.forward(&x);
        let net = Net::from(model);
        let mut cache = FastCache::new(&net, 1).with_threads(threads).unwrap();
        let loss = fast::sentence_loss(&net, &x, &t, &mut cache);
        let case = format!("N_x = {N_x}, N_h = {N_h}, T = {T}");
        assert!(rel(cache.H(), want.H()) <= 1e-12, "h_i, {case}");
        assert!(rel(cache.Y(), want.Y()) <= 1e-12, "y_i, {case}");
        let L = want.loss(&t);
        assert!((loss - L).abs() <= 1e-12 * L, "L: {loss} vs {L}, {case}");
    }
}

#[test]
fn the_sgd_step_equals_the_notes_layers_backward_and_update() {
    let lr = 0.5;
    for (seed, (N_x, N_h, T, bptt, threads)) in CASES.into_iter().enumerate() {
        let (model, x, t) = setup(N_x, N_h, T, seed as u64);
        let case = format!("N_x = {N_x}, N_h = {N_h}, T = {T}, {bptt:?}");
        // The notes layer: forward, backward, update.
        let cache = model.forward(&x);
        let mut g = Grads::new(&model);
        model.backward(&cache, &t, bptt, &mut g);
        let mut want = model.clone();
        want.update(&g, lr);
        // The training path's fused step.
        let mut ours = Net::from(model.clone());
        let mut fast_cache = FastCache::new(&ours, 1).with_threads(threads).unwrap();
        let loss = fast::sgd_step(&mut ours, &x, &t, bptt, lr, &mut fast_cache);
        let L = cache.loss(&t);
        assert!((loss - L).abs() <= 1e-12 * L, "L: {loss} vs {L}, {case}");
        // The updated weights, and the gradients the step applied: (θ − θ') / lr.
        let mut worst = 0.0f64;
        for (name, before, after, target, d_theta) in [
            ("U", &model.U, &ours.U, &want.U, &g.dU),
            ("W", &model.W, &ours.W, &want.W, &g.dW),
            ("V", &model.V, &ours.V, &want.V, &g.dV),
        ] {
            let e = rel(after.as_view(), target);
            assert!(e <= 1e-12, "{name} after the step: {e:e}, {case}");
            let applied = (before - after) / lr;
            let e_grad = rel(applied.as_view(), d_theta);
            assert!(e_grad <= 1e-12, "d{name}: {e_grad:e}, {case}");
            worst = worst.max(e).max(e_grad);
        }
        eprintln!("{case}: largest relative difference {worst:.1e}");
    }
}

#[test]
fn a_step_that_changes_nothing_would_fail_the_comparison() {
    // The comparison above is not vacuous: the gradients are far from zero and a wrong
    // truncation shows. Truncated(1) in the fast step against Truncated(4) in the notes layer.
    let (model, x, t) = setup(300, 16, 25, 3);
    let mut g = Grads::new(&model);
    model.backward(&model.forward(&x), &t, Bptt::Truncated(4), &mut g);
    let mut ours = Net::from(model.clone());
    let mut cache = FastCache::new(&ours, 1);
    fast::sgd_step(&mut ours, &x, &t, Bptt::Truncated(1), 0.5, &mut cache);
    let applied = (&model.W - &ours.W) / 0.5;
    assert!(rel(applied.as_view(), &g.dW) > 1e-3);
    assert!(g.dW.abs().max() > 1e-3 && g.dV.abs().max() > 1e-3 && g.dU.abs().max() > 1e-3);
}
