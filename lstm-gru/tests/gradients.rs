//! `lstm-gru gradients`: the vanishing gradient, measured on the notes layer.
#![allow(non_snake_case)]

use lstm_gru::data::adding_batch;
use lstm_gru::gradients::{decay_per_step, lag_norms};
use lstm_gru::model::{AddingNet, Cell, Gru, Lstm, Rnn};
use shared::rng;

#[test]
fn the_fit_recovers_a_geometric_decay() {
    let norms: Vec<f64> = (0..30).map(|k| 3.0 * 0.8f64.powi(k)).collect();
    assert!((decay_per_step(&norms) - 0.8).abs() < 1e-12);
    // Zeros (a dead ReLU layer, an underflow) are left out of the fit, not taken as ln 0.
    let mut holes = norms.clone();
    holes[7] = 0.0;
    assert!((decay_per_step(&holes) - 0.8).abs() < 1e-12);
    assert!(decay_per_step(&[1.0]).is_nan());
}

/// Notes §6 at initialisation, T = 60: the tanh RNN's ‖∂E/∂h_(T−k)‖ falls fastest with the lag
/// k; the IRNN's (W_hh = I, ReLU) barely falls.
#[test]
fn at_initialisation_tanh_vanishes_fastest_and_the_irnn_keeps_its_gradient() {
    let (T, H) = (60, 32);
    let batch = adding_batch(T, 20, &mut rng::seeded(5));
    let rate = |norms: &[f64]| decay_per_step(norms);
    let rnn = lag_norms(&AddingNet::<Rnn>::new(H, 1, &mut rng::seeded(1)), &batch);
    let irnn_net = AddingNet::with_layers(H, 1, &mut rng::seeded(1), Rnn::irnn);
    assert_eq!(irnn_net.rnn.layers[0].label(), "irnn");
    let irnn = lag_norms(&irnn_net, &batch);
    let lstm = lag_norms(&AddingNet::<Lstm>::new(H, 1, &mut rng::seeded(1)), &batch);
    let gru = lag_norms(&AddingNet::<Gru>::new(H, 1, &mut rng::seeded(1)), &batch);
    let (r_rnn, r_irnn, r_lstm, r_gru) = (rate(&rnn), rate(&irnn), rate(&lstm), rate(&gru));
    println!("per step: rnn {r_rnn:.4}  irnn {r_irnn:.4}  lstm {r_lstm:.4}  gru {r_gru:.4}");
    assert_eq!(rnn.len(), T + 1);
    assert!(r_rnn < r_gru && r_rnn < r_lstm && r_rnn < r_irnn);
    // The tanh RNN: the error from step T is gone (< 1e-9 of itself) 60 steps back.
    assert!(rnn[T] < 1e-9 * rnn[0], "{} vs {}", rnn[T], rnn[0]);
    // The IRNN: over 1 % loss per step would leave < 55 % after 60 steps.
    assert!(r_irnn > 0.99, "{r_irnn}");
    assert!(irnn[T] > 0.5 * irnn[0], "{} vs {}", irnn[T], irnn[0]);
}

const BIN: &str = env!("CARGO_BIN_EXE_lstm-gru");

/// The command writes its table, picture, numbers and summary, the same for the same seed.
#[test]
fn the_command_writes_its_files_the_same_for_the_same_seed() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = Vec::new();
    for name in ["a", "b"] {
        let out = dir.path().join(name);
        let args = [
            "gradients",
            "--length",
            "12",
            "--hidden",
            "4",
            "--steps",
            "3",
            "--sequences",
            "5",
            "-q",
            "--out",
            out.to_str().unwrap(),
        ];
        let o = shared::testing::run(BIN, &args);
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        for cell in lstm_gru::gradients::CELLS {
            assert_eq!(stdout.lines().filter(|l| l.starts_with(cell)).count(), 2);
        }
        for file in [
            "gradients.png",
            "gradients.csv",
            "summary.json",
            "loss.png",
            "loss.csv",
        ] {
            assert!(out.join(file).is_file(), "{file}");
        }
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap())
                .unwrap();
        let rate = summary["cells"]["irnn"]["decay_per_step_init"]
            .as_f64()
            .unwrap();
        assert!(rate > 0.9 && rate <= 1.0 + 1e-9, "{rate}");
        csv.push(std::fs::read(out.join("gradients.csv")).unwrap());
    }
    assert_eq!(csv[0], csv[1]);
}

#[test]
fn bad_flags_are_one_line_errors() {
    for (args, mention) in [
        (&["gradients", "--length", "1"][..], "--length"),
        (&["gradients", "--sequences", "0"], "--sequences"),
        (&["gradients", "--lr", "nan"], "--lr"),
        (&["adding", "--activation", "sigmoid"], "--activation"),
        (
            &["adding", "--cell", "gru", "--activation", "relu"],
            "--activation",
        ),
    ] {
        let o = shared::testing::run(BIN, args);
        shared::testing::assert_user_error(&o, &format!("{args:?}"), &[mention]);
    }
}
