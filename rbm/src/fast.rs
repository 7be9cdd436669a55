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
//!
//! **Precision** (`train --dtype`). The Gibbs sampler and the CD update are generic over the
//! float type [`EngineFloat`]: f64 runs them on the notes' own [`Rbm`] and [`Grads`] (every
//! default run computes what it always computed), f32 on [`Rbm32`] and [`Grads32`]
//! (parameters, probabilities, samples, statistics and momentum in f32; σ evaluated in f64
//! and rounded, [`EngineFloat::sigmoid_mut`]). A Bernoulli draw is the same for both types:
//! one f64 uniform u from the run's stream per unit, on when u < p with the probability p
//! widened exactly to f64 ([`sample_into`]); an f32 run thus draws the very same random
//! numbers as an f64 run, in the same order (the stream's position, the mini-batch order and
//! a checkpoint's `rng_word_pos` mean the same in both), and its samples differ from the f64
//! run's only where its p differs from the f64 p across a u. The exact sums (log Z, F(v),
//! the model expectations, the reports) stay f64, on the parameters widened exactly.

#![allow(non_snake_case)]

use crate::model::{Grads, ModelExpectations, Rbm, bernoulli, softplus};
use nalgebra::{DMatrix, Dyn, Matrix, RawStorage, RawStorageMut};
use shared::kernels::softplus::{MAX_ENUMERATED, log_partition, partition_expectations};
use shared::kernels::{Float, gemm, gemm_nt, gemm_tn, narrow, widen};
use shared::rng::Rng;
use std::borrow::Cow;
use std::ops::Range;

/// A dynamically sized matrix of `T` or a view of one (a block of columns of a buffer).
pub type Mat<T, S> = Matrix<T, Dyn, Dyn, S>;

/// The engine's float type (`--dtype`): f64, on the notes' [`Rbm`] and [`Grads`], or f32, on
/// [`Rbm32`] and [`Grads32`].
pub trait EngineFloat: Float {
    /// The RBM's parameters in this type.
    type Rbm: Params<F = Self>;
    /// A gradient estimate (or an update direction) in this type.
    type Grads: GradParts<F = Self>;
    /// σ of every entry of `v`, in place (the vectorised σ of `shared::kernels::fastmath`).
    fn sigmoid_mut(v: &mut [Self]);
}

impl EngineFloat for f64 {
    type Rbm = Rbm;
    type Grads = Grads;
    fn sigmoid_mut(v: &mut [f64]) {
        shared::kernels::fastmath::sigmoid_mut(v);
    }
}

impl EngineFloat for f32 {
    type Rbm = Rbm32;
    type Grads = Grads32;
    /// σ in f64 (within 4 ulp of f64), rounded once to f32: the f32 result is the correctly
    /// rounded σ but for ties within those few f64 ulp. 256 values at a time through a buffer
    /// on the stack.
    fn sigmoid_mut(v: &mut [f32]) {
        let mut wide = [0.0f64; 256];
        for chunk in v.chunks_mut(256) {
            let w = &mut wide[..chunk.len()];
            w.iter_mut()
                .zip(chunk.iter())
                .for_each(|(w, &x)| *w = f64::from(x));
            shared::kernels::fastmath::sigmoid_mut(w);
            chunk
                .iter_mut()
                .zip(w.iter())
                .for_each(|(x, &w)| *x = w as f32);
        }
    }
}

/// W (n_h × n_v), a (n_v × 1), b (n_h × 1) in the engine's float type `F`.
pub trait Params: Clone + std::fmt::Debug + PartialEq + Send {
    /// The float type.
    type F: EngineFloat;
    /// An RBM from its parameters (shapes as [`Rbm::new`] checks them).
    fn from_parts(W: DMatrix<Self::F>, a: DMatrix<Self::F>, b: DMatrix<Self::F>) -> Self;
    /// [W, a, b].
    fn parts(&self) -> [&DMatrix<Self::F>; 3];
    /// [W, a, b], to update them.
    fn parts_mut(&mut self) -> [&mut DMatrix<Self::F>; 3];
    /// The notes' f64 RBM of these parameters (borrowed for f64, widened exactly for f32).
    fn widened(&self) -> Cow<'_, Rbm>;
    /// These parameters rounded from the notes' f64 RBM (a copy for f64).
    fn narrowed(rbm: &Rbm) -> Self {
        Self::from_parts(narrow(&rbm.W), narrow(&rbm.a), narrow(&rbm.b))
    }
}

impl Params for Rbm {
    type F = f64;
    fn from_parts(W: DMatrix<f64>, a: DMatrix<f64>, b: DMatrix<f64>) -> Rbm {
        Rbm::new(W, a, b)
    }
    fn parts(&self) -> [&DMatrix<f64>; 3] {
        [&self.W, &self.a, &self.b]
    }
    fn parts_mut(&mut self) -> [&mut DMatrix<f64>; 3] {
        [&mut self.W, &mut self.a, &mut self.b]
    }
    fn widened(&self) -> Cow<'_, Rbm> {
        Cow::Borrowed(self)
    }
}

/// An RBM with f32 parameters (`train --dtype f32`): the fields of [`Rbm`] in f32.
#[derive(Clone, Debug, PartialEq)]
pub struct Rbm32 {
    /// n_h × n_v.
    pub W: DMatrix<f32>,
    /// n_v × 1: visible biases.
    pub a: DMatrix<f32>,
    /// n_h × 1: hidden biases.
    pub b: DMatrix<f32>,
}

impl Params for Rbm32 {
    type F = f32;
    fn from_parts(W: DMatrix<f32>, a: DMatrix<f32>, b: DMatrix<f32>) -> Rbm32 {
        assert_eq!(a.shape(), (W.ncols(), 1), "a must be n_v × 1");
        assert_eq!(b.shape(), (W.nrows(), 1), "b must be n_h × 1");
        Rbm32 { W, a, b }
    }
    fn parts(&self) -> [&DMatrix<f32>; 3] {
        [&self.W, &self.a, &self.b]
    }
    fn parts_mut(&mut self) -> [&mut DMatrix<f32>; 3] {
        [&mut self.W, &mut self.a, &mut self.b]
    }
    fn widened(&self) -> Cow<'_, Rbm> {
        Cow::Owned(Rbm::new(widen(&self.W), widen(&self.a), widen(&self.b)))
    }
}

/// dW (n_h × n_v), da (n_v × 1), db (n_h × 1) in the engine's float type `F`.
pub trait GradParts: Clone + std::fmt::Debug + PartialEq + Send {
    /// The float type.
    type F: EngineFloat;
    /// Zeros shaped like the parameters of an RBM with n_v visible and n_h hidden units.
    fn zeros(n_v: usize, n_h: usize) -> Self;
    /// [dW, da, db].
    fn parts(&self) -> [&DMatrix<Self::F>; 3];
    /// [dW, da, db], to write them.
    fn parts_mut(&mut self) -> [&mut DMatrix<Self::F>; 3];
}

impl GradParts for Grads {
    type F = f64;
    fn zeros(n_v: usize, n_h: usize) -> Grads {
        Grads::zeros(n_v, n_h)
    }
    fn parts(&self) -> [&DMatrix<f64>; 3] {
        [&self.dW, &self.da, &self.db]
    }
    fn parts_mut(&mut self) -> [&mut DMatrix<f64>; 3] {
        [&mut self.dW, &mut self.da, &mut self.db]
    }
}

/// A gradient estimate in f32: the fields of [`Grads`] in f32.
#[derive(Clone, Debug, PartialEq)]
pub struct Grads32 {
    /// n_h × n_v, for W.
    pub dW: DMatrix<f32>,
    /// n_v × 1, for a.
    pub da: DMatrix<f32>,
    /// n_h × 1, for b.
    pub db: DMatrix<f32>,
}

impl GradParts for Grads32 {
    type F = f32;
    fn zeros(n_v: usize, n_h: usize) -> Grads32 {
        Grads32 {
            dW: DMatrix::zeros(n_h, n_v),
            da: DMatrix::zeros(n_v, 1),
            db: DMatrix::zeros(n_h, 1),
        }
    }
    fn parts(&self) -> [&DMatrix<f32>; 3] {
        [&self.dW, &self.da, &self.db]
    }
    fn parts_mut(&mut self) -> [&mut DMatrix<f32>; 3] {
        [&mut self.dW, &mut self.da, &mut self.db]
    }
}

/// The notes' f64 [`Grads`] of any gradient (widened exactly).
pub fn widen_grads<G: GradParts>(g: &G) -> Grads {
    let [dW, da, db] = g.parts();
    Grads {
        dW: widen(dW),
        da: widen(da),
        db: widen(db),
    }
}

/// H[:, cols] ← σ(W V + b 1ᵀ): p(h = 1 | v) for each column of V (n_h × |cols|).
pub fn hidden_probs<P: Params, S: RawStorage<P::F, Dyn, Dyn>>(
    rbm: &P,
    V: &Mat<P::F, S>,
    H: &mut DMatrix<P::F>,
    cols: Range<usize>,
) {
    let [W, _, b] = rbm.parts();
    let mut X = H.columns_range_mut(cols.clone());
    X.column_iter_mut().for_each(|mut x| x.copy_from(b));
    gemm(P::F::round_from(1.0), W, V, P::F::round_from(1.0), &mut X);
    sigmoid_columns(H, cols);
}

/// V[:, cols] ← σ(Wᵀ H + a 1ᵀ): p(v = 1 | h) for each column of H (n_v × |cols|).
pub fn visible_probs<P: Params, S: RawStorage<P::F, Dyn, Dyn>>(
    rbm: &P,
    H: &Mat<P::F, S>,
    V: &mut DMatrix<P::F>,
    cols: Range<usize>,
) {
    let [W, a, _] = rbm.parts();
    let mut X = V.columns_range_mut(cols.clone());
    X.column_iter_mut().for_each(|mut x| x.copy_from(a));
    gemm_tn(P::F::round_from(1.0), W, H, P::F::round_from(1.0), &mut X);
    sigmoid_columns(V, cols);
}

/// σ of the columns `cols` of M, in one pass: column-major storage makes them one run.
fn sigmoid_columns<T: EngineFloat>(M: &mut DMatrix<T>, cols: Range<usize>) {
    let n = M.nrows();
    T::sigmoid_mut(&mut M.as_mut_slice()[cols.start * n..cols.end * n]);
}

/// One binary sample of a unit on with probability p, in either float type: the notes'
/// [`bernoulli`] (u ~ U[0, 1) in f64 from the stream, on when u < p) on p widened exactly.
fn draw<T: EngineFloat>(p: T, rng: &mut Rng) -> T {
    T::round_from(bernoulli(p.as_f64(), rng))
}

/// S ← a binary sample of every unit of P (entries are probabilities), column by column.
pub fn sample_into<T, S1, S2>(P: &Mat<T, S1>, S: &mut Mat<T, S2>, rng: &mut Rng)
where
    T: EngineFloat,
    S1: RawStorage<T, Dyn, Dyn>,
    S2: RawStorageMut<T, Dyn, Dyn>,
{
    assert_eq!(P.shape(), S.shape());
    S.iter_mut()
        .zip(P.iter())
        .for_each(|(s, &p)| *s = draw(p, rng));
}

/// Replaces each probability in P by a binary sample of it, column by column.
pub fn sample_in_place<T: EngineFloat, S: RawStorageMut<T, Dyn, Dyn>>(
    P: &mut Mat<T, S>,
    rng: &mut Rng,
) {
    P.iter_mut().for_each(|p| *p = draw(*p, rng));
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
fn add_column_mean<T: EngineFloat, S: RawStorage<T, Dyn, Dyn>>(
    out: &mut DMatrix<T>,
    alpha: f64,
    M: &Mat<T, S>,
) {
    let s = T::round_from(alpha / M.ncols().max(1) as f64);
    for col in M.column_iter() {
        out.column_mut(0).axpy(s, &col, T::round_from(1.0));
    }
}

/// The preallocated matrices of one gradient estimate for B examples and C negative-phase
/// chains (C = B for CD), and the estimates ([`Cd::cd`], [`Cd::pcd`], [`Cd::exact`]), in the
/// engine's float type `T`.
#[derive(Clone, Debug)]
pub struct Cd<T: EngineFloat = f64> {
    B: usize,
    VV: DMatrix<T>, // n_v × (B + C): [V0 | Vk], the mini-batch and the visible states after k steps
    HH: DMatrix<T>, // n_h × (B + C): [H0 | Hk], p(h | v0) and p(h | vk)
    Hs: DMatrix<T>, // n_h × C: sampled hidden states
}

impl<T: EngineFloat> Cd<T> {
    /// Buffers for B examples and C chains of an RBM with n_v visible and n_h hidden units.
    pub fn new(n_v: usize, n_h: usize, B: usize, C: usize) -> Cd<T> {
        Cd {
            B,
            VV: DMatrix::zeros(n_v, B + C),
            HH: DMatrix::zeros(n_h, B + C),
            Hs: DMatrix::zeros(n_h, C),
        }
    }

    /// The positive phase for the columns `cols` of V (after sizing the buffers for B = |cols|
    /// and C chains): V0 ← those columns (rounded to T: 0 and 1 exactly),
    /// H0 = σ(W V0 + b 1ᵀ), g.da ← ⟨v⟩_data, g.db ← ⟨h⟩_data.
    fn positive<P, G>(&mut self, rbm: &P, V: &DMatrix<f64>, cols: &[usize], C: usize, g: &mut G)
    where
        P: Params<F = T>,
        G: GradParts<F = T>,
    {
        let B = cols.len();
        let (n_v, n_h) = (V.nrows(), rbm.parts()[0].nrows());
        if self.B != B || self.Hs.ncols() != C {
            *self = Cd::new(n_v, n_h, B, C); // only when the last batch is smaller
        }
        for (c, &n) in cols.iter().enumerate() {
            self.VV
                .column_mut(c)
                .zip_apply(&V.column(n), |x, v| *x = T::round_from(v));
        }
        hidden_probs(rbm, &self.VV.columns_range(0..B), &mut self.HH, 0..B);
        let [_, da, db] = g.parts_mut();
        da.fill(T::round_from(0.0));
        db.fill(T::round_from(0.0));
        add_column_mean(da, 1.0, &self.VV.columns_range(0..B));
        add_column_mean(db, 1.0, &self.HH.columns_range(0..B));
    }

    /// The negative statistics from Vk, Hk, and the weights' term:
    /// g.da −= ⟨v⟩ of Vk, g.db −= ⟨h⟩ of Hk, g.dW = [H0 / B | −Hk / C] [V0 | Vk]ᵀ.
    fn negative<G: GradParts<F = T>>(&mut self, g: &mut G) {
        let (B, C) = (self.B, self.Hs.ncols());
        let [dW, da, db] = g.parts_mut();
        add_column_mean(da, -1.0, &self.VV.columns_range(B..B + C));
        add_column_mean(db, -1.0, &self.HH.columns_range(B..B + C));
        let (b, c) = (T::round_from(B as f64), T::round_from(-(C as f64)));
        self.HH.columns_range_mut(0..B).apply(|h| *h /= b);
        self.HH.columns_range_mut(B..B + C).apply(|h| *h /= c);
        gemm_nt(
            T::round_from(1.0),
            &self.HH,
            &self.VV,
            T::round_from(0.0),
            dW,
        );
    }

    /// [`Rbm::cd`] for the columns `cols` of V, into g: h0 ~ p(h | v0), then k steps
    /// v ← p(v | h), h ← p(h | v), all sampled but the last reconstruction and its hidden units.
    pub fn cd<P, G>(
        &mut self,
        rbm: &P,
        V: &DMatrix<f64>,
        cols: &[usize],
        k: usize,
        rng: &mut Rng,
        g: &mut G,
    ) where
        P: Params<F = T>,
        G: GradParts<F = T>,
    {
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
    pub fn pcd<P, G>(
        &mut self,
        rbm: &P,
        V: &DMatrix<f64>,
        cols: &[usize],
        chains: &mut DMatrix<T>,
        k: usize,
        rng: &mut Rng,
        g: &mut G,
    ) where
        P: Params<F = T>,
        G: GradParts<F = T>,
    {
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
    /// layer ([`model_expectations`], in f64 on the parameters widened, then rounded to T).
    pub fn exact<P, G>(&mut self, rbm: &P, V: &DMatrix<f64>, cols: &[usize], g: &mut G)
    where
        P: Params<F = T>,
        G: GradParts<F = T>,
    {
        let B = cols.len();
        self.positive(rbm, V, cols, B, g);
        let (H0, V0) = (self.HH.columns_range(0..B), self.VV.columns_range(0..B));
        let [dW, da, db] = g.parts_mut();
        gemm_nt(
            T::round_from(1.0 / B as f64),
            &H0,
            &V0,
            T::round_from(0.0),
            dW,
        );
        let e = model_expectations(&rbm.widened());
        *dW -= narrow::<T>(&e.hv);
        *da -= narrow::<T>(&e.v);
        *db -= narrow::<T>(&e.h);
    }
}
