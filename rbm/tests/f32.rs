//! `train --dtype f32`: the f32 engine ([`rbm::fast`] on [`Rbm32`]) against the f64 notes
//! layer ([`rbm::model`]) to f32 precision, an f32 run that learns as the f64 one does, and
//! through the binary an f32 run that resumes exactly, records its dtype and samples.
//!
//! The tolerance comes from the arithmetic: W, a, b and the data are rounded once to f32
//! (relative error ≤ u = 2⁻²⁴ ≈ 6e-8 each), every product sums at most n = 64 terms in f32
//! (relative error of a sum ≤ γ_n ≈ n·u ≈ 4e-6 of Σ|terms|, the worst case; typically √n·u),
//! σ adds ≤ u. So the conditionals and the statistics agree with f64 to a few 1e-6 relative to
//! their largest entry: [`F32_TOLERANCE`] = 1e-5 is that worst case with room for the
//! statistics' sums over 2B columns. Measured at these seeds: 0.5e-7 … 3e-7 (a few u).

#![allow(non_snake_case)]

mod common;

use common::{binary, random_rbm};
use nalgebra::DMatrix;
use rbm::fast::{self, Cd, Grads32, Params, Rbm32, widen_grads};
use rbm::model::{self, Grads, Rbm};
use rbm::train::{self, Config, Method, Trainer};
use shared::rng;
use shared::testing::{self, assert_same_outputs, assert_user_error, ok};
use std::path::Path;

const F32_TOLERANCE: f64 = 1e-5;

/// (n_v, n_h, B): bars and stripes, the binarised digits, n_h > n_v.
const SIZES: [(usize, usize, usize); 3] = [(16, 16, 10), (64, 12, 10), (9, 14, 7)];

/// max |a − b| / max |b|, a in f32 (widened exactly).
fn rel(a: &DMatrix<f32>, b: &DMatrix<f64>) -> f64 {
    (a.map(f64::from) - b).amax() / b.amax()
}

fn assert_grads_close(g: &Grads32, model: &Grads, what: &str) {
    let g = widen_grads(g);
    for (name, f, m) in [
        ("dW", &g.dW, &model.dW),
        ("da", &g.da, &model.da),
        ("db", &g.db, &model.db),
    ] {
        let r = (f - m).amax() / m.amax();
        assert!(r <= F32_TOLERANCE, "{what} {name}: relative error {r:e}");
        assert!(r > 0.0, "{what} {name}: f32 equal to f64 tests nothing");
    }
}

#[test]
fn f32_conditionals_agree_with_the_notes_layer() {
    let mut r = rng::seeded(1);
    for (n_v, n_h, B) in SIZES {
        let rbm = random_rbm(n_v, n_h, &mut r);
        let rbm32 = Rbm32::narrowed(&rbm);
        let V = binary(n_v, B, &mut r);
        let mut H = DMatrix::<f32>::zeros(n_h, B);
        fast::hidden_probs(&rbm32, &V.map(|v| v as f32), &mut H, 0..B);
        let e = rel(&H, &rbm.hidden_probs(&V));
        assert!(e <= F32_TOLERANCE, "({n_v}, {n_h}) p(h | v): {e:e}");
        let mut R = DMatrix::<f32>::zeros(n_v, B);
        fast::visible_probs(&rbm32, &H, &mut R, 0..B);
        // The model's p(v | h) of the same (f32) hidden probabilities.
        let e = rel(&R, &rbm.visible_probs(&H.map(f64::from)));
        assert!(e <= F32_TOLERANCE, "({n_v}, {n_h}) p(v | h): {e:e}");
    }
}

#[test]
fn f32_gradients_agree_with_the_notes_layer() {
    let mut r = rng::seeded(2);
    for (n_v, n_h, B) in SIZES {
        let rbm = random_rbm(n_v, n_h, &mut r);
        let rbm32 = Rbm32::narrowed(&rbm);
        let V = binary(n_v, 3 * B, &mut r);
        let cols: Vec<usize> = (0..B).map(|c| 3 * c + 2).collect();
        let mut g = <Grads32 as fast::GradParts>::zeros(n_v, n_h);
        // The exact gradient: positive phase and statistics in f32, the model term in f64.
        Cd::<f32>::new(n_v, n_h, B, B).exact(&rbm32, &V, &cols, &mut g);
        let exact = model::exact_gradient(&rbm, &V.select_columns(&cols));
        assert_grads_close(&g, &exact, &format!("exact ({n_v}, {n_h})"));
        // CD-k from the same random numbers: the f32 and f64 probabilities differ by ~1e-7,
        // so (at these seeds) every Bernoulli draw u < p decides alike and the estimates agree
        // to f32 precision; both consumed the same number of uniforms.
        for k in [1, 3] {
            let (mut r32, mut r64) = (rng::seeded(10 + k as u64), rng::seeded(10 + k as u64));
            Cd::<f32>::new(n_v, n_h, B, B).cd(&rbm32, &V, &cols, k, &mut r32, &mut g);
            let g64 = rbm.cd(&V.select_columns(&cols), k, &mut r64);
            assert_grads_close(&g, &g64, &format!("CD-{k} ({n_v}, {n_h})"));
            assert_eq!(
                rng::uniform(&mut r32, 0.0, 1.0),
                rng::uniform(&mut r64, 0.0, 1.0)
            );
        }
    }
}

#[test]
fn an_f32_step_is_the_model_update_to_f32_precision() {
    // Three updates of an f32 trainer, and the model's Δ ← μΔ + (∇ − λW), θ ← θ + εΔ in f64
    // with the f32 trainer's directions: the parameters agree to f32 precision.
    let mut r = rng::seeded(3);
    for (n_v, n_h, B) in SIZES {
        let rbm = random_rbm(n_v, n_h, &mut r);
        let mut rbm32 = Rbm32::narrowed(&rbm);
        let mut rbm_model = rbm32.widened().into_owned();
        let V = binary(n_v, B, &mut r);
        let cols: Vec<usize> = (0..B).collect();
        let cfg = Config {
            batch: B,
            weight_cost: 0.01,
            ..Config::default()
        };
        let (lr, mu, λ) = (cfg.lr, cfg.momentum_start, cfg.weight_cost);
        let mut t = Trainer::<f32>::new(&rbm32, cfg, &mut r);
        let mut velocity = Grads::zeros(n_v, n_h);
        for _ in 0..3 {
            t.step(&mut rbm32, &V, &cols, &mut r);
            rbm_model.update(&widen_grads(&t.grads), &mut velocity, lr, mu, λ);
            let got = rbm32.widened();
            for (a, b) in [(&got.W, &rbm_model.W), (&got.a, &rbm_model.a)] {
                let e = (a - b).amax() / b.amax();
                assert!(e <= F32_TOLERANCE, "({n_v}, {n_h}): {e:e}");
            }
        }
    }
}

/// Mean exact log p(v) of V after `epochs` of CD-1 in float type T from the same start.
fn trained<T: fast::EngineFloat>(V: &DMatrix<f64>, epochs: usize) -> (f64, f64) {
    let init = train::init(6, V, &mut rng::seeded(4));
    let ll = |m: &Rbm| model::mean_log_prob(m, V, model::log_z(m));
    let mut m = T::Rbm::narrowed(&init);
    let mut r = rng::seeded(5);
    let cfg = Config {
        method: Method::Cd,
        ..Config::default()
    };
    let mut t = Trainer::<T>::new(&m, cfg, &mut r);
    for e in 1..=epochs {
        t.epoch(&mut m, V, e, &mut r).unwrap();
    }
    (ll(&init), ll(&m.widened()))
}

#[test]
fn an_f32_run_learns_as_the_f64_one_does() {
    let V = rbm::data::bars_and_stripes(3, 50, 0, 1).train; // the 14 patterns × 50
    let (before, after64) = trained::<f64>(&V, 15);
    let (before32, after32) = trained::<f32>(&V, 15);
    assert_eq!(before, before32, "the same start");
    let (gain64, gain32) = (after64 - before, after32 - before);
    assert!(gain64 > 1.0, "f64 learns: {before} → {after64}");
    // The runs part ways where a draw u < p decides otherwise, then follow the same
    // dynamics: the same gain to within a tenth of it.
    assert!(
        (gain32 - gain64).abs() < 0.1 * gain64,
        "f32 gains {gain32}, f64 {gain64}"
    );
}

const BIN: &str = env!("CARGO_BIN_EXE_rbm");

fn run(args: &[&str], out: &Path) -> std::process::Output {
    let args = testing::args_with_out(args, out, &["--quiet"]);
    testing::run(BIN, &args)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The safetensors header of a file: its JSON (dtypes of the tensors, metadata).
fn header(file: &Path) -> serde_json::Value {
    let bytes = std::fs::read(file).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    serde_json::from_slice(&bytes[8..8 + n]).unwrap()
}

#[test]
fn an_f32_run_records_its_dtype_resumes_exactly_and_samples() {
    let dir = tempfile::tempdir().unwrap();
    let bars = [
        "--side",
        "3",
        "--hidden",
        "4",
        "--schedule",
        "constant",
        "--dtype",
        "f32",
    ];
    for (name, method) in [
        ("cd", &["--k", "2"][..]),
        ("pcd", &["--method", "pcd"][..]),
        ("exact", &["--method", "exact"][..]),
    ] {
        let flags: Vec<&str> = bars.iter().chain(method).copied().collect();
        let (part, whole) = (dir.path().join(format!("{name}-3")), dir.path().join(name));
        let with = |epochs: &'static str| {
            let mut f = flags.clone();
            f.extend(["--epochs", epochs]);
            f
        };
        ok(&run(&with("3"), &part), "3 epochs in f32");
        let o = testing::run(
            BIN,
            &["train", "--resume", s(&part), "--epochs", "6", "--quiet"],
        );
        ok(&o, "resumed to 6");
        ok(&run(&with("6"), &whole), "6 epochs in f32");
        assert_same_outputs(&part, &whole, &["model.safetensors", "loss.csv"]);
        let h = header(&whole.join("model.safetensors"));
        assert_eq!(h["__metadata__"]["dtype"], "f32", "{name}");
        for t in ["W", "a", "b", "velocity.W"] {
            assert_eq!(h[t]["dtype"], "F32", "{name} {t}");
        }
        if name == "pcd" {
            assert_eq!(h["chains"]["dtype"], "F32");
        }
        assert_eq!(h["curves"]["dtype"], "F64"); // the exact likelihoods are f64
    }
    let f32_run = dir.path().join("cd");
    // --dtype is a flag of the run: typed otherwise on resume, it is refused by name.
    let o = testing::run(
        BIN,
        &[
            "train",
            "--resume",
            s(&f32_run),
            "--epochs",
            "8",
            "--dtype",
            "f64",
            "--quiet",
        ],
    );
    assert_user_error(&o, "a changed --dtype", &["--dtype"]);
    // An f64 run writes no dtype key (its file is as before).
    let f64_run = dir.path().join("f64");
    let f64_flags: Vec<&str> = bars[..6]
        .iter()
        .chain(&["--epochs", "2"])
        .copied()
        .collect();
    ok(&run(&f64_flags, &f64_run), "f64");
    let h = header(&f64_run.join("model.safetensors"));
    assert!(h["__metadata__"].get("dtype").is_none());
    assert_eq!(h["W"]["dtype"], "F64");
    // `sample` reads the f32 model (widened to f64): its default draw is the run's own
    // samples.png, which training drew from the same widened weights.
    let out = dir.path().join("samples");
    let o = run(&["sample", "--model", s(&f32_run)], &out);
    ok(&o, "sample from an f32 model");
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.lines()
            .next()
            .unwrap()
            .ends_with("6 epochs, trained in f32, sampled in f64)"),
        "{text}"
    );
    let png = |d: &Path| std::fs::read(d.join("samples.png")).unwrap();
    assert!(png(&f32_run) == png(&out));
}
