//! `train --dtype f32`: the f32 engine against the f64 notes layer (states, outputs, loss and
//! the SGD step to f32 precision), an f32 run learns as the f64 one does, `--threads` gives the
//! same bytes in f32, and through the binary: the model file holds F32 tensors and says so,
//! `sample` and `eval` read it, Ctrl-C then `--resume` ends as the run never stopped, and a
//! resume in the other type is refused.
#![allow(non_snake_case)]

use nalgebra::DMatrix;
use rnn_lm::fast::{self, Cache, Net};
use rnn_lm::train::{Evaluation, Position, Schedule, train_with_sgd};
use rnn_lm::{Bptt, Grads, Rnn};
use shared::kernels::threads::MIN_WORK_PER_THREAD;
use shared::kernels::widen;
use shared::rng;
use shared::testing::{self, assert_user_error, ok};
use std::path::Path;

mod common;
use common::{fixture, tiny_corpus};

/// ‖a − b‖ / ‖b‖ (Frobenius), with ‖b‖ > 0.
fn relative(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    assert!(b.norm() > 0.0, "compared zeros");
    (a - b).norm() / b.norm()
}

/// f32's unit roundoff, 2⁻²⁴.
const U32: f64 = 5.960_464_477_539_063e-8;

#[test]
fn the_f32_step_equals_the_notes_layer_to_f32_precision() {
    let lr = 0.5;
    let cases = [
        (40, 7, 9, Bptt::Full),
        (300, 16, 25, Bptt::Truncated(4)),
        (8000, 100, 20, Bptt::Truncated(4)),
    ];
    for (seed, (N_x, N_h, T, bptt)) in cases.into_iter().enumerate() {
        let case = format!("N_x = {N_x}, N_h = {N_h}, T = {T}, {bptt:?}");
        let drawn = Rnn::new(N_x, N_h, &mut rng::seeded(seed as u64));
        let mut r = rng::seeded(seed as u64 + 50);
        let ids: Vec<usize> = (0..=T).map(|_| rng::below(&mut r, N_x)).collect();
        let (x, t) = (&ids[..T], &ids[1..]);
        // The f32 engine, and the notes layer at the same (f32-rounded) weights: what differs
        // is the arithmetic only.
        let mut net = Net::<f32>::from_model(&drawn);
        let model = net.to_model();
        let want = model.forward(x);
        let mut g = Grads::new(&model);
        model.backward(&want, t, bptt, &mut g);
        let mut cache = Cache::new(&net, 1);
        let L = fast::sgd_step(&mut net, x, t, bptt, lr, &mut cache);
        let L64 = want.loss(t);
        // Each state and output is a sum of N_h (+1) products, each −ln y a few roundings of
        // f32: about √N_h · u ≈ 1e-6 relative in practice, with room for the worst case.
        let e_H = relative(&widen(&cache.H().into_owned()), want.H());
        eprintln!("{case}: loss {L} (f32) vs {L64}, H {e_H:.1e}");
        assert!((L - L64).abs() <= 1e-5 * L64, "L: {L} vs {L64}, {case}");
        assert!(e_H <= 1e-5, "h_i: {e_H:e}, {case}");
        // The step θ' − θ against −lr dθ. The f32 step is rounded into θ' (u |θ'| per entry),
        // and dV, dW sum T terms, Vᵀ (y − t) N_x: about u (‖θ'‖ / ‖lr dθ‖ + √N_x); the test
        // allows ten times that (the measured value is printed).
        let after = net.to_model();
        for (name, before, now, d) in [
            ("U", &model.U, &after.U, &g.dU),
            ("W", &model.W, &after.W, &g.dW),
            ("V", &model.V, &after.V, &g.dV),
        ] {
            let step = now - before;
            let e = relative(&step, &(-lr * d));
            let bound = U32 * (now.norm() / (lr * d.norm()) + (N_x as f64).sqrt()) * 10.0;
            eprintln!("{case}: step of {name} {e:.1e} (bound {bound:.1e})");
            assert!(e <= bound.max(1e-5), "{name}: {e:e}, {case}");
        }
    }
}

#[test]
fn a_wrong_f32_step_would_fail_the_comparison() {
    // The comparison above is not vacuous: Truncated(1) in the f32 step against Truncated(4)
    // in the notes layer is far outside the bound.
    let drawn = Rnn::new(300, 16, &mut rng::seeded(3));
    let ids: Vec<usize> = (0..26).map(|i| (i * 37) % 300).collect();
    let (x, t) = (&ids[..25], &ids[1..]);
    let mut net = Net::<f32>::from_model(&drawn);
    let model = net.to_model();
    let mut g = Grads::new(&model);
    model.backward(&model.forward(x), t, Bptt::Truncated(4), &mut g);
    let mut cache = Cache::new(&net, 1);
    fast::sgd_step(&mut net, x, t, Bptt::Truncated(1), 0.5, &mut cache);
    let step = net.to_model().W - &model.W;
    assert!(relative(&step, &(-0.5 * &g.dW)) > 1e-3);
}

/// Ten epochs on the tiny language in float type `F`: the evaluations.
fn learn<F: fast::Scalar>() -> Vec<Evaluation> {
    let sentences = tiny_corpus(200, 5);
    let pairs: Vec<(&[usize], &[usize])> = sentences
        .iter()
        .map(|s| (&s[..s.len() - 1], &s[1..]))
        .collect();
    let mut net = Net::<F>::from_model(&Rnn::new(13, 16, &mut rng::seeded(1)));
    let mut cache = Cache::new(&net, 8);
    let schedule = Schedule {
        lr: 0.05,
        epochs: 10,
        eval_every: 1,
        bptt: Bptt::Truncated(4),
    };
    let from = Position::default();
    train_with_sgd(
        &mut net,
        &pairs,
        &schedule,
        from,
        &mut cache,
        |_, _| Ok(()),
        |_, _| true,
    )
    .unwrap()
    .history
}

#[test]
fn an_f32_run_learns_as_the_f64_run() {
    let (h32, h64) = (learn::<f32>(), learn::<f64>());
    assert_eq!(h32.len(), h64.len());
    for (a, b) in h32.iter().zip(&h64) {
        eprintln!("epoch {}: {} (f32) vs {} (f64)", a.epoch, a.loss, b.loss);
        // 2000 SGD steps in f32 drift from f64's by rounding only: the curves overlap.
        assert!((a.loss - b.loss).abs() <= 1e-5 * b.loss, "{a:?} vs {b:?}");
        assert_eq!(a.lr, b.lr);
    }
    // Untrained about ln 13 = 2.565; the language's entropy is 0.416 nats per word.
    assert!(h32[0].loss > 2.4 && h32[10].loss < 0.45, "{h32:?}");
}

#[test]
fn f32_threads_train_to_the_same_bytes() {
    // N_x · N_h · T / 2 ≥ 2 · MIN_WORK_PER_THREAD for T ≥ 20: every product is split (f32
    // counts a multiply-add as half of f64's).
    let (N_x, N_h) = (4000, 100);
    assert!(N_x * N_h * 20 / 2 >= 2 * MIN_WORK_PER_THREAD);
    let mut r = rng::seeded(5);
    let data: Vec<Vec<usize>> = (0..6)
        .map(|_| {
            let n = 21 + rng::below(&mut r, 30);
            (0..n).map(|_| rng::below(&mut r, N_x)).collect()
        })
        .collect();
    let pairs: Vec<(&[usize], &[usize])> =
        data.iter().map(|s| (&s[..s.len() - 1], &s[1..])).collect();
    let run = |threads: usize| {
        let mut net = Net::<f32>::from_model(&Rnn::new(N_x, N_h, &mut rng::seeded(10)));
        let mut cache = Cache::new(&net, 8).with_threads(threads).unwrap();
        let schedule = Schedule {
            lr: 0.1,
            epochs: 2,
            eval_every: 1,
            bptt: Bptt::Truncated(4),
        };
        let from = Position::default();
        let ok = |_: &[Evaluation], _: &Net<f32>| Ok(());
        let h = train_with_sgd(&mut net, &pairs, &schedule, from, &mut cache, ok, |_, _| {
            true
        });
        (h.unwrap().history, net)
    };
    let (h1, m1) = run(1);
    assert!(h1[2].loss < h1[0].loss - 0.1, "{h1:?}");
    for threads in [2, 3] {
        let (h, m) = run(threads);
        assert_eq!(h, h1, "{threads} threads");
        assert!(m == m1, "{threads} threads: the weights differ");
    }
}

const BIN: &str = env!("CARGO_BIN_EXE_rnn-lm");

/// `train --dtype f32` on the committed CSV fixture with a tiny model, then `rest`.
fn tiny(rest: &[&str]) -> Vec<String> {
    let f32 = ["--dtype", "f32", "-q"];
    common::tiny(&f32.iter().chain(rest).copied().collect::<Vec<_>>())
}

fn run(args: &[String]) -> std::process::Output {
    testing::run(BIN, args)
}

/// The safetensors header of `file`: tensor name → dtype, and the metadata.
fn header(file: &Path) -> serde_json::Value {
    let bytes = std::fs::read(file).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    serde_json::from_slice(&bytes[8..8 + n]).unwrap()
}

#[test]
fn an_f32_model_is_stored_in_f32_samples_evaluates_and_resumes_only_in_f32() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    let out = |p: &Path| p.display().to_string();
    ok(
        &run(&tiny(&["--epochs", "1", "--out", &out(&one)])),
        "f32, 1 epoch",
    );
    ok(
        &run(&tiny(&["--epochs", "2", "--out", &out(&two)])),
        "f32, 2 epochs",
    );
    let file = one.join("model.safetensors");
    let h = header(&file);
    for w in ["U", "W", "V"] {
        assert_eq!(h[w]["dtype"], "F32", "{w}: {h}");
    }
    assert_eq!(h["evals"]["dtype"], "F64");
    assert_eq!(h["__metadata__"]["dtype"], "f32");
    // sample and eval read it (widened to f64, exactly).
    let model = out(&file);
    let o = testing::run(
        BIN,
        &["sample", "--model", &model, "-n", "3", "--min-words", "1"],
    );
    ok(&o, "sample an f32 model");
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 4); // model: line + 3
    let o = testing::run(BIN, &["eval", "--model", &model, "--csv", &fixture()]);
    ok(&o, "eval an f32 model");
    assert!(String::from_utf8_lossy(&o.stdout).contains("perplexity"));
    // A resume in f64 is a changed flag; in f32 (typed or not) it ends as the 2-epoch run.
    let o = testing::run(
        BIN,
        &[
            "train", "--resume", &model, "--epochs", "2", "--dtype", "f64",
        ],
    );
    assert_user_error(&o, "an f64 resume of an f32 run", &["--dtype"]);
    let o = testing::run(BIN, &["train", "--resume", &model, "--epochs", "2", "-q"]);
    ok(&o, "resume in f32");
    testing::assert_same_outputs(&one, &two, &["model.safetensors", "loss.csv"]);
}

#[test]
fn ctrl_c_in_an_f32_run_then_resume_ends_as_the_run_never_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let short = tiny(&["--epochs", "2"]);
    let short: Vec<&str> = short.iter().map(String::as_str).collect();
    // The generated corpus in f32, long enough to be stopped in the middle of an epoch.
    let long: Vec<&str> = common::LONG
        .iter()
        .chain(&["--dtype", "f32"])
        .copied()
        .collect();
    common::contract(&short, &long).ctrl_c_saves_and_resumes(dir.path());
}
