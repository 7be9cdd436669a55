//! The engine path ([`rbm::fast`], what training runs) against the notes layer
//! ([`rbm::model`]) on several sizes: the conditionals, free energies, log Z over either
//! layer, the model expectations, the CD-k, PCD-k and exact gradient estimates from the same
//! random numbers, and the update. Relative error max |fast − model| / max |model| ≤ 1e-12.

#![allow(non_snake_case)]

mod common;

use common::{binary, random_rbm};
use nalgebra::DMatrix;
use rbm::fast::{self, Cd};
use rbm::model::{self, Grads};
use rbm::train::{Config, Trainer};
use shared::rng;

/// (n_v, n_h, B): bars and stripes, the binarised digits, a small one, and n_h > n_v (where
/// the exact sums enumerate the visible layer).
const SIZES: [(usize, usize, usize); 4] = [(16, 16, 10), (64, 12, 10), (5, 3, 4), (9, 14, 7)];

const TOLERANCE: f64 = 1e-12;

/// max |a − b| / max |b|.
fn rel(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    (a - b).amax() / b.amax()
}

fn rel_scalar(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

fn assert_grads_close(fast: &Grads, model: &Grads, what: &str) {
    for (name, f, m) in [
        ("dW", &fast.dW, &model.dW),
        ("da", &fast.da, &model.da),
        ("db", &fast.db, &model.db),
    ] {
        let r = rel(f, m);
        assert!(r <= TOLERANCE, "{what} {name}: relative error {r:e}");
        assert!(
            m.amax() > 1e-3,
            "{what} {name}: a vanishing gradient tests nothing"
        );
    }
}

#[test]
fn conditionals_and_free_energies_agree() {
    let mut r = rng::seeded(1);
    for (n_v, n_h, B) in SIZES {
        let rbm = random_rbm(n_v, n_h, &mut r);
        let V = binary(n_v, B, &mut r);
        let mut H = DMatrix::zeros(n_h, B);
        fast::hidden_probs(&rbm, &V, &mut H, 0..B);
        assert!(rel(&H, &rbm.hidden_probs(&V)) <= TOLERANCE);
        let mut R = DMatrix::zeros(n_v, B);
        fast::visible_probs(&rbm, &H, &mut R, 0..B);
        assert!(rel(&R, &rbm.visible_probs(&H)) <= TOLERANCE);
        let F = DMatrix::from_row_slice(1, B, &fast::free_energy(&rbm, &V));
        let F_model = DMatrix::from_row_slice(1, B, &rbm.free_energy(&V));
        assert!(rel(&F, &F_model) <= TOLERANCE, "({n_v}, {n_h}) F");
    }
}

#[test]
fn conditionals_into_a_column_range_give_the_same_bits_and_touch_nothing_else() {
    let mut r = rng::seeded(2);
    let rbm = random_rbm(5, 12, &mut r);
    let V = binary(5, 3, &mut r);
    let mut H = DMatrix::zeros(12, 3);
    fast::hidden_probs(&rbm, &V, &mut H, 0..3);
    // Columns 1..4 of a wider matrix (σ in one pass over them): the same bits.
    let mut wide = DMatrix::from_element(12, 5, 7.0);
    fast::hidden_probs(&rbm, &V, &mut wide, 1..4);
    assert_eq!(wide.columns_range(1..4), H);
    assert!(
        wide.column(0)
            .iter()
            .chain(wide.column(4).iter())
            .all(|&x| x == 7.0)
    );
    let mut wide_v = DMatrix::from_element(5, 6, 7.0);
    fast::visible_probs(&rbm, &H, &mut wide_v, 2..5);
    let mut R = DMatrix::zeros(5, 3);
    fast::visible_probs(&rbm, &H, &mut R, 0..3);
    assert_eq!(wide_v.columns_range(2..5), R);
    assert!(wide_v.columns_range(0..2).iter().all(|&x| x == 7.0));
    assert!(wide_v.column(5).iter().all(|&x| x == 7.0));
}

#[test]
fn log_z_and_the_model_expectations_agree_over_either_layer() {
    let mut r = rng::seeded(3);
    // Also 784 visible units over 7 hidden ones (blocks of 2^4 configurations).
    for (n_v, n_h) in SIZES.iter().map(|s| (s.0, s.1)).chain([(784, 7), (7, 30)]) {
        let rbm = random_rbm(n_v, n_h, &mut r);
        let lz = model::log_z(&rbm);
        assert!(rel_scalar(fast::log_z(&rbm), lz) <= TOLERANCE);
        if n_v.max(n_h) <= 16 {
            // Both orders of summation (the notes' is over h).
            assert!(rel_scalar(fast::log_z_over_hidden(&rbm), lz) <= TOLERANCE);
            assert!(rel_scalar(fast::log_z_over_visible(&rbm), lz) <= TOLERANCE);
        }
        let (e, e_model) = (
            fast::model_expectations(&rbm),
            model::model_expectations(&rbm),
        );
        assert!(rel_scalar(e.log_z, e_model.log_z) <= TOLERANCE);
        for (f, m) in [(&e.v, &e_model.v), (&e.h, &e_model.h), (&e.hv, &e_model.hv)] {
            let err = rel(f, m);
            assert!(err <= TOLERANCE, "({n_v}, {n_h}): relative error {err:e}");
        }
    }
}

#[test]
fn cd_k_from_the_same_random_numbers_agrees() {
    let mut r = rng::seeded(4);
    for (n_v, n_h, B) in SIZES {
        for k in [1, 3] {
            let rbm = random_rbm(n_v, n_h, &mut r);
            let V = binary(n_v, 3 * B, &mut r);
            let cols: Vec<usize> = (0..B).map(|c| 3 * c + 1).collect();
            let (mut r_fast, mut r_model) =
                (rng::seeded(10 + k as u64), rng::seeded(10 + k as u64));
            let mut g = Grads::zeros(n_v, n_h);
            Cd::new(n_v, n_h, B, B).cd(&rbm, &V, &cols, k, &mut r_fast, &mut g);
            let g_model = rbm.cd(&V.select_columns(&cols), k, &mut r_model);
            assert_grads_close(&g, &g_model, &format!("CD-{k} ({n_v}, {n_h}, {B})"));
            // Both drew the same random numbers.
            assert_eq!(
                rng::uniform(&mut r_fast, 0.0, 1.0),
                rng::uniform(&mut r_model, 0.0, 1.0)
            );
        }
    }
}

#[test]
fn pcd_k_from_the_same_random_numbers_agrees_and_moves_the_chains_alike() {
    let mut r = rng::seeded(5);
    for (n_v, n_h, B) in SIZES {
        let rbm = random_rbm(n_v, n_h, &mut r);
        let V = binary(n_v, B, &mut r);
        let cols: Vec<usize> = (0..B).collect();
        let C = B + 2; // more chains than examples
        let mut chains = binary(n_v, C, &mut r);
        let mut chains_model = chains.clone();
        let (mut r_fast, mut r_model) = (rng::seeded(20), rng::seeded(20));
        let mut cd = Cd::new(n_v, n_h, B, C);
        let mut g = Grads::zeros(n_v, n_h);
        for step in 0..3 {
            cd.pcd(&rbm, &V, &cols, &mut chains, 2, &mut r_fast, &mut g);
            let g_model = rbm.pcd(&V, &mut chains_model, 2, &mut r_model);
            assert_grads_close(&g, &g_model, &format!("PCD-2 step {step} ({n_v}, {n_h})"));
            assert_eq!(chains, chains_model);
        }
    }
}

#[test]
fn the_exact_gradient_agrees() {
    let mut r = rng::seeded(6);
    for (n_v, n_h, B) in SIZES {
        let rbm = random_rbm(n_v, n_h, &mut r);
        let V = binary(n_v, B, &mut r);
        let cols: Vec<usize> = (0..B).collect();
        let mut g = Grads::zeros(n_v, n_h);
        Cd::new(n_v, n_h, B, B).exact(&rbm, &V, &cols, &mut g);
        assert_grads_close(&g, &model::exact_gradient(&rbm, &V), "exact");
    }
}

#[test]
fn trainer_steps_are_the_model_update() {
    // Momentum 0.5 (the first epochs'), ε 0.05, λ 0.01: three updates of the trainer, and the
    // model's Δ ← μΔ + (∇ − λW), θ ← θ + εΔ with the trainer's directions.
    let mut r = rng::seeded(7);
    for (n_v, n_h, B) in SIZES {
        let mut rbm = random_rbm(n_v, n_h, &mut r);
        let V = binary(n_v, B, &mut r);
        let cols: Vec<usize> = (0..B).collect();
        let cfg = Config {
            batch: B,
            weight_cost: 0.01,
            ..Config::default()
        };
        let (lr, mu, λ) = (cfg.lr, cfg.momentum_start, cfg.weight_cost);
        let mut t = Trainer::new(&rbm, cfg, &mut r);
        let mut rbm_model = rbm.clone();
        let mut velocity = Grads::zeros(n_v, n_h);
        for _ in 0..3 {
            t.step(&mut rbm, &V, &cols, &mut r);
            rbm_model.update(&t.grads, &mut velocity, lr, mu, λ);
            // shared::optim's classic momentum on −(∇ − λW) is the same arithmetic, negated.
            assert_eq!(rbm, rbm_model, "({n_v}, {n_h})");
        }
    }
}
