//! The notes layer: notes §6, "RNN Toy Model: i am trask blog", in the notes' symbols.
//!
//! Sizes: T = n + 1 time steps i = 0, …, n (the bits of the sum); x_i: 2 × 1; t_i, y_i: 1 × 1;
//! h_i: N_h × 1 with h_{−1} = 0; W_xh: N_h × 2, W_hh: N_h × N_h, W_hy: 1 × N_h; no biases.
//!
//! ```text
//! z_i = W_xh x_i + W_hh h_{i−1}        (forward)
//! h_i = σ(z_i)
//! y_i = σ(W_hy h_i)
//! ```
//!
//! The notes' `dW` is the *negative* gradient −∂E/∂W (they write t_i − y_i, as trask's code
//! does), so the update is W ← W + α dW.

use nalgebra::{DMatrix, DVector, Vector1};
use shared::activation::{sigmoid, sigmoid_grad, sigmoid_mut};
use shared::rng::{NumpyRandom, Rng};

/// The two costs the notes give for the toy model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cost {
    /// L² cost E = ½ Σ (t_i − y_i)² (the notes' and trask's choice).
    L2,
    /// Logistic (cross-entropy) cost E = −Σ [t_i ln y_i + (1 − t_i) ln(1 − y_i)].
    Logistic,
}

impl Cost {
    // ANCHOR: delta
    /// The notes' δ_i for output y_i and target t_i: −∂E/∂(W_hy h_i).
    #[inline]
    pub fn delta(self, y_i: f64, t_i: f64) -> f64 {
        match self {
            // δ_i = (t_i − y_i) ∘ y_i(1 − y_i)
            Cost::L2 => (t_i - y_i) * sigmoid_grad(y_i),
            // Logistic cost: "replace (t_i − y_i) ∘ y_i(1 − y_i) by (t_i − y_i)"
            Cost::Logistic => t_i - y_i,
        }
    }
    // ANCHOR_END: delta

    /// The cost E of one example from its outputs `y` and targets `t` (T entries each).
    pub fn value(self, y: &DVector<f64>, t: &DVector<f64>) -> f64 {
        match self {
            Cost::L2 => shared::loss::squared_error(y, t),
            // shared's binary cross-entropy is a mean: the notes' cost is the sum over steps.
            Cost::Logistic => shared::loss::binary_cross_entropy(y, t) * y.len() as f64,
        }
    }

    /// The name to print (`L²`, `logistic`).
    pub fn label(self) -> &'static str {
        match self {
            Cost::L2 => "L²",
            Cost::Logistic => "logistic",
        }
    }

    /// The flag spelling (`l2`, `logistic`).
    pub fn name(self) -> &'static str {
        match self {
            Cost::L2 => "l2",
            Cost::Logistic => "logistic",
        }
    }
}

/// One example a + b as the network sees it: T time steps, least significant bit first.
#[derive(Clone, Debug, PartialEq)]
pub struct Sequence {
    /// The first addend.
    pub a: u64,
    /// The second addend.
    pub b: u64,
    /// 2 × T: column i is x_i = (bit i of a, bit i of b).
    pub X: DMatrix<f64>,
    /// T: t_i = bit i of a + b.
    pub t: DVector<f64>,
}

impl Sequence {
    /// An all-zero sequence of `T` time steps (1 ≤ T ≤ 64), to be filled by [`Sequence::set`].
    pub fn new(T: usize) -> Self {
        assert!((1..=64).contains(&T), "1 ≤ T ≤ 64 bits, got {T}");
        Sequence {
            a: 0,
            b: 0,
            X: DMatrix::zeros(2, T),
            t: DVector::zeros(T),
        }
    }

    /// The sequence for `a + b = c`, e.g. 9 + 60 = 69 over 8 steps.
    pub fn of(a: u64, b: u64, T: usize) -> Self {
        let mut s = Sequence::new(T);
        s.set(a, b);
        s
    }

    /// Number of time steps T.
    pub fn len(&self) -> usize {
        self.t.len()
    }

    /// Always false: a sequence has at least one step.
    pub fn is_empty(&self) -> bool {
        false
    }

    // ANCHOR: sequence
    /// Refills the sequence with `a + b` (no allocation). The sum must fit in T bits.
    pub fn set(&mut self, a: u64, b: u64) {
        let T = self.len();
        let c = a.checked_add(b).filter(|&c| T == 64 || c >> T == 0);
        let c = c.unwrap_or_else(|| panic!("{a} + {b} does not fit in {T} bits"));
        (self.a, self.b) = (a, b);
        for i in 0..T {
            self.X[(0, i)] = ((a >> i) & 1) as f64;
            self.X[(1, i)] = ((b >> i) & 1) as f64;
            self.t[i] = ((c >> i) & 1) as f64;
        }
    }
    // ANCHOR_END: sequence

    /// The true sum a + b.
    pub fn c(&self) -> u64 {
        self.a + self.b
    }
}

/// What the forward pass keeps for the backward pass: the example it ran on, h_i and y_i.
/// [`Adder::backward`] reads the example from here, so it always differentiates the forward
/// pass that filled it. Made once per T ([`Adder::cache`]), refilled without allocating.
#[derive(Clone, Debug, PartialEq)]
pub struct Cache {
    /// The example of the last forward pass (x_i and t_i).
    pub seq: Sequence,
    /// N_h × (T + 1): column 0 is h_{−1} = 0, column i + 1 is h_i.
    pub H: DMatrix<f64>,
    /// T: y_i.
    pub y: DVector<f64>,
}

impl Cache {
    /// A cache for N_h hidden units and T time steps.
    pub fn new(N_h: usize, T: usize) -> Self {
        Cache {
            seq: Sequence::new(T),
            H: DMatrix::zeros(N_h, T + 1),
            y: DVector::zeros(T),
        }
    }

    /// The sum the network outputs: bit i is y_i rounded.
    pub fn sum(&self) -> u64 {
        self.y
            .iter()
            .enumerate()
            .fold(0, |c, (i, &y_i)| c | (u64::from(y_i > 0.5) << i))
    }

    /// trask's printed "Error": Σ_i |t_i − y_i| over the bits of the example.
    pub fn error(&self) -> f64 {
        self.y
            .iter()
            .zip(self.seq.t.iter())
            .map(|(y, t)| (t - y).abs())
            .sum()
    }
}

/// The notes' dW = −∂E/∂W of the three matrices, and the running dz_i of the backward pass.
#[derive(Clone, Debug, PartialEq)]
pub struct Grads {
    /// N_h × 2: dW_xh = −∂E/∂W_xh.
    pub dW_xh: DMatrix<f64>,
    /// N_h × N_h: dW_hh = −∂E/∂W_hh.
    pub dW_hh: DMatrix<f64>,
    /// 1 × N_h: dW_hy = −∂E/∂W_hy.
    pub dW_hy: DMatrix<f64>,
    /// N_h: dz_i of the step being computed.
    pub dz: DVector<f64>,
    /// N_h: dz_{i+1} (zero at i = n).
    pub dz_next: DVector<f64>,
}

impl Grads {
    /// Zero gradients for N_h hidden units.
    pub fn new(N_h: usize) -> Self {
        Grads {
            dW_xh: DMatrix::zeros(N_h, 2),
            dW_hh: DMatrix::zeros(N_h, N_h),
            dW_hy: DMatrix::zeros(1, N_h),
            dz: DVector::zeros(N_h),
            dz_next: DVector::zeros(N_h),
        }
    }
}

/// The binary adder RNN: three weight matrices, no biases.
#[derive(Clone, Debug, PartialEq)]
pub struct Adder {
    /// N_h × 2.
    pub W_xh: DMatrix<f64>,
    /// N_h × N_h.
    pub W_hh: DMatrix<f64>,
    /// 1 × N_h.
    pub W_hy: DMatrix<f64>,
}

impl Adder {
    /// Weights uniform in [−1, 1), as trask's `2*np.random.random(shape) - 1`, drawn in his
    /// order (synapse_0 = W_xhᵀ, synapse_1 = W_hyᵀ, synapse_h = W_hhᵀ).
    pub fn new(N_h: usize, rng: &mut Rng) -> Self {
        let W_xh = shared::init::uniform(N_h, 2, -1.0, 1.0, rng); // N_h × 2
        let W_hy = shared::init::uniform(1, N_h, -1.0, 1.0, rng); // 1 × N_h
        let W_hh = shared::init::uniform(N_h, N_h, -1.0, 1.0, rng); // N_h × N_h
        Adder { W_xh, W_hh, W_hy }
    }

    /// trask's exact weights: after `np.random.seed(s)`, `synapse_0 = 2*np.random.random((2,N_h)) - 1`,
    /// then `synapse_1` (N_h × 1), then `synapse_h` (N_h × N_h), each filled row by row. His
    /// row vectors multiply from the left (`X·synapse_0`), so W_xh = synapse_0ᵀ, W_hy =
    /// synapse_1ᵀ, W_hh = synapse_hᵀ: a row-major draw of the transpose is a column-major fill.
    pub fn from_numpy(N_h: usize, r: &mut NumpyRandom) -> Self {
        let mut draw = |n: usize| {
            (0..n)
                .map(|_| 2.0 * r.random_sample() - 1.0)
                .collect::<Vec<_>>()
        };
        let W_xh = DMatrix::from_column_slice(N_h, 2, &draw(2 * N_h)); // N_h × 2
        let W_hy = DMatrix::from_column_slice(1, N_h, &draw(N_h)); // 1 × N_h
        let W_hh = DMatrix::from_column_slice(N_h, N_h, &draw(N_h * N_h)); // N_h × N_h
        Adder { W_xh, W_hh, W_hy }
    }

    /// N_h, the number of hidden units.
    pub fn hidden(&self) -> usize {
        self.W_hh.nrows()
    }

    /// A forward record sized for this model and `T` steps.
    pub fn cache(&self, T: usize) -> Cache {
        Cache::new(self.hidden(), T)
    }

    /// Gradients shaped like this model.
    pub fn grads(&self) -> Grads {
        Grads::new(self.hidden())
    }

    // ANCHOR: forward
    /// Forward pass over the T steps of `seq`: keeps `seq`, h_i and y_i in `cache`.
    pub fn forward(&self, seq: &Sequence, cache: &mut Cache) {
        assert_eq!(
            cache.y.len(),
            seq.len(),
            "cache for {} steps",
            cache.y.len()
        );
        let Cache { seq: kept, H, y } = cache;
        // Keep the example: backward differentiates this forward pass and no other.
        (kept.a, kept.b) = (seq.a, seq.b);
        kept.X.copy_from(&seq.X); // 2 × T
        kept.t.copy_from(&seq.t); // T
        // h_{−1} = 0
        H.column_mut(0).fill(0.0);
        for i in 0..seq.len() {
            // h_prev = h_{i−1} (N_h × 1), h_i (N_h × 1)
            let (h_prev, mut h_i) = H.columns_range_pair_mut(i, i + 1);
            // z_i = W_xh x_i + W_hh h_{i−1}   (N_h × 1)
            h_i.gemv(1.0, &self.W_hh, &h_prev, 0.0);
            h_i.gemv(1.0, &self.W_xh, &seq.X.column(i), 1.0);
            // h_i = σ(z_i)
            sigmoid_mut(&mut h_i);
            // y_i = σ(W_hy h_i)   (1 × 1)
            y[i] = sigmoid(self.W_hy.row(0).tr_dot(&h_i));
        }
    }
    // ANCHOR_END: forward

    // ANCHOR: backward
    /// BPTT for `cost` of the forward pass recorded in `cache`: fills `g` with the notes'
    /// dW = −∂E/∂W.
    pub fn backward(&self, cache: &Cache, cost: Cost, g: &mut Grads) {
        let Cache { seq, H, y } = cache;
        let Grads {
            dW_xh,
            dW_hh,
            dW_hy,
            dz,
            dz_next,
        } = g;
        // The sums start from zero; dz_{n+1} = 0.
        dW_xh.fill(0.0);
        dW_hh.fill(0.0);
        dW_hy.fill(0.0);
        dz_next.fill(0.0);
        // dz_i needs dz_{i+1}: i = n, n − 1, …, 0.
        for i in (0..seq.len()).rev() {
            let (h_i, h_prev) = (H.column(i + 1), H.column(i));
            // y_i = σ(W_hy h_i)  →  δ_i (1 × 1), the cost's (t_i − y_i) ∘ y_i(1 − y_i) or t_i − y_i
            let delta_i = Vector1::new(cost.delta(y[i], seq.t[i]));
            // dW_hy += δ_i h_iᵀ   (1 × N_h)
            dW_hy.ger(1.0, &delta_i, &h_i, 1.0);
            // dz_i = (W_hyᵀ δ_i + W_hhᵀ dz_{i+1}) ∘ h_i(1 − h_i)   (N_h × 1): h_i feeds
            // both y_i = σ(W_hy h_i) and z_{i+1} = W_xh x_{i+1} + W_hh h_i
            dz.gemv_tr(1.0, &self.W_hy, &delta_i, 0.0);
            dz.gemv_tr(1.0, &self.W_hh, dz_next, 1.0);
            dz.zip_apply(&h_i, |d, h| *d *= sigmoid_grad(h));
            // z_i = W_xh x_i + W_hh h_{i−1}  →  dW_hh += dz_i h_{i−1}ᵀ, dW_xh += dz_i x_iᵀ
            if i > 0 {
                // (h_{−1} = 0: the i = 0 term of dW_hh vanishes, as the notes say)
                dW_hh.ger(1.0, dz, &h_prev, 1.0);
            }
            dW_xh.ger(1.0, dz, &seq.X.column(i), 1.0);
            std::mem::swap(dz, dz_next);
        }
    }
    // ANCHOR_END: backward

    // ANCHOR: update
    /// W ← W + α dW for the three matrices (the notes' dW is −∂E/∂W: this is descent).
    pub fn update(&mut self, g: &Grads, alpha: f64) {
        let step = |W: &mut f64, dW: f64| *W += alpha * dW;
        self.W_xh.zip_apply(&g.dW_xh, step);
        self.W_hh.zip_apply(&g.dW_hh, step);
        self.W_hy.zip_apply(&g.dW_hy, step);
    }
    // ANCHOR_END: update

    /// One training example (trask's loop body): forward, BPTT, update. Returns the error
    /// Σ|t_i − y_i| of the forward pass (before the update).
    pub fn train_step(
        &mut self,
        seq: &Sequence,
        cost: Cost,
        alpha: f64,
        cache: &mut Cache,
        g: &mut Grads,
    ) -> f64 {
        self.forward(seq, cache);
        self.backward(cache, cost, g);
        self.update(g, alpha);
        cache.error()
    }

    /// The cost E of `seq` under the current weights (for gradient checks).
    pub fn cost(&self, seq: &Sequence, cost: Cost) -> f64 {
        let mut cache = self.cache(seq.len());
        self.forward(seq, &mut cache);
        cost.value(&cache.y, &seq.t)
    }

    /// The network's answer to `seq.a + seq.b` (its outputs rounded to bits).
    pub fn add(&self, seq: &Sequence, cache: &mut Cache) -> u64 {
        self.forward(seq, cache);
        cache.sum()
    }
}
