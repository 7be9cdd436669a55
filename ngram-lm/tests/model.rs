//! §1's shapes, the one-hot form of the gather and scatter, the gradient check of every
//! parameter, and short training runs on a tiny made-up language.

#![allow(non_snake_case)]

use nalgebra::DMatrix;
use ngram_lm::words;
use ngram_lm::{CONTEXT, Gram, Hyper, Model, Trainer, train_epoch};
use shared::data::text::Vocab;
use shared::gradcheck::check;
use shared::rng;

mod common;
use common::{WORDS, tiny_corpus, train_tiny};

/// A tiny model with weights large enough that every gradient entry is well away from zero.
fn tiny(V: usize, D: usize, H: usize, seed: u64) -> Model {
    let mut m = Model::new(V, D, H, 0.5, &mut rng::seeded(seed));
    m.b1 = shared::init::normal(H, 1, 0.0, 0.3, &mut rng::seeded(seed + 1));
    m.b2 = shared::init::normal(V, 1, 0.0, 0.3, &mut rng::seeded(seed + 2));
    m
}

/// Cases that reuse words, including a word twice in one case (the scatter-add must sum).
fn some_grams() -> Vec<Gram> {
    vec![
        [0, 1, 2, 3],
        [4, 4, 1, 0],
        [2, 5, 6, 2],
        [6, 0, 0, 5],
        [3, 3, 3, 3],
        [1, 2, 4, 6],
    ]
}

#[test]
fn shapes_of_section_1() {
    // The notes' sizes: V 250, D 50, H 200, B 100.
    let h = Hyper::default();
    assert_eq!((h.batch, h.embed, h.hidden), (100, 50, 200));
    assert_eq!(
        (h.lr, h.momentum, h.init_wt, h.weight_decay),
        (0.1, 0.9, 0.01, 0.0)
    );
    let mut trainer = Trainer::new(250, &h, &mut rng::seeded(1)).unwrap();
    let m = &trainer.model;
    assert_eq!(m.W0.shape(), (250, 50));
    assert_eq!(m.W1.shape(), (150, 200));
    assert_eq!(m.b1.shape(), (200, 1));
    assert_eq!(m.W2.shape(), (200, 250));
    assert_eq!(m.b2.shape(), (250, 1));
    let batch: Vec<Gram> = (0..100)
        .map(|n| [n, (n * 7) % 250, (n * 13) % 250, n % 250])
        .collect();
    trainer.step(&batch);
    let b = &trainer.buf;
    assert_eq!(b.X1.shape(), (150, 100), "X1");
    assert_eq!(b.fX2.shape(), (200, 100), "X2");
    assert_eq!(b.y.shape(), (250, 100), "X3");
    assert_eq!(b.dX3.shape(), (250, 100));
    assert_eq!(b.dX2.shape(), (200, 100));
    assert_eq!(b.dX1.shape(), (150, 100));
    let g = &trainer.grads;
    assert_eq!(g.dW2.shape(), (200, 250));
    assert_eq!(g.dW1.shape(), (150, 200));
    assert_eq!(g.dW0.shape(), (250, 50));
    assert_eq!((g.db1.nrows(), g.db2.nrows()), (200, 250));
}

#[test]
fn initial_cross_entropy_is_ln_250() {
    // All weights zero: every word gets 1/250, CE = ln 250 = 5.521461 (the quiz answer).
    let mut m = Model::new(250, 50, 200, 0.0, &mut rng::seeded(1));
    m.W0.fill(0.0);
    let grams: Vec<Gram> = (0..300).map(|n| [n % 250, 3, 7, (n * 31) % 250]).collect();
    assert!((m.cross_entropy(&grams) - 5.521461).abs() < 1e-6);
    // With the assignment's N(0, 0.01²) init it is still within a hair of ln 250.
    let m = Model::new(250, 50, 200, 0.01, &mut rng::seeded(1));
    let ce = m.cross_entropy(&grams);
    assert!((ce - 250f64.ln()).abs() < 0.05, "{ce}");
}

#[test]
#[allow(clippy::needless_range_loop)] // i is the notes' block index of K_i and dX1ᵢ
fn gather_and_scatter_equal_the_one_hot_products() {
    // Eq. (1) with the K_i built explicitly: X1 = [W0ᵀK1; W0ᵀK2; W0ᵀK3] and dW0 = Σ K_i dX1ᵢᵀ.
    let (V, D, H) = (7, 3, 5);
    let m = tiny(V, D, H, 3);
    let grams = some_grams();
    let B = grams.len();
    let mut buf = m.buffers(B);
    let mut grads = m.zero_grads();
    m.forward(&grams, &mut buf);
    m.backward(&grams, &mut buf, &mut grads, 0.0);
    let mut dW0 = DMatrix::zeros(V, D);
    for i in 0..CONTEXT {
        let K = DMatrix::from_fn(V, B, |w, n| f64::from(grams[n][i] == w)); // V × B
        let block = m.W0.transpose() * &K; // D × B
        approx::assert_relative_eq!(buf.X1.rows(i * D, D).into_owned(), block, epsilon = 1e-15);
        dW0 += &K * buf.dX1.rows(i * D, D).transpose();
    }
    approx::assert_relative_eq!(grads.dW0, dW0, epsilon = 1e-15);
    // Word 3 is used three times by case 4 and once by case 0: all four contributions count.
    assert!(grads.dW0.row(3).norm() > 0.0);
}

#[test]
fn gradient_check_every_parameter() {
    let (V, D, H) = (7, 3, 5);
    let grams = some_grams();
    for lambda in [0.0, 0.3] {
        let mut m = tiny(V, D, H, 5);
        let mut buf = m.buffers(grams.len());
        let mut g = m.zero_grads();
        m.forward(&grams, &mut buf);
        m.backward(&grams, &mut buf, &mut g, lambda);
        let loss = |m: &Model| m.objective(&grams, lambda);
        let reports = [
            ("W0", check(&mut m, |m| &mut m.W0, &g.dW0, loss)),
            ("W1", check(&mut m, |m| &mut m.W1, &g.dW1, loss)),
            ("b1", check(&mut m, |m| &mut m.b1, &g.db1, loss)),
            ("W2", check(&mut m, |m| &mut m.W2, &g.dW2, loss)),
            ("b2", check(&mut m, |m| &mut m.b2, &g.db2, loss)),
        ];
        for (name, r) in reports {
            println!("λ = {lambda}: d{name}: {r:?}");
            assert!(r.max_rel_error < 1e-6, "λ = {lambda}, d{name}: {r:?}");
            assert!(
                r.max_abs_numeric > 1e-3,
                "λ = {lambda}, d{name} is ~0: {r:?}"
            );
        }
    }
}

#[test]
fn training_drives_the_cross_entropy_down() {
    // The targets are a function of the context, so the floor is 0; ln 14 = 2.64 at the start.
    let held_out = tiny_corpus(200, 99);
    let (t0, _) = train_tiny(0);
    let before = t0.model.cross_entropy(&held_out);
    assert!((before - 14f64.ln()).abs() < 0.01, "{before}");
    let (t, ces) = train_tiny(10);
    println!("epoch CEs: {ces:?}");
    assert!(ces.windows(2).all(|w| w[1] < w[0]), "{ces:?}");
    let after = t.model.cross_entropy(&held_out);
    assert!(after < 0.01, "held-out CE {after}");
}

#[test]
fn nearest_predict_and_distance_on_a_tiny_trained_model() {
    let (t, _) = train_tiny(10);
    let m = &t.model;
    let vocab = Vocab::from_words(WORDS.map(String::from).to_vec()).unwrap();
    let id = |w: &str| vocab.id(w).unwrap();
    // The two other modals are the nearest words to `could`.
    let near: Vec<&str> = words::nearest(m, id("could"), 2)
        .iter()
        .map(|&(w, _)| vocab.word(w))
        .collect();
    println!("nearest could: {near:?}");
    assert!(near.contains(&"can") && near.contains(&"will"), "{near:?}");
    // "you could see" → "it", almost surely; the probabilities sum to 1.
    let p = words::predict(m, [id("you"), id("could"), id("see")], 3);
    assert_eq!(vocab.word(p[0].0), "it");
    assert!(p[0].1 > 0.9, "{p:?}");
    assert!(p[0].1 >= p[1].1 && p[1].1 >= p[2].1);
    let all = m.next_word([id("we"), id("can"), id("go")]);
    assert!((all.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    // Distance: symmetric, zero to itself, and what `nearest` reports.
    let (a, b) = (id("could"), id("can"));
    assert_eq!(words::distance(m, a, a), 0.0);
    assert_eq!(words::distance(m, a, b), words::distance(m, b, a));
    let d_near = words::nearest(m, a, 13);
    let can = d_near.iter().find(|&&(w, _)| w == b).unwrap();
    assert_eq!(can.1, words::distance(m, a, b));
    assert!(words::distance(m, a, b) < words::distance(m, a, id("food")));
}

#[test]
fn same_seed_same_model_and_save_load_round_trip() {
    let (a, _) = train_tiny(2);
    let (b, _) = train_tiny(2);
    assert_eq!(a.model, b.model);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("model.safetensors");
    a.model.save(&p).unwrap();
    assert_eq!(Model::load(&p).unwrap(), a.model);
}

#[test]
fn a_batch_larger_than_the_data_is_a_flag_error() {
    let mut t = Trainer::new(14, &Hyper::default(), &mut rng::seeded(1)).unwrap();
    let e = train_epoch(&mut t, &tiny_corpus(10, 1), &[], 100, |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("--batch:"), "{e}");
}
