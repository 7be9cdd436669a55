//! The backward pass against finite differences, for both costs and several sequence lengths;
//! the bit encoding against the notes' 9 + 60 table.

#![allow(non_snake_case)]

use nalgebra::DMatrix;
use rnn_adder::{Adder, Cost, Sequence, binary, random_addend};
use shared::gradcheck::check;
use shared::rng;

/// Picks one weight matrix of the model.
type Param = fn(&mut Adder) -> &mut DMatrix<f64>;

/// Checks the notes' dW (= −∂E/∂W) of all three matrices against finite differences of E.
fn gradcheck(N_h: usize, T: usize, cost: Cost, seed: u64) {
    let mut r = rng::seeded(seed);
    let mut model = Adder::new(N_h, &mut r);
    // a is odd so that x_0 ≠ 0 (else dW_xh could be all zero); T = 1 has room for 1 + 0 only.
    let (a, b) = match T {
        1 => (1, 0),
        _ => (random_addend(T, &mut r) | 1, random_addend(T, &mut r)),
    };
    let seq = Sequence::of(a, b, T);
    let (mut cache, mut g) = (model.cache(T), model.grads());
    model.forward(&seq, &mut cache);
    model.backward(&cache, cost, &mut g);
    let E = |m: &Adder| m.cost(&seq, cost);
    let grads: [(&str, Param, DMatrix<f64>); 3] = [
        ("W_xh", |m| &mut m.W_xh, -&g.dW_xh),
        ("W_hh", |m| &mut m.W_hh, -&g.dW_hh),
        ("W_hy", |m| &mut m.W_hy, -&g.dW_hy),
    ];
    for (name, param, analytic) in grads {
        let rep = check(&mut model, param, &analytic, E);
        let what = format!("{name}, {cost:?}, N_h = {N_h}, T = {T}: {rep:?}");
        assert!(rep.max_rel_error < 1e-6, "{what}");
        if name == "W_hh" && T == 1 {
            // One step: h_{−1} = 0, so E does not depend on W_hh at all.
            assert_eq!(analytic.norm(), 0.0, "{what}");
            assert!(rep.max_abs_numeric < 1e-12, "{what}");
        } else {
            assert!(
                rep.max_abs_numeric > 1e-4,
                "the check compared near-zeros: {what}"
            );
        }
    }
}

#[test]
fn bptt_matches_finite_differences_for_the_l2_cost() {
    for (T, seed) in [(1, 1), (2, 2), (3, 3), (5, 4), (8, 5), (12, 6)] {
        gradcheck(4, T, Cost::L2, seed);
    }
    gradcheck(16, 8, Cost::L2, 7);
}

#[test]
fn bptt_matches_finite_differences_for_the_logistic_cost() {
    for (T, seed) in [(1, 11), (2, 12), (3, 13), (5, 14), (8, 15), (12, 16)] {
        gradcheck(4, T, Cost::Logistic, seed);
    }
    gradcheck(16, 8, Cost::Logistic, 17);
}

#[test]
fn a_wrong_sign_or_a_missing_factor_would_be_caught() {
    // The check is not vacuous: the L² gradient is not the logistic one (they differ by the
    // y(1 − y) factor the notes drop), so checking one against the other's cost fails.
    let mut model = Adder::new(4, &mut rng::seeded(3));
    let seq = Sequence::of(9, 60, 8);
    let (mut cache, mut g) = (model.cache(8), model.grads());
    model.forward(&seq, &mut cache);
    model.backward(&cache, Cost::Logistic, &mut g);
    let wrong = -&g.dW_hy;
    let rep = check(
        &mut model,
        |m| &mut m.W_hy,
        &wrong,
        |m| m.cost(&seq, Cost::L2),
    );
    assert!(rep.max_rel_error > 0.1, "{rep:?}");
}

#[test]
fn the_update_is_descent() {
    // W ← W + α dW with the notes' dW = −∂E/∂W lowers E for a small α.
    for cost in [Cost::L2, Cost::Logistic] {
        let mut model = Adder::new(16, &mut rng::seeded(4));
        let seq = Sequence::of(100, 27, 8);
        let before = model.cost(&seq, cost);
        let (mut cache, mut g) = (model.cache(8), model.grads());
        model.train_step(&seq, cost, 1e-3, &mut cache, &mut g);
        assert!(model.cost(&seq, cost) < before, "{cost:?}");
    }
}

#[test]
fn nine_plus_sixty_is_the_notes_table() {
    // Notes §6: 9 (00001001) + 60 (00111100) = 69 (01000101), fed least significant bit first.
    let seq = Sequence::of(9, 60, 8);
    let a_bits = [1, 0, 0, 1, 0, 0, 0, 0];
    let b_bits = [0, 0, 1, 1, 1, 1, 0, 0];
    let y_bits = [1, 0, 1, 0, 0, 0, 1, 0];
    for i in 0..8 {
        assert_eq!(seq.X[(0, i)], a_bits[i] as f64, "a, time {i}");
        assert_eq!(seq.X[(1, i)], b_bits[i] as f64, "b, time {i}");
        assert_eq!(seq.t[i], y_bits[i] as f64, "t, time {i}");
    }
    assert_eq!(binary(69, 8), "01000101");
    assert_eq!(seq.c(), 69);
    // The widest case: two 63-bit addends, a 64-bit sum.
    let big = Sequence::of(u64::MAX >> 1, u64::MAX >> 1, 64);
    assert_eq!(big.t[0], 0.0);
    assert_eq!(big.t[63], 1.0);
}

#[test]
#[should_panic(expected = "does not fit")]
fn a_sum_too_wide_for_the_sequence_is_a_bug() {
    Sequence::of(200, 100, 8);
}

#[test]
fn backward_differentiates_the_example_its_cache_was_filled_with() {
    // The cache keeps the example of its forward pass: a backward pass cannot pair one
    // example's h_i, y_i with another example's bits.
    let model = Adder::new(8, &mut rng::seeded(21));
    let (a, b) = (Sequence::of(9, 60, 8), Sequence::of(100, 27, 8));
    let (mut cache_a, mut cache_b) = (model.cache(8), model.cache(8));
    model.forward(&a, &mut cache_a);
    model.forward(&b, &mut cache_b);
    assert_eq!(cache_a.seq, a);
    let (mut from_a, mut from_b, mut fresh) = (model.grads(), model.grads(), model.grads());
    model.backward(&cache_a, Cost::L2, &mut from_a);
    model.backward(&cache_b, Cost::L2, &mut from_b);
    let mut cache = model.cache(8);
    model.forward(&a, &mut cache);
    model.backward(&cache, Cost::L2, &mut fresh);
    assert_eq!(from_a, fresh);
    assert_ne!(from_a.dW_xh, from_b.dW_xh);
}
