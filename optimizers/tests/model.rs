//! The notes layer's backward pass against finite differences, the engine path against the
//! notes layer, the training loop against the notebook's loop written out, and the
//! experiment's outcome (Adam far ahead of gradient descent, momentum ≈ gradient descent) at a
//! fixed seed.

#![allow(non_snake_case)]

use nalgebra::DMatrix;
use optimizers::data::{Data, RngKind};
use optimizers::train::Shuffle;
use optimizers::{
    BATCH_STREAM, Decay, Grads, Hyper, INIT_STREAM, LAYERS, Method, Net, Setup, Trainer, fast,
};
use shared::data::batch::{Epochs, LastBatch};
use shared::gradcheck;
use shared::optim::{Eps, Rule};
use shared::rng::NumpyRandom;

/// Step of the finite differences (shared::gradcheck::STEP): the 4th-order stencil evaluates
/// the loss up to 2h away, so a ReLU kink closer than that to some Z would spoil the check.
const H: f64 = gradcheck::STEP;

/// He weights of `layers` from the ChaCha stream of `seed`.
fn he(layers: [usize; 4], seed: u64) -> Net {
    let mut rng = shared::rng::stream(seed, INIT_STREAM);
    Net::he(layers, || shared::rng::normal(&mut rng))
}

/// `net` with biases away from 0 so that every parameter has a visible gradient:
/// b1 = (slope·i + offset)_i, b2 = s2, b3 = s3.
fn with_biases(mut net: Net, (slope, offset): (f64, f64), s2: f64, s3: f64) -> Net {
    net.b1
        .iter_mut()
        .enumerate()
        .for_each(|(i, b)| *b = slope * i as f64 + offset);
    net.b2.fill(s2);
    net.b3.fill(s3);
    net
}

fn smallest_pre_activation(net: &Net, X: &DMatrix<f64>) -> f64 {
    let c = net.forward(X);
    c.Z1.iter()
        .chain(c.Z2.iter())
        .fold(f64::INFINITY, |m, z| m.min(z.abs()))
}

/// The gradient of J = (1/m) Σ cross-entropy for every parameter, against finite differences,
/// on the first seed whose batch keeps every pre-activation at least 4h from the ReLU kink.
fn check_gradients(layers: [usize; 4], m: usize) {
    let (seed, mut net, X, Y) = (0..50)
        .find_map(|seed| {
            let (X, labels) = shared::data::moons::make_moons(seed, m, 0.2);
            let net = with_biases(he(layers, seed), (0.1, -0.15), 0.2, -0.1);
            (smallest_pre_activation(&net, &X) > 4.0 * H)
                .then(|| (seed, net, X, optimizers::labels_row(&labels)))
        })
        .expect("a seed with no pre-activation near a ReLU kink");
    let g = net.backward(&net.forward(&X), &Y);
    let loss = |n: &Net| n.loss(&X, &Y);
    let names = ["W1", "b1", "W2", "b2", "W3", "b3"];
    let analytic = g.all();
    for (k, name) in names.iter().enumerate() {
        let rep = gradcheck::check(
            &mut net,
            |n| n.params_mut().into_iter().nth(k).unwrap(),
            analytic[k],
            loss,
        );
        assert!(
            rep.max_rel_error < 1e-6,
            "{layers:?} m={m} seed {seed} {name}: {rep:?}"
        );
        assert!(
            rep.max_abs_numeric > 1e-3,
            "{layers:?} m={m} seed {seed} {name}: gradient ~0, the check is empty: {rep:?}"
        );
    }
}

#[test]
fn backward_matches_finite_differences() {
    check_gradients(LAYERS, 8); // the notebook's net
    check_gradients(LAYERS, 44); // the size of the last mini-batch: dZ3 is divided by m = 44
    check_gradients([2, 7, 3, 1], 12);
}

/// The relative difference of two numbers, against the larger magnitude (and at least 1e-300).
fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-300)
}

#[test]
fn the_engine_path_is_the_notes_layer() {
    // Cost and every gradient of fast.rs against model.rs, for several widths and batch sizes
    // (including one example and the epoch's last batch of 44), at trained-looking biases.
    let mut checked = 0;
    for (layers, m, seed) in [
        (LAYERS, 1, 1),
        (LAYERS, 7, 2),
        (LAYERS, 44, 3),
        (LAYERS, 64, 4),
        ([2, 7, 3, 1], 12, 5),
        ([2, 16, 9, 1], 300, 6),
    ] {
        let (X, labels) = shared::data::moons::make_moons(seed, m, 0.2);
        let Y = optimizers::labels_row(&labels);
        let net = with_biases(he(layers, seed), (0.05, -0.1), 0.1, -0.2);
        let c = net.forward(&X);
        let (cost, g) = (net.cost(&c, &Y), net.backward(&c, &Y));

        let mut fc = fast::Cache::new(&net, m);
        fc.load(&X, &Y, &(0..m).collect::<Vec<_>>());
        fast::forward(&net, &mut fc);
        let mut fg = Grads::zeros(&net);
        fast::backward(&net, &mut fc, &mut fg);
        let what = format!("{layers:?} m = {m}");
        assert!(rel(fast::cost(&fc), cost) <= 1e-12, "{what}: cost");
        assert!((&fc.fwd.A3 - &c.A3).amax() <= 1e-14, "{what}: A3");
        for (k, (a, b)) in fg.all().iter().zip(g.all()).enumerate() {
            for (x, y) in a.iter().zip(b.iter()) {
                // Entries that cancel to ~0 are compared absolutely, against the gradient's scale.
                let scale = b.amax().max(1e-300);
                assert!(
                    rel(*x, *y) <= 1e-12 || (x - y).abs() <= 1e-14 * scale,
                    "{what}: gradient {k}: {x} vs {y}"
                );
                checked += 1;
            }
        }
        assert_eq!(fast::accuracy(&net, &X, &labels), {
            let right =
                c.A3.iter()
                    .zip(&labels)
                    .filter(|&(&a, &l)| (a > 0.5) == (l == 1));
            right.count() as f64 / m as f64
        });
    }
    assert!(checked > 100, "{checked}");
}

/// One epoch of the notebook's `model` for gradient descent, written out on the notes layer:
/// the examples in `order`, in mini-batches of 64 (the last one smaller), each forward, cost,
/// backward and W ← W − α dW. Returns the epoch's cost, Σ_batches cost / N.
fn written_out_epoch(
    net: &mut Net,
    X: &DMatrix<f64>,
    Y: &DMatrix<f64>,
    order: &[usize],
    lr: f64,
) -> f64 {
    let mut cost = 0.0;
    for idx in order.chunks(64) {
        let Xb = X.select_columns(idx); // 2 × m
        let Yb = Y.select_columns(idx); // 1 × m
        let c = net.forward(&Xb);
        cost += net.cost(&c, &Yb);
        let g = net.backward(&c, &Yb);
        for (W, dW) in net.params_mut().into_iter().zip(g.all()) {
            *W -= lr * dW;
        }
    }
    cost / X.ncols() as f64
}

/// One trainer epoch against the written-out one: its cost and every parameter after it, to
/// 1e-12.
fn assert_same_epoch(
    tr: &mut Trainer,
    net: &Net,
    X: &DMatrix<f64>,
    Y: &DMatrix<f64>,
    cost: f64,
    epoch: usize,
) {
    let by_trainer = tr.epoch(X, Y);
    assert!(
        (by_trainer - cost).abs() < 1e-12,
        "epoch {epoch}: {by_trainer} vs {cost}"
    );
    for ((name, a), (_, b)) in tr.net.tensors().iter().zip(net.tensors().iter()) {
        assert!((*a - *b).amax() < 1e-12, "epoch {epoch}: {name}");
    }
}

#[test]
fn one_epoch_is_the_notebooks_loop_written_out() {
    // The notebook's `model` for gradient descent, on the notes layer: for each mini-batch of
    // the shuffled epoch, forward, cost, backward, W ← W − α dW; the cost summed and divided by
    // N. The trainer runs the engine path: the two agree to 1e-12 over three epochs.
    let (X, labels) = shared::data::moons::make_moons(4, 300, 0.2);
    let Y = optimizers::labels_row(&labels);
    let lr = 0.05;
    let net0 = he(LAYERS, 4);
    let mut tr = Trainer::new(
        net0.clone(),
        Rule::Sgd,
        lr,
        Decay::Off,
        300,
        64,
        Shuffle::ChaCha(shared::rng::stream(4, BATCH_STREAM)),
    )
    .unwrap();

    let mut epochs = Epochs::shuffled(
        shared::rng::stream(4, BATCH_STREAM),
        300,
        64,
        LastBatch::Keep,
    )
    .unwrap();
    let mut net = net0;
    for epoch in 0..3 {
        let order = epochs.next().unwrap();
        let sizes: Vec<usize> = order.batches().map(|b| b.len()).collect();
        assert_eq!(sizes, [64, 64, 64, 64, 44]);
        let cost = written_out_epoch(&mut net, &X, &Y, order.order(), lr);
        assert_same_epoch(&mut tr, &net, &X, &Y, cost, epoch);
    }
    // t counts mini-batch steps: 5 per epoch.
    assert_eq!(tr.opt.state().t, 15);
}

#[test]
fn epochs_are_the_notebooks_random_mini_batches_reseeded() {
    // The notebook's `model` with numpy's generator: seed = 10; before each epoch seed += 1,
    // np.random.seed(seed), one permutation of the 300 columns, batches of 64 and 44.
    let data = Data::moons(RngKind::Numpy, 3, 300, 0.2).unwrap();
    let lr = 0.05;
    let setup = Setup {
        lr,
        ..Setup::default()
    };
    let mut net = setup.trainer(Method::Gd, 300).unwrap().net;
    let shuffle = Shuffle::Numpy { seed: 10 };
    let mut tr = Trainer::new(net.clone(), Rule::Sgd, lr, Decay::Off, 300, 64, shuffle).unwrap();
    for (epoch, seed) in (11..14).enumerate() {
        let order = NumpyRandom::new(seed).permutation(300);
        let cost = written_out_epoch(&mut net, &data.X, &data.Y, &order, lr);
        assert_same_epoch(&mut tr, &net, &data.X, &data.Y, cost, epoch);
    }
}

#[test]
fn decay_changes_the_rate_between_epochs() {
    let (X, labels) = shared::data::moons::make_moons(2, 300, 0.2);
    let Y = optimizers::labels_row(&labels);
    let net = he(LAYERS, 2);
    let decay = Decay::Schedule {
        rate: 1.0,
        interval: 2,
    };
    let shuffle = Shuffle::ChaCha(shared::rng::seeded(1));
    let mut tr = Trainer::new(net, Rule::Sgd, 0.1, decay, 300, 64, shuffle).unwrap();
    let mut rates = Vec::new();
    for _ in 0..5 {
        rates.push(tr.opt.lr);
        tr.epoch(&X, &Y);
    }
    // The notebook sets α = decay(α₀, i) at the end of epoch i: epoch 0 at α₀, epoch i + 1 at
    // α₀/(1 + ⌊i/2⌋): epochs 0, 1, 2 at α₀; 3, 4 at α₀/2.
    assert_eq!(rates, [0.1, 0.1, 0.1, 0.05, 0.05]);
}

/// Trains the notebook's net with `method` for `epochs` epochs on 300 moons: (cost of the last
/// epoch, training accuracy).
fn train(method: Method, seed: u64, epochs: u64) -> (f64, f64) {
    let (X, labels) = shared::data::moons::make_moons(seed, 300, 0.2);
    let Y = optimizers::labels_row(&labels);
    // The workspace's generator, and Adam's ε outside the root (the figures below were
    // measured so).
    let setup = Setup {
        rng: RngKind::Chacha,
        seed,
        hyper: Hyper {
            adam_eps: Eps::Outside,
            ..Hyper::default()
        },
        ..Setup::default()
    };
    let mut tr = setup.trainer(method, 300).unwrap();
    let mut cost = f64::NAN;
    for _ in 0..epochs {
        cost = tr.epoch(&X, &Y);
    }
    (cost, fast::accuracy(&tr.net, &X, &labels))
}

#[test]
fn adam_beats_gradient_descent_and_momentum_tracks_it() {
    // Seed 1, 1000 epochs (a tenth of the default run, to keep the test short). Measured:
    // gd cost 0.5707, accuracy 66.3 %; momentum 0.5711, 66.3 %; adam 0.1243, 94.7 %.
    // (The notebook at epoch 1000: gd 0.668, momentum 0.668, adam 0.168.)
    let (gd_cost, gd_acc) = train(Method::Gd, 1, 1000);
    let (mom_cost, mom_acc) = train(Method::Momentum, 1, 1000);
    let (adam_cost, adam_acc) = train(Method::Adam, 1, 1000);
    assert!(
        gd_cost < 0.68,
        "gradient descent learned something: {gd_cost}"
    );
    assert!(
        adam_cost < gd_cost - 0.3,
        "adam {adam_cost} vs gd {gd_cost}: margin 0.3"
    );
    assert!(
        adam_acc > gd_acc + 0.2,
        "adam {adam_acc} vs gd {gd_acc}: margin 20 points"
    );
    assert!(adam_acc > 0.9, "{adam_acc}");
    // β = 0.9 momentum at α = 0.0007 moves as gradient descent does (the notebook's two
    // curves agree to 1e-4 too).
    assert!((mom_cost - gd_cost).abs() < 0.005, "{mom_cost} {gd_cost}");
    assert!((mom_acc - gd_acc).abs() < 0.02, "{mom_acc} {gd_acc}");
}

#[test]
fn same_seed_same_numbers() {
    assert_eq!(train(Method::Adam, 3, 20), train(Method::Adam, 3, 20));
    assert_ne!(train(Method::Adam, 3, 20), train(Method::Adam, 4, 20));
}
