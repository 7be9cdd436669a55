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

use crate::model::{CharRnn, Grads};
use nalgebra::{DMatrix, DVector};
use shared::kernels::fastmath;
use shared::kernels::{gemm, gemm_nt, gemm_tn, matvec_acc, sum_columns};
use shared::rng::{self, Rng};

/// What [`forward`] keeps for [`backward`], in buffers made once per run: the chunk (inputs and
/// targets), S and Y; and the backward pass's own scratch. [`backward`] reads the chunk from
/// here and may run once per [`forward`] (it turns Y into dY in place).
#[derive(Clone, Debug)]
pub struct Cache {
    /// The T input characters of the last forward pass.
    x: Vec<usize>,
    /// The T target characters of the last forward pass.
    targets: Vec<usize>,
    /// False once [`backward`] has used this forward pass.
    fresh: bool,
    /// N_h × (T + 1): column 0 is s_{−1} (the carried state), column t + 1 is s_t.
    pub S: DMatrix<f64>,
    /// N_x × T: column t is y_t; [`backward`] turns it into y_t − t_t in place.
    pub Y: DMatrix<f64>,
    /// N_h × T: Vᵀ(y_t − t_t), then ∂L/∂s_t, then dz_t = ∂L/∂(U x_t + W s_{t−1} + b_h), in place.
    pub dZ: DMatrix<f64>,
    /// N_h × N_h: a copy of Wᵀ for the backward pass.
    pub Wt: DMatrix<f64>,
}

impl Cache {
    /// Buffers for chunks of `T` characters.
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
    pub fn last_state(&self) -> nalgebra::DVectorView<'_, f64> {
        self.S.column(self.S.ncols() - 1)
    }
}

/// Floating-point operations of the matrix products in one chunk of `T` characters, forward
/// and backward (2 per multiply-add): W s_{t−1} for T steps and Wᵀ dz_t for T − 1, 2 N_h² each;
/// the GEMMs V S, dY Sᵀ and Vᵀ dY, 2 N_x N_h T each; dZ Sᵀ, 2 N_h² T. For N_x = 65, N_h = 100,
/// T = 25: 2,455,000. (The one-hot products U x_t and dU are copies and additions, and tanh,
/// exp and Adagrad are not counted.)
pub fn product_flops(model: &CharRnn, T: usize) -> u64 {
    let (N_x, N_h, T) = (model.n_x() as u64, model.n_h() as u64, T as u64);
    2 * N_h * N_h * (2 * T - 1) + 6 * N_x * N_h * T + 2 * N_h * N_h * T
}

/// [`CharRnn::forward`] on `cache`'s buffers: inputs `x` (T character indices), `targets`
/// (the next characters), carried state `s_prev` (N_h × 1). Returns the loss Σ_t −ln
/// y_t(target_t) (summed over the T characters, as printed).
pub fn forward(
    model: &CharRnn,
    x: &[usize],
    targets: &[usize],
    s_prev: &DVector<f64>,
    cache: &mut Cache,
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
        for ((a, u), b) in s_t.iter_mut().zip(U_x_t).zip(model.b_h.as_slice()) {
            *a = u + b;
        }
        matvec_acc(&model.W, s_prev.as_slice(), s_t); // += W s_{t−1}
        fastmath::tanh_mut(s_t); // vectorised tanh, within 4 ulp of libm's
    }
    // All T logits at once: [V s_0 + b_y, …, V s_{T−1} + b_y] = V S[:, 1..] + b_y   (K2)
    // as Y ← [b_y … b_y], then one GEMM Y += V S[:, 1..].
    for y_t in cache.Y.as_mut_slice().chunks_exact_mut(N_x) {
        y_t.copy_from_slice(model.b_y.as_slice());
    }
    gemm(1.0, &model.V, &cache.S.columns(1, T), 1.0, &mut cache.Y); // N_x × T
    let mut loss = 0.0;
    for (y_t, &target) in cache.Y.as_mut_slice().chunks_exact_mut(N_x).zip(targets) {
        let z_target = y_t[target];
        // y_t = SoftMax(V s_t + b_y), the maximum subtracted first so exp cannot overflow.
        let max = y_t.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        let sum = fastmath::exp_shifted_mut(y_t, max); // y_t ← exp(z − max), Σ
        let inv = 1.0 / sum;
        for y in y_t.iter_mut() {
            *y *= inv;
        }
        // −ln y_t(target) = ln Σ exp(z − max) − (z_target − max): finite even where the
        // probability itself underflows to 0.
        loss += sum.ln() - (z_target - max);
    }
    loss
}

/// [`CharRnn::backward`] of the chunk the last [`forward`] put in `cache`: writes ∂L/∂U,
/// ∂L/∂W, ∂L/∂V, ∂L/∂b_h, ∂L/∂b_y into `grads` (overwriting them), unclipped.
///
/// # Panics
/// If no [`forward`] filled `cache` since the last backward pass.
pub fn backward(model: &CharRnn, cache: &mut Cache, grads: &mut Grads) {
    assert!(
        cache.fresh,
        "backward needs a forward pass of its own (it turns Y into dY in place)"
    );
    cache.fresh = false;
    let T = cache.seq_len();
    let N_h = model.n_h();
    // Softmax + cross-entropy: ∂L/∂(V s_t + b_y) = y_t − t_t (t_t one-hot): subtract 1 at
    // each target, in place, so Y becomes dY = [y_0 − t_0, …, y_{T−1} − t_{T−1}].
    for (t, &c) in cache.targets.iter().enumerate() {
        cache.Y[(c, t)] -= 1.0;
    }
    let dY = &cache.Y; // N_x × T
    // dV = Σ_t (y_t − t_t) s_tᵀ, written as one GEMM over the chunk: dY S[:, 1..]ᵀ.
    gemm_nt(1.0, dY, &cache.S.columns(1, T), 0.0, &mut grads.dV); // N_x × N_h
    // db_y = Σ_t (y_t − t_t)
    sum_columns(dY, &mut grads.db_y.column_mut(0));
    // From (K2): the part of ∂L/∂s_t that comes from y_t is Vᵀ(y_t − t_t), all t at once.
    gemm_tn(1.0, &model.V, dY, 0.0, &mut cache.dZ); // N_h × T
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
        for (d, s) in dz_t.iter_mut().zip(s_t) {
            *d *= 1.0 - s * s; // dz_t = (1 − s_t²) ∘ ∂L/∂s_t
        }
        if t > 0 {
            // ∂L/∂s_{t−1} += Wᵀ dz_t, through W s_{t−1} in (K1).
            let ds_prev = &mut before[(t - 1) * N_h..];
            matvec_acc(&cache.Wt, dz_t, ds_prev);
        }
    }
    let dZ = &cache.dZ; // N_h × T
    // dW = Σ_t dz_t s_{t−1}ᵀ as one GEMM: dZ S[:, ..T]ᵀ (s_{−1} is the carried state).
    gemm_nt(1.0, dZ, &cache.S.columns(0, T), 0.0, &mut grads.dW); // N_h × N_h
    // db_h = Σ_t dz_t
    sum_columns(dZ, &mut grads.db_h.column_mut(0));
    // dU = Σ_t dz_t x_tᵀ: x_t is one-hot, so dz_t is added to column x_t (a scatter-add).
    let dU = grads.dU.as_mut_slice();
    dU.fill(0.0);
    for (dz_t, &c) in dZ.as_slice().chunks_exact(N_h).zip(&cache.x) {
        for (u, d) in dU[c * N_h..(c + 1) * N_h].iter_mut().zip(dz_t) {
            *u += d;
        }
    }
}

/// The reference's `lossFun`: [`forward`], then [`backward`]. Returns the summed loss; the
/// gradients (unclipped) are in `grads` and s_{T−1} is `cache.last_state()`.
pub fn loss_and_grads(
    model: &CharRnn,
    x: &[usize],
    targets: &[usize],
    s_prev: &DVector<f64>,
    cache: &mut Cache,
    grads: &mut Grads,
) -> f64 {
    let loss = forward(model, x, targets, s_prev, cache);
    backward(model, cache, grads);
    loss
}

/// [`Grads::clip`] when dU is zero outside the columns `seen` (the chunk's characters): the
/// other columns of dU are left alone (clipping 0 gives 0).
pub fn clip_seen(grads: &mut Grads, limit: f64, seen: &[usize]) {
    for g in [
        &mut grads.dW,
        &mut grads.dV,
        &mut grads.db_h,
        &mut grads.db_y,
    ] {
        shared::optim::clip(g, limit);
    }
    let N_h = grads.dU.nrows();
    let dU = grads.dU.as_mut_slice();
    for &c in seen {
        for v in &mut dU[c * N_h..(c + 1) * N_h] {
            *v = v.clamp(-limit, limit);
        }
    }
}

/// [`CharRnn::sample`] with the training path's tanh and products: feeds `first` with state
/// `s` (N_h × 1, updated in place), draws the next character from y at temperature τ (τ = 0:
/// takes the most likely one), feeds it back, `n` times.
pub fn sample(
    model: &CharRnn,
    s: &mut DVector<f64>,
    first: usize,
    n: usize,
    temperature: f64,
    rng: &mut Rng,
) -> Vec<usize> {
    assert!(temperature >= 0.0, "temperature must not be negative");
    let mut out = Vec::with_capacity(n);
    let mut z = DVector::zeros(model.n_x()); // N_x × 1
    let mut a = DVector::zeros(model.n_h()); // N_h × 1
    let mut c = first;
    for _ in 0..n {
        feed(model, s, c, &mut a);
        c = if temperature == 0.0 {
            // τ = 0: the most likely character, no draw (Karpathy's `-sample 0`).
            scores(model, s, &mut z);
            z.imax()
        } else {
            probabilities(model, s, temperature, &mut z);
            rng::weighted_index(rng, z.as_slice())
        };
        out.push(c);
    }
    out
}

/// Primed sampling: starts from s = 0, feeds the characters of `prime` (at least one), then
/// draws `n` more ([`sample`]).
pub fn sample_primed(
    model: &CharRnn,
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
pub fn feed(model: &CharRnn, s: &mut DVector<f64>, c: usize, a: &mut DVector<f64>) {
    a.copy_from(&model.U.column(c));
    *a += &model.b_h;
    matvec_acc(&model.W, s.as_slice(), a.as_mut_slice()); // += W s
    fastmath::tanh_mut(a.as_mut_slice()); // the same tanh as in training
    s.copy_from(a);
}

/// [`CharRnn::scores`] into `z` (N_x × 1): V s + b_y.
pub fn scores(model: &CharRnn, s: &DVector<f64>, z: &mut DVector<f64>) {
    z.copy_from(&model.b_y);
    matvec_acc(&model.V, s.as_slice(), z.as_mut_slice()); // += V s
}

/// [`CharRnn::probabilities`] into `p` (N_x × 1): SoftMax((V s + b_y)/τ), max-subtracted, τ > 0.
pub fn probabilities(model: &CharRnn, s: &DVector<f64>, temperature: f64, p: &mut DVector<f64>) {
    scores(model, s, p);
    let max = p.max();
    p.apply(|v| *v = (*v - max) / temperature); // ≤ 0
    let sum = fastmath::exp_shifted_mut(p.as_mut_slice(), 0.0); // p ← exp(p), Σ
    *p /= sum;
}
