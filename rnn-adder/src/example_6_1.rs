//! Notes §6, Example 6.1 (figure 21; a quiz question of Hinton's Coursera course "Neural
//! Networks for Machine Learning"): an RNN with one input x, one logistic hidden unit h and one
//! *linear* output y, unrolled for T = 0, 1, 2, with biases:
//!
//! ```text
//! z_0 = W_xh x_0 + h_bias,   z_k = W_xh x_k + W_hh h_{k−1} + h_bias
//! h_k = σ(z_k),   y_k = W_hy h_k + y_bias,   E_k = ½ (t_k − y_k)²,   E = E_0 + E_1 + E_2
//! ```
//!
//! The question: ∂E/∂z_1 to four decimals. The notes split it as
//! ∂E/∂z_1 = ∂E_1/∂z_1 + ∂E_2/∂z_1 with
//! ∂E_1/∂z_1 = (y_1 − t_1) × W_hy × h_1(1 − h_1) and
//! ∂E_2/∂z_1 = (y_2 − t_2) × W_hy × h_2(1 − h_2) × W_hh × h_1(1 − h_1).
//! The question gives the rounded h ≈ 0.2, 0.4, 0.8 and y ≈ 0.05, 0.1, 0.2; both these and
//! the exact values give 0.0139.

#![allow(non_snake_case)]

use nalgebra::DMatrix;
use shared::activation::{sigmoid, sigmoid_grad};

/// The weights and biases of the example (all scalars: one unit per layer).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// Input → hidden.
    pub W_xh: f64,
    /// Hidden → hidden.
    pub W_hh: f64,
    /// Hidden → output.
    pub W_hy: f64,
    /// Hidden bias.
    pub h_bias: f64,
    /// Output bias.
    pub y_bias: f64,
}

/// The example's parameters: W_xh = −0.1, W_hh = 0.5, W_hy = 0.25, h_bias = 0.4, y_bias = 0.
pub const PARAMS: Params = Params {
    W_xh: -0.1,
    W_hh: 0.5,
    W_hy: 0.25,
    h_bias: 0.4,
    y_bias: 0.0,
};

/// The inputs x_0, x_1, x_2.
pub const X: [f64; 3] = [18.0, 9.0, -8.0];
/// The targets t_0, t_1, t_2.
pub const T: [f64; 3] = [0.1, -0.1, -0.2];
/// The hidden values the question states (rounded).
pub const H_ROUNDED: [f64; 3] = [0.2, 0.4, 0.8];
/// The output values the question states (rounded).
pub const Y_ROUNDED: [f64; 3] = [0.05, 0.1, 0.2];

/// Every value of the forward pass.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trace {
    /// z_k, the hidden unit's total input.
    pub z: [f64; 3],
    /// h_k = σ(z_k).
    pub h: [f64; 3],
    /// y_k = W_hy h_k + y_bias.
    pub y: [f64; 3],
    /// E_k = ½ (t_k − y_k)².
    pub E_k: [f64; 3],
    /// E = E_0 + E_1 + E_2.
    pub E: f64,
}

// ANCHOR: example_forward
/// The forward pass, with `shift_z1` added to z_1 (0 for the example itself; the finite
/// difference of E in `shift_z1` is ∂E/∂z_1).
pub fn forward(p: &Params, x: &[f64; 3], t: &[f64; 3], shift_z1: f64) -> Trace {
    let mut tr = Trace {
        z: [0.0; 3],
        h: [0.0; 3],
        y: [0.0; 3],
        E_k: [0.0; 3],
        E: 0.0,
    };
    let mut h_prev = 0.0; // z_0 has no W_hh term: h_{−1} = 0
    for k in 0..3 {
        // z_k = W_xh x_k + W_hh h_{k−1} + h_bias
        tr.z[k] = p.W_xh * x[k] + p.W_hh * h_prev + p.h_bias + if k == 1 { shift_z1 } else { 0.0 };
        // h_k = σ(z_k)
        tr.h[k] = sigmoid(tr.z[k]);
        // y_k = W_hy h_k + y_bias   (linear output)
        tr.y[k] = p.W_hy * tr.h[k] + p.y_bias;
        // E_k = ½ (t_k − y_k)²
        tr.E_k[k] = 0.5 * (t[k] - tr.y[k]).powi(2);
        h_prev = tr.h[k];
    }
    tr.E = tr.E_k.iter().sum();
    tr
}
// ANCHOR_END: example_forward

// ANCHOR: example_dz1
/// The notes' two terms (∂E_1/∂z_1, ∂E_2/∂z_1) from hidden values `h` and outputs `y`.
pub fn dE_dz1_terms(p: &Params, h: &[f64; 3], y: &[f64; 3], t: &[f64; 3]) -> (f64, f64) {
    // ∂E_1/∂z_1 = (y_1 − t_1) × W_hy × h_1(1 − h_1)
    let dE1 = (y[1] - t[1]) * p.W_hy * sigmoid_grad(h[1]);
    // ∂E_2/∂z_1 = (y_2 − t_2) × W_hy × h_2(1 − h_2) × W_hh × h_1(1 − h_1)
    let dE2 = (y[2] - t[2]) * p.W_hy * sigmoid_grad(h[2]) * p.W_hh * sigmoid_grad(h[1]);
    (dE1, dE2)
}
// ANCHOR_END: example_dz1

// ANCHOR: example_bptt
/// ∂E/∂z_k for every k by BPTT (the general form of the notes' two terms):
/// ∂E/∂z_k = ((y_k − t_k) W_hy + W_hh ∂E/∂z_{k+1}) h_k(1 − h_k), with ∂E/∂z_3 = 0.
pub fn dE_dz(p: &Params, tr: &Trace, t: &[f64; 3]) -> [f64; 3] {
    let mut d = [0.0; 3];
    let mut d_next = 0.0;
    for k in (0..3).rev() {
        // y_k = W_hy h_k + y_bias and z_{k+1} = … + W_hh h_k: both paths into h_k
        d[k] = ((tr.y[k] - t[k]) * p.W_hy + p.W_hh * d_next) * sigmoid_grad(tr.h[k]);
        d_next = d[k];
    }
    d
}
// ANCHOR_END: example_bptt

/// ∂E/∂z_1 by finite differences of E in a shift of z_1 (shared::gradcheck's fourth-order
/// central difference).
pub fn dE_dz1_numeric(p: &Params, x: &[f64; 3], t: &[f64; 3]) -> f64 {
    let mut shift = DMatrix::zeros(1, 1); // 1 × 1: the shift of z_1
    let g = shared::gradcheck::numeric_gradient(
        &mut shift,
        |s| s,
        |s| forward(p, x, t, s[(0, 0)]).E,
        shared::gradcheck::STEP,
    );
    g[(0, 0)]
}

/// The worked example as the `example-6-1` subcommand prints it: the forward values, the
/// notes' two terms from the rounded and the exact values, the finite-difference check.
pub fn report() -> String {
    use std::fmt::Write;
    let p = PARAMS;
    let tr = forward(&p, &X, &T, 0.0);
    let (r1, r2) = dE_dz1_terms(&p, &H_ROUNDED, &Y_ROUNDED, &T);
    let (e1, e2) = dE_dz1_terms(&p, &tr.h, &tr.y, &T);
    let fd = dE_dz1_numeric(&p, &X, &T);
    let bptt = dE_dz(&p, &tr, &T);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Example 6.1 (notes §6, figure 21): one input x, one logistic hidden unit h, one linear output y"
    );
    let _ = writeln!(
        s,
        "  W_xh = {}, W_hh = {}, W_hy = {}, h_bias = {}, y_bias = {}; squared loss\n",
        p.W_xh, p.W_hh, p.W_hy, p.h_bias, p.y_bias
    );
    let _ = writeln!(
        s,
        "  k   x_k   t_k            z_k           h_k           y_k           E_k"
    );
    for k in 0..3 {
        let _ = writeln!(
            s,
            "  {k}  {:>4}  {:>4}  {:>13.10}  {:>12.10}  {:>12.10}  {:>12.10}",
            X[k], T[k], tr.z[k], tr.h[k], tr.y[k], tr.E_k[k]
        );
    }
    let _ = writeln!(s, "{:>73}", format!("E = {:.10}", tr.E));
    let _ = writeln!(
        s,
        "  (the question states h ≈ 0.2, 0.4, 0.8 and y ≈ 0.05, 0.1, 0.2)\n"
    );
    let _ = writeln!(s, "  ∂E/∂z_1 = ∂E_1/∂z_1 + ∂E_2/∂z_1, where");
    let _ = writeln!(s, "  ∂E_1/∂z_1 = (y_1 − t_1) × W_hy × h_1(1 − h_1)");
    let _ = writeln!(
        s,
        "  ∂E_2/∂z_1 = (y_2 − t_2) × W_hy × h_2(1 − h_2) × W_hh × h_1(1 − h_1)\n"
    );
    let _ = writeln!(
        s,
        "                        ∂E_1/∂z_1     ∂E_2/∂z_1       ∂E/∂z_1   to 4 places"
    );
    let _ = writeln!(
        s,
        "  rounded h, y       {r1:>12.10}  {r2:>12.10}  {:>12.10}   {:.4}",
        r1 + r2,
        r1 + r2
    );
    let _ = writeln!(
        s,
        "  exact h, y         {e1:>12.10}  {e2:>12.10}  {:>12.10}   {:.4}",
        e1 + e2,
        e1 + e2
    );
    let _ = writeln!(
        s,
        "  finite difference                            {fd:>12.10}   (|exact − fd| = {:.1e})",
        (fd - e1 - e2).abs()
    );
    let _ = writeln!(
        s,
        "\n  BPTT through all three steps: ∂E/∂z = ({:.10}, {:.10}, {:.10})",
        bptt[0], bptt[1], bptt[2]
    );
    let _ = write!(s, "  answer: ∂E/∂z_1 = {:.4}", e1 + e2);
    s
}

/// The answers as `summary.json` records them: E, ∂E/∂z_1 from the rounded and from the exact
/// values, and by finite differences.
pub fn summary() -> serde_json::Value {
    let p = PARAMS;
    let tr = forward(&p, &X, &T, 0.0);
    let (r1, r2) = dE_dz1_terms(&p, &H_ROUNDED, &Y_ROUNDED, &T);
    let (e1, e2) = dE_dz1_terms(&p, &tr.h, &tr.y, &T);
    serde_json::json!({
        "E": tr.E, "dE_dz1_rounded": r1 + r2, "dE_dz1_exact": e1 + e2,
        "dE_dz1_finite_difference": dE_dz1_numeric(&p, &X, &T),
    })
}
