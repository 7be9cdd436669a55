//! §2 Chain Rule: the worked examples with numbers.
//!
//! 1. The sigmoid as a chain (figure 3): x → −x → e^{−x} → 1 + e^{−x} → 1/(1 + e^{−x}) = y,
//!    backward from 1 through the local derivatives ×(−1), exp, +1, inverse (−y²):
//!    1, −y², −y², −y²e^{−x}, y²e^{−x}; so σ'(x) = y²e^{−x} = y(1 − y).
//! 2. The example network (figure 4): z₁ = w₁x₁ + w₂x₂, z₂ = w₃x₂ + w₄x₃, hᵢ = σ(zᵢ),
//!    y = u₁h₁ + u₂h₂, E = ½(t − y)², written as matrices X (1 × 3), W (3 × 2) with two
//!    structural zeros, u (2 × 1); backward as the notes write it, every gradient next to its
//!    finite-difference value.
//! 3. The matrix derivative: for Y = AX and scalar f(Y), ∂f/∂A = (∂f/∂Y)Xᵀ and
//!    ∂f/∂X = Aᵀ(∂f/∂Y), checked on random matrices.

use nalgebra::DMatrix;
use shared::activation::sigmoid;
use shared::gradcheck;
use std::fmt::Write;

/// Figure 3 at one x: the forward node values and the backward values arriving at each node.
#[derive(Clone, Debug, PartialEq)]
pub struct SigmoidChain {
    /// x, −x, e^{−x}, 1 + e^{−x}, y.
    pub forward: [f64; 5],
    /// ∂y/∂(node) for the same nodes: y²e^{−x}, −y²e^{−x}, −y², −y², 1.
    pub backward: [f64; 5],
}

// ANCHOR: sigmoid_chain
/// Runs figure 3's chain forward and backward at `x`.
#[allow(clippy::neg_multiply)] // ×(−1) is the edge of figure 3, kept as written
pub fn sigmoid_chain(x: f64) -> SigmoidChain {
    let f = -x; // ×(−1)
    let g = f.exp(); // exp
    let h = 1.0 + g; // +1
    let y = 1.0 / h; // inverse
    let dy = 1.0;
    let dh = dy * (-1.0 / (h * h)); // inverse': −1/h² = −y²
    let dg = dh * 1.0; // (+1)' = 1
    let df = dg * g; // exp' = e^f = e^{−x}
    let dx = df * -1.0; // (×(−1))' = −1
    SigmoidChain {
        forward: [x, f, g, h, y],
        backward: [dx, df, dg, dh, dy],
    }
}
// ANCHOR_END: sigmoid_chain

// ANCHOR: example_net
/// Figure 4's network: data X = (x₁ x₂ x₃), weights w₁…w₄ (in W with structural zeros), u, t.
#[derive(Clone, Debug, PartialEq)]
pub struct ExampleNet {
    /// X = (x₁ x₂ x₃), 1 × 3.
    pub X: DMatrix<f64>,
    /// W = [[w₁, 0], [w₂, w₃], [0, w₄]], 3 × 2.
    pub W: DMatrix<f64>,
    /// u = (u₁ u₂)ᵀ, 2 × 1.
    pub u: DMatrix<f64>,
    /// Target t.
    pub t: f64,
}
// ANCHOR_END: example_net

/// Forward values and gradients of [`ExampleNet`].
#[derive(Clone, Debug, PartialEq)]
pub struct ExampleGrads {
    /// (z₁ z₂) = XW, 1 × 2.
    pub z: DMatrix<f64>,
    /// (h₁ h₂) = σ(z), 1 × 2.
    pub h: DMatrix<f64>,
    /// y = (h₁ h₂) u.
    pub y: f64,
    /// E = ½(t − y)².
    pub E: f64,
    /// ∂E/∂y = −(t − y).
    pub dy: f64,
    /// (∂E/∂h₁ ∂E/∂h₂) = (∂E/∂y) uᵀ, 1 × 2.
    pub dh: DMatrix<f64>,
    /// (∂E/∂z₁ ∂E/∂z₂) = (h₁(1 − h₁) h₂(1 − h₂)) ∘ (∂E/∂h), 1 × 2.
    pub dz: DMatrix<f64>,
    /// ∂E/∂W = Xᵀ (∂E/∂z), 3 × 2, with the structural zeros masked.
    pub dW: DMatrix<f64>,
    /// ∂E/∂u = (h₁ h₂)ᵀ ∂E/∂y, 2 × 1.
    pub du: DMatrix<f64>,
}

impl ExampleNet {
    /// The reference sheet's test vector: x = (1, 2, −1), w = (0.5, −0.3, 0.8, 0.2),
    /// u = (1, −0.5), t = 1 (values chosen for testing, not printed in the notes).
    pub fn reference() -> Self {
        Self::new([1.0, 2.0, -1.0], [0.5, -0.3, 0.8, 0.2], [1.0, -0.5], 1.0)
    }

    /// The network for the given x, w₁…w₄, u and t.
    pub fn new(x: [f64; 3], w: [f64; 4], u: [f64; 2], t: f64) -> Self {
        ExampleNet {
            X: DMatrix::from_row_slice(1, 3, &x),
            W: DMatrix::from_row_slice(3, 2, &[w[0], 0.0, w[1], w[2], 0.0, w[3]]),
            u: DMatrix::from_column_slice(2, 1, &u),
            t,
        }
    }

    // ANCHOR: example_loss
    /// E = ½(t − y)², forward only.
    pub fn loss(&self) -> f64 {
        let h = (&self.X * &self.W).map(sigmoid);
        let y = (&h * &self.u)[(0, 0)];
        0.5 * (self.t - y).powi(2)
    }
    // ANCHOR_END: example_loss

    // ANCHOR: example_grads
    /// Forward and backward exactly as §2 writes them.
    pub fn grads(&self) -> ExampleGrads {
        let z = &self.X * &self.W; // (z₁ z₂) = XW, 1×2
        let h = z.map(sigmoid); // (h₁ h₂) = σ(z), 1×2
        let y = (&h * &self.u)[(0, 0)]; // y = (h₁ h₂)(u₁ u₂)ᵀ
        let E = 0.5 * (self.t - y).powi(2); // E = ½(t − y)²
        let dy = -(self.t - y); // ∂E/∂y = −(t − y), 1×1
        let dh = self.u.transpose() * dy; // (∂E/∂y)(u₁ u₂), 1×2
        let dz = h.map(|h| h * (1.0 - h)).component_mul(&dh); // (h(1 − h)) ∘ ∂E/∂h, 1×2
        let mut dW = self.X.transpose() * &dz; // Xᵀ (∂E/∂z), 3×2
        // The two zeros of W are not parameters (the notes' matrix has 0 there): mask them.
        dW[(0, 1)] = 0.0;
        dW[(2, 0)] = 0.0;
        let du = h.transpose() * dy; // (h₁ h₂)ᵀ ∂E/∂y, 2×1
        ExampleGrads {
            z,
            h,
            y,
            E,
            dy,
            dh,
            dz,
            dW,
            du,
        }
    }
    // ANCHOR_END: example_grads
}

/// The three examples as printed text; `seed` draws the random matrices of the identity check.
/// Returns the text and the largest relative error seen against finite differences.
pub fn report(seed: u64) -> (String, f64) {
    let mut out = String::new();
    let mut worst = 0.0f64;
    let c = sigmoid_chain(1.0);
    let y = c.forward[4];
    let _ = writeln!(out, "§2 figure 3: the sigmoid as a chain, at x = 1");
    let names = ["x", "-x", "exp(-x)", "1 + exp(-x)", "y = 1/(1 + exp(-x))"];
    let local = ["", "×(−1)", "exp", "+1", "inverse (−y²)"];
    let _ = writeln!(
        out,
        "  {:<22} {:>12}   {:<14} {:>14}",
        "node", "forward", "edge", "backward"
    );
    for i in 0..5 {
        let _ = writeln!(
            out,
            "  {:<22} {:>12.8}   {:<14} {:>14.8}",
            names[i], c.forward[i], local[i], c.backward[i]
        );
    }
    let _ = writeln!(
        out,
        "  dy/dx = y²·e^(−x) = {:.10}   y(1 − y) = {:.10}\n",
        c.backward[0],
        y * (1.0 - y)
    );
    worst = worst.max((c.backward[0] - y * (1.0 - y)).abs() / (y * (1.0 - y)));

    let net = ExampleNet::reference();
    let g = net.grads();
    let _ = writeln!(
        out,
        "§2 figure 4: x = (1, 2, −1), w = (0.5, −0.3, 0.8, 0.2), u = (1, −0.5), t = 1"
    );
    let _ = writeln!(
        out,
        "  forward:  z = ({:.10}, {:.10})  h = ({:.10}, {:.10})\n            y = {:.10}  E = {:.10}",
        g.z[0], g.z[1], g.h[0], g.h[1], g.y, g.E
    );
    let _ = writeln!(
        out,
        "  backward: ∂E/∂y = {:.10}  ∂E/∂h = ({:.10}, {:.10})  ∂E/∂z = ({:.10}, {:.10})",
        g.dy, g.dh[0], g.dh[1], g.dz[0], g.dz[1]
    );
    let mut m = net.clone();
    let num_W = gradcheck::numeric_gradient(&mut m, |n| &mut n.W, |n| n.loss(), gradcheck::STEP);
    let num_u = gradcheck::numeric_gradient(&mut m, |n| &mut n.u, |n| n.loss(), gradcheck::STEP);
    let _ = writeln!(
        out,
        "  {:<8} {:>16} {:>16} {:>10}",
        "weight", "backprop", "finite diff.", "rel. err"
    );
    let entries = [
        ("w1", g.dW[(0, 0)], num_W[(0, 0)]),
        ("w2", g.dW[(1, 0)], num_W[(1, 0)]),
        ("w3", g.dW[(1, 1)], num_W[(1, 1)]),
        ("w4", g.dW[(2, 1)], num_W[(2, 1)]),
        ("u1", g.du[0], num_u[0]),
        ("u2", g.du[1], num_u[1]),
    ];
    for (name, a, n) in entries {
        let rel = (a - n).abs() / a.abs().max(n.abs()).max(gradcheck::FLOOR);
        worst = worst.max(rel);
        let _ = writeln!(out, "  {name:<8} {a:>16.10} {n:>16.10} {rel:>10.1e}");
    }
    let _ = writeln!(
        out,
        "  (Xᵀ ∂E/∂z also has entries at W's two zeros, {:.10} and {:.10}: not parameters, masked)\n",
        (net.X.transpose() * &g.dz)[(0, 1)],
        (net.X.transpose() * &g.dz)[(2, 0)]
    );

    let (dA_rel, dX_rel) = matrix_identity(seed, 4, 5, 3);
    worst = worst.max(dA_rel).max(dX_rel);
    let _ = writeln!(
        out,
        "§2 matrix derivative, Y = AX with A 4×5, X 5×3 random, f = Σ sin(Y):\n  \
         ∂f/∂A = (∂f/∂Y) Xᵀ   max rel. error vs finite differences {dA_rel:.1e}\n  \
         ∂f/∂X = Aᵀ (∂f/∂Y)   max rel. error vs finite differences {dX_rel:.1e}"
    );
    (out, worst)
}

// ANCHOR: matrix_identity
struct Product {
    A: DMatrix<f64>,
    X: DMatrix<f64>,
}

fn f(p: &Product) -> f64 {
    (&p.A * &p.X).map(f64::sin).sum()
}

/// Checks ∂f/∂A = (∂f/∂Y)Xᵀ and ∂f/∂X = Aᵀ(∂f/∂Y) for f(Y) = Σ sin(Y), Y = AX with random
/// A (m × n) and X (n × k); returns the two max relative errors against finite differences.
pub fn matrix_identity(seed: u64, m: usize, n: usize, k: usize) -> (f64, f64) {
    let mut rng = shared::rng::seeded(seed);
    let mut p = Product {
        A: shared::init::normal(m, n, 0.0, 1.0, &mut rng),
        X: shared::init::normal(n, k, 0.0, 1.0, &mut rng),
    };
    let dY = (&p.A * &p.X).map(f64::cos); // ∂f/∂Y, m×k
    let dA = &dY * p.X.transpose(); // (∂f/∂Y) Xᵀ, m×n
    let dX = p.A.transpose() * &dY; // Aᵀ (∂f/∂Y), n×k
    let ra = gradcheck::check(&mut p, |p| &mut p.A, &dA, f);
    let rx = gradcheck::check(&mut p, |p| &mut p.X, &dX, f);
    (ra.max_rel_error, rx.max_rel_error)
}
// ANCHOR_END: matrix_identity

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn sigmoid_chain_products_equal_y_one_minus_y() {
        for x in [-2.0, 0.0, 1.0, 3.5] {
            let c = sigmoid_chain(x);
            let y = c.forward[4];
            assert_relative_eq!(y, sigmoid(x), epsilon = 1e-15);
            assert_relative_eq!(c.backward[3], -y * y, epsilon = 1e-15);
            assert_relative_eq!(c.backward[2], -y * y, epsilon = 1e-15);
            assert_relative_eq!(c.backward[1], -y * y * (-x).exp(), epsilon = 1e-15);
            assert_relative_eq!(c.backward[0], y * (1.0 - y), epsilon = 1e-14);
        }
    }

    #[test]
    fn example_network_worked_numbers() {
        // backprop-xor reference sheet, section 3 (confirmed there by central differences).
        let g = ExampleNet::reference().grads();
        let e = 1e-9;
        assert_relative_eq!(g.z[0], -0.1, epsilon = e);
        assert_relative_eq!(g.z[1], 1.4, epsilon = e);
        assert_relative_eq!(g.h[0], 0.4750208125, epsilon = e);
        assert_relative_eq!(g.h[1], 0.8021838885, epsilon = e);
        assert_relative_eq!(g.y, 0.0739288682, epsilon = e);
        assert_relative_eq!(g.E, 0.4288038705, epsilon = e);
        assert_relative_eq!(g.dy, -0.9260711318, epsilon = e);
        // ∂E/∂u = (h₁, h₂)·∂E/∂y from the sheet's own h and ∂E/∂y: −0.4399030616,
        // −0.7428793416 (the sheet prints −0.4399030608, −0.7428793441, off in the 9th digit).
        assert_relative_eq!(g.du[0], 0.4750208125 * -0.9260711318, epsilon = e);
        assert_relative_eq!(g.du[1], 0.8021838885 * -0.9260711318, epsilon = e);
        assert_relative_eq!(g.dz[0], -0.2309399518, epsilon = e);
        assert_relative_eq!(g.dz[1], 0.0734767513, epsilon = e);
        assert_relative_eq!(g.dW[(0, 0)], -0.2309399518, epsilon = e);
        assert_relative_eq!(g.dW[(1, 0)], -0.4618799036, epsilon = e);
        assert_relative_eq!(g.dW[(1, 1)], 0.1469535026, epsilon = e);
        assert_relative_eq!(g.dW[(2, 1)], -0.0734767513, epsilon = e);
        assert_eq!((g.dW[(0, 1)], g.dW[(2, 0)]), (0.0, 0.0));
    }

    #[test]
    fn example_network_gradients_match_finite_differences() {
        let mut net = ExampleNet::new([0.3, -1.2, 2.0], [0.7, 0.1, -0.4, 0.9], [-0.6, 1.3], 0.25);
        let g = net.grads();
        let ru = gradcheck::check(&mut net, |n| &mut n.u, &g.du, |n| n.loss());
        assert!(ru.max_rel_error < 1e-6, "{ru:?}");
        let mut num =
            gradcheck::numeric_gradient(&mut net, |n| &mut n.W, |n| n.loss(), gradcheck::STEP);
        num[(0, 1)] = 0.0;
        num[(2, 0)] = 0.0;
        let rw = gradcheck::compare(&g.dW, &num);
        assert!(rw.max_rel_error < 1e-6, "{rw:?}");
    }

    #[test]
    fn matrix_derivative_identities_hold() {
        for seed in 0..3 {
            let (a, x) = matrix_identity(seed, 4, 5, 3);
            assert!(a < 1e-6 && x < 1e-6, "{a} {x}");
        }
        let (text, worst) = report(1);
        assert!(worst < 1e-6, "{worst}\n{text}");
        assert!(text.contains("0.4288038705"));
    }
}
