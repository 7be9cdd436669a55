//! `rbm`: notes §7, "Redistricted (read: Restricted) Boltzmann Machine": the partition function
//! summed the way the notes sum it, exact likelihoods from it, and contrastive-divergence
//! training (Hinton, "A Practical Guide to Training Restricted Boltzmann Machines", 2010;
//! Hinton's NNML programming assignment 4, whose `log_partition.m` is the notes' recipe).
//!
//! # The notes' computation
//! Binary visible V (n_v units) and hidden H (n_h units), weights W (n_h × n_v), energy
//! E(V, H) = −Hᵀ W V. For one hidden configuration H the sum over all 2^{n_v} visible vectors
//! factorises: Σ_V e^{Hᵀ W V} = Π_i (1 + e^{(Hᵀ W)_i}). Stack the 2^{n_h} rows Hᵀ W, map each
//! entry to 1 + e^{·}, take the row-wise product, then the sum: that is Z
//! ([`partition::notes_table`]). The H = (0, 0) row is 1 + e⁰ = 2 in every column: 2³ = 8.
//!
//! # Generalised
//! With biases, E(v, h) = −aᵀv − bᵀh − hᵀWv, and in log space (softplus, logsumexp):
//! log Z = logsumexp_h [bᵀh + Σ_i softplus(a_i + (Wᵀh)_i)], or the same sum over v with the
//! roles swapped; [`partition::log_z`] sums over whichever layer is smaller, so a layer of up
//! to ~20 units makes Z exact and stable. Then log p(v) = −F(v) − log Z with the free energy
//! F(v) = −aᵀv − Σ_j softplus(b_j + (Wv)_j) ([`Rbm::free_energy`]). The same enumeration gives
//! the model's expectations, hence the exact gradient ([`partition::model_expectations`]),
//! which CD-k and PCD estimate by Gibbs sampling ([`train::Trainer`]).
//!
//! # Sizes
//! n_v visible units, n_h hidden units, B examples in a mini-batch (one per column), N examples
//! in a data set. W is n_h × n_v (the notes' and PA4's orientation), a is n_v × 1, b is n_h × 1,
//! data V is n_v × N with entries 0 or 1.
//!
//! # The notes' equations, and beyond, in code
//! | equation | code |
//! |---|---|
//! | Hᵀ = `[[0,0],[0,1],[1,0],[1,1]]` | [`configurations`] |
//! | Hᵀ W V, → 1 + e^{·}, row-wise product, sum (Z; the H = (0,0) row is 8) | [`partition::notes_table`] |
//! | Z = Σ_{V,H} e^{−E(V,H)}, E = −aᵀv − bᵀh − hᵀWv | [`partition::z_brute_force`], [`Rbm::energy`] |
//! | log Z = logsumexp_h [bᵀh + Σ_i softplus(a_i + (Wᵀh)_i)] | [`partition::log_z`] (row products: [`row_product::log_row_products`]) |
//! | F(v), log p(v) = −F(v) − log Z | [`Rbm::free_energy`], [`partition::log_probs`] |
//! | p(h = 1 \| v) = σ(Wv + b), p(v = 1 \| h) = σ(Wᵀh + a) | [`Rbm::hidden_probs`], [`Rbm::visible_probs`] |
//! | ∂ log p / ∂W = ⟨hvᵀ⟩_data − ⟨hvᵀ⟩_model | [`partition::exact_gradient`]; CD-k / PCD: [`train::Trainer::gradient`] |
//! | Δθ ← μΔθ + ε(∇ − λW) | [`train::Trainer::step`] |
//!
//! # Expected results
//! The reference sheet's test vectors to 1e-9 (n_v = 2, n_h = 1, W = `[[1], [−0.5]]`:
//! Z = 9.9735337589). Bars and stripes 4 × 4, 16 hidden units, CD-20, ε = 0.004 annealed to 0
//! (the default run): −11.09 (independent pixels) → −3.52 after 300 epochs (seeds 1–3: −3.514 …
//! −3.531), 0.12 nats short of the optimum −ln 30 = −3.401; the exact gradient with the same 16
//! hidden units (`--method exact`) gets to −3.427 (0.026 short; −3.410 without weight cost):
//! the rest of CD's gap is its bias. The binarised 8 × 8 digits, 12 hidden units, CD-1: from
//! the independent-pixel baseline (≈ −25.1) to −19.2 … −21.3 nats per image at epoch 50 over
//! five seeds (the numpy run of the same recipe: −19.51); the exact gradient: −18.00.
//!
//! # Speed
//! One CD-1 batch (`cargo bench -p rbm`, one core, fastest sample): 3.5 µs at bars' (n_v, n_h,
//! B) = (16, 16, 10) and 7.0 µs at digits' (64, 12, 10), 9× and 5× numpy's best (whose
//! per-call overhead dominates there); 9.4 ms at MNIST's (784, 500, 100) = 42 GFLOP/s against
//! 54 GFLOP/s for one 256³ GEMM, 1.7× numpy: GEMM-bound, with numpy's BLAS near the same peak,
//! so ≈ 2× is the ceiling there (README: Speed).

#![allow(non_snake_case)]

use nalgebra::{DMatrix, Dyn, Matrix, RawStorage, RawStorageMut, U1};
use shared::kernels::{gemm, gemm_tn};

pub mod data;
pub mod monitor;
pub mod partition;
pub mod row_product;
pub mod train;

/// softplus(x) = ln(1 + eˣ), computed as max(x, 0) + ln(1 + e^{−|x|}) so it never overflows.
#[inline]
pub fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// log Σ_k e^{t_k}, with the largest term factored out (−∞ for an empty slice).
pub fn logsumexp(t: &[f64]) -> f64 {
    let m = t.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + t.iter().map(|&x| (x - m).exp()).sum::<f64>().ln()
}

/// A binary restricted Boltzmann machine with energy E(v, h) = −aᵀv − bᵀh − hᵀWv.
#[derive(Clone, Debug, PartialEq)]
pub struct Rbm {
    /// n_h × n_v: W[j, i] couples hidden unit j and visible unit i (the notes' W).
    pub W: DMatrix<f64>,
    /// n_v × 1: visible biases.
    pub a: DMatrix<f64>,
    /// n_h × 1: hidden biases.
    pub b: DMatrix<f64>,
}

impl Rbm {
    /// An RBM from its parameters; panics if the shapes disagree (a programming error:
    /// user-given sizes are checked where they are parsed).
    pub fn new(W: DMatrix<f64>, a: DMatrix<f64>, b: DMatrix<f64>) -> Rbm {
        assert_eq!(a.shape(), (W.ncols(), 1), "a must be n_v × 1");
        assert_eq!(b.shape(), (W.nrows(), 1), "b must be n_h × 1");
        Rbm { W, a, b }
    }

    /// The notes' RBM: weights only, E(V, H) = −Hᵀ W V.
    pub fn without_biases(W: DMatrix<f64>) -> Rbm {
        let (n_h, n_v) = W.shape();
        Rbm::new(W, DMatrix::zeros(n_v, 1), DMatrix::zeros(n_h, 1))
    }

    /// Number of visible units.
    pub fn n_v(&self) -> usize {
        self.W.ncols()
    }

    /// Number of hidden units.
    pub fn n_h(&self) -> usize {
        self.W.nrows()
    }

    /// E(v, h) = −aᵀv − bᵀh − hᵀWv for one configuration (slices of 0/1 values).
    pub fn energy(&self, v: &[f64], h: &[f64]) -> f64 {
        assert_eq!((v.len(), h.len()), (self.n_v(), self.n_h()));
        let mut e = 0.0;
        for (i, &vi) in v.iter().enumerate() {
            e -= self.a[i] * vi;
        }
        for (j, &hj) in h.iter().enumerate() {
            e -= self.b[j] * hj;
            for (i, &vi) in v.iter().enumerate() {
                e -= hj * self.W[(j, i)] * vi;
            }
        }
        e
    }

    /// Free energy of each column of V (n_v × N): F(v) = −aᵀv − Σ_j softplus(b_j + (Wv)_j),
    /// so that e^{−F(v)} = Σ_h e^{−E(v, h)}. Returns N values.
    pub fn free_energy(&self, V: &DMatrix<f64>) -> Vec<f64> {
        let n = V.ncols();
        // X = W V + b 1ᵀ   (n_h × N)
        let mut X = DMatrix::from_fn(self.n_h(), n, |j, _| self.b[j]);
        gemm(1.0, &self.W, V, 1.0, &mut X);
        (0..n)
            .map(|c| {
                let av = self.a.column(0).dot(&V.column(c));
                -av - X.column(c).iter().map(|&x| softplus(x)).sum::<f64>()
            })
            .collect()
    }

    /// p(h_j = 1 | v) = σ(b_j + (Wv)_j) for each column of V: H = σ(W V + b) (n_h × B), into `H`
    /// (a matrix or a view of one).
    pub fn hidden_probs<S1, S2>(
        &self,
        V: &Matrix<f64, Dyn, Dyn, S1>,
        H: &mut Matrix<f64, Dyn, Dyn, S2>,
    ) where
        S1: RawStorage<f64, Dyn, Dyn>,
        S2: RawStorageMut<f64, Dyn, Dyn, RStride = U1>,
    {
        for mut col in H.column_iter_mut() {
            col.copy_from(&self.b.column(0));
        }
        gemm(1.0, &self.W, V, 1.0, H);
        sigmoid_columns(H);
    }

    /// p(v_i = 1 | h) = σ(a_i + (Wᵀh)_i) for each column of H: V = σ(Wᵀ H + a) (n_v × B), into `V`
    /// (a matrix or a view of one).
    pub fn visible_probs<S1, S2>(
        &self,
        H: &Matrix<f64, Dyn, Dyn, S1>,
        V: &mut Matrix<f64, Dyn, Dyn, S2>,
    ) where
        S1: RawStorage<f64, Dyn, Dyn>,
        S2: RawStorageMut<f64, Dyn, Dyn, RStride = U1>,
    {
        for mut col in V.column_iter_mut() {
            col.copy_from(&self.a.column(0));
        }
        gemm_tn(1.0, &self.W, H, 1.0, V);
        sigmoid_columns(V);
    }
}

/// M ← σ(M) entrywise (vectorised: [`shared::kernels::fastmath::sigmoid_mut`]) for a matrix or a view
/// of one: in one pass when its columns follow each other in memory (a matrix, or a range of
/// whole columns of one, as the CD buffers are), so short columns (12 hidden units) leave no
/// scalar remainder per column; else column by column.
fn sigmoid_columns<S>(M: &mut Matrix<f64, Dyn, Dyn, S>)
where
    S: RawStorageMut<f64, Dyn, Dyn, RStride = U1>,
{
    let (rows, cols) = M.shape();
    if M.strides() == (1, rows) {
        // SAFETY: row stride 1 and column stride = rows: the rows · cols entries of M are one
        // contiguous run from its first entry, all owned by M's storage, borrowed mutably here.
        let all = unsafe { std::slice::from_raw_parts_mut(M.as_mut_ptr(), rows * cols) };
        shared::kernels::fastmath::sigmoid_mut(all);
    } else {
        for mut col in M.column_iter_mut() {
            shared::kernels::fastmath::sigmoid_mut(col.as_mut_slice());
        }
    }
}

/// A gradient (or an update direction) for each parameter of an [`Rbm`].
#[derive(Clone, Debug, PartialEq)]
pub struct Grads {
    /// n_h × n_v, for W.
    pub dW: DMatrix<f64>,
    /// n_v × 1, for a.
    pub da: DMatrix<f64>,
    /// n_h × 1, for b.
    pub db: DMatrix<f64>,
}

impl Grads {
    /// Zeros shaped like the parameters of an RBM with n_v visible and n_h hidden units.
    pub fn zeros(n_v: usize, n_h: usize) -> Grads {
        Grads {
            dW: DMatrix::zeros(n_h, n_v),
            da: DMatrix::zeros(n_v, 1),
            db: DMatrix::zeros(n_h, 1),
        }
    }
}

/// The 2^n binary configurations of n units as the rows of a 2^n × n matrix, in the notes'
/// order: for n = 2 the rows are (0, 0), (0, 1), (1, 0), (1, 1), i.e. row k holds the bits of
/// k with unit 1 the most significant.
pub fn configurations(n: usize) -> DMatrix<f64> {
    assert!(n < 31, "2^{n} configurations is too many to list");
    DMatrix::from_fn(1 << n, n, |k, j| ((k >> (n - 1 - j)) & 1) as f64)
}

/// Binarises images in [0, 1]: pixel ≥ `threshold` ↦ 1, else 0 (digits: counts ≥ 8 of 16 is
/// `threshold` = 0.5).
pub fn binarise(images: &DMatrix<f64>, threshold: f64) -> DMatrix<f64> {
    images.map(|p| if p >= threshold { 1.0 } else { 0.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softplus_and_logsumexp_are_stable() {
        assert!((softplus(0.0) - 2f64.ln()).abs() < 1e-15);
        assert_eq!(softplus(1000.0), 1000.0);
        assert!(softplus(-1000.0) >= 0.0 && softplus(-1000.0) < 1e-300);
        assert!((logsumexp(&[1000.0, 1000.0]) - (1000.0 + 2f64.ln())).abs() < 1e-12);
        assert_eq!(logsumexp(&[]), f64::NEG_INFINITY);
    }

    #[test]
    fn probabilities_are_the_same_in_matrices_and_in_views() {
        let W = DMatrix::from_fn(12, 5, |j, i| ((j * 5 + i) as f64 * 0.37).sin() * 3.0);
        let a = DMatrix::from_fn(5, 1, |i, _| i as f64 * 0.1 - 0.2);
        let b = DMatrix::from_fn(12, 1, |j, _| 0.5 - j as f64 * 0.1);
        let rbm = Rbm::new(W, a, b);
        let V = DMatrix::from_fn(5, 3, |i, c| ((i + c) % 2) as f64);
        let mut H = DMatrix::zeros(12, 3);
        rbm.hidden_probs(&V, &mut H); // one contiguous pass
        let want = DMatrix::from_fn(12, 3, |j, c| {
            let x = rbm.b[j] + (0..5).map(|i| rbm.W[(j, i)] * V[(i, c)]).sum::<f64>();
            1.0 / (1.0 + (-x).exp())
        });
        assert!((&H - &want).amax() < 1e-15);
        // Whole columns of a wider matrix (contiguous), and rows 2..14 of a taller one
        // (column stride 16 ≠ 12 rows: column by column): the same bits.
        let mut wide = DMatrix::from_element(12, 5, 7.0);
        rbm.hidden_probs(&V, &mut wide.columns_range_mut(1..4));
        let mut tall = DMatrix::from_element(16, 3, 7.0);
        rbm.hidden_probs(&V, &mut tall.view_mut((2, 0), (12, 3)));
        assert_eq!(wide.columns_range(1..4), H);
        assert_eq!(tall.view((2, 0), (12, 3)), H);
        // Nothing outside the views was touched.
        assert!(
            wide.column(0)
                .iter()
                .chain(wide.column(4).iter())
                .all(|&x| x == 7.0)
        );
        assert!(
            tall.rows(0, 2)
                .iter()
                .chain(tall.rows(14, 2).iter())
                .all(|&x| x == 7.0)
        );
    }

    #[test]
    fn configurations_in_the_notes_order() {
        let H = configurations(2);
        assert_eq!(
            H,
            DMatrix::from_row_slice(4, 2, &[0., 0., 0., 1., 1., 0., 1., 1.])
        );
    }
}
