//! The one seeded random number generator every chapter uses.
//!
//! [`Rng`] is ChaCha8 from `rand_chacha`: a named algorithm whose stream is fixed by the seed on
//! every machine (unlike `StdRng`, whose algorithm may change between `rand` releases), and
//! `Clone`, so a generator can be checkpointed with the model. No thread-local RNG anywhere.

use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

/// The workspace's random number generator (ChaCha8, seeded, reproducible, `Clone`).
pub type Rng = rand_chacha::ChaCha8Rng;

/// A generator for `seed`: the same seed gives the same numbers on every machine.
pub fn seeded(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}

/// An independent generator for one purpose (`stream`) of a run seeded with `seed`, so that e.g.
/// the data and the initial weights do not shift when one of them draws more numbers.
pub fn stream(seed: u64, stream: u64) -> Rng {
    let mut rng = seeded(seed);
    rng.set_stream(stream);
    rng
}

/// A sample of N(0, 1).
pub fn normal(rng: &mut Rng) -> f64 {
    StandardNormal.sample(rng)
}

/// A sample of U[lo, hi).
pub fn uniform(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

/// An integer in `0..n` (n ≥ 1).
pub fn below(rng: &mut Rng, n: usize) -> usize {
    rng.random_range(0..n)
}

/// Fisher–Yates shuffle of `items` in place.
pub fn shuffle<T>(rng: &mut Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = rng.random_range(0..=i);
        items.swap(i, j);
    }
}

/// `0..n` in a random order.
pub fn permutation(rng: &mut Rng, n: usize) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    shuffle(rng, &mut p);
    p
}

/// An index drawn with probability proportional to `weights` (non-negative, not all zero).
pub fn weighted_index(rng: &mut Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (i, &w) in weights.iter().enumerate() {
        if u < w {
            return i;
        }
        u -= w;
    }
    // Rounding can leave u a hair above the last weight: take the last non-zero one.
    weights.iter().rposition(|&w| w > 0.0).unwrap_or(0)
}

/// numpy's legacy generator (`np.random.seed(s)`; `np.random.random(shape)`, `randn`,
/// `normal`, `randint`, `shuffle`, `permutation`), for the chapters whose reference printed its
/// numbers from it: trask's posts and Ng's "Optimization Methods" notebook.
///
/// MT19937 as Matsumoto & Nishimura define it, seeded the way numpy seeds an integer
/// (`init_genrand`), and `random_sample` building a 53-bit double from two 32-bit draws as
/// numpy does: (a >> 5, b >> 6) ↦ (a·2²⁶ + b) / 2⁵³. Normal draws are the legacy polar
/// Box–Muller of [`NumpyRandom::gauss`], which keeps its second value for the next call. Same
/// seed, same numbers as numpy, bit for bit.
#[derive(Clone, Debug)]
pub struct NumpyRandom {
    mt: [u32; 624],
    index: usize,
    /// The second value of the last polar Box–Muller pair, not handed out yet (numpy's
    /// `has_gauss` / `gauss`); seeding clears it.
    gauss: Option<f64>,
}

impl NumpyRandom {
    /// The state after `np.random.seed(seed)`.
    pub fn new(seed: u32) -> Self {
        let mut mt = [0u32; 624];
        mt[0] = seed;
        for i in 1..624 {
            let prev = mt[i - 1];
            mt[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        NumpyRandom {
            mt,
            index: 624,
            gauss: None,
        }
    }

    /// The next 32-bit output of MT19937.
    pub fn next_u32(&mut self) -> u32 {
        const UPPER: u32 = 0x8000_0000;
        const LOWER: u32 = 0x7fff_ffff;
        const MATRIX_A: u32 = 0x9908_b0df;
        if self.index >= 624 {
            for i in 0..624 {
                let y = (self.mt[i] & UPPER) | (self.mt[(i + 1) % 624] & LOWER);
                let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
                self.mt[i] = self.mt[(i + 397) % 624] ^ (y >> 1) ^ mag;
            }
            self.index = 0;
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `np.random.random_sample()`: a double in [0, 1) with 53 random bits.
    pub fn random_sample(&mut self) -> f64 {
        let a = (self.next_u32() >> 5) as f64;
        let b = (self.next_u32() >> 6) as f64;
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// Two 32-bit outputs as one 64-bit number, the first in the high half (numpy's legacy
    /// `next_uint64` on MT19937).
    pub fn next_u64(&mut self) -> u64 {
        let hi = u64::from(self.next_u32());
        (hi << 32) | u64::from(self.next_u32())
    }

    /// `np.random.randint(high)`: an integer in `[0, high)` (high ≥ 1), drawn as numpy's legacy
    /// `RandomState.randint` does: with `max = high − 1` and `mask` the smallest `2^k − 1 ≥ max`,
    /// take `draw & mask` and reject values above `max`, where `draw` is one 32-bit output when
    /// `max` fits in 32 bits and [`NumpyRandom::next_u64`] otherwise. `high = 1` draws nothing.
    pub fn randint(&mut self, high: u64) -> u64 {
        assert!(high >= 1, "randint needs high ≥ 1");
        let max = high - 1;
        if max == 0 {
            return 0;
        }
        // Smallest all-ones mask covering max: fill every bit below the highest set one.
        let mask = u64::MAX >> max.leading_zeros();
        loop {
            let v = if max <= u64::from(u32::MAX) {
                u64::from(self.next_u32()) & mask
            } else {
                self.next_u64() & mask
            };
            if v <= max {
                return v;
            }
        }
    }

    /// `np.random.randn()` / `standard_normal()`: one N(0, 1) draw by numpy's legacy polar
    /// Box–Muller (`legacy_gauss`). Draw x1, x2 = 2·random_sample() − 1 until
    /// 0 < r² = x1² + x2² < 1; with f = √(−2 ln r² / r²), return f·x2 and keep f·x1 for the
    /// next call. `random_sample` and `randint` in between neither use nor clear the kept value.
    pub fn gauss(&mut self) -> f64 {
        if let Some(kept) = self.gauss.take() {
            return kept;
        }
        loop {
            let x1 = 2.0 * self.random_sample() - 1.0;
            let x2 = 2.0 * self.random_sample() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                let f = (-2.0 * r2.ln() / r2).sqrt();
                self.gauss = Some(f * x1);
                return f * x2;
            }
        }
    }

    /// `np.random.normal(loc, scale)`: loc + scale · [`NumpyRandom::gauss`].
    pub fn normal(&mut self, loc: f64, scale: f64) -> f64 {
        loc + scale * self.gauss()
    }

    /// `np.random.shuffle(x)` for a 1-d array, numpy's legacy algorithm: for i = n − 1 down to
    /// 1, swap `x[i]` with `x[j]`, j uniform in 0..=i drawn as [`NumpyRandom::randint`]`(i + 1)`
    /// (numpy's `random_interval(i)`: masked rejection).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.randint(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }

    /// `np.random.permutation(n)`: `0..n` shuffled by [`NumpyRandom::shuffle`].
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        self.shuffle(&mut p);
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_numbers_different_stream_different_numbers() {
        let a: Vec<f64> = (0..5).map(|_| normal(&mut seeded(7))).collect();
        let mut r1 = seeded(7);
        let mut r2 = seeded(7);
        let x: Vec<f64> = (0..5).map(|_| uniform(&mut r1, -1.0, 1.0)).collect();
        let y: Vec<f64> = (0..5).map(|_| uniform(&mut r2, -1.0, 1.0)).collect();
        assert_eq!(x, y);
        assert!(a.iter().all(|v| *v == a[0]));
        let mut s = stream(7, 1);
        let z: Vec<f64> = (0..5).map(|_| uniform(&mut s, -1.0, 1.0)).collect();
        assert_ne!(x, z);
    }

    #[test]
    fn value_stability_of_the_stream() {
        // Pins the generator: if this changes, every seeded result in the workspace changes.
        let mut r = seeded(1);
        let v: Vec<u64> = (0..3).map(|_| below(&mut r, 1_000_000) as u64).collect();
        assert_eq!(v, vec![549378, 402485, 984597]);
    }

    #[test]
    fn numpy_legacy_stream() {
        // MT19937's published check value: the 10000th output for seed 5489 is 4123659995.
        let mut r = NumpyRandom::new(5489);
        let v: Vec<u32> = (0..10_000).map(|_| r.next_u32()).collect();
        assert_eq!(v[9999], 4_123_659_995);
        // np.random.seed(1); 2*np.random.random((3,4)) - 1: trask's syn0, row 0 (backprop-xor
        // reference sheet: −0.165956, 0.440649, −0.999771, −0.395335).
        let mut r = NumpyRandom::new(1);
        let row: Vec<f64> = (0..4).map(|_| 2.0 * r.random_sample() - 1.0).collect();
        let want = [-0.165956, 0.440649, -0.999771, -0.395335];
        for (a, b) in row.iter().zip(want) {
            assert!((a - b).abs() < 5e-7, "{row:?}");
        }
    }

    #[test]
    fn numpy_legacy_randint() {
        // np.random.RandomState(5): randint(100) ×8 (mask 127, rejects 100–127), then
        // randint(2**40) ×3 and randint(2**63) ×3 (64-bit draws), randint(1) ×2 (no draw) and
        // randint(7); values printed by numpy 2.4.
        let mut r = NumpyRandom::new(5);
        let small: Vec<u64> = (0..8).map(|_| r.randint(100)).collect();
        assert_eq!(small, [99, 78, 61, 16, 73, 8, 62, 27]);
        let wide: Vec<u64> = (0..3).map(|_| r.randint(1 << 40)).collect();
        assert_eq!(wide, [483_262_925_470, 894_627_945_991, 876_979_584_911]);
        let widest: Vec<u64> = (0..3).map(|_| r.randint(1 << 63)).collect();
        assert_eq!(
            widest,
            [
                5_686_793_371_791_357_365,
                2_757_029_700_492_225_616,
                5_893_232_909_157_508_140
            ]
        );
        assert_eq!((r.randint(1), r.randint(1), r.randint(7)), (0, 0, 5));
        // randint(2**32) is the raw 32-bit stream.
        let mut r = NumpyRandom::new(5);
        let raw: Vec<u64> = (0..3).map(|_| r.randint(1 << 32)).collect();
        assert_eq!(raw, [953_453_411, 236_996_814, 3_739_766_767]);
        // trask's RNN post: np.random.seed(0), 304 weights, then randint(128) twice → 9 + 60.
        let mut r = NumpyRandom::new(0);
        for _ in 0..304 {
            r.random_sample();
        }
        assert_eq!((r.randint(128), r.randint(128)), (9, 60));
    }

    // The numbers below were printed by numpy 2.4.6 (legacy `np.random`, the global
    // RandomState), e.g. `np.random.seed(3); [repr(float(x)) for x in np.random.randn(7)]`.

    #[test]
    fn numpy_legacy_randn_keeps_its_second_value() {
        // np.random.seed(3); np.random.randn(7): the notebook's He weights W1 (√(2/2) = 1).
        let want = [
            1.7886284734303186,
            0.43650985051198943,
            0.09649746807200862,
            -1.8634927033644908,
            -0.27738820251439905,
            -0.35475897926898675,
            -0.08274148148245977,
        ];
        let mut r = NumpyRandom::new(3);
        let got: Vec<f64> = (0..7).map(|_| r.gauss()).collect();
        assert_eq!(got, want);
        // np.random.seed(5); randn(); random_sample(); randn(); randn(): the second randn is
        // the value kept from the first pair, untouched by the uniform draw in between.
        let mut r = NumpyRandom::new(5);
        let got = [r.gauss(), r.random_sample(), r.gauss(), r.gauss()];
        let want = [
            0.44122748688504143,
            0.20671915533942642,
            -0.33087015189408764,
            -0.023303746449855414,
        ];
        assert_eq!(got, want);
        // np.random.seed(1); np.random.normal(scale=0.2, size=3)
        let mut r = NumpyRandom::new(1);
        let got: Vec<f64> = (0..3).map(|_| r.normal(0.0, 0.2)).collect();
        let want = [
            0.32486907273264837,
            -0.12235128273001508,
            -0.10563435045269115,
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn numpy_legacy_shuffle_and_permutation() {
        // np.random.seed(0); a = np.arange(10); np.random.shuffle(a)
        let mut r = NumpyRandom::new(0);
        let mut a: Vec<usize> = (0..10).collect();
        r.shuffle(&mut a);
        assert_eq!(a, [2, 8, 4, 9, 1, 6, 7, 3, 0, 5]);
        // np.random.seed(11); np.random.permutation(300): the notebook's first epoch of
        // mini-batches (seed 10, incremented before the epoch); its first 12 and last 6.
        let p = NumpyRandom::new(11).permutation(300);
        assert_eq!(
            p[..12],
            [174, 113, 86, 239, 12, 252, 261, 39, 200, 61, 122, 279]
        );
        assert_eq!(p[294..], [71, 161, 269, 91, 80, 191]);
        let mut sorted = p.clone();
        sorted.sort();
        assert_eq!(sorted, (0..300).collect::<Vec<_>>());
        // n ≤ 1 draws nothing.
        let mut r = NumpyRandom::new(11);
        assert_eq!(r.permutation(1), [0]);
        assert_eq!(r.permutation(300), p);
    }

    #[test]
    fn permutation_is_a_permutation_and_weights_are_respected() {
        let mut r = seeded(3);
        let mut p = permutation(&mut r, 100);
        p.sort();
        assert_eq!(p, (0..100).collect::<Vec<_>>());
        let mut counts = [0usize; 3];
        for _ in 0..30_000 {
            counts[weighted_index(&mut r, &[1.0, 0.0, 3.0])] += 1;
        }
        assert_eq!(counts[1], 0);
        let ratio = counts[2] as f64 / counts[0] as f64;
        assert!((ratio - 3.0).abs() < 0.2, "{ratio}");
    }
}
