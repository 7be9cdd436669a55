//! The notes layer (`model.rs`) against finite differences and the notes' worked facts, and the
//! training path (`fast.rs`) on what it adds: reused caches, learning, generation.
#![allow(non_snake_case)]

use rnn_lm::fast::{self, Cache as FastCache, Net};
use rnn_lm::gradcheck::gradient_check;
use rnn_lm::{Bptt, Grads, Rnn};
use shared::gradcheck::{self, Report};
use shared::rng;

mod common;
use common::tiny_corpus;

/// Gradient checks of U, W, V for one sentence, where `loss` is the function whose gradient
/// `bptt` claims to be.
fn check_all(
    model: &mut Rnn,
    x: &[usize],
    t: &[usize],
    bptt: Bptt,
    loss: impl Fn(&Rnn) -> f64,
) -> [(&'static str, Report); 3] {
    let cache = model.forward(x);
    let mut g = Grads::new(model);
    model.backward(&cache, t, bptt, &mut g);
    [
        ("U", gradcheck::check(model, |m| &mut m.U, &g.dU, &loss)),
        ("W", gradcheck::check(model, |m| &mut m.W, &g.dW, &loss)),
        ("V", gradcheck::check(model, |m| &mut m.V, &g.dV, &loss)),
    ]
}

/// The gradients of one sentence by the notes layer.
fn grads(model: &Rnn, x: &[usize], t: &[usize], bptt: Bptt) -> Grads {
    let mut g = Grads::new(model);
    model.backward(&model.forward(x), t, bptt, &mut g);
    g
}

fn assert_passes(reports: &[(&str, Report); 3], what: &str) {
    for (name, r) in reports {
        assert!(r.max_rel_error < 1e-6, "{what} d{name}: {r:?}");
        assert!(
            r.max_abs_numeric > 1e-3,
            "{what} d{name} compared ~zeros: {r:?}"
        );
    }
}

// Sizes for the 1e-6 contract: every word of the small vocabulary is in the sentence, so no
// gradient entry is a near-zero that finite differences cannot resolve (the sentence loss is
// ≈ 12–20, so each difference quotient carries ≈ 1e-12 of rounding noise). Several seeds, so
// that a pass is not one lucky draw.
const XS: [usize; 6] = [0, 3, 5, 3, 7, 2]; // START w w w w w; word 3 twice (dU adds twice)
const TS: [usize; 6] = [3, 5, 3, 7, 2, 1]; // ... END

#[test]
fn full_bptt_matches_finite_differences() {
    for seed in 0..4 {
        let mut model = Rnn::new(8, 6, &mut rng::seeded(seed));
        let loss = |m: &Rnn| m.forward(&XS).loss(&TS);
        let reports = check_all(&mut model, &XS, &TS, Bptt::Full, loss);
        assert_passes(&reports, &format!("full BPTT, seed {seed}"));
    }
}

#[test]
fn truncated_bptt_is_the_exact_gradient_of_the_truncated_loss() {
    for seed in 0..3 {
        let mut model = Rnn::new(8, 6, &mut rng::seeded(seed));
        for K in [0, 1, 2, 4] {
            let frozen = model.forward(&XS);
            let loss = |m: &Rnn| m.truncated_surrogate_loss(&frozen, &TS, K);
            // The surrogate is the sentence loss at the unperturbed weights.
            assert!((loss(&model) - frozen.loss(&TS)).abs() < 1e-12);
            let reports = check_all(&mut model, &XS, &TS, Bptt::Truncated(K), loss);
            assert_passes(&reports, &format!("truncated K = {K}, seed {seed}"));
        }
    }
}

#[test]
fn the_tutorials_gradient_check_passes() {
    // Britz: np.random.seed(10); RNNNumpy(100, 10, bptt_truncate=1000) on [0,1,2,3] → [1,2,3,4],
    // every element |a − n| / (|a| + |n|) < 0.01 (his criterion; 0/0, which his NaN let pass,
    // counts only when both are exactly 0). Words 5..99 are not in the sentence, so many dV
    // entries are ≈ 1e-6: there the rounding noise of the loss (≈ 5e-12) is what a relative
    // error measures. So: his criterion, plus an absolute bound far below the entries' scale.
    let mut model = Rnn::new(100, 10, &mut rng::seeded(10));
    let (x, t) = ([0, 1, 2, 3], [1, 2, 3, 4]);
    for c in gradient_check(&mut model, &x, &t, Bptt::Truncated(1000)) {
        let r = c.report;
        assert!(c.tutorial_error < 0.01, "d{}: {}", c.name, c.tutorial_error);
        assert!(
            r.max_abs_error < 1e-10 && r.max_abs_numeric > 1e-2,
            "d{}: {r:?}",
            c.name
        );
    }
    // The same check catches a wrong gradient: a truncated backward pass (K = 1) compared
    // with finite differences of the full loss fails it.
    let wrong = grads(&model, &x, &t, Bptt::Truncated(0));
    let loss = |m: &Rnn| m.forward(&x).loss(&t);
    let r = gradcheck::check(&mut model, |m| &mut m.W, &wrong.dW, loss);
    assert!(r.max_abs_error > 1e-6, "{r:?}");
}

#[test]
fn truncated_bptt_is_not_the_full_gradient_when_k_is_short() {
    // The surrogate check above would pass vacuously if truncation changed nothing.
    let model = Rnn::new(12, 6, &mut rng::seeded(4));
    let (x, t) = ([0, 3, 5, 3, 7, 2, 9], [3, 5, 3, 7, 2, 9, 1]);
    let (gt, gf) = (
        grads(&model, &x, &t, Bptt::Truncated(1)),
        grads(&model, &x, &t, Bptt::Full),
    );
    assert!((&gt.dW - &gf.dW).norm() > 1e-3 * gf.dW.norm());
    assert_eq!(gt.dV, gf.dV, "dV has no path through time");
}

#[test]
fn truncation_at_k_at_least_t_minus_1_equals_full_bptt() {
    let model = Rnn::new(30, 8, &mut rng::seeded(2));
    let x: Vec<usize> = vec![0, 4, 9, 4, 17, 29, 3, 11, 8];
    let t: Vec<usize> = x[1..].iter().copied().chain([1]).collect();
    let T = x.len();
    let full = grads(&model, &x, &t, Bptt::Full);
    for K in [T - 1, T, 4 * T, usize::MAX] {
        let g = grads(&model, &x, &t, Bptt::Truncated(K));
        for (name, a, b) in [
            ("dU", &g.dU, &full.dU),
            ("dW", &g.dW, &full.dW),
            ("dV", &g.dV, &full.dV),
        ] {
            let diff = (a - b).abs().max();
            assert!(
                diff <= 1e-13 * b.abs().max(),
                "K = {K}: {name} differs by {diff}"
            );
        }
    }
    // One step short of T − 1 is not full BPTT any more.
    let g = grads(&model, &x, &t, Bptt::Truncated(T - 2));
    assert!((&g.dW - &full.dW).abs().max() > 0.0);
}

#[test]
fn untrained_loss_is_ln_of_the_vocabulary_size() {
    // The tutorial: "Expected Loss for random predictions: 8.987197, Actual loss: 8.987440".
    let (N_x, N_h) = (8000, 100);
    let model = Rnn::new(N_x, N_h, &mut rng::seeded(10));
    let mut r = rng::seeded(11);
    let sentences: Vec<Vec<usize>> = (0..100)
        .map(|_| {
            let n = 5 + rng::below(&mut r, 30);
            (0..n).map(|_| rng::below(&mut r, N_x)).collect()
        })
        .collect();
    assert_eq!(model.num_params(), 1_610_000);
    let model = Net::from(model);
    let mut cache = FastCache::new(&model, 40);
    let loss = fast::loss(
        &model,
        sentences.iter().map(|s| (&s[..s.len() - 1], &s[1..])),
        &mut cache,
    );
    let expected = (N_x as f64).ln();
    assert!((expected - 8.987197).abs() < 1e-6);
    assert!(
        (loss - expected).abs() < 1e-3,
        "untrained loss {loss} vs ln {N_x} = {expected}"
    );
}

#[test]
fn a_reused_fast_cache_gives_the_same_numbers_as_fresh_ones() {
    let model = Net::from(Rnn::new(20, 5, &mut rng::seeded(8)));
    let long: Vec<usize> = (0..19).collect();
    let short = [3, 1, 4];
    let mut cache = FastCache::new(&model, 1); // grows on the long sentence
    let a1 = fast::sentence_loss(&model, &long[..18], &long[1..], &mut cache);
    let b1 = fast::sentence_loss(&model, &short[..2], &short[1..], &mut cache);
    let a2 = fast::sentence_loss(
        &model,
        &long[..18],
        &long[1..],
        &mut FastCache::new(&model, 18),
    );
    let b2 = fast::sentence_loss(
        &model,
        &short[..2],
        &short[1..],
        &mut FastCache::new(&model, 2),
    );
    assert_eq!((a1, b1), (a2, b2));
}

#[test]
fn a_short_run_learns_the_tiny_language() {
    let sentences = tiny_corpus(200, 5);
    let pairs = || sentences.iter().map(|s| (&s[..s.len() - 1], &s[1..]));
    let mut model = Net::from(Rnn::new(13, 16, &mut rng::seeded(1)));
    let mut cache = FastCache::new(&model, 8);
    let before = fast::loss(&model, pairs(), &mut cache);
    for _ in 0..10 {
        for (x, t) in pairs() {
            fast::sgd_step(&mut model, x, t, Bptt::Truncated(4), 0.05, &mut cache);
        }
    }
    let after = fast::loss(&model, pairs(), &mut cache);
    // Untrained: about ln 13 = 2.565. The language's entropy per target word is
    // (ln 2 + ln 4) / 5 = 0.416 nats (article and noun are free, the rest is determined).
    assert!(before > 2.4, "{before}");
    eprintln!("tiny language: loss {before} → {after}");
    assert!(after < 0.45, "loss {before} → {after}");
}

#[test]
fn generation_never_emits_the_unknown_word_and_ends_at_sentence_end() {
    let mut model = Rnn::new(10, 6, &mut rng::seeded(6));
    let (start, end, unknown) = (0, 1, 9);
    // Make UNKNOWN_TOKEN by far the likeliest output (score +8 over the rest).
    model.V.row_mut(unknown).fill(0.0);
    model.U.fill(0.5);
    model.V.row_mut(unknown).fill(8.0 / (6.0 * 0.5f64.tanh()));
    let mut r = rng::seeded(7);
    let mut ended = 0;
    for _ in 0..200 {
        let s = fast::generate(&model, &[start], end, &[unknown], 50, 1.0, &mut r);
        assert!(!s.words.contains(&unknown) && !s.words.contains(&end));
        ended += s.ended as usize;
    }
    assert!(ended > 150, "only {ended} of 200 reached SENTENCE_END");
    // Without the exclusion UNKNOWN_TOKEN is nearly every word: the test above is not vacuous.
    let s = fast::generate(&model, &[start], end, &[], 50, 1.0, &mut r);
    let unknowns = s.words.iter().filter(|&&w| w == unknown).count();
    assert!(unknowns > s.words.len() / 2, "{s:?}");
}

#[test]
fn temperature_zero_takes_the_most_likely_word_after_the_prime() {
    let model = Rnn::new(12, 5, &mut rng::seeded(8));
    let (start, end, never) = (0, 1, [0, 11]);
    // The notes layer's y_i after the prefix: the most likely word that may be emitted.
    let argmax = |prefix: &[usize]| {
        let y = model
            .forward(prefix)
            .Y()
            .column(prefix.len() - 1)
            .clone_owned();
        (0..12)
            .filter(|w| !never.contains(w))
            .max_by(|&a, &b| y[a].total_cmp(&y[b]).then(b.cmp(&a)))
            .unwrap()
    };
    for prefix in [vec![start], vec![start, 4], vec![start, 7, 3]] {
        let draws: Vec<_> = [1, 2]
            .iter()
            .map(|&seed| {
                fast::generate(&model, &prefix, end, &never, 6, 0.0, &mut rng::seeded(seed))
            })
            .collect();
        assert_eq!(draws[0], draws[1], "τ = 0 draws nothing");
        // Each word is the argmax after everything before it.
        let mut seen = prefix.clone();
        for &w in &draws[0].words {
            assert_eq!(w, argmax(&seen), "after {seen:?}");
            seen.push(w);
        }
        if draws[0].ended {
            assert_eq!(argmax(&seen), end);
        }
    }
    // A high temperature flattens the distribution: over many draws more distinct first words.
    let first = |tau: f64| {
        let mut r = rng::seeded(3);
        let words: std::collections::BTreeSet<usize> = (0..300)
            .filter_map(|_| {
                fast::generate(&model, &[start], end, &never, 1, tau, &mut r)
                    .words
                    .first()
                    .copied()
            })
            .collect();
        words.len()
    };
    assert!(
        first(0.05) < first(5.0),
        "{} vs {}",
        first(0.05),
        first(5.0)
    );
}

#[test]
fn backward_runs_on_the_sentence_its_cache_was_computed_from() {
    // Two sentences of the same length: a forward pass on the second between the first's
    // forward and backward passes cannot mix them up, because the backward pass reads the
    // words from the cache.
    let model = Rnn::new(12, 5, &mut rng::seeded(9));
    let (a, t_a) = ([0, 3, 5, 7, 2], [3, 5, 7, 2, 1]);
    let b = [0, 9, 9, 4, 11];
    for bptt in [Bptt::Truncated(2), Bptt::Full] {
        let cache_a = model.forward(&a);
        let cache_b = model.forward(&b);
        assert_eq!(cache_a.x(), a);
        assert_eq!(cache_b.x(), b);
        let mut g = Grads::new(&model);
        model.backward(&cache_a, &t_a, bptt, &mut g);
        assert_eq!(g, grads(&model, &a, &t_a, bptt), "{bptt:?}");
        // The other sentence's gradients differ (so the comparison above is not vacuous).
        let mut other = Grads::new(&model);
        model.backward(&cache_b, &t_a, bptt, &mut other);
        assert!((&other.dU - &g.dU).abs().max() > 1e-3, "{bptt:?}");
    }
}

#[test]
#[should_panic(expected = "one target per input word")]
fn backward_refuses_targets_of_another_length() {
    let model = Rnn::new(12, 5, &mut rng::seeded(9));
    let cache = model.forward(&[0, 3, 5]);
    model.backward(&cache, &[3, 5, 7, 1], Bptt::Full, &mut Grads::new(&model));
}
