//! Finite-difference checks of every hand-written backward pass of the notes layer
//! (`lstm_gru::model`), gate by gate: each weight matrix is stacked from one row block per
//! gate, and each block must match on its own (relative error < 1e-6, shared::gradcheck's
//! contract). `tests/fast.rs` holds the engine to these passes.
#![allow(non_snake_case)]

use lstm_gru::data::adding_batch;
use lstm_gru::model::rnn::Activation;
use lstm_gru::model::{AddingNet, Cell, Gru, Lstm, Rnn, Stack};
use nalgebra::DMatrix;
use shared::gradcheck::{Report, STEP, compare, numeric_gradient};
use shared::rng;

const D: usize = 3;
const H: usize = 4;
const T: usize = 5;

fn random(rows: usize, cols: usize, seed: u64) -> DMatrix<f64> {
    shared::init::uniform(rows, cols, -1.0, 1.0, &mut rng::seeded(seed))
}

/// Compares one gate's block (rows kH..(k+1)H) of an analytic and a numeric gradient.
fn block(analytic: &DMatrix<f64>, numeric: &DMatrix<f64>, k: usize, h: usize) -> Report {
    compare(
        &analytic.rows(k * h, h).into_owned(),
        &numeric.rows(k * h, h).into_owned(),
    )
}

fn assert_gates(what: &str, analytic: &DMatrix<f64>, numeric: &DMatrix<f64>, gates: &[&str]) {
    assert_eq!(
        analytic.nrows(),
        gates.len() * H,
        "{what}: one block per gate"
    );
    for (k, gate) in gates.iter().enumerate() {
        let rep = block(analytic, numeric, k, H);
        println!("{what}[{gate}]: {rep:?}");
        assert!(rep.max_rel_error < 1e-6, "{what}[{gate}]: {rep:?}");
        assert!(
            rep.max_abs_numeric > 1e-3,
            "{what}[{gate}]: the check compared near-zeros: {rep:?}"
        );
    }
}

/// A cell with random biases too (so no gate sits at a special point), the loss
/// E = Σ P ∘ [h_1 … h_T] starting from the state a first chunk X0 left (carried over, so h_0
/// and c_0 are not zero; a constant, as in truncated BPTT), and the analytic gradients.
struct Setup<C: Cell> {
    B: usize,
    cell: C,
    /// The last state of the first chunk: the constant h_0 (and c_0).
    start: Vec<DMatrix<f64>>,
    X: DMatrix<f64>,
    P: DMatrix<f64>,
}

impl<C: Cell> Setup<C> {
    /// `make` builds the cell.
    fn with(make: fn(usize, usize, &mut rng::Rng) -> C, seed: u64, B: usize) -> Self {
        let mut cell = make(D, H, &mut rng::seeded(seed));
        let b = cell.params_mut().pop().expect("bias last");
        *b = random(b.nrows(), 1, seed + 1) * 0.5;
        let first = cell.forward(&random(D, T * B, seed + 2), B, &cell.zero_state(B));
        Setup {
            B,
            start: C::last_state(&first),
            cell,
            X: random(D, T * B, seed + 3),
            P: random(H, T * B, seed + 4),
        }
    }

    fn loss(&self, cell: &C, X: &DMatrix<f64>) -> f64 {
        let cache = cell.forward(X, self.B, &self.start);
        self.P.component_mul(&C::outputs(&cache)).sum()
    }
}

/// Checks every parameter and ∂E/∂x with a batch of 2 and with a single sequence.
fn check_cell<C: Cell>(gates: &[&str]) {
    check_cell_with(C::new, gates);
}

/// [`check_cell`] for the cells that `make` builds.
fn check_cell_with<C: Cell>(make: fn(usize, usize, &mut rng::Rng) -> C, gates: &[&str]) {
    for B in [2, 1] {
        check_cell_batch(make, gates, B);
    }
}

fn check_cell_batch<C: Cell>(make: fn(usize, usize, &mut rng::Rng) -> C, gates: &[&str], B: usize) {
    let s: Setup<C> = Setup::with(make, 7, B);
    let cache = s.cell.forward(&s.X, B, &s.start);
    let (grads, dX) = s.cell.backward(&cache, &s.P);
    for (i, analytic) in grads.list().into_iter().enumerate() {
        let mut cell = s.cell.clone();
        let name = cell.params()[i].0;
        let numeric = numeric_gradient(
            &mut cell,
            |c| c.params_mut().swap_remove(i),
            |c| s.loss(c, &s.X),
            STEP,
        );
        assert_gates(&format!("{} {name}", C::NAME), analytic, &numeric, gates);
    }
    // ∂E/∂x_t, what a stacked layer hands down.
    let mut X = s.X.clone();
    let numeric = numeric_gradient(&mut X, |x| x, |x| s.loss(&s.cell, x), STEP);
    let rep = compare(&dX, &numeric);
    assert!(
        rep.max_rel_error < 1e-6 && rep.max_abs_numeric > 1e-3,
        "dX: {rep:?}"
    );
}

#[test]
fn lstm_gradients_per_gate() {
    check_cell::<Lstm>(&["f", "i", "o", "g"]);
}

#[test]
fn gru_gradients_per_gate() {
    check_cell::<Gru>(&["z", "r", "h̃"]);
}

#[test]
fn rnn_gradients() {
    check_cell::<Rnn>(&["h"]);
}

/// f = ReLU: from random weights (some units on, some off: f' is 1 or 0) and from the IRNN's
/// start (W_hh = I; the random biases of [`Setup`] switch some units off for good).
#[test]
fn relu_rnn_gradients() {
    check_cell_with(
        |d, h, rng| Rnn {
            f: Activation::Relu,
            ..Rnn::new(d, h, rng)
        },
        &["h"],
    );
    check_cell_with(Rnn::irnn, &["h"]);
}

/// Two stacked layers: the gradient of the lower layer has gone through the upper one's dX.
fn check_stack<C: Cell>(gates: &[&str]) {
    let B = 2;
    let mut stack: Stack<C> = Stack::new(D, H, 2, &mut rng::seeded(11));
    for (l, layer) in stack.layers.iter_mut().enumerate() {
        let b = layer.params_mut().pop().expect("bias last");
        *b = random(b.nrows(), 1, 20 + l as u64) * 0.5;
    }
    let X = random(D, T * B, 13);
    let P = random(H, T * B, 14);
    // The state a first chunk left, carried over: a constant of the loss.
    let first = stack.forward(&random(D, T * B, 12), B, &stack.zero_state(B));
    let start = Stack::last_state(&first);
    let loss = |s: &Stack<C>| {
        P.component_mul(&Stack::outputs(&s.forward(&X, B, &start)))
            .sum()
    };
    let (grads, _) = stack.backward(&stack.forward(&X, B, &start), &P);
    let analytic: Vec<&DMatrix<f64>> = grads.iter().flat_map(|g| g.list()).collect();
    let names: Vec<String> = stack.params().into_iter().map(|(n, _)| n).collect();
    for (i, name) in names.iter().enumerate() {
        let mut s = stack.clone();
        let numeric = numeric_gradient(&mut s, |s| s.params_mut().swap_remove(i), loss, STEP);
        assert_gates(
            &format!("{} stack {name}", C::NAME),
            analytic[i],
            &numeric,
            gates,
        );
    }
}

#[test]
fn lstm_stack_of_two() {
    check_stack::<Lstm>(&["f", "i", "o", "g"]);
}

#[test]
fn gru_stack_of_two() {
    check_stack::<Gru>(&["z", "r", "h̃"]);
}

#[test]
fn rnn_stack_of_two() {
    check_stack::<Rnn>(&["h"]);
}

/// The adding problem's read-out and MSE on top of a 2-layer LSTM.
#[test]
fn adding_net_gradients() {
    let mut net: AddingNet<Lstm> = AddingNet::new(H, 2, &mut rng::seeded(3));
    let batch = adding_batch(T, 2, &mut rng::seeded(4));
    let grads = net.backward(&net.forward(&batch.X, &batch.target).1);
    let loss = |n: &AddingNet<Lstm>| n.forward(&batch.X, &batch.target).0;
    let analytic = grads.list();
    for (i, analytic) in analytic.into_iter().enumerate() {
        let numeric = numeric_gradient(&mut net, |n| n.params_mut().swap_remove(i), loss, STEP);
        let rep = compare(analytic, &numeric);
        assert!(rep.max_rel_error < 1e-6, "parameter {i}: {rep:?}");
        assert!(rep.max_abs_numeric > 1e-4, "parameter {i}: {rep:?}");
    }
}

/// ∂E/∂h_0 of [`Cell::backward_states`] (the last of BPTT's ∂E/∂h_t, through every step: what
/// `lstm-gru gradients` measures) against finite differences on the carried state h_0.
fn check_state_gradient<C: Cell>(make: fn(usize, usize, &mut rng::Rng) -> C) {
    let B = 2;
    let s: Setup<C> = Setup::with(make, 7, B);
    let bptt = s
        .cell
        .backward_states(&s.cell.forward(&s.X, B, &s.start), &s.P);
    assert_eq!(bptt.dh.len(), T + 1, "∂E/∂h_0 … ∂E/∂h_T");
    let mut start = s.start.clone();
    let numeric = numeric_gradient(
        &mut start,
        |st| &mut st[0],
        |st| {
            let cache = s.cell.forward(&s.X, B, st);
            s.P.component_mul(&C::outputs(&cache)).sum()
        },
        STEP,
    );
    let rep = compare(&bptt.dh[0], &numeric);
    println!("{} ∂E/∂h_0: {rep:?}", s.cell.label());
    assert!(
        rep.max_rel_error < 1e-6 && rep.max_abs_numeric > 1e-3,
        "{}: {rep:?}",
        s.cell.label()
    );
}

#[test]
fn state_gradients_reach_h0() {
    check_state_gradient(Lstm::new);
    check_state_gradient(Gru::new);
    check_state_gradient(Rnn::new);
    check_state_gradient(Rnn::irnn);
}
