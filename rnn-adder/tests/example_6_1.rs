//! The notes' Example 6.1 (Hinton's quiz question): every number of the worked example.

use rnn_adder::example_6_1::{
    H_ROUNDED, PARAMS, T, X, Y_ROUNDED, dE_dz, dE_dz1_numeric, dE_dz1_terms, forward, report,
};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn forward_values_round_to_the_ones_the_question_states() {
    let tr = forward(&PARAMS, &X, &T, 0.0);
    let z = [-1.4, -0.4010919443, 1.4005250084];
    let h = [0.1978161114, 0.4010500168, 0.8022671862];
    let y = [0.0494540279, 0.1002625042, 0.2005667966];
    for k in 0..3 {
        assert!(close(tr.z[k], z[k], 1e-10), "z_{k} = {}", tr.z[k]);
        assert!(close(tr.h[k], h[k], 1e-10), "h_{k} = {}", tr.h[k]);
        assert!(close(tr.y[k], y[k], 1e-10), "y_{k} = {}", tr.y[k]);
        // "the hidden unit values will be 0.2, 0.4, 0.8 and the outputs 0.05, 0.1, 0.2"
        assert!(close(tr.h[k], H_ROUNDED[k], 0.005), "h_{k}");
        assert!(close(tr.y[k], Y_ROUNDED[k], 0.001), "y_{k}");
    }
    assert!(close(tr.E, 0.1015568622, 1e-10), "E = {}", tr.E);
    assert!(close(tr.E, tr.E_k.iter().sum(), 1e-15));
}

#[test]
fn de_dz1_from_the_rounded_values_is_0_01392() {
    let (d1, d2) = dE_dz1_terms(&PARAMS, &H_ROUNDED, &Y_ROUNDED, &T);
    // 0.2 × 0.25 × 0.24 and 0.4 × 0.25 × 0.16 × 0.5 × 0.24
    assert!(close(d1, 0.012, 1e-15), "{d1}");
    assert!(close(d2, 0.00192, 1e-15), "{d2}");
    assert!(close(d1 + d2, 0.01392, 1e-15));
    assert_eq!(format!("{:.4}", d1 + d2), "0.0139");
}

#[test]
fn de_dz1_exact_agrees_with_finite_differences_and_bptt() {
    let tr = forward(&PARAMS, &X, &T, 0.0);
    let (d1, d2) = dE_dz1_terms(&PARAMS, &tr.h, &tr.y, &T);
    assert!(close(d1, 0.0120262090, 1e-10), "{d1}");
    assert!(close(d2, 0.0019079713, 1e-10), "{d2}");
    assert!(close(d1 + d2, 0.0139341803, 1e-10));
    assert_eq!(format!("{:.4}", d1 + d2), "0.0139");
    let fd = dE_dz1_numeric(&PARAMS, &X, &T);
    assert!(close(fd, d1 + d2, 1e-10), "finite difference {fd}");
    // The general recursion gives the same ∂E/∂z_1; ∂E/∂z_0 checks the W_hh path once more.
    let d = dE_dz(&PARAMS, &tr, &T);
    assert!(close(d[1], d1 + d2, 1e-15));
    let shifted = |eps: f64| {
        let mut x = X;
        // z_0 = W_xh x_0 + h_bias: shifting x_0 by eps / W_xh shifts z_0 by eps.
        x[0] += eps / PARAMS.W_xh;
        forward(&PARAMS, &x, &T, 0.0).E
    };
    let fd0 = (shifted(1e-6) - shifted(-1e-6)) / 2e-6;
    assert!(close(fd0, d[0], 1e-9), "∂E/∂z_0: {} vs {fd0}", d[0]);
}

#[test]
fn the_printed_report_shows_both_answers() {
    let r = report();
    assert!(r.contains("0.0139200000"), "{r}");
    assert!(r.contains("0.0139341803"), "{r}");
    assert!(r.contains("E = 0.1015568622"), "{r}");
    assert!(r.ends_with("∂E/∂z_1 = 0.0139"), "{r}");
}
