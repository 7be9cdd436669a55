//! Finite-difference checks of every backward pass of the notes layer (relative error < 1e-6),
//! plus the convolution forward against a direct, loop-by-loop definition. (The engine is
//! checked against the notes layer in `tests/fast.rs`.)

#![allow(non_snake_case)]

use conv_im2col::fast::FastConvNet;
use conv_im2col::model::layers::{
    affine_backward, affine_forward, convolution_backward, convolution_forward, pooling_backward,
    pooling_forward, softmax_with_loss, softmax_with_loss_backward,
};
use conv_im2col::{Config, Geometry, Init, SimpleConvNet};
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

/// A convolution (W, b), its input X and geometry, under a smooth scalar loss
/// L = ½ Σ R ∘ Y², so dY = R ∘ Y.
#[derive(Clone)]
struct ConvProbe {
    g: Geometry,
    W: DMatrix<f64>,
    b: DMatrix<f64>,
    X: DMatrix<f64>,
    R: DMatrix<f64>,
}

fn conv_loss(p: &ConvProbe) -> f64 {
    let (Y, _) = convolution_forward(&p.W, &p.b, &p.g, &p.X);
    0.5 * Y.component_mul(&Y).dot(&p.R)
}

#[test]
fn convolution_forward_is_the_direct_sum() {
    // Y[n, f, oy, ox] = b_f + Σ_{c,fy,fx} W[f, c, fy, fx] x_padded[n, c, S·oy + fy, S·ox + fx]
    // (Saito's (N, FN, OH, OW): (f, y, x) order inside a column)
    let g = Geometry::new(2, 6, 7, 3, 2, 2, 1).unwrap();
    let (FN, N) = (3, 2);
    let (W, b) = (random(FN, g.taps(), 1), random(FN, 1, 2));
    let X = random(g.input_len(), N, 3);
    let (Y, col) = convolution_forward(&W, &b, &g, &X);
    let (oh, ow) = (g.oh(), g.ow());
    assert_eq!(Y.shape(), (FN * oh * ow, N));
    assert_eq!(col.shape(), (N * oh * ow, g.taps()));
    for n in 0..N {
        for f in 0..FN {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut s = b[f];
                    for c in 0..g.c {
                        for fy in 0..g.fh {
                            for fx in 0..g.fw {
                                let y = (2 * oy + fy) as isize - 1;
                                let x = (2 * ox + fx) as isize - 1;
                                if y >= 0 && x >= 0 && y < 6 && x < 7 {
                                    let w = W[(f, (c * g.fh + fy) * g.fw + fx)];
                                    s += w * X[(c * 42 + y as usize * 7 + x as usize, n)];
                                }
                            }
                        }
                    }
                    let got = Y[((f * oh + oy) * ow + ox, n)];
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
            g,
            W: random(FN, g.taps(), seed + 1),
            b: random(FN, 1, seed + 2),
            X: random(g.input_len(), N, seed + 3),
            R: random(FN * g.windows(), N, seed + 4),
        };
        let (Y, col) = convolution_forward(&p.W, &p.b, &g, &p.X);
        let dY = p.R.component_mul(&Y);
        let (dW, db, dX) = convolution_backward(&p.W, &g, &col, &dY);
        assert_ok("conv dW", check(&mut p, |p| &mut p.W, &dW, conv_loss));
        assert_ok("conv db", check(&mut p, |p| &mut p.b, &db, conv_loss));
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
    g: Geometry,
    X: DMatrix<f64>,
    R: DMatrix<f64>,
}

fn pool_loss(p: &PoolProbe) -> f64 {
    let (Y, _) = pooling_forward(&p.g, &p.X);
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
            g,
            X: tie_free(g.input_len(), N, 20 + i as u64),
            R: random(g.c * g.windows(), N, 30 + i as u64),
        };
        let (Y, arg_max) = pooling_forward(&g, &p.X);
        let dY = p.R.component_mul(&Y);
        let dX = pooling_backward(&g, &arg_max, &dY);
        assert_ok("pool dX", check(&mut p, |p| &mut p.X, &dX, pool_loss));
    }
}

#[test]
fn pooling_takes_the_first_maximum_of_each_window() {
    // Y[(c, oy, ox), n] = max of x[n, c, 2·oy + fy, 2·ox + fx]; ties (repeated values) go to
    // the first maximum in (fy, fx) order, as numpy's argmax over Saito's im2col rows.
    let g = Geometry::new(3, 6, 8, 2, 2, 2, 0).unwrap();
    let N = 2;
    let X = random(g.input_len(), N, 5).map(|v| (v * 2.0).round()); // many ties
    let (Y, arg_max) = pooling_forward(&g, &X);
    let dX = pooling_backward(&g, &arg_max, &DMatrix::from_element(Y.nrows(), N, 1.0));
    let mut ties = 0;
    for n in 0..N {
        for c in 0..3 {
            for (oy, ox) in (0..3).flat_map(|oy| (0..4).map(move |ox| (oy, ox))) {
                let pixel = |j: usize| (c * 6 + 2 * oy + j / 2) * 8 + 2 * ox + j % 2;
                let w: Vec<f64> = (0..4).map(|j| X[(pixel(j), n)]).collect();
                let max = w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let first = w.iter().position(|&v| v == max).unwrap();
                ties += (w.iter().filter(|&&v| v == max).count() > 1) as usize;
                assert_eq!(Y[((c * 3 + oy) * 4 + ox, n)], max);
                for j in 0..4 {
                    assert_eq!(
                        dX[(pixel(j), n)],
                        f64::from(j == first),
                        "window ({c}, {oy}, {ox})"
                    );
                }
            }
        }
    }
    assert!(ties > 3, "the input has tied windows");
}

#[derive(Clone)]
struct AffineProbe {
    W: DMatrix<f64>,
    b: DMatrix<f64>,
    X: DMatrix<f64>,
    R: DMatrix<f64>,
}

fn affine_loss(p: &AffineProbe) -> f64 {
    affine_forward(&p.W, &p.b, &p.X).map(f64::sin).dot(&p.R)
}

#[test]
fn affine_backward_matches_finite_differences() {
    let mut p = AffineProbe {
        W: random(4, 6, 1),
        b: random(4, 1, 2),
        X: random(6, 3, 3),
        R: random(4, 3, 4),
    };
    let Y = affine_forward(&p.W, &p.b, &p.X);
    // L = Σ R ∘ sin(Y)  ⇒  dY = R ∘ cos(Y)
    let dY = p.R.component_mul(&Y.map(f64::cos));
    let (dW, db, dX) = affine_backward(&p.W, &p.X, &dY);
    assert_ok("affine dW", check(&mut p, |p| &mut p.W, &dW, affine_loss));
    assert_ok("affine db", check(&mut p, |p| &mut p.b, &db, affine_loss));
    assert_ok("affine dX", check(&mut p, |p| &mut p.X, &dX, affine_loss));
}

#[test]
fn softmax_with_loss_backward_matches_finite_differences() {
    let t = [2, 0, 1];
    let mut S = random(4, 3, 9);
    let loss = |S: &DMatrix<f64>| softmax_with_loss(S, &t).1;
    let (Y, _) = softmax_with_loss(&S, &t);
    let dS = softmax_with_loss_backward(&Y, &t);
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
    let c = net.forward(X);
    let g = net.pool;
    let mut pool_gap = f64::INFINITY;
    for n in 0..X.ncols() {
        for f in 0..g.c {
            for oy in 0..g.oh() {
                for ox in 0..g.ow() {
                    // the window's four values of Z1, (f, y, x) order
                    let mut w: Vec<f64> = (0..4)
                        .map(|j| c.Z1[((f * g.h + 2 * oy + j / 2) * g.w + 2 * ox + j % 2, n)])
                        .collect();
                    w.sort_by(|a, b| b.total_cmp(a));
                    if w[0] > 0.0 {
                        pool_gap = pool_gap.min(w[0] - w[1]);
                    }
                }
            }
        }
    }
    let FN = net.config.filters;
    let maps = c.A1.nrows() / FN;
    let filters_alive = (0..FN).all(|f| c.A1.rows(f * maps, maps).max() > 0.0);
    let hidden_alive = c.A2.row_iter().all(|r| r.max() > 0.0);
    (
        c.A1.amin(),
        pool_gap,
        c.A2.amin(),
        filters_alive && hidden_alive,
    )
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
    let (_, grads) = net.gradient(&X, &t);
    let loss = |m: &SimpleConvNet| m.loss(&X, &t);
    let names = ["dW1", "db1", "dW2", "db2", "dW3", "db3"];
    type Pick = fn(&mut SimpleConvNet) -> &mut DMatrix<f64>;
    let picks: [Pick; 6] = [
        |m| &mut m.W1,
        |m| &mut m.b1,
        |m| &mut m.W2,
        |m| &mut m.b2,
        |m| &mut m.W3,
        |m| &mut m.b3,
    ];
    for ((name, pick), g) in names.iter().zip(picks).zip(grads.all()) {
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
    let config = Config::simple(1, 28, 28);
    let net = SimpleConvNet::new(config, Init::Std(0.01), &mut rng::seeded(1)).unwrap();
    assert_eq!(net.parameter_count(), 433_890);
    assert_eq!(net.W2.shape(), (100, 4320));
    let fast = FastConvNet::<f64>::new(config, Init::Std(0.01), &mut rng::seeded(1)).unwrap();
    assert_eq!(fast.parameter_count(), 433_890);
    assert_eq!(fast.affine2.W.shape(), (100, 4320));
}
