//! The training path: the model of [`crate::model`] computed fast, on shared's engine, in f64
//! or f32 ([`Scalar`]). The tests hold it to [`Rnn::forward`], [`Rnn::backward`] and
//! [`Rnn::update`] (loss, states, outputs and updated weights to 1e-12 in f64, to f32's
//! precision in f32).
//!
//! How it departs from the notes' loops (same math):
//! - `V h_i` for all `i` is one product `Y = V H` (N_x × N_h · N_h × T), and `Vᵀ (y_i − t_i)` for
//!   all `i` is one product `Vᵀ (Y − T)`; in the SGD step `dV = (Y − T) Hᵀ` is written straight
//!   into `V` (`V ← V − lr (Y − T) Hᵀ`) in the same pass over V, so no `N_x × N_h` gradient is
//!   written and read ([`shared::kernels::tall`]). These three products are the whole cost at
//!   `N_x` = 8000.
//! - The two sums over `i` and `j` are regrouped by `j`: `δ_j = z_j + Σ_i b_ij` collects all that
//!   flows back into step `j`, then `dW = Σ_j δ_j h_{j−1}ᵀ` is one product and `dU` adds `δ_j` to
//!   column `x_j`. The `b_ij` chains of all outputs step back together, one product per step.
//! - tanh and the softmax's exponential are the vectorised ones of [`shared::kernels::fastmath`]
//!   (within a few ulp of libm): 8000 libm calls per step cost as much as a product.
//! - Optionally on several threads ([`Cache::with_threads`], `--threads N`): `Y = V H` and the
//!   softmax split by time steps, `Vᵀ (Y − T)` and the update of V by columns of V
//!   ([`shared::kernels::threads`]); each number is still computed by one thread in the same
//!   order, so the results are bit-identical to one thread. `train` uses every core by default.
//! - In f32 ([`Net<f32>`], `train --dtype f32`) the weights, states, outputs and deltas are f32
//!   and the products with V run on the `gemm` crate ([`scalar`]); the loss is summed in f64.

pub mod scalar;

use crate::model::{Bptt, Rnn};
use nalgebra::{DMatrix, DMatrixView, DVector};
use shared::kernels::softmax::softmax_mut;
use shared::kernels::tall::{self, LANES};
use shared::kernels::{fastmath, gemm_nt, gemm_tn, matvec_acc, narrow, threads, widen};
use shared::rng::{self, Rng};

pub use scalar::{Float, Scalar};

/// The weights the engine trains, in its float type `F`: the notes' U, W, V ([`Rnn`]), rounded
/// to `F` once ([`Net::from_model`]; f64 keeps them as they are).
#[derive(Clone, Debug, PartialEq)]
pub struct Net<F: Scalar> {
    /// N_h × N_x.
    pub U: DMatrix<F>,
    /// N_h × N_h.
    pub W: DMatrix<F>,
    /// N_x × N_h.
    pub V: DMatrix<F>,
}

impl<F: Scalar> Net<F> {
    /// `model`'s weights rounded to `F` (exact for f64).
    pub fn from_model(model: &Rnn) -> Net<F> {
        Net {
            U: narrow(&model.U),
            W: narrow(&model.W),
            V: narrow(&model.V),
        }
    }

    /// The weights as the notes layer's f64 model (exact).
    pub fn to_model(&self) -> Rnn {
        Rnn {
            U: widen(&self.U),
            W: widen(&self.W),
            V: widen(&self.V),
        }
    }

    /// Vocabulary size N_x.
    pub fn N_x(&self) -> usize {
        self.V.nrows()
    }

    /// Hidden units N_h.
    pub fn N_h(&self) -> usize {
        self.W.nrows()
    }
}

impl From<Rnn> for Net<f64> {
    /// The f64 engine's weights are the model's own (no copy).
    fn from(model: Rnn) -> Net<f64> {
        Net {
            U: model.U,
            W: model.W,
            V: model.V,
        }
    }
}

/// What [`forward`] keeps for the backward pass of [`sgd_step`], and the backward pass's own
/// buffers, reused from sentence to sentence: they grow (once) to the longest sentence seen, so
/// the training loop allocates nothing (in f32, a list of a few blocks per product). Only the first `T` columns are meaningful after a
/// forward pass on a sentence of `T` words. [`sgd_step`] runs the forward and the backward pass
/// on the same sentence itself, so no backward can meet another sentence's activations.
#[derive(Clone, Debug)]
pub struct Cache<F: Scalar = f64> {
    /// N_h × (T + 1): column 0 is `h_{−1}` = 0, column `i + 1` is `h_i`.
    H: DMatrix<F>,
    /// N_x × T: column `i` is `y_i` after the forward pass, `y_i − t_i` in the backward pass.
    Y: DMatrix<F>,
    /// N_h × T: column `i` is `Vᵀ (y_i − t_i)`, then (truncated BPTT) `z_i`.
    Z: DMatrix<F>,
    /// N_h × T: column `j` is `δ_j`, the gradient of L with respect to step j's pre-activation
    /// `U x_j + W h_{j−1}` (truncated: `z_j + Σ_i b_ij`; full: the toy model's `dz_j`).
    D: DMatrix<F>,
    /// N_h × T: `Wᵀ b_{i,j+1}` for all chains at once, before the `∘ (1 − h_j²)`.
    WtB: DMatrix<F>,
    /// N_h: `Wᵀ dz_{i+1}` in full BPTT.
    Wtb: DVector<F>,
    /// T × N_h: `Hᵀ`, the states h_0 … h_{T−1} as rows, for [`tall::tall_gemm`] (f64).
    Ht: Vec<F>,
    /// N_h · T partial sums of `Vᵀ (y_i − t_i)` ([`tall::tall_backward_sgd`]; f32 keeps
    /// `(Vᵀ (Y − T))ᵀ` in its first N_h · T numbers).
    P: Vec<[F; LANES]>,
    /// Length of the sentence the cache holds.
    T: usize,
    /// Threads for the products with V; 1 unless [`Cache::with_threads`].
    threads: usize,
}

impl<F: Scalar> Cache<F> {
    /// A cache for `model`'s sizes and sentences of up to `T` words (longer ones grow it).
    pub fn new(model: &Net<F>, T: usize) -> Cache<F> {
        let (N_h, N_x) = model.U.shape();
        let zero = F::zero();
        Cache {
            H: DMatrix::zeros(N_h, T + 1),
            Y: DMatrix::zeros(N_x, T),
            Z: DMatrix::zeros(N_h, T),
            D: DMatrix::zeros(N_h, T),
            WtB: DMatrix::zeros(N_h, T),
            Wtb: DVector::zeros(N_h),
            Ht: vec![zero; T * N_h],
            P: vec![[zero; LANES]; N_h * T],
            T: 0,
            threads: 1,
        }
    }

    /// The same cache, with the products with V of [`forward`] (hence [`loss`]) and
    /// [`sgd_step`] on `threads` threads (1 ..= [`shared::parallel::MAX_THREADS`]): `Y = V H` and
    /// the softmax by time steps, the backward over V by hidden units, bit-identical to one
    /// thread; a product too small to repay a thread start stays on one
    /// ([`threads::MIN_WORK_PER_THREAD`]).
    pub fn with_threads(mut self, threads: usize) -> shared::Result<Cache<F>> {
        self.threads = shared::parallel::check_threads(threads)?;
        Ok(self)
    }

    /// Threads for the products with V (see [`Cache::with_threads`]).
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Makes room for a sentence of `T` words (allocates only when T is a new maximum).
    fn reserve(&mut self, T: usize) {
        let cap = self.Y.ncols();
        if T > cap {
            // Grow to the next power of two so a slowly lengthening stream reallocates rarely.
            let new = T.next_power_of_two();
            let grow = |m: &mut DMatrix<F>, cols: usize| {
                let old = std::mem::replace(m, DMatrix::zeros(0, 0));
                *m = old.resize_horizontally(cols, F::zero());
            };
            grow(&mut self.H, new + 1);
            grow(&mut self.Y, new);
            grow(&mut self.Z, new);
            grow(&mut self.D, new);
            grow(&mut self.WtB, new);
            self.Ht.resize(new * self.H.nrows(), F::zero());
            self.P.resize(self.H.nrows() * new, [F::zero(); LANES]);
        }
    }

    /// Length of the sentence in the cache.
    pub fn len(&self) -> usize {
        self.T
    }

    /// True before any forward pass (or after one on an empty sentence).
    pub fn is_empty(&self) -> bool {
        self.T == 0
    }

    /// N_h × (T + 1): `h_{−1}` = 0, then `h_0 … h_{T−1}` of the sentence in the cache.
    pub fn H(&self) -> DMatrixView<'_, F> {
        self.H.columns(0, self.T + 1)
    }

    /// N_x × T: `y_0 … y_{T−1}` after [`forward`] (`y_i − t_i` after [`sgd_step`]).
    pub fn Y(&self) -> DMatrixView<'_, F> {
        self.Y.columns(0, self.T)
    }

    /// `L = Σ_i −ln y_i[t_i]` of the sentence whose forward pass the cache holds (summed in
    /// f64).
    pub fn loss(&self, t: &[usize]) -> f64 {
        assert_eq!(t.len(), self.T, "one target per input word");
        t.iter()
            .enumerate()
            .map(|(i, &t_i)| -self.Y[(t_i, i)].as_f64().ln())
            .sum()
    }
}

/// Forward pass over one sentence's input ids `x` (`T` words) into `cache`: `h_{−1} … h_{T−1}`
/// and `y_0 … y_{T−1}` ([`Rnn::forward`]).
pub fn forward<F: Scalar>(model: &Net<F>, x: &[usize], cache: &mut Cache<F>) {
    let T = x.len();
    cache.reserve(T);
    cache.T = T;
    let (N_x, N_h) = (model.N_x(), model.N_h());
    cache.H.column_mut(0).fill(F::zero()); // h_{−1} = 0
    for (i, &x_i) in x.iter().enumerate() {
        // h_i = tanh(U x_i + W h_{i−1}); U x_i with one-hot x_i is column x_i of U.
        let (before, after) = cache.H.as_mut_slice().split_at_mut((i + 1) * N_h);
        let (h_prev, h_i) = (&before[i * N_h..], &mut after[..N_h]); // N_h each
        h_i.copy_from_slice(model.U.column(x_i).as_slice());
        F::matvec_acc(&model.W, h_prev, h_i);
        F::tanh_mut(h_i);
    }
    // y_i = softmax(V h_i) for every i at once: Y = V H[:, 1..=T]  (N_x × N_h · N_h × T).
    let H = &cache.H.as_slice()[N_h..N_h * (T + 1)]; // N_h × T: h_0 … h_{T−1}
    let Ht = &mut cache.Ht[..T * N_h]; // T × N_h scratch
    let Y = &mut cache.Y.as_mut_slice()[..N_x * T]; // N_x × T
    F::scores_softmax(model.V.as_slice(), H, Ht, Y, N_x, N_h, T, cache.threads);
}

/// `L = Σ_i −ln y_i[t_i]`: the summed loss of one sentence (forward pass into `cache`).
pub fn sentence_loss<F: Scalar>(
    model: &Net<F>,
    x: &[usize],
    t: &[usize],
    cache: &mut Cache<F>,
) -> f64 {
    forward(model, x, cache);
    cache.loss(t)
}

/// The tutorial's `calculate_loss`: total loss over `sentences` (pairs of input and target ids)
/// divided by the number of target words.
pub fn loss<'a, F: Scalar>(
    model: &Net<F>,
    sentences: impl IntoIterator<Item = (&'a [usize], &'a [usize])>,
    cache: &mut Cache<F>,
) -> f64 {
    let (mut total, mut words) = (0.0, 0usize);
    for (x, t) in sentences {
        total += sentence_loss(model, x, t, cache);
        words += t.len();
    }
    total / words.max(1) as f64
}

/// One SGD step on one sentence (the tutorial's `sgd_step`): forward, backward, and
/// `θ ← θ − lr dθ` for U, W, V ([`Rnn::sgd_step`]; `lr` rounded to `F`). Returns the sentence
/// loss before the step. Allocates nothing in f64 once `cache` has seen a sentence this long;
/// `dV` goes straight into `V` and only the sentence's columns of `U` are touched.
pub fn sgd_step<F: Scalar>(
    model: &mut Net<F>,
    x: &[usize],
    t: &[usize],
    bptt: Bptt,
    lr: f64,
    cache: &mut Cache<F>,
) -> f64 {
    let lr = F::round_from(lr);
    forward(model, x, cache);
    let loss = cache.loss(t);
    // Y ← Y − T: ∂L/∂(V h_i) = y_i − t_i (softmax with cross-entropy, t_i one-hot).
    for (i, &t_i) in t.iter().enumerate() {
        cache.Y[(t_i, i)] -= F::one();
    }
    let (T, N_x, N_h) = (cache.T, model.N_x(), model.N_h());
    // In one pass over V, block by block of rows:
    //   Z = Vᵀ (Y − T)  (Vᵀ (y_i − t_i) for all i, with the old V), then
    //   V ← V − lr dV,  dV = Σ_i (y_i − t_i) h_iᵀ = (Y − T) H[:, 1..=T]ᵀ.
    F::output_backward(
        model.V.as_mut_slice(),
        &cache.Y.as_slice()[..N_x * T],          // N_x × T: y_i − t_i
        &cache.H.as_slice()[N_h..N_h * (T + 1)], // N_h × T: h_0 … h_{T−1}
        lr,
        &mut cache.Z.as_mut_slice()[..N_h * T], // N_h × T
        &mut cache.P,
        N_x,
        N_h,
        T,
        cache.threads,
    );
    // The deltas use the old W (Z used the old V): compute them before updating W.
    match bptt {
        Bptt::Truncated(K) => truncated_deltas(model, K, cache),
        Bptt::Full => full_deltas(model, cache),
    }
    // W ← W − lr dW,  dW = Σ_j δ_j h_{j−1}ᵀ = D H[:, 0..T]ᵀ.
    let (D, H) = (cache.D.columns(0, T), cache.H.columns(0, T));
    gemm_nt(-lr, &D, &H, F::one(), &mut model.W);
    // U ← U − lr dU,  dU = Σ_j δ_j x_jᵀ: only the sentence's columns change.
    for (j, &x_j) in x.iter().enumerate() {
        model
            .U
            .column_mut(x_j)
            .axpy(-lr, &cache.D.column(j), F::one());
    }
    loss
}

/// `1 − h²`: tanh's derivative from its output h (`shared::activation::tanh_grad` in `F`).
fn tanh_grad<F: Scalar>(h: F) -> F {
    F::one() - h * h
}

/// `δ_j` of the notes' truncated BPTT, into `cache.D` (after `Z = Vᵀ (Y − T)`).
fn truncated_deltas<F: Scalar>(model: &Net<F>, K: usize, cache: &mut Cache<F>) {
    let T = cache.T;
    let Cache { H, Z, D, WtB, .. } = cache;
    // z_i = (Vᵀ (y_i − t_i)) ∘ (1 − h_i²)   (h_i is column i + 1 of H).
    for i in 0..T {
        for (z, h) in Z.column_mut(i).iter_mut().zip(H.column(i + 1).iter()) {
            *z *= tanh_grad(*h);
        }
    }
    // dW, dU: the z_i h_{i−1}ᵀ and z_i x_iᵀ terms.
    D.columns_mut(0, T).copy_from(&Z.columns(0, T));
    // The notes' chains b_{i,i−1}, b_{i,i−2}, … of all outputs i step back together: at
    // distance d = i − j, column i of Z holds b_{i,i−d} (at d = 0, b_{i,i} ≡ z_i), and one
    // product Wᵀ [b_{d,1}, …, b_{T−1,T−d}] advances every chain that reaches that far.
    // j = i − d never goes below step 0 (h_{−1} = 0 ends a chain) or beyond K steps back.
    for d in 1..=K.min(T.saturating_sub(1)) {
        let n = T - d; // outputs i = d … T−1
        let mut WtB = WtB.columns_mut(0, n); // N_h × n
        gemm_tn(F::one(), &model.W, &Z.columns(d, n), F::zero(), &mut WtB);
        for j in 0..n {
            let i = j + d;
            // b_ij = (Wᵀ b_{i,j+1}) ∘ (1 − h_j²)
            let mut b = Z.column_mut(i);
            for ((b, w), h) in b
                .iter_mut()
                .zip(WtB.column(j).iter())
                .zip(H.column(j + 1).iter())
            {
                *b = *w * tanh_grad(*h);
            }
            // dW, dU: the b_ij h_{j−1}ᵀ and b_ij x_jᵀ terms.
            D.column_mut(j).axpy(F::one(), &b, F::one());
        }
    }
}

/// `dz_j` of the notes' RNN toy model (full BPTT), into `cache.D` (after `Z = Vᵀ (Y − T)`).
fn full_deltas<F: Scalar>(model: &Net<F>, cache: &mut Cache<F>) {
    let T = cache.T;
    let Cache { H, Z, D, Wtb, .. } = cache;
    // dz_i = (Vᵀ (y_i − t_i) + Wᵀ dz_{i+1}) ∘ (1 − h_i²),  dz_T = 0.
    for i in (0..T).rev() {
        if i + 1 < T {
            Wtb.gemv_tr(F::one(), &model.W, &D.column(i + 1), F::zero());
        } else {
            Wtb.fill(F::zero());
        }
        let mut dz = D.column_mut(i);
        for (((dz, w), z), h) in dz
            .iter_mut()
            .zip(Wtb.iter())
            .zip(Z.column(i).iter())
            .zip(H.column(i + 1).iter())
        {
            *dz = (*z + *w) * tanh_grad(*h);
        }
    }
}

/// `Y ← V H`, then `y_i ← softmax(y_i)` for each of the `n` columns (the forward pass's
/// `y_i = softmax(V h_i)` for all i), the columns split over `threads` threads. Shapes as
/// [`tall::tall_gemm`]: `V` m × k, `Ht` = `Hᵀ` n × k, `Y` m × n.
pub fn scores_softmax(
    V: &[f64],
    Ht: &[f64],
    Y: &mut [f64],
    m: usize,
    k: usize,
    n: usize,
    threads: usize,
) {
    let parts = threads::parts(threads, m.saturating_mul(k).saturating_mul(n), n);
    // y_i = softmax(V h_i) for the time steps j0 .. j0 + Y.len() / m.
    threads::for_column_parts(Y, m, parts, |Y, j0| {
        tall::tall_gemm_columns(V, Ht, Y, m, k, n, j0);
        for y_i in Y.chunks_exact_mut(m) {
            softmax_mut(y_i);
        }
    });
}

/// A generated sentence: the word ids drawn after `SENTENCE_START`, without `SENTENCE_END`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// The words, in order.
    pub words: Vec<usize>,
    /// True when `SENTENCE_END` was drawn, false when the length bound stopped it.
    pub ended: bool,
}

/// Samples one sentence as the tutorial's `generate_sentence`: feed `prefix` (`SENTENCE_START`,
/// then any words the sentence must start with), then feed each sampled word back, stop when
/// `end` is drawn. Words in `never` (e.g. `UNKNOWN_TOKEN`) are never emitted: their probability
/// is set to 0 before sampling, which is the tutorial's "draw again while it is UNKNOWN_TOKEN"
/// without the loop. The hidden state is carried from word to word, which equals re-running the
/// whole prefix as the tutorial does. Stops after `max_words` drawn words if `end` never comes
/// (the tutorial has no such bound; an untrained model may take very long to say `end`). The
/// same tanh and softmax as in training; at temperature τ ≠ 1 the softmax is of V h_i / τ, and
/// τ = 0 takes the most likely word (no draw). The sample holds the drawn words only.
pub fn generate(
    model: &Rnn,
    prefix: &[usize],
    end: usize,
    never: &[usize],
    max_words: usize,
    temperature: f64,
    rng: &mut Rng,
) -> Sample {
    assert!(!prefix.is_empty(), "a sentence starts with SENTENCE_START");
    assert!(temperature >= 0.0, "temperature must not be negative");
    let (N_x, N_h) = (model.N_x(), model.N_h());
    let mut h = DVector::zeros(N_h); // h_{−1} = 0
    let mut a = DVector::zeros(N_h); // U x_i + W h_{i−1}
    let mut y = DVector::zeros(N_x); // N_x × 1
    let mut words = Vec::new();
    // h_i = tanh(U x_i + W h_{i−1})
    let mut feed = |x_i: usize, h: &mut DVector<f64>| {
        a.copy_from(&model.U.column(x_i));
        matvec_acc(&model.W, h.as_slice(), a.as_mut_slice());
        h.zip_apply(&a, |h, a| *h = fastmath::tanh(a));
    };
    for &x_i in prefix {
        feed(x_i, &mut h);
    }
    loop {
        // y_i = softmax(V h_i)
        tall::tall_gemm(
            model.V.as_slice(),
            h.as_slice(),
            y.as_mut_slice(),
            N_x,
            N_h,
            1,
        );
        let x_i = if temperature == 0.0 {
            // τ = 0: the most likely word that may be emitted (ties: the lowest id).
            let allowed = (0..N_x).filter(|w| !never.contains(w));
            allowed
                .fold(None, |best: Option<usize>, w| match best {
                    Some(b) if y[b] >= y[w] => Some(b),
                    _ => Some(w),
                })
                .unwrap_or(end)
        } else {
            if temperature != 1.0 {
                y /= temperature;
            }
            softmax_mut(y.as_mut_slice());
            for &w in never {
                y[w] = 0.0;
            }
            rng::weighted_index(rng, y.as_slice())
        };
        if x_i == end {
            return Sample { words, ended: true };
        }
        words.push(x_i);
        if words.len() == max_words {
            return Sample {
                words,
                ended: false,
            };
        }
        feed(x_i, &mut h);
    }
}
