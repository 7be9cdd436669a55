//! The engine path of [`crate::model`]: the same forward pass, backward pass and sampler,
//! computed on preallocated buffers with `shared::kernels`. Training and the `sample`
//! command run this; its tests compare it with the notes layer (loss and all five gradients).
//!
//! What it does differently from [`CharRnn::forward`] / [`CharRnn::backward`], for speed:
//! - the one-hot products are column picks: U x_t is a copy of column x_t, dU a column
//!   scatter-add;
//! - the output layer and three backward products are one GEMM per chunk each instead of T
//!   matrix–vector or outer products: V S, dY Sᵀ, Vᵀ dY, dZ Sᵀ (`kernels::gemm`, `gemm_nt`,
//!   `gemm_tn`);
//! - Wᵀ is copied once per chunk so each backward Wᵀ dz_t is a column-wise
//!   `kernels::matvec_acc`, added in place into the column that holds Vᵀ(y_t − t_t);
//! - tanh and the softmax's exponentials are `kernels::fastmath` (vectorised, within 4 and 2
//!   ulp of libm), and the loss is a log-sum-exp;
//! - clipping and Adagrad skip the columns of dU that are exactly 0 ([`clip_seen`]);
//! - nothing is allocated per chunk but matrixmultiply's packing buffers.
//!
//! **Precision.** The engine is generic over its float type ([`Kernels`], a
//! `shared::kernels::Float`): `f64` (every default run, the same numbers as before) or `f32`
//! (`train --dtype f32`: parameters, states, gradients and Adagrad's memories in f32). Its
//! parameters are a [`FastRnn`] (the notes layer's [`CharRnn`] in type `F`), its gradients a
//! [`FastGrads`]. Losses leave it as f64 (each character's term in `F`, summed in f64). The
//! notes layer stays f64; the tests compare the f32 engine with it to f32 precision.

pub mod kernels;

pub use kernels::Kernels;

use crate::model::{CharRnn, Grads};
use nalgebra::{DMatrix, DVector};
use shared::kernels::{gemm, gemm_nt, gemm_tn, narrow, widen};
use shared::rng::{self, Rng};

/// The five parameters of (K1)–(K2) in the engine's float type `F` (the same names and shapes
/// as [`CharRnn`]).
#[derive(Clone, Debug, PartialEq)]
pub struct FastRnn<F: Kernels> {
    /// N_h × N_x: input to hidden.
    pub U: DMatrix<F>,
    /// N_h × N_h: hidden to hidden.
    pub W: DMatrix<F>,
    /// N_x × N_h: hidden to output.
    pub V: DMatrix<F>,
    /// N_h × 1: hidden bias.
    pub b_h: DMatrix<F>,
    /// N_x × 1: output bias.
    pub b_y: DMatrix<F>,
}

impl<F: Kernels> FastRnn<F> {
    /// `model`'s parameters rounded to `F` (a copy, exact for f64).
    pub fn from_model(model: &CharRnn) -> Self {
        FastRnn {
            U: narrow(&model.U),
            W: narrow(&model.W),
            V: narrow(&model.V),
            b_h: narrow(&model.b_h),
            b_y: narrow(&model.b_y),
        }
    }

    /// The notes layer's model with these parameters (widened to f64, exact).
    pub fn to_model(&self) -> CharRnn {
        CharRnn {
            U: widen(&self.U),
            W: widen(&self.W),
            V: widen(&self.V),
            b_h: widen(&self.b_h),
            b_y: widen(&self.b_y),
        }
    }

    /// N_x, the vocabulary size.
    pub fn n_x(&self) -> usize {
        self.U.ncols()
    }

    /// N_h, the number of hidden units.
    pub fn n_h(&self) -> usize {
        self.W.nrows()
    }

    /// The five parameters in the order U, W, V, b_h, b_y.
    pub fn params(&self) -> [&DMatrix<F>; 5] {
        [&self.U, &self.W, &self.V, &self.b_h, &self.b_y]
    }
}

/// The gradients of the summed chunk loss in type `F`, one per parameter, same shapes
/// ([`Grads`] in the engine's type).
#[derive(Clone, Debug, PartialEq)]
pub struct FastGrads<F: Kernels> {
    /// N_h × N_x
    pub dU: DMatrix<F>,
    /// N_h × N_h
    pub dW: DMatrix<F>,
    /// N_x × N_h
    pub dV: DMatrix<F>,
    /// N_h × 1
    pub db_h: DMatrix<F>,
    /// N_x × 1
    pub db_y: DMatrix<F>,
}

impl<F: Kernels> FastGrads<F> {
    /// Zero gradients shaped like `model`.
    pub fn zeros_like(model: &FastRnn<F>) -> Self {
        let z = |m: &DMatrix<F>| DMatrix::zeros(m.nrows(), m.ncols());
        FastGrads {
            dU: z(&model.U),
            dW: z(&model.W),
            dV: z(&model.V),
            db_h: z(&model.b_h),
            db_y: z(&model.b_y),
        }
    }

    /// The notes layer's [`Grads`] with these values (widened to f64, exact).
    pub fn to_model(&self) -> Grads {
        Grads {
            dU: widen(&self.dU),
            dW: widen(&self.dW),
            dV: widen(&self.dV),
            db_h: widen(&self.db_h),
            db_y: widen(&self.db_y),
        }
    }
}

/// What [`forward`] keeps for [`backward`], in buffers made once per run: the chunk (inputs and
/// targets), S and Y; and the backward pass's own scratch. [`backward`] reads the chunk from
/// here and may run once per [`forward`] (it turns Y into dY in place).
#[derive(Clone, Debug)]
pub struct Cache<F: Kernels = f64> {
    /// The T input characters of the last forward pass.
    x: Vec<usize>,
    /// The T target characters of the last forward pass.
    targets: Vec<usize>,
    /// False once [`backward`] has used this forward pass.
    fresh: bool,
    /// N_h × (T + 1): column 0 is s_{−1} (the carried state), column t + 1 is s_t.
    pub S: DMatrix<F>,
    /// N_x × T: column t is y_t; [`backward`] turns it into y_t − t_t in place.
    pub Y: DMatrix<F>,
    /// N_h × T: Vᵀ(y_t − t_t), then ∂L/∂s_t, then dz_t = ∂L/∂(U x_t + W s_{t−1} + b_h), in place.
    pub dZ: DMatrix<F>,
    /// N_h × N_h: a copy of Wᵀ for the backward pass.
    pub Wt: DMatrix<F>,
}

impl<F: Kernels> Cache<F> {
    /// Buffers for chunks of `T` characters.
    #[allow(non_snake_case)]
    pub fn new(N_x: usize, N_h: usize, T: usize) -> Self {
        Cache {
            x: Vec::with_capacity(T),
            targets: Vec::with_capacity(T),
            fresh: false,
            S: DMatrix::zeros(N_h, T + 1),
            Y: DMatrix::zeros(N_x, T),
            dZ: DMatrix::zeros(N_h, T),
            Wt: DMatrix::zeros(N_h, N_h),
        }
    }

    /// The chunk length T these buffers hold.
    pub fn seq_len(&self) -> usize {
        self.Y.ncols()
    }

    /// The inputs of the last forward pass.
    pub fn inputs(&self) -> &[usize] {
        &self.x
    }

    /// The targets of the last forward pass.
    pub fn targets(&self) -> &[usize] {
        &self.targets
    }

    /// s_{T−1}, the last hidden state of the chunk (carried to the next one): N_h × 1.
    pub fn last_state(&self) -> nalgebra::DVectorView<'_, F> {
        self.S.column(self.S.ncols() - 1)
    }
}

/// Floating-point operations of the matrix products in one chunk of `T` characters, forward
/// and backward (2 per multiply-add): W s_{t−1} for T steps and Wᵀ dz_t for T − 1, 2 N_h² each;
/// the GEMMs V S, dY Sᵀ and Vᵀ dY, 2 N_x N_h T each; dZ Sᵀ, 2 N_h² T. For N_x = 65, N_h = 100,
/// T = 25: 2,455,000. (The one-hot products U x_t and dU are copies and additions, and tanh,
/// exp and Adagrad are not counted.)
pub fn product_flops<F: Kernels>(model: &FastRnn<F>, T: usize) -> u64 {
    let (N_x, N_h, T) = (model.n_x() as u64, model.n_h() as u64, T as u64);
    2 * N_h * N_h * (2 * T - 1) + 6 * N_x * N_h * T + 2 * N_h * N_h * T
}

/// [`CharRnn::forward`] on `cache`'s buffers: inputs `x` (T character indices), `targets`
/// (the next characters), carried state `s_prev` (N_h × 1). Returns the loss Σ_t −ln
/// y_t(target_t) (summed over the T characters, as printed; each term in `T`, the sum in f64).
pub fn forward<F: Kernels>(
    model: &FastRnn<F>,
    x: &[usize],
    targets: &[usize],
    s_prev: &DVector<F>,
    cache: &mut Cache<F>,
) -> f64 {
    let T = x.len();
    assert_eq!(targets.len(), T, "one target per input");
    assert_eq!(cache.seq_len(), T, "buffers are sized for another T");
    let (N_x, N_h) = (model.n_x(), model.n_h());
    cache.x.clear();
    cache.x.extend_from_slice(x);
    cache.targets.clear();
    cache.targets.extend_from_slice(targets);
    cache.fresh = true;
    cache.S.column_mut(0).copy_from(s_prev);
    for (t, &x_t) in x.iter().enumerate() {
        let (s_prev, mut s_t) = cache.S.columns_range_pair_mut(t, t + 1); // N_h × 1 each
        let s_t = s_t.as_mut_slice();
        // s_t = tanh(U x_t + W s_{t−1} + b_h)   (K1)
        // x_t is one-hot, so U x_t is column x_t of U: a copy, not a product.
        let U_x_t = &model.U.as_slice()[x_t * N_h..(x_t + 1) * N_h];
        for ((a, &u), &b) in s_t.iter_mut().zip(U_x_t).zip(model.b_h.as_slice()) {
            *a = u + b;
        }
        F::matvec_acc(&model.W, s_prev.as_slice(), s_t); // += W s_{t−1}
        F::tanh_mut(s_t); // vectorised tanh, within 4 ulp of libm's
    }
    // All T logits at once: [V s_0 + b_y, …, V s_{T−1} + b_y] = V S[:, 1..] + b_y   (K2)
    // as Y ← [b_y … b_y], then one GEMM Y += V S[:, 1..].
    for y_t in cache.Y.as_mut_slice().chunks_exact_mut(N_x) {
        y_t.copy_from_slice(model.b_y.as_slice());
    }
    let one = F::one();
    gemm(one, &model.V, &cache.S.columns(1, T), one, &mut cache.Y); // N_x × T
    let mut loss = 0.0;
    for (y_t, &target) in cache.Y.as_mut_slice().chunks_exact_mut(N_x).zip(targets) {
        let z_target = y_t[target];
        // y_t = SoftMax(V s_t + b_y), the maximum subtracted first so exp cannot overflow.
        let max = y_t.iter().fold(y_t[0], |m, &v| m.max(v));
        let sum = F::exp_shifted_mut(y_t, max); // y_t ← exp(z − max), Σ
        let inv = one / sum;
        for y in y_t.iter_mut() {
            *y *= inv;
        }
        // −ln y_t(target) = ln Σ exp(z − max) − (z_target − max): finite even where the
        // probability itself underflows to 0.
        loss += (sum.ln() - (z_target - max)).as_f64();
    }
    loss
}

/// [`CharRnn::backward`] of the chunk the last [`forward`] put in `cache`: writes ∂L/∂U,
/// ∂L/∂W, ∂L/∂V, ∂L/∂b_h, ∂L/∂b_y into `grads` (overwriting them), unclipped.
///
/// # Panics
/// If no [`forward`] filled `cache` since the last backward pass.
pub fn backward<F: Kernels>(model: &FastRnn<F>, cache: &mut Cache<F>, grads: &mut FastGrads<F>) {
    assert!(
        cache.fresh,
        "backward needs a forward pass of its own (it turns Y into dY in place)"
    );
    cache.fresh = false;
    let T = cache.seq_len();
    let N_h = model.n_h();
    let (zero, one) = (F::zero(), F::one());
    // Softmax + cross-entropy: ∂L/∂(V s_t + b_y) = y_t − t_t (t_t one-hot): subtract 1 at
    // each target, in place, so Y becomes dY = [y_0 − t_0, …, y_{T−1} − t_{T−1}].
    for (t, &c) in cache.targets.iter().enumerate() {
        cache.Y[(c, t)] -= one;
    }
    let dY = &cache.Y; // N_x × T
    // dV = Σ_t (y_t − t_t) s_tᵀ, written as one GEMM over the chunk: dY S[:, 1..]ᵀ.
    gemm_nt(one, dY, &cache.S.columns(1, T), zero, &mut grads.dV); // N_x × N_h
    // db_y = Σ_t (y_t − t_t)
    sum_columns(dY, &mut grads.db_y);
    // From (K2): the part of ∂L/∂s_t that comes from y_t is Vᵀ(y_t − t_t), all t at once.
    gemm_tn(one, &model.V, dY, zero, &mut cache.dZ); // N_h × T
    // Back through time, t = T−1 … 0, from (K1):
    //   ∂L/∂s_t = Vᵀ(y_t − t_t) + Wᵀ dz_{t+1}        (the second term is 0 at t = T−1)
    //   dz_t    = (1 − s_t²) ∘ ∂L/∂s_t               (tanh' from the output s_t)
    // Column t of dZ holds Vᵀ(y_t − t_t); Wᵀ dz_{t+1} (the reference's dhnext) is added into
    // it in place, so it becomes ∂L/∂s_t, then dz_t.
    // Wᵀ is copied once per chunk so that each Wᵀ dz_t below is a fast column-wise product.
    model.W.transpose_to(&mut cache.Wt); // N_h × N_h
    let dZ = cache.dZ.as_mut_slice();
    let S = cache.S.as_slice();
    for t in (0..T).rev() {
        let (before, from_t) = dZ.split_at_mut(t * N_h);
        let dz_t = &mut from_t[..N_h]; // ∂L/∂s_t, complete: step t + 1 added Wᵀ dz_{t+1}
        let s_t = &S[(t + 1) * N_h..(t + 2) * N_h]; // column t + 1 of S is s_t
        for (d, &s) in dz_t.iter_mut().zip(s_t) {
            *d *= one - s * s; // dz_t = (1 − s_t²) ∘ ∂L/∂s_t
        }
        if t > 0 {
            // ∂L/∂s_{t−1} += Wᵀ dz_t, through W s_{t−1} in (K1).
            let ds_prev = &mut before[(t - 1) * N_h..];
            F::matvec_acc(&cache.Wt, dz_t, ds_prev);
        }
    }
    let dZ = &cache.dZ; // N_h × T
    // dW = Σ_t dz_t s_{t−1}ᵀ as one GEMM: dZ S[:, ..T]ᵀ (s_{−1} is the carried state).
    gemm_nt(one, dZ, &cache.S.columns(0, T), zero, &mut grads.dW); // N_h × N_h
    // db_h = Σ_t dz_t
    sum_columns(dZ, &mut grads.db_h);
    // dU = Σ_t dz_t x_tᵀ: x_t is one-hot, so dz_t is added to column x_t (a scatter-add).
    let dU = grads.dU.as_mut_slice();
    dU.fill(zero);
    for (dz_t, &c) in dZ.as_slice().chunks_exact(N_h).zip(&cache.x) {
        for (u, &d) in dU[c * N_h..(c + 1) * N_h].iter_mut().zip(dz_t) {
            *u += d;
        }
    }
}

/// `out ← Σ_j column j of m` (m: n × k, out: n × 1), the columns added one after another from
/// zero: `shared::kernels::sum_columns` (f64 only) in type `F`, the same order.
fn sum_columns<F: Kernels>(m: &DMatrix<F>, out: &mut DMatrix<F>) {
    assert_eq!(
        out.shape(),
        (m.nrows(), 1),
        "sum_columns: out has the wrong shape"
    );
    let out = out.as_mut_slice();
    out.fill(F::zero());
    for column in m.as_slice().chunks_exact(m.nrows().max(1)) {
        for (o, &v) in out.iter_mut().zip(column) {
            *o += v;
        }
    }
}

/// The reference's `lossFun`: [`forward`], then [`backward`]. Returns the summed loss; the
/// gradients (unclipped) are in `grads` and s_{T−1} is `cache.last_state()`.
pub fn loss_and_grads<F: Kernels>(
    model: &FastRnn<F>,
    x: &[usize],
    targets: &[usize],
    s_prev: &DVector<F>,
    cache: &mut Cache<F>,
    grads: &mut FastGrads<F>,
) -> f64 {
    let loss = forward(model, x, targets, s_prev, cache);
    backward(model, cache, grads);
    loss
}

/// [`Grads::clip`] when dU is zero outside the columns `seen` (the chunk's characters): the
/// other columns of dU are left alone (clipping 0 gives 0).
pub fn clip_seen<F: Kernels>(grads: &mut FastGrads<F>, limit: f64, seen: &[usize]) {
    let limit = F::round_from(limit);
    let N_h = grads.dU.nrows();
    for g in [
        grads.dW.as_mut_slice(),
        grads.dV.as_mut_slice(),
        grads.db_h.as_mut_slice(),
        grads.db_y.as_mut_slice(),
    ] {
        clip(g, limit);
    }
    let dU = grads.dU.as_mut_slice();
    for &c in seen {
        clip(&mut dU[c * N_h..(c + 1) * N_h], limit);
    }
}

/// Every entry clipped to [−limit, limit] as comparisons (`shared::optim::clip` in type `F`;
/// NaN stays NaN).
fn clip<F: Kernels>(g: &mut [F], limit: F) {
    for v in g {
        *v = if *v < -limit {
            -limit
        } else if *v > limit {
            limit
        } else {
            *v
        };
    }
}

/// [`CharRnn::sample`] with the training path's tanh and products: feeds `first` with state
/// `s` (N_h × 1, updated in place), draws the next character from y at temperature τ (τ = 0:
/// takes the most likely one), feeds it back, `n` times.
pub fn sample<F: Kernels>(
    model: &FastRnn<F>,
    s: &mut DVector<F>,
    first: usize,
    n: usize,
    temperature: f64,
    rng: &mut Rng,
) -> Vec<usize> {
    assert!(temperature >= 0.0, "temperature must not be negative");
    let mut out = Vec::with_capacity(n);
    let mut z = DVector::zeros(model.n_x()); // N_x × 1
    let mut a = DVector::zeros(model.n_h()); // N_h × 1
    let mut p = Vec::with_capacity(model.n_x()); // N_x probabilities, f64 for the draw
    let mut c = first;
    for _ in 0..n {
        feed(model, s, c, &mut a);
        c = if temperature == 0.0 {
            // τ = 0: the most likely character, no draw (Karpathy's `-sample 0`).
            scores(model, s, &mut z);
            z.imax()
        } else {
            probabilities(model, s, temperature, &mut z);
            p.clear();
            p.extend(z.iter().map(|v| v.as_f64()));
            rng::weighted_index(rng, &p)
        };
        out.push(c);
    }
    out
}

/// Primed sampling: starts from s = 0, feeds the characters of `prime` (at least one), then
/// draws `n` more ([`sample`]).
pub fn sample_primed<F: Kernels>(
    model: &FastRnn<F>,
    prime: &[usize],
    n: usize,
    temperature: f64,
    rng: &mut Rng,
) -> Vec<usize> {
    let (last, head) = prime
        .split_last()
        .expect("a prime of at least one character");
    let mut s = DVector::zeros(model.n_h()); // N_h × 1
    let mut a = DVector::zeros(model.n_h()); // N_h × 1
    for &c in head {
        feed(model, &mut s, c, &mut a);
    }
    sample(model, &mut s, *last, n, temperature, rng)
}

/// [`CharRnn::step`] in place: s ← tanh(U x + W s + b_h) for character `c`. `a` is scratch
/// (N_h × 1).
pub fn feed<F: Kernels>(model: &FastRnn<F>, s: &mut DVector<F>, c: usize, a: &mut DVector<F>) {
    a.copy_from(&model.U.column(c));
    *a += &model.b_h;
    F::matvec_acc(&model.W, s.as_slice(), a.as_mut_slice()); // += W s
    F::tanh_mut(a.as_mut_slice()); // the same tanh as in training
    s.copy_from(a);
}

/// [`CharRnn::scores`] into `z` (N_x × 1): V s + b_y.
pub fn scores<F: Kernels>(model: &FastRnn<F>, s: &DVector<F>, z: &mut DVector<F>) {
    z.copy_from(&model.b_y);
    F::matvec_acc(&model.V, s.as_slice(), z.as_mut_slice()); // += V s
}

/// [`CharRnn::probabilities`] into `p` (N_x × 1): SoftMax((V s + b_y)/τ), max-subtracted, τ > 0.
pub fn probabilities<F: Kernels>(
    model: &FastRnn<F>,
    s: &DVector<F>,
    temperature: f64,
    p: &mut DVector<F>,
) {
    scores(model, s, p);
    let max = p.max();
    let tau = F::round_from(temperature);
    p.apply(|v| *v = (*v - max) / tau); // ≤ 0
    let sum = F::exp_shifted_mut(p.as_mut_slice(), F::zero()); // p ← exp(p), Σ
    *p /= sum;
}
