//! The notes layer: §3's and §4's networks, forward, backward and update in the notes' symbols
//! and shapes, on nalgebra, one equation per line. Rows are examples (as in trask's program and
//! §2–§4 of the notes).
//!
//! | file | model |
//! |---|---|
//! | [`eleven_lines`] | §4.1 figure 12: trask's 11 lines, 3–4–1, fixed-size ([`ElevenLines`]) |
//! | [`net`] | §4 figure 8: the same network at any depth ([`Net`]) |
//! | [`simple_nets`] | §3 figure 5: nets without a hidden layer ([`SimpleNet`]) |
//! | [`one_hidden`] | §3 figure 6: one sigmoid hidden layer, softmax output ([`OneHidden`]) |
//!
//! §2's worked examples are [`crate::chain_rule`].

pub mod eleven_lines;
pub mod net;
pub mod one_hidden;
pub mod simple_nets;

pub use eleven_lines::{ElevenLines, xor_data};
pub use net::{Cache, Net};
pub use one_hidden::{OneHidden, one_hot};
pub use simple_nets::{Kind, SimpleNet};

use nalgebra::DMatrix;
use shared::rng::{NumpyRandom, Rng};

/// Where the initial weights come from.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // made once per run; its size does not matter
pub enum Init {
    /// numpy's legacy MT19937 after `np.random.seed(seed)`: reproduces trask's printed numbers.
    Numpy(NumpyRandom),
    /// The workspace's ChaCha8 generator.
    ChaCha(Rng),
}

impl Init {
    /// The state after `np.random.seed(seed)`.
    pub fn numpy(seed: u32) -> Self {
        Init::Numpy(NumpyRandom::new(seed))
    }

    /// ChaCha8 seeded with `seed`.
    pub fn chacha(seed: u64) -> Self {
        Init::ChaCha(shared::rng::seeded(seed))
    }

    // ANCHOR: weight
    /// `2*np.random.random() - 1`: one weight uniform in [−1, 1).
    pub fn weight(&mut self) -> f64 {
        match self {
            Init::Numpy(r) => 2.0 * r.random_sample() - 1.0,
            Init::ChaCha(r) => shared::rng::uniform(r, -1.0, 1.0),
        }
    }
    // ANCHOR_END: weight

    /// `2*np.random.random((rows, cols)) - 1`, filled row by row as numpy does.
    pub fn weights(&mut self, rows: usize, cols: usize) -> DMatrix<f64> {
        DMatrix::from_row_iterator(rows, cols, (0..rows * cols).map(|_| self.weight()))
    }
}
