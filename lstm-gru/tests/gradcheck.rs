//! Finite-difference checks of every hand-written backward pass, gate by gate: each weight
//! matrix is stacked from one row block per gate, and each block must match on its own
//! (relative error < 1e-6, shared::gradcheck's contract).
#![allow(non_snake_case)]

use lstm_gru::adding::{self, AddingNet};
use lstm_gru::{Cell, Gru, Lstm, Rnn, Stack, Tape};
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
    /// The tape after the first chunk and the carry: holds the constant h_0 (and c_0).
    start: C::Tape,
    X: DMatrix<f64>,
    P: DMatrix<f64>,
}

impl<C: Cell> Setup<C> {
    fn new(seed: u64, B: usize) -> Self {
        let mut cell = C::new(D, H, &mut rng::seeded(seed));
        let b = cell.params_mut().pop().expect("bias last");
        *b = random(b.nrows(), 1, seed + 1) * 0.5;
        let mut start = cell.tape(T, B);
        cell.forward(random(D, T * B, seed + 2).columns(0, T * B), &mut start);
        start.carry();
        Setup {
            B,
            cell,
            start,
            X: random(D, T * B, seed + 3),
            P: random(H, T * B, seed + 4),
        }
    }

    fn loss(&self, cell: &C, X: &DMatrix<f64>) -> f64 {
        let B = self.B;
        let mut tape = self.start.clone();
        cell.forward(X.columns(0, T * B), &mut tape);
        self.P.component_mul(&tape.outputs()).sum()
    }

    fn analytic(&self) -> (C, DMatrix<f64>) {
        let B = self.B;
        let mut tape = self.start.clone();
        self.cell.forward(self.X.columns(0, T * B), &mut tape);
        let mut grad = self.cell.zeros_like();
        let mut dX = DMatrix::zeros(D, T * B);
        self.cell.backward(
            self.X.columns(0, T * B),
            &mut tape,
            self.P.columns(0, T * B),
            &mut grad,
            Some(&mut dX),
        );
        (grad, dX)
    }
}

/// Checks every parameter and ∂E/∂x with a batch of 2 and with a single sequence (B = 1 takes
/// the matrix–vector path of the per-step products).
fn check_cell<C: Cell>(gates: &[&str]) {
    for B in [2, 1] {
        check_cell_batch::<C>(gates, B);
    }
}

fn check_cell_batch<C: Cell>(gates: &[&str], B: usize) {
    let s: Setup<C> = Setup::new(7, B);
    let (grad, dX) = s.analytic();
    let n_params = s.cell.params().len();
    for i in 0..n_params {
        let mut cell = s.cell.clone();
        let name = cell.params()[i].0;
        let numeric = numeric_gradient(
            &mut cell,
            |c| c.params_mut().swap_remove(i),
            |c| s.loss(c, &s.X),
            STEP,
        );
        let analytic = grad.params()[i].1;
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
    let mut start = stack.tape(T, B);
    stack.forward(random(D, T * B, 12).columns(0, T * B), &mut start);
    start.carry();
    let loss = |s: &Stack<C>| {
        let mut tape = start.clone();
        s.forward(X.columns(0, T * B), &mut tape);
        P.component_mul(&tape.outputs()).sum()
    };
    let mut tape = start.clone();
    stack.forward(X.columns(0, T * B), &mut tape);
    let mut grad = stack.zeros_like();
    stack.backward(
        X.columns(0, T * B),
        &mut tape,
        P.columns(0, T * B),
        &mut grad,
    );
    let names: Vec<String> = stack.params().into_iter().map(|(n, _)| n).collect();
    for (i, name) in names.iter().enumerate() {
        let mut s = stack.clone();
        let numeric = numeric_gradient(&mut s, |s| s.params_mut().swap_remove(i), loss, STEP);
        let analytic = grad.params()[i].1;
        assert_gates(
            &format!("{} stack {name}", C::NAME),
            analytic,
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
    let B = 2;
    let batch = adding::batch(T, B, &mut rng::seeded(4));
    let mut tape = net.tape(T, B);
    let mut grad = net.zeros_like();
    net.backward(&batch, &mut tape, &mut grad);
    let loss = |n: &AddingNet<Lstm>| n.forward(&batch, &mut n.tape(T, B));
    let count = net.params_mut().len();
    for i in 0..count {
        let numeric = numeric_gradient(&mut net, |n| n.params_mut().swap_remove(i), loss, STEP);
        let rep = compare(grad.params_mut()[i], &numeric);
        assert!(rep.max_rel_error < 1e-6, "parameter {i}: {rep:?}");
        assert!(rep.max_abs_numeric > 1e-4, "parameter {i}: {rep:?}");
    }
}
