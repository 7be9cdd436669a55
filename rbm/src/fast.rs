//! The engine path: what training and the reports run. The same equations as
//! [`crate::model`], computed into preallocated matrices with `shared`'s kernels (GEMM
//! through strides, the vectorised σ of [`shared::kernels::fastmath`], the blocked exact sums of
//! [`shared::kernels::softplus`]). `tests/fast.rs` checks every function here against its
//! model twin.
//!
//! What differs from the model, and why:
//! - the conditionals write into column ranges of a buffer and take σ over them in one
//!   contiguous pass (short columns, 12 hidden units, leave no scalar remainder per column);
//! - a CD update keeps the data and the negative phase side by side, [V0 | Vk] and [H0 | Hk],
//!   so that ⟨h vᵀ⟩_data − ⟨h vᵀ⟩_model ≈ H0 V0ᵀ / B − Hk Vkᵀ / C is one product,
//!   [H0 / B | −Hk / C] [V0 | Vk]ᵀ, over B + C columns;
//! - log Z and the model expectations enumerate the smaller layer in cache-sized blocks, in
//!   log space, instead of listing the notes' whole table.

#![allow(non_snake_case)]

use crate::model::{Grads, ModelExpectations, Rbm, bernoulli, softplus};
use nalgebra::{DMatrix, Dyn, Matrix, RawStorage, RawStorageMut};
use shared::kernels::fastmath::sigmoid_mut;
use shared::kernels::softplus::{MAX_ENUMERATED, log_partition, partition_expectations};
use shared::kernels::{gemm, gemm_nt, gemm_tn};
use shared::rng::Rng;
use std::ops::Range;

/// A dynamically sized matrix or a view of one (a block of columns of a buffer).
pub type Mat<S> = Matrix<f64, Dyn, Dyn, S>;

/// H[:, cols] ← σ(W V + b 1ᵀ): p(h = 1 | v) for each column of V (n_h × |cols|).
pub fn hidden_probs<S: RawStorage<f64, Dyn, Dyn>>(
    rbm: &Rbm,
    V: &Mat<S>,
    H: &mut DMatrix<f64>,
    cols: Range<usize>,
) {
    let mut X = H.columns_range_mut(cols.clone());
    X.column_iter_mut().for_each(|mut x| x.copy_from(&rbm.b));
    gemm(1.0, &rbm.W, V, 1.0, &mut X);
    sigmoid_columns(H, cols);
}

/// V[:, cols] ← σ(Wᵀ H + a 1ᵀ): p(v = 1 | h) for each column of H (n_v × |cols|).
pub fn visible_probs<S: RawStorage<f64, Dyn, Dyn>>(
    rbm: &Rbm,
    H: &Mat<S>,
    V: &mut DMatrix<f64>,
    cols: Range<usize>,
) {
    let mut X = V.columns_range_mut(cols.clone());
    X.column_iter_mut().for_each(|mut x| x.copy_from(&rbm.a));
    gemm_tn(1.0, &rbm.W, H, 1.0, &mut X);
    sigmoid_columns(V, cols);
}

/// σ of the columns `cols` of M, in one pass: column-major storage makes them one run.
fn sigmoid_columns(M: &mut DMatrix<f64>, cols: Range<usize>) {
    let n = M.nrows();
    sigmoid_mut(&mut M.as_mut_slice()[cols.start * n..cols.end * n]);
}

/// S ← a binary sample of every unit of P (entries are probabilities), column by column.
pub fn sample_into<S1, S2>(P: &Mat<S1>, S: &mut Mat<S2>, rng: &mut Rng)
where
    S1: RawStorage<f64, Dyn, Dyn>,
    S2: RawStorageMut<f64, Dyn, Dyn>,
{
    assert_eq!(P.shape(), S.shape());
    S.iter_mut()
        .zip(P.iter())
        .for_each(|(s, &p)| *s = bernoulli(p, rng));
}

/// Replaces each probability in P by a binary sample of it, column by column.
pub fn sample_in_place<S: RawStorageMut<f64, Dyn, Dyn>>(P: &mut Mat<S>, rng: &mut Rng) {
    P.iter_mut().for_each(|p| *p = bernoulli(*p, rng));
}

/// F(v) = −aᵀv − Σ_j softplus(b_j + (Wv)_j) for each column of V (n_v × N): N values.
pub fn free_energy(rbm: &Rbm, V: &DMatrix<f64>) -> Vec<f64> {
    let n = V.ncols();
    // X = W V + b 1ᵀ   (n_h × N)
    let mut X = DMatrix::from_fn(rbm.n_h(), n, |j, _| rbm.b[j]);
    gemm(1.0, &rbm.W, V, 1.0, &mut X);
    (0..n)
        .map(|c| {
            let av = rbm.a.column(0).dot(&V.column(c));
            -av - X.column(c).iter().map(|&x| softplus(x)).sum::<f64>()
        })
        .collect()
}

/// log p(v) = −F(v) − log Z for each column of V (n_v × N), given log Z.
pub fn log_probs(rbm: &Rbm, V: &DMatrix<f64>, log_z: f64) -> Vec<f64> {
    free_energy(rbm, V).iter().map(|F| -F - log_z).collect()
}

/// log Z summed over the 2^{n_h} hidden configurations:
/// log Z = logsumexp_h [bᵀh + Σ_i softplus(a_i + (Wᵀh)_i)] (the notes' order of summation).
pub fn log_z_over_hidden(rbm: &Rbm) -> f64 {
    // M = Wᵀ (n_v × n_h): the visible layer's input from h is Wᵀh.
    log_partition(&rbm.W.transpose(), &rbm.b, &rbm.a)
}

/// log Z summed over the 2^{n_v} visible configurations:
/// log Z = logsumexp_v [aᵀv + Σ_j softplus(b_j + (Wv)_j)] = logsumexp_v (−F(v)).
pub fn log_z_over_visible(rbm: &Rbm) -> f64 {
    log_partition(&rbm.W, &rbm.a, &rbm.b)
}

/// log Z, exact, summing over whichever layer is smaller (min(n_v, n_h) ≤ [`MAX_ENUMERATED`];
/// about 20 is practical: 2^20 configurations).
pub fn log_z(rbm: &Rbm) -> f64 {
    assert!(
        rbm.n_v().min(rbm.n_h()) <= MAX_ENUMERATED,
        "both layers are too large to enumerate"
    );
    if rbm.n_h() <= rbm.n_v() {
        log_z_over_hidden(rbm)
    } else {
        log_z_over_visible(rbm)
    }
}

/// log Z and the model's expectations ⟨v⟩, ⟨h⟩, ⟨h vᵀ⟩, exact, enumerating whichever layer is
/// smaller (about 2^20 configurations at most is practical).
pub fn model_expectations(rbm: &Rbm) -> ModelExpectations {
    if rbm.n_h() <= rbm.n_v() {
        // s = h, o = v: M = Wᵀ (n_v × n_h), ⟨o sᵀ⟩ = ⟨v hᵀ⟩
        let e = partition_expectations(&rbm.W.transpose(), &rbm.b, &rbm.a);
        ModelExpectations {
            log_z: e.log_z,
            v: e.o,
            h: e.s,
            hv: e.os.transpose(),
        }
    } else {
        // s = v, o = h: M = W (n_h × n_v), ⟨o sᵀ⟩ = ⟨h vᵀ⟩
        let e = partition_expectations(&rbm.W, &rbm.a, &rbm.b);
        ModelExpectations {
            log_z: e.log_z,
            v: e.s,
            h: e.o,
            hv: e.os,
        }
    }
}

/// out ← out + α · (mean of the columns of M), without a temporary (out: rows × 1).
fn add_column_mean<S: RawStorage<f64, Dyn, Dyn>>(out: &mut DMatrix<f64>, alpha: f64, M: &Mat<S>) {
    let s = alpha / M.ncols().max(1) as f64;
    for col in M.column_iter() {
        out.column_mut(0).axpy(s, &col, 1.0);
    }
}

/// The preallocated matrices of one gradient estimate for B examples and C negative-phase
/// chains (C = B for CD), and the estimates ([`Cd::cd`], [`Cd::pcd`], [`Cd::exact`]).
#[derive(Clone, Debug)]
pub struct Cd {
    B: usize,
    VV: DMatrix<f64>, // n_v × (B + C): [V0 | Vk], the mini-batch and the visible states after k steps
    HH: DMatrix<f64>, // n_h × (B + C): [H0 | Hk], p(h | v0) and p(h | vk)
    Hs: DMatrix<f64>, // n_h × C: sampled hidden states
}

impl Cd {
    /// Buffers for B examples and C chains of an RBM with n_v visible and n_h hidden units.
    pub fn new(n_v: usize, n_h: usize, B: usize, C: usize) -> Cd {
        Cd {
            B,
            VV: DMatrix::zeros(n_v, B + C),
            HH: DMatrix::zeros(n_h, B + C),
            Hs: DMatrix::zeros(n_h, C),
        }
    }

    /// The positive phase for the columns `cols` of V (after sizing the buffers for B = |cols|
    /// and C chains): V0 ← those columns, H0 = σ(W V0 + b 1ᵀ), g.da ← ⟨v⟩_data, g.db ← ⟨h⟩_data.
    fn positive(&mut self, rbm: &Rbm, V: &DMatrix<f64>, cols: &[usize], C: usize, g: &mut Grads) {
        let B = cols.len();
        if self.B != B || self.Hs.ncols() != C {
            *self = Cd::new(rbm.n_v(), rbm.n_h(), B, C); // only when the last batch is smaller
        }
        for (c, &n) in cols.iter().enumerate() {
            self.VV.column_mut(c).copy_from(&V.column(n));
        }
        hidden_probs(rbm, &self.VV.columns_range(0..B), &mut self.HH, 0..B);
        g.da.fill(0.0);
        g.db.fill(0.0);
        add_column_mean(&mut g.da, 1.0, &self.VV.columns_range(0..B));
        add_column_mean(&mut g.db, 1.0, &self.HH.columns_range(0..B));
    }

    /// The negative statistics from Vk, Hk, and the weights' term:
    /// g.da −= ⟨v⟩ of Vk, g.db −= ⟨h⟩ of Hk, g.dW = [H0 / B | −Hk / C] [V0 | Vk]ᵀ.
    fn negative(&mut self, g: &mut Grads) {
        let (B, C) = (self.B, self.Hs.ncols());
        add_column_mean(&mut g.da, -1.0, &self.VV.columns_range(B..B + C));
        add_column_mean(&mut g.db, -1.0, &self.HH.columns_range(B..B + C));
        self.HH.columns_range_mut(0..B).apply(|h| *h /= B as f64);
        self.HH
            .columns_range_mut(B..B + C)
            .apply(|h| *h /= -(C as f64));
        gemm_nt(1.0, &self.HH, &self.VV, 0.0, &mut g.dW);
    }

    /// [`Rbm::cd`] for the columns `cols` of V, into g: h0 ~ p(h | v0), then k steps
    /// v ← p(v | h), h ← p(h | v), all sampled but the last reconstruction and its hidden units.
    pub fn cd(
        &mut self,
        rbm: &Rbm,
        V: &DMatrix<f64>,
        cols: &[usize],
        k: usize,
        rng: &mut Rng,
        g: &mut Grads,
    ) {
        let (B, C) = (cols.len(), cols.len());
        self.positive(rbm, V, cols, C, g);
        let Cd { VV, HH, Hs, .. } = self;
        sample_into(&HH.columns_range(0..B), Hs, rng);
        for t in 1..=k {
            visible_probs(rbm, Hs, VV, B..B + C); // Vk = σ(Wᵀ Hs + a)   (n_v × B)
            if t < k {
                sample_in_place(&mut VV.columns_range_mut(B..B + C), rng);
            }
            hidden_probs(rbm, &VV.columns_range(B..B + C), HH, B..B + C); // Hk = σ(W Vk + b)
            if t < k {
                sample_into(&HH.columns_range(B..B + C), Hs, rng);
            }
        }
        self.negative(g);
    }

    /// [`Rbm::pcd`] for the columns `cols` of V, into g: the chains (n_v × C) take k full
    /// Gibbs steps from where they were.
    #[allow(clippy::too_many_arguments)]
    pub fn pcd(
        &mut self,
        rbm: &Rbm,
        V: &DMatrix<f64>,
        cols: &[usize],
        chains: &mut DMatrix<f64>,
        k: usize,
        rng: &mut Rng,
        g: &mut Grads,
    ) {
        let (B, C) = (cols.len(), chains.ncols());
        self.positive(rbm, V, cols, C, g);
        let Cd { VV, HH, Hs, .. } = self;
        VV.columns_range_mut(B..B + C).copy_from(chains);
        for _ in 0..k {
            hidden_probs(rbm, &VV.columns_range(B..B + C), HH, B..B + C);
            sample_into(&HH.columns_range(B..B + C), Hs, rng);
            visible_probs(rbm, Hs, VV, B..B + C);
            sample_in_place(&mut VV.columns_range_mut(B..B + C), rng);
        }
        chains.copy_from(&VV.columns_range(B..B + C));
        hidden_probs(rbm, &VV.columns_range(B..B + C), HH, B..B + C);
        self.negative(g);
    }

    /// The exact gradient ([`crate::model::exact_gradient`]) on the columns `cols` of V, into
    /// g: ⟨h vᵀ⟩_data = H0 V0ᵀ / B; the model's ⟨h vᵀ⟩, ⟨v⟩, ⟨h⟩ by enumerating the smaller
    /// layer ([`model_expectations`]).
    pub fn exact(&mut self, rbm: &Rbm, V: &DMatrix<f64>, cols: &[usize], g: &mut Grads) {
        let B = cols.len();
        self.positive(rbm, V, cols, B, g);
        let (H0, V0) = (self.HH.columns_range(0..B), self.VV.columns_range(0..B));
        gemm_nt(1.0 / B as f64, &H0, &V0, 0.0, &mut g.dW);
        let e = model_expectations(rbm);
        g.dW -= &e.hv;
        g.da -= &e.v;
        g.db -= &e.h;
    }
}
