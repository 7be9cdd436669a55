//! The examples: random addends, every pair of a width, and the generator that draws a run's
//! weights and examples (numpy's, to reproduce trask's run, or the workspace's ChaCha8).

use crate::model::Adder;
use shared::rng::{self, NumpyRandom, Rng};

/// Which generator draws a training run's weights and examples (`--rng`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
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

/// Every pair a, b < 2^(bits−1): all sums of `bits` bits (16 384 pairs for 8 bits).
pub fn all_pairs(bits: usize) -> Vec<(u64, u64)> {
    assert!((2..=16).contains(&bits), "all pairs only up to 16-bit sums");
    let half = 1u64 << (bits - 1);
    (0..half)
        .flat_map(|a| (0..half).map(move |b| (a, b)))
        .collect()
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
