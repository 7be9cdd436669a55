//! Notes §6, "RNN Toy Model: i am trask blog": a vanilla RNN learns to add two binary numbers,
//! one bit per time step, least significant bit first, trained by back-propagation through
//! time (BPTT) written out line by line as the notes write it. The notes' Example 6.1 (a
//! hand computation of ∂E/∂z₁ in a three-step RNN) is in [`example_6_1`].
//!
//! Reference tutorial: Andrew Trask, "Anyone Can Learn To Code an LSTM-RNN in Python (Part 1:
//! RNN)", iamtrask.github.io, 2015 (numpy; 16 hidden units, α = 0.1, 10 000 examples).
//!
//! Sizes, in the notes' names:
//! - `T = n + 1` time steps `i = 0, …, n`: the bits of the sum (8 for two 7-bit numbers);
//! - `x_i`: 2 × 1, (bit i of a, bit i of b); `t_i`: bit i of a + b; `y_i`: 1 × 1;
//! - `h_i`: N_h × 1 (N_h = 16), with `h_{−1} = 0`;
//! - `W_xh`: N_h × 2, `W_hh`: N_h × N_h, `W_hy`: 1 × N_h; no biases (as in the notes and trask).
//!
//! Forward: `z_i = W_xh x_i + W_hh h_{i−1}`, `h_i = σ(z_i)`, `y_i = σ(W_hy h_i)`.
//!
//! Backward, as the notes write it: their `dW` is the *negative* gradient −∂E/∂W (they write
//! `t_i − y_i`, as trask's code does), so the update is `W ← W + α dW`:
//! - `δ_i = (t_i − y_i) ∘ y_i(1 − y_i)` for the L² cost E = ½ Σ (t_i − y_i)²,
//!   `δ_i = t_i − y_i` for the logistic cost E = −Σ [t_i ln y_i + (1 − t_i) ln(1 − y_i)];
//! - `dW_hy = Σ_i δ_i h_iᵀ`;
//! - `dz_i = (W_hyᵀ δ_i + W_hhᵀ dz_{i+1}) ∘ h_i(1 − h_i)`, with `dz_{n+1} = 0`, for i = n, …, 0;
//! - `dW_hh = Σ_i dz_i h_{i−1}ᵀ` (the i = 0 term is zero: h_{−1} = 0), `dW_xh = Σ_i dz_i x_iᵀ`.
//!
//! Expected result: after 10 000 random examples (a, b < 128) the network adds all 16 384
//! pairs exactly, and since the same weights act at every step it keeps adding 10-, 16-, even
//! 64-bit numbers when simply run for more steps: the notes' reading of h_i as the carry. With
//! trask's random numbers ([`Draws::Numpy`], numpy's `np.random.seed(0)`: the binary's
//! default) the run prints his post's output to the last digit: error 3.45638663 on
//! 9 + 60 = 1 at example 0, …, 0.21595037 on 11 + 3 = 14 at example 9000.
//!
//! The notes' equations in the code (the README gives the line ranges):
//!
//! | notes §6 | code |
//! |---|---|
//! | x_i, t_i: bit i of a, b, a + b | [`Sequence::set`] |
//! | z_i = W_xh x_i + W_hh h_{i−1}, h_i = σ(z_i), y_i = σ(W_hy h_i) | [`Adder::forward`] |
//! | (t_i − y_i) ∘ y_i(1 − y_i) (L²), t_i − y_i (logistic); E | [`Cost::delta`], [`Cost::value`] |
//! | dW_hy, dz_i, dW_hh, dW_xh | [`Adder::backward`] |
//! | W ← W + α dW | [`Adder::update`], [`Adder::train_step`] |
//! | trained on 7 bits, works on 10 bits | [`accuracy_on`], [`training::test_wider`] |
//! | Example 6.1 | [`example_6_1`] |

#![allow(non_snake_case)]

pub mod example_6_1;
pub mod report;
pub mod training;

use nalgebra::{DMatrix, DVector, Vector1};
use shared::activation::{sigmoid, sigmoid_grad, sigmoid_mut};
use shared::rng::{self, NumpyRandom, Rng};

/// The chapter name (output folder, checkpoint metadata).
pub const CHAPTER: &str = "rnn-adder";

/// The two costs the notes give for the toy model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Cost {
    /// L² cost E = ½ Σ (t_i − y_i)² (the notes' and trask's choice).
    L2,
    /// Logistic (cross-entropy) cost E = −Σ [t_i ln y_i + (1 − t_i) ln(1 − y_i)].
    Logistic,
}

impl Cost {
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

    /// The true sum a + b.
    pub fn c(&self) -> u64 {
        self.a + self.b
    }
}

/// The preallocated buffers of one forward and backward pass over T steps, so that a training
/// step allocates nothing.
#[derive(Clone, Debug, PartialEq)]
pub struct Bptt {
    /// N_h × (T + 1): column 0 is h_{−1} = 0, column i + 1 is h_i.
    pub H: DMatrix<f64>,
    /// T: y_i.
    pub y: DVector<f64>,
    /// N_h: dz_i of the step being computed.
    pub dz: DVector<f64>,
    /// N_h: dz_{i+1} (zero at i = n).
    pub dz_next: DVector<f64>,
    /// N_h × 2: dW_xh = −∂E/∂W_xh.
    pub dW_xh: DMatrix<f64>,
    /// N_h × N_h: dW_hh = −∂E/∂W_hh.
    pub dW_hh: DMatrix<f64>,
    /// 1 × N_h: dW_hy = −∂E/∂W_hy.
    pub dW_hy: DMatrix<f64>,
}

impl Bptt {
    /// Buffers for N_h hidden units and T time steps.
    pub fn new(N_h: usize, T: usize) -> Self {
        Bptt {
            H: DMatrix::zeros(N_h, T + 1),
            y: DVector::zeros(T),
            dz: DVector::zeros(N_h),
            dz_next: DVector::zeros(N_h),
            dW_xh: DMatrix::zeros(N_h, 2),
            dW_hh: DMatrix::zeros(N_h, N_h),
            dW_hy: DMatrix::zeros(1, N_h),
        }
    }

    /// The sum the network outputs: bit i is y_i rounded (read after [`Adder::forward`]).
    pub fn sum(&self) -> u64 {
        self.y
            .iter()
            .enumerate()
            .fold(0, |c, (i, &y_i)| c | (u64::from(y_i > 0.5) << i))
    }

    /// trask's printed "Error": Σ_i |t_i − y_i| over the bits of the example.
    pub fn error(&self, seq: &Sequence) -> f64 {
        self.y
            .iter()
            .zip(seq.t.iter())
            .map(|(y, t)| (t - y).abs())
            .sum()
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
        let W_xh = shared::init::uniform(N_h, 2, -1.0, 1.0, rng);
        let W_hy = shared::init::uniform(1, N_h, -1.0, 1.0, rng);
        let W_hh = shared::init::uniform(N_h, N_h, -1.0, 1.0, rng);
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

    /// Buffers sized for this model and `T` steps.
    pub fn buffers(&self, T: usize) -> Bptt {
        Bptt::new(self.hidden(), T)
    }

    /// Forward pass over the T steps of `seq`: fills `ws.H` (h_i) and `ws.y` (y_i).
    pub fn forward(&self, seq: &Sequence, ws: &mut Bptt) {
        assert_eq!(ws.y.len(), seq.len(), "buffers for {} steps", ws.y.len());
        // h_{−1} = 0
        ws.H.column_mut(0).fill(0.0);
        for i in 0..seq.len() {
            // h_prev = h_{i−1} (N_h × 1), h_i (N_h × 1)
            let (h_prev, mut h_i) = ws.H.columns_range_pair_mut(i, i + 1);
            // z_i = W_xh x_i + W_hh h_{i−1}   (N_h × 1)
            h_i.gemv(1.0, &self.W_hh, &h_prev, 0.0);
            h_i.gemv(1.0, &self.W_xh, &seq.X.column(i), 1.0);
            // h_i = σ(z_i)
            sigmoid_mut(&mut h_i);
            // y_i = σ(W_hy h_i)   (1 × 1)
            ws.y[i] = sigmoid(self.W_hy.row(0).tr_dot(&h_i));
        }
    }

    /// BPTT for `cost` after [`Adder::forward`]: fills `ws.dW_xh`, `ws.dW_hh`, `ws.dW_hy` with
    /// the notes' dW = −∂E/∂W.
    pub fn backward(&self, seq: &Sequence, cost: Cost, ws: &mut Bptt) {
        let Bptt {
            H,
            y,
            dz,
            dz_next,
            dW_xh,
            dW_hh,
            dW_hy,
        } = ws;
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

    /// W ← W + α dW for the three matrices (the notes' dW is −∂E/∂W: this is descent).
    pub fn update(&mut self, ws: &Bptt, alpha: f64) {
        let step = |W: &mut f64, dW: f64| *W += alpha * dW;
        self.W_xh.zip_apply(&ws.dW_xh, step);
        self.W_hh.zip_apply(&ws.dW_hh, step);
        self.W_hy.zip_apply(&ws.dW_hy, step);
    }

    /// One training example (trask's loop body): forward, BPTT, update. Returns the error
    /// Σ|t_i − y_i| of the forward pass (before the update).
    pub fn train_step(&mut self, seq: &Sequence, cost: Cost, alpha: f64, ws: &mut Bptt) -> f64 {
        self.forward(seq, ws);
        self.backward(seq, cost, ws);
        self.update(ws, alpha);
        ws.error(seq)
    }

    /// The cost E of `seq` under the current weights (for gradient checks).
    pub fn cost(&self, seq: &Sequence, cost: Cost) -> f64 {
        let mut ws = self.buffers(seq.len());
        self.forward(seq, &mut ws);
        cost.value(&ws.y, &seq.t)
    }

    /// Saves the weights to a safetensors file (row-major F64, see `shared::checkpoint`),
    /// with `meta` (e.g. the training width and cost) in its metadata.
    pub fn save(&self, path: &std::path::Path, meta: &[(&str, String)]) -> shared::Result<()> {
        let mut meta = meta.to_vec();
        meta.push(("hidden", self.hidden().to_string()));
        let tensors = [
            ("W_xh", &self.W_xh),
            ("W_hh", &self.W_hh),
            ("W_hy", &self.W_hy),
        ];
        shared::checkpoint::save(path, CHAPTER, &tensors, &meta)
    }

    /// Loads weights saved by [`Adder::save`]; a file of another chapter or with other
    /// shapes is an error naming the file.
    pub fn load(path: &std::path::Path) -> shared::Result<Self> {
        let mut ck = shared::checkpoint::load(path, CHAPTER)?;
        let N_h: usize = ck.meta("hidden")?;
        Ok(Adder {
            W_xh: ck.take("W_xh", N_h, 2)?,
            W_hh: ck.take("W_hh", N_h, N_h)?,
            W_hy: ck.take("W_hy", 1, N_h)?,
        })
    }

    /// The network's answer to `seq.a + seq.b` (its outputs rounded to bits).
    pub fn add(&self, seq: &Sequence, ws: &mut Bptt) -> u64 {
        self.forward(seq, ws);
        ws.sum()
    }
}

/// Which generator draws a training run's weights and examples (`--rng`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RngKind {
    /// numpy's legacy `np.random.seed(seed)` stream: trask's weights and examples, bit for bit.
    Numpy,
    /// The workspace's ChaCha8 (`shared::rng`).
    Chacha,
}

/// The random draws of a training run: first the weights, then two addends per example.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // one per run
pub enum Draws {
    /// numpy's MT19937 after `np.random.seed(seed)`, used as trask's program uses it: the three
    /// weight matrices ([`Adder::from_numpy`]), then `np.random.randint(2^(T−1))` for a and for
    /// b, one stream for everything. Reproduces his printed output (tested).
    Numpy(NumpyRandom),
    /// ChaCha8, one stream per purpose: the weights from stream 0, the examples from stream 1
    /// (the examples do not shift when N_h changes).
    ChaCha {
        /// Stream 0: the initial weights.
        weights: Rng,
        /// Stream 1: the addends.
        data: Rng,
    },
}

impl Draws {
    /// The draws of a run seeded with `seed`; numpy's seeds are 32-bit (an error names `--seed`).
    pub fn new(kind: RngKind, seed: u64) -> shared::Result<Self> {
        Ok(match kind {
            RngKind::Numpy => {
                let s = u32::try_from(seed).map_err(|_| {
                    shared::Error::flag(
                        "--seed",
                        "numpy seeds are below 2^32 (or use --rng chacha)",
                    )
                })?;
                Draws::Numpy(NumpyRandom::new(s))
            }
            RngKind::Chacha => Draws::ChaCha {
                weights: rng::stream(seed, 0),
                data: rng::stream(seed, 1),
            },
        })
    }

    /// The initial model with N_h hidden units (draw it before the first example).
    pub fn model(&mut self, N_h: usize) -> Adder {
        match self {
            Draws::Numpy(r) => Adder::from_numpy(N_h, r),
            Draws::ChaCha { weights, .. } => Adder::new(N_h, weights),
        }
    }

    /// The next example's addends a, b < 2^(bits−1): trask's `a_int = np.random.randint(
    /// largest_number/2)`, then `b_int` likewise.
    pub fn pair(&mut self, bits: usize) -> (u64, u64) {
        assert!((2..=64).contains(&bits));
        match self {
            Draws::Numpy(r) => {
                let a = r.randint(1 << (bits - 1));
                (a, r.randint(1 << (bits - 1)))
            }
            Draws::ChaCha { data, .. } => {
                let a = random_addend(bits, data);
                (a, random_addend(bits, data))
            }
        }
    }

    /// How a report names the generator, e.g. `np.random.seed(0)`.
    pub fn describe(&self, seed: u64) -> String {
        match self {
            Draws::Numpy(_) => format!("np.random.seed({seed})"),
            Draws::ChaCha { .. } => format!("ChaCha8 seed {seed}"),
        }
    }
}

/// The counts behind an accuracy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accuracy {
    /// Sums the network got exactly right (every bit).
    pub correct: u64,
    /// Sums asked.
    pub total: u64,
}

impl Accuracy {
    /// correct / total.
    pub fn fraction(&self) -> f64 {
        self.correct as f64 / self.total.max(1) as f64
    }
}

/// Every pair a, b < 2^(bits−1): all sums of `bits` bits (16 384 pairs for 8 bits).
pub fn all_pairs(bits: usize) -> Vec<(u64, u64)> {
    assert!((2..=16).contains(&bits), "all pairs only up to 16-bit sums");
    let half = 1u64 << (bits - 1);
    (0..half)
        .flat_map(|a| (0..half).map(move |b| (a, b)))
        .collect()
}

/// Accuracy on every pair a, b < 2^(bits−1) (see [`all_pairs`]).
pub fn accuracy_all_pairs(model: &Adder, bits: usize) -> Accuracy {
    accuracy_on(model, bits, &all_pairs(bits))
}

/// A random number of `bits − 1` bits, uniform in [0, 2^(bits−1)): an addend of a `bits`-bit sum.
pub fn random_addend(bits: usize, rng: &mut Rng) -> u64 {
    assert!((2..=64).contains(&bits));
    rng::below(rng, 1usize << (bits - 1)) as u64
}

/// `n` random pairs a, b < 2^(bits−1) (addends of `bits`-bit sums).
pub fn random_pairs(bits: usize, n: usize, rng: &mut Rng) -> Vec<(u64, u64)> {
    (0..n)
        .map(|_| (random_addend(bits, rng), random_addend(bits, rng)))
        .collect()
}

/// Accuracy on the given pairs, run as sums of `bits` bits.
pub fn accuracy_on(model: &Adder, bits: usize, pairs: &[(u64, u64)]) -> Accuracy {
    let mut seq = Sequence::new(bits);
    let mut ws = model.buffers(bits);
    let mut correct = 0;
    for &(a, b) in pairs {
        seq.set(a, b);
        correct += u64::from(model.add(&seq, &mut ws) == a + b);
    }
    Accuracy {
        correct,
        total: pairs.len() as u64,
    }
}

/// `v` in `bits` binary digits, most significant first (as trask prints them).
pub fn binary(v: u64, bits: usize) -> String {
    (0..bits)
        .rev()
        .map(|i| if (v >> i) & 1 == 1 { '1' } else { '0' })
        .collect()
}
