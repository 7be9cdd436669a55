//! The engine against the notes layer: each layer and the whole network (loss and every
//! gradient) to 1e-12 on several sizes (im2col and col2im, bit for bit, in `tests/im2col.rs`); the engine's own
//! choices (channels-last maps, the ReLU after the pooling, ties in max pooling, W2's column
//! order) checked where they could go wrong.

#![allow(non_snake_case)]

use conv_im2col::fast::layers::{
    relu_backward, relu_forward, softmax_with_loss_backward, softmax_with_loss_forward,
};
use conv_im2col::fast::{
    Affine, Classifier, Convolution, FastConvNet, Pooling, w2_from_model, w2_to_model,
};
use conv_im2col::model::layers as notes;
use conv_im2col::{Config, Geometry, Init, SimpleConvNet, im2col};
use nalgebra::DMatrix;
use shared::optim::{Optimizer, Rule};
use shared::rng;

fn random(rows: usize, cols: usize, seed: u64) -> DMatrix<f64> {
    let mut r = rng::seeded(seed);
    DMatrix::from_fn(rows, cols, |_, _| rng::normal(&mut r))
}

/// ‖a − b‖ ≤ tol·‖b‖ (Frobenius), with ‖b‖ > 0 so the comparison is not of zeros.
fn close(what: &str, a: &DMatrix<f64>, b: &DMatrix<f64>, tol: f64) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    let (err, scale) = ((a - b).norm(), b.norm());
    assert!(scale > 0.0, "{what}: compared zeros");
    println!("{what}: relative error {:.1e}", err / scale);
    assert!(
        err <= tol * scale,
        "{what}: ‖a − b‖ = {err:e}, ‖b‖ = {scale:e}"
    );
}

/// A (C·H·W) × N batch in (c, y, x) order → the same maps in (y, x, c) order, as the engine
/// keeps the conv output.
fn channels_last(X: &DMatrix<f64>, C: usize) -> DMatrix<f64> {
    let HW = X.nrows() / C;
    DMatrix::from_fn(X.nrows(), X.ncols(), |i, n| X[((i % C) * HW + i / C, n)])
}

/// The inverse of [`channels_last`].
fn channels_first(X: &DMatrix<f64>, C: usize) -> DMatrix<f64> {
    let HW = X.nrows() / C;
    DMatrix::from_fn(X.nrows(), X.ncols(), |i, n| X[((i % HW) * C + i / HW, n)])
}

#[test]
fn convolution_layer_is_the_model_in_channels_last_order() {
    let mut dX = DMatrix::zeros(0, 0);
    let geometries = [
        (Geometry::new(1, 28, 28, 5, 5, 1, 0), 2),
        (Geometry::new(3, 7, 6, 3, 3, 1, 1), 3),
        (Geometry::new(2, 9, 8, 4, 3, 2, 2), 2),
        (Geometry::new(2, 5, 5, 5, 5, 1, 2), 1),
    ];
    for (i, (g, n)) in geometries.into_iter().enumerate() {
        let g = g.unwrap();
        let FN = 3;
        let seed = 100 * i as u64;
        let (W, b) = (random(FN, g.taps(), seed + 1), random(FN, 1, seed + 2));
        let X = random(g.input_len(), n, seed + 3);
        let dY = random(FN * g.windows(), n, seed + 4); // (f, y, x) order
        let (Y_model, col) = notes::convolution_forward(&W, &b, &g, &X);
        let (dW, db, dX_model) = notes::convolution_backward(&W, &g, &col, &dY);
        let mut layer = Convolution::new(g, W, b);
        let mut Y = DMatrix::zeros(0, 0);
        layer.forward(&X, &mut Y);
        close("conv Y", &channels_first(&Y, FN), &Y_model, 1e-12);
        layer.backward(&channels_last(&dY, FN), Some(&mut dX));
        close("conv dW", &layer.dW, &dW, 1e-12);
        close("conv db", &layer.db, &db, 1e-12);
        close("conv dX", &dX, &dX_model, 1e-12);
    }
}

#[test]
fn pooling_layer_is_the_model_ties_included() {
    // Non-overlapping (the network's) and overlapping windows; inputs rounded to integers so
    // that many windows hold ties: both must send the gradient to the same (first) maximum.
    let mut dX = DMatrix::zeros(0, 0);
    for (i, g) in [
        Geometry::new(3, 6, 8, 2, 2, 2, 0).unwrap(),
        Geometry::new(2, 7, 7, 3, 3, 2, 0).unwrap(),
        Geometry::new(4, 9, 6, 3, 2, 3, 0).unwrap(),
    ]
    .into_iter()
    .enumerate()
    {
        let N = 3;
        let X = random(g.input_len(), N, 40 + i as u64).map(|v| (v * 2.0).round());
        let dY = random(g.c * g.windows(), N, 50 + i as u64);
        let (Y_model, arg_max) = notes::pooling_forward(&g, &X);
        let dX_model = notes::pooling_backward(&g, &arg_max, &dY);
        let mut layer = Pooling::new(g);
        let mut Y = DMatrix::zeros(0, 0);
        layer.forward(&channels_last(&X, g.c), &mut Y);
        assert_eq!(channels_first(&Y, g.c), Y_model, "case {i}");
        layer.backward(&channels_last(&dY, g.c), &mut dX);
        // Overlapping windows add in another order: equal up to rounding.
        close("pool dX", &channels_first(&dX, g.c), &dX_model, 1e-15);
    }
}

#[test]
fn pooling_is_the_row_max_of_im2col() {
    // Saito's pooling: im2col of every channel as its own image, then the max of each row
    // (rows in (n, c, oy, ox) order). Ties (repeated values) go to the first maximum.
    let g = Geometry::new(3, 6, 8, 2, 2, 2, 0).unwrap();
    let (N, C) = (2, 3);
    let mut X = random(g.input_len(), N, 5).map(|v| (v * 2.0).round()); // many ties
    X[(0, 0)] = 7.0;
    let mut layer = Pooling::new(g);
    let mut Y = DMatrix::zeros(0, 0);
    layer.forward(&X, &mut Y);
    // X is channels last, (y, x, c); im2col wants each (n, c) map as its own 1-channel image.
    let maps = DMatrix::from_fn(48, N * C, |yx, nc| X[(yx * C + nc % C, nc / C)]);
    let one = Geometry::new(1, 6, 8, 2, 2, 2, 0).unwrap();
    let col = im2col(&maps, &one); // (N·C·OH·OW) × 4, rows (n, c, oy, ox)
    let at = |r: usize| {
        // output row and example of im2col row r = (n, c, oy, ox)
        let (nc, win) = (r / 12, r % 12);
        (win * C + nc % C, nc / C)
    };
    for r in 0..col.nrows() {
        assert_eq!(Y[at(r)], col.row(r).max(), "row {r}");
    }
    // The backward routes each gradient to the first maximum of its window.
    let dY = DMatrix::from_element(Y.nrows(), N, 1.0);
    let mut dX = DMatrix::zeros(0, 0);
    layer.backward(&dY, &mut dX);
    assert_eq!(dX.sum(), Y.len() as f64);
    for r in 0..col.nrows() {
        let first = (0..4).find(|&j| col[(r, j)] == col.row(r).max()).unwrap();
        let (nc, win) = (r / 12, r % 12);
        let (oy, ox, fy, fx) = (win / 4, win % 4, first / 2, first % 2);
        let pixel = ((2 * oy + fy) * 8 + 2 * ox + fx) * C + nc % C;
        assert_eq!(dX[(pixel, nc / C)], 1.0, "window {r}");
    }
}

#[test]
fn relu_then_pool_equals_pool_then_relu_forward_and_backward() {
    // FastConvNet computes pool(relu(A1)) as relu(pool(A1)): the same outputs and the same
    // gradient, exactly, also where A1 is negative (whole windows below 0 included).
    let g = Geometry::new(4, 6, 8, 2, 2, 2, 0).unwrap();
    let N = 3;
    let A = random(g.input_len(), N, 11).map(|v| v - 0.6); // ~70 % negative
    let dP = random(g.c * g.windows(), N, 12);
    let mut pool = Pooling::new(g);
    // The notes' order: Z = relu(A); P = pool(Z); dZ = route(dP); dA = dZ ∘ [Z > 0]
    let mut Z = A.clone();
    relu_forward(&mut Z);
    let (mut P, mut dA) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
    pool.forward(&Z, &mut P);
    pool.backward(&dP, &mut dA);
    relu_backward(&mut dA, &Z);
    // The engine's order: P' = relu(pool(A)); dP' = dP ∘ [P' > 0]; dA' = route(dP')
    let (mut P2, mut dA2) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
    pool.forward(&A, &mut P2);
    relu_forward(&mut P2);
    let mut dP2 = dP.clone();
    relu_backward(&mut dP2, &P2);
    pool.backward(&dP2, &mut dA2);
    assert!(
        P.iter().filter(|&&v| v == 0.0).count() > 5,
        "some windows are all negative"
    );
    assert_eq!(P, P2);
    assert_eq!(dA, dA2);
}

#[test]
fn affine_and_softmax_layers_are_the_model() {
    let (W, b, X) = (random(4, 6, 1), random(4, 1, 2), random(6, 3, 3));
    let dY = random(4, 3, 4);
    let mut layer = Affine::new(W.clone(), b.clone());
    let (mut Y, mut dX) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
    layer.forward(&X, &mut Y);
    close("affine Y", &Y, &notes::affine_forward(&W, &b, &X), 1e-14);
    layer.backward(&X, &dY, Some(&mut dX));
    let (dW, db, dX_model) = notes::affine_backward(&W, &X, &dY);
    close("affine dW", &layer.dW, &dW, 1e-14);
    close("affine db", &layer.db, &db, 1e-14);
    close("affine dX", &dX, &dX_model, 1e-14);
    // Softmax with loss: the same operations in the same order, so the same bits.
    let (t, S) = ([2, 0, 3], random(4, 3, 9));
    let (Y_model, L_model) = notes::softmax_with_loss(&S, &t);
    let mut Y = S.clone();
    assert_eq!(softmax_with_loss_forward(&mut Y, &t), L_model);
    assert_eq!(Y, Y_model);
    let mut dS = DMatrix::zeros(0, 0);
    softmax_with_loss_backward(&Y, &t, &mut dS);
    assert_eq!(dS, notes::softmax_with_loss_backward(&Y_model, &t));
}

/// Sizes for the whole-network comparisons: MNIST's, several channels with padding and
/// stride, a single filter, and odd maps whose last row and column the pooling drops.
fn configs() -> Vec<Config> {
    let small = |channels, side, filters, filter_size, stride, pad| Config {
        filters,
        filter_size,
        stride,
        pad,
        hidden: 7,
        classes: 4,
        ..Config::simple(channels, side, side)
    };
    vec![
        Config::simple(1, 28, 28),
        small(3, 9, 4, 3, 1, 1),
        small(2, 11, 3, 3, 2, 2),
        small(1, 8, 1, 3, 1, 0),
        small(2, 10, 5, 2, 1, 0),
    ]
}

#[test]
fn fast_network_is_the_model_loss_and_every_gradient() {
    for (i, config) in configs().into_iter().enumerate() {
        let model = SimpleConvNet::new(config, Init::He, &mut rng::seeded(i as u64)).unwrap();
        let mut fast = FastConvNet::from_model(&model);
        let N = 5;
        let X = random(
            config.channels * config.height * config.width,
            N,
            70 + i as u64,
        );
        let t: Vec<usize> = (0..N).map(|n| (n * 3 + i) % config.classes).collect();
        let cache = model.forward(&X);
        close("scores", fast.forward(&X), &cache.S3, 1e-12);
        let (L, grads) = model.gradient(&X, &t);
        let L_fast = fast.gradient(&X, &t);
        assert!(
            (L_fast - L).abs() <= 1e-12 * L.abs(),
            "config {i}: {L_fast} vs {L}"
        );
        let fast_grads = fast.grads_for_model();
        let names = ["dW1", "db1", "dW2", "db2", "dW3", "db3"];
        for ((name, a), b) in names.iter().zip(fast_grads.all()).zip(grads.all()) {
            close(&format!("config {i} {name}"), a, b, 1e-12);
        }
        // One SGD step on each: the same network after it.
        let mut model = model;
        model.update(&grads, &mut Optimizer::new(Rule::Sgd, 0.1));
        fast.update(&mut Optimizer::new(Rule::Sgd, 0.1));
        for ((name, a), b) in names
            .iter()
            .zip(fast.to_model().unwrap().params())
            .zip(model.params())
        {
            close(
                &format!("config {i} {} after a step", &name[1..]),
                a,
                b,
                1e-12,
            );
        }
    }
}

#[test]
fn from_model_and_to_model_are_inverse() {
    let config = configs()[1];
    let model = SimpleConvNet::new(config, Init::Std(0.3), &mut rng::seeded(9)).unwrap();
    assert_eq!(FastConvNet::from_model(&model).to_model().unwrap(), model);
    let fast = FastConvNet::new(config, Init::Std(0.3), &mut rng::seeded(9)).unwrap();
    // Both draw the same numbers; only the meaning of W2's columns differs.
    assert_eq!(fast.affine2.W, model.W2);
    assert_eq!(
        w2_from_model(&w2_to_model(&model.W2, &config), &config),
        model.W2
    );
}

#[test]
fn w2_column_order_depends_on_the_number_of_filters_not_of_channels() {
    // The engine's W2 reads the pooled maps in (y, x, f) order, the model's in (f, y, x):
    // a permutation of W2's columns that is the identity for FN = 1, whatever C is, and not
    // for FN > 1 even when C = 1. Shown on the networks themselves: the model's W2 put into
    // the engine unpermuted gives the same scores only when FN = 1.
    let with = |channels, filters| Config {
        filters,
        filter_size: 3,
        hidden: 6,
        classes: 3,
        ..Config::simple(channels, 8, 8)
    };
    for (config, same) in [(with(3, 1), true), (with(1, 1), true), (with(1, 2), false)] {
        let model = SimpleConvNet::new(config, Init::He, &mut rng::seeded(4)).unwrap();
        let permuted = w2_from_model(&model.W2, &config);
        assert_eq!(permuted == model.W2, same, "{config:?}");
        let [W1, b1, W2, b2, W3, b3] = model.params().map(Clone::clone);
        let mut unpermuted = FastConvNet::from_weights(config, [W1, b1, W2, b2, W3, b3]);
        let X = random(config.channels * 64, 4, 5);
        let S = model.forward(&X).S3;
        let diff = (unpermuted.forward(&X) - &S).amax();
        assert_eq!(diff <= 1e-12 * S.amax(), same, "{config:?}: {diff:e}");
    }
}
