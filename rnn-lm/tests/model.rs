//! The model against finite differences, the notes' worked facts, and its own fast paths.
#![allow(non_snake_case)]

use rnn_lm::{Bptt, Buffers, Grads, Rnn};
use shared::gradcheck::{self, Report};
use shared::rng;

/// Gradient checks of U, W, V for one sentence, where `loss` is the function whose gradient
/// `bptt` claims to be.
fn check_all(
    model: &mut Rnn,
    x: &[usize],
    t: &[usize],
    bptt: Bptt,
    loss: impl Fn(&Rnn) -> f64,
) -> [(&'static str, Report); 3] {
    let mut buf = Buffers::new(model, 1);
    let mut g = Grads::new(model);
    model.forward(x, &mut buf);
    model.backward(x, t, bptt, &mut buf, &mut g);
    [
        ("U", gradcheck::check(model, |m| &mut m.U, &g.dU, &loss)),
        ("W", gradcheck::check(model, |m| &mut m.W, &g.dW, &loss)),
        ("V", gradcheck::check(model, |m| &mut m.V, &g.dV, &loss)),
    ]
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
        let loss = |m: &Rnn| m.sentence_loss(&XS, &TS, &mut Buffers::new(m, 6));
        let reports = check_all(&mut model, &XS, &TS, Bptt::Full, loss);
        assert_passes(&reports, &format!("full BPTT, seed {seed}"));
    }
}

#[test]
fn truncated_bptt_is_the_exact_gradient_of_the_truncated_loss() {
    for seed in 0..3 {
        let mut model = Rnn::new(8, 6, &mut rng::seeded(seed));
        for K in [0, 1, 2, 4] {
            let mut buf = Buffers::new(&model, 6);
            model.forward(&XS, &mut buf);
            let frozen = buf.H.clone();
            let loss = |m: &Rnn| m.truncated_surrogate_loss(&XS, &TS, K, &frozen);
            // The surrogate is the sentence loss at the unperturbed weights.
            let l0 = model.sentence_loss(&XS, &TS, &mut buf);
            assert!((loss(&model) - l0).abs() < 1e-12);
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
    for c in rnn_lm::gradient_check(&mut model, &x, &t, Bptt::Truncated(1000)) {
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
    let mut buf = Buffers::new(&model, 4);
    let (mut g, mut wrong) = (Grads::new(&model), Grads::new(&model));
    model.forward(&x, &mut buf);
    model.backward(&x, &t, Bptt::Full, &mut buf, &mut g);
    model.forward(&x, &mut buf);
    model.backward(&x, &t, Bptt::Truncated(0), &mut buf, &mut wrong);
    let loss = |m: &Rnn| m.sentence_loss(&x, &t, &mut Buffers::new(m, 4));
    let r = gradcheck::check(&mut model, |m| &mut m.W, &wrong.dW, loss);
    assert!(r.max_abs_error > 1e-6, "{r:?}");
}

#[test]
fn truncated_bptt_is_not_the_full_gradient_when_k_is_short() {
    // The surrogate check above would pass vacuously if truncation changed nothing.
    let model = Rnn::new(12, 6, &mut rng::seeded(4));
    let (x, t) = ([0, 3, 5, 3, 7, 2, 9], [3, 5, 3, 7, 2, 9, 1]);
    let mut buf = Buffers::new(&model, 7);
    let (mut gt, mut gf) = (Grads::new(&model), Grads::new(&model));
    model.forward(&x, &mut buf);
    model.backward(&x, &t, Bptt::Truncated(1), &mut buf, &mut gt);
    model.forward(&x, &mut buf);
    model.backward(&x, &t, Bptt::Full, &mut buf, &mut gf);
    assert!((&gt.dW - &gf.dW).norm() > 1e-3 * gf.dW.norm());
    assert_eq!(gt.dV, gf.dV, "dV has no path through time");
}

#[test]
fn truncation_at_k_at_least_t_minus_1_equals_full_bptt() {
    let model = Rnn::new(30, 8, &mut rng::seeded(2));
    let x: Vec<usize> = vec![0, 4, 9, 4, 17, 29, 3, 11, 8];
    let t: Vec<usize> = x[1..].iter().copied().chain([1]).collect();
    let T = x.len();
    let mut buf = Buffers::new(&model, T);
    let mut full = Grads::new(&model);
    model.forward(&x, &mut buf);
    model.backward(&x, &t, Bptt::Full, &mut buf, &mut full);
    for K in [T - 1, T, 4 * T, usize::MAX] {
        let mut g = Grads::new(&model);
        model.forward(&x, &mut buf);
        model.backward(&x, &t, Bptt::Truncated(K), &mut buf, &mut g);
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
    let mut g = Grads::new(&model);
    model.forward(&x, &mut buf);
    model.backward(&x, &t, Bptt::Truncated(T - 2), &mut buf, &mut g);
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
    let mut buf = Buffers::new(&model, 40);
    let loss = model.loss(
        sentences.iter().map(|s| (&s[..s.len() - 1], &s[1..])),
        &mut buf,
    );
    let expected = (N_x as f64).ln();
    assert!((expected - 8.987197).abs() < 1e-6);
    assert!(
        (loss - expected).abs() < 1e-3,
        "untrained loss {loss} vs ln {N_x} = {expected}"
    );
    assert_eq!(model.num_params(), 1_610_000);
}

#[test]
fn the_sgd_step_is_backward_then_the_update() {
    let mut model = Rnn::new(40, 7, &mut rng::seeded(3));
    let (x, t) = (vec![0, 5, 5, 12, 39, 2], vec![5, 5, 12, 39, 2, 1]);
    let lr = 0.05;
    let mut buf = Buffers::new(&model, 2);
    for bptt in [Bptt::Truncated(2), Bptt::Full] {
        let mut g = Grads::new(&model);
        let loss = model.sentence_loss(&x, &t, &mut buf);
        model.backward(&x, &t, bptt, &mut buf, &mut g);
        let want = Rnn {
            U: &model.U - lr * &g.dU,
            W: &model.W - lr * &g.dW,
            V: &model.V - lr * &g.dV,
        };
        let step_loss = model.sgd_step(&x, &t, bptt, lr, &mut buf);
        assert_eq!(step_loss, loss);
        for (a, b) in [
            (&model.U, &want.U),
            (&model.W, &want.W),
            (&model.V, &want.V),
        ] {
            assert!((a - b).abs().max() < 1e-14);
        }
    }
}

#[test]
fn reused_buffers_give_the_same_numbers_as_fresh_ones() {
    let model = Rnn::new(20, 5, &mut rng::seeded(8));
    let long: Vec<usize> = (0..19).collect();
    let short = [3, 1, 4];
    let mut buf = Buffers::new(&model, 1); // grows on the long sentence
    let a1 = model.sentence_loss(&long[..18], &long[1..], &mut buf);
    let b1 = model.sentence_loss(&short[..2], &short[1..], &mut buf);
    let a2 = model.sentence_loss(&long[..18], &long[1..], &mut Buffers::new(&model, 18));
    let b2 = model.sentence_loss(&short[..2], &short[1..], &mut Buffers::new(&model, 2));
    assert_eq!((a1, b1), (a2, b2));
}

/// A tiny language: "START the|a <noun> <verb> . END" with nouns and verbs that agree.
fn tiny_corpus(n: usize, seed: u64) -> Vec<Vec<usize>> {
    // 0 START, 1 END, 2 ".", 3 the, 4 a, 5..8 nouns, 9..12 verbs (noun k takes verb k).
    let mut r = rng::seeded(seed);
    (0..n)
        .map(|_| {
            let noun = rng::below(&mut r, 4);
            vec![0, 3 + rng::below(&mut r, 2), 5 + noun, 9 + noun, 2, 1]
        })
        .collect()
}

#[test]
fn a_short_run_learns_the_tiny_language() {
    let sentences = tiny_corpus(200, 5);
    let pairs = || sentences.iter().map(|s| (&s[..s.len() - 1], &s[1..]));
    let mut model = Rnn::new(13, 16, &mut rng::seeded(1));
    let mut buf = Buffers::new(&model, 8);
    let before = model.loss(pairs(), &mut buf);
    for _ in 0..10 {
        for (x, t) in pairs() {
            model.sgd_step(x, t, Bptt::Truncated(4), 0.05, &mut buf);
        }
    }
    let after = model.loss(pairs(), &mut buf);
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
        let s = model.generate(start, end, &[unknown], 50, &mut r);
        assert!(!s.words.contains(&unknown) && !s.words.contains(&end));
        ended += s.ended as usize;
    }
    assert!(ended > 150, "only {ended} of 200 reached SENTENCE_END");
    // Without the exclusion UNKNOWN_TOKEN is nearly every word: the test above is not vacuous.
    let s = model.generate(start, end, &[], 50, &mut r);
    let unknowns = s.words.iter().filter(|&&w| w == unknown).count();
    assert!(unknowns > s.words.len() / 2, "{s:?}");
}
