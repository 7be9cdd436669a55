//! Notes §7's partition function: the reference sheet's test vectors, the closed form against
//! brute force, log space against direct sums (the notes layer's and the engine's), free
//! energies against their definition, and the exact log-likelihood gradient against finite
//! differences.

#![allow(non_snake_case)]

use approx::assert_relative_eq;
use nalgebra::DMatrix;
use rbm::fast::{self, log_z_over_hidden, log_z_over_visible};
use rbm::model::{
    Rbm, all_visible_log_probs, configurations, exact_gradient, free_energy_brute_force, log_z,
    logsumexp, mean_log_prob, model_expectations, notes_table, softplus, z_brute_force,
};
use shared::gradcheck;
use shared::rng::{self, Rng};

fn random_rbm(n_v: usize, n_h: usize, scale: f64, biases: bool, rng: &mut Rng) -> Rbm {
    let W = shared::init::normal(n_h, n_v, 0.0, scale, rng);
    if !biases {
        return Rbm::without_biases(W);
    }
    let a = shared::init::normal(n_v, 1, 0.0, scale, rng);
    let b = shared::init::normal(n_h, 1, 0.0, scale, rng);
    Rbm::new(W, a, b)
}

/// The sheet's vectors A–C give W as n_v × n_h: transpose it into the notes' n_h × n_v.
fn sheet_rbm(n_v: usize, n_h: usize, W_vh: &[f64], a: &[f64], b: &[f64]) -> Rbm {
    let W = DMatrix::from_row_slice(n_v, n_h, W_vh).transpose();
    Rbm::new(
        W,
        DMatrix::from_column_slice(n_v, 1, a),
        DMatrix::from_column_slice(n_h, 1, b),
    )
}

fn probs(rbm: &Rbm) -> Vec<f64> {
    all_visible_log_probs(rbm)
        .1
        .iter()
        .map(|l| l.exp())
        .collect()
}

#[test]
fn the_notes_table_for_the_reference_weights() {
    // Reference sheet §3: W = [[1, −2, 0.5], [0.3, 0.7, −1]] (hidden × visible).
    let rbm = Rbm::without_biases(DMatrix::from_row_slice(
        2,
        3,
        &[1.0, -2.0, 0.5, 0.3, 0.7, -1.0],
    ));
    let t = notes_table(&rbm);
    let factors = DMatrix::from_row_slice(
        4,
        3,
        &[
            2.0,
            2.0,
            2.0,
            2.3498588076,
            3.0137527075,
            1.3678794412,
            3.7182818285,
            1.1353352832,
            2.6487212707,
            4.6692966676,
            1.2725317930,
            1.6065306597,
        ],
    );
    assert_relative_eq!(t.factors, factors, epsilon = 1e-9);
    // The notes: the H = (0, 0) row sums to 2³ = 8.
    assert_eq!(t.rows[0], 8.0);
    for (r, want) in t
        .rows
        .iter()
        .zip([8.0, 9.6871763092, 11.1815677138, 9.5457295968])
    {
        assert!((r - want).abs() < 1e-9, "{r} {want}");
    }
    assert!((t.Z - 38.4144736197).abs() < 1e-9, "{}", t.Z);
    assert!((z_brute_force(&rbm) - 38.4144736197).abs() < 1e-9);
    assert!((log_z(&rbm) - 3.6484343058).abs() < 1e-9);
    assert!((fast::log_z(&rbm) - 3.6484343058).abs() < 1e-9);
    let want = [
        0.1041274193,
        0.0943168298,
        0.0890711094,
        0.0554282558,
        0.2274516993,
        0.2135605289,
        0.1324022117,
        0.0836419458,
    ];
    for (p, w) in probs(&rbm).iter().zip(want) {
        assert!((p - w).abs() < 1e-9, "{p} {w}");
    }
}

#[test]
fn zero_weights_give_two_to_the_number_of_units() {
    let rbm = Rbm::without_biases(DMatrix::zeros(2, 3));
    assert_eq!(notes_table(&rbm).Z, 32.0);
    assert_eq!(z_brute_force(&rbm), 32.0);
    assert!((log_z(&rbm) - 32f64.ln()).abs() < 1e-14);
    assert!((fast::log_z(&rbm) - 32f64.ln()).abs() < 1e-14);
}

#[test]
fn reference_vector_a() {
    // n_v 2, n_h 1, W = [[1], [−0.5]], no biases: Z = 4 + (1 + e)(1 + e^{−0.5}).
    let rbm = sheet_rbm(2, 1, &[1.0, -0.5], &[0.0, 0.0], &[0.0]);
    for Z in [notes_table(&rbm).Z, z_brute_force(&rbm)] {
        assert!((Z - 9.9735337589).abs() < 1e-9, "{Z}");
    }
    for lz in [log_z(&rbm), fast::log_z(&rbm)] {
        assert!((lz - 2.2999349604).abs() < 1e-9, "{lz}");
    }
    for (p, w) in probs(&rbm)
        .iter()
        .zip([0.2005307295, 0.1610793825, 0.3728148837, 0.2655750043])
    {
        assert!((p - w).abs() < 1e-9, "{p} {w}");
    }
    // F(00) = −log 2.
    let V00 = DMatrix::zeros(2, 1);
    for F in [rbm.free_energy(&V00)[0], fast::free_energy(&rbm, &V00)[0]] {
        assert!((F + 2f64.ln()).abs() < 1e-15);
    }
}

#[test]
fn reference_vector_b() {
    let rbm = sheet_rbm(2, 2, &[2.0, -1.0, 0.5, 1.0], &[-1.0, 0.5], &[0.25, -0.75]);
    for Z in [notes_table(&rbm).Z, z_brute_force(&rbm)] {
        assert!((Z - 34.4918172271).abs() < 1e-9, "{Z}");
    }
    for lz in [log_z(&rbm), fast::log_z(&rbm)] {
        assert!((lz - 3.5407221141).abs() < 1e-9, "{lz}");
    }
    for (p, w) in probs(&rbm)
        .iter()
        .zip([0.0974991433, 0.3403054480, 0.1312972549, 0.4308981538])
    {
        assert!((p - w).abs() < 1e-9, "{p} {w}");
    }
}

#[test]
fn reference_vector_c() {
    let rbm = sheet_rbm(
        3,
        2,
        &[1.0, -2.0, 0.5, 0.0, -1.0, 1.5],
        &[0.1, -0.2, 0.3],
        &[-0.5, 0.2],
    );
    for Z in [notes_table(&rbm).Z, z_brute_force(&rbm)] {
        assert!((Z - 43.4383521993).abs() < 1e-9, "{Z}");
    }
    for lz in [log_z(&rbm), fast::log_z(&rbm)] {
        assert!((lz - 3.7713427421).abs() < 1e-9, "{lz}");
    }
    let want = [
        0.0821566993,
        0.2460689655,
        0.0837384781,
        0.2253061747,
        0.0785289331,
        0.0960476829,
        0.0902561587,
        0.0978969076,
    ];
    for (p, w) in probs(&rbm).iter().zip(want) {
        assert!((p - w).abs() < 1e-9, "{p} {w}");
    }
}

#[test]
fn closed_form_equals_brute_force_on_random_rbms() {
    let mut r = rng::seeded(11);
    for (n_v, n_h) in [(1, 1), (3, 2), (2, 5), (6, 4), (5, 7), (9, 3)] {
        for biases in [false, true] {
            let rbm = random_rbm(n_v, n_h, 1.0, biases, &mut r);
            let brute = z_brute_force(&rbm);
            let table = notes_table(&rbm).Z;
            assert_relative_eq!(table, brute, max_relative = 1e-13);
            assert_relative_eq!(log_z(&rbm), brute.ln(), max_relative = 1e-13);
            assert_relative_eq!(fast::log_z(&rbm), brute.ln(), max_relative = 1e-13);
            assert_relative_eq!(log_z_over_hidden(&rbm), brute.ln(), max_relative = 1e-13);
            assert_relative_eq!(log_z_over_visible(&rbm), brute.ln(), max_relative = 1e-13);
            let total: f64 = probs(&rbm).iter().sum();
            assert!((total - 1.0).abs() < 1e-12, "Σ p(v) = {total}");
        }
    }
}

#[test]
fn summing_over_either_layer_agrees_beyond_one_block() {
    // 11 to 14 units: more than one block enumerates (2^10 configurations at most), so the
    // high/low split runs; with 784 visible units a block holds only 2^4.
    let mut r = rng::seeded(12);
    for (n_v, n_h) in [(13, 14), (14, 12), (11, 11)] {
        let rbm = random_rbm(n_v, n_h, 0.7, true, &mut r);
        let (h, v) = (log_z_over_hidden(&rbm), log_z_over_visible(&rbm));
        assert_relative_eq!(h, v, max_relative = 1e-12);
        assert_relative_eq!(notes_table(&rbm).Z.ln(), h, max_relative = 1e-12);
    }
    // 784 visible, 7 hidden: the hidden sum runs in blocks of 2^4; and the same machine with
    // the layers' roles swapped (784 hidden, 7 visible) summed over the visible layer.
    let rbm = random_rbm(784, 7, 0.1, true, &mut r);
    let direct = notes_table(&rbm).Z.ln();
    assert!(direct.is_finite());
    assert_relative_eq!(log_z_over_hidden(&rbm), direct, max_relative = 1e-12);
    let swapped = rbm.swapped();
    assert_relative_eq!(log_z_over_visible(&swapped), direct, max_relative = 1e-12);
    assert_relative_eq!(fast::log_z(&swapped), direct, max_relative = 1e-12);
    // The notes layer's log Z, over the smaller layer as well.
    assert_relative_eq!(log_z(&rbm), direct, max_relative = 1e-12);
    assert_relative_eq!(log_z(&swapped), direct, max_relative = 1e-12);
}

#[test]
fn log_space_is_finite_where_the_direct_sum_overflows() {
    // n_h = 1, every weight c, no biases: Z = 2^{n_v} + (1 + e^c)^{n_v}, so
    // log Z = n_v softplus(c) + ln(1 + (2 / (1 + e^c))^{n_v}).
    for (n_v, c) in [(20usize, 50.0f64), (300, 5.0), (2000, 1.0), (8, 800.0)] {
        let rbm = Rbm::without_biases(DMatrix::from_element(1, n_v, c));
        let direct = notes_table(&rbm).Z;
        assert!(direct.is_infinite(), "n_v {n_v}, c {c}: direct {direct}");
        let want =
            n_v as f64 * softplus(c) + (n_v as f64 * (2f64.ln() - softplus(c))).exp().ln_1p();
        for got in [log_z(&rbm), fast::log_z(&rbm)] {
            assert!(got.is_finite());
            assert_relative_eq!(got, want, max_relative = 1e-12);
        }
        if n_v <= 20 {
            assert_relative_eq!(log_z_over_visible(&rbm), want, max_relative = 1e-12);
        }
    }
    // Where both are finite they agree, here with Z around 1e200.
    let mut r = rng::seeded(13);
    let mut rbm = random_rbm(40, 6, 1.0, true, &mut r);
    rbm.a.add_scalar_mut(10.0);
    let direct = notes_table(&rbm).Z;
    assert!(direct.is_finite() && direct > 1e150, "{direct}");
    assert_relative_eq!(log_z(&rbm), direct.ln(), max_relative = 1e-13);
    assert_relative_eq!(fast::log_z(&rbm), direct.ln(), max_relative = 1e-13);
}

#[test]
fn free_energy_matches_its_definition() {
    let mut r = rng::seeded(14);
    for biases in [false, true] {
        let rbm = random_rbm(5, 4, 1.5, biases, &mut r);
        let Vs = configurations(5).transpose();
        let F = rbm.free_energy(&Vs);
        let F_fast = fast::free_energy(&rbm, &Vs);
        for (k, (Fk, Fk_fast)) in F.iter().zip(&F_fast).enumerate() {
            let brute = free_energy_brute_force(&rbm, &Vs.column(k).into_owned());
            assert!((Fk - brute).abs() < 1e-12, "{Fk} {brute}");
            assert!((Fk_fast - brute).abs() < 1e-12, "{Fk_fast} {brute}");
        }
        // Σ_v e^{−F(v)} = Z.
        let Z: f64 = F.iter().map(|f| (-f).exp()).sum();
        assert_relative_eq!(Z, z_brute_force(&rbm), max_relative = 1e-13);
    }
}

struct Model {
    rbm: Rbm,
    V: DMatrix<f64>,
}

fn neg_ll(m: &Model) -> f64 {
    -mean_log_prob(&m.rbm, &m.V, log_z(&m.rbm))
}

#[test]
fn exact_gradient_matches_finite_differences() {
    let mut r = rng::seeded(15);
    // Both branches of the model expectation: n_h ≤ n_v and n_h > n_v.
    for (n_v, n_h) in [(6, 3), (3, 5)] {
        let rbm = random_rbm(n_v, n_h, 0.8, true, &mut r);
        let V = DMatrix::from_fn(n_v, 7, |i, j| {
            ((i * 3 + j * 5 + i * j) % 3 == 0) as u8 as f64
        });
        let g = exact_gradient(&rbm, &V);
        let mut m = Model { rbm, V };
        // The loss is −mean log p(v): its gradient is minus the ascent direction.
        let checks = [
            gradcheck::check(&mut m, |m| &mut m.rbm.W, &(-&g.dW), neg_ll),
            gradcheck::check(&mut m, |m| &mut m.rbm.a, &(-&g.da), neg_ll),
            gradcheck::check(&mut m, |m| &mut m.rbm.b, &(-&g.db), neg_ll),
        ];
        for rep in checks {
            assert!(rep.max_rel_error < 1e-6, "{rep:?}");
            assert!(rep.max_abs_numeric > 1e-3, "{rep:?}");
        }
    }
}

/// ⟨v⟩, ⟨h⟩, ⟨h vᵀ⟩ under p(v, h) = e^{−E(v,h)} / Z the slow way: every configuration of the
/// hidden layer, p(h) from its closed-form sum over v, E[v | h] = σ(a + Wᵀh).
fn expectations_by_hand(rbm: &Rbm) -> (f64, DMatrix<f64>, DMatrix<f64>, DMatrix<f64>) {
    let (n_v, n_h) = (rbm.n_v(), rbm.n_h());
    let Hs = configurations(n_h);
    let logs: Vec<f64> = (0..Hs.nrows())
        .map(|k| {
            let h = Hs.row(k).transpose();
            let x = rbm.W.transpose() * &h + &rbm.a;
            rbm.b.dot(&h) + x.iter().map(|&y| softplus(y)).sum::<f64>()
        })
        .collect();
    let lz = logsumexp(&logs);
    let (mut v, mut hm, mut hv) = (
        DMatrix::zeros(n_v, 1),
        DMatrix::zeros(n_h, 1),
        DMatrix::zeros(n_h, n_v),
    );
    for (k, l) in logs.iter().enumerate() {
        let p = (l - lz).exp();
        let h = Hs.row(k).transpose();
        let ev = (rbm.W.transpose() * &h + &rbm.a).map(shared::activation::sigmoid);
        v += &ev * p;
        hm += &h * p;
        hv += &h * ev.transpose() * p;
    }
    (lz, v, hm, hv)
}

#[test]
fn model_expectations_match_the_slow_sum_over_many_blocks() {
    let mut r = rng::seeded(16);
    // 400 visible units: the block table holds 2^5 configurations, so 2^9 hidden ones take
    // 16 blocks; the transposed shape enumerates the visible layer the same way.
    for (n_v, n_h, scale) in [(400, 9, 0.3), (9, 400, 0.3), (5, 4, 2.0)] {
        let rbm = random_rbm(n_v, n_h, scale, true, &mut r);
        let (lz, v, h, hv) = if n_h <= n_v {
            expectations_by_hand(&rbm)
        } else {
            // Swap the layers' roles: hidden ↔ visible, W ↔ Wᵀ.
            let (lz, h, v, vh) = expectations_by_hand(&rbm.swapped());
            (lz, v, h, vh.transpose())
        };
        // The engine's blocks and the notes layer's table alike.
        for e in [fast::model_expectations(&rbm), model_expectations(&rbm)] {
            assert_relative_eq!(e.log_z, lz, max_relative = 1e-13);
            assert_relative_eq!(e.log_z, log_z(&rbm), max_relative = 1e-13);
            for (got, want) in [(&e.v, &v), (&e.h, &h), (&e.hv, &hv)] {
                assert_eq!(got.shape(), want.shape());
                let err = (got - want).amax();
                assert!(err < 1e-12, "({n_v}, {n_h}): error {err}");
                assert!(want.amax() > 0.1);
            }
        }
    }
}
