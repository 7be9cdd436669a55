//! The engine path of [`crate::model`]: the same forward, cost and backward, as the plain
//! loops the training runs. At these sizes (k, n ≤ 5) loops over the columns beat a GEMM call,
//! and every buffer is allocated once per batch size ([`Cache`]), so an epoch allocates
//! nothing. Tested against [`crate::model`] (loss and every gradient, several sizes) to 1e-12.

use crate::model::{self, Grads, Net, bce_from_logit};
use nalgebra::DMatrix;

/// The engine's forward record: the notes' [`model::Cache`] in buffers allocated once per
/// batch size m and reused every step, plus the batch's labels and the backward's
/// intermediates.
#[derive(Clone, Debug)]
pub struct Cache {
    /// X (the batch's inputs, n0 × m), Z1, A1, Z2, A2, Z3, A3.
    pub fwd: model::Cache,
    /// 1 × m: the batch's labels (0 or 1).
    pub Y: DMatrix<f64>,
    /// 1 × m.
    pub dZ3: DMatrix<f64>,
    /// n2 × m.
    pub dA2: DMatrix<f64>,
    /// n2 × m.
    pub dZ2: DMatrix<f64>,
    /// n1 × m.
    pub dA1: DMatrix<f64>,
    /// n1 × m.
    pub dZ1: DMatrix<f64>,
}

impl Cache {
    /// Buffers for mini-batches of `m` examples of `net`.
    pub fn new(net: &Net, m: usize) -> Cache {
        let [n0, n1, n2, n3] = net.layers();
        let z = |n| DMatrix::zeros(n, m);
        let fwd = model::Cache {
            X: z(n0),
            Z1: z(n1),
            A1: z(n1),
            Z2: z(n2),
            A2: z(n2),
            Z3: z(n3),
            A3: z(n3),
        };
        Cache {
            fwd,
            Y: z(n3),
            dZ3: z(n3),
            dA2: z(n2),
            dZ2: z(n2),
            dA1: z(n1),
            dZ1: z(n1),
        }
    }

    /// Copies the columns `idx` of X (n0 × N) and Y (1 × N) into the batch buffers
    /// (`idx.len()` must be this cache's m): the notebook's `shuffled_X[:, k*64:(k+1)*64]`.
    pub fn load(&mut self, X: &DMatrix<f64>, Y: &DMatrix<f64>, idx: &[usize]) {
        assert_eq!(idx.len(), self.fwd.X.ncols(), "batch of another size");
        for (j, &col) in idx.iter().enumerate() {
            self.fwd.X.set_column(j, &X.column(col));
            self.Y[(0, j)] = Y[(0, col)];
        }
    }

    /// m, the number of examples.
    pub fn m(&self) -> usize {
        self.fwd.X.ncols()
    }
}

/// Z = W A + b (b added to every column): the notebook's `np.dot(W, A) + b`.
/// W: n × k, A: k × m, b: n × 1, Z: n × m.
fn linear_forward(W: &DMatrix<f64>, b: &DMatrix<f64>, A: &DMatrix<f64>, Z: &mut DMatrix<f64>) {
    let (n, k) = W.shape();
    assert_eq!(
        (A.nrows(), b.shape(), Z.shape()),
        (k, (n, 1), (n, A.ncols()))
    );
    let (W, b) = (W.as_slice(), b.as_slice());
    for (z, a) in Z
        .as_mut_slice()
        .chunks_exact_mut(n)
        .zip(A.as_slice().chunks_exact(k))
    {
        // z = b + Σ_l W[:, l] a_l    (one column of Z = W A + b)
        z.copy_from_slice(b);
        for (w, &a_l) in W.chunks_exact(n).zip(a) {
            for (z_i, w_il) in z.iter_mut().zip(w) {
                *z_i += w_il * a_l;
            }
        }
    }
}

/// Backward through Z = W A + b for the parameters: dW = dZ Aᵀ, db = Σ_columns dZ
/// (the notebook's `np.dot(dz, a.T)` and `np.sum(dz, axis=1, keepdims=True)`).
fn linear_backward_params(
    dZ: &DMatrix<f64>,
    A: &DMatrix<f64>,
    dW: &mut DMatrix<f64>,
    db: &mut DMatrix<f64>,
) {
    let (n, k) = dW.shape();
    assert_eq!((dZ.nrows(), A.nrows(), dZ.ncols()), (n, k, A.ncols()));
    dW.fill(0.0);
    db.fill(0.0);
    let (dW, db) = (dW.as_mut_slice(), db.as_mut_slice());
    for (dz, a) in dZ
        .as_slice()
        .chunks_exact(n)
        .zip(A.as_slice().chunks_exact(k))
    {
        // dW += dz aᵀ (one example's outer product); db += dz
        for (dw, &a_l) in dW.chunks_exact_mut(n).zip(a) {
            for (dw_il, dz_i) in dw.iter_mut().zip(dz) {
                *dw_il += dz_i * a_l;
            }
        }
        for (db_i, dz_i) in db.iter_mut().zip(dz) {
            *db_i += dz_i;
        }
    }
}

/// Backward through Z = W A + b for the input: dA = Wᵀ dZ (the notebook's `np.dot(W.T, dz)`).
fn linear_backward_input(W: &DMatrix<f64>, dZ: &DMatrix<f64>, dA: &mut DMatrix<f64>) {
    let (n, k) = W.shape();
    assert_eq!((dZ.nrows(), dA.shape()), (n, (k, dZ.ncols())));
    let W = W.as_slice();
    for (da, dz) in dA
        .as_mut_slice()
        .chunks_exact_mut(k)
        .zip(dZ.as_slice().chunks_exact(n))
    {
        // da_l = W[:, l] · dz
        for (da_l, w) in da.iter_mut().zip(W.chunks_exact(n)) {
            *da_l = w.iter().zip(dz).map(|(w, d)| w * d).sum();
        }
    }
}

/// Backward through A = relu(Z): dZ = dA ∘ (A > 0) (the notebook's `np.int64(a > 0)` mask).
fn relu_backward(dA: &DMatrix<f64>, A: &DMatrix<f64>, dZ: &mut DMatrix<f64>) {
    assert_eq!((dA.shape(), A.shape()), (dZ.shape(), dZ.shape()));
    let (dZ, dA, A) = (dZ.as_mut_slice(), dA.as_slice(), A.as_slice());
    for ((dz, &da), &a) in dZ.iter_mut().zip(dA).zip(A) {
        *dz = if a > 0.0 { da } else { 0.0 };
    }
}

/// [`Net::forward`] on `c.fwd.X`, leaving Z1 … A3 in `c`.
pub fn forward(net: &Net, c: &mut Cache) {
    // Z1 = W1 X + b1;   A1 = relu(Z1)                 n1 × m
    linear_forward(&net.W1, &net.b1, &c.fwd.X, &mut c.fwd.Z1);
    c.fwd.A1.copy_from(&c.fwd.Z1);
    shared::activation::relu_mut(&mut c.fwd.A1);
    // Z2 = W2 A1 + b2;  A2 = relu(Z2)                 n2 × m
    linear_forward(&net.W2, &net.b2, &c.fwd.A1, &mut c.fwd.Z2);
    c.fwd.A2.copy_from(&c.fwd.Z2);
    shared::activation::relu_mut(&mut c.fwd.A2);
    // Z3 = W3 A2 + b3;  A3 = σ(Z3)                    1 × m
    linear_forward(&net.W3, &net.b3, &c.fwd.A2, &mut c.fwd.Z3);
    c.fwd.A3.copy_from(&c.fwd.Z3);
    shared::activation::sigmoid_mut(&mut c.fwd.A3);
}

/// [`Net::cost`] after [`forward`]: the cross-entropy summed over the batch.
pub fn cost(c: &Cache) -> f64 {
    c.fwd
        .Z3
        .as_slice()
        .iter()
        .zip(c.Y.as_slice())
        .map(|(&z, &y)| bce_from_logit(z, y))
        .sum()
}

/// [`Net::backward`] after [`forward`]: the gradients of the batch's mean cross-entropy into
/// `g`.
pub fn backward(net: &Net, c: &mut Cache, g: &mut Grads) {
    let m = c.fwd.X.ncols() as f64;
    // dZ3 = (A3 − Y) / m                                                    1 × m
    let (dZ3, A3, Y) = (c.dZ3.as_mut_slice(), c.fwd.A3.as_slice(), c.Y.as_slice());
    for ((dz, &a), &y) in dZ3.iter_mut().zip(A3).zip(Y) {
        *dz = (a - y) / m;
    }
    // Z3 = W3 A2 + b3  ⇒  dW3 = dZ3 A2ᵀ, db3 = Σ_j dZ3, dA2 = W3ᵀ dZ3
    linear_backward_params(&c.dZ3, &c.fwd.A2, &mut g.dW3, &mut g.db3);
    linear_backward_input(&net.W3, &c.dZ3, &mut c.dA2);
    // A2 = relu(Z2)  ⇒  dZ2 = dA2 ∘ (A2 > 0)                                n2 × m
    relu_backward(&c.dA2, &c.fwd.A2, &mut c.dZ2);
    // Z2 = W2 A1 + b2  ⇒  dW2 = dZ2 A1ᵀ, db2 = Σ_j dZ2, dA1 = W2ᵀ dZ2
    linear_backward_params(&c.dZ2, &c.fwd.A1, &mut g.dW2, &mut g.db2);
    linear_backward_input(&net.W2, &c.dZ2, &mut c.dA1);
    // A1 = relu(Z1)  ⇒  dZ1 = dA1 ∘ (A1 > 0)                                n1 × m
    relu_backward(&c.dA1, &c.fwd.A1, &mut c.dZ1);
    // Z1 = W1 X + b1  ⇒  dW1 = dZ1 Xᵀ, db1 = Σ_j dZ1
    linear_backward_params(&c.dZ1, &c.fwd.X, &mut g.dW1, &mut g.db1);
}

/// A3 = P(label 1) for every column of X (n0 × N): 1 × N. Allocates.
pub fn probabilities(net: &Net, X: &DMatrix<f64>) -> DMatrix<f64> {
    let mut c = Cache::new(net, X.ncols());
    c.fwd.X.copy_from(X);
    forward(net, &mut c);
    c.fwd.A3
}

/// The notebook's `predict`: the fraction of columns of X with (A3 > 0.5) == label.
pub fn accuracy(net: &Net, X: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let a3 = probabilities(net, X);
    assert_eq!(a3.ncols(), labels.len());
    let right = a3
        .iter()
        .zip(labels)
        .filter(|&(&a, &l)| (a > 0.5) == (l == 1))
        .count();
    right as f64 / labels.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_helpers_match_nalgebra() {
        let W = DMatrix::from_fn(5, 2, |i, j| 0.3 * i as f64 - 0.7 * j as f64 + 0.1);
        let b = DMatrix::from_fn(5, 1, |i, _| i as f64 * 0.05 - 0.1);
        let A = DMatrix::from_fn(2, 7, |i, j| ((i * 3 + j) as f64).sin());
        let mut Z = DMatrix::zeros(5, 7);
        linear_forward(&W, &b, &A, &mut Z);
        let want = &W * &A + &b * DMatrix::from_element(1, 7, 1.0);
        assert!((&Z - &want).amax() < 1e-14);
        let dZ = DMatrix::from_fn(5, 7, |i, j| ((i + 2 * j) as f64).cos());
        let (mut dW, mut db) = (DMatrix::zeros(5, 2), DMatrix::zeros(5, 1));
        linear_backward_params(&dZ, &A, &mut dW, &mut db);
        assert!((&dW - &dZ * A.transpose()).amax() < 1e-14);
        assert!((&db - dZ.column_sum()).amax() < 1e-14);
        let mut dA = DMatrix::zeros(2, 7);
        linear_backward_input(&W, &dZ, &mut dA);
        assert!((&dA - W.transpose() * &dZ).amax() < 1e-14);
    }
}
