//! `train --dtype f32`: the f32 engine against the f64 notes layer to f32 precision, an f32 run
//! that learns as the f64 one does, and through the binary an f32 run that resumes bit for bit,
//! records its type (a resume in f64 is refused) and that `eval` and `nearest` read.

use ngram_lm::fast::{self, FastGrads, FastModel};
use ngram_lm::model::Grads;
use ngram_lm::{Gram, Hyper, Model, Trainer, train_epoch};
use shared::rng;
use shared::testing::{self, assert_user_error, ok};
use std::path::Path;
use std::process::Output;

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_ngram-lm");

/// f32's unit roundoff, 2⁻²⁴.
const U32: f64 = 5.960_464_477_539_063e-8;

/// max |a − b| / max |b|.
fn rel(a: &nalgebra::DMatrix<f64>, b: &nalgebra::DMatrix<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    (a - b).amax() / b.amax()
}

#[test]
#[allow(non_snake_case)]
fn the_f32_engine_agrees_with_the_notes_layer_to_f32_precision() {
    let mut r = rng::seeded(5);
    for (V, D, H, B) in [(250, 50, 200, 100), (40, 6, 10, 20)] {
        // Weights as training leaves them (std 0.3, not the 0.01 of the start, so that the
        // sigmoid and softmax are far from their linear, uniform regime).
        let mut m = Model::new(V, D, H, 0.3, &mut r);
        m.b1 = shared::init::normal(H, 1, 0.0, 0.3, &mut r);
        m.b2 = shared::init::normal(V, 1, 0.0, 0.3, &mut r);
        let m32 = FastModel::<f32>::from_model(&m);
        // The notes layer on the very weights the f32 engine holds (exactly widened).
        let model = m32.to_model();
        let grams: Vec<Gram> = (0..B)
            .map(|_| std::array::from_fn(|_| rng::below(&mut r, V)))
            .collect();
        let c = model.forward(&grams);
        let want = model.backward(&c, 0.1);
        let mut fc = fast::Cache::new(&m32, B);
        let mut fg = FastGrads::zeros_like(&m32);
        fast::forward(&m32, &grams, &mut fc);
        fast::backward(&m32, &mut fc, &mut fg, 0.1);
        let got = fg.to_model();
        // Each value is a sum of at most max(3D, H, V) = 250 products rounded in f32 (errors
        // adding up like u·√250 ≈ 16u when independent) after a few roundings of its inputs
        // (sigmoid, exp, the 1/B): 32u ≈ 2e-6. A wrong index is an error of order 1.
        let tol = 32.0 * U32;
        let Grads {
            dW0,
            dW1,
            db1,
            dW2,
            db2,
        } = &want;
        let widen = |x: &nalgebra::DMatrix<f32>| x.map(f64::from);
        let (fX2, y) = (widen(&fc.fX2), widen(&fc.y));
        // y = softmax(X3): an absolute error δ in the logits is a relative error δ in y, and the
        // logits' δ is up to u·Σ_h |W2_hv f_h| + u·|b2_v| (their sums of absolute terms, S ≈ 24
        // at V = 250), before and after the max is subtracted: 2S·u on top.
        let S = (model.W2.abs().transpose() * c.fX2.abs()).max() + model.b2.amax();
        let tol_y = tol + 2.0 * S * U32;
        let e = rel(&y, &c.y);
        println!("V {V}: y relative error {e:.1e} (S = {S:.1})");
        assert!(e < tol_y, "V {V}: y relative error {e:e}");
        for (name, a, b) in [
            ("f(X2)", &fX2, &c.fX2),
            ("dW0", &got.dW0, dW0),
            ("dW1", &got.dW1, dW1),
            ("db1", &got.db1, db1),
            ("dW2", &got.dW2, dW2),
            ("db2", &got.db2, db2),
        ] {
            let e = rel(a, b);
            println!("V {V}: {name} relative error {e:.1e}");
            assert!(e < tol, "V {V}: {name} relative error {e:e}");
        }
        let (lf, ln) = (fc.loss(), c.loss());
        println!("V {V}: loss {lf} vs {ln}");
        assert!((lf - ln).abs() < tol * ln, "loss {lf} vs {ln}");
        // It is f32 arithmetic, not f64 in disguise.
        assert!(rel(&got.dW1, dW1) > 1e-12);
    }
}

#[test]
fn an_f32_run_learns_as_the_f64_run_does() {
    let data = common::tiny_corpus(2000, 7);
    let held_out = common::tiny_corpus(200, 99);
    let hyper = Hyper {
        embed: 8,
        hidden: 16,
        batch: 20,
        ..Hyper::default()
    };
    let n = common::WORDS.len();
    let mut t64 = Trainer::<f64>::new(n, &hyper, &mut rng::seeded(11)).unwrap();
    let mut t32 = Trainer::<f32>::new(n, &hyper, &mut rng::seeded(11)).unwrap();
    let mut gap = 0.0f64;
    for epoch in 0..10 {
        let a = train_epoch(&mut t64, &data, &[], hyper.batch, |_| {}).unwrap();
        let b = train_epoch(&mut t32, &data, &[], hyper.batch, |_| {}).unwrap();
        println!("epoch {epoch}: mean batch CE f64 {a:.6}, f32 {b:.6}");
        gap = gap.max((a - b).abs() / a);
    }
    let (a, b) = (
        fast::cross_entropy(&t64.model, &held_out),
        fast::cross_entropy(&t32.model, &held_out),
    );
    println!("held-out CE f64 {a:.2e}, f32 {b:.2e}; largest gap of the epoch CEs {gap:.1e}");
    // Both learn the tiny language (tests/model.rs's f64 bound).
    assert!(a < 0.01 && b < 0.01, "{a}, {b}");
    // Momentum SGD at lr 0.1 does not amplify rounding differences: the f32 curve stays on the
    // f64 one (they differ by f32's rounding of 1000 updates, not by a different trajectory).
    assert!(gap < 1e-3, "the epoch CEs part by {gap}");
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn run(args: &[&str]) -> Output {
    testing::run(BIN, args)
}

#[test]
fn the_binary_trains_resumes_and_evaluates_in_f32() {
    let dir = tempfile::tempdir().unwrap();
    let (whole, half) = (dir.path().join("whole"), dir.path().join("half"));
    let train = |out: &Path, epochs: &str| {
        // SMALL without its --epochs 2.
        let small = [&common::SMALL[..2], &common::SMALL[4..]].concat();
        let base = [&["train", "--dtype", "f32", "-q"][..], &small].concat();
        let args = testing::args_with_out(&base, out, &["--epochs", epochs]);
        run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    ok(&train(&whole, "3"), "f32 run of 3 epochs");
    ok(&train(&half, "2"), "f32 run of 2 epochs");
    // --dtype is a flag of the run: typed otherwise on resume, it is refused by name.
    let resume = |extra: &[&str]| {
        let base = ["train", "--resume", s(&half), "--epochs", "3", "-q"];
        run(&[&base[..], extra].concat())
    };
    let o = resume(&["--dtype", "f64"]);
    assert_user_error(
        &o,
        "--dtype changed on resume",
        &["error: --dtype:", "f32", "f64"],
    );
    ok(&resume(&[]), "f32 resume to 3 epochs");
    testing::assert_same_outputs(&half, &whole, &["model.safetensors", "loss.csv"]);
    // eval reads the f32 model and runs it in f32: the library's f32 number.
    let t = ngram_lm::checkpoint::load_trained(&whole.join("model.safetensors")).unwrap();
    assert_eq!(t.dtype, shared::cli::Dtype::F32);
    let ids: Vec<usize> = (0..8).map(|i| (i * 7) % t.vocab.len()).collect();
    let line: Vec<&str> = ids.iter().map(|&i| t.vocab.word(i)).collect();
    let text = dir.path().join("text.txt");
    std::fs::write(&text, format!("{}\n", line.join(" ")).repeat(20)).unwrap();
    let o = run(&["eval", s(&text), "--model", s(&whole)]);
    ok(&o, "eval of an f32 model");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.lines().next().unwrap().contains(", f32"), "{out}");
    let grams: Vec<Gram> = (0..20)
        .flat_map(|_| ids.windows(4).map(|w| [w[0], w[1], w[2], w[3]]))
        .collect();
    let ce = fast::cross_entropy(&FastModel::<f32>::from_model(&t.model), &grams);
    assert!(
        out.contains(&format!("cross-entropy: {ce:.4} nats per word")),
        "{out} vs {ce}"
    );
    // nearest reads its embeddings (widened to f64).
    let o = run(&["nearest", line[0], "--model", s(&whole)]);
    ok(&o, "nearest on an f32 model");
}
