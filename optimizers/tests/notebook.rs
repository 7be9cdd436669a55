//! Ng's "Optimization Methods" notebook, digit for digit: its data, its initial weights, its
//! mini-batches and the costs and accuracies it prints, with numpy's generator reimplemented
//! (`shared::rng::NumpyRandom`). (The reseeded mini-batches, epoch by epoch against the
//! notebook's loop written out, are tested in `tests/model.rs`.)
//!
//! The printed numbers are the notebook's (v1b, 10 000 epochs; reference sheet §3). The
//! weights were printed by numpy 2.4.6: `np.random.seed(3)` then, per layer,
//! `np.random.randn(n_l, n_{l-1}) * np.sqrt(2 / n_{l-1})`, `repr` of each entry.

#![allow(non_snake_case)]

use nalgebra::DMatrix;
use optimizers::data::{Data, RngKind};
use optimizers::{Decay, Hyper, Method, Setup, fast};
use shared::optim::Eps;
use shared::rng::NumpyRandom;

fn notebook_data() -> Data {
    Data::moons(RngKind::Numpy, 3, 300, 0.2).unwrap()
}

/// Trains `method` as the notebook's `model` does for `epochs` epochs: the costs printed every
/// 1000 epochs (as `%f` prints them) and the number of training points classified right.
fn notebook_run(method: Method, setup: &Setup, epochs: u64) -> (Vec<String>, usize) {
    let data = notebook_data();
    let mut tr = setup.trainer(method, 300).unwrap();
    let mut printed = Vec::new();
    for epoch in 0..epochs {
        let cost = tr.epoch(&data.X, &data.Y);
        if epoch % 1000 == 0 {
            printed.push(format!("{cost:.6}"));
        }
    }
    let right = fast::accuracy(&tr.net, &data.X, &data.labels) * 300.0;
    (printed, right.round() as usize)
}

#[test]
fn the_notebooks_printed_costs_and_accuracies() {
    let setup = Setup::default();
    assert_eq!(
        (setup.rng, setup.seed, setup.lr),
        (RngKind::Numpy, 3, 0.0007)
    );
    let table = [
        (
            Method::Gd,
            [
                "0.702405", "0.668101", "0.635288", "0.600491", "0.573367", "0.551977", "0.532370",
                "0.514007", "0.496472", "0.468014",
            ],
            239, // Accuracy: 0.7966666666666666
        ),
        (
            Method::Momentum,
            [
                "0.702413", "0.668167", "0.635388", "0.600591", "0.573444", "0.552058", "0.532458",
                "0.514101", "0.496652", "0.468160",
            ],
            239, // Accuracy: 0.7966666666666666
        ),
        (
            Method::Adam,
            [
                "0.702166", "0.167966", "0.141320", "0.138782", "0.136111", "0.134327", "0.131147",
                "0.130245", "0.129655", "0.129159",
            ],
            282, // Accuracy: 0.94
        ),
    ];
    for (method, costs, right) in table {
        let (printed, got_right) = notebook_run(method, &setup, 10_000);
        assert_eq!(printed, costs, "{}", method.name());
        assert_eq!(got_right, right, "{}", method.name());
    }
}

#[test]
fn adam_with_epsilon_outside_prints_the_later_notebooks_costs() {
    // The notebook's printed Adam run puts ε inside the root, as the notes do; its later
    // versions (and the reference sheet's numpy re-run) put it outside, and print these.
    let setup = Setup {
        hyper: Hyper {
            adam_eps: Eps::Outside,
            ..Hyper::default()
        },
        ..Setup::default()
    };
    let (printed, right) = notebook_run(Method::Adam, &setup, 10_000);
    let want = [
        "0.702166", "0.167845", "0.141316", "0.138788", "0.136066", "0.134240", "0.131127",
        "0.130216", "0.129623", "0.129118",
    ];
    assert_eq!(printed, want);
    assert_eq!(right, 282); // 0.94 either way
}

#[test]
fn the_2021_notebooks_learning_rate_decay() {
    // The 2021 notebook: 5000 epochs, Adam's ε outside the root, and its two decays applied at
    // the end of each epoch i: update_lr α₀/(1 + i) (α₀ 0.1: the rate collapses, gd ends at
    // 0.653333) and schedule_lr_decay α₀/(1 + ⌊i/1000⌋) (gd 0.943333 and momentum 0.953333 at
    // α₀ 0.1, adam 0.94 at α₀ 0.01): training accuracy × 300 below.
    let notebook_2021 = |lr: f64, decay: Decay| Setup {
        lr,
        decay,
        hyper: Hyper {
            adam_eps: Eps::Outside,
            ..Hyper::default()
        },
        ..Setup::default()
    };
    let every = Decay::EveryEpoch { rate: 1.0 };
    let schedule = Decay::Schedule {
        rate: 1.0,
        interval: 1000,
    };
    for (method, setup, right) in [
        (Method::Gd, notebook_2021(0.1, every), 196),
        (Method::Gd, notebook_2021(0.1, schedule), 283),
        (Method::Momentum, notebook_2021(0.1, schedule), 286),
        (Method::Adam, notebook_2021(0.01, schedule), 282),
    ] {
        let (_, got) = notebook_run(method, &setup, 5000);
        assert_eq!(got, right, "{} {:?}", method.name(), setup.decay);
    }
}

#[test]
fn he_weights_are_numpys() {
    // np.random.seed(3); W1 = randn(5, 2)·√(2/2), W2 = randn(2, 5)·√(2/5), W3 = randn(1, 2)·√(2/2)
    let net = Setup::default().trainer(Method::Gd, 300).unwrap().net;
    // W1 (scale √(2/2) = 1) is the first ten draws, whose first seven shared::rng checks against
    // numpy; W2 and W3, the next twelve, against numpy's printout here.
    let mut np = NumpyRandom::new(3);
    let W1: Vec<f64> = (0..10).map(|_| np.gauss()).collect();
    let W2 = [
        -0.8309610316082895,
        0.5594843183077617,
        0.5573944712752409,
        1.0812289415230667,
        0.03164405378254869,
        -0.25594046955341887,
        -0.3449159158215677,
        -0.9780781334050371,
        0.6213037182863017,
        -0.696376313807212,
    ];
    let W3 = [-1.1850465270201729, -0.20564989942254108];
    assert_eq!(net.W1, DMatrix::from_row_slice(5, 2, &W1));
    assert_eq!(net.W2, DMatrix::from_row_slice(2, 5, &W2));
    assert_eq!(net.W3, DMatrix::from_row_slice(1, 2, &W3));
    for b in [&net.b1, &net.b2, &net.b3] {
        assert!(b.iter().all(|&v| v == 0.0));
    }
}
