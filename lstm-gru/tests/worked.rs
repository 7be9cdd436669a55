//! The worked numbers of the chapter's reference sheet (scalar cells, h_0 = c_0 = 0, inputs
//! x = (1, −1), every weight 0.5, no biases) and the exact identities of the equations, on the
//! notes layer; and the engine's batch layout (columns are examples).
#![allow(non_snake_case)]

use lstm_gru::fast::{Cache, FastCell, Layer};
use lstm_gru::model::{Cell, Gru, Lstm, Rnn, gru, lstm};
use nalgebra::DMatrix;
use shared::rng;

fn assert_close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() < 1e-9,
        "{what}: got {got:.10}, want {want:.10}"
    );
}

/// x = (1, −1) as a 1 × 2 sequence of one example.
fn x() -> DMatrix<f64> {
    DMatrix::from_row_slice(1, 2, &[1.0, -1.0])
}

#[test]
fn lstm_worked_numbers() {
    let cell = Lstm {
        W_xh: DMatrix::from_element(4, 1, 0.5),
        W_hh: DMatrix::from_element(4, 1, 0.5),
        b_h: DMatrix::zeros(4, 1),
    };
    let c = cell.forward(&x(), 1, &cell.zero_state(1)); // the gates and states per step, 1 × 1 each
    // Step 1: all four gates share the pre-activation 0.5·1 + 0.5·0 = 0.5.
    for gate in [&c.f, &c.i, &c.o] {
        assert_close(gate[0][(0, 0)], 0.6224593312, "σ(0.5)");
    }
    assert_close(c.g[0][(0, 0)], 0.4621171573, "g_1 = tanh(0.5)");
    assert_close(c.c[1][(0, 0)], 0.2876491366, "c_1");
    assert_close(c.h[1][(0, 0)], 0.1742697187, "h_1");
    // Step 2.
    for gate in [&c.f, &c.i, &c.o] {
        assert_close(gate[1][(0, 0)], 0.3982253136, "gate at step 2");
    }
    assert_close(c.g[1][(0, 0)], -0.3909027282, "g_2");
    assert_close(c.c[2][(0, 0)], -0.0411181939, "c_2");
    assert_close(c.h[2][(0, 0)], -0.0163650838, "h_2");
}

fn scalar_gru() -> Gru {
    Gru {
        W_xh: DMatrix::from_element(3, 1, 0.5),
        W_hh: DMatrix::from_element(3, 1, 0.5),
        b_h: DMatrix::zeros(3, 1),
    }
}

/// The notes' (Colah's) h_t = (1 − z_t) ∗ h_{t−1} + z_t ∗ h̃_t. With z and 1 − z swapped (the
/// PyTorch / Britz weighting) step 1 would give 0.1744680206 and step 2 −0.1918953096.
#[test]
fn gru_worked_numbers_in_the_notes_convention() {
    let cell = scalar_gru();
    let c = cell.forward(&x(), 1, &cell.zero_state(1));
    assert_close(c.z[0][(0, 0)], 0.6224593312, "z_1");
    assert_close(c.r[0][(0, 0)], 0.6224593312, "r_1");
    assert_close(c.h_tilde[0][(0, 0)], 0.4621171573, "h̃_1");
    assert_close(c.h[1][(0, 0)], 0.2876491366, "h_1");
    assert_close(c.z[1][(0, 0)], 0.4118857003, "z_2");
    assert_close(c.r[1][(0, 0)], 0.4118857003, "r_2");
    assert_close(c.h_tilde[1][(0, 0)], -0.4142748007, "h̃_2");
    assert_close(c.h[2][(0, 0)], -0.0014632959, "h_2");
}

/// z ≡ 0 copies the old state; z ≡ 1 with r ≡ 1 is the bias-free tanh RNN. A cell that weights
/// the old state by z (z ↔ 1 − z) fails both halves.
#[test]
fn gru_update_gate_identities() {
    let (D, H, T, B) = (3, 4, 6, 2);
    let mut cell = Gru::new(D, H, &mut rng::seeded(5));
    let X = shared::init::uniform(D, T * B, -1.0, 1.0, &mut rng::seeded(6));
    let h0 = shared::init::uniform(H, B, -1.0, 1.0, &mut rng::seeded(7));

    cell.b_h.rows_mut(gru::Z * H, H).fill(-60.0); // z = σ(−60) ≈ 1e-26
    let c = cell.forward(&X, B, std::slice::from_ref(&h0));
    for t in 1..=T {
        assert!(
            (&c.h[t] - &h0).abs().max() < 1e-12,
            "z ≡ 0 must copy h_0 to step {t}"
        );
    }

    cell.b_h.rows_mut(gru::Z * H, 2 * H).fill(60.0); // z = r = σ(60) ≈ 1
    cell.b_h.rows_mut(gru::N * H, H).fill(0.0);
    let c = cell.forward(&X, B, std::slice::from_ref(&h0));
    let rnn = Rnn {
        W_xh: cell.W_xh.rows(gru::N * H, H).into_owned(),
        W_hh: cell.W_hh.rows(gru::N * H, H).into_owned(),
        b_h: DMatrix::zeros(H, 1),
        f: lstm_gru::model::rnn::Activation::Tanh,
    };
    let want = rnn.forward(&X, B, &[h0]);
    assert!((Gru::outputs(&c) - Rnn::outputs(&want)).abs().max() < 1e-12);
}

/// f ≡ 0, i ≡ 1, o ≡ 1 gives h_t = tanh(tanh(W^g_xh x_t + W^g_hh h_{t−1})).
#[test]
fn lstm_gate_identity() {
    let (D, H, T, B) = (3, 4, 6, 2);
    let mut cell = Lstm::new(D, H, &mut rng::seeded(8));
    cell.b_h.fill(0.0);
    cell.b_h.rows_mut(lstm::F * H, H).fill(-60.0);
    cell.b_h.rows_mut(lstm::I * H, H).fill(60.0);
    cell.b_h.rows_mut(lstm::O * H, H).fill(60.0);
    let X = shared::init::uniform(D, T * B, -1.0, 1.0, &mut rng::seeded(9));
    let c = cell.forward(&X, B, &cell.zero_state(B));
    let (W_g, U_g) = (
        cell.W_xh.rows(lstm::G * H, H),
        cell.W_hh.rows(lstm::G * H, H),
    );
    let mut h = DMatrix::zeros(H, B);
    for t in 0..T {
        h = (W_g * X.columns(t * B, B) + U_g * &h).map(|a| a.tanh().tanh());
        assert!((&c.h[t + 1] - &h).abs().max() < 1e-12, "step {t}");
    }
}

/// Columns are examples: on the engine, a batch of B gives, column by column, what B runs of
/// one give (the batch-1 runs take the matrix–vector path).
fn batch_columns_are_independent<C: FastCell>() {
    let (D, H, T, B) = (3, 5, 4, 3);
    let cell = C::new(D, H, &mut rng::seeded(10)).to_layer::<f64>();
    let X = shared::init::uniform(D, T * B, -1.0, 1.0, &mut rng::seeded(11));
    let mut cache = cell.fast_cache(T, B);
    cell.forward_fast(X.columns(0, T * B), &mut cache);
    for j in 0..B {
        let Xj = DMatrix::from_fn(D, T, |d, t| X[(d, t * B + j)]);
        let mut one = cell.fast_cache(T, 1);
        cell.forward_fast(Xj.columns(0, T), &mut one);
        for t in 0..T {
            let diff = (cache.outputs().column(t * B + j) - one.outputs().column(t))
                .abs()
                .max();
            assert!(diff < 1e-13, "{}: example {j}, step {t}: {diff}", C::NAME);
        }
    }
}

#[test]
fn batches_are_columns() {
    batch_columns_are_independent::<Rnn>();
    batch_columns_are_independent::<Lstm>();
    batch_columns_are_independent::<Gru>();
}
