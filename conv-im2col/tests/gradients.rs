//! Finite-difference checks of every backward pass (relative error < 1e-6), plus the
//! convolution and pooling forwards against direct, loop-by-loop definitions.

#![allow(non_snake_case)]

use conv_im2col::layers::{softmax_with_loss_backward, softmax_with_loss_forward};
use conv_im2col::net::Classifier;
use conv_im2col::{Affine, Config, Convolution, Geometry, Init, Pooling, SimpleConvNet, im2col};
use nalgebra::DMatrix;
use shared::gradcheck::{Report, check};
use shared::rng;

const TOL: f64 = 1e-6;

fn random(rows: usize, cols: usize, seed: u64) -> DMatrix<f64> {
    let mut r = rng::seeded(seed);
    DMatrix::from_fn(rows, cols, |_, _| rng::normal(&mut r))
}

fn assert_ok(name: &str, r: Report) {
    println!("{name}: {r:?}");
    assert!(r.max_rel_error < TOL, "{name}: {r:?}");
    assert!(
        r.max_abs_numeric > 1e-3,
        "{name}: the check compared zeros: {r:?}"
    );
}

/// A layer and its input under a smooth scalar loss L = ½ Σ R ∘ Y², so dY = R ∘ Y.
#[derive(Clone)]
struct ConvProbe {
    layer: Convolution,
    X: DMatrix<f64>,
    R: DMatrix<f64>,
}

fn conv_loss(p: &ConvProbe) -> f64 {
    let mut layer = p.layer.clone();
    let mut Y = DMatrix::zeros(0, 0);
    layer.forward(&p.X, &mut Y);
    0.5 * Y.component_mul(&Y).dot(&p.R)
}

#[test]
fn convolution_forward_is_the_direct_sum() {
    // Y[n, oy, ox, f] = b_f + Σ_{c,fy,fx} W[f, c, fy, fx] x_padded[n, c, S·oy + fy, S·ox + fx]
    // (output channels last, input channels first: see the layers module)
    let g = Geometry::new(2, 6, 7, 3, 2, 2, 1).unwrap();
    let (FN, N) = (3, 2);
    let mut layer = Convolution::new(g, random(FN, g.taps(), 1), random(FN, 1, 2));
    let X = random(g.input_len(), N, 3);
    let mut Y = DMatrix::zeros(0, 0);
    layer.forward(&X, &mut Y);
    let (oh, ow) = (g.oh(), g.ow());
    assert_eq!(Y.shape(), (oh * ow * FN, N));
    for n in 0..N {
        for f in 0..FN {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut s = layer.b[f];
                    for c in 0..g.c {
                        for fy in 0..g.fh {
                            for fx in 0..g.fw {
                                let y = (2 * oy + fy) as isize - 1;
                                let x = (2 * ox + fx) as isize - 1;
                                if y >= 0 && x >= 0 && y < 6 && x < 7 {
                                    let w = layer.W[(f, (c * g.fh + fy) * g.fw + fx)];
                                    s += w * X[(c * 42 + y as usize * 7 + x as usize, n)];
                                }
                            }
                        }
                    }
                    let got = Y[((oy * ow + ox) * FN + f, n)];
                    assert!((got - s).abs() < 1e-12, "n {n} f {f} ({oy}, {ox})");
                }
            }
        }
    }
}

#[test]
fn convolution_backward_matches_finite_differences() {
    for (i, g) in [
        Geometry::new(2, 5, 6, 3, 2, 1, 0).unwrap(),
        Geometry::new(2, 6, 5, 3, 3, 2, 1).unwrap(),
    ]
    .into_iter()
    .enumerate()
    {
        let (FN, N) = (3, 2);
        let seed = 10 * i as u64;
        let mut p = ConvProbe {
            layer: Convolution::new(g, random(FN, g.taps(), seed + 1), random(FN, 1, seed + 2)),
            X: random(g.input_len(), N, seed + 3),
            R: random(FN * g.windows(), N, seed + 4),
        };
        let mut Y = DMatrix::zeros(0, 0);
        p.layer.forward(&p.X, &mut Y);
        let dY = p.R.component_mul(&Y);
        let mut dX = DMatrix::zeros(0, 0);
        p.layer.backward(&dY, Some(&mut dX));
        let (dW, db) = (p.layer.dW.clone(), p.layer.db.clone());
        assert_ok("conv dW", check(&mut p, |p| &mut p.layer.W, &dW, conv_loss));
        assert_ok("conv db", check(&mut p, |p| &mut p.layer.b, &db, conv_loss));
        assert_ok("conv dX", check(&mut p, |p| &mut p.X, &dX, conv_loss));
    }
}

/// Distinct values spaced 0.01 apart in random order, centred on 0: no window has a near-tie,
/// so the finite-difference steps (≤ 2e-3) never move a maximum. (Small values also keep the
/// loss small, so its rounding noise stays far below the check's 1e-6 floor.)
fn tie_free(rows: usize, cols: usize, seed: u64) -> DMatrix<f64> {
    let n = rows * cols;
    let perm = rng::permutation(&mut rng::seeded(seed), n);
    DMatrix::from_iterator(
        rows,
        cols,
        perm.iter().map(|&v| (v as f64 - n as f64 / 2.0) * 0.01),
    )
}

#[derive(Clone)]
struct PoolProbe {
    layer: Pooling,
    X: DMatrix<f64>,
    R: DMatrix<f64>,
}

fn pool_loss(p: &PoolProbe) -> f64 {
    let mut layer = p.layer.clone();
    let mut Y = DMatrix::zeros(0, 0);
    layer.forward(&p.X, &mut Y);
    0.5 * Y.component_mul(&Y).dot(&p.R)
}

#[test]
fn pooling_backward_matches_finite_differences() {
    // Non-overlapping 2×2 (the network's) and overlapping 3×3 stride 2.
    for (i, g) in [
        Geometry::new(3, 6, 4, 2, 2, 2, 0).unwrap(),
        Geometry::new(2, 7, 7, 3, 3, 2, 0).unwrap(),
    ]
    .into_iter()
    .enumerate()
    {
        let N = 2;
        let mut p = PoolProbe {
            layer: Pooling::new(g),
            X: tie_free(g.input_len(), N, 20 + i as u64),
            R: random(g.c * g.windows(), N, 30 + i as u64),
        };
        let mut Y = DMatrix::zeros(0, 0);
        p.layer.forward(&p.X, &mut Y);
        let dY = p.R.component_mul(&Y);
        let mut dX = DMatrix::zeros(0, 0);
        p.layer.backward(&dY, &mut dX);
        assert_ok("pool dX", check(&mut p, |p| &mut p.X, &dX, pool_loss));
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
    // SimpleConvNet computes pool(relu(A1)) as relu(pool(A1)): the same outputs and the same
    // gradient, exactly, also where A1 is negative (whole windows below 0 included).
    use conv_im2col::layers::{relu_backward, relu_forward};
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
    // The network's order: P' = relu(pool(A)); dP' = dP ∘ [P' > 0]; dA' = route(dP')
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

#[derive(Clone)]
struct AffineProbe {
    layer: Affine,
    X: DMatrix<f64>,
    R: DMatrix<f64>,
}

fn affine_loss(p: &AffineProbe) -> f64 {
    let mut Y = DMatrix::zeros(0, 0);
    p.layer.forward(&p.X, &mut Y);
    Y.map(f64::sin).dot(&p.R)
}

#[test]
fn affine_backward_matches_finite_differences() {
    let mut p = AffineProbe {
        layer: Affine::new(random(4, 6, 1), random(4, 1, 2)),
        X: random(6, 3, 3),
        R: random(4, 3, 4),
    };
    let mut Y = DMatrix::zeros(0, 0);
    p.layer.forward(&p.X, &mut Y);
    // L = Σ R ∘ sin(Y)  ⇒  dY = R ∘ cos(Y)
    let dY = p.R.component_mul(&Y.map(f64::cos));
    let mut dX = DMatrix::zeros(0, 0);
    let X = p.X.clone();
    p.layer.backward(&X, &dY, Some(&mut dX));
    let (dW, db) = (p.layer.dW.clone(), p.layer.db.clone());
    assert_ok(
        "affine dW",
        check(&mut p, |p| &mut p.layer.W, &dW, affine_loss),
    );
    assert_ok(
        "affine db",
        check(&mut p, |p| &mut p.layer.b, &db, affine_loss),
    );
    assert_ok("affine dX", check(&mut p, |p| &mut p.X, &dX, affine_loss));
}

#[test]
fn softmax_with_loss_backward_matches_finite_differences() {
    let t = [2, 0, 1];
    let mut S = random(4, 3, 9);
    let loss = |S: &DMatrix<f64>| softmax_with_loss_forward(&mut S.clone(), &t);
    let mut Y = S.clone();
    softmax_with_loss_forward(&mut Y, &t);
    let mut dS = DMatrix::zeros(0, 0);
    softmax_with_loss_backward(&Y, &t, &mut dS);
    assert_ok("softmax dS", check(&mut S, |s| s, &dS, loss));
}

/// A tiny SimpleConvNet: 2 × 6 × 6 input from N(0, 1), 2 filters 3 × 3, pool 2, hidden 5,
/// 4 classes, 2 examples; weights and data from `seed`.
fn tiny(seed: u64) -> (SimpleConvNet, DMatrix<f64>, Vec<usize>) {
    let config = Config {
        channels: 2,
        height: 6,
        width: 6,
        filters: 2,
        filter_size: 3,
        stride: 1,
        pad: 0,
        pool: 2,
        hidden: 5,
        classes: 4,
    };
    let net = SimpleConvNet::new(config, Init::He, &mut rng::stream(seed, 0)).unwrap();
    let mut r = rng::stream(seed, 1);
    let X = DMatrix::from_fn(2 * 6 * 6, 2, |_, _| rng::normal(&mut r));
    (net, X, vec![3, 1])
}

/// The smallest distance of a ReLU input from its kink and of a positive pooled maximum from
/// the runner-up of its window (finite-difference steps must not cross either), and whether
/// every filter and hidden unit is alive (positive somewhere: a dead unit has a zero
/// gradient, which would make the check trivially pass for it).
fn margins(net: &SimpleConvNet, X: &DMatrix<f64>) -> (f64, f64, f64, bool) {
    let mut conv = net.conv1.clone();
    let mut A1 = DMatrix::zeros(0, 0);
    conv.forward(X, &mut A1);
    let relu_1 = A1.amin();
    let Z1 = A1.map(|v| v.max(0.0));
    let g = net.pool1.g;
    let mut pool_gap = f64::INFINITY;
    for n in 0..X.ncols() {
        for c in 0..g.c {
            for oy in 0..g.oh() {
                for ox in 0..g.ow() {
                    let mut w: Vec<f64> = (0..4)
                        .map(|j| Z1[(((2 * oy + j / 2) * g.w + 2 * ox + j % 2) * g.c + c, n)])
                        .collect();
                    w.sort_by(|a, b| b.total_cmp(a));
                    if w[0] > 0.0 {
                        pool_gap = pool_gap.min(w[0] - w[1]);
                    }
                }
            }
        }
    }
    let mut P1 = DMatrix::zeros(0, 0);
    net.pool1.clone().forward(&Z1, &mut P1);
    let mut A2 = DMatrix::zeros(0, 0);
    net.affine2.forward(&P1, &mut A2);
    let FN = net.conv1.filters();
    let filters_alive = (0..FN).all(|f| A1.rows_with_step(f, A1.nrows() / FN, FN - 1).max() > 0.0);
    let hidden_alive = A2.row_iter().all(|r| r.max() > 0.0);
    (relu_1, pool_gap, A2.amin(), filters_alive && hidden_alive)
}

#[test]
fn simple_convnet_backward_matches_finite_differences() {
    // A finite-difference step moves one weight by at most 2h = 2e-3, so an activation by
    // about 2e-3·|x| ≲ 6e-3: pick the first seed whose units are all alive and whose ReLU
    // inputs and pooling windows are all at least 0.015 away from a kink or a tie.
    let (mut net, X, t) = (0..1000)
        .map(tiny)
        .find(|(net, X, _)| {
            let (relu_1, pool_gap, relu_2, alive) = margins(net, X);
            alive && relu_1 > 0.015 && pool_gap > 0.015 && relu_2 > 0.015
        })
        .expect("a seed with margins");
    println!(
        "margins (relu1, pool, relu2, alive): {:?}",
        margins(&net, &X)
    );
    net.gradient(&X, &t);
    let grads: Vec<DMatrix<f64>> = net.grads().iter().map(|g| (*g).clone()).collect();
    let loss = |m: &SimpleConvNet| m.clone().loss(&X, &t);
    let names = ["dW1", "db1", "dW2", "db2", "dW3", "db3"];
    type Pick = fn(&mut SimpleConvNet) -> &mut DMatrix<f64>;
    let picks: [Pick; 6] = [
        |m| &mut m.conv1.W,
        |m| &mut m.conv1.b,
        |m| &mut m.affine2.W,
        |m| &mut m.affine2.b,
        |m| &mut m.affine3.W,
        |m| &mut m.affine3.b,
    ];
    for ((name, pick), g) in names.iter().zip(picks).zip(&grads) {
        assert_ok(name, check(&mut net, pick, g, loss));
        // Every filter / unit contributes: no row of a weight gradient is all zero.
        assert!(
            g.row_iter().all(|r| r.amax() > 0.0),
            "{name} has a zero row: {g}"
        );
    }
}

#[test]
fn parameter_count_of_the_mnist_network() {
    // W1 750 + b1 30 + W2 432,000 + b2 100 + W3 1,000 + b3 10 (reference sheet).
    let net = SimpleConvNet::new(
        Config::simple(1, 28, 28),
        Init::Std(0.01),
        &mut rng::seeded(1),
    )
    .unwrap();
    assert_eq!(net.parameter_count(), 433_890);
    assert_eq!(net.affine2.W.shape(), (100, 4320));
}
