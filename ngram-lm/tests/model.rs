//! §1's shapes, the gradient check of every parameter (on the notes layer, `model`), the
//! training path (`fast`) against the notes layer, X1 by matrix operations alone, and short
//! training runs on a tiny made-up language.

#![allow(non_snake_case)]

use nalgebra::DMatrix;
use ngram_lm::fast::{FastGrads, FastModel};
use ngram_lm::{CONTEXT, Grads, Gram, Hyper, Model, Trainer, train_epoch};
use ngram_lm::{checkpoint, fast, words};
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
    let mut trainer = Trainer::<f64>::new(250, &h, &mut rng::seeded(1)).unwrap();
    let m = &trainer.model.to_model();
    assert_eq!(m.W0.shape(), (250, 50));
    assert_eq!(m.W1.shape(), (150, 200));
    assert_eq!(m.b1.shape(), (200, 1));
    assert_eq!(m.W2.shape(), (200, 250));
    assert_eq!(m.b2.shape(), (250, 1));
    let batch: Vec<Gram> = (0..100)
        .map(|n| [n, (n * 7) % 250, (n * 13) % 250, n % 250])
        .collect();
    trainer.step(&batch);
    let b = &trainer.cache;
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
    // The notes layer's matrices have the same shapes, and K_i, t are V × B.
    let c = m.forward(&batch);
    let K_shapes = c.K.iter().map(|K| K.shape()).collect::<Vec<_>>();
    assert_eq!(K_shapes, [(250, 100); 3], "K1, K2, K3");
    assert_eq!(c.X1.shape(), (150, 100), "X1");
    assert_eq!(c.fX2.shape(), (200, 100), "X2");
    assert_eq!(
        (c.y.shape(), c.t.shape()),
        ((250, 100), (250, 100)),
        "X3, t"
    );
    assert_eq!(m.backward(&c, 0.0).dW0.shape(), (250, 50));
}

#[test]
fn initial_cross_entropy_is_ln_250() {
    // All weights zero: every word gets 1/250, CE = ln 250 = 5.521461 (the quiz answer).
    let mut m = Model::new(250, 50, 200, 0.0, &mut rng::seeded(1));
    m.W0.fill(0.0);
    let grams: Vec<Gram> = (0..300).map(|n| [n % 250, 3, 7, (n * 31) % 250]).collect();
    assert!(
        (fast::cross_entropy(&FastModel::<f64>::from_model(&m), &grams) - 5.521461).abs() < 1e-6
    );
    assert!((m.forward(&grams).loss() - 5.521461).abs() < 1e-6);
    // With the assignment's N(0, 0.01²) init it is still within a hair of ln 250.
    let m = Model::new(250, 50, 200, 0.01, &mut rng::seeded(1));
    let ce = fast::cross_entropy(&FastModel::<f64>::from_model(&m), &grams);
    assert!((ce - 250f64.ln()).abs() < 0.05, "{ce}");
}

/// max |a − b| / max(|a|, |b|) over the entries: the relative error of a whole matrix.
fn rel_error(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    (a - b).amax() / a.amax().max(b.amax()).max(f64::MIN_POSITIVE)
}

#[test]
fn the_training_path_gives_the_notes_layer_values_and_gradients() {
    // fast.rs (gather, scatter-add, kernels, buffers) against model.rs (the one-hot K_i and
    // plain products), at several sizes, with and without λ, on batches that reuse words.
    let mut r = rng::seeded(21);
    for (V, D, H, B) in [(7, 3, 5, 6), (40, 6, 10, 20), (250, 50, 200, 100)] {
        let mut grams: Vec<Gram> = (0..B)
            .map(|_| std::array::from_fn(|_| rng::below(&mut r, V)))
            .collect();
        grams[0] = [1, 1, 1, 2]; // a word three times in one case
        for lambda in [0.0, 0.3] {
            let m = tiny(V, D, H, V as u64);
            let c = m.forward(&grams);
            let g = m.backward(&c, lambda);
            let fm = FastModel::<f64>::from_model(&m);
            let mut fc = fast::Cache::new(&fm, B);
            let mut fg = FastGrads::zeros_like(&fm);
            fast::forward(&fm, &grams, &mut fc);
            fast::backward(&fm, &mut fc, &mut fg, lambda);
            // X1 is a copy of W0's rows either way: equal, bit for bit.
            assert_eq!(fc.X1, c.X1, "X1 at V {V}");
            let values = [("f(X2)", &fc.fX2, &c.fX2), ("y", &fc.y, &c.y)];
            let Grads {
                dW0,
                dW1,
                db1,
                dW2,
                db2,
            } = &g;
            let grads = [
                ("dW0", &fg.dW0, dW0),
                ("dW1", &fg.dW1, dW1),
                ("db1", &fg.db1, db1),
                ("dW2", &fg.dW2, dW2),
                ("db2", &fg.db2, db2),
            ];
            for (name, f, n) in values.into_iter().chain(grads) {
                let e = rel_error(f, n);
                println!("V {V} λ {lambda} {name}: {e:.1e}");
                assert!(e < 1e-12, "V {V}, λ {lambda}: {name} differs by {e:e}");
            }
            let (lf, ln) = (fc.loss(), c.loss());
            assert!((lf - ln).abs() <= 1e-13 * ln, "loss {lf} against {ln}");
        }
    }
}

#[test]
fn x1_by_matrix_operations_alone() {
    // The notes: "X1 is built by rearranging, not by matrix operations; whether it can be is
    // unknown". It can: X1 = (I₃ ⊗ W0ᵀ)[K1; K2; K3].
    let (V, D, H) = (7, 3, 5);
    let m = tiny(V, D, H, 3);
    let grams = some_grams();
    let c = m.forward(&grams);
    #[allow(clippy::toplevel_ref_arg)] // the lint fires inside nalgebra's `stack!`
    let K = nalgebra::stack![&c.K[0]; &c.K[1]; &c.K[2]]; // 3V × B
    let I3_W0t = DMatrix::<f64>::identity(CONTEXT, CONTEXT).kronecker(&m.W0.transpose()); // 3D × 3V
    assert_eq!((K.shape(), I3_W0t.shape()), ((3 * V, 6), (3 * D, 3 * V)));
    let X1 = &I3_W0t * &K; // 3D × B
    assert_eq!(X1, c.X1, "(I₃ ⊗ W0ᵀ)K against eq. (1)");
    // And column n of X1 stacks the embeddings (rows of W0) of case n's three words.
    for (n, g) in grams.iter().enumerate() {
        for (i, &w) in g[..CONTEXT].iter().enumerate() {
            let block = X1.view((i * D, n), (D, 1)).transpose();
            assert_eq!(block, m.W0.row(w), "case {n}, word {i}");
        }
    }
    // Differentiating the product: the diagonal blocks of dX1 Kᵀ are dX1ᵢ K_iᵀ, and their sum
    // is dW0ᵀ (W0ᵀ sits in all three).
    let g = m.backward(&c, 0.0);
    let dX3 = (&c.y - &c.t) / grams.len() as f64; // V × B
    let dX2 = (&m.W2 * &dX3).component_mul(&c.fX2.map(|f| f * (1.0 - f))); // H × B
    let dX1 = &m.W1 * &dX2; // 3D × B
    let dA = &dX1 * K.transpose(); // 3D × 3V, ∂E/∂(I₃ ⊗ W0ᵀ)
    let dW0t = (0..CONTEXT).fold(DMatrix::zeros(D, V), |s, i| {
        s + dA.view((i * D, i * V), (D, V))
    });
    assert!(rel_error(&dW0t.transpose(), &g.dW0) < 1e-14);
}

#[test]
fn gradient_check_every_parameter() {
    let (V, D, H) = (7, 3, 5);
    let grams = some_grams();
    for lambda in [0.0, 0.3] {
        let mut m = tiny(V, D, H, 5);
        let g = m.backward(&m.forward(&grams), lambda);
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
    let before = fast::cross_entropy(&t0.model, &held_out);
    assert!((before - 14f64.ln()).abs() < 0.01, "{before}");
    let (t, ces) = train_tiny(10);
    println!("epoch CEs: {ces:?}");
    assert!(ces.windows(2).all(|w| w[1] < w[0]), "{ces:?}");
    let after = fast::cross_entropy(&t.model, &held_out);
    assert!(after < 0.01, "held-out CE {after}");
}

#[test]
fn nearest_predict_and_distance_on_a_tiny_trained_model() {
    let (t, _) = train_tiny(10);
    let m = &t.model.to_model();
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
    let all = fast::next_word(&t.model, [id("we"), id("can"), id("go")]);
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
    let vocab = Vocab::from_words(WORDS.map(String::from).to_vec()).unwrap();
    checkpoint::save_model(&a.model.to_model(), &vocab, &p).unwrap();
    let back = checkpoint::load_trained(&p).unwrap();
    assert_eq!(back.model, a.model.to_model());
    assert_eq!(back.vocab.words(), vocab.words());
}

#[test]
fn a_batch_larger_than_the_data_is_a_flag_error() {
    let mut t = Trainer::<f64>::new(14, &Hyper::default(), &mut rng::seeded(1)).unwrap();
    let e = train_epoch(&mut t, &tiny_corpus(10, 1), &[], 100, |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("--batch:"), "{e}");
}
